// Proves: DecodeDelta on arbitrary bytes never crashes, reads out of bounds or over-allocates, and every delta it accepts applies to an old file of its declared size producing exactly new_size bytes and re-encodes to an equal delta.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "engine/delta/delta_codec.h"
#include "engine/delta/patch.h"

namespace {
constexpr uint64_t kMaxDecoded = 1 << 20;
constexpr uint64_t kMaxOld = 1 << 20;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  using namespace ferry::delta;
  auto in = std::as_bytes(std::span(data, size));
  Result<Delta> d = DecodeDelta(in, kMaxDecoded);
  if (!d.ok()) return 0;
  if (!d->Validate().ok()) std::abort();
  if (d->old_size <= kMaxOld) {
    std::vector<std::byte> old_data(d->old_size);
    for (size_t i = 0; i < old_data.size(); ++i) old_data[i] = std::byte(i * 131);
    uint64_t produced = 0;
    Status s = ApplyDelta(
        old_data, *d,
        [&](std::span<const std::byte> chunk) {
          produced += chunk.size();
          return Status::Ok();
        },
        nullptr);
    if (!s.ok() || produced != d->new_size) std::abort();
  }
  Result<std::vector<std::byte>> again = EncodeDelta(*d, 1);
  if (!again.ok()) std::abort();
  Result<Delta> back = DecodeDelta(*again, kMaxDecoded + 1024);
  if (!back.ok() || back->ops != d->ops || back->literals != d->literals ||
      back->new_size != d->new_size || back->old_size != d->old_size) {
    std::abort();
  }
  return 0;
}
