#!/usr/bin/env python3
"""End-to-end tests of the real backends on the example models.

Standard library only (/usr/bin/python3). Builds a temporary repository from
examples/models (scripts/make_repository.sh generates it when missing) with
the models whose plugin exists in --backends, plus a few models made for the
test: a 2-instance copy, a config-less ONNX model (auto-complete), a corrupt
ONNX file and a config that does not match its file. Starts `serval serve`
and checks over HTTP:

  - outputs equal PyTorch's reference within 1e-4 relative (1e-5 for mlp),
    for batch 1, one batch-4 request and 4 concurrent batch-1 requests;
  - 16 concurrent clients against 2 instances give the serial results;
  - the bad models are not loaded, say why, and the rest keep serving;
  - a directory with only 1/model.onnx serves with an auto-completed config.

Relative tolerance is taken against the largest reference magnitude of the
tensor, so elements near zero do not demand impossible precision.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "models")
STRUCT = {"FP32": "f", "INT64": "q"}
RTOL = {"mlp": 1e-5, "text_lstm": 1e-4, "resnet50": 1e-4}
PLUGIN_OF_FORMAT = {"onnx": "onnxruntime", "torch": "torch"}

S = None          # the running server
MODELS = []       # example model directories served, e.g. "mlp_onnx"


class Server(serval_harness.Serval):
    """Readiness = liveness here: the repository holds models that must fail
    to load, and the per-model checks below wait for the good ones."""

    def wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serval exited with {self.proc.returncode}")
            try:
                if self.request("GET", "/v2/health/live", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError("serval not live")


# Reference data ----------------------------------------------------------

def load_tensor(model_dir, entry):
    if "data" in entry:
        return entry["data"]
    with open(os.path.join(model_dir, entry["file"]), "rb") as f:
        raw = f.read()
    fmt = STRUCT[entry["datatype"]]
    return list(struct.unpack(f"<{len(raw) // struct.calcsize(fmt)}{fmt}", raw))


def load_reference(model):
    model_dir = os.path.join(EXAMPLES, model)
    with open(os.path.join(model_dir, "reference.json")) as f:
        doc = json.load(f)
    cases = {}
    for case in doc["cases"]:
        cases[case["batch"]] = {
            kind: [dict(t, values=load_tensor(model_dir, t)) for t in case[kind]]
            for kind in ("inputs", "outputs")}
    return cases


def rows(tensor, batch):
    """Splits a flat tensor into `batch` rows."""
    n = len(tensor["values"]) // batch
    return [tensor["values"][i * n:(i + 1) * n] for i in range(batch)]


def assert_close(got, want, rtol, what):
    assert len(got) == len(want), f"{what}: {len(got)} values, want {len(want)}"
    scale = max(abs(v) for v in want) or 1e-12
    worst = max(abs(a - b) for a, b in zip(got, want))
    assert worst <= rtol * scale, (
        f"{what}: max difference {worst:.3g} > {rtol} x {scale:.3g}")


# HTTP --------------------------------------------------------------------

def infer(model, inputs, timeout=120):
    """inputs: [(name, datatype, shape, flat values)] -> {name: (shape, data)}."""
    body = json.dumps({"inputs": [
        {"name": n, "datatype": d, "shape": s, "data": v}
        for n, d, s, v in inputs]})
    status, _, data = S.request("POST", f"/v2/models/{model}/infer",
                                body=body,
                                headers={"Content-Type": "application/json"},
                                timeout=timeout)
    assert status == 200, f"{model}: HTTP {status}: {data[:500]!r}"
    doc = json.loads(data)
    return {o["name"]: (o["shape"], o["data"]) for o in doc["outputs"]}


def wait_model_ready(model, timeout_s=300):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if S.request("GET", f"/v2/models/{model}/ready", timeout=5)[0] == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"{model} not ready after {timeout_s}s")


def family(model):
    return model.rsplit("_", 1)[0]


# Tests -------------------------------------------------------------------

def test_models_become_ready():
    for model in MODELS + ["mlp_onnx_2inst", "auto_onnx"]:
        if model.endswith("_2inst") and "mlp_onnx" not in MODELS:
            continue
        if model == "auto_onnx" and "mlp_onnx" not in MODELS:
            continue
        wait_model_ready(model)


def test_batch1_matches_reference():
    for model in MODELS:
        ref = load_reference(model)[1]
        x, y = ref["inputs"][0], ref["outputs"][0]
        out = infer(model, [(x["name"], x["datatype"], x["shape"], x["values"])])
        shape, data = out[y["name"]]
        assert shape == y["shape"], f"{model}: shape {shape}, want {y['shape']}"
        assert_close(data, y["values"], RTOL[family(model)], f"{model} batch 1")


def test_batch4_request_matches_reference():
    for model in MODELS:
        ref = load_reference(model)[4]
        x, y = ref["inputs"][0], ref["outputs"][0]
        out = infer(model, [(x["name"], x["datatype"], x["shape"], x["values"])])
        shape, data = out[y["name"]]
        assert shape == y["shape"], f"{model}: shape {shape}, want {y['shape']}"
        assert_close(data, y["values"], RTOL[family(model)], f"{model} batch 4")


def test_concurrent_requests_batched_by_server_match_reference():
    # Four batch-1 requests at once: the dynamic batcher may gather them.
    for model in MODELS:
        ref = load_reference(model)[4]
        x, y = ref["inputs"][0], ref["outputs"][0]
        in_rows, out_rows = rows(x, 4), rows(y, 4)
        results, errors = [None] * 4, []

        def client(i):
            # A 503 is the server refusing fast by its queue time budget
            # (the first executions of a model on a slow or busy machine
            # predict a long wait); a client retries it, as this one does.
            for attempt in range(10):
                try:
                    results[i] = infer(model, [(x["name"], x["datatype"],
                                                [1] + x["shape"][1:], in_rows[i])])
                    return
                except Exception as e:  # reported below
                    if "HTTP 503" not in str(e) or attempt == 9:
                        errors.append(e)
                        return
                    time.sleep(0.5)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, f"{model}: {errors[0]}"
        for i in range(4):
            assert_close(results[i][y["name"]][1], out_rows[i],
                         RTOL[family(model)], f"{model} row {i} of 4")


def test_sixteen_clients_on_two_instances_match_serial():
    if "mlp_onnx" not in MODELS:
        raise serval_harness.Skip("mlp_onnx is not served (no onnxruntime plugin)")
    model = "mlp_onnx_2inst"
    ref = load_reference("mlp_onnx")[4]
    x, y = ref["inputs"][0], ref["outputs"][0]
    in_rows = rows(x, 4)
    serial = [infer(model, [(x["name"], "FP32", [1, 256], r)])[y["name"]][1]
              for r in in_rows]
    errors = []

    def client(c):
        try:
            for k in range(10):
                i = (c + k) % 4
                got = infer(model, [(x["name"], "FP32", [1, 256], in_rows[i])])
                # Batches of other sizes may sum in another order: 1e-6.
                assert_close(got[y["name"]][1], serial[i], 1e-6,
                             f"client {c} request {k}")
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, f"{len(errors)} clients failed, first: {errors[0]}"


def test_bad_models_are_not_loaded_and_say_why():
    status, _, body = S.request("POST", "/v2/repository/index", body="{}")
    assert status == 200, f"index: HTTP {status}"
    index = {m["name"]: m for m in json.loads(body)}
    for name, reason in (("corrupt_onnx", "Protobuf parsing failed"),
                         ("mismatch_onnx", "config dims [128]")):
        assert S.request("GET", f"/v2/models/{name}/ready")[0] != 200, name
        entry = index.get(name)
        assert entry is not None, f"{name} missing from the index: {index}"
        assert entry.get("state") != "READY", entry
        assert reason in entry.get("reason", ""), f"{name}: {entry}"
    # The rest keep serving.
    test_batch1_matches_reference()


def test_config_less_model_is_autocompleted():
    if "mlp_onnx" not in MODELS:
        raise serval_harness.Skip("mlp_onnx is not served (no onnxruntime plugin)")
    status, _, body = S.request("GET", "/v2/models/auto_onnx")
    assert status == 200, f"metadata: HTTP {status} {body[:300]!r}"
    meta = json.loads(body)
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32",
                               "shape": [-1, 256]}], meta
    assert meta["outputs"] == [{"name": "output", "datatype": "FP32",
                                "shape": [-1, 10]}], meta
    ref = load_reference("mlp_onnx")[4]
    x, y = ref["inputs"][0], ref["outputs"][0]
    out = infer("auto_onnx", [("input", "FP32", x["shape"], x["values"])])
    assert_close(out["output"][1], y["values"], 1e-5, "auto_onnx batch 4")


# Repository --------------------------------------------------------------

def link_model(repo, source, name, config_text=None):
    """A model dir whose files link to examples/models/<source>."""
    src = os.path.join(EXAMPLES, source)
    dst = os.path.join(repo.path, name)
    os.makedirs(os.path.join(dst, "1"))
    for f in os.listdir(os.path.join(src, "1")):
        os.symlink(os.path.join(src, "1", f), os.path.join(dst, "1", f))
    if config_text is None:
        shutil.copy(os.path.join(src, "config.pbtxt"), dst)
    elif config_text:
        with open(os.path.join(dst, "config.pbtxt"), "w") as f:
            f.write(config_text)
    return dst


def build_repository(repo, backends):
    for fmt, plugin in PLUGIN_OF_FORMAT.items():
        if not os.path.exists(os.path.join(backends, plugin,
                                           f"libserval_{plugin}.so")):
            print(f"note: {plugin} plugin not built; its models are skipped")
            continue
        for fam in RTOL:
            MODELS.append(f"{fam}_{fmt}")
            link_model(repo, f"{fam}_{fmt}", f"{fam}_{fmt}")
    if "mlp_onnx" not in MODELS:
        return
    with open(os.path.join(EXAMPLES, "mlp_onnx", "config.pbtxt")) as f:
        mlp_config = f.read()
    link_model(repo, "mlp_onnx", "mlp_onnx_2inst",
               mlp_config.replace('"mlp_onnx"', '"mlp_onnx_2inst"')
               .replace("count: 1", "count: 2"))
    link_model(repo, "mlp_onnx", "auto_onnx", config_text="")
    link_model(repo, "mlp_onnx", "mismatch_onnx",
               mlp_config.replace('"mlp_onnx"', '"mismatch_onnx"')
               .replace("dims: [ 256 ]", "dims: [ 128 ]"))
    corrupt = os.path.join(repo.path, "corrupt_onnx")
    os.makedirs(os.path.join(corrupt, "1"))
    with open(os.path.join(corrupt, "1", "model.onnx"), "wb") as f:
        f.write(b"not an onnx protobuf")
    with open(os.path.join(corrupt, "config.pbtxt"), "w") as f:
        f.write(mlp_config.replace('"mlp_onnx"', '"corrupt_onnx"'))


def main():
    global S
    args = serval_harness.parse_args()
    if not os.path.exists(os.path.join(EXAMPLES, "mlp_onnx", ".generated")):
        subprocess.run([os.path.join(ROOT, "scripts", "make_repository.sh")],
                       check=True)
    with serval_harness.ModelRepository() as repo:
        build_repository(repo, args.backends)
        if not MODELS:
            print("SKIP: no real backend plugin is built", flush=True)
            return serval_harness.SKIPPED
        with Server(args.serval, args.backends, [repo.path]) as server:
            S = server
            return serval_harness.run_tests([
                test_models_become_ready,
                test_batch1_matches_reference,
                test_batch4_request_matches_reference,
                test_concurrent_requests_batched_by_server_match_reference,
                test_sixteen_clients_on_two_instances_match_serial,
                test_bad_models_are_not_loaded_and_say_why,
                test_config_less_model_is_autocompleted,
            ], server)


if __name__ == "__main__":
    sys.exit(main())
