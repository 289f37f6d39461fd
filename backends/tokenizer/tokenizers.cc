#include "tokenizers.h"

#include <algorithm>
#include <fstream>

namespace serval::tokenizer {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

bool IsAsciiSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

// BERT's _is_punctuation for ASCII: every non-letter, non-digit printable.
bool IsAsciiPunctuation(unsigned char c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

// BERT's _is_control for ASCII: control characters other than whitespace.
bool IsAsciiControl(unsigned char c) {
  return (c < 32 && !IsAsciiSpace(c)) || c == 127;
}

}  // namespace

std::vector<std::string> ReadVocabulary(const std::string& path,
                                        std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  if (!in) {
    *error = "cannot read the vocabulary file";
    return out;
  }
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
  }
  if (out.empty()) *error = "the vocabulary file is empty";
  return out;
}

WordTokenizer::WordTokenizer(std::vector<std::string> vocabulary,
                             WordOptions options)
    : options_(std::move(options)) {
  for (size_t i = 0; i < vocabulary.size(); ++i) {
    index_.emplace(std::move(vocabulary[i]), static_cast<int64_t>(i) + 1);
  }
  if (!options_.oov_token.empty()) {
    auto it = index_.find(options_.oov_token);
    if (it != index_.end()) oov_id_ = it->second;
  }
}

std::vector<std::string> WordTokenizer::Words(std::string_view text) const {
  std::string t(text);
  if (options_.lower) {
    std::transform(t.begin(), t.end(), t.begin(), Lower);
  }
  for (char& c : t) {
    if (options_.filters.find(c) != std::string::npos) c = options_.split;
  }
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= t.size()) {
    size_t end = t.find(options_.split, start);
    if (end == std::string::npos) end = t.size();
    if (end > start) words.push_back(t.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

void WordTokenizer::Encode(std::string_view text, size_t length,
                           int64_t* ids) const {
  std::vector<int64_t> seq;
  for (const std::string& w : Words(text)) {
    auto it = index_.find(w);
    int64_t id = it == index_.end() ? -1 : it->second;
    if (id >= 0 && options_.num_words > 0 && id >= options_.num_words) id = -1;
    if (id < 0) {
      // Keras: an unknown word becomes the OOV token, or is dropped.
      if (oov_id_ < 0 ||
          (options_.num_words > 0 && oov_id_ >= options_.num_words)) {
        continue;
      }
      id = oov_id_;
    }
    seq.push_back(id);
  }
  // pad_sequences: truncate, then pad, each at the start ("pre") or end.
  if (seq.size() > length) {
    if (options_.truncate_post) {
      seq.resize(length);
    } else {
      seq.erase(seq.begin(), seq.end() - length);
    }
  }
  const size_t pad = length - seq.size();
  size_t at = 0;
  if (!options_.pad_post) {
    for (; at < pad; ++at) ids[at] = options_.pad_id;
  }
  for (int64_t id : seq) ids[at++] = id;
  for (; at < length; ++at) ids[at] = options_.pad_id;
}

std::string WordPieceTokenizer::Check(const std::vector<std::string>& vocab,
                                      const WordPieceOptions& o) {
  for (const std::string* special : {&o.unknown, &o.cls, &o.sep, &o.pad}) {
    if (std::find(vocab.begin(), vocab.end(), *special) == vocab.end()) {
      return "the vocabulary has no '" + *special + "' token";
    }
  }
  return "";
}

WordPieceTokenizer::WordPieceTokenizer(
    const std::vector<std::string>& vocabulary, WordPieceOptions options)
    : options_(std::move(options)) {
  for (size_t i = 0; i < vocabulary.size(); ++i) {
    index_.emplace(vocabulary[i], static_cast<int64_t>(i));
  }
  auto id = [&](const std::string& t) {
    auto it = index_.find(t);
    return it == index_.end() ? int64_t{0} : it->second;
  };
  unknown_id_ = id(options_.unknown);
  cls_id_ = id(options_.cls);
  sep_id_ = id(options_.sep);
  pad_id_ = id(options_.pad);
}

std::vector<std::string> WordPieceTokenizer::BasicTokens(
    std::string_view text) const {
  // Clean (drop controls, whitespace to spaces), lower, then split on
  // whitespace and around each punctuation character.
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (unsigned char c : text) {
    if (c == 0 || IsAsciiControl(c)) continue;
    if (IsAsciiSpace(c)) {
      flush();
    } else if (IsAsciiPunctuation(c)) {
      flush();
      tokens.emplace_back(1, static_cast<char>(c));
    } else {
      current +=
          options_.lower ? Lower(static_cast<char>(c)) : static_cast<char>(c);
    }
  }
  flush();
  return tokens;
}

std::vector<std::string> WordPieceTokenizer::Pieces(
    std::string_view text) const {
  std::vector<std::string> out;
  for (const std::string& word : BasicTokens(text)) {
    if (word.size() > options_.max_chars_per_word) {
      out.push_back(options_.unknown);
      continue;
    }
    std::vector<std::string> pieces;
    size_t start = 0;
    bool bad = false;
    while (start < word.size()) {
      size_t end = word.size();
      std::string found;
      while (start < end) {
        std::string candidate = word.substr(start, end - start);
        if (start > 0) candidate = "##" + candidate;
        if (index_.count(candidate) > 0) {
          found = std::move(candidate);
          break;
        }
        --end;
      }
      if (found.empty()) {
        bad = true;
        break;
      }
      pieces.push_back(std::move(found));
      start = end;
    }
    if (bad) {
      out.push_back(options_.unknown);
    } else {
      out.insert(out.end(), pieces.begin(), pieces.end());
    }
  }
  return out;
}

void WordPieceTokenizer::Encode(std::string_view text, size_t length,
                                int64_t* ids, int64_t* mask) const {
  std::vector<int64_t> seq;
  if (length >= 1) seq.push_back(cls_id_);
  for (const std::string& p : Pieces(text)) {
    if (seq.size() + 1 >= length) break;  // keep room for [SEP]
    auto it = index_.find(p);
    seq.push_back(it == index_.end() ? unknown_id_ : it->second);
  }
  if (length >= 2) seq.push_back(sep_id_);
  for (size_t i = 0; i < length; ++i) {
    ids[i] = i < seq.size() ? seq[i] : pad_id_;
    if (mask != nullptr) mask[i] = i < seq.size() ? 1 : 0;
  }
}

}  // namespace serval::tokenizer
