#include "protocol/compress.h"

#include <zstd.h>

#include <algorithm>
#include <string>

namespace ferry::protocol {

Result<std::unique_ptr<Compressor>> Compressor::Create(int level) {
  if (level < 1 || level > 19) {
    return InvalidArgument("--compress-level " + std::to_string(level) +
                           " is outside 1..19");
  }
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (cctx == nullptr) return Internal("zstd: out of memory");
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  // Levels 1..19 never use a window above 2^23 (kMaxWindowLog) for a
  // stream of unknown size, so the peer's cap is never hit.
  return std::unique_ptr<Compressor>(new Compressor(cctx));
}

Compressor::~Compressor() { ZSTD_freeCCtx(cctx_); }

Status Compressor::CompressMessage(std::span<const std::byte> payload,
                                   std::vector<std::byte>* out) {
  out->clear();
  out->resize(ZSTD_compressBound(payload.size()) + 64);
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  ZSTD_outBuffer o{out->data(), out->size(), 0};
  for (;;) {
    const size_t left = ZSTD_compressStream2(cctx_, &o, &in, ZSTD_e_flush);
    if (ZSTD_isError(left)) {
      return Internal(std::string("zstd compress: ") + ZSTD_getErrorName(left));
    }
    if (left == 0) break;
    // Flush data pending beyond our buffer: grow it and continue.
    out->resize(out->size() * 2);
    o.dst = out->data();
    o.size = out->size();
  }
  out->resize(o.pos);
  return Status::Ok();
}

Result<std::unique_ptr<Decompressor>> Decompressor::Create(uint32_t max_output) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (dctx == nullptr) return Internal("zstd: out of memory");
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, kMaxWindowLog);
  return std::unique_ptr<Decompressor>(new Decompressor(dctx, max_output));
}

Decompressor::~Decompressor() { ZSTD_freeDCtx(dctx_); }

Status Decompressor::DecompressMessage(std::span<const std::byte> compressed,
                                       std::vector<std::byte>* out) {
  if (failed_) return Corrupt("compressed stream: already failed");
  // One spare byte past the limit detects output beyond it.
  const size_t cap = size_t{max_output_} + 1;
  out->clear();
  out->resize(std::min<size_t>(cap, 64 * 1024));
  ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
  ZSTD_outBuffer o{out->data(), out->size(), 0};
  for (;;) {
    const size_t in_before = in.pos;
    const size_t out_before = o.pos;
    const size_t ret = ZSTD_decompressStream(dctx_, &o, &in);
    if (ZSTD_isError(ret)) {
      failed_ = true;
      return Corrupt(std::string("compressed frame: zstd: ") + ZSTD_getErrorName(ret));
    }
    if (o.pos > max_output_) {
      failed_ = true;
      return Corrupt("compressed frame decodes to more than the maximum frame size " +
                     std::to_string(max_output_) + " (decompression bomb)");
    }
    if (in.pos == in_before && o.pos == out_before && o.pos < o.size) {
      failed_ = true;
      return Corrupt("compressed frame: zstd made no progress");
    }
    if (o.pos == o.size) {
      // Output buffer full: zstd may hold more; grow up to the cap.
      const size_t grown = std::min(cap, out->size() * 2);
      out->reserve(grown);  // exact: never beyond the cap
      out->resize(grown);
      o.dst = out->data();
      o.size = out->size();
      continue;
    }
    // Output not full: zstd flushed all it could from the input it took.
    if (in.pos == in.size) break;
  }
  out->resize(o.pos);
  return Status::Ok();
}

}  // namespace ferry::protocol
