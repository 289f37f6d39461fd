"""Observability end to end.

1. A real Prometheus (Debian's `prometheus`, on a free loopback port, its
   TSDB in a temp dir, always killed at the end) scrapes serval's /metrics
   every second while a load of N requests runs; the test then asks
   Prometheus' HTTP API for the request counter (must equal N) and for
   histogram_quantile over the request-latency histogram (must be a number).
2. The metrics endpoint itself: content type, families, failure reasons.
3. Logging: a failing request's id is in the log line about it (text and
   JSON), and --log-access writes one line per request with its id.
4. --allow-metrics false serves no /metrics.
"""

import ctypes
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import serval_harness as h

N_CLIENTS = 4
PER_CLIENT = 50
N = N_CLIENTS * PER_CLIENT
DELAY_US = 10000  # 10 ms per execution: the load spans a few scrapes


def add_model(repo, name="m", delay_us=DELAY_US):
    repo.add_identity_model(name, [("IN", "TYPE_FP32", [1])],
                            max_batch_size=0, delay_us=delay_us)


def infer(server, model, request_id, input_name="IN", conn=None):
    body = {"inputs": [{"name": input_name, "shape": [1], "datatype": "FP32",
                        "data": [1.5]}]}
    if request_id is not None:
        body["id"] = request_id
    data = json.dumps(body)
    if conn is None:
        return server.request("POST", f"/v2/models/{model}/infer", body=data)
    conn.request("POST", f"/v2/models/{model}/infer", body=data)
    resp = conn.getresponse()
    return resp.status, {}, resp.read()


def nvml_present():
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
        return True
    except OSError:
        return False


def scrape(server):
    with urllib.request.urlopen(
            f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=10) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def sample(text, name, **labels):
    """The value of the sample `name` whose labels include `labels`."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, value = line.rsplit(" ", 1)
        if head != name and not head.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    raise AssertionError(f"no sample {name} {labels} in:\n{text}")


class Prometheus:
    """A throwaway Prometheus scraping one target every second."""

    def __init__(self, target_port):
        self.dir = tempfile.mkdtemp(prefix="serval-prom-")
        self.port = h.free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: serval\n"
                    "    scrape_interval: 1s\n    scrape_timeout: 1s\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{target_port}']\n")
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        h._LIVE_PROCESSES.add(self.proc)  # killed at exit whatever happens

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        h._LIVE_PROCESSES.discard(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, promql):
        """The instant vector result of `promql` (list of {metric, value})."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": promql}))
        with urllib.request.urlopen(url, timeout=10) as r:
            reply = json.loads(r.read())
        assert reply["status"] == "success", reply
        return reply["data"]["result"]

    def wait_for(self, promql, predicate, timeout_s=60):
        """Polls until the query's first value satisfies predicate."""
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited")
            try:
                result = self.query(promql)
                if result:
                    last = float(result[0]["value"][1])
                    if predicate(last):
                        return last
            except OSError:
                pass  # not listening yet
            time.sleep(0.5)
        raise AssertionError(f"{promql}: last value {last} after {timeout_s}s")


def run_load(server, model):
    errors = []

    def client(index):
        conn = server.http_connection()
        try:
            for k in range(PER_CLIENT):
                status, _, body = infer(server, model, f"load-{index}-{k}",
                                        conn=conn)
                if status != 200:
                    errors.append((status, body))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,))
               for i in range(N_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


def test_prometheus_scrapes_counter_and_latency_histogram(args):
    with h.ModelRepository() as repo:
        add_model(repo)
        with h.Serval(args.serval, args.backends, [repo.path]) as s, \
                Prometheus(s.metrics_port) as prom:
            # A scrape before the load: rate() then sees the counters rise.
            prom.wait_for('up{job="serval"}', lambda v: v == 1)
            prom.wait_for(
                'sum(serval_inference_requests_total{model="m"})',
                lambda v: v == 0)
            start = time.monotonic()
            run_load(s, "m")
            print(f"  load of {N} requests took {time.monotonic() - start:.2f}s")
            total = prom.wait_for(
                'sum(serval_inference_requests_total{model="m"})',
                lambda v: v >= N)
            assert total == N, f"counter {total} != {N} requests sent"
            ok = prom.query('serval_inference_requests_total'
                            '{model="m",outcome="success"}')
            assert float(ok[0]["value"][1]) == N, ok
            p99 = prom.wait_for(
                'histogram_quantile(0.99, sum by (le) (rate('
                'serval_request_duration_seconds_bucket{model="m"}[1m])))',
                lambda v: not math.isnan(v))
            # Each request sleeps 10 ms in the backend and waits behind up
            # to 3 others: p99 is at least the sleep, and well under 10 s.
            assert 0.005 <= p99 <= 10, p99
            executions = prom.query('serval_executions_total{model="m"}')
            assert float(executions[0]["value"][1]) == N, executions
            print(f"  prometheus: requests_total={total:.0f} p99={p99 * 1e3:.1f} ms")
            check_dashboard(prom)


DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                         "..", "deploy", "grafana", "serval.json")


def dashboard_queries():
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def check_dashboard(prom):
    """Every query of the Grafana dashboard parses, and every one not about
    GPUs returns data from this serval."""
    queries = list(dashboard_queries())
    assert len(queries) >= 10, queries
    for title, expr in queries:
        expr = (expr.replace("$__rate_interval", "1m")
                .replace("$model", ".*").replace("$job", ".*"))
        result = prom.query(expr)  # asserts status == success
        if "gpu" not in expr and "failure" not in expr:
            assert result, f"dashboard panel '{title}': no data for {expr}"


def test_endpoint_families_and_failure_reasons(args):
    with h.ModelRepository() as repo:
        add_model(repo, delay_us=0)
        with h.Serval(args.serval, args.backends, [repo.path]) as s:
            assert infer(s, "m", "good")[0] == 200
            assert infer(s, "m", "bad", input_name="NOPE")[0] == 400
            content_type, text = scrape(s)
            assert content_type.startswith("text/plain; version=0.0.4"), \
                content_type
            assert sample(text, "serval_inference_requests_total", model="m",
                          version="1", outcome="success") == 1
            assert sample(text, "serval_inference_requests_total", model="m",
                          reason="invalid") == 1
            assert sample(text, "serval_request_duration_seconds_bucket",
                          model="m", le="+Inf") == 2
            assert sample(text, "serval_batch_size_count", model="m") == 1
            assert sample(text, "serval_queue_depth", model="m") == 0
            assert sample(text, "process_resident_memory_bytes") > 0
            # The kernel counts CPU time in 10 ms ticks: a server that has
            # just started may truly have used 0 s so far.
            assert sample(text, "process_cpu_seconds_total") >= 0
            assert sample(text, "serval_server_inflight_requests") == 0
            # This scrape's own connection is not on the HTTP frontend; a
            # kept-open frontend connection is counted.
            conn = s.http_connection()
            assert infer(s, "m", "kept", conn=conn)[0] == 200
            _, text = scrape(s)
            assert sample(text, "serval_open_connections",
                          frontend="http") >= 1
            conn.close()
            # Without NVML the GPU families are left out (and nothing fails).
            if not nvml_present():
                assert "serval_gpu_" not in text, text
            status = urllib.request.urlopen(
                f"http://127.0.0.1:{s.metrics_port}/metrics").status
            assert status == 200


QUEUED_CONFIG = """
name: "q"
backend: "identity"
max_batch_size: 1
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 1 ] } ]
output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 1 ] } ]
parameters { key: "delay_us" value { string_value: "100000" } }
dynamic_batching { default_queue_policy { max_queue_size: 2 } }
"""


def infer_q(server, request_id, timeout_us=None):
    body = {"id": request_id,
            "inputs": [{"name": "IN", "shape": [1, 1], "datatype": "FP32",
                        "data": [1.0]}]}
    if timeout_us is not None:
        body["parameters"] = {"timeout": timeout_us}
    return server.request("POST", "/v2/models/q/infer",
                          body=json.dumps(body))[0]


def test_rejections_counted_by_reason(args):
    with h.ModelRepository() as repo:
        repo.add_model("q", QUEUED_CONFIG)
        with h.Serval(args.serval, args.backends, [repo.path]) as s:
            # 10 at once at a model that runs one per 100 ms and queues 2.
            statuses = []
            threads = [threading.Thread(
                target=lambda i=i: statuses.append(infer_q(s, f"flood-{i}")))
                for i in range(10)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ok, rejected = statuses.count(200), statuses.count(503)
            assert ok + rejected == 10 and rejected >= 1, statuses
            _, text = scrape(s)
            assert sample(text, "serval_inference_requests_total", model="q",
                          outcome="success") == ok, text
            assert sample(text, "serval_inference_requests_total", model="q",
                          reason="queue_full") == rejected, text
            # A request allowed 1 ms behind a 100 ms execution times out.
            busy = threading.Thread(target=lambda: infer_q(s, "busy"))
            busy.start()
            time.sleep(0.02)
            assert infer_q(s, "late", timeout_us=1000) == 503
            busy.join()
            _, text = scrape(s)
            assert sample(text, "serval_inference_requests_total", model="q",
                          reason="timeout") == 1, text
            # Only executed requests observe the queue histogram.
            assert sample(text, "serval_queue_duration_seconds_count",
                          model="q") == ok + 1, text


def test_failing_request_id_in_log_text(args):
    with h.ModelRepository() as repo:
        add_model(repo, delay_us=0)
        with h.Serval(args.serval, args.backends, [repo.path],
                      log_level="debug") as s:
            status, _, body = infer(s, "m", "req-fail-7", input_name="NOPE")
            assert status == 400, (status, body)
            message = json.loads(body)["error"]
            if "id" in json.loads(body):  # errors carry the request's id
                assert json.loads(body)["id"] == "req-fail-7", body
            s.stop()
            lines = [l for l in s.log_text().splitlines()
                     if "[request req-fail-7]" in l]
            assert lines, s.log_text()[-2000:]
            assert any(message in l for l in lines), (message, lines)


def test_json_log_and_access_log(args):
    with h.ModelRepository() as repo:
        add_model(repo, delay_us=0)
        with h.Serval(args.serval, args.backends, [repo.path],
                      log_level="debug",
                      extra_args=["--log-format", "json", "--log-access"]) as s:
            assert infer(s, "m", "acc-ok")[0] == 200
            assert infer(s, "m", "acc-bad", input_name="NOPE")[0] == 400
            s.stop()
            records = [json.loads(l) for l in s.log_text().splitlines()
                       if l.startswith("{")]
            about = lambda rid: [r for r in records
                                 if r.get("request_id") == rid]
            ok_lines = about("acc-ok")
            assert len(ok_lines) == 1, ok_lines
            assert ok_lines[0]["msg"].startswith("access model=m version=1 "
                                                 "status=OK latency_us="), ok_lines
            bad = about("acc-bad")
            assert any("unknown input 'NOPE'" in r["msg"] for r in bad), bad
            assert any("status=INVALID_ARGUMENT" in r["msg"] for r in bad), bad
            # Lines not about a request carry no request_id.
            assert any("request_id" not in r for r in records)


def test_metrics_can_be_turned_off(args):
    with h.ModelRepository() as repo:
        add_model(repo, delay_us=0)
        with h.Serval(args.serval, args.backends, [repo.path],
                      extra_args=["--allow-metrics", "false"]) as s:
            assert infer(s, "m", "x")[0] == 200
            try:
                scrape(s)
                raise AssertionError("/metrics answered with metrics off")
            except OSError:
                pass


def main():
    args = h.parse_args()
    tests = [test_prometheus_scrapes_counter_and_latency_histogram,
             test_endpoint_families_and_failure_reasons,
             test_rejections_counted_by_reason,
             test_failing_request_id_in_log_text,
             test_json_log_and_access_log,
             test_metrics_can_be_turned_off]
    bound = []
    for t in tests:
        f = (lambda t: lambda: t(args))(t)
        f.__name__ = t.__name__
        bound.append(f)
    return h.run_tests(bound)


if __name__ == "__main__":
    raise SystemExit(main())
