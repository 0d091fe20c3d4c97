// Helpers for the end-to-end tests: run the built `ferry` binary (FERRY_BIN)
// or rsync with captured output, optionally as an unprivileged user, and a
// fixture parameterized over `--io=posix` and `--io=io_uring`.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "tests/testing/temp_tree.h"

#ifndef FERRY_BIN
#error "FERRY_BIN must name the ferry binary under test"
#endif

namespace ferry::e2e {

using ferry::testing::Exists;
using ferry::testing::LStat;
using ferry::testing::MakeDirs;
using ferry::testing::ReadFile;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

struct Proc {
  int code = -1;  // exit status; -1 when it did not exit normally
  std::string out, err;
  std::string Dump() const {
    return "exit " + std::to_string(code) + "\n--- stdout\n" + out + "--- stderr\n" + err;
  }
};

// Runs argv[0] (a path) with argv; stdout and stderr are captured through
// files in scratch. as_nobody: drop to uid/gid 65534 first (we must be root).
inline Proc RunProcess(const std::vector<std::string>& argv, const std::string& scratch,
                bool as_nobody = false) {
  Proc p;
  std::string out = scratch + "/.stdout", err = scratch + "/.stderr";
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return p;
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (o < 0 || e < 0) ::_exit(126);
    ::dup2(o, 1);
    ::dup2(e, 2);
    if (as_nobody &&
        (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(125);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  p.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  p.out = ReadFile(out);
  p.err = ReadFile(err);
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  return p;
}

inline std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> v;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    v.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return v;
}

// The output's lines, sorted (order-free comparisons of -i output).
inline std::vector<std::string> Sorted(const std::string& out) {
  std::vector<std::string> v = Lines(out);
  std::sort(v.begin(), v.end());
  return v;
}

// The value of "Name: 1,234 ..." in --stats output, or -1.
inline int64_t StatNumber(const std::string& out, const std::string& name) {
  for (const std::string& l : Lines(out)) {
    if (!l.starts_with(name + ":")) continue;
    std::string digits;
    for (char c : l.substr(name.size() + 1)) {
      if (c >= '0' && c <= '9') digits += c;
      else if (c != ',' && c != ' ') break;
    }
    return digits.empty() ? -1 : std::stoll(digits);
  }
  return -1;
}

inline bool HasLine(const std::string& out, const std::string& line) {
  for (const std::string& l : Lines(out))
    if (l == line) return true;
  return false;
}

// rel path -> type, mode, owner, size, mtime (ns), content and link target.
inline std::map<std::string, std::string> Listing(const std::string& root) {
  std::map<std::string, std::string> out;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    std::string p = rel.empty() ? root : root + "/" + rel;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return;
    std::string d = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" +
                    std::to_string(st.st_gid) + " " + std::to_string(st.st_size) + " " +
                    std::to_string(st.st_mtim.tv_sec) + "." +
                    std::to_string(st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) d += " " + std::to_string(std::hash<std::string>{}(ReadFile(p)));
    if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
      d += " -> " + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
    }
    out[rel.empty() ? "." : rel] = d;
    if (!S_ISDIR(st.st_mode)) return;
    DIR* dir = ::opendir(p.c_str());
    if (!dir) return;
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(dir)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(dir);
    for (const std::string& n : names) walk(rel.empty() ? n : rel + "/" + n);
  };
  walk("");
  return out;
}

// Deterministic letters, different for each seed.
inline std::string Pattern(size_t len, unsigned seed) {
  std::string s(len, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>('a' + (x >> 16) % 26);
  }
  return s;
}

// Sets p's mtime (not following a final symlink), atime untouched.
inline void SetMtime(const std::string& p, int64_t sec, long nsec) {
  struct timespec ts[2] = {{0, UTIME_OMIT}, {sec, nsec}};
  if (::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
    ADD_FAILURE() << "utimensat " << p << ": " << std::strerror(errno);
}

inline bool AmRoot() { return ::geteuid() == 0; }

inline std::string Ferry() { return FERRY_BIN; }

// ---- fixture: each test with --io=posix and --io=io_uring ---------------------

struct IoParam {
  const char* name;  // as passed to --io
};
inline void PrintTo(const IoParam& p, std::ostream* os) { *os << p.name; }
inline std::string IoName(const ::testing::TestParamInfo<IoParam>& i) {
  return i.param.name;
}

class E2eTest : public ::testing::TestWithParam<IoParam> {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    MakeDirs(src_);
    if (std::string(GetParam().name) == "io_uring") {
      Proc v = RunProcess({Ferry(), "--version"}, tmp_.path());
      ASSERT_EQ(v.code, 0) << v.Dump();
      if (v.out.find("I/O backend: io_uring") == std::string::npos) {
        std::string why;
        for (const std::string& l : Lines(v.out))
          if (l.starts_with("I/O backend")) why = l;
        GTEST_SKIP() << "ferry --version says: " << why;
      }
    }
  }

  // `ferry sync --io=<param> --no-progress ARGS...`
  Proc Sync(std::vector<std::string> args, bool as_nobody = false) {
    std::vector<std::string> argv = {Ferry(), "sync", std::string("--io=") + GetParam().name,
                                     "--no-progress"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path(), as_nobody);
  }

  std::string S(std::string_view rel) const { return src_ + "/" + std::string(rel); }
  std::string D(std::string_view rel) const { return dst_ + "/" + std::string(rel); }

  TempDir tmp_;
  std::string src_, dst_;
};

#define FERRY_E2E_INSTANTIATE(suite)                                              \
  INSTANTIATE_TEST_SUITE_P(Io, suite,                                             \
                           ::testing::Values(::ferry::e2e::IoParam{"posix"},      \
                                             ::ferry::e2e::IoParam{"io_uring"}),  \
                           ::ferry::e2e::IoName)

// Every kind of entry and metadata this machine can make, under `root`
// (the remote and daemon end-to-end tests push and pull it): `dirs` x
// `files` small files in many/, a 2 MiB file, empty file and directory,
// relative/dangling/absolute symlinks, a hard-link group, a sparse file,
// odd modes (setuid, 0750 dir), an xattr, ACLs, a fifo, and as root a
// device and foreign owners; ns mtimes.
inline void BuildEveryKindTree(const std::string& root, int dirs, int files) {
  auto S = [&](const std::string& rel) { return root + "/" + rel; };
  for (int d = 0; d < dirs; ++d)
    for (int f = 0; f < files; ++f)
      WriteFile(S("many/d" + std::to_string(d) + "/f" + std::to_string(f)),
                Pattern(static_cast<size_t>(f * 97 + d), static_cast<unsigned>(d * 50 + f)));
  WriteFile(S("big/two_mib.bin"), Pattern((2 << 20) + 777, 3));
  WriteFile(S("empty_file"), "");
  MakeDirs(S("empty_dir"));
  WriteFile(S("nested/a/b/c/leaf.txt"), "leaf");
  ASSERT_EQ(::symlink("nested/a/b/c/leaf.txt", S("link_rel").c_str()), 0);
  ASSERT_EQ(::symlink("does/not/exist", S("link_dangling").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/hostname", S("link_abs").c_str()), 0);
  WriteFile(S("hard/one"), "linked content");
  ASSERT_EQ(::link(S("hard/one").c_str(), S("hard/two").c_str()), 0);
  ASSERT_EQ(::link(S("hard/one").c_str(), S("many/d0/third_link").c_str()), 0);
  // Sparse: 3 MiB hole between two data runs.
  {
    std::string p = S("sparse.img");
    WriteFile(p, "head");
    ASSERT_EQ(::truncate(p.c_str(), 3 << 20), 0);
    FILE* f = std::fopen(p.c_str(), "r+");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 0, SEEK_END);
    std::fputs("tail", f);
    std::fclose(f);
  }
  WriteFile(S("modes/secret"), "s", 0600);
  WriteFile(S("modes/script"), "#!/bin/sh\n", 0755);
  WriteFile(S("modes/setuid"), "x", 0644);
  ASSERT_EQ(::chmod(S("modes/setuid").c_str(), 04755), 0);
  ASSERT_EQ(::chmod(S("modes").c_str(), 0750), 0);
  if (::setxattr(S("empty_file").c_str(), "user.comment", "hello", 5, 0) != 0)
    std::fprintf(stderr, "note: no user xattrs here (%s)\n", std::strerror(errno));
  ferry::testing::Shell("setfacl -m u:1234:r '" + S("modes/secret") + "' 2>/dev/null");
  ferry::testing::Shell("setfacl -d -m g:2345:rx '" + S("nested") + "' 2>/dev/null");
  ASSERT_EQ(::mkfifo(S("fifo").c_str(), 0640), 0);
  if (AmRoot()) {
    ASSERT_EQ(::mknod(S("chardev").c_str(), S_IFCHR | 0600, makedev(1, 7)), 0);
    ASSERT_EQ(::lchown(S("many/d1/f3").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::lchown(S("link_rel").c_str(), 4321, 8765), 0);
    ASSERT_EQ(::chown(S("nested/a").c_str(), 2222, 3333), 0);
  }
  SetMtime(S("many/d2/f5"), 1234567890, 123456789);
  SetMtime(S("link_rel"), 1500000000, 42);
  SetMtime(S("empty_dir"), 1600000000, 999999999);
  SetMtime(S("nested/a/b"), 1000000000, 1);
}

}  // namespace ferry::e2e
