// FrameChannel: the control messages between the server and one stub
// process over a Unix socket. A frame is an 8-byte header (JSON length and
// payload length, little-endian u32), the JSON text, then the payload
// (bytes only BLS calls carry). Receive waits with a deadline, so a stub
// that hangs is noticed; a stub that dies closes the socket.
#ifndef SERVAL_BACKENDS_PYTHON_FRAME_CHANNEL_H_
#define SERVAL_BACKENDS_PYTHON_FRAME_CHANNEL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace serval::python {

struct Frame {
  std::string json;
  std::string payload;
};

enum class ReceiveResult { kFrame, kTimeout, kClosed };

class FrameChannel {
 public:
  // Takes ownership of the socket.
  explicit FrameChannel(int fd) : fd_(fd) {}
  ~FrameChannel();
  FrameChannel(const FrameChannel&) = delete;
  FrameChannel& operator=(const FrameChannel&) = delete;

  // One write per frame, so the stub wakes once. False when the stub is
  // gone (the socket is closed or broken).
  bool Send(std::string_view json, std::string_view payload = {});
  // Waits until `deadline_ns` (CLOCK_MONOTONIC; 0 = no limit).
  ReceiveResult Receive(Frame* frame, uint64_t deadline_ns);

 private:
  // Reads more bytes into buffer_ (whatever the socket has, at least
  // one), waiting until the deadline.
  ReceiveResult Fill(uint64_t deadline_ns);

  int fd_;
  // Bytes received and not yet handed out: a frame and the start of the
  // next may arrive in one read.
  std::string buffer_;
  size_t start_ = 0;
};

// CLOCK_MONOTONIC now, in nanoseconds (the host's batch timestamps' clock).
uint64_t MonotonicNowNs();

}  // namespace serval::python

#endif  // SERVAL_BACKENDS_PYTHON_FRAME_CHANNEL_H_
