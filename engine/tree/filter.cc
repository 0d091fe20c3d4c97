#include "engine/tree/filter.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry {

namespace {

// rsync discards patterns of MAXPATHLEN bytes or more; we refuse them, which
// also bounds the matcher's recursion depth.
constexpr size_t kMaxPatternLen = 4095;

enum class Tok : uint8_t { kLiteral, kOne, kStar, kStarStar, kClass };

struct Token {
  Tok kind;
  uint32_t off = 0;  // kLiteral: into Rule::literals; kClass: class index
  uint32_t len = 0;  // kLiteral: byte count
};

// 256-bit membership set of a [...] class.
struct CharSet {
  std::array<uint64_t, 4> bits{};
  void Set(unsigned char c) { bits[c >> 6] |= uint64_t{1} << (c & 63); }
  bool Has(unsigned char c) const { return (bits[c >> 6] >> (c & 63)) & 1; }
};

// Result codes of rsync's dowild(); the two aborts prune the backtracking.
enum Match : int { kNo = 0, kYes = 1, kAbortAll = -1, kAbortToStarStar = -2 };

// The matched text as rsync builds it: an optional "/" before the name (for
// patterns starting with "**") and an optional "/" after it (for "***"
// suffixes on directories), without copying the name.
struct Subject {
  bool lead;
  std::string_view body;
  bool trail;
  size_t size() const { return lead + body.size() + trail; }
  unsigned char at(size_t i) const {
    if (i < size_t{lead}) return '/';
    i -= lead;
    return i < body.size() ? static_cast<unsigned char>(body[i]) : '/';
  }
};

}  // namespace

struct FilterList::Rule {
  bool include = false;
  bool dir_only = false;      // trailing '/'
  bool anchored = false;      // leading '/'
  bool wild = false;          // holds '*', '?' or '[': match by tokens
  bool wild2 = false;         // holds "**"
  bool wild2_prefix = false;  // starts with "**"
  bool wild3_suffix = false;  // ends with "***"
  uint32_t slash_cnt = 0;     // '/' in the pattern, leading one included
  std::string pattern;        // without the leading and trailing '/'
  std::string source;         // the pattern as given (for Texts())
  std::vector<Token> tokens;  // wild patterns only
  std::string literals;
  std::vector<CharSet> classes;
};

namespace {

using Rule = FilterList::Rule;

Status BadRule(std::string_view text, std::string_view why) {
  std::string m = "bad filter rule \"";
  m += text;
  m += "\": ";
  m += why;
  return InvalidArgument(std::move(m));
}

bool InNamedClass(std::string_view name, unsigned c, bool* known) {
  *known = true;
  const bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
  const bool digit = c >= '0' && c <= '9';
  const bool alnum = upper || lower || digit;
  const bool graph = c > 0x20 && c < 0x7f;
  if (name == "alnum") return alnum;
  if (name == "alpha") return upper || lower;
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return c < 0x20 || c == 0x7f;
  if (name == "digit") return digit;
  if (name == "graph") return graph;
  if (name == "lower") return lower;
  if (name == "print") return graph || c == ' ';
  if (name == "punct") return graph && !alnum;
  if (name == "space") return c == ' ' || (c >= '\t' && c <= '\r');
  if (name == "upper") return upper;
  if (name == "xdigit")
    return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  *known = false;
  return false;
}

// Parses the class that starts at p[*i] == '[' and leaves *i on its closing
// ']'. Mirrors the '[' case of rsync's dowild(), which decides membership
// while scanning; here the scan happens once, into a CharSet. Returns an
// error text, or an empty string.
std::string ParseClass(std::string_view p, size_t* i, CharSet* out) {
  const char* kUnterminated = "unterminated '[' character class";
  auto at = [&](size_t j) -> unsigned {
    return j < p.size() ? static_cast<unsigned char>(p[j]) : 0;
  };
  CharSet set;
  size_t k = *i + 1;
  const bool negate = at(k) == '!' || at(k) == '^';
  if (negate) ++k;
  unsigned prev = 0;
  // The first member may be ']' itself: the test for the end comes after it.
  for (bool first = true; first || at(k) != ']'; first = false) {
    if (k >= p.size()) return kUnterminated;
    unsigned ch = at(k);
    if (ch == '\\') {
      if (++k >= p.size()) return kUnterminated;
      ch = at(k);
      set.Set(static_cast<unsigned char>(ch));
    } else if (ch == '-' && prev != 0 && k + 1 < p.size() && p[k + 1] != ']') {
      ch = at(++k);
      if (ch == '\\') {
        if (++k >= p.size()) return kUnterminated;
        ch = at(k);
      }
      for (unsigned c = prev; c <= ch; ++c) set.Set(static_cast<unsigned char>(c));
      ch = 0;  // a range end cannot start another range
    } else if (ch == '[' && at(k + 1) == ':') {
      const size_t name_at = k + 2;
      const size_t close = p.find(']', name_at);
      if (close == std::string_view::npos) return kUnterminated;
      if (close == name_at || p[close - 1] != ':') {
        set.Set('[');  // no ":]": a plain '[' member; scanning goes on at ':'
      } else {
        const std::string_view name = p.substr(name_at, close - 1 - name_at);
        bool known = false;
        InNamedClass(name, 'a', &known);
        if (!known) return "unknown character class [:" + std::string(name) + ":]";
        for (unsigned c = 0; c < 256; ++c) {
          if (InNamedClass(name, c, &known)) set.Set(static_cast<unsigned char>(c));
        }
        k = close;
        ch = 0;
      }
    } else {
      set.Set(static_cast<unsigned char>(ch));
    }
    prev = ch;
    ++k;
  }
  if (negate) {
    for (auto& w : set.bits) w = ~w;
  }
  set.bits['/' >> 6] &= ~(uint64_t{1} << ('/' & 63));  // never matches '/'
  *out = set;
  *i = k;
  return {};
}

void AddLiteral(Rule* r, char c) {
  if (r->tokens.empty() || r->tokens.back().kind != Tok::kLiteral) {
    r->tokens.push_back(
        {Tok::kLiteral, static_cast<uint32_t>(r->literals.size()), 0});
  }
  r->literals.push_back(c);
  ++r->tokens.back().len;
}

// Compiles pat (the rule text without its "+ "/"- " prefix); text is the
// whole rule, for messages. The flags are computed on the raw pattern, as
// rsync's add_rule() does, escapes included.
Result<Rule> Compile(bool include, std::string_view pat, std::string_view text) {
  if (pat.size() > kMaxPatternLen) return BadRule(text, "pattern longer than 4095 bytes");
  Rule r;
  r.include = include;
  r.source = std::string(pat);
  if (pat.size() > 1 && pat.back() == '/') {
    r.dir_only = true;
    pat.remove_suffix(1);
  }
  for (char c : pat) r.slash_cnt += c == '/';
  r.wild = pat.find_first_of("*?[") != std::string_view::npos;
  if (r.wild && pat.find("**") != std::string_view::npos) {
    r.wild2 = true;
    r.wild2_prefix = pat.starts_with("**");
    r.wild3_suffix = pat.ends_with("***");
  }
  if (pat.starts_with('/')) {
    r.anchored = true;
    pat.remove_prefix(1);
  }
  r.pattern = std::string(pat);
  if (!r.wild) return r;

  for (size_t i = 0; i < pat.size(); ++i) {
    const char c = pat[i];
    if (c == '\\') {
      if (i + 1 == pat.size()) return BadRule(text, "trailing backslash");
      AddLiteral(&r, pat[++i]);
    } else if (c == '?') {
      r.tokens.push_back({Tok::kOne});
    } else if (c == '*') {
      size_t j = i;
      while (j < pat.size() && pat[j] == '*') ++j;
      r.tokens.push_back({j - i > 1 ? Tok::kStarStar : Tok::kStar});
      i = j - 1;
    } else if (c == '[') {
      CharSet set;
      std::string err = ParseClass(pat, &i, &set);
      if (!err.empty()) return BadRule(text, err);
      r.tokens.push_back({Tok::kClass, static_cast<uint32_t>(r.classes.size())});
      r.classes.push_back(set);
    } else {
      AddLiteral(&r, c);
    }
  }
  return r;
}

// rsync's dowild() over tokens: matches r.tokens[ti..] against s[pos..].
int DoWild(const Rule& r, size_t ti, const Subject& s, size_t pos) {
  const size_t n = s.size();
  for (; ti < r.tokens.size(); ++ti) {
    const Token& t = r.tokens[ti];
    switch (t.kind) {
      case Tok::kLiteral:
        for (uint32_t k = 0; k < t.len; ++k, ++pos) {
          if (pos == n) return kAbortAll;
          if (s.at(pos) != static_cast<unsigned char>(r.literals[t.off + k])) return kNo;
        }
        break;
      case Tok::kOne:
        if (pos == n) return kAbortAll;
        if (s.at(pos++) == '/') return kNo;
        break;
      case Tok::kClass:
        if (pos == n) return kAbortAll;
        if (!r.classes[t.off].Has(s.at(pos++))) return kNo;
        break;
      case Tok::kStar:
      case Tok::kStarStar: {
        const bool special = t.kind == Tok::kStarStar;
        if (ti + 1 == r.tokens.size()) {
          // Trailing "**" takes everything, a trailing "*" anything but '/'.
          if (special) return kYes;
          for (; pos < n; ++pos) {
            if (s.at(pos) == '/') return kNo;
          }
          return kYes;
        }
        for (; pos < n; ++pos) {
          const int m = DoWild(r, ti + 1, s, pos);
          if (m != kNo) {
            if (!special || m != kAbortToStarStar) return m;
          } else if (!special && s.at(pos) == '/') {
            return kAbortToStarStar;
          }
        }
        return kAbortAll;
      }
    }
  }
  return pos == n ? kYes : kNo;
}

// rsync's rule_matches() for one old-style rule (no modifiers).
bool RuleMatches(const Rule& r, std::string_view path, bool is_dir) {
  if (r.dir_only && !is_dir) return false;
  std::string_view name = path;
  if (r.slash_cnt == 0 && !r.wild2) {
    const size_t slash = name.rfind('/');
    if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  }
  if (!r.wild) {
    if (r.anchored) return name == r.pattern;
    const size_t l1 = name.size(), l2 = r.pattern.size();
    return l2 <= l1 && name.ends_with(r.pattern) &&
           (l1 == l2 || name[l1 - l2 - 1] == '/');
  }
  const Subject s{r.wild2_prefix, name, is_dir && r.wild3_suffix};
  if (!r.anchored && r.slash_cnt != 0 && !r.wild2) {
    // Only the last slash_cnt + 1 components (rsync's trailing_N_elements).
    uint32_t count = r.slash_cnt + 1;
    size_t start = 0;
    bool found = false;
    for (size_t i = name.size(); i-- > 0;) {
      if (name[i] == '/' && --count == 0) {
        start = i + 1;
        found = true;
        break;
      }
    }
    if (!found && count != 1) return false;
    return DoWild(r, 0, s, start) == kYes;
  }
  if (!r.anchored && !r.wild2_prefix && r.wild2) {
    // An infix or trailing "**": try at the start and after every '/'.
    int m = DoWild(r, 0, s, 0);
    if (m == kYes) return true;
    if (m == kAbortAll) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.at(i) != '/') continue;
      m = DoWild(r, 0, s, i + 1);
      if (m != kNo && m != kAbortToStarStar) return m == kYes;
    }
    return false;
  }
  return DoWild(r, 0, s, 0) == kYes;
}

// Parses one rule text (an option argument or a file line) into *rules;
// "!" empties *rules and sets *cleared.
Status ParseRule(RuleType type, std::string_view text, std::vector<Rule>* rules,
                 bool* cleared) {
  if (text.empty()) return BadRule(text, "empty pattern");
  bool include = type == RuleType::kInclude;
  std::string_view pat = text;
  if (pat.size() >= 2 && pat[1] == ' ' && (pat[0] == '-' || pat[0] == '+')) {
    include = pat[0] == '+';
    pat.remove_prefix(2);
    if (pat.empty()) return BadRule(text, "no pattern after the prefix");
  } else if (pat == "!") {
    rules->clear();
    *cleared = true;
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Rule r, Compile(include, pat, text));
  rules->push_back(std::move(r));
  return Status::Ok();
}

}  // namespace

FilterList::FilterList() = default;
FilterList::~FilterList() = default;
FilterList::FilterList(const FilterList&) = default;
FilterList& FilterList::operator=(const FilterList&) = default;
FilterList::FilterList(FilterList&&) noexcept = default;
FilterList& FilterList::operator=(FilterList&&) noexcept = default;

bool FilterList::empty() const { return rules_.empty(); }
size_t FilterList::size() const { return rules_.size(); }
void FilterList::Clear() { rules_.clear(); }

Status FilterList::AddRule(RuleType type, std::string_view text) {
  std::vector<Rule> pending;
  bool cleared = false;
  RETURN_IF_ERROR(ParseRule(type, text, &pending, &cleared));
  if (cleared) rules_.clear();
  for (Rule& r : pending) rules_.push_back(std::move(r));
  return Status::Ok();
}

Status FilterList::AddRulesFromText(RuleType type, std::string_view text,
                                    std::string_view source_name) {
  std::vector<Rule> pending;
  bool cleared = false;
  size_t line_no = 1;
  for (size_t i = 0; i <= text.size();) {
    size_t j = i;
    while (j < text.size() && text[j] != '\n' && text[j] != '\r') ++j;
    std::string_view line = text.substr(i, j - i);
    // rsync reads lines into a C string: a NUL ends the rule.
    line = line.substr(0, line.find('\0'));
    if (!line.empty() && line[0] != ';' && line[0] != '#') {
      Status st = ParseRule(type, line, &pending, &cleared);
      if (!st.ok()) {
        return Status(st.code(), std::string(source_name) + ":" +
                                     std::to_string(line_no) + ": " +
                                     st.message());
      }
    }
    if (j == text.size()) break;
    // "\r\n" is one line break; a lone '\r' is one too.
    if (text[j] == '\n' || j + 1 == text.size() || text[j + 1] != '\n') ++line_no;
    i = j + 1;
  }
  if (cleared) rules_.clear();
  for (Rule& r : pending) rules_.push_back(std::move(r));
  return Status::Ok();
}

Status FilterList::AddRulesFromFile(RuleType type, const std::string& path) {
  const bool inc = type == RuleType::kInclude;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return PosixError(inc ? "open include file" : "open exclude file", path, errno);
  }
  std::string text;
  char buf[16384];
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int err = errno;
      ::close(fd);
      return PosixError(inc ? "read include file" : "read exclude file", path, err);
    }
    if (got == 0) break;
    text.append(buf, static_cast<size_t>(got));
  }
  ::close(fd);
  return AddRulesFromText(type, text, path);
}

std::vector<std::string> FilterList::Texts() const {
  std::vector<std::string> out;
  out.reserve(rules_.size());
  for (const Rule& r : rules_) out.push_back((r.include ? "+ " : "- ") + r.source);
  return out;
}

bool FilterList::Excluded(std::string_view relpath, bool is_dir) const {
  if (relpath.empty()) return false;
  for (const Rule& r : rules_) {
    if (RuleMatches(r, relpath, is_dir)) return !r.include;
  }
  return false;
}

}  // namespace ferry
