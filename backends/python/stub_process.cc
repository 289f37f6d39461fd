#include "stub_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "serval/backend_util.h"

namespace serval::python {
namespace {

using backend_util::PluginError;

// Runs every fork on one thread that lives as long as the process (see
// the header for why).
class Spawner {
 public:
  static Spawner& Get() {
    static Spawner* spawner = new Spawner();  // never destroyed: see above
    return *spawner;
  }

  pid_t Spawn(std::function<pid_t()> fork_child) {
    std::packaged_task<pid_t()> task(std::move(fork_child));
    auto result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return result.get();
  }

 private:
  Spawner() {
    std::thread([this] {
      pthread_setname_np(pthread_self(), "python-spawn");
      while (true) {
        std::packaged_task<pid_t()> task;
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [this] { return !tasks_.empty(); });
          task = std::move(tasks_.front());
          tasks_.pop_front();
        }
        task();
      }
    }).detach();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<pid_t()>> tasks_;
};

}  // namespace

StubProcess::StubProcess(const std::vector<std::string>& argv, int input_fd,
                         int output_fd) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw PluginError(SERVAL_RESOURCE_EXHAUSTED,
                      std::string("cannot create the stub's socket: ") +
                          std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int child_socket = fds[1];
  const pid_t parent = getpid();
  pid_ = Spawner::Get().Spawn([&]() -> pid_t {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    // Child. Its own process group: a terminal's Ctrl-C reaches the
    // server, which ends its stubs, not the stubs directly.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(70);
    // dup2 clears close-on-exec on the copies.
    if (dup2(child_socket, 3) < 0 || dup2(input_fd, 4) < 0 ||
        dup2(output_fd, 5) < 0) {
      _exit(71);
    }
    // Nothing else of the server's leaks into the stub.
    for (int fd = 6; fd < 1024; ++fd) close(fd);
    execv(args[0], args.data());
    _exit(127);
  });
  close(fds[1]);
  if (pid_ < 0) {
    close(fds[0]);
    throw PluginError(
        SERVAL_RESOURCE_EXHAUSTED,
        std::string("cannot start the Python stub: ") + std::strerror(errno));
  }
  channel_ = std::make_unique<FrameChannel>(fds[0]);
}

StubProcess::~StubProcess() {
  channel_.reset();  // the stub sees EOF and leaves
  if (!reaped_ && !WaitForExit(0)) Kill();
}

bool StubProcess::Reap(bool block) {
  if (reaped_) return true;
  const pid_t r = waitpid(pid_, &status_, block ? 0 : WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) reaped_ = true;
  return reaped_;
}

bool StubProcess::WaitForExit(int timeout_ms) {
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void StubProcess::Kill() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  Reap(true);
}

std::string StubProcess::ExitDescription() {
  if (!Reap(false)) return "is still running";
  if (WIFEXITED(status_)) {
    const int code = WEXITSTATUS(status_);
    if (code == 127) return "could not start its interpreter (exit code 127)";
    return "exited with code " + std::to_string(code);
  }
  if (WIFSIGNALED(status_)) {
    const int sig = WTERMSIG(status_);
    return "was killed by signal " + std::to_string(sig) + " (" +
           strsignal(sig) + ")";
  }
  return "ended";
}

}  // namespace serval::python
