// serval_offline_bench: loads one model through a backend plugin (the same
// src/backend path the server uses, minus scheduler and network) and runs
// batches back to back for a fixed time per batch size, printing
// throughput as a markdown table row per batch size.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "backend/backend_library.h"
#include "backend/backend_model.h"
#include "backend/sync_runner.h"
#include "google/protobuf/text_format.h"
#include "proto/model_config.pb.h"

namespace serval {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::string plugin;
  std::string model_dir;
  std::string model_file;  // default: from the config, else by plugin
  std::vector<int64_t> batches = {1, 8, 32};
  double seconds = 5;
  uint32_t instances = 1;
  std::vector<std::string> parameters;  // key=value into config parameters
  std::string label;                    // first column; default plugin name
};

// Input bytes for one tensor: values valid for any of the example models
// (token ids must stay below the vocabulary size).
std::string MakeInput(DataType type, int64_t elements, std::mt19937* rng) {
  std::string bytes(elements * ElementSize(type), '\0');
  if (type == DataType::kFp32) {
    std::normal_distribution<float> dist;
    auto* p = reinterpret_cast<float*>(bytes.data());
    for (int64_t i = 0; i < elements; ++i) p[i] = dist(*rng);
  } else if (type == DataType::kInt64) {
    std::uniform_int_distribution<int64_t> dist(0, 99);
    auto* p = reinterpret_cast<int64_t*>(bytes.data());
    for (int64_t i = 0; i < elements; ++i) p[i] = dist(*rng);
  }
  return bytes;  // other types stay zero
}

std::string DefaultFile(const inference::ModelConfig& config,
                        const std::string& plugin_name) {
  if (!config.default_model_filename().empty()) {
    return config.default_model_filename();
  }
  return plugin_name == "torch" ? "model.pt" : "model.onnx";
}

int Run(const Options& opt) {
  std::ifstream in(fs::path(opt.model_dir) / "config.pbtxt");
  std::stringstream text;
  text << in.rdbuf();
  inference::ModelConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &config)) {
    std::fprintf(stderr, "cannot parse %s/config.pbtxt\n",
                 opt.model_dir.c_str());
    return 1;
  }
  // The benchmark may ask for batches above the served limit.
  const int64_t largest =
      *std::max_element(opt.batches.begin(), opt.batches.end());
  const bool batching = config.max_batch_size() > 0;
  if (batching && largest > config.max_batch_size()) {
    config.set_max_batch_size(static_cast<int32_t>(largest));
  }
  for (const std::string& kv : opt.parameters) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "--param wants key=value, got %s\n", kv.c_str());
      return 1;
    }
    (*config.mutable_parameters())[kv.substr(0, eq)].set_string_value(
        kv.substr(eq + 1));
  }

  auto library = BackendLibrary::Open(opt.plugin);
  if (!library.ok()) {
    std::fprintf(stderr, "%s\n", library.status().ToString().c_str());
    return 1;
  }
  BackendModelOptions mo;
  mo.name = fs::path(opt.model_dir).filename().string();
  mo.version_path = (fs::path(opt.model_dir) / "1").string();
  mo.model_file =
      (fs::path(mo.version_path) /
       (opt.model_file.empty() ? DefaultFile(config, (*library)->name())
                               : opt.model_file))
          .string();
  mo.config = config;
  mo.instance_count = opt.instances;
  auto model = BackendModel::Create(*library, mo);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  auto instance = (*model)->CreateInstance(SERVAL_INSTANCE_CPU, 0, 0);
  if (!instance.ok()) {
    std::fprintf(stderr, "%s\n", instance.status().ToString().c_str());
    return 1;
  }

  const std::string label = opt.label.empty() ? (*library)->name() : opt.label;
  std::mt19937 rng(42);
  for (int64_t batch : opt.batches) {
    if (!batching && batch != 1) continue;
    std::vector<std::string> storage;
    std::vector<TensorView> inputs;
    for (const TensorSpec& spec : (*model)->io().inputs) {
      Shape shape = spec.dims;
      if (batching) shape.insert(shape.begin(), batch);
      int64_t n = 1;
      for (int64_t& d : shape) n *= (d = std::max<int64_t>(d, 1));
      storage.push_back(MakeInput(spec.datatype, n, &rng));
      inputs.push_back(TensorView{spec.name, spec.datatype, shape, nullptr,
                                  storage.back().size()});
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      inputs[i].data = storage[i].data();
    }
    // Warm-up: first runs allocate arenas and pick kernels.
    for (int i = 0; i < 3; ++i) {
      auto out = RunBatchSync(**instance, inputs);
      if (!out.ok()) {
        std::fprintf(stderr, "%s\n", out.status().ToString().c_str());
        return 1;
      }
    }
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto until = start + std::chrono::duration<double>(opt.seconds);
    int64_t batches = 0;
    while (Clock::now() < until || batches < 3) {
      auto out = RunBatchSync(**instance, inputs);
      if (!out.ok()) {
        std::fprintf(stderr, "%s\n", out.status().ToString().c_str());
        return 1;
      }
      ++batches;
    }
    const double elapsed =
        std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("| %s | %s | %lld | %.1f | %.3f | %lld |\n", label.c_str(),
                mo.name.c_str(), static_cast<long long>(batch),
                batches * batch / elapsed, elapsed * 1e3 / batches,
                static_cast<long long>(batches));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace serval

int main(int argc, char** argv) {
  serval::Options opt;
  CLI::App app{"Offline throughput of one model through a backend plugin"};
  app.add_option("--plugin", opt.plugin, "backend plugin .so")->required();
  app.add_option("--model-dir", opt.model_dir,
                 "model directory (config.pbtxt, 1/<model file>)")
      ->required();
  app.add_option("--model-file", opt.model_file,
                 "file inside 1/ (default: config or plugin default)");
  app.add_option("--batch", opt.batches, "batch sizes")->delimiter(',');
  app.add_option("--seconds", opt.seconds, "measured seconds per batch size");
  app.add_option("--instances", opt.instances,
                 "instance_count told to the backend (threads divide by it)");
  app.add_option("--param", opt.parameters, "config parameter key=value");
  app.add_option("--label", opt.label, "first column (default plugin name)");
  CLI11_PARSE(app, argc, argv);
  return serval::Run(opt);
}
