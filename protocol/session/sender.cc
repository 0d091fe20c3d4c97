#include "protocol/session/sender.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/base/thread_name.h"
#include "engine/delta/matcher.h"
#include "engine/io/mapped_file.h"
#include "engine/io/posix_backend.h"
#include "engine/tree/safe_link.h"
#include "engine/tree/scan.h"
#include "protocol/path_check.h"
#include "protocol/session/common.h"
#include "protocol/session/dir_prefetch.h"
#include "protocol/session/mail_rules.h"
#include "protocol/session/streams.h"
#include "protocol/session/sync_rules.h"
#include "protocol/signature_assembler.h"

namespace ferry::protocol {

namespace {

// Room for a chunk message's own fields (index, offset or op count).
constexpr size_t kChunkHeader = 32;
// File-list entries per FileEntries message at most.
constexpr size_t kBatchEntries = 256;
// Files at least this large are matched on several threads.
constexpr uint64_t kParallelMatch = 16u << 20;
// Bytes matched before their DeltaOps are sent (delta::MatcherOptions::window).
constexpr uint64_t kDeltaWindow = 8u << 20;

struct SentEntry {
  std::string path;
  FileKind kind = FileKind::kRegular;
  uint64_t size = 0;
  uint64_t dev = 0, ino = 0;
  bool follower = false;  // a hard link to an earlier entry
};

struct Job {
  uint32_t index = 0;
  std::optional<delta::Signature> sig;
  std::vector<Hash128> reuse;          // a ReuseProbe's candidates
  std::optional<AppendProbe> append;   // an AppendProbe
};

std::string UserName(uint32_t uid) {
  std::vector<char> buf(16384);
  struct passwd pw, *out = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &out) != 0 || !out) return "";
  return out->pw_name;
}

std::string GroupName(uint32_t gid) {
  std::vector<char> buf(16384);
  struct group gr, *out = nullptr;
  if (getgrgid_r(gid, &gr, buf.data(), buf.size(), &out) != 0 || !out) return "";
  return out->gr_name;
}

class Sender {
 public:
  Sender(Channel& ch, const SenderConfig& cfg, SyncStats& stats, SyncEvents& events)
      : ch_(ch), cfg_(cfg), opt_(ch.options()), policy_(PolicyFor(opt_)),
        stats_(stats), events_(events) {}

  Result<SyncOutcome> Run();

 private:
  Status OpenRoot();
  std::unique_ptr<io::IoBackend> Backend() const {
    return cfg_.backend_factory ? cfg_.backend_factory() : SessionBackend(cfg_.io);
  }
  void ListThread();
  Status Walk(io::IoBackend& io, int dirfd, const std::string& rel);
  // `read`: e's kept xattrs if already read (DirPrefetch), else read here.
  Status Emit(io::IoBackend& io, int dirfd, const Entry& e, const std::string& path,
              const std::vector<io::Xattr>* read = nullptr);
  Status FlushBatch();
  void Worker();
  Status Serve(io::IoBackend& io, Job& job);
  // Matches `part` against `sig` and sends the DeltaOps window by window;
  // *hash: part's XXH3-128. *sent = false: the matcher failed (reported as
  // the file's error). Errors: the channel's.
  Status SendDelta(uint32_t index, std::span<const std::byte> part, const delta::Signature& sig,
                   const std::string& path, Hash128* hash, bool* sent);
  // FileData of [from, end) of fd, offsets relative to `base` (0, or a
  // split file's range start), fed to `hasher` too. false: a read failed or
  // the file shrank (reported; the file ends there, no FileDone).
  Result<bool> SendData(io::IoBackend& io, int fd, uint32_t index, const SentEntry& e,
                        uint64_t from, uint64_t end, uint64_t base, Hasher& hasher);
  // Answers a ReuseProbe or AppendProbe. *handled = false:
  // a miss after which the file goes on as a plain whole-file request.
  Status ServeProbe(io::IoBackend& io, int fd, Job& job, const SentEntry& e, bool* handled);
  void PathError(std::optional<uint32_t> index, const std::string& path, const Status& s,
                 bool vanished = false);
  // Checks a ReuseProbe/AppendProbe against the list and queues its job.
  Status OnProbe(const Message& m, bool sig_pending);
  // The receiver's counts (it owns DST): what a sending client reports.
  void AddReport(const ReceiverReport& r);
  // The receiver's totals of the pass (kCapPlanned): this side's planned
  // counts, and OnPlanned. Errors: a second PlannedTotals (kCorrupt).
  Status OnPlannedTotals(const PlannedTotals& p);
  // A worker's or the lister's failure ends the session: the dispatcher,
  // waiting in Receive, wakes up with it.
  void SetFatal(const Status& s) {
    {
      std::lock_guard<std::mutex> l(jobs_mu_);
      if (fatal_.ok()) fatal_ = s;
    }
    ch_.Abort(s);
  }

  Channel& ch_;
  const SenderConfig& cfg_;
  const SessionOptions opt_;
  const MetaPolicy policy_;
  SyncStats& stats_;
  SyncEvents& events_;
  std::mutex events_mu_;

  std::shared_ptr<const FilterList> filter_;  // the agreed filter rules
  io::UniqueFd root_;
  std::string top_;  // entry of the root: "." or a name in root_
  bool top_is_dot_ = false;

  std::mutex list_mu_;
  std::vector<SentEntry> list_;
  std::map<std::pair<uint64_t, uint64_t>, uint32_t> leaders_;
  std::map<uint32_t, std::string> users_, groups_;
  // kCapEntryBatch: entries go out as FileEntries of up to kBatchEntries
  // (the lister thread's own).
  const bool batch_entries_ = (ch_.capabilities() & kCapEntryBatch) != 0;
  FileEntries batch_;
  size_t batch_bytes_ = 0;

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::condition_variable idle_cv_;
  std::deque<Job> jobs_;
  int busy_ = 0;
  bool closing_ = false;
  Status fatal_;

  std::atomic<uint64_t> files_sent_{0}, bytes_sent_{0};
  // The lister thread's: SRC directories listed ahead of the walk.
  std::unique_ptr<DirPrefetch> prefetch_;
  bool planned_seen_ = false;  // the dispatcher's own
  std::atomic<bool> partial_{false}, vanished_{false};
};

void Sender::PathError(std::optional<uint32_t> index, const std::string& path,
                       const Status& s, bool vanished) {
  {
    std::lock_guard<std::mutex> l(events_mu_);
    if (vanished) {
      events_.OnVanished(path);
    } else {
      events_.OnPathError(path, s);
    }
  }
  (vanished ? vanished_ : partial_) = true;
  if (vanished) stats_.vanished++;
  else stats_.errors++;
  // Always told: a server's errors reach the user only through the client.
  if (Status w = ch_.Send(MakeError(index, path, s)); !w.ok()) SetFatal(w);
}

Status Sender::OpenRoot() {
  std::string p = cfg_.path.empty() ? "." : cfg_.path;
  auto io = Backend();
  const bool contents = p.back() == '/' || p == "." || p == ".." ||
                        p.ends_with("/.") || p.ends_with("/..");
  // Confined to base_fd: "." is base_fd itself, every component beneath it.
  auto open_dir = [&](const std::string& d) -> Result<io::UniqueFd> {
    if (cfg_.base_fd < 0) return io->OpenAt(AT_FDCWD, d.c_str(), O_RDONLY | O_DIRECTORY, 0);
    return io->OpenBeneath(cfg_.base_fd, d == "." ? "" : d, O_RDONLY | O_DIRECTORY, 0);
  };
  if (contents) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    ASSIGN_OR_RETURN(root_, open_dir(p));
    top_ = ".";
    top_is_dot_ = true;
    return Status::Ok();
  }
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  const std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  top_ = slash == std::string::npos ? p : p.substr(slash + 1);
  ASSIGN_OR_RETURN(root_, open_dir(parent));
  return Status::Ok();
}

Status Sender::Emit(io::IoBackend& io, int dirfd, const Entry& e, const std::string& path,
                    const std::vector<io::Xattr>* read) {
  if (!Wanted(opt_, e) || !StreamSends(opt_, e, path)) return Status::Ok();
  const char* name = path == "." ? "." : e.name.c_str();
  std::vector<io::Xattr> xattrs;
  if (read != nullptr) {
    xattrs = *read;
  } else if (opt_.xattrs || opt_.acls) {
    auto x = ReadKeptXattrs(io, policy_, dirfd, name);
    if (x.ok()) {
      xattrs = std::move(*x);
    } else if (x.status().sys_errno() != ENOTSUP) {
      PathError(std::nullopt, path, x.status());
    }
  }
  FileEntry w = ToWire(e, path, xattrs, opt_);
  if (e.is_lnk()) {
    auto t = io.ReadLinkAt(dirfd, name);
    if (!t.ok()) {
      PathError(std::nullopt, path, t.status());
      return Status::Ok();
    }
    w.symlink_target = std::move(*t);
    if (opt_.safe_links && cfg_.report_unsafe_links && IsUnsafeSymlink(w.symlink_target, path)) {
      std::lock_guard<std::mutex> l(events_mu_);
      events_.OnWarning("ignoring unsafe symlink " + QuotePath(path) + " -> " +
                        QuotePath(w.symlink_target));
      stats_.unsafe_links++;
    }
  }
  if (!opt_.numeric_ids) {
    std::lock_guard<std::mutex> l(list_mu_);
    auto u = users_.find(e.uid);
    if (u == users_.end()) u = users_.emplace(e.uid, UserName(e.uid)).first;
    auto g = groups_.find(e.gid);
    if (g == groups_.end()) g = groups_.emplace(e.gid, GroupName(e.gid)).first;
    w.user_name = u->second;
    w.group_name = g->second;
  }
  {
    std::lock_guard<std::mutex> l(list_mu_);
    const auto index = static_cast<uint32_t>(list_.size());
    if (opt_.hard_links && e.is_reg() && e.nlink > 1) {
      auto [it, fresh] = leaders_.emplace(std::make_pair(e.dev, e.ino), index);
      if (!fresh) w.link_leader = it->second;
    }
    list_.push_back(SentEntry{path, w.kind, w.size, e.dev, e.ino, w.link_leader.has_value()});
    stats_.files++;
    if (e.is_reg()) {
      stats_.reg_files++;
      stats_.total_size += e.size;
    } else if (e.is_dir()) {
      stats_.dirs++;
    } else if (e.is_lnk()) {
      stats_.symlinks++;
    } else {
      stats_.specials++;
    }
  }
  if (!batch_entries_) return ch_.Send(w);
  batch_bytes_ += w.path.size() + w.symlink_target.size() + w.user_name.size() +
                  w.group_name.size() + 64;
  for (const Xattr& x : w.xattrs) batch_bytes_ += x.name.size() + x.value.size() + 8;
  batch_.entries.push_back(std::move(w));
  if (batch_.entries.size() >= kBatchEntries || batch_bytes_ >= ch_.max_payload() / 2) {
    return FlushBatch();
  }
  return Status::Ok();
}

Status Sender::FlushBatch() {
  if (batch_.entries.empty()) return Status::Ok();
  Status s = ch_.Send(batch_);
  batch_.entries.clear();
  batch_bytes_ = 0;
  return s;
}

Status Sender::Walk(io::IoBackend& io, int dirfd, const std::string& rel) {
  // Listed ahead by the prefetch threads (opened beneath the root without
  // following symlinks) or here.
  std::optional<DirPrefetch::Listing> pre =
      prefetch_ ? prefetch_->Take(rel == "." ? "" : rel) : std::nullopt;
  if (pre && pre->status.ok()) {
    // Only if dirfd is the directory listed (else it is listed again here).
    auto st = io.FStat(dirfd);
    if (!st.ok() || !DirPrefetch::Same(*pre, *st)) pre.reset();
  }
  if (pre && !pre->status.ok()) pre.reset();
  auto listing = pre ? Result<std::vector<Entry>>(pre->entries) : ListDir(io, dirfd, rel);
  if (!listing.ok()) {
    PathError(std::nullopt, rel, listing.status());
    return Status::Ok();
  }
  auto join = [&](const std::string& n) { return rel == "." ? n : rel + "/" + n; };
  // rsync's sender: what the filter excludes is neither listed nor entered.
  if (filter_) {
    std::erase_if(*listing, [&](const Entry& e) { return filter_->Excluded(join(e.name), e.is_dir()); });
  }
  // A name with a control character (a newline, an escape) would be refused
  // by the receiver as a hostile path (path_check.h) and end the session:
  // each is reported and left out instead, and its Error (no file index)
  // tells the receiver to leave DST's entry of that path alone under
  // --delete. The local engine copies such names.
  std::erase_if(*listing, [&](const Entry& e) {
    if (CheckWireName(e.name, "name").ok()) return false;
    const std::string path = join(e.name);
    PathError(std::nullopt, path,
              Status(ErrorCode::kUnsupported,
                     QuotePath(path) + " not sent: its name holds a control character, which "
                     "the protocol refuses (rename it, or copy it with a local ferry sync)"));
    return true;
  });
  // --mail: a folder's tmp/ is listed, its half-delivered messages are not;
  // a stream leaves its index files to the final pass.
  const bool folder = IsMaildirListing(MailModeOf(opt_.mail), *listing);
  if (folder) DropIndexFilesInStream(opt_, &*listing);
  // The subdirectories are listed while this one is sent.
  if (prefetch_) {
    for (const Entry& e : *listing)
      if (e.is_dir() && !(folder && e.name == "tmp")) prefetch_->Request(join(e.name));
  }
  // What is left is a subsequence of the prefetched (sorted) listing: its
  // xattrs are found by walking both in step.
  size_t at = 0;
  for (const Entry& e : *listing) {
    const std::vector<io::Xattr>* read = nullptr;
    if (pre && !pre->read_ok.empty()) {
      while (at < pre->entries.size() && pre->entries[at].name != e.name) ++at;
      if (at < pre->entries.size() && pre->read_ok[at]) read = &pre->xattrs[at];
    }
    RETURN_IF_ERROR(Emit(io, dirfd, e, join(e.name), read));
  }
  for (const Entry& e : *listing) {
    if (!e.is_dir() || (folder && e.name == "tmp")) continue;
    auto sub = io.OpenAt(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    if (!sub.ok()) {
      PathError(std::nullopt, join(e.name), sub.status());
      continue;
    }
    RETURN_IF_ERROR(Walk(io, sub->get(), join(e.name)));
  }
  return Status::Ok();
}

void Sender::ListThread() {
  SetThreadName("ferry-lister");
  auto io = Backend();
  // Subdirectories are listed (names, lstat, kept xattrs) on up to 4
  // threads, one fewer than the cores, while the walk sends their parents.
  // Not with an injected backend: the walk must see what it injects.
  if (!cfg_.backend_factory) {
    const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
    // Each listing queues the subdirectories the walk will enter: not what
    // the filter excludes, nor (--mail) a folder's tmp/.
    const bool mail = MailModeOf(opt_.mail) != mail::MailMode::kOff;
    DirPrefetch::Enter enter = [this, mail](const std::string& rel) {
      const size_t slash = rel.rfind('/');
      if (mail && rel.compare(slash == std::string::npos ? 0 : slash + 1, std::string::npos,
                              "tmp") == 0) {
        return false;
      }
      return !filter_ || !filter_->Excluded(rel, true);
    };
    prefetch_ = std::make_unique<DirPrefetch>(root_.get(), policy_, opt_.xattrs || opt_.acls,
                                              static_cast<int>(std::min(4u, cores - 1)), 512,
                                              std::move(enter));
  }
  Status s = [&]() -> Status {
    auto st = io->StatAt(root_.get(), top_.c_str(), AT_SYMLINK_NOFOLLOW);
    if (!st.ok()) return st.status();
    Entry top = Entry::FromStat(top_, *st);
    if (!top_is_dot_ && filter_ && filter_->Excluded(top_, top.is_dir())) return Status::Ok();
    RETURN_IF_ERROR(Emit(*io, root_.get(), top, top_));
    if (!top.is_dir()) return Status::Ok();
    if (top_is_dot_) return Walk(*io, root_.get(), ".");
    ASSIGN_OR_RETURN(io::UniqueFd d, io->OpenAt(root_.get(), top_.c_str(),
                                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0));
    return Walk(*io, d.get(), top_);
  }();
  prefetch_.reset();
  if (s.ok()) s = FlushBatch();
  if (s.ok()) {
    uint64_t n;
    {
      std::lock_guard<std::mutex> l(list_mu_);
      n = list_.size();
    }
    s = ch_.Send(FileListEnd{n});
  }
  if (!s.ok()) SetFatal(s.WithContext("sending the file list"));
}

Status Sender::SendDelta(uint32_t index, std::span<const std::byte> part,
                         const delta::Signature& sig, const std::string& path,
                         Hash128* hash, bool* sent) {
  *sent = false;
  const size_t limit = ch_.max_payload() - kChunkHeader;
  DeltaOps m;
  m.file_index = index;
  size_t est = 0;
  Status wire = Status::Ok();
  auto flush = [&]() -> Status {
    if (m.ops.empty()) return Status::Ok();
    Status s = ch_.Send(m);
    m.ops.clear();
    m.literals.clear();
    est = 0;
    return s;
  };
  Hasher hasher;
  uint64_t hashed = 0;
  // Each window's ops go out as soon as it is scanned (the receiver starts
  // applying while the rest is matched); the bytes they cover are hashed
  // then, while they are still in the cache.
  auto sink = [&](std::span<const delta::DeltaRun> runs) -> Status {
    for (const delta::DeltaRun& r : runs) {
      if (r.copy) {
        if (est + 20 > limit) wire = flush();
        if (!wire.ok()) return wire;
        m.ops.push_back(delta::DeltaOp{delta::OpKind::kCopy, r.length, r.old_offset});
        est += 20;
        continue;
      }
      uint64_t at = r.new_pos;
      const uint64_t end = r.new_pos + r.length;
      while (at < end) {
        if (est + 21 > limit) wire = flush();
        if (!wire.ok()) return wire;
        const uint64_t take = std::min<uint64_t>(end - at, limit - est - 20);
        m.ops.push_back(delta::DeltaOp{delta::OpKind::kLiteral, take, 0});
        m.literals.insert(m.literals.end(), part.begin() + static_cast<long>(at),
                          part.begin() + static_cast<long>(at + take));
        at += take;
        est += 20 + take;
      }
    }
    const uint64_t upto = runs.back().new_pos + runs.back().length;
    hasher.Update(part.subspan(hashed, upto - hashed));
    hashed = upto;
    // A window's ops go out now rather than with the next one's.
    wire = flush();
    return wire;
  };
  delta::MatcherOptions mo;
  mo.threads = part.size() >= kParallelMatch ? 0 : 1;
  mo.window = kDeltaWindow;
  delta::DeltaStats ds;
  Status s = delta::StreamDelta(sig, part, mo, sink, &ds);
  if (!wire.ok()) return wire;
  if (!s.ok()) {
    PathError(index, path, s);
    return Status::Ok();
  }
  hasher.Update(part.subspan(hashed));
  *hash = hasher.Finish();
  stats_.literal_bytes += ds.literal_bytes;
  stats_.matched_bytes += ds.matched_bytes;
  *sent = true;
  return Status::Ok();
}

Result<bool> Sender::SendData(io::IoBackend& io, int fd, uint32_t index, const SentEntry& e,
                              uint64_t from, uint64_t end, uint64_t base, Hasher& hasher) {
  FileData m;
  m.file_index = index;
  const size_t chunk = ch_.max_payload() - kChunkHeader;
  uint64_t off = from;
  while (off < end) {
    m.offset = off - base;
    m.data.resize(static_cast<size_t>(std::min<uint64_t>(chunk, end - off)));
    auto n = io.PRead(fd, m.data, off);
    if (!n.ok()) {
      PathError(index, e.path, n.status());
      return false;
    }
    if (*n == 0) {
      PathError(index, e.path, Status(ErrorCode::kChanged, e.path + " shrank while it was read"));
      return false;
    }
    m.data.resize(*n);
    hasher.Update(m.data);
    RETURN_IF_ERROR(ch_.Send(m));
    // Counted as it goes: a client's progress moves within a large file.
    stats_.literal_bytes += *n;
    off += *n;
  }
  return true;
}


// The hash confirms the receiver's candidate (rename/copy within DST) or its
// prefix (append) on this side too: nothing is reused on the receiver's word
// alone, and nothing is sent that DST already holds.
Status Sender::ServeProbe(io::IoBackend& io, int fd, Job& job, const SentEntry& e,
                          bool* handled) {
  *handled = false;
  Hasher h;
  if (job.append) {
    const uint64_t prefix = job.append->prefix_len;
    if (!HashFdPrefix(io, fd, prefix, h) || !(h.Finish() == job.append->prefix_hash)) {
      // The receiver asks again with a signature.
      *handled = true;
      return ch_.Send(ProbeResult{job.index, ProbeOutcome::kMiss, 0, Hash128{}});
    }
    RETURN_IF_ERROR(ch_.Send(ProbeResult{job.index, ProbeOutcome::kAppend, 0, Hash128{}}));
    *handled = true;
    ASSIGN_OR_RETURN(bool complete, SendData(io, fd, job.index, e, prefix, e.size, 0, h));
    if (!complete) return Status::Ok();
    files_sent_++;
    bytes_sent_ += e.size;
    stats_.transferred_files++;
    stats_.transferred_bytes += e.size;
    stats_.matched_bytes += prefix;
    stats_.appended_files++;
    stats_.append_reused_bytes += prefix;
    return ch_.Send(FileDone{job.index, e.size, h.Finish()});
  }
  if (HashFdPrefix(io, fd, e.size, h)) {
    const Hash128 hash = h.Finish();
    for (uint32_t k = 0; k < job.reuse.size(); ++k) {
      if (job.reuse[k] == hash) {
        *handled = true;
        // Nothing follows it: queued with the next results (Worker flushes).
        return ch_.SendLater(ProbeResult{job.index, ProbeOutcome::kReuse, k, hash});
      }
    }
  }
  // The whole file follows.
  return ch_.Send(ProbeResult{job.index, ProbeOutcome::kMiss, 0, Hash128{}});
}

Status Sender::Serve(io::IoBackend& io, Job& job) {
  SentEntry e;
  {
    std::lock_guard<std::mutex> l(list_mu_);
    e = list_[job.index];
  }
  auto fd = io.OpenBeneath(root_.get(), e.path, O_RDONLY | O_NOFOLLOW, 0);
  if (!fd.ok()) {
    const int err = fd.status().sys_errno();
    if (err == ENOENT) {
      PathError(job.index, e.path, Status(ErrorCode::kNotFound, "file has vanished: " + e.path),
                true);
    } else if (err == ELOOP) {
      PathError(job.index, e.path,
                Status(ErrorCode::kChanged, e.path + " or a directory above it is a "
                                                     "symlink now; not followed"));
    } else {
      PathError(job.index, e.path, fd.status());
    }
    return Status::Ok();
  }
  auto st = io.FStat(fd->get());
  if (!st.ok()) {
    PathError(job.index, e.path, st.status());
    return Status::Ok();
  }
  if (!S_ISREG(st->st_mode) || st->st_dev != e.dev || st->st_ino != e.ino ||
      static_cast<uint64_t>(st->st_size) != e.size) {
    PathError(job.index, e.path,
              Status(ErrorCode::kChanged, e.path + " changed between the scan and the "
                                                   "transfer; the next run sends it"));
    return Status::Ok();
  }
  Hash128 hash;
  // --streams: a split file's part is this stream's byte range (streams.h).
  const std::optional<ByteRange> range = SplitRange(opt_, e.size, e.follower);
  const uint64_t first = range ? range->offset : 0;
  const uint64_t end = range ? range->offset + range->length : e.size;
  if (job.sig) {
    io::MappedFile map;
    RETURN_IF_ERROR(map.Map(fd->get(), e.size));
    const std::span<const std::byte> part = map.bytes().subspan(first, end - first);
    bool sent = false;
    RETURN_IF_ERROR(SendDelta(job.index, part, *job.sig, e.path, &hash, &sent));
    if (!sent) return Status::Ok();
    if (map.torn()) {
      // Cut short while it was matched: what went out is not the file (the
      // receiver drops its temporary on this error).
      PathError(job.index, e.path,
                Status(ErrorCode::kChanged, e.path + " shrank while it was read; the next run "
                                                     "sends it"));
      return Status::Ok();
    }
  } else {
    if (!range && (!job.reuse.empty() || job.append)) {
      bool handled = false;
      RETURN_IF_ERROR(ServeProbe(io, fd->get(), job, e, &handled));
      if (handled) return Status::Ok();
    }
    Hasher hasher;
    // A split file's FileData offsets are relative to its range (streams.h).
    ASSIGN_OR_RETURN(bool complete, SendData(io, fd->get(), job.index, e, first, end, first, hasher));
    if (!complete) return Status::Ok();
    hash = hasher.Finish();
  }
  if (first == 0) {
    files_sent_++;
    stats_.transferred_files++;
  }
  bytes_sent_ += end - first;
  stats_.transferred_bytes += end - first;
  return ch_.Send(FileDone{job.index, end - first, hash});
}

void Sender::Worker() {
  SetThreadName("ferry-sender");
  auto io = Backend();
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> l(jobs_mu_);
      if (jobs_.empty() && !closing_) {
        // Idle: the results SendLater queued go out before this waits.
        l.unlock();
        ch_.FlushLater();
        l.lock();
      }
      jobs_cv_.wait(l, [&] { return closing_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++busy_;
    }
    Status s = Serve(*io, job);
    if (!s.ok()) SetFatal(s);
    {
      std::lock_guard<std::mutex> l(jobs_mu_);
      --busy_;
    }
    idle_cv_.notify_all();
  }
}

Status Sender::OnProbe(const Message& m, bool sig_pending) {
  Job job;
  uint64_t prefix = 0;
  if (auto* p = std::get_if<ReuseProbe>(&m)) {
    job.index = p->file_index;
    job.reuse = p->candidates;
  } else {
    const auto& a = std::get<AppendProbe>(m);
    job.index = a.file_index;
    job.append = a;
    prefix = a.prefix_len;
  }
  const std::string what = TypeName(static_cast<uint8_t>(TypeOf(m)));
  std::lock_guard<std::mutex> l(list_mu_);
  if (sig_pending) return Corrupt(what + " while a signature is incomplete");
  if (job.index >= list_.size()) {
    return Corrupt(what + ": file_index " + std::to_string(job.index) + " out of range (" +
                   std::to_string(list_.size()) + " entries sent)");
  }
  const SentEntry& e = list_[job.index];
  if (e.kind != FileKind::kRegular) {
    return Corrupt(what + ": file " + std::to_string(job.index) + " is not a regular file");
  }
  if (job.append && prefix >= e.size) {
    return Corrupt(what + ": prefix_len " + std::to_string(prefix) + " is not below the size " +
                   std::to_string(e.size) + " of file " + std::to_string(job.index));
  }
  std::lock_guard<std::mutex> jl(jobs_mu_);
  jobs_.push_back(std::move(job));
  jobs_cv_.notify_one();
  return Status::Ok();
}

void Sender::AddReport(const ReceiverReport& r) {
  stats_.created += r.created;
  stats_.deleted += r.deleted;
  stats_.renamed_files += r.renamed_files;
  stats_.dst_copied_files += r.dst_copied_files;
  stats_.renamed_bytes += r.renamed_bytes;
  stats_.meta_updates += r.meta_updates;
  stats_.hard_links += r.hard_links;
  // Appends are counted here, where the tail was sent.
}

Status Sender::OnPlannedTotals(const PlannedTotals& p) {
  if (planned_seen_) return Corrupt("a second PlannedTotals");
  planned_seen_ = true;
  stats_.planned_files = p.files;
  stats_.planned_bytes = p.bytes;
  stats_.planned = true;
  std::lock_guard<std::mutex> l(events_mu_);
  events_.OnPlanned(stats_);
  return Status::Ok();
}

Result<SyncOutcome> Sender::Run() {
  ASSIGN_OR_RETURN(SyncRules rules, SyncRulesFrom(opt_, false));
  filter_ = rules.filter;
  RETURN_IF_ERROR(OpenRoot());
  stats_.phase = SyncPhase::kCopy;
  std::thread lister([this] { ListThread(); });
  int n = cfg_.workers > 0 ? cfg_.workers
                           : static_cast<int>(std::min(4u, std::max(1u, std::thread::hardware_concurrency())));
  std::vector<std::thread> workers;
  for (int i = 0; i < n; ++i) workers.emplace_back([this] { Worker(); });

  // The dispatcher: requests and signatures in, jobs out.
  struct PendingSig {
    uint32_t index = 0;
    std::optional<SignatureAssembler> assembler;
  };
  std::optional<PendingSig> pending;
  bool end_seen = false;
  uint32_t last_pass = 0;
  Status result;
  while (true) {
    {
      std::lock_guard<std::mutex> l(jobs_mu_);
      if (!fatal_.ok()) break;
    }
    auto in = ch_.Receive();
    if (!in.ok()) {
      result = in.status();
      break;
    }
    if (in->eof) {
      if (!end_seen) {
        result = Status(ErrorCode::kIo,
                        "connection closed by the receiver before the end of the transfer");
      }
      break;
    }
    Message& m = in->message;
    Status s;
    if (auto* r = std::get_if<FileRequest>(&m)) {
      std::lock_guard<std::mutex> l(list_mu_);
      if (pending) {
        s = Corrupt("FileRequest " + std::to_string(r->file_index) +
                    " while the signature of file " + std::to_string(pending->index) +
                    " is incomplete");
      } else if (r->file_index >= list_.size()) {
        s = Corrupt("FileRequest: file_index " + std::to_string(r->file_index) +
                    " out of range (" + std::to_string(list_.size()) + " entries sent)");
      } else if (list_[r->file_index].kind != FileKind::kRegular) {
        s = Corrupt("FileRequest: file_index " + std::to_string(r->file_index) + " " +
                    QuotePath(list_[r->file_index].path) + " is not a regular file");
      } else if (r->delta) {
        pending = PendingSig{r->file_index, std::nullopt};
      } else {
        std::lock_guard<std::mutex> jl(jobs_mu_);
        jobs_.push_back(Job{r->file_index, std::nullopt});
        jobs_cv_.notify_one();
      }
    } else if (std::holds_alternative<ReuseProbe>(m) || std::holds_alternative<AppendProbe>(m)) {
      s = OnProbe(m, pending.has_value());
    } else if (auto* rep = std::get_if<ReceiverReport>(&m)) {
      AddReport(*rep);
    } else if (auto* pt = std::get_if<PlannedTotals>(&m)) {
      s = OnPlannedTotals(*pt);
    } else if (auto* h = std::get_if<SignatureHeader>(&m)) {
      if (!pending || pending->assembler || pending->index != h->file_index) {
        s = Corrupt("SignatureHeader for file " + std::to_string(h->file_index) +
                    " that was not requested as a delta");
      } else {
        pending->assembler.emplace(*h);
      }
    } else if (auto* b = std::get_if<SignatureBlocks>(&m)) {
      if (!pending || !pending->assembler) {
        s = Corrupt("SignatureBlocks without a SignatureHeader");
      } else {
        s = pending->assembler->Add(*b);
      }
    } else if (auto* e = std::get_if<Error>(&m)) {
      if (e->code == WireError::kProtocol) {
        result = Status(ErrorCode::kCorrupt, "remote reported a protocol error: " + e->message);
        break;
      }
      if (cfg_.show_peer_errors) {
        std::lock_guard<std::mutex> l(events_mu_);
        events_.OnPathError(e->path, StatusFromWire(*e));
      }
      stats_.errors++;
      partial_ = true;
    } else if (std::holds_alternative<EndOfSession>(m)) {
      // The receiver's last message: the end, as the end of the stream is.
      if (!end_seen) {
        s = Corrupt("EndOfSession before the end of the transfer");
      } else {
        break;
      }
    } else if (auto* it = std::get_if<Itemized>(&m)) {
      // What the receiver changed (the codec admits these only when the
      // client asked for them): -i, -v and --json of a push show them.
      SyncEvents::Change c;
      c.itemized = it->item;
      c.path = it->path;
      c.detail = it->detail;
      c.bytes = it->bytes;
      // The receiver's counts reach --stats through these (this side saw
      // neither the deletions nor, in a dry run, any request) - unless its
      // ReceiverReport (kCapReuse) brings them, which then counts them once.
      const bool counted_by_report = (ch_.capabilities() & kCapReuse) != 0;
      if (!counted_by_report) {
        if (it->item.starts_with("*deleting")) {
          stats_.deleted++;
        } else if (it->item[2] == '+' && it->item[0] != 'h') {
          stats_.created++;
        }
      }
      if (opt_.dry_run && it->item[0] == '>') {
        stats_.transferred_files++;
        stats_.transferred_bytes += it->bytes;
      }
      std::lock_guard<std::mutex> l(events_mu_);
      events_.OnChange(c);
    } else if (auto* eop = std::get_if<EndOfPass>(&m)) {
      if (pending) {
        s = Corrupt("EndOfPass while a signature is incomplete");
      } else if (eop->pass != last_pass + 1) {
        s = Corrupt("EndOfPass " + std::to_string(eop->pass) + " after pass " +
                    std::to_string(last_pass));
      } else {
        last_pass = eop->pass;
        std::unique_lock<std::mutex> l(jobs_mu_);
        idle_cv_.wait(l, [&] { return !fatal_.ok() || (jobs_.empty() && busy_ == 0); });
        if (!fatal_.ok()) break;
        l.unlock();
        s = ch_.Send(EndOfPass{eop->pass, files_sent_.load(), bytes_sent_.load()});
        end_seen = true;
      }
    } else {
      s = Corrupt(TypeName(static_cast<uint8_t>(TypeOf(m))) +
                  " is not a message the receiver may send");
    }
    if (s.ok() && pending && pending->assembler && pending->assembler->complete()) {
      auto sig = std::move(*pending->assembler).Finish();
      if (!sig.ok()) {
        s = sig.status();
      } else {
        std::lock_guard<std::mutex> jl(jobs_mu_);
        jobs_.push_back(Job{pending->index, std::move(*sig)});
        jobs_cv_.notify_one();
        pending.reset();
      }
    }
    if (!s.ok()) {
      if (s.code() == ErrorCode::kCorrupt) (void)ch_.Send(ProtocolError(s));
      result = s;
      break;
    }
  }
  {
    std::lock_guard<std::mutex> l(jobs_mu_);
    closing_ = true;
    if (!result.ok()) jobs_.clear();
    if (result.ok() && !fatal_.ok()) result = fatal_;
  }
  if (!result.ok()) ch_.Abort(result);  // unblocks workers and the lister
  jobs_cv_.notify_all();
  for (std::thread& t : workers) t.join();
  lister.join();
  {
    std::lock_guard<std::mutex> l(jobs_mu_);
    if (result.ok() && !fatal_.ok()) result = fatal_;
  }
  if (!result.ok()) return result;
  stats_.phase = SyncPhase::kDone;
  SyncOutcome out;
  out.partial = partial_;
  out.vanished = vanished_;
  return out;
}

}  // namespace

Result<SyncOutcome> RunSender(Channel& ch, const SenderConfig& config, SyncStats& stats,
                              SyncEvents& events) {
  Sender s(ch, config, stats, events);
  return s.Run();
}

}  // namespace ferry::protocol
