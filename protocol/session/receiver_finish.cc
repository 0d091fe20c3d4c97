#include <fcntl.h>
#include <unistd.h>

#include "engine/tree/scan.h"
#include "protocol/session/common.h"
#include "protocol/session/dst_ops.h"
#include "protocol/session/receiver_impl.h"

namespace ferry::protocol::receiver_internal {

void Receiver::UpdateMeta(Listed& rec, int dirfd, const char* name, const Entry& existing) {
  std::vector<io::Xattr> have;
  if (opt_.xattrs || opt_.acls) {
    auto x = ReadKeptXattrs(*io_, policy_, dirfd, name);
    if (x.ok()) have = std::move(*x);
  }
  const MetaDiff diff = CompareMeta(policy_, rec.meta, existing, rec.xattrs, have);
  if (!diff.any()) return;
  DstState ds;
  ds.existing = &existing;
  ds.xattrs = &have;
  Status s = ApplyMeta(*io_, policy_, dirfd, name, rec.meta, rec.xattrs, ds);
  if (!s.ok()) {
    Fail(rec.path, s.WithContext(rec.path), std::nullopt);
    return;
  }
  stats_.meta_updates++;
  Item(".f.........", rec.path);
}

// Symlinks, devices and specials: made under a temporary name with their
// metadata, then renamed over whatever DST had.
void Receiver::CreateNode(Listed& rec, Dir& dir, const Entry* existing,
                          const std::string& target) {
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
  Item(rec.meta.is_lnk() ? "cL+++++++++" : "cD+++++++++", rec.path);
}


void Receiver::Finish() {
  current_.reset();
  stats_.phase = SyncPhase::kLink;
  if (opt_.del) Deletes();
  HardLinks();
  stats_.phase = SyncPhase::kFinish;
  DirMeta();
}

void Receiver::Deletes() {
  for (uint32_t index : dirs_) {
    const Listed& d = list_[index];
    if (d.failed) continue;
    const std::string rel = d.path == "." ? "" : d.path;
    // The listing taken when the list first entered this directory, if it
    // did; else (no entries inside) a fresh one.
    std::vector<Entry> fresh;
    const std::vector<Entry>* listing = nullptr;
    if (auto it = dst_listings_.find(rel); it != dst_listings_.end()) listing = &it->second;
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
      if (paths_.count(rel.empty() ? e.name : rel + "/" + e.name) == 0) doomed.push_back(&e);
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
      Status s = RemoveEntry(*io_, fd.get(), *e);
      if (!s.ok()) {
        Fail(p, s.WithContext(p), std::nullopt);
        continue;
      }
      stats_.deleted++;
      Item("*deleting  ", e->is_dir() ? p + "/" : p);
    }
  }
  dst_listings_.clear();
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
    SyncEvents::Change c;
    c.itemized = "hf+++++++++";
    c.path = r.path;
    std::string detail = " => " + leader.path;
    c.detail = detail;
    events_.OnChange(c);
  }
}

void Receiver::DirMeta() {
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    Listed& d = list_[*it];
    if (d.failed) continue;
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
