// The python backend: Triton's Python models (<version>/model.py with
// class TritonPythonModel) run unchanged, each instance in a stub process
// of its own (python_instance.h). This file is the C ABI: model and
// instance lifetimes, execute, and auto-complete (the model's static
// auto_complete_config, run by a short-lived interpreter).
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "frame_channel.h"
#include "python_instance.h"
#include "python_model.h"
#include "serval/backend.h"
#include "serval/backend_util.h"
#include "stub_json.h"

extern char** environ;

struct ServalModelState {
  serval::python::PythonModel model;
};

struct ServalInstanceState {
  std::unique_ptr<serval::python::PythonInstance> instance;
};

namespace {

using serval::backend_util::ErrorFromCurrent;
using serval::backend_util::HostIsUsable;
using serval::backend_util::PluginError;
using serval::python::PythonInstance;
using serval::python::PythonModel;

const ServalHostApi* g_host = nullptr;

// The directory of this library: the stub's scripts are installed beside
// it, in stub/.
std::string StubDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&StubDirectory), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "stub";
  }
  return (std::filesystem::path(info.dli_fname).parent_path() / "stub")
      .string();
}

std::string Context(const char* name) {
  return std::string("python model '") + (name != nullptr ? name : "") + "'";
}

ServalError* ModelCreate(const ServalModelInfo* info,
                         ServalModelState** model) {
  try {
    auto state = std::make_unique<ServalModelState>();
    state->model = PythonModel::FromInfo(*info, StubDirectory());
    *model = state.release();
    return nullptr;
  } catch (...) {
    return ErrorFromCurrent(*g_host, Context(info->name));
  }
}

void ModelDestroy(ServalModelState* model) { delete model; }

ServalError* InstanceCreate(ServalModelState* model, int32_t kind,
                            int32_t device_id, uint32_t index,
                            ServalInstanceState** instance) {
  try {
    auto state = std::make_unique<ServalInstanceState>();
    state->instance = std::make_unique<PythonInstance>(g_host, &model->model,
                                                       kind, device_id, index);
    state->instance->Start();
    *instance = state.release();
    return nullptr;
  } catch (...) {
    return ErrorFromCurrent(*g_host, Context(model->model.name.c_str()));
  }
}

void InstanceDestroy(ServalInstanceState* instance) { delete instance; }

void Execute(ServalInstanceState* instance, ServalBatch* batch) {
  instance->instance->Execute(batch);
}

// EXECUTION_ENV_PATH from a config given as JSON, "" when unset.
std::string EnvPathFromConfig(const char* config_json) {
  rapidjson::Document d;
  d.Parse(config_json != nullptr ? config_json : "{}");
  if (!d.IsObject() || !d.HasMember("parameters") ||
      !d["parameters"].IsObject()) {
    return "";
  }
  const auto& params = d["parameters"];
  if (!params.HasMember("EXECUTION_ENV_PATH")) return "";
  const auto& p = params["EXECUTION_ENV_PATH"];
  if (p.IsObject() && p.HasMember("string_value") &&
      p["string_value"].IsString()) {
    return p["string_value"].GetString();
  }
  return "";
}

// Runs `argv` with `input` on its stdin; its stdout into `out`, stderr
// into `err`. False when it fails or outlives `timeout_ms` (then killed).
bool RunToCompletion(const std::vector<std::string>& argv,
                     const std::string& input, int timeout_ms, std::string* out,
                     std::string* err) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return false;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return false;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned =
      posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawned != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(err_pipe[0]);
    *err = "cannot start " + argv[0];
    return false;
  }
  // The config is small: it fits the pipe, no need to interleave.
  (void)!write(in_pipe[1], input.data(), input.size());
  close(in_pipe[1]);
  const uint64_t deadline =
      serval::python::MonotonicNowNs() + timeout_ms * 1'000'000ull;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  bool timed_out = false;
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    const uint64_t now = serval::python::MonotonicNowNs();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    const int wait_ms = static_cast<int>((deadline - now) / 1'000'000 + 1);
    if (poll(fds, 2, wait_ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t k = read(fds[i].fd, buf, sizeof(buf));
      if (k <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? out : err)->append(buf, static_cast<size_t>(k));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out)
    *err += "\n(timed out after " + std::to_string(timeout_ms) + " ms)";
  return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

ServalError* Autocomplete(const char* model_file, const char* config_json,
                          ServalStringSink sink, void* sink_context) {
  try {
    const std::string file = model_file != nullptr ? model_file : "";
    const std::filesystem::path model_dir =
        std::filesystem::path(file).parent_path().parent_path();
    const std::string interpreter = serval::python::ResolveInterpreter(
        EnvPathFromConfig(config_json), model_dir.string());
    const std::string stub =
        (std::filesystem::path(StubDirectory()) / "serval_python_stub.py")
            .string();
    std::string out, err;
    if (!RunToCompletion(
            {interpreter, stub, "--autocomplete", "--model-file", file},
            config_json != nullptr ? config_json : "{}", 60'000, &out, &err)) {
      throw PluginError(SERVAL_INVALID_ARGUMENT,
                        "auto_complete_config() failed:\n" + err);
    }
    sink(sink_context, out.data(), out.size());
    return nullptr;
  } catch (...) {
    return ErrorFromCurrent(
        *g_host, "python model file '" +
                     std::string(model_file ? model_file : "") + "'");
  }
}

ServalBackendApi g_api = {
    sizeof(ServalBackendApi),
    SERVAL_BACKEND_ABI_MAJOR,
    SERVAL_BACKEND_ABI_MINOR,
    "python",
    &Autocomplete,
    &ModelCreate,
    &ModelDestroy,
    &InstanceCreate,
    &InstanceDestroy,
    &Execute,
};

}  // namespace

extern "C" SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  if (!HostIsUsable(host)) return nullptr;
  g_host = host;
  return &g_api;
}
