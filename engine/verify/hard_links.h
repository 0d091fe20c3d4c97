// Hard-link structure of two trees: given, for every path that is a regular
// file on both sides and has more than one link on either, the file identity
// (device, inode) on each side, finds the paths whose grouping differs.
//
// A pure function over values (no I/O): the comparison collects the records
// while it walks and calls this once at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/verify/verify.h"

namespace ferry::verify {

struct LinkRecord {
  std::string path;
  uint64_t src_dev = 0, src_ino = 0;
  uint64_t dst_dev = 0, dst_ino = 0;
};

struct LinkFinding {
  DiffKind kind;      // kLinkBroken or kLinkJoined
  std::string path;   // the path that is (or is not) linked...
  std::string peer;   // ...to the first path of its group, in path order
};

// Sorts records by path and walks them once: a path whose SRC file was seen
// before under another path but whose DST file differs from that path's is
// kLinkBroken; a path whose DST file was seen before with another SRC file is
// kLinkJoined. Findings come in path order.
// Cost: O(n log n) time, two hash maps of n entries.
std::vector<LinkFinding> CheckHardLinks(std::vector<LinkRecord>& records);

}  // namespace ferry::verify
