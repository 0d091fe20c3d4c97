// Internal to protocol/session: lists DST directories ahead of the
// receiver's message loop.
//
// The sender emits a directory's entries before it enters any of its
// subdirectories, so the receiver learns of every subdirectory S of D while
// it still works through D. Request(S) queues S; a few threads open it
// beneath the root, list it (engine/tree/scan ListDir: names and lstat) and,
// when the session keeps xattrs or ACLs, read each entry's kept xattrs, so
// that when the list reaches S, Take(S) hands over what the message loop
// would otherwise have read itself, one syscall at a time.
//
// Take of a path whose listing has not started runs it on the caller's
// thread (no waiting behind the queue); of a path never requested (or
// refused because `max_pending` listings were queued or unclaimed) returns
// nullopt and the caller lists it itself. The list comes in depth-first
// order (a directory's entries sorted by name), so Take(X) also drops every
// listing that comes before X in that order: a directory the list entered
// nothing of (empty on SRC) is never taken.
//
// With `enter`, every listing also requests the subdirectories it found for
// which enter(path) is true (the walk will most likely enter them: DST
// mirrors SRC; the sender leaves out what its filter excludes), and the workers
// take the queued directory the walk reaches first: they keep ahead of the
// loop even through small directories, whose remaining entries leave the
// loop no time between requesting a subdirectory and needing it.
//
// Same(): whether a directory the caller opened is the one listed.
//
// Thread safety: Request and Take from one thread (the message loop); the
// workers use their own POSIX backends; `root` must stay open until the
// object is destroyed (the destructor stops and joins the workers).
#pragma once

#include <sys/stat.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/tree/entry.h"
#include "engine/tree/metadata.h"

namespace ferry::protocol {

class DirPrefetch {
 public:
  struct Listing {
    Status status;  // opening or listing failed: the path's error
    // The directory listed: the caller opens it again itself (holding a
    // descriptor per listing would run out of them) and uses the listing
    // only if its descriptor is this directory.
    uint64_t dev = 0, ino = 0;
    std::vector<Entry> entries;  // sorted by name (ListDir)
    // With xattrs: the kept xattrs of entries[i] where read_ok[i].
    std::vector<std::vector<io::Xattr>> xattrs;
    std::vector<uint8_t> read_ok;
  };

  using Enter = std::function<bool(const std::string& rel)>;
  DirPrefetch(int root, const MetaPolicy& policy, bool xattrs, int threads, size_t max_pending,
              Enter enter = nullptr);
  ~DirPrefetch();
  DirPrefetch(const DirPrefetch&) = delete;
  DirPrefetch& operator=(const DirPrefetch&) = delete;

  static bool Same(const Listing& l, const struct stat& st) {
    return l.status.ok() && static_cast<uint64_t>(st.st_dev) == l.dev &&
           static_cast<uint64_t>(st.st_ino) == l.ino;
  }

  // `rel`: a directory beneath the root ("" the root itself).
  void Request(const std::string& rel);
  std::optional<Listing> Take(const std::string& rel);

 private:
  // Depth-first order of the sender's walk: by component, '/' below any
  // byte of a name.
  struct DfsLess {
    bool operator()(const std::string& a, const std::string& b) const;
  };
  struct Slot {
    bool started = false;
    bool done = false;
    Listing result;
  };
  void Work();
  Listing List(io::IoBackend& io, const std::string& rel) const;
  // With enter_: queues the subdirectories of rel's listing (mu_ held).
  void Descend(const std::string& rel, const Listing& l);
  void Queue(const std::string& rel);  // mu_ held

  const int root_;
  const MetaPolicy policy_;
  const bool xattrs_;
  const int threads_;
  const size_t max_pending_;
  const Enter enter_;  // called on the workers and the caller's thread
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::set<std::string, DfsLess> queue_;  // not started, in the walk's order
  std::map<std::string, std::shared_ptr<Slot>, DfsLess> slots_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace ferry::protocol
