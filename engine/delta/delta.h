// Delta: the instructions that rebuild a new file from an old one.
//
// A delta is a sequence of ops, applied in order, each appending bytes to the
// output:
//   COPY    (old_offset, length): old[old_offset, old_offset + length)
//   LITERAL (length):             the next `length` bytes of `literals`
// Copies are byte ranges of the old file. The matcher emits whole blocks and
// coalesces runs of consecutive blocks into one COPY; a COPY may start inside
// a block where a parallel segment boundary was stitched (matcher.h).
//
// Thread safety: values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/base/status.h"

namespace ferry::delta {

enum class OpKind : uint8_t { kCopy = 0, kLiteral = 1 };

struct DeltaOp {
  OpKind kind = OpKind::kLiteral;
  uint64_t length = 0;      // > 0
  uint64_t old_offset = 0;  // COPY only; 0 for LITERAL
  bool operator==(const DeltaOp&) const = default;
};

struct DeltaStats {
  uint64_t literal_bytes = 0;  // bytes carried in `literals`
  uint64_t matched_bytes = 0;  // bytes copied from the old file
  // Windows whose weak sum matched a block but whose strong hash did not:
  // a measure of weak-checksum quality (and of wasted work).
  uint64_t false_weak_matches = 0;
  bool operator==(const DeltaStats&) const = default;
};

struct Delta {
  uint64_t old_size = 0;  // size of the old file the signature described
  uint64_t new_size = 0;  // bytes the ops produce
  std::vector<DeltaOp> ops;
  std::vector<std::byte> literals;
  DeltaStats stats;

  // Checks internal consistency, overflow-safe: every op has length > 0,
  // op lengths sum to new_size, LITERAL lengths sum to literals.size(), and
  // every COPY lies inside [0, old_size). Errors (kCorrupt) name the op index
  // and field. Cost: O(ops).
  Status Validate() const;
};

}  // namespace ferry::delta
