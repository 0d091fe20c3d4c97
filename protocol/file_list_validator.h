// Session-level checks of the file list that no single message can show
// (the receiver calls Add once per FileEntry, in order, after the codec has
// checked the fields; PROTOCOL.md "File list rules"):
//
//  - the path passes path_check.h; "." (the transfer root) only as entry 0,
//    and only as a directory;
//  - no path appears twice (in particular a second entry for a directory);
//  - an entry's parent ("a/b" for "a/b/c") is an earlier entry of this list
//    and a directory: a symlink or file sent first and then something
//    "inside" it is refused (CVE-2024-12087 class);
//  - a hard-link leader is an earlier regular file that is itself a leader,
//    and only when -H was negotiated; xattrs/ACLs only when negotiated;
//  - user/group names map to local ids; an unknown name keeps the numeric id
//    from the wire but is never mapped to 0 (refused instead).
// Later messages that name an entry go through CheckIndex, CheckRegular,
// CheckDelete and CheckMetadataUpdate.
//
// Errors are kCorrupt with the entry index and the (escaped) path.
// Memory: per entry its path, kind, and a 16-byte slot of an open-addressing
// table (at most half full): one cache line per lookup, no node per entry.
// Thread safety: thread-compatible.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "protocol/id_resolver.h"
#include "protocol/messages.h"

namespace ferry::protocol {

struct LocalOwner {
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool operator==(const LocalOwner&) const = default;
};

class FileListValidator {
 public:
  // `resolver` must outlive the validator; used unless options.numeric_ids.
  FileListValidator(const SessionOptions& options, const IdResolver* resolver)
      : options_(options), resolver_(resolver) {}

  // Accepts entry number size(); returns its local owner.
  Result<LocalOwner> Add(const FileEntry& entry);

  // The list ended: the count must equal the entries received.
  Status Finish(const FileListEnd& end) const;

  size_t size() const { return kinds_.size(); }
  // Whether the list has an entry at `path` ("." the root).
  bool Has(std::string_view path) const { return Find(path) != kNone; }

  // `index` names an entry already received. `what` names the field.
  Status CheckIndex(uint64_t index, const char* what) const;
  // ... and that entry is a regular file (file data, requests, signatures).
  Status CheckRegular(uint64_t index, const char* what) const;
  Status CheckDelete(const DeleteRequest& request) const;
  Status CheckMetadataUpdate(const MetadataUpdate& update) const;

 private:
  Status Refuse(const std::string& path, const std::string& why) const;
  Status CheckOwnerNames(const FileEntry& e, LocalOwner* owner) const;

  SessionOptions options_;
  const IdResolver* resolver_;
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Slot {
    uint64_t hash = 0;
    uint32_t index = kNone;  // into paths_; kNone: empty
  };
  static uint64_t HashPath(std::string_view path);
  // The entry index of `path`, or kNone.
  uint32_t Find(std::string_view path) const;
  uint32_t FindHashed(std::string_view path, uint64_t hash) const;
  void Insert(uint64_t hash, uint32_t index);

  // The paths, back to back in blocks: one allocation per 64 KiB rather
  // than a string per entry (the receiver keeps its own copy of each path;
  // fresh memory costs a page fault per 4 KiB).
  class PathStore {
   public:
    size_t size() const { return views_.size(); }
    std::string_view operator[](size_t i) const { return views_[i]; }
    void push_back(std::string_view p) {
      if (blocks_.empty() || p.size() > block_size_ - used_) {
        block_size_ = std::max(kBlock, p.size());
        blocks_.push_back(std::make_unique<char[]>(block_size_));
        used_ = 0;
      }
      char* at = blocks_.back().get() + used_;
      if (!p.empty()) std::memcpy(at, p.data(), p.size());
      used_ += p.size();
      views_.emplace_back(at, p.size());
    }

   private:
    static constexpr size_t kBlock = 64 << 10;
    std::vector<std::unique_ptr<char[]>> blocks_;
    size_t block_size_ = 0, used_ = 0;
    std::deque<std::string_view> views_;  // grows by blocks too
  };

  std::vector<Slot> table_;  // a power of two long, linear probing
  PathStore paths_;
  std::vector<FileKind> kinds_;
  std::vector<bool> is_leader_candidate_;  // regular files without a leader
  std::string last_parent_;  // the last parent looked up, and its index
  uint32_t last_parent_index_ = 0;
  bool has_last_parent_ = false;
};

}  // namespace ferry::protocol
