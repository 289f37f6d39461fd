// Text to token ids: the word tokenizer of Keras (Tokenizer +
// pad_sequences, the one the seeds' LSTM text classifier uses) and BERT's
// WordPiece (BasicTokenizer then greedy longest-match WordPiece, [CLS] ...
// [SEP], padded, with an attention mask). Case folding and punctuation are
// ASCII's: other UTF-8 text passes through as word characters (no accent
// stripping, no CJK splitting). Immutable after construction; thread-safe.
#ifndef SERVAL_BACKENDS_TOKENIZER_TOKENIZERS_H_
#define SERVAL_BACKENDS_TOKENIZER_TOKENIZERS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace serval::tokenizer {

struct WordOptions {
  bool lower = true;
  // Characters replaced by the split character before splitting (Keras's
  // default filters).
  std::string filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";
  char split = ' ';
  // Ids >= num_words are treated as unknown (0: no limit).
  int64_t num_words = 0;
  // The token unknown words become; empty: they are dropped (Keras).
  std::string oov_token;
  // pad_sequences: where padding and truncation happen ("pre" or "post").
  bool pad_post = false;
  bool truncate_post = false;
  int64_t pad_id = 0;
};

class WordTokenizer {
 public:
  // `vocabulary`: one word per line, the word on line n (from 1) has id n,
  // as Keras's word_index. The OOV token, when used, must be in it.
  WordTokenizer(std::vector<std::string> vocabulary, WordOptions options);

  // Ids of `text`, padded or truncated to `length`.
  void Encode(std::string_view text, size_t length, int64_t* ids) const;
  // Keras text_to_word_sequence. Exposed for tests.
  std::vector<std::string> Words(std::string_view text) const;

 private:
  WordOptions options_;
  std::unordered_map<std::string, int64_t> index_;
  int64_t oov_id_ = -1;
};

struct WordPieceOptions {
  bool lower = true;
  std::string unknown = "[UNK]";
  std::string cls = "[CLS]";
  std::string sep = "[SEP]";
  std::string pad = "[PAD]";
  size_t max_chars_per_word = 100;
};

class WordPieceTokenizer {
 public:
  // `vocabulary`: BERT's vocab.txt, the token on line n (from 0) has id n.
  // Fails (returns an error message) when a special token is missing.
  static std::string Check(const std::vector<std::string>& vocabulary,
                           const WordPieceOptions& options);
  WordPieceTokenizer(const std::vector<std::string>& vocabulary,
                     WordPieceOptions options);

  // [CLS] tokens [SEP] [PAD]..., truncated to `length`; `mask` (may be
  // null) gets 1 for each real token, 0 for padding.
  void Encode(std::string_view text, size_t length, int64_t* ids,
              int64_t* mask) const;
  // The word pieces of `text` without special tokens. Exposed for tests.
  std::vector<std::string> Pieces(std::string_view text) const;

 private:
  std::vector<std::string> BasicTokens(std::string_view text) const;

  WordPieceOptions options_;
  std::unordered_map<std::string, int64_t> index_;
  int64_t unknown_id_ = 0, cls_id_ = 0, sep_id_ = 0, pad_id_ = 0;
};

// Lines of a vocabulary file without their line ends; empty on failure
// with `error` set.
std::vector<std::string> ReadVocabulary(const std::string& path,
                                        std::string* error);

}  // namespace serval::tokenizer

#endif  // SERVAL_BACKENDS_TOKENIZER_TOKENIZERS_H_
