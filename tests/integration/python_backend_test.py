"""The python backend end to end: models written against Triton's Python
backend API (`import triton_python_backend_utils as pb_utils`, class
TritonPythonModel) served by the real `serval serve`, each instance in its
own stub process. Covers Triton's add_sub and auto-complete example shapes,
dynamic batching of several requests into one execute(), BYTES as numpy
object arrays, errors per request and per batch, the Logger, a stub that
crashes or hangs (failed requests, then a fresh stub), initialize() raising
(reported at load with the traceback), finalize() on unload, and no stub
left behind after SIGTERM or SIGKILL of the server. Needs Debian's numpy.

Run: /usr/bin/python3 tests/integration/python_backend_test.py \
       --serval build/serval --backends build/backends
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = None
SERVER = None
REPO = None
MARKERS = tempfile.mkdtemp(prefix="serval-py-markers-")

ADD_SUB_CONFIG = """name: "{name}"
backend: "python"
{extra}
input [
  {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] }},
  {{ name: "INPUT1" data_type: TYPE_FP32 dims: [ 4 ] }}
]
output [
  {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] }},
  {{ name: "OUTPUT1" data_type: TYPE_FP32 dims: [ 4 ] }}
]
instance_group [ {{ count: {count} kind: KIND_CPU }} ]
"""

# The add_sub model as Triton's example writes it: dtypes from the config,
# one response per request.
ADD_SUB_MODEL = b'''
import json
import os
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        self.model_config = model_config = json.loads(args["model_config"])
        self.args = args
        out0 = pb_utils.get_output_config_by_name(model_config, "OUTPUT0")
        out1 = pb_utils.get_output_config_by_name(model_config, "OUTPUT1")
        self.output0_dtype = pb_utils.triton_string_to_numpy(out0["data_type"])
        self.output1_dtype = pb_utils.triton_string_to_numpy(out1["data_type"])

    def execute(self, requests):
        responses = []
        for request in requests:
            in_0 = pb_utils.get_input_tensor_by_name(request, "INPUT0")
            in_1 = pb_utils.get_input_tensor_by_name(request, "INPUT1")
            out_0 = in_0.as_numpy() + in_1.as_numpy()
            out_1 = in_0.as_numpy() - in_1.as_numpy()
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("OUTPUT0", out_0.astype(self.output0_dtype)),
                pb_utils.Tensor("OUTPUT1", out_1.astype(self.output1_dtype))]))
        pb_utils.Logger.log_info(f"add_sub executed {len(requests)} request(s) "
                                 f"in pid {os.getpid()}")
        return responses

    def finalize(self):
        marker = os.environ.get("MARKERS_DIR")
        if marker:
            open(os.path.join(marker, f"finalized-{os.getpid()}"), "w").close()
'''

# Triton's auto-complete example shape: no tensors in config.pbtxt.
AUTO_MODEL = b'''
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    @staticmethod
    def auto_complete_config(auto_complete_model_config):
        for name in ("INPUT0", "INPUT1"):
            auto_complete_model_config.add_input(
                {"name": name, "data_type": "TYPE_FP32", "dims": [4]})
        for name in ("OUTPUT0", "OUTPUT1"):
            auto_complete_model_config.add_output(
                {"name": name, "data_type": "TYPE_FP32", "dims": [4]})
        auto_complete_model_config.set_max_batch_size(4)
        auto_complete_model_config.set_dynamic_batching()
        return auto_complete_model_config

    def execute(self, requests):
        out = []
        for r in requests:
            a = pb_utils.get_input_tensor_by_name(r, "INPUT0").as_numpy()
            b = pb_utils.get_input_tensor_by_name(r, "INPUT1").as_numpy()
            out.append(pb_utils.InferenceResponse([
                pb_utils.Tensor("OUTPUT0", a + b), pb_utils.Tensor("OUTPUT1", a - b)]))
        return out
'''

# Strings in, strings out; a request can ask for an error of its own, or
# make the stub die, hang or raise.
STRINGS_MODEL = b'''
import os
import time
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            text = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy()
            first = text.reshape(-1)[0]
            if first == b"crash":
                os._exit(3)
            if first == b"hang":
                time.sleep(60)
            if first == b"raise":
                raise ValueError("the model refused this batch")
            if first == b"fail":
                responses.append(pb_utils.InferenceResponse(
                    error=pb_utils.TritonError("this request alone failed",
                                               pb_utils.TritonError.INVALID_ARG)))
                continue
            upper = np.array([s.upper() for s in text.reshape(-1)],
                             dtype=np.object_).reshape(text.shape)
            lengths = np.array([len(s) for s in text.reshape(-1)],
                               dtype=np.int32).reshape(text.shape)
            pb_utils.Logger.log_warn(f"request {request.request_id()} has {text.size} strings")
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("UPPER", upper), pb_utils.Tensor("LENGTH", lengths)]))
        return responses
'''

STRINGS_CONFIG = """name: "strings"
backend: "python"
max_batch_size: 8
dynamic_batching { max_queue_delay_microseconds: 20000 }
input [ { name: "TEXT" data_type: TYPE_STRING dims: [ -1 ] } ]
output [
  { name: "UPPER" data_type: TYPE_STRING dims: [ -1 ] },
  { name: "LENGTH" data_type: TYPE_INT32 dims: [ -1 ] }
]
parameters { key: "execute_timeout_ms" value { string_value: "1500" } }
"""

BROKEN_INIT_MODEL = b'''
class TritonPythonModel:
    def initialize(self, args):
        raise RuntimeError("no weights for " + args["model_name"])

    def execute(self, requests):
        return []
'''


def post(path, body, timeout=30):
    status, _, data = SERVER.request("POST", path, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"},
                                     timeout=timeout)
    return status, json.loads(data) if data else {}


def add_sub_request(a, b, batch=None, request_id=None):
    shape = [4] if batch is None else [batch, 4]
    body = {"inputs": [
        {"name": "INPUT0", "shape": shape, "datatype": "FP32", "data": a},
        {"name": "INPUT1", "shape": shape, "datatype": "FP32", "data": b}]}
    if request_id:
        body["id"] = request_id
    return body


def strings_request(texts, request_id=None):
    body = {"inputs": [{"name": "TEXT", "shape": [1, len(texts)],
                        "datatype": "BYTES", "data": texts}]}
    if request_id:
        body["id"] = request_id
    return body


def outputs(reply):
    return {o["name"]: o["data"] for o in reply["outputs"]}


def stub_pids(model_file_part, server=None):
    # With `server`, only its stubs: another serval on the machine may run
    # the same model.
    parent = ["-P", str(server.proc.pid)] if server else []
    out = subprocess.run(["pgrep", *parent, "-f",
                          f"serval_python_stub.py.*{model_file_part}"],
                         capture_output=True, text=True).stdout
    return sorted(int(p) for p in out.split())


class PythonModels(unittest.TestCase):
    def test_add_sub_answers_like_the_triton_example(self):
        status, reply = post("/v2/models/add_sub/infer",
                             add_sub_request([1, 2, 3, 4], [4, 3, 2, 1]))
        self.assertEqual(status, 200, reply)
        self.assertEqual(outputs(reply), {"OUTPUT0": [5, 5, 5, 5],
                                          "OUTPUT1": [-3, -1, 1, 3]})

    def test_initialize_receives_tritons_arguments(self):
        body = add_sub_request([0] * 4, [0] * 4, request_id="probe-1")
        body["parameters"] = {"color": "blue", "count": 3, "exact": True}
        status, reply = post("/v2/models/args_probe/infer", body)
        self.assertEqual(status, 200, reply)
        args = json.loads(bytes(outputs(reply)["ARGS"][0], "utf-8")
                          if isinstance(outputs(reply)["ARGS"][0], str)
                          else outputs(reply)["ARGS"][0])
        self.assertEqual(args["model_name"], "args_probe")
        self.assertEqual(args["model_version"], "1")
        self.assertEqual(args["model_instance_kind"], "CPU")
        self.assertEqual(args["model_instance_device_id"], "0")
        self.assertEqual(args["model_instance_name"], "args_probe_0")
        self.assertTrue(args["model_repository"].endswith("/args_probe"))
        self.assertEqual(json.loads(args["model_config"])["name"], "args_probe")
        # The request's own parameters and id reach the model.
        self.assertEqual(args["request_parameters"],
                         {"color": "blue", "count": 3, "exact": True})
        self.assertEqual(args["request_id"], "probe-1")

    def test_each_instance_is_a_process_of_its_own(self):
        pids = stub_pids("add_sub/1/model.py", SERVER)
        self.assertEqual(len(pids), 2, pids)

    def test_auto_complete_config_fills_the_config(self):
        status, _, body = SERVER.request("GET", "/v2/models/auto/config")
        self.assertEqual(status, 200)
        config = json.loads(body)
        self.assertEqual(config["max_batch_size"], 4)
        self.assertEqual([i["name"] for i in config["input"]], ["INPUT0", "INPUT1"])
        self.assertIn("dynamic_batching", config)
        status, reply = post("/v2/models/auto/infer",
                             add_sub_request([1] * 8, [2] * 8, batch=2))
        self.assertEqual(status, 200, reply)
        self.assertEqual(outputs(reply)["OUTPUT0"], [3] * 8)

    def test_strings_are_numpy_object_arrays(self):
        status, reply = post("/v2/models/strings/infer",
                             strings_request(["abc", "", "héllo"]))
        self.assertEqual(status, 200, reply)
        out = outputs(reply)
        self.assertEqual(out["UPPER"], ["ABC", "", "HéLLO"])
        self.assertEqual(out["LENGTH"], [3, 0, len("héllo".encode())])

    def test_requests_are_batched_into_one_execute(self):
        results = [None] * 6
        barrier = threading.Barrier(6)

        def one(i):
            barrier.wait()
            results[i] = post("/v2/models/strings/infer",
                              strings_request([f"r{i}"] * (i + 1)))
        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, (status, reply) in enumerate(results):
            self.assertEqual(status, 200, reply)
            self.assertEqual(outputs(reply)["UPPER"], [f"R{i}"] * (i + 1))
        _, _, body = SERVER.request("GET", "/v2/models/strings/stats")
        sizes = [b["batch_size"] for b in json.loads(body)["model_stats"][0]["batch_stats"]]
        self.assertTrue(any(s > 1 for s in sizes), sizes)

    def test_a_response_error_fails_only_its_request(self):
        results = {}
        barrier = threading.Barrier(2)

        def one(name, texts):
            barrier.wait()
            results[name] = post("/v2/models/strings/infer", strings_request(texts))
        threads = [threading.Thread(target=one, args=("bad", ["fail"])),
                   threading.Thread(target=one, args=("good", ["ok"]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        status, reply = results["bad"]
        self.assertEqual(status, 400, reply)
        self.assertIn("this request alone failed", reply["error"])
        status, reply = results["good"]
        self.assertEqual(status, 200, reply)
        self.assertEqual(outputs(reply)["UPPER"], ["OK"])

    def test_an_exception_fails_the_batch_with_its_message(self):
        status, reply = post("/v2/models/strings/infer", strings_request(["raise"]))
        self.assertEqual(status, 500, reply)
        self.assertIn("ValueError: the model refused this batch", reply["error"])
        self.assertIn("Traceback", SERVER.log_text())
        status, reply = post("/v2/models/strings/infer", strings_request(["after"]))
        self.assertEqual(status, 200, reply)

    def test_a_crashed_stub_fails_its_requests_and_is_restarted(self):
        before = stub_pids("strings/1/model.py")
        status, reply = post("/v2/models/strings/infer", strings_request(["crash"]))
        self.assertEqual(status, 503, reply)
        self.assertIn("exited with code 3", reply["error"])
        self.assertIn("a new stub will be started", reply["error"])
        status, reply = post("/v2/models/strings/infer", strings_request(["again"]))
        self.assertEqual(status, 200, reply)
        after = stub_pids("strings/1/model.py")
        self.assertEqual(len(after), 1)
        self.assertNotEqual(before, after)

    def test_a_hung_stub_is_killed_at_the_deadline(self):
        start = time.monotonic()
        status, reply = post("/v2/models/strings/infer", strings_request(["hang"]))
        elapsed = time.monotonic() - start
        self.assertEqual(status, 503, reply)
        self.assertIn("did not finish execute in time", reply["error"])
        self.assertLess(elapsed, 10)
        status, reply = post("/v2/models/strings/infer", strings_request(["alive"]))
        self.assertEqual(status, 200, reply)

    def test_the_logger_writes_to_the_server_log_with_the_request_id(self):
        status, _ = post("/v2/models/strings/infer",
                         strings_request(["log me"], request_id="req-42"))
        self.assertEqual(status, 200)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if "(request req-42): request req-42 has 1 strings" in SERVER.log_text():
                break
            time.sleep(0.05)
        self.assertIn("(request req-42): request req-42 has 1 strings",
                      SERVER.log_text())

    def test_a_failing_initialize_is_reported_with_its_traceback(self):
        status, _, body = SERVER.request("POST", "/v2/repository/index", b"{}")
        self.assertEqual(status, 200)
        entry = [m for m in json.loads(body) if m["name"] == "broken_init"][0]
        self.assertEqual(entry["state"], "UNAVAILABLE")
        self.assertIn("initialize() failed", entry["reason"])
        self.assertIn("RuntimeError: no weights for broken_init", entry["reason"])
        self.assertIn("Traceback", entry["reason"])


class Lifecycle(unittest.TestCase):
    def repo_with_add_sub(self):
        repo = serval_harness.ModelRepository()
        self.addCleanup(repo.close)
        repo.add_model("add_sub", ADD_SUB_CONFIG.format(name="add_sub", extra="", count=1),
                       files={"1/model.py": ADD_SUB_MODEL})
        return repo

    def server(self, repo, extra=()):
        env = dict(os.environ, MARKERS_DIR=MARKERS)
        server = serval_harness.Serval(ARGS.serval, ARGS.backends, [repo.path],
                                       extra_args=list(extra), env=env)
        server.start()
        return server

    def test_unload_runs_finalize_and_ends_the_stub(self):
        repo = self.repo_with_add_sub()
        server = self.server(repo, ["--model-control-mode", "explicit",
                                    "--load-model", "add_sub"])
        try:
            pid = stub_pids(os.path.join(repo.path, "add_sub"))
            self.assertEqual(len(pid), 1)
            status, _, body = server.request("POST", "/v2/repository/models/add_sub/unload", b"{}")
            self.assertEqual(status, 200, body)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and stub_pids(os.path.join(repo.path, "add_sub")):
                time.sleep(0.05)
            self.assertEqual(stub_pids(os.path.join(repo.path, "add_sub")), [])
            self.assertTrue(os.path.exists(os.path.join(MARKERS, f"finalized-{pid[0]}")))
        finally:
            server.stop()

    def test_no_stub_survives_sigterm_or_sigkill(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            repo = self.repo_with_add_sub()
            server = self.server(repo)
            pids = stub_pids(os.path.join(repo.path, "add_sub"))
            self.assertEqual(len(pids), 1)
            server.proc.send_signal(sig)
            server.proc.wait(timeout=20)
            server.stop()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and stub_pids(os.path.join(repo.path, "add_sub")):
                time.sleep(0.05)
            self.assertEqual(stub_pids(os.path.join(repo.path, "add_sub")), [],
                             f"a stub outlived the server after {sig.name}")
            if sig == signal.SIGTERM:
                self.assertTrue(os.path.exists(os.path.join(MARKERS, f"finalized-{pids[0]}")))

    def test_a_bad_execution_env_path_fails_the_load_clearly(self):
        repo = serval_harness.ModelRepository()
        self.addCleanup(repo.close)
        repo.add_model("elsewhere", ADD_SUB_CONFIG.format(
            name="elsewhere", count=1,
            extra='parameters { key: "EXECUTION_ENV_PATH" value { string_value: '
                  '"$$TRITON_MODEL_DIRECTORY/no-such-env" } }'),
            files={"1/model.py": ADD_SUB_MODEL})
        repo.add_model("debian", ADD_SUB_CONFIG.format(
            name="debian", count=1,
            extra='parameters { key: "EXECUTION_ENV_PATH" value { string_value: '
                  '"/usr/bin/python3" } }'),
            files={"1/model.py": ADD_SUB_MODEL})
        server = self.server(repo)
        try:
            _, _, body = server.request("POST", "/v2/repository/index", b"{}")
            index = {m["name"]: m for m in json.loads(body)}
            self.assertEqual(index["debian"]["state"], "READY")
            self.assertEqual(index["elsewhere"]["state"], "UNAVAILABLE")
            self.assertIn("is not an executable interpreter or an environment directory",
                          index["elsewhere"]["reason"])
        finally:
            server.stop()


# Triton's BLS examples' shape: the model's inputs go to other models of
# the server, synchronously (exec) or concurrently (async_exec).
BLS_SYNC_MODEL = b'''
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            in_0 = pb_utils.get_input_tensor_by_name(request, "INPUT0")
            in_1 = pb_utils.get_input_tensor_by_name(request, "INPUT1")
            name = pb_utils.get_input_tensor_by_name(request, "MODEL_NAME")
            model = name.as_numpy()[0].decode()
            infer_request = pb_utils.InferenceRequest(
                model_name=model, requested_output_names=["OUTPUT0", "OUTPUT1"],
                inputs=[in_0, in_1])
            infer_response = infer_request.exec()
            if infer_response.has_error():
                raise pb_utils.TritonModelException(infer_response.error().message())
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.get_output_tensor_by_name(infer_response, "OUTPUT0"),
                pb_utils.get_output_tensor_by_name(infer_response, "OUTPUT1")]))
        return responses
'''

BLS_ASYNC_MODEL = b'''
import asyncio
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    async def execute(self, requests):
        responses = []
        for request in requests:
            in_0 = pb_utils.get_input_tensor_by_name(request, "INPUT0")
            in_1 = pb_utils.get_input_tensor_by_name(request, "INPUT1")
            awaits = [pb_utils.InferenceRequest(
                model_name=m, requested_output_names=["OUTPUT0", "OUTPUT1"],
                inputs=[in_0, in_1]).async_exec() for m in ("add_sub", "add_sub")]
            results = await asyncio.gather(*awaits)
            for r in results:
                if r.has_error():
                    raise pb_utils.TritonModelException(r.error().message())
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.get_output_tensor_by_name(results[0], "OUTPUT0"),
                pb_utils.get_output_tensor_by_name(results[1], "OUTPUT1")]))
        return responses
'''

BLS_CONFIG = """name: "{name}"
backend: "python"
input [
  {{ name: "MODEL_NAME" data_type: TYPE_STRING dims: [ 1 ] }},
  {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] }},
  {{ name: "INPUT1" data_type: TYPE_FP32 dims: [ 4 ] }}
]
output [
  {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] }},
  {{ name: "OUTPUT1" data_type: TYPE_FP32 dims: [ 4 ] }}
]
"""


class Bls(unittest.TestCase):
    def bls_request(self, model):
        body = add_sub_request([1, 2, 3, 4], [1, 1, 1, 1])
        body["inputs"].insert(0, {"name": "MODEL_NAME", "shape": [1],
                                  "datatype": "BYTES", "data": [model]})
        return body

    def test_exec_calls_another_model(self):
        status, reply = post("/v2/models/bls_sync/infer", self.bls_request("add_sub"))
        self.assertEqual(status, 200, reply)
        self.assertEqual(outputs(reply), {"OUTPUT0": [2, 3, 4, 5],
                                          "OUTPUT1": [0, 1, 2, 3]})

    def test_an_error_of_the_called_model_reaches_the_caller(self):
        status, reply = post("/v2/models/bls_sync/infer", self.bls_request("no_such_model"))
        self.assertEqual(status, 500, reply)
        self.assertIn("no_such_model", reply["error"])

    def test_async_exec_runs_calls_concurrently(self):
        body = add_sub_request([1, 2, 3, 4], [1, 1, 1, 1])
        status, reply = post("/v2/models/bls_async/infer", body)
        self.assertEqual(status, 200, reply)
        self.assertEqual(outputs(reply), {"OUTPUT0": [2, 3, 4, 5],
                                          "OUTPUT1": [0, 1, 2, 3]})


ARGS_PROBE_MODEL = b'''
import json
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        self.args = args

    def execute(self, requests):
        out = []
        for r in requests:
            seen = dict(self.args, request_parameters=json.loads(r.parameters()),
                        request_id=r.request_id())
            blob = np.array([json.dumps(seen).encode()], dtype=np.object_)
            out.append(pb_utils.InferenceResponse([pb_utils.Tensor("ARGS", blob)]))
        return out
'''

ARGS_PROBE_CONFIG = """name: "args_probe"
backend: "python"
input [
  { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] },
  { name: "INPUT1" data_type: TYPE_FP32 dims: [ 4 ] }
]
output [ { name: "ARGS" data_type: TYPE_STRING dims: [ 1 ] } ]
"""


def setUpModule():
    global SERVER, REPO
    REPO = serval_harness.ModelRepository()
    REPO.add_model("add_sub", ADD_SUB_CONFIG.format(name="add_sub", extra="", count=2),
                   files={"1/model.py": ADD_SUB_MODEL})
    REPO.add_model("auto", 'name: "auto"\nbackend: "python"\n',
                   files={"1/model.py": AUTO_MODEL})
    REPO.add_model("strings", STRINGS_CONFIG, files={"1/model.py": STRINGS_MODEL})
    REPO.add_model("args_probe", ARGS_PROBE_CONFIG,
                   files={"1/model.py": ARGS_PROBE_MODEL})
    REPO.add_model("bls_sync", BLS_CONFIG.format(name="bls_sync"),
                   files={"1/model.py": BLS_SYNC_MODEL})
    REPO.add_model("bls_async", ADD_SUB_CONFIG.format(name="bls_async", extra="", count=1),
                   files={"1/model.py": BLS_ASYNC_MODEL})
    REPO.add_model("broken_init", ADD_SUB_CONFIG.format(
        name="broken_init", extra="", count=1),
        files={"1/model.py": BROKEN_INIT_MODEL})
    SERVER = serval_harness.Serval(ARGS.serval, ARGS.backends, [REPO.path],
                                   env=dict(os.environ, MARKERS_DIR=MARKERS))
    SERVER.start()


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()
    if REPO is not None:
        REPO.close()


if __name__ == "__main__":
    ARGS = serval_harness.parse_args()
    sys.exit(serval_harness.unittest_main(lambda: [SERVER]))
