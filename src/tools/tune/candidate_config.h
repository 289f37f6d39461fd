// A candidate as a model configuration: the model's configuration as the
// server reports it, with the tuned fields replaced. Pure functions.
#ifndef SERVAL_TOOLS_TUNE_CANDIDATE_CONFIG_H_
#define SERVAL_TOOLS_TUNE_CANDIDATE_CONFIG_H_

#include <string>

#include "proto/model_config.pb.h"
#include "tools/tune/search_space.h"

namespace serval::tune {

// What the search needs to know of a model's configuration.
ModelFacts FactsFromConfig(const inference::ModelConfig& config);

// `base` with the candidate's instances (one CPU group), intra-op threads,
// max_batch_size, queue delay and preferred batch sizes.
inference::ModelConfig ApplyCandidate(const inference::ModelConfig& base,
                                      const Candidate& candidate);

// config.pbtxt text, with a comment saying where it came from.
std::string ToPbtxt(const inference::ModelConfig& config,
                    const std::string& comment);

}  // namespace serval::tune

#endif  // SERVAL_TOOLS_TUNE_CANDIDATE_CONFIG_H_
