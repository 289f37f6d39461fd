// StubProcess: one Python stub process, started with the control socket at
// fd 3 and the input and output regions at fds 4 and 5. Stubs are forked by
// one long-lived spawner thread: the kernel's parent-death signal
// (PR_SET_PDEATHSIG) follows the thread that forked, so forking from
// whichever load or worker thread happens to restart a stub would kill the
// stub when that thread ends. The stub also watches its parent itself and
// exits when the control socket closes, so none survives the server.
#ifndef SERVAL_BACKENDS_PYTHON_STUB_PROCESS_H_
#define SERVAL_BACKENDS_PYTHON_STUB_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "frame_channel.h"

namespace serval::python {

class StubProcess {
 public:
  // Starts `argv` (argv[0] is the interpreter's path) with the socket and
  // the two region fds in place; throws PluginError when it cannot.
  StubProcess(const std::vector<std::string>& argv, int input_fd,
              int output_fd);
  // Kills the process if it still runs, and reaps it.
  ~StubProcess();
  StubProcess(const StubProcess&) = delete;
  StubProcess& operator=(const StubProcess&) = delete;

  pid_t pid() const { return pid_; }
  FrameChannel& channel() { return *channel_; }

  // Waits up to `timeout_ms` for the process to end by itself; true when
  // it has (and it is reaped).
  bool WaitForExit(int timeout_ms);
  void Kill();
  // How it ended, for error messages ("exited with code 1", "was killed by
  // signal 9 (Killed)"); "is still running" before that.
  std::string ExitDescription();

 private:
  bool Reap(bool block);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::unique_ptr<FrameChannel> channel_;
};

}  // namespace serval::python

#endif  // SERVAL_BACKENDS_PYTHON_STUB_PROCESS_H_
