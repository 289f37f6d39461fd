"""The model side shared by the Python peers of bench/compare.sh.

Loads one TorchScript file (ONNX Runtime has no Debian bookworm package for
Python, so the Python peers serve the TorchScript twin of each model) and
answers a KServe v2 JSON infer request the way serval does:

  request  {"inputs":[{"name","shape","datatype","data"}]}
  response {"model_name","model_version","outputs":[{"name","shape","datatype","data"}]}

Configuration comes from the environment because gunicorn and uvicorn import
the app module by name:
  PEER_MODEL_FILE   path to model.pt                      (required)
  PEER_MODEL_NAME   name answered in responses            (default "model")
  PEER_OUTPUT_NAME  name of the (first) output            (default "OUTPUT__0")
  PEER_TORCH_THREADS intra-op threads per process         (default: cores)
"""

import json
import os

import torch

_DTYPES = {
    "FP32": torch.float32, "FP64": torch.float64, "FP16": torch.float16,
    "INT64": torch.int64, "INT32": torch.int32, "INT16": torch.int16,
    "INT8": torch.int8, "UINT8": torch.uint8, "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


class Model:
    def __init__(self):
        threads = int(os.environ.get("PEER_TORCH_THREADS", "0") or 0)
        if threads > 0:
            torch.set_num_threads(threads)
        self.name = os.environ.get("PEER_MODEL_NAME", "model")
        self.output_name = os.environ.get("PEER_OUTPUT_NAME", "OUTPUT__0")
        self.module = torch.jit.load(os.environ["PEER_MODEL_FILE"],
                                     map_location="cpu")
        self.module.eval()

    def infer_json(self, body: bytes) -> bytes:
        """KServe v2 JSON request bytes -> response bytes (ValueError on bad input)."""
        request = json.loads(body)
        tensors = []
        for spec in request["inputs"]:
            dtype = _DTYPES.get(spec["datatype"])
            if dtype is None:
                raise ValueError(f"unsupported datatype {spec['datatype']}")
            tensors.append(torch.tensor(spec["data"], dtype=dtype)
                           .reshape(spec["shape"]))
        with torch.inference_mode():
            result = self.module(*tensors)
        if isinstance(result, (tuple, list)):
            result = result[0]
        out = {
            "model_name": self.name,
            "model_version": "1",
            "outputs": [{
                "name": self.output_name,
                "shape": list(result.shape),
                "datatype": _NAMES.get(result.dtype, "FP32"),
                "data": result.flatten().tolist(),
            }],
        }
        if "id" in request:
            out["id"] = request["id"]
        return json.dumps(out).encode()
