#include "protocol/wire_format.h"

#include <cstring>

namespace ferry::protocol {

void Writer::Varint(uint64_t v) {
  while (v >= 0x80) {
    U8(static_cast<uint8_t>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  U8(static_cast<uint8_t>(v));
}

void Writer::Signed(int64_t v) {
  Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Writer::FixedLE(uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
}

void Writer::String(std::string_view s) {
  Varint(s.size());
  Raw(std::as_bytes(std::span(s.data(), s.size())));
}

void Writer::Bytes(std::span<const std::byte> b) {
  Varint(b.size());
  Raw(b);
}

Status Reader::Error(const std::string& what) const {
  return Corrupt(message_ + ": " + what);
}

Status Reader::U8(const char* field, uint8_t* v) {
  if (remaining() < 1) return Error(std::string(field) + " is truncated");
  *v = static_cast<uint8_t>(data_[pos_++]);
  return Status::Ok();
}

Status Reader::Varint(const char* field, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ == data_.size()) return Error(std::string(field) + " is truncated");
    const auto b = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && b > 1) return Error(std::string(field) + " overflows 64 bits");
    result |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return Status::Ok();
    }
  }
  return Error(std::string(field) + " varint is too long");
}

Status Reader::VarintMax(const char* field, uint64_t max, uint64_t* v) {
  uint64_t x = 0;
  RETURN_IF_ERROR(Varint(field, &x));
  if (x > max) {
    return Error(std::string(field) + " " + std::to_string(x) + " exceeds " +
                 std::to_string(max));
  }
  *v = x;
  return Status::Ok();
}

Status Reader::U32(const char* field, uint32_t max, uint32_t* v) {
  uint64_t x = 0;
  RETURN_IF_ERROR(VarintMax(field, max, &x));
  *v = static_cast<uint32_t>(x);
  return Status::Ok();
}

Status Reader::Signed(const char* field, int64_t* v) {
  uint64_t x = 0;
  RETURN_IF_ERROR(Varint(field, &x));
  *v = static_cast<int64_t>(x >> 1) ^ -static_cast<int64_t>(x & 1);
  return Status::Ok();
}

Status Reader::FixedLE(const char* field, int bytes, uint64_t* v) {
  std::span<const std::byte> b;
  RETURN_IF_ERROR(Raw(field, static_cast<size_t>(bytes), &b));
  uint64_t x = 0;
  for (int i = 0; i < bytes; ++i) x |= static_cast<uint64_t>(b[i]) << (8 * i);
  *v = x;
  return Status::Ok();
}

Status Reader::Raw(const char* field, size_t n, std::span<const std::byte>* out) {
  if (n > remaining()) {
    return Error(std::string(field) + " needs " + std::to_string(n) +
                 " bytes but only " + std::to_string(remaining()) + " remain");
  }
  *out = data_.subspan(pos_, n);
  pos_ += n;
  return Status::Ok();
}

Status Reader::String(const char* field, size_t max_len, std::string* out) {
  uint64_t n = 0;
  RETURN_IF_ERROR(VarintMax((std::string(field) + " length").c_str(), max_len, &n));
  std::span<const std::byte> b;
  RETURN_IF_ERROR(Raw(field, n, &b));
  out->assign(reinterpret_cast<const char*>(b.data()), b.size());
  return Status::Ok();
}

Status Reader::Bytes(const char* field, size_t max_len, std::vector<std::byte>* out) {
  uint64_t n = 0;
  RETURN_IF_ERROR(VarintMax((std::string(field) + " length").c_str(), max_len, &n));
  std::span<const std::byte> b;
  RETURN_IF_ERROR(Raw(field, n, &b));
  out->assign(b.begin(), b.end());
  return Status::Ok();
}

Status Reader::ExpectEnd() {
  if (remaining() != 0) {
    return Error(std::to_string(remaining()) + " trailing bytes after the last field");
  }
  return Status::Ok();
}

}  // namespace ferry::protocol
