"""Ensembles, end to end: Triton's ensemble configs served by the real
`serval serve`.

Covers what a user of a pipeline meets: results through chained and
parallel steps, metadata/config/index/statistics as Triton shows them, every
load-time problem reported at once, a failing step named in the error, the
request's timeout reaching later steps, the bound on requests in flight,
step models loaded with their ensemble (explicit mode) and unloaded with
unload_dependents, readiness following the steps, and a step model reloaded
under load with no failed request.

Over HTTP and gRPC; needs Debian's numpy and grpcio.

Run: /usr/bin/python3 tests/integration/ensemble_test.py \
       --serval build/serval --backends build/backends
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "models")
ARGS = None
SERVER = None
_DIRS = []
SLOW_US = 200000


def http_json(server, method, path, body=None):
    payload = json.dumps(body).encode() if body is not None else None
    status, _, data = server.request(method, path, body=payload)
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, data


def infer(server, model, inputs, parameters=None, outputs=None):
    """inputs: (name, datatype, shape, values). Returns (status, doc,
    {output name: numpy array})."""
    doc = {"inputs": [{"name": n, "datatype": t, "shape": list(s),
                       "data": np.asarray(v).flatten().tolist()}
                      for n, t, s, v in inputs]}
    if parameters:
        doc["parameters"] = parameters
    if outputs:
        doc["outputs"] = [{"name": o} for o in outputs]
    status, reply = http_json(server, "POST", f"/v2/models/{model}/infer", doc)
    arrays = {}
    if status == 200:
        for o in reply["outputs"]:
            arrays[o["name"]] = np.array(o["data"]).reshape(o["shape"])
    return status, reply, arrays


def chain_inputs(batch=1):
    a = np.arange(16 * batch, dtype=np.int32).reshape(batch, 16)
    b = np.full((batch, 16), 3, dtype=np.int32)
    return a, b, [("INPUT0", "INT32", a.shape, a), ("INPUT1", "INT32", b.shape, b)]


def ensemble_config(name, inputs, outputs, steps, max_batch_size=8,
                    extra=""):
    """inputs/outputs: (name, TYPE, dims); steps: (model, {in: tensor},
    {out: tensor})."""
    def tensors(kind, items):
        return "%s [ %s ]" % (kind, ", ".join(
            '{ name: "%s" data_type: %s dims: [ %s ] }'
            % (n, t, ", ".join(str(d) for d in dims)) for n, t, dims in items))

    def step(model, ins, outs):
        maps = ["input_map { key: \"%s\" value: \"%s\" }" % kv
                for kv in ins.items()]
        maps += ["output_map { key: \"%s\" value: \"%s\" }" % kv
                 for kv in outs.items()]
        return '{ model_name: "%s" model_version: -1 %s }' % (model,
                                                                " ".join(maps))

    return "\n".join([
        f'name: "{name}"', 'platform: "ensemble"',
        f"max_batch_size: {max_batch_size}",
        tensors("input", inputs), tensors("output", outputs),
        "ensemble_scheduling { %s step [ %s ] }" % (
            extra, ", ".join(step(*s) for s in steps)), ""])


def identity_config(name, dims, delay_us=None, instances=1):
    lines = [f'name: "{name}"', 'backend: "identity"', "max_batch_size: 8",
             'input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ %s ] } ]'
             % ", ".join(map(str, dims)),
             'output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ %s ] } ]'
             % ", ".join(map(str, dims)),
             "instance_group [ { count: %d kind: KIND_CPU } ]" % instances]
    if delay_us:
        lines.append('parameters { key: "delay_us" value { string_value: '
                     '"%d" } }' % delay_us)
    return "\n".join(lines) + "\n"


def build_repository():
    repo = serval_harness.ModelRepository()
    _DIRS.append(repo.path)
    for m in ("simple", "simple_chain"):
        os.symlink(os.path.join(EXAMPLES, m), os.path.join(repo.path, m))
    i32 = "TYPE_INT32"
    repo.add_model("slow", identity_config("slow", [16], SLOW_US, instances=4))
    repo.add_model("var_id", identity_config("var_id", [-1]))
    # Two independent branches joined by simple: OUTPUT0 = 2 * INPUT0.
    repo.add_model("diamond", ensemble_config(
        "diamond", [("INPUT0", i32, [16])], [("OUTPUT0", i32, [16])],
        [("var_id", {"INPUT0": "INPUT0"}, {"OUTPUT0": "left"}),
         ("var_id", {"INPUT0": "INPUT0"}, {"OUTPUT0": "right"}),
         ("simple", {"INPUT0": "left", "INPUT1": "right"},
          {"OUTPUT0": "OUTPUT0"})]))
    # Loads (variable dims agree with [16]); a request of 8 elements fails
    # in step 1.
    repo.add_model("shape_fail", ensemble_config(
        "shape_fail", [("INPUT0", i32, [-1])], [("OUTPUT0", i32, [16])],
        [("var_id", {"INPUT0": "INPUT0"}, {"OUTPUT0": "mid"}),
         ("simple", {"INPUT0": "mid", "INPUT1": "mid"},
          {"OUTPUT0": "OUTPUT0"})]))
    repo.add_model("slow_twice", ensemble_config(
        "slow_twice", [("INPUT0", i32, [16])], [("OUTPUT0", i32, [16])],
        [("slow", {"INPUT0": "INPUT0"}, {"OUTPUT0": "mid"}),
         ("slow", {"INPUT0": "mid"}, {"OUTPUT0": "OUTPUT0"})]))
    repo.add_model("bounded", ensemble_config(
        "bounded", [("INPUT0", i32, [16])], [("OUTPUT0", i32, [16])],
        [("slow", {"INPUT0": "INPUT0"}, {"OUTPUT0": "OUTPUT0"})],
        extra="max_inflight_requests: 2"))
    repo.add_model("broken", ensemble_config(
        "broken", [("INPUT0", i32, [16]), ("UNUSED", i32, [16])],
        [("OUTPUT0", "TYPE_FP32", [16])],
        [("simple", {"INPUT0": "INPUT0", "INPUT1": "ghost"},
          {"OUTPUT0": "OUTPUT0"})]))
    return repo.path


def ensure_examples():
    if all(os.path.exists(os.path.join(EXAMPLES, m, "config.pbtxt"))
           for m in ("simple", "simple_chain")):
        return True
    script = os.path.join(ROOT, "scripts", "make_repository.sh")
    return subprocess.run(["bash", script]).returncode == 0


def setUpModule():
    global SERVER
    if not ensure_examples():
        raise unittest.SkipTest("examples/models could not be generated")
    SERVER = serval_harness.Serval(ARGS.serval, ARGS.backends,
                                   [build_repository()])
    SERVER.start()


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()
    for d in _DIRS:
        shutil.rmtree(d, ignore_errors=True)


def stats(server, model):
    status, doc = http_json(server, "GET", f"/v2/models/{model}/stats")
    assert status == 200, doc
    return doc["model_stats"][0]["inference_stats"]


class Serving(unittest.TestCase):
    def test_a_chain_of_two_steps(self):
        for batch in (1, 3):
            a, b, inputs = chain_inputs(batch)
            status, doc, out = infer(SERVER, "simple_chain", inputs)
            self.assertEqual(status, 200, doc)
            self.assertEqual(doc["model_name"], "simple_chain")
            np.testing.assert_array_equal(out["OUTPUT0"], 2 * a)
            np.testing.assert_array_equal(out["OUTPUT1"], 2 * b)
        # Only what was asked for.
        status, doc, out = infer(SERVER, "simple_chain", inputs,
                                 outputs=["OUTPUT1"])
        self.assertEqual(status, 200, doc)
        self.assertEqual(list(out), ["OUTPUT1"])

    def test_over_grpc(self):
        import grpc
        import grpc_support
        stubs = tempfile.mkdtemp(prefix="serval-stubs-")
        _DIRS.append(stubs)
        pb, pb_grpc, _, _ = grpc_support.generate_stubs(stubs)
        a, b, _ = chain_inputs(2)
        req = pb.ModelInferRequest(model_name="simple_chain", id="grpc-7")
        for name, array in (("INPUT0", a), ("INPUT1", b)):
            t = req.inputs.add(name=name, datatype="INT32")
            t.shape.extend(array.shape)
            req.raw_input_contents.append(array.tobytes())
        with grpc.insecure_channel(f"127.0.0.1:{SERVER.grpc_port}") as channel:
            resp = pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(req)
        self.assertEqual(resp.id, "grpc-7")
        outputs = {o.name: np.frombuffer(raw, dtype=np.int32).reshape(2, 16)
                   for o, raw in zip(resp.outputs, resp.raw_output_contents)}
        np.testing.assert_array_equal(outputs["OUTPUT0"], 2 * a)
        np.testing.assert_array_equal(outputs["OUTPUT1"], 2 * b)

    def test_parallel_branches_join(self):
        a = np.arange(16, dtype=np.int32).reshape(1, 16)
        status, doc, out = infer(SERVER, "diamond",
                                 [("INPUT0", "INT32", a.shape, a)])
        self.assertEqual(status, 200, doc)
        np.testing.assert_array_equal(out["OUTPUT0"], 2 * a)

    def test_concurrent_requests_all_answer(self):
        failures = []

        def client(seed):
            for _ in range(10):
                a = np.full((1, 16), seed, dtype=np.int32)
                status, doc, out = infer(
                    SERVER, "simple_chain",
                    [("INPUT0", "INT32", a.shape, a),
                     ("INPUT1", "INT32", a.shape, a)])
                if status != 200 or not (out["OUTPUT0"] == 2 * a).all():
                    failures.append((status, doc))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])

    def test_metadata_config_and_index(self):
        status, meta = http_json(SERVER, "GET", "/v2/models/simple_chain")
        self.assertEqual(status, 200, meta)
        self.assertEqual(meta["platform"], "ensemble")
        self.assertEqual([i["name"] for i in meta["inputs"]],
                         ["INPUT0", "INPUT1"])
        self.assertEqual(meta["outputs"][0]["shape"], [-1, 16])
        status, config = http_json(SERVER, "GET",
                                   "/v2/models/simple_chain/config")
        self.assertEqual(status, 200, config)
        self.assertEqual(config["platform"], "ensemble")
        steps = config["ensemble_scheduling"]["step"]
        self.assertEqual([s["model_name"] for s in steps], ["simple", "simple"])
        self.assertEqual(steps[0]["output_map"]["OUTPUT0"], "sum")
        self.assertEqual(config["instance_group"], [])
        status, index = http_json(SERVER, "POST", "/v2/repository/index", {})
        states = {m["name"]: m.get("state") for m in index}
        self.assertEqual(states["simple_chain"], "READY")
        status, ready = http_json(SERVER, "GET",
                                  "/v2/models/simple_chain/ready")
        self.assertEqual(status, 200)

    def test_statistics_for_the_ensemble_and_its_steps(self):
        before_e = stats(SERVER, "simple_chain")["success"]["count"]
        before_s = stats(SERVER, "simple")["success"]["count"]
        _, _, inputs = chain_inputs()
        for _ in range(3):
            self.assertEqual(infer(SERVER, "simple_chain", inputs)[0], 200)
        self.assertEqual(stats(SERVER, "simple_chain")["success"]["count"],
                         before_e + 3)
        self.assertEqual(stats(SERVER, "simple")["success"]["count"],
                         before_s + 6)
        conn = http.client.HTTPConnection("127.0.0.1", SERVER.metrics_port,
                                          timeout=10)
        try:
            conn.request("GET", "/metrics")
            metrics = conn.getresponse().read().decode()
        finally:
            conn.close()
        self.assertIn('model="simple_chain"', metrics)
        self.assertIn('model="simple"', metrics)

    def test_every_load_problem_at_once(self):
        status, index = http_json(SERVER, "POST", "/v2/repository/index", {})
        broken = [m for m in index if m["name"] == "broken"]
        self.assertEqual(len(broken), 1, index)
        reason = broken[0]["reason"]
        for text in ["step 0 (model 'simple'): input 'INPUT1' reads tensor "
                     "'ghost', which is neither an ensemble input nor an "
                     "output of any step",
                     "ensemble input 'UNUSED' is not read by any step's "
                     "input_map",
                     "ensemble output 'OUTPUT0' is FP32 but step 0 (model "
                     "'simple') output 'OUTPUT0' is INT32"]:
            self.assertIn(text, reason)
        status, doc, _ = infer(SERVER, "broken", [])
        self.assertNotEqual(status, 200)

    def test_a_failing_step_is_named(self):
        a = np.arange(8, dtype=np.int32).reshape(1, 8)
        status, doc, _ = infer(SERVER, "shape_fail",
                               [("INPUT0", "INT32", a.shape, a)])
        self.assertEqual(status, 400, doc)
        self.assertIn("ensemble 'shape_fail' step 1 (model 'simple') failed:",
                      doc["error"])

    def test_the_timeout_reaches_later_steps(self):
        a = np.zeros((1, 16), dtype=np.int32)
        status, doc, _ = infer(SERVER, "slow_twice",
                               [("INPUT0", "INT32", a.shape, a)],
                               parameters={"timeout": SLOW_US * 3 // 2})
        # Enough for step 0, not for step 1: refused there (the step's
        # scheduler sees the deadline cannot be met) or dropped before it.
        self.assertIn(status, (503, 504), doc)
        self.assertIn("step 1 (model 'slow')", doc["error"])

    def test_requests_in_flight_are_bounded(self):
        # 6 requests at once, at most 2 in flight: 4 wait in the ensemble's
        # queue (at least one step's time each), none in the step model's
        # (4 instances, never more than 2 busy).
        before_e = stats(SERVER, "bounded")["queue"]
        before_s = stats(SERVER, "slow")["queue"]
        a = np.zeros((1, 16), dtype=np.int32)
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            infer(SERVER, "bounded", [("INPUT0", "INT32", a.shape, a)])[0]))
            for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 6)
        e = stats(SERVER, "bounded")["queue"]
        s = stats(SERVER, "slow")["queue"]
        ensemble_wait = e["ns"] - before_e["ns"]
        step_wait = s["ns"] - before_s["ns"]
        self.assertGreaterEqual(ensemble_wait, 4 * SLOW_US * 1000 * 0.9)
        self.assertLess(step_wait, SLOW_US * 1000)


class ExplicitMode(unittest.TestCase):
    """Loading an ensemble loads its step models; readiness follows them."""

    def setUp(self):
        self.server = serval_harness.Serval(
            ARGS.serval, ARGS.backends, [build_repository()],
            extra_args=["--model-control-mode", "explicit",
                        "--load-model", "simple_chain"])
        self.server.start()

    def tearDown(self):
        self.server.stop()

    def ready(self, model):
        return self.server.request("GET", f"/v2/models/{model}/ready")[0] == 200

    def load(self, model):
        return http_json(self.server, "POST",
                         f"/v2/repository/models/{model}/load", {})

    def unload(self, model, dependents=False):
        body = {"parameters": {"unload_dependents": dependents}}
        return http_json(self.server, "POST",
                         f"/v2/repository/models/{model}/unload", body)

    def test_steps_load_with_their_ensemble(self):
        self.assertTrue(self.ready("simple"))
        self.assertTrue(self.ready("simple_chain"))
        self.assertEqual(self.unload("simple")[0], 200)
        self.assertFalse(self.ready("simple_chain"))
        _, _, inputs = chain_inputs()
        status, doc, _ = infer(self.server, "simple_chain", inputs)
        self.assertEqual(status, 404, doc)
        self.assertIn("step 0 (model 'simple') failed", doc["error"])
        # Loading the ensemble again brings its step model back.
        self.assertEqual(self.load("simple_chain")[0], 200)
        self.assertTrue(self.ready("simple"))
        self.assertTrue(self.ready("simple_chain"))
        # unload_dependents takes the step models with it.
        self.assertEqual(self.unload("simple_chain", dependents=True)[0], 200)
        self.assertFalse(self.ready("simple_chain"))
        self.assertFalse(self.ready("simple"))
        # A later step model load leaves the ensemble unloaded.
        self.assertEqual(self.load("simple")[0], 200)
        self.assertFalse(self.ready("simple_chain"))

    def test_a_step_model_reloads_under_load_without_a_failure(self):
        stop = threading.Event()
        results = {"ok": 0, "failed": []}
        lock = threading.Lock()

        def client():
            _, _, inputs = chain_inputs()
            while not stop.is_set():
                status, doc, _ = infer(self.server, "simple_chain", inputs)
                with lock:
                    if status == 200:
                        results["ok"] += 1
                    else:
                        results["failed"].append((status, doc))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for _ in range(4):
                time.sleep(0.3)
                status, doc = self.load("simple")
                self.assertEqual(status, 200, doc)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(results["failed"], [])
        self.assertGreater(results["ok"], 20)


if __name__ == "__main__":
    ARGS = serval_harness.parse_args()
    sys.exit(serval_harness.unittest_main(lambda: [SERVER]))
