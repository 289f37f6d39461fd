// The process's resident memory, for reporting what loading a model cost.
// Free function; thread-safe.
#ifndef SERVAL_LIFECYCLE_PROCESS_MEMORY_H_
#define SERVAL_LIFECYCLE_PROCESS_MEMORY_H_

#include <cstdint>

namespace serval {

// Resident set size in bytes (from /proc/self/statm), or -1 when unknown.
int64_t ResidentBytes();

}  // namespace serval

#endif  // SERVAL_LIFECYCLE_PROCESS_MEMORY_H_
