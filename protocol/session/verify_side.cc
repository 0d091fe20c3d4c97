#include "protocol/session/verify_side.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <tbb/task_group.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "engine/base/path.h"
#include "engine/tree/id_map.h"
#include "engine/verify/local_side.h"
#include "protocol/path_check.h"
#include "protocol/session/common.h"

namespace ferry::protocol {

namespace {

constexpr size_t kBatchFiles = 64;
constexpr uint64_t kBatchBytes = 8 << 20;

std::string ChildPath(const std::string& dir, const std::string& name) {
  return dir == "." ? name : dir + "/" + name;
}

class VerifyWalk {
 public:
  VerifyWalk(Channel& ch, io::BackendKind io, int base_fd)
      : ch_(ch), side_(std::make_shared<verify::LocalSide>(io, nullptr)), base_fd_(base_fd),
        send_names_(!ch.options().numeric_ids) {
    policy_.acls = true;
    policy_.xattrs = true;
    policy_.am_root = ::geteuid() == 0;
    // Listings are compressible; keep a margin for the frame's own fields.
    chunk_bytes_ = ch.max_payload() / 2;
  }

  Status Run(const std::string& path, const VerifyOpen& open);

 private:
  void Send(const Message& m) {
    if (failed_.load()) return;
    Status s = ch_.Send(m);
    if (!s.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      if (first_error_.ok()) first_error_ = s;
      failed_.store(true);
    }
  }
  void SendError(const std::string& path, const Status& s) {
    Send(MakeError(std::nullopt, path, s));
  }
  // The item of entry e of `dir` (xattrs and link target read now); a
  // failure to read them is reported for the entry's path.
  VerifyItem Describe(verify::SideDir& dir, const Entry& e, const char* xattr_name,
                      const std::string& name, const std::string& path);
  void WalkDir(std::shared_ptr<verify::SideDir> dir, std::string rel);
  void Hash(std::shared_ptr<verify::SideDir> dir, std::string rel,
            std::shared_ptr<std::vector<Entry>> files, std::string as_name);
  Status DescribeRoot(const std::string& root, bool follow);
  // The served paths: beneath base_fd_ in a daemon module (no symlink
  // followed, nothing outside it), else as the served PATH names them.
  // StatPath returns 0 or the errno.
  int StatPath(const std::string& path, bool follow, struct stat* st);
  Result<std::shared_ptr<verify::SideDir>> OpenDir(const std::string& path);
  // The owner names sent with an entry (the client maps them through its
  // --usermap/--groupmap); "" for an id without a name here.
  std::string NameOf(IdKind kind, uint32_t id);

  Channel& ch_;
  std::shared_ptr<verify::LocalSide> side_;
  int base_fd_ = -1;
  bool send_names_ = false;
  std::mutex names_mu_;
  std::unordered_map<uint32_t, std::string> user_names_, group_names_;
  MetaPolicy policy_;
  SessionOptions wire_;  // ToWire's options: no atimes
  size_t chunk_bytes_ = 0;
  tbb::task_group tasks_;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> files_{0}, bytes_{0};
  std::mutex mu_;
  Status first_error_;
};

VerifyItem VerifyWalk::Describe(verify::SideDir& dir, const Entry& e, const char* xattr_name,
                                const std::string& name, const std::string& path) {
  VerifyItem it;
  std::vector<io::Xattr> xattrs;
  auto x = dir.Xattrs(policy_, xattr_name);
  if (x.ok()) xattrs = std::move(x).value();
  else SendError(path, x.status());
  it.entry = ToWire(e, name, xattrs, wire_);
  if (send_names_) {
    it.entry.user_name = NameOf(IdKind::kUser, e.uid);
    it.entry.group_name = NameOf(IdKind::kGroup, e.gid);
  }
  if (e.is_lnk()) {
    auto t = dir.ReadLink(e.name);
    if (t.ok() && !t->empty()) it.entry.symlink_target = std::move(t).value();
    else SendError(path, t.ok() ? Status(ErrorCode::kIo, "empty link target") : t.status());
    if (it.entry.symlink_target.empty()) it.entry.symlink_target = "?";
  }
  it.dev = e.dev;
  it.ino = e.ino;
  it.nlink = e.nlink;
  return it;
}

std::string VerifyWalk::NameOf(IdKind kind, uint32_t id) {
  static const SystemIdNames kSystem;
  std::lock_guard<std::mutex> l(names_mu_);
  auto& cache = kind == IdKind::kUser ? user_names_ : group_names_;
  auto it = cache.find(id);
  if (it == cache.end()) it = cache.emplace(id, kSystem.Name(kind, id).value_or("")).first;
  return it->second;
}

int VerifyWalk::StatPath(const std::string& path, bool follow, struct stat* st) {
  if (base_fd_ < 0) return (follow ? ::stat(path.c_str(), st) : ::lstat(path.c_str(), st)) == 0
                              ? 0
                              : errno;
  // In a module nothing is followed: a symlinked root is described as the
  // link it is (a path through one was refused before the session).
  const std::string p = StripTrailingSlashes(path);
  Result<struct stat> r = Status::Ok();
  if (p == ".") {
    auto fd = side_->io().OpenBeneath(base_fd_, "", O_RDONLY | O_DIRECTORY, 0);
    if (!fd.ok()) return fd.status().sys_errno() ? fd.status().sys_errno() : EIO;
    r = side_->io().FStat(fd->get());
  } else {
    auto [parent, name] = SplitParent(p);
    auto fd = side_->io().OpenBeneath(base_fd_, parent == "." ? "" : parent,
                                      O_RDONLY | O_DIRECTORY, 0);
    if (!fd.ok()) return fd.status().sys_errno() ? fd.status().sys_errno() : EIO;
    r = side_->io().StatAt(fd->get(), name.c_str(), AT_SYMLINK_NOFOLLOW);
  }
  if (!r.ok()) return r.status().sys_errno() ? r.status().sys_errno() : EIO;
  *st = *r;
  return 0;
}

Result<std::shared_ptr<verify::SideDir>> VerifyWalk::OpenDir(const std::string& path) {
  if (base_fd_ < 0) return side_->OpenRoot(path);
  return side_->OpenRootBeneath(base_fd_, StripTrailingSlashes(path));
}

void VerifyWalk::Hash(std::shared_ptr<verify::SideDir> dir, std::string rel,
                      std::shared_ptr<std::vector<Entry>> files, std::string as_name) {
  std::vector<verify::HashOp> ops(files->size());
  for (size_t k = 0; k < ops.size(); ++k) ops[k].entry = &(*files)[k];
  dir->HashFiles(ops);
  VerifyHashes m;
  m.dir = rel;
  for (const verify::HashOp& op : ops) {
    const std::string name = as_name.empty() ? op.entry->name : as_name;
    if (!op.status.ok()) {
      SendError(rel.empty() ? "." : ChildPath(rel, name), op.status);
      continue;
    }
    files_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(op.entry->size, std::memory_order_relaxed);
    m.hashes.push_back({name, op.hash});
  }
  if (!m.hashes.empty()) Send(m);
}

void VerifyWalk::WalkDir(std::shared_ptr<verify::SideDir> dir, std::string rel) {
  if (failed_.load()) return;
  auto listed = dir->List();
  if (!listed.ok()) {
    SendError(rel, listed.status());
    Send(VerifyListing{rel, true, {}});
    return;
  }
  std::vector<Entry>& entries = *listed;
  // A name holding a control byte cannot cross the wire (the client's
  // decoder refuses it as a hostile path): it is left out, and its Error,
  // sent before the listing, tells the client it was not compared.
  std::erase_if(entries, [&](const Entry& e) {
    if (CheckWireName(e.name, "name").ok()) return false;
    const std::string path = ChildPath(rel, e.name);
    SendError(path, Status(ErrorCode::kUnsupported,
                           QuotePath(path) + " not compared: its name holds a control "
                           "character, which the protocol refuses"));
    return true;
  });
  VerifyListing m;
  m.dir = rel;
  size_t bytes = 0;
  for (const Entry& e : entries) {
    const std::string path = ChildPath(rel, e.name);
    m.items.push_back(Describe(*dir, e, e.name.c_str(), e.name, path));
    const FileEntry& w = m.items.back().entry;
    bytes += 64 + w.path.size() + w.symlink_target.size();
    for (const Xattr& x : w.xattrs) bytes += 8 + x.name.size() + x.value.size();
    if (bytes >= chunk_bytes_) {
      Send(m);
      m.items.clear();
      bytes = 0;
    }
  }
  m.done = true;
  Send(m);
  // Hash this directory's files and descend; every subdirectory gets a
  // listing (possibly empty, after an Error) so the client never waits.
  auto batch = std::make_shared<std::vector<Entry>>();
  uint64_t batch_bytes = 0;
  auto flush = [&] {
    if (batch->empty()) return;
    tasks_.run([this, dir, rel, batch] { Hash(dir, rel, batch, ""); });
    batch = std::make_shared<std::vector<Entry>>();
    batch_bytes = 0;
  };
  for (Entry& e : entries) {
    if (e.is_dir()) {
      const std::string path = ChildPath(rel, e.name);
      auto child = dir->OpenChild(e.name);
      if (!child.ok()) {
        SendError(path, child.status());
        Send(VerifyListing{path, true, {}});
        continue;
      }
      tasks_.run([this, c = std::move(child).value(), path] { WalkDir(c, path); });
    } else if (e.is_reg() && e.size > 0) {
      if (e.size > verify::LocalSide::kSmallFile) {
        auto one = std::make_shared<std::vector<Entry>>(1, e);
        tasks_.run([this, dir, rel, one] { Hash(dir, rel, one, ""); });
        continue;
      }
      batch_bytes += e.size;
      batch->push_back(e);
      if (batch->size() >= kBatchFiles || batch_bytes >= kBatchBytes) flush();
    }
  }
  flush();
}

// The root message, then the walk below a directory root.
Status VerifyWalk::DescribeRoot(const std::string& root, bool follow) {
  struct stat st;
  if (int err = StatPath(root, follow, &st); err != 0) {
    if (err == ENOENT) {
      Send(VerifyListing{"", true, {}});  // the root does not exist
      return Status::Ok();
    }
    SendError(".", PosixError("stat", root, err));
    Send(VerifyListing{"", true, {}});
    return Status::Ok();
  }
  Entry self = Entry::FromStat(".", st);
  if (S_ISDIR(st.st_mode)) {
    auto dir = OpenDir(root);
    if (!dir.ok()) {
      SendError(".", dir.status());
      Send(VerifyListing{"", true, {}});
      return Status::Ok();
    }
    VerifyListing m{"", true, {Describe(**dir, self, nullptr, ".", ".")}};
    Send(m);
    tasks_.run([this, d = std::move(dir).value()] { WalkDir(d, "."); });
    return Status::Ok();
  }
  // A single entry: read through its parent directory, never following it.
  auto [parent, name] = SplitParent(StripTrailingSlashes(root));
  auto dir = OpenDir(parent);
  if (!dir.ok()) {
    SendError(".", dir.status());
    Send(VerifyListing{"", true, {}});
    return Status::Ok();
  }
  self.name = name;
  Send(VerifyListing{"", true, {Describe(**dir, self, name.c_str(), ".", ".")}});
  if (self.is_reg() && self.size > 0) {
    auto one = std::make_shared<std::vector<Entry>>(1, self);
    Hash(*dir, "", one, ".");
  }
  return Status::Ok();
}

Status VerifyWalk::Run(const std::string& path, const VerifyOpen& open) {
  std::string root = path.empty() ? "." : path;
  bool follow = open.follow;
  if (!open.name.empty()) {
    struct stat st;
    const bool is_dir = root.back() == '/' || (StatPath(root, true, &st) == 0 && S_ISDIR(st.st_mode));
    if (is_dir || !open.single_file) root = StripTrailingSlashes(root) + "/" + open.name;
    follow = false;
  }
  RETURN_IF_ERROR(DescribeRoot(root, follow));
  tasks_.wait();
  Send(EndOfPass{1, files_.load(), bytes_.load()});
  std::lock_guard<std::mutex> l(mu_);
  return first_error_;
}

}  // namespace

Status ServeVerify(Channel& ch, const std::string& path, io::BackendKind io, int base_fd) {
  ASSIGN_OR_RETURN(Incoming in, ch.Receive());
  if (in.eof) return Status(ErrorCode::kIo, "the client closed the session before VerifyOpen");
  const auto* open = std::get_if<VerifyOpen>(&in.message);
  if (!open) {
    Status s = Corrupt("expected VerifyOpen, got " + TypeName(static_cast<uint8_t>(TypeOf(in.message))));
    (void)ch.Send(ProtocolError(s));
    return s;
  }
  VerifyWalk walk(ch, io, base_fd);
  if (Status s = walk.Run(path, *open); !s.ok()) {
    // Ending our direction wakes a client still waiting for listings.
    ch.CloseWrite();
    // A client that stopped listening (it had what it needed, or gave up on
    // a root error it reports itself) is not this side's failure.
    if (s.code() == ErrorCode::kIo) return Status::Ok();
    return s;
  }
  ch.CloseWrite();
  // The client closes its direction when it has compared everything.
  while (true) {
    ASSIGN_OR_RETURN(Incoming next, ch.Receive());
    if (next.eof) return Status::Ok();
    if (const auto* e = std::get_if<Error>(&next.message)) return StatusFromWire(*e);
  }
}

}  // namespace ferry::protocol
