"""nginx in front of two serval replicas, with the shipped configuration.

A real nginx (Debian's) runs as the current user on free loopback ports with
deploy/nginx/serval.conf.template rendered by deploy/nginx/render.py (a
broken template or renderer fails this test), in front of two `serval serve`
replicas. Client threads drive steady load through nginx over HTTP (JSON
inference on keep-alive connections) and gRPC (ModelInfer on an HTTP/2
channel to nginx), for a bounded time, while:

1. one replica is SIGKILLed, left dead for a while, restarted on the same
   ports and waited for; no client request fails (nginx resends the HTTP
   requests the dead replica lost or refused), and both replicas served
   requests;
2. the same, but the restarted replica takes longer to load its model than
   nginx's fail_timeout, so nginx sends it requests while it is listening
   but not ready: none of them may reach a client as a failure;
3. the other replica gets SIGTERM while one of its requests is in flight:
   its readiness answers 503 while it drains, it exits 0 within
   --exit-timeout-secs, its admitted request completes, no client request
   through nginx fails, and nginx resent 503s of the draining replica to
   the other one.

gRPC clients use a retry policy for UNAVAILABLE, as deploy/nginx/README.md
tells them to: nginx never buffers a gRPC request body, so it resends a call
only when the connection to a replica failed before the call was sent. A
call that a replica answered UNAVAILABLE, or that was in flight on a killed
one, reaches the client, whose retry policy resends it; the test counts
those attempts from nginx's access log and prints them.

Skipped (exit 77) when nginx, grpcio/numpy or protoc's gRPC plugin is
missing. Takes about 20 s.

    /usr/bin/python3 tests/integration/nginx_test.py --serval build/serval --backends build/backends [test_name...]
"""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = serval_harness.parse_args()
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RENDER = os.path.join(REPO_ROOT, "deploy", "nginx", "render.py")
TEMPLATE = os.path.join(REPO_ROOT, "deploy", "nginx", "serval.conf.template")


def template_fail_timeout_s():
    """The template's fail_timeout: how long nginx remembers a replica's
    failed attempts (its 503s while loading count as failures)."""
    with open(TEMPLATE) as f:
        return int(re.search(r"fail_timeout=(\d+)s", f.read()).group(1))

MODEL = "m"            # the load: a short sleep, so requests are in flight
MODEL_DELAY_US = 3000
SLOW = "slow"          # one long request that keeps a draining replica busy
SLOW_DELAY_US = 2000000
EXIT_TIMEOUT_S = 10
SLOW_RESTART_LOAD_S = 7  # a restarted replica's load; > nginx's fail_timeout
HTTP_CLIENTS = 4
GRPC_CLIENTS = 2
REQUEST_TIMEOUT_S = 30

# What a gRPC client behind a load balancer should do: resend UNAVAILABLE.
# ModelInfer has no side effect, so a resend is always safe.
GRPC_SERVICE_CONFIG = json.dumps({"methodConfig": [{
    "name": [{"service": "inference.GRPCInferenceService"}],
    "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.1s",
                    "maxBackoff": "1s", "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"]}}]})


def nginx_binary():
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def missing_prerequisite():
    """Why this test cannot run here, or None."""
    nginx = nginx_binary()
    if nginx is None:
        return "nginx is not installed (scripts/setup.sh installs it)"
    if subprocess.run([nginx, "-v"], capture_output=True).returncode != 0:
        return f"{nginx} -v fails"
    try:
        import grpc  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        return f"Debian's python3-grpcio / python3-numpy missing ({e})"
    for tool in ("protoc", "grpc_python_plugin"):
        if shutil.which(tool) is None:
            return f"{tool} missing (protobuf-compiler-grpc)"
    return None


def model_config(name, delay_us, instances, warmup_runs=0):
    """A 4-float identity model; warmup_runs > 0 makes its load take
    warmup_runs * delay_us longer (it is not ready before)."""
    lines = [
        f'name: "{name}"', 'backend: "identity"', "max_batch_size: 0",
        'input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]',
        'output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]',
        f"instance_group [ {{ count: {instances} kind: KIND_CPU }} ]",
        'parameters { key: "delay_us" value { string_value: '
        f'"{delay_us}" }} }}']
    if warmup_runs:
        lines.append(
            f'model_warmup [ {{ name: "slow_start" batch_size: 1 count: '
            f'{warmup_runs} inputs {{ key: "INPUT0" value {{ data_type: '
            'TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]')
    return "\n".join(lines) + "\n"


def infer_body(values):
    return json.dumps({"inputs": [{"name": "INPUT0", "shape": [4],
                                   "datatype": "FP32", "data": values}]})


def http_get(port, path, timeout=5):
    """(status, body) of one GET on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def success_count(replica, model=MODEL):
    status, body = http_get(replica.http_port, f"/v2/models/{model}/stats")
    assert status == 200, (status, body)
    stats = json.loads(body)["model_stats"]
    return sum(s["inference_stats"]["success"]["count"] for s in stats)


def inflight(replica, model):
    """serval_inflight_requests of `model` on `replica` (metrics port)."""
    url = f"http://127.0.0.1:{replica.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    total = 0.0
    for line in text.splitlines():
        if (line.startswith("serval_inflight_requests{")
                and f'model="{model}"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


wait_for = serval_harness.wait_for


# --- nginx -------------------------------------------------------------------

class Nginx:
    """nginx from the shipped template, in a temporary prefix directory:
    one process (master_process off: it runs as the current user and
    leaves no worker behind), pid, logs and temporary files in that
    directory. Always stopped by stop()."""

    LOG_FORMAT = ("'$status|$request_method|$uri|$upstream_addr|"
                  "$upstream_status|$upstream_http_grpc_status|"
                  "$upstream_trailer_grpc_status'")

    def __init__(self, replicas):
        self.dir = tempfile.mkdtemp(prefix="serval-nginx-")
        ports = set()
        while len(ports) < 2:
            ports.add(serval_harness.free_port())
        self.http_port, self.grpc_port = sorted(ports)
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.proc = None
        self._stderr = None
        replica_args = [f"127.0.0.1:{r.http_port}:{r.grpc_port}"
                        for r in replicas]
        subprocess.run([sys.executable, RENDER, "--template", TEMPLATE,
                        "--http-listen", f"127.0.0.1:{self.http_port}",
                        "--grpc-listen", f"127.0.0.1:{self.grpc_port}",
                        "-o", os.path.join(self.dir, "serval.conf")]
                       + replica_args, check=True)
        temp = {k: os.path.join(self.dir, k) for k in (
            "client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        with open(self.conf, "w") as f:
            f.write(f"""daemon off;
master_process off;
pid {self.dir}/nginx.pid;
error_log {self.error_log} warn;
events {{ worker_connections 1024; }}
http {{
    log_format serval_test {self.LOG_FORMAT};
    access_log {self.access_log} serval_test;
    client_body_temp_path {temp['client_body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {self.dir}/serval.conf;
}}
""")

    def start(self):
        nginx = nginx_binary()
        check = subprocess.run([nginx, "-t", "-q", "-p", self.dir, "-c",
                                self.conf], capture_output=True, text=True)
        assert check.returncode == 0, (
            f"nginx rejects the rendered template:\n{check.stderr}"
            + self.log_text())
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([nginx, "-p", self.dir, "-c", self.conf],
                                     stdout=self._stderr,
                                     stderr=subprocess.STDOUT)
        serval_harness._LIVE_PROCESSES.add(self.proc)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"nginx exited with {self.proc.returncode}:\n"
                    + self.log_text())
            try:
                return http_get(self.http_port, "/v2/health/ready")[0] == 200
            except OSError:
                return False
        wait_for(ready, 15, "nginx to answer /v2/health/ready with 200")

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGQUIT)  # graceful shutdown
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            serval_harness._LIVE_PROCESSES.discard(self.proc)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        out = []
        for path in (self.stderr_path, self.error_log):
            try:
                with open(path, errors="replace") as f:
                    out.append(f"--- {path} ---\n" + f.read()[-6000:])
            except OSError:
                pass
        return "\n".join(out)

    def access_entries(self):
        """Access log lines as dicts."""
        entries = []
        with open(self.access_log, errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split("|")
                if len(parts) != 7:
                    continue
                entries.append(dict(zip(
                    ("status", "method", "uri", "upstream", "upstream_status",
                     "grpc_header", "grpc_trailer"), parts)))
        return entries


# --- load --------------------------------------------------------------------

class Load:
    """Closed-loop clients through nginx: HTTP threads on keep-alive
    connections and gRPC threads on channels with a retry policy. Every
    answer is checked (status and echoed values); anything else is a
    failure, recorded with what the client saw. The clients never retry by
    themselves (gRPC's retry policy aside)."""

    def __init__(self, nginx, pb, pb_grpc):
        self.nginx, self.pb, self.pb_grpc = nginx, pb, pb_grpc
        self.ok = {"http": 0, "grpc": 0}
        self.failures = {"http": [], "grpc": []}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []

    def __enter__(self):
        for i in range(HTTP_CLIENTS):
            self._spawn(self._http_client, i)
        for i in range(GRPC_CLIENTS):
            self._spawn(self._grpc_client, i)
        return self

    def __exit__(self, *exc):
        self.stop()

    def _spawn(self, target, i):
        t = threading.Thread(target=target, args=(i,), daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=REQUEST_TIMEOUT_S + 5)
        self._threads = []

    def counts(self):
        with self._lock:
            return dict(self.ok), {k: len(v) for k, v in self.failures.items()}

    def _record(self, kind, failure=None):
        with self._lock:
            if failure is None:
                self.ok[kind] += 1
            else:
                self.failures[kind].append((time.monotonic(), failure))

    def _http_client(self, i):
        conn = http.client.HTTPConnection("127.0.0.1", self.nginx.http_port,
                                          timeout=REQUEST_TIMEOUT_S)
        n = 0
        while not self._stop.is_set():
            n += 1
            values = [float(i), float(n), 0.5, -1.0]
            try:
                conn.request("POST", f"/v2/models/{MODEL}/infer",
                             body=infer_body(values),
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    self._record("http", f"HTTP {resp.status}: {body[:200]!r}")
                    continue
                out = json.loads(body)["outputs"][0]["data"]
                if out != values:
                    self._record("http", f"wrong output {out} for {values}")
                    continue
                self._record("http")
            except (OSError, http.client.HTTPException, ValueError) as e:
                self._record("http", repr(e))
                conn.close()
        conn.close()

    def _grpc_client(self, i):
        import grpc
        import numpy as np
        channel = grpc.insecure_channel(
            f"127.0.0.1:{self.nginx.grpc_port}",
            options=[("grpc.enable_retries", 1),
                     ("grpc.service_config", GRPC_SERVICE_CONFIG)])
        stub = self.pb_grpc.GRPCInferenceServiceStub(channel)
        n = 0
        try:
            while not self._stop.is_set():
                n += 1
                values = np.array([i, n, 0.25, -2], dtype=np.float32)
                req = self.pb.ModelInferRequest(model_name=MODEL)
                req.inputs.add(name="INPUT0", datatype="FP32", shape=[4])
                req.raw_input_contents.append(values.tobytes())
                try:
                    resp = stub.ModelInfer(req, timeout=REQUEST_TIMEOUT_S)
                except grpc.RpcError as e:
                    self._record("grpc", f"{e.code()}: {e.details()}")
                    continue
                if (len(resp.raw_output_contents) != 1
                        or resp.raw_output_contents[0] != values.tobytes()):
                    self._record("grpc", f"wrong output {resp}")
                    continue
                self._record("grpc")
        finally:
            channel.close()

    def wait_for_progress(self, n, timeout_s=20):
        """Until both kinds have at least n more successes than now."""
        start, _ = self.counts()
        wait_for(lambda: all(self.counts()[0][k] >= start[k] + n
                             for k in start), timeout_s,
                 f"{n} more successful requests of each kind")

    def assert_no_failures(self):
        """Fails naming, for HTTP and gRPC, how many requests failed and
        what clients saw (each distinct answer with its count)."""
        problems = []
        with self._lock:
            for kind, failed in self.failures.items():
                if not failed:
                    continue
                seen = {}
                for _, what in failed:
                    seen[what[:160]] = seen.get(what[:160], 0) + 1
                problems.append(
                    f"{len(failed)} of {self.ok[kind] + len(failed)} {kind} "
                    f"requests failed through nginx: {seen}")
        assert not problems, "; ".join(problems)


# --- the tests ---------------------------------------------------------------

class Cluster:
    """Two replicas and nginx; torn down by close(), whatever happened."""

    def __init__(self):
        self.repo = serval_harness.ModelRepository()
        self.stub_dir = tempfile.TemporaryDirectory(
            prefix="serval-nginx-stubs-")
        self.replicas = []
        self.nginx = None
        self.pb = self.pb_grpc = None

    def start(self):
        import grpc_support
        self.pb, self.pb_grpc, _, _ = grpc_support.generate_stubs(
            self.stub_dir.name)
        self.repo.add_model(MODEL, model_config(MODEL, MODEL_DELAY_US, 2))
        self.repo.add_model(SLOW, model_config(SLOW, SLOW_DELAY_US, 1))
        for _ in range(2):
            replica = serval_harness.Serval(
                ARGS.serval, ARGS.backends, [self.repo.path],
                extra_args=["--exit-timeout-secs", str(EXIT_TIMEOUT_S)])
            self.replicas.append(replica)
            replica.start()
        self.nginx = Nginx(self.replicas)
        self.nginx.start()

    def load(self):
        return Load(self.nginx, self.pb, self.pb_grpc)

    def print_logs(self):
        for r in self.replicas:
            r.print_log(60)
        if self.nginx is not None:
            sys.stderr.write(self.nginx.log_text() + "\n")

    def close(self):
        if self.nginx is not None:
            self.nginx.stop()
        for r in self.replicas:
            r.stop()
        if self.nginx is not None:
            self.nginx.cleanup()
        self.repo.close()
        self.stub_dir.cleanup()


CLUSTER = None
REPORT = []


def summarize(entries, kind):
    """What nginx's access log says about the HTTP inferences or the gRPC
    ModelInfer calls among `entries`."""
    suffix = "/infer" if kind == "http" else "/ModelInfer"
    mine = [e for e in entries if e["uri"].endswith(suffix)]
    unusual = {}
    per_replica = {}
    for e in mine:
        if e["upstream_status"] != "200" or e["status"] != "200":
            key = f"{e['status']} <- {e['upstream_status']}"
            if kind == "grpc":
                key += f" grpc-status {e['grpc_header']}/{e['grpc_trailer']}"
            unusual[key] = unusual.get(key, 0) + 1
        elif kind == "grpc" and e["grpc_header"] == "14":
            unusual["UNAVAILABLE"] = unusual.get("UNAVAILABLE", 0) + 1
        last = e["upstream"].split(",")[-1].strip()
        per_replica[last] = per_replica.get(last, 0) + 1
    return {"requests": len(mine),
            "resent": sum("," in e["upstream"] for e in mine),
            "resent_503": sum("," in e["upstream"]
                              and "503" in e["upstream_status"] for e in mine),
            "unavailable": sum(e["grpc_header"] == "14"
                               or e["status"] != "200" for e in mine),
            "unusual": unusual, "per_replica": per_replica}


def kill_and_restart(restart_load_s):
    """Load through nginx while replica 0 is SIGKILLed, left dead, and
    restarted on its ports (its model then taking restart_load_s seconds
    to load, if not 0), until the restarted replica has served requests.
    Asserts that no client request failed and that both replicas served
    HTTP and gRPC requests."""
    victim, other = CLUSTER.replicas
    log_mark = len(CLUSTER.nginx.access_entries())
    with CLUSTER.load() as load:
        load.wait_for_progress(20)
        victim.proc.kill()  # SIGKILL: in-flight requests are lost with it
        victim.proc.wait()
        load.wait_for_progress(50)  # served by the other replica alone
        before_restart = success_count(other)
        CLUSTER.repo.add_model(MODEL, model_config(
            MODEL, MODEL_DELAY_US, 2,
            warmup_runs=restart_load_s * 1000000 // MODEL_DELAY_US))
        victim.restart()
        wait_for(lambda: success_count(victim) >= 20, 30,
                 "nginx to send requests to the restarted replica")
        # nginx forgets the restarted replica's failed attempts only once
        # fail_timeout has passed since the last one and a request then
        # succeeds; until then one more 503 (overload, draining) takes it
        # out. A rolling restart waits this long before the next replica
        # (deploy/nginx/README.md); so does the next test.
        time.sleep(template_fail_timeout_s() + 1)
        load.wait_for_progress(20)
    ok, failed = load.counts()
    entries = CLUSTER.nginx.access_entries()[log_mark:]
    http, grpc = summarize(entries, "http"), summarize(entries, "grpc")
    REPORT.append(report_line(
        f"kill/restart (restarted replica loads {restart_load_s}s)", ok,
        failed, http, grpc))
    load.assert_no_failures()
    assert success_count(other) > before_restart
    for summary, kind in ((http, "HTTP"), (grpc, "gRPC")):
        for r in (victim, other):
            port = r.http_port if kind == "HTTP" else r.grpc_port
            assert summary["per_replica"].get(f"127.0.0.1:{port}", 0) > 0, (
                kind, summary)


def test_kill_and_restart_a_replica_under_load():
    """The killed replica is back and ready before nginx tries it again."""
    kill_and_restart(0)


def test_a_restarted_replica_still_loading_fails_nothing():
    """The restarted replica takes longer to load its model than nginx's
    fail_timeout (5 s), as real models do: nginx sends it requests again
    while it listens but is not ready yet. Each must fail in a way nginx
    or the client resends (HTTP 503, gRPC UNAVAILABLE or a refused
    connection), never reach the client as a failure. (The running replica
    does not read the repository again.)"""
    kill_and_restart(SLOW_RESTART_LOAD_S)


def report_line(what, ok, failed, http, grpc):
    return (f"{what}: HTTP {ok['http']} ok / {failed['http']} failed "
            f"({http['resent']} resent by nginx, {http['resent_503']} of "
            f"them after a 503; per replica {http['per_replica']}; unusual "
            f"{http['unusual']}); gRPC {ok['grpc']} ok / {failed['grpc']} "
            f"failed ({grpc['unavailable']} attempts UNAVAILABLE, resent by "
            f"the client's retry policy; per replica {grpc['per_replica']}; "
            f"unusual {grpc['unusual']})")


def test_sigterm_drains_a_replica_under_load():
    _, victim = CLUSTER.replicas
    log_mark = len(CLUSTER.nginx.access_entries())
    anchor = {}

    def slow_request():
        # Directly to the victim: admitted before the SIGTERM, it keeps
        # the drain going while the test watches readiness.
        try:
            status, _, body = victim.request(
                "POST", f"/v2/models/{SLOW}/infer",
                body=infer_body([1, 2, 3, 4]), timeout=REQUEST_TIMEOUT_S)
            anchor["result"] = (status, body[:200])
        except (OSError, http.client.HTTPException) as e:
            anchor["result"] = (-1, repr(e))

    with CLUSTER.load() as load:
        load.wait_for_progress(20)
        thread = threading.Thread(target=slow_request, daemon=True)
        thread.start()
        wait_for(lambda: inflight(victim, SLOW) >= 1, 10,
                 "the slow request to be in flight on the replica")
        victim.proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        readiness = []
        while victim.proc.poll() is None:
            try:
                readiness.append(http_get(victim.http_port,
                                          "/v2/health/ready", timeout=2)[0])
            except OSError as e:
                readiness.append(repr(e))
            if 503 in readiness:
                break
            time.sleep(0.01)
        assert 503 in readiness, (
            f"readiness never answered 503 before the replica exited: "
            f"{readiness}")
        try:
            code = victim.proc.wait(timeout=EXIT_TIMEOUT_S + 5)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the replica did not exit within {EXIT_TIMEOUT_S + 5}s "
                "of SIGTERM")
        exited_after = time.monotonic() - signalled
        assert code == 0, f"the replica exited with {code}"
        thread.join(timeout=REQUEST_TIMEOUT_S)
        assert anchor.get("result", (None,))[0] == 200, (
            f"the request in flight at SIGTERM did not complete: {anchor}")
        load.wait_for_progress(30)  # the survivor serves alone
    ok, failed = load.counts()
    entries = CLUSTER.nginx.access_entries()[log_mark:]
    http, grpc = summarize(entries, "http"), summarize(entries, "grpc")
    REPORT.append(report_line(
        f"SIGTERM drain (exit 0 after {exited_after:.2f}s)", ok, failed,
        http, grpc))
    load.assert_no_failures()
    # The draining replica's 503s went to the other replica.
    assert http["resent_503"] > 0, http


def main():
    global CLUSTER
    why = missing_prerequisite()
    if why:
        print(f"SKIP nginx_test: {why}", flush=True)
        return serval_harness.SKIPPED
    started = time.monotonic()
    CLUSTER = Cluster()
    code = 1
    try:
        CLUSTER.start()
        tests = [test_kill_and_restart_a_replica_under_load,
                 test_a_restarted_replica_still_loading_fails_nothing,
                 test_sigterm_drains_a_replica_under_load]
        only = [a for a in sys.argv[1:] if a.startswith("test_")]
        if only:
            tests = [t for t in tests if t.__name__ in only]
        code = serval_harness.run_tests(tests)
    except Exception:
        import traceback
        traceback.print_exc()
        print("FAIL: could not set up nginx and the replicas", flush=True)
    finally:
        if code != 0:
            CLUSTER.print_logs()
        CLUSTER.close()
    for line in REPORT:
        print(line, flush=True)
    print(f"total {time.monotonic() - started:.1f}s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
