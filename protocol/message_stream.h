// Messages <-> frames for one direction of a session: the codec (codec.h),
// optional zstd stream compression (compress.h) and framing (frame.h) glued
// in the order PROTOCOL.md fixes:
//
//   send:    Message -> codec payload -> [zstd, flushed] -> frame
//   receive: frame -> [bounded zstd] -> codec decode (range checks) -> Message
//
// Only bulk messages are compressed (IsCompressible), and only when their
// payload is at least kCompressMinPayload bytes; the decision depends on the
// type and size alone, so both sides' zstd streams stay in step.
//
// Thread safety: thread-compatible (one writer and one reader per direction).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/base/status.h"
#include "protocol/codec.h"
#include "protocol/compress.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace ferry::protocol {

inline constexpr size_t kCompressMinPayload = 64;

// FileEntry, FileData, DeltaOps, MetadataUpdate: the types that may carry
// the compressed flag. Any other type with the flag is a protocol error.
bool IsCompressible(uint8_t tag);

// The largest uncompressed payload a sender may put in one message so that
// its frame (compressed or not) fits `max_frame`. Senders split whole-file
// data, delta ops and signature blocks into messages of at most this size.
size_t MaxMessagePayload(uint32_t max_frame, bool compression);

class MessageWriter {
 public:
  // `codec` must outlive the writer; `compressor` may be null (no -z).
  MessageWriter(const Codec* codec, uint32_t max_frame, Compressor* compressor)
      : codec_(codec), max_frame_(max_frame), compressor_(compressor) {}

  size_t max_payload() const { return MaxMessagePayload(max_frame_, compressor_ != nullptr); }

  // Appends the frame of `m` to *out. Errors: kInvalidArgument when the
  // payload exceeds max_payload() (the caller must chunk), codec errors.
  Status Append(const Message& m, std::vector<std::byte>* out);

 private:
  const Codec* codec_;
  uint32_t max_frame_;
  Compressor* compressor_;
  std::vector<std::byte> payload_;
  std::vector<std::byte> packed_;
};

class MessageReader {
 public:
  // `decompressor` may be null: then a compressed frame is an error.
  MessageReader(const Codec* codec, Decompressor* decompressor)
      : codec_(codec), decompressor_(decompressor) {}

  // Decodes a frame from FrameDecoder. Errors (kCorrupt): a compressed flag
  // on a type that is not compressible or without negotiated compression,
  // decompression errors, codec errors.
  Result<Message> Decode(const Frame& frame);

 private:
  const Codec* codec_;
  Decompressor* decompressor_;
  std::vector<std::byte> plain_;
};

}  // namespace ferry::protocol
