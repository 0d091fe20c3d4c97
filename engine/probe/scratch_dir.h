// Scratch space for the probes: a random name no sync would use, and guards
// that remove what a probe created when it goes out of scope, on every path.
//
// Thread safety: values owned by one probe call.
#pragma once

#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"

namespace ferry::probe {

// ".ferry-bench.<16 hex digits>", random per call.
std::string ScratchName();

// Opens an existing directory by path (a probe's root argument); errors name
// the path.
Result<io::UniqueFd> OpenDirectory(const std::string& path);

// `path` if it is a directory, else its nearest ancestor that is (a DST
// that does not exist yet is measured on the file system it will be made
// on). "." for a relative path none of whose ancestors exist.
std::string NearestExistingDirectory(const std::string& path);

// Unlinks dirfd/name at destruction (ignoring a missing file). dirfd must
// outlive the guard.
class ScratchFile {
 public:
  ScratchFile(io::IoBackend& io, int dirfd, std::string name)
      : io_(io), dirfd_(dirfd), name_(std::move(name)) {}
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

 private:
  io::IoBackend& io_;
  int dirfd_;
  std::string name_;
};

// Removes the directory dirfd/name and everything beneath it at destruction
// (symlinks are removed, never followed).
class ScratchTree {
 public:
  ScratchTree(io::IoBackend& io, int dirfd, std::string name)
      : io_(io), dirfd_(dirfd), name_(std::move(name)) {}
  ~ScratchTree();
  ScratchTree(const ScratchTree&) = delete;
  ScratchTree& operator=(const ScratchTree&) = delete;

 private:
  io::IoBackend& io_;
  int dirfd_;
  std::string name_;
};

// Removes dirfd/name recursively. Errors name the first entry that could not
// be removed.
Status RemoveTree(io::IoBackend& io, int dirfd, const std::string& name);

}  // namespace ferry::probe
