// VerifySides: the comparison walk. One task per directory pair lists both
// sides and merges the listings by name; entries are compared in chunks so a
// huge directory uses every core; regular files of equal size go to hash
// tasks (small files in batches, each large file as one task per side) that
// report the file once both hashes are in. Hard-link records are collected
// on the way and checked at the end.
#include <tbb/task_group.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "engine/verify/hard_links.h"
#include "engine/verify/side.h"

namespace ferry::verify {

namespace {

constexpr size_t kBatchFiles = 64;
constexpr uint64_t kBatchBytes = 8 << 20;
constexpr uint64_t kSmallFile = 256 * 1024;
constexpr size_t kPairChunk = 512;

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// A regular file on both sides waiting for its hashes.
struct FilePair {
  std::string path;
  Entry s, d;
  ItemFlags item;  // metadata differences found so far
};

class Walk {
 public:
  Walk(const VerifyOptions& o, VerifyEvents& e) : opt(o), events_(e) {
    policy.perms = o.perms;
    policy.times = o.times;
    policy.owner = o.owner;
    policy.group = o.group;
    policy.acls = o.acls;
    policy.xattrs = o.xattrs;
    policy.atimes = false;
    policy.am_root = ::geteuid() == 0;
  }

  const VerifyOptions& opt;
  MetaPolicy policy;
  tbb::task_group tasks;
  std::atomic<uint64_t> entries{0}, files_hashed{0}, bytes_hashed{0};

  // SRC's entry with the owner and group DST should have (id maps).
  Entry Mapped(const Entry& s) {
    if (!opt.id_map) return s;
    Entry e = s;
    e.uid = MapId(IdKind::kUser, s.uid);
    e.gid = MapId(IdKind::kGroup, s.gid);
    return e;
  }

  bool Excluded(const std::string& path, bool is_dir) const {
    return opt.filter && opt.filter->Excluded(path, is_dir);
  }

  void Report(const Difference& d) {
    std::lock_guard<std::mutex> l(mu_);
    ++differences_;
    events_.OnDifference(d);
  }
  // A path that could not be read: the message gets the path in front.
  void Error(const std::string& path, const Status& s) {
    std::lock_guard<std::mutex> l(mu_);
    ++errors_;
    events_.OnError(Status(s.code(), (path.empty() ? "." : path) + ": " + s.message(),
                           s.sys_errno()));
  }
  void Vanished(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    ++vanished_;
    events_.OnWarning("file has vanished: " + path);
  }
  void AddLink(LinkRecord r) {
    std::lock_guard<std::mutex> l(links_mu_);
    links_.push_back(std::move(r));
  }

  void Finish(VerifyOutcome* out) {
    for (LinkFinding& f : CheckHardLinks(links_)) {
      Difference d;
      d.kind = f.kind;
      d.path = std::move(f.path);
      d.link_peer = std::move(f.peer);
      d.item.update = f.kind == DiffKind::kLinkBroken ? 'h' : '.';
      d.item.type = 'f';
      Report(d);
    }
    out->differences = differences_;
    out->errors = errors_;
    out->vanished = vanished_;
    out->entries = entries.load();
    out->files_hashed = files_hashed.load();
    out->bytes_hashed = bytes_hashed.load();
  }

 private:
  uint32_t MapId(IdKind kind, uint32_t id) {
    std::lock_guard<std::mutex> l(ids_mu_);
    auto& cache = kind == IdKind::kUser ? uids_ : gids_;
    if (auto it = cache.find(id); it != cache.end()) return it->second;
    const IdMap& m = kind == IdKind::kUser ? opt.id_map->users : opt.id_map->groups;
    uint32_t to = id;
    if (!m.empty()) {
      static const SystemIdNames kSystem;
      const IdNames& names = opt.id_map->src_names ? *opt.id_map->src_names : kSystem;
      std::optional<std::string> name = names.Name(kind, id);
      to = m.Map(id, name ? &*name : nullptr);
    }
    cache.emplace(id, to);
    return to;
  }

  VerifyEvents& events_;
  std::mutex ids_mu_;
  std::unordered_map<uint32_t, uint32_t> uids_, gids_;
  std::mutex mu_;
  uint64_t differences_ = 0, errors_ = 0, vanished_ = 0;
  std::mutex links_mu_;
  std::vector<LinkRecord> links_;
};

// Two directories with the same relative path; either side may be absent.
struct DirPair {
  std::shared_ptr<SideDir> src, dst;
  std::string rel;  // "" for the root
};

void ProcessDir(Walk& w, DirPair p);

std::string EntryPath(const DirPair& p, const Entry& e) {
  std::string path = Join(p.rel, e.name);
  if (e.is_dir()) path += '/';
  return path;
}

// Opens child `name` of one side; reports failures (vanished on SRC).
std::shared_ptr<SideDir> OpenChild(Walk& w, SideDir& dir, const std::string& name,
                                   const std::string& path, bool src) {
  auto c = dir.OpenChild(name);
  if (c.ok()) return std::move(c).value();
  if (src && c.status().code() == ErrorCode::kNotFound) w.Vanished(path);
  else w.Error(path, Status(c.status().code(), std::string(src ? "SRC" : "DST") + ": " +
                                                   c.status().message(),
                            c.status().sys_errno()));
  return nullptr;
}

void Missing(Walk& w, const DirPair& p, const Entry& s) {
  w.entries.fetch_add(1, std::memory_order_relaxed);
  Difference d;
  d.kind = DiffKind::kMissing;
  d.path = EntryPath(p, s);
  d.item.update = s.is_reg() ? '>' : 'c';
  d.item.type = TypeLetter(s.mode);
  d.item.created = true;
  d.src = s;
  if (s.is_lnk()) {
    auto t = p.src->ReadLink(s.name);
    if (t.ok()) d.src_target = std::move(t).value();
    else w.Error(d.path, t.status());  // still missing, target unknown
  }
  w.Report(d);
  if (!s.is_dir()) return;
  if (auto c = OpenChild(w, *p.src, s.name, d.path, true))
    w.tasks.run([&w, c, rel = Join(p.rel, s.name)] { ProcessDir(w, {c, nullptr, rel}); });
}

void Extra(Walk& w, const DirPair& p, const Entry& e) {
  Difference d;
  d.kind = DiffKind::kExtra;
  d.path = EntryPath(p, e);
  d.item.update = '*';
  d.item.type = TypeLetter(e.mode);
  d.dst = e;
  w.Report(d);
  if (!e.is_dir()) return;
  if (auto c = OpenChild(w, *p.dst, e.name, d.path, false))
    w.tasks.run([&w, c, rel = Join(p.rel, e.name)] { ProcessDir(w, {nullptr, c, rel}); });
}

// Reports a hashed pair: content and metadata in one item.
void ReportFile(Walk& w, FilePair& f, const HashOp& a, const HashOp& b) {
  Difference d;
  d.kind = DiffKind::kChanged;
  d.path = f.path;
  d.item = f.item;
  for (const HashOp* op : {&a, &b}) {
    if (!op->status.ok()) continue;
    w.files_hashed.fetch_add(1, std::memory_order_relaxed);
    w.bytes_hashed.fetch_add(op->entry->size, std::memory_order_relaxed);
  }
  // One report per path, naming the first side that could not be read.
  if (!a.status.ok() && a.status.code() == ErrorCode::kNotFound) {
    w.Vanished(f.path);
  } else if (!a.status.ok() || !b.status.ok()) {
    const Status& e = a.status.ok() ? b.status : a.status;
    w.Error(f.path, Status(e.code(), std::string(a.status.ok() ? "DST" : "SRC") + ": " +
                                         e.message(), e.sys_errno()));
  } else if (!(a.hash == b.hash)) {
    d.item.checksum = true;
    d.item.update = '>';
    d.src_hash = a.hash;
    d.dst_hash = b.hash;
  }
  if (!d.item.any_attr()) return;
  d.src = std::move(f.s);
  d.dst = std::move(f.d);
  w.Report(d);
}

void HashBatch(Walk& w, const DirPair& p, std::vector<FilePair>& batch) {
  std::vector<HashOp> a(batch.size()), b(batch.size());
  for (size_t k = 0; k < batch.size(); ++k) {
    a[k].entry = &batch[k].s;
    b[k].entry = &batch[k].d;
  }
  p.src->HashFiles(a);
  p.dst->HashFiles(b);
  for (size_t k = 0; k < batch.size(); ++k) ReportFile(w, batch[k], a[k], b[k]);
}

// A large file: each side hashed by its own task; the second to finish
// reports.
struct LargeJob {
  DirPair p;
  FilePair f;
  HashOp a, b;
  std::atomic<int> left{2};
};

void HashLargeSide(Walk& w, const std::shared_ptr<LargeJob>& job, bool src) {
  HashOp& op = src ? job->a : job->b;
  (src ? job->p.src : job->p.dst)->HashFiles({&op, 1});
  if (job->left.fetch_sub(1) == 1) ReportFile(w, job->f, job->a, job->b);
}

// Compares two entries of the same name (or the two roots of an entry
// comparison); `pending` collects files to hash.
void ComparePair(Walk& w, const DirPair& p, const Entry& s, const Entry& d,
                 std::vector<FilePair>* pending) {
  if (s.type() != d.type()) {
    Extra(w, p, d);
    Missing(w, p, s);
    return;
  }
  w.entries.fetch_add(1, std::memory_order_relaxed);
  Difference diff;
  diff.kind = DiffKind::kChanged;
  diff.path = EntryPath(p, s);
  ItemFlags& f = diff.item;
  f.type = TypeLetter(s.mode);
  std::vector<io::Xattr> sx, dx;
  if (w.policy.acls || w.policy.xattrs) {
    auto a = p.src->Xattrs(w.policy, s.name.c_str());
    auto b = p.dst->Xattrs(w.policy, d.name.c_str());
    if (!a.ok() || !b.ok()) {
      // The other attributes are still compared.
      w.Error(diff.path, a.ok() ? Status(b.status().code(), "DST: " + b.status().message())
                                : Status(a.status().code(), "SRC: " + a.status().message()));
    } else {
      sx = std::move(a).value();
      dx = std::move(b).value();
    }
  }
  const Entry sm = w.Mapped(s);
  MetaDiff md = CompareMeta(w.policy, sm, d, sx, dx);
  f.perms = md.perms;
  f.time = md.time;
  f.group = md.group;
  f.acl = md.acl;
  f.xattr = md.xattr;
  f.owner = w.opt.owner && sm.uid != d.uid;  // also when not root: only read

  if (s.is_reg()) {
    if (w.opt.hard_links && (s.nlink > 1 || d.nlink > 1))
      w.AddLink({diff.path, s.dev, s.ino, d.dev, d.ino});
    f.size = s.size != d.size;
    if (w.opt.content && !f.size && s.size > 0) {
      pending->push_back({diff.path, s, d, f});
      return;
    }
    if (f.size) {
      f.checksum = w.opt.content;  // rsync -c prints "c" with "s" too
      f.update = '>';
    }
  } else if (s.is_lnk()) {
    auto a = p.src->ReadLink(s.name);
    auto b = p.dst->ReadLink(d.name);
    if (!a.ok() || !b.ok()) {
      w.Error(diff.path, a.ok() ? Status(b.status().code(), "DST: " + b.status().message())
                                : Status(a.status().code(), "SRC: " + a.status().message()));
      return;
    }
    diff.src_target = std::move(a).value();
    diff.dst_target = std::move(b).value();
    f.checksum = diff.src_target != diff.dst_target;
  } else if (s.is_dev()) {
    f.checksum = s.rdev != d.rdev;
  }
  if (f.checksum && !s.is_reg()) f.update = 'c';
  if (f.any_attr()) {
    diff.src = s;
    diff.dst = d;
    w.Report(diff);
  }
  if (s.is_dir()) {
    auto sc = OpenChild(w, *p.src, s.name, diff.path, true);
    auto dc = sc ? OpenChild(w, *p.dst, d.name, diff.path, false) : nullptr;
    if (sc && dc)
      w.tasks.run([&w, sc, dc, rel = Join(p.rel, s.name)] { ProcessDir(w, {sc, dc, rel}); });
  }
}

// Hands the files waiting for hashes to tasks: small ones in batches, each
// large one as two tasks.
void FlushHashes(Walk& w, const DirPair& p, std::vector<FilePair>& pending) {
  std::vector<FilePair> batch;
  uint64_t bytes = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    // task_group runs its functors as const: the batch is shared, not moved.
    auto b = std::make_shared<std::vector<FilePair>>(std::move(batch));
    w.tasks.run([&w, p, b] { HashBatch(w, p, *b); });
    batch.clear();
    bytes = 0;
  };
  for (FilePair& f : pending) {
    if (f.s.size > kSmallFile || f.d.size > kSmallFile) {
      auto job = std::make_shared<LargeJob>();
      job->p = p;
      job->f = std::move(f);
      job->a.entry = &job->f.s;
      job->b.entry = &job->f.d;
      w.tasks.run([&w, job] { HashLargeSide(w, job, true); });
      w.tasks.run([&w, job] { HashLargeSide(w, job, false); });
      continue;
    }
    bytes += f.s.size;
    batch.push_back(std::move(f));
    if (batch.size() >= kBatchFiles || bytes >= kBatchBytes) flush();
  }
  flush();
  pending.clear();
}

// The listings of one directory pair, shared by the tasks comparing chunks.
struct Listings {
  DirPair p;
  std::vector<Entry> src, dst;
  // Merged by name: indices into src / dst, -1 where a side lacks the name.
  std::vector<std::pair<int64_t, int64_t>> pairs;
};

void CompareChunk(Walk& w, const Listings& l, size_t begin, size_t end) {
  std::vector<FilePair> pending;
  for (size_t k = begin; k < end; ++k) {
    auto [i, j] = l.pairs[k];
    // A name the other side could not list (a remote side and a name with a
    // control byte) is an error, not a difference.
    if (i < 0 || j < 0) {
      const bool src_only = j < 0;
      const Entry& one = src_only ? l.src[static_cast<size_t>(i)] : l.dst[static_cast<size_t>(j)];
      SideDir* other = src_only ? l.p.dst.get() : l.p.src.get();
      if (Status u = other ? other->Unlisted(one.name) : Status::Ok(); !u.ok()) {
        w.Error(EntryPath(l.p, one),
                Status(u.code(), std::string(src_only ? "DST: " : "SRC: ") + u.message()));
        continue;
      }
    }
    if (j < 0) Missing(w, l.p, l.src[static_cast<size_t>(i)]);
    else if (i < 0) Extra(w, l.p, l.dst[static_cast<size_t>(j)]);
    else ComparePair(w, l.p, l.src[static_cast<size_t>(i)], l.dst[static_cast<size_t>(j)], &pending);
  }
  FlushHashes(w, l.p, pending);
}

void ProcessDir(Walk& w, DirPair p) {
  auto l = std::make_shared<Listings>();
  std::string dir_path = p.rel.empty() ? "./" : p.rel + "/";
  for (bool src : {true, false}) {
    SideDir* side = src ? p.src.get() : p.dst.get();
    if (!side) continue;
    auto r = side->List();
    if (!r.ok()) {
      if (src && r.status().code() == ErrorCode::kNotFound) w.Vanished(dir_path);
      else w.Error(dir_path, Status(r.status().code(),
                                    std::string(src ? "SRC" : "DST") + ": " + r.status().message(),
                                    r.status().sys_errno()));
      return;  // nothing below can be compared
    }
    std::vector<Entry>& v = src ? l->src : l->dst;
    v = std::move(r).value();
    std::erase_if(v, [&](const Entry& e) { return w.Excluded(Join(p.rel, e.name), e.is_dir()); });
  }
  size_t i = 0, j = 0;
  l->pairs.reserve(std::max(l->src.size(), l->dst.size()));
  while (i < l->src.size() || j < l->dst.size()) {
    if (j == l->dst.size() || (i < l->src.size() && l->src[i].name < l->dst[j].name)) {
      l->pairs.emplace_back(i++, -1);
    } else if (i == l->src.size() || l->dst[j].name < l->src[i].name) {
      l->pairs.emplace_back(-1, j++);
    } else {
      l->pairs.emplace_back(i++, j++);
    }
  }
  l->p = std::move(p);
  for (size_t b = 0; b < l->pairs.size(); b += kPairChunk) {
    size_t e = std::min(l->pairs.size(), b + kPairChunk);
    if (e == l->pairs.size()) {
      CompareChunk(w, *l, b, e);  // the last chunk on this thread
    } else {
      w.tasks.run([&w, l, b, e] { CompareChunk(w, *l, b, e); });
    }
  }
}

// The two root directories themselves (their metadata; "./").
void CompareRootDirs(Walk& w, const SideRoot& src, const SideRoot& dst) {
  DirPair p{src.dir, dst.dir, ""};
  auto s = src.dir->Self();
  if (!s.ok()) {
    w.Error("./", s.status());
    return;
  }
  if (!dst.dir) {
    Difference d;
    d.kind = DiffKind::kMissing;
    d.path = "./";
    d.item.update = 'c';
    d.item.type = 'd';
    d.item.created = true;
    d.src = *s;
    w.entries.fetch_add(1, std::memory_order_relaxed);
    w.Report(d);
    w.tasks.run([&w, p] { ProcessDir(w, {p.src, nullptr, ""}); });
    return;
  }
  auto d = dst.dir->Self();
  if (!d.ok()) {
    w.Error("./", d.status());
    return;
  }
  w.entries.fetch_add(1, std::memory_order_relaxed);
  std::vector<io::Xattr> sx, dx;
  if (w.policy.acls || w.policy.xattrs) {
    auto a = src.dir->Xattrs(w.policy, nullptr);
    auto b = dst.dir->Xattrs(w.policy, nullptr);
    if (a.ok() && b.ok()) {
      sx = std::move(a).value();
      dx = std::move(b).value();
    } else {
      w.Error("./", a.ok() ? b.status() : a.status());
    }
  }
  const Entry sm = w.Mapped(*s);
  MetaDiff md = CompareMeta(w.policy, sm, *d, sx, dx);
  Difference diff;
  diff.kind = DiffKind::kChanged;
  diff.path = "./";
  diff.item.type = 'd';
  diff.item.perms = md.perms;
  diff.item.time = md.time;
  diff.item.group = md.group;
  diff.item.acl = md.acl;
  diff.item.xattr = md.xattr;
  diff.item.owner = w.opt.owner && sm.uid != d->uid;
  if (diff.item.any_attr()) {
    diff.src = *s;
    diff.dst = *d;
    w.Report(diff);
  }
  w.tasks.run([&w, p] { ProcessDir(w, p); });
}

// "SRC" without a trailing slash: one named entry on each side.
void CompareRootEntries(Walk& w, const SideRoot& src, const SideRoot& dst) {
  DirPair p{src.dir, dst.dir, ""};
  auto s = src.dir->Lookup(*src.entry);
  if (!s.ok()) {
    w.Error(*src.entry, s.status());
    return;
  }
  if (w.Excluded(s->name, s->is_dir())) return;
  Result<Entry> d = Status(ErrorCode::kNotFound, "no destination");
  if (dst.dir) d = dst.dir->Lookup(*dst.entry);
  if (!d.ok() && d.status().code() != ErrorCode::kNotFound) {
    w.Error(*src.entry, d.status());
    return;
  }
  std::vector<FilePair> pending;
  if (d.ok()) ComparePair(w, p, *s, *d, &pending);
  else Missing(w, p, *s);
  FlushHashes(w, p, pending);
}

}  // namespace

VerifyOutcome VerifySides(const SideRoot& src, const SideRoot& dst,
                          const VerifyOptions& opt, VerifyEvents& events) {
  Walk w(opt, events);
  if (src.entry) CompareRootEntries(w, src, dst);
  else CompareRootDirs(w, src, dst);
  w.tasks.wait();
  VerifyOutcome out;
  w.Finish(&out);
  return out;
}

}  // namespace ferry::verify
