// Framing (PROTOCOL.md "Framing"): after the 8-byte stream magic, each
// direction of a connection is a sequence of frames
//
//   u8 tag | u8 flags | u32 little-endian payload length | payload
//
// flags bit 0 (kFrameCompressed) says the payload is zstd output
// (compress.h); the other bits are reserved and must be 0. The payload
// length is at most the negotiated max_frame (kHandshakeMaxFrame until the
// handshake is done); a header announcing more is an error before any byte
// of the payload is buffered.
//
// Thread safety: FrameDecoder is thread-compatible (one reader per stream).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/base/status.h"

namespace ferry::protocol {

inline constexpr size_t kFrameHeaderSize = 6;
inline constexpr uint8_t kFrameCompressed = 1u << 0;
inline constexpr uint8_t kFrameKnownFlags = kFrameCompressed;
inline constexpr uint32_t kHandshakeMaxFrame = 4096;
inline constexpr uint32_t kMinMaxFrame = 64 * 1024;
inline constexpr uint32_t kDefaultMaxFrame = 1024 * 1024;
inline constexpr uint32_t kMaxMaxFrame = 16 * 1024 * 1024;

struct Frame {
  uint8_t tag = 0;
  uint8_t flags = 0;
  std::vector<std::byte> payload;
  bool operator==(const Frame&) const = default;
};

// Appends one frame to `out`. Errors: kInvalidArgument when the payload is
// longer than `max_payload` or flags has reserved bits (a caller bug).
Status AppendFrame(uint8_t tag, uint8_t flags, std::span<const std::byte> payload,
                   uint32_t max_payload, std::vector<std::byte>* out);

// Incremental decoder over a byte stream that arrives in arbitrary pieces.
// Memory: at most one frame (header + max_payload bytes), grown as the
// payload arrives, never by what a header claims.
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_payload) : max_payload_(max_payload) {}

  // Raises or lowers the limit for frames whose header has not been read yet
  // (after the handshake agrees on max_frame).
  void set_max_payload(uint32_t max_payload) { max_payload_ = max_payload; }
  uint32_t max_payload() const { return max_payload_; }

  // Consumes bytes of `in` up to the end of the current frame. When a frame
  // completes it is moved into *frame (otherwise *frame is reset); returns
  // the number of bytes consumed, so callers loop until `in` is used up.
  // Errors (kCorrupt; the stream is unusable afterwards): a payload length
  // above the limit, reserved flag bits set.
  Result<size_t> Feed(std::span<const std::byte> in, std::optional<Frame>* frame);

  // True between frames (no partial header or payload buffered).
  bool at_boundary() const { return header_len_ == 0 && !in_payload_; }

  // For end of stream: kCorrupt "connection closed in the middle of a frame
  // (...)" unless at a frame boundary.
  Status Finish() const;

 private:
  uint32_t max_payload_;
  std::byte header_[kFrameHeaderSize] = {};
  size_t header_len_ = 0;
  bool in_payload_ = false;
  uint32_t payload_len_ = 0;
  Frame current_;
  bool failed_ = false;
};

}  // namespace ferry::protocol
