"""serval's Python model stub: one process per model instance, so every
instance has its own interpreter and GIL.

The server starts it with a Unix socket (control messages: 8-byte frame
header - JSON length and payload length, little-endian u32 - then the JSON,
then the payload) and two shared memory files: inputs, which the server
writes and this process maps, and outputs, which this process writes (and
grows) and the server maps. Tensors never cross the socket, except those of
BLS calls, which are carried in the frame payload.

  serval_python_stub.py --socket-fd N --input-fd N --output-fd N --model-file PATH
  serval_python_stub.py --autocomplete --model-file PATH   (config JSON on stdin)
"""

import argparse
import asyncio
import concurrent.futures
import importlib.util
import inspect
import json
import mmap
import os
import socket
import struct
import sys
import threading
import time
import traceback

_FRAME = struct.Struct("<II")
_ALIGN = 64


class Channel:
    """Framed messages over the control socket; send is thread-safe (the
    Logger may be called from a model's own threads), receiving is the main
    thread's. Reads are buffered: one recv often holds a whole frame."""

    def __init__(self, fd):
        self._sock = socket.socket(fileno=fd)
        self._send_lock = threading.Lock()
        self._buf = bytearray()

    def send(self, header, payload=b""):
        data = json.dumps(header, separators=(",", ":")).encode("utf-8")
        with self._send_lock:
            self._sock.sendall(_FRAME.pack(len(data), len(payload)) + data)
            if payload:
                self._sock.sendall(payload)

    def fileno(self):
        return self._sock.fileno()

    def _frame_size(self):
        if len(self._buf) < _FRAME.size:
            return None
        json_len, payload_len = _FRAME.unpack_from(self._buf)
        return _FRAME.size + json_len + payload_len

    def has_frame(self):
        size = self._frame_size()
        return size is not None and len(self._buf) >= size

    def recv(self):
        while not self.has_frame():
            data = self._sock.recv(1 << 16)
            if not data:
                raise EOFError
            self._buf += data
        json_len, payload_len = _FRAME.unpack_from(self._buf)
        start = _FRAME.size
        header = json.loads(self._buf[start:start + json_len])
        start += json_len
        payload = bytes(self._buf[start:start + payload_len]) if payload_len else b""
        del self._buf[:start + payload_len]
        return header, payload


class Region:
    """A shared memory file mapped into this process, remapped when its
    size changes."""

    def __init__(self, fd):
        self.fd = fd
        self.size = 0
        self.map = None

    def ensure_mapped(self, size):
        if size != self.size or self.map is None:
            # Arrays a model kept still reference the old mapping, which
            # stays valid until they go.
            self.map = mmap.mmap(self.fd, size) if size > 0 else None
            self.size = size

    def grow(self, needed):
        if needed <= self.size and self.map is not None:
            return
        size = max(needed, 2 * self.size, 1 << 20)
        os.ftruncate(self.fd, size)
        self.ensure_mapped(size)


def _load_module(model_file):
    # The model's directory first on the path, as Triton does, so model.py
    # can import files next to it.
    sys.path.insert(0, os.path.dirname(os.path.abspath(model_file)))
    spec = importlib.util.spec_from_file_location("model", model_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules["model"] = module
    spec.loader.exec_module(module)
    if not hasattr(module, "TritonPythonModel"):
        raise RuntimeError(f"{model_file} defines no class TritonPythonModel")
    return module


class BlsClient:
    """Calls other models of the server for InferenceRequest.exec() and
    async_exec(). Their answers arrive on the control socket, which only
    the main thread reads: exec() reads it until its answer is there, and
    during an `async def execute` the event loop reads it when readable."""

    def __init__(self, channel, pb):
        self._channel = channel
        self._pb = pb
        self._next = 0
        self._pending = {}
        self._lock = threading.Lock()

    def exec(self, request):
        future = self.call(request)
        while not future.done():
            self.pump()
        return future.result()

    def pump(self):
        """Reads a frame, and any others already received: only answers to
        calls come while execute runs."""
        while True:
            header, payload = self._channel.recv()
            if header.get("op") == "bls_result":
                self.resolve(header, payload)
            if not self._channel.has_frame():
                return

    def call(self, request):
        pb = self._pb
        inputs, chunks, offset = [], [], 0
        for t in request.inputs():
            array = t.as_numpy()
            datatype = pb.wire_datatype(array)
            if datatype == "BYTES":
                raw = pb.serialize_byte_tensor(array).tobytes()
            else:
                raw = array.tobytes(order="C")
            inputs.append({"name": t.name(), "datatype": datatype,
                           "shape": list(array.shape), "offset": offset,
                           "size": len(raw)})
            chunks.append(raw)
            offset += len(raw)
        future = concurrent.futures.Future()
        with self._lock:
            self._next += 1
            call = self._next
            self._pending[call] = future
        self._channel.send({
            "op": "bls", "call": call, "model": request.model_name(),
            "version": int(request.model_version()),
            "request_id": request.request_id(),
            "timeout_us": int(request.timeout()),
            "outputs": request.requested_output_names(),
            "parameters": json.loads(request.parameters()),
            "inputs": inputs}, b"".join(chunks))
        return future

    def resolve(self, header, payload):
        with self._lock:
            future = self._pending.pop(header.get("call"), None)
        if future is None:
            return
        pb = self._pb
        if header.get("error") is not None:
            future.set_result(pb.InferenceResponse(
                error=pb.TritonError(header["error"],
                                     header.get("code", pb.TritonError.INTERNAL))))
            return
        outputs = []
        view = memoryview(payload)
        for o in header.get("outputs", []):
            raw = view[o["offset"]:o["offset"] + o["size"]]
            if o["datatype"] == "BYTES":
                array = pb.deserialize_bytes_tensor(raw).reshape(o["shape"])
            else:
                import numpy as np
                array = np.frombuffer(raw, dtype=pb.numpy_dtype(o["datatype"])).reshape(
                    o["shape"]).copy()
            outputs.append(pb.Tensor(o["name"], array))
        future.set_result(pb.InferenceResponse(output_tensors=outputs))

    def fail_all(self, message):
        with self._lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_result(self._pb.InferenceResponse(
                error=self._pb.TritonError(message, self._pb.TritonError.UNAVAILABLE)))


class Stub:
    def __init__(self, args):
        self.args = args
        self.channel = Channel(args.socket_fd)
        self.inputs = Region(args.input_fd)
        self.outputs = Region(args.output_fd)
        self.model = None
        self.loop = None
        self.request_ids = []
        import numpy as np
        import triton_python_backend_utils as pb
        self.np = np
        self.pb = pb
        self.bls = BlsClient(self.channel, pb)
        pb._install(self.log, self.bls)

    def watch_parent(self):
        parent = os.getppid()
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    def log(self, level, message):
        try:
            self.channel.send({"op": "log", "level": level, "message": message,
                               "request_ids": self.request_ids})
        except OSError:
            pass

    # Operations ---------------------------------------------------------
    def initialize(self, header):
        module = _load_module(self.args.model_file)
        self.model = module.TritonPythonModel()
        if hasattr(self.model, "initialize"):
            result = self.model.initialize(header["args"])
            if inspect.iscoroutine(result):
                self._run(result)

    def _run(self, coroutine):
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
        # Answers to async_exec() calls are read as they arrive.
        fd = self.channel.fileno()
        self.loop.add_reader(fd, self.bls.pump)
        try:
            return self.loop.run_until_complete(coroutine)
        finally:
            self.loop.remove_reader(fd)

    def _input_tensor(self, spec):
        np, pb = self.np, self.pb
        if spec["datatype"] == "BYTES":
            raw = memoryview(self.inputs.map)[spec["offset"]:spec["offset"] + spec["size"]]
            array = pb.deserialize_bytes_tensor(raw).reshape(spec["shape"])
        else:
            dtype = np.dtype(pb.numpy_dtype(spec["datatype"]))
            count = spec["size"] // dtype.itemsize if dtype.itemsize else 0
            array = np.frombuffer(self.inputs.map, dtype=dtype, count=count,
                                  offset=spec["offset"]).reshape(spec["shape"])
        return pb.Tensor(spec["name"], array)

    def execute(self, header):
        pb = self.pb
        self.inputs.ensure_mapped(header["input_size"])
        requests = []
        for r in header["requests"]:
            requests.append(pb.InferenceRequest(
                model_name=self.args.model_name,
                requested_output_names=r["outputs"],
                inputs=[self._input_tensor(i) for i in r["inputs"]],
                request_id=r.get("id", ""),
                timeout=r.get("timeout_us", 0),
                parameters=r.get("parameters") or {}))
        self.request_ids = [r.request_id() for r in requests]
        try:
            responses = self.model.execute(requests)
            if inspect.iscoroutine(responses):
                responses = self._run(responses)
        finally:
            self.request_ids = []
        if not isinstance(responses, (list, tuple)) or len(responses) != len(requests):
            got = len(responses) if isinstance(responses, (list, tuple)) else type(responses).__name__
            raise pb.TritonModelException(
                f"execute() must return one InferenceResponse per request: got "
                f"{got} for {len(requests)} request(s)")
        return self._write_responses(responses)

    def _write_responses(self, responses):
        np, pb = self.np, self.pb
        planned = []  # (response entry, [(spec, array)])
        total = 0
        for response in responses:
            if not isinstance(response, pb.InferenceResponse):
                planned.append(({"error": "execute() returned "
                                 f"{type(response).__name__} where an "
                                 "InferenceResponse was expected",
                                 "code": pb.TritonError.INTERNAL}, []))
                continue
            if response.has_error():
                planned.append(({"error": response.error().message(),
                                 "code": response.error().code()}, []))
                continue
            tensors = []
            for t in response.output_tensors():
                array = t.as_numpy()
                datatype = pb.wire_datatype(array)
                if datatype == "BYTES":
                    data = pb.serialize_byte_tensor(array)
                else:
                    data = array
                total = (total + _ALIGN - 1) // _ALIGN * _ALIGN + data.nbytes
                tensors.append(({"name": t.name(), "datatype": datatype,
                                 "shape": list(array.shape)}, data))
            planned.append(({"error": None}, tensors))
        self.outputs.grow(total)
        offset = 0
        out = []
        for entry, tensors in planned:
            specs = []
            for spec, data in tensors:
                offset = (offset + _ALIGN - 1) // _ALIGN * _ALIGN
                if data.nbytes:
                    dst = np.ndarray(data.shape, dtype=data.dtype,
                                     buffer=self.outputs.map, offset=offset)
                    dst[...] = data
                spec["offset"] = offset
                spec["size"] = int(data.nbytes)
                offset += data.nbytes
                specs.append(spec)
            entry["outputs"] = specs
            out.append(entry)
        return out

    def serve(self):
        threading.Thread(target=self.watch_parent, daemon=True).start()
        while True:
            try:
                header, _ = self.channel.recv()
            except (EOFError, OSError):
                # The server closed the channel or is gone: nothing left.
                return
            op = header.get("op")
            if op == "init":
                try:
                    self.initialize(header)
                    self.channel.send({"op": "ready"})
                except BaseException:
                    self.channel.send({"op": "failed", "message": traceback.format_exc()})
                    return
            elif op == "execute":
                try:
                    responses = self.execute(header)
                    self.channel.send({"op": "result", "responses": responses,
                                       "output_size": self.outputs.size})
                except BaseException as e:
                    detail = traceback.format_exc()
                    message = str(e) if isinstance(e, self.pb.TritonModelException) \
                        else f"{type(e).__name__}: {e}"
                    self.channel.send({"op": "result", "error": message,
                                       "traceback": detail,
                                       "output_size": self.outputs.size})
            elif op == "finalize":
                try:
                    if self.model is not None and hasattr(self.model, "finalize"):
                        result = self.model.finalize()
                        if inspect.iscoroutine(result):
                            self._run(result)
                    self.channel.send({"op": "finalized"})
                except BaseException:
                    self.channel.send({"op": "finalized", "message": traceback.format_exc()})
                return


def autocomplete(args):
    import triton_python_backend_utils as pb
    config = pb.ModelConfig(json.loads(sys.stdin.read() or "{}"))
    module = _load_module(args.model_file)
    fn = getattr(module.TritonPythonModel, "auto_complete_config", None)
    if fn is not None:
        result = fn(config)
        if result is not None:
            config = result
    sys.stdout.write(json.dumps(config.as_dict()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket-fd", type=int)
    parser.add_argument("--input-fd", type=int)
    parser.add_argument("--output-fd", type=int)
    parser.add_argument("--model-file", required=True)
    parser.add_argument("--model-name", default="")
    parser.add_argument("--autocomplete", action="store_true")
    args = parser.parse_args()
    # This directory holds triton_python_backend_utils.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if args.autocomplete:
        try:
            autocomplete(args)
        except BaseException:
            sys.stderr.write(traceback.format_exc())
            sys.exit(1)
        return
    Stub(args).serve()


if __name__ == "__main__":
    main()
