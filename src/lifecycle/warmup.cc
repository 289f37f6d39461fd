#include "lifecycle/warmup.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "config/model_spec.h"
#include "lifecycle/model_version.h"
#include "scheduler/pending_request.h"
#include "tensor/tensor.h"

namespace serval {
namespace fs = std::filesystem;
namespace {

absl::Status SampleError(const std::string& sample, const std::string& input,
                         absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "warm-up sample '", sample, "' input '", input, "': ", what));
}

uint16_t HalfInUnitInterval(std::mt19937_64& rng) {
  // Exponent 1..14 (2^-14 .. 2^-1) and a random mantissa: always in [0, 1).
  const uint16_t exponent = static_cast<uint16_t>(1 + rng() % 14);
  return static_cast<uint16_t>((exponent << 10) | (rng() & 0x3ff));
}

void FillRandom(DataType type, int64_t elements, std::mt19937_64& rng,
                std::string* out) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const size_t size = ElementSize(type);
  out->resize(static_cast<size_t>(elements) * size);
  char* p = out->data();
  for (int64_t i = 0; i < elements; ++i, p += size) {
    switch (type) {
      case DataType::kFp32: {
        const float v = static_cast<float>(unit(rng));
        std::memcpy(p, &v, size);
        break;
      }
      case DataType::kFp64: {
        const double v = unit(rng);
        std::memcpy(p, &v, size);
        break;
      }
      case DataType::kBf16: {
        const float v = static_cast<float>(unit(rng));
        uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        const uint16_t high = static_cast<uint16_t>(bits >> 16);
        std::memcpy(p, &high, size);
        break;
      }
      case DataType::kFp16: {
        const uint16_t half = HalfInUnitInterval(rng);
        std::memcpy(p, &half, size);
        break;
      }
      case DataType::kBool:
        *p = static_cast<char>(rng() & 1);
        break;
      default: {
        const uint64_t v = rng();
        std::memcpy(p, &v, size);
      }
    }
  }
}

absl::StatusOr<std::string> ReadWarmupFile(const std::string& model_dir,
                                           const std::string& sample,
                                           const std::string& input,
                                           const std::string& file) {
  const fs::path rel(file);
  if (file.empty() || rel.is_absolute() ||
      file.find("..") != std::string::npos) {
    return SampleError(sample, input,
                       absl::StrCat("input_data_file '", file,
                                    "' must be a plain name inside "
                                    "<model>/warmup/"));
  }
  const fs::path path = fs::path(model_dir) / "warmup" / rel;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return SampleError(sample, input,
                       absl::StrCat("cannot read ", path.string()));
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

absl::StatusOr<WarmupTensor> BuildTensor(
    const inference::ModelWarmup& warmup, const TensorSpec& spec,
    const inference::ModelWarmup::Input& input, const ModelSpec& io,
    const std::string& model_dir, std::mt19937_64& rng) {
  WarmupTensor t;
  t.name = spec.name;
  t.datatype = spec.datatype;
  if (io.batching()) t.shape.push_back(warmup.batch_size());
  t.shape.insert(t.shape.end(), input.dims().begin(), input.dims().end());
  auto count = ElementCount(t.shape);
  if (!count.ok())
    return SampleError(warmup.name(), spec.name, count.status().message());
  const bool bytes = t.datatype == DataType::kBytes;
  switch (input.input_data_type_case()) {
    case inference::ModelWarmup::Input::kZeroData:
      // A BYTES zero element is the empty string: a zero length prefix.
      t.bytes.assign(
          static_cast<size_t>(*count) * (bytes ? 4 : ElementSize(t.datatype)),
          '\0');
      break;
    case inference::ModelWarmup::Input::kRandomData:
      if (bytes) {
        for (int64_t i = 0; i < *count; ++i) {
          std::string element(1 + rng() % 8, '\0');
          for (char& c : element) c = static_cast<char>('a' + rng() % 26);
          AppendBytesElement(element, &t.bytes);
        }
      } else {
        FillRandom(t.datatype, *count, rng, &t.bytes);
      }
      break;
    case inference::ModelWarmup::Input::kInputDataFile: {
      ASSIGN_OR_RETURN(auto data,
                       ReadWarmupFile(model_dir, warmup.name(), spec.name,
                                      input.input_data_file()));
      t.bytes = std::move(data);
      if (bytes) {
        auto elements = CountBytesElements(t.bytes);
        if (!elements.ok() || *elements != *count) {
          return SampleError(
              warmup.name(), spec.name,
              absl::StrCat("input_data_file does not hold ", *count,
                           " serialized BYTES elements"));
        }
      } else if (t.bytes.size() !=
                 static_cast<size_t>(*count) * ElementSize(t.datatype)) {
        return SampleError(
            warmup.name(), spec.name,
            absl::StrCat("input_data_file has ", t.bytes.size(),
                         " bytes; expected ", *count * ElementSize(t.datatype),
                         " for shape ", ShapeToString(t.shape)));
      }
      break;
    }
    default:
      return SampleError(warmup.name(), spec.name, "has no data source");
  }
  return t;
}

}  // namespace

absl::StatusOr<std::vector<WarmupSample>> BuildWarmupSamples(
    const inference::ModelConfig& config, const ModelSpec& io,
    const std::string& model_dir, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<WarmupSample> samples;
  for (const inference::ModelWarmup& warmup : config.model_warmup()) {
    WarmupSample sample;
    sample.name = warmup.name();
    sample.batch_size = std::max<int64_t>(1, warmup.batch_size());
    sample.runs = std::max<uint32_t>(1, warmup.count());
    for (const TensorSpec& spec : io.inputs) {
      auto it = warmup.inputs().find(spec.name);
      if (it == warmup.inputs().end()) {
        return SampleError(warmup.name(), spec.name,
                           "is missing; warm-up samples must give every input");
      }
      ASSIGN_OR_RETURN(auto tensor, BuildTensor(warmup, spec, it->second, io,
                                                model_dir, rng));
      sample.inputs.push_back(std::move(tensor));
    }
    for (const auto& [name, unused] : warmup.inputs()) {
      if (!io.InputIndex(name).has_value()) {
        return SampleError(warmup.name(), name, "is not an input of the model");
      }
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

namespace {

// Takes back one warm-up request at a time and hands its status to the
// load thread waiting in Wait.
class WarmupOwner final : public RequestOwner {
 public:
  void Complete(PendingPtr request) override {
    absl::MutexLock lock(&mu_);
    status_ = std::move(request->response.status);
    done_ = true;
  }
  absl::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    done_ = false;
    return std::move(status_);
  }

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status RunWarmup(ModelVersion& version,
                       const std::vector<WarmupSample>& samples) {
  WarmupOwner owner;
  for (const WarmupSample& sample : samples) {
    for (uint32_t run = 0; run < sample.runs; ++run) {
      // The sample outlives the request: the views point into its bytes.
      auto pending = std::make_unique<PendingRequest>();
      for (const WarmupTensor& t : sample.inputs) {
        pending->request.inputs.push_back(
            {t.name, t.datatype, t.shape, t.bytes.data(), t.bytes.size()});
      }
      pending->batch_size = sample.batch_size;
      pending->request.model_name = version.name();
      pending->request.model_version = version.version();
      pending->request.id = absl::StrCat("warmup:", sample.name, ":", run);
      pending->response.model_name = version.name();
      pending->response.model_version = version.version();
      pending->response.id = pending->request.id;
      pending->owner = &owner;
      version.scheduler().Enqueue(std::move(pending));
      absl::Status status = owner.Wait();
      if (!status.ok()) {
        return absl::Status(
            status.code(),
            absl::StrCat("warm-up sample '", sample.name, "' (run ", run + 1,
                         " of ", sample.runs, ") failed: ", status.message()));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace serval
