#include "engine/probe/sample_data.h"

#include <array>
#include <cstring>
#include <random>
#include <string_view>

namespace ferry::probe {

namespace {

constexpr std::array<std::string_view, 48> kWords = {
    "the",     "of",       "and",     "to",      "in",      "for",     "is",     "on",
    "mail",    "from",     "subject", "received", "message", "content", "type",  "text",
    "html",    "div",      "class",   "span",    "href",    "https",   "www",    "example",
    "com",     "GET",      "POST",    "HTTP/1.1", "200",    "404",     "user",   "agent",
    "Mozilla", "server",   "account", "invoice", "order",   "customer", "date",  "time",
    "return",  "function", "var",     "const",   "if",      "else",    "null",   "true"};

}  // namespace

std::vector<std::byte> TextLikeData(size_t size, uint64_t seed) {
  std::vector<std::byte> out;
  out.reserve(size + 32);
  std::mt19937_64 rng(seed);
  auto put = [&out](std::string_view s) {
    for (char c : s) out.push_back(static_cast<std::byte>(c));
  };
  while (out.size() < size) {
    uint64_t r = rng();
    switch (r % 16) {
      case 0: put("\n"); break;
      case 1: put(std::to_string((r >> 8) % 100000)); put(" "); break;
      case 2: put(", "); break;
      default: put(kWords[(r >> 8) % kWords.size()]); put(" "); break;
    }
  }
  out.resize(size);
  return out;
}

std::vector<std::byte> EditedCopy(const std::vector<std::byte>& data, int edits, uint64_t seed) {
  std::vector<std::byte> out = data;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < edits && !out.empty(); ++i) {
    size_t at = rng() % out.size();
    size_t len = 1 + rng() % 64;
    switch (rng() % 3) {
      case 0: {  // insert
        std::vector<std::byte> ins(len);
        for (auto& b : ins) b = static_cast<std::byte>(rng());
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), ins.begin(), ins.end());
        break;
      }
      case 1:  // delete
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(at),
                  out.begin() + static_cast<std::ptrdiff_t>(std::min(out.size(), at + len)));
        break;
      default:  // overwrite
        for (size_t k = at; k < std::min(out.size(), at + len); ++k)
          out[k] = static_cast<std::byte>(rng());
        break;
    }
  }
  return out;
}

}  // namespace ferry::probe
