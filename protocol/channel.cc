#include "protocol/channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "engine/base/thread_name.h"
#include "protocol/handshake.h"

namespace ferry::protocol {

namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kLaterFlushBytes = 64 * 1024;
constexpr size_t kLaterFlushCount = 64;
constexpr int kPollSliceMs = 200;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status ClosedError(const char* when) {
  return Status(ErrorCode::kIo, std::string("connection closed by the peer ") + when);
}

bool IsData(const Message& m) {
  return std::holds_alternative<FileData>(m) || std::holds_alternative<DeltaOps>(m);
}

}  // namespace

Channel::Channel(int in_fd, int out_fd, const ChannelConfig& config)
    : in_fd_(in_fd), out_fd_(out_fd), config_(config) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int fl = ::fcntl(out_fd_, F_GETFL);
  if (fl >= 0) ::fcntl(out_fd_, F_SETFL, fl | O_NONBLOCK);
  last_recv_ns_ = NowNs();
  last_send_ns_ = NowNs();
}

void Channel::Wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof one);
  (void)n;
}

Channel::~Channel() {
  stop_ = true;
  Wake();
  failed_ = true;
  credit_cv_.notify_all();
  space_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (out_fd_ >= 0 && out_fd_ != in_fd_ && !write_closed_) ::close(out_fd_);
  if (in_fd_ >= 0) ::close(in_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

size_t Channel::max_payload() const {
  return MaxMessagePayload(options_.max_frame,
                           options_.compression == Compression::kZstd);
}

Status Channel::WriteAll(std::span<const std::byte> bytes) {
  size_t done = 0;
  auto deadline = config_.timeout.count() > 0
                      ? NowNs() + std::chrono::nanoseconds(config_.timeout).count()
                      : INT64_MAX;
  while (done < bytes.size()) {
    ssize_t n = ::write(out_fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      deadline = config_.timeout.count() > 0
                     ? NowNs() + std::chrono::nanoseconds(config_.timeout).count()
                     : INT64_MAX;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (stop_) return ClosedError("(session stopped)");
      if (NowNs() > deadline) {
        return Status(ErrorCode::kIo, "the peer has not read anything for " +
                                          std::to_string(config_.timeout.count() / 1000) +
                                          " s (writing)");
      }
      struct pollfd p {out_fd_, POLLOUT, 0};
      ::poll(&p, 1, kPollSliceMs);
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return ClosedError("while writing");
    return PosixError("write", "connection", n < 0 ? errno : EIO);
  }
  bytes_sent_ += bytes.size();
  last_send_ns_ = NowNs();
  return Status::Ok();
}

Result<Frame> Channel::ReadFrameSync() {
  std::byte buf[4096];
  while (true) {
    std::optional<Frame> frame;
    size_t used = 0;
    while (used < pending_in_.size()) {
      ASSIGN_OR_RETURN(size_t n, decoder_.Feed(std::span(pending_in_).subspan(used), &frame));
      used += n;
      if (frame) break;
    }
    pending_in_.erase(pending_in_.begin(), pending_in_.begin() + static_cast<long>(used));
    if (frame) return std::move(*frame);
    const int ms = config_.timeout.count() > 0 ? static_cast<int>(config_.timeout.count()) : -1;
    struct pollfd p {in_fd_, POLLIN, 0};
    int pr = ::poll(&p, 1, ms);
    if (pr == 0) {
      return Status(ErrorCode::kIo, "handshake: no answer from the peer for " +
                                        std::to_string(ms / 1000) + " s");
    }
    ssize_t n = ::read(in_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError("read", "connection", errno);
    if (n == 0) {
      RETURN_IF_ERROR(decoder_.Finish());
      return ClosedError("during the handshake");
    }
    bytes_received_ += static_cast<uint64_t>(n);
    pending_in_.insert(pending_in_.end(), buf, buf + n);
  }
}

Status Channel::Greet(std::vector<std::byte>* /*unused*/) {
  const Hello local = LocalHello(config_.role, config_.capabilities, config_.max_frame);
  // A peer that is not there (or not ferry) may have closed already: what it
  // sent says more than the failed write, so read it before giving up.
  const Status wrote = WriteAll(EncodeGreeting(local));
  // The peer's magic: read until 8 bytes or the end of the stream (a
  // shorter banner still gets shown).
  std::byte buf[64];
  while (pending_in_.size() < kStreamMagic.size()) {
    const int ms = config_.timeout.count() > 0 ? static_cast<int>(config_.timeout.count()) : -1;
    struct pollfd p {in_fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) == 0) {
      return Status(ErrorCode::kIo, "handshake: the peer sent nothing for " +
                                        std::to_string(ms / 1000) + " s");
    }
    ssize_t n = ::read(in_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError("read", "connection", errno);
    if (n == 0) {
      if (pending_in_.empty()) {
        return ClosedError(
            "before the handshake (did the remote command start? is ferry installed "
            "there, or does --remote-ferry name it?)");
      }
      return CheckStreamMagic(pending_in_);
    }
    bytes_received_ += static_cast<uint64_t>(n);
    pending_in_.insert(pending_in_.end(), buf, buf + n);
  }
  RETURN_IF_ERROR(CheckStreamMagic(pending_in_));
  RETURN_IF_ERROR(wrote);
  pending_in_.erase(pending_in_.begin(), pending_in_.begin() + kStreamMagic.size());
  ASSIGN_OR_RETURN(Frame hello_frame, ReadFrameSync());
  ASSIGN_OR_RETURN(Hello peer, DecodeHello(hello_frame));
  ASSIGN_OR_RETURN(negotiated_, Negotiate(local, peer));
  decoder_.set_max_payload(negotiated_.max_frame);
  // Options are decoded with a codec of the agreed version; their decoding
  // does not depend on the limits.
  codec_ = MakeCodec(negotiated_.version, DecodeLimits{});
  if (!codec_) return Internal("no codec for negotiated version");
  writer_ = std::make_unique<MessageWriter>(codec_.get(), negotiated_.max_frame, nullptr);
  reader_ = std::make_unique<MessageReader>(codec_.get(), nullptr);
  return Status::Ok();
}

Status Channel::SetUpCodec(uint16_t version, const SessionOptions& options) {
  options_ = options;
  DecodeLimits limits = LimitsFor(options);
  limits.reuse = (negotiated_.capabilities & kCapReuse) != 0;
  limits.entry_batches = (negotiated_.capabilities & kCapEntryBatch) != 0;
  limits.planned = (negotiated_.capabilities & kCapPlanned) != 0;
  codec_ = MakeCodec(version, limits);
  if (!codec_) return Internal("no codec for negotiated version");
  if (options.compression == Compression::kZstd) {
    ASSIGN_OR_RETURN(compressor_, Compressor::Create(options.compress_level));
    ASSIGN_OR_RETURN(decompressor_, Decompressor::Create(options.max_frame));
  }
  writer_ = std::make_unique<MessageWriter>(codec_.get(), options.max_frame, compressor_.get());
  reader_ = std::make_unique<MessageReader>(codec_.get(), decompressor_.get());
  decoder_.set_max_payload(options.max_frame);
  out_credit_ = std::make_unique<CreditWindow>(options.window);
  in_credit_ = std::make_unique<CreditWindow>(options.window);
  return Status::Ok();
}

Result<std::unique_ptr<Channel>> Channel::Connect(int in_fd, int out_fd,
                                                  const ChannelConfig& config,
                                                  const SessionOptions& options) {
  std::unique_ptr<Channel> ch(new Channel(in_fd, out_fd, config));
  RETURN_IF_ERROR(ch->Greet(nullptr));
  {
    std::vector<std::byte> out;
    RETURN_IF_ERROR(ch->writer_->Append(options, &out));
    RETURN_IF_ERROR(ch->WriteAll(out));
  }
  ASSIGN_OR_RETURN(Frame f, ch->ReadFrameSync());
  ASSIGN_OR_RETURN(Message m, ch->reader_->Decode(f));
  if (auto* e = std::get_if<Error>(&m)) {
    return Status(e->code == WireError::kProtocol ? ErrorCode::kCorrupt
                                                  : ErrorCode::kUnsupported,
                  "remote refused the session: " + e->message);
  }
  auto* ack = std::get_if<OptionsAck>(&m);
  if (ack == nullptr) return Corrupt("handshake: expected OptionsAck, got " + TypeName(f.tag));
  RETURN_IF_ERROR(CheckAck(options, *ack));
  RETURN_IF_ERROR(ch->SetUpCodec(ch->negotiated_.version, options));
  ch->StartReader();
  return Result<std::unique_ptr<Channel>>(std::move(ch));
}

Result<std::unique_ptr<Channel>> Channel::Accept(
    int in_fd, int out_fd, const ChannelConfig& config,
    const std::function<Status(const SessionOptions&)>& policy) {
  std::unique_ptr<Channel> ch(new Channel(in_fd, out_fd, config));
  RETURN_IF_ERROR(ch->Greet(nullptr));
  ASSIGN_OR_RETURN(Frame f, ch->ReadFrameSync());
  ASSIGN_OR_RETURN(Message m, ch->reader_->Decode(f));
  auto* opts = std::get_if<SessionOptions>(&m);
  if (opts == nullptr) return Corrupt("handshake: expected Options, got " + TypeName(f.tag));
  Status s = CheckOptions(*opts, ch->negotiated_);
  if (s.ok() && policy) s = policy(*opts);
  if (!s.ok()) {
    Error e;
    e.code = WireError::kRefused;
    e.message = s.message();
    std::vector<std::byte> out;
    if (ch->writer_->Append(e, &out).ok()) (void)ch->WriteAll(out);
    return s;
  }
  const SessionOptions agreed = *opts;
  {
    std::vector<std::byte> out;
    RETURN_IF_ERROR(ch->writer_->Append(OptionsAck{agreed}, &out));
    RETURN_IF_ERROR(ch->WriteAll(out));
  }
  RETURN_IF_ERROR(ch->SetUpCodec(ch->negotiated_.version, agreed));
  ch->StartReader();
  return Result<std::unique_ptr<Channel>>(std::move(ch));
}

void Channel::StartReader() {
  thread_ = std::thread([this] { ReaderLoop(); });
}

void Channel::Fail(Status s, bool tell_peer) {
  {
    std::lock_guard<std::mutex> l(in_mu_);
    if (!ended_) {
      ended_ = true;
      end_status_ = s;
    }
  }
  in_cv_.notify_all();
  failed_ = true;
  credit_cv_.notify_all();
  if (tell_peer && !s.ok()) {
    std::unique_lock<std::timed_mutex> l(send_mu_, std::defer_lock);
    if (l.try_lock_for(std::chrono::seconds(1)) && !write_closed_) {
      Error e;
      e.code = WireError::kProtocol;
      e.message = s.message().substr(0, kErrorMessageMax);
      out_buf_.clear();
      if (writer_->Append(e, &out_buf_).ok()) (void)WriteOut();
    }
  }
}

Status Channel::HandleControl(const Message& m, uint32_t wire_bytes, bool* consumed) {
  *consumed = false;
  if (auto* c = std::get_if<Credit>(&m)) {
    std::lock_guard<std::mutex> l(credit_mu_);
    RETURN_IF_ERROR(out_credit_->Refund(c->bytes));
    credit_cv_.notify_all();
    *consumed = true;
  } else if (std::holds_alternative<Keepalive>(m)) {
    *consumed = true;
  } else if (IsData(m)) {
    std::lock_guard<std::mutex> l(credit_mu_);
    Status s = in_credit_->Spend(wire_bytes);
    if (!s.ok()) return s.WithContext(TypeName(static_cast<uint8_t>(TypeOf(m))));
  } else if (std::holds_alternative<SessionOptions>(m) ||
             std::holds_alternative<OptionsAck>(m)) {
    return Corrupt(TypeName(static_cast<uint8_t>(TypeOf(m))) + " after the handshake");
  }
  return Status::Ok();
}

void Channel::ReaderLoop() {
  SetThreadName("ferry-reader");
  std::vector<std::byte> buf(kReadChunk);
  std::vector<std::byte> first = std::move(pending_in_);
  size_t first_used = 0;
  while (!stop_) {
    std::span<const std::byte> in;
    if (first_used < first.size()) {
      in = std::span(first).subspan(first_used);
      first_used = first.size();
    } else {
      // Keepalive when this side has been silent (a busy writer holds the
      // lock; then it is not silent).
      if (NowNs() - last_send_ns_ >
          std::chrono::nanoseconds(kKeepaliveInterval).count()) {
        std::unique_lock<std::timed_mutex> l(send_mu_, std::try_to_lock);
        if (l.owns_lock() && !write_closed_ && !failed_) {
          out_buf_.clear();
          if (writer_->Append(Keepalive{}, &out_buf_).ok()) (void)WriteOut();
        }
      }
      struct pollfd p[2] = {{in_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      int pr = ::poll(p, wake_fd_ >= 0 ? 2 : 1, kPollSliceMs);
      if (stop_) break;
      if (pr == 0) continue;
      if (pr < 0 && errno == EINTR) continue;
      if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = ::read(in_fd_, buf.data(), buf.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n < 0) {
        // A reset ends the stream like a close; say where it cut a frame.
        Status cut = decoder_.Finish();
        Fail(errno == ECONNRESET ? (cut.ok() ? ClosedError("(connection reset)") : cut)
                                 : PosixError("read", "connection", errno),
             false);
        return;
      }
      if (n == 0) {
        Status s = decoder_.Finish();
        Fail(s.ok() ? Status::Ok() : s, false);
        return;
      }
      bytes_received_ += static_cast<uint64_t>(n);
      last_recv_ns_ = NowNs();
      in = std::span<const std::byte>(buf.data(), static_cast<size_t>(n));
    }
    while (!in.empty()) {
      std::optional<Frame> frame;
      auto used = decoder_.Feed(in, &frame);
      if (!used.ok()) {
        Fail(used.status(), true);
        return;
      }
      in = in.subspan(*used);
      if (!frame) continue;
      const auto wire = static_cast<uint32_t>(frame->payload.size());
      auto msg = reader_->Decode(*frame);
      if (!msg.ok()) {
        Fail(msg.status(), true);
        return;
      }
      bool consumed = false;
      if (Status s = HandleControl(*msg, wire, &consumed); !s.ok()) {
        Fail(s, true);
        return;
      }
      if (consumed) continue;
      std::unique_lock<std::mutex> l(in_mu_);
      const size_t cost = wire + 64;
      space_cv_.wait(l, [&] {
        return stop_ || inbox_.empty() || inbox_bytes_ + cost <= config_.inbox_bytes;
      });
      if (stop_) return;
      inbox_.push_back(Incoming{false, std::move(*msg), wire});
      inbox_bytes_ += cost;
      l.unlock();
      in_cv_.notify_one();
    }
  }
}

Result<Incoming> Channel::Receive() {
  std::unique_lock<std::mutex> l(in_mu_);
  while (true) {
    if (!inbox_.empty()) {
      Incoming in = std::move(inbox_.front());
      inbox_.pop_front();
      inbox_bytes_ -= in.wire_bytes + 64;
      l.unlock();
      space_cv_.notify_one();
      return in;
    }
    if (ended_) {
      if (end_status_.ok()) return Incoming{true, Keepalive{}, 0};
      return end_status_;
    }
    if (later_pending_) {
      // About to wait for the peer: what SendLater queued goes out first
      // (without in_mu_: Send takes it under send_mu_).
      l.unlock();
      FlushLater();
      l.lock();
      continue;
    }
    in_cv_.wait_for(l, std::chrono::milliseconds(kPollSliceMs));
    if (inbox_.empty() && !ended_ && config_.timeout.count() > 0 &&
        NowNs() - last_recv_ns_ > std::chrono::nanoseconds(config_.timeout).count()) {
      return Status(ErrorCode::kIo, "no message from the peer for " +
                                        std::to_string(config_.timeout.count() / 1000) +
                                        " s (timeout)");
    }
  }
}

Status Channel::Send(const Message& m) {
  std::unique_lock<std::timed_mutex> l(send_mu_);
  if (write_closed_) return Internal("Send after CloseWrite");
  if (failed_ && !std::holds_alternative<Error>(m)) {
    std::lock_guard<std::mutex> il(in_mu_);
    if (!end_status_.ok()) return end_status_;
  }
  out_buf_.clear();
  RETURN_IF_ERROR(writer_->Append(m, &out_buf_));
  if (IsData(m)) {
    const uint64_t len = out_buf_.size() - kFrameHeaderSize;
    std::unique_lock<std::mutex> cl(credit_mu_);
    if (!later_buf_.empty() && !out_credit_->CanSpend(len)) {
      // About to wait for the peer's credit: what is queued goes out first.
      cl.unlock();
      RETURN_IF_ERROR(WriteLater());
      cl.lock();
    }
    credit_cv_.wait(cl, [&] { return failed_.load() || out_credit_->CanSpend(len); });
    if (!out_credit_->CanSpend(len)) return ClosedError("(waiting for flow-control credit)");
    RETURN_IF_ERROR(out_credit_->Spend(len));
  }
  Status s = WriteOut();
  if (!s.ok()) return s.WithContext("sending " + TypeName(static_cast<uint8_t>(TypeOf(m))));
  return s;
}

Status Channel::SendLater(const Message& m) {
  std::unique_lock<std::timed_mutex> l(send_mu_);
  if (write_closed_) return Internal("SendLater after CloseWrite");
  if (IsData(m)) return Internal("SendLater of a data message");
  RETURN_IF_ERROR(writer_->Append(m, &later_buf_));
  later_pending_ = true;
  if (++later_count_ < kLaterFlushCount && later_buf_.size() < kLaterFlushBytes) {
    return Status::Ok();
  }
  return WriteLater();
}

Status Channel::WriteLater() {
  Status s = later_buf_.empty() ? Status::Ok() : WriteAll(later_buf_);
  later_buf_.clear();
  later_count_ = 0;
  later_pending_ = false;
  return s;
}

Status Channel::WriteOut() {
  if (later_buf_.empty()) return WriteAll(out_buf_);
  later_buf_.insert(later_buf_.end(), out_buf_.begin(), out_buf_.end());
  out_buf_.clear();
  return WriteLater();
}

void Channel::FlushLater() {
  std::unique_lock<std::timed_mutex> l(send_mu_);
  if (write_closed_) {
    later_pending_ = false;
    return;
  }
  (void)WriteLater();  // a lost connection surfaces at the next Receive
}

Status Channel::ReturnCredit(uint64_t bytes) {
  uint64_t grant = 0;
  {
    std::lock_guard<std::mutex> l(credit_mu_);
    RETURN_IF_ERROR(in_credit_->Refund(bytes));
    unreturned_ += bytes;
    const uint64_t threshold = (options_.window - options_.max_frame) / 2;
    if (unreturned_ > threshold) {
      grant = unreturned_;
      unreturned_ = 0;
    }
  }
  if (grant == 0) return Status::Ok();
  return Send(Credit{grant});
}

void Channel::Abort(const Status& why) {
  stop_ = true;
  Wake();
  Fail(why.ok() ? Internal("session aborted") : why, false);
  space_cv_.notify_all();
}

void Channel::CloseWrite() {
  std::lock_guard<std::timed_mutex> l(send_mu_);
  if (write_closed_) return;
  (void)WriteLater();
  write_closed_ = true;
  if (out_fd_ == in_fd_) {
    ::shutdown(out_fd_, SHUT_WR);
  } else {
    ::close(out_fd_);
    out_fd_ = -1;
  }
}

}  // namespace ferry::protocol
