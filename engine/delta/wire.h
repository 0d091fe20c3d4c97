// Internal helpers shared by the delta and signature codecs: LEB128 varints,
// a bounds-checked reader whose errors name the field, and zstd framing with
// a decompressed-size limit.
//
// Envelope of every encoded object:
//   magic (4 bytes) | varint payload_size | one zstd frame of the payload
// The decoder never allocates more than it has actually decompressed (the
// buffer grows as output arrives, capped at the declared size), so a tiny
// hostile message cannot claim a huge allocation.
//
// Thread safety: free functions are reentrant; WireReader is a local value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace ferry::delta::wire {

void PutVarint(std::vector<std::byte>& out, uint64_t v);
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

class WireReader {
 public:
  WireReader(std::span<const std::byte> data, std::string what)
      : data_(data), what_(std::move(what)) {}
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  // kCorrupt "<what>: <field> is truncated" / "... varint is too long".
  Status Varint(const char* field, uint64_t* v);
  Status Bytes(const char* field, size_t n, std::span<const std::byte>* out);
  Status Error(const std::string& message) const;

 private:
  std::span<const std::byte> data_;
  size_t pos_ = 0;
  std::string what_;
};

// Envelope: magic + varint size + zstd frame of `payload` at `level`.
Result<std::vector<std::byte>> Seal(const std::array<char, 4>& magic,
                                    std::span<const std::byte> payload,
                                    int level);

// Checks the magic, reads the declared size (rejecting sizes above
// `max_payload`) and decompresses exactly one frame that must fill exactly
// the declared size and end exactly at the end of `encoded`.
Result<std::vector<std::byte>> Unseal(const std::array<char, 4>& magic,
                                      std::span<const std::byte> encoded,
                                      uint64_t max_payload,
                                      const std::string& what);

}  // namespace ferry::delta::wire
