// RenameIndex: which existing DST files may already hold the content of SRC
// files that are new at their paths, from listings alone.
//
// It knows only what a receiver knows (DST's listing) plus what the sender
// lists for each new file (size, mtime, name), so the remote receiver uses it
// unchanged. Hints are: the Maildir base name (the name before ":2,", which
// a flag change keeps) with the same size, then the same size and mtime
// (which rename(2) keeps). A hint is never trusted: the caller confirms each
// pair by XXH3-128 of both files (the receiver hashes its DST file; the
// sender sends its hash on request) and gives the results to AssignRenames,
// which uses each candidate at most once.
//
// Usage: AddTarget for every new file first, then AddCandidate for DST files
// (only those matching some target's hint are kept, so memory follows the
// number of new files, not the size of DST), then CandidatesFor per target.
//
// Thread safety: thread-compatible. Cost: O(log n) per call.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/base/hash.h"

namespace ferry::transfer {

struct RenameHint {
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  // Maildir base name for a file in a folder's cur/ or new/; empty otherwise.
  std::string_view mail_base;
};

class RenameIndex {
 public:
  // Returns the target's id (0, 1, 2, ... in call order).
  uint32_t AddTarget(const RenameHint& h);
  // Records DST file `id` (the caller's number) when it matches some
  // target's hint; returns whether it did.
  bool AddCandidate(uint32_t id, const RenameHint& h);
  // Candidate ids for target t, best hint first (same base name and mtime,
  // same base name, same mtime), without duplicates, at most `limit`.
  std::vector<uint32_t> CandidatesFor(uint32_t t, size_t limit) const;
  size_t targets() const { return targets_.size(); }

 private:
  struct Target {
    RenameHint hint;
    std::string base;  // owns hint.mail_base
  };
  using TimeKey = std::tuple<uint64_t, int64_t, uint32_t>;
  using BaseKey = std::pair<std::string, uint64_t>;
  struct Cand {
    uint32_t id;
    int64_t mtime_sec;
    uint32_t mtime_nsec;
  };
  std::vector<Target> targets_;
  std::map<TimeKey, std::vector<Cand>> by_time_;  // keys come from targets
  std::map<BaseKey, std::vector<Cand>> by_base_;
};

struct RenameMatch {
  uint32_t target;
  uint32_t candidate;
};

// Greedy, in target order: each target takes its first listed candidate whose
// hash equals its own and that no earlier target took. A missing hash (the
// file could not be read) matches nothing.
std::vector<RenameMatch> AssignRenames(
    const std::vector<std::vector<uint32_t>>& candidates_of_target,
    const std::vector<std::optional<Hash128>>& target_hash,
    const std::vector<std::optional<Hash128>>& candidate_hash);

}  // namespace ferry::transfer
