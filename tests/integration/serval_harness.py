"""Starts and stops the real `serval serve` binary for integration tests.

Standard library only (run with /usr/bin/python3). A test builds a temporary
model repository (identity models are one call), starts serval on free
loopback ports, waits until GET /v2/health/ready answers 200 (with a
deadline), and always stops the process: on `stop()`, on leaving a `with`
block, and at interpreter exit. The server's log goes to a file that is
printed when a test fails.

    args = serval_harness.parse_args()
    with serval_harness.ModelRepository() as repo:
        repo.add_identity_model("id_fp32", [("INPUT0", "TYPE_FP32", [-1])])
        with serval_harness.Serval(args.serval, args.backends, [repo.path]) as s:
            conn = s.http_connection()
"""

import argparse
import atexit
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

_LIVE_PROCESSES = set()


def _kill_leftovers():
    for proc in list(_LIVE_PROCESSES):
        if proc.poll() is None:
            proc.kill()
            proc.wait()


atexit.register(_kill_leftovers)

# Lines a sanitizer writes when it finds a bug (sanitizer builds only,
# scripts/test_sanitized.sh). A server whose log holds one fails the test
# script, whatever its tests said: the report would otherwise go unseen
# in a log nobody reads.
_SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer: detected",
                      "runtime error:", "WARNING: ThreadSanitizer")
_SANITIZER_REPORTS = []


def _fail_on_sanitizer_reports():
    if _SANITIZER_REPORTS:
        for log_path, lines in _SANITIZER_REPORTS:
            sys.stderr.write(f"----- sanitizer report in {log_path} -----\n")
            sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.write("FAIL: a serval process reported a sanitizer error\n")
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(1)


atexit.register(_fail_on_sanitizer_reports)


def wait_for(predicate, timeout_s, what, interval_s=0.05):
    """Polls predicate() until it is true; AssertionError naming `what`
    after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def free_port():
    """A TCP port free on 127.0.0.1 right now (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args(argv=None):
    """--serval PATH --backends DIR, as tests/integration/CMakeLists.txt passes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--serval", required=True, help="path to the serval binary")
    parser.add_argument("--backends", required=True, help="backend directory")
    args, _ = parser.parse_known_args(argv)
    return args


class ModelRepository:
    """A temporary model repository, removed on close()."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="serval-repo-")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def add_model(self, name, config_pbtxt, versions=(1,), files=None):
        """Writes <name>/config.pbtxt, version dirs and {relpath: bytes} files."""
        root = os.path.join(self.path, name)
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "config.pbtxt"), "w") as f:
            f.write(config_pbtxt)
        for v in versions:
            os.makedirs(os.path.join(root, str(v)), exist_ok=True)
        for rel, data in (files or {}).items():
            full = os.path.join(root, rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        return root

    def add_identity_model(self, name, inputs, max_batch_size=0, delay_us=None,
                           versions=(1,), output_prefix="OUTPUT"):
        """An identity-backend model; inputs are (name, TYPE_x, dims) and
        output i is named f"{output_prefix}{i}" with input i's type/dims."""
        lines = [f'name: "{name}"', 'backend: "identity"',
                 f"max_batch_size: {max_batch_size}"]
        for kind, prefix in (("input", None), ("output", output_prefix)):
            for i, (in_name, dtype, dims) in enumerate(inputs):
                tensor_name = in_name if prefix is None else f"{prefix}{i}"
                dims_text = ", ".join(str(d) for d in dims)
                lines.append(f'{kind} [ {{ name: "{tensor_name}" '
                             f"data_type: {dtype} dims: [ {dims_text} ] }} ]")
        if delay_us is not None:
            lines.append('parameters { key: "delay_us" value { string_value: '
                         f'"{delay_us}" }} }}')
        return self.add_model(name, "\n".join(lines) + "\n", versions=versions)


class Serval:
    """One `serval serve` process on free loopback ports.

    Attributes after start(): http_port, grpc_port, metrics_port, log_path.
    """

    def __init__(self, serval, backends, repositories, extra_args=(),
                 log_level="info", ready_timeout_s=60.0, env=None,
                 ssl_context=None):
        """ssl_context: an ssl.SSLContext for a server started with
        --http-use-ssl; the HTTP helpers then speak HTTPS with it."""
        self.serval = serval
        self.ssl_context = ssl_context
        self.backends = backends
        self.repositories = list(repositories)
        self.extra_args = list(extra_args)
        self.log_level = log_level
        self.ready_timeout_s = ready_timeout_s
        self.env = env
        self.proc = None
        self.http_port = self.grpc_port = self.metrics_port = None
        self._log_dir = tempfile.mkdtemp(prefix="serval-log-")
        self.log_path = os.path.join(self._log_dir, "serval.log")
        self._log_file = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.print_log()
        self.stop()

    def command(self):
        cmd = [self.serval, "serve"]
        for repo in self.repositories:
            cmd += ["--model-repository", repo]
        cmd += ["--backend-directory", self.backends,
                "--http-port", str(self.http_port),
                "--grpc-port", str(self.grpc_port),
                "--metrics-port", str(self.metrics_port),
                "--log-level", self.log_level]
        return cmd + self.extra_args

    def start(self):
        self.http_port, self.grpc_port, self.metrics_port = _distinct_ports(3)
        self._launch("wb")

    def _launch(self, log_mode):
        """Runs command() with its output in the log (opened with
        log_mode) and waits until it is ready; stops it on failure."""
        self._log_file = open(self.log_path, log_mode)
        self.proc = subprocess.Popen(self.command(), stdout=self._log_file,
                                     stderr=subprocess.STDOUT, env=self.env)
        _LIVE_PROCESSES.add(self.proc)
        try:
            self.wait_ready()
        except Exception:
            self.print_log()
            self.stop()
            raise

    def wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout_s
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"serval exited with code {self.proc.returncode} before "
                    "it was ready")
            try:
                status, _, _ = self.request("GET", "/v2/health/ready", timeout=2)
                if status == 200:
                    return
                last_error = f"status {status}"
            except OSError as e:
                last_error = str(e)
            time.sleep(0.05)
        raise TimeoutError(f"serval not ready after {self.ready_timeout_s}s "
                           f"(last: {last_error})")

    def restart(self):
        """Starts serval again on the ports it had (after stop(), a kill or
        a crash), appending to the same log, and waits until it is ready."""
        if self.alive():
            raise RuntimeError("serval is still running")
        self.stop()  # reaps the old process, closes its log
        self._launch("ab")

    def stop(self, timeout_s=15.0):
        """SIGTERM, then SIGKILL after timeout_s. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        _LIVE_PROCESSES.discard(self.proc)
        if self._log_file:
            self._log_file.close()
            self._log_file = None
            self._check_sanitizer_report()
        return self.proc.returncode

    def _check_sanitizer_report(self):
        lines = self.log_text().splitlines()
        for i, line in enumerate(lines):
            if any(m in line for m in _SANITIZER_MARKERS):
                _SANITIZER_REPORTS.append((self.log_path, lines[i:i + 40]))
                return

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_bytes(self):
        """The server's resident memory now (VmRSS)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def print_log(self, tail_lines=200):
        lines = self.log_text().splitlines()[-tail_lines:]
        sys.stderr.write(f"----- serval log ({self.log_path}) -----\n")
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.write("----- end of serval log -----\n")

    # HTTP helpers -------------------------------------------------------
    def http_connection(self, timeout=30):
        if self.ssl_context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.http_port,
                                               timeout=timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection("127.0.0.1", self.http_port,
                                          timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a fresh connection: (status, headers dict, body bytes)."""
        conn = self.http_connection(timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()


def _distinct_ports(n):
    ports = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


# Exit code CTest reads as "skipped" (SKIP_RETURN_CODE in
# tests/integration/CMakeLists.txt).
SKIPPED = 77


class Skip(Exception):
    """Raised by a test that cannot run here (say why); it is reported as
    skipped, never as passed."""


def unittest_main(servers=lambda: ()):
    """Runs the calling script's unittest tests (without --serval and
    --backends in argv); on a failure prints the log of each server in
    `servers()`. Returns the exit code: 1 on a failure, SKIPPED when the
    module could not set up and nothing ran, else 0."""
    import unittest
    args = parse_args()
    argv = [sys.argv[0]] + [a for a in sys.argv[1:] if a not in (
        "--serval", args.serval, "--backends", args.backends)]
    result = unittest.main(module="__main__", argv=argv, exit=False,
                           verbosity=2).result
    if not result.wasSuccessful():
        for server in servers():
            if server is not None:
                server.print_log(80)
        return 1
    return SKIPPED if result.skipped and not result.testsRun else 0


def run_tests(tests, server=None):
    """Runs callables in order; prints PASS/FAIL/SKIP lines and, on any
    failure, the server log. Returns the process exit code: 1 when a test
    failed, SKIPPED when none failed but some could not run, else 0."""
    failed, skipped = [], []
    for test in tests:
        name = test.__name__
        start = time.monotonic()
        try:
            test()
            print(f"PASS {name} ({time.monotonic() - start:.2f}s)", flush=True)
        except Skip as why:
            skipped.append(name)
            print(f"SKIP {name}: {why}", flush=True)
        except Exception:  # report every failure, then go on
            failed.append(name)
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
    if failed and server is not None:
        server.print_log()
    passed = len(tests) - len(failed) - len(skipped)
    print(f"{passed}/{len(tests)} passed"
          + (f"; skipped: {', '.join(skipped)}" if skipped else "")
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    if failed:
        return 1
    return SKIPPED if skipped else 0
