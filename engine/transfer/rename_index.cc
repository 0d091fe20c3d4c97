#include "engine/transfer/rename_index.h"

#include <algorithm>
#include <unordered_set>

namespace ferry::transfer {

uint32_t RenameIndex::AddTarget(const RenameHint& h) {
  auto id = static_cast<uint32_t>(targets_.size());
  Target t{h, std::string(h.mail_base)};
  t.hint.mail_base = {};
  targets_.push_back(std::move(t));
  by_time_.try_emplace(TimeKey{h.size, h.mtime_sec, h.mtime_nsec});
  if (!h.mail_base.empty()) by_base_.try_emplace(BaseKey{std::string(h.mail_base), h.size});
  return id;
}

bool RenameIndex::AddCandidate(uint32_t id, const RenameHint& h) {
  bool kept = false;
  Cand c{id, h.mtime_sec, h.mtime_nsec};
  if (auto it = by_time_.find(TimeKey{h.size, h.mtime_sec, h.mtime_nsec}); it != by_time_.end()) {
    it->second.push_back(c);
    kept = true;
  }
  if (!h.mail_base.empty() && !by_base_.empty()) {
    if (auto it = by_base_.find(BaseKey{std::string(h.mail_base), h.size}); it != by_base_.end()) {
      it->second.push_back(c);
      kept = true;
    }
  }
  return kept;
}

std::vector<uint32_t> RenameIndex::CandidatesFor(uint32_t t, size_t limit) const {
  const Target& tg = targets_.at(t);
  const RenameHint& h = tg.hint;
  std::vector<uint32_t> out;
  auto add = [&](uint32_t id) {
    if (out.size() < limit && std::find(out.begin(), out.end(), id) == out.end())
      out.push_back(id);
  };
  if (!tg.base.empty()) {
    auto it = by_base_.find(BaseKey{tg.base, h.size});
    if (it != by_base_.end()) {
      for (const Cand& c : it->second)
        if (c.mtime_sec == h.mtime_sec && c.mtime_nsec == h.mtime_nsec) add(c.id);
      for (const Cand& c : it->second) add(c.id);
    }
  }
  auto it = by_time_.find(TimeKey{h.size, h.mtime_sec, h.mtime_nsec});
  if (it != by_time_.end())
    for (const Cand& c : it->second) add(c.id);
  return out;
}

std::vector<RenameMatch> AssignRenames(
    const std::vector<std::vector<uint32_t>>& candidates_of_target,
    const std::vector<std::optional<Hash128>>& target_hash,
    const std::vector<std::optional<Hash128>>& candidate_hash) {
  std::vector<RenameMatch> out;
  std::unordered_set<uint32_t> used;
  for (uint32_t t = 0; t < candidates_of_target.size(); ++t) {
    if (t >= target_hash.size() || !target_hash[t]) continue;
    for (uint32_t c : candidates_of_target[t]) {
      if (c >= candidate_hash.size() || !candidate_hash[c] || used.count(c)) continue;
      if (*candidate_hash[c] == *target_hash[t]) {
        used.insert(c);
        out.push_back({t, c});
        break;
      }
    }
  }
  return out;
}

}  // namespace ferry::transfer
