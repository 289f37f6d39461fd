#include "tools/tune/candidate_config.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/text_format.h"

namespace serval::tune {
namespace {

// The parameter both CPU backends (ONNX Runtime, libtorch) read.
constexpr char kThreadsKey[] = "intra_op_thread_count";
constexpr char kTritonThreadsKey[] = "INTRA_OP_THREAD_COUNT";

bool TakesThreads(const inference::ModelConfig& c) {
  const std::string& b = c.backend();
  const std::string& p = c.platform();
  return b == "onnxruntime" || b == "pytorch" || b == "libtorch" ||
         p == "onnxruntime_onnx" || p == "pytorch_libtorch";
}

std::string PreferredText(const inference::ModelDynamicBatching& db) {
  if (db.preferred_batch_size_size() == 0) return "none";
  return absl::StrJoin(db.preferred_batch_size(), ";");
}

}  // namespace

ModelFacts FactsFromConfig(const inference::ModelConfig& c) {
  ModelFacts f;
  f.name = c.name();
  f.max_batch_size = c.max_batch_size();
  int instances = 0;
  for (const auto& g : c.instance_group()) instances += g.count();
  f.instances = std::max(1, instances);
  f.has_threads = TakesThreads(c);
  for (const char* key : {kThreadsKey, kTritonThreadsKey}) {
    auto it = c.parameters().find(key);
    int v = 0;
    if (it != c.parameters().end() &&
        absl::SimpleAtoi(it->second.string_value(), &v) && v > 0) {
      f.threads = v;
    }
  }
  f.dynamic_batching = c.has_dynamic_batching();
  if (f.dynamic_batching) {
    f.delay_us = static_cast<int64_t>(
        c.dynamic_batching().max_queue_delay_microseconds());
    f.preferred = PreferredText(c.dynamic_batching());
    if (f.preferred == absl::StrCat(f.max_batch_size)) f.preferred = "max";
  }
  return f;
}

inference::ModelConfig ApplyCandidate(const inference::ModelConfig& base,
                                      const Candidate& k) {
  inference::ModelConfig c = base;
  c.clear_instance_group();
  inference::ModelInstanceGroup* g = c.add_instance_group();
  g->set_count(k.instances);
  g->set_kind(inference::ModelInstanceGroup::KIND_CPU);
  auto* params = c.mutable_parameters();
  params->erase(kTritonThreadsKey);
  if (k.threads > 0) {
    (*params)[kThreadsKey].set_string_value(absl::StrCat(k.threads));
  } else {
    params->erase(kThreadsKey);
  }
  if (base.max_batch_size() <= 0) return c;  // a model that does not batch
  c.set_max_batch_size(k.max_batch_size);
  inference::ModelDynamicBatching* db = c.mutable_dynamic_batching();
  db->set_max_queue_delay_microseconds(static_cast<uint64_t>(k.delay_us));
  db->clear_preferred_batch_size();
  std::vector<int> sizes;
  if (k.preferred == "max") {
    sizes.push_back(k.max_batch_size);
  } else if (k.preferred != "none") {
    for (absl::string_view s : absl::StrSplit(k.preferred, ';')) {
      int v = 0;
      // Sizes beyond the batch limit would make the config invalid.
      if (absl::SimpleAtoi(s, &v) && v >= 1 && v <= k.max_batch_size)
        sizes.push_back(v);
    }
  }
  for (int v : sizes) db->add_preferred_batch_size(v);
  return c;
}

std::string ToPbtxt(const inference::ModelConfig& config,
                    const std::string& comment) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  std::string header;
  for (absl::string_view line : absl::StrSplit(comment, '\n')) {
    absl::StrAppend(&header, "# ", line, "\n");
  }
  return header + text;
}

}  // namespace serval::tune
