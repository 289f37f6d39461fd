"""`serval perf` against a real `serval serve`.

Runs the load generator for a few seconds against an identity model over
HTTP (JSON and binary), gRPC and in open loop, and checks what it reports:
throughput > 0, no errors, and the server-side breakdown read from the
statistics endpoint.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = serval_harness.parse_args()
MODEL = "perf_identity"


def run_perf(server, *extra, protocol="http", window_ms=1000, warmup_s=0.5,
             windows=3):
    port = server.grpc_port if protocol == "grpc" else server.http_port
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "perf.json")
        csv_path = os.path.join(d, "perf.csv")
        cmd = [ARGS.serval, "perf", "-m", MODEL, "-i", protocol,
               "-u", f"127.0.0.1:{port}", "-p", str(window_ms), "--warmup",
               str(warmup_s), "-r", str(windows), "--json", out, "--csv",
               csv_path, *extra]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{cmd}: {proc.returncode}\n{proc.stderr}"
        with open(out) as f:
            report = json.load(f)
        with open(csv_path) as f:
            csv_lines = f.read().splitlines()
        return report, csv_lines, proc.stdout


def check_step(step):
    assert step["throughput_rps"] > 0, step
    assert step["successes"] > 0, step
    assert step["errors"] == 0 and step["errors_by_code"] == {}, step
    lat = step["latency_us"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], lat
    server = step["server_us"]
    assert server is not None, "no server-side breakdown"
    # Statistics snapshots bracket the windows: the server saw roughly the
    # requests the client counted (those in flight at a boundary may move).
    assert server["requests"] >= step["successes"] * 0.9, (server, step)
    for key in ("queue", "compute_input", "compute_infer", "compute_output"):
        assert server[key] >= 0, server
    assert server["request"] > 0 and server["avg_batch"] >= 1, server


def main():
    with serval_harness.ModelRepository() as repo:
        repo.add_model(MODEL, f"""
name: "{MODEL}"
backend: "identity"
max_batch_size: 8
input [ {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] }} ]
output [ {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] }} ]
dynamic_batching {{ }}
""")
        with serval_harness.Serval(ARGS.serval, ARGS.backends, [repo.path],
                                   log_level="warn") as server:

            def test_http_closed_loop_two_steps():
                report, csv_lines, table = run_perf(
                    server, "--concurrency-range", "1:4:3")
                assert report["protocol"] == "http-json", report
                steps = report["steps"]
                assert [s["level"] for s in steps] == [1, 4], steps
                for s in steps:
                    assert s["mode"] == "concurrency"
                    check_step(s)
                    assert s["windows"] >= 3, s
                assert len(csv_lines) == 3 and csv_lines[0].startswith("model,"), csv_lines
                assert "req/s" in table and "queue" in table, table

            def test_http_binary_with_batch():
                report, _, _ = run_perf(server, "--encoding", "binary",
                                        "-b", "4", "--concurrency-range", "2")
                step = report["steps"][0]
                check_step(step)
                assert step["inferences_per_s"] == 4 * step["throughput_rps"]

            def test_grpc():
                report, _, _ = run_perf(server, "--concurrency-range", "2",
                                        protocol="grpc")
                check_step(report["steps"][0])

            def test_open_loop_poisson():
                report, _, _ = run_perf(server, "--request-rate-range", "200",
                                        "--request-distribution", "poisson")
                step = report["steps"][0]
                assert step["mode"] == "rate"
                check_step(step)
                # An open loop offers its rate whatever the server does.
                assert 120 < step["throughput_rps"] < 280, step

            def test_input_file_and_bad_model():
                with tempfile.NamedTemporaryFile("w", suffix=".json",
                                                 delete=False) as f:
                    json.dump({"inputs": [{"name": "INPUT0", "shape": [1, 16],
                                           "datatype": "FP32",
                                           "data": [[0.5] * 16]}]}, f)
                try:
                    report, _, _ = run_perf(server, "--input-data", f.name)
                    check_step(report["steps"][0])
                finally:
                    os.unlink(f.name)
                proc = subprocess.run(
                    [ARGS.serval, "perf", "-m", "no_such_model", "-u",
                     f"127.0.0.1:{server.http_port}"],
                    capture_output=True, text=True, timeout=60)
                assert proc.returncode != 0
                assert "no_such_model" in proc.stderr, proc.stderr

            def test_connection_closed_while_idle_is_not_an_error():
                # A server closes keep-alive connections idle longer than its
                # read timeout; at one request every 2 s against a 1 s
                # timeout, every request after the first finds its
                # connection closed, and is sent again on a fresh one.
                with serval_harness.Serval(
                        ARGS.serval, ARGS.backends, [repo.path], log_level="warn",
                        extra_args=["--http-read-timeout-s", "1"]) as quick:
                    report, _, _ = run_perf(
                        quick, "--request-rate-range", "0.5",
                        "--request-distribution", "constant",
                        window_ms=6500, warmup_s=0, windows=1)
                step = report["steps"][0]
                assert step["errors"] == 0, step
                assert step["successes"] >= 3, step

            return serval_harness.run_tests(
                [test_http_closed_loop_two_steps, test_http_binary_with_batch,
                 test_grpc, test_open_loop_poisson,
                 test_input_file_and_bad_model,
                 test_connection_closed_while_idle_is_not_an_error], server)


if __name__ == "__main__":
    sys.exit(main())
