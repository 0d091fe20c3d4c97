// zstd stream compression of frame payloads (-z, --compress-level;
// PROTOCOL.md "Compression").
//
// Each direction has one zstd stream for the whole session, so later
// messages reuse the history of earlier ones. Each compressed payload is the
// stream's output for exactly one message, ended with ZSTD_e_flush: the
// receiver can decode every frame as soon as it arrives, with no byte of the
// message held back in the sender's compressor.
//
// Decompression is bounded: a frame may decode to at most `max_output`
// bytes (the session's max_frame); more is an error (a decompression bomb),
// and the window a peer's stream may use is capped at 2^kMaxWindowLog bytes.
//
// Thread safety: thread-compatible; one Compressor per sending direction, one
// Decompressor per receiving direction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/base/status.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace ferry::protocol {

inline constexpr int kMaxWindowLog = 23;  // 8 MiB: what levels 1..19 use

class Compressor {
 public:
  // `level`: 1..19. Errors: kInvalidArgument for another level.
  static Result<std::unique_ptr<Compressor>> Create(int level);
  ~Compressor();

  // Compresses one message payload and flushes; replaces *out.
  Status CompressMessage(std::span<const std::byte> payload, std::vector<std::byte>* out);

 private:
  explicit Compressor(ZSTD_CCtx_s* cctx) : cctx_(cctx) {}
  ZSTD_CCtx_s* cctx_;
};

class Decompressor {
 public:
  static Result<std::unique_ptr<Decompressor>> Create(uint32_t max_output);
  ~Decompressor();

  // Decodes one compressed frame payload into *out (replaced). Errors
  // (kCorrupt; the stream is unusable afterwards): a zstd error (including a
  // window above 2^kMaxWindowLog) or output above max_output ("decompression
  // bomb"). A sender that did not flush yields a short payload, which the
  // codec then refuses as truncated.
  Status DecompressMessage(std::span<const std::byte> compressed, std::vector<std::byte>* out);

 private:
  Decompressor(ZSTD_DCtx_s* dctx, uint32_t max_output)
      : dctx_(dctx), max_output_(max_output) {}
  ZSTD_DCtx_s* dctx_;
  uint32_t max_output_;
  bool failed_ = false;
};

}  // namespace ferry::protocol
