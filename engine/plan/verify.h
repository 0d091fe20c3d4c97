// Verifier: the check a cutover runs after its final pass and before the
// switch hooks: every file of every path set compared by content hash and
// metadata. Any difference stops the cutover before the switch.
//
// The runner calls it through this function type so the implementation can
// change without touching the runner.
// TODO(ferry verify): swap ChecksumDryRunVerifier for engine/verify (`ferry
// verify`, being built), which hashes both trees with XXH3-128 and compares
// metadata without going through the sync planner.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/plan/compile.h"

namespace ferry::plan {

struct VerifyDifference {
  std::string path;  // relative to the path set's destination
  std::string what;  // rsync itemize string ("cf........." etc.) or a message
};

struct VerifyResult {
  std::vector<VerifyDifference> differences;  // empty: identical
  uint64_t files = 0;                          // regular files compared
  uint64_t bytes = 0;
};

// Compares t.src_path with t.dst_path (local endpoints). A Status when the
// comparison could not be done at all.
using Verifier = std::function<Result<VerifyResult>(const Transfer& t)>;

// A checksum dry run of the engine (SyncOptions checksum=true, dry_run=true,
// del=true, the path set's filter): every itemized change and every per-path
// error is a difference. Owners and groups are compared after t.ids maps
// them, as the sync that landed them did.
Result<VerifyResult> ChecksumDryRunVerifier(const Transfer& t);

}  // namespace ferry::plan
