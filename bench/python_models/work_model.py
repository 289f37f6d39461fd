"""A Python model (Triton's API) that runs numpy_work.work per request."""

import os
import sys

import triton_python_backend_utils as pb_utils

sys.path.insert(0, os.environ["SERVAL_BENCH_PYTHON_MODELS"])
from numpy_work import work  # noqa: E402


class TritonPythonModel:
    def execute(self, requests):
        out = []
        for r in requests:
            x = pb_utils.get_input_tensor_by_name(r, "INPUT0").as_numpy()
            out.append(pb_utils.InferenceResponse(
                [pb_utils.Tensor("OUTPUT0", work(x).reshape(x.shape))]))
        return out
