#!/usr/bin/python3
"""Builds the example pipelines: photos in, labels out.

  imagenet_preprocess  image backend: JPEG/PNG bytes -> FP32 [3,224,224],
                       torchvision's ImageNet transform (Resize(256),
                       CenterCrop(224), ToTensor, Normalize)
  resnet50_pipeline    ensemble: IMAGE (BYTES) -> imagenet_preprocess ->
                       resnet50_onnx -> SCORES [1000], with labels.txt for
                       the classification extension
  mobilenet_onnx       torchvision's mobilenet_v3_small, random weights, a
                       model where pre-processing weighs as much as the model
  mobilenet_pipeline   the same ensemble over mobilenet_onnx
  text_tokenizer       tokenizer backend (Keras-style words): TEXT ->
                       INT64 [32] ids from words.txt (999 words: ids 1-999,
                       the vocabulary of text_lstm_onnx)
  text_lstm_pipeline   ensemble: TEXT (BYTES) -> text_tokenizer ->
                       text_lstm_onnx -> PROBABILITIES [4], labels.txt

and sample photos in examples/images/ (synthetic, of several sizes) and
sample sentences in examples/images/sentences.txt. Both
pipelines need resnet50_onnx from scripts/make_models.py beside them (the
mobilenet one does not). Run with Debian's /usr/bin/python3. Each model
directory carries the script's hash in .generated, as make_models.py does.
"""

import argparse
import os
import sys

import generated_dirs
import numpy as np

SCRIPT_HASH = generated_dirs.script_hash(__file__)
MEAN = "0.485,0.456,0.406"
STD = "0.229,0.224,0.225"

PREPROCESS = f"""name: "imagenet_preprocess"
backend: "image"
max_batch_size: 16
input [ {{ name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] }} ]
output [ {{ name: "TENSOR" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] }} ]
instance_group [ {{ count: 2 kind: KIND_CPU }} ]
dynamic_batching {{ }}
parameters {{ key: "resize" value {{ string_value: "256" }} }}
parameters {{ key: "mean" value {{ string_value: "{MEAN}" }} }}
parameters {{ key: "std" value {{ string_value: "{STD}" }} }}
"""

PIPELINE = """name: "{name}"
platform: "ensemble"
max_batch_size: 16
input [ {{ name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] }} ]
output [ {{ name: "SCORES" data_type: TYPE_FP32 dims: [ 1000 ]
            label_filename: "labels.txt" }} ]
ensemble_scheduling {{
  step [
    {{
      model_name: "imagenet_preprocess"
      model_version: -1
      input_map {{ key: "IMAGE" value: "IMAGE" }}
      output_map {{ key: "TENSOR" value: "tensor" }}
    }},
    {{
      model_name: "{model}"
      model_version: -1
      input_map {{ key: "input" value: "tensor" }}
      output_map {{ key: "output" value: "SCORES" }}
    }}
  ]
}}
"""

TOKENIZER = """name: "text_tokenizer"
backend: "tokenizer"
max_batch_size: 32
input [ { name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] } ]
output [ { name: "IDS" data_type: TYPE_INT64 dims: [ 32 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
dynamic_batching { }
parameters { key: "mode" value { string_value: "word" } }
parameters { key: "vocabulary" value { string_value: "words.txt" } }
parameters { key: "oov_token" value { string_value: "<OOV>" } }
"""

TEXT_PIPELINE = """name: "text_lstm_pipeline"
platform: "ensemble"
max_batch_size: 32
input [ { name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] } ]
output [ { name: "PROBABILITIES" data_type: TYPE_FP32 dims: [ 4 ]
           label_filename: "labels.txt" } ]
ensemble_scheduling {
  step [
    {
      model_name: "text_tokenizer"
      model_version: -1
      input_map { key: "TEXT" value: "TEXT" }
      output_map { key: "IDS" value: "ids" }
    },
    {
      model_name: "text_lstm_onnx"
      model_version: -1
      input_map { key: "token_ids" value: "ids" }
      output_map { key: "probabilities" value: "PROBABILITIES" }
    }
  ]
}
"""

# A vocabulary for text_lstm_onnx's 1000 embedding rows: id 0 pads, id 1 is
# the OOV token, ids 2-999 words (common English words, then filler).
COMMON = ("the of and to a in is it you that he was for on are with as i his "
          "they be at one have this from or had by not word but what some we "
          "can out other were all there when up use your how said an each she "
          "which do their time if will way about many then them write would "
          "like so these her long make thing see him two has look more day "
          "could go come did number sound no most people my over know water "
          "than call first who may down side been now find good great bad "
          "movie film story loved hated boring amazing terrible excellent "
          "fun plot actor acting music scene ending slow fast best worst").split()


def write_tokenizer(model_dir):
    words = ["<OOV>"] + COMMON
    words += [f"word{i}" for i in range(999 - len(words))]
    with open(os.path.join(model_dir, "1", "words.txt"), "w") as f:
        f.write("\n".join(words) + "\n")
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(TOKENIZER)


def write_text_pipeline(model_dir):
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(TEXT_PIPELINE)
    with open(os.path.join(model_dir, "labels.txt"), "w") as f:
        f.write("negative\nneutral\npositive\nmixed\n")


MOBILENET = """name: "mobilenet_onnx"
platform: "onnxruntime_onnx"
max_batch_size: 16
input [ { name: "input" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "output" data_type: TYPE_FP32 dims: [ 1000 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
dynamic_batching { }
"""


def log(msg):
    print(f"make_pipelines: {msg}", file=sys.stderr, flush=True)


def write_labels(model_dir):
    # ImageNet's class names are a download; these stand for them.
    with open(os.path.join(model_dir, "labels.txt"), "w") as f:
        for i in range(1000):
            f.write(f"class_{i:04d}\n")


def write_preprocess(model_dir):
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(PREPROCESS)


def write_pipeline(name, model):
    def writer(model_dir):
        with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
            f.write(PIPELINE.format(name=name, model=model))
        write_labels(model_dir)
    return writer


def write_mobilenet(model_dir):
    import torch
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_small(weights=None).eval()
    torch.onnx.export(
        model, (torch.zeros(2, 3, 224, 224),),
        os.path.join(model_dir, "1", "model.onnx"),
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=17, do_constant_folding=True)
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(MOBILENET)


JOBS = {
    "imagenet_preprocess": write_preprocess,
    "resnet50_pipeline": write_pipeline("resnet50_pipeline", "resnet50_onnx"),
    "mobilenet_onnx": write_mobilenet,
    "mobilenet_pipeline": write_pipeline("mobilenet_pipeline",
                                         "mobilenet_onnx"),
    "text_tokenizer": write_tokenizer,
    "text_lstm_pipeline": write_text_pipeline,
}




def write_samples(images_dir):
    """Synthetic photos: smooth shapes and noise, in several sizes."""
    from PIL import Image
    os.makedirs(images_dir, exist_ok=True)
    rng = np.random.default_rng(7)
    for name, (w, h) in {"landscape.jpg": (640, 480), "portrait.jpg": (480, 640),
                         "large.jpg": (1920, 1280), "small.jpg": (320, 240)}.items():
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.stack([128 + 100 * np.sin(xx / 37.0), 128 + 100 * np.cos(yy / 23.0),
                        (xx + yy) % 256], axis=-1)
        img += rng.normal(0, 10, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(
            os.path.join(images_dir, name), "JPEG", quality=90)
    with open(os.path.join(images_dir, "sentences.txt"), "w") as f:
        f.write("The movie was amazing, I loved the music!\n"
                "Boring plot and terrible acting.\n"
                "Some scenes were slow, but the ending was great.\n"
                "I have no idea what this film is about.\n")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(root, "examples", "models"))
    parser.add_argument("--images", default=os.path.join(root, "examples", "images"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, writer in JOBS.items():
        generated_dirs.generate(args.out, name, writer, SCRIPT_HASH, log)
    write_samples(args.images)


if __name__ == "__main__":
    sys.exit(main())
