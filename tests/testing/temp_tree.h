// Test helpers: a temporary directory removed at destruction, and one-line
// file builders. Test-only; aborts the test (ADD_FAILURE) on setup errors.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

namespace ferry::testing {

class TempDir {
 public:
  TempDir();  // under $TMPDIR or /tmp
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view rel) const;

 private:
  std::string path_;
};

// Creates parent directories as needed.
void WriteFile(const std::string& path, std::string_view content,
               mode_t mode = 0644);
std::string ReadFile(const std::string& path);
void MakeDirs(const std::string& path);
bool Exists(const std::string& path);  // lstat succeeds
struct stat LStat(const std::string& path);
void RemoveTree(const std::string& path);
// Runs a shell command; returns its exit status and fills *out with stdout.
int Shell(const std::string& cmd, std::string* out = nullptr);

}  // namespace ferry::testing
