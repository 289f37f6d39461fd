#include "lifecycle/process_memory.h"

#include <unistd.h>

#include <fstream>

namespace serval {

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0, resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return -1;
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? resident_pages * page : -1;
}

}  // namespace serval
