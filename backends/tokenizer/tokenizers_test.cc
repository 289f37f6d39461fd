#include "tokenizers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace serval::tokenizer {
namespace {

using ::testing::ElementsAre;

std::vector<int64_t> Encode(const WordTokenizer& t, std::string_view text,
                            size_t length) {
  std::vector<int64_t> ids(length);
  t.Encode(text, length, ids.data());
  return ids;
}

TEST(WordTokenizerTest, KerasSplittingAndLowerCase) {
  WordTokenizer t({"the"}, WordOptions{});
  EXPECT_THAT(t.Words("The cat, the HAT!\tand\n(so on)"),
              ElementsAre("the", "cat", "the", "hat", "and", "so", "on"));
  EXPECT_TRUE(t.Words("").empty());
  EXPECT_TRUE(t.Words(" ,.;").empty());
}

TEST(WordTokenizerTest, PadsAndTruncatesLikePadSequences) {
  WordTokenizer pre({"a", "b", "c", "d"}, WordOptions{});
  // ids 1..4; unknown words dropped; padding and truncation at the start.
  EXPECT_THAT(Encode(pre, "a b zz c", 5), ElementsAre(0, 0, 1, 2, 3));
  EXPECT_THAT(Encode(pre, "a b c d a b", 4), ElementsAre(3, 4, 1, 2));
  WordOptions o;
  o.pad_post = true;
  o.truncate_post = true;
  WordTokenizer post({"a", "b", "c", "d"}, o);
  EXPECT_THAT(Encode(post, "a b", 4), ElementsAre(1, 2, 0, 0));
  EXPECT_THAT(Encode(post, "a b c d a b", 4), ElementsAre(1, 2, 3, 4));
}

TEST(WordTokenizerTest, OutOfVocabularyAndNumWords) {
  WordOptions o;
  o.oov_token = "<OOV>";
  o.num_words = 3;  // ids 1 and 2 only
  WordTokenizer t({"<OOV>", "a", "b"}, o);
  EXPECT_THAT(Encode(t, "a zz b", 3), ElementsAre(2, 1, 1));
}

std::vector<std::string> BertVocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un",  "##aff", "##able",
          "hello", ",",     "!",     "world", "##s", "a"};
}

TEST(WordPieceTokenizerTest, GreedyLongestMatchFirst) {
  WordPieceTokenizer t(BertVocab(), WordPieceOptions{});
  EXPECT_THAT(
      t.Pieces("Unaffable, hello worlds!"),
      ElementsAre("un", "##aff", "##able", ",", "hello", "world", "##s", "!"));
  EXPECT_THAT(t.Pieces("xyz"), ElementsAre("[UNK]"));
  EXPECT_THAT(t.Pieces(std::string(101, 'a')), ElementsAre("[UNK]"));
}

TEST(WordPieceTokenizerTest, SpecialTokensTruncationAndMask) {
  WordPieceTokenizer t(BertVocab(), WordPieceOptions{});
  std::vector<int64_t> ids(6), mask(6);
  t.Encode("hello world", 6, ids.data(), mask.data());
  EXPECT_THAT(ids, ElementsAre(2, 7, 10, 3, 0, 0));
  EXPECT_THAT(mask, ElementsAre(1, 1, 1, 1, 0, 0));
  std::vector<int64_t> short_ids(4);
  t.Encode("hello world hello", 4, short_ids.data(), nullptr);
  EXPECT_THAT(short_ids, ElementsAre(2, 7, 10, 3));
  EXPECT_EQ(WordPieceTokenizer::Check({"[PAD]"}, WordPieceOptions{}),
            "the vocabulary has no '[UNK]' token");
}

}  // namespace
}  // namespace serval::tokenizer
