"""TLS and access control of the real `serval serve`, with real clients.

Certificates are made at test time with the `openssl` command (a CA, two
server certificates for 127.0.0.1, a client certificate the CA signed and
one it did not). Python's ssl and http.client speak HTTPS, Debian's grpcio
speaks gRPC over TLS, and `openssl s_client` checks what the listeners
present and which protocol versions they accept.

Run with /usr/bin/python3 (Debian's grpcio, protobuf). Skipped (77) when
openssl or grpcio is missing.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

try:
    import grpc
    import grpc_support
except ImportError:  # reported as a skip below
    grpc = None

ARGS = serval_harness.parse_args()
MODEL = "id_fp32"
ADMIN_TOKEN = "admin-token-7f3a"
INFER_KEY = "infer-key-91c2"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificates(d):
    """ca.crt; server.{crt,key} (CN serval-one), server2.{crt,key} (CN
    serval-two), both for 127.0.0.1; client.{crt,key} signed by the CA;
    rogue.{crt,key} self-signed."""
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.crt", "-days", "2", "-subj", "/CN=serval-test-ca",
            cwd=d)
    for name, cn, extra in (("server", "serval-one", ["-extfile", ext]),
                            ("server2", "serval-two", ["-extfile", ext]),
                            ("client", "serval-client", [])):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={cn}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt",
                "-CAkey", "ca.key", "-CAcreateserial", "-out", f"{name}.crt",
                "-days", "2", *extra, cwd=d)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "rogue.key",
            "-out", "rogue.crt", "-days", "2", "-subj", "/CN=rogue", cwd=d)


def client_context(d, cert=None):
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
    if cert:
        ctx.load_cert_chain(os.path.join(d, f"{cert}.crt"),
                            os.path.join(d, f"{cert}.key"))
    return ctx


def peer_common_name(port, d):
    """The CN of the certificate a listener presents to a new connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with client_context(d).wrap_socket(raw,
                                           server_hostname="127.0.0.1") as s:
            subject = dict(x[0] for x in s.getpeercert()["subject"])
            return subject["commonName"]


def s_client(port, *args):
    """`openssl s_client` against a port; (exit code, output)."""
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
        input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=20)
    return proc.returncode, proc.stdout.decode(errors="replace")


def infer_body():
    return json.dumps({"inputs": [{"name": "INPUT0", "shape": [3],
                                   "datatype": "FP32",
                                   "data": [1.0, 2.0, 3.0]}]})


class Fixture:
    certs = None
    repo = None
    server = None  # TLS + access control, no client certificates
    mutual = None  # mutual TLS
    pb = pb_grpc = None


def setUpModule():
    if shutil.which("openssl") is None:
        raise unittest.SkipTest("the openssl command is missing")
    if grpc is None:
        raise unittest.SkipTest("Debian's python3-grpcio is missing")
    Fixture.certs = tempfile.mkdtemp(prefix="serval-tls-")
    make_certificates(Fixture.certs)
    token_file = os.path.join(Fixture.certs, "admin.token")
    with open(token_file, "w") as f:
        f.write(ADMIN_TOKEN + "\n")
    stubs = tempfile.mkdtemp(prefix="serval-stubs-")
    Fixture.pb, Fixture.pb_grpc, _, _ = grpc_support.generate_stubs(stubs)
    Fixture.repo = serval_harness.ModelRepository()
    Fixture.repo.add_identity_model(MODEL, [("INPUT0", "TYPE_FP32", [-1])])
    c = Fixture.certs
    # Copies, so the reload test can replace them.
    for name in ("server.crt", "server.key"):
        shutil.copy(os.path.join(c, name), os.path.join(c, "live-" + name))
    tls = ["--http-use-ssl=true",
           "--http-server-cert", os.path.join(c, "live-server.crt"),
           "--http-server-key", os.path.join(c, "live-server.key"),
           "--grpc-use-ssl=true",
           "--grpc-server-cert", os.path.join(c, "live-server.crt"),
           "--grpc-server-key", os.path.join(c, "live-server.key")]
    access = ["--model-control-mode", "explicit", "--load-model", MODEL,
              "--http-restricted-api",
              f"model-repository,metrics:bearer=@{token_file}",
              "--http-restricted-api", f"inference:x-api-key={INFER_KEY}",
              "--grpc-restricted-protocol",
              f"model-repository:bearer=@{token_file}",
              "--grpc-restricted-protocol", f"inference:x-api-key={INFER_KEY}"]
    Fixture.server = serval_harness.Serval(
        ARGS.serval, ARGS.backends, [Fixture.repo.path], tls + access,
        ssl_context=client_context(c))
    Fixture.server.start()
    mutual = [
        "--http-use-ssl=true", "--http-use-ssl-mutual=true",
        "--http-server-cert", os.path.join(c, "server.crt"),
        "--http-server-key", os.path.join(c, "server.key"),
        "--http-root-cert", os.path.join(c, "ca.crt"),
        "--grpc-use-ssl=true", "--grpc-use-ssl-mutual=true",
        "--grpc-server-cert", os.path.join(c, "server.crt"),
        "--grpc-server-key", os.path.join(c, "server.key"),
        "--grpc-root-cert", os.path.join(c, "ca.crt")]
    Fixture.mutual = serval_harness.Serval(
        ARGS.serval, ARGS.backends, [Fixture.repo.path], mutual,
        ssl_context=client_context(c, cert="client"))
    Fixture.mutual.start()


def tearDownModule():
    for s in (Fixture.server, Fixture.mutual):
        if s is not None:
            s.stop()
    if Fixture.repo is not None:
        Fixture.repo.close()
    if Fixture.certs is not None:
        shutil.rmtree(Fixture.certs, ignore_errors=True)


def grpc_channel(server, cert=None):
    c = Fixture.certs
    with open(os.path.join(c, "ca.crt"), "rb") as f:
        root = f.read()
    key = chain = None
    if cert:
        with open(os.path.join(c, f"{cert}.key"), "rb") as f:
            key = f.read()
        with open(os.path.join(c, f"{cert}.crt"), "rb") as f:
            chain = f.read()
    creds = grpc.ssl_channel_credentials(root, key, chain)
    return grpc.secure_channel(f"127.0.0.1:{server.grpc_port}", creds)


def grpc_infer_request():
    pb = Fixture.pb
    req = pb.ModelInferRequest(model_name=MODEL)
    t = req.inputs.add(name="INPUT0", datatype="FP32", shape=[3])
    t.contents.fp32_contents.extend([1.0, 2.0, 3.0])
    return req


class HttpsTest(unittest.TestCase):
    def test_inference_over_https_with_the_key(self):
        status, _, body = Fixture.server.request(
            "POST", f"/v2/models/{MODEL}/infer", infer_body(),
            {"Content-Type": "application/json", "x-api-key": INFER_KEY})
        self.assertEqual(status, 200, body)
        out = json.loads(body)["outputs"][0]
        self.assertEqual(out["data"], [1.0, 2.0, 3.0])

    def test_plain_http_to_the_tls_port_is_told_so(self):
        conn = serval_harness.http.client.HTTPConnection(
            "127.0.0.1", Fixture.server.http_port, timeout=10)
        conn.request("GET", "/v2/health/ready")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 400)
        self.assertIn("TLS", json.loads(resp.read())["error"])
        conn.close()

    def test_tls_1_1_is_refused_1_2_accepted(self):
        port = Fixture.server.http_port
        code, out = s_client(port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        self.assertNotEqual(code, 0, out)
        self.assertIn("Cipher is (NONE)", out)
        code, out = s_client(port, "-tls1_2")
        self.assertEqual(code, 0, out)
        self.assertIn("TLSv1.2", out)
        code, out = s_client(Fixture.server.grpc_port, "-tls1_1", "-cipher",
                             "DEFAULT@SECLEVEL=0", "-alpn", "h2")
        self.assertNotEqual(code, 0, out)

    def test_an_untrusted_server_certificate_is_noticed_by_the_client(self):
        # The client checks the chain: the default trust store does not
        # know the test CA, so the handshake fails on the client side.
        ctx = ssl.create_default_context()
        conn = serval_harness.http.client.HTTPSConnection(
            "127.0.0.1", Fixture.server.http_port, timeout=10, context=ctx)
        with self.assertRaises(ssl.SSLCertVerificationError):
            conn.request("GET", "/v2/health/ready")
        conn.close()


class AccessControlHttpTest(unittest.TestCase):
    def request(self, method, path, body=None, headers=None):
        return Fixture.server.request(method, path, body, headers)

    def test_open_groups_need_nothing(self):
        self.assertEqual(self.request("GET", "/v2/health/ready")[0], 200)
        self.assertEqual(self.request("GET", f"/v2/models/{MODEL}")[0], 200)

    def test_header_rule(self):
        path = f"/v2/models/{MODEL}/infer"
        status, _, body = self.request("POST", path, infer_body())
        self.assertEqual(status, 401, body)
        status, _, body_wrong = self.request("POST", path, infer_body(),
                                             {"x-api-key": "nope"})
        self.assertEqual(status, 403)
        # Neither refusal names the header or the secret.
        for text in (body, body_wrong):
            self.assertNotIn(b"x-api-key", text)
            self.assertNotIn(INFER_KEY.encode(), text)
        self.assertEqual(self.request("POST", path, infer_body(),
                                      {"X-API-KEY": INFER_KEY})[0], 200)

    def test_bearer_rule_on_model_repository(self):
        path = f"/v2/repository/models/{MODEL}/load"
        status, headers, _ = self.request("POST", path, "{}")
        self.assertEqual(status, 401)
        self.assertIn("Bearer", headers.get("www-authenticate", ""))
        status, _, _ = self.request("POST", path, "{}",
                                    {"Authorization": "Bearer wrong"})
        self.assertEqual(status, 403)
        status, _, _ = self.request("POST", "/v2/repository/index", "{}",
                                    {"Authorization": "Basic Zm9vOmJhcg=="})
        self.assertEqual(status, 401)
        status, _, body = self.request("POST", path, "{}", {
            "Authorization": f"Bearer {ADMIN_TOKEN}"})
        self.assertEqual(status, 200, body)

    def test_refused_before_the_body_is_read(self):
        # Only the header of a 16 MiB upload is sent: the refusal comes at
        # once, without waiting for (or reserving room for) the body.
        port = Fixture.server.http_port
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with client_context(Fixture.certs).wrap_socket(
                raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"POST /v2/repository/models/m/load HTTP/1.1\r\n"
                      b"Host: x\r\nContent-Length: 16777216\r\n\r\n")
            reply = s.recv(4096)
        self.assertTrue(reply.startswith(b"HTTP/1.1 401"), reply[:100])

    def test_a_restricted_endpoint_hides_its_methods(self):
        # 401 before 405: an anonymous client learns nothing of it.
        status, _, _ = self.request("GET", f"/v2/repository/models/{MODEL}/load")
        self.assertEqual(status, 401)

    def test_metrics_port_needs_the_token(self):
        port = Fixture.server.metrics_port
        conn = serval_harness.http.client.HTTPConnection("127.0.0.1", port,
                                                         timeout=10)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.status, 401)
        self.assertIn("Bearer", resp.getheader("WWW-Authenticate", ""))
        conn.close()
        conn = serval_harness.http.client.HTTPConnection("127.0.0.1", port,
                                                         timeout=10)
        conn.request("GET", "/metrics",
                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertIn(b"serval_inference_requests_total", resp.read())
        conn.close()

    def test_secrets_never_reach_the_log(self):
        log = Fixture.server.log_text()
        self.assertIn("restricted API groups", log)
        self.assertNotIn(ADMIN_TOKEN, log)
        self.assertNotIn(INFER_KEY, log)


class GrpcSecurityTest(unittest.TestCase):
    def test_infer_over_tls_with_the_key(self):
        with grpc_channel(Fixture.server) as ch:
            stub = Fixture.pb_grpc.GRPCInferenceServiceStub(ch)
            resp = stub.ModelInfer(grpc_infer_request(), timeout=10,
                                   metadata=[("x-api-key", INFER_KEY)])
            self.assertEqual(resp.model_name, MODEL)
            # Triton's clients prefix the key.
            stub.ModelInfer(grpc_infer_request(), timeout=10, metadata=[
                ("triton-grpc-protocol-x-api-key", INFER_KEY)])

    def test_refusals(self):
        with grpc_channel(Fixture.server) as ch:
            stub = Fixture.pb_grpc.GRPCInferenceServiceStub(ch)
            with self.assertRaises(grpc.RpcError) as e:
                stub.ModelInfer(grpc_infer_request(), timeout=10)
            self.assertEqual(e.exception.code(),
                             grpc.StatusCode.UNAUTHENTICATED)
            with self.assertRaises(grpc.RpcError) as e:
                stub.ModelInfer(grpc_infer_request(), timeout=10,
                                metadata=[("x-api-key", "nope")])
            self.assertEqual(e.exception.code(),
                             grpc.StatusCode.PERMISSION_DENIED)
            self.assertNotIn("x-api-key", e.exception.details())
            # A stream is refused the same way.
            with self.assertRaises(grpc.RpcError) as e:
                list(stub.ModelStreamInfer(iter([grpc_infer_request()]),
                                           timeout=10))
            self.assertEqual(e.exception.code(),
                             grpc.StatusCode.UNAUTHENTICATED)
            pb = Fixture.pb
            with self.assertRaises(grpc.RpcError) as e:
                stub.RepositoryIndex(pb.RepositoryIndexRequest(), timeout=10,
                                     metadata=[("authorization", "Bearer x")])
            self.assertEqual(e.exception.code(),
                             grpc.StatusCode.PERMISSION_DENIED)
            stub.RepositoryIndex(pb.RepositoryIndexRequest(), timeout=10,
                                 metadata=[("authorization",
                                            f"Bearer {ADMIN_TOKEN}")])
            # Open groups need nothing.
            self.assertTrue(stub.ServerReady(pb.ServerReadyRequest(),
                                             timeout=10).ready)

    def test_plaintext_client_cannot_talk_to_the_tls_port(self):
        with grpc.insecure_channel(
                f"127.0.0.1:{Fixture.server.grpc_port}") as ch:
            stub = Fixture.pb_grpc.GRPCInferenceServiceStub(ch)
            with self.assertRaises(grpc.RpcError) as e:
                stub.ServerLive(Fixture.pb.ServerLiveRequest(), timeout=5)
            self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)


class MutualTlsTest(unittest.TestCase):
    def test_https_client_certificate_required(self):
        m = Fixture.mutual
        self.assertEqual(m.request("GET", "/v2/health/ready")[0], 200)
        for ctx in (client_context(Fixture.certs),
                    client_context(Fixture.certs, cert="rogue")):
            conn = serval_harness.http.client.HTTPSConnection(
                "127.0.0.1", m.http_port, timeout=10, context=ctx)
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                conn.request("GET", "/v2/health/ready")
                conn.getresponse().read()
            conn.close()

    def test_grpc_client_certificate_required(self):
        m = Fixture.mutual
        pb = Fixture.pb
        with grpc_channel(m, cert="client") as ch:
            stub = Fixture.pb_grpc.GRPCInferenceServiceStub(ch)
            self.assertTrue(stub.ServerLive(pb.ServerLiveRequest(),
                                            timeout=10).live)
        for cert in (None, "rogue"):
            with grpc_channel(m, cert=cert) as ch:
                stub = Fixture.pb_grpc.GRPCInferenceServiceStub(ch)
                with self.assertRaises(grpc.RpcError) as e:
                    stub.ServerLive(pb.ServerLiveRequest(), timeout=5)
                self.assertEqual(e.exception.code(),
                                 grpc.StatusCode.UNAVAILABLE)


class ReloadTest(unittest.TestCase):
    def wait_for_grpc_cn(self, cn):
        deadline = time.monotonic() + 10
        while True:
            _, out = s_client(Fixture.server.grpc_port, "-alpn", "h2")
            if f"CN = {cn}" in out or f"CN={cn}" in out:
                return
            if time.monotonic() > deadline:
                self.fail(f"gRPC listener never presented CN {cn}:\n{out}")
            time.sleep(0.3)

    def test_sighup_swaps_certificates_without_dropping_connections(self):
        s = Fixture.server
        c = Fixture.certs
        self.assertEqual(peer_common_name(s.http_port, c), "serval-one")
        self.wait_for_grpc_cn("serval-one")
        # A keep-alive connection opened before the reload.
        before = s.http_connection()
        before.request("GET", "/v2/health/ready")
        resp = before.getresponse()
        resp.read()
        self.assertEqual(resp.status, 200)
        live_crt = os.path.join(c, "live-server.crt")
        live_key = os.path.join(c, "live-server.key")
        try:
            # A bad set first: refused, the current certificate stays.
            with open(live_crt, "w") as f:
                f.write("not a certificate\n")
            s.proc.send_signal(signal.SIGHUP)
            time.sleep(1.0)
            self.assertTrue(s.alive())
            self.assertIn("HTTPS certificates not reloaded", s.log_text())
            self.assertIn("gRPC certificates not reloaded", s.log_text())
            self.assertEqual(peer_common_name(s.http_port, c), "serval-one")
            # Then the new pair.
            shutil.copy(os.path.join(c, "server2.crt"), live_crt)
            shutil.copy(os.path.join(c, "server2.key"), live_key)
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while peer_common_name(s.http_port, c) != "serval-two":
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
            self.wait_for_grpc_cn("serval-two")
            # The old connection still serves.
            before.request("GET", "/v2/health/ready")
            resp = before.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
            before.close()
            with grpc_channel(s) as ch:
                stub = Fixture.pb_grpc.GRPCInferenceServiceStub(ch)
                stub.ModelInfer(grpc_infer_request(), timeout=10,
                                metadata=[("x-api-key", INFER_KEY)])
        finally:
            shutil.copy(os.path.join(c, "server.crt"), live_crt)
            shutil.copy(os.path.join(c, "server.key"), live_key)


class BadFlagsTest(unittest.TestCase):
    def run_serval(self, *flags):
        repo = Fixture.repo.path
        proc = subprocess.run(
            [ARGS.serval, "serve", "--model-repository", repo,
             "--backend-directory", ARGS.backends, "--http-port", "0",
             "--grpc-port", "0", "--metrics-port", "0", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return proc.returncode, proc.stdout.decode(errors="replace")

    def test_each_mistake_is_named(self):
        c = Fixture.certs
        cases = [
            (["--http-use-ssl=true"], "--http-use-ssl needs --http-server-cert"),
            (["--grpc-server-cert", os.path.join(c, "server.crt")],
             "without --grpc-use-ssl=true"),
            (["--http-use-ssl=true", "--http-server-cert",
              os.path.join(c, "server.crt"), "--http-server-key",
              os.path.join(c, "client.key")], "does not match"),
            (["--http-restricted-api", "inferense:k=v"],
             "unknown API group 'inferense'"),
            (["--http-use-ssl=true", "--http-server-cert",
              os.path.join(c, "server.crt"), "--http-server-key",
              os.path.join(c, "server.key"), "--http-root-cert",
              os.path.join(c, "ca.crt")],
             "--http-root-cert is read only with --http-use-ssl-mutual=true"),
            (["--grpc-restricted-protocol", "health:k1=v1",
              "--grpc-restricted-protocol", "health,metadata:k2=v2"],
             "'health' is named in more than one rule"),
        ]
        for flags, message in cases:
            code, out = self.run_serval(*flags)
            self.assertNotEqual(code, 0, out)
            self.assertIn(message, out)
        # A rule without ':' is refused without echoing it (it may be a
        # secret given in the wrong place).
        code, out = self.run_serval("--http-restricted-api",
                                    "bearer=topsecret")
        self.assertNotEqual(code, 0, out)
        self.assertIn("no ':' after the groups", out)
        self.assertNotIn("topsecret", out)


if __name__ == "__main__":
    sys.exit(serval_harness.unittest_main(
        lambda: (Fixture.server, Fixture.mutual)))
