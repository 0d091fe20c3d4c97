// `ferry sync SRC... DST`: rsync's flags and meanings, defaults of
// `rsync -aHAX --numeric-ids`. Parses into an immutable SyncOptions, runs the
// engine, renders itemized changes, progress, --stats and --json, and maps
// the outcome to rsync's exit codes.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/filter_flags.h"
#include "cli/id_map_flags.h"
#include "cli/json_events.h"
#include "cli/render.h"
#include "engine/base/path.h"
#include "engine/transfer/sync.h"
#include "engine/tree/filter.h"
#include "engine/tree/id_map.h"
#include "cli/daemon_command.h"
#include "protocol/daemon_client.h"
#include "protocol/session/client.h"
#include "protocol/session/daemon_session.h"

namespace ferry::cli {

namespace {

struct SyncFlags {
  std::vector<std::string> paths;
  bool archive = false, recursive = false, links = false, perms = false,
       times = false, group = false, owner = false, devspec = false,
       devices = false, specials = false, hard_links = false, acls = false,
       xattrs = false, numeric_ids = false;
  bool no_recursive = false, no_links = false, no_perms = false,
       no_times = false, no_group = false, no_owner = false,
       no_devices = false, no_specials = false, no_hard_links = false,
       no_acls = false, no_xattrs = false;
  bool atimes = false, checksum = false, whole_file = false,
       no_whole_file = false, sparse = false, no_sparse = false, fsync = false;
  std::string reflink = "auto";
  std::string mail = "auto";
  bool no_detect_renames = false, no_detect_appends = false;
  bool del = false;
  int64_t max_delete = -1;
  bool safe_links = false;
  bool dry_run = false, verbose = false, quiet = false;
  int itemize = 0;
  bool stats = false, json = false, progress = false, no_progress = false;
  int jobs = 0;
  std::string io = "auto";
  std::string usermap, groupmap, chown;
  FilterFlags filters;
  std::string rsh = "ssh", remote_ferry = "ferry";
  bool compress = false;
  int compress_level = 3;
  std::string password_file;
  int streams = 1;
};

class CliEvents : public SyncEvents {
 public:
  CliEvents(bool itemize, bool verbose, bool quiet)
      : itemize_(itemize), verbose_(verbose), quiet_(quiet) {}
  void OnItem(std::string_view item, std::string_view raw_path) override {
    if (!itemize_ && !verbose_) return;
    // As rsync shows them: a control byte as \#ooo, one line per item.
    const std::string path = EscapeControlBytes(raw_path);
    if (itemize_) {
      std::fprintf(stdout, "%.*s %s\n", static_cast<int>(item.size()), item.data(), path.c_str());
    } else if (item.starts_with("*deleting")) {
      std::fprintf(stdout, "deleting %s\n", path.c_str());
    } else {
      std::fprintf(stdout, "%s\n", path.c_str());
    }
  }
  void OnError(const Status& e) override {
    std::fprintf(stderr, "ferry: %s\n", EscapeControlBytes(e.message()).c_str());
  }
  void OnWarning(std::string_view m) override {
    if (!quiet_) std::fprintf(stderr, "ferry: %s\n", EscapeControlBytes(m).c_str());
  }

 private:
  bool itemize_, verbose_, quiet_;
};

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnsupported:
      return kExitSyntax;
    case ErrorCode::kNotFound:
      return kExitPartial;  // rsync: a missing source is a partial transfer
    default:
      return kExitFileIo;
  }
}

// rsync's 20 for SIGINT/SIGTERM/SIGHUP. Nothing is torn: every file lands by
// rename, and the next run removes the temporaries this one leaves.
void OnSignal(int) {
  static const char kMsg[] =
      "\nferry: interrupted; files already landed are complete, the next run "
      "removes temporaries\n";
  ssize_t n = ::write(2, kMsg, sizeof kMsg - 1);
  (void)n;
  ::_exit(kExitSignal);
}

void ExitOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

// One side a daemon module: `ferry sync SRC ferry://host/module/path` or
// host::module/path (push), or the module as SRC (pull). The user is the
// target's user@ or $USER; the secret --password-file's or $FERRY_PASSWORD.
Result<protocol::RemoteResult> RunDaemonClient(const SyncFlags& f, const SyncOptions& opt,
                                               const protocol::RemoteOptions& ro,
                                               SyncStats& stats, SyncEvents& events) {
  const bool push = protocol::IsDaemonTarget(f.paths[1]);
  ASSIGN_OR_RETURN(protocol::DaemonTarget target,
                   protocol::ParseDaemonTarget(push ? f.paths[1] : f.paths[0]));
  protocol::DaemonAuth auth;
  auth.user = DaemonUser(target.user);
  ASSIGN_OR_RETURN(auth.secret, DaemonSecret(f.password_file));
  return protocol::RunDaemonSync(f.paths[0], f.paths[1], opt, ro, auth, stats, events);
}

// One side over a remote shell: `ferry sync SRC host:DST` (push) or
// `ferry sync host:SRC DST` (pull); or a daemon module (RunDaemonClient).
int RunRemote(const SyncFlags& f, const SyncOptions& opt) {
  ::signal(SIGPIPE, SIG_IGN);
  auto refuse = [](const char* what) {
    std::fprintf(stderr, "ferry: %s is not supported with a remote SRC or DST yet\n", what);
    return kExitSyntax;
  };
  if (f.paths.size() != 2) return refuse("more than one SRC");
  if (opt.max_delete >= 0) return refuse("--max-delete");
  if (f.compress_level < 1 || f.compress_level > 19) {
    std::fprintf(stderr, "ferry: --compress-level %d is outside 1..19\n", f.compress_level);
    return kExitSyntax;
  }
  protocol::RemoteOptions ro;
  ro.rsh = f.rsh;
  ro.remote_ferry = f.remote_ferry;
  ro.compress = f.compress;
  ro.compress_level = f.compress_level;
  ro.streams = static_cast<uint32_t>(f.streams);
  // A seam for tests and tuning: the size from which --streams splits files.
  if (const char* v = std::getenv("FERRY_STREAMS_SPLIT_MIN"); v && *v) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (*end != '\0' || (n != 0 && n < protocol::kSplitMinFloor)) {
      std::fprintf(stderr, "ferry: FERRY_STREAMS_SPLIT_MIN=%s is not 0 or a byte count >= %llu\n",
                   v, static_cast<unsigned long long>(protocol::kSplitMinFloor));
      return kExitSyntax;
    }
    ro.split_min = n;
  }
  if (f.io != "auto") ro.remote_io = f.io;
  // As a local sync: with --json, stdout carries only JSON lines. The list
  // is streamed, so "start" comes before the totals are known (0 there);
  // "planned" brings them when the receiver has compared the list.
  CliEvents text(!f.json && f.itemize > 0, !f.json && f.verbose, f.quiet);
  JsonEvents json(stdout, &text);
  SyncEvents& events = f.json ? static_cast<SyncEvents&>(json) : text;
  SyncStats stats;
  const bool daemon =
      protocol::IsDaemonTarget(f.paths[0]) || protocol::IsDaemonTarget(f.paths[1]);
  json.SetPass(f.paths[0], f.paths[1], opt.dry_run);
  if (f.json) json.OnPlanned(stats);
  // Progress as a local sync shows it: scan counts until the session's
  // totals arrive (OnPlanned), then bytes and files against them.
  std::unique_ptr<ProgressLine> progress;
  if (!f.no_progress && (f.progress || (!f.json && ::isatty(2)))) {
    progress = std::make_unique<ProgressLine>(stats, f.dry_run ? "dry run" : "sync",
                                              ::isatty(2) != 0);
    progress->Start();
  }
  auto r = daemon ? RunDaemonClient(f, opt, ro, stats, events)
                  : protocol::RunRemoteSync(f.paths[0], f.paths[1], opt, ro, stats, events);
  if (progress) progress->Stop();
  int code = 0;
  SyncOutcome o;
  if (!r.ok()) {
    if (f.json) json.OnError(r.status());
    else std::fprintf(stderr, "ferry: %s\n", r.status().message().c_str());
  }
  if (!r.ok() && daemon && r.status().code() == ErrorCode::kPermission) {
    code = kExitStartClient;
    o.partial = true;
  } else if (!r.ok() && daemon && r.status().code() == ErrorCode::kIo) {
    code = kExitSocket;
    o.partial = true;
  } else if (!r.ok()) {
    switch (r.status().code()) {
      case ErrorCode::kInvalidArgument:
      case ErrorCode::kUnsupported:
        code = kExitSyntax;
        break;
      case ErrorCode::kIo:
      case ErrorCode::kCorrupt:
        code = kExitProtocol;
        break;
      default:
        code = ExitCodeFor(r.status());
    }
    o.partial = true;
  } else {
    o = r->outcome;
    if (o.partial) code = kExitPartial;
    else if (o.vanished) code = kExitVanished;
  }
  if (f.stats && r.ok()) {
    std::fputs(("\n" + StatsText(stats, o)).c_str(), stdout);
    std::fprintf(stdout, "Total bytes sent: %s\nTotal bytes received: %s\n",
                 Grouped(r->bytes_sent).c_str(), Grouped(r->bytes_received).c_str());
    if (f.streams > 1) std::fprintf(stdout, "streams: %d\n", f.streams);
  }
  if (f.json) {
    json.WriteLine(StatsJson(stats, o, code));
    json.Flush();
  }
  return code;
}

int RunSync(CLI::App& cmd, const SyncFlags& f) {
  ExitOnSignals();
  SyncOptions opt;
  // -a and friends are the defaults; the --no-X forms turn them off.
  opt.recursive = !f.no_recursive;
  opt.links = !f.no_links;
  opt.safe_links = f.safe_links;
  opt.perms = !f.no_perms;
  opt.times = !f.no_times;
  opt.group = !f.no_group;
  opt.owner = !f.no_owner;
  opt.devices = !f.no_devices;
  opt.specials = !f.no_specials;
  opt.hard_links = !f.no_hard_links;
  opt.acls = !f.no_acls;
  opt.xattrs = !f.no_xattrs;
  opt.atimes = f.atimes;
  opt.checksum = f.checksum;
  opt.whole_file = !f.no_whole_file;
  opt.sparse = !f.no_sparse;
  opt.fsync = f.fsync;
  opt.detect_renames = !f.no_detect_renames;
  opt.detect_appends = !f.no_detect_appends;
  auto mail = mail::ParseMailMode(f.mail);
  if (!mail.ok()) {
    std::fprintf(stderr, "ferry: %s\n", mail.status().message().c_str());
    return kExitSyntax;
  }
  opt.mail = *mail;
  opt.del = f.del;
  opt.max_delete = f.max_delete;
  opt.dry_run = f.dry_run;
  opt.jobs = f.jobs;
  if (f.reflink == "auto") opt.reflink = ReflinkMode::kAuto;
  else if (f.reflink == "always") opt.reflink = ReflinkMode::kAlways;
  else opt.reflink = ReflinkMode::kNever;
  auto kind = io::ParseBackendKind(f.io);
  if (!kind.ok()) {
    std::fprintf(stderr, "ferry: %s\n", kind.status().message().c_str());
    return kExitSyntax;
  }
  opt.io = *kind;
  auto filter = BuildFilter(cmd, f.filters);
  if (!filter.ok()) {
    std::fprintf(stderr, "ferry: %s\n", filter.status().message().c_str());
    return kExitSyntax;
  }
  opt.filter = *filter;
  const bool remote_dst = !f.paths.empty() && (protocol::ParseRemote(f.paths.back()) ||
                                                protocol::IsDaemonTarget(f.paths.back()));
  auto ids = BuildIdMapping(f.usermap, f.groupmap, f.chown, !remote_dst);
  if (!ids.ok()) {
    std::fprintf(stderr, "ferry: %s\n", ids.status().message().c_str());
    return kExitSyntax;
  }
  opt.id_map = *ids;
  if (f.paths.size() < 2) {
    std::fprintf(stderr, "ferry: sync needs SRC and DST\n");
    return kExitSyntax;
  }
  if (opt.del && f.paths.size() > 2) {
    // rsync deletes only what no source has; ferry runs one source at a time
    // and would delete the earlier sources' files. Refuse rather than lose data.
    std::fprintf(stderr,
                 "ferry: --delete with several sources is not supported yet; "
                 "sync each source into its own destination\n");
    return kExitSyntax;
  }
  // With -p, files are created with their final mode; rsync does the same.
  if (opt.perms) ::umask(0);
  if (protocol::ParseRemote(f.paths.front()) || protocol::ParseRemote(f.paths.back()) ||
      protocol::IsDaemonTarget(f.paths.front()) || protocol::IsDaemonTarget(f.paths.back())) {
    return RunRemote(f, opt);
  }
  if (f.streams > 1) {
    std::fprintf(stderr, "ferry: --streams needs a remote SRC or DST (a local sync uses -j)\n");
    return kExitSyntax;
  }

  // With --json, stdout carries only JSON lines: -i/-v text is replaced by
  // "file" events; errors and warnings still go to stderr as text too.
  CliEvents text(!f.json && f.itemize > 0, !f.json && f.verbose, f.quiet);
  JsonEvents json(stdout, &text);
  SyncEvents& events = f.json ? static_cast<SyncEvents&>(json) : text;
  // The progress line goes to stderr: by default only on a terminal (and not
  // with --json, whose readers are programs); --progress forces it.
  bool show_progress = !f.no_progress && (f.progress || (!f.json && ::isatty(2)));
  int code = 0;
  SyncStats total;  // for several sources, the counters add up
  SyncOutcome all;
  const std::string& dst = f.paths.back();
  for (size_t k = 0; k + 1 < f.paths.size(); ++k) {
    SyncStats& stats = total;
    std::unique_ptr<ProgressLine> progress;
    if (show_progress) {
      progress = std::make_unique<ProgressLine>(stats, f.dry_run ? "dry run" : "sync",
                                                ::isatty(2) != 0);
      progress->Start();
    }
    json.SetPass(f.paths[k], dst, f.dry_run);
    auto r = RunLocalSync(SyncRequest{f.paths[k], dst}, opt, stats, events);
    if (progress) progress->Stop();
    if (!r.ok()) {
      if (f.json) json.OnPathError(f.paths[k], r.status());
      else std::fprintf(stderr, "ferry: %s\n", r.status().message().c_str());
      code = std::max(code, ExitCodeFor(r.status()));
      all.partial = true;
      continue;
    }
    all.partial |= r->partial;
    all.vanished |= r->vanished;
    all.max_delete_hit |= r->max_delete_hit;
    all.seconds += r->seconds;
  }
  if (code == 0) {
    if (all.max_delete_hit) code = kExitMaxDelete;
    else if (all.partial) code = kExitPartial;
    else if (all.vanished) code = kExitVanished;
  }
  if (all.max_delete_hit)
    std::fprintf(stderr, "ferry: deletions stopped due to --max-delete limit (%s skipped)\n",
                 Grouped(total.delete_skipped.load()).c_str());
  if (f.stats) std::fputs(("\n" + StatsText(total, all)).c_str(), stdout);
  if (f.json) {
    json.WriteLine(StatsJson(total, all, code));
    json.Flush();
  }
  return code;
}

}  // namespace

void AddSyncCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<SyncFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sync", "Copy SRC to DST like `rsync -aHAX --numeric-ids`, in parallel");
  cmd->footer(
      "Examples:\n"
      "  ferry sync -i --stats /home/alice/ /srv/new/alice/   # contents of alice\n"
      "  ferry sync --delete -n /var/www /srv/new/            # dry run; /srv/new/www\n"
      "  ferry sync --exclude 'cache/' --exclude '*.tmp' src/ dst/\n"
      "  ferry sync --json /home/ /mnt/new/home/ | jq 'select(.event == \"error\")'\n"
      "  ferry sync -z --delete /var/www/ root@new:/var/www/  # push over ssh\n"
      "  ferry sync --password-file ~/.ferry.pw /var/www/ ferry://deploy@new/www/  # daemon\n"
      "  FERRY_PASSWORD=... ferry sync old::mail/ /var/mail/  # pull from a daemon module\n"
      "Exit codes (as rsync): 0 ok, 1 usage, 5 daemon refused (auth), 10 socket, 11 file I/O, 12 protocol/connection, 20 interrupted,\n"
      "23 partial transfer, 24 source files vanished, 25 --max-delete stopped deletions.\n"
      "See ferry(1).");
  cmd->add_option("paths", f->paths, "SRC... DST (SRC/ copies the contents of SRC)")
      ->required()
      ->expected(2, -1);
  // rsync's preservation flags: accepted, on by default.
  cmd->add_flag("-a,--archive", f->archive, "archive mode (the default: -rlptgoD)");
  cmd->add_flag("-r,--recursive", f->recursive, "recurse into directories (default)");
  cmd->add_flag("-l,--links", f->links, "copy symlinks as symlinks (default)");
  cmd->add_flag("-p,--perms", f->perms, "preserve permissions (default)");
  cmd->add_flag("-t,--times", f->times, "preserve modification times, ns (default)");
  cmd->add_flag("-g,--group", f->group, "preserve group (default)");
  cmd->add_flag("-o,--owner", f->owner, "preserve owner when root (default)");
  cmd->add_flag("-D", f->devspec, "same as --devices --specials (default)");
  cmd->add_flag("--devices", f->devices, "preserve device files when root (default)");
  cmd->add_flag("--specials", f->specials, "preserve fifos and sockets (default)");
  cmd->add_flag("-H,--hard-links", f->hard_links, "preserve hard links (default)");
  cmd->add_flag("-A,--acls", f->acls, "preserve POSIX ACLs (default)");
  cmd->add_flag("-X,--xattrs", f->xattrs, "preserve extended attributes (default)");
  cmd->add_flag("--numeric-ids", f->numeric_ids, "owners by number (always)");
  cmd->add_option("--usermap", f->usermap,
                  "FROM:TO[,...]: map owners (FROM a SRC name, id, LOW-HIGH or wildcard)");
  cmd->add_option("--groupmap", f->groupmap, "FROM:TO[,...]: map groups, as --usermap");
  cmd->add_option("--chown", f->chown, "USER:GROUP: same as --usermap=*:USER --groupmap=*:GROUP");
  cmd->add_flag("--no-recursive,--no-r", f->no_recursive, "do not recurse");
  cmd->add_flag("--no-links,--no-l", f->no_links, "skip symlinks");
  cmd->add_flag("--safe-links", f->safe_links,
                "ignore symlinks that point outside the transferred tree");
  cmd->add_flag("--no-perms,--no-p", f->no_perms, "do not preserve permissions");
  cmd->add_flag("--no-times,--no-t", f->no_times, "do not preserve mtimes");
  cmd->add_flag("--no-group,--no-g", f->no_group, "do not preserve group");
  cmd->add_flag("--no-owner,--no-o", f->no_owner, "do not preserve owner");
  cmd->add_flag("--no-devices", f->no_devices, "skip device files");
  cmd->add_flag("--no-specials", f->no_specials, "skip fifos and sockets");
  cmd->add_flag("--no-hard-links,--no-H", f->no_hard_links, "copy hard links as files");
  cmd->add_flag("--no-acls,--no-A", f->no_acls, "do not preserve ACLs");
  cmd->add_flag("--no-xattrs,--no-X", f->no_xattrs, "do not preserve xattrs");
  cmd->add_flag("-U,--atimes", f->atimes, "preserve access times");
  cmd->add_flag("-c,--checksum", f->checksum, "skip based on XXH3-128 content hash, not size+mtime");
  cmd->add_flag("-W,--whole-file", f->whole_file, "copy whole files (local default)");
  cmd->add_flag("--no-whole-file,--no-W", f->no_whole_file, "use rolling-checksum deltas");
  cmd->add_flag("-S,--sparse", f->sparse, "keep holes of sparse files (default)");
  cmd->add_flag("--no-sparse", f->no_sparse, "write holes out as zeros");
  cmd->add_option("--reflink", f->reflink, "share extents when the file system can")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->default_str("auto");
  cmd->add_flag("--fsync", f->fsync, "fsync each file before it lands");
  cmd->add_flag("--no-detect-renames", f->no_detect_renames,
                "send new files whole even when DST has their content elsewhere");
  cmd->add_flag("--no-detect-appends", f->no_detect_appends,
                "send grown files whole even when DST has their start");
  cmd->add_option("--mail", f->mail,
                  "Maildir semantics: auto (folders with cur/new/tmp), on, off")
      ->default_str("auto");
  cmd->add_flag("--delete", f->del, "delete DST entries absent from SRC");
  cmd->add_option("--max-delete", f->max_delete, "delete at most N entries (exit 25 past it)");
  AddFilterFlags(cmd, &f->filters);
  cmd->add_flag("-n,--dry-run", f->dry_run, "show what would change; change nothing");
  cmd->add_flag("-i,--itemize-changes", f->itemize, "itemized change list (YXcstpoguax)");
  cmd->add_flag("-v,--verbose", f->verbose, "list transferred files");
  cmd->add_flag("-q,--quiet", f->quiet, "suppress warnings");
  cmd->add_flag("--stats", f->stats, "print transfer statistics");
  cmd->add_flag("--json", f->json,
                "JSON events on stdout, one per line: start, file, error, summary");
  cmd->add_flag("--progress", f->progress, "show progress even when not a terminal");
  cmd->add_flag("--no-progress", f->no_progress, "never show progress");
  cmd->add_option("-j,--jobs", f->jobs, "worker threads (default: number of cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--io", f->io, "I/O backend: auto, io_uring, posix")->default_str("auto");
  cmd->add_option("-e,--rsh", f->rsh, "remote shell for host:PATH (default ssh)")->default_str("ssh");
  cmd->add_option("--remote-ferry", f->remote_ferry, "the ferry binary on the remote host")
      ->default_str("ferry");
  cmd->add_flag("-z,--compress", f->compress, "compress the remote stream (zstd)");
  cmd->add_option("--compress-level", f->compress_level, "zstd level 1..19 with -z (default 3)");
  cmd->add_option("--password-file", f->password_file,
                  "secret for a daemon module (first line; else $FERRY_PASSWORD)");
  cmd->add_option("--streams", f->streams,
                  "N parallel remote sessions sharing the file list (1..64, default 1)")
      ->check(CLI::Range(1, 64));
  cmd->callback([cmd, f, exit_code] { *exit_code = RunSync(*cmd, *f); });
}

}  // namespace ferry::cli
