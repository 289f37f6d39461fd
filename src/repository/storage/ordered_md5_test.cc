#include "repository/storage/ordered_md5.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "repository/storage/crypto.h"

namespace serval {
namespace {

std::string Data(size_t n) {
  std::string s(n, '\0');
  std::mt19937 rng(7);
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A file of data.size() bytes, written part by part as a download does.
class OrderedMd5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/ordered_md5_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    close(fd_);
    unlink(path_.c_str());
  }
  void Write(const std::string& data, size_t offset, size_t length) {
    ASSERT_EQ(
        pwrite(fd_, data.data() + offset, length, static_cast<off_t>(offset)),
        static_cast<ssize_t>(length));
  }
  std::string Reference() { return *Md5FileHex(path_); }

  std::string path_;
  int fd_ = -1;
};

TEST_F(OrderedMd5Test, PartsInAnyOrderGiveTheFileDigest) {
  const std::string data = Data(1000003);
  const size_t part = 65536;
  std::vector<size_t> offsets;
  for (size_t o = 0; o < data.size(); o += part) offsets.push_back(o);
  std::shuffle(offsets.begin(), offsets.end(), std::mt19937(3));
  OrderedMd5 md5(fd_);
  for (size_t o : offsets) {
    const size_t n = std::min(part, data.size() - o);
    Write(data, o, n);
    md5.Done(o, n);
  }
  EXPECT_EQ(md5.Finish(data.size()), Reference());
}

TEST_F(OrderedMd5Test, ManyThreadsReportingParts) {
  const std::string data = Data(4 << 20);
  const size_t part = 100000;
  OrderedMd5 md5(fd_);
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        const size_t o = next.fetch_add(part);
        if (o >= data.size()) return;
        const size_t n = std::min(part, data.size() - o);
        Write(data, o, n);
        md5.Done(o, n);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(md5.Finish(data.size()), Reference());
}

TEST_F(OrderedMd5Test, AMissingPartGivesNoDigest) {
  const std::string data = Data(300);
  Write(data, 0, 300);
  OrderedMd5 md5(fd_);
  md5.Done(0, 100);
  md5.Done(200, 100);
  EXPECT_EQ(md5.Finish(300), std::nullopt);
}

TEST_F(OrderedMd5Test, AnUnreadableFileGivesNoDigest) {
  OrderedMd5 md5(fd_);
  md5.Done(0, 100);  // nothing was written: the read comes back short
  EXPECT_EQ(md5.Finish(100), std::nullopt);
}

}  // namespace
}  // namespace serval
