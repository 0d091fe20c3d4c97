// Channel: one session's framed, optionally zstd-compressed, bidirectional
// message stream over an fd pair (ssh pipes, a socketpair, a TCP socket):
// the handshake (handshake.h), then messages (message_stream.h) both ways,
// with flow control (credit.h) and keepalives (PROTOCOL.md sections 2-7).
//
// Threads. Open() runs the handshake on the calling thread, then starts one
// reader thread that reads the peer continuously, decodes frames into
// messages and queues them for Receive(). The reader itself consumes
// Credit (it refunds the outbound window and wakes a waiting Send) and
// Keepalive messages, and spends the inbound window for every FileData /
// DeltaOps frame as it arrives, so a peer that overruns its credit is a
// protocol error before the message is queued. It also sends a Keepalive
// when this side has sent nothing for kKeepaliveInterval.
//
// Bounds. The inbox holds at most `inbox_bytes` of decoded payload; beyond
// that the reader stops reading (the peer's writes then block: back
// pressure, never unbounded memory). A frame is never larger than the
// negotiated max_frame.
//
// Errors. A protocol violation, a frame cut by the end of the stream, or a
// read error ends the stream: Receive() returns that error (kCorrupt for
// the peer's fault, kIo for the transport) after the messages queued before
// it; a protocol error is also reported to the peer with Error{kProtocol}.
// The end of the stream at a frame boundary is not an error: Receive()
// returns an Incoming with eof set. Receive() fails with kIo ("no message
// from the peer for N s") when nothing, not even a keepalive, arrived for
// `timeout`.
//
// Thread safety: Send, ReturnCredit and the counters may be called from any
// thread; Receive from one consumer thread at a time.
// Ownership: the Channel owns both fds (one fd when in_fd == out_fd, e.g. a
// socket) and closes them when destroyed; the destructor stops the reader.
// out_fd is made non-blocking (writes poll, so a stuck peer times out).
// SIGPIPE must be ignored by the process (a closed pipe then is EPIPE).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/base/status.h"
#include "protocol/codec.h"
#include "protocol/compress.h"
#include "protocol/credit.h"
#include "protocol/frame.h"
#include "protocol/handshake.h"
#include "protocol/message_stream.h"
#include "protocol/messages.h"

namespace ferry::protocol {

inline constexpr std::chrono::seconds kKeepaliveInterval{10};
inline constexpr uint64_t kDefaultWindow = 32ull << 20;

struct ChannelConfig {
  Role role = Role::kClient;
  uint64_t capabilities = kCapKnownMask;  // offered in Hello
  uint32_t max_frame = kDefaultMaxFrame;  // largest frame accepted
  // Longest wait for the next message (keepalives count); zero: forever.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  size_t inbox_bytes = 256u << 20;
};

// A received message and the payload bytes its frame carried on the wire
// (compressed or not: what flow control counts).
struct Incoming {
  bool eof = false;  // the peer ended the stream at a frame boundary
  Message message;
  uint32_t wire_bytes = 0;
};

class Channel {
 public:
  // Handshake as the client: greeting, Hello, then proposes `options` and
  // checks the server's echo. Errors: the peer's Error (kUnsupported with
  // its message), a bad stream magic (kCorrupt naming the first bytes: a
  // shell banner), the peer closing during the handshake (kIo), timeouts.
  static Result<std::unique_ptr<Channel>> Connect(int in_fd, int out_fd,
                                                  const ChannelConfig& config,
                                                  const SessionOptions& options);

  // Handshake as the server: greeting, Hello, receives the client's
  // options, checks them with CheckOptions and then `policy` (may be empty;
  // its error is sent to the client as Error{kRefused} and returned), and
  // acknowledges them.
  static Result<std::unique_ptr<Channel>> Accept(
      int in_fd, int out_fd, const ChannelConfig& config,
      const std::function<Status(const SessionOptions&)>& policy);

  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const SessionOptions& options() const { return options_; }
  // The capability bits both sides set (Hello), e.g. kCapReuse.
  uint64_t capabilities() const { return negotiated_.capabilities; }
  // The largest uncompressed payload one message may carry (chunk data to
  // fit: MaxMessagePayload).
  size_t max_payload() const;

  // Sends one message. FileData and DeltaOps first wait for flow-control
  // credit (returned by the peer's Credit messages). Errors: the stream
  // already failed, a write error (kIo "connection closed by the peer"),
  // encoding errors.
  Status Send(const Message& m);

  // Queues m behind this side's earlier output, for a message that may wait
  // until this side waits (the receiver's Itemized reports, requests and
  // probes; the sender's ProbeResults): it is written with the next Send,
  // before Receive waits for the peer (at the latest one poll slice after
  // it began waiting), before a Send waits for credit, at CloseWrite, at
  // FlushLater, or once 64 messages or 64 KiB are queued. One write for
  // many messages instead of one each (and one wake-up of the peer's
  // reader). Not for data messages.
  Status SendLater(const Message& m);
  // Writes what SendLater queued (a thread about to wait for work calls it).
  void FlushLater();

  // The next message, in order. See the header comment for errors and eof.
  Result<Incoming> Receive();

  // Receiver: `bytes` of FileData/DeltaOps (Incoming::wire_bytes) were
  // written out; grants them back to the sender (batched into Credit
  // messages).
  Status ReturnCredit(uint64_t bytes);

  // Ends this direction: shutdown(SHUT_WR) of a socket, close of a pipe's
  // out_fd; the peer sees the end of the stream. Idempotent.
  void CloseWrite();

  // Ends the session from this side after a local failure: waiting Sends
  // and Receives return `why`; a blocked write gives up. Idempotent.
  void Abort(const Status& why);

  uint64_t bytes_sent() const { return bytes_sent_.load(); }
  uint64_t bytes_received() const { return bytes_received_.load(); }

 private:
  Channel(int in_fd, int out_fd, const ChannelConfig& config);
  Status Greet(std::vector<std::byte>* leftover);
  Status SetUpCodec(uint16_t version, const SessionOptions& options);
  // Synchronous handshake read of one frame (before the reader starts).
  Result<Frame> ReadFrameSync();
  Status WriteAll(std::span<const std::byte> bytes);
  // Writes later_buf_ and then out_buf_; later_buf_ alone (send_mu_ held).
  Status WriteOut();
  Status WriteLater();
  void StartReader();
  void Wake();
  void ReaderLoop();
  void Fail(Status s, bool tell_peer);
  Status HandleControl(const Message& m, uint32_t wire_bytes, bool* consumed);

  int in_fd_;
  int out_fd_;
  ChannelConfig config_;
  Negotiated negotiated_;
  SessionOptions options_;
  std::unique_ptr<Codec> codec_;
  std::unique_ptr<Compressor> compressor_;
  std::unique_ptr<Decompressor> decompressor_;
  FrameDecoder decoder_{kHandshakeMaxFrame};
  std::vector<std::byte> pending_in_;  // read during the handshake, not yet decoded

  // Sending.
  std::timed_mutex send_mu_;
  std::unique_ptr<MessageWriter> writer_;
  std::vector<std::byte> out_buf_;
  std::vector<std::byte> later_buf_;  // SendLater's queue (send_mu_)
  size_t later_count_ = 0;            // messages in it
  std::atomic<bool> later_pending_{false};
  bool write_closed_ = false;
  std::atomic<int64_t> last_send_ns_{0};
  std::atomic<int64_t> last_recv_ns_{0};
  std::atomic<bool> failed_{false};

  // Credit: outbound (we send data) and inbound (we receive data).
  std::mutex credit_mu_;
  std::condition_variable credit_cv_;
  std::unique_ptr<CreditWindow> out_credit_;
  std::unique_ptr<CreditWindow> in_credit_;
  uint64_t unreturned_ = 0;

  // Inbox.
  std::mutex in_mu_;
  std::condition_variable in_cv_;       // consumer waits for messages
  std::condition_variable space_cv_;    // reader waits for space
  std::deque<Incoming> inbox_;
  size_t inbox_bytes_ = 0;
  bool ended_ = false;   // no more messages will be queued
  Status end_status_;    // why (OK: clean eof)
  std::unique_ptr<MessageReader> reader_;
  std::atomic<bool> stop_{false};
  int wake_fd_ = -1;  // eventfd: wakes the reader's poll when stopping
  std::thread thread_;

  std::atomic<uint64_t> bytes_sent_{0};
  std::atomic<uint64_t> bytes_received_{0};
};

}  // namespace ferry::protocol
