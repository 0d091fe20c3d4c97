#include "protocol/file_list_validator.h"

#include <xxhash.h>

#include <algorithm>
#include <random>

#include "protocol/path_check.h"

namespace ferry::protocol {

namespace {

bool IsAclName(const std::string& name) {
  return name.rfind("system.posix_acl_", 0) == 0;
}

}  // namespace

uint64_t FileListValidator::HashPath(std::string_view path) {
  // Seeded per process: a peer cannot choose paths that collide.
  static const uint64_t seed = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  return XXH3_64bits_withSeed(path.data(), path.size(), seed);
}

uint32_t FileListValidator::Find(std::string_view path) const {
  return FindHashed(path, HashPath(path));
}

uint32_t FileListValidator::FindHashed(std::string_view path, uint64_t hash) const {
  if (table_.empty()) return kNone;
  const size_t mask = table_.size() - 1;
  for (size_t s = hash & mask;; s = (s + 1) & mask) {
    const Slot& slot = table_[s];
    if (slot.index == kNone) return kNone;
    if (slot.hash == hash && paths_[slot.index] == path) return slot.index;
  }
}

void FileListValidator::Insert(uint64_t hash, uint32_t index) {
  auto place = [this](const Slot& slot) {
    const size_t mask = table_.size() - 1;
    size_t s = slot.hash & mask;
    while (table_[s].index != kNone) s = (s + 1) & mask;
    table_[s] = slot;
  };
  if ((paths_.size() + 1) * 2 > table_.size()) {
    // Grow to keep the table at most half full.
    std::vector<Slot> old = std::move(table_);
    table_.assign(std::max<size_t>(64, old.size() * 2), Slot{});
    for (const Slot& s : old) {
      if (s.index != kNone) place(s);
    }
  }
  place(Slot{hash, index});
}

Status FileListValidator::Refuse(const std::string& path, const std::string& why) const {
  return Corrupt("file list entry " + std::to_string(size()) + " " + QuotePath(path) +
                 ": " + why);
}

Status FileListValidator::CheckOwnerNames(const FileEntry& e, LocalOwner* owner) const {
  owner->uid = e.uid;
  owner->gid = e.gid;
  if (options_.numeric_ids) {
    if (!e.user_name.empty() || !e.group_name.empty()) {
      return Refuse(e.path, "user/group name sent although --numeric-ids was agreed");
    }
    return Status::Ok();
  }
  if (!e.user_name.empty()) {
    if (auto uid = resolver_->Uid(e.user_name)) {
      owner->uid = *uid;
    } else if (e.uid == 0) {
      return Refuse(e.path, "user name " + QuotePath(e.user_name) +
                                " is unknown here; refusing to map it to uid 0");
    }
  }
  if (!e.group_name.empty()) {
    if (auto gid = resolver_->Gid(e.group_name)) {
      owner->gid = *gid;
    } else if (e.gid == 0) {
      return Refuse(e.path, "group name " + QuotePath(e.group_name) +
                                " is unknown here; refusing to map it to gid 0");
    }
  }
  return Status::Ok();
}

Result<LocalOwner> FileListValidator::Add(const FileEntry& e) {
  if (size() > kFileIndexMax) return Refuse(e.path, "the file list is too long");
  if (e.path == ".") {
    if (size() != 0) return Refuse(e.path, "the root '.' may only be the first entry");
    if (e.kind != FileKind::kDirectory) return Refuse(e.path, "the root '.' is not a directory");
  } else {
    // The field names the entry's index; built only for the error.
    if (!CheckWirePath(e.path, "file list entry").ok()) {
      return CheckWirePath(e.path, "file list entry " + std::to_string(size()));
    }
  }
  const size_t slash = e.path.rfind('/');
  if (slash != std::string::npos) {
    // Entries come in runs from one directory: its index is kept.
    const std::string_view parent = std::string_view(e.path).substr(0, slash);
    uint32_t at = last_parent_index_;
    if (!has_last_parent_ || parent != last_parent_) {
      at = Find(parent);
      if (at == kNone) {
        return Refuse(e.path, "its parent " + QuotePath(parent) +
                                  " was not sent as a directory before it");
      }
      last_parent_.assign(parent);
      last_parent_index_ = at;
      has_last_parent_ = true;
    }
    if (kinds_[at] != FileKind::kDirectory) {
      return Refuse(e.path, "its parent " + QuotePath(parent) + " was sent as a " +
                                (kinds_[at] == FileKind::kSymlink ? "symlink" : "non-directory") +
                                " (entry " + std::to_string(at) + ")");
    }
  }
  if (e.link_leader) {
    if (!options_.hard_links) return Refuse(e.path, "hard-link data but -H was not agreed");
    const uint32_t l = *e.link_leader;
    if (l >= size()) {
      return Refuse(e.path, "hard-link leader " + std::to_string(l) +
                                " is not an earlier entry (" + std::to_string(size()) +
                                " so far)");
    }
    if (e.kind != FileKind::kRegular || !is_leader_candidate_[l]) {
      return Refuse(e.path, "hard-link leader " + std::to_string(l) +
                                " is not a regular file leading a group");
    }
  }
  for (const Xattr& x : e.xattrs) {
    const bool acl = IsAclName(x.name);
    if (acl ? !options_.acls : !options_.xattrs) {
      return Refuse(e.path, std::string(acl ? "ACL" : "xattr") + " " + QuotePath(x.name) +
                                " but " + (acl ? "-A" : "-X") + " was not agreed");
    }
  }
  if (e.has_atime && (options_.preserve & kPreserveAtimes) == 0) {
    return Refuse(e.path, "atime sent but --atimes was not agreed");
  }
  LocalOwner owner;
  RETURN_IF_ERROR(CheckOwnerNames(e, &owner));

  // Last: nothing is recorded for a refused entry.
  const auto index = static_cast<uint32_t>(size());
  const uint64_t hash = HashPath(e.path);
  if (const uint32_t seen = FindHashed(e.path, hash); seen != kNone) {
    return Refuse(e.path, std::string("a second entry for a path already sent (as entry ") +
                              std::to_string(seen) + ")");
  }
  Insert(hash, index);
  paths_.push_back(e.path);
  kinds_.push_back(e.kind);
  is_leader_candidate_.push_back(e.kind == FileKind::kRegular && !e.link_leader);
  return owner;
}

Status FileListValidator::Finish(const FileListEnd& end) const {
  if (end.count != size()) {
    return Corrupt("FileListEnd: count " + std::to_string(end.count) + " but " +
                   std::to_string(size()) + " entries were sent");
  }
  return Status::Ok();
}

Status FileListValidator::CheckIndex(uint64_t index, const char* what) const {
  if (index >= size()) {
    return Corrupt(std::string(what) + " " + std::to_string(index) +
                   " is out of range: the file list has " + std::to_string(size()) +
                   " entries");
  }
  return Status::Ok();
}

Status FileListValidator::CheckRegular(uint64_t index, const char* what) const {
  RETURN_IF_ERROR(CheckIndex(index, what));
  if (kinds_[index] != FileKind::kRegular) {
    return Corrupt(std::string(what) + " " + std::to_string(index) + " " +
                   QuotePath(paths_[index]) + " is not a regular file");
  }
  return Status::Ok();
}

Status FileListValidator::CheckDelete(const DeleteRequest& r) const {
  if (!options_.del) return Corrupt("DeleteRequest but --delete was not agreed");
  RETURN_IF_ERROR(CheckIndex(r.dir_index, "DeleteRequest dir_index"));
  const std::string dir(paths_[r.dir_index]);
  if (kinds_[r.dir_index] != FileKind::kDirectory) {
    return Corrupt("DeleteRequest: entry " + std::to_string(r.dir_index) + " " +
                   QuotePath(dir) + " is not a directory of this transfer");
  }
  RETURN_IF_ERROR(CheckWireName(r.name, "DeleteRequest name"));
  const std::string full = dir == "." ? r.name : dir + "/" + r.name;
  if (Has(full)) {
    return Corrupt("DeleteRequest: " + QuotePath(full) + " is an entry of this transfer");
  }
  return Status::Ok();
}

Status FileListValidator::CheckMetadataUpdate(const MetadataUpdate& u) const {
  RETURN_IF_ERROR(CheckIndex(u.file_index, "MetadataUpdate file_index"));
  if (u.entry.path != paths_[u.file_index] || u.entry.kind != kinds_[u.file_index]) {
    return Corrupt("MetadataUpdate: entry " + std::to_string(u.file_index) +
                   " changes path or kind (" + QuotePath(paths_[u.file_index]) + " -> " +
                   QuotePath(u.entry.path) + ")");
  }
  if (u.entry.link_leader) return Corrupt("MetadataUpdate: cannot change hard links");
  return Status::Ok();
}

}  // namespace ferry::protocol
