// The handshake (PROTOCOL.md "Handshake"). Both sides, without waiting for
// each other, send the greeting: the 8-byte stream magic and a Hello frame
// (version range, capabilities, largest frame accepted, role). Each side
// then computes the same Negotiated result from the two Hellos. The client
// sends its SessionOptions (codec of the chosen version); the server checks
// them (CheckOptions) and echoes them in an OptionsAck, or sends an Error
// and closes; the client checks the echo (CheckAck).
//
// The Hello payload layout is frozen across versions (so any two versions can
// find out that they cannot talk); a later version may append fields, which
// older readers ignore.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/base/status.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace ferry::protocol {

inline constexpr std::array<std::byte, 8> kStreamMagic = {
    std::byte{0x89}, std::byte{'F'},  std::byte{'R'},  std::byte{'Y'},
    std::byte{'\r'}, std::byte{'\n'}, std::byte{0x1a}, std::byte{'\n'}};
inline constexpr size_t kHelloPayloadSize = 17;

// A Hello of this build: versions kVersionMin..kVersionMax, `capabilities`
// (masked with kCapKnownMask), max_frame `max_frame`.
Hello LocalHello(Role role, uint64_t capabilities, uint32_t max_frame = kDefaultMaxFrame);

// The 8-byte magic followed by the Hello frame.
std::vector<std::byte> EncodeGreeting(const Hello& hello);

// Checks the first 8 bytes a peer sent. Errors (kCorrupt): "peer is not a
// ferry protocol stream (first bytes: 'Welc...' 57 65 ...)" - e.g. a shell
// banner, or ssh talking to something else.
Status CheckStreamMagic(std::span<const std::byte> first_bytes);

// Decodes the Hello frame (tag kHello, no flags, >= 17 payload bytes;
// extra bytes ignored). Errors (kCorrupt) name the field: version range
// empty or starting at 0, unknown role, max_frame outside
// kMinMaxFrame..kMaxMaxFrame.
Result<Hello> DecodeHello(const Frame& frame);

struct Negotiated {
  uint16_t version = 0;       // highest version both speak
  uint64_t capabilities = 0;  // both sides' bits, and only known ones
  uint32_t max_frame = 0;     // the smaller of both limits
  bool operator==(const Negotiated&) const = default;
};

// Errors (kUnsupported / kCorrupt): no common version ("peer speaks
// versions 3..4, this ferry 1..1: upgrade ..."), both sides claiming the same
// role.
Result<Negotiated> Negotiate(const Hello& local, const Hello& peer);

// Server side: every option the client asks for must be allowed by the
// negotiated capabilities and limits. Errors (kUnsupported) name the option,
// e.g. "--xattrs (-X) requested but the server did not offer xattrs".
Status CheckOptions(const SessionOptions& requested, const Negotiated& negotiated);

// Client side: the server's echo must equal the proposal exactly.
Status CheckAck(const SessionOptions& proposed, const OptionsAck& ack);

}  // namespace ferry::protocol
