#include "repository/storage/s3_xml.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/absl_compat.h"

namespace serval {
namespace {

constexpr int kMaxDepth = 16;

struct Element {
  std::string name;
  std::string text;  // the text directly inside, decoded
  std::vector<Element> children;

  const Element* Child(std::string_view n) const {
    for (const Element& c : children) {
      if (c.name == n) return &c;
    }
    return nullptr;
  }
  std::string ChildText(std::string_view n) const {
    const Element* c = Child(n);
    return c == nullptr ? "" : c->text;
  }
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  absl::StatusOr<Element> Document() {
    SkipMisc();
    Element root;
    if (auto s = ParseElement(&root, 0); !s.ok()) return s;
    SkipMisc();
    if (pos_ != in_.size()) return Error("content after the root element");
    return root;
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed XML at byte ", pos_, ": ", ToAbsl(what)));
  }
  bool StartsWith(std::string_view s) const {
    return in_.substr(pos_, s.size()) == s;
  }
  void SkipSpace() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n' ||
                                 in_[pos_] == '\r' || in_[pos_] == '\t')) {
      ++pos_;
    }
  }
  // Skips to just after `end`; false when it never comes.
  bool SkipPast(std::string_view end) {
    const size_t at = in_.find(end, pos_);
    if (at == std::string_view::npos) return false;
    pos_ = at + end.size();
    return true;
  }
  // Whitespace, <?...?> and <!--...--> between elements.
  void SkipMisc() {
    for (;;) {
      SkipSpace();
      if (StartsWith("<?")) {
        if (!SkipPast("?>")) return;
      } else if (StartsWith("<!--")) {
        if (!SkipPast("-->")) return;
      } else {
        return;
      }
    }
  }
  static bool NameChar(char c) {
    return c != ' ' && c != '>' && c != '/' && c != '\n' && c != '\t' &&
           c != '\r' && c != '<' && c != '=';
  }
  absl::Status Decode(std::string_view raw, std::string* out) {
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '&') {
        out->push_back(raw[i]);
        continue;
      }
      const size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos || semi - i > 10) {
        return Error("an unterminated entity");
      }
      const std::string_view name = raw.substr(i + 1, semi - i - 1);
      if (name == "amp")
        out->push_back('&');
      else if (name == "lt")
        out->push_back('<');
      else if (name == "gt")
        out->push_back('>');
      else if (name == "quot")
        out->push_back('"');
      else if (name == "apos")
        out->push_back('\'');
      else if (!name.empty() && name[0] == '#') {
        uint32_t code = 0;
        const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
        const absl::string_view digits = ToAbsl(name.substr(hex ? 2 : 1));
        if (digits.empty() ||
            !(hex ? absl::SimpleHexAtoi(digits, &code)
                  : absl::SimpleAtoi(digits, &code)) ||
            code == 0 || code > 0x10FFFF || (code >= 0xD800 && code < 0xE000)) {
          return Error("a bad character reference");
        }
        // UTF-8.
        if (code < 0x80) {
          out->push_back(static_cast<char>(code));
        } else if (code < 0x800) {
          out->push_back(static_cast<char>(0xC0 | (code >> 6)));
          out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else if (code < 0x10000) {
          out->push_back(static_cast<char>(0xE0 | (code >> 12)));
          out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
          out->push_back(static_cast<char>(0xF0 | (code >> 18)));
          out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
      } else {
        return Error("an unknown entity");
      }
      i = semi;
    }
    return absl::OkStatus();
  }

  absl::Status ParseElement(Element* e, int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    if (!StartsWith("<")) return Error("expected '<'");
    ++pos_;
    const size_t start = pos_;
    while (pos_ < in_.size() && NameChar(in_[pos_])) ++pos_;
    e->name = std::string(in_.substr(start, pos_ - start));
    if (e->name.empty()) return Error("an element without a name");
    // Attributes (xmlns=...) are not needed: skip to the tag's end.
    const size_t close = in_.find('>', pos_);
    if (close == std::string_view::npos) return Error("an unterminated tag");
    const bool empty = in_[close - 1] == '/';
    pos_ = close + 1;
    if (empty) return absl::OkStatus();
    for (;;) {
      const size_t lt = in_.find('<', pos_);
      if (lt == std::string_view::npos) return Error("an unclosed element");
      if (auto s = Decode(in_.substr(pos_, lt - pos_), &e->text); !s.ok()) {
        return s;
      }
      pos_ = lt;
      if (StartsWith("</")) {
        pos_ += 2;
        const std::string_view rest = in_.substr(pos_);
        if (rest.substr(0, e->name.size()) != e->name) {
          return Error("a mismatched end tag");
        }
        pos_ += e->name.size();
        SkipSpace();
        if (!StartsWith(">")) return Error("a malformed end tag");
        ++pos_;
        return absl::OkStatus();
      }
      if (StartsWith("<!--")) {
        if (!SkipPast("-->")) return Error("an unterminated comment");
        continue;
      }
      if (StartsWith("<![CDATA[")) {
        pos_ += 9;
        const size_t end = in_.find("]]>", pos_);
        if (end == std::string_view::npos) return Error("unterminated CDATA");
        e->text.append(in_.substr(pos_, end - pos_));
        pos_ = end + 3;
        continue;
      }
      if (StartsWith("<?")) {
        if (!SkipPast("?>")) return Error("an unterminated declaration");
        continue;
      }
      e->children.emplace_back();
      if (auto s = ParseElement(&e->children.back(), depth + 1); !s.ok()) {
        return s;
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<S3ListPage> ParseListObjectsV2(std::string_view xml) {
  absl::StatusOr<Element> root = Reader(xml).Document();
  if (!root.ok()) return root.status();
  if (root->name != "ListBucketResult") {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a ListBucketResult, got <", root->name, ">"));
  }
  S3ListPage page;
  page.truncated = root->ChildText("IsTruncated") == "true";
  page.next_continuation_token = root->ChildText("NextContinuationToken");
  for (const Element& c : root->children) {
    if (c.name != "Contents") continue;
    S3Object object;
    object.key = c.ChildText("Key");
    const std::string etag_text = c.ChildText("ETag");
    absl::string_view trimmed = etag_text;
    absl::ConsumePrefix(&trimmed, "\"");
    absl::ConsumeSuffix(&trimmed, "\"");
    object.etag = std::string(trimmed);
    if (object.key.empty() ||
        !absl::SimpleAtoi(c.ChildText("Size"), &object.size)) {
      return absl::InvalidArgumentError(
          "a ListBucketResult entry without a key or a size");
    }
    page.objects.push_back(std::move(object));
  }
  if (page.truncated && page.next_continuation_token.empty()) {
    return absl::InvalidArgumentError(
        "a truncated ListBucketResult without a NextContinuationToken");
  }
  return page;
}

S3Error ParseS3Error(std::string_view xml) {
  absl::StatusOr<Element> root = Reader(xml).Document();
  if (!root.ok() || root->name != "Error") return {};
  return {root->ChildText("Code"), root->ChildText("Message")};
}

}  // namespace serval
