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
// metadata alone. When every stream succeeded, one final session (stream N
// of N: not a stream, but it knows the run) runs with the user's options: it
// finds the files up to date (a no-change pass), does --delete, directory
// metadata (after all contents) and anything a stream missed (a file that
// changed meanwhile).
//
// Large files (>= split_min, not a hard-link follower) are listed by every
// stream and split by byte ranges (SplitRange): stream k sends its range
// (whole, or as a delta against the same range of DST's old copy) with
// offsets and FileDone relative to the range, and its receiver writes it
// into one shared temporary (SplitTempName, named after the run) without
// landing it. The final pass lists the file as usual; its receiver takes
// this run's shared temporary as the delta basis (IsSplitTemp), so only the
// signature and copy ops cross the wire, and the file lands by the usual
// path: after the whole-file XXH3-128 matched the sender's. An interrupted
// run leaves only temporaries, which the next final pass removes.
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
#include <optional>
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

// Whether the session is one of the parallel streams (not the final pass).
bool IsStream(const SessionOptions& o);

// The part of a regular file of `size` bytes this stream carries, when the
// file is split across the streams (a stream, split_min set, size >=
// split_min, not a hard-link follower); nullopt when it travels whole. The
// ranges of streams 0..N-1 tile the file in order, boundaries on 64 KiB.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};
std::optional<ByteRange> SplitRange(const SessionOptions& o, uint64_t size, bool follower);

// The shared temporary of a split file `name` in its directory, the same in
// every stream of the run (and in the final pass).
std::string SplitTempName(const SessionOptions& o, const std::string& name);
// Whether `temp` (a name IsTempName accepts) is a shared temporary of this
// run, as the final pass sees it: the delta basis of its file.
bool IsSplitTemp(const SessionOptions& o, const std::string& temp);

// Whether a failed mkdir of `name` in `dirfd` only lost a race with another
// stream of the same transfer: the session is a stream, the error is EEXIST
// (or EISDIR, from removing the non-directory DST had there) and `name` is
// now a directory.
bool StreamLostMkdirRace(const SessionOptions& o, io::IoBackend& io, int dirfd,
                         const char* name, const Status& mkdir_error);

// Whether a receiver removes leftover temporaries: not while other streams
// may be writing theirs (the final pass does).
bool RemovesLeftovers(const SessionOptions& o);

// Whether a receiver applies directory metadata: not in a stream (other
// streams still write into the directories); the final pass does.
bool AppliesDirMeta(const SessionOptions& o);

// One session of the transfer: stream `index` of `count`, or with index ==
// count the final session. `opt` is what that session runs with (no
// --delete for a stream).
using StreamSession = std::function<Result<RemoteResult>(
    uint32_t index, uint32_t count, const SyncOptions& opt, SyncStats& stats,
    SyncEvents& events)>;

// Runs `streams` (2..kStreamsMax) sessions in parallel, then the final one.
// `stats` gets the work of every session summed (kept up to date while they
// run, every 100 ms, for the progress line) and the scan totals of the final
// pass; once every stream's receiver has planned, the summed plan (and
// events.OnPlanned with it, once). Bytes on the wire are summed.
Result<RemoteResult> RunStreams(uint32_t streams, const SyncOptions& opt,
                                const StreamSession& session, SyncStats& stats,
                                SyncEvents& events);

}  // namespace ferry::protocol
