#include "engine/delta/signature.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "engine/base/hash.h"
#include "engine/delta/block_size.h"
#include "engine/delta/parallel.h"
#include "engine/delta/rolling_checksum.h"

namespace ferry::delta {

SignatureParams DefaultSignatureParams(uint64_t file_size) {
  return SignatureParams{ChooseBlockSize(file_size), ChooseStrongLen(file_size)};
}

uint64_t BlockCount(uint64_t file_size, uint32_t block_size) {
  return file_size / block_size + (file_size % block_size != 0 ? 1 : 0);
}

uint32_t Signature::block_length(size_t i) const {
  const uint64_t start = static_cast<uint64_t>(i) * block_size;
  return static_cast<uint32_t>(std::min<uint64_t>(block_size, file_size - start));
}

Status ValidateParams(const SignatureParams& params) {
  if (params.block_size == 0) {
    return InvalidArgument("signature block_size is 0 (must be > 0)");
  }
  if (params.strong_len < kMinStrongLen || params.strong_len > kMaxStrongLen) {
    return InvalidArgument("signature strong_len is " +
                           std::to_string(params.strong_len) +
                           " (must be 1..16)");
  }
  return Status::Ok();
}

Status Signature::Validate() const {
  RETURN_IF_ERROR(ValidateParams({block_size, strong_len}));
  const uint64_t expected = BlockCount(file_size, block_size);
  if (weak.size() != expected) {
    return InvalidArgument(
        "signature block count " + std::to_string(weak.size()) +
        " does not match file_size " + std::to_string(file_size) +
        " / block_size " + std::to_string(block_size) + " (expected " +
        std::to_string(expected) + ")");
  }
  if (strong.size() != weak.size() * strong_len) {
    return InvalidArgument("signature strong hash bytes " +
                           std::to_string(strong.size()) + " != block count " +
                           std::to_string(weak.size()) + " * strong_len " +
                           std::to_string(strong_len));
  }
  return Status::Ok();
}

void StrongHash(std::span<const std::byte> block, std::span<uint8_t> out) {
  // HashBytes: the XXH3 build chosen for this CPU; the bytes are xxhash's
  // canonical form of the same value.
  const Hash128 h = HashBytes(block);
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH128_hash_t{h.lo, h.hi});
  std::memcpy(out.data(), c.digest, std::min(out.size(), sizeof c.digest));
}

Result<Signature> ComputeSignature(std::span<const std::byte> old_data,
                                   SignatureParams params, int threads) {
  RETURN_IF_ERROR(ValidateParams(params));
  Signature sig;
  sig.file_size = old_data.size();
  sig.block_size = params.block_size;
  sig.strong_len = params.strong_len;
  const uint64_t count = BlockCount(old_data.size(), params.block_size);
  sig.weak.resize(count);
  sig.strong.resize(count * params.strong_len);

  auto hash_blocks = [&](size_t first, size_t last) {
    for (size_t i = first; i < last; ++i) {
      auto block = old_data.subspan(i * params.block_size, sig.block_length(i));
      sig.weak[i] = WeakSum(block);
      StrongHash(block, {sig.strong.data() + i * params.strong_len,
                         params.strong_len});
    }
  };
  // Chunks of at least ~1 MiB keep scheduling overhead negligible.
  const size_t grain =
      std::max<size_t>(1, (size_t{1} << 20) / params.block_size);
  if (threads == 1 || count <= grain) {
    hash_blocks(0, count);
  } else {
    RunWithThreads(threads, [&] {
      tbb::parallel_for(tbb::blocked_range<size_t>(0, count, grain),
                        [&](const tbb::blocked_range<size_t>& r) {
                          hash_blocks(r.begin(), r.end());
                        });
    });
  }
  return sig;
}

}  // namespace ferry::delta
