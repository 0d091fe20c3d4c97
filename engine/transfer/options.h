// SyncOptions: the immutable description of one sync, built by cli/ from
// flags (rsync's names and meanings) and passed down by const reference.
// Defaults equal `rsync -aHAX --numeric-ids`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/io/io_backend.h"
#include "engine/mail/maildir.h"
#include "engine/tree/filter.h"
#include "engine/tree/id_map.h"

namespace ferry {

enum class ReflinkMode { kAuto, kAlways, kNever };

struct SyncOptions {
  // What to preserve (-r -l -p -t -g -o -D -H -A -X; --atimes).
  bool recursive = true;
  bool links = true;        // -l: copy symlinks as symlinks
  // --safe-links: symlinks whose target leaves the transferred tree are not
  // copied (engine/tree/safe_link.h), each reported and counted.
  bool safe_links = false;
  bool perms = true;        // -p
  bool times = true;        // -t
  bool group = true;        // -g
  bool owner = true;        // -o (only effective as root)
  bool devices = true;      // --devices (only effective as root)
  bool specials = true;     // --specials: fifos, sockets
  bool hard_links = true;   // -H
  bool acls = true;         // -A
  bool xattrs = true;       // -X
  bool atimes = false;      // -U/--atimes
  // --usermap/--groupmap/--chown: the owner and group DST entries get, from
  // each SRC entry's (id, name). Null or empty: ids are kept (--numeric-ids).
  // Every TO name is looked up on DST before anything is written; an unknown
  // one fails the sync (never root).
  std::shared_ptr<const IdMapping> id_map;

  // Change detection and transfer.
  bool checksum = false;    // -c: compare content hashes, not size+mtime
  bool whole_file = true;   // -W (local default); false: use deltas
  bool sparse = true;       // keep holes of files that have them
  ReflinkMode reflink = ReflinkMode::kAuto;
  // A file new at its SRC path whose content DST already has elsewhere (a
  // rename, a move, a Maildir flag change) is made from that DST file.
  bool detect_renames = true;
  // A file that only grew is rebuilt from DST's copy plus SRC's tail.
  bool detect_appends = true;
  mail::MailMode mail = mail::MailMode::kAuto;  // --mail
  bool fsync = false;       // make each landing durable

  // Deletion and filtering.
  bool del = false;                    // --delete
  int64_t max_delete = -1;             // --max-delete N; <0: unlimited
  std::shared_ptr<const FilterList> filter;  // may be null: include all

  bool dry_run = false;     // -n

  // Execution.
  int jobs = 0;             // worker threads; 0 = number of cores
  io::BackendKind io = io::BackendKind::kAuto;
  // Tests inject backends (fault injection) here; overrides `io`.
  std::function<std::unique_ptr<io::IoBackend>()> backend_factory;
};

}  // namespace ferry
