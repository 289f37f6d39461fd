"""The CPU-bound function both the Python model and the FastAPI peer run:
a chain of small matrix products and tanh, small enough that the
interpreter (and so the GIL), not BLAS, is what it spends its time in."""

import numpy as np

_W = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32) / 8


def work(x, rounds=400):
    v = np.asarray(x, dtype=np.float32).reshape(1, 64)
    for _ in range(rounds):
        v = np.tanh(v @ _W)
    return v.reshape(-1)
