#!/usr/bin/env python3
"""End-to-end tests of the HTTP/REST frontend against the real serval binary.

Standard library only (/usr/bin/python3). Starts `serval serve` on free
loopback ports with a temporary repository of identity models, then checks
every endpoint, JSON and binary round-trips for every datatype, mixed and raw
binary requests, keep-alive reuse, 100 concurrent connections and a table of
bad inputs, and finally that the server is still healthy.
"""

import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

# (API name, config name, struct format or None for BYTES, sample values)
TYPES = [
    ("BOOL", "TYPE_BOOL", "?", [True, False, True]),
    ("UINT8", "TYPE_UINT8", "B", [0, 1, 255]),
    ("UINT16", "TYPE_UINT16", "H", [0, 7, 65535]),
    ("UINT32", "TYPE_UINT32", "I", [0, 9, 4294967295]),
    ("UINT64", "TYPE_UINT64", "Q", [0, 11, 18446744073709551615]),
    ("INT8", "TYPE_INT8", "b", [-128, 0, 127]),
    ("INT16", "TYPE_INT16", "h", [-32768, 5, 32767]),
    ("INT32", "TYPE_INT32", "i", [-2147483648, 6, 2147483647]),
    ("INT64", "TYPE_INT64", "q", [-9223372036854775808, 8, 9223372036854775807]),
    ("FP32", "TYPE_FP32", "f", [0.1, -2.5, 3.4028234663852886e38]),
    ("FP64", "TYPE_FP64", "d", [0.1, -1e-300, 1.7976931348623157e308]),
    ("BYTES", "TYPE_STRING", None, ["hello", "", "naïve ☃"]),
]
BINARY_ONLY = [("FP16", "TYPE_FP16", "e", [1.0, -2.0, 0.5]),
               ("BF16", "TYPE_BF16", None, None)]
ALL_TYPES = TYPES + BINARY_ONLY

S = None  # the running server
ARGS = None


def model_for(api):
    return f"id_{api.lower()}"


def build_repository(repo):
    for api, cfg, _, _ in ALL_TYPES:
        repo.add_identity_model(model_for(api), [("INPUT0", cfg, [-1])])
    repo.add_identity_model("id_batch", [("INPUT0", "TYPE_FP32", [4])],
                            max_batch_size=8)
    repo.add_identity_model("id_pair", [("LEFT", "TYPE_FP32", [-1]),
                                        ("RIGHT", "TYPE_INT32", [-1])])
    repo.add_identity_model("id_slow", [("INPUT0", "TYPE_FP32", [-1])],
                            delay_us=300000)
    repo.add_identity_model("id_reload", [("INPUT0", "TYPE_FP32", [-1])])


# ---------------------------------------------------------------- helpers

def call(method, path, body=None, headers=None):
    return S.request(method, path, body=body, headers=headers)


def call_json(method, path, obj=None):
    body = None if obj is None else json.dumps(obj)
    status, headers, data = call(method, path, body,
                                 {"Content-Type": "application/json"})
    return status, headers, json.loads(data) if data else None


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def expect_eq(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def pack(api, fmt, values):
    if api == "BYTES":
        out = b""
        for v in values:
            b = v.encode() if isinstance(v, str) else v
            out += struct.pack("<I", len(b)) + b
        return out
    return struct.pack("<" + fmt * len(values), *values)


def split_binary(headers, data):
    n = int(headers["inference-header-content-length"])
    return json.loads(data[:n]), data[n:]


def same_float32(a, b):
    return struct.pack("<f", a) == struct.pack("<f", b)


def infer_json(model, inputs, **extra):
    req = {"inputs": inputs}
    req.update(extra)
    return call_json("POST", f"/v2/models/{model}/infer", req)


# ---------------------------------------------------------------- endpoints

def test_health():
    for path in ("/v2/health/live", "/v2/health/ready"):
        status, _, data = call("GET", path)
        expect_eq(status, 200, path)
        expect_eq(data, b"", path)


def test_server_metadata():
    status, _, meta = call_json("GET", "/v2")
    expect_eq(status, 200, "GET /v2")
    expect(isinstance(meta.get("name"), str) and meta["name"], meta)
    expect(isinstance(meta.get("version"), str), meta)
    expect(isinstance(meta.get("extensions"), list), meta)


def test_model_metadata():
    for path in ("/v2/models/id_fp32", "/v2/models/id_fp32/versions/1"):
        status, _, meta = call_json("GET", path)
        expect_eq(status, 200, path)
        expect_eq(meta["name"], "id_fp32", "name")
        expect("1" in meta["versions"], meta)
        expect_eq([(t["name"], t["datatype"], t["shape"]) for t in meta["inputs"]],
                  [("INPUT0", "FP32", [-1])], "inputs")
        expect_eq([(t["name"], t["datatype"]) for t in meta["outputs"]],
                  [("OUTPUT0", "FP32")], "outputs")
    status, _, meta = call_json("GET", "/v2/models/id_batch")
    expect_eq(meta["inputs"][0]["shape"], [-1, 4], "batching model shape")
    status, _, meta = call_json("GET", "/v2/models/id_bytes")
    expect_eq(meta["inputs"][0]["datatype"], "BYTES", "BYTES datatype")


def test_model_ready():
    expect_eq(call("GET", "/v2/models/id_fp32/ready")[0], 200, "ready")
    expect_eq(call("GET", "/v2/models/id_fp32/versions/1/ready")[0], 200,
              "versioned ready")
    expect_eq(call("GET", "/v2/models/no_such_model/ready")[0], 404,
              "unknown model ready")


def test_model_config():
    status, headers, config = call_json("GET", "/v2/models/id_batch/config")
    expect_eq(status, 200, "config")
    expect_eq(config["name"], "id_batch", "config name")
    expect_eq(int(config["max_batch_size"]), 8, "max_batch_size")
    expect_eq(config["input"][0]["name"], "INPUT0", "config input")
    expect_eq(call("GET", "/v2/models/id_batch/versions/1/config")[0], 200,
              "versioned config")


def test_statistics():
    for _ in range(3):
        status, _, _ = infer_json("id_int32", [{"name": "INPUT0", "datatype": "INT32",
                                                "shape": [1], "data": [1]}])
        expect_eq(status, 200, "infer")
    status, _, stats = call_json("GET", "/v2/models/id_int32/stats")
    expect_eq(status, 200, "stats")
    entry = stats["model_stats"][0]
    expect_eq(entry["name"], "id_int32", "stats name")
    expect(entry["inference_stats"]["success"]["count"] >= 3, entry)
    for key in ("success", "fail", "queue", "compute_input", "compute_infer",
                "compute_output"):
        expect(set(entry["inference_stats"][key]) == {"count", "ns"}, key)
    for key in ("version", "last_inference", "inference_count",
                "execution_count", "batch_stats"):
        expect(key in entry, key)
    status, _, stats = call_json("GET", "/v2/models/id_int32/versions/1/stats")
    expect_eq(status, 200, "versioned stats")
    status, _, stats = call_json("GET", "/v2/models/stats")
    expect_eq(status, 200, "all stats")
    names = {e["name"] for e in stats["model_stats"]}
    expect({"id_int32", "id_fp32"} <= names, names)
    expect_eq(call("GET", "/v2/models/no_such_model/stats")[0], 404,
              "unknown model stats")


def test_repository_index():
    status, _, data = call("POST", "/v2/repository/index")
    expect_eq(status, 200, "index")
    index = json.loads(data)
    states = {e["name"]: e.get("state") for e in index}
    expect_eq(states.get("id_fp32"), "READY", "id_fp32 state")
    status, _, index = call_json("POST", "/v2/repository/index", {"ready": True})
    expect_eq(status, 200, "ready index")
    expect(all(e.get("state") == "READY" for e in index), index)


def test_repository_unload_load():
    status, _, data = call("POST", "/v2/repository/models/id_reload/unload")
    expect_eq(status, 200, f"unload: {data!r}")
    deadline = time.monotonic() + 10
    while call("GET", "/v2/models/id_reload/ready")[0] == 200:
        expect(time.monotonic() < deadline, "model still ready after unload")
        time.sleep(0.05)
    status, _, data = call("POST", "/v2/repository/models/id_reload/load", "{}")
    expect_eq(status, 200, f"load: {data!r}")
    expect_eq(call("GET", "/v2/models/id_reload/ready")[0], 200,
              "ready after load")


# ---------------------------------------------------------------- tensors

def test_json_round_trip_every_type():
    for api, _, _, values in TYPES:
        status, _, resp = infer_json(
            model_for(api),
            [{"name": "INPUT0", "datatype": api, "shape": [len(values)],
              "data": values}], id=f"json-{api}")
        expect_eq(status, 200, f"{api}: {resp}")
        expect_eq(resp["id"], f"json-{api}", "id echo")
        expect_eq(resp["model_name"], model_for(api), "model_name")
        expect_eq(resp["model_version"], "1", "model_version is a string")
        out = resp["outputs"][0]
        expect_eq((out["name"], out["datatype"], out["shape"]),
                  ("OUTPUT0", api, [len(values)]), api)
        if api == "FP32":
            expect(all(same_float32(a, b) for a, b in zip(out["data"], values)),
                   f"FP32 data {out['data']} != {values}")
        else:
            expect_eq(out["data"], values, f"{api} data")


def test_nested_json_data():
    status, _, resp = infer_json(
        "id_int32", [{"name": "INPUT0", "datatype": "INT32", "shape": [6],
                      "data": [[1, 2, 3], [4, 5, 6]]}])
    expect_eq(status, 200, resp)
    expect_eq(resp["outputs"][0]["data"], [1, 2, 3, 4, 5, 6], "nested")


def binary_request(inputs, outputs=None, binary_output=True):
    """inputs: (name, api, shape, raw bytes or JSON list)."""
    header = {"inputs": []}
    blobs = b""
    for name, api, shape, data in inputs:
        entry = {"name": name, "datatype": api, "shape": shape}
        if isinstance(data, (bytes, bytearray)):
            entry["parameters"] = {"binary_data_size": len(data)}
            blobs += data
        else:
            entry["data"] = data
        header["inputs"].append(entry)
    if outputs is not None:
        header["outputs"] = outputs
    if binary_output:
        header["parameters"] = {"binary_data_output": True}
    head = json.dumps(header).encode()
    return head + blobs, {"Inference-Header-Content-Length": str(len(head)),
                          "Content-Type": "application/octet-stream"}


def test_binary_round_trip_every_type():
    for api, _, fmt, values in ALL_TYPES:
        if api == "BF16":
            raw = bytes([0x80, 0x3f, 0x00, 0xc0, 0x49, 0x40])  # 1, -2, 3.14
            count = 3
        else:
            raw = pack(api, fmt, values)
            count = len(values)
        body, headers = binary_request([("INPUT0", api, [count], raw)])
        status, rheaders, data = call("POST", f"/v2/models/{model_for(api)}/infer",
                                      body, headers)
        expect_eq(status, 200, f"{api}: {data[:300]!r}")
        meta, blob = split_binary(rheaders, data)
        out = meta["outputs"][0]
        expect_eq(out["datatype"], api, "datatype")
        expect_eq(out["shape"], [count], "shape")
        expect_eq(out["parameters"]["binary_data_size"], len(raw), "size")
        expect("data" not in out, "binary output has no JSON data")
        expect_eq(blob, raw, f"{api} bytes")


def test_mixed_json_and_binary():
    right = struct.pack("<3i", 7, 8, 9)
    body, headers = binary_request(
        [("LEFT", "FP32", [2], [1.5, 2.5]), ("RIGHT", "INT32", [3], right)],
        outputs=[{"name": "OUTPUT0"},
                 {"name": "OUTPUT1", "parameters": {"binary_data": True}}],
        binary_output=False)
    status, rheaders, data = call("POST", "/v2/models/id_pair/infer", body, headers)
    expect_eq(status, 200, data[:300])
    meta, blob = split_binary(rheaders, data)
    outs = {o["name"]: o for o in meta["outputs"]}
    expect_eq(outs["OUTPUT0"]["data"], [1.5, 2.5], "JSON output")
    expect_eq(outs["OUTPUT1"]["parameters"]["binary_data_size"], 12, "binary size")
    expect_eq(blob, right, "binary output")


def test_requested_output_subset():
    status, _, resp = infer_json(
        "id_pair", [{"name": "LEFT", "datatype": "FP32", "shape": [1], "data": [1]},
                    {"name": "RIGHT", "datatype": "INT32", "shape": [1], "data": [2]}],
        outputs=[{"name": "OUTPUT1"}])
    expect_eq(status, 200, resp)
    expect_eq([o["name"] for o in resp["outputs"]], ["OUTPUT1"], "subset")


def test_raw_binary_request():
    # Triton's rule: Inference-Header-Content-Length 0 makes the whole body
    # the single input's data, with or without a Content-Type; the outputs
    # come back binary.
    raw = struct.pack("<4f", 1, 2, 3, 4)
    for headers in ({"Inference-Header-Content-Length": "0",
                     "Content-Type": "application/octet-stream"},
                    {"Inference-Header-Content-Length": "0"}):
        status, resp_headers, data = call(
            "POST", "/v2/models/id_batch/infer", raw, headers)
        expect_eq(status, 200, data[:300])
        n = int(resp_headers["inference-header-content-length"])
        out = json.loads(data[:n])["outputs"][0]
        expect_eq(out["shape"], [1, 4], "raw shape gets batch dim 1")
        expect_eq(data[n:], raw, "raw data back as binary")


def test_versioned_infer_and_parameters():
    status, _, resp = call_json(
        "POST", "/v2/models/id_fp32/versions/1/infer",
        {"id": "v1", "parameters": {"priority": 1, "timeout": 5000000},
         "inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1],
                     "data": [4]}]})
    expect_eq(status, 200, resp)
    expect_eq(resp["model_version"], "1", "version")


# ---------------------------------------------------------------- connections

def test_keep_alive_reuse():
    conn = S.http_connection()
    body = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32",
                                   "shape": [1], "data": [1]}]})
    first_sock = None
    for i in range(20):
        conn.request("POST", "/v2/models/id_fp32/infer", body=body)
        resp = conn.getresponse()
        resp.read()
        expect_eq(resp.status, 200, f"request {i}")
        expect(not resp.will_close, "server closed a keep-alive connection")
        if first_sock is None:
            first_sock = conn.sock
        expect(conn.sock is first_sock, "connection was reopened")
    conn.close()


def test_100_concurrent_connections():
    errors = []
    barrier = threading.Barrier(100)

    def client(i):
        try:
            conn = S.http_connection(timeout=60)
            conn.connect()
            barrier.wait(timeout=30)
            for j in range(5):
                value = float(i * 10 + j)
                conn.request("POST", "/v2/models/id_fp32/infer", body=json.dumps(
                    {"id": f"{i}-{j}", "inputs": [{"name": "INPUT0", "datatype": "FP32",
                                                  "shape": [1], "data": [value]}]}))
                resp = conn.getresponse()
                out = json.loads(resp.read())
                if resp.status != 200 or out["id"] != f"{i}-{j}" or \
                        out["outputs"][0]["data"] != [value]:
                    errors.append((i, j, resp.status, out))
            conn.close()
        except Exception as e:  # collected and reported below
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    expect(not errors, f"{len(errors)} failures, first: {errors[:3]}")


def test_client_disconnect_mid_request():
    body = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32",
                                   "shape": [1], "data": [1]}]}).encode()
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", S.http_port))
        s.sendall(b"POST /v2/models/id_slow/infer HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        time.sleep(0.02)
        s.close()
    # The slow model still answers a client that waits.
    status, _, resp = infer_json("id_slow", [{"name": "INPUT0", "datatype": "FP32",
                                              "shape": [1], "data": [2]}])
    expect_eq(status, 200, resp)
    expect(S.alive(), "server died after client disconnects")


def raw_exchange(payload, read_timeout=10):
    """Sends raw bytes, returns (status, body) of the first response."""
    s = socket.create_connection(("127.0.0.1", S.http_port), timeout=read_timeout)
    try:
        s.sendall(payload)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        return resp.status, resp.read()
    finally:
        s.close()


def test_logging_settings():
    status, _, settings = call_json("GET", "/v2/logging")
    expect_eq(status, 200, "GET /v2/logging")
    expect(settings["log_level"] in ("info", "debug", "trace"), settings)
    status, _, settings = call_json("POST", "/v2/logging",
                                    {"log_level": "warn", "log_access": True})
    expect_eq(status, 200, settings)
    expect_eq(settings["log_level"], "warn", settings)
    expect_eq(settings["log_access"], True, settings)
    status, _, err = call_json("POST", "/v2/logging", {"log_level": "loud"})
    expect_eq(status, 400, err)
    # Triton's switches are views of the one level and move it.
    expect_eq((settings["log_info"], settings["log_warning"], settings["log_error"],
               settings["log_verbose_level"]), (False, True, True, 0), settings)
    status, _, settings = call_json("POST", "/v2/logging", {"log_warning": False})
    expect_eq((status, settings["log_level"]), (200, "error"), settings)
    status, _, settings = call_json("POST", "/v2/logging", {"log_verbose_level": 1})
    expect_eq((status, settings["log_level"], settings["log_info"]), (200, "debug", True),
              settings)
    status, _, settings = call_json("POST", "/v2/logging", {"log_info": False})
    expect_eq((status, settings["log_level"]), (200, "warn"), settings)
    status, _, err = call_json("POST", "/v2/logging", {"log_file": "/tmp/x"})
    expect_eq(status, 501, err)
    expect_eq(err["error"],
              "log file location can not be updated through network protocol", err)
    status, _, err = call_json("POST", "/v2/logging", {"log_format": "ISO8601"})
    expect_eq(status, 400, err)
    expect("log_format is fixed at start-up" in err["error"], err)
    status, _, err = call_json("POST", "/v2/logging", {"log_colour": "red"})
    expect_eq(status, 400, err)
    expect("unsupported logging setting 'log_colour'" in err["error"], err)
    status, _, settings = call_json("POST", "/v2/logging",
                                    {"log_level": "info", "log_access": False})
    expect_eq(status, 200, settings)


def test_error_body_carries_the_request_id():
    status, _, err = infer_json("id_batch", [{"name": "INPUT0", "shape": [1, 3],
                                              "datatype": "FP32", "data": [1, 2, 3]}],
                                id="my-failing-request")
    expect_eq(status, 400, err)
    expect_eq(err.get("id"), "my-failing-request", err)
    expect("expects shape" in err["error"], err)


def test_bad_input_table():
    fp32 = "/v2/models/id_fp32/infer"

    def one(name="INPUT0", datatype="FP32", shape=(1,), data=(1.0,)):
        return json.dumps({"inputs": [{"name": name, "datatype": datatype,
                                       "shape": list(shape), "data": list(data)}]})

    bin_head = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32",
                                       "shape": [2],
                                       "parameters": {"binary_data_size": 8}}]})
    cases = [
        # (label, method, path, body, headers, status, fragment)
        ("malformed json", "POST", fp32, "{\"inputs\": [", {}, 400, "malformed JSON"),
        ("not an object", "POST", fp32, "[]", {}, 400, "JSON object"),
        ("no inputs", "POST", fp32, "{}", {}, 400, "inputs"),
        ("unknown model", "POST", "/v2/models/no_such_model/infer", one(), {},
         404, "no_such_model"),
        ("unknown version", "POST", "/v2/models/id_fp32/versions/9/infer", one(),
         {}, 404, "id_fp32"),
        ("non-integer version", "POST", "/v2/models/id_fp32/versions/x/infer",
         one(), {}, 400, "non-negative integer"),
        ("unknown input", "POST", fp32, one(name="BOGUS"), {}, 400, "BOGUS"),
        ("missing input", "POST", "/v2/models/id_pair/infer",
         one(name="LEFT"), {}, 400, "RIGHT"),
        ("wrong datatype", "POST", fp32, one(datatype="INT32", data=[1]), {},
         400, "INT32"),
        ("data vs shape", "POST", fp32, one(shape=(3,), data=(1.0, 2.0)), {}, 400,
         "shape needs 3 elements but data has 2"),
        ("fp16 as json", "POST", "/v2/models/id_fp16/infer",
         one(datatype="FP16"), {}, 400, "binary"),
        ("uint8 out of range", "POST", "/v2/models/id_uint8/infer",
         one(datatype="UINT8", data=[256]), {}, 400, "out of range"),
        ("string in numbers", "POST", fp32, one(data=["x"]), {}, 400,
         "is a string"),
        ("element count overflow", "POST", fp32,
         one(shape=(9223372036854775807, 4)), {}, 400, "INPUT0"),
        ("binary size vs body", "POST", fp32, bin_head + "1234",
         {"Inference-Header-Content-Length": str(len(bin_head))}, 400,
         "binary_data_size is 8 but only 4 bytes"),
        ("header length past body", "POST", fp32, "{}",
         {"Inference-Header-Content-Length": "99"}, 400,
         "Inference-Header-Content-Length is 99"),
        ("header length not a number", "POST", fp32, "{}",
         {"Inference-Header-Content-Length": "abc"}, 400,
         "Inference-Header-Content-Length"),
        ("raw binary wrong size", "POST", "/v2/models/id_batch/infer", b"123",
         {"Inference-Header-Content-Length": "0"}, 400, "INPUT0"),
        ("wrong method", "GET", fp32, None, {}, 405, "POST"),
        ("unknown endpoint", "GET", "/v2/nothing", None, {}, 404, "no endpoint"),
        ("bad repository body", "POST", "/v2/repository/index", "{", {}, 400,
         "malformed JSON"),
    ]
    failures = []
    for label, method, path, body, headers, want, fragment in cases:
        status, _, data = call(method, path, body, headers)
        text = data.decode("utf-8", "replace")
        try:
            message = json.loads(data)["error"]
        except (ValueError, KeyError, TypeError):
            message = None
        if status != want or message is None or fragment not in message:
            failures.append(f"{label}: got {status} {text[:200]!r}, want {want} "
                            f"with {fragment!r}")

    # Limits, sent by hand: a body over the 64 MiB default (headers only,
    # the server must refuse before reading it) and an oversized header.
    status, data = raw_exchange(
        b"POST /v2/models/id_fp32/infer HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 70000000\r\n\r\n")
    if status != 413 or b"limit" not in data:
        failures.append(f"body too large: got {status} {data[:200]!r}")
    status, data = raw_exchange(
        b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Pad: "
        + b"p" * 70000 + b"\r\n\r\n")
    if status != 431:
        failures.append(f"header too large: got {status} {data[:200]!r}")
    expect(not failures, "\n".join(failures))
    # The server survived all of it.
    expect_eq(call("GET", "/v2/health/ready")[0], 200, "health after bad inputs")
    expect(S.alive(), "server exited")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_backs_off():
    """With its descriptors exhausted serval does not spin on accept or
    flood its log; open connections keep being served, and new ones are
    taken once descriptors are free again."""
    with serval_harness.ModelRepository() as repo:
        repo.add_identity_model("id", [("INPUT0", "TYPE_FP32", [4])])
        with serval_harness.Serval(ARGS.serval, ARGS.backends, [repo.path]) as s:
            pid = s.proc.pid
            kept = s.http_connection(timeout=10)
            kept.request("GET", "/v2/health/ready")
            assert kept.getresponse().read() is not None
            # Room for a few more descriptors, then none.
            limit = open_fds(pid) + 4
            subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={limit}:{limit}"],
                           check=True)
            clients = []
            for _ in range(40):
                c = socket.create_connection(("127.0.0.1", s.http_port), timeout=5)
                clients.append(c)
            time.sleep(0.5)
            before = cpu_seconds(pid)
            time.sleep(2.0)
            spent = cpu_seconds(pid) - before
            assert spent < 0.5, f"serval used {spent:.2f} s of CPU in 2 s while out of descriptors"
            log = s.log_text()
            assert log.count("accept failed") <= 3, log.count("accept failed")
            assert "ulimit -n" in log
            # The connection opened before is still served.
            kept.request("GET", "/v2/health/ready")
            assert kept.getresponse().status == 200
            for c in clients:
                c.close()
            kept.close()
            # Descriptors free again: a new client is served.
            deadline = time.monotonic() + 10
            while True:
                try:
                    status, _, _ = s.request("GET", "/v2/health/live", timeout=2)
                    if status == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "not served after descriptors freed"
                time.sleep(0.1)


def main():
    global S, ARGS
    args = serval_harness.parse_args()
    ARGS = args
    with serval_harness.ModelRepository() as repo:
        build_repository(repo)
        # Explicit control mode, so that the load/unload API is allowed.
        S = serval_harness.Serval(
            args.serval, args.backends, [repo.path],
            extra_args=["--model-control-mode", "explicit", "--load-model", "*"])
        S.start()
        try:
            code = serval_harness.run_tests([
                test_health, test_server_metadata, test_model_metadata,
                test_model_ready, test_model_config, test_statistics,
                test_repository_index, test_json_round_trip_every_type,
                test_nested_json_data, test_binary_round_trip_every_type,
                test_mixed_json_and_binary, test_requested_output_subset,
                test_raw_binary_request, test_versioned_infer_and_parameters,
                test_keep_alive_reuse, test_100_concurrent_connections,
                test_client_disconnect_mid_request, test_repository_unload_load,
                test_bad_input_table, test_logging_settings,
                test_error_body_carries_the_request_id, test_health,
                test_out_of_descriptors_backs_off,
            ], server=S)
        finally:
            rc = S.stop()
        if rc not in (0, None):
            print(f"serval exited with code {rc} after SIGTERM")
            S.print_log()
            code = code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
