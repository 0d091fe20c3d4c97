// Manifest: what a tree looked like when a pass ended (path, type and mode,
// size, mtime) - the totals of the next pass's ETA and the baseline that
// shows what changed on the destination since (DiffManifests).
//
// ScanManifest walks a local directory through the IoBackend seam without
// following symlinks, honouring the path set's filter. ferry's own
// temporaries of an interrupted run are not part of a tree and are skipped.
// Thread safety: pure values and a function with no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/tree/filter.h"

namespace ferry::plan {

struct ManifestEntry {
  std::string path;  // relative, '/'-separated; directories too
  uint32_t mode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const ManifestEntry&) const = default;
};

// Sorted by path. filter may be null. Errors: the root cannot be opened or
// a directory cannot be read (the PosixError of that path).
Result<std::vector<ManifestEntry>> ScanManifest(const std::string& root,
                                                const FilterList* filter);

struct ManifestChange {
  char what;  // 'M' modified (type, mode, size or mtime), '+' created, '-' deleted
  std::string path;
};

// What differs in `now` against `before` (both sorted by path). Directory
// mtimes are ignored: they move whenever an entry inside does, and that
// entry is listed itself.
std::vector<ManifestChange> DiffManifests(const std::vector<ManifestEntry>& before,
                                          const std::vector<ManifestEntry>& now);

}  // namespace ferry::plan
