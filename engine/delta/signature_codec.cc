#include "engine/delta/signature_codec.h"

#include <array>
#include <cstring>
#include <string>

#include "engine/delta/wire.h"

namespace ferry::delta {

namespace {
constexpr std::array<char, 4> kMagic = {'F', 'S', 'G', '1'};
}  // namespace

Result<std::vector<std::byte>> EncodeSignature(const Signature& sig,
                                               int zstd_level) {
  RETURN_IF_ERROR(sig.Validate());
  if (sig.block_size > kMaxWireBlockSize) {
    return InvalidArgument("signature block_size " +
                           std::to_string(sig.block_size) + " exceeds " +
                           std::to_string(kMaxWireBlockSize));
  }
  std::vector<std::byte> payload;
  payload.reserve(24 + sig.weak.size() * 4 + sig.strong.size());
  wire::PutVarint(payload, sig.file_size);
  wire::PutVarint(payload, sig.block_size);
  wire::PutVarint(payload, sig.strong_len);
  for (uint32_t w : sig.weak) {
    for (int s = 0; s < 32; s += 8) payload.push_back(static_cast<std::byte>(w >> s));
  }
  const auto* strong = reinterpret_cast<const std::byte*>(sig.strong.data());
  payload.insert(payload.end(), strong, strong + sig.strong.size());
  return wire::Seal(kMagic, payload, zstd_level);
}

Result<Signature> DecodeSignature(std::span<const std::byte> encoded,
                                  uint64_t max_decoded) {
  ASSIGN_OR_RETURN(std::vector<std::byte> payload,
                   wire::Unseal(kMagic, encoded, max_decoded, "signature"));
  wire::WireReader r(payload, "signature");
  uint64_t file_size = 0;
  uint64_t block_size = 0;
  uint64_t strong_len = 0;
  RETURN_IF_ERROR(r.Varint("file_size", &file_size));
  RETURN_IF_ERROR(r.Varint("block_size", &block_size));
  RETURN_IF_ERROR(r.Varint("strong_len", &strong_len));
  if (block_size == 0 || block_size > kMaxWireBlockSize) {
    return r.Error("block_size " + std::to_string(block_size) +
                   " is outside 1.." + std::to_string(kMaxWireBlockSize));
  }
  if (strong_len < 1 || strong_len > 16) {
    return r.Error("strong_len " + std::to_string(strong_len) +
                   " is outside 1..16");
  }
  const uint64_t count = BlockCount(file_size, static_cast<uint32_t>(block_size));
  // count * (4 + strong_len) cannot overflow unless count is absurd, and an
  // absurd count cannot match the (already bounded) payload anyway.
  const uint64_t per_block = 4 + strong_len;
  if (count > r.remaining() / per_block || count * per_block != r.remaining()) {
    return r.Error("block count " + std::to_string(count) + " (file_size " +
                   std::to_string(file_size) + " / block_size " +
                   std::to_string(block_size) + ") does not match the " +
                   std::to_string(r.remaining()) + " bytes of sums");
  }
  Signature sig;
  sig.file_size = file_size;
  sig.block_size = static_cast<uint32_t>(block_size);
  sig.strong_len = static_cast<uint32_t>(strong_len);
  std::span<const std::byte> weak_bytes;
  std::span<const std::byte> strong_bytes;
  RETURN_IF_ERROR(r.Bytes("weak sums", count * 4, &weak_bytes));
  RETURN_IF_ERROR(r.Bytes("strong sums", count * strong_len, &strong_bytes));
  sig.weak.resize(count);
  const auto* w = reinterpret_cast<const uint8_t*>(weak_bytes.data());
  for (uint64_t i = 0; i < count; ++i, w += 4) {
    sig.weak[i] = uint32_t{w[0]} | uint32_t{w[1]} << 8 | uint32_t{w[2]} << 16 |
                  uint32_t{w[3]} << 24;
  }
  const auto* s = reinterpret_cast<const uint8_t*>(strong_bytes.data());
  sig.strong.assign(s, s + strong_bytes.size());
  RETURN_IF_ERROR(sig.Validate());
  return sig;
}

}  // namespace ferry::delta
