#include "protocol/session/verify_remote.h"

#include <sys/stat.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "engine/base/path.h"
#include "engine/base/thread_name.h"
#include "engine/tree/id_map.h"
#include "engine/verify/local_side.h"
#include "engine/verify/side.h"
#include "protocol/path_check.h"
#include "protocol/session/common.h"

namespace ferry::protocol {

namespace {

// One remote entry as the comparison sees it.
struct Node {
  Entry entry;
  std::vector<io::Xattr> xattrs;
  std::string target;
};

struct DirListing {
  std::vector<Node> nodes;  // sorted by name once done
  bool done = false;
};

// The remote side's owner names, learned from its listings as they arrive
// (sent unless the session is numeric_ids): the source names a --usermap
// or --groupmap matches, as the sync's receiver matches its sender's.
class PeerIdNames final : public IdNames {
 public:
  void Add(IdKind kind, uint32_t id, const std::string& name) {
    if (name.empty()) return;
    std::lock_guard<std::mutex> l(mu_);
    (kind == IdKind::kUser ? users_ : groups_).emplace(id, name);
  }
  std::optional<std::string> Name(IdKind kind, uint32_t id) const override {
    std::lock_guard<std::mutex> l(mu_);
    const auto& m = kind == IdKind::kUser ? users_ : groups_;
    auto it = m.find(id);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  std::optional<uint32_t> Id(IdKind kind, std::string_view name) const override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, n] : kind == IdKind::kUser ? users_ : groups_)
      if (n == name) return id;
    return std::nullopt;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, std::string> users_, groups_;
};

// The remote tree as it arrives: fed by one reader thread, read by the
// comparison's workers, which wait for what they need.
class RemoteTree {
 public:
  RemoteTree(Channel& ch, std::shared_ptr<PeerIdNames> names)
      : ch_(ch), names_(std::move(names)) {}
  ~RemoteTree() { Join(); }  // callers end the channel first

  void Start() { reader_ = std::thread([this] { ReadLoop(); }); }
  void Join() {
    if (reader_.joinable()) reader_.join();
  }

  // The listing of `dir` ("" for the root message) once complete, or the
  // error the server sent for it.
  Result<const DirListing*> WaitDir(const std::string& dir) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      auto it = dirs_.find(dir);
      return ended_ || (it != dirs_.end() && it->second.done);
    });
    // A directory that could not be listed comes as an Error and an empty
    // listing (an Error beside entries was about its xattrs).
    auto it = dirs_.find(dir);
    auto err = errors_.find(dir.empty() ? "." : dir);
    if (err != errors_.end() && !dir.empty() && (it == dirs_.end() || it->second.nodes.empty()))
      return err->second;
    if (it == dirs_.end() || !it->second.done) return Missing(dir, "listing");
    return &it->second;
  }

  Result<Hash128> WaitHash(const std::string& path) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return ended_ || hashes_.count(path) || errors_.count(path); });
    if (auto e = errors_.find(path); e != errors_.end()) return e->second;
    if (auto h = hashes_.find(path); h != hashes_.end()) return h->second;
    return Missing(path, "hash");
  }

  // The server's error for `path`, if any (already arrived: the server
  // sends an entry's errors before its listing).
  Status ErrorFor(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    auto e = errors_.find(path);
    return e == errors_.end() ? Status::Ok() : e->second;
  }

  // The session's failure (OK while the stream is healthy or ended well).
  Status Failure() {
    std::lock_guard<std::mutex> l(mu_);
    return failure_;
  }

 private:
  Status Missing(const std::string& path, const char* what) const {
    if (!failure_.ok()) return failure_;
    return Status(ErrorCode::kCorrupt,
                  std::string("the remote sent no ") + what + " for " + QuotePath(path));
  }

  void End(Status why) {
    std::lock_guard<std::mutex> l(mu_);
    if (failure_.ok()) failure_ = std::move(why);
    ended_ = true;
    cv_.notify_all();
  }

  Status Take(Message& m) {
    MetaPolicy all;
    all.am_root = true;  // keep every xattr sent; the comparison filters
    if (auto* ls = std::get_if<VerifyListing>(&m)) {
      std::lock_guard<std::mutex> l(mu_);
      DirListing& d = dirs_[ls->dir];
      if (d.done) return Corrupt("VerifyListing: directory " + QuotePath(ls->dir) + " listed twice");
      for (VerifyItem& it : ls->items) {
        // Before `done` wakes a comparison that maps this entry's owner.
        names_->Add(IdKind::kUser, it.entry.uid, it.entry.user_name);
        names_->Add(IdKind::kGroup, it.entry.gid, it.entry.group_name);
        Node n;
        n.entry = FromWire(it.entry, it.entry.uid, it.entry.gid);
        n.entry.dev = it.dev;
        n.entry.ino = it.ino;
        n.entry.nlink = it.nlink;
        n.xattrs = XattrsFromWire(it.entry, all);
        n.target = std::move(it.entry.symlink_target);
        d.nodes.push_back(std::move(n));
      }
      if (ls->done) {
        d.done = true;
        std::sort(d.nodes.begin(), d.nodes.end(),
                  [](const Node& a, const Node& b) { return a.entry.name < b.entry.name; });
        cv_.notify_all();
      }
      return Status::Ok();
    }
    if (auto* hs = std::get_if<VerifyHashes>(&m)) {
      std::lock_guard<std::mutex> l(mu_);
      for (const VerifyHash& h : hs->hashes)
        hashes_[hs->dir.empty() ? "." : hs->dir == "." ? h.name : hs->dir + "/" + h.name] = h.hash;
      cv_.notify_all();
      return Status::Ok();
    }
    if (auto* e = std::get_if<Error>(&m)) {
      if (e->code == WireError::kProtocol) return StatusFromWire(*e);
      std::lock_guard<std::mutex> l(mu_);
      errors_.emplace(e->path.empty() ? "." : e->path, StatusFromWire(*e));
      cv_.notify_all();
      return Status::Ok();
    }
    if (std::holds_alternative<EndOfPass>(m)) {
      std::lock_guard<std::mutex> l(mu_);
      ended_ = true;  // everything was sent; failure_ stays OK
      cv_.notify_all();
      return Status::Ok();
    }
    return Corrupt("unexpected " + TypeName(static_cast<uint8_t>(TypeOf(m))) +
                   " from the verify side");
  }

  void ReadLoop() {
    SetThreadName("ferry-verify-rd");
    while (true) {
      auto in = ch_.Receive();
      if (!in.ok()) return End(in.status());
      if (in->eof) {
        std::lock_guard<std::mutex> l(mu_);
        if (!ended_) failure_ = Status(ErrorCode::kIo, "the remote side ended the session early");
        ended_ = true;
        cv_.notify_all();
        return;
      }
      Status s = Take(in->message);
      if (!s.ok()) {
        if (s.code() == ErrorCode::kCorrupt) (void)ch_.Send(ProtocolError(s));
        ch_.Abort(s);
        return End(s);
      }
    }
  }

  Channel& ch_;
  std::shared_ptr<PeerIdNames> names_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, DirListing> dirs_;
  std::unordered_map<std::string, Hash128> hashes_;
  std::unordered_map<std::string, Status> errors_;
  bool ended_ = false;
  Status failure_;
};

// A remote directory: `path` is "." for the root directory, a relative path
// below it, or "" for the parent of a root entry (SRC without a trailing
// slash), whose only entry is the root, shown under `alias`.
class RemoteDir : public verify::SideDir {
 public:
  RemoteDir(std::shared_ptr<RemoteTree> tree, std::string path, Node self, std::string alias)
      : tree_(std::move(tree)), path_(std::move(path)), self_(std::move(self)),
        alias_(std::move(alias)) {}

  Result<Entry> Self() override {
    Entry e = self_.entry;
    e.name = ".";
    return e;
  }

  Result<std::vector<Entry>> List() override {
    ASSIGN_OR_RETURN(const DirListing* d, tree_->WaitDir(path_));
    std::vector<Entry> out;
    out.reserve(d->nodes.size());
    for (const Node& n : d->nodes) out.push_back(Shown(n));
    return out;
  }

  Result<Entry> Lookup(const std::string& name) override {
    ASSIGN_OR_RETURN(const Node* n, Find(name));
    return Shown(*n);
  }

  Result<std::shared_ptr<SideDir>> OpenChild(const std::string& name) override {
    ASSIGN_OR_RETURN(const Node* n, Find(name));
    if (!n->entry.is_dir()) return PosixError("open directory", name, ENOTDIR);
    return std::shared_ptr<SideDir>(std::make_shared<RemoteDir>(tree_, Child(name), *n, ""));
  }

  Result<std::vector<io::Xattr>> Xattrs(const MetaPolicy& p, const char* name) override {
    const Node* n = &self_;
    std::string path = path_.empty() ? "." : path_;
    if (name) {
      ASSIGN_OR_RETURN(n, Find(name));
      path = Child(name);
    }
    RETURN_IF_ERROR(tree_->ErrorFor(path));
    std::vector<io::Xattr> out;
    for (const io::Xattr& x : n->xattrs)
      if (KeepXattr(p, x.name)) out.push_back(x);
    return out;
  }

  Result<std::string> ReadLink(const std::string& name) override {
    ASSIGN_OR_RETURN(const Node* n, Find(name));
    RETURN_IF_ERROR(tree_->ErrorFor(Child(name)));
    return n->target;
  }

  Status Unlisted(const std::string& name) override {
    return path_.empty() ? Status::Ok() : tree_->ErrorFor(Child(name));
  }

  void HashFiles(std::span<verify::HashOp> ops) override {
    for (verify::HashOp& op : ops) {
      auto h = tree_->WaitHash(Child(op.entry->name));
      if (h.ok()) {
        op.hash = *h;
        op.status = Status::Ok();
      } else {
        op.status = h.status();
      }
    }
  }

 private:
  std::string Child(const std::string& name) const {
    if (path_.empty()) return ".";
    return path_ == "." ? name : path_ + "/" + name;
  }
  Entry Shown(const Node& n) const {
    Entry e = n.entry;
    if (path_.empty()) e.name = alias_;
    return e;
  }
  Result<const Node*> Find(const std::string& name) {
    ASSIGN_OR_RETURN(const DirListing* d, tree_->WaitDir(path_));
    if (path_.empty()) {
      if (name == alias_ && !d->nodes.empty()) return &d->nodes.front();
    } else {
      auto it = std::lower_bound(d->nodes.begin(), d->nodes.end(), name,
                                 [](const Node& n, const std::string& v) { return n.entry.name < v; });
      if (it != d->nodes.end() && it->entry.name == name) return &*it;
    }
    return PosixError("lstat", name, ENOENT);
  }

  std::shared_ptr<RemoteTree> tree_;
  std::string path_;
  Node self_;
  std::string alias_;
};

SessionOptions VerifySessionOptions(const RemoteOptions& ro, bool want_names) {
  SessionOptions o;
  o.preserve = kPreserveKnownMask & ~kPreserveAtimes;
  o.hard_links = true;
  o.xattrs = true;
  o.acls = true;
  // Names only when this side maps the remote source's owners.
  o.numeric_ids = !want_names;
  o.compression = ro.compress ? Compression::kZstd : Compression::kNone;
  o.compress_level = ro.compress ? ro.compress_level : 0;
  o.max_frame = ro.max_frame;
  o.window = ro.window;
  return o;
}

// The remote root after the root message: its node, or nullopt when it does
// not exist. Errors: what the server said about the root.
Result<std::optional<Node>> RemoteRoot(RemoteTree& tree) {
  auto d = tree.WaitDir("");
  if (!d.ok()) return d.status();
  RETURN_IF_ERROR(tree.ErrorFor("."));
  if ((*d)->nodes.empty()) return std::optional<Node>();
  return std::optional<Node>((*d)->nodes.front());
}

}  // namespace

Result<RemoteVerifyResult> RunRemoteVerify(const VerifyRequest& req, const VerifyOptions& opt,
                                           const RemoteOptions& ro, VerifyEvents& events) {
  auto rs = ParseRemote(req.src);
  auto rd = ParseRemote(req.dst);
  if (rs.has_value() == rd.has_value())
    return InvalidArgument("exactly one of SRC and DST must be remote (host:path)");
  const bool remote_src = rs.has_value();
  RemoteSpec spec = remote_src ? *rs : *rd;
  auto connect = [&](const RemoteSpec& s, const SessionOptions& so) {
    return StartRemote(ro, s, ServeRole::kVerifySide, so);
  };
  return RunVerifySession(req, opt, ro, remote_src, spec, connect, events);
}

Result<RemoteVerifyResult> RunVerifySession(const VerifyRequest& req, const VerifyOptions& opt_in,
                                            const RemoteOptions& ro, bool remote_src,
                                            RemoteSpec spec, const VerifyConnect& connect,
                                            VerifyEvents& events) {
  const auto start = std::chrono::steady_clock::now();
  if (!opt_in.backend_factory && opt_in.io == io::BackendKind::kUring) {
    std::string why;
    if (!io::UringAvailable(&why)) return Status(ErrorCode::kUnsupported, "--io=io_uring: " + why);
  }
  // Owner maps with a remote SRC match the remote side's names (as the
  // sync's receiver matches its sender's), which its listings carry.
  auto peer_names = std::make_shared<PeerIdNames>();
  VerifyOptions opt = opt_in;
  const bool want_names = remote_src && opt.id_map && !opt.id_map->empty();
  if (want_names) {
    auto m = std::make_shared<IdMapping>(*opt.id_map);
    m->src_names = peer_names;
    opt.id_map = std::move(m);
  }
  if (spec.path.empty()) spec.path = ".";
  auto local = std::make_shared<verify::LocalSide>(opt.io, opt.backend_factory);

  // The trailing-slash rule, as VerifyTrees applies it.
  const std::string src_written = remote_src ? spec.path : req.src;
  std::string src = StripTrailingSlashes(src_written);
  bool contents = src_written.back() == '/';
  auto [src_parent, src_name] = SplitParent(src);
  if (src_name == "." || src_name == "..") contents = true;

  VerifyOpen open;
  verify::SideRoot s, d;
  struct stat sst {};
  if (!remote_src) {  // the local SRC first: its errors need no remote
    if ((contents ? ::stat(src.c_str(), &sst) : ::lstat(src.c_str(), &sst)) != 0)
      return PosixError("source", req.src, errno);
    if (contents && !S_ISDIR(sst.st_mode)) return PosixError("source", req.src, ENOTDIR);
    if (contents) {
      open.follow = true;
      ASSIGN_OR_RETURN(s.dir, local->OpenRoot(src));
    } else {
      open.name = src_name;
      open.single_file = !S_ISDIR(sst.st_mode);
      ASSIGN_OR_RETURN(s.dir, local->OpenRoot(src_parent));
      s.entry = src_name;
    }
  } else {
    open.follow = contents;
  }

  ASSIGN_OR_RETURN(RemoteSession session, connect(spec, VerifySessionOptions(ro, want_names)));
  auto tree = std::make_shared<RemoteTree>(*session.channel, peer_names);
  tree->Start();
  // Success: close our direction and let the server end its walk (it then
  // exits 0); failure: stop it.
  auto finish = [&](Status s) -> Status {
    if (s.ok()) session.channel->CloseWrite();
    else session.channel->Abort(s);
    tree->Join();
    std::string why = FinishRemote(session);
    if (s.ok()) return s;
    return Status(s.code(), s.message() + (why.empty() ? "" : " (" + why + ")"));
  };
  if (Status sent = session.channel->Send(open); !sent.ok()) return finish(sent);
  auto root = RemoteRoot(*tree);
  if (!root.ok()) {
    Status e = root.status();
    const char* side = remote_src ? "source" : "destination";
    return finish(Status(e.code(),
                         std::string(side) + " " + (remote_src ? req.src : req.dst) + ": " +
                             e.message(),
                         e.sys_errno()));
  }

  if (remote_src) {
    if (!*root) return finish(PosixError("source", req.src, ENOENT));
    const Node& r = **root;
    if (contents && !r.entry.is_dir()) return finish(PosixError("source", req.src, ENOTDIR));
    std::string dst = StripTrailingSlashes(req.dst);
    if (contents) {
      s.dir = std::make_shared<RemoteDir>(tree, ".", r, "");
      auto dd = verify::OpenDestinationDir(*local, dst, req.dst);
      if (!dd.ok()) return finish(dd.status());
      d.dir = *dd;
    } else {
      std::string dst_dir = dst, dst_name = src_name;
      struct stat dstst;
      bool dst_is_dir = ::stat(dst.c_str(), &dstst) == 0 && S_ISDIR(dstst.st_mode);
      if (!r.entry.is_dir() && !dst_is_dir && req.dst.back() != '/')
        std::tie(dst_dir, dst_name) = SplitParent(dst);
      s.dir = std::make_shared<RemoteDir>(tree, "", r, src_name);
      s.entry = src_name;
      auto dd = verify::OpenDestinationDir(*local, dst_dir, req.dst);
      if (!dd.ok()) return finish(dd.status());
      d.dir = *dd;
      d.entry = dst_name;
    }
  } else if (contents) {
    if (*root && !(*root)->entry.is_dir())
      return finish(PosixError("destination", req.dst, ENOTDIR));
    if (*root) d.dir = std::make_shared<RemoteDir>(tree, ".", **root, "");
  } else {
    // The remote resolved DST/name (or DST for a single file): compare the
    // entry under the source's name.
    d.dir = std::make_shared<RemoteDir>(tree, "", *root ? **root : Node{}, src_name);
    d.entry = src_name;
  }

  int jobs = opt.jobs > 0 ? opt.jobs
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  RemoteVerifyResult out;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(jobs));
    out.outcome = verify::VerifySides(s, d, opt, events);
  }
  Status failure = tree->Failure();
  out.bytes_sent = session.channel->bytes_sent();
  out.bytes_received = session.channel->bytes_received();
  s = {};
  d = {};
  RETURN_IF_ERROR(finish(failure));
  out.outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace ferry::protocol
