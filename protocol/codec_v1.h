// Protocol version 1 codec: the field layout of every message (PROTOCOL.md
// "Messages", v1). Use through codec.h's MakeCodec.
//
// Thread safety: immutable after construction.
#pragma once

#include "protocol/codec.h"

namespace ferry::protocol {

class CodecV1 final : public Codec {
 public:
  explicit CodecV1(const DecodeLimits& limits) : limits_(limits) {}
  uint16_t version() const override { return 1; }
  Status Encode(const Message& m, std::vector<std::byte>* payload) const override;
  Result<Message> Decode(uint8_t tag, std::span<const std::byte> payload) const override;

 private:
  DecodeLimits limits_;
};

}  // namespace ferry::protocol
