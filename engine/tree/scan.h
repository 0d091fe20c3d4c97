// Directory listing with metadata: the scan step of one directory.
//
// Cost: one getdents pass plus one stat per entry, batched through
// IoBackend::StatFiles (io_uring STATX on the io_uring backend; see
// bench/RESULTS.md, "Scanning").
#pragma once

#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/tree/entry.h"

namespace ferry {

// Lists dirfd (an open directory) and stats every entry without following
// symlinks. Entries that vanish between getdents and stat are dropped (they
// are not part of the tree any more). Returns entries sorted by name.
// `display` names the directory in error messages.
Result<std::vector<Entry>> ListDir(io::IoBackend& io, int dirfd,
                                   std::string_view display);

// Stats names[begin, end) in dirfd (no symlink following) into out[k]
// (out.size() == names.size()); a vanished entry leaves out[k].name empty.
// Lets callers split a huge directory's stats across threads.
Status StatNames(io::IoBackend& io, int dirfd, std::string_view display,
                 std::vector<io::DirEntry>& names, size_t begin, size_t end,
                 std::vector<Entry>& out);
// Drops vanished entries and sorts by name.
void FinishListing(std::vector<Entry>& v);

// Binary search in a sorted listing; nullptr when absent.
const Entry* FindEntry(const std::vector<Entry>& sorted, std::string_view name);

}  // namespace ferry
