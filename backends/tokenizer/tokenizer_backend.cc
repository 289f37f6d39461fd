// tokenizer backend: sentences in, token ids out, so that clients send
// text and an ensemble feeds the model. One BYTES input (dims [ 1 ]: one
// UTF-8 text per item); output 0 is INT64 [ L ] (the ids, padded or
// truncated to L); an optional output 1, INT64 [ L ], gets the attention
// mask (1 for a token, 0 for padding). Parameters:
//   mode        word (Keras Tokenizer + pad_sequences) or wordpiece (BERT)
//   vocabulary  a file in the version directory: word mode, one word per
//               line, line n (from 1) is id n; wordpiece, BERT's vocab.txt,
//               line n (from 0) is id n
//   word mode:  lower (true), filters (Keras's), oov_token (none: unknown
//               words are dropped), num_words (0: all), padding and
//               truncating (pre or post, Keras's default pre), pad_id (0)
//   wordpiece:  lower (true)
// Built against include/serval/backend.h alone.
#include <stdint.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "serval/backend.h"
#include "serval/backend_util.h"
#include "serval/model_only_plugin.h"
#include "tokenizers.h"

namespace {

using serval::backend_util::FindParameter;
using serval::backend_util::ParseBool;
using serval::backend_util::PluginError;
using serval::backend_util::ThrowIfError;
namespace tok = serval::tokenizer;

void Configure(const ServalModelInfo& info, ServalModelState* m);
void RunBatch(const ServalModelState& m, ServalBatch* batch);
using Plugin = serval::backend_util::ModelOnlyPlugin<ServalModelState,
                                                     &Configure, &RunBatch>;
const ServalHostApi* Host() { return Plugin::host(); }

}  // namespace

struct ServalModelState {
  std::string name;
  std::string input;
  std::vector<std::string> outputs;  // ids, then the mask if declared
  size_t length = 0;
  bool batching = false;
  std::unique_ptr<tok::WordTokenizer> word;
  std::unique_ptr<tok::WordPieceTokenizer> wordpiece;
};

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

PluginError Bad(const std::string& message) {
  return PluginError(SERVAL_INVALID_ARGUMENT, message);
}

int64_t ParseId(std::string_view key, std::string_view text) {
  try {
    size_t used = 0;
    const long long v = std::stoll(std::string(text), &used);
    if (used == text.size() && v >= 0) return v;
  } catch (...) {
  }
  throw Bad("parameter " + Quote(key) +
            " must be a non-negative integer, "
            "got " +
            Quote(text));
}

bool PrePost(std::string_view key, std::string_view text) {
  if (text == "post") return true;
  if (text == "pre") return false;
  throw Bad("parameter " + Quote(key) + " must be pre or post, got " +
            Quote(text));
}

void Configure(const ServalModelInfo& info, ServalModelState* m) {
  if (info.input_count != 1 || info.inputs[0].datatype != SERVAL_TYPE_BYTES ||
      info.inputs[0].rank != 1 || info.inputs[0].dims[0] != 1) {
    throw Bad(
        "the tokenizer backend takes one BYTES input with dims [ 1 ] "
        "(one text per item)");
  }
  m->input = info.inputs[0].name;
  if (info.output_count < 1 || info.output_count > 2) {
    throw Bad(
        "the tokenizer backend has one output (the ids) or two (ids "
        "and attention mask); the config declares " +
        std::to_string(info.output_count));
  }
  for (uint32_t o = 0; o < info.output_count; ++o) {
    const ServalTensorSpec& out = info.outputs[o];
    if (out.datatype != SERVAL_TYPE_INT64 || out.rank != 1 || out.dims[0] < 1) {
      throw Bad("output " + Quote(out.name) +
                " must be TYPE_INT64 with dims [ L ], L fixed");
    }
    if (o > 0 && static_cast<size_t>(out.dims[0]) != m->length) {
      throw Bad("output " + Quote(out.name) + " must have the ids' length " +
                std::to_string(m->length));
    }
    m->length = static_cast<size_t>(out.dims[0]);
    m->outputs.push_back(out.name);
  }
  m->batching = info.max_batch_size > 0;
  const auto mode = FindParameter(info, "mode");
  if (!mode || (*mode != "word" && *mode != "wordpiece")) {
    throw Bad("parameter 'mode' must be word (Keras) or wordpiece (BERT)");
  }
  const auto file = FindParameter(info, "vocabulary");
  if (!file || file->empty() || file->find('/') != std::string_view::npos ||
      *file == "." || *file == "..") {
    throw Bad(
        "parameter 'vocabulary' must name a file in the version "
        "directory");
  }
  std::string error;
  const std::string path =
      std::string(info.version_path ? info.version_path : ".") + "/" +
      std::string(*file);
  std::vector<std::string> vocabulary = tok::ReadVocabulary(path, &error);
  if (vocabulary.empty()) {
    throw PluginError(SERVAL_NOT_FOUND,
                      "vocabulary " + Quote(*file) + ": " + error);
  }
  if (*mode == "word") {
    tok::WordOptions o;
    if (auto v = FindParameter(info, "lower")) o.lower = ParseBool("lower", *v);
    if (auto v = FindParameter(info, "filters")) o.filters = std::string(*v);
    if (auto v = FindParameter(info, "oov_token"))
      o.oov_token = std::string(*v);
    if (auto v = FindParameter(info, "num_words")) {
      o.num_words = ParseId("num_words", *v);
    }
    if (auto v = FindParameter(info, "padding"))
      o.pad_post = PrePost("padding", *v);
    if (auto v = FindParameter(info, "truncating")) {
      o.truncate_post = PrePost("truncating", *v);
    }
    if (auto v = FindParameter(info, "pad_id"))
      o.pad_id = ParseId("pad_id", *v);
    if (!o.oov_token.empty() && std::find(vocabulary.begin(), vocabulary.end(),
                                          o.oov_token) == vocabulary.end()) {
      throw Bad("oov_token " + Quote(o.oov_token) +
                " is not in the vocabulary");
    }
    m->word = std::make_unique<tok::WordTokenizer>(std::move(vocabulary),
                                                   std::move(o));
  } else {
    tok::WordPieceOptions o;
    if (auto v = FindParameter(info, "lower")) o.lower = ParseBool("lower", *v);
    const std::string problem = tok::WordPieceTokenizer::Check(vocabulary, o);
    if (!problem.empty())
      throw Bad("vocabulary " + Quote(*file) + ": " + problem);
    m->wordpiece =
        std::make_unique<tok::WordPieceTokenizer>(vocabulary, std::move(o));
  }
}

void RunBatch(const ServalModelState& m, ServalBatch* batch) {
  const ServalTensor* inputs = nullptr;
  uint32_t count = 0;
  ThrowIfError(Host()->batch_inputs(batch, &inputs, &count));
  if (count != 1) throw Bad("input " + Quote(m.input) + " is missing");
  const ServalTensor& in = inputs[0];
  int64_t texts = 1;
  for (uint32_t d = 0; d < in.rank; ++d) texts *= in.shape[d];
  const int64_t items = m.batching ? in.shape[0] : 1;
  // One text per item (dims [ 1 ], checked by the host): the outputs hold
  // `items` rows, no more.
  if (texts != items) {
    throw Bad("input " + Quote(m.input) + " must hold one text per item");
  }
  std::vector<int64_t> shape;
  if (m.batching) shape.push_back(items);
  shape.push_back(static_cast<int64_t>(m.length));
  int64_t* out[2] = {nullptr, nullptr};
  for (size_t o = 0; o < m.outputs.size(); ++o) {
    void* buffer = nullptr;
    ThrowIfError(Host()->batch_output_buffer(
        batch, m.outputs[o].c_str(), SERVAL_TYPE_INT64, shape.data(),
        static_cast<uint32_t>(shape.size()),
        static_cast<uint64_t>(items) * m.length * 8, &buffer));
    out[o] = static_cast<int64_t*>(buffer);
  }
  const char* p = static_cast<const char*>(in.data);
  const char* end = p + in.byte_size;
  for (int64_t i = 0; i < texts; ++i) {
    uint32_t len = 0;
    if (end - p < 4) throw Bad("malformed BYTES input");
    std::memcpy(&len, p, 4);
    p += 4;
    if (static_cast<uint64_t>(end - p) < len)
      throw Bad("malformed BYTES input");
    const std::string_view text(p, len);
    int64_t* ids = out[0] + i * m.length;
    int64_t* mask = out[1] != nullptr ? out[1] + i * m.length : nullptr;
    if (m.word) {
      m.word->Encode(text, m.length, ids);
      if (mask != nullptr) {
        for (size_t k = 0; k < m.length; ++k) mask[k] = ids[k] != 0;
      }
    } else {
      m.wordpiece->Encode(text, m.length, ids, mask);
    }
    p += len;
  }
}

}  // namespace

extern "C" SERVAL_EXPORT const ServalBackendApi* ServalBackendGetApi(
    const ServalHostApi* host) {
  return Plugin::Api(host, "tokenizer");
}
