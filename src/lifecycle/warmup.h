// Warm-up (config `model_warmup`): sample requests built from the config and
// run through a freshly loaded version's own scheduler and backend before
// the version is declared READY, so the first client request does not pay
// for lazy initialization. A failed sample fails the load. Warm-up requests
// are ordinary requests to the scheduler, so they appear in the version's
// statistics. Free functions; thread-safe.
#ifndef SERVAL_LIFECYCLE_WARMUP_H_
#define SERVAL_LIFECYCLE_WARMUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/model_spec.h"
#include "proto/model_config.pb.h"
#include "tensor/datatype.h"
#include "tensor/shape.h"

namespace serval {

class ModelVersion;

struct WarmupTensor {
  std::string name;
  DataType datatype = DataType::kInvalid;
  Shape shape;        // full shape, batch dimension included when batching
  std::string bytes;  // row-major; BYTES tensors serialized (length, bytes)*
};

struct WarmupSample {
  std::string name;
  int64_t batch_size = 1;
  uint32_t runs = 1;                 // config `count`, 0 read as 1
  std::vector<WarmupTensor> inputs;  // in model input order
};

// Builds the samples of config.model_warmup. input_data_file is read from
// `<model_dir>/warmup/<file>` (refused if the name leaves that directory)
// and must hold exactly the tensor's bytes (any length for BYTES, which
// must parse as serialized elements). random_data uses `seed`: floats are
// uniform in [0, 1), BOOL is 0/1, integers and BYTES are random.
absl::StatusOr<std::vector<WarmupSample>> BuildWarmupSamples(
    const inference::ModelConfig& config, const ModelSpec& io,
    const std::string& model_dir, uint64_t seed = 1);

// Runs every sample `runs` times, one request at a time, through the
// version's scheduler and waits for each. Blocks the calling (load) thread.
absl::Status RunWarmup(ModelVersion& version,
                       const std::vector<WarmupSample>& samples);

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_WARMUP_H_
