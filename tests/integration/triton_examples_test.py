"""Triton's Python client examples, done by our own clients.

Triton's client repository (src/python/examples) drives the models of
Triton's example repository; tritonclient is not packaged here, so each
test below does what one example does, over the same wire protocol, against
the real `serval serve` with the models scripts/make_triton_examples.py
builds in Triton's shapes (simple, simple_int8, simple_string,
simple_identity, densenet_onnx). Each test names the example it stands for.
The examples that need a GPU (CUDA shared memory) or real image weights are
covered as far as they go without: CUDA shared memory answers with its
errors, densenet_onnx has random weights.

Run: /usr/bin/python3 tests/integration/triton_examples_test.py \
       --serval build/serval --backends build/backends [unittest args]
"""

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import grpc
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc_support  # noqa: E402
import serval_harness  # noqa: E402
from shared_memory_support import ShmRegion  # noqa: E402

ROOT = grpc_support.REPO_ROOT
EXAMPLES = os.path.join(ROOT, "examples", "models")
TRITON_MODELS = ["simple", "simple_int8", "simple_string", "simple_identity",
                 "densenet_onnx"]
DELAY_US = 400000

pb = pb_grpc = None
SERVER = None      # poll-free server with every example model
CONTROL = None     # explicit model-control server
_DIRS = []
NP = {"INT32": np.int32, "INT8": np.int8, "FP32": np.float32,
      "INT64": np.int64}


# ----------------------------------------------------------------------------
# Wire helpers: what tritonclient does for each call.

def serialize_bytes(values):
    """Triton's serialize_byte_tensor: 4-byte little-endian length + bytes."""
    out = b""
    for v in values:
        v = v if isinstance(v, bytes) else str(v).encode()
        out += struct.pack("<I", len(v)) + v
    return out


def deserialize_bytes(data):
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        out.append(bytes(data[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return out


def concurrently(fn, n):
    """Runs fn(0) .. fn(n - 1) on n threads and waits for all."""
    threads = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def http_json(server, method, path, body=None, headers=None):
    """(status, JSON or text) of one request."""
    payload = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    status, _, data = server.request(method, path, body=payload, headers=headers)
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, data


def infer_body(inputs, outputs=None, parameters=None, request_id=None):
    """Triton's binary-tensor extension. inputs: (name, datatype, shape,
    values, binary) with values a numpy array or list of bytes for BYTES, or
    (name, datatype, shape, None, {"shared_memory_region": ...}).
    outputs: (name, {parameters}). Returns (body, json header length)."""
    tensors, tails = [], []
    for name, datatype, shape, values, binary in inputs:
        t = {"name": name, "datatype": datatype, "shape": list(shape)}
        if isinstance(binary, dict):
            t["parameters"] = binary
        elif binary:
            raw = (serialize_bytes(values) if datatype == "BYTES"
                   else np.ascontiguousarray(values).tobytes())
            t["parameters"] = {"binary_data_size": len(raw)}
            tails.append(raw)
        elif datatype == "BYTES":
            t["data"] = [v.decode("latin-1") if isinstance(v, bytes) else v
                         for v in values]
        else:
            t["data"] = np.asarray(values).flatten().tolist()
        tensors.append(t)
    doc = {"inputs": tensors}
    if request_id:
        doc["id"] = request_id
    if outputs is not None:
        doc["outputs"] = [{"name": n, "parameters": p} if p else {"name": n}
                          for n, p in outputs]
    if parameters:
        doc["parameters"] = parameters
    header = json.dumps(doc).encode()
    return header + b"".join(tails), len(header)


def infer(server, model, inputs, outputs=None, parameters=None, query="",
          version=None, request_id=None):
    """(status, response JSON, {output name: numpy array or [bytes]})."""
    body, header_len = infer_body(inputs, outputs, parameters, request_id)
    path = f"/v2/models/{model}"
    if version is not None:
        path += f"/versions/{version}"
    headers = {"Content-Type": "application/octet-stream",
               "Inference-Header-Content-Length": str(header_len)}
    status, resp_headers, data = server.request("POST", path + "/infer" + query,
                                                body=body, headers=headers)
    return (status,) + parse_response(resp_headers, data)


def parse_response(headers, data):
    length = headers.get("inference-header-content-length")
    doc = json.loads(data[:int(length)] if length else data)
    tensors, pos = {}, int(length) if length else 0
    for out in doc.get("outputs", []):
        size = (out.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            raw = data[pos:pos + size]
            pos += size
            tensors[out["name"]] = to_array(out["datatype"], out["shape"], raw)
        elif "data" in out:
            if out["datatype"] == "BYTES":
                tensors[out["name"]] = [s.encode("latin-1") for s in out["data"]]
            else:
                tensors[out["name"]] = np.array(
                    out["data"], dtype=NP[out["datatype"]]).reshape(out["shape"])
    return doc, tensors


def to_array(datatype, shape, raw):
    if datatype == "BYTES":
        return deserialize_bytes(raw)
    return np.frombuffer(raw, dtype=NP[datatype]).reshape(shape)


def shm_params(region, size, offset=0):
    p = {"shared_memory_region": region, "shared_memory_byte_size": size}
    if offset:
        p["shared_memory_offset"] = offset
    return p


# ----------------------------------------------------------------------------
# Servers.

def ensure_examples():
    if all(os.path.exists(os.path.join(EXAMPLES, m, ".generated"))
           for m in TRITON_MODELS):
        return True
    script = os.path.join(ROOT, "scripts", "make_repository.sh")
    return subprocess.run(["bash", script]).returncode == 0


def triton_repository():
    """A repository of the Triton-shaped models: links to examples/models."""
    root = tempfile.mkdtemp(prefix="serval-triton-")
    _DIRS.append(root)
    for m in TRITON_MODELS:
        os.symlink(os.path.join(EXAMPLES, m), os.path.join(root, m))
    return root


def extra_repository():
    """Models the examples' edge cases need: optional inputs, a slow one."""
    root = tempfile.mkdtemp(prefix="serval-extra-")
    _DIRS.append(root)
    grpc_support.write_identity_model(
        root, "optional_pair", [("FP32", [4]), ("FP32", [4])],
        max_batch_size=8,
        extra="dynamic_batching { max_queue_delay_microseconds: 20000 }")
    # INPUT1 of optional_pair is optional.
    path = os.path.join(root, "optional_pair", "config.pbtxt")
    with open(path) as f:
        text = f.read()
    text = text.replace('name: "INPUT1" data_type: TYPE_FP32 dims: [ 4 ]',
                        'name: "INPUT1" data_type: TYPE_FP32 dims: [ 4 ] '
                        "optional: true", 1)
    with open(path, "w") as f:
        f.write(text)
    grpc_support.write_identity_model(
        root, "slow_fp32", [("FP32", [4])], max_batch_size=8,
        parameters={"delay_us": DELAY_US})
    # simple_identity's ONNX graph with dynamic batching: string tensors
    # of several requests in one ONNX Runtime run.
    os.makedirs(os.path.join(root, "strings_batched", "1"))
    os.symlink(os.path.join(EXAMPLES, "simple_identity", "1", "model.onnx"),
               os.path.join(root, "strings_batched", "1", "model.onnx"))
    with open(os.path.join(EXAMPLES, "simple_identity", "config.pbtxt")) as f:
        config = f.read().replace('"simple_identity"', '"strings_batched"')
    with open(os.path.join(root, "strings_batched", "config.pbtxt"), "w") as f:
        f.write(config + "dynamic_batching { max_queue_delay_microseconds: "
                         "300000 }\n")
    return root


def setUpModule():
    global pb, pb_grpc, SERVER, CONTROL
    if not ensure_examples():
        raise unittest.SkipTest("examples/models could not be generated")
    stubs = tempfile.mkdtemp(prefix="serval-stubs-")
    _DIRS.append(stubs)
    pb, pb_grpc, _, _ = grpc_support.generate_stubs(stubs)
    traces = tempfile.mkdtemp(prefix="serval-traces-")
    _DIRS.append(traces)
    triton = triton_repository()
    SERVER = serval_harness.Serval(
        grpc_support.ServalProcess.binary, grpc_support.ServalProcess.backends,
        [triton, extra_repository()],
        extra_args=["--server-name", "triton",
                    "--trace-config", "file=" + os.path.join(traces, "trace.json"),
                    "--http-max-body-chunks", "4096"])
    SERVER.trace_path = os.path.join(traces, "trace.json")
    SERVER.start()
    CONTROL = serval_harness.Serval(
        grpc_support.ServalProcess.binary, grpc_support.ServalProcess.backends,
        [triton], extra_args=["--model-control-mode", "explicit"])
    CONTROL.start()


def tearDownModule():
    for s in (SERVER, CONTROL):
        if s is not None:
            s.stop()
    for d in _DIRS:
        shutil.rmtree(d, ignore_errors=True)


def grpc_stub(server):
    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    return channel, pb_grpc.GRPCInferenceServiceStub(channel)


class ExampleTest(unittest.TestCase):
    def setUp(self):
        self.channel, self.stub = grpc_stub(SERVER)

    def tearDown(self):
        self.channel.close()

    def assertRpcError(self, call, code, fragment):
        with self.assertRaises(grpc.RpcError) as ctx:
            call()
        self.assertEqual(ctx.exception.code(), code, ctx.exception.details())
        self.assertIn(fragment, ctx.exception.details())
        return ctx.exception

    def simple_inputs(self, datatype="INT32", batch=1):
        t = NP[datatype]
        in0 = np.arange(16 * batch, dtype=t).reshape(batch, 16) % 16
        in1 = np.ones((batch, 16), dtype=t)
        return in0, in1


# ----------------------------------------------------------------------------
# simple_http_infer_client.py, simple_http_async_infer_client.py,
# simple_http_health_metadata.py, reuse_infer_objects_client.py (HTTP part)

class HttpExamples(ExampleTest):
    def test_simple_http_infer_client(self):
        in0, in1 = self.simple_inputs()
        # INPUT0 as JSON, INPUT1 binary; OUTPUT0 binary, OUTPUT1 JSON; the
        # example's query parameters.
        status, doc, out = infer(
            SERVER, "simple",
            [("INPUT0", "INT32", [1, 16], in0, False),
             ("INPUT1", "INT32", [1, 16], in1, True)],
            outputs=[("OUTPUT0", {"binary_data": True}),
                     ("OUTPUT1", {"binary_data": False})],
            query="?test_1=1&test_2=2")
        self.assertEqual(status, 200, doc)
        np.testing.assert_array_equal(out["OUTPUT0"], in0 + in1)
        np.testing.assert_array_equal(out["OUTPUT1"], in0 - in1)
        # Statistics: one entry for the model.
        status, stats = http_json(SERVER, "GET", "/v2/models/simple/stats")
        self.assertEqual(status, 200)
        self.assertEqual(len(stats["model_stats"]), 1)
        self.assertGreaterEqual(
            stats["model_stats"][0]["inference_stats"]["success"]["count"], 1)
        # No outputs named: all of them.
        status, doc, out = infer(SERVER, "simple",
                                 [("INPUT0", "INT32", [1, 16], in0, True),
                                  ("INPUT1", "INT32", [1, 16], in1, True)])
        self.assertEqual(status, 200, doc)
        self.assertEqual(sorted(out), ["OUTPUT0", "OUTPUT1"])
        # A wrong model: the message starts with Triton's phrase.
        status, doc, _ = infer(SERVER, "wrong_model",
                               [("INPUT0", "INT32", [1, 16], in0, True)])
        self.assertEqual(status, 404)
        self.assertTrue(doc["error"].startswith("Request for unknown model"),
                        doc)

    def test_simple_http_async_infer_client(self):
        in0, in1 = self.simple_inputs()
        results = [None, None]

        def one(i):
            results[i] = infer(SERVER, "simple",
                               [("INPUT0", "INT32", [1, 16], in0 * (i + 1), True),
                                ("INPUT1", "INT32", [1, 16], in1, True)])
        concurrently(one, 2)
        self.assertNotIn(None, results)  # no thread failed
        for i, (status, doc, out) in enumerate(results):
            self.assertEqual(status, 200, doc)
            np.testing.assert_array_equal(out["OUTPUT0"], in0 * (i + 1) + in1)

    def test_simple_http_health_metadata(self):
        self.assertEqual(SERVER.request(
            "GET", "/v2/health/live?test_1=1&test_2=2")[0], 200)
        self.assertEqual(SERVER.request("GET", "/v2/health/ready")[0], 200)
        self.assertEqual(SERVER.request("GET", "/v2/models/simple/ready")[0], 200)
        status, meta = http_json(SERVER, "GET", "/v2")
        # --server-name triton, as this example checks.
        self.assertEqual(meta["name"], "triton")
        self.assertEqual(meta["extensions"], [
            "classification", "model_repository",
            "model_repository(unload_dependents)", "schedule_policy",
            "model_configuration", "system_shared_memory",
            "binary_tensor_data", "statistics", "trace", "logging"])
        status, meta = http_json(SERVER, "GET",
                                 "/v2/models/simple?test_1=1&test_2=2")
        self.assertEqual((status, meta["name"]), (200, "simple"))
        status, err = http_json(SERVER, "GET", "/v2/models/wrong_model_name")
        self.assertEqual(status, 404)
        self.assertIn("Request for unknown model", err["error"])

    def test_simple_http_string_infer_client(self):
        in0 = [str(i).encode() for i in range(16)]
        in1 = [b"1"] * 16
        status, doc, out = infer(
            SERVER, "simple_string",
            [("INPUT0", "BYTES", [1, 16], in0, True),
             ("INPUT1", "BYTES", [1, 16], in1, False)],
            outputs=[("OUTPUT0", {"binary_data": True}),
                     ("OUTPUT1", {"binary_data": False})])
        self.assertEqual(status, 200, doc)
        self.assertEqual([int(v) for v in out["OUTPUT0"]],
                         [i + 1 for i in range(16)])
        self.assertEqual([int(v) for v in out["OUTPUT1"]],
                         [i - 1 for i in range(16)])
        # simple_identity: a NUL inside a string and bytes that are no text
        # come back unchanged, binary and (where JSON can hold them) as JSON.
        for values, binary in (([b"he\x00llo", b"\x00\x01\x02\x03"], True),
                               ([b"he\x00llo", b"\x00\x01\x02\x03"], False),
                               ([b"\xff\xfe", b""], True)):
            status, doc, out = infer(
                SERVER, "simple_identity",
                [("INPUT0", "BYTES", [1, len(values)], values, binary)],
                outputs=[("OUTPUT0", {"binary_data": binary})])
            self.assertEqual(status, 200, doc)
            self.assertEqual(out["OUTPUT0"], values)

    def test_strings_batch_across_requests(self):
        # Concurrent simple_string requests: dynamic batching is off in
        # Triton's config, but concurrent requests must not mix.
        results = {}

        def one(i):
            in0 = [str(i * 100 + k).encode() for k in range(16)]
            results[i] = infer(SERVER, "simple_string",
                               [("INPUT0", "BYTES", [1, 16], in0, True),
                                ("INPUT1", "BYTES", [1, 16], [b"0"] * 16, True)])
        concurrently(one, 6)
        self.assertEqual(len(results), 6)  # no thread failed
        for i, (status, doc, out) in results.items():
            self.assertEqual(status, 200, doc)
            self.assertEqual(out["OUTPUT0"],
                             [str(i * 100 + k).encode() for k in range(16)])

    def test_strings_batched_in_onnx_runtime(self):
        results = {}
        barrier = threading.Barrier(6)

        def one(i):
            values = [str(i).encode() * i, b"", b"\xff\x00" + bytes([i])]
            barrier.wait()
            results[i] = (values, infer(
                SERVER, "strings_batched",
                [("INPUT0", "BYTES", [1, 3], values, True)],
                parameters={"binary_data_output": True}))
        concurrently(one, 6)
        self.assertEqual(len(results), 6)  # no thread failed
        for values, (status, doc, out) in results.values():
            self.assertEqual(status, 200, doc)
            self.assertEqual(out["OUTPUT0"], values)
        status, stats = http_json(SERVER, "GET",
                                  "/v2/models/strings_batched/stats")
        s = stats["model_stats"][0]
        self.assertEqual(s["inference_count"], 6)
        self.assertLess(s["execution_count"], 6, s)  # batched

    def test_simple_int8_wraps_like_int8(self):
        in0 = np.array([[127, -128] + [0] * 14], dtype=np.int8)
        in1 = np.array([[1, 1] + [0] * 14], dtype=np.int8)
        status, doc, out = infer(SERVER, "simple_int8",
                                 [("INPUT0", "INT8", [1, 16], in0, True),
                                  ("INPUT1", "INT8", [1, 16], in1, False)])
        self.assertEqual(status, 200, doc)
        np.testing.assert_array_equal(out["OUTPUT0"][0][:2], [-128, -127])
        np.testing.assert_array_equal(out["OUTPUT1"][0][:2], [126, 127])


# ----------------------------------------------------------------------------
# simple_grpc_infer_client.py, simple_grpc_string_infer_client.py,
# simple_grpc_health_metadata.py, grpc_explicit_*_content_client.py

class GrpcExamples(ExampleTest):
    def request(self, model, tensors, outputs=None, version=""):
        req = pb.ModelInferRequest(model_name=model, model_version=version)
        for name, datatype, shape, raw in tensors:
            req.inputs.add(name=name, datatype=datatype, shape=shape)
            req.raw_input_contents.append(raw)
        for o in outputs or []:
            req.outputs.add(name=o)
        return req

    def outputs(self, resp):
        out = {}
        for i, o in enumerate(resp.outputs):
            out[o.name] = to_array(o.datatype, list(o.shape),
                                   resp.raw_output_contents[i])
        return out

    def test_simple_grpc_infer_client(self):
        in0, in1 = self.simple_inputs()
        req = self.request("simple", [("INPUT0", "INT32", [1, 16], in0.tobytes()),
                                      ("INPUT1", "INT32", [1, 16], in1.tobytes())],
                           ["OUTPUT0", "OUTPUT1"])
        resp = self.stub.ModelInfer(req, metadata=(("test", "1"),))
        out = self.outputs(resp)
        np.testing.assert_array_equal(out["OUTPUT0"], in0 + in1)
        np.testing.assert_array_equal(out["OUTPUT1"], in0 - in1)
        stats = self.stub.ModelStatistics(pb.ModelStatisticsRequest(name="simple"))
        self.assertEqual(len(stats.model_stats), 1)
        resp = self.stub.ModelInfer(self.request(
            "simple", [("INPUT0", "INT32", [1, 16], in0.tobytes()),
                       ("INPUT1", "INT32", [1, 16], in1.tobytes())]))
        self.assertEqual(sorted(o.name for o in resp.outputs),
                         ["OUTPUT0", "OUTPUT1"])
        self.assertRpcError(lambda: self.stub.ModelInfer(self.request(
            "wrong_model", [("INPUT0", "INT32", [1, 16], in0.tobytes())])),
            grpc.StatusCode.NOT_FOUND, "Request for unknown model")

    def test_simple_grpc_health_metadata(self):
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)
        self.assertTrue(self.stub.ServerReady(pb.ServerReadyRequest()).ready)
        self.assertTrue(self.stub.ModelReady(
            pb.ModelReadyRequest(name="simple")).ready)
        meta = self.stub.ServerMetadata(pb.ServerMetadataRequest())
        self.assertEqual(meta.name, "triton")
        self.assertIn("system_shared_memory", meta.extensions)
        self.assertEqual(self.stub.ModelMetadata(
            pb.ModelMetadataRequest(name="simple")).name, "simple")
        self.assertRpcError(lambda: self.stub.ModelMetadata(
            pb.ModelMetadataRequest(name="wrong_model_name")),
            grpc.StatusCode.NOT_FOUND, "Request for unknown model")

    def test_simple_grpc_string_infer_client(self):
        in0 = [str(i).encode() for i in range(16)]
        in1 = [b"1"] * 16
        resp = self.stub.ModelInfer(self.request(
            "simple_string", [("INPUT0", "BYTES", [1, 16], serialize_bytes(in0)),
                              ("INPUT1", "BYTES", [1, 16], serialize_bytes(in1))]))
        out = self.outputs(resp)
        self.assertEqual([int(v) for v in out["OUTPUT0"]], list(range(1, 17)))
        self.assertEqual([int(v) for v in out["OUTPUT1"]], list(range(-1, 15)))
        values = [b"he\x00llo", b"\x00\x01\x02\x03", b"\xff"]
        resp = self.stub.ModelInfer(self.request(
            "simple_identity", [("INPUT0", "BYTES", [1, 3],
                                 serialize_bytes(values))]))
        self.assertEqual(self.outputs(resp)["OUTPUT0"], values)

    def test_grpc_explicit_byte_content_client(self):
        req = pb.ModelInferRequest(model_name="simple_string")
        for name, values in (("INPUT0", [str(i).encode() for i in range(16)]),
                             ("INPUT1", [b"2"] * 16)):
            t = req.inputs.add(name=name, datatype="BYTES", shape=[1, 16])
            t.contents.bytes_contents.extend(values)
        out = self.outputs(self.stub.ModelInfer(req))
        self.assertEqual([int(v) for v in out["OUTPUT0"]], list(range(2, 18)))

    def test_grpc_explicit_int_content_client(self):
        req = pb.ModelInferRequest(model_name="simple")
        for name, values in (("INPUT0", list(range(16))), ("INPUT1", [1] * 16)):
            t = req.inputs.add(name=name, datatype="INT32", shape=[1, 16])
            t.contents.int_contents.extend(values)
        out = self.outputs(self.stub.ModelInfer(req))
        np.testing.assert_array_equal(out["OUTPUT0"][0], np.arange(16) + 1)
        # Typed contents and raw contents together: Triton's text.
        req.raw_input_contents.append(np.arange(16, dtype=np.int32).tobytes())
        req.raw_input_contents.append(np.ones(16, dtype=np.int32).tobytes())
        self.assertRpcError(
            lambda: self.stub.ModelInfer(req), grpc.StatusCode.INVALID_ARGUMENT,
            "contents field must not be specified when using "
            "raw_input_contents for 'INPUT0' for model 'simple'")

    def test_grpc_explicit_int8_content_client(self):
        req = pb.ModelInferRequest(model_name="simple_int8")
        for name, values in (("INPUT0", list(range(-8, 8))), ("INPUT1", [1] * 16)):
            t = req.inputs.add(name=name, datatype="INT8", shape=[1, 16])
            t.contents.int_contents.extend(values)
        out = self.outputs(self.stub.ModelInfer(req))
        np.testing.assert_array_equal(out["OUTPUT0"][0], np.arange(-8, 8) + 1)
        np.testing.assert_array_equal(out["OUTPUT1"][0], np.arange(-8, 8) - 1)
        req.model_version = "wrong_specification"
        self.assertRpcError(
            lambda: self.stub.ModelInfer(req), grpc.StatusCode.INVALID_ARGUMENT,
            "failed to get model version from specified version string "
            "'wrong_specification'")

    def test_grpc_log_settings(self):
        settings = self.stub.LogSettings(pb.LogSettingsRequest()).settings
        self.assertEqual(settings["log_file"].string_param, "")
        self.assertTrue(settings["log_error"].bool_param)
        req = pb.LogSettingsRequest()
        req.settings["log_verbose_level"].uint32_param = 1
        settings = self.stub.LogSettings(req).settings
        self.assertEqual(settings["log_level"].string_param, "debug")
        req = pb.LogSettingsRequest()
        req.settings["log_verbose_level"].uint32_param = 0
        self.assertEqual(self.stub.LogSettings(req).settings[
            "log_level"].string_param, "info")
        req = pb.LogSettingsRequest()
        req.settings["log_file"].string_param = "/tmp/elsewhere.log"
        self.assertRpcError(lambda: self.stub.LogSettings(req),
                            grpc.StatusCode.UNIMPLEMENTED,
                            "log file location can not be updated")
        req = pb.LogSettingsRequest()
        req.settings["log_info"].string_param = "yes"
        self.assertRpcError(lambda: self.stub.LogSettings(req),
                            grpc.StatusCode.INVALID_ARGUMENT,
                            "'log_info' must be a bool_param")


# ----------------------------------------------------------------------------
# simple_http_shm_client.py, simple_http_shm_string_client.py,
# simple_grpc_shm_client.py, simple_grpc_shm_string_client.py,
# simple_*_cudashm_client.py (as far as a CPU-only server goes),
# reuse_infer_objects_client.py

class SharedMemory(ExampleTest):
    def setUp(self):
        super().setUp()
        self.regions = []
        # The examples start by clearing both kinds of region.
        self.assertEqual(SERVER.request(
            "POST", "/v2/systemsharedmemory/unregister")[0], 200)
        self.assertEqual(SERVER.request(
            "POST", "/v2/cudasharedmemory/unregister")[0], 200)

    def tearDown(self):
        SERVER.request("POST", "/v2/systemsharedmemory/unregister")
        for r in self.regions:
            r.close()
        super().tearDown()

    def region(self, tag, size):
        r = ShmRegion(tag, size)
        self.regions.append(r)
        return r

    def register(self, name, region, offset=0, size=None):
        return http_json(SERVER, "POST",
                         f"/v2/systemsharedmemory/region/{name}/register",
                         {"key": region.key, "offset": offset,
                          "byte_size": region.size if size is None else size})

    def test_simple_http_shm_client(self):
        in0, in1 = self.simple_inputs()
        shm_in = self.region("input_simple", 128)
        shm_out = self.region("output_simple", 128)
        shm_in.write(0, in0.tobytes())
        shm_in.write(64, in1.tobytes())
        self.assertEqual(self.register("input_data", shm_in)[0], 200)
        self.assertEqual(self.register("output_data", shm_out)[0], 200)
        status, doc, out = infer(
            SERVER, "simple",
            [("INPUT0", "INT32", [1, 16], None, shm_params("input_data", 64)),
             ("INPUT1", "INT32", [1, 16], None,
              shm_params("input_data", 64, 64))],
            outputs=[("OUTPUT0", shm_params("output_data", 64)),
                     ("OUTPUT1", shm_params("output_data", 64, 64))])
        self.assertEqual(status, 200, doc)
        self.assertEqual(out, {})  # no tensor bytes in the response
        by_name = {o["name"]: o for o in doc["outputs"]}
        for name, offset, want in (("OUTPUT0", 0, in0 + in1),
                                   ("OUTPUT1", 64, in0 - in1)):
            o = by_name[name]
            got = np.frombuffer(shm_out.read(offset, 64),
                                dtype=NP[o["datatype"]]).reshape(o["shape"])
            np.testing.assert_array_equal(got, want)
        status, regions = http_json(SERVER, "GET", "/v2/systemsharedmemory/status")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(r["name"] for r in regions),
                         ["input_data", "output_data"])
        self.assertEqual(
            [r for r in regions if r["name"] == "input_data"][0],
            {"name": "input_data", "key": shm_in.key, "offset": 0,
             "byte_size": 128})
        status, one = http_json(
            SERVER, "GET", "/v2/systemsharedmemory/region/output_data/status")
        self.assertEqual((status, len(one)), (200, 1))
        # reuse_infer_objects_client.py: the same request without shared
        # memory right after.
        status, doc, out = infer(SERVER, "simple",
                                 [("INPUT0", "INT32", [1, 16], in0, True),
                                  ("INPUT1", "INT32", [1, 16], in1, True)])
        self.assertEqual(status, 200, doc)
        np.testing.assert_array_equal(out["OUTPUT0"], in0 + in1)
        self.assertEqual(SERVER.request(
            "POST", "/v2/systemsharedmemory/region/input_data/unregister")[0],
            200)
        status, regions = http_json(SERVER, "GET", "/v2/systemsharedmemory/status")
        self.assertEqual([r["name"] for r in regions], ["output_data"])

    def test_simple_http_shm_string_client(self):
        in0 = [str(i).encode() for i in range(16)]
        in1 = [b"1"] * 16
        want0 = [str(i + 1).encode() for i in range(16)]
        want1 = [str(i - 1).encode() for i in range(16)]
        blobs = {"input0": serialize_bytes(in0), "input1": serialize_bytes(in1),
                 "output0": serialize_bytes(want0),
                 "output1": serialize_bytes(want1)}
        regions = {}
        for tag, blob in blobs.items():
            # Output regions exactly as large as the serialized result.
            regions[tag] = self.region(tag + "_simple", len(blob))
            self.assertEqual(self.register(tag + "_data", regions[tag])[0], 200)
        regions["input0"].write(0, blobs["input0"])
        regions["input1"].write(0, blobs["input1"])
        status, doc, _ = infer(
            SERVER, "simple_string",
            [("INPUT0", "BYTES", [1, 16], None,
              shm_params("input0_data", len(blobs["input0"]))),
             ("INPUT1", "BYTES", [1, 16], None,
              shm_params("input1_data", len(blobs["input1"])))],
            outputs=[("OUTPUT0", shm_params("output0_data", len(blobs["output0"]))),
                     ("OUTPUT1", shm_params("output1_data", len(blobs["output1"])))])
        self.assertEqual(status, 200, doc)
        self.assertEqual(deserialize_bytes(
            regions["output0"].read(0, len(blobs["output0"]))), want0)
        self.assertEqual(deserialize_bytes(
            regions["output1"].read(0, len(blobs["output1"]))), want1)

    def test_simple_grpc_shm_client(self):
        in0, in1 = self.simple_inputs()
        shm_in = self.region("grpc_input", 128)
        shm_out = self.region("grpc_output", 128)
        shm_in.write(0, in0.tobytes() + in1.tobytes())
        for name, r in (("in", shm_in), ("out", shm_out)):
            self.stub.SystemSharedMemoryRegister(pb.SystemSharedMemoryRegisterRequest(
                name=name, key=r.key, offset=0, byte_size=128))
        status = self.stub.SystemSharedMemoryStatus(
            pb.SystemSharedMemoryStatusRequest())
        self.assertEqual(sorted(status.regions), ["in", "out"])
        self.assertEqual(status.regions["in"].key, shm_in.key)
        req = pb.ModelInferRequest(model_name="simple")
        for i, name in enumerate(("INPUT0", "INPUT1")):
            t = req.inputs.add(name=name, datatype="INT32", shape=[1, 16])
            t.parameters["shared_memory_region"].string_param = "in"
            t.parameters["shared_memory_byte_size"].int64_param = 64
            t.parameters["shared_memory_offset"].int64_param = 64 * i
        for i, name in enumerate(("OUTPUT0", "OUTPUT1")):
            o = req.outputs.add(name=name)
            o.parameters["shared_memory_region"].string_param = "out"
            o.parameters["shared_memory_byte_size"].int64_param = 64
            o.parameters["shared_memory_offset"].int64_param = 64 * i
        resp = self.stub.ModelInfer(req)
        self.assertTrue(all(len(c) == 0 for c in resp.raw_output_contents))
        got0 = np.frombuffer(shm_out.read(0, 64), dtype=np.int32)
        got1 = np.frombuffer(shm_out.read(64, 64), dtype=np.int32)
        np.testing.assert_array_equal(got0, (in0 + in1)[0])
        np.testing.assert_array_equal(got1, (in0 - in1)[0])
        self.assertRpcError(
            lambda: self.stub.SystemSharedMemoryRegister(
                pb.SystemSharedMemoryRegisterRequest(
                    name="in", key=shm_in.key, offset=0, byte_size=128)),
            grpc.StatusCode.ALREADY_EXISTS, "already in manager")
        self.stub.SystemSharedMemoryUnregister(
            pb.SystemSharedMemoryUnregisterRequest(name="in"))
        self.assertRpcError(lambda: self.stub.ModelInfer(req),
                            grpc.StatusCode.INVALID_ARGUMENT,
                            "Unable to find shared memory region: 'in'")
        self.stub.SystemSharedMemoryUnregister(
            pb.SystemSharedMemoryUnregisterRequest())
        self.assertEqual(len(self.stub.SystemSharedMemoryStatus(
            pb.SystemSharedMemoryStatusRequest()).regions), 0)

    def test_unregister_while_a_request_is_in_flight(self):
        shm = self.region("in_flight", 32)
        values = np.arange(4, dtype=np.float32) + 0.5
        shm.write(0, values.tobytes())
        self.assertEqual(self.register("busy", shm)[0], 200)
        result = {}

        def slow():
            result["r"] = infer(
                SERVER, "slow_fp32",
                [("INPUT0", "FP32", [1, 4], None, shm_params("busy", 16))],
                outputs=[("OUTPUT0", shm_params("busy", 16, 16))])
        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(DELAY_US / 1e6 / 4)  # the request is inside the model
        self.assertEqual(SERVER.request(
            "POST", "/v2/systemsharedmemory/region/busy/unregister")[0], 200)
        thread.join()
        self.assertIn("r", result)  # the thread did not fail
        status, doc, _ = result["r"]
        # The region stayed mapped until the request was done with it.
        self.assertEqual(status, 200, doc)
        np.testing.assert_array_equal(
            np.frombuffer(shm.read(16, 16), dtype=np.float32), values)
        status, doc, _ = infer(
            SERVER, "slow_fp32",
            [("INPUT0", "FP32", [1, 4], None, shm_params("busy", 16))])
        self.assertEqual(status, 400)
        self.assertIn("Unable to find shared memory region: 'busy'", doc["error"])
        self.assertTrue(SERVER.alive())

    def test_bad_offsets_and_sizes(self):
        shm = self.region("bounds", 128)
        # Registration.
        status, err = self.register("r", shm, offset=64, size=128)
        self.assertEqual(status, 400)
        self.assertIn("invalid args", err["error"])
        status, err = http_json(
            SERVER, "POST", "/v2/systemsharedmemory/region/r/register",
            {"key": "/serval_no_such_region", "offset": 0, "byte_size": 8})
        self.assertEqual(status, 400)
        self.assertIn("Unable to open shared memory region", err["error"])
        status, err = http_json(SERVER, "POST",
                                "/v2/systemsharedmemory/region/r/register",
                                {"offset": 0, "byte_size": 8})
        self.assertEqual(status, 400)
        self.assertIn("'key'", err["error"])
        self.assertEqual(self.register("r", shm, offset=16, size=96)[0], 200)
        status, err = self.register("r", shm)
        self.assertEqual(status, 409)
        self.assertIn("shared memory region 'r' already in manager", err["error"])
        status, err = http_json(SERVER, "GET",
                                "/v2/systemsharedmemory/region/none/status")
        self.assertEqual(status, 404)
        self.assertIn("Unable to find system shared memory region: 'none'",
                      err["error"])

        def run(inputs, outputs=None):
            return infer(SERVER, "simple", inputs, outputs)
        ok_in1 = ("INPUT1", "INT32", [1, 16], np.ones((1, 16), np.int32), True)
        cases = [
            # (inputs, outputs, message fragment)
            ([("INPUT0", "INT32", [1, 16], None, shm_params("r", 64, 40)),
              ok_in1], None, "Invalid offset + byte size for shared memory "
                             "region: 'r'"),
            ([("INPUT0", "INT32", [1, 16], None, shm_params("r", 0, 97)),
              ok_in1], None, "Invalid offset for shared memory region: 'r'"),
            ([("INPUT0", "INT32", [1, 16], None, shm_params("r", 32)),
              ok_in1], None, "INPUT0"),
            ([("INPUT0", "INT32", [1, 16], None, shm_params("nope", 64)),
              ok_in1], None, "Unable to find shared memory region: 'nope'"),
            ([("INPUT0", "INT32", [1, 16], None,
               {"shared_memory_region": "r"}), ok_in1], None,
             "shared_memory_byte_size"),
            ([("INPUT0", "INT32", [1, 16], np.zeros((1, 16), np.int32), True),
              ok_in1], [("OUTPUT0", shm_params("r", 32))],
             "should be at least 64 bytes to hold the results"),
        ]
        for inputs, outputs, fragment in cases:
            status, doc, _ = run(inputs, outputs)
            self.assertEqual(status, 400, (fragment, doc))
            self.assertIn(fragment, doc["error"])
        self.assertTrue(SERVER.alive())

    def test_cuda_shared_memory_is_refused_clearly(self):
        status, regions = http_json(SERVER, "GET", "/v2/cudasharedmemory/status")
        self.assertEqual((status, regions), (200, []))
        status, err = http_json(
            SERVER, "POST", "/v2/cudasharedmemory/region/gpu0/register",
            {"raw_handle": {"b64": base64.b64encode(b"x" * 64).decode()},
             "device_id": 0, "byte_size": 64})
        self.assertEqual(status, 400)
        self.assertIn("failed to register CUDA shared memory region: 'gpu0'",
                      err["error"])
        self.assertIn("GPUs not supported", err["error"])
        self.stub.CudaSharedMemoryUnregister(pb.CudaSharedMemoryUnregisterRequest())
        self.assertEqual(len(self.stub.CudaSharedMemoryStatus(
            pb.CudaSharedMemoryStatusRequest()).regions), 0)
        self.assertRpcError(
            lambda: self.stub.CudaSharedMemoryRegister(
                pb.CudaSharedMemoryRegisterRequest(
                    name="gpu0", raw_handle=b"x" * 64, device_id=0,
                    byte_size=64)),
            grpc.StatusCode.INVALID_ARGUMENT, "GPUs not supported")


# ----------------------------------------------------------------------------
# image_client.py and grpc_image_client.py (classification), with the
# random-weight densenet_onnx; checked against numpy's top k.

class Classification(ExampleTest):
    def image(self, seed=0):
        return np.random.default_rng(seed).random((3, 224, 224), np.float32)

    def scores(self, image):
        status, doc, out = infer(
            SERVER, "densenet_onnx", [("data_0", "FP32", [3, 224, 224], image, True)],
            outputs=[("fc6_1", {"binary_data": True})])
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["outputs"][0]["shape"], [1000])
        return out["fc6_1"]

    @staticmethod
    def top(scores, k, labels=True):
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        return [("%f:%d" % (scores[i], i) + (":CLASS_%04d" % i if labels else ""))
                .encode() for i in order]

    def test_image_client(self):
        # What image_client.py's parse_model() reads before it sends.
        status, meta = http_json(SERVER, "GET", "/v2/models/densenet_onnx")
        self.assertEqual(meta["inputs"], [{"name": "data_0", "datatype": "FP32",
                                           "shape": [3, 224, 224]}])
        self.assertEqual(meta["outputs"], [{"name": "fc6_1", "datatype": "FP32",
                                            "shape": [1000]}])
        status, config = http_json(SERVER, "GET", "/v2/models/densenet_onnx/config")
        self.assertEqual(config["max_batch_size"], 0)
        self.assertEqual(config["input"][0]["format"], "FORMAT_NCHW")
        self.assertEqual(config["output"][0]["label_filename"],
                         "densenet_labels.txt")
        image = self.image()
        want = self.top(self.scores(image), 3)
        for binary in (False, True):
            status, doc, out = infer(
                SERVER, "densenet_onnx",
                [("data_0", "FP32", [3, 224, 224], image, True)],
                outputs=[("fc6_1", {"classification": 3, "binary_data": binary})])
            self.assertEqual(status, 200, doc)
            self.assertEqual(doc["outputs"][0]["datatype"], "BYTES")
            self.assertEqual(doc["outputs"][0]["shape"], [3])
            self.assertEqual(out["fc6_1"], want)
            # image_client.py splits each result into value, index, label.
            value, index, label = out["fc6_1"][0].decode().split(":")
            self.assertEqual(label, "CLASS_%04d" % int(index))

    def test_grpc_image_client(self):
        image = self.image(1)
        want = self.top(self.scores(image), 2)
        req = pb.ModelInferRequest(model_name="densenet_onnx")
        req.inputs.add(name="data_0", datatype="FP32", shape=[3, 224, 224])
        req.raw_input_contents.append(image.tobytes())
        o = req.outputs.add(name="fc6_1")
        o.parameters["classification"].int64_param = 2
        resp = self.stub.ModelInfer(req)
        self.assertEqual(resp.outputs[0].datatype, "BYTES")
        self.assertEqual(deserialize_bytes(resp.raw_output_contents[0]), want)

    def test_per_batch_item_without_labels(self):
        in0 = np.array([[5, 1, 9] + [0] * 13, [0] * 15 + [7]], dtype=np.int32)
        in1 = np.zeros((2, 16), dtype=np.int32)
        status, doc, out = infer(
            SERVER, "simple", [("INPUT0", "INT32", [2, 16], in0, True),
                               ("INPUT1", "INT32", [2, 16], in1, True)],
            outputs=[("OUTPUT0", {"classification": 2}), ("OUTPUT1", {})])
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["outputs"][0]["shape"], [2, 2])
        self.assertEqual(out["OUTPUT0"], [b"9:2", b"5:0", b"7:15", b"0:0"])
        np.testing.assert_array_equal(out["OUTPUT1"], in0)

    def test_strings_cannot_be_classified(self):
        status, doc, _ = infer(
            SERVER, "simple_string",
            [("INPUT0", "BYTES", [1, 16], [b"1"] * 16, True),
             ("INPUT1", "BYTES", [1, 16], [b"1"] * 16, True)],
            outputs=[("OUTPUT0", {"classification": 1})])
        self.assertEqual(status, 400, doc)
        self.assertIn("class result not available for output 'OUTPUT0' due "
                      "to unsupported type 'BYTES'", doc["error"])


# ----------------------------------------------------------------------------
# Raw binary requests (Inference-Header-Content-Length: 0), chunked bodies.

class RawBinary(ExampleTest):
    def raw(self, model, body, headers=None, chunks=None):
        h = {"Inference-Header-Content-Length": "0"}
        h.update(headers or {})
        if chunks is None:
            return SERVER.request("POST", f"/v2/models/{model}/infer",
                                  body=body, headers=h)
        conn = SERVER.http_connection()
        try:
            pieces = [body[i:i + chunks] for i in range(0, len(body), chunks)]
            conn.request("POST", f"/v2/models/{model}/infer", body=iter(pieces),
                         headers=h, encode_chunked=True)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, \
                resp.read()
        finally:
            conn.close()

    def test_the_body_is_the_single_input(self):
        image = np.random.default_rng(2).random((3, 224, 224), np.float32)
        for headers in ({}, {"Content-Type": "application/octet-stream"}):
            status, headers_out, data = self.raw("densenet_onnx", image.tobytes(),
                                                 headers)
            self.assertEqual(status, 200, data[:200])
            doc, out = parse_response(headers_out, data)
            # Outputs come back binary, as Triton answers a raw request.
            self.assertIn("binary_data_size", doc["outputs"][0]["parameters"])
            self.assertEqual(out["fc6_1"].shape, (1000,))

    def test_chunked_bodies(self):
        image = np.random.default_rng(3).random((3, 224, 224), np.float32)
        status, _, data = self.raw("densenet_onnx", image.tobytes(), chunks=1024)
        self.assertEqual(status, 200, data[:200])
        # More chunks than --http-max-body-chunks (4096 here).
        status, _, data = self.raw("densenet_onnx", image.tobytes()[:40000],
                                   chunks=8)
        self.assertEqual(status, 400)
        self.assertIn(b"chunks", data)
        self.assertTrue(SERVER.alive())

    def test_shapes_that_cannot_be_deduced(self):
        status, _, data = self.raw("simple", b"\x00" * 128)
        self.assertEqual(status, 400)
        self.assertIn(b"Raw request must only have 1 input", data)
        status, _, data = self.raw("simple_identity", b"hello")
        self.assertEqual(status, 400)
        self.assertIn(b"For BYTE datatype raw input 'INPUT0'", data)
        status, _, data = self.raw("densenet_onnx", b"\x00" * 100)
        self.assertEqual(status, 400)
        self.assertIn(b"data_0", data)


# ----------------------------------------------------------------------------
# The trace extension, as Triton's trace tools read it.

ORDER = ["REQUEST_START", "QUEUE_START", "COMPUTE_START", "COMPUTE_INPUT_END",
         "COMPUTE_OUTPUT_START", "COMPUTE_END", "REQUEST_END"]


class Trace(ExampleTest):
    def traces(self):
        with open(SERVER.trace_path) as f:
            objects = json.load(f)  # a complete array after every trace
        by_id = {}
        for o in objects:
            entry = by_id.setdefault(o["id"], {"stamps": {}, "tensors": []})
            if "model_name" in o:
                entry["model"] = (o["model_name"], o["model_version"])
            for t in o.get("timestamps", []):
                entry["stamps"][t["name"]] = t["ns"]
            if "activity" in o:
                entry["tensors"].append(o)
        return by_id

    def post(self, path, body):
        return http_json(SERVER, "POST", path, body)

    def test_trace_settings_and_files(self):
        status, s = http_json(SERVER, "GET", "/v2/trace/setting")
        self.assertEqual(status, 200)
        self.assertEqual(s["trace_level"], ["OFF"])
        self.assertEqual(s["trace_file"], SERVER.trace_path)
        self.assertEqual(s["trace_rate"], "1000")
        status, s = self.post("/v2/trace/setting",
                              {"trace_level": ["TIMESTAMPS"], "trace_rate": "1",
                               "trace_count": "3"})
        self.assertEqual(status, 200, s)
        self.assertEqual((s["trace_level"], s["trace_count"]),
                         (["TIMESTAMPS"], "3"))
        in0, in1 = self.simple_inputs()
        for _ in range(4):
            status, doc, _ = infer(SERVER, "simple",
                                   [("INPUT0", "INT32", [1, 16], in0, True),
                                    ("INPUT1", "INT32", [1, 16], in1, True)])
            self.assertEqual(status, 200, doc)
        traces = self.traces()
        self.assertEqual(len(traces), 3)
        for trace in traces.values():
            self.assertEqual(trace["model"], ("simple", 1))
            self.assertEqual(sorted(trace["stamps"]), sorted(ORDER))
            ns = [trace["stamps"][n] for n in ORDER]
            self.assertEqual(ns, sorted(ns), trace)
        status, s = http_json(SERVER, "GET", "/v2/trace/setting")
        self.assertEqual(s["trace_count"], "0")
        # Per model, with tensors, over gRPC.
        req = pb.TraceSettingRequest(model_name="simple_int8")
        req.settings["trace_level"].value.extend(["TIMESTAMPS", "TENSORS"])
        req.settings["trace_count"].value.append("1")
        resp = self.stub.TraceSetting(req)
        self.assertEqual(list(resp.settings["trace_level"].value),
                         ["TIMESTAMPS", "TENSORS"])
        self.assertEqual(list(resp.settings["trace_rate"].value), ["1"])
        in0 = np.arange(16, dtype=np.int8).reshape(1, 16)
        status, doc, _ = infer(SERVER, "simple_int8",
                               [("INPUT0", "INT8", [1, 16], in0, True),
                                ("INPUT1", "INT8", [1, 16], in0, True)])
        self.assertEqual(status, 200, doc)
        int8 = [t for t in self.traces().values()
                if t.get("model") == ("simple_int8", 1)]
        self.assertEqual(len(int8), 1)
        tensors = {(t["activity"], t["tensor"]["name"]): t["tensor"]
                   for t in int8[0]["tensors"]}
        self.assertEqual(tensors[("TENSOR_QUEUE_INPUT", "INPUT0")]["data"],
                         ",".join(str(i) for i in range(16)))
        self.assertEqual(tensors[("TENSOR_BACKEND_OUTPUT", "OUTPUT0")]["data"],
                         ",".join(str(2 * i) for i in range(16)))
        self.assertEqual(tensors[("TENSOR_QUEUE_INPUT", "INPUT0")]["shape"],
                         "1,16")
        # Errors.
        status, err = self.post("/v2/trace/setting", {"trace_file": "/tmp/x"})
        self.assertEqual(status, 501, err)
        self.assertIn("trace file location can not be updated", err["error"])
        status, err = self.post("/v2/trace/setting", {"trace_rate": "fast"})
        self.assertEqual(status, 400)
        self.assertIn("Unable to parse 'trace_rate', got: fast", err["error"])
        status, err = self.post("/v2/trace/setting",
                                {"trace_level": ["OFF", "TENSORS"]})
        self.assertEqual(status, 400)
        self.assertIn("Expect only one trace level 'OFF' is specified",
                      err["error"])
        status, err = http_json(SERVER, "GET",
                                "/v2/models/wrong_model/trace/setting")
        self.assertEqual(status, 404)
        self.assertIn("Request for unknown model", err["error"])
        # Off again; clearing the model's setting falls back to it.
        self.assertEqual(self.post("/v2/trace/setting",
                                   {"trace_level": ["OFF"]})[0], 200)
        status, s = self.post("/v2/models/simple_int8/trace/setting",
                              {"trace_level": None, "trace_count": None})
        self.assertEqual((status, s["trace_level"]), (200, ["OFF"]))


# ----------------------------------------------------------------------------
# Optional inputs (Triton's input_all_optional / optional input tests).

class OptionalInputs(ExampleTest):
    def test_an_optional_input_may_be_left_out(self):
        x = np.arange(4, dtype=np.float32).reshape(1, 4)
        status, doc, out = infer(SERVER, "optional_pair",
                                 [("INPUT0", "FP32", [1, 4], x, True)],
                                 outputs=[("OUTPUT0", {"binary_data": True})])
        self.assertEqual(status, 200, doc)
        np.testing.assert_array_equal(out["OUTPUT0"], x)
        # Its output cannot be produced without it: the identity backend
        # says so.
        status, doc, _ = infer(SERVER, "optional_pair",
                               [("INPUT0", "FP32", [1, 4], x, True)])
        self.assertEqual(status, 400)
        self.assertIn("which the request did not provide", doc["error"])
        status, doc, _ = infer(SERVER, "optional_pair", [])
        self.assertEqual(status, 400)
        self.assertIn("expected number of inputs between 1 and 2 but got 0 "
                      "inputs for model 'optional_pair'", doc["error"])
        self.assertIn("missing required input(s) ['INPUT0']", doc["error"])

    def test_requests_with_and_without_it_batch_apart(self):
        results = {}

        def one(i):
            x = np.full((1, 4), i, dtype=np.float32)
            inputs = [("INPUT0", "FP32", [1, 4], x, True)]
            outputs = [("OUTPUT0", {"binary_data": True})]
            if i % 2:
                inputs.append(("INPUT1", "FP32", [1, 4], -x, True))
                outputs.append(("OUTPUT1", {"binary_data": True}))
            results[i] = infer(SERVER, "optional_pair", inputs, outputs)
        concurrently(one, 8)
        self.assertEqual(len(results), 8)  # no thread failed
        for i, (status, doc, out) in results.items():
            self.assertEqual(status, 200, doc)
            np.testing.assert_array_equal(out["OUTPUT0"], np.full((1, 4), i))
            if i % 2:
                np.testing.assert_array_equal(out["OUTPUT1"], np.full((1, 4), -i))

    def test_over_grpc(self):
        req = pb.ModelInferRequest(model_name="optional_pair")
        req.inputs.add(name="INPUT0", datatype="FP32", shape=[1, 4])
        req.raw_input_contents.append(np.ones(4, np.float32).tobytes())
        req.outputs.add(name="OUTPUT0")
        resp = self.stub.ModelInfer(req)
        self.assertEqual([o.name for o in resp.outputs], ["OUTPUT0"])


# ----------------------------------------------------------------------------
# Error texts and codes Triton's clients match on.

class ErrorTexts(ExampleTest):
    def test_http_texts(self):
        in0, in1 = self.simple_inputs()
        both = [("INPUT0", "INT32", [1, 16], in0, True),
                ("INPUT1", "INT32", [1, 16], in1, True)]
        status, doc, _ = infer(SERVER, "simple", both, version=7)
        self.assertEqual(status, 404)
        self.assertIn("Request for unknown model: 'simple' version 7 is not "
                      "found", doc["error"])
        status, doc, _ = infer(SERVER, "simple", both,
                               outputs=[("OUTPUT0", {}), ("OUTPUT0", {})])
        self.assertEqual(status, 400)
        self.assertIn("Duplicate output name 'OUTPUT0' is not allowed in a "
                      "request", doc["error"])
        status, doc, _ = infer(SERVER, "simple", both + both[:1])
        self.assertEqual(status, 400)
        self.assertIn("input 'INPUT0' already exists in request", doc["error"])
        status, doc, _ = infer(SERVER, "simple", [
            ("INPUT0", "INT32", [2 ** 40, 2 ** 40], None,
             {"binary_data_size": 0}), both[1]])
        self.assertEqual(status, 400)
        self.assertIn("causes total element count to exceed maximum size of",
                      doc["error"])
        nested = "[" * 101 + "]" * 101
        status, _, data = SERVER.request(
            "POST", "/v2/models/simple/infer",
            body=('{"inputs":[{"name":"INPUT0","datatype":"INT32",'
                  '"shape":[1,16],"data":' + nested + "}]}").encode())
        self.assertEqual(status, 400)
        self.assertIn(b"JSON nesting depth exceeds maximum allowed limit (100)",
                      data)

    def test_load_outside_explicit_mode(self):
        status, err = http_json(SERVER, "POST",
                                "/v2/repository/models/simple/load")
        self.assertEqual(status, 503, err)
        self.assertIn("explicit model load / unload is not allowed if polling "
                      "is enabled", err["error"])
        self.assertRpcError(
            lambda: self.stub.RepositoryModelLoad(
                pb.RepositoryModelLoadRequest(model_name="simple")),
            grpc.StatusCode.UNAVAILABLE,
            "explicit model load / unload is not allowed")


# ----------------------------------------------------------------------------
# simple_http_model_control.py, simple_grpc_model_control.py (explicit mode)

class ModelControl(unittest.TestCase):
    def load(self, model, parameters=None):
        body = {"parameters": parameters} if parameters else None
        return http_json(CONTROL, "POST", f"/v2/repository/models/{model}/load",
                         body)

    def ready(self, model):
        return CONTROL.request("GET", f"/v2/models/{model}/ready")[0] == 200

    def test_simple_http_model_control(self):
        status, index = http_json(CONTROL, "POST", "/v2/repository/index")
        self.assertEqual(sorted(m["name"] for m in index), sorted(TRITON_MODELS))
        self.assertEqual(self.load("simple")[0], 200)
        self.assertTrue(self.ready("simple"))
        status, err = self.load(
            "simple",
            {"config": '"parameters": {"config": {{"max_batch_size": "16"}}}'})
        self.assertEqual(status, 400)
        self.assertIn("failed to load", err["error"])
        self.assertEqual(self.load("simple",
                                   {"config": '{"max_batch_size":"16"}'})[0], 200)
        status, config = http_json(CONTROL, "GET", "/v2/models/simple/config")
        self.assertEqual(config["max_batch_size"], 16)
        self.assertEqual(config["input"][0]["dims"], [16])
        self.assertEqual(CONTROL.request(
            "POST", "/v2/repository/models/simple/unload")[0], 200)
        self.assertFalse(self.ready("simple"))
        status, err = self.load("simple", {
            "config": "{}",
            "file:" + "A" * 256: base64.b64encode(b"a").decode()})
        self.assertEqual(status, 400)
        self.assertIn("Invalid file path", err["error"])
        self.assertEqual(CONTROL.request("GET", "/v2/health/live")[0], 200)
        status, err = self.load("wrong_model_name")
        self.assertEqual(status, 404)
        self.assertIn("failed to load", err["error"])
        # An upload that fails to load: no server path in the message.
        status, err = self.load("uploaded", {
            "config": json.dumps({"platform": "onnxruntime_onnx"}),
            "file:1/model.onnx": base64.b64encode(b"not onnx").decode()})
        self.assertEqual(status, 400)
        self.assertIn("failed to load 'uploaded'", err["error"])
        self.assertNotIn(tempfile.gettempdir() + "/", err["error"])
        self.assertNotIn(EXAMPLES, err["error"])

    def test_simple_grpc_model_control(self):
        channel, stub = grpc_stub(CONTROL)
        try:
            index = stub.RepositoryIndex(pb.RepositoryIndexRequest())
            self.assertEqual(len(index.models), len(TRITON_MODELS))
            stub.RepositoryModelLoad(
                pb.RepositoryModelLoadRequest(model_name="simple_int8"))
            self.assertTrue(stub.ModelReady(
                pb.ModelReadyRequest(name="simple_int8")).ready)
            req = pb.RepositoryModelLoadRequest(model_name="simple_int8")
            req.parameters["config"].string_param = '{"max_batch_size":"16"}'
            stub.RepositoryModelLoad(req)
            config = stub.ModelConfig(
                pb.ModelConfigRequest(name="simple_int8")).config
            self.assertEqual(config.max_batch_size, 16)
            stub.RepositoryModelUnload(
                pb.RepositoryModelUnloadRequest(model_name="simple_int8"))
            self.assertFalse(stub.ModelReady(
                pb.ModelReadyRequest(name="simple_int8")).ready)
            req = pb.RepositoryModelLoadRequest(model_name="simple_int8")
            req.parameters["config"].string_param = "{}"
            req.parameters["file:" + "A" * 256].bytes_param = b"a"
            with self.assertRaises(grpc.RpcError) as ctx:
                stub.RepositoryModelLoad(req)
            self.assertIn("Invalid file path", ctx.exception.details())
            self.assertTrue(stub.ServerLive(pb.ServerLiveRequest()).live)
            with self.assertRaises(grpc.RpcError) as ctx:
                stub.RepositoryModelLoad(
                    pb.RepositoryModelLoadRequest(model_name="wrong_model_name"))
            self.assertIn("failed to load", ctx.exception.details())
        finally:
            channel.close()


if __name__ == "__main__":
    binary, backends, argv = grpc_support.binary_and_backends(sys.argv)
    grpc_support.ServalProcess.binary = binary
    grpc_support.ServalProcess.backends = backends
    program = unittest.main(argv=argv, exit=False, verbosity=2)
    result = program.result
    if not result.wasSuccessful():
        for s in (SERVER, CONTROL):
            if s is not None:
                s.print_log(80)
        sys.exit(1)
    # A module that could not set up (no example models) ran nothing.
    sys.exit(serval_harness.SKIPPED if result.skipped and not result.testsRun
             else 0)
