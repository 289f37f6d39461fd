#include "frame_channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
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

bool WriteAll(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t k = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    while (count > 0 && static_cast<size_t>(k) >= iov->iov_len) {
      k -= static_cast<ssize_t>(iov->iov_len);
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + k;
      iov->iov_len -= static_cast<size_t>(k);
    }
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
  iovec iov[3] = {{header, sizeof(header)},
                  {const_cast<char*>(json.data()), json.size()},
                  {const_cast<char*>(payload.data()), payload.size()}};
  return WriteAll(fd_, iov, payload.empty() ? 2 : 3);
}

ReceiveResult FrameChannel::Fill(uint64_t deadline_ns) {
  while (true) {
    int timeout_ms = -1;
    if (deadline_ns != 0) {
      const uint64_t now = MonotonicNowNs();
      if (now >= deadline_ns) return ReceiveResult::kTimeout;
      timeout_ms = static_cast<int>((deadline_ns - now + 999'999) / 1'000'000);
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return ReceiveResult::kClosed;
    if (ready <= 0) continue;  // the deadline is checked above
    // Compact what was handed out, then read what the socket has.
    if (start_ > 0) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    const size_t used = buffer_.size();
    buffer_.resize(used + (64 << 10));
    const ssize_t k = recv(fd_, buffer_.data() + used, 64 << 10, 0);
    buffer_.resize(used + (k > 0 ? static_cast<size_t>(k) : 0));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return ReceiveResult::kClosed;
    return ReceiveResult::kFrame;
  }
}

ReceiveResult FrameChannel::Receive(Frame* frame, uint64_t deadline_ns) {
  // A frame is never larger than what a stub can produce; a corrupt
  // length reads as a broken stub rather than an allocation of gigabytes.
  constexpr uint64_t kMaxFrame = 1ull << 32;
  while (true) {
    const size_t have = buffer_.size() - start_;
    if (have >= 8) {
      const char* h = buffer_.data() + start_;
      const uint64_t json_size = GetU32(h);
      const uint64_t payload_size = GetU32(h + 4);
      if (json_size + payload_size > kMaxFrame) return ReceiveResult::kClosed;
      if (have >= 8 + json_size + payload_size) {
        frame->json.assign(h + 8, json_size);
        frame->payload.assign(h + 8 + json_size, payload_size);
        start_ += 8 + json_size + payload_size;
        return ReceiveResult::kFrame;
      }
      // A large frame (a BLS payload): room for all of it at once.
      buffer_.reserve(start_ + 8 + json_size + payload_size);
    }
    if (ReceiveResult r = Fill(deadline_ns); r != ReceiveResult::kFrame) {
      return r;
    }
  }
}

}  // namespace serval::python
