#include "engine/transfer/context.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include <xxhash.h>

#include "engine/io/posix_backend.h"
#include "engine/tree/filter.h"

namespace ferry::transfer {

namespace {
constexpr char kTmpPrefix[] = ".~ferry.";
constexpr size_t kTmpPrefixLen = sizeof(kTmpPrefix) - 1;
constexpr size_t kSuffixLen = 8;
}  // namespace

Context::Context(const SyncOptions& o, SyncStats& s, SyncEvents& e)
    : opt(o), stats(s), events_(e) {
  meta.perms = o.perms;
  meta.times = o.times;
  meta.owner = o.owner;
  meta.group = o.group;
  meta.atimes = o.atimes;
  meta.acls = o.acls;
  meta.xattrs = o.xattrs;
  meta.am_root = geteuid() == 0;
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
  tmp_suffix = buf;
  // umask is process-wide; read it without a window where it is changed for
  // long. A zero umask lets new files be created with their final mode.
  mode_t m = ::umask(0);
  ::umask(m);
  umask_zero = m == 0;
}

io::IoBackend& Context::io() {
  std::unique_ptr<io::IoBackend>& b = backends_.local();
  if (!b) {
    if (opt.backend_factory) {
      b = opt.backend_factory();
    } else {
      auto r = io::MakeBackend(opt.io);
      // The kind was validated in RunLocalSync; a later failure (ring
      // creation on a busy system) falls back to plain syscalls.
      b = r.ok() ? std::move(r).value() : std::make_unique<io::PosixBackend>();
    }
  }
  return *b;
}

bool Context::Excluded(const std::string& rel, bool is_dir) const {
  return opt.filter && opt.filter->Excluded(rel, is_dir);
}

const char* Context::SrcName(const DirNode& n, const Entry& e) const {
  if (single && &n == root.get()) return single_src_name.c_str();
  return e.name.c_str();
}

std::string Context::TmpName(const std::string& name) const {
  // Keep within NAME_MAX (255). Long names are cut and a hash of the whole
  // name keeps names that share a long prefix apart.
  if (name.size() <= 200) return kTmpPrefix + name + "." + tmp_suffix;
  char h[20];
  std::snprintf(h, sizeof h, "~%016llx",
                static_cast<unsigned long long>(XXH3_64bits(name.data(), name.size())));
  return kTmpPrefix + name.substr(0, 180) + h + "." + tmp_suffix;
}

bool Context::IsStaleTmp(const std::string& name) {
  if (name.size() < kTmpPrefixLen + 2 + kSuffixLen) return false;
  if (name.compare(0, kTmpPrefixLen, kTmpPrefix) != 0) return false;
  size_t dot = name.size() - kSuffixLen - 1;
  if (name[dot] != '.') return false;
  for (size_t i = dot + 1; i < name.size(); ++i) {
    char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void Context::Item(const ItemFlags& f, const std::string& path,
                   const std::string& suffix, uint64_t bytes) {
  std::string p = path.empty() ? "./" : path;
  if (f.type == 'd' && !path.empty()) p += '/';
  std::string item = FormatItem(f);
  std::lock_guard<std::mutex> l(events_mu_);
  events_.OnChange({item, p, suffix, bytes});
}

void Context::Deleting(const std::string& path) {
  std::lock_guard<std::mutex> l(events_mu_);
  events_.OnChange({kDeletingItem, path, "", 0});
}

void Context::Error(const std::string& path, const Status& s) {
  partial = true;
  stats.errors.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(events_mu_);
  events_.OnPathError(path.empty() ? "." : path, s);
}

void Context::Error(const Status& s) {
  partial = true;
  stats.errors.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(events_mu_);
  events_.OnError(s);
}

void Context::Planned() {
  stats.planned.store(true);
  std::lock_guard<std::mutex> l(events_mu_);
  events_.OnPlanned(stats);
}

void Context::Vanished(const std::string& path) {
  vanished = true;
  stats.vanished.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(events_mu_);
  events_.OnVanished(path);
}

void Context::Warn(const std::string& msg) {
  std::lock_guard<std::mutex> l(events_mu_);
  events_.OnWarning(msg);
}

}  // namespace ferry::transfer
