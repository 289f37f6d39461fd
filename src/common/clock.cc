#include "common/clock.h"

namespace serval {
namespace {
class RealClock : public Clock {
 public:
  uint64_t NowNs() const override { return MonotonicNowNs(); }
};
}  // namespace

const Clock* Clock::Real() {
  static const RealClock* clock = new RealClock();
  return clock;
}

}  // namespace serval
