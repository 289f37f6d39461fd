"""Flask peer, run under gunicorn (1 worker x 4 threads, or several workers
behind nginx). See kserve_torch.py."""

from flask import Flask, Response, request

from kserve_torch import Model

app = Flask(__name__)
model = Model()


@app.get("/v2/health/ready")
def ready():
    return Response(status=200)


@app.post("/v2/models/<name>/infer")
def infer(name):
    try:
        return Response(model.infer_json(request.get_data()),
                        mimetype="application/json")
    except (ValueError, KeyError, RuntimeError) as e:
        return Response(f'{{"error": "{e}"}}', status=400,
                        mimetype="application/json")
