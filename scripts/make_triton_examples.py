#!/usr/bin/python3
"""Builds models shaped like Triton's example model repository.

Triton's docs/examples/model_repository holds simple, simple_int8,
simple_string, simple_identity and densenet_onnx, which Triton's Python client
examples use. Their model files are binary downloads, so this script builds
ONNX graphs with the same names, configs (verbatim apart from the platform of
simple_identity, a TensorFlow SavedModel in Triton's copy) and I/O:

  simple           INT32 INPUT0 + INPUT1 -> OUTPUT0 (sum), OUTPUT1 (difference)
  simple_int8      the same in INT8
  simple_string    the same on decimal numbers held in STRING tensors
  simple_identity  STRING INPUT0 -> OUTPUT0 unchanged
  densenet_onnx    FP32 data_0 [3,224,224] -> fc6_1 [1000] scores, with
                   densenet_labels.txt for the classification extension; random
                   weights (the real DenseNet weights are a download), so the
                   scores mean nothing, but shapes, reshape and labels are
                   Triton's

the Python backend's add_sub example, a model.py on Triton's Python API
(triton_python_backend_utils), which serval runs in a stub process:

  add_sub          FP32 INPUT0 + INPUT1 [4] -> OUTPUT0 (sum), OUTPUT1
                   (difference), dtypes read from the config in initialize()

and one ensemble of them, in Triton's ensemble config format:

  simple_chain     simple twice: (INPUT0, INPUT1) -> simple -> (sum,
                   difference) -> simple -> OUTPUT0 = 2 * INPUT0,
                   OUTPUT1 = 2 * INPUT1

Run with Debian's /usr/bin/python3 (it has the onnx package). Each model
directory carries the script's hash in .generated, as make_models.py does.
"""

import argparse
import os
import sys

import generated_dirs
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
SCRIPT_HASH = generated_dirs.script_hash(os.path.abspath(__file__))

SIMPLE_CONFIG = """name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [
  {{
    name: "INPUT0"
    data_type: {type}
    dims: [ 16 ]
  }},
  {{
    name: "INPUT1"
    data_type: {type}
    dims: [ 16 ]
  }}
]
output [
  {{
    name: "OUTPUT0"
    data_type: {type}
    dims: [ 16 ]
  }},
  {{
    name: "OUTPUT1"
    data_type: {type}
    dims: [ 16 ]
  }}
]
"""

IDENTITY_CONFIG = """name: "simple_identity"
platform: "onnxruntime_onnx"
max_batch_size: 8

input [
  {
    name: "INPUT0"
    data_type: TYPE_STRING
    dims: [ -1 ]
  }
]
output [
  {
    name: "OUTPUT0"
    data_type: TYPE_STRING
    dims: [ -1 ]
  }
]
"""

# Triton's copy, including the space before the colon and no final newline.
DENSENET_CONFIG = """name: "densenet_onnx"
platform: "onnxruntime_onnx"
max_batch_size : 0
input [
  {
    name: "data_0"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 3, 224, 224 ]
    reshape { shape: [ 1, 3, 224, 224 ] }
  }
]
output [
  {
    name: "fc6_1"
    data_type: TYPE_FP32
    dims: [ 1000 ]
    reshape { shape: [ 1, 1000, 1, 1 ] }
    label_filename: "densenet_labels.txt"
  }
]"""


def log(msg):
    print(f"make_triton_examples: {msg}", flush=True)


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="serval make_triton_examples")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def simple_graph(elem):
    """OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 on [batch, 16]."""
    io = lambda n: helper.make_tensor_value_info(n, elem, ["batch", 16])
    if elem == TensorProto.STRING:
        # Decimal strings: parsed to INT32, added, printed back.
        nodes = [
            helper.make_node("Cast", ["INPUT0"], ["a"], to=TensorProto.INT32),
            helper.make_node("Cast", ["INPUT1"], ["b"], to=TensorProto.INT32),
            helper.make_node("Add", ["a", "b"], ["sum"]),
            helper.make_node("Sub", ["a", "b"], ["diff"]),
            helper.make_node("Cast", ["sum"], ["OUTPUT0"], to=TensorProto.STRING),
            helper.make_node("Cast", ["diff"], ["OUTPUT1"], to=TensorProto.STRING),
        ]
    elif elem == TensorProto.INT8:
        # ONNX Add/Sub take INT8 since opset 14; wrap-around like Triton's.
        nodes = [
            helper.make_node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"]),
            helper.make_node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"]),
        ]
    else:
        nodes = [
            helper.make_node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"]),
            helper.make_node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"]),
        ]
    return helper.make_graph(nodes, "simple", [io("INPUT0"), io("INPUT1")],
                             [io("OUTPUT0"), io("OUTPUT1")])


def write_simple(name, elem, type_name):
    def writer(model_dir):
        save(simple_graph(elem), os.path.join(model_dir, "1", "model.onnx"))
        with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
            f.write(SIMPLE_CONFIG.format(name=name, type=type_name))
    return writer


def write_identity(model_dir):
    io = lambda n: helper.make_tensor_value_info(n, TensorProto.STRING,
                                                 ["batch", "n"])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["INPUT0"], ["OUTPUT0"])],
        "simple_identity", [io("INPUT0")], [io("OUTPUT0")])
    save(graph, os.path.join(model_dir, "1", "model.onnx"))
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(IDENTITY_CONFIG)


def write_densenet(model_dir):
    """A tiny stand-in with DenseNet's interface: the mean of each colour
    channel, then a 1x1 convolution to 1000 class scores."""
    rng = np.random.default_rng(121)
    weight = rng.standard_normal((1000, 3, 1, 1)).astype(np.float32)
    bias = rng.standard_normal(1000).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["data_0"], ["pooled"]),
            helper.make_node("Conv", ["pooled", "weight", "bias"], ["fc6_1"]),
        ],
        "densenet_onnx",
        [helper.make_tensor_value_info("data_0", TensorProto.FLOAT,
                                       [1, 3, 224, 224])],
        [helper.make_tensor_value_info("fc6_1", TensorProto.FLOAT,
                                       [1, 1000, 1, 1])],
        initializer=[numpy_helper.from_array(weight, "weight"),
                     numpy_helper.from_array(bias, "bias")])
    save(graph, os.path.join(model_dir, "1", "model.onnx"))
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(DENSENET_CONFIG)
    # Triton's file holds ImageNet's class names; these stand for them.
    with open(os.path.join(model_dir, "densenet_labels.txt"), "w") as f:
        for i in range(1000):
            f.write(f"CLASS_{i:04d}\n")


CHAIN_CONFIG = """name: "simple_chain"
platform: "ensemble"
max_batch_size: 8
input [
  { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] },
  { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] }
]
output [
  { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] },
  { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] }
]
ensemble_scheduling {
  step [
    {
      model_name: "simple"
      model_version: -1
      input_map { key: "INPUT0" value: "INPUT0" }
      input_map { key: "INPUT1" value: "INPUT1" }
      output_map { key: "OUTPUT0" value: "sum" }
      output_map { key: "OUTPUT1" value: "difference" }
    },
    {
      model_name: "simple"
      model_version: -1
      input_map { key: "INPUT0" value: "sum" }
      input_map { key: "INPUT1" value: "difference" }
      output_map { key: "OUTPUT0" value: "OUTPUT0" }
      output_map { key: "OUTPUT1" value: "OUTPUT1" }
    }
  ]
}
"""


ADD_SUB_CONFIG = """name: "add_sub"
backend: "python"

input [
  {
    name: "INPUT0"
    data_type: TYPE_FP32
    dims: [ 4 ]
  },
  {
    name: "INPUT1"
    data_type: TYPE_FP32
    dims: [ 4 ]
  }
]
output [
  {
    name: "OUTPUT0"
    data_type: TYPE_FP32
    dims: [ 4 ]
  },
  {
    name: "OUTPUT1"
    data_type: TYPE_FP32
    dims: [ 4 ]
  }
]

instance_group [{ kind: KIND_CPU }]
"""

ADD_SUB_MODEL = '''"""Sum and difference of two FP32 vectors, on Triton's Python API."""

import json

import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.dtypes = [
            pb_utils.triton_string_to_numpy(
                pb_utils.get_output_config_by_name(config, name)["data_type"])
            for name in ("OUTPUT0", "OUTPUT1")]

    def execute(self, requests):
        responses = []
        for request in requests:
            a = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            b = pb_utils.get_input_tensor_by_name(request, "INPUT1").as_numpy()
            responses.append(pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor("OUTPUT0", (a + b).astype(self.dtypes[0])),
                pb_utils.Tensor("OUTPUT1", (a - b).astype(self.dtypes[1]))]))
        return responses
'''


def write_add_sub(model_dir):
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(ADD_SUB_CONFIG)
    os.makedirs(os.path.join(model_dir, "1"), exist_ok=True)
    with open(os.path.join(model_dir, "1", "model.py"), "w") as f:
        f.write(ADD_SUB_MODEL)


def write_chain(model_dir):
    # An ensemble has no model file; its version directory stays empty.
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(CHAIN_CONFIG)


JOBS = {
    "simple": write_simple("simple", TensorProto.INT32, "TYPE_INT32"),
    "simple_int8": write_simple("simple_int8", TensorProto.INT8, "TYPE_INT8"),
    "simple_string": write_simple("simple_string", TensorProto.STRING,
                                  "TYPE_STRING"),
    "simple_identity": write_identity,
    "densenet_onnx": write_densenet,
    "simple_chain": write_chain,
    "add_sub": write_add_sub,
}




def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(root, "examples", "models"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, writer in JOBS.items():
        generated_dirs.generate(args.out, name, writer, SCRIPT_HASH, log)


if __name__ == "__main__":
    sys.exit(main())
