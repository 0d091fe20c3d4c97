#include "engine/delta/delta_codec.h"

#include <array>
#include <cstring>
#include <string>

#include "engine/delta/wire.h"

namespace ferry::delta {

namespace {
constexpr std::array<char, 4> kMagic = {'F', 'D', 'L', '1'};
constexpr uint64_t kMaxOpLength = uint64_t{1} << 62;  // so length << 1 fits
}  // namespace

Result<std::vector<std::byte>> EncodeDelta(const Delta& delta, int zstd_level) {
  RETURN_IF_ERROR(delta.Validate());
  std::vector<std::byte> payload;
  payload.reserve(32 + delta.ops.size() * 4 + delta.literals.size());
  wire::PutVarint(payload, delta.old_size);
  wire::PutVarint(payload, delta.new_size);
  wire::PutVarint(payload, delta.ops.size());
  wire::PutVarint(payload, delta.literals.size());
  uint64_t expected = 0;
  for (const DeltaOp& op : delta.ops) {
    if (op.length >= kMaxOpLength) {
      return InvalidArgument("delta op length " + std::to_string(op.length) +
                             " is too large to encode");
    }
    const bool copy = op.kind == OpKind::kCopy;
    wire::PutVarint(payload, op.length << 1 | (copy ? 1 : 0));
    if (copy) {
      wire::PutVarint(payload, wire::ZigZag(static_cast<int64_t>(op.old_offset - expected)));
      expected = op.old_offset + op.length;
    }
  }
  payload.insert(payload.end(), delta.literals.begin(), delta.literals.end());
  return wire::Seal(kMagic, payload, zstd_level);
}

Result<Delta> DecodeDelta(std::span<const std::byte> encoded,
                          uint64_t max_decoded) {
  ASSIGN_OR_RETURN(std::vector<std::byte> payload,
                   wire::Unseal(kMagic, encoded, max_decoded, "delta"));
  wire::WireReader r(payload, "delta");
  Delta delta;
  uint64_t op_count = 0;
  uint64_t literal_size = 0;
  RETURN_IF_ERROR(r.Varint("old_size", &delta.old_size));
  RETURN_IF_ERROR(r.Varint("new_size", &delta.new_size));
  RETURN_IF_ERROR(r.Varint("op_count", &op_count));
  RETURN_IF_ERROR(r.Varint("literal_size", &literal_size));
  // Each op takes at least one byte, so a count beyond the remaining input
  // is a lie; checking first bounds the reserve below.
  if (op_count > r.remaining()) {
    return r.Error("op_count " + std::to_string(op_count) + " exceeds the " +
                   std::to_string(r.remaining()) + " remaining bytes");
  }
  if (literal_size > r.remaining()) {
    return r.Error("literal_size " + std::to_string(literal_size) +
                   " exceeds the " + std::to_string(r.remaining()) +
                   " remaining bytes");
  }
  delta.ops.reserve(op_count);
  uint64_t expected = 0;
  for (uint64_t i = 0; i < op_count; ++i) {
    uint64_t tagged = 0;
    RETURN_IF_ERROR(r.Varint("op length", &tagged));
    DeltaOp op;
    op.length = tagged >> 1;
    if (op.length == 0) {
      return r.Error("op " + std::to_string(i) + " has length 0");
    }
    if (tagged & 1) {
      op.kind = OpKind::kCopy;
      uint64_t zz = 0;
      RETURN_IF_ERROR(r.Varint("copy offset", &zz));
      // Wrapping arithmetic; the range check below catches nonsense.
      op.old_offset = expected + static_cast<uint64_t>(wire::UnZigZag(zz));
      if (op.old_offset > delta.old_size ||
          op.length > delta.old_size - op.old_offset) {
        return r.Error("op " + std::to_string(i) + " COPY old_offset " +
                       std::to_string(op.old_offset) + " + length " +
                       std::to_string(op.length) + " is outside old_size " +
                       std::to_string(delta.old_size));
      }
      expected = op.old_offset + op.length;
      delta.stats.matched_bytes += op.length;
    } else {
      op.kind = OpKind::kLiteral;
      delta.stats.literal_bytes += op.length;  // checked by Validate below
    }
    delta.ops.push_back(op);
  }
  if (r.remaining() != literal_size) {
    return r.Error("literal_size " + std::to_string(literal_size) + " but " +
                   std::to_string(r.remaining()) + " bytes remain");
  }
  std::span<const std::byte> lit;
  RETURN_IF_ERROR(r.Bytes("literals", literal_size, &lit));
  delta.literals.assign(lit.begin(), lit.end());
  RETURN_IF_ERROR(delta.Validate());
  return delta;
}

}  // namespace ferry::delta
