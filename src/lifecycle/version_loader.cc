#include "lifecycle/version_loader.h"

namespace serval {

ModelHandle MakeModelHandle(std::unique_ptr<ModelVersion> version,
                            Executor* reaper) {
  return ModelHandle(version.release(), [reaper](ModelVersion* v) {
    reaper->Post([v] { delete v; });
  });
}

}  // namespace serval
