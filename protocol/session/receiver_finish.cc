#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <system_error>
#include <thread>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "engine/base/thread_name.h"
#include "engine/tree/scan.h"
#include "protocol/path_check.h"
#include "protocol/session/common.h"
#include "protocol/session/dst_ops.h"
#include "protocol/session/items.h"
#include "protocol/session/receiver_impl.h"
#include "protocol/session/streams.h"

namespace ferry::protocol::receiver_internal {

void Receiver::UpdateMeta(Listed& rec, int dirfd, const char* name, const Entry& existing,
                          const std::vector<io::Xattr>* read) {
  std::vector<io::Xattr> have;
  if (read != nullptr) {
    have = *read;
  } else if (opt_.xattrs || opt_.acls) {
    auto x = ReadKeptXattrs(*io_, policy_, dirfd, name);
    if (x.ok()) have = std::move(*x);
  }
  const MetaDiff diff = CompareMeta(policy_, rec.meta, existing, rec.xattrs, have);
  if (!diff.any()) return;
  const std::string detail = rec.meta.is_lnk() ? " -> " + rec.target : "";
  if (dry()) {
    stats_.meta_updates++;
    Item(MetaItem(diff, rec.meta), rec.path, detail);
    return;
  }
  DstState ds;
  ds.existing = &existing;
  ds.xattrs = &have;
  Status s = ApplyMeta(*io_, policy_, dirfd, name, rec.meta, rec.xattrs, ds);
  if (!s.ok()) {
    Fail(rec.path, s.WithContext(rec.path), std::nullopt);
    return;
  }
  stats_.meta_updates++;
  Item(MetaItem(diff, rec.meta), rec.path, detail);
}

// Symlinks, devices and specials: made under a temporary name with their
// metadata, then renamed over whatever DST had.
void Receiver::CreateNode(Listed& rec, Dir& dir, const Entry* existing,
                          const std::string& target) {
  const std::string item = NodeItem(policy_, rec.meta, existing);
  const std::string detail = rec.meta.is_lnk() ? " -> " + target : "";
  if (dry()) {
    stats_.created++;
    Item(item, rec.path, detail);
    return;
  }
  const std::string tmp = TempName(rec.meta.name, suffix_);
  Status s = rec.meta.is_lnk()
                 ? io_->SymlinkAt(target.c_str(), dir.fd.get(), tmp.c_str())
                 : io_->MknodAt(dir.fd.get(), tmp.c_str(), rec.meta.mode,
                                static_cast<dev_t>(rec.meta.rdev));
  if (s.ok()) {
    DstState ds;
    ds.new_uid = ::geteuid();
    ds.new_gid = ::getegid();
    s = ApplyMeta(*io_, policy_, dir.fd.get(), tmp.c_str(), rec.meta, rec.xattrs, ds);
    if (s.ok() && existing && existing->is_dir()) {
      s = RemoveEntry(*io_, dir.fd.get(), *existing);
    }
    if (s.ok()) s = io_->RenameAt(dir.fd.get(), tmp.c_str(), dir.fd.get(), rec.meta.name.c_str());
    if (!s.ok()) (void)io_->UnlinkAt(dir.fd.get(), tmp.c_str(), 0);
  }
  if (!s.ok()) {
    Fail(rec.path, s.WithContext(rec.path), std::nullopt);
    return;
  }
  stats_.created++;
  Item(item, rec.path, detail);
}


void Receiver::Finish() {
  current_.reset();
  stats_.phase = SyncPhase::kLink;
  if (opt_.del) Deletes();
  LandHeld();  // --mail: index files after their messages and deletions
  if (dry()) DryLinks();
  else HardLinks();
  stats_.phase = SyncPhase::kFinish;
  if (AppliesDirMeta(opt_)) DirMeta();
}

void Receiver::Deletes() {
  // What goes is decided here, in list order; the removals run in parallel
  // (each unlink waits for the file system, and on a file system mounted
  // with discard for the device), and what they did is reported in order.
  // A job is up to 8 entries of one directory, which its thread opens (by
  // path beneath the root) and closes again: the threads hold a descriptor
  // each, not one per directory with something to delete (a tree with more
  // such directories than the descriptor limit lost its deletions, unsaid).
  struct Dir {
    std::string rel;
    std::vector<Entry> doomed;
  };
  struct Job {
    size_t dir = 0, first = 0, count = 0;
    std::vector<DeleteEvent> log;
  };
  constexpr size_t kPerJob = 8;
  std::vector<Dir> dirs;
  std::vector<Job> jobs;
  for (const std::string& u : unlisted_) {
    events_.OnWarning("not deleting anything beneath " + QuotePath(u.empty() ? "." : u) +
                      ": the sender reported an error for it");
  }
  for (uint32_t index : dirs_) {
    const Listed& d = list_[index];
    if (d.failed) continue;
    const std::string rel = d.path == "." ? "" : d.path;
    if (dry() && (Absent(rel) || (rel.empty() && root_absent_))) continue;  // nothing there
    // The listing taken when the list first entered this directory, if it
    // did; else (no entries inside) a fresh one.
    std::vector<Entry> fresh;
    const std::vector<Entry>* listing = nullptr;
    const std::vector<uint8_t>* listed = nullptr;  // marks: the list has it
    if (auto it = dst_listings_.find(rel); it != dst_listings_.end()) {
      listing = &it->second->entries;
      listed = &it->second->listed;
    }
    if (listing == nullptr) {
      if (failed_dirs_.count(rel) != 0) continue;  // reported when it failed
      auto opened = io_->OpenBeneath(root_.get(), rel, O_RDONLY | O_DIRECTORY, 0);
      auto l = opened.ok() ? ListDir(*io_, opened->get(), d.path)
                           : Result<std::vector<Entry>>(opened.status());
      if (!l.ok()) {
        Fail(d.path, l.status(), std::nullopt);
        continue;
      }
      fresh = std::move(*l);
      listing = &fresh;
    }
    Dir dir;
    dir.rel = rel;
    for (size_t i = 0; i < listing->size(); ++i) {
      if (listed && (*listed)[i]) continue;
      const Entry& e = (*listing)[i];
      const std::string p = rel.empty() ? e.name : rel + "/" + e.name;
      if (!Doomed(rel, e, p)) continue;
      if (consumed_.count(p) != 0) continue;  // renamed into a new path
      dir.doomed.push_back(e);
    }
    for (size_t first = 0; first < dir.doomed.size(); first += kPerJob) {
      Job j;
      j.dir = dirs.size();
      j.first = first;
      j.count = std::min(kPerJob, dir.doomed.size() - first);
      jobs.push_back(std::move(j));
    }
    if (!dir.doomed.empty()) dirs.push_back(std::move(dir));
  }
  dst_listings_.clear();
  io::PosixBackend posix;  // stateless: shared by the threads
  // More removals at once than cores: each mostly waits (for the device's
  // discard of the freed blocks, one by one), so the cores do not bound
  // them; up to 8 threads, a thread per job.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      Job& j = jobs[i];
      const Dir& dir = dirs[j.dir];
      auto fd = posix.OpenBeneath(root_.get(), dir.rel, O_RDONLY | O_DIRECTORY, 0);
      for (size_t k = j.first; k < j.first + j.count; ++k) {
        const Entry& e = dir.doomed[k];
        const std::string rel = dir.rel.empty() ? e.name : dir.rel + "/" + e.name;
        if (!fd.ok()) {
          j.log.push_back(DeleteEvent{DeleteEvent::Kind::kFailed, rel, e.is_dir(),
                                      fd.status().WithContext("not deleted")});
          continue;
        }
        (void)DeleteTree(posix, fd->get(), e, rel, &j.log);
      }
    }
  };
  std::vector<std::thread> helpers;
  const size_t threads = std::min<size_t>(8, jobs.size());
  for (size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back([&work] {
        SetThreadName("ferry-delete");
        work();
      });
    } catch (const std::system_error&) {
      break;  // fewer threads: the same removals, later
    }
  }
  work();
  for (std::thread& t : helpers) t.join();
  for (const Job& j : jobs) {
    for (const DeleteEvent& ev : j.log) {
      switch (ev.kind) {
        case DeleteEvent::Kind::kDeleted:
          stats_.deleted++;
          Item("*deleting  ", ev.is_dir ? ev.rel + "/" : ev.rel);
          break;
        case DeleteEvent::Kind::kFailed:
          Fail(ev.rel, ev.status, std::nullopt);
          break;
        case DeleteEvent::Kind::kKept:
          events_.OnWarning("cannot delete non-empty directory: " + ev.rel);
          break;
      }
    }
  }
}

bool Receiver::Unlisted(const std::string& path) const {
  for (const std::string& u : unlisted_) {
    if (u.empty() || path == u || (path.size() > u.size() && path[u.size()] == '/' &&
                                   path.compare(0, u.size(), u) == 0)) {
      return true;
    }
  }
  return false;
}

bool Receiver::Doomed(const std::string& dir, const Entry& e, const std::string& path) const {
  return !validator_.Has(path) && !Spared(dir, e, path);
}

bool Receiver::Spared(const std::string& dir, const Entry& e, const std::string& path) const {
  // rsync's receiver spares what the filter excludes (no --delete-excluded).
  if (rules_.filter && rules_.filter->Excluded(path, e.is_dir())) return true;
  if (SparedMailTmp(dir, e)) return true;  // --mail: as if excluded
  return Unlisted(path);
}

// Removes dirfd/e.name (`rel` from the root), a directory depth first, each
// entry itemized as the local engine does. What the filter excludes inside
// is kept, and so is its directory (rsync: "cannot delete non-empty
// directory"). Returns whether the entry is gone (or would be, dry run).
bool Receiver::DeleteTree(io::IoBackend& io, int dirfd, const Entry& e, const std::string& rel,
                          std::vector<DeleteEvent>* log) const {
  auto failed = [&](Status s) {
    log->push_back(DeleteEvent{DeleteEvent::Kind::kFailed, rel, e.is_dir(), std::move(s)});
    return false;
  };
  if (e.is_dir()) {
    bool kept = false;
    auto sub = io.OpenAt(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    if (!sub.ok() && sub.status().code() != ErrorCode::kNotFound) {
      return failed(sub.status().WithContext(rel));
    }
    if (sub.ok()) {
      auto listing = ListDir(io, sub->get(), rel);
      if (!listing.ok()) return failed(listing.status());
      for (const Entry& c : *listing) {
        const std::string crel = rel + "/" + c.name;
        if (rules_.filter && rules_.filter->Excluded(crel, c.is_dir())) {
          kept = true;
          continue;
        }
        if (!DeleteTree(io, sub->get(), c, crel, log)) kept = true;
      }
    }
    if (kept) {
      log->push_back(DeleteEvent{DeleteEvent::Kind::kKept, rel, true, Status::Ok()});
      return false;
    }
  }
  log->push_back(DeleteEvent{DeleteEvent::Kind::kDeleted, rel, e.is_dir(), Status::Ok()});
  if (dry()) return true;
  Status s = io.UnlinkAt(dirfd, e.name.c_str(), e.is_dir() ? AT_REMOVEDIR : 0);
  if (!s.ok() && s.code() != ErrorCode::kNotFound) return failed(s.WithContext(rel));
  return true;
}

void Receiver::HardLinks() {
  for (uint32_t index : followers_) {
    Listed& r = list_[index];
    const Listed& leader = list_[*r.leader];
    if (leader.failed) {
      Fail(index, Status(ErrorCode::kIo, r.path + ": its hard-link leader " + leader.path +
                                             " failed"));
      continue;
    }
    Status s = LinkInto(*io_, root_.get(), leader.path, r.path, suffix_);
    if (s.code() == ErrorCode::kExists) continue;  // already that inode
    if (!s.ok()) {
      Fail(index, s.WithContext(r.path));
      continue;
    }
    stats_.hard_links++;
    Item("hf+++++++++", r.path, " => " + leader.path);
  }
}

// Dry run: a follower is reported unless DST already has it as the
// leader's inode (and the leader stays as it is).
void Receiver::DryLinks() {
  auto stat_of = [&](const std::string& path) -> std::optional<struct stat> {
    const size_t slash = path.rfind('/');
    const std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
    if (root_absent_ || Absent(parent)) return std::nullopt;
    auto dir = io_->OpenBeneath(root_.get(), parent, O_RDONLY | O_DIRECTORY, 0);
    if (!dir.ok()) return std::nullopt;
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    auto st = io_->StatAt(dir->get(), name.c_str(), AT_SYMLINK_NOFOLLOW);
    if (!st.ok()) return std::nullopt;
    return *st;
  };
  for (uint32_t index : followers_) {
    const Listed& r = list_[index];
    const Listed& leader = list_[*r.leader];
    if (leader.failed) continue;
    auto a = stat_of(r.path);
    auto b = stat_of(leader.path);
    const bool linked = a && b && a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
                        dry_sent_.count(*r.leader) == 0;
    if (!linked) Item("hf+++++++++", r.path, " => " + leader.path);
  }
}

void Receiver::DirMeta() {
  // Items in the list's reverse order; the directories' metadata is set in
  // parallel (each is its own inode: the order does not matter once nothing
  // is created or removed inside), and failures are reported in order.
  struct Job {
    uint32_t index;
    Status status;
  };
  std::vector<Job> jobs;
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    const Listed& d = list_[*it];
    if (d.failed) continue;
    if (auto item = dir_items_.find(*it); item != dir_items_.end()) {
      Item(item->second, d.path == "." ? "./" : d.path + "/");
    }
    if (!dry()) jobs.push_back(Job{*it, Status::Ok()});
  }
  io::PosixBackend posix;  // stateless: shared by the threads
  tbb::parallel_for(tbb::blocked_range<size_t>(0, jobs.size(), 16),
                    [&](const tbb::blocked_range<size_t>& r) {
                      for (size_t i = r.begin(); i != r.end(); ++i) {
                        const Listed& d = list_[jobs[i].index];
                        jobs[i].status = ApplyDirMeta(posix, d);
                      }
                    });
  for (const Job& j : jobs) {
    if (!j.status.ok()) Fail(list_[j.index].path, j.status, std::nullopt);
  }
}

Status Receiver::ApplyDirMeta(io::IoBackend& io, const Listed& d) const {
  if (d.meta_same) {
    // It matched when listed: only this pass's changes inside can have
    // moved its mtime. One stat tells (through the path: it only decides
    // whether the descriptor below, opened beneath the root, is needed).
    auto st = io.StatAt(root_.get(), d.path.c_str(), AT_SYMLINK_NOFOLLOW);
    if (st.ok() && S_ISDIR(st->st_mode) && st->st_mtim.tv_sec == d.meta.mtime_sec &&
        static_cast<uint32_t>(st->st_mtim.tv_nsec) == d.meta.mtime_nsec) {
      return Status::Ok();
    }
  }
  auto fd = io.OpenBeneath(root_.get(), d.path == "." ? "" : d.path, O_RDONLY | O_DIRECTORY, 0);
  if (!fd.ok()) return fd.status();
  auto st = io.FStat(fd->get());
  if (!st.ok()) return Status::Ok();
  const Entry have = Entry::FromStat(d.meta.name, *st);
  std::vector<io::Xattr> have_x;
  if (opt_.xattrs || opt_.acls) {
    auto x = ReadKeptXattrs(io, policy_, fd->get(), nullptr);
    if (x.ok()) have_x = std::move(*x);
  }
  if (!CompareMeta(policy_, d.meta, have, d.xattrs, have_x).any()) return Status::Ok();
  DstState ds;
  ds.existing = &have;
  ds.xattrs = &have_x;
  Status s = ApplyMeta(io, policy_, fd->get(), nullptr, d.meta, d.xattrs, ds);
  return s.ok() ? s : s.WithContext(d.path);
}

}  // namespace ferry::protocol::receiver_internal
