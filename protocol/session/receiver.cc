#include "protocol/session/receiver.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "engine/base/path.h"
#include "engine/delta/block_size.h"
#include "engine/delta/signature.h"
#include "engine/io/mapped_file.h"
#include "engine/io/posix_backend.h"
#include "engine/io/scratch.h"
#include "engine/tree/safe_link.h"
#include "engine/tree/scan.h"
#include "protocol/file_list_validator.h"
#include "protocol/id_resolver.h"
#include "protocol/incoming_file.h"
#include "protocol/path_check.h"
#include "protocol/session/common.h"
#include "protocol/session/dst_ops.h"
#include "protocol/session/items.h"
#include "protocol/session/receiver_impl.h"
#include "protocol/session/streams.h"

namespace ferry::protocol::receiver_internal {

namespace {

constexpr size_t kHoleGrain = 4096;

bool AllZero(const std::byte* p, size_t n) {
  static const std::byte kZero[kHoleGrain] = {};
  return std::memcmp(p, kZero, n) == 0;
}

}  // namespace

void Receiver::Item(const std::string& item, const std::string& path,
                    const std::string& detail) {
  SyncEvents::Change c;
  c.itemized = item;
  c.path = path;
  c.detail = detail;
  Report(c);
}

void Receiver::Report(const SyncEvents::Change& c) {
  events_.OnChange(c);
  if (!opt_.report_changes) return;
  Itemized m;
  m.item = std::string(c.itemized);
  // Display text: control bytes travel escaped (the wire refuses them raw).
  m.path = EscapeControlBytes(c.path);
  m.detail = EscapeControlBytes(c.detail);
  m.bytes = c.bytes;
  (void)ch_.SendLater(m);  // a lost connection surfaces at the next Receive
}

// A dry run's regular file that would be sent.
void Receiver::DryLanded(uint32_t index, const Entry* existing) {
  const Listed& r = list_[index];
  dry_sent_.insert(index);
  stats_.planned_files++;
  stats_.planned_bytes += r.meta.size;
  stats_.transferred_files++;
  stats_.transferred_bytes += r.meta.size;
  if (!existing) stats_.created++;
  const std::string item =
      DataItem(policy_, opt_.checksum == ChecksumMode::kXxh3, r.meta, existing, true);
  SyncEvents::Change c;
  c.itemized = item;
  c.path = r.path;
  c.bytes = r.meta.size;
  Report(c);
}

void Receiver::Fail(const std::string& path, const Status& s, std::optional<uint32_t> index) {
  partial_ = true;
  stats_.errors++;
  events_.OnPathError(path, s);
  if (index && *index < list_.size()) list_[*index].failed = true;
  (void)ch_.Send(MakeError(index, path, s));
}

void Receiver::Fail(uint32_t index, const Status& s) { Fail(list_[index].path, s, index); }

Status Receiver::OpenRoot() {
  const std::string p = cfg_.path.empty() ? "." : cfg_.path;
  if (cfg_.base_fd >= 0) {
    // A daemon module: everything beneath its root's fd, no symlink followed.
    auto existing = io_->OpenBeneath(cfg_.base_fd, p, O_RDONLY | O_DIRECTORY, 0);
    root_created_ = !existing.ok() && existing.status().sys_errno() == ENOENT;
    if (dry() && root_created_) {
      root_absent_ = true;  // nothing to read; everything is new
      return Status::Ok();
    }
    if (existing.ok()) {
      root_ = std::move(*existing);
    } else {
      ASSIGN_OR_RETURN(root_, MakeDirsBeneath(*io_, cfg_.base_fd, p));
    }
    PlanDeferral();
    return Status::Ok();
  }
  struct stat st;
  root_created_ = ::stat(p.c_str(), &st) != 0 && errno == ENOENT;
  if (dry() && root_created_) {
    root_absent_ = true;  // nothing to read; everything is new
    return Status::Ok();
  }
  RETURN_IF_ERROR(MakeDirs(p));
  ASSIGN_OR_RETURN(root_, io_->OpenAt(AT_FDCWD, p.c_str(), O_RDONLY | O_DIRECTORY, 0));
  PlanDeferral();
  return Status::Ok();
}

void Receiver::PlanDeferral() {
  // Into an empty DST (stage one) nothing can be reused: no file waits. A
  // dry run sends nothing anyway (and its new directories do not exist).
  if (!reuse_ || dry()) return;
  auto top = io_->ReadDir(root_.get());
  defer_new_ = !top.ok() || !top->empty();
}

std::shared_ptr<Dir> Receiver::DirFor(const std::string& parent) {
  if (current_ && current_->path == parent) return current_;
  current_.reset();
  if (failed_dirs_.count(parent) != 0) return nullptr;
  auto d = std::make_shared<Dir>();
  d->path = parent;
  if (dry() && Absent(parent)) {
    current_ = d;  // no fd, nothing listed: every entry is new
    return d;
  }
  auto fd = io_->OpenBeneath(root_.get(), parent, O_RDONLY | O_DIRECTORY, 0);
  if (!fd.ok()) {
    failed_dirs_.insert(parent);
    Fail(parent.empty() ? "." : parent, fd.status(), std::nullopt);
    return nullptr;
  }
  d->fd = std::move(*fd);
  // Listed ahead (DirPrefetch) if it is still the directory listed; else here.
  Result<std::vector<Entry>> listing = std::vector<Entry>();
  std::optional<DirPrefetch::Listing> pre = prefetch_ ? prefetch_->Take(parent) : std::nullopt;
  if (pre && pre->status.ok()) {
    auto st = io_->FStat(d->fd.get());
    if (!st.ok() || !DirPrefetch::Same(*pre, *st)) pre.reset();
  }
  if (pre && pre->status.ok()) {
    listing = std::move(pre->entries);
    d->xattrs = std::move(pre->xattrs);
    d->xattrs_ok = std::move(pre->read_ok);
  } else {
    listing = ListDir(*io_, d->fd.get(), parent.empty() ? "." : parent);
    if (!listing.ok()) {
      failed_dirs_.insert(parent);
      Fail(parent.empty() ? "." : parent, listing.status(), std::nullopt);
      return nullptr;
    }
  }
  // Leftovers of an interrupted run (ours or the local engine's).
  for (const Entry& e : *listing) {
    if (dry()) break;
    if (!e.is_reg() || !IsTempName(e.name) || !RemovesLeftovers(opt_)) continue;
    if (IsSplitTemp(opt_, e.name)) {
      auto keep = io_->OpenAt(d->fd.get(), e.name.c_str(), O_RDONLY | O_NOFOLLOW, 0);
      if (keep.ok()) split_basis_[parent + "/" + e.name] = std::move(*keep);
    }
    (void)io_->UnlinkAt(d->fd.get(), e.name.c_str(), 0);
  }
  // Temporaries are not DST's entries (their prefetched xattrs go with them).
  size_t kept = 0;
  for (size_t i = 0; i < listing->size(); ++i) {
    const Entry& e = (*listing)[i];
    if (e.is_reg() && IsTempName(e.name)) continue;
    if (kept != i) {
      (*listing)[kept] = std::move((*listing)[i]);
      if (!d->xattrs_ok.empty()) {
        d->xattrs[kept] = std::move(d->xattrs[i]);
        d->xattrs_ok[kept] = d->xattrs_ok[i];
      }
    }
    ++kept;
  }
  listing->resize(kept);
  if (!d->xattrs_ok.empty()) {
    d->xattrs.resize(kept);
    d->xattrs_ok.resize(kept);
  }
  d->shared_listing = std::make_shared<DstListing>(std::move(*listing));
  // --delete compares this listing with the whole list at the end.
  if (opt_.del) dst_listings_.emplace(parent, d->shared_listing);
  if (defer_new_) seen_.emplace(parent, d->shared_listing);
  current_ = d;
  return d;
}


Status Receiver::OnEntry(const FileEntry& w) {
  if (list_ended_) return Corrupt("FileEntry after FileListEnd");
  ASSIGN_OR_RETURN(LocalOwner owner, validator_.Add(w));
  if (rules_.ids) {
    // --usermap/--groupmap/--chown: the maps decide (matching the sender's
    // id and name); an id no rule matches stays numeric, as locally.
    owner.uid = rules_.ids->users.Map(w.uid, w.user_name.empty() ? nullptr : &w.user_name);
    owner.gid = rules_.ids->groups.Map(w.gid, w.group_name.empty() ? nullptr : &w.group_name);
  }
  const auto index = static_cast<uint32_t>(list_.size());
  Listed rec;
  rec.path = w.path;
  rec.meta = FromWire(w, owner.uid, owner.gid);
  rec.xattrs = XattrsFromWire(w, policy_);
  rec.leader = w.link_leader;
  rec.target = w.symlink_target;
  list_.push_back(std::move(rec));
  Listed& r = list_.back();
  stats_.files++;
  if (r.meta.is_dir()) {
    stats_.dirs++;
  } else if (r.meta.is_reg()) {
    stats_.reg_files++;
    stats_.total_size += w.size;
  }
  if (w.path == ".") {
    dirs_.push_back(index);
    if (root_created_) {
      Item("cd+++++++++", "./");
    } else if (auto st = io_->FStat(root_.get()); st.ok()) {
      std::vector<io::Xattr> have;
      if (opt_.xattrs || opt_.acls) {
        auto x = ReadKeptXattrs(*io_, policy_, root_.get(), nullptr);
        if (x.ok()) have = std::move(*x);
      }
      const MetaDiff diff = CompareMeta(policy_, r.meta, Entry::FromStat(".", *st), r.xattrs, have);
      if (diff.any()) dir_items_[index] = MetaItem(diff, r.meta);
      else r.meta_same = true;
    }
    return Status::Ok();
  }
  const size_t slash = w.path.rfind('/');
  const std::string parent = slash == std::string::npos ? "" : w.path.substr(0, slash);
  std::shared_ptr<Dir> dir = DirFor(parent);
  if (!dir) {
    r.failed = true;
    if (r.meta.is_dir()) failed_dirs_.insert(w.path);
    return Status::Ok();
  }
  const Entry* existing = FindEntry(dir->listing(), r.meta.name);
  uint8_t* mark = existing ? &dir->shared_listing->listed[existing - dir->listing().data()] : nullptr;
  if (mark) *mark = DstListing::kListed;
  const char* name = r.meta.name.c_str();
  switch (w.kind) {
    case FileKind::kDirectory: {
      if (existing && existing->is_dir()) {
        dirs_.push_back(index);
        if (prefetch_) prefetch_->Request(w.path);
        std::vector<io::Xattr> have;
        if (const auto* pre = dir->XattrsOf(existing)) {
          have = *pre;
        } else if (opt_.xattrs || opt_.acls) {
          auto x = ReadKeptXattrs(*io_, policy_, dir->fd.get(), name);
          if (x.ok()) have = std::move(*x);
        }
        const MetaDiff diff = CompareMeta(policy_, r.meta, *existing, r.xattrs, have);
        if (diff.any()) dir_items_[index] = MetaItem(diff, r.meta);
        else r.meta_same = true;
        break;
      }
      if (dry()) {
        absent_dirs_.insert(w.path);
        stats_.created++;
        Item("cd+++++++++", r.path + "/");
        dirs_.push_back(index);
        break;
      }
      Status s;
      if (existing) {
        s = RemoveEntry(*io_, dir->fd.get(), *existing);
        // --streams: another stream may have removed it first.
        if (!s.ok() && s.sys_errno() == ENOENT && IsStream(opt_)) s = Status::Ok();
      }
      if (s.ok()) s = io_->MkdirAt(dir->fd.get(), name, 0700);
      if (!s.ok() && StreamLostMkdirRace(opt_, *io_, dir->fd.get(), name, s)) {
        dirs_.push_back(index);
        break;
      }
      if (!s.ok()) {
        failed_dirs_.insert(w.path);
        Fail(r.path, s.WithContext(r.path), std::nullopt);
        break;
      }
      stats_.created++;
      Item("cd+++++++++", r.path + "/");
      dirs_.push_back(index);
      break;
    }
    case FileKind::kSymlink: {
      // --safe-links is enforced here, on what arrives: a hostile sender
      // cannot plant a link out of DST by not judging it itself.
      if (opt_.safe_links && IsUnsafeSymlink(w.symlink_target, w.path)) {
        events_.OnWarning("ignoring unsafe symlink " + QuotePath(w.path) + " -> " +
                          QuotePath(w.symlink_target));
        stats_.unsafe_links++;
        break;
      }
      if (existing && existing->is_lnk()) {
        auto t = io_->ReadLinkAt(dir->fd.get(), name);
        if (t.ok() && *t == w.symlink_target) {
          UpdateMeta(r, dir->fd.get(), name, *existing, dir->XattrsOf(existing));
          break;
        }
      }
      CreateNode(r, *dir, existing, w.symlink_target);
      break;
    }
    case FileKind::kCharDevice:
    case FileKind::kBlockDevice:
    case FileKind::kFifo:
    case FileKind::kSocket: {
      if (r.meta.is_dev() && !policy_.am_root) {
        if (!warned_devices_) {
          events_.OnWarning("skipping device files: only root can create them");
          warned_devices_ = true;
        }
        break;
      }
      if (existing && existing->type() == r.meta.type() &&
          (!r.meta.is_dev() || existing->rdev == r.meta.rdev)) {
        UpdateMeta(r, dir->fd.get(), name, *existing, dir->XattrsOf(existing));
        break;
      }
      CreateNode(r, *dir, existing, "");
      break;
    }
    case FileKind::kRegular: {
      if (r.leader) {
        // A stream leaves links to a split leader to the final pass.
        if (!SplitRange(opt_, list_[*r.leader].meta.size, false)) followers_.push_back(index);
        break;
      }
      const bool same_size = existing && existing->is_reg() && existing->size == w.size;
      if (same_size && opt_.checksum == ChecksumMode::kSizeMtime &&
          existing->same_mtime(r.meta)) {
        UpdateMeta(r, dir->fd.get(), name, *existing, dir->XattrsOf(existing));
        // A source for reuse (PlanReuse), marked in place: a copy of each
        // unchanged file's entry was the largest part of the receiver's
        // memory on a tree of small files.
        if (defer_new_ && w.size > 0) *mark = DstListing::kUnchanged;
        break;
      }
      if (Deferrable(existing, r)) {
        // Its content may be on DST already; known when the list is complete.
        deferred_.push_back(index);
        parent_path_of_[index] = parent;
        stats_.planned_files++;
        stats_.planned_bytes += w.size;
        break;
      }
      if (dry()) {
        DryLanded(index, existing);
        break;
      }
      // The directory by path, reopened when the request starts: holding
      // every pending file's directory open would run out of descriptors
      // on a tree with more directories than RLIMIT_NOFILE.
      parent_path_of_[index] = parent;
      existing_of_[index] = existing ? std::optional<Entry>(*existing) : std::nullopt;
      checksum_of_[index] = same_size && opt_.checksum == ChecksumMode::kXxh3;
      pending_.emplace_back(index, false);
      stats_.planned_files++;
      stats_.planned_bytes += w.size;
      break;
    }
  }
  return Pump();
}

// Requests in flight hold up to three descriptors each (the temporary, the
// basis, the directory): at most a third of what RLIMIT_NOFILE leaves after
// a reserve, so a low limit slows the pipeline instead of failing files.
static uint32_t InFlightLimit(uint32_t configured) {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return configured;
  const uint64_t spare = rl.rlim_cur > 64 ? (rl.rlim_cur - 64) / 3 : 1;
  return static_cast<uint32_t>(std::max<uint64_t>(1, std::min<uint64_t>(configured, spare)));
}

Status Receiver::Pump() {
  if (in_flight_limit_ == 0) in_flight_limit_ = InFlightLimit(cfg_.max_in_flight);
  while (!pending_.empty() && in_flight_.size() < in_flight_limit_) {
    auto [index, whole] = pending_.front();
    pending_.pop_front();
    RETURN_IF_ERROR(StartRequest(index, whole));
  }
  return Status::Ok();
}

// Basis files at least this large are signed on the signer thread.
constexpr uint64_t kSignOffThread = 4u << 20;

Status Receiver::SendSignature(uint32_t index, InFlight& f) {
  const std::span<const std::byte> whole = f.basis.bytes();
  SignJob job;
  if (f.basis_view.size() < kSignOffThread || !f.basis_fd.valid() ||
      !job.map.Map(f.basis_fd.get(), whole.size()).ok()) {
    return SignAndSend(index, f.basis_view);
  }
  job.index = index;
  job.offset = static_cast<uint64_t>(f.basis_view.data() - whole.data());
  job.length = f.basis_view.size();
  if (!signer_) {
    signer_ = std::make_unique<Signer>(
        [this](io::IoBackend&, SignJob& j) {
          Status s = SignAndSend(j.index, j.map.bytes().subspan(j.offset, j.length));
          // The message thread may be waiting for the peer, which waits for
          // this signature: wake it with the error.
          if (!s.ok()) ch_.Abort(s);
          j.map.Reset();
          return s;
        },
        64,
        // The smallest first: the sender starts matching (and this thread
        // applying) after the quickest signature, not behind the largest.
        [](const SignJob& a, const SignJob& b) { return a.length < b.length; },
        /*keep=*/true, "ferry-signer");
  }
  signer_->Submit(std::move(job));
  return Status::Ok();
}

Status Receiver::ReapSigned(bool wait) {
  if (!signer_) return Status::Ok();
  for (SignJob& j : signer_->TakeFinished(wait)) RETURN_IF_ERROR(j.status);
  return Status::Ok();
}

Status Receiver::SignAndSend(uint32_t index, std::span<const std::byte> basis) {
  const uint64_t size = basis.size();
  delta::SignatureParams p = delta::DefaultSignatureParams(size);
  p.block_size = opt_.block_rule == BlockRule::kFixed ? opt_.fixed_block_size
                                                      : WireBlockSize(size);
  while (delta::BlockCount(size, p.block_size) > kSignatureBlocksMax) p.block_size *= 2;
  p.strong_len = WireStrongLen(size, p.block_size);
  ASSIGN_OR_RETURN(delta::Signature sig, delta::ComputeSignature(basis, p, 0));
  std::lock_guard<std::mutex> l(requests_mu_);
  RETURN_IF_ERROR(ch_.Send(FileRequest{index, true}));
  SignatureHeader h;
  h.file_index = index;
  h.file_size = size;
  h.block_size = sig.block_size;
  h.strong_len = sig.strong_len;
  h.block_count = sig.block_count();
  RETURN_IF_ERROR(ch_.Send(h));
  const size_t per = (ch_.max_payload() - 64) / (4 + sig.strong_len);
  for (size_t first = 0; first < sig.block_count(); first += per) {
    const size_t n = std::min(per, sig.block_count() - first);
    SignatureBlocks b;
    b.file_index = index;
    b.first_block = first;
    b.strong_len = sig.strong_len;
    b.weak.assign(sig.weak.begin() + static_cast<long>(first),
                  sig.weak.begin() + static_cast<long>(first + n));
    b.strong.assign(sig.strong.begin() + static_cast<long>(first * sig.strong_len),
                    sig.strong.begin() + static_cast<long>((first + n) * sig.strong_len));
    RETURN_IF_ERROR(ch_.Send(b));
  }
  return Status::Ok();
}

// A temporary for the file `name` in dirfd: unnamed (O_TMPFILE), or named
// (*tmp) where the file system refuses unnamed ones.
static Result<io::UniqueFd> CreateTemporary(io::IoBackend& io, int dirfd, const std::string& name,
                                            const std::string& suffix, std::string* tmp) {
  auto out = io.OpenAt(dirfd, ".", O_TMPFILE | O_WRONLY, 0600);
  if (out.ok()) return out;
  *tmp = TempName(name, suffix);
  out = io.OpenAt(dirfd, tmp->c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0600);
  if (!out.ok()) tmp->clear();
  return out;
}

Status Receiver::OpenOutput(InFlight& f, const std::optional<ByteRange>& range) {
  const Listed& r = list_[f.index];
  const int dirfd = f.dir->fd.get();
  if (!range) {
    ASSIGN_OR_RETURN(f.out, CreateTemporary(*io_, dirfd, f.name, suffix_, &f.tmp));
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(io::UniqueFd out, io_->OpenAt(dirfd, SplitTempName(opt_, f.name).c_str(),
                                                 O_CREAT | O_WRONLY | O_NOFOLLOW, 0600));
  f.range_offset = range->offset;
  f.shared = true;
  RETURN_IF_ERROR(io_->FTruncate(out.get(), r.meta.size));
  f.out = std::move(out);
  return Status::Ok();
}

void Receiver::StartOutput(InFlight& f) {
  if (!opener_) {
    opener_ = std::make_unique<Opener>(
        [suffix = suffix_](io::IoBackend& io, OpenJob& j) {
          OpenedOutput o;
          Result<io::UniqueFd> out = CreateTemporary(io, j.dir->fd.get(), j.name, suffix, &o.tmp);
          if (out.ok()) {
            o.out = std::move(*out);
          } else {
            o.status = out.status();
          }
          j.into.set_value(std::move(o));
          return Status::Ok();
        },
        // Every queued job is an in-flight file's: Submit never waits.
        InFlightLimit(cfg_.max_in_flight) + 1, nullptr, /*keep=*/false, "ferry-opener");
  }
  OpenJob job;
  job.dir = f.dir;
  job.name = f.name;
  f.opening = job.into.get_future();
  opener_->Submit(std::move(job));
}

Status Receiver::StartRequest(uint32_t index, bool whole) {
  Listed& r = list_[index];
  auto f = std::make_unique<InFlight>();
  f->index = index;
  f->dir = parent_of_[index];
  if (!f->dir) f->dir = ReopenDir(parent_path_of_[index], reopened_);
  parent_path_of_.erase(index);
  if (!f->dir) {
    Fail(index, Status(ErrorCode::kIo, "cannot reopen the directory of " + r.path));
    return Status::Ok();
  }
  f->name = r.meta.name;
  f->existing = existing_of_[index];
  f->io = io_.get();
  parent_of_.erase(index);
  existing_of_.erase(index);
  const bool checksum = checksum_of_[index];
  checksum_of_.erase(index);
  const int dirfd = f->dir->fd.get();
  const std::optional<ByteRange> range = SplitRange(opt_, r.meta.size, false);
  // --streams, final pass: this run's shared temporary is the basis.
  bool split_basis = false;
  if (auto it = split_basis_.find(f->dir->path + "/" + SplitTempName(opt_, f->name));
      it != split_basis_.end()) {
    auto st = io_->FStat(it->second.get());
    if (!whole && st.ok() && st->st_size > 0 &&
        f->basis.Map(it->second.get(), static_cast<size_t>(st->st_size)).ok()) {
      f->basis_fd = std::move(it->second);
      split_basis = true;
    }
    split_basis_.erase(it);
  }
  bool delta = split_basis || (!whole && !cfg_.whole_file && f->existing &&
                               f->existing->is_reg() && f->existing->size > 0);
  if (delta && !split_basis) {
    auto b = io_->OpenAt(dirfd, f->name.c_str(), O_RDONLY | O_NOFOLLOW, 0);
    delta = false;
    if (b.ok()) {
      auto st = io_->FStat(b->get());
      if (st.ok() && S_ISREG(st->st_mode) && st->st_size > 0 &&
          f->basis.Map(b->get(), static_cast<size_t>(st->st_size)).ok()) {
        f->basis_fd = std::move(*b);
        delta = true;
      }
    }
  }
  f->basis_view = f->basis.bytes();
  if (range) {
    // A stream's delta is against the same range of DST's old copy.
    const uint64_t have = f->basis_view.size();
    const uint64_t from = std::min(range->offset, have);
    f->basis_view = f->basis_view.subspan(from, std::min(range->length, have - from));
    if (f->basis_view.empty()) delta = false;
  }
  if (delta && checksum && !split_basis && !range) f->basis_hash = HashBytes(f->basis.bytes());
  // DST's file may be a prefix of the new one (an mbox, a log): ask about
  // the tail before building a signature (not for a stream's range of a
  // split file, nor for the final pass's split basis).
  const bool append = delta && reuse_ && !range && !split_basis &&
                      f->basis.bytes().size() < r.meta.size && no_append_.count(index) == 0;
  InFlight* fp = f.get();
  f->incoming = std::make_unique<IncomingFile>(
      index, range ? range->length : list_[index].meta.size, delta && !append, fp->basis_view,
      [fp, this](std::span<const std::byte> b) { return WriteBytes(*fp, b); },
      [fp, this](uint64_t offset, std::span<std::byte> buf) -> Result<size_t> {
        if (!fp->basis_fd.valid()) return Status(ErrorCode::kIo, "no basis descriptor");
        // basis_view is a range of the mapping for a stream's part.
        const uint64_t base =
            static_cast<uint64_t>(fp->basis_view.data() - fp->basis.bytes().data());
        return io_->PRead(fp->basis_fd.get(), buf, base + offset);
      });
  std::vector<uint32_t> probe;
  if (auto it = probe_of_.find(index); it != probe_of_.end()) {
    probe = std::move(it->second);
    probe_of_.erase(it);
  }
  // A file that goes out as a ReuseProbe needs no temporary unless the
  // probe misses (or its candidate must be copied): OpenOutput then.
  const bool reuse_probe = !delta && !append && !probe.empty() && !range;
  if (range) {
    if (Status o = OpenOutput(*fp, range); !o.ok()) {
      Fail(index, o.WithContext(r.path));
      return Status::Ok();
    }
  } else if (!reuse_probe) {
    StartOutput(*fp);  // its first write (or its landing) waits for it
  }
  in_flight_[index] = std::move(f);
  if (delta && !append) return SendSignature(index, *fp);
  std::lock_guard<std::mutex> l(requests_mu_);
  if (append) {
    fp->append_probe = true;
    return ch_.SendLater(
        AppendProbe{index, fp->basis.bytes().size(), HashBytes(fp->basis.bytes())});
  }
  if (reuse_probe) {  // a range of a split file is always sent
    ReuseProbe m;
    m.file_index = index;
    for (uint32_t c : probe) m.candidates.push_back(*cands_[c].hash);
    fp->probe_cands = std::move(probe);
    return ch_.SendLater(m);
  }
  // Queued: written with the next ones when this loop waits for the peer.
  return ch_.SendLater(FileRequest{index, false});
}

// A large file's data is handed to the disk as it arrives, a window at a
// time: ext4 writes back a file renamed over another one at the rename
// (auto_da_alloc), and for the last large file of a pass that wait (its
// whole size at the disk's speed) came after everything else.
constexpr uint64_t kWritebackWindow = 8u << 20;

void Receiver::StartWriteback(InFlight& f) {
  const uint64_t end = f.range_offset + f.written;
  const uint64_t from = f.range_offset + f.flushed;
  if (end < from + kWritebackWindow) return;
  const uint64_t length = (end - from) / kWritebackWindow * kWritebackWindow;
  const int fd = ::fcntl(f.out.get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return;  // an optimisation only
  if (!flusher_) {
    flusher_ = std::make_unique<Flusher>(
        [](io::IoBackend&, FlushJob& j) {
          // Only started: nothing waits for the disk here.
          (void)::sync_file_range(j.fd.get(), static_cast<off64_t>(j.offset),
                                  static_cast<off64_t>(j.length), SYNC_FILE_RANGE_WRITE);
          j.fd.reset();
          return Status::Ok();
        },
        64, nullptr, /*keep=*/false, "ferry-flusher");
  }
  FlushJob job;
  job.fd = io::UniqueFd(fd);
  job.offset = from;
  job.length = length;
  // Only a hint: while the disk is behind (the queue is full) this window
  // waits for the next write rather than the message thread for the disk.
  if (flusher_->TrySubmit(std::move(job))) f.flushed += length;
}

// Writes the produced bytes, leaving aligned zero runs as holes.
Status Receiver::WriteBytes(InFlight& f, std::span<const std::byte> bytes) {
  if (!f.local_error.ok()) return f.local_error;
  if (Status o = f.AwaitOutput(); !o.ok()) {
    f.local_error = o.WithContext(list_[f.index].path);
    return f.local_error;
  }
  size_t pos = 0;
  while (pos < bytes.size()) {
    const uint64_t off = f.range_offset + f.written + pos;
    size_t n = std::min(bytes.size() - pos, kHoleGrain - static_cast<size_t>(off % kHoleGrain));
    if (AllZero(bytes.data() + pos, n)) {
      pos += n;
      continue;
    }
    // Extend the run over following non-zero grains.
    size_t end = pos + n;
    while (end < bytes.size()) {
      const size_t m = std::min(bytes.size() - end, kHoleGrain);
      if (AllZero(bytes.data() + end, m)) break;
      end += m;
    }
    Status s = io_->PWriteAll(f.out.get(), bytes.subspan(pos, end - pos), off);
    if (!s.ok()) {
      f.local_error = s.WithContext(list_[f.index].path);
      return f.local_error;
    }
    pos = end;
  }
  f.written += bytes.size();
  StartWriteback(f);
  return Status::Ok();
}

Status Receiver::OnData(uint32_t index, Message& m, uint32_t wire) {
  RETURN_IF_ERROR(validator_.CheckRegular(index, "file_index"));
  auto it = in_flight_.find(index);
  if (it == in_flight_.end()) {
    return Corrupt(TypeName(static_cast<uint8_t>(TypeOf(m))) + " for file " +
                   std::to_string(index) + " that is not requested");
  }
  InFlight& f = *it->second;
  if (f.append_probe) {
    return Corrupt(TypeName(static_cast<uint8_t>(TypeOf(m))) + " for file " +
                   std::to_string(index) + " before the ProbeResult of its AppendProbe");
  }
  if (!f.probe_cands.empty()) {
    return Corrupt(TypeName(static_cast<uint8_t>(TypeOf(m))) + " for file " +
                   std::to_string(index) + " before the ProbeResult of its ReuseProbe");
  }
  if (f.local_error.ok()) {
    const uint64_t before = f.incoming->produced();
    const uint64_t literal = std::holds_alternative<FileData>(m)
                                 ? std::get<FileData>(m).data.size()
                                 : std::get<DeltaOps>(m).literals.size();
    Status s = std::holds_alternative<FileData>(m)
                   ? f.incoming->OnData(std::get<FileData>(m))
                   : f.incoming->OnDelta(std::move(std::get<DeltaOps>(m)));
    // A failed write is this side's problem: drain the file. Anything else
    // is the peer's.
    if (!s.ok() && f.local_error.ok()) return s;
    if (!s.ok()) Fail(index, f.local_error);
    if (s.ok()) CountProgress(before, f.incoming->produced(), literal);
  }
  return ch_.ReturnCredit(wire);
}

Status Receiver::OnDone(const FileDone& d) {
  RETURN_IF_ERROR(validator_.CheckRegular(d.file_index, "file_index"));
  auto it = in_flight_.find(d.file_index);
  if (it == in_flight_.end()) {
    return Corrupt("FileDone for file " + std::to_string(d.file_index) +
                   " that is not requested");
  }
  if (it->second->append_probe || !it->second->probe_cands.empty()) {
    return Corrupt("FileDone for file " + std::to_string(d.file_index) +
                   " before the ProbeResult of its probe");
  }
  std::unique_ptr<InFlight> f = std::move(it->second);
  in_flight_.erase(it);
  if (!f->local_error.ok()) return Pump();
  Status s = f->incoming->OnDone(d);
  if (!s.ok()) {
    if (s.code() != ErrorCode::kCorrupt) return s;
    if (pass_ == 1) {
      // Nothing lands without a matching hash; try once more, whole.
      events_.OnWarning(s.message() + "; requesting " + list_[f->index].path + " again");
      parent_of_[f->index] = f->dir;
      existing_of_[f->index] = f->existing;
      checksum_of_[f->index] = false;
      redo_.push_back(f->index);
    } else {
      Fail(f->index, s.WithContext(list_[f->index].path));
    }
    return Pump();
  }
  if (HoldForMail(f, d.hash)) return Pump();
  LandLater(std::move(f), d.hash);
  return Pump();
}

bool Receiver::LandsHere(InFlight& f, const Hash128& hash) {
  if (f.shared) {
    // --streams: the range matched; the final pass lands the whole file.
    f.out.reset();
    return true;
  }
  if (f.basis_hash && f.existing && *f.basis_hash == hash &&
      f.incoming->produced() == f.basis.bytes().size()) {
    // --checksum found the same content: only metadata may differ.
    f.out.reset();
    UpdateMeta(list_[f.index], f.dir->fd.get(), f.name.c_str(), *f.existing);
    return true;
  }
  return false;
}

void Receiver::Land(InFlight& f, const Hash128& hash) {
  if (LandsHere(f, hash)) return;
  const Listed& r = list_[f.index];
  Landed(f, Install(*io_, f, r.meta, r.xattrs, r.path));
}

// Threads that close landed files' old copies (ReleaseJob): the last close
// of a replaced file frees its blocks, which on a file system mounted with
// discard waits for the device (12 ms for 32 MiB here); such waits overlap
// (4 x 32 MiB: 47 ms one after another, 32 ms on 4 threads).
constexpr size_t kReleasers = 3;

void Receiver::LandLater(std::unique_ptr<InFlight> f, const Hash128& hash) {
  if (LandsHere(*f, hash)) return;
  if (!lander_) {
    // Lander and releasers hold descriptors too: each a share of the
    // in-flight budget.
    const size_t share = std::clamp<size_t>(InFlightLimit(cfg_.max_in_flight) / 8, 1, 64);
    const size_t releasers = std::min(kReleasers, share);
    for (size_t i = 0; i < releasers; ++i) {
      releasers_.push_back(std::make_unique<Releaser>(
          [](io::IoBackend&, ReleaseJob& j) {
            j.map.Reset();
            j.fd.reset();
            return Status::Ok();
          },
          share / releasers, nullptr, /*keep=*/false, "ferry-release"));
    }
    lander_ = std::make_unique<Lander>(
        [this](io::IoBackend& io, LandJob& j) {
          Status s = Install(io, *j.f, j.meta, j.xattrs, j.path);
          // The old file's mapping and descriptor go off the message
          // thread (unmapping and the last close of a replaced file), and
          // off this one: the next landing need not wait for them. (An
          // appended file's prefix length is counted from its mapping.)
          ReleaseJob r;
          if (!j.f->appended) r.map = std::move(j.f->basis);
          r.fd = std::move(j.f->basis_fd);
          if (s.ok() && r.fd.valid()) DeferClose(r.fd.get());
          if (r.map.bytes().size() > 0 || r.fd.valid()) {
            releasers_[next_releaser_++ % releasers_.size()]->Submit(std::move(r));
          }
          return s;
        },
        share, nullptr, /*keep=*/true, "ferry-lander");
  }
  const Listed& r = list_[f->index];
  LandJob job;
  job.meta = r.meta;
  job.xattrs = r.xattrs;
  job.path = r.path;
  job.f = std::move(f);
  lander_->Submit(std::move(job));
}

// At most cfg_.defer_close_max of replaced files' space is held by the
// deferred-close helper, and at most 1/16 of what DST's file system had
// free when the first old copy came: a pass that replaces many large files
// must not fill the disk with old copies (rsync needs room for one new file
// at a time).
void Receiver::DeferClose(int fd) {
  struct stat st {};
  // Still named elsewhere (a hard link): its last close frees nothing.
  if (!cfg_.defer_close || ::fstat(fd, &st) != 0 || st.st_nlink != 0) return;
  if (!deferred_tried_) {
    deferred_tried_ = true;
    struct statvfs vfs {};
    if (::fstatvfs(fd, &vfs) == 0) {
      deferred_budget_ = std::min<uint64_t>(
          cfg_.defer_close_max, static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize / 16);
    }
    if (deferred_budget_ > 0) {
      auto d = io::DeferredClose::Start();
      if (d.ok()) closer_ = std::move(*d);
    }
  }
  const uint64_t bytes = static_cast<uint64_t>(st.st_blocks) * 512;
  if (!closer_ || bytes > deferred_budget_ - deferred_bytes_) return;
  if (closer_->Hand(fd)) deferred_bytes_ += bytes;
}

void Receiver::ReapLanded(bool wait) {
  if (!lander_) return;
  for (LandJob& j : lander_->TakeFinished(wait)) Landed(*j.f, j.status);
}

Status Receiver::Install(io::IoBackend& io, InFlight& f, const Entry& meta,
                         const std::vector<io::Xattr>& xattrs, const std::string& path) const {
  const int dirfd = f.dir->fd.get();
  const char* name = f.name.c_str();
  // (An empty file's temporary may still be on the opener's way.)
  if (Status o = f.AwaitOutput(); !o.ok()) return o.WithContext(path);
  Status s = io.FTruncate(f.out.get(), meta.size);
  DstState ds;
  ds.new_uid = ::geteuid();
  ds.new_gid = static_cast<gid_t>(-1);
  // A directory with a default ACL gave the new file ACL entries already.
  std::vector<io::Xattr> have_x;
  if (opt_.acls) {
    auto x = ReadKeptXattrs(io, policy_, f.out.get(), nullptr);
    if (x.ok()) have_x = std::move(*x);
    ds.xattrs = &have_x;
  }
  if (s.ok()) s = ApplyMeta(io, policy_, f.out.get(), nullptr, meta, xattrs, ds);
  if (s.ok() && f.existing && f.existing->is_dir()) s = RemoveEntry(io, dirfd, *f.existing);
  if (s.ok()) {
    if (f.tmp.empty()) {
      int err = f.existing ? EEXIST : io::LinkUnnamed(f.out.get(), dirfd, name);
      if (err == EEXIST) {
        f.tmp = TempName(f.name, suffix_);
        err = io::LinkUnnamed(f.out.get(), dirfd, f.tmp.c_str());
        if (err != 0) {
          f.tmp.clear();
        } else {
          s = io.RenameAt(dirfd, f.tmp.c_str(), dirfd, name);
          if (s.ok()) f.tmp.clear();
        }
      }
      if (err != 0) s = PosixError("link", path, err);
    } else {
      s = io.RenameAt(dirfd, f.tmp.c_str(), dirfd, name);
      if (s.ok()) f.tmp.clear();
    }
  }
  f.out.reset();
  return s.ok() ? s : s.WithContext(path);
}

void Receiver::Landed(InFlight& f, const Status& installed) {
  if (!installed.ok()) {
    Fail(f.index, installed);
    return;
  }
  Listed& r = list_[f.index];
  if (!f.existing) stats_.created++;
  if (!f.reused_detail.empty()) {
    CountReused(f);
    return;
  }
  landed_files_++;
  landed_bytes_ += r.meta.size;
  if (f.appended) {
    stats_.appended_files++;
    stats_.append_reused_bytes += f.basis.bytes().size();
  }
  stats_.transferred_files++;
  stats_.transferred_bytes += r.meta.size;
  const Entry* old = f.existing ? &*f.existing : nullptr;
  const std::string item = DataItem(policy_, opt_.checksum == ChecksumMode::kXxh3, r.meta, old,
                                    f.basis_hash.has_value());
  SyncEvents::Change c;
  c.itemized = item;
  c.path = r.path;
  c.bytes = r.meta.size;
  Report(c);
}

void Receiver::CountProgress(uint64_t before, uint64_t after, uint64_t literal) {
  // Progress within a file, as it arrives (a pulling client's ETA moves
  // during a large file, not only when it lands).
  const uint64_t produced = after > before ? after - before : 0;
  const uint64_t lit = std::min(literal, produced);
  stats_.literal_bytes += lit;
  stats_.matched_bytes += produced - lit;
}

Status Receiver::AnnouncePlanned() {
  // The list is complete and compared: what the pass requests is known
  // (files that land before this are counted in it too).
  stats_.planned = true;
  events_.OnPlanned(stats_);
  if ((ch_.capabilities() & kCapPlanned) == 0) return Status::Ok();
  return ch_.Send(PlannedTotals{stats_.planned_files.load(), stats_.planned_bytes.load()});
}

Status Receiver::MaybeEndPass() {
  if (done_ || !list_ended_ || awaiting_eop_ || !pending_.empty() || !in_flight_.empty()) {
    return Status::Ok();
  }
  // Every file handed to the lander is in place (or failed) before the
  // pass ends: the redo list, deletions and the counts depend on it.
  ReapLanded(/*wait=*/true);
  // Only a peer's early Error can end a file before its signature is out;
  // the pass still ends after the last signature.
  RETURN_IF_ERROR(ReapSigned(/*wait=*/true));
  final_pass_ = redo_.empty() || pass_ >= 2;
  if (final_pass_) Finish();
  if (final_pass_ && reuse_) RETURN_IF_ERROR(ch_.Send(Counts()));
  awaiting_eop_ = true;
  return ch_.Send(EndOfPass{pass_, landed_files_, landed_bytes_});
}

Status Receiver::Dispatch(Incoming& in) {
  Message& m = in.message;
  if (auto* e = std::get_if<FileEntry>(&m)) return OnEntry(*e);
  if (auto* b = std::get_if<FileEntries>(&m)) {
    for (const FileEntry& e : b->entries) RETURN_IF_ERROR(OnEntry(e));
    return Status::Ok();
  }
  if (auto* e = std::get_if<FileListEnd>(&m)) {
    if (list_ended_) return Corrupt("a second FileListEnd");
    RETURN_IF_ERROR(validator_.Finish(*e));
    list_ended_ = true;
    current_.reset();
    ReapLanded(/*wait=*/true);  // reuse lists DST: nothing is being moved into it
    PlanReuse();
    RETURN_IF_ERROR(AnnouncePlanned());
    return Pump();
  }
  if (auto* d = std::get_if<FileData>(&m)) return OnData(d->file_index, m, in.wire_bytes);
  if (auto* d = std::get_if<DeltaOps>(&m)) return OnData(d->file_index, m, in.wire_bytes);
  if (auto* d = std::get_if<FileDone>(&m)) return OnDone(*d);
  if (auto* p = std::get_if<ProbeResult>(&m)) return OnProbeResult(*p);
  if (auto* u = std::get_if<MetadataUpdate>(&m)) {
    RETURN_IF_ERROR(validator_.CheckMetadataUpdate(*u));
    Listed& r = list_[u->file_index];
    const Entry fresh = FromWire(u->entry, r.meta.uid, r.meta.gid);
    r.meta.mode = fresh.mode;
    r.meta.mtime_sec = fresh.mtime_sec;
    r.meta.mtime_nsec = fresh.mtime_nsec;
    r.xattrs = XattrsFromWire(u->entry, policy_);
    return Status::Ok();
  }
  if (auto* d = std::get_if<DeleteRequest>(&m)) {
    RETURN_IF_ERROR(validator_.CheckDelete(*d));
    const Listed& dir = list_[d->dir_index];
    const std::string rel = dir.path == "." ? "" : dir.path;
    auto fd = io_->OpenBeneath(root_.get(), rel, O_RDONLY | O_DIRECTORY, 0);
    if (fd.ok()) {
      auto st = io_->StatAt(fd->get(), d->name.c_str(), AT_SYMLINK_NOFOLLOW);
      if (st.ok()) {
        Status s = RemoveEntry(*io_, fd->get(), Entry::FromStat(d->name, *st));
        if (!s.ok()) Fail(rel.empty() ? d->name : rel + "/" + d->name, s, std::nullopt);
        else stats_.deleted++;
      }
    }
    return Status::Ok();
  }
  if (auto* e = std::get_if<Error>(&m)) {
    if (e->code == WireError::kProtocol) {
      return Status(ErrorCode::kCorrupt, "remote reported a protocol error: " + e->message);
    }
    std::optional<uint32_t> index = e->file_index;
    if (index) {
      RETURN_IF_ERROR(validator_.CheckIndex(*index, "file_index"));
      in_flight_.erase(*index);
      list_[*index].failed = true;
    }
    const bool vanished = e->code == WireError::kNotFound;
    if (!index && !vanished) unlisted_.push_back(e->path == "." ? "" : e->path);
    if (cfg_.show_peer_errors) {
      if (vanished) events_.OnVanished(e->path);
      else events_.OnPathError(e->path, StatusFromWire(*e));
    }
    (vanished ? vanished_ : partial_) = true;
    if (vanished) stats_.vanished++;
    else stats_.errors++;
    return Pump();
  }
  if (auto* e = std::get_if<EndOfPass>(&m)) {
    if (!awaiting_eop_ || e->pass != pass_) {
      return Corrupt("EndOfPass " + std::to_string(e->pass) + " that was not asked for");
    }
    awaiting_eop_ = false;
    if (final_pass_) {
      done_ = true;
      // If it cannot be sent, the sender sees the end of the stream after
      // its final EndOfPass instead: a successful session either way.
      (void)ch_.Send(EndOfSession{});
      return Status::Ok();
    }
    ++pass_;
    for (uint32_t index : redo_) pending_.emplace_back(index, true);
    redo_.clear();
    return Pump();
  }
  return Corrupt(TypeName(static_cast<uint8_t>(TypeOf(m))) +
                 " is not a message the sender may send");
}

Result<SyncOutcome> Receiver::Run() {
  ASSIGN_OR_RETURN(rules_, SyncRulesFrom(opt_, true));
  RETURN_IF_ERROR(OpenRoot());
  if (root_.valid() && !root_created_) {
    // DST's directories are listed ahead of the list (the loop waits only
    // for one that is not ready yet), each listing queueing its
    // subdirectories: on up to 4 threads, one fewer than the cores.
    const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
    prefetch_ = std::make_unique<DirPrefetch>(root_.get(), policy_, opt_.xattrs || opt_.acls,
                                              static_cast<int>(std::min(4u, cores - 1)), 512,
                                              [](const std::string&) { return true; });
    prefetch_->Request("");
  }
  stats_.phase = SyncPhase::kCopy;
  while (!done_) {
    auto in = ch_.Receive();
    if (!in.ok()) return in.status();
    if (in->eof) {
      return Status(ErrorCode::kIo,
                    "connection closed by the sender before the end of the transfer");
    }
    Status s = Dispatch(*in);
    if (s.ok()) ReapLanded(/*wait=*/false);
    if (s.ok()) s = ReapSigned(/*wait=*/false);
    if (s.ok()) s = MaybeEndPass();
    if (!s.ok()) {
      if (s.code() == ErrorCode::kCorrupt) (void)ch_.Send(ProtocolError(s));
      ch_.Abort(s);
      return s;
    }
  }
  stats_.phase = SyncPhase::kDone;
  prefetch_.reset();  // its threads are idle: stopped before the session ends
  opener_.reset();
  flusher_.reset();
  signer_.reset();
  lander_.reset();
  releasers_.clear();
  // The helper frees the old copies after this session; in a process that
  // ends with it, after the process (its end of the socket closes at exit).
  if (!cfg_.leave_state_to_exit) closer_.reset();
  SyncOutcome out;
  out.partial = partial_;
  out.vanished = vanished_;
  return out;
}

}  // namespace ferry::protocol::receiver_internal

namespace ferry::protocol {

Result<SyncOutcome> RunReceiver(Channel& ch, const ReceiverConfig& config, SyncStats& stats,
                                SyncEvents& events) {
  auto r = std::make_unique<receiver_internal::Receiver>(ch, config, stats, events);
  Result<SyncOutcome> out = r->Run();
  if (config.leave_state_to_exit && out.ok()) {
    // Run stopped its threads; the state stays reachable (not a leak to
    // LeakSanitizer) until the process exits.
    static auto* const kLeftToExit = new std::vector<std::unique_ptr<receiver_internal::Receiver>>;
    kLeftToExit->push_back(std::move(r));
  }
  return out;
}

}  // namespace ferry::protocol
