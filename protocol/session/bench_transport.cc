#include "protocol/session/bench_transport.h"

#include <algorithm>
#include <chrono>

#include "engine/probe/sample_data.h"
#include "protocol/session/common.h"

namespace ferry::protocol {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

Result<TransportResult> MeasureTransport(const RemoteOptions& ro, const RemoteSpec& spec,
                                         uint64_t bytes) {
  if (bytes == 0) return InvalidArgument("the transport measurement needs at least 1 byte");
  TransportResult out;
  out.compressed = ro.compress;
  out.compress_level = ro.compress ? ro.compress_level : 0;
  SessionOptions o;
  o.numeric_ids = true;
  o.compression = ro.compress ? Compression::kZstd : Compression::kNone;
  o.compress_level = out.compress_level;
  o.max_frame = ro.max_frame;
  o.window = ro.window;
  const auto setup = Clock::now();
  auto started = StartRemote(ro, spec, ServeRole::kBenchSink, o);
  if (!started.ok()) return started.status();
  RemoteSession session = std::move(started).value();
  Channel& ch = *session.channel;
  out.setup_seconds = Since(setup);

  // One buffer of sample data, sent again and again: the compressor sees
  // text, not repeats within its window (4 MiB is larger than zstd -3's).
  const size_t chunk = std::min<size_t>(ch.max_payload() - 64, 256 * 1024);
  const std::vector<std::byte> sample = probe::TextLikeData(4 << 20, 7);
  const uint64_t wire_before = ch.bytes_sent();
  const auto start = Clock::now();
  uint64_t sent = 0, messages = 0;
  size_t at = 0;
  Status s;
  while (sent < bytes && s.ok()) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk, bytes - sent));
    if (at + n > sample.size()) at = 0;
    FileData m;
    m.file_index = 0;
    m.offset = sent;
    m.data.assign(sample.begin() + static_cast<ptrdiff_t>(at),
                  sample.begin() + static_cast<ptrdiff_t>(at + n));
    s = ch.Send(m);
    at += n;
    sent += n;
    ++messages;
  }
  if (s.ok()) s = ch.Send(EndOfPass{1, messages, sent});
  if (s.ok()) {
    while (true) {
      auto in = ch.Receive();
      if (!in.ok()) {
        s = in.status();
        break;
      }
      if (in->eof) {
        s = Status(ErrorCode::kIo, "the bench sink ended the session before answering");
        break;
      }
      if (const auto* e = std::get_if<Error>(&in->message)) {
        s = StatusFromWire(*e);
        break;
      }
      if (const auto* end = std::get_if<EndOfPass>(&in->message)) {
        if (end->bytes != sent || end->files != messages) {
          s = Corrupt("the bench sink counted " + std::to_string(end->bytes) + " bytes in " +
                      std::to_string(end->files) + " messages; " + std::to_string(sent) +
                      " in " + std::to_string(messages) + " were sent");
        }
        break;
      }
    }
  }
  out.seconds = Since(start);
  out.payload_bytes = sent;
  out.wire_bytes = ch.bytes_sent() - wire_before;
  if (s.ok()) ch.CloseWrite();
  else ch.Abort(s);
  const std::string why = FinishRemote(session);
  if (!s.ok()) return Status(s.code(), s.message() + (why.empty() ? "" : " (" + why + ")"));
  return out;
}

Status ServeBenchSink(Channel& ch) {
  uint64_t bytes = 0, messages = 0;
  while (true) {
    ASSIGN_OR_RETURN(Incoming in, ch.Receive());
    if (in.eof) return Status(ErrorCode::kIo, "the client ended the bench before EndOfPass");
    if (const auto* d = std::get_if<FileData>(&in.message)) {
      if (d->offset != bytes) {
        Status s = Corrupt("FileData at offset " + std::to_string(d->offset) + ", expected " +
                           std::to_string(bytes));
        (void)ch.Send(ProtocolError(s));
        return s;
      }
      bytes += d->data.size();
      ++messages;
      RETURN_IF_ERROR(ch.ReturnCredit(in.wire_bytes));
      continue;
    }
    if (std::holds_alternative<EndOfPass>(in.message)) break;
    if (const auto* e = std::get_if<Error>(&in.message)) return StatusFromWire(*e);
    Status s = Corrupt("unexpected " + TypeName(static_cast<uint8_t>(TypeOf(in.message))) +
                       " in a transport bench");
    (void)ch.Send(ProtocolError(s));
    return s;
  }
  RETURN_IF_ERROR(ch.Send(EndOfPass{1, messages, bytes}));
  ch.CloseWrite();
  while (true) {  // until the client closes its direction
    ASSIGN_OR_RETURN(Incoming in, ch.Receive());
    if (in.eof) return Status::Ok();
  }
}

}  // namespace ferry::protocol
