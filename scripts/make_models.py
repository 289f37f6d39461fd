#!/usr/bin/python3
"""Builds serval's example model repository (Triton layout) and reference data.

Run with Debian's interpreter (/usr/bin/python3: torch, torchvision, onnx).
Weights are random with fixed seeds; nothing is downloaded.

Layout written under the output directory (default examples/models):

  <model>_onnx/config.pbtxt, <model>_onnx/1/model.onnx    (platform onnxruntime_onnx)
  <model>_torch/config.pbtxt, <model>_torch/1/model.pt    (platform pytorch_libtorch)
  identity/config.pbtxt                                   (backend identity)
  <dir>/reference.json + <dir>/reference/*.bin            reference data

for <model> in mlp, text_lstm, resnet50. ONNX models have a dynamic batch
axis; TorchScript models are traced on CPU. ONNX tensors are called
"input"/"output" (text_lstm: "token_ids"/"probabilities"); TorchScript
configs use Triton's INPUT__0 / OUTPUT__0 convention.

reference.json: {"model": name, "cases": [{"batch": B, "inputs": [T...],
"outputs": [T...]}]} with T = {"name", "datatype" (KServe name: FP32, INT64),
"shape" (batch dim included), "file" (raw little-endian, relative to the
model directory), and "data" (flat list) when the tensor is small}. Batches 1
and 4 are recorded. Outputs are what PyTorch computes in eager mode.

Each model directory carries a stamp with the hash of this script; a model
whose stamp matches is skipped, so a second run is quick.
"""

import argparse
import json
import os
import sys
import time

import generated_dirs
import torch
import torchvision

SCRIPT_HASH = generated_dirs.script_hash(__file__)
OPSET = 17
REFERENCE_BATCHES = (1, 4)
INLINE_LIMIT = 8192  # elements; larger tensors are only in .bin files


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(256, 1024), torch.nn.ReLU(),
            torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
            torch.nn.Linear(1024, 10))

    def forward(self, x):
        return self.net(x)


class TextLstm(torch.nn.Module):
    VOCAB = 1000

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(self.VOCAB, 128)
        self.lstm = torch.nn.LSTM(128, 256, batch_first=True)
        self.head = torch.nn.Linear(256, 4)

    def forward(self, token_ids):
        # Initial states sized from the input, so the exported graph keeps a
        # dynamic batch instead of baking in the trace's batch size.
        state = torch.zeros(1, token_ids.shape[0], 256)
        _, (h_n, _) = self.lstm(self.embedding(token_ids), (state, state))
        return torch.softmax(self.head(h_n[-1]), dim=-1)


# name -> (constructor, input dims, input dtype, output dims, max_batch_size,
#          onnx input name, onnx output name)
MODELS = {
    "mlp": (Mlp, [256], torch.float32, [10], 32, "input", "output"),
    "text_lstm": (TextLstm, [32], torch.int64, [4], 32, "token_ids",
                  "probabilities"),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None),
                 [3, 224, 224], torch.float32, [1000], 16, "input", "output"),
}

KSERVE_TYPE = {torch.float32: "FP32", torch.int64: "INT64"}
CONFIG_TYPE = {torch.float32: "TYPE_FP32", torch.int64: "TYPE_INT64"}


def log(msg):
    print(f"make_models: {msg}", flush=True)


def build_model(name):
    torch.manual_seed(1234)
    model = MODELS[name][0]()
    model.eval()
    return model


def make_input(name, batch):
    _, dims, dtype, *_ = MODELS[name]
    gen = torch.Generator().manual_seed(100 + batch)
    if dtype == torch.int64:
        return torch.randint(0, TextLstm.VOCAB, [batch] + dims, generator=gen,
                             dtype=torch.int64)
    return torch.randn([batch] + dims, generator=gen, dtype=dtype)


def config_text(model_dir_name, platform, in_name, out_name, name):
    _, in_dims, in_type, out_dims, max_batch, *_ = MODELS[name]
    dims = lambda d: ", ".join(str(x) for x in d)
    return (
        f'name: "{model_dir_name}"\n'
        f'platform: "{platform}"\n'
        f"max_batch_size: {max_batch}\n"
        f"input [\n  {{\n    name: \"{in_name}\"\n"
        f"    data_type: {CONFIG_TYPE[in_type]}\n    dims: [ {dims(in_dims)} ]\n  }}\n]\n"
        f"output [\n  {{\n    name: \"{out_name}\"\n"
        f"    data_type: TYPE_FP32\n    dims: [ {dims(out_dims)} ]\n  }}\n]\n"
        "instance_group [\n  {\n    count: 1\n    kind: KIND_CPU\n  }\n]\n"
        "dynamic_batching { }\n")


def tensor_entry(model_dir, case_name, tensor_name, tensor):
    tensor = tensor.contiguous()
    rel = f"reference/{case_name}_{tensor_name}.bin"
    with open(os.path.join(model_dir, rel), "wb") as f:
        # numpy would do; tobytes through a flat view keeps this stdlib-only
        # for readers. x86 is little-endian, which the format requires.
        f.write(tensor.numpy().tobytes())
    entry = {"name": tensor_name, "datatype": KSERVE_TYPE[tensor.dtype],
             "shape": list(tensor.shape), "file": rel}
    if tensor.numel() <= INLINE_LIMIT:
        entry["data"] = tensor.flatten().tolist()
    return entry


def write_reference(model_dir, dir_name, in_name, out_name, cases):
    os.makedirs(os.path.join(model_dir, "reference"), exist_ok=True)
    doc = {"model": dir_name, "cases": []}
    for batch, x, y in cases:
        doc["cases"].append({
            "batch": batch,
            "inputs": [tensor_entry(model_dir, f"b{batch}", in_name, x)],
            "outputs": [tensor_entry(model_dir, f"b{batch}", out_name, y)],
        })
    with open(os.path.join(model_dir, "reference.json"), "w") as f:
        json.dump(doc, f)




def reference_cases(name, model):
    cases = []
    with torch.no_grad():
        for batch in REFERENCE_BATCHES:
            x = make_input(name, batch)
            cases.append((batch, x, model(x)))
    return cases


def write_onnx(name, dir_name):
    def writer(model_dir):
        model = build_model(name)
        *_, in_name, out_name = MODELS[name]
        example = make_input(name, 2)
        torch.onnx.export(
            model, (example,), os.path.join(model_dir, "1", "model.onnx"),
            input_names=[in_name], output_names=[out_name],
            dynamic_axes={in_name: {0: "batch"}, out_name: {0: "batch"}},
            opset_version=OPSET, do_constant_folding=True)
        with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
            f.write(config_text(dir_name, "onnxruntime_onnx", in_name, out_name,
                                name))
        write_reference(model_dir, dir_name, in_name, out_name,
                        reference_cases(name, model))
    return writer


def write_torch(name, dir_name):
    def writer(model_dir):
        model = build_model(name)
        with torch.no_grad():
            traced = torch.jit.trace(model, (make_input(name, 2),),
                                     check_trace=False)
        cases = reference_cases(name, model)
        # The trace must generalise over the batch size it was not traced at.
        with torch.no_grad():
            for _, x, y in cases:
                got = traced(x)
                if not torch.allclose(got, y, rtol=1e-5, atol=1e-6):
                    sys.exit(f"make_models: traced {name} differs from eager "
                             f"at batch {x.shape[0]}")
        traced.save(os.path.join(model_dir, "1", "model.pt"))
        with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
            f.write(config_text(dir_name, "pytorch_libtorch", "INPUT__0",
                                "OUTPUT__0", name))
        write_reference(model_dir, dir_name, "INPUT__0", "OUTPUT__0", cases)
    return writer


def write_identity(model_dir):
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write('name: "identity"\nbackend: "identity"\nmax_batch_size: 8\n'
                'input [\n  {\n    name: "INPUT0"\n    data_type: TYPE_FP32\n'
                '    dims: [ 4 ]\n  }\n]\n'
                'output [\n  {\n    name: "OUTPUT0"\n    data_type: TYPE_FP32\n'
                '    dims: [ 4 ]\n  }\n]\n'
                "instance_group [\n  {\n    count: 1\n    kind: KIND_CPU\n  }\n]\n"
                "dynamic_batching { }\n")
    cases = []
    for batch in REFERENCE_BATCHES:
        x = torch.arange(batch * 4, dtype=torch.float32).reshape(batch, 4)
        cases.append((batch, x, x.clone()))
    write_reference(model_dir, "identity", "INPUT0", "OUTPUT0", cases)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(root, "examples", "models"))
    parser.add_argument("--only", nargs="*", help="model directories to build")
    args = parser.parse_args()

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    os.makedirs(args.out, exist_ok=True)
    jobs = [("identity", write_identity)]
    for name in MODELS:
        jobs.append((f"{name}_onnx", write_onnx(name, f"{name}_onnx")))
        jobs.append((f"{name}_torch", write_torch(name, f"{name}_torch")))
    start = time.time()
    for dir_name, writer in jobs:
        if args.only and dir_name not in args.only:
            continue
        generated_dirs.generate(args.out, dir_name, writer, SCRIPT_HASH, log)
    log(f"repository {args.out} ready in {time.time() - start:.1f}s")


if __name__ == "__main__":
    main()
