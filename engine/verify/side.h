// The two sides of a verification as the comparison sees them: directories
// that list their entries, read xattrs and link targets, and hash file
// contents. LocalSide (local_side.h) implements them on local paths through
// the IoBackend seam; the remote side (protocol/session/verify_remote.cc)
// implements the same calls over the stream of a ferry peer
// (`serve --verify-side`), which hashes its files where they are and sends
// only listings and hashes.
//
// Thread safety: every SideDir method may be called from several worker
// threads at once (the comparison hashes batches of one directory in
// parallel). Ownership: SideDirs are shared (std::shared_ptr) by the tasks
// that use them; a directory stays open while any task holds it.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/base/hash.h"
#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/tree/entry.h"
#include "engine/tree/metadata.h"
#include "engine/verify/verify.h"

namespace ferry::verify {

// One file to hash: in, the entry as listed (name, size and identity); out,
// the hash or why there is none (kNotFound: vanished; kChanged: it changed
// while it was read, so the hash proves nothing).
struct HashOp {
  const Entry* entry = nullptr;
  Hash128 hash;
  Status status;
};

class SideDir {
 public:
  virtual ~SideDir() = default;
  // The directory's own entry (name ".").
  virtual Result<Entry> Self() = 0;
  // Every entry except "." and "..", sorted by name, symlinks not followed.
  // Errors name the directory.
  virtual Result<std::vector<Entry>> List() = 0;
  // The entry `name` of this directory (kNotFound when absent).
  virtual Result<Entry> Lookup(const std::string& name) = 0;
  // Opens the subdirectory `name` without following a symlink.
  virtual Result<std::shared_ptr<SideDir>> OpenChild(const std::string& name) = 0;
  // Xattrs of entry `name` (nullptr: the directory itself) that policy p
  // carries, sorted by name; not following symlinks.
  virtual Result<std::vector<io::Xattr>> Xattrs(const MetaPolicy& p,
                                                const char* name) = 0;
  virtual Result<std::string> ReadLink(const std::string& name) = 0;
  // Hashes regular files of this directory (XXH3-128 of the whole content).
  // Each op succeeds or fails on its own. Cost: reads every byte once; small
  // files may be read as one batch.
  virtual void HashFiles(std::span<HashOp> ops) = 0;
  // Why List() left out an entry `name` this side may have (not OK: it was
  // not compared; a remote side cannot send a name holding a control byte).
  // OK: List() hides nothing by that name.
  virtual Status Unlisted(const std::string& /*name*/) { return Status::Ok(); }
};

// The root of one side: a directory compared with the other side's root
// directory, or (for "SRC" without a trailing slash) one entry of `dir`.
struct SideRoot {
  std::shared_ptr<SideDir> dir;  // null: this side does not exist at all
  std::optional<std::string> entry;
};

// Compares src with dst. Both roots must be of the same shape (both with an
// entry, or neither); report paths are relative to the roots, and for an
// entry root they start with src's entry name. Runs on the calling thread's
// TBB arena (the caller limits its parallelism).
VerifyOutcome VerifySides(const SideRoot& src, const SideRoot& dst,
                          const VerifyOptions& opt, VerifyEvents& events);

}  // namespace ferry::verify
