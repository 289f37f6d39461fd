/* serval backend C ABI.
 *
 * The only stable public surface of serval. A backend is a shared library
 * that exports one symbol, ServalBackendGetApi, and is built against this
 * header alone (no serval C++ headers, no exceptions across the boundary).
 *
 * Versioning: both tables start with their size and the ABI major/minor
 * version they were built with. Functions are only ever appended, so a newer
 * host can read an older plugin's table by checking struct_size. A plugin of
 * a different major version is refused by the host at load time.
 *
 * Ownership: every ServalBatch handed to execute() belongs to the backend
 * until it calls host->batch_complete() exactly once (success or error).
 * Errors returned by backend functions are ServalError objects created with
 * host->error_new(); the host frees them.
 *
 * Threads: model_create/model_destroy/instance_* are called from load
 * threads. execute() is never called concurrently for the same instance, and
 * may be called concurrently for different instances of the same model; the
 * instances share the model's weights. */
#ifndef SERVAL_BACKEND_H_
#define SERVAL_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SERVAL_BACKEND_ABI_MAJOR 1
#define SERVAL_BACKEND_ABI_MINOR 2

#if defined(__GNUC__)
#define SERVAL_EXPORT __attribute__((visibility("default")))
#else
#define SERVAL_EXPORT
#endif

/* Status codes: the numbering of absl::StatusCode / gRPC. */
typedef enum ServalCode {
  SERVAL_OK = 0,
  SERVAL_CANCELLED = 1,
  SERVAL_UNKNOWN = 2,
  SERVAL_INVALID_ARGUMENT = 3,
  SERVAL_DEADLINE_EXCEEDED = 4,
  SERVAL_NOT_FOUND = 5,
  SERVAL_ALREADY_EXISTS = 6,
  SERVAL_PERMISSION_DENIED = 7,
  SERVAL_RESOURCE_EXHAUSTED = 8,
  SERVAL_FAILED_PRECONDITION = 9,
  SERVAL_ABORTED = 10,
  SERVAL_OUT_OF_RANGE = 11,
  SERVAL_UNIMPLEMENTED = 12,
  SERVAL_INTERNAL = 13,
  SERVAL_UNAVAILABLE = 14,
  SERVAL_DATA_LOSS = 15
} ServalCode;

/* Tensor element types (KServe v2 names without the prefix). */
typedef enum ServalDataType {
  SERVAL_TYPE_INVALID = 0,
  SERVAL_TYPE_BOOL = 1,
  SERVAL_TYPE_UINT8 = 2,
  SERVAL_TYPE_UINT16 = 3,
  SERVAL_TYPE_UINT32 = 4,
  SERVAL_TYPE_UINT64 = 5,
  SERVAL_TYPE_INT8 = 6,
  SERVAL_TYPE_INT16 = 7,
  SERVAL_TYPE_INT32 = 8,
  SERVAL_TYPE_INT64 = 9,
  SERVAL_TYPE_FP16 = 10,
  SERVAL_TYPE_FP32 = 11,
  SERVAL_TYPE_FP64 = 12,
  SERVAL_TYPE_BF16 = 13,
  /* Each element: 4-byte little-endian length, then that many bytes. */
  SERVAL_TYPE_BYTES = 14
} ServalDataType;

typedef enum ServalInstanceKind {
  SERVAL_INSTANCE_CPU = 0,
  SERVAL_INSTANCE_GPU = 1
} ServalInstanceKind;

typedef enum ServalLogLevel {
  SERVAL_LOG_DEBUG = 0,
  SERVAL_LOG_INFO = 1,
  SERVAL_LOG_WARNING = 2,
  SERVAL_LOG_ERROR = 3
} ServalLogLevel;

/* Opaque handles. Host-owned: ServalError, ServalBatch. Backend-owned:
 * ServalModelState, ServalInstanceState. */
typedef struct ServalError ServalError;
typedef struct ServalBatch ServalBatch;
typedef struct ServalModelState ServalModelState;
typedef struct ServalInstanceState ServalInstanceState;

/* A tensor described by the host. Memory is host-owned and valid until the
 * batch is completed. Shapes include the batch dimension when the model
 * batches (max_batch_size > 0). */
typedef struct ServalTensor {
  const char* name;
  int32_t datatype; /* ServalDataType */
  const int64_t* shape;
  uint32_t rank;
  const void* data;
  uint64_t byte_size;
} ServalTensor;

/* Declared input or output of a model, as the backend sees it: the
 * config's `reshape` when it declares one, else its dims (from config.pbtxt;
 * dims exclude the batch dimension; -1 is a variable dimension). */
typedef struct ServalTensorSpec {
  const char* name;
  int32_t datatype;
  const int64_t* dims;
  uint32_t rank;
} ServalTensorSpec;

typedef struct ServalParameter {
  const char* key;
  const char* value;
} ServalParameter;

/* What the host knows about a model version when it creates it. */
typedef struct ServalModelInfo {
  const char* name;
  int64_t version;
  /* Directory of the version (<repo>/<model>/<version>). */
  const char* version_path;
  /* Full path of the model file (default_model_filename resolved). */
  const char* model_file;
  /* max_batch_size from the config; 0 = the model does not batch. */
  int32_t max_batch_size;
  const ServalTensorSpec* inputs;
  uint32_t input_count;
  const ServalTensorSpec* outputs;
  uint32_t output_count;
  const ServalParameter* parameters;
  uint32_t parameter_count;
  /* Total instances that will be created for this model, all groups. */
  uint32_t instance_count;
  /* The whole model configuration as JSON (protobuf JSON mapping, Triton
   * field names), for backends that need more than the fields above. */
  const char* config_json;
} ServalModelInfo;

/* Since 1.2. A request a backend sends to another model of its server
 * (host->infer; Triton calls this Business Logic Scripting). */
typedef struct ServalInferRequest {
  const char* model_name;
  int64_t model_version;  /* -1: the latest ready version */
  const char* request_id; /* may be NULL */
  uint64_t timeout_us;    /* 0: none */
  const ServalTensor* inputs;
  uint32_t input_count;
  const char* const* outputs; /* requested outputs; none: every output */
  uint32_t output_count;
  const char* parameters_json; /* a JSON object, or NULL */
} ServalInferRequest;

/* Receives the answer to host->infer: error NULL and the outputs, or an
 * error (outputs NULL). Everything is valid during the call only; the host
 * frees the error. */
typedef void (*ServalInferCallback)(void* context, const ServalError* error,
                                    const ServalTensor* outputs,
                                    uint32_t output_count);

/* Receives a string produced by the backend (copied by the host). */
typedef void (*ServalStringSink)(void* sink_context, const char* data,
                                 uint64_t size);

/* Functions the host offers to the backend. */
typedef struct ServalHostApi {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;

  /* Creates an error object; the message is copied. */
  ServalError* (*error_new)(int32_t code, const char* message);

  void (*log)(int32_t level, const char* file, int32_t line,
              const char* message);

  /* Number of requests gathered in this batch (>= 1). */
  uint32_t (*batch_request_count)(ServalBatch* batch);

  /* All inputs of the batch in one call, in model order. An input the config
   * declares `optional` may be absent (every request of the batch left it
   * out): find inputs by name. For a batching model each input is
   * the requests' tensors concatenated along the first dimension. The array
   * stays valid until the batch is completed. */
  ServalError* (*batch_inputs)(ServalBatch* batch, const ServalTensor** inputs,
                               uint32_t* count);

  /* Names of the outputs the requests need (a subset of the model outputs;
   * the backend may produce just those). Valid until completion. */
  ServalError* (*batch_requested_outputs)(ServalBatch* batch,
                                          const char* const** names,
                                          uint32_t* count);

  /* Allocates the output `name` of the whole batch (first dimension = total
   * batch for a batching model) and returns a host buffer of byte_size bytes
   * the backend writes into. For BYTES outputs byte_size is the serialized
   * size. Fails for an unknown name or a wrong datatype. */
  ServalError* (*batch_output_buffer)(ServalBatch* batch, const char* name,
                                      int32_t datatype, const int64_t* shape,
                                      uint32_t rank, uint64_t byte_size,
                                      void** buffer);

  /* Optional timing report: nanoseconds on CLOCK_MONOTONIC at which the
   * backend finished preparing inputs and finished inference. Pass 0 for an
   * unknown value. */
  void (*batch_report_times)(ServalBatch* batch, uint64_t input_end_ns,
                             uint64_t infer_end_ns);

  /* Completes every request of the batch. error == NULL is success, and
   * then every requested output must have been allocated and written. The
   * host takes ownership of error. Must be called exactly once; the batch
   * must not be touched afterwards. */
  void (*batch_complete)(ServalBatch* batch, ServalError* error);
  /* Since 1.1 (check struct_size before use). Items the request `index` of
   * the batch contributes along the first dimension (1 for a model that does
   * not batch); 0 for an index out of range. */
  uint64_t (*batch_request_items)(ServalBatch* batch, uint32_t index);
  /* Since 1.1. Fails one request of the batch with `error` (the host takes
   * ownership) while the others complete normally: a bad input of one
   * client does not fail the requests batched with it. Call before
   * batch_complete; its rows of the outputs are written but not returned.
   * An index out of range is ignored (the error is freed). */
  void (*batch_request_fail)(ServalBatch* batch, uint32_t index,
                             ServalError* error);
  /* Since 1.2. The id the client gave request `index` ("" when none, and
   * for an index out of range); valid until completion. */
  const char* (*batch_request_id)(ServalBatch* batch, uint32_t index);
  /* Since 1.2. The timeout request `index` asked for, in microseconds
   * (0: none). */
  uint64_t (*batch_request_timeout_us)(ServalBatch* batch, uint32_t index);
  /* Since 1.2. The earliest deadline of the batch's requests (their
   * timeouts and the queue policy's), in nanoseconds on CLOCK_MONOTONIC;
   * 0 when none has one. A backend that can give up on a batch (a process
   * that hangs) gives up then. */
  uint64_t (*batch_deadline_ns)(ServalBatch* batch);
  /* Since 1.2. Sends `request` to another model of this server, through
   * the same path as a client's request (validated, scheduled, counted),
   * on behalf of the batch being executed (used during the call only).
   * The inputs are copied before infer returns. `done` is called exactly
   * once, on any thread, possibly before infer returns. */
  void (*infer)(ServalBatch* batch, const ServalInferRequest* request,
                ServalInferCallback done, void* context);
  /* Since 1.2. The parameters of request `index` as a JSON object text
   * (KServe v2's "parameters"; "{}" when it had none); valid until
   * completion. */
  const char* (*batch_request_parameters)(ServalBatch* batch, uint32_t index);
  /* Since 1.2. The code and message of an error (valid while it is). */
  int32_t (*error_code)(const ServalError* error);
  const char* (*error_message)(const ServalError* error);
} ServalHostApi;

/* Functions the backend offers to the host. Optional entries may be NULL. */
typedef struct ServalBackendApi {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  /* Short name, e.g. "onnxruntime". */
  const char* name;

  /* Optional. Reads the model file and emits, through sink, a JSON object
   * with the fields it can infer (Triton names: max_batch_size, input,
   * output), given the partial configuration as JSON. The host fills in
   * only fields the user left unset. */
  ServalError* (*model_autocomplete)(const char* model_file,
                                     const char* config_json,
                                     ServalStringSink sink, void* sink_context);

  /* Loads the weights once per model version. */
  ServalError* (*model_create)(const ServalModelInfo* info,
                               ServalModelState** model);
  void (*model_destroy)(ServalModelState* model);

  /* Creates an execution context sharing the model's weights. */
  ServalError* (*instance_create)(ServalModelState* model, int32_t kind,
                                  int32_t device_id, uint32_t instance_index,
                                  ServalInstanceState** instance);
  void (*instance_destroy)(ServalInstanceState* instance);

  /* Runs a batch. Ownership of the batch passes to the backend, which must
   * call host->batch_complete exactly once, possibly before returning. */
  void (*execute)(ServalInstanceState* instance, ServalBatch* batch);
} ServalBackendApi;

/* The one exported entry point. The backend keeps `host` (valid for the
 * life of the process) and returns its table, or NULL if it cannot work
 * with this host (e.g. abi_major differs); a NULL return is reported by
 * the host with both versions. */
typedef const ServalBackendApi* (*ServalBackendGetApiFn)(
    const ServalHostApi* host);
#define SERVAL_BACKEND_ENTRY_POINT "ServalBackendGetApi"

#ifdef __cplusplus
}
#endif

#endif /* SERVAL_BACKEND_H_ */
