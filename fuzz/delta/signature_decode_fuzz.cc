// Proves: DecodeSignature on arbitrary bytes never crashes, reads out of bounds or over-allocates, and every signature it accepts is valid, re-encodes identically, and drives ComputeDelta (1 and 3 threads) to a valid delta of the right sizes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "engine/delta/matcher.h"
#include "engine/delta/signature_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  using namespace ferry::delta;
  auto in = std::as_bytes(std::span(data, size));
  Result<Signature> sig = DecodeSignature(in, 1 << 20);
  if (!sig.ok()) return 0;
  if (!sig->Validate().ok()) std::abort();
  Result<std::vector<std::byte>> again = EncodeSignature(*sig, 1);
  if (!again.ok()) std::abort();
  Result<Signature> back = DecodeSignature(*again, 2 << 20);
  if (!back.ok() || back->weak != sig->weak || back->strong != sig->strong ||
      back->file_size != sig->file_size || back->block_size != sig->block_size) {
    std::abort();
  }
  // Match the input itself (a window over bytes that produced these sums is
  // likely to hit some of them) serially and with stitched segments.
  for (int segments : {1, 3}) {
    Result<Delta> d = ComputeDelta(*sig, in, MatcherOptions{segments, static_cast<uint64_t>(segments)});
    if (!d.ok() || !d->Validate().ok() || d->new_size != size ||
        d->old_size != sig->file_size) {
      std::abort();
    }
  }
  return 0;
}
