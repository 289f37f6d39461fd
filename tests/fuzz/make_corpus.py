#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) and
the generated part of their dictionaries (every field name of
model_config.proto for the config targets). Seeds are small, valid inputs
of each form a parser accepts, so the fuzzer starts deep inside it; they
are committed, and this script says where each came from.

  /usr/bin/python3 tests/fuzz/make_corpus.py
"""

import hashlib
import json
import os
import re
import shutil
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def http(method, target, body=b"", headers=()):
    if isinstance(body, str):
        body = body.encode()
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for k, v in headers:
        head += f"{k}: {v}\r\n"
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def bytes_tensor(*elements):
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


INFER_JSON = [
    {"inputs": [{"name": "a", "shape": [1, 2], "datatype": "FP32",
                 "data": [1.0, 2.5]}]},
    {"id": "r1", "inputs": [{"name": "a", "shape": [2, 2], "datatype": "FP32",
                             "data": [[1, 2], [3, 4]]}],
     "outputs": [{"name": "a_out", "parameters": {"binary_data": True}}]},
    {"inputs": [{"name": "ids", "shape": [1, 3], "datatype": "INT64",
                 "data": [1, -2, 9007199254740993]},
                {"name": "text", "shape": [1, 1], "datatype": "BYTES",
                 "data": ["hello"]},
                {"name": "mask", "shape": [1, 2, 2], "datatype": "BOOL",
                 "data": [True, False, True, True]},
                {"name": "half", "shape": [1, 1, 3], "datatype": "FP16",
                 "data": [0.5, 1e4, -3]}],
     "parameters": {"binary_data_output": True, "priority": 1,
                    "timeout": 1000}},
    {"inputs": [{"name": "a", "shape": [1, 2], "datatype": "FP32",
                 "parameters": {"shared_memory_region": "r",
                                "shared_memory_byte_size": 8}}],
     "outputs": [{"name": "a_out", "parameters": {"classification": 1}}]},
]


def binary_infer():
    """(header, tail) pairs of the binary tensor extension."""
    out = []
    h = {"inputs": [{"name": "a", "shape": [1, 2], "datatype": "FP32",
                     "parameters": {"binary_data_size": 8}}]}
    out.append((json.dumps(h).encode(), struct.pack("<2f", 1.0, 2.0)))
    t = bytes_tensor(b"ab", b"")
    h = {"inputs": [{"name": "text", "shape": [2, 1], "datatype": "BYTES",
                     "parameters": {"binary_data_size": len(t)}},
                    {"name": "ids", "shape": [1, 2], "datatype": "INT64",
                     "parameters": {"binary_data_size": 16}}]}
    out.append((json.dumps(h).encode(), t + struct.pack("<2q", 5, 6)))
    return out


def http_seeds():
    for target in ["/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/m",
                   "/v2/models/m/versions/1", "/v2/models/m/ready",
                   "/v2/models/m/config", "/v2/models/m/stats",
                   "/v2/models/stats", "/v2/logging", "/v2/trace/setting",
                   "/v2/models/m/trace/setting", "/v2/systemsharedmemory/status",
                   "/v2/models/m%2Fx/versions/07/ready?x=1"]:
        write("http_request", http("GET", target))
    for body in INFER_JSON:
        write("http_request", http("POST", "/v2/models/m/infer", json.dumps(body),
                                   [("Content-Type", "application/json")]))
    for header, tail in binary_infer():
        write("http_request", http(
            "POST", "/v2/models/m/versions/1/infer", header + tail,
            [("Inference-Header-Content-Length", str(len(header))),
             ("Content-Type", "application/octet-stream")]))
    write("http_request", http("POST", "/v2/models/m/infer",
                               struct.pack("<2f", 1, 2),
                               [("Inference-Header-Content-Length", "0")]))
    # Chunked body.
    body = json.dumps(INFER_JSON[0]).encode()
    write("http_request",
          b"POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n" +
          b"%x\r\n" % 10 + body[:10] + b"\r\n" +
          b"%x\r\n" % (len(body) - 10) + body[10:] + b"\r\n0\r\n\r\n")
    for body in LOAD_BODIES:
        write("http_request", http("POST", "/v2/repository/models/m/load", body))
    write("http_request", http("POST", "/v2/repository/models/m/unload",
                               '{"parameters": {"unload_dependents": true}}'))
    write("http_request", http("POST", "/v2/repository/index", '{"ready": true}'))
    write("http_request", http("POST", "/v2/logging",
                               '{"log_verbose_level": 1, "log_info": false}'))
    write("http_request", http(
        "POST", "/v2/systemsharedmemory/region/r/register",
        '{"key": "/k", "offset": 0, "byte_size": 64}'))
    write("http_request", http("POST", "/v2/systemsharedmemory/region/r/unregister"))
    write("http_request", http(
        "POST", "/v2/models/m/trace/setting",
        '{"trace_level": ["TIMESTAMPS"], "trace_rate": "10", "log_frequency": null}'))


def infer_decode_seeds():
    for body in INFER_JSON:
        write("infer_decode", b"\x00" + json.dumps(body).encode())
    for header, tail in binary_infer():
        write("infer_decode", b"\x01" + struct.pack("<H", len(header)) + header + tail)
    write("infer_decode", b"\x02" + struct.pack("<2f", 1, 2))
    write("infer_decode", b"\x02b" + b"raw bytes")


def bytes_seeds():
    write("bytes_elements", b"\x02" + bytes_tensor(b"hello", b""))
    write("bytes_elements", b"\x01" + bytes_tensor(b"\xff\xfe"))
    write("bytes_elements", b"\x00")
    write("bytes_elements", b"\x03" + bytes_tensor(b"a", b"bc", b"def"))


CONFIGS = [
    'name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 8\n'
    'input [{ name: "a" data_type: TYPE_FP32 dims: [ 2 ] }]\n'
    'output [{ name: "a_out" data_type: TYPE_FP32 dims: [ 2 ] }]\n'
    'dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 100 }\n'
    'instance_group [{ count: 2 kind: KIND_CPU }]\n',
    'name: "e"\nplatform: "ensemble"\nmax_batch_size: 4\n'
    'input [{ name: "IN" data_type: TYPE_STRING dims: [ 1 ] }]\n'
    'output [{ name: "OUT" data_type: TYPE_FP32 dims: [ -1, 3 ] }]\n'
    'ensemble_scheduling { step [{ model_name: "pre" model_version: -1\n'
    '  input_map { key: "x" value: "IN" } output_map { key: "y" value: "t" } },\n'
    '  { model_name: "m" model_version: 1 input_map { key: "a" value: "t" }\n'
    '  output_map { key: "a_out" value: "OUT" } }] }\n',
    'name: "p"\nbackend: "python"\n'
    'input [{ name: "x" data_type: TYPE_INT64 dims: [ -1 ] reshape { shape: [ 1, -1 ] } }]\n'
    'output [{ name: "y" data_type: TYPE_FP16 dims: [ 3 ] label_filename: "labels.txt" }]\n'
    'parameters { key: "EXECUTION_ENV_PATH" value: { string_value: "x" } }\n'
    'version_policy { specific { versions: [ 1, 3 ] } }\n'
    'optimization { execution_accelerators { cpu_execution_accelerator [{ name: "openvino" }] } }\n',
    'max_batch_size: 16\nplatform: "pytorch_libtorch"\n'
    'input [{ name: "INPUT__0" data_type: TYPE_UINT8 format: FORMAT_NCHW dims: [ 3, 224, 224 ] }]\n'
    'output [{ name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 1000 ] }]\n'
    'dynamic_batching { priority_levels: 2 default_priority_level: 1 '
    'default_queue_policy { timeout_action: REJECT default_timeout_microseconds: 5000 '
    'max_queue_size: 10 } }\n'
    'model_warmup [{ name: "w" batch_size: 1 inputs { key: "INPUT__0" value: '
    '{ data_type: TYPE_UINT8 dims: [ 3, 224, 224 ] zero_data: true } } }]\n',
    'name: "s"\nbackend: "identity"\nsequence_batching { max_sequence_idle_microseconds: 100 }\n'
    'input [{ name: "IN" data_type: TYPE_BOOL dims: [ 1 ] optional: true }]\n'
    'output [{ name: "OUT" data_type: TYPE_BOOL dims: [ 1 ] }]\n',
]


def config_seeds():
    for text in CONFIGS:
        write("model_config", text)
    examples = os.path.join(ROOT, "examples", "models")
    if os.path.isdir(examples):
        for name in sorted(os.listdir(examples)):
            p = os.path.join(examples, name, "config.pbtxt")
            if os.path.isfile(p) and os.path.getsize(p) < 4096:
                with open(p, "rb") as f:
                    write("model_config", f.read())


LOAD_BODIES = [
    "",
    "{}",
    json.dumps({"parameters": {"config": json.dumps({
        "name": "m", "backend": "onnxruntime", "max_batch_size": 4,
        "input": [{"name": "a", "data_type": "TYPE_FP32", "dims": [2]}],
        "output": [{"name": "a_out", "data_type": "TYPE_FP32", "dims": [2]}],
        "instance_group": [{"count": 1, "kind": "KIND_CPU"}]})}}),
    json.dumps({"parameters": {
        "config": json.dumps({"backend": "identity", "maxBatchSize": 2,
                              "input": [{"name": "x", "dataType": "TYPE_INT32",
                                         "dims": ["3"]}],
                              "output": [{"name": "y", "dataType": "TYPE_INT32",
                                          "dims": ["3"]}]}),
        "file:1/model.onnx": "AAECAw==",
        "file:labels.txt": "Y2F0CmRvZwo="}}),
]


def load_seeds():
    for body in LOAD_BODIES:
        write("load_body", body)


def grpc_seeds(tmp):
    import grpc_support
    pb2 = grpc_support.generate_stubs(tmp)[0]
    r = pb2.ModelInferRequest(model_name="m", model_version="1", id="x")
    t = r.inputs.add(name="a", datatype="FP32", shape=[1, 2])
    t.contents.fp32_contents.extend([1.0, 2.0])
    r.outputs.add(name="a_out")
    write("grpc_infer", r.SerializeToString())
    r = pb2.ModelInferRequest(model_name="m")
    r.inputs.add(name="a", datatype="FP32", shape=[1, 2])
    r.inputs.add(name="text", datatype="BYTES", shape=[1, 1])
    r.inputs.add(name="ids", datatype="INT64", shape=[1, 2])
    r.raw_input_contents.extend([struct.pack("<2f", 1, 2), bytes_tensor(b"hi"),
                                 struct.pack("<2q", 1, 2)])
    r.parameters["priority"].int64_param = 1
    r.parameters["timeout"].int64_param = 100
    write("grpc_infer", r.SerializeToString())
    r = pb2.ModelInferRequest(model_name="m", model_version="")
    t = r.inputs.add(name="text", datatype="BYTES", shape=[2, 1])
    t.contents.bytes_contents.extend([b"a", b"\xff"])
    t = r.inputs.add(name="mask", datatype="BOOL", shape=[1, 2, 2])
    t.contents.bool_contents.extend([True, False, False, True])
    t = r.inputs.add(name="a", datatype="FP32", shape=[1, 2])
    t.parameters["shared_memory_region"].string_param = "r"
    t.parameters["shared_memory_byte_size"].int64_param = 8
    o = r.outputs.add(name="a_out")
    o.parameters["classification"].int64_param = 2
    write("grpc_infer", r.SerializeToString())


def config_dictionary():
    """Every field and enum name of model_config.proto, for both config
    targets (text names for the pbtxt one, quoted for the JSON one)."""
    with open(os.path.join(ROOT, "proto", "model_config.proto")) as f:
        proto = f.read()
    fields = sorted(set(re.findall(r"^\s*(?:repeated\s+|optional\s+)?[\w.<>, ]+\s+(\w+)\s*=\s*\d+;",
                                   proto, re.M)))
    enums = sorted(set(re.findall(r"^\s*([A-Z][A-Z0-9_]+)\s*=\s*\d+;", proto, re.M)))
    os.makedirs(os.path.join(HERE, "dict"), exist_ok=True)
    header = "# Generated by tests/fuzz/make_corpus.py from proto/model_config.proto.\n"
    with open(os.path.join(HERE, "dict", "model_config.dict"), "w") as f:
        f.write(header)
        for w in fields + enums + ["{", "}", "[", "]", ":", "\"", "-1", "1e9"]:
            f.write(json.dumps(w) + "\n")
    with open(os.path.join(HERE, "dict", "load_body.dict"), "w") as f:
        f.write(header)
        for w in ["parameters", "config", "file:", "file:1/", "..", "/"] + fields + enums:
            f.write(json.dumps(json.dumps(w)) + "\n")
        for w in ["{", "}", "[", "]", ":", ",", "\\\"", "true", "null", "-1", "1e400"]:
            f.write(json.dumps(w) + "\n")


def s3_xml_seeds():
    """S3 answers: a listing page, an empty one, the last page, errors."""
    def page(objects, truncated=False, token=""):
        contents = "".join(
            f"<Contents><Key>{k}</Key><LastModified>2026-12-02T00:00:00.000Z"
            f"</LastModified><ETag>&quot;{e}&quot;</ETag><Size>{n}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
            for k, e, n in objects)
        more = (f"<NextContinuationToken>{token}</NextContinuationToken>"
                if token else "")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
                'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>models'
                f"</Name><Prefix>repo/</Prefix><KeyCount>{len(objects)}"
                f"</KeyCount><IsTruncated>{str(truncated).lower()}</IsTruncated>"
                f"{more}{contents}</ListBucketResult>")
    write("s3_xml", page([("repo/a/config.pbtxt",
                           "0cc175b9c0f1b6a831c399e269772661", 1),
                          ("repo/a/1/m &lt;&#233;&#x1F600;&gt;.onnx",
                           "abc-2", 12345678901)], True, "tok&amp;en"))
    write("s3_xml", page([]))
    write("s3_xml", "<ListBucketResult><IsTruncated>false</IsTruncated>"
                    "<!-- c --><Contents><Key><![CDATA[k]]></Key><Size>0"
                    "</Size></Contents></ListBucketResult>")
    write("s3_xml", '<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch'
                    "</Code><Message>The request signature we calculated does "
                    "not match</Message><RequestId>1</RequestId></Error>")


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    http_seeds()
    infer_decode_seeds()
    bytes_seeds()
    config_seeds()
    load_seeds()
    s3_xml_seeds()
    with tempfile.TemporaryDirectory() as tmp:
        grpc_seeds(tmp)
    config_dictionary()
    for t in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        print(t, len(os.listdir(os.path.join(HERE, "corpus", t))), "seeds")


if __name__ == "__main__":
    main()
