// The receiver role of a remote session (PROTOCOL.md sections 5 and 8):
// owns DST. Validates every incoming entry at the boundary
// (FileListValidator), compares it with DST (size and mtime, or content with
// --checksum), requests what differs - as a delta against its own file,
// described by its signature, or whole - and lands each file only after its
// XXH3-128 matched the sender's (IncomingFile).
//
// The local engine's guarantees hold: data is written into an unnamed
// (O_TMPFILE) or temporary file in the file's final directory and linked or
// renamed into place after data and metadata are complete; every DST
// directory is opened beneath the DST root without following symlinks
// (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, O_NOFOLLOW per name);
// zero runs become holes (sparse files stay sparse); owners are numeric
// unless names were agreed (then mapped, never to root for an unknown name);
// hard links, symlinks, devices and specials (as root), xattrs and ACLs and
// ns mtimes are applied, directory metadata after the contents. --delete
// removes, only inside directories of the transferred list, the names the
// list does not have, after all files landed. A file whose hash does not
// match is requested again, whole, in a second pass. Leftover temporaries of
// an interrupted run are removed from each directory the list visits.
//
// When the list has ended and is compared, stats.planned is set and
// events.OnPlanned fires with the files requested and their bytes; with
// kCapPlanned agreed the sender is told them too (PlannedTotals). Literal
// and matched bytes are counted as data arrives.
//
// Errors: per-path failures go through `events` (and to the peer as Error
// messages); the Status is a session failure (protocol error, lost
// connection, DST root unusable).
//
// Thread safety: runs on the calling thread (the channel's reader thread
// feeds it).
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/transfer/report.h"
#include "protocol/channel.h"

namespace ferry::protocol {

struct ReceiverConfig {
  std::string path;  // DST root; created (with missing parents) if absent
  // >= 0: `path` is relative to this directory (a daemon module's root, held
  // by the caller); the DST root and its missing parents are created and
  // opened beneath it, never through a symlink. -1: `path` is a local path.
  int base_fd = -1;
  io::BackendKind io = io::BackendKind::kAuto;
  bool whole_file = false;       // never request deltas
  uint32_t max_in_flight = 256;  // requests left unanswered at most
  // Report the sender's per-path Error messages through events (the client
  // does; a server leaves that to the client).
  bool show_peer_errors = true;
  // The process ends with this session (`ferry serve --stdio`): after a
  // successful session its state is left to the exit instead of freed piece
  // by piece (tens of milliseconds for 100,000 entries, while the client
  // waits for the process to end). Never for a process that goes on.
  bool leave_state_to_exit = false;
  // Replaced files' old copies (up to defer_close_max bytes in all, and
  // 1/16 of DST's free space) are closed by a helper process after the
  // session (engine/io/deferred_close.h), not during it: their blocks are
  // freed then. Beyond that, as without it, they are closed at once.
  bool defer_close = true;
  uint64_t defer_close_max = 4ull << 30;
};

Result<SyncOutcome> RunReceiver(Channel& ch, const ReceiverConfig& config, SyncStats& stats,
                                SyncEvents& events);

}  // namespace ferry::protocol
