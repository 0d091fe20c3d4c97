// VerifyTrees: `ferry verify SRC DST` -- proves that DST is a faithful copy of
// SRC, or lists every way it is not, without changing either tree.
//
// What is compared, entry by entry (after the filter rules, which apply to
// both sides as they do in `ferry sync`):
//  * presence: an entry only SRC has is missing (itemized as rsync would
//    create it: ">f+++++++++", "cd+++++++++", ...); an entry only DST has is
//    extra ("*deleting   path", as `rsync --delete` prints it); an entry of
//    another type on each side is both (extra, then missing).
//  * regular files: size, and content by XXH3-128 whenever the sizes are equal
//    (read on both sides in parallel, whatever the mtimes say).
//  * symlinks: the target; devices: the device number.
//  * metadata: permission bits, owner, group, mtime to the nanosecond, ACLs
//    and xattrs (the ones `ferry sync` carries: MetaPolicy/KeepXattr). Unlike
//    rsync -o, owners are compared also when not running as root: verifying
//    only reads, and an owner that differs is a difference.
//  * hard links: paths that are one file on one side and two files on the
//    other ("hf          b => a": SRC links b to a, DST does not; or DST links
//    them and SRC does not).
// Not compared: atimes and ctimes, inode numbers, link counts towards files
// outside the tree, and directory sizes.
//
// Each difference is reported once through VerifyEvents, as a Difference
// that carries the rsync -i item and both sides' entries, in the order the
// parallel workers find them (sort the output for a stable view).
//
// Errors: a path that cannot be read (listing, xattrs, link target, content)
// is reported through OnError with the path and the cause, and the rest of
// the tree goes on (VerifyOutcome::errors). A Status is returned only when
// nothing can be compared (a root cannot be opened, bad arguments).
//
// Remote sides: the comparison itself (VerifySides in engine/verify/side.h)
// only talks to the SideDir interface; VerifyTrees binds it to local paths,
// protocol/session/verify_remote.h to one local and one remote side.
//
// Thread safety: runs its own worker threads (options.jobs); events are
// serialised (one callback at a time).
// Memory: the listings of the directories being compared (not the whole
// tree), one read buffer per worker (up to 8 MiB for a batch of small files),
// and one record per hard-linked file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/hash.h"
#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/transfer/itemize.h"
#include "engine/tree/entry.h"
#include "engine/tree/filter.h"
#include "engine/tree/id_map.h"

namespace ferry {

// The immutable description of one verification. Defaults compare what
// `ferry sync` (rsync -aHAX --numeric-ids) preserves.
struct VerifyOptions {
  bool content = true;     // hash regular files of equal size
  bool perms = true;       // permission bits (not for symlinks)
  bool times = true;       // mtime in ns
  bool owner = true;       // uid (also when not root)
  bool group = true;       // gid
  bool acls = true;        // system.posix_acl_* xattrs
  bool xattrs = true;      // other xattrs carried by sync (user.* unless root)
  bool hard_links = true;  // hard-link structure

  std::shared_ptr<const FilterList> filter;  // may be null: everything
  // --usermap/--groupmap/--chown of the sync that made the copy: SRC's owner
  // and group are mapped (names looked up on this machine) before they are
  // compared with DST's. Null: compared as they are. Must be bound.
  std::shared_ptr<const IdMapping> id_map;

  int jobs = 0;  // worker threads; 0 = number of cores
  io::BackendKind io = io::BackendKind::kAuto;
  // Tests inject backends (fault injection) here; overrides `io`.
  std::function<std::unique_ptr<io::IoBackend>()> backend_factory;
};

struct VerifyRequest {
  // rsync's trailing-slash rule, as for `ferry sync SRC DST`: "dir/" compares
  // the contents of dir with DST; "dir" compares dir with DST/dir. A single
  // non-directory SRC is compared with DST/name when DST is a directory (or
  // ends in '/'), else with DST itself.
  std::string src;
  std::string dst;
};

enum class DiffKind : uint8_t {
  kMissing,     // only in SRC (or of another type in DST: see kExtra)
  kExtra,       // only in DST
  kChanged,     // same type on both sides; `item` says what differs
  kLinkBroken,  // SRC hard-links `path` to `link_peer`; DST does not
  kLinkJoined,  // DST hard-links `path` to `link_peer`; SRC does not
};

const char* DiffKindName(DiffKind k);  // "missing", "extra", "changed", ...

// One difference. Entries are as scanned (Entry::name is the last path
// component on that side).
struct Difference {
  DiffKind kind = DiffKind::kChanged;
  // Relative to the compared roots, '/'-separated; a directory ends in '/';
  // the root directory itself is "./".
  std::string path;
  // rsync -i flags. For kChanged of a regular file, `checksum` means the
  // content differs (always with `size` when the sizes differ); for a
  // symlink, the target; for a device, the device number.
  ItemFlags item;
  std::optional<Entry> src, dst;
  std::string src_target, dst_target;  // symlinks: link targets
  std::optional<Hash128> src_hash, dst_hash;  // set when both were hashed
  std::string link_peer;  // kLinkBroken / kLinkJoined: the other path

  // The 11-character rsync item: ">fcs.......", "*deleting  ", "hf         ".
  std::string Itemized() const;
  // What rsync prints after the path: " -> target" for a symlink,
  // " => peer" for a broken hard link, an explanation for a joined one.
  std::string Suffix() const;
};

// Receives the results. Callbacks come from worker threads, one at a time.
class VerifyEvents {
 public:
  virtual ~VerifyEvents() = default;
  virtual void OnDifference(const Difference& /*d*/) {}
  // A path that could not be read: "<path>: <operation>: <cause>".
  virtual void OnError(const Status& /*error*/) {}
  // A file that vanished while it was being compared, and similar notes.
  virtual void OnWarning(std::string_view /*message*/) {}
};

struct VerifyOutcome {
  uint64_t differences = 0;  // OnDifference calls
  uint64_t errors = 0;       // OnError calls: paths not verified
  uint64_t vanished = 0;     // source entries gone before they were compared
  uint64_t entries = 0;      // SRC entries compared (after filters)
  uint64_t files_hashed = 0;  // regular files hashed, counting both sides
  uint64_t bytes_hashed = 0;  // their bytes, both sides
  double seconds = 0;
  bool identical() const { return differences == 0 && errors == 0 && vanished == 0; }
};

Result<VerifyOutcome> VerifyTrees(const VerifyRequest& req, const VerifyOptions& opt,
                                  VerifyEvents& events);

}  // namespace ferry
