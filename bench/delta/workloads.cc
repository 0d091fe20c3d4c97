#include "bench/delta/workloads.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace ferry::delta::bench {

namespace {

Bytes Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k) {
      out[i + k] = static_cast<std::byte>(v >> (8 * k));
    }
  }
  return out;
}

const char* const kWords[] = {
    "alpha", "bravo",  "charlie", "delta", "echo",   "foxtrot", "golf",
    "hotel", "india",  "juliet",  "kilo",  "lima",   "mike",    "november",
    "oscar", "papa",   "quebec",  "romeo", "sierra", "tango",   "uniform",
    "victor", "whiskey", "xray",  "yankee", "zulu"};

std::string Line(std::mt19937_64& rng, uint64_t id) {
  std::string s = "INSERT INTO messages VALUES (" + std::to_string(id) + ", '";
  const int words = 3 + static_cast<int>(rng() % 12);
  for (int w = 0; w < words; ++w) {
    if (w) s += ' ';
    s += kWords[rng() % std::size(kWords)];
  }
  s += "', " + std::to_string(rng() % 1000000) + ");\n";
  return s;
}

Bytes ToBytes(const std::string& s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return Bytes(p, p + s.size());
}

}  // namespace

Workload MakeIdentical(size_t size) {
  Workload w{"identical", Random(size, 1), {}};
  w.new_data = w.old_data;
  return w;
}

Workload MakePages(size_t size) {
  constexpr size_t kPage = 16 * 1024;
  Workload w{"pages", Random(size, 2), {}};
  w.new_data = w.old_data;
  const size_t pages = size / kPage;
  std::vector<size_t> order(pages);
  for (size_t i = 0; i < pages; ++i) order[i] = i;
  std::mt19937_64 rng(3);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t rewrite = std::max<size_t>(1, pages / 100);
  for (size_t i = 0; i < rewrite; ++i) {
    const Bytes fresh = Random(kPage, 100 + i);
    std::copy(fresh.begin(), fresh.end(), w.new_data.begin() + order[i] * kPage);
  }
  return w;
}

Workload MakeText(size_t size) {
  std::mt19937_64 rng(4);
  std::vector<std::string> lines;
  size_t total = 0;
  for (uint64_t id = 0; total < size; ++id) {
    lines.push_back(Line(rng, id));
    total += lines.back().size();
  }
  std::string old_text;
  old_text.reserve(total);
  for (const auto& l : lines) old_text += l;
  // 100 edits (half inserts, half deletes) among the lines of the first MiB.
  size_t first_mib = 0;
  for (size_t bytes = 0; bytes < (size_t{1} << 20); ++first_mib) {
    bytes += lines[first_mib].size();
  }
  for (int e = 0; e < 100; ++e) {
    const size_t at = rng() % first_mib;
    if (e % 2 == 0) {
      lines.insert(lines.begin() + at, Line(rng, 900000000 + e));
    } else {
      lines.erase(lines.begin() + at);
    }
  }
  std::string new_text;
  new_text.reserve(total + 4096);
  for (const auto& l : lines) new_text += l;
  return Workload{"text", ToBytes(old_text), ToBytes(new_text)};
}

Workload MakeNoMatch(size_t size) {
  return Workload{"nomatch", Random(size, 5), Random(size, 6)};
}

uint32_t RsyncBlockSize(uint64_t size) {
  uint64_t r = static_cast<uint64_t>(std::sqrt(static_cast<double>(size)));
  while (r > 0 && r > size / r) --r;
  while (r + 1 <= size / (r + 1)) ++r;
  r &= ~uint64_t{7};
  return static_cast<uint32_t>(std::clamp<uint64_t>(r, 700, 128 * 1024));
}

}  // namespace ferry::delta::bench
