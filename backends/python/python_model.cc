#include "python_model.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>

#include "serval/backend_util.h"

namespace serval::python {
namespace {

using backend_util::FindParameter;
using backend_util::PluginError;
namespace fs = std::filesystem;

uint64_t ParseMs(std::string_view key, std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 86'400'000) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "parameter '" + std::string(key) +
                          "' must be a number of milliseconds in [1, "
                          "86400000], got '" +
                          std::string(text) + "'");
  }
  return value;
}

}  // namespace

std::string ResolveInterpreter(const std::string& env,
                               const std::string& model_dir) {
  if (env.empty()) return "/usr/bin/python3";
  std::string path = env;
  const std::string token = "$$TRITON_MODEL_DIRECTORY";
  for (size_t at = path.find(token); at != std::string::npos;
       at = path.find(token)) {
    path.replace(at, token.size(), model_dir);
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const char* candidate : {"bin/python3", "bin/python"}) {
      const fs::path p = fs::path(path) / candidate;
      if (access(p.c_str(), X_OK) == 0) return p.string();
    }
    throw PluginError(
        SERVAL_INVALID_ARGUMENT,
        "EXECUTION_ENV_PATH '" + env + "' is a directory without bin/python3");
  }
  if (path.size() > 7 && path.compare(path.size() - 7, 7, ".tar.gz") == 0) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "EXECUTION_ENV_PATH '" + env +
                          "' is an archive; serval runs an unpacked "
                          "environment: unpack it and name its directory");
  }
  if (access(path.c_str(), X_OK) != 0) {
    throw PluginError(SERVAL_INVALID_ARGUMENT,
                      "EXECUTION_ENV_PATH '" + env +
                          "' is not an executable interpreter or an "
                          "environment directory");
  }
  return path;
}

PythonModel PythonModel::FromInfo(const ServalModelInfo& info,
                                  const std::string& stub_dir) {
  PythonModel m;
  m.name = info.name != nullptr ? info.name : "";
  m.version = info.version;
  m.model_file = info.model_file != nullptr ? info.model_file : "";
  m.version_path = info.version_path != nullptr ? info.version_path : "";
  m.repository = fs::path(m.version_path).parent_path().string();
  m.config_json = info.config_json != nullptr ? info.config_json : "{}";
  m.max_batch_size = info.max_batch_size;
  m.instance_count = info.instance_count;
  for (uint32_t i = 0; i < info.output_count; ++i) {
    const ServalTensorSpec& o = info.outputs[i];
    m.outputs.push_back(
        {o.name, o.datatype, std::vector<int64_t>(o.dims, o.dims + o.rank)});
  }
  std::error_code ec;
  if (!fs::is_regular_file(m.model_file, ec)) {
    throw PluginError(SERVAL_NOT_FOUND,
                      "no " + fs::path(m.model_file).filename().string() +
                          " in version " + std::to_string(m.version));
  }
  std::string env;
  if (auto v = FindParameter(info, "EXECUTION_ENV_PATH")) env = *v;
  m.interpreter = ResolveInterpreter(env, m.repository);
  if (auto v = FindParameter(info, "execute_timeout_ms")) {
    m.execute_timeout_ms = ParseMs("execute_timeout_ms", *v);
  }
  if (auto v = FindParameter(info, "init_timeout_ms")) {
    m.init_timeout_ms = ParseMs("init_timeout_ms", *v);
  }
  m.stub_script = (fs::path(stub_dir) / "serval_python_stub.py").string();
  if (!fs::is_regular_file(m.stub_script, ec)) {
    throw PluginError(SERVAL_INTERNAL,
                      "the Python stub is missing next to the plugin (" +
                          m.stub_script + ")");
  }
  return m;
}

std::vector<std::string> PythonModel::StubArgv() const {
  return {interpreter, "-u",           stub_script, "--socket-fd",
          "3",         "--input-fd",   "4",         "--output-fd",
          "5",         "--model-file", model_file,  "--model-name",
          name};
}

}  // namespace serval::python
