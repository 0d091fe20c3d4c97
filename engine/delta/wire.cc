#include "engine/delta/wire.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace ferry::delta::wire {

void PutVarint(std::vector<std::byte>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::byte>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::byte>(v));
}

Status WireReader::Error(const std::string& message) const {
  return Corrupt(what_ + ": " + message);
}

Status WireReader::Varint(const char* field, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ == data_.size()) return Error(std::string(field) + " is truncated");
    const auto b = static_cast<uint8_t>(data_[pos_++]);
    // The 10th byte may only contribute the top bit of a 64-bit value.
    if (shift == 63 && b > 1) return Error(std::string(field) + " overflows 64 bits");
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return Status::Ok();
    }
  }
  return Error(std::string(field) + " varint is too long");
}

Status WireReader::Bytes(const char* field, size_t n,
                         std::span<const std::byte>* out) {
  if (n > remaining()) {
    return Error(std::string(field) + " needs " + std::to_string(n) +
                 " bytes but only " + std::to_string(remaining()) + " remain");
  }
  *out = data_.subspan(pos_, n);
  pos_ += n;
  return Status::Ok();
}

Result<std::vector<std::byte>> Seal(const std::array<char, 4>& magic,
                                    std::span<const std::byte> payload,
                                    int level) {
  std::vector<std::byte> out(4);
  std::memcpy(out.data(), magic.data(), 4);
  PutVarint(out, payload.size());
  const size_t header = out.size();
  out.resize(header + ZSTD_compressBound(payload.size()));
  const size_t n = ZSTD_compress(out.data() + header, out.size() - header,
                                 payload.data(), payload.size(), level);
  if (ZSTD_isError(n)) {
    return Internal(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  }
  out.resize(header + n);
  return out;
}

Result<std::vector<std::byte>> Unseal(const std::array<char, 4>& magic,
                                      std::span<const std::byte> encoded,
                                      uint64_t max_payload,
                                      const std::string& what) {
  WireReader r(encoded, what);
  std::span<const std::byte> m;
  RETURN_IF_ERROR(r.Bytes("magic", 4, &m));
  if (std::memcmp(m.data(), magic.data(), 4) != 0) return r.Error("bad magic");
  uint64_t size = 0;
  RETURN_IF_ERROR(r.Varint("payload_size", &size));
  if (size > max_payload) {
    return r.Error("payload_size " + std::to_string(size) + " exceeds the limit " +
                   std::to_string(max_payload));
  }
  std::span<const std::byte> frame;
  RETURN_IF_ERROR(r.Bytes("zstd frame", r.remaining(), &frame));

  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(),
                                                          &ZSTD_freeDCtx);
  if (!dctx) return Internal("zstd: out of memory");
  // Grow the output as it is produced; one spare byte past the declared size
  // detects a frame that decodes to more than was declared.
  const uint64_t cap = size + 1;
  std::vector<std::byte> out(std::min<uint64_t>(cap, 64 * 1024));
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  size_t produced = 0;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() == cap) break;
      out.resize(std::min<uint64_t>(cap, out.size() * 2));
    }
    ZSTD_outBuffer o{out.data(), out.size(), produced};
    const size_t in_before = in.pos;
    const size_t ret = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(ret)) {
      return r.Error(std::string("zstd frame: ") + ZSTD_getErrorName(ret));
    }
    const bool progress = o.pos != produced || in.pos != in_before;
    produced = o.pos;
    if (ret == 0) break;  // frame complete
    if (!progress) return r.Error("zstd frame is truncated");
  }
  if (produced > size) {
    return r.Error("payload decodes to more than the declared " +
                   std::to_string(size) + " bytes");
  }
  if (produced < size) {
    return r.Error("payload decodes to only " + std::to_string(produced) +
                   " bytes, declared " + std::to_string(size));
  }
  if (in.pos != in.size) return r.Error("trailing bytes after the zstd frame");
  out.resize(produced);
  return out;
}

}  // namespace ferry::delta::wire
