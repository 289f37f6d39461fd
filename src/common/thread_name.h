// Names the calling thread (what top -H, perf and /proc/<pid>/task/*/comm
// show), so that a profile tells I/O threads, model workers and pools
// apart. Linux keeps at most 15 characters; longer names are cut.
#ifndef SERVAL_COMMON_THREAD_NAME_H_
#define SERVAL_COMMON_THREAD_NAME_H_

#include <pthread.h>

#include <string>
#include <string_view>

namespace serval {

inline void SetCurrentThreadName(std::string_view name) {
  const std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace serval

#endif  // SERVAL_COMMON_THREAD_NAME_H_
