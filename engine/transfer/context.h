// Internal to engine/transfer: the state one local sync shares between its
// stages (scan_tree.cc, exec_dir.cc, copy_file.cc, finish.cc, sync.cc).
#pragma once

#include <tbb/enumerable_thread_specific.h>
#include <tbb/task_group.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/io/io_backend.h"
#include "engine/transfer/itemize.h"
#include "engine/transfer/options.h"
#include "engine/transfer/report.h"
#include "engine/tree/entry.h"
#include "engine/tree/metadata.h"

namespace ferry::transfer {

class Reuse;

// What the plan decided for one source entry.
enum class Action : uint8_t {
  kNone,      // up to date (metadata is still compared)
  kCopy,      // regular file: send data
  kCreate,    // dir, symlink, device, special: create or replace
  kLink,      // hard-link follower: link to its leader after all copies
  kFailed,    // an error was reported; dependants (hard links) skip it
};

struct DirNode {
  std::string rel;          // path from the transfer root; "" for the root
  Entry self;               // this directory's source entry
  bool has_self = false;    // false for the virtual root of "SRC" (no slash)
  bool dst_exists = false;  // DST has this directory (at scan time)
  bool scan_failed = false; // reported by the scan; nothing is done here
  Entry dst_self;           // valid when dst_exists && has_self
  std::vector<Entry> src;   // sorted by name, filtered
  std::vector<Entry> dst;   // sorted by name, unfiltered
  std::vector<Action> action;  // parallel to src
  std::vector<std::unique_ptr<DirNode>> children;  // source subdirectories
  std::vector<uint32_t> child_src_index;           // children[i] <-> src[idx]
  // Set when this sync created, removed or renamed something in DST's copy
  // of the directory, so its mtime must be put back.
  std::atomic<bool> touched{false};
  // Maildir (--mail): this directory is a folder (cur/ new/ tmp/); or it is
  // one's cur/ or new/ (kMailMessages) or tmp/ (kMailTmp).
  bool maildir = false;
  uint8_t mail_sub = 0;
  static constexpr uint8_t kMailMessages = 1, kMailTmp = 2;
  bool meta_pending = false;  // finish.cc must apply directory metadata
  ItemFlags meta_item;        // what changed, for -i
  std::vector<io::Xattr> self_xattrs;  // source dir's kept xattrs
  std::vector<io::Xattr> dst_xattrs;   // DST dir's kept xattrs (scan time)
  bool dst_default_acl = false;  // new entries inherit ACLs: compare them
  // Owner a new entry in DST's directory gets (setgid directories pass on
  // their group); filled by ExecDir.
  uint32_t new_uid = static_cast<uint32_t>(-1);
  uint32_t new_gid = static_cast<uint32_t>(-1);

  // Fills the creation-time fields of a DstState for a new entry here.
  void NewEntryState(bool umask_zero, DstState* ds) const {
    ds->mode_exact = umask_zero && !dst_default_acl;
    ds->new_uid = new_uid;
    ds->new_gid = new_gid;
  }

  std::string Join(const std::string& name) const {
    return rel.empty() ? name : rel + "/" + name;
  }
};

struct HardLinkFollower {
  DirNode* node;
  uint32_t index;
  DirNode* leader_node;
  uint32_t leader_index;
};

class Context {
 public:
  Context(const SyncOptions& o, SyncStats& s, SyncEvents& e);

  const SyncOptions& opt;
  SyncStats& stats;
  MetaPolicy meta;
  io::UniqueFd src_root;
  io::UniqueFd dst_root;
  // Set for "SRC" without a trailing slash (or a single file): the root is
  // virtual and holds only this entry, possibly landing under another name.
  bool single = false;
  std::string single_src_name;
  std::string tmp_suffix;  // random per run: ".~ferry.<name>.<suffix>"
  bool umask_zero = false;
  std::unique_ptr<DirNode> root;
  std::vector<HardLinkFollower> followers;
  tbb::task_group tasks;
  // Renames, copies within DST and the Maildir landing order (reuse.h).
  std::shared_ptr<Reuse> reuse;

  // The calling thread's backend (one per worker thread).
  io::IoBackend& io();

  bool Excluded(const std::string& rel, bool is_dir) const;
  // Name of a source entry on disk (differs only for a renamed single file).
  const char* SrcName(const DirNode& n, const Entry& e) const;
  std::string TmpName(const std::string& name) const;
  static bool IsStaleTmp(const std::string& name);

  // suffix, bytes: SyncEvents::Change::detail and bytes.
  void Item(const ItemFlags& f, const std::string& path,
            const std::string& suffix = "", uint64_t bytes = 0);
  void Deleting(const std::string& path);
  // A per-path error; `path` (relative, "" for the root) reaches
  // SyncEvents::OnPathError. The one-argument form is for errors of no
  // single path.
  void Error(const std::string& path, const Status& s);
  void Error(const Status& s);
  void Planned();
  void Vanished(const std::string& path);
  void Warn(const std::string& msg);

  std::atomic<int64_t> deletes{0};
  std::atomic<bool> partial{false};
  std::atomic<bool> vanished{false};
  std::atomic<bool> max_delete_hit{false};
  // New small files are created unnamed (O_TMPFILE) and linked into place:
  // one directory entry instead of a temporary's plus a rename. Cleared when
  // the file system or kernel refuses, and the named temporaries take over.
  std::atomic<bool> unnamed_ok{true};

 private:
  SyncEvents& events_;
  std::mutex events_mu_;
  tbb::enumerable_thread_specific<std::unique_ptr<io::IoBackend>> backends_;
};

// Stages, in order.
Status ScanTree(Context& ctx, const Entry* root_src, const Entry* root_dst);
void PlanTree(Context& ctx);
// Rewrites every scanned SRC entry's uid/gid to what DST gets under `bound`
// (IdMapping::Bind's result), so that comparing and applying owners later
// sees the mapped ids. One name lookup per distinct id.
void MapOwners(Context& ctx, const IdMapping& bound);
void ExecTree(Context& ctx);
void LinkFollowers(Context& ctx);
void FinishDirs(Context& ctx);

// Per-directory work shared by the stages.
struct DirFds {
  io::UniqueFd src;
  io::UniqueFd dst;
};
// Copies the regular files src[indices] of node (all Action::kCopy).
void CopyFiles(Context& ctx, DirNode& node, std::shared_ptr<DirFds> fds,
               std::vector<uint32_t> indices);
// The delta path: whether src[i] can be rebuilt from DST's old copy, and the
// attempt (false: send it whole; an error on the way was already reported).
bool DeltaEligible(const Context& ctx, const Entry& s, const Entry* d);
bool CopyDelta(Context& ctx, DirNode& node, DirFds& fds, uint32_t i);
// Applies src's metadata to the open temporary `out` in DST's directory and
// renames it over s.name; on failure removes the temporary. Errors are
// returned, not reported.
Status LandTemp(Context& ctx, DirNode& node, DirFds& fds, const Entry& s,
                io::UniqueFd out, const std::string& tmp);
// Checks --checksum candidates (same size) by content hash; copies those
// that differ, compares metadata of the others.
void ChecksumFiles(Context& ctx, DirNode& node, std::shared_ptr<DirFds> fds,
                   std::vector<uint32_t> indices);
// Compares and, if needed, applies metadata of src[i] to its existing DST
// entry d (same type), itemizing what changed.
void UpdateMeta(Context& ctx, DirNode& node, DirFds& fds, uint32_t i,
                const Entry& d, const std::string& item_suffix = "");
// Removes dirfd/name (recursively for a directory), counting --max-delete.
// Returns false when something was kept (limit, excluded content, error).
bool DeleteEntry(Context& ctx, int dirfd, const Entry& e, const std::string& rel,
                 bool is_delete);

}  // namespace ferry::transfer
