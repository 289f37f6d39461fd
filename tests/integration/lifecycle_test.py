"""Model lifecycle end to end: hot version swaps under load in poll
and explicit mode, unload under load, failed reloads, uploads, warm-up and
graceful shutdown. Runs the real `serval` binary with identity models whose
`delay_us` makes timing observable. Standard library only.

    /usr/bin/python3 lifecycle_test.py --serval build/serval --backends build/backends
"""

import base64
import http.client
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = serval_harness.parse_args()
INPUTS = [("INPUT0", "TYPE_FP32", [4])]


def identity_config(name, delay_us=2000, policy=None, warmup=None):
    """config.pbtxt text for a 4-float identity model."""
    lines = [f'name: "{name}"', 'backend: "identity"', "max_batch_size: 0",
             'input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]',
             'output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]',
             'parameters { key: "delay_us" value { string_value: '
             f'"{delay_us}" }} }}']
    if policy:
        lines.append(policy)
    if warmup:
        lines.append(warmup)
    return "\n".join(lines) + "\n"


def identity_json(name, delay_us=2000, specific=None, **extra):
    """The same config as JSON, for the load API's 'config' parameter."""
    config = {
        "name": name, "backend": "identity", "max_batch_size": 0,
        "input": [{"name": "INPUT0", "data_type": "TYPE_FP32", "dims": [4]}],
        "output": [{"name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [4]}],
        "parameters": {"delay_us": {"string_value": str(delay_us)}},
    }
    if specific is not None:
        config["version_policy"] = {"specific": {"versions": specific}}
    config.update(extra)
    return json.dumps(config)


INFER_BODY = json.dumps({"inputs": [{"name": "INPUT0", "shape": [4],
                                     "datatype": "FP32",
                                     "data": [1, 2, 3, 4]}]})


def infer(conn, model):
    conn.request("POST", f"/v2/models/{model}/infer", body=INFER_BODY,
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, body


def infer_once(server, model, version=None):
    """One request on its own connection, closed at once (an idle
    keep-alive connection left open would outlive the test's server)."""
    conn = server.http_connection()
    try:
        if version is None:
            return infer(conn, model)
        conn.request("POST", f"/v2/models/{model}/versions/{version}/infer",
                     body=INFER_BODY)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def post_json(server, path, obj=None, timeout=60):
    body = json.dumps(obj) if obj is not None else ""
    status, _, data = server.request("POST", path, body=body, timeout=timeout,
                                     headers={"Content-Type":
                                              "application/json"})
    return status, (json.loads(data) if data else None)


def load(server, model, parameters=None):
    return post_json(server, f"/v2/repository/models/{model}/load",
                     {"parameters": parameters} if parameters else None)


def index(server):
    status, rows = post_json(server, "/v2/repository/index")
    assert status == 200, status
    return rows


def ready_versions(server, model):
    return sorted(int(r["version"]) for r in index(server)
                  if r["name"] == model and r.get("state") == "READY")


def stats(server, model):
    status, _, data = server.request("GET", f"/v2/models/{model}/stats")
    assert status == 200, (status, data)
    return json.loads(data)["model_stats"]


def wait_for(predicate, timeout_s, what):
    serval_harness.wait_for(predicate, timeout_s, what, interval_s=0.02)


class LoadGenerator:
    """Closed-loop clients, one keep-alive connection each; records
    (send time, receive time, HTTP status, model_version or error)."""

    def __init__(self, server, model, clients=4):
        self.server, self.model, self.clients = server, model, clients
        self.records = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []

    def __enter__(self):
        for _ in range(self.clients):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def _run(self):
        conn = self.server.http_connection(timeout=30)
        while not self._stop.is_set():
            sent = time.monotonic()
            try:
                status, body = infer(conn, self.model)
                version = (json.loads(body)["model_version"]
                           if status == 200 else body.decode())
            except (OSError, http.client.HTTPException) as e:
                status, version = -1, repr(e)
                conn.close()
                conn = self.server.http_connection(timeout=30)
            with self._lock:
                self.records.append((sent, time.monotonic(), status, version))
        conn.close()


def check_swaps(records, epochs):
    """Every request succeeded, and its version was live while it ran.

    epochs: [(version, asked_at, live_at)]: the test asked for `version` at
    `asked_at` and saw it serving (and the previous one gone) at `live_at`.
    A response from epoch i must arrive after asked_at[i] and must have been
    sent before live_at[i+1] (when epoch i's version was already replaced)."""
    failures = [r for r in records if r[2] != 200]
    assert not failures, f"{len(failures)} failed requests, e.g. {failures[:3]}"
    for sent, received, _, version in records:
        v = int(version)
        ok = False
        for i, (ev, asked, _) in enumerate(epochs):
            if ev != v:
                continue
            replaced = epochs[i + 1][2] if i + 1 < len(epochs) else float("inf")
            if received >= asked and sent <= replaced:
                ok = True
                break
        assert ok, (f"response from version {v} (sent {sent:.3f}, received "
                    f"{received:.3f}) was not live then; epochs {epochs}")


# --- tests --------------------------------------------------------------


def test_poll_mode_swaps_under_load():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("swap", identity_config("swap"), versions=(1,))
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "poll",
                            "--repository-poll-secs", "0.1"]) as s:
            epochs = [(1, 0.0, time.monotonic())]
            with LoadGenerator(s, "swap") as gen:
                time.sleep(0.2)
                for v in range(2, 22):
                    asked = time.monotonic()
                    os.makedirs(os.path.join(repo.path, "swap", str(v)))
                    wait_for(lambda: ready_versions(s, "swap") == [v], 20,
                             f"version {v} to replace {v - 1}")
                    epochs.append((v, asked, time.monotonic()))
                    time.sleep(0.05)
            check_swaps(gen.records, epochs)
            assert len(gen.records) > 200, len(gen.records)
            served = {int(r[3]) for r in gen.records}
            assert len(served) >= 15, served

            # A broken config on disk: the reload fails, version 21 serves.
            with open(os.path.join(repo.path, "swap", "config.pbtxt"), "w") as f:
                f.write("this is not a config {\n")
            wait_for(lambda: any("failed" in r.get("reason", "")
                                 for r in index(s) if r["name"] == "swap"),
                     10, "the failed reload to show in the index")
            status, body = infer_once(s, "swap")
            assert status == 200, body
            assert json.loads(body)["model_version"] == "21"
            assert ready_versions(s, "swap") == [21]


def test_poll_mode_waits_for_a_copy_to_settle():
    """A version directory still being written is not loaded; once the same
    fingerprint is seen on two consecutive polls, it is."""
    with serval_harness.ModelRepository() as repo:
        repo.add_model("m", identity_config("m", delay_us=0), versions=(1,))
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "poll",
                            "--repository-poll-secs", "0.2"]) as s:
            weights = os.path.join(repo.path, "m", "2", "weights.bin")
            os.makedirs(os.path.dirname(weights))
            copy_until = time.monotonic() + 1.5
            while time.monotonic() < copy_until:  # a slow copy
                with open(weights, "ab") as f:
                    f.write(b"x" * 1024)
                assert ready_versions(s, "m") == [1]
                time.sleep(0.05)
            done = time.monotonic()
            wait_for(lambda: ready_versions(s, "m") == [2], 10,
                     "the settled version to load")
            # Two polls of 0.2 s, plus scheduling slack.
            assert time.monotonic() - done < 2.0


def test_explicit_mode_swaps_under_load():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("swap", identity_config("swap"), versions=(1, 2))
        repo.add_model("other", identity_config("other"), versions=(1,))
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "explicit",
                            "--load-model", "swap"]) as s:
            rows = {r["name"]: r for r in index(s)}
            assert rows["other"]["state"] == "UNAVAILABLE", rows
            assert rows["other"].get("reason") == "not loaded", rows
            assert ready_versions(s, "swap") == [2]
            epochs = [(2, 0.0, time.monotonic())]
            with LoadGenerator(s, "swap") as gen:
                time.sleep(0.2)
                for i in range(20):
                    v = 1 if i % 2 == 0 else 2
                    asked = time.monotonic()
                    status, body = load(s, "swap", {
                        "config": identity_json("swap", specific=[v])})
                    assert status == 200, body
                    live = time.monotonic()
                    assert ready_versions(s, "swap") == [v]
                    epochs.append((v, asked, live))
                    time.sleep(0.05)
            check_swaps(gen.records, epochs)
            served = {int(r[3]) for r in gen.records}
            assert served == {1, 2}, served


def test_forced_reload_of_unchanged_model():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("m", identity_config("m", delay_us=0))
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "explicit",
                            "--load-model", "*"]) as s:
            for _ in range(5):
                assert infer_once(s, "m")[0] == 200
            assert stats(s, "m")[0]["inference_count"] == 5
            status, body = load(s, "m")
            assert status == 200, body
            # A fresh version instance: its statistics start again.
            assert stats(s, "m")[0]["inference_count"] == 0
            assert infer_once(s, "m")[0] == 200


def test_unload_under_load():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("slow", identity_config("slow", delay_us=400000))
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "explicit",
                            "--load-model", "slow"]) as s:
            results = []

            def one():
                results.append(infer_once(s, "slow"))

            threads = [threading.Thread(target=one) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.15)  # all four are with the backend now
            status, body = post_json(s, "/v2/repository/models/slow/unload")
            assert status == 200, body
            rows = [r for r in index(s) if r["name"] == "slow"]
            assert [r["state"] for r in rows] == ["UNLOADING"], rows
            # Triton's answer for a model with no ready version: 404.
            status, body = infer_once(s, "slow")
            assert status == 404, (status, body)
            assert b"Request for unknown model: 'slow' has no available " \
                b"versions (unloaded)" in body, body
            for t in threads:
                t.join()
            assert [r[0] for r in results] == [200] * 4, results
            wait_for(lambda: [r["state"] for r in index(s)
                              if r["name"] == "slow"] == ["UNAVAILABLE"],
                     10, "the version to be destroyed")
            # A version that exists but does not serve is 503 (Triton:
            # "is not at ready state"); one that never existed is 404.
            status, _ = infer_once(s, "slow", version=1)
            assert status == 503, status
            status, _ = infer_once(s, "slow", version=7)
            assert status == 404, status
            # Unknown models cannot be unloaded; loading it again works.
            status, _ = post_json(s, "/v2/repository/models/nope/unload")
            assert status == 404, status
            status, body = load(s, "slow")
            assert status == 200, body


def test_failed_reload_keeps_old_version():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("m", identity_config("m", delay_us=0))
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "explicit",
                            "--load-model", "m"]) as s:
            bad_backend = identity_json("m")
            bad_backend = bad_backend.replace('"identity"', '"no_such_backend"')
            failing_warmup = identity_json("m", model_warmup=[{
                "name": "from_file", "batch_size": 1,
                "inputs": {"INPUT0": {"data_type": "TYPE_FP32", "dims": [4],
                                      "input_data_file": "missing.bin"}}}])
            for config in (bad_backend, failing_warmup, "{not json"):
                status, body = load(s, "m", {"config": config})
                assert status >= 400, (status, body)
                status, body = infer_once(s, "m")
                assert status == 200, body
                assert ready_versions(s, "m") == [1]
            row = [r for r in index(s) if r["name"] == "m"][0]
            assert row["state"] == "READY", row
            assert "failed" in row.get("reason", ""), row
            assert "missing.bin" in s.log_text()


def test_uploads_are_validated():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("m", identity_config("m", delay_us=0))
        outside = os.path.join(repo.path, "escaped.txt")
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "explicit",
                            "--max-upload-bytes", "1000"]) as s:
            b64 = base64.b64encode(b"x" * 10).decode()
            config = identity_json("up", delay_us=0)
            for name in ("../escaped.txt", "1/../../escaped.txt",
                         "/tmp/escaped.txt", "1//a", "1/./a", "config.pbtxt",
                         "7", "a/b"):
                status, body = load(s, "up", {"config": config,
                                              f"file:{name}": b64})
                assert status == 400, (name, status, body)
            big = base64.b64encode(b"x" * 1001).decode()
            status, body = load(s, "up", {"config": config, "file:1/w": big})
            assert status == 400, (status, body)
            assert "--max-upload-bytes" in body["error"], body
            assert not os.path.exists(outside)
            # Files without a config are refused; a proper upload loads.
            status, _ = load(s, "up", {"file:1/w": b64})
            assert status == 400
            status, body = load(s, "up", {"config": config, "file:1/w": b64,
                                          "file:labels.txt": b64})
            assert status == 200, body
            assert infer_once(s, "up")[0] == 200
            # A bad model name is refused before anything is written.
            status, _ = load(s, "..", {"config": config, "file:1/w": b64})
            assert status in (400, 404), status


def test_a_hostile_load_config_is_refused_and_the_server_stays_up():
    """A config sent with a load request that asks for two billion
    instances, or names a model file outside the version directory, is a
    400 that names the field; nothing is created, no file outside is
    opened, and the model already serving keeps serving."""
    with serval_harness.ModelRepository() as repo:
        repo.add_model("m", identity_config("m", delay_us=0))
        secret = os.path.join(repo.path, "secret.onnx")
        with open(secret, "wb") as f:
            f.write(b"not a model")
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "explicit",
                            "--load-model", "m"]) as s:
            cases = [
                (identity_json("m", instance_group=[{"count": 2000000000,
                                                    "kind": "KIND_CPU"}]),
                 "instance_group[0].count is 2000000000; expected at most 256"),
                (identity_json("m", default_model_filename="../../secret.onnx"),
                 "default_model_filename must be a file name inside"),
                (identity_json("m", default_model_filename=secret),
                 "default_model_filename must be a file name inside"),
            ]
            for config, expected in cases:
                status, body = load(s, "m", {"config": config})
                assert status == 400, (status, body)
                assert expected in body["error"], body
                assert secret not in body["error"], body
                assert s.alive()
                status, body = infer_once(s, "m")
                assert status == 200, body


def test_warmup_runs_before_ready():
    warmup = ('model_warmup [ { name: "zeros" batch_size: 1 count: 3 '
              'inputs { key: "INPUT0" value { data_type: TYPE_FP32 '
              'dims: [ 4 ] zero_data: true } } }, '
              '{ name: "random" batch_size: 1 inputs { key: "INPUT0" value { '
              'data_type: TYPE_FP32 dims: [ 4 ] random_data: true } } } ]')
    with serval_harness.ModelRepository() as repo:
        repo.add_model("warm", identity_config("warm", delay_us=0,
                                               warmup=warmup))
        with serval_harness.Serval(ARGS.serval, ARGS.backends,
                                   [repo.path]) as s:
            st = stats(s, "warm")[0]
            # Already there when the server first said ready.
            assert st["inference_count"] == 4, st
            assert st["execution_count"] == 4, st


def test_api_refused_in_mode_none():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("m", identity_config("m", delay_us=0))
        with serval_harness.Serval(ARGS.serval, ARGS.backends,
                                   [repo.path]) as s:
            # Triton's text and status (503) outside explicit mode.
            status, body = load(s, "m")
            assert status == 503, (status, body)
            assert body["error"].startswith(
                "explicit model load / unload is not allowed if polling is "
                "enabled"), body
            status, body = post_json(s, "/v2/repository/models/m/unload")
            assert status == 503, (status, body)
            assert ready_versions(s, "m") == [1]


def test_sigterm_drains_in_flight_requests():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("slow", identity_config("slow", delay_us=600000))
        s = serval_harness.Serval(ARGS.serval, ARGS.backends, [repo.path],
                                  extra_args=["--exit-timeout-secs", "10"])
        s.start()
        try:
            results = []
            lock = threading.Lock()

            def one():
                try:
                    r = infer_once(s, "slow")
                except (OSError, http.client.HTTPException) as e:
                    r = (-1, repr(e).encode())
                with lock:
                    results.append(r)

            threads = [threading.Thread(target=one) for _ in range(6)]
            for t in threads:
                t.start()
            time.sleep(0.2)
            s.proc.send_signal(signal.SIGTERM)
            time.sleep(0.1)
            status, _, _ = s.request("GET", "/v2/health/ready", timeout=5)
            assert status == 503, status
            status, body = infer_once(s, "slow")
            assert status == 503, (status, body)
            for t in threads:
                t.join()
            assert [r[0] for r in results] == [200] * 6, results
            s.proc.wait(timeout=15)
            assert s.proc.returncode == 0, s.proc.returncode
        except Exception:
            s.print_log()
            raise
        finally:
            s.stop()


def test_strict_readiness():
    with serval_harness.ModelRepository() as repo:
        repo.add_model("good", identity_config("good", delay_us=0))
        repo.add_model("bad", identity_config("bad").replace(
            '"identity"', '"no_such_backend"'))
        s = serval_harness.Serval(ARGS.serval, ARGS.backends, [repo.path],
                                  extra_args=["--strict-readiness", "true"],
                                  ready_timeout_s=3)
        try:
            try:
                s.start()
                raise AssertionError("ready although a model failed")
            except TimeoutError:
                pass
        finally:
            s.stop()
        # Default: ready once the start-up load is over.
        with serval_harness.Serval(ARGS.serval, ARGS.backends,
                                   [repo.path]) as s2:
            assert ready_versions(s2, "good") == [1]


def test_grpc_repository_api():
    """The gRPC RepositoryModelLoad/Unload RPCs reach the same lifecycle."""
    import tempfile
    import grpc
    import grpc_support
    with tempfile.TemporaryDirectory(prefix="serval_lc_stubs_") as stubs, \
            serval_harness.ModelRepository() as repo:
        pb, pb_grpc, _, _ = grpc_support.generate_stubs(stubs)
        repo.add_model("m", identity_config("m", delay_us=0), versions=(1, 2))
        with serval_harness.Serval(
                ARGS.serval, ARGS.backends, [repo.path],
                extra_args=["--model-control-mode", "explicit"]) as s:
            with grpc.insecure_channel(f"127.0.0.1:{s.grpc_port}") as channel:
                stub = pb_grpc.GRPCInferenceServiceStub(channel)
                for v in (1, 2, 1):
                    param = pb.ModelRepositoryParameter(
                        string_param=identity_json("m", specific=[v]))
                    stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(
                        model_name="m", parameters={"config": param}))
                    status, body = infer_once(s, "m")
                    assert status == 200, body
                    assert json.loads(body)["model_version"] == str(v)
                bad = pb.ModelRepositoryParameter(bytes_param=b"x")
                try:
                    stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(
                        model_name="m", parameters={
                            "config": pb.ModelRepositoryParameter(
                                string_param=identity_json("m")),
                            "file:../evil": bad}))
                    raise AssertionError("path traversal accepted over gRPC")
                except grpc.RpcError as e:
                    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
                stub.RepositoryModelUnload(
                    pb.RepositoryModelUnloadRequest(model_name="m"))
                index = stub.RepositoryIndex(pb.RepositoryIndexRequest())
                states = {(m.name, m.version): m.state for m in index.models}
                assert states.get(("m", "1")) in ("UNAVAILABLE",
                                                  "UNLOADING"), states
                assert infer_once(s, "m")[0] == 404


if __name__ == "__main__":
    tests = [test_poll_mode_swaps_under_load,
             test_poll_mode_waits_for_a_copy_to_settle,
             test_explicit_mode_swaps_under_load,
             test_forced_reload_of_unchanged_model,
             test_unload_under_load,
             test_failed_reload_keeps_old_version,
             test_uploads_are_validated,
             test_a_hostile_load_config_is_refused_and_the_server_stays_up,
             test_warmup_runs_before_ready,
             test_api_refused_in_mode_none,
             test_sigterm_drains_in_flight_requests,
             test_strict_readiness,
             test_grpc_repository_api]
    only = [a for a in sys.argv[1:] if a.startswith("test_")]
    if only:
        tests = [t for t in tests if t.__name__ in only]
    sys.exit(serval_harness.run_tests(tests))
