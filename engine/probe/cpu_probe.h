// CPU probes for `ferry bench`: per-core throughput of the compute kernels a
// sync runs on every byte it considers - the XXH3-128 content hash (-c,
// checks), the delta engine (signature of the old copy + matching the new
// data against it), and zstd at its default level (the transport's stream
// compression).
//
// Each probe runs its kernel on one thread over in-memory sample data
// (sample_data.h) until at least `min_seconds` have passed and reports bytes
// of input per second. Multiply by cores for a machine-wide bound; the
// kernels scale (bench/results/delta.md).
//
// Thread safety: independent calls; each uses only the calling thread.
#pragma once

#include <cstddef>

#include "engine/base/status.h"

namespace ferry::probe {

struct CpuResult {
  double hash_bps = 0;              // XXH3-128 over buffer_bytes
  double delta_bps = 0;             // signature + matcher, per input byte
  int zstd_level = 0;               // ZSTD_CLEVEL_DEFAULT
  double zstd_compress_bps = 0;     // input bytes per second
  double zstd_decompress_bps = 0;   // output (original) bytes per second
  double zstd_ratio = 0;            // original / compressed, on the sample
  size_t buffer_bytes = 0;
};

// buffer_bytes > 0: size of the sample each kernel runs over (16 MiB is
// representative and stays in a few ms per iteration). min_seconds >= 0.
Result<CpuResult> MeasureCpu(size_t buffer_bytes, double min_seconds);

}  // namespace ferry::probe
