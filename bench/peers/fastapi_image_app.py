"""FastAPI image peer: the seeds' set-up. Receives a JPEG/PNG as the request
body, decodes it with PIL, pre-processes it with torchvision's ImageNet
transform and classifies it with torch, all in the handler; answers the
top 5 class indices. Run under uvicorn with 1 or more workers.

Environment: PEER_IMAGE_MODEL (a TorchScript file, or "mobilenet_v3_small"
for torchvision's architecture with random weights), PEER_TORCH_THREADS.
"""

import io
import json
import os

import torch
import torchvision
from fastapi import FastAPI, Request, Response
from PIL import Image
from torchvision import transforms

threads = int(os.environ.get("PEER_TORCH_THREADS", "0") or 0)
if threads > 0:
    torch.set_num_threads(threads)
source = os.environ["PEER_IMAGE_MODEL"]
if source == "mobilenet_v3_small":
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_small(weights=None).eval()
else:
    model = torch.jit.load(source, map_location="cpu").eval()
transform = transforms.Compose([
    transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
app = FastAPI()


@app.get("/v2/health/ready")
async def ready():
    return Response(status_code=200)


@app.post("/classify")
async def classify(request: Request):
    body = await request.body()
    image = Image.open(io.BytesIO(body)).convert("RGB")
    x = transform(image).unsqueeze(0)
    with torch.inference_mode():
        scores = model(x)[0]
    top = torch.topk(scores, 5)
    return Response(json.dumps({"top5": top.indices.tolist()}),
                    media_type="application/json")
