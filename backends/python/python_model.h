// PythonModel: what the Python plugin knows of one model version: where
// its model.py is, which interpreter runs it, the arguments Triton passes
// to initialize(), and the bounds on how long a stub may take.
#ifndef SERVAL_BACKENDS_PYTHON_PYTHON_MODEL_H_
#define SERVAL_BACKENDS_PYTHON_PYTHON_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "serval/backend.h"

namespace serval::python {

struct OutputSpec {
  std::string name;
  int32_t datatype = SERVAL_TYPE_INVALID;
  std::vector<int64_t> dims;  // without the batch dimension; -1 variable
};

struct PythonModel {
  std::string name;
  int64_t version = 0;
  std::string model_file;    // <version>/model.py
  std::string version_path;  // <repository>/<model>/<version>
  std::string repository;    // <repository>/<model>, Triton's model_repository
  std::string config_json;
  int32_t max_batch_size = 0;
  uint32_t instance_count = 1;
  std::vector<OutputSpec> outputs;
  std::string interpreter;  // python3 that runs the stub
  std::string stub_script;  // serval_python_stub.py
  // How long initialize() may take, and an execute() when no request of
  // the batch has a deadline.
  uint64_t init_timeout_ms = 120'000;
  uint64_t execute_timeout_ms = 600'000;

  // Reads the model info and its parameters (EXECUTION_ENV_PATH,
  // execute_timeout_ms, init_timeout_ms); throws PluginError.
  static PythonModel FromInfo(const ServalModelInfo& info,
                              const std::string& stub_dir);
  // The argv that starts an instance's stub.
  std::vector<std::string> StubArgv() const;
};

// The interpreter for EXECUTION_ENV_PATH `env` (a python executable, or a
// virtual environment or unpacked conda environment directory holding
// bin/python3), with Triton's $$TRITON_MODEL_DIRECTORY replaced by
// `model_dir`; Debian's /usr/bin/python3 when `env` is empty. Throws
// PluginError when it names nothing runnable.
std::string ResolveInterpreter(const std::string& env,
                               const std::string& model_dir);

}  // namespace serval::python

#endif  // SERVAL_BACKENDS_PYTHON_PYTHON_MODEL_H_
