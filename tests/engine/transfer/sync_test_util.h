// Shared fixture and helpers for the RunLocalSync tests: a fixture
// parameterized over the I/O backends, an event recorder, and a tree listing
// that describes every entry the way a user comparing SRC and DST would
// (type, mode, owner, size, mtime with nanoseconds, content, link target,
// device number, xattrs and ACLs).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/io/io_backend.h"
#include "engine/io/posix_backend.h"
#include "engine/transfer/sync.h"
#include "tests/testing/temp_tree.h"

namespace ferry::sync_test {

using ferry::testing::Exists;
using ferry::testing::LStat;
using ferry::testing::MakeDirs;
using ferry::testing::ReadFile;
using ferry::testing::RemoveTree;
using ferry::testing::Shell;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

// ---- events -----------------------------------------------------------------

class Recorder : public SyncEvents {
 public:
  void OnItem(std::string_view item, std::string_view path) override {
    std::lock_guard<std::mutex> l(mu_);
    items.emplace_back(std::string(item), std::string(path));
  }
  void OnError(const Status& e) override {
    std::lock_guard<std::mutex> l(mu_);
    errors.push_back(e);
  }
  void OnWarning(std::string_view m) override {
    std::lock_guard<std::mutex> l(mu_);
    warnings.emplace_back(m);
  }

  bool HasItem(std::string_view item, std::string_view path) const {
    return std::find(items.begin(), items.end(),
                     std::pair<std::string, std::string>(item, path)) != items.end();
  }
  // The item string reported for path, or "" when none.
  std::string ItemFor(std::string_view path) const {
    for (const auto& [i, p] : items)
      if (p == path) return i;
    return "";
  }
  bool ErrorMentions(std::string_view text) const {
    for (const Status& s : errors)
      if (s.message().find(text) != std::string::npos) return true;
    return false;
  }
  bool WarningMentions(std::string_view text) const {
    for (const std::string& w : warnings)
      if (w.find(text) != std::string::npos) return true;
    return false;
  }
  std::string Dump() const {
    std::string s;
    for (const auto& [i, p] : items) s += "  item " + i + " " + p + "\n";
    for (const Status& e : errors) s += "  error " + e.message() + "\n";
    for (const std::string& w : warnings) s += "  warning " + w + "\n";
    return s;
  }

  std::vector<std::pair<std::string, std::string>> items;
  std::vector<Status> errors;
  std::vector<std::string> warnings;

 private:
  std::mutex mu_;
};

// One finished RunLocalSync.
struct SyncRun {
  std::optional<Status> failed;  // set when RunLocalSync returned an error
  SyncOutcome outcome;
  SyncStats stats;
  Recorder events;

  bool ok() const { return !failed.has_value(); }
  // A run that did everything: no error status, no per-path error.
  bool clean() const {
    return ok() && !outcome.partial && !outcome.vanished && events.errors.empty();
  }
  std::string Dump() const {
    std::string s = failed ? "  status: " + failed->message() + "\n" : "";
    s += "  partial=" + std::to_string(outcome.partial) +
         " vanished=" + std::to_string(outcome.vanished) +
         " max_delete_hit=" + std::to_string(outcome.max_delete_hit) + "\n";
    return s + events.Dump();
  }
};

inline std::unique_ptr<SyncRun> DoSync(const std::string& src,
                                       const std::string& dst,
                                       const SyncOptions& opt) {
  auto run = std::make_unique<SyncRun>();
  auto r = RunLocalSync(SyncRequest{src, dst}, opt, run->stats, run->events);
  if (r.ok()) run->outcome = *r;
  else run->failed = r.status();
  return run;
}

// ---- building trees --------------------------------------------------------

inline void Symlink(const std::string& target, const std::string& path) {
  if (::symlink(target.c_str(), path.c_str()) != 0)
    ADD_FAILURE() << "symlink " << path << ": " << std::strerror(errno);
}

// Creates to's parent directories as needed.
inline void HardLink(const std::string& from, const std::string& to) {
  size_t slash = to.rfind('/');
  if (slash != std::string::npos && slash > 0) MakeDirs(to.substr(0, slash));
  if (::link(from.c_str(), to.c_str()) != 0)
    ADD_FAILURE() << "link " << to << ": " << std::strerror(errno);
}

inline void SetTimes(const std::string& path, int64_t sec, long nsec,
                     int64_t asec = 0, long ansec = UTIME_OMIT) {
  struct timespec ts[2];
  ts[0].tv_sec = asec;
  ts[0].tv_nsec = ansec;
  ts[1].tv_sec = sec;
  ts[1].tv_nsec = nsec;
  if (::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
    ADD_FAILURE() << "utimensat " << path << ": " << std::strerror(errno);
}

inline void Chmod(const std::string& path, mode_t mode) {
  if (::chmod(path.c_str(), mode) != 0)
    ADD_FAILURE() << "chmod " << path << ": " << std::strerror(errno);
}

// Creates a unix socket node at path (the socket itself is closed).
inline bool MakeSocket(const std::string& path) {
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0) return false;
  struct sockaddr_un a {};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) {
    ::close(s);
    return false;
  }
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  bool ok = ::bind(s, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

// Sets an xattr without following a symlink; returns errno or 0.
inline int SetXattr(const std::string& path, const std::string& name,
                    const std::string& value) {
  if (::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) != 0)
    return errno;
  return 0;
}

inline std::optional<std::string> GetXattr(const std::string& path,
                                           const std::string& name) {
  char buf[65536];
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

inline std::string Pattern(size_t len, unsigned seed) {
  std::string s(len, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>('a' + (x >> 16) % 26);
  }
  return s;
}

// Content equality that reports sizes and the first difference instead of
// printing megabytes.
inline ::testing::AssertionResult SameContent(const std::string& a, const std::string& b) {
  if (a == b) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return ::testing::AssertionFailure() << "contents differ: " << a.size() << " vs "
                                       << b.size() << " bytes, first difference at byte " << i;
}

inline std::string Octal(unsigned m) {
  char b[16];
  std::snprintf(b, sizeof b, "%04o", m);
  return b;
}

// ---- describing trees ------------------------------------------------------

// Everything a user compares between SRC and DST for one entry (not the
// inode, link count, atime or ctime).
inline std::string Describe(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return std::string("missing: ") + std::strerror(errno);
  std::string d;
  char t = S_ISREG(st.st_mode)    ? 'f'
           : S_ISDIR(st.st_mode)  ? 'd'
           : S_ISLNK(st.st_mode)  ? 'L'
           : S_ISCHR(st.st_mode)  ? 'c'
           : S_ISBLK(st.st_mode)  ? 'b'
           : S_ISFIFO(st.st_mode) ? 'p'
                                  : 's';
  d += t;
  if (!S_ISLNK(st.st_mode)) d += " mode=" + Octal(st.st_mode & 07777);
  d += " owner=" + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
  d += " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
       std::to_string(st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) {
    d += " size=" + std::to_string(st.st_size);
    std::string c = ReadFile(path);
    d += " hash=" + std::to_string(std::hash<std::string>{}(c));
  } else if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    d += " -> " + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    d += " rdev=" + std::to_string(major(st.st_rdev)) + "," +
         std::to_string(minor(st.st_rdev));
  }
  char names[65536];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  std::vector<std::string> xs;
  for (ssize_t i = 0; i < n;) {
    std::string name(names + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    if (name.starts_with("security.")) continue;
    auto v = GetXattr(path, name);
    std::string hex;
    for (unsigned char c : v.value_or("")) {
      char b[4];
      std::snprintf(b, sizeof b, "%02x", c);
      hex += b;
    }
    xs.push_back(name + "=" + hex);
  }
  std::sort(xs.begin(), xs.end());
  for (const std::string& x : xs) d += " xattr:" + x;
  return d;
}

// rel path ("." for root) -> Describe().
inline std::map<std::string, std::string> Listing(const std::string& root) {
  std::map<std::string, std::string> out;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    std::string p = rel == "." ? root : root + "/" + rel;
    out[rel] = Describe(p);
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
    DIR* dir = ::opendir(p.c_str());
    if (!dir) return;
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(dir)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(dir);
    for (const std::string& n : names) walk(rel == "." ? n : rel + "/" + n);
  };
  walk(".");
  return out;
}

// "" when both trees look the same to a user; otherwise one line per
// difference.
inline std::string TreeDiff(const std::string& a, const std::string& b) {
  auto la = Listing(a), lb = Listing(b);
  std::string d;
  for (const auto& [p, v] : la) {
    auto it = lb.find(p);
    if (it == lb.end()) d += "only in SRC: " + p + "  [" + v + "]\n";
    else if (it->second != v)
      d += "differs: " + p + "\n   SRC " + v + "\n   DST " + it->second + "\n";
  }
  for (const auto& [p, v] : lb)
    if (!la.count(p)) d += "only in DST: " + p + "  [" + v + "]\n";
  return d;
}

// Paths under root whose name looks like one of ferry's temporaries.
inline std::vector<std::string> Temporaries(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& [p, v] : Listing(root)) {
    size_t s = p.rfind('/');
    std::string name = s == std::string::npos ? p : p.substr(s + 1);
    if (name.starts_with(".~ferry.")) out.push_back(p);
  }
  return out;
}

inline std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += x + "\n";
  return s;
}

inline bool AmRoot() { return ::geteuid() == 0; }

// ---- the fixture -----------------------------------------------------------

struct BackendParam {
  const char* name;
  io::BackendKind kind;
};

inline void PrintTo(const BackendParam& p, std::ostream* os) { *os << p.name; }

inline std::string BackendName(const ::testing::TestParamInfo<BackendParam>& i) {
  return i.param.name;
}

class SyncTest : public ::testing::TestWithParam<BackendParam> {
 protected:
  void SetUp() override {
    if (GetParam().kind == io::BackendKind::kUring) {
      std::string why;
      if (!io::UringAvailable(&why)) GTEST_SKIP() << "io_uring unavailable: " << why;
    }
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    MakeDirs(src_);
  }

  SyncOptions Options() const {
    SyncOptions o;
    o.io = GetParam().kind;
    o.jobs = 4;
    return o;
  }

  // `SRC/ DST/` with the default options (rsync -aHAX --numeric-ids).
  std::unique_ptr<SyncRun> Sync(const SyncOptions& o) {
    return DoSync(src_ + "/", dst_ + "/", o);
  }
  std::unique_ptr<SyncRun> Sync() { return Sync(Options()); }

  std::string S(std::string_view rel) const { return src_ + "/" + std::string(rel); }
  std::string D(std::string_view rel) const { return dst_ + "/" + std::string(rel); }

  TempDir tmp_;
  std::string src_, dst_;
};

#define FERRY_INSTANTIATE_BACKENDS(suite)                                      \
  INSTANTIATE_TEST_SUITE_P(                                                   \
      Backends, suite,                                                        \
      ::testing::Values(                                                      \
          ::ferry::sync_test::BackendParam{"posix", ::ferry::io::BackendKind::kPosix}, \
          ::ferry::sync_test::BackendParam{"io_uring", ::ferry::io::BackendKind::kUring}), \
      ::ferry::sync_test::BackendName)

}  // namespace ferry::sync_test
