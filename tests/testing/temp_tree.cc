#include "tests/testing/temp_tree.h"

#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ferry::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ferry-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
  path_ = tmpl;
}

TempDir::~TempDir() { RemoveTree(path_); }

std::string TempDir::operator/(std::string_view rel) const {
  return path_ + "/" + std::string(rel);
}

void MakeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string p = path.substr(0, i);
      if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST)
        ADD_FAILURE() << "mkdir " << p << ": " << std::strerror(errno);
    }
  }
}

void WriteFile(const std::string& path, std::string_view content, mode_t mode) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) MakeDirs(path.substr(0, slash));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ADD_FAILURE() << "write " << path;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) ADD_FAILURE() << "chmod " << path;
  ::close(fd);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

struct stat LStat(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    ADD_FAILURE() << "lstat " << path << ": " << std::strerror(errno);
  return st;
}

void RemoveTree(const std::string& path) {
  if (path.empty()) return;
  // Make everything writable first so read-only test dirs can be removed.
  ::nftw(path.c_str(),
         [](const char* p, const struct stat* st, int type, struct FTW*) {
           if (type == FTW_D || type == FTW_DP) ::chmod(p, (st->st_mode & 07777) | 0700);
           return 0;
         },
         64, FTW_PHYS);
  ::nftw(path.c_str(),
         [](const char* p, const struct stat*, int, struct FTW*) {
           ::remove(p);
           return 0;
         },
         64, FTW_DEPTH | FTW_PHYS);
}

int Shell(const std::string& cmd, std::string* out) {
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  size_t n;
  std::string acc;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) acc.append(buf, n);
  int rc = ::pclose(f);
  if (out) *out = acc;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace ferry::testing
