// Internal to engine/transfer: making SRC files out of what DST already has
// (rename.cc: renames, moves and copies within DST; append.cc: files that
// only grew), and the Maildir landing order (mail_order.cc).
//
// Order inside one sync (sync.cc):
//   PlanTree -> PlanRenames: pairs new SRC files with DST files of the same
//     content (hinted by RenameIndex, confirmed by XXH3-128 of both) and
//     claims those DST files, so no delete removes them before they are used.
//   ExecTree: ExecDir hands claimed targets and Maildir index files to
//     TakeOver instead of copying them, and asks KeepOnDst before a delete.
//   FinishRenames: deletes (with --delete) what was claimed but not renamed
//     away, and the DST-only directories whose delete had to wait for that.
//   LinkFollowers, then LandLateFiles: each Maildir folder's dovecot-uidlist,
//     dovecot-keywords, subscriptions and dovecot.index* land after every
//     message is in place and every expunged message is gone.
//   FinishDirs.
//
// Thread safety: PlanRenames and the Finish/Land stages run on the calling
// thread with the worker pool idle; TakeOver and KeepOnDst are called from
// ExecDir tasks and only read the plan or append under the mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/tree/entry.h"

namespace ferry::transfer {

class Context;
struct DirNode;
struct DirFds;

// A DST file that becomes a SRC file.
struct ReuseSource {
  std::string dir_rel;  // its DST directory, from the transfer root
  Entry entry;          // as listed
  bool orphan = false;  // SRC has nothing at its path
  // Set for the sources PlanRenames paired with a target:
  // held from deletion until FinishRenames (an orphan, with --delete) ...
  bool claimed = false;
  // ... and renamed into place (it is the only link to its inode); otherwise
  // its data is copied within DST and it stays (or FinishRenames deletes it).
  bool consume = false;
  std::string Rel() const { return dir_rel.empty() ? entry.name : dir_rel + "/" + entry.name; }
};

class Reuse {
 public:
  // --- the plan (written by PlanRenames, then read-only) ---
  std::vector<ReuseSource> sources;
  std::map<std::pair<const DirNode*, uint32_t>, uint32_t> by_target;
  std::unordered_map<std::string, uint32_t> claimed_paths;  // Rel() -> source
  std::unordered_set<std::string> claim_dirs;     // DST-only dirs holding claims
  std::unique_ptr<std::atomic<uint8_t>[]> state;  // per source: kPending...
  static constexpr uint8_t kPending = 0, kConsumed = 1, kFailed = 2;

  // Whether DST's rel (a file) was renamed away by this sync (or would be,
  // in a dry run).
  bool Consumed(const std::string& rel) const;

  // --- collected while executing ---
  std::mutex mu;
  std::vector<std::pair<std::string, Entry>> deferred_deletes;  // parent rel, dir
  std::vector<std::pair<DirNode*, uint32_t>> late;              // Maildir index files
};

void PlanRenames(Context& ctx);
// Called by ExecDir for src[i] with Action::kCopy. Returns true when it took
// the file over (a rename/copy within DST was scheduled, or a Maildir index
// file was put off until LandLateFiles); false: copy it as usual.
bool TakeOver(Context& ctx, DirNode* node, const std::shared_ptr<DirFds>& fds, uint32_t i);
// Called by ExecDir before it deletes DST's entry d of node: true when d must
// stay for now (a claimed rename source, a DST-only directory holding one,
// which is then deleted by FinishRenames) or for good (a Maildir tmp/ entry).
bool KeepOnDst(Context& ctx, DirNode& node, const Entry& d);
void FinishRenames(Context& ctx);
void LandLateFiles(Context& ctx);

// Append detection (append.cc): DST's file d may be a prefix of s.
bool AppendEligible(const Context& ctx, const Entry& s, const Entry* d);
// Builds s from DST's old copy (its prefix, cloned or copied within DST) plus
// the tail read from SRC, after hashing the prefix on both sides; verifies
// the whole file's XXH3-128 and lands it. false: not an append (or it failed
// on the way; errors are left to the whole-file path, which reports them).
bool CopyAppend(Context& ctx, DirNode& node, DirFds& fds, uint32_t i);

// Copies [off, off+len) of in to the same offsets of out within DST:
// copy_file_range, or read/write where the kernel cannot. Counts nothing.
Status CopyWithinDst(Context& ctx, int in, int out, uint64_t off, uint64_t len);

}  // namespace ferry::transfer
