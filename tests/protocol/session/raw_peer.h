// RawPeer: the client end of a session, spoken frame by frame, for
// hostile-peer tests of a real sender or receiver (PROTOCOL.md sections 2-3).
// Unlike Channel it validates nothing it sends: messages go through the
// codec's encoder (which trusts its input), and SendFrame / SendHeader put
// arbitrary bytes on the wire, so a test can say exactly what a hostile peer
// says. Every byte received is kept (transcript()), so a test can check that
// something (a secret outside the root) never crossed the wire.
//
// No compression, no flow control (a test sends little), keepalives are
// skipped by Receive.
//
// Thread safety: one thread at a time. Owns the fd.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace ferry::protocol::testing {

class RawPeer {
 public:
  // Greets as a client on `fd` (a socket), offers every capability, proposes
  // `options` and checks the server's OptionsAck. Errors: the server's
  // refusal, a closed stream, a timeout.
  static Result<std::unique_ptr<RawPeer>> Connect(
      int fd, const SessionOptions& options,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // A frame with any tag, flags and payload (no size check).
  Status SendFrame(uint8_t tag, uint8_t flags, std::span<const std::byte> payload);
  // Only a frame header announcing `length` payload bytes.
  Status SendHeader(uint8_t tag, uint32_t length);
  // `m` encoded by the session's codec, in one uncompressed frame.
  Status Send(const Message& m);

  // The next message other than Keepalive/Credit; nullopt at the end of the
  // stream. Errors: a frame the codec refuses, a timeout.
  Result<std::optional<Message>> Receive();

  // Every message until the end of the stream (or an error, which ends it).
  std::vector<Message> Drain();

  // Half-closes: the peer reads the end of the stream.
  void CloseWrite();

  // All bytes received after the handshake, as one string.
  std::string transcript() const;
  uint32_t max_frame() const { return max_frame_; }

 private:
  explicit RawPeer(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  Status WriteAll(std::span<const std::byte> b);
  Result<std::optional<Frame>> ReadFrame();

  io::UniqueFd fd_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Codec> codec_;
  FrameDecoder decoder_{kHandshakeMaxFrame};
  std::vector<std::byte> buffered_;
  std::vector<std::byte> transcript_;
  uint32_t max_frame_ = kHandshakeMaxFrame;
};

// Bytes of a string (test data).
std::vector<std::byte> Bytes(const std::string& s);

}  // namespace ferry::protocol::testing
