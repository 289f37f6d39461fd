"""FastAPI peer for the Python-model scaling bench: numpy_work.work in the
handler, behind the KServe v2 JSON infer route so that `serval perf` drives
it like serval. Run under gunicorn with 1 or 2 uvicorn workers."""

import json
import os
import sys

from fastapi import FastAPI, Request, Response

sys.path.insert(0, os.environ["SERVAL_BENCH_PYTHON_MODELS"])
from numpy_work import work  # noqa: E402

app = FastAPI()


@app.get("/v2/health/ready")
async def ready():
    return Response(status_code=200)


@app.get("/v2/models/{name}")
async def metadata(name: str):
    # What `serval perf` reads to build its requests.
    return {"name": name, "versions": ["1"], "platform": "python",
            "inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [64]}],
            "outputs": [{"name": "OUTPUT0", "datatype": "FP32", "shape": [64]}]}


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request):
    body = json.loads(await request.body())
    x = body["inputs"][0]["data"]
    y = work(x)
    return Response(json.dumps({"model_name": name, "outputs": [{
        "name": "OUTPUT0", "datatype": "FP32", "shape": [64],
        "data": [float(v) for v in y]}]}), media_type="application/json")
