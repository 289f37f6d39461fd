#include "frame_channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace serval::python {
namespace {

void PutU32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  }
  return v;
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t k = send(fd, data, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

}  // namespace

uint64_t MonotonicNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

FrameChannel::~FrameChannel() {
  if (fd_ >= 0) close(fd_);
}

bool FrameChannel::Send(std::string_view json, std::string_view payload) {
  char header[8];
  PutU32(header, static_cast<uint32_t>(json.size()));
  PutU32(header + 4, static_cast<uint32_t>(payload.size()));
  return WriteAll(fd_, header, sizeof(header)) &&
         WriteAll(fd_, json.data(), json.size()) &&
         WriteAll(fd_, payload.data(), payload.size());
}

bool FrameChannel::ReadExactly(char* data, size_t n, uint64_t deadline_ns,
                               ReceiveResult* result) {
  while (n > 0) {
    int timeout_ms = -1;
    if (deadline_ns != 0) {
      const uint64_t now = MonotonicNowNs();
      if (now >= deadline_ns) {
        *result = ReceiveResult::kTimeout;
        return false;
      }
      timeout_ms = static_cast<int>((deadline_ns - now + 999'999) / 1'000'000);
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      *result = ReceiveResult::kClosed;
      return false;
    }
    if (ready == 0) continue;  // the deadline is checked above
    const ssize_t k = recv(fd_, data, n, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      *result = ReceiveResult::kClosed;
      return false;
    }
    data += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

ReceiveResult FrameChannel::Receive(Frame* frame, uint64_t deadline_ns) {
  ReceiveResult result = ReceiveResult::kFrame;
  char header[8];
  if (!ReadExactly(header, sizeof(header), deadline_ns, &result)) return result;
  // A frame is never larger than what a stub can produce; a corrupt
  // length reads as a broken stub rather than an allocation of gigabytes.
  constexpr uint32_t kMaxJson = 64u << 20;
  const uint32_t json_size = GetU32(header);
  const uint32_t payload_size = GetU32(header + 4);
  if (json_size > kMaxJson) return ReceiveResult::kClosed;
  frame->json.resize(json_size);
  frame->payload.resize(payload_size);
  if (!ReadExactly(frame->json.data(), json_size, deadline_ns, &result) ||
      !ReadExactly(frame->payload.data(), payload_size, deadline_ns, &result)) {
    return result;
  }
  return ReceiveResult::kFrame;
}

}  // namespace serval::python
