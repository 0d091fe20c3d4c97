// Helpers shared by the rename, append and Maildir tests: rsync as the judge
// and what a run sent from SRC.
#pragma once

#include <string>

#include "tests/engine/transfer/sync_test_util.h"

namespace ferry::sync_test {

// What `rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1`
// would still change; "" when DST is a faithful copy (or rsync is missing,
// which HaveRsync tells).
inline std::string RsyncOracle(const std::string& src, const std::string& dst,
                               const std::string& extra = "") {
  std::string out;
  Shell("rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1 " + extra + " '" +
            src + "/' '" + dst + "/' 2>&1",
        &out);
  return out;
}

inline bool HaveRsync() { return Shell("command -v rsync >/dev/null 2>&1") == 0; }

// File data this run read from SRC into DST (copied, cloned or delta
// literals): what would have crossed the wire.
inline uint64_t SentBytes(const SyncRun& r) {
  return r.stats.literal_bytes.load() + r.stats.reflinked_bytes.load();
}

}  // namespace ferry::sync_test
