// The primitive field encodings of protocol v1 (PROTOCOL.md "Primitives"):
// LEB128 varints, zigzag signed varints, fixed little-endian integers and
// length-prefixed byte strings.
//
// Reader faces hostile input: every read is bounds-checked, every length is
// checked against both a caller-given maximum and the bytes that remain
// before anything is allocated, and each error (kCorrupt) names the message
// and the field: "FileEntry: path length 5000 exceeds 4095".
//
// Thread safety: Writer and Reader are local values over caller-owned memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace ferry::protocol {

class Writer {
 public:
  explicit Writer(std::vector<std::byte>* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<std::byte>(v)); }
  void Varint(uint64_t v);
  void Signed(int64_t v);  // zigzag varint
  void FixedLE(uint64_t v, int bytes);
  void Raw(std::span<const std::byte> b) { out_->insert(out_->end(), b.begin(), b.end()); }
  void String(std::string_view s);  // varint length + bytes
  void Bytes(std::span<const std::byte> b);  // varint length + bytes

 private:
  std::vector<std::byte>* out_;
};

class Reader {
 public:
  // `message` prefixes every error ("FileEntry").
  Reader(std::span<const std::byte> data, std::string message)
      : data_(data), message_(std::move(message)) {}

  size_t remaining() const { return data_.size() - pos_; }

  Status U8(const char* field, uint8_t* v);
  Status Varint(const char* field, uint64_t* v);
  // A varint that must be <= max ("<field> 70000 exceeds 65535").
  Status VarintMax(const char* field, uint64_t max, uint64_t* v);
  Status U32(const char* field, uint32_t max, uint32_t* v);  // varint <= max
  Status Signed(const char* field, int64_t* v);
  Status FixedLE(const char* field, int bytes, uint64_t* v);
  // Exactly n bytes (a short field is an error, never padded).
  Status Raw(const char* field, size_t n, std::span<const std::byte>* out);
  // varint length (<= max_len and <= remaining) + bytes.
  Status String(const char* field, size_t max_len, std::string* out);
  Status Bytes(const char* field, size_t max_len, std::vector<std::byte>* out);
  // Fails unless every byte was consumed ("N trailing bytes").
  Status ExpectEnd();

  Status Error(const std::string& what) const;  // kCorrupt "<message>: <what>"

 private:
  std::span<const std::byte> data_;
  size_t pos_ = 0;
  std::string message_;
};

}  // namespace ferry::protocol
