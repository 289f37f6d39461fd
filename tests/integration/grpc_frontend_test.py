"""End-to-end tests of the gRPC frontend: the real `serval serve`
with identity models, driven by a Python client whose stubs are generated
from serval's own proto at test time.

Run: /usr/bin/python3 tests/integration/grpc_frontend_test.py \
       --serval build/serval --backends build/backends [unittest args]
"""

import os
import queue
import struct
import sys
import time
import unittest

import grpc
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grpc_support  # noqa: E402

pb = pb_grpc = health_pb = health_grpc = None
SERVER = None
_DIRS = []

NUMPY_TYPES = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16,
    "UINT32": np.uint32, "UINT64": np.uint64, "INT8": np.int8,
    "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
    # numpy has no bfloat16: the test sends and compares the raw bits.
    "BF16": np.uint16,
}
TYPED_FIELD = {
    "BOOL": "bool_contents", "UINT8": "uint_contents",
    "UINT16": "uint_contents", "UINT32": "uint_contents",
    "UINT64": "uint64_contents", "INT8": "int_contents",
    "INT16": "int_contents", "INT32": "int_contents",
    "INT64": "int64_contents", "FP32": "fp32_contents",
    "FP64": "fp64_contents", "BYTES": "bytes_contents",
}
ALL_TYPES = list(NUMPY_TYPES) + ["BYTES"]
BYTES_VALUES = [b"", b"a", b"\x00\xff\x01", "h\u00e9llo".encode(), b"x" * 1000,
                b"end"]
DELAY_US = 1000000


def model_for(datatype):
    return "identity_" + datatype.lower()


def sample(datatype):
    """A [2,3] tensor with the extremes of its type."""
    if datatype == "BYTES":
        return BYTES_VALUES
    t = NUMPY_TYPES[datatype]
    if datatype == "BOOL":
        return np.array([[True, False, True], [False, False, True]])
    if datatype == "BF16":
        return np.array([[0x3F80, 0xC000, 0x7F7F], [0x0001, 0x8000, 0x4049]],
                        dtype=t)
    if np.issubdtype(t, np.integer):
        info = np.iinfo(t)
        return np.array([[info.min, info.max, 0], [1, 2, info.max - 1]],
                        dtype=t)
    return np.array([[0.5, -1.25, 3.0], [np.finfo(t).max, np.finfo(t).tiny,
                                          -0.0]], dtype=t)


def raw_bytes(datatype, data):
    if datatype == "BYTES":
        return b"".join(struct.pack("<I", len(e)) + e for e in data)
    return np.ascontiguousarray(data).tobytes()


def infer_request(model, datatype, shape, raw=None, request_id=""):
    req = pb.ModelInferRequest(model_name=model, id=request_id)
    req.inputs.add(name="INPUT0", datatype=datatype, shape=shape)
    if raw is not None:
        req.raw_input_contents.append(raw)
    return req


def fp32_request(request_id="", values=(1, 2, 3, 4, 5, 6)):
    return infer_request("identity_fp32", "FP32", [2, 3],
                         np.array(values, dtype=np.float32).tobytes(),
                         request_id)


def stats_of(stub, model):
    resp = stub.ModelStatistics(pb.ModelStatisticsRequest(name=model))
    return resp.model_stats[0]


def setUpModule():
    global pb, pb_grpc, health_pb, health_grpc, SERVER
    stub_dir = grpc_support.temp_dir("serval_grpc_stubs_")
    repo_dir = grpc_support.temp_dir("serval_grpc_repo_")
    _DIRS.extend([stub_dir, repo_dir])
    pb, pb_grpc, health_pb, health_grpc = grpc_support.generate_stubs(
        stub_dir.name)
    root = repo_dir.name
    for datatype in ALL_TYPES:
        grpc_support.write_identity_model(root, model_for(datatype),
                                          [(datatype, [-1, -1])])
    grpc_support.write_identity_model(root, "identity_pair",
                                      [("FP32", [-1]), ("INT32", [-1])])
    grpc_support.write_identity_model(
        root, "identity_delay", [("FP32", [-1])],
        parameters={"delay_us": DELAY_US},
        extra="instance_group [ { count: 1 kind: KIND_CPU } ]")
    SERVER = grpc_support.ServalProcess(
        root, ["--model-control-mode", "explicit", "--load-model", "*"])
    SERVER.start()


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()
    for d in _DIRS:
        d.cleanup()


class GrpcTestCase(unittest.TestCase):
    def setUp(self):
        self.channel = grpc.insecure_channel(
            SERVER.grpc_target,
            options=[("grpc.max_send_message_length", -1),
                     ("grpc.max_receive_message_length", -1)])
        self.stub = pb_grpc.GRPCInferenceServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def assertRpcError(self, call, code, fragment=""):
        with self.assertRaises(grpc.RpcError) as ctx:
            call()
        self.assertEqual(ctx.exception.code(), code, ctx.exception.details())
        self.assertIn(fragment, ctx.exception.details())
        return ctx.exception


class ServerRpcTest(GrpcTestCase):
    def test_live_ready_metadata(self):
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)
        self.assertTrue(self.stub.ServerReady(pb.ServerReadyRequest()).ready)
        meta = self.stub.ServerMetadata(pb.ServerMetadataRequest())
        self.assertTrue(meta.name)
        self.assertTrue(meta.version)

    def test_health_service(self):
        health = health_grpc.HealthStub(self.channel)
        serving = health_pb.HealthCheckResponse.SERVING
        for service in ("", "inference.GRPCInferenceService"):
            resp = health.Check(health_pb.HealthCheckRequest(service=service))
            self.assertEqual(resp.status, serving, service)
        self.assertRpcError(
            lambda: health.Check(health_pb.HealthCheckRequest(service="nope")),
            grpc.StatusCode.NOT_FOUND)

    def test_model_ready_and_metadata(self):
        ready = self.stub.ModelReady(pb.ModelReadyRequest(name="identity_fp32"))
        self.assertTrue(ready.ready)
        meta = self.stub.ModelMetadata(
            pb.ModelMetadataRequest(name="identity_pair", version="1"))
        self.assertEqual(meta.name, "identity_pair")
        self.assertIn("1", meta.versions)
        self.assertEqual([(t.name, t.datatype, list(t.shape))
                          for t in meta.inputs],
                         [("INPUT0", "FP32", [-1]), ("INPUT1", "INT32", [-1])])
        self.assertEqual([t.name for t in meta.outputs],
                         ["OUTPUT0", "OUTPUT1"])
        self.assertRpcError(
            lambda: self.stub.ModelMetadata(pb.ModelMetadataRequest(name="nope")),
            grpc.StatusCode.NOT_FOUND, "nope")
        self.assertRpcError(
            lambda: self.stub.ModelReady(
                pb.ModelReadyRequest(name="identity_fp32", version="x")),
            grpc.StatusCode.INVALID_ARGUMENT, "'x'")

    def test_model_config(self):
        resp = self.stub.ModelConfig(pb.ModelConfigRequest(name="identity_pair"))
        self.assertEqual(resp.config.name, "identity_pair")
        self.assertEqual([i.name for i in resp.config.input],
                         ["INPUT0", "INPUT1"])
        self.assertRpcError(
            lambda: self.stub.ModelConfig(pb.ModelConfigRequest(name="nope")),
            grpc.StatusCode.NOT_FOUND, "nope")

    def test_statistics_count_inferences(self):
        before = stats_of(self.stub, "identity_int64").inference_stats
        self.stub.ModelInfer(infer_request(
            "identity_int64", "INT64", [1, 1],
            np.array([7], dtype=np.int64).tobytes()))
        after = stats_of(self.stub, "identity_int64")
        self.assertEqual(after.name, "identity_int64")
        self.assertEqual(after.inference_stats.success.count,
                         before.success.count + 1)
        self.assertGreater(after.last_inference, 0)
        everything = self.stub.ModelStatistics(pb.ModelStatisticsRequest())
        self.assertGreaterEqual(len(everything.model_stats), len(ALL_TYPES))

    def test_repository_index(self):
        index = self.stub.RepositoryIndex(pb.RepositoryIndexRequest())
        rows = {m.name: m for m in index.models}
        self.assertEqual(rows["identity_uint8"].state, "READY")
        self.assertEqual(rows["identity_uint8"].version, "1")
        ready_only = self.stub.RepositoryIndex(
            pb.RepositoryIndexRequest(ready=True))
        self.assertIn("identity_uint8", [m.name for m in ready_only.models])

    def test_repository_parameters_are_checked(self):
        bad = pb.RepositoryModelLoadRequest(model_name="identity_uint8")
        bad.parameters["config"].int64_param = 3
        self.assertRpcError(lambda: self.stub.RepositoryModelLoad(bad),
                            grpc.StatusCode.INVALID_ARGUMENT, "config")
        bad = pb.RepositoryModelUnloadRequest(model_name="identity_uint8")
        bad.parameters["unload_dependents"].string_param = "yes"
        self.assertRpcError(lambda: self.stub.RepositoryModelUnload(bad),
                            grpc.StatusCode.INVALID_ARGUMENT,
                            "unload_dependents")
        self.assertRpcError(
            lambda: self.stub.RepositoryModelLoad(
                pb.RepositoryModelLoadRequest()),
            grpc.StatusCode.INVALID_ARGUMENT, "model_name")

    def test_unload_then_load(self):
        # The server runs in explicit control mode, so this must work.
        self.stub.RepositoryModelUnload(
            pb.RepositoryModelUnloadRequest(model_name="identity_uint16"))
        self.assertTrue(self._wait_ready("identity_uint16", False))
        ready_only = self.stub.RepositoryIndex(
            pb.RepositoryIndexRequest(ready=True))
        self.assertNotIn("identity_uint16",
                         [m.name for m in ready_only.models])
        self.stub.RepositoryModelLoad(
            pb.RepositoryModelLoadRequest(model_name="identity_uint16"))
        self.assertTrue(self._wait_ready("identity_uint16", True))
        with self.assertRaises(grpc.RpcError):
            self.stub.RepositoryModelLoad(
                pb.RepositoryModelLoadRequest(model_name="no_such_model"))

    def _wait_ready(self, name, wanted, seconds=10):
        deadline = time.monotonic() + seconds
        while self._model_ready(name) != wanted:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _model_ready(self, name):
        try:
            return self.stub.ModelReady(pb.ModelReadyRequest(name=name)).ready
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise


class InferTest(GrpcTestCase):
    def check_echo(self, datatype, data, resp):
        self.assertEqual(len(resp.outputs), 1)
        out = resp.outputs[0]
        self.assertEqual((out.name, out.datatype, list(out.shape)),
                         ("OUTPUT0", datatype, [2, 3]))
        self.assertEqual(resp.raw_output_contents[0], raw_bytes(datatype, data))

    def test_every_datatype_raw(self):
        for datatype in ALL_TYPES:
            with self.subTest(datatype=datatype):
                data = sample(datatype)
                resp = self.stub.ModelInfer(infer_request(
                    model_for(datatype), datatype, [2, 3],
                    raw_bytes(datatype, data), "raw-" + datatype))
                self.assertEqual(resp.id, "raw-" + datatype)
                self.assertEqual(resp.model_name, model_for(datatype))
                self.assertEqual(resp.model_version, "1")
                self.check_echo(datatype, data, resp)

    def test_every_datatype_typed(self):
        for datatype, field in TYPED_FIELD.items():
            with self.subTest(datatype=datatype):
                data = sample(datatype)
                req = infer_request(model_for(datatype), datatype, [2, 3])
                values = (data if datatype == "BYTES"
                          else np.asarray(data).flatten().tolist())
                getattr(req.inputs[0].contents, field).extend(values)
                self.check_echo(datatype, data, self.stub.ModelInfer(req))

    def test_half_types_have_no_typed_contents(self):
        for datatype in ("FP16", "BF16"):
            req = infer_request(model_for(datatype), datatype, [2, 3])
            req.inputs[0].contents.fp32_contents.extend([1.0] * 6)
            self.assertRpcError(lambda: self.stub.ModelInfer(req),
                                grpc.StatusCode.INVALID_ARGUMENT,
                                "raw_input_contents")

    def test_requested_outputs_and_parameters(self):
        req = pb.ModelInferRequest(model_name="identity_pair", id="pair-1")
        req.inputs.add(name="INPUT0", datatype="FP32", shape=[2])
        req.inputs.add(name="INPUT1", datatype="INT32", shape=[3])
        req.raw_input_contents.append(np.array([1, 2], np.float32).tobytes())
        req.raw_input_contents.append(np.array([4, 5, 6], np.int32).tobytes())
        req.outputs.add(name="OUTPUT1")
        req.parameters["priority"].int64_param = 1
        req.parameters["timeout"].int64_param = 5000000
        resp = self.stub.ModelInfer(req)
        self.assertEqual(resp.id, "pair-1")
        self.assertEqual([o.name for o in resp.outputs], ["OUTPUT1"])
        self.assertEqual(np.frombuffer(resp.raw_output_contents[0], np.int32)
                         .tolist(), [4, 5, 6])

    def test_large_message_round_trip(self):
        n = 4 * 1024 * 1024  # 16 MiB of FP32
        data = np.arange(n, dtype=np.float32)
        resp = self.stub.ModelInfer(infer_request(
            "identity_fp32", "FP32", [1, n], data.tobytes()))
        self.assertEqual(resp.raw_output_contents[0], data.tobytes())

    def test_oversize_message_is_refused(self):
        n = 65 * 1024 * 1024 // 4  # 65 MiB > the 64 MiB default
        req = infer_request("identity_fp32", "FP32", [1, n], bytes(n * 4))
        self.assertRpcError(lambda: self.stub.ModelInfer(req),
                            grpc.StatusCode.RESOURCE_EXHAUSTED)
        # The server is still fine.
        self.stub.ModelInfer(fp32_request())

    def test_bad_inputs(self):
        """Each case: (name, request builder, expected code, message part).
        Every error names the request id."""
        def fp32(fn):
            def build():
                req = fp32_request("bad-id")
                fn(req)
                return req
            return build

        def typed_only(values, field="fp32_contents"):
            def fn(req):
                del req.raw_input_contents[:]
                getattr(req.inputs[0].contents, field).extend(values)
            return fp32(fn)

        def set_shape(shape):
            def fn(req):
                del req.inputs[0].shape[:]
                req.inputs[0].shape.extend(shape)
            return fp32(fn)

        def parameter(key, **value):
            return fp32(lambda r: r.parameters[key].MergeFrom(
                pb.InferParameter(**value)))

        invalid = grpc.StatusCode.INVALID_ARGUMENT
        cases = [
            ("unknown model", fp32(lambda r: setattr(r, "model_name", "nope")),
             grpc.StatusCode.NOT_FOUND, "nope"),
            ("unknown version",
             fp32(lambda r: setattr(r, "model_version", "7")),
             grpc.StatusCode.NOT_FOUND, "identity_fp32"),
            ("missing model name",
             fp32(lambda r: setattr(r, "model_name", "")), invalid,
             "model_name"),
            ("version not a number",
             fp32(lambda r: setattr(r, "model_version", "abc")), invalid,
             "failed to get model version from specified version string 'abc'"),
            ("unknown datatype",
             fp32(lambda r: setattr(r.inputs[0], "datatype", "FP99")),
             invalid, "unknown datatype 'FP99'"),
            ("datatype differs from the model",
             fp32(lambda r: setattr(r.inputs[0], "datatype", "INT32")),
             invalid, "INPUT0"),
            ("unknown input",
             fp32(lambda r: setattr(r.inputs[0], "name", "INPUT9")),
             invalid, "INPUT9"),
            ("negative dim", set_shape([2, -3]), invalid, "invalid shape"),
            ("raw too short", set_shape([2, 4]), invalid,
             "needs 32 bytes, got 24"),
            ("typed and raw mixed",
             fp32(lambda r: r.inputs[0].contents.fp32_contents.extend(
                 [1.0] * 6)),
             invalid, "contents field must not be specified when using "
             "raw_input_contents for 'INPUT0' for model 'identity_fp32'"),
            ("more raw entries than inputs",
             fp32(lambda r: r.raw_input_contents.append(b"x")), invalid,
             "raw_input_contents has 2 entries"),
            ("typed in the wrong field", typed_only([1] * 6, "int_contents"),
             invalid, "expects its values in contents.fp32_contents"),
            ("typed count differs", typed_only([1.0] * 5), invalid,
             "expected 6 values in contents.fp32_contents, got 5"),
            ("no data", typed_only([]), invalid, "unable to find data for input tensor"),
            ("priority not an integer",
             parameter("priority", string_param="high"), invalid,
             "'priority' must be"),
            ("negative timeout", parameter("timeout", int64_param=-5),
             invalid, "must not be negative"),
            ("unknown requested output",
             fp32(lambda r: r.outputs.add(name="OUTPUT9")), invalid,
             "OUTPUT9"),
            ("malformed BYTES raw",
             lambda: infer_request("identity_bytes", "BYTES", [1, 1],
                                   b"\x09\x00\x00\x00abc", "bad-id"),
             invalid, "malformed BYTES"),
        ]
        for name, build, code, fragment in cases:
            with self.subTest(case=name):
                req = build()
                err = self.assertRpcError(lambda: self.stub.ModelInfer(req),
                                          code, fragment)
                self.assertIn("bad-id", err.details())


class StreamTest(GrpcTestCase):
    def test_interleaved_good_and_bad_requests(self):
        requests = queue.Queue()
        responses = self.stub.ModelStreamInfer(iter(requests.get, None))
        bad_type = fp32_request("bad-type")
        bad_type.inputs[0].datatype = "FP99"
        bad_model = fp32_request("bad-model")
        bad_model.model_name = "nope"
        good_bytes = infer_request("identity_bytes", "BYTES", [2, 3],
                                   raw_bytes("BYTES", BYTES_VALUES), "good-2")
        sent = [fp32_request("good-1"), bad_type, good_bytes, bad_model,
                fp32_request("good-3", values=(6, 5, 4, 3, 2, 1))]
        for r in sent:
            requests.put(r)
        got = {}
        for _ in sent:
            r = next(responses)
            got[r.infer_response.id] = r
        self.assertEqual(set(got), {r.id for r in sent})
        self.assertIn("unknown datatype 'FP99'", got["bad-type"].error_message)
        self.assertIn("nope", got["bad-model"].error_message)
        for good in ("good-1", "good-2", "good-3"):
            self.assertEqual(got[good].error_message, "", good)
        self.assertEqual(got["good-2"].infer_response.raw_output_contents[0],
                         raw_bytes("BYTES", BYTES_VALUES))
        self.assertEqual(np.frombuffer(
            got["good-3"].infer_response.raw_output_contents[0],
            np.float32).tolist(), [6, 5, 4, 3, 2, 1])
        # The stream is still open after the errors.
        requests.put(fp32_request("good-4"))
        self.assertEqual(next(responses).infer_response.id, "good-4")
        requests.put(None)
        self.assertEqual(list(responses), [])


class StreamBackpressureTest(GrpcTestCase):
    def test_a_client_that_never_reads_does_not_grow_the_server(self):
        # 1 MB requests answered by 1 MB responses, sent without reading
        # one: the server stops reading the stream once a bounded number
        # are unwritten, and the client's sends wait on flow control.
        payload = np.zeros(256 * 1024, np.float32).tobytes()
        before = SERVER.rss_bytes()
        sent = []

        def requests():
            for i in range(400):
                sent.append(i)
                yield infer_request("identity_fp32", "FP32", [1, 256 * 1024],
                                    payload, f"r{i}")

        responses = self.stub.ModelStreamInfer(requests())
        # Wait until sending stalls: the count stops moving.
        last, still = -1, 0
        deadline = time.monotonic() + 30
        while still < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
            still = still + 1 if len(sent) == last else 0
            last = len(sent)
        grown = SERVER.rss_bytes() - before
        self.assertLess(len(sent), 400, "the server read every request")
        self.assertLess(grown, 300 * 1024 * 1024, f"grew {grown} bytes")
        # Reading the responses lets the rest through, all answered.
        got = [next(responses).infer_response.id for _ in range(400)]
        self.assertEqual(sorted(got), sorted(f"r{i}" for i in range(400)))
        responses.cancel()


class DeadlineAndCancellationTest(GrpcTestCase):
    def delay_request(self, request_id):
        return infer_request("identity_delay", "FP32", [1],
                             np.array([1], np.float32).tobytes(), request_id)

    def test_deadline_exceeded(self):
        start = time.monotonic()
        self.assertRpcError(
            lambda: self.stub.ModelInfer(self.delay_request("d1"), timeout=0.3),
            grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(time.monotonic() - start, DELAY_US / 1e6)
        # Wait out the execution that was already running.
        time.sleep(DELAY_US / 1e6 + 0.2)

    def test_expired_and_cancelled_requests_are_not_executed(self):
        before = stats_of(self.stub, "identity_delay").execution_count
        busy = self.stub.ModelInfer.future(self.delay_request("busy"))
        time.sleep(0.2)  # "busy" now occupies the only instance
        # Queued behind "busy", it cannot meet its deadline: the server may
        # refuse it at once (UNAVAILABLE) or let it expire in the queue.
        with self.assertRaises(grpc.RpcError) as ctx:
            self.stub.ModelInfer(self.delay_request("late"), timeout=0.3)
        self.assertIn(ctx.exception.code(),
                      (grpc.StatusCode.DEADLINE_EXCEEDED,
                       grpc.StatusCode.UNAVAILABLE))
        cancelled = self.stub.ModelInfer.future(self.delay_request("gone"))
        time.sleep(0.1)
        self.assertTrue(cancelled.cancel())
        with self.assertRaises(grpc.FutureCancelledError):
            cancelled.result()
        self.assertEqual(busy.result(timeout=10).id, "busy")
        time.sleep(DELAY_US / 1e6 + 0.3)  # any wrongly queued one would run
        after = stats_of(self.stub, "identity_delay").execution_count
        self.assertEqual(after - before, 1)


class FrontendSwitchTest(unittest.TestCase):
    def test_allow_grpc_false_serves_no_grpc(self):
        with grpc_support.temp_dir("serval_grpc_off_") as root:
            grpc_support.write_identity_model(root, "identity_fp32",
                                              [("FP32", [-1])])
            with grpc_support.ServalProcess(
                    root, ["--allow-grpc", "false"]) as server:
                channel = grpc.insecure_channel(server.grpc_target)
                with self.assertRaises(grpc.FutureTimeoutError):
                    grpc.channel_ready_future(channel).result(timeout=1.5)
                channel.close()

    def test_max_message_bytes_option(self):
        with grpc_support.temp_dir("serval_grpc_small_") as root:
            grpc_support.write_identity_model(root, "identity_fp32",
                                              [("FP32", [-1])])
            with grpc_support.ServalProcess(
                    root, ["--grpc-max-message-bytes", "65536"]) as server:
                channel = grpc.insecure_channel(server.grpc_target)
                stub = pb_grpc.GRPCInferenceServiceStub(channel)
                small = infer_request("identity_fp32", "FP32", [1024],
                                      bytes(4096))
                self.assertEqual(len(stub.ModelInfer(small).outputs), 1)
                big = infer_request("identity_fp32", "FP32", [32768],
                                    bytes(131072))
                with self.assertRaises(grpc.RpcError) as ctx:
                    stub.ModelInfer(big)
                self.assertEqual(ctx.exception.code(),
                                 grpc.StatusCode.RESOURCE_EXHAUSTED)
                channel.close()


if __name__ == "__main__":
    (grpc_support.ServalProcess.binary, grpc_support.ServalProcess.backends,
     unittest_argv) = grpc_support.binary_and_backends(sys.argv)
    unittest.main(argv=unittest_argv, verbosity=2)
