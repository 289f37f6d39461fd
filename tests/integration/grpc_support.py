"""Helpers for the gRPC integration tests: Python stubs generated from
serval's own proto at test time, a throw-away model repository of identity
models, and a launcher for the real `serval serve` binary on free loopback
ports. Run with /usr/bin/python3 (Debian's grpcio, protobuf and numpy).

The binary and backend directory come from --serval / --backends (as
ctest passes them) or SERVAL_BIN / SERVAL_BACKEND_DIR; see
binary_and_backends(). Processes are run by serval_harness.
"""

import argparse
import glob
import importlib
import os
import subprocess
import sys
import tempfile

import serval_harness

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# grpc.health.v1 as published by gRPC; written here because Debian has no
# grpcio-health-checking package.
HEALTH_PROTO = """
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2;
                       SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
"""


def generate_stubs(out_dir):
    """Compiles inference.proto, model_config.proto and health.proto into
    out_dir and returns the modules (pb2, pb2_grpc, health_pb2,
    health_pb2_grpc)."""
    proto_dir = os.path.join(REPO_ROOT, "proto")
    with open(os.path.join(out_dir, "health.proto"), "w") as f:
        f.write(HEALTH_PROTO)
    plugin = "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"
    for include, files in ((proto_dir, ["model_config.proto",
                                        "inference.proto"]),
                           (out_dir, ["health.proto"])):
        subprocess.run(["protoc", "-I", include, "--python_out", out_dir,
                        "--grpc_python_out", out_dir, plugin] + files,
                       check=True)
    sys.path.insert(0, out_dir)
    return tuple(importlib.import_module(m) for m in (
        "inference_pb2", "inference_pb2_grpc", "health_pb2",
        "health_pb2_grpc"))


def binary_and_backends(argv):
    """(serval binary, backend dir, remaining argv). Takes --serval and
    --backends as tests/integration/CMakeLists.txt passes them, else the
    SERVAL_BIN / SERVAL_BACKEND_DIR environment, else the first build
    directory of the repository that has a serval binary."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--serval", default=os.environ.get("SERVAL_BIN"))
    parser.add_argument("--backends",
                        default=os.environ.get("SERVAL_BACKEND_DIR"))
    args, rest = parser.parse_known_args(argv[1:])
    binary = args.serval
    if not binary:
        found = [p for p in sorted(glob.glob(
            os.path.join(REPO_ROOT, "build*", "serval"))) if os.access(p, os.X_OK)]
        if not found:
            raise RuntimeError("serval binary not found; pass --serval")
        binary = found[0]
    backends = args.backends or os.path.join(os.path.dirname(binary),
                                             "backends")
    return binary, backends, [argv[0]] + rest


def config_type(datatype):
    return "TYPE_STRING" if datatype == "BYTES" else "TYPE_" + datatype


def write_identity_model(root, name, tensors, parameters=None,
                         max_batch_size=0, extra=""):
    """tensors: list of (datatype, dims); input i is INPUT<i>, output i is
    OUTPUT<i>. `extra` is appended to config.pbtxt verbatim."""
    os.makedirs(os.path.join(root, name, "1"), exist_ok=True)
    lines = ['name: "%s"' % name, 'backend: "identity"',
             "max_batch_size: %d" % max_batch_size]
    for kind, prefix in (("input", "INPUT"), ("output", "OUTPUT")):
        entries = []
        for i, (datatype, dims) in enumerate(tensors):
            entries.append('  { name: "%s%d" data_type: %s dims: [ %s ] }' % (
                prefix, i, config_type(datatype),
                ", ".join(str(d) for d in dims)))
        lines.append("%s [\n%s\n]" % (kind, ",\n".join(entries)))
    for key, value in (parameters or {}).items():
        lines.append('parameters { key: "%s" value { string_value: "%s" } }'
                     % (key, value))
    if extra:
        lines.append(extra)
    with open(os.path.join(root, name, "config.pbtxt"), "w") as f:
        f.write("\n".join(lines) + "\n")


class ServalProcess(serval_harness.Serval):
    """`serval serve` on free loopback ports with one repository (see
    serval_harness.Serval: a context manager that always stops it)."""

    binary = None
    backends = None

    def __init__(self, repository, extra_args=()):
        super().__init__(ServalProcess.binary, ServalProcess.backends,
                         [repository], extra_args)

    @property
    def grpc_target(self):
        return "127.0.0.1:%d" % self.grpc_port


def temp_dir(prefix):
    return tempfile.TemporaryDirectory(prefix=prefix)
