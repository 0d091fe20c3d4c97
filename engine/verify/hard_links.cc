#include "engine/verify/hard_links.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace ferry::verify {

namespace {

struct Key {
  uint64_t dev, ino;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    return std::hash<uint64_t>()(k.ino * 0x9e3779b97f4a7c15ull ^ k.dev);
  }
};

}  // namespace

std::vector<LinkFinding> CheckHardLinks(std::vector<LinkRecord>& records) {
  std::sort(records.begin(), records.end(),
            [](const LinkRecord& a, const LinkRecord& b) { return a.path < b.path; });
  std::unordered_map<Key, size_t, KeyHash> by_src, by_dst;  // -> first record
  std::vector<LinkFinding> out;
  for (size_t i = 0; i < records.size(); ++i) {
    const LinkRecord& r = records[i];
    Key s{r.src_dev, r.src_ino}, d{r.dst_dev, r.dst_ino};
    auto [si, s_new] = by_src.try_emplace(s, i);
    auto [di, d_new] = by_dst.try_emplace(d, i);
    if (!s_new) {
      const LinkRecord& first = records[si->second];
      if (Key{first.dst_dev, first.dst_ino} != d)
        out.push_back({DiffKind::kLinkBroken, r.path, first.path});
    }
    if (!d_new) {
      const LinkRecord& first = records[di->second];
      if (Key{first.src_dev, first.src_ino} != s)
        out.push_back({DiffKind::kLinkJoined, r.path, first.path});
    }
  }
  return out;
}

}  // namespace ferry::verify
