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
#include <unistd.h>

#include <cerrno>
#include <cstdint>
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

}  // namespace ferry::e2e
