#include "protocol/frame.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "protocol/messages.h"

namespace ferry::protocol {

Status AppendFrame(uint8_t tag, uint8_t flags, std::span<const std::byte> payload,
                   uint32_t max_payload, std::vector<std::byte>* out) {
  if (payload.size() > max_payload) {
    return InvalidArgument(TypeName(tag) + " payload of " +
                           std::to_string(payload.size()) +
                           " bytes exceeds the frame limit " +
                           std::to_string(max_payload));
  }
  if ((flags & ~kFrameKnownFlags) != 0) {
    return InvalidArgument("frame flags 0x" + std::to_string(flags) +
                           " have reserved bits set");
  }
  const auto n = static_cast<uint32_t>(payload.size());
  out->push_back(static_cast<std::byte>(tag));
  out->push_back(static_cast<std::byte>(flags));
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<std::byte>(n >> (8 * i)));
  out->insert(out->end(), payload.begin(), payload.end());
  return Status::Ok();
}

Result<size_t> FrameDecoder::Feed(std::span<const std::byte> in,
                                  std::optional<Frame>* frame) {
  frame->reset();
  if (failed_) return Corrupt("frame stream: already failed");
  size_t used = 0;
  if (!in_payload_) {
    const size_t take = std::min(kFrameHeaderSize - header_len_, in.size());
    std::memcpy(header_ + header_len_, in.data(), take);
    header_len_ += take;
    used += take;
    if (header_len_ < kFrameHeaderSize) return used;
    const auto tag = static_cast<uint8_t>(header_[0]);
    const auto flags = static_cast<uint8_t>(header_[1]);
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(header_[2 + i]) << (8 * i);
    if (len > max_payload_) {
      failed_ = true;
      return Corrupt("frame: " + TypeName(tag) + " payload length " +
                     std::to_string(len) + " exceeds the maximum frame size " +
                     std::to_string(max_payload_));
    }
    if ((flags & ~kFrameKnownFlags) != 0) {
      failed_ = true;
      return Corrupt("frame: " + TypeName(tag) + " has reserved flag bits set (flags " +
                     std::to_string(flags) + ")");
    }
    current_ = Frame{tag, flags, {}};
    current_.payload.reserve(std::min<uint32_t>(len, 64 * 1024));
    payload_len_ = len;
    in_payload_ = true;
    header_len_ = 0;
  }
  const size_t want = payload_len_ - current_.payload.size();
  const size_t take = std::min(want, in.size() - used);
  current_.payload.insert(current_.payload.end(), in.begin() + used,
                          in.begin() + used + take);
  used += take;
  if (current_.payload.size() == payload_len_) {
    in_payload_ = false;
    *frame = std::move(current_);
    current_ = Frame{};
  }
  return used;
}

Status FrameDecoder::Finish() const {
  if (at_boundary()) return Status::Ok();
  if (!in_payload_) {
    return Corrupt("connection closed in the middle of a frame (" +
                   std::to_string(header_len_) + " of " +
                   std::to_string(kFrameHeaderSize) + " header bytes)");
  }
  return Corrupt("connection closed in the middle of a " + TypeName(current_.tag) +
                 " frame (" + std::to_string(current_.payload.size()) + " of " +
                 std::to_string(payload_len_) + " payload bytes)");
}

}  // namespace ferry::protocol
