#include "tools/tune/serval_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tools/perf/http_transport.h"

namespace serval::tune {

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string err = strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("no free port: ", err));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

ServalProcess& ServalProcess::operator=(ServalProcess&& o) noexcept {
  if (this != &o) {
    Stop();
    pid_ = o.pid_;
    http_port_ = o.http_port_;
    grpc_port_ = o.grpc_port_;
    metrics_port_ = o.metrics_port_;
    o.pid_ = -1;
  }
  return *this;
}

absl::StatusOr<ServalProcess> ServalProcess::Start(const LaunchOptions& o) {
  ServalProcess p;
  for (int* port : {&p.http_port_, &p.grpc_port_, &p.metrics_port_}) {
    absl::StatusOr<int> free = FreeLoopbackPort();
    if (!free.ok()) return free.status();
    *port = *free;
  }
  std::vector<std::string> args = {o.serval,
                                   "serve",
                                   "--model-control-mode",
                                   "explicit",
                                   "--http-address",
                                   "127.0.0.1",
                                   "--grpc-address",
                                   "127.0.0.1",
                                   "--metrics-address",
                                   "127.0.0.1",
                                   "--http-port",
                                   absl::StrCat(p.http_port_),
                                   "--grpc-port",
                                   absl::StrCat(p.grpc_port_),
                                   "--metrics-port",
                                   absl::StrCat(p.metrics_port_),
                                   "--log-level",
                                   "warn"};
  for (const std::string& r : o.repositories) {
    args.push_back("--model-repository");
    args.push_back(r);
  }
  for (const std::string& m : o.models) {
    args.push_back("--load-model");
    args.push_back(m);
  }
  if (!o.backend_directory.empty()) {
    args.push_back("--backend-directory");
    args.push_back(o.backend_directory);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log_fd = o.log_path.empty()
                         ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                         : open(o.log_path.c_str(),
                                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", o.log_path, ": ", strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  p.pid_ = pid;
  // Up once ready: the server is ready when its start-up load is over, so
  // the models named here are loaded (or have failed) by then.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(o.start_timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      p.pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("serval exited during start-up (status ", status,
                       "); see ", o.log_path.empty() ? "its log" : o.log_path));
    }
    auto r = perf::HttpGet("127.0.0.1", p.http_port_, "/v2/health/ready");
    if (r.ok() && r->first == 200) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("serval did not become ready in ", o.start_timeout_s, " s"));
}

void ServalProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 300; ++i) {  // 30 s, then SIGKILL
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace serval::tune
