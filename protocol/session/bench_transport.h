// `ferry bench --remote [user@]host[:PATH]`: the throughput of the transport
// a sync would use to that host - the remote shell, the session's framing,
// flow control and (with -z) zstd - measured in memory on both ends so the
// disks do not count. The client starts `ferry serve --stdio --bench-sink
// PATH` as sync starts a receiver, streams text-like FileData messages (the
// data sync sends) for a fixed number of bytes, and the sink returns credit
// as the receiver does and answers the closing EndOfPass with what it
// counted. PATH is neither read nor written: nothing is created there.
//
// Thread safety: one call per session.
#pragma once

#include <cstdint>

#include "engine/base/status.h"
#include "protocol/channel.h"
#include "protocol/session/client.h"

namespace ferry::protocol {

struct TransportResult {
  bool compressed = false;
  int compress_level = 0;
  uint64_t payload_bytes = 0;  // data handed to the channel (uncompressed)
  uint64_t wire_bytes = 0;     // bytes the channel wrote, framing included
  double seconds = 0;          // first message to the sink's answer
  double setup_seconds = 0;    // remote shell start and handshake
  double payload_bps() const { return seconds > 0 ? payload_bytes / seconds : 0; }
  double wire_bps() const { return seconds > 0 ? wire_bytes / seconds : 0; }
};

// Pushes `bytes` of text-like data through a session to `spec` (remote
// options as for sync: rsh, remote ferry, compression). Errors: the remote
// shell or handshake failed, the sink counted other than what was sent
// (kCorrupt), the stream broke.
Result<TransportResult> MeasureTransport(const RemoteOptions& ro, const RemoteSpec& spec,
                                         uint64_t bytes);

// The server's side: counts FileData until EndOfPass, returning credit, and
// answers EndOfPass{1, messages, bytes}.
Status ServeBenchSink(Channel& ch);

}  // namespace ferry::protocol
