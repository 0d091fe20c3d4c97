// RunLocalSync: `ferry sync SRC DST` on one machine, with the meaning of
// `rsync -aHAX --numeric-ids` (see SyncOptions for the knobs).
//
// Stages: scan SRC and DST in parallel (one task per directory) -> plan (what
// to transfer, hard-link groups, totals for progress) -> execute per
// directory in parallel (deletes, creates, small-file batches, large-file
// copies) -> hard links -> directory metadata (after all contents).
//
// Guarantees: every file lands under a temporary name in its final directory
// and is renamed into place after its data and metadata are complete; all
// DST operations are relative to directory fds opened beneath the DST root
// without following symlinks; SRC files are opened O_NOFOLLOW and checked
// against the scan (device/inode, then size/mtime after the read).
//
// Errors on single paths are reported through SyncEvents::OnError and the
// rest of the tree goes on (SyncOutcome says partial); a Status is returned
// only when nothing could be done (a root cannot be opened, bad arguments).
#pragma once

#include <string>

#include "engine/base/status.h"
#include "engine/transfer/options.h"
#include "engine/transfer/report.h"

namespace ferry {

struct SyncRequest {
  // rsync's trailing-slash rule: "dir/" copies the contents of dir into DST;
  // "dir" copies dir itself to DST/dir. A single non-directory SRC lands as
  // DST/name when DST is a directory (or ends in '/'), else as DST.
  std::string src;
  std::string dst;
};

// Thread safety: runs its own worker threads (options.jobs); stats may be read
// concurrently by another thread (progress display); events are serialised.
Result<SyncOutcome> RunLocalSync(const SyncRequest& req, const SyncOptions& opt,
                                 SyncStats& stats, SyncEvents& events);

}  // namespace ferry
