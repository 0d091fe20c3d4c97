#include "tests/protocol/session/raw_peer.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocol/handshake.h"

namespace ferry::protocol::testing {

std::vector<std::byte> Bytes(const std::string& s) {
  auto b = std::as_bytes(std::span(s));
  return {b.begin(), b.end()};
}

Status RawPeer::WriteAll(std::span<const std::byte> b) {
  while (!b.empty()) {
    const ssize_t n = ::send(fd_.get(), b.data(), b.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError("send", "raw peer", errno);
    b = b.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<std::optional<Frame>> RawPeer::ReadFrame() {
  while (true) {
    if (!buffered_.empty()) {
      std::optional<Frame> frame;
      ASSIGN_OR_RETURN(size_t used, decoder_.Feed(buffered_, &frame));
      buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<long>(used));
      if (frame) return frame;
      if (used > 0) continue;
    }
    struct pollfd p {fd_.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (ready == 0) return Status(ErrorCode::kIo, "raw peer: nothing received in time");
    std::byte buf[65536];
    const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError("read", "raw peer", errno);
    if (n == 0) {
      RETURN_IF_ERROR(decoder_.Finish());
      return std::optional<Frame>();
    }
    transcript_.insert(transcript_.end(), buf, buf + n);
    buffered_.insert(buffered_.end(), buf, buf + n);
  }
}

Result<std::unique_ptr<RawPeer>> RawPeer::Connect(int fd, const SessionOptions& options,
                                                  std::chrono::milliseconds timeout) {
  std::unique_ptr<RawPeer> p(new RawPeer(fd, timeout));
  // Every capability but batched file-list entries: the tests read one
  // FileEntry per frame.
  const Hello local = LocalHello(Role::kClient, kCapKnownMask & ~kCapEntryBatch, kMaxMaxFrame);
  RETURN_IF_ERROR(p->WriteAll(EncodeGreeting(local)));
  // The magic arrives before any frame; take it out of the buffer by hand.
  while (p->buffered_.size() < kStreamMagic.size()) {
    std::byte buf[64];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return Status(ErrorCode::kIo, "raw peer: no greeting from the server");
    p->buffered_.insert(p->buffered_.end(), buf, buf + n);
  }
  RETURN_IF_ERROR(CheckStreamMagic(std::span(p->buffered_).first(kStreamMagic.size())));
  p->buffered_.erase(p->buffered_.begin(), p->buffered_.begin() + kStreamMagic.size());
  ASSIGN_OR_RETURN(std::optional<Frame> hello_frame, p->ReadFrame());
  if (!hello_frame) return Status(ErrorCode::kIo, "raw peer: closed before Hello");
  ASSIGN_OR_RETURN(Hello peer, DecodeHello(*hello_frame));
  ASSIGN_OR_RETURN(Negotiated n, Negotiate(local, peer));
  p->codec_ = MakeCodec(n.version, DecodeLimits{});
  RETURN_IF_ERROR(p->Send(options));
  ASSIGN_OR_RETURN(std::optional<Frame> ack_frame, p->ReadFrame());
  if (!ack_frame) return Status(ErrorCode::kIo, "raw peer: closed before OptionsAck");
  ASSIGN_OR_RETURN(Message ack, p->codec_->Decode(ack_frame->tag, ack_frame->payload));
  if (auto* e = std::get_if<Error>(&ack)) return Status(ErrorCode::kUnsupported, e->message);
  auto* a = std::get_if<OptionsAck>(&ack);
  if (a == nullptr) return Corrupt("raw peer: expected OptionsAck");
  RETURN_IF_ERROR(CheckAck(options, *a));
  DecodeLimits limits = LimitsFor(options);  // as Channel sets them
  limits.reuse = (n.capabilities & kCapReuse) != 0;
  limits.entry_batches = (n.capabilities & kCapEntryBatch) != 0;
  limits.planned = (n.capabilities & kCapPlanned) != 0;
  p->codec_ = MakeCodec(n.version, limits);
  p->max_frame_ = options.max_frame;
  p->decoder_.set_max_payload(options.max_frame);
  p->transcript_.clear();
  return p;
}

Status RawPeer::SendFrame(uint8_t tag, uint8_t flags, std::span<const std::byte> payload) {
  std::vector<std::byte> out;
  RETURN_IF_ERROR(AppendFrame(tag, flags, payload, UINT32_MAX, &out));
  return WriteAll(out);
}

Status RawPeer::SendHeader(uint8_t tag, uint32_t length) {
  std::byte h[kFrameHeaderSize] = {static_cast<std::byte>(tag), std::byte{0}};
  for (int i = 0; i < 4; ++i) h[2 + i] = static_cast<std::byte>(length >> (8 * i));
  return WriteAll(h);
}

Status RawPeer::Send(const Message& m) {
  std::vector<std::byte> payload;
  RETURN_IF_ERROR(codec_->Encode(m, &payload));
  return SendFrame(static_cast<uint8_t>(TypeOf(m)), 0, payload);
}

Result<std::optional<Message>> RawPeer::Receive() {
  while (true) {
    ASSIGN_OR_RETURN(std::optional<Frame> f, ReadFrame());
    if (!f) return std::optional<Message>();
    ASSIGN_OR_RETURN(Message m, codec_->Decode(f->tag, f->payload));
    if (std::holds_alternative<Keepalive>(m) || std::holds_alternative<Credit>(m)) continue;
    return std::optional<Message>(std::move(m));
  }
}

std::vector<Message> RawPeer::Drain() {
  std::vector<Message> out;
  while (true) {
    auto m = Receive();
    if (!m.ok() || !*m) return out;
    out.push_back(std::move(**m));
  }
}

void RawPeer::CloseWrite() { ::shutdown(fd_.get(), SHUT_WR); }

std::string RawPeer::transcript() const {
  return std::string(reinterpret_cast<const char*>(transcript_.data()), transcript_.size());
}

}  // namespace ferry::protocol::testing
