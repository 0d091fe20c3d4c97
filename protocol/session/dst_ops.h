// Destination-side file operations of the receiver that the local engine
// keeps private: creating the DST root, removing an entry (recursively,
// through fds held beneath the root, never following a symlink), and
// hard-linking one listed path to another inside the root.
//
// Thread safety: free functions; the backend is the caller's.
#pragma once

#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/tree/entry.h"

namespace ferry::protocol {

// mkdir -p of a local path given by the user (the DST argument).
Status MakeDirs(const std::string& path);

// mkdir -p of `rel` beneath base_fd (a daemon module's root), one component
// at a time: each is created if missing (0755) and opened O_NOFOLLOW|
// O_DIRECTORY, so a symlink or a non-directory on the way is refused
// (ELOOP/ENOTDIR naming the path), never followed. "", "." and trailing
// slashes name base_fd itself; ".." is refused. Returns the last directory.
Result<io::UniqueFd> MakeDirsBeneath(io::IoBackend& io, int base_fd, const std::string& rel);

// Removes dirfd/e.name; a directory with everything in it. Subdirectories
// are opened O_NOFOLLOW|O_DIRECTORY, so a symlink is removed, not followed.
Status RemoveEntry(io::IoBackend& io, int dirfd, const Entry& e);

// Makes `path` (relative to root_fd) a hard link of `leader`: links under a
// temporary name in path's directory and renames it over path. Both parent
// directories are opened beneath root_fd without following symlinks.
// Returns kExists when path already is the leader's inode (nothing to do).
Status LinkInto(io::IoBackend& io, int root_fd, const std::string& leader,
                const std::string& path, const std::string& suffix);

}  // namespace ferry::protocol
