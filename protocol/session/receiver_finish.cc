#include <fcntl.h>
#include <unistd.h>

#include "engine/tree/scan.h"
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
  for (uint32_t index : dirs_) {
    const Listed& d = list_[index];
    if (d.failed) continue;
    const std::string rel = d.path == "." ? "" : d.path;
    if (dry() && (Absent(rel) || (rel.empty() && root_absent_))) continue;  // nothing there
    // The listing taken when the list first entered this directory, if it
    // did; else (no entries inside) a fresh one.
    std::vector<Entry> fresh;
    const std::vector<Entry>* listing = nullptr;
    if (auto it = dst_listings_.find(rel); it != dst_listings_.end()) listing = it->second.get();
    std::vector<const Entry*> doomed;
    io::UniqueFd fd;
    if (listing == nullptr) {
      auto opened = io_->OpenBeneath(root_.get(), rel, O_RDONLY | O_DIRECTORY, 0);
      if (!opened.ok()) continue;  // reported when it was made
      fd = std::move(*opened);
      auto l = ListDir(*io_, fd.get(), d.path);
      if (!l.ok()) {
        Fail(d.path, l.status(), std::nullopt);
        continue;
      }
      fresh = std::move(*l);
      listing = &fresh;
    }
    for (const Entry& e : *listing) {
      const std::string p = rel.empty() ? e.name : rel + "/" + e.name;
      // rsync's receiver spares what the filter excludes (no --delete-excluded).
      if (rules_.filter && rules_.filter->Excluded(p, e.is_dir())) continue;
      if (SparedMailTmp(rel, e)) continue;  // --mail: as if excluded
      if (paths_.count(p) == 0) doomed.push_back(&e);
    }
    if (doomed.empty()) continue;
    if (!fd.valid()) {
      auto opened = io_->OpenBeneath(root_.get(), rel, O_RDONLY | O_DIRECTORY, 0);
      if (!opened.ok()) continue;
      fd = std::move(*opened);
    }
    for (const Entry* e : doomed) {
      const std::string p = rel.empty() ? e->name : rel + "/" + e->name;
      if (consumed_.count(p) != 0) continue;  // renamed into a new path
      (void)DeleteTree(fd.get(), *e, p);
    }
  }
  dst_listings_.clear();
}

// Removes dirfd/e.name (`rel` from the root), a directory depth first, each
// entry itemized as the local engine does. What the filter excludes inside
// is kept, and so is its directory (rsync: "cannot delete non-empty
// directory"). Returns whether the entry is gone (or would be, dry run).
bool Receiver::DeleteTree(int dirfd, const Entry& e, const std::string& rel) {
  if (e.is_dir()) {
    bool kept = false;
    auto sub = io_->OpenAt(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    if (!sub.ok() && sub.status().code() != ErrorCode::kNotFound) {
      Fail(rel, sub.status().WithContext(rel), std::nullopt);
      return false;
    }
    if (sub.ok()) {
      auto listing = ListDir(*io_, sub->get(), rel);
      if (!listing.ok()) {
        Fail(rel, listing.status(), std::nullopt);
        return false;
      }
      for (const Entry& c : *listing) {
        const std::string crel = rel + "/" + c.name;
        if (rules_.filter && rules_.filter->Excluded(crel, c.is_dir())) {
          kept = true;
          continue;
        }
        if (!DeleteTree(sub->get(), c, crel)) kept = true;
      }
    }
    if (kept) {
      events_.OnWarning("cannot delete non-empty directory: " + rel);
      return false;
    }
  }
  stats_.deleted++;
  Item("*deleting  ", e.is_dir() ? rel + "/" : rel);
  if (dry()) return true;
  Status s = io_->UnlinkAt(dirfd, e.name.c_str(), e.is_dir() ? AT_REMOVEDIR : 0);
  if (!s.ok() && s.code() != ErrorCode::kNotFound) {
    Fail(rel, s.WithContext(rel), std::nullopt);
    return false;
  }
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
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    Listed& d = list_[*it];
    if (d.failed) continue;
    if (auto item = dir_items_.find(*it); item != dir_items_.end()) {
      Item(item->second, d.path == "." ? "./" : d.path + "/");
    }
    if (dry()) continue;
    auto fd = io_->OpenBeneath(root_.get(), d.path == "." ? "" : d.path,
                               O_RDONLY | O_DIRECTORY, 0);
    if (!fd.ok()) {
      Fail(d.path, fd.status(), std::nullopt);
      continue;
    }
    auto st = io_->FStat(fd->get());
    if (!st.ok()) continue;
    const Entry have = Entry::FromStat(d.meta.name, *st);
    std::vector<io::Xattr> have_x;
    if (opt_.xattrs || opt_.acls) {
      auto x = ReadKeptXattrs(*io_, policy_, fd->get(), nullptr);
      if (x.ok()) have_x = std::move(*x);
    }
    if (!CompareMeta(policy_, d.meta, have, d.xattrs, have_x).any()) continue;
    DstState ds;
    ds.existing = &have;
    ds.xattrs = &have_x;
    Status s = ApplyMeta(*io_, policy_, fd->get(), nullptr, d.meta, d.xattrs, ds);
    if (!s.ok()) Fail(d.path, s.WithContext(d.path), std::nullopt);
  }
}

}  // namespace ferry::protocol::receiver_internal
