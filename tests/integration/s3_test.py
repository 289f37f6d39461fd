"""Model repositories in S3: the real `serval` binary against a real
S3-compatible server (s3rver from npm, started on loopback with AWS SigV4
checked, tests/integration/s3/s3_server.js), buckets seeded with boto3.
Covers serving from a bucket, poll mode following a new version, a deleted
version and a corrupted file (the old version keeps serving), explicit
loads with the content cache (an unchanged reload downloads 0 bytes),
wrong credentials (a clear error naming the bucket, never the secret), the
store going down (retries, then a clear error) and 1,000 objects (listing
pages). Needs Node.js, third_party/s3rver (scripts/setup.sh) and Debian's
python3-boto3.

    /usr/bin/python3 s3_test.py --serval build/serval --backends build/backends
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = serval_harness.parse_args()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODULES = os.path.join(ROOT, "third_party", "s3rver", "node_modules")
KEY, SECRET = "SERVALTESTKEY", "serval-test-secret-do-not-log"
INFER = json.dumps({"inputs": [{"name": "INPUT0", "shape": [4],
                                "datatype": "FP32", "data": [1, 2, 3, 4]}]})

S3 = None      # the s3rver process
PORT = None
SERVERS = []   # for logs on failure


def setUpModule():
    global S3, PORT
    missing = [what for what, ok in (
        ("node", shutil.which("node")),
        ("third_party/s3rver (scripts/setup.sh)", os.path.isdir(MODULES)))
        if not ok]
    try:
        import boto3  # noqa: F401
    except ImportError:
        missing.append("python3-boto3")
    if missing:
        raise unittest.SkipTest("needs " + ", ".join(missing))
    PORT = serval_harness.free_port()
    data = tempfile.mkdtemp(prefix="serval-s3rver-")
    env = dict(os.environ, S3RVER_MODULES=MODULES)
    # s3rver makes continuation tokens with a cipher OpenSSL 3 keeps in
    # its legacy provider; without it every truncated listing is a 500.
    S3 = subprocess.Popen(["node", "--openssl-legacy-provider",
                           os.path.join(HERE, "s3", "s3_server.js"),
                           str(PORT), data, KEY, SECRET],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env)
    line = S3.stdout.readline().decode()
    if not line.startswith("ready"):
        raise RuntimeError(f"s3rver did not start: {line}")


def tearDownModule():
    if S3 is not None:
        S3.terminate()
        S3.wait(10)


def client(secret=SECRET):
    import boto3
    import botocore
    return boto3.client(
        "s3", endpoint_url=f"http://127.0.0.1:{PORT}",
        aws_access_key_id=KEY, aws_secret_access_key=secret,
        region_name="us-east-1",
        config=botocore.config.Config(s3={"addressing_style": "path"}))


def identity_config(name):
    return (f'name: "{name}"\nbackend: "identity"\nmax_batch_size: 0\n'
            'input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]\n'
            'output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]\n')


def seed(bucket, objects):
    """Creates the bucket (once) and puts {key: bytes}."""
    s3 = client()
    try:
        s3.create_bucket(Bucket=bucket)
    except (s3.exceptions.BucketAlreadyOwnedByYou,
            s3.exceptions.BucketAlreadyExists):
        pass
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)


def upload_example(bucket, prefix, name):
    """Copies examples/models/<name> into the bucket."""
    src = os.path.join(ROOT, "examples", "models", name)
    if not os.path.isdir(src):
        raise unittest.SkipTest(f"examples/models/{name} missing "
                                "(scripts/make_repository.sh)")
    objects = {}
    for d, _, files in os.walk(src):
        for f in files:
            path = os.path.join(d, f)
            rel = os.path.relpath(path, os.path.dirname(src))
            with open(path, "rb") as fh:
                objects[f"{prefix}/{rel}"] = fh.read()
    seed(bucket, objects)


def s3_env(secret=SECRET):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=secret,
               HOME=tempfile.mkdtemp(prefix="serval-home-"))
    return env


def start(url, extra, secret=SECRET, expect_ready=True):
    cache = tempfile.mkdtemp(prefix="serval-cache-")
    server = serval_harness.Serval(
        ARGS.serval, ARGS.backends, [url],
        extra_args=["--model-cache-directory", cache] + extra,
        env=s3_env(secret), log_level="info")
    SERVERS.append(server)
    if expect_ready:
        server.start()
    return server


def wait_for(predicate, timeout_s=20):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def ready(server, model, version=None):
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "")
    return server.request("GET", path + "/ready")[0] == 200


def infer(server, model, version=None):
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "")
    return server.request("POST", path + "/infer", body=INFER,
                          headers={"Content-Type": "application/json"})


def downloads(server, model):
    """The (downloaded, cached) byte counts of each localization logged."""
    return [(int(a), int(b)) for a, b in re.findall(
        rf"model '{model}' from \S+: \d+ files, (\d+) bytes downloaded, "
        r"(\d+) bytes from the cache", server.log_text())]


class S3RepositoryTest(unittest.TestCase):

    def test_poll_mode_follows_the_bucket(self):
        bucket = "poll-models"
        upload_example(bucket, "repo", "simple")
        seed(bucket, {"repo/ident/config.pbtxt": identity_config("ident").encode(),
                      "repo/ident/1/.keep": b""})
        url = f"s3://http://127.0.0.1:{PORT}/{bucket}/repo"
        with start(url, ["--model-control-mode", "poll",
                         "--repository-poll-secs", "0.3"]) as server:
            self.assertTrue(ready(server, "simple"))
            self.assertEqual(infer(server, "ident")[0], 200)
            # A new version: loaded once two listings agree; the latest-one
            # policy then retires version 1.
            seed(bucket, {"repo/ident/2/.keep": b""})
            self.assertTrue(wait_for(lambda: ready(server, "ident", 2)),
                            server.log_text()[-2000:])
            self.assertTrue(wait_for(lambda: not ready(server, "ident", 1)))
            # Only what changed was downloaded (an empty file).
            self.assertEqual(downloads(server, "ident")[-1][0], 0)
            # Version 2 deleted: version 1 serves again.
            client().delete_object(Bucket=bucket, Key="repo/ident/2/.keep")
            self.assertTrue(wait_for(lambda: ready(server, "ident", 1)))
            # A corrupted model file: the reload fails, the old one serves.
            seed(bucket, {"repo/simple/1/model.onnx": b"not an onnx model"})
            self.assertTrue(wait_for(
                lambda: "failed" in json.dumps(json.loads(server.request(
                    "POST", "/v2/repository/index")[2])), 20),
                server.log_text()[-2000:])
            self.assertTrue(ready(server, "simple"))
            self.assertEqual(server.request(
                "POST", "/v2/models/simple/infer", body=json.dumps({"inputs": [
                    {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32",
                     "data": list(range(16))},
                    {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32",
                     "data": list(range(16))}]}),
                headers={"Content-Type": "application/json"})[0], 200)
            # The whole model gone from the bucket: unloaded.
            client().delete_object(Bucket=bucket, Key="repo/ident/1/.keep")
            client().delete_object(Bucket=bucket, Key="repo/ident/config.pbtxt")
            self.assertTrue(wait_for(lambda: not ready(server, "ident")))
            self.assertNotIn(SECRET, server.log_text())

    def test_explicit_loads_use_the_content_cache(self):
        bucket = "explicit-models"
        upload_example(bucket, "r", "mlp_onnx")
        url = f"s3://http://127.0.0.1:{PORT}/{bucket}/r"
        with start(url, ["--model-control-mode", "explicit"]) as server:
            self.assertFalse(ready(server, "mlp_onnx"))
            load = lambda: server.request(
                "POST", "/v2/repository/models/mlp_onnx/load")[0]
            self.assertEqual(load(), 200)
            self.assertTrue(ready(server, "mlp_onnx"))
            first = downloads(server, "mlp_onnx")
            self.assertGreater(first[-1][0], 1_000_000)
            self.assertEqual(load(), 200)  # unchanged: nothing downloads
            again = downloads(server, "mlp_onnx")[-1]
            self.assertEqual(again[0], 0)
            self.assertEqual(again[1], first[-1][0])
            # A changed config downloads alone.
            body = client().get_object(
                Bucket=bucket, Key="r/mlp_onnx/config.pbtxt")["Body"].read()
            seed(bucket, {"r/mlp_onnx/config.pbtxt": body + b"\n# edited\n"})
            self.assertEqual(load(), 200)
            self.assertEqual(downloads(server, "mlp_onnx")[-1][0],
                             len(body) + len(b"\n# edited\n"))
            status, _, text = server.request(
                "POST", "/v2/repository/models/nothere/load")
            self.assertEqual(status, 404, text)  # as for a local repository

    def test_wrong_credentials_name_the_bucket_not_the_secret(self):
        bucket = "locked-models"
        seed(bucket, {"m/ident/config.pbtxt": identity_config("ident").encode(),
                      "m/ident/1/.keep": b""})
        wrong = "definitely-the-wrong-secret"
        server = start(f"s3://http://127.0.0.1:{PORT}/{bucket}/m", [],
                       secret=wrong, expect_ready=False)
        with self.assertRaises(RuntimeError):
            server.start()
        log = server.log_text()
        self.assertIn("SignatureDoesNotMatch", log)
        self.assertIn(bucket, log)
        self.assertNotIn(wrong, log)

    def test_store_down_retries_then_fails_clearly(self):
        port = serval_harness.free_port()  # nothing listens there
        server = start(f"s3://http://127.0.0.1:{port}/down-models/m",
                       ["--s3-max-attempts", "3"], expect_ready=False)
        started = time.monotonic()
        with self.assertRaises(RuntimeError):
            server.start()
        log = server.log_text()
        self.assertIn("gave up after 3 attempts", log)
        self.assertIn("attempt 1 of 3", log)
        self.assertIn("down-models", log)
        self.assertLess(time.monotonic() - started, 30)

    def test_a_thousand_objects(self):
        bucket = "many-models"
        objects = {f"big/ident/1/data/part{i:04d}": b"x%d" % i
                   for i in range(1000)}
        objects["big/ident/config.pbtxt"] = identity_config("ident").encode()
        seed(bucket, objects)
        with start(f"s3://http://127.0.0.1:{PORT}/{bucket}/big", []) as server:
            self.assertEqual(infer(server, "ident")[0], 200)
            self.assertIn("1001 files", server.log_text())


if __name__ == "__main__":
    sys.exit(serval_harness.unittest_main(lambda: SERVERS))
