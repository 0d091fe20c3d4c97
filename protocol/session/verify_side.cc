#include "protocol/session/verify_side.h"

#include <sys/stat.h>
#include <tbb/task_group.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>

#include "engine/base/path.h"
#include "engine/verify/local_side.h"
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
  VerifyWalk(Channel& ch, io::BackendKind io)
      : ch_(ch), side_(std::make_shared<verify::LocalSide>(io, nullptr)) {
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

  Channel& ch_;
  std::shared_ptr<verify::LocalSide> side_;
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
  if ((follow ? ::stat(root.c_str(), &st) : ::lstat(root.c_str(), &st)) != 0) {
    if (errno == ENOENT) {
      Send(VerifyListing{"", true, {}});  // the root does not exist
      return Status::Ok();
    }
    SendError(".", PosixError("stat", root, errno));
    Send(VerifyListing{"", true, {}});
    return Status::Ok();
  }
  Entry self = Entry::FromStat(".", st);
  if (S_ISDIR(st.st_mode)) {
    auto dir = side_->OpenRoot(root);
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
  auto dir = side_->OpenRoot(parent);
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
    const bool is_dir = root.back() == '/' || (::stat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
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

Status ServeVerify(Channel& ch, const std::string& path, io::BackendKind io) {
  ASSIGN_OR_RETURN(Incoming in, ch.Receive());
  if (in.eof) return Status(ErrorCode::kIo, "the client closed the session before VerifyOpen");
  const auto* open = std::get_if<VerifyOpen>(&in.message);
  if (!open) {
    Status s = Corrupt("expected VerifyOpen, got " + TypeName(static_cast<uint8_t>(TypeOf(in.message))));
    (void)ch.Send(ProtocolError(s));
    return s;
  }
  VerifyWalk walk(ch, io);
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
