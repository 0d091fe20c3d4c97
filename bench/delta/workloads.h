// Benchmark workloads for the delta engine: deterministic old/new pairs.
//   identical:  random old file, new == old
//   pages:      random old file; 1% of its 16 KiB pages rewritten at random
//   text:       a text dump (SQL-like lines); lines inserted and deleted in
//               its first MiB, so everything after shifts
//   nomatch:    two unrelated random files (the pure rolling scan)
// Also used by delta_workloads (writes them to disk for the rsync comparison).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ferry::delta::bench {

using Bytes = std::vector<std::byte>;

struct Workload {
  std::string name;
  Bytes old_data;
  Bytes new_data;
};

inline constexpr size_t kWorkloadSize = size_t{64} << 20;

Workload MakeIdentical(size_t size = kWorkloadSize);
Workload MakePages(size_t size = kWorkloadSize);
Workload MakeText(size_t size = kWorkloadSize);
Workload MakeNoMatch(size_t size = kWorkloadSize);

// rsync's block-size rule (generator.c): floor(sqrt(size)) rounded down to a
// multiple of 8, within [700, 128 KiB]. For comparisons only.
uint32_t RsyncBlockSize(uint64_t size);

}  // namespace ferry::delta::bench
