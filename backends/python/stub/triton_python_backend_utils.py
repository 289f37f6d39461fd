"""serval's implementation of the module Triton's Python models import:

    import triton_python_backend_utils as pb_utils

The names, signatures and behaviour follow Triton's Python backend so that
a model.py written for Triton runs unchanged. Tensors handed to execute()
are numpy views of the shared memory region the server wrote them into
(no copy); they are valid until execute() returns.
"""

import json
import sys
import threading

import numpy as np

# Triton's data type numbering (TRITONSERVER_DataType), which
# numpy_to_triton_type and triton_to_numpy_type speak.
TRITONSERVER_TYPE_INVALID = 0
TRITONSERVER_TYPE_BOOL = 1
TRITONSERVER_TYPE_UINT8 = 2
TRITONSERVER_TYPE_UINT16 = 3
TRITONSERVER_TYPE_UINT32 = 4
TRITONSERVER_TYPE_UINT64 = 5
TRITONSERVER_TYPE_INT8 = 6
TRITONSERVER_TYPE_INT16 = 7
TRITONSERVER_TYPE_INT32 = 8
TRITONSERVER_TYPE_INT64 = 9
TRITONSERVER_TYPE_FP16 = 10
TRITONSERVER_TYPE_FP32 = 11
TRITONSERVER_TYPE_FP64 = 12
TRITONSERVER_TYPE_BYTES = 13
TRITONSERVER_TYPE_BF16 = 14

# Flags Triton defines for decoupled responses and sequences; serval runs
# neither, but models that mention them still import.
TRITONSERVER_RESPONSE_COMPLETE_FINAL = 1
TRITONSERVER_REQUEST_FLAG_SEQUENCE_START = 1
TRITONSERVER_REQUEST_FLAG_SEQUENCE_END = 2
TRITONSERVER_REQUEST_RELEASE_ALL = 1
TRITONSERVER_REQUEST_RELEASE_RESCHEDULE = 2

# KServe v2 datatype names <-> numpy, the wire names serval speaks.
_WIRE_TO_NUMPY = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16,
    "UINT32": np.uint32, "UINT64": np.uint64, "INT8": np.int8,
    "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
    "BYTES": np.object_,
}
_TRITON_TO_WIRE = {
    TRITONSERVER_TYPE_BOOL: "BOOL", TRITONSERVER_TYPE_UINT8: "UINT8",
    TRITONSERVER_TYPE_UINT16: "UINT16", TRITONSERVER_TYPE_UINT32: "UINT32",
    TRITONSERVER_TYPE_UINT64: "UINT64", TRITONSERVER_TYPE_INT8: "INT8",
    TRITONSERVER_TYPE_INT16: "INT16", TRITONSERVER_TYPE_INT32: "INT32",
    TRITONSERVER_TYPE_INT64: "INT64", TRITONSERVER_TYPE_FP16: "FP16",
    TRITONSERVER_TYPE_FP32: "FP32", TRITONSERVER_TYPE_FP64: "FP64",
    TRITONSERVER_TYPE_BYTES: "BYTES", TRITONSERVER_TYPE_BF16: "BF16",
}
_WIRE_TO_TRITON = {v: k for k, v in _TRITON_TO_WIRE.items()}


def wire_datatype(array):
    """The KServe v2 datatype of a numpy array."""
    kind = array.dtype
    if kind == np.object_ or kind.type == np.bytes_ or kind.type == np.str_:
        return "BYTES"
    for name, np_type in _WIRE_TO_NUMPY.items():
        if np_type is not np.object_ and kind == np.dtype(np_type):
            return name
    raise TritonModelException(f"numpy dtype {kind} has no Triton datatype")


def numpy_dtype(wire):
    """numpy type of a KServe v2 datatype name."""
    if wire not in _WIRE_TO_NUMPY:
        raise TritonModelException(f"datatype {wire} has no numpy type")
    return _WIRE_TO_NUMPY[wire]


def triton_to_numpy_type(data_type):
    wire = _TRITON_TO_WIRE.get(data_type)
    return None if wire is None or wire == "BF16" else _WIRE_TO_NUMPY[wire]


def numpy_to_triton_type(data_type):
    data_type = np.dtype(data_type) if data_type is not np.object_ else data_type
    if data_type is np.object_ or data_type == np.object_ or \
            data_type == np.bytes_:
        return TRITONSERVER_TYPE_BYTES
    for name, np_type in _WIRE_TO_NUMPY.items():
        if np_type is not np.object_ and data_type == np.dtype(np_type):
            return _WIRE_TO_TRITON[name]
    return None


def triton_string_to_numpy(triton_type_string):
    """numpy type of a config data_type ("TYPE_FP32"; "TYPE_STRING" is
    BYTES)."""
    name = triton_type_string
    if name.startswith("TYPE_"):
        name = name[len("TYPE_"):]
    if name == "STRING":
        name = "BYTES"
    return _WIRE_TO_NUMPY.get(name)


def serialize_byte_tensor(input_tensor):
    """A BYTES array flattened as serval and Triton carry it: each element a
    4-byte little-endian length, then its bytes. Returns a uint8 array."""
    if input_tensor.size == 0:
        return np.empty([0], dtype=np.uint8)
    parts = []
    for obj in np.nditer(input_tensor, flags=["refs_ok"], order="C"):
        item = obj.item()
        if isinstance(item, str):
            item = item.encode("utf-8")
        elif not isinstance(item, (bytes, bytearray)):
            item = str(item).encode("utf-8")
        parts.append(len(item).to_bytes(4, "little"))
        parts.append(bytes(item))
    return np.frombuffer(b"".join(parts), dtype=np.uint8)


def deserialize_bytes_tensor(encoded_tensor):
    """The inverse of serialize_byte_tensor: a 1-D object array of bytes."""
    data = memoryview(encoded_tensor).cast("B")
    items = []
    offset = 0
    end = len(data)
    while offset < end:
        if offset + 4 > end:
            raise TritonModelException("BYTES tensor is truncated")
        length = int.from_bytes(data[offset:offset + 4], "little")
        offset += 4
        if offset + length > end:
            raise TritonModelException("BYTES tensor is truncated")
        items.append(bytes(data[offset:offset + length]))
        offset += length
    out = np.empty(len(items), dtype=np.object_)
    out[:] = items
    return out


class TritonError:
    """An error a model returns in an InferenceResponse."""
    UNKNOWN = 0
    INTERNAL = 1
    NOT_FOUND = 2
    INVALID_ARG = 3
    UNAVAILABLE = 4
    UNSUPPORTED = 5
    ALREADY_EXISTS = 6
    CANCELLED = 7

    def __init__(self, message, code=INTERNAL):
        self._message = str(message)
        self._code = code

    def message(self):
        return self._message

    def code(self):
        return self._code

    def __repr__(self):
        return f"TritonError({self._message!r}, code={self._code})"


class TritonModelException(Exception):
    """Raised by a model (or by this module) to fail the requests."""

    def message(self):
        return str(self)


class Tensor:
    """A named tensor: a numpy array (for BYTES, an object array of bytes)."""

    def __init__(self, name, data, dtype=None):
        if not isinstance(name, str):
            raise TritonModelException("a Tensor's name must be a string")
        if not isinstance(data, np.ndarray):
            data = np.asarray(data, dtype=dtype)
        if data.dtype.type == np.str_ or data.dtype.type == np.bytes_:
            data = data.astype(np.object_)
        self._name = name
        self._array = data

    def name(self):
        return self._name

    def as_numpy(self):
        return self._array

    def shape(self):
        return list(self._array.shape)

    def data_type(self):
        return numpy_to_triton_type(self._array.dtype)

    def triton_dtype(self):
        return self.data_type()

    def is_cpu(self):
        return True

    def to_dlpack(self):
        if self._array.dtype == np.object_:
            raise TritonModelException("a BYTES tensor cannot be shared by DLPack")
        return self._array.__dlpack__()

    @staticmethod
    def from_dlpack(name, capsule):
        if hasattr(np, "from_dlpack"):
            class _Holder:
                def __init__(self, c):
                    self.c = c

                def __dlpack__(self, stream=None):
                    return self.c

                def __dlpack_device__(self):
                    return (1, 0)  # kDLCPU
            holder = capsule if hasattr(capsule, "__dlpack__") else _Holder(capsule)
            return Tensor(name, np.from_dlpack(holder))
        raise TritonModelException("this numpy has no DLPack support")

    def __repr__(self):
        return f"Tensor({self._name!r}, shape={self.shape()}, dtype={self._array.dtype})"


class InferenceResponse:
    def __init__(self, output_tensors=None, error=None, parameters=None):
        self._outputs = list(output_tensors or [])
        for t in self._outputs:
            if not isinstance(t, Tensor):
                raise TritonModelException(
                    "InferenceResponse output_tensors must be pb_utils.Tensor objects")
        if error is not None and not isinstance(error, TritonError):
            error = TritonError(str(error))
        self._error = error
        if isinstance(parameters, str):
            parameters = json.loads(parameters) if parameters else {}
        self._parameters = dict(parameters or {})

    def output_tensors(self):
        return self._outputs

    def has_error(self):
        return self._error is not None

    def error(self):
        return self._error

    def parameters(self):
        return json.dumps(self._parameters)


class InferenceRequest:
    """A request given to execute(), or one a model builds to call another
    model of the same server (Business Logic Scripting) with exec() or
    async_exec()."""

    def __init__(self, model_name=None, requested_output_names=None,
                 inputs=None, request_id="", correlation_id=0, trace=None,
                 model_version=-1, flags=0, timeout=0, preferred_memory=None,
                 parameters=None, **kwargs):
        self._model_name = model_name
        self._requested = list(requested_output_names or [])
        self._inputs = list(inputs or [])
        self._request_id = request_id or ""
        self._correlation_id = correlation_id
        self._model_version = model_version
        self._flags = flags
        self._timeout = timeout
        if isinstance(parameters, str):
            parameters = json.loads(parameters) if parameters else {}
        self._parameters = dict(parameters or {})

    def inputs(self):
        return self._inputs

    def request_id(self):
        return self._request_id

    def correlation_id(self):
        return self._correlation_id

    def model_name(self):
        return self._model_name

    def model_version(self):
        return self._model_version

    def flags(self):
        return self._flags

    def timeout(self):
        return self._timeout

    def parameters(self):
        """The request's parameters as a JSON string, as in Triton."""
        return json.dumps(self._parameters)

    def requested_output_names(self):
        return list(self._requested)

    def is_cancelled(self):
        return False

    def get_response_sender(self):
        raise TritonModelException(
            "decoupled models are not supported by serval: return one "
            "InferenceResponse per request from execute()")

    def exec(self, decoupled=False):
        """Runs this request on model_name and waits for its response."""
        if decoupled:
            raise TritonModelException("decoupled BLS calls are not supported by serval")
        return _bls().exec(self)

    def async_exec(self, decoupled=False):
        """Like exec() but returns an awaitable, for `async def execute`."""
        if decoupled:
            raise TritonModelException("decoupled BLS calls are not supported by serval")
        import asyncio
        return asyncio.wrap_future(_bls().call(self))


def get_input_tensor_by_name(inference_request, name):
    for t in inference_request.inputs():
        if t.name() == name:
            return t
    return None


def get_output_tensor_by_name(inference_response, name):
    for t in inference_response.output_tensors():
        if t.name() == name:
            return t
    return None


def get_input_config_by_name(model_config, name):
    for item in model_config.get("input", []):
        if item.get("name") == name:
            return item
    return None


def get_output_config_by_name(model_config, name):
    for item in model_config.get("output", []):
        if item.get("name") == name:
            return item
    return None


def using_decoupled_model_transaction_policy(model_config):
    return bool(model_config.get("model_transaction_policy", {}).get("decoupled"))


class ModelConfig:
    """The configuration auto_complete_config(auto_complete_model_config)
    receives and returns."""

    def __init__(self, model_config):
        if isinstance(model_config, str):
            model_config = json.loads(model_config)
        self._config = model_config
        self._config.setdefault("input", [])
        self._config.setdefault("output", [])

    def as_dict(self):
        return self._config

    def set_max_batch_size(self, max_batch_size):
        current = int(self._config.get("max_batch_size", 0) or 0)
        if current not in (0, max_batch_size) and "max_batch_size" in self._config:
            raise ValueError(
                f"configuration specified max_batch_size {current}, but "
                f"auto-complete tried to set it to {max_batch_size}")
        self._config["max_batch_size"] = max_batch_size

    def set_dynamic_batching(self):
        self._config.setdefault("dynamic_batching", {})

    def _add(self, kind, tensor):
        for key in ("name", "data_type", "dims"):
            if key not in tensor:
                raise ValueError(f"{kind} in auto-complete-config must have '{key}'")
        for existing in self._config[kind]:
            if existing.get("name") != tensor["name"]:
                continue
            mine = existing.get("data_type", "TYPE_INVALID")
            if mine not in ("TYPE_INVALID", tensor["data_type"]):
                raise ValueError(
                    f"{kind} '{tensor['name']}' has data_type {mine} in the "
                    f"configuration; auto-complete tried {tensor['data_type']}")
            dims = [int(d) for d in existing.get("dims", [])]
            if dims and dims != [int(d) for d in tensor["dims"]]:
                raise ValueError(
                    f"{kind} '{tensor['name']}' has dims {dims} in the "
                    f"configuration; auto-complete tried {list(tensor['dims'])}")
            existing["data_type"] = tensor["data_type"]
            existing["dims"] = [int(d) for d in tensor["dims"]]
            return
        self._config[kind].append(dict(tensor))

    def add_input(self, input):
        self._add("input", input)

    def add_output(self, output):
        self._add("output", output)

    def set_model_transaction_policy(self, transaction_policy_dict):
        self._config["model_transaction_policy"] = dict(transaction_policy_dict)

    def add_model_warmup(self, model_warmup):
        self._config.setdefault("model_warmup", []).append(dict(model_warmup))


class Logger:
    """Writes to serval's log, tagged with the model and, inside execute(),
    the ids of the requests being executed."""
    INFO = 0
    WARNING = 1
    ERROR = 2
    VERBOSE = 3

    @staticmethod
    def log(message, level=0):
        _log_sink(level, str(message))

    @staticmethod
    def log_info(message):
        _log_sink(Logger.INFO, str(message))

    @staticmethod
    def log_warn(message):
        _log_sink(Logger.WARNING, str(message))

    @staticmethod
    def log_error(message):
        _log_sink(Logger.ERROR, str(message))

    @staticmethod
    def log_verbose(message):
        _log_sink(Logger.VERBOSE, str(message))


class LogLevel:
    INFO = Logger.INFO
    WARNING = Logger.WARNING
    ERROR = Logger.ERROR
    VERBOSE = Logger.VERBOSE


# The stub installs these; alone (e.g. imported by a unit test of a model)
# logs go to stderr and BLS calls fail clearly.
def _default_log(level, message):
    sys.stderr.write(f"{message}\n")


_log_sink = _default_log
_bls_client = None
_lock = threading.Lock()


def _bls():
    if _bls_client is None:
        raise TritonModelException("BLS calls are available only inside serval")
    return _bls_client


def _install(log_sink, bls_client):
    global _log_sink, _bls_client
    with _lock:
        _log_sink = log_sink
        _bls_client = bls_client
