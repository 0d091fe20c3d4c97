#include "protocol/handshake.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "protocol/codec.h"
#include "protocol/wire_format.h"

namespace ferry::protocol {

namespace {

Status Unsupported(std::string message) {
  return Status(ErrorCode::kUnsupported, std::move(message));
}

std::string Range(uint16_t lo, uint16_t hi) {
  return std::to_string(lo) + ".." + std::to_string(hi);
}

}  // namespace

Hello LocalHello(Role role, uint64_t capabilities, uint32_t max_frame) {
  Hello h;
  h.version_min = kVersionMin;
  h.version_max = kVersionMax;
  h.capabilities = capabilities & kCapKnownMask;
  h.max_frame = max_frame;
  h.role = role;
  return h;
}

std::vector<std::byte> EncodeGreeting(const Hello& hello) {
  std::vector<std::byte> payload;
  Writer w(&payload);
  w.FixedLE(hello.version_min, 2);
  w.FixedLE(hello.version_max, 2);
  w.FixedLE(hello.capabilities, 8);
  w.FixedLE(hello.max_frame, 4);
  w.U8(static_cast<uint8_t>(hello.role));
  std::vector<std::byte> out(kStreamMagic.begin(), kStreamMagic.end());
  // Cannot fail: 17 bytes, no flags.
  (void)AppendFrame(static_cast<uint8_t>(MsgType::kHello), 0, payload,
                    kHandshakeMaxFrame, &out);
  return out;
}

Status CheckStreamMagic(std::span<const std::byte> first_bytes) {
  if (first_bytes.size() >= kStreamMagic.size() &&
      std::memcmp(first_bytes.data(), kStreamMagic.data(), kStreamMagic.size()) == 0) {
    return Status::Ok();
  }
  std::string text;
  std::string hex;
  for (size_t i = 0; i < first_bytes.size() && i < kStreamMagic.size(); ++i) {
    const auto c = static_cast<unsigned char>(first_bytes[i]);
    text += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
    char buf[4];
    std::snprintf(buf, sizeof buf, " %02x", c);
    hex += buf;
  }
  return Corrupt("peer is not speaking the ferry protocol (first bytes: '" + text +
                 "'" + hex + "); is a shell startup file printing text, or is the "
                 "remote command not 'ferry serve'?");
}

Result<Hello> DecodeHello(const Frame& frame) {
  if (frame.tag != static_cast<uint8_t>(MsgType::kHello)) {
    return Corrupt("handshake: expected Hello, got " + TypeName(frame.tag));
  }
  if (frame.flags != 0) return Corrupt("handshake: Hello frame has flags set");
  if (frame.payload.size() < kHelloPayloadSize) {
    return Corrupt("handshake: Hello is " + std::to_string(frame.payload.size()) +
                   " bytes, needs " + std::to_string(kHelloPayloadSize));
  }
  // Later versions may append fields: read the frozen prefix only.
  Reader r(std::span(frame.payload).first(kHelloPayloadSize), "Hello");
  Hello h;
  uint64_t v = 0;
  RETURN_IF_ERROR(r.FixedLE("version_min", 2, &v));
  h.version_min = static_cast<uint16_t>(v);
  RETURN_IF_ERROR(r.FixedLE("version_max", 2, &v));
  h.version_max = static_cast<uint16_t>(v);
  RETURN_IF_ERROR(r.FixedLE("capabilities", 8, &h.capabilities));
  RETURN_IF_ERROR(r.FixedLE("max_frame", 4, &v));
  h.max_frame = static_cast<uint32_t>(v);
  uint8_t role = 0;
  RETURN_IF_ERROR(r.U8("role", &role));
  if (h.version_min == 0 || h.version_min > h.version_max) {
    return r.Error("version range " + Range(h.version_min, h.version_max) + " is empty");
  }
  if (h.max_frame < kMinMaxFrame || h.max_frame > kMaxMaxFrame) {
    return r.Error("max_frame " + std::to_string(h.max_frame) + " is outside " +
                   std::to_string(kMinMaxFrame) + ".." + std::to_string(kMaxMaxFrame));
  }
  if (role != static_cast<uint8_t>(Role::kClient) &&
      role != static_cast<uint8_t>(Role::kServer)) {
    return r.Error("role " + std::to_string(role) + " is unknown");
  }
  h.role = static_cast<Role>(role);
  return h;
}

Result<Negotiated> Negotiate(const Hello& local, const Hello& peer) {
  if (local.role == peer.role) {
    return Corrupt(std::string("handshake: both sides are ") +
                   (peer.role == Role::kClient ? "clients" : "servers"));
  }
  const uint16_t lo = std::max(local.version_min, peer.version_min);
  const uint16_t hi = std::min(local.version_max, peer.version_max);
  if (lo > hi) {
    return Unsupported("no common protocol version: peer speaks " +
                       Range(peer.version_min, peer.version_max) + ", this ferry " +
                       Range(local.version_min, local.version_max) +
                       "; upgrade the older side");
  }
  Negotiated n;
  n.version = hi;
  n.capabilities = local.capabilities & peer.capabilities & kCapKnownMask;
  n.max_frame = std::min(local.max_frame, peer.max_frame);
  return n;
}

Status CheckOptions(const SessionOptions& o, const Negotiated& n) {
  struct Need {
    bool wanted;
    uint64_t cap;
    const char* what;
  };
  const Need needs[] = {
      {o.hard_links, kCapHardLinks, "--hard-links (-H)"},
      {o.xattrs, kCapXattrs, "--xattrs (-X)"},
      {o.acls, kCapAcls, "--acls (-A)"},
      {o.del, kCapDelete, "--delete"},
      {o.compression == Compression::kZstd, kCapZstd, "--compress (-z, zstd)"},
  };
  for (const Need& need : needs) {
    if (need.wanted && (n.capabilities & need.cap) == 0) {
      return Unsupported(std::string(need.what) +
                         " requested but both sides did not offer it");
    }
  }
  if ((o.preserve & ~kPreserveKnownMask) != 0) {
    return Unsupported("unknown preserve bits requested");
  }
  if (o.max_frame < kMinMaxFrame || o.max_frame > n.max_frame) {
    return Unsupported("max_frame " + std::to_string(o.max_frame) + " is outside " +
                       std::to_string(kMinMaxFrame) + ".." + std::to_string(n.max_frame) +
                       " (the smaller Hello limit)");
  }
  if (o.window < o.max_frame) {
    return Unsupported("window " + std::to_string(o.window) +
                       " is smaller than max_frame " + std::to_string(o.max_frame));
  }
  if (o.compression == Compression::kZstd
          ? (o.compress_level < 1 || o.compress_level > 19)
          : o.compress_level != 0) {
    return Unsupported("--compress-level " + std::to_string(o.compress_level) +
                       " is outside 1..19");
  }
  if ((o.block_rule == BlockRule::kFixed) !=
      (o.fixed_block_size >= 1 && o.fixed_block_size <= kBlockSizeMax)) {
    return Unsupported("block size " + std::to_string(o.fixed_block_size) +
                       " does not fit the block-size rule");
  }
  return Status::Ok();
}

Status CheckAck(const SessionOptions& proposed, const OptionsAck& ack) {
  if (ack.options == proposed) return Status::Ok();
  return Corrupt("handshake: the server acknowledged different options than proposed");
}

}  // namespace ferry::protocol
