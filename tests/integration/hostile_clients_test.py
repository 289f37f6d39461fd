"""Hostile and careless HTTP clients against a real `serval serve`.

Each test runs a misbehaving client (garbage bytes, TLS to the plain port,
slowloris, hundreds of idle connections, a connection flood, pipelining,
HTTP/1.0, bodies that pin memory) next to a well-behaved one, and checks
that the well-behaved client keeps being served promptly and that the
server answers the hostile one clearly (or closes it within its limits).
Also: JSON responses stay valid JSON (non-finite floats, bytes that are
not UTF-8).
"""

import http.client
import json
import os
import resource
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = serval_harness.parse_args()


def connect(server, timeout=10):
    return socket.create_connection(("127.0.0.1", server.http_port),
                                    timeout=timeout)


def served_quickly(server, limit_s=1.0):
    """A well-behaved client: a fresh connection, one request, timed."""
    start = time.monotonic()
    status, _, _ = server.request("GET", "/v2/health/ready", timeout=5)
    took = time.monotonic() - start
    assert status == 200, status
    assert took < limit_s, f"a good client waited {took:.2f} s"


def read_response(sock):
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    return resp.status, resp.read(), resp


class _SharedReader:
    """Lets several HTTPResponse objects read one after another from one
    buffered reader of a socket (pipelined responses): http.client would
    give each its own buffer, and the first would swallow the next."""

    class _Unclosable:
        def __init__(self, f):
            self._f = f

        def __getattr__(self, name):
            return getattr(self._f, name)

        def close(self):
            pass

    def __init__(self, sock):
        self._f = self._Unclosable(sock.makefile("rb"))

    def makefile(self, *args, **kwargs):
        return self._f


def closed_by_peer(sock, within_s):
    """True when the server closes `sock` within `within_s`."""
    sock.settimeout(within_s)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def main():
    # Hundreds of connections: this process and the server (which inherits
    # the limit) need the descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 2000:
        print(f"SKIP every test: {want} file descriptors at most, 2000 needed")
        return serval_harness.SKIPPED
    with serval_harness.ModelRepository() as repo:
        repo.add_identity_model("fp32", [("INPUT0", "TYPE_FP32", [-1])])
        repo.add_identity_model("bytes", [("INPUT0", "TYPE_STRING", [-1])])
        flags = ["--http-header-timeout-s", "2", "--http-max-connections", "700",
                 "--http-max-pending-body-bytes", "1000000"]
        with serval_harness.Serval(ARGS.serval, ARGS.backends, [repo.path],
                                   extra_args=flags, log_level="warn") as server:
            return run(server, repo)


def run(server, repo):
    def test_garbage_and_tls_get_a_400_at_once():
        hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc])
        for payload in (hello, b"\x00\x01\x02\xff" * 8):
            s = connect(server)
            try:
                start = time.monotonic()
                s.sendall(payload)
                status, body, _ = read_response(s)
                assert status == 400, status
                assert b"not a request line" in body, body
                assert time.monotonic() - start < 2
            finally:
                s.close()
        served_quickly(server)

    def test_http_1_0_without_keep_alive_is_closed_after_the_response():
        s = connect(server)
        try:
            s.sendall(b"GET /v2/health/ready HTTP/1.0\r\n\r\n")
            status, _, _ = read_response(s)
            assert status == 200
            assert closed_by_peer(s, 2.0), "HTTP/1.0 connection left open"
        finally:
            s.close()
        # With keep-alive asked for, it stays open for the next request.
        s = connect(server)
        try:
            s.sendall(b"GET /v2/health/ready HTTP/1.0\r\n"
                      b"Connection: keep-alive\r\n\r\n")
            assert read_response(s)[0] == 200
            s.sendall(b"GET /v2/health/live HTTP/1.0\r\n\r\n")
            assert read_response(s)[0] == 200
        finally:
            s.close()

    def test_slowloris_is_cut_off_and_good_clients_are_served():
        dribblers = [connect(server) for _ in range(100)]
        stop = threading.Event()

        def dribble():
            i = 0
            while not stop.is_set():
                for s in dribblers:
                    try:
                        s.send(b"GET /v2/health/ready HTTP/1.1\r\nX-A: "[i:i + 1]
                               if i < 36 else b"a")
                    except OSError:
                        pass
                i += 1
                time.sleep(0.2)

        t = threading.Thread(target=dribble)
        t.start()
        try:
            for _ in range(5):
                served_quickly(server)
                time.sleep(0.3)
            # The header timeout (2 s here) closes every dribbler.
            time.sleep(1.5)
            closed = sum(closed_by_peer(s, 1.0) for s in dribblers)
            assert closed == len(dribblers), f"{closed} of {len(dribblers)} closed"
        finally:
            stop.set()
            t.join()
            for s in dribblers:
                s.close()

    def test_hundreds_of_idle_connections_do_not_slow_a_request():
        idle = [connect(server) for _ in range(500)]
        try:
            for _ in range(5):
                served_quickly(server, limit_s=0.5)
        finally:
            for s in idle:
                s.close()

    def test_beyond_the_connection_limit_a_503_says_why():
        held = [connect(server) for _ in range(700)]
        try:
            time.sleep(0.3)
            s = connect(server)
            try:
                s.sendall(b"GET /v2/health/ready HTTP/1.1\r\n\r\n")
                status, body, _ = read_response(s)
                assert status == 503, status
                assert b"too many connections" in body, body
            finally:
                s.close()
        finally:
            for s in held:
                s.close()
        time.sleep(0.3)
        served_quickly(server)

    def test_a_connection_flood_leaves_the_server_serving():
        stop = threading.Event()

        def flood():
            while not stop.is_set():
                try:
                    connect(server, timeout=2).close()
                except OSError:
                    pass

        threads = [threading.Thread(target=flood) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            for _ in range(5):
                served_quickly(server, limit_s=2.0)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert server.alive()

    def test_pipelined_requests_are_answered_in_order():
        s = connect(server)
        try:
            paths = ["/v2/health/ready", "/v2/models/fp32", "/v2/health/live",
                     "/v2/models/bytes"] * 10
            s.sendall(b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                               for p in paths))
            reader = _SharedReader(s)
            for p in paths:
                status, body, _ = read_response(reader)
                assert status == 200, (p, status)
                if p.startswith("/v2/models/"):
                    assert json.loads(body)["name"] == p.rsplit("/", 1)[1]
        finally:
            s.close()

    def test_bodies_over_the_server_wide_budget_get_a_503():
        # One upload holds 900 kB of the 1 MB budget while it is sent.
        holder = connect(server)
        body = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32",
                                       "shape": [1], "data": [1.0]}]})
        try:
            holder.sendall(b"POST /v2/models/fp32/infer HTTP/1.1\r\n"
                           b"Content-Type: application/json\r\n"
                           b"Content-Length: 900000\r\n\r\n" + b" " * 1000)
            time.sleep(0.3)
            status, _, data = server.request(
                "POST", "/v2/models/fp32/infer", body=" " * 200000 + body,
                headers={"Content-Type": "application/json"})
            assert status == 503, status
            assert b"too many request bodies" in data, data
            # Small requests still fit.
            status, _, _ = server.request(
                "POST", "/v2/models/fp32/infer", body=body,
                headers={"Content-Type": "application/json"})
            assert status == 200, status
        finally:
            holder.close()
        time.sleep(0.3)
        # Its share is back once the holder is gone.
        status, _, _ = server.request(
            "POST", "/v2/models/fp32/infer", body=" " * 200000 + body,
            headers={"Content-Type": "application/json"})
        assert status == 200, status

    def test_json_responses_stay_valid_json():
        def strict(text):
            def refuse(name):
                raise ValueError(f"bare {name} in JSON")
            return json.loads(text, parse_constant=refuse)

        # Non-finite FP32 outputs.
        raw = struct.pack("<3f", float("nan"), float("inf"), float("-inf"))
        header = json.dumps({"inputs": [{
            "name": "INPUT0", "datatype": "FP32", "shape": [3],
            "parameters": {"binary_data_size": len(raw)}}]}).encode()
        status, _, data = server.request(
            "POST", "/v2/models/fp32/infer", body=header + raw,
            headers={"Inference-Header-Content-Length": str(len(header))})
        assert status == 200, data
        out = strict(data.decode("utf-8"))["outputs"][0]["data"]
        assert out == ["NaN", "Infinity", "-Infinity"], out
        # BYTES that are not UTF-8, and a request id that is not either.
        elems = [b"ok", b"\xff\xfe", "h\u00e9".encode()]
        raw = b"".join(struct.pack("<I", len(e)) + e for e in elems)
        header = (b'{"id":"id-\xff","inputs":[{"name":"INPUT0",'
                  b'"datatype":"BYTES","shape":[3],"parameters":'
                  b'{"binary_data_size":' + str(len(raw)).encode() + b'}}]}')
        status, _, data = server.request(
            "POST", "/v2/models/bytes/infer", body=header + raw,
            headers={"Inference-Header-Content-Length": str(len(header))})
        if status == 200:
            doc = strict(data.decode("utf-8"))  # raises on invalid UTF-8
            assert doc["outputs"][0]["data"] == ["ok", "\ufffd\ufffd", "h\u00e9"], doc
        else:
            # Refused (the id is not UTF-8): the error body is still JSON.
            strict(data.decode("utf-8"))

    return serval_harness.run_tests(
        [test_garbage_and_tls_get_a_400_at_once,
         test_http_1_0_without_keep_alive_is_closed_after_the_response,
         test_slowloris_is_cut_off_and_good_clients_are_served,
         test_hundreds_of_idle_connections_do_not_slow_a_request,
         test_beyond_the_connection_limit_a_503_says_why,
         test_a_connection_flood_leaves_the_server_serving,
         test_pipelined_requests_are_answered_in_order,
         test_bodies_over_the_server_wide_budget_get_a_503,
         test_json_responses_stay_valid_json], server)


if __name__ == "__main__":
    sys.exit(main())
