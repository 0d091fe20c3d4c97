// Shared by the protocol fuzz targets: splits fuzz input into frames the
// way a receiver does (FrameDecoder, then MessageReader with the v1 codec).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/message_stream.h"

namespace ferry::protocol::fuzz {

inline DecodeLimits AllLimits() { return DecodeLimits{true, true, true, true, true}; }

// Calls `on_message` for every message decoded from `in` until the input
// ends or a frame or message is refused, or on_message returns false.
inline void ForEachMessage(std::span<const std::byte> in, uint32_t max_frame,
                           const std::function<bool(Message&)>& on_message) {
  std::unique_ptr<Codec> codec = MakeCodec(1, AllLimits());
  MessageReader reader(codec.get(), nullptr);
  FrameDecoder frames(max_frame);
  while (!in.empty()) {
    std::optional<Frame> f;
    Result<size_t> used = frames.Feed(in, &f);
    if (!used.ok()) return;
    in = in.subspan(*used);
    if (!f) continue;
    Result<Message> m = reader.Decode(*f);
    if (!m.ok() || !on_message(*m)) return;
  }
}

}  // namespace ferry::protocol::fuzz
