#include "engine/probe/cpu_probe.h"

#include <zstd.h>

#include <chrono>
#include <span>
#include <vector>

#include "engine/base/hash.h"
#include "engine/delta/matcher.h"
#include "engine/delta/signature.h"
#include "engine/probe/sample_data.h"

namespace ferry::probe {

namespace {

// Runs body until min_seconds pass (at least once); returns bytes_per_call
// times calls per second.
template <typename F>
Result<double> Rate(double min_seconds, size_t bytes_per_call, F body) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  uint64_t calls = 0;
  double el = 0;
  do {
    RETURN_IF_ERROR(body());
    ++calls;
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (el < min_seconds);
  return static_cast<double>(bytes_per_call) * static_cast<double>(calls) / std::max(el, 1e-9);
}

}  // namespace

Result<CpuResult> MeasureCpu(size_t n, double min_seconds) {
  if (n == 0) return InvalidArgument("CPU probe buffer must be at least 1 byte");
  CpuResult r;
  r.buffer_bytes = n;
  const std::vector<std::byte> data = TextLikeData(n);
  std::span<const std::byte> span(data);

  volatile uint64_t sink = 0;
  ASSIGN_OR_RETURN(r.hash_bps, Rate(min_seconds, n, [&] {
                     sink = sink + HashBytes(span).lo;
                     return Status::Ok();
                   }));

  // A delta pass: the receiver's signature of its old copy, the sender's
  // match of the edited new copy against it.
  const std::vector<std::byte> edited = EditedCopy(data, 64);
  delta::SignatureParams params = delta::DefaultSignatureParams(n);
  delta::Delta out;
  ASSIGN_OR_RETURN(r.delta_bps, Rate(min_seconds, n, [&]() -> Status {
                     ASSIGN_OR_RETURN(delta::Signature sig, delta::ComputeSignature(span, params, 1));
                     return delta::ComputeDeltaInto(sig, edited, delta::MatcherOptions{1, 0}, &out);
                   }));

  r.zstd_level = ZSTD_CLEVEL_DEFAULT;
  std::vector<char> z(ZSTD_compressBound(n));
  size_t zn = 0;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (!cctx || !dctx) {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    return Internal("zstd: out of memory");
  }
  auto compress = Rate(min_seconds, n, [&]() -> Status {
    zn = ZSTD_compressCCtx(cctx, z.data(), z.size(), data.data(), n, r.zstd_level);
    if (ZSTD_isError(zn)) return Internal(std::string("zstd compress: ") + ZSTD_getErrorName(zn));
    return Status::Ok();
  });
  std::vector<std::byte> back(n);
  auto decompress = compress.ok() ? Rate(min_seconds, n, [&]() -> Status {
    size_t m = ZSTD_decompressDCtx(dctx, back.data(), n, z.data(), zn);
    if (ZSTD_isError(m) || m != n) return Internal("zstd decompress: round trip failed");
    return Status::Ok();
  }) : Result<double>(compress.status());
  ZSTD_freeCCtx(cctx);
  ZSTD_freeDCtx(dctx);
  ASSIGN_OR_RETURN(r.zstd_compress_bps, std::move(compress));
  ASSIGN_OR_RETURN(r.zstd_decompress_bps, std::move(decompress));
  r.zstd_ratio = static_cast<double>(n) / static_cast<double>(std::max<size_t>(zn, 1));
  return r;
}

}  // namespace ferry::probe
