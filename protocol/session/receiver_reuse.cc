// The receiver's reuse of DST data (kCapReuse; PROTOCOL.md section 4a).
//
// Rename/move detection: a regular file new at its path waits (while DST
// had anything at all) until the file list is complete. Then the receiver
// knows DST's candidates - files the list does not have (what --delete
// removes), files of DST-only directories, and unchanged files - and pairs
// them with the waiting files by engine/transfer/rename_index.h's hints.
// It hashes the hinted candidates and sends a ReuseProbe with their hashes
// instead of a FileRequest; the sender answers with the candidate whose hash
// equals its file's, or with the file. A candidate that --delete would
// remove, and that has no other link, is renamed into place; otherwise its
// data is copied within DST.
//
// Append detection: DST's file shorter than the listed one is offered as a
// prefix (AppendProbe with the hash of all of it); on kAppend only the tail
// comes, on kMiss the file is requested again with a signature.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "engine/io/posix_backend.h"
#include "engine/io/scratch.h"
#include "engine/mail/maildir.h"
#include "engine/transfer/rename_index.h"
#include "engine/tree/scan.h"
#include "protocol/session/common.h"
#include "protocol/session/dst_ops.h"
#include "protocol/session/receiver_impl.h"

namespace ferry::protocol::receiver_internal {

namespace {

// Candidates hashed per new file at most (the local engine's bound): a tree
// of equal-sized files with one mtime must not turn into N x M hashing.
constexpr size_t kMaxCandidates = kReuseCandidatesMax;

std::string_view LastComponent(std::string_view rel) {
  const size_t s = rel.rfind('/');
  return s == std::string_view::npos ? rel : rel.substr(s + 1);
}

// Messages of a Maildir folder keep their base name across flag changes.
bool MessageDir(std::string_view dir) {
  const std::string_view last = LastComponent(dir);
  return last == "cur" || last == "new";
}

transfer::RenameHint HintOf(const Entry& e, std::string_view dir) {
  transfer::RenameHint h;
  h.size = e.size;
  h.mtime_sec = e.mtime_sec;
  h.mtime_nsec = e.mtime_nsec;
  if (MessageDir(dir)) h.mail_base = mail::MaildirBaseName(e.name);
  return h;
}

bool Usable(const Entry& e) { return e.is_reg() && e.size > 0 && !IsTempName(e.name); }

bool SameAsListed(const Entry& e, const struct stat& st) {
  return S_ISREG(st.st_mode) && st.st_ino == e.ino && st.st_dev == e.dev &&
         static_cast<uint64_t>(st.st_size) == e.size && st.st_mtim.tv_sec == e.mtime_sec &&
         static_cast<uint32_t>(st.st_mtim.tv_nsec) == e.mtime_nsec;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

}  // namespace

bool Receiver::Deferrable(const Entry* existing, const Listed& r) const {
  return defer_new_ && existing == nullptr && r.meta.size > 0;
}

std::shared_ptr<Dir> Receiver::ReopenDir(const std::string& path,
                                         std::shared_ptr<Dir>& cache) {
  if (cache && cache->path == path) return cache;
  auto fd = io_->OpenBeneath(root_.get(), path, O_RDONLY | O_DIRECTORY, 0);
  if (!fd.ok()) return nullptr;
  auto d = std::make_shared<Dir>();
  d->path = path;
  d->fd = std::move(*fd);
  cache = d;
  return d;
}

namespace {

// XXH3-128 of candidate c if it is still the file DST listed (same inode,
// size and mtime), read through `io`; nullopt otherwise.
std::optional<Hash128> HashListed(io::IoBackend& io, int root, const ReuseCand& c) {
  auto dir = io.OpenBeneath(root, c.dir, O_RDONLY | O_DIRECTORY, 0);
  if (!dir.ok()) return std::nullopt;
  auto fd = io.OpenAt(dir->get(), c.entry.name.c_str(), O_RDONLY | O_NOFOLLOW, 0);
  if (!fd.ok()) return std::nullopt;
  auto st = io.FStat(fd->get());
  if (!st.ok() || !SameAsListed(c.entry, *st)) return std::nullopt;
  Hasher h;
  if (!HashFdPrefix(io, fd->get(), c.entry.size, h)) return std::nullopt;
  return h.Finish();
}

}  // namespace

std::optional<Hash128> Receiver::HashCand(ReuseCand& c) {
  if (c.hashed) return c.hash;
  c.hashed = true;
  c.hash = HashListed(*io_, root_.get(), c);
  return c.hash;
}

void Receiver::HashCands(const std::vector<uint32_t>& ids) {
  // Each candidate is read whole: on several threads (the sender waits for
  // the probes meanwhile), each with its own POSIX backend; each task
  // writes only its own candidates.
  tbb::parallel_for(tbb::blocked_range<size_t>(0, ids.size(), 32),
                    [&](const tbb::blocked_range<size_t>& r) {
                      io::PosixBackend io;
                      for (size_t i = r.begin(); i != r.end(); ++i) {
                        ReuseCand& c = cands_[ids[i]];
                        c.hash = HashListed(io, root_.get(), c);
                        c.hashed = true;
                      }
                    });
}

void Receiver::PlanReuse() {
  if (deferred_.empty()) return;
  transfer::RenameIndex index;
  for (uint32_t t : deferred_) index.AddTarget(HintOf(list_[t].meta, parent_path_of_[t]));
  auto offer = [&](const std::string& dir, const Entry& e, bool orphan) {
    const auto id = static_cast<uint32_t>(cands_.size());
    if (!index.AddCandidate(id, HintOf(e, dir))) return;
    ReuseCand c;
    c.dir = dir;
    c.entry = e;
    c.orphan = orphan;
    cands_.push_back(std::move(c));
  };
  // Files the list does not have; DST-only directories are walked (a
  // renamed directory's files are candidates for its new name).
  // (With whether --delete removes them: only those may move.)
  std::deque<std::pair<std::string, bool>> orphan_dirs;
  // A listed directory with nothing listed inside (a Maildir new/ whose
  // messages all moved to cur/) was never opened: its files are candidates.
  for (uint32_t d : dirs_) {
    const std::string rel = list_[d].path == "." ? "" : list_[d].path;
    if (list_[d].failed || seen_.count(rel) != 0) continue;
    auto fd = io_->OpenBeneath(root_.get(), rel, O_RDONLY | O_DIRECTORY, 0);
    if (!fd.ok()) continue;
    auto listing = ListDir(*io_, fd->get(), list_[d].path);
    if (listing.ok()) {
      seen_.emplace(rel, std::make_shared<DstListing>(std::move(*listing)));
    }
  }
  for (const auto& [dir, listing] : seen_) {
    for (size_t i = 0; i < listing->entries.size(); ++i) {
      const Entry& e = listing->entries[i];
      if (listing->listed[i]) continue;
      const std::string rel = Join(dir, e.name);
      if (validator_.Has(rel)) continue;
      if (e.is_dir()) orphan_dirs.emplace_back(rel, !Spared(dir, e, rel));
      else if (Usable(e)) offer(dir, e, /*orphan=*/!Spared(dir, e, rel));
    }
  }
  while (!orphan_dirs.empty()) {
    const auto [dir, doomed] = std::move(orphan_dirs.front());
    orphan_dirs.pop_front();
    auto fd = io_->OpenBeneath(root_.get(), dir, O_RDONLY | O_DIRECTORY, 0);
    if (!fd.ok()) continue;
    auto listing = ListDir(*io_, fd->get(), dir);
    if (!listing.ok()) continue;
    for (const Entry& e : *listing) {
      // Inside a directory --delete removes, what the filter protects stays.
      const std::string rel = Join(dir, e.name);
      const bool goes = doomed && !Spared(dir, e, rel);
      if (e.is_dir()) orphan_dirs.emplace_back(rel, goes);
      else if (Usable(e)) offer(dir, e, /*orphan=*/goes);
    }
  }
  // Unchanged files, after the orphans (these are copied, not moved).
  for (const auto& [dir, listing] : seen_) {
    for (size_t i = 0; i < listing->entries.size(); ++i) {
      if (listing->listed[i] == DstListing::kUnchanged) offer(dir, listing->entries[i], false);
    }
  }
  seen_.clear();

  std::vector<std::vector<uint32_t>> hinted(deferred_.size());
  std::vector<uint32_t> to_hash;
  std::vector<bool> queued(cands_.size());
  for (uint32_t t = 0; t < deferred_.size(); ++t) {
    hinted[t] = index.CandidatesFor(t, kMaxCandidates);
    for (uint32_t c : hinted[t]) {
      if (cands_[c].hashed || queued[c]) continue;
      queued[c] = true;
      to_hash.push_back(c);
    }
  }
  HashCands(to_hash);
  for (uint32_t t = 0; t < deferred_.size(); ++t) {
    const uint32_t file = deferred_[t];
    std::vector<uint32_t> probe;
    std::vector<Hash128> hashes;
    for (uint32_t c : hinted[t]) {
      auto h = HashCand(cands_[c]);
      if (!h || std::find(hashes.begin(), hashes.end(), *h) != hashes.end()) continue;
      hashes.push_back(*h);
      probe.push_back(c);
    }
    if (!probe.empty()) probe_of_[file] = std::move(probe);
    existing_of_[file] = std::nullopt;
    checksum_of_[file] = false;
    pending_.emplace_back(file, false);
  }
  deferred_.clear();
}

Status Receiver::OnProbeResult(const ProbeResult& p) {
  RETURN_IF_ERROR(validator_.CheckRegular(p.file_index, "file_index"));
  auto it = in_flight_.find(p.file_index);
  const std::string which = "ProbeResult for file " + std::to_string(p.file_index);
  if (it == in_flight_.end() || (!it->second->append_probe && it->second->probe_cands.empty())) {
    return Corrupt(which + " that was not probed");
  }
  InFlight& f = *it->second;
  if (f.append_probe) {
    if (p.outcome == ProbeOutcome::kReuse) return Corrupt(which + ": kReuse for an AppendProbe");
    f.append_probe = false;
    if (p.outcome == ProbeOutcome::kAppend) {
      f.appended = true;
      Status s = f.incoming->Prefill(f.basis.bytes());
      if (!s.ok() && f.local_error.ok()) return s;
      if (!s.ok()) Fail(f.index, f.local_error);
      return Status::Ok();
    }
    // Not a prefix after all: a delta against the old file, as usual.
    const uint32_t index = f.index;
    parent_of_[index] = f.dir;
    existing_of_[index] = f.existing;
    checksum_of_[index] = false;
    no_append_.insert(index);
    in_flight_.erase(it);
    pending_.emplace_front(index, false);
    return Pump();
  }
  if (p.outcome == ProbeOutcome::kAppend) return Corrupt(which + ": kAppend for a ReuseProbe");
  std::vector<uint32_t> cands = std::move(f.probe_cands);
  f.probe_cands.clear();
  if (p.outcome == ProbeOutcome::kMiss) {
    // The file follows: now it needs its temporary (StartRequest left it
    // unopened while the probe was out). Without one, its data is drained
    // (its first write fails).
    if (!f.out.valid() && !f.opening.valid()) StartOutput(f);
    return Status::Ok();
  }
  if (p.candidate >= cands.size()) {
    return Corrupt(which + ": candidate " + std::to_string(p.candidate) + " of " +
                   std::to_string(cands.size()) + " offered");
  }
  const uint32_t c = cands[p.candidate];
  if (!cands_[c].hash || *cands_[c].hash != p.hash) {
    return Corrupt(which + ": hash " + p.hash.Hex() + " is not the offered candidate's");
  }
  std::unique_ptr<InFlight> owned = std::move(it->second);
  in_flight_.erase(it);
  Status s = ReuseInto(*owned, c);
  if (!s.ok()) {
    // DST changed under us: the file comes whole after all.
    const uint32_t index = owned->index;
    parent_of_[index] = owned->dir;
    existing_of_[index] = owned->existing;
    checksum_of_[index] = false;
    owned.reset();
    pending_.emplace_front(index, true);
  }
  return Pump();
}

// Copies all of old_name into f.out (listed: the DST file as listed, checked
// to be still it; null for a file this session renamed into place).
Status Receiver::CopyInto(InFlight& f, int old_dir, const char* old_name, const Entry* listed) {
  ASSIGN_OR_RETURN(io::UniqueFd in, io_->OpenAt(old_dir, old_name, O_RDONLY | O_NOFOLLOW, 0));
  ASSIGN_OR_RETURN(struct stat st, io_->FStat(in.get()));
  const uint64_t size = list_[f.index].meta.size;
  if ((listed && !SameAsListed(*listed, st)) || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != size) {
    return Status(ErrorCode::kChanged, "changed during the transfer");
  }
  if (io_->Clone(f.out.get(), in.get()).ok()) return Status::Ok();
  uint64_t off = 0;
  while (off < size) {
    auto n = io_->CopyFileRange(in.get(), off, f.out.get(), off, size - off);
    if (!n.ok() || *n == 0) break;
    off += *n;
  }
  if (off == size) return Status::Ok();
  const std::span<std::byte> buf = io::ThreadScratch();
  while (off < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size - off, buf.size()));
    ASSIGN_OR_RETURN(size_t n, io_->PRead(in.get(), buf.first(want), off));
    if (n == 0) return Status(ErrorCode::kChanged, "shrank during the transfer");
    RETURN_IF_ERROR(io_->PWriteAll(f.out.get(), buf.first(n), off));
    off += n;
  }
  return Status::Ok();
}

Status Receiver::ReuseInto(InFlight& f, uint32_t id) {
  ReuseCand& c = cands_[id];
  Listed& r = list_[f.index];
  std::string from_dir = c.dir, from_name = c.entry.name;
  if (!c.moved_to.empty()) {
    // Renamed into place for an earlier file of the same content.
    const size_t slash = c.moved_to.rfind('/');
    from_dir = slash == std::string::npos ? "" : c.moved_to.substr(0, slash);
    from_name = slash == std::string::npos ? c.moved_to : c.moved_to.substr(slash + 1);
  }
  // Candidates come in runs from one directory (a Maildir cur/): its
  // descriptor is kept for the next one.
  const std::shared_ptr<Dir> cand_dir = ReopenDir(from_dir, cand_dir_);
  if (!cand_dir) return Status(ErrorCode::kChanged, "cannot open " + from_dir);
  const int old_dir = cand_dir->fd.get();
  const std::string from = Join(from_dir, from_name);
  // Only a file --delete removes anyway, and that no other DST path shares,
  // may move: the new path must not become a hard link SRC does not have.
  const bool consume = c.moved_to.empty() && c.orphan && opt_.del && c.entry.nlink == 1;
  if (!consume) {
    if (!f.out.valid()) RETURN_IF_ERROR(OpenOutput(f, std::nullopt));
    RETURN_IF_ERROR(CopyInto(f, old_dir, from_name.c_str(),
                             c.moved_to.empty() ? &c.entry : nullptr));
    f.written = r.meta.size;
    f.reused_detail = " == " + from;
    Land(f, *c.hash);
    return Status::Ok();
  }
  const int dirfd = f.dir->fd.get();
  // The old path is still the listed file (its content is the hashed one)?
  // Its metadata is set there, where --delete would remove it, so that the
  // new path appears complete with one rename.
  ASSIGN_OR_RETURN(io::UniqueFd fd, io_->OpenAt(old_dir, from_name.c_str(),
                                                O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0));
  ASSIGN_OR_RETURN(struct stat st, io_->FStat(fd.get()));
  if (!SameAsListed(c.entry, st)) return Status(ErrorCode::kChanged, "changed");
  {
    std::vector<io::Xattr> have;
    if (opt_.xattrs || opt_.acls) {
      auto x = ReadKeptXattrs(*io_, policy_, fd.get(), nullptr);
      if (x.ok()) have = std::move(*x);
    }
    const Entry cur = Entry::FromStat(from_name, st);
    DstState ds;
    ds.existing = &cur;
    ds.xattrs = &have;
    RETURN_IF_ERROR(ApplyMeta(*io_, policy_, fd.get(), nullptr, r.meta, r.xattrs, ds)
                        .WithContext(r.path));
  }
  Status s = io_->RenameAt(old_dir, from_name.c_str(), dirfd, f.name.c_str());
  if (!s.ok()) return s.WithContext(r.path);
  // What moved must be the inode checked above: a file swapped in at the old
  // path meanwhile goes back there, and this file comes from the sender.
  auto now = io_->StatAt(dirfd, f.name.c_str(), AT_SYMLINK_NOFOLLOW);
  if (!now.ok() || now->st_ino != st.st_ino || now->st_dev != st.st_dev) {
    if (io_->RenameAt(dirfd, f.name.c_str(), old_dir, from_name.c_str()).ok()) {
      return Status(ErrorCode::kChanged, "replaced during the transfer");
    }
    consumed_.insert(c.Rel());
    return Status(ErrorCode::kChanged, "replaced during the transfer").WithContext(r.path);
  }
  // From here the old path is gone (--delete would have removed it).
  consumed_.insert(c.Rel());
  c.moved_to = r.path;
  f.out.reset();
  f.reused_detail = " => " + from;
  stats_.created++;
  CountReused(f);
  return Status::Ok();
}

void Receiver::CountReused(InFlight& f) {
  const Listed& r = list_[f.index];
  (f.reused_detail.starts_with(" =>") ? stats_.renamed_files : stats_.dst_copied_files)++;
  stats_.renamed_bytes += r.meta.size;
  SyncEvents::Change ch;
  ch.itemized = "cf+++++++++";
  ch.path = r.path;
  ch.detail = f.reused_detail;
  Report(ch);
}

ReceiverReport Receiver::Counts() const {
  ReceiverReport m;
  m.created = stats_.created;
  m.deleted = stats_.deleted;
  m.renamed_files = stats_.renamed_files;
  m.dst_copied_files = stats_.dst_copied_files;
  m.renamed_bytes = stats_.renamed_bytes;
  m.appended_files = stats_.appended_files;
  m.append_reused_bytes = stats_.append_reused_bytes;
  m.meta_updates = stats_.meta_updates;
  m.hard_links = stats_.hard_links;
  return m;
}

}  // namespace ferry::protocol::receiver_internal
