#include "server/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval {
namespace {

using testing::HasSubstr;

// A POSIX shared-memory object of `size` bytes, removed at the end.
class ShmObject {
 public:
  explicit ShmObject(size_t size)
      : key_(absl::StrCat("/serval_test_", getpid(), "_", counter_++)) {
    int fd = shm_open(key_.c_str(), O_CREAT | O_RDWR | O_EXCL, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    data_ = static_cast<char*>(
        mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
    size_ = size;
  }
  ~ShmObject() {
    munmap(data_, size_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  char* data() { return data_; }

 private:
  static inline int counter_ = 0;
  std::string key_;
  char* data_ = nullptr;
  size_t size_ = 0;
};

TEST(SystemSharedMemoryTest, RegisteredBytesAreTheObjectsBytes) {
  ShmObject object(8192);
  std::memcpy(object.data() + 5000, "hello", 5);
  SystemSharedMemory shm;
  // An offset that is not page aligned.
  ASSERT_TRUE(shm.Register("r", object.key(), 4096 + 900, 2000).ok());
  auto view = shm.Map("r", 4, 5);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(std::string(view->data, 5), "hello");
  std::memcpy(view->data, "HELLO", 5);  // writes reach the client
  EXPECT_EQ(std::string(object.data() + 5000, 5), "HELLO");
  auto status = shm.Status("r");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)[0].key, object.key());
  EXPECT_EQ((*status)[0].offset, 4996u);
  EXPECT_EQ((*status)[0].byte_size, 2000u);
}

TEST(SystemSharedMemoryTest, RegistrationErrors) {
  ShmObject object(4096);
  SystemSharedMemory shm;
  EXPECT_THAT(shm.Register("", object.key(), 0, 16).message(),
              HasSubstr("'region name' is necessary"));
  EXPECT_THAT(shm.Register("r", "/serval_no_such_object", 0, 16).message(),
              HasSubstr("Unable to open shared memory region: "
                        "'/serval_no_such_object'"));
  EXPECT_THAT(shm.Register("r", object.key(), 4000, 200).message(),
              HasSubstr("invalid args"));
  EXPECT_THAT(shm.Register("r", object.key(), 0, 0).message(),
              HasSubstr("invalid args"));
  ASSERT_TRUE(shm.Register("r", object.key(), 0, 16).ok());
  auto again = shm.Register("r", object.key(), 0, 16);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(),
              HasSubstr("shared memory region 'r' already in manager"));
}

TEST(SystemSharedMemoryTest, EveryBoundIsChecked) {
  ShmObject object(4096);
  SystemSharedMemory shm;
  ASSERT_TRUE(shm.Register("r", object.key(), 0, 64).ok());
  EXPECT_TRUE(shm.Map("r", 0, 64).ok());
  EXPECT_TRUE(shm.Map("r", 64, 0).ok());
  EXPECT_THAT(shm.Map("r", 65, 0).status().message(),
              HasSubstr("Invalid offset for shared memory region: 'r'"));
  EXPECT_THAT(shm.Map("r", 60, 8).status().message(),
              HasSubstr("Invalid offset + byte size"));
  EXPECT_THAT(shm.Map("r", 8, UINT64_MAX).status().message(),
              HasSubstr("Invalid offset + byte size"));
  EXPECT_EQ(shm.Map("nope", 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SystemSharedMemoryTest, UnregisterKeepsAPinnedMappingAlive) {
  ShmObject object(4096);
  SystemSharedMemory shm;
  ASSERT_TRUE(shm.Register("r", object.key(), 0, 64).ok());
  auto view = shm.Map("r", 0, 64);
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(shm.Unregister("r").ok());
  EXPECT_EQ(shm.Status("r").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(shm.Map("r", 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Still mapped for the request holding it: writing does not fault.
  std::memset(view->data, 7, 64);
  EXPECT_EQ(object.data()[63], 7);
  // The name is free again.
  EXPECT_TRUE(shm.Register("r", object.key(), 0, 64).ok());
}

TEST(SystemSharedMemoryTest, UnregisterAllAndUnknownNames) {
  ShmObject object(4096);
  SystemSharedMemory shm;
  ASSERT_TRUE(shm.Register("a", object.key(), 0, 8).ok());
  ASSERT_TRUE(shm.Register("b", object.key(), 8, 8).ok());
  EXPECT_TRUE(shm.Unregister("unknown").ok());
  auto all = shm.Status("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "a");
  EXPECT_TRUE(shm.Unregister("").ok());
  EXPECT_TRUE(shm.Status("")->empty());
}

}  // namespace
}  // namespace serval
