"""`serval tune` against a real `serval serve` in explicit mode.

Tunes an identity model over a small space with short windows and checks
what a user relies on: every point of a brute grid measured once, the
outputs (CSV, JSON, report, config.pbtxt), resuming from the results file,
limits, constraints, --apply, never overwriting a user's file, the server
left with the configuration it was serving, a serval of its own started
and stopped, Ctrl-C, and the HTML report rendered by headless Chromium
with its charts drawn and no console error.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = serval_harness.parse_args()
MODEL = "tune_identity"
CONFIG = f"""
name: "{MODEL}"
backend: "identity"
max_batch_size: 8
input [ {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] }} ]
output [ {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] }} ]
instance_group [ {{ count: 1 kind: KIND_CPU }} ]
dynamic_batching {{ max_queue_delay_microseconds: 100 }}
"""
# Short windows: these tests check behaviour, not figures.
FAST = ["-p", "300", "--warmup", "0.2", "-r", "3", "--no-progress"]
GRID = ["--instances", "1,2", "--max-batch-size", "1,8",
        "--queue-delay-us", "0", "--preferred", "none",
        "--concurrency", "2,4"]
GRID_POINTS = 2 * 2 * 2


def tune(server, out_dir, *extra, timeout=240, check=True, window_ms=300):
    fast = ["-p", str(window_ms)] + FAST[2:]
    cmd = [ARGS.serval, "tune", "-m", MODEL,
           "-u", f"127.0.0.1:{server.http_port}",
           "--metrics-url", f"127.0.0.1:{server.metrics_port}",
           "-o", out_dir, *fast, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{cmd}: {proc.returncode}\n{proc.stderr}"
    return proc


def served_config(server):
    status, _, body = server.request("GET", f"/v2/models/{MODEL}/config")
    assert status == 200, (status, body)
    return json.loads(body)


def load_trials(out_dir):
    with open(os.path.join(out_dir, "trials.json")) as f:
        return json.load(f)


def main():
    work = tempfile.mkdtemp(prefix="serval-tune-test-")
    try:
        with serval_harness.ModelRepository() as repo:
            repo.add_model(MODEL, CONFIG)
            with serval_harness.Serval(
                    ARGS.serval, ARGS.backends, [repo.path],
                    extra_args=["--model-control-mode", "explicit",
                                "--load-model", MODEL],
                    log_level="warn") as server:
                return run(server, repo, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(server, repo, work):
    original = served_config(server)
    grid_dir = os.path.join(work, "grid")

    def test_brute_measures_every_point_once_and_restores_the_server():
        proc = tune(server, grid_dir, "--search", "brute", *GRID)
        data = load_trials(grid_dir)
        trials = data["trials"]
        assert len(trials) == GRID_POINTS, proc.stderr
        keys = [t["key"] for t in trials]
        assert len(set(keys)) == GRID_POINTS, keys
        for t in trials:
            assert t["error"] == "", t
            assert t["throughput"] > 0 and t["p99_ms"] > 0, t
            assert t["rss_mb"] > 0 and t["cpu_cores"] > 0, t
            assert t["load_ms"] > 0 and t["setup_ms"] >= 0, t
        assert data["best"] in keys and data["baseline"] in keys, data
        # The baseline is the model's own configuration.
        base = next(t for t in trials if t["key"] == data["baseline"])
        assert base["instances"] == 1 and base["max_batch_size"] == 8, base
        with open(os.path.join(grid_dir, "trials.csv")) as f:
            lines = f.read().splitlines()
        assert len(lines) == GRID_POINTS + 1, lines
        assert lines[0].startswith("model,instances,threads,"), lines[0]
        lines = proc.stderr.splitlines()
        assert sum(1 for ln in lines if re.match(r"\[\d+/8\] ", ln)) == 8, proc.stderr
        assert re.search(r"8 trials in [\d.]+ minutes; the best is", proc.stderr), proc.stderr
        with open(os.path.join(grid_dir, "config.pbtxt")) as f:
            best = f.read()
        assert best.startswith("# Written by serval tune"), best
        assert f'name: "{MODEL}"' in best and "max_batch_size" in best, best
        # Left as it was found.
        assert served_config(server) == original

    def test_a_rerun_resumes_without_measuring_again():
        start = time.monotonic()
        proc = tune(server, grid_dir, "--search", "brute", *GRID)
        assert f"resuming: {GRID_POINTS} trials" in proc.stderr, proc.stderr
        assert proc.stderr.count("(resumed)") == GRID_POINTS, proc.stderr
        # Eight trials of >= 0.5 s each were not measured again.
        assert time.monotonic() - start < 4, proc.stderr
        assert len(load_trials(grid_dir)["trials"]) == GRID_POINTS

    def test_other_measurement_settings_do_not_resume():
        proc = tune(server, grid_dir, "--search", "brute", *GRID,
                    window_ms=400, check=False)
        assert proc.returncode != 0
        assert "measured with other settings" in proc.stderr, proc.stderr
        assert "--fresh" in proc.stderr, proc.stderr

    def test_report_renders_in_headless_chromium():
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        if not os.path.exists(chromium):
            raise serval_harness.Skip("Debian's chromium is not installed")
        report = os.path.join(grid_dir, "report.html")
        profile = tempfile.mkdtemp(prefix="chromium-", dir=work)
        proc = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             f"--user-data-dir={profile}", "--enable-logging=stderr",
             "--v=0", "--dump-dom", "file://" + report],
            capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        dom = proc.stdout
        # The script ran to its end and counted the three charts.
        assert 'data-rendered="3"' in dom, dom[:500]
        assert dom.count("<circle") >= 2 * GRID_POINTS, dom.count("<circle")
        assert dom.count("<rect class=\"bar\"") >= 5, dom.count("<rect")
        assert dom.count("<tr class=") == GRID_POINTS
        console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
        assert console == [], console

    def test_quick_search_keeps_to_max_trials():
        out = os.path.join(work, "quick")
        proc = tune(server, out, "--max-trials", "3",
                    "--concurrency", "1,2,4,8")
        assert len(load_trials(out)["trials"]) == 3, proc.stderr
        assert "stopped early (--max-trials 3)" in proc.stderr, proc.stderr
        assert served_config(server) == original

    def test_apply_leaves_the_best_configuration_loaded():
        out = os.path.join(work, "apply")
        tune(server, out, "--search", "brute", "--instances", "2",
             "--max-batch-size", "4", "--queue-delay-us", "0",
             "--preferred", "none", "--concurrency", "2", "--apply")
        applied = served_config(server)
        assert applied["max_batch_size"] == 4, applied
        assert applied["instance_group"][0]["count"] == 2, applied
        status, _, body = server.request(
            "POST", f"/v2/repository/models/{MODEL}/load", "{}")
        assert status == 200, body
        assert served_config(server) == original

    def test_a_users_file_is_replaced_only_with_write():
        out = os.path.join(work, "write")
        mine = os.path.join(work, "my_config.pbtxt")
        with open(mine, "w") as f:
            f.write("mine\n")
        small = ["--search", "brute", "--instances", "1",
                 "--max-batch-size", "8", "--queue-delay-us", "0",
                 "--preferred", "none", "--concurrency", "2"]
        proc = tune(server, out, *small, "--config-out", mine, check=False)
        assert proc.returncode != 0 and "--write" in proc.stderr, proc.stderr
        assert not os.path.exists(os.path.join(out, "trials.json"))
        with open(mine) as f:
            assert f.read() == "mine\n"
        tune(server, out, *small, "--config-out", mine, "--write")
        with open(mine) as f:
            assert f.read().startswith("# Written by serval tune")

    def test_unmet_constraints_say_so_and_restore():
        out = os.path.join(work, "unmet")
        proc = tune(server, out, "--search", "brute", "--instances", "1",
                    "--max-batch-size", "8", "--queue-delay-us", "0",
                    "--preferred", "none", "--concurrency", "2",
                    "--max-p99-ms", "0.000001", check=False)
        assert proc.returncode == 1, proc.stderr
        assert "no configuration met the constraints" in proc.stderr, proc.stderr
        assert os.path.exists(os.path.join(out, "report.html"))
        assert not os.path.exists(os.path.join(out, "config.pbtxt"))
        assert served_config(server) == original

    def test_request_rate_mode_finds_the_cheapest():
        out = os.path.join(work, "rate")
        proc = tune(server, out, "--search", "brute", "--instances", "1,2",
                    "--max-batch-size", "8", "--queue-delay-us", "0",
                    "--preferred", "none", "--request-rate", "200",
                    "--max-p99-ms", "200")
        data = load_trials(out)
        assert data["objective"].startswith("cpu=1"), data["objective"]
        assert "throughput >= 190" in data["objective"], data["objective"]
        for t in data["trials"]:
            assert t["load"] == 200, t
            assert 120 < t["throughput"] < 280, t
        assert "rate 200" in proc.stderr, proc.stderr

    def test_bad_requests_are_clear_errors():
        out = os.path.join(work, "bad")
        proc = subprocess.run(
            [ARGS.serval, "tune", "-m", "no_such_model", "-u",
             f"127.0.0.1:{server.http_port}", "-o", out, *FAST],
            capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1 and "no_such_model" in proc.stderr, proc.stderr
        proc = tune(server, out, "--request-rate", "10", check=False)
        assert proc.returncode != 0 and "--max-p99-ms" in proc.stderr, proc.stderr
        proc = tune(server, out, "--objective", "speed", check=False)
        assert proc.returncode != 0 and "speed" in proc.stderr, proc.stderr
        proc = tune(server, out, "--max-batch-size", "0,8", check=False)
        assert proc.returncode != 0 and "max_batch_size" in proc.stderr, proc.stderr
        assert served_config(server) == original

    def test_ctrl_c_restores_the_server_and_keeps_the_trials():
        out = os.path.join(work, "interrupt")
        cmd = [ARGS.serval, "tune", "-m", MODEL,
               "-u", f"127.0.0.1:{server.http_port}", "-o", out, *FAST,
               "--concurrency", "1,2,4,8,16"]
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        try:
            seen = []
            for line in proc.stderr:
                seen.append(line)
                if line.startswith("[2/<=80] "):
                    proc.send_signal(signal.SIGINT)
                    break
            rest = proc.communicate(timeout=60)[1]
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, "".join(seen) + rest
        assert "stopped early (interrupted)" in rest, rest
        trials = load_trials(out)["trials"]
        assert 2 <= len(trials) <= 3, trials
        assert served_config(server) == original
        # And the next run starts from there.
        again = tune(server, out, "--max-trials", "1",
                     "--concurrency", "1,2,4,8,16")
        assert f"resuming: {len(trials)} trials" in again.stderr, again.stderr

    def test_a_serval_of_its_own_is_started_and_stopped():
        out = os.path.join(work, "own")
        cmd = [ARGS.serval, "tune", "-m", MODEL, "--model-repository",
               repo.path, "--backend-directory", ARGS.backends, "-o", out,
               *FAST, "--search", "brute", "--instances", "1,2",
               "--max-batch-size", "8", "--queue-delay-us", "0",
               "--preferred", "none", "--concurrency", "2"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr
        assert "starting serval on" in proc.stderr, proc.stderr
        assert "not loaded on the server" not in proc.stderr, proc.stderr
        assert len(load_trials(out)["trials"]) == 2
        assert os.path.exists(os.path.join(out, "server.log"))
        # No serval of ours is left running on that repository.
        left = subprocess.run(["pgrep", "-f",
                               "serve --model-control-mode explicit --http-address 127.0.0.1"],
                              capture_output=True, text=True)
        assert left.stdout.strip() == "", left.stdout

    return serval_harness.run_tests(
        [test_brute_measures_every_point_once_and_restores_the_server,
         test_a_rerun_resumes_without_measuring_again,
         test_other_measurement_settings_do_not_resume,
         test_report_renders_in_headless_chromium,
         test_quick_search_keeps_to_max_trials,
         test_apply_leaves_the_best_configuration_loaded,
         test_a_users_file_is_replaced_only_with_write,
         test_unmet_constraints_say_so_and_restore,
         test_request_rate_mode_finds_the_cheapest,
         test_bad_requests_are_clear_errors,
         test_ctrl_c_restores_the_server_and_keeps_the_trials,
         test_a_serval_of_its_own_is_started_and_stopped], server)


if __name__ == "__main__":
    sys.exit(main())
