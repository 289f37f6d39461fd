"""FastAPI peer: one uvicorn worker, an async handler running torch inline
(what a typical FastAPI model service does). See kserve_torch.py."""

from fastapi import FastAPI, Request, Response

from kserve_torch import Model

app = FastAPI()
model = Model()


@app.get("/v2/health/ready")
async def ready():
    return Response(status_code=200)


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request):
    body = await request.body()
    try:
        return Response(model.infer_json(body), media_type="application/json")
    except (ValueError, KeyError, RuntimeError) as e:
        return Response(f'{{"error": "{e}"}}', status_code=400,
                        media_type="application/json")
