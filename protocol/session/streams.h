// --streams N (PROTOCOL.md section "Streams"): one transfer as N parallel
// sessions over the same transport (N remote shells, or N daemon
// connections), then one final session.
//
// The work split: the sender side of every stream scans the same tree; stream
// k of N (SessionOptions.stream_index/stream_count, negotiated) lists every
// directory (mkdir is idempotent; the receiver tolerates another stream's
// mkdir) and every other entry whose stable hash falls on k: the hash of
// (device, inode) for a regular file with several links under -H, so a
// hard-link group stays in one stream, else the hash of its path. Streams
// run without --delete, keep other streams' temporaries and leave directory
// metadata alone. When every stream succeeded, one final session, not a
// stream, runs with the user's options: it finds the files up to date (a
// no-change pass), does --delete, directory metadata (after all contents)
// and anything a stream missed (a file that changed meanwhile).
//
// Not done: splitting one large file across streams by byte ranges; a large
// file travels whole in the one stream its hash picks.
//
// Errors: a failed stream fails the run with its Status, prefixed
// "stream K of N: "; the final pass is then not run. Per-path errors of
// every session reach `events` (serialised, repeated warnings once).
//
// Thread safety: RunStreams runs the sessions on its own threads and calls
// `session` from them concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/transfer/options.h"
#include "engine/transfer/report.h"
#include "engine/tree/entry.h"
#include "protocol/messages.h"
#include "protocol/session/client.h"

namespace ferry::protocol {

// Whether the sender side of this session lists `e` (at `path`): always when
// the session is not a stream; else as the header says.
bool StreamSends(const SessionOptions& o, const Entry& e, const std::string& path);

// Whether a failed mkdir of `name` in `dirfd` only lost a race with another
// stream of the same transfer: the session is a stream, the error is EEXIST
// and `name` is now a directory.
bool StreamLostMkdirRace(const SessionOptions& o, io::IoBackend& io, int dirfd,
                         const char* name, const Status& mkdir_error);

// Whether a receiver removes leftover temporaries: not while other streams
// may be writing theirs (the final pass does).
bool RemovesLeftovers(const SessionOptions& o);

// Whether a receiver applies directory metadata: not in a stream (other
// streams still write into the directories); the final pass does.
bool AppliesDirMeta(const SessionOptions& o);

// One session of the transfer: stream `index` of `count`, or with count 0 the
// final session. `opt` is what that session runs with (no --delete for a
// stream).
using StreamSession = std::function<Result<RemoteResult>(
    uint32_t index, uint32_t count, const SyncOptions& opt, SyncStats& stats,
    SyncEvents& events)>;

// Runs `streams` (2..kStreamsMax) sessions in parallel, then the final one.
// `stats` gets the work of every session summed and the scan totals of the
// final pass; bytes on the wire are summed.
Result<RemoteResult> RunStreams(uint32_t streams, const SyncOptions& opt,
                                const StreamSession& session, SyncStats& stats,
                                SyncEvents& events);

}  // namespace ferry::protocol
