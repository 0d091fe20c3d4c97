// The sender role of a remote session (PROTOCOL.md section 5): scans SRC,
// streams the file list, and answers the receiver's requests with whole-file
// data or delta ops against the receiver's signature, each file ended by
// FileDone with its XXH3-128.
//
// Pipelining: the list is streamed by its own thread while requests are
// answered; requests are served by a pool of workers, so the sender never
// waits for one file (or for the list) before starting the next; chunks of
// different files interleave on the wire.
//
// Sources are opened beneath the SRC root with O_NOFOLLOW on every component
// (io::IoBackend::OpenBeneath) and checked against the scan (device, inode,
// size), so a file swapped for a symlink after the scan is never followed
// (CVE-2024-12747 class); it is reported to the receiver as Error{kChanged}.
// A request is served only for an index of the list sent and a regular file;
// the delta basis is described by the receiver's signature only.
//
// The receiver's PlannedTotals (kCapPlanned) become stats' planned totals
// and fire events.OnPlanned (a pushing client's progress); literal bytes are
// counted as they are sent.
//
// Errors: per-path failures are reported through `events` (and to the peer
// as Error messages, which is how a server's failures reach the client);
// the returned Status is a session failure (protocol error, lost
// connection, unreadable root).
//
// Thread safety: runs its own threads; events are called from them,
// serialised by the session.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/transfer/report.h"
#include "protocol/channel.h"

namespace ferry::protocol {

struct SenderConfig {
  // rsync's trailing-slash rule: "dir/" (or ".") sends the contents of dir,
  // listed under "." (its own metadata included); "dir" sends dir itself as
  // "dir/..."; a non-directory is sent as its name.
  std::string path;
  // >= 0: `path` is relative to this directory (a daemon module's root, held
  // by the caller) and is opened beneath it without following any symlink
  // (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so nothing outside it can
  // be named. -1: `path` is a local path, opened as given.
  int base_fd = -1;
  io::BackendKind io = io::BackendKind::kAuto;
  int workers = 0;  // request workers; 0: min(4, cores)
  // Report the receiver's per-path Error messages through events (the
  // client does; a server leaves that to the client).
  bool show_peer_errors = true;
  // With --safe-links agreed: report each unsafe symlink through events
  // (the client does, so the user sees them; a server leaves that to the
  // receiving client). The link is listed all the same - the receiver
  // enforces --safe-links, and its name keeps DST's entry from --delete.
  bool report_unsafe_links = true;
  // Tests inject backends (a file that shrinks while read) here; overrides
  // `io` for every thread of the sender.
  std::function<std::unique_ptr<io::IoBackend>()> backend_factory;
};

Result<SyncOutcome> RunSender(Channel& ch, const SenderConfig& config, SyncStats& stats,
                              SyncEvents& events);

}  // namespace ferry::protocol
