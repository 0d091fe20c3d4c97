// `ferry verify SRC DST`: compares two trees (content by XXH3-128, and all
// metadata `ferry sync` preserves), prints each difference as an rsync -i
// line or, with --json, as one JSON object per line, and exits non-zero when
// anything differs.
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/daemon_command.h"
#include "cli/exit_codes.h"
#include "cli/filter_flags.h"
#include "cli/id_map_flags.h"
#include "cli/render.h"
#include "engine/base/path.h"
#include "engine/verify/verify.h"
#include "protocol/daemon_client.h"
#include "protocol/session/verify_daemon.h"
#include "protocol/session/verify_remote.h"

namespace ferry::cli {

namespace {

// Exit codes. 8 is not used by rsync (its codes: 0-6, 10-14, 20-25, 30, 35).
constexpr int kExitIdentical = 0;
constexpr int kExitDifferent = 8;

struct VerifyFlags {
  std::vector<std::string> paths;
  bool no_content = false, no_perms = false, no_times = false, no_owner = false,
       no_group = false, no_acls = false, no_xattrs = false, no_hard_links = false;
  bool json = false, stats = false, quiet = false;
  int jobs = 0;
  std::string io = "auto";
  FilterFlags filters;
  std::string usermap, groupmap, chown;
  std::string rsh = "ssh", remote_ferry = "ferry";
  std::string password_file;  // a daemon module's secret (else $FERRY_PASSWORD)
  bool compress = false;
  int compress_level = 3;
};

const char* TypeName(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "symlink";
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFIFO: return "fifo";
    default: return "socket";
  }
}

nlohmann::json EntryJson(const Entry& e) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", e.perms());
  nlohmann::json j = {{"type", TypeName(e.mode)}, {"mode", mode},
                      {"uid", e.uid},             {"gid", e.gid},
                      {"mtime_sec", e.mtime_sec}, {"mtime_nsec", e.mtime_nsec}};
  if (e.is_reg() || e.is_lnk()) j["size"] = e.size;
  if (e.is_dev()) j["rdev"] = e.rdev;
  if (e.is_reg()) j["nlink"] = e.nlink;
  return j;
}

// What differs, by name ("content", "target", "mtime", ...).
nlohmann::json ChangedJson(const Difference& d) {
  nlohmann::json c = nlohmann::json::array();
  const ItemFlags& f = d.item;
  if (d.kind == DiffKind::kLinkBroken || d.kind == DiffKind::kLinkJoined) {
    c.push_back("hardlink");
    return c;
  }
  if (d.kind != DiffKind::kChanged) return c;
  if (f.checksum) c.push_back(f.type == 'L' ? "target" : f.type == 'D' ? "device" : "content");
  if (f.size) c.push_back("size");
  if (f.time) c.push_back("mtime");
  if (f.perms) c.push_back("perms");
  if (f.owner) c.push_back("owner");
  if (f.group) c.push_back("group");
  if (f.acl) c.push_back("acl");
  if (f.xattr) c.push_back("xattr");
  return c;
}

std::string DifferenceJson(const Difference& d) {
  nlohmann::json j = {{"event", "difference"},
                      {"kind", DiffKindName(d.kind)},
                      {"path", d.path},
                      {"item", d.Itemized()},
                      {"changed", ChangedJson(d)}};
  if (d.src) j["src"] = EntryJson(*d.src);
  if (d.dst) j["dst"] = EntryJson(*d.dst);
  if (d.item.type == 'L' && d.kind != DiffKind::kExtra) j["src_target"] = d.src_target;
  if (d.item.type == 'L' && d.kind == DiffKind::kChanged) j["dst_target"] = d.dst_target;
  if (d.src_hash) j["src_xxh128"] = d.src_hash->Hex();
  if (d.dst_hash) j["dst_xxh128"] = d.dst_hash->Hex();
  if (!d.link_peer.empty()) j["link_peer"] = d.link_peer;
  // Invalid UTF-8 in file names is replaced rather than failing the dump.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class CliEvents : public VerifyEvents {
 public:
  CliEvents(bool json, bool quiet) : json_(json), quiet_(quiet) {}
  void OnDifference(const Difference& d) override {
    // Text: a control byte in a name as rsync shows it (\#ooo), one line each.
    std::string line =
        json_ ? DifferenceJson(d) : EscapeControlBytes(d.Itemized() + " " + d.path + d.Suffix());
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  void OnError(const Status& e) override {
    std::fprintf(stderr, "ferry: %s\n", EscapeControlBytes(e.message()).c_str());
  }
  void OnWarning(std::string_view m) override {
    if (!quiet_) std::fprintf(stderr, "ferry: %s\n", EscapeControlBytes(m).c_str());
  }

 private:
  bool json_, quiet_;
};

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnsupported:
      return kExitSyntax;
    case ErrorCode::kNotFound:
      return kExitPartial;  // as `ferry sync`: a missing source is code 23
    default:
      return kExitFileIo;
  }
}

int ExitCodeFor(const VerifyOutcome& o) {
  if (o.errors) return kExitPartial;  // not everything could be compared
  if (o.differences) return kExitDifferent;
  if (o.vanished) return kExitVanished;
  return kExitIdentical;
}

std::string SummaryText(const VerifyOutcome& o) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f s", o.seconds);
  return "Entries compared: " + Grouped(o.entries) + "\n" +
         "Differences: " + Grouped(o.differences) + "\n" +
         "Unreadable paths: " + Grouped(o.errors) + " (vanished: " + Grouped(o.vanished) + ")\n" +
         "Files hashed: " + Grouped(o.files_hashed) + " (" + Grouped(o.bytes_hashed) + " bytes)\n" +
         "Elapsed: " + secs + "\n";
}

std::string SummaryJson(const VerifyOutcome& o, int code) {
  nlohmann::json j = {{"event", "summary"},          {"exit_code", code},
                      {"identical", o.identical()},  {"differences", o.differences},
                      {"errors", o.errors},          {"vanished", o.vanished},
                      {"entries", o.entries},        {"files_hashed", o.files_hashed},
                      {"bytes_hashed", o.bytes_hashed}, {"seconds", o.seconds}};
  return j.dump();
}

// One side a daemon module: the user is the target's user@ or $USER, the
// secret --password-file's or $FERRY_PASSWORD (as `ferry sync`).
Result<protocol::RemoteVerifyResult> RunDaemon(const VerifyRequest& req, const VerifyOptions& opt,
                                               const protocol::RemoteOptions& ro,
                                               const std::string& password_file,
                                               VerifyEvents& events) {
  ASSIGN_OR_RETURN(protocol::DaemonTarget target,
                   protocol::ParseDaemonTarget(protocol::IsDaemonTarget(req.src) ? req.src
                                                                                 : req.dst));
  protocol::DaemonAuth auth;
  auth.user = DaemonUser(target.user);
  ASSIGN_OR_RETURN(auth.secret, DaemonSecret(password_file));
  return protocol::RunDaemonVerify(req, opt, ro, auth, events);
}

int RunVerify(CLI::App& cmd, const VerifyFlags& f) {
  VerifyOptions opt;
  opt.content = !f.no_content;
  opt.perms = !f.no_perms;
  opt.times = !f.no_times;
  opt.owner = !f.no_owner;
  opt.group = !f.no_group;
  opt.acls = !f.no_acls;
  opt.xattrs = !f.no_xattrs;
  opt.hard_links = !f.no_hard_links;
  opt.jobs = f.jobs;
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
  auto ids = BuildIdMapping(f.usermap, f.groupmap, f.chown);
  if (!ids.ok()) {
    std::fprintf(stderr, "ferry: %s\n", ids.status().message().c_str());
    return kExitSyntax;
  }
  opt.id_map = *ids;

  CliEvents events(f.json, f.quiet);
  const VerifyRequest req{f.paths[0], f.paths[1]};
  const bool daemon = protocol::IsDaemonTarget(req.src) || protocol::IsDaemonTarget(req.dst);
  const bool remote =
      daemon || protocol::ParseRemote(req.src) || protocol::ParseRemote(req.dst);
  Result<VerifyOutcome> r = Status(ErrorCode::kInternal, "not run");
  if (remote) {
    ::signal(SIGPIPE, SIG_IGN);
    if (f.compress_level < 1 || f.compress_level > 19) {
      std::fprintf(stderr, "ferry: --compress-level %d is outside 1..19\n", f.compress_level);
      return kExitSyntax;
    }
    protocol::RemoteOptions ro;
    ro.rsh = f.rsh;
    ro.remote_ferry = f.remote_ferry;
    ro.compress = f.compress;
    ro.compress_level = f.compress_level;
    if (f.io != "auto") ro.remote_io = f.io;
    auto rr = daemon ? RunDaemon(req, opt, ro, f.password_file, events)
                     : protocol::RunRemoteVerify(req, opt, ro, events);
    if (rr.ok()) r = rr->outcome;
    else r = rr.status();
  } else {
    r = VerifyTrees(req, opt, events);
  }
  if (!r.ok()) {
    std::fprintf(stderr, "ferry: %s\n", r.status().message().c_str());
    int code = ExitCodeFor(r.status());
    // Refused by the daemon (authentication, module path) or no connection:
    // as `ferry sync` with a daemon end.
    if (daemon && r.status().code() == ErrorCode::kPermission) code = kExitStartClient;
    else if (daemon && r.status().code() == ErrorCode::kIo) code = kExitSocket;
    // The session broke (remote shell, handshake, stream): as `ferry sync`.
    else if (remote && (r.status().code() == ErrorCode::kIo ||
                   r.status().code() == ErrorCode::kCorrupt))
      code = kExitProtocol;
    if (f.json) {
      VerifyOutcome none;
      none.errors = 1;
      std::fputs((SummaryJson(none, code) + "\n").c_str(), stdout);
    }
    return code;
  }
  int code = ExitCodeFor(*r);
  if (f.stats) std::fputs(("\n" + SummaryText(*r)).c_str(), stdout);
  if (f.json) std::fputs((SummaryJson(*r, code) + "\n").c_str(), stdout);
  return code;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<VerifyFlags>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Prove DST is a faithful copy of SRC: content (XXH3-128) and metadata");
  cmd->footer(
      "Compares content (XXH3-128 of every regular file of equal size, both sides read\n"
      "in parallel), type, permissions, owner, group, mtime (ns), symlink targets,\n"
      "device numbers, hard-link structure, ACLs and xattrs; lists entries missing\n"
      "from DST and extra in DST. Changes nothing. Each difference is one line in\n"
      "rsync's --itemize-changes format (an extra DST entry as `*deleting   path`),\n"
      "or with --json one JSON object per line plus a final summary object.\n"
      "SRC/ compares the contents of SRC with DST; SRC compares SRC with DST/SRC.\n"
      "\n"
      "Examples:\n"
      "  ferry verify /home/alice/ /mnt/new/home/alice/     # silent and 0 when identical\n"
      "  ferry verify --json /var/www/ /srv/www/ | jq -c 'select(.event==\"difference\")'\n"
      "  ferry verify --exclude 'cache/' --no-times -j 8 src/ dst/\n"
      "  ferry verify --stats /home/ /mnt/new/home/ > differences.txt\n"
      "  ferry verify /var/www/ new.example.com:/var/www/   # the remote side hashes there\n"
      "  ferry verify -e 'ssh -p 2222' --remote-ferry /opt/ferry/bin/ferry old:/home/ /home/\n"
      "  ferry verify --usermap=alice:alice2 /home/alice/ new:/home/alice2/  # as the sync\n"
      "  ferry verify --usermap=alice:alice2 old:/home/alice/ /home/alice2/  # old's names\n"
      "  ferry verify --password-file=/root/www.secret /var/www/ ferry://new/www/\n"
      "\n"
      "One side may be remote ([user@]host:PATH): ferry runs `ferry serve --stdio\n"
      "--verify-side PATH` there through ssh (or -e), which walks and hashes its tree\n"
      "in parallel and sends only metadata and hashes; the output is the same.\n"
      "Or a ferry daemon module (ferry://[user@]host[:port]/module/path or\n"
      "host::module/path): the daemon does the same, confined to the module (a\n"
      "read-only module can be verified). With a remote SRC, --usermap/--groupmap\n"
      "match the names SRC's host gives its owners, as the sync does.\n"
      "\n"
      "Exit codes: 0 identical; 8 differences found; 23 some paths could not be\n"
      "read (each on stderr with its cause; 23 wins over 8); 24 a source file\n"
      "vanished while verifying; 1 usage error; 11 a root could not be opened;\n"
      "12 the remote side failed (remote shell, protocol or connection; the remote\n"
      "shell's status is in the message); with a daemon: 5 refused (authentication,\n"
      "a path outside the module), 10 no connection.");
  cmd->add_option("paths", f->paths, "SRC DST (SRC/ compares the contents of SRC)")
      ->required()
      ->expected(2);
  cmd->add_flag("--no-content", f->no_content, "do not hash file contents (sizes still compared)");
  cmd->add_flag("--no-perms,--no-p", f->no_perms, "ignore permissions");
  cmd->add_flag("--no-times,--no-t", f->no_times, "ignore mtimes");
  cmd->add_flag("--no-owner,--no-o", f->no_owner, "ignore owners");
  cmd->add_flag("--no-group,--no-g", f->no_group, "ignore groups");
  cmd->add_flag("--no-acls,--no-A", f->no_acls, "ignore POSIX ACLs");
  cmd->add_flag("--no-xattrs,--no-X", f->no_xattrs, "ignore extended attributes");
  cmd->add_flag("--no-hard-links,--no-H", f->no_hard_links, "ignore hard-link structure");
  AddFilterFlags(cmd, &f->filters);
  cmd->add_flag("--json", f->json, "one JSON object per difference, then a summary object");
  cmd->add_flag("--stats", f->stats, "print a summary after the differences");
  cmd->add_flag("-q,--quiet", f->quiet, "suppress warnings");
  cmd->add_option("-j,--jobs", f->jobs, "worker threads (default: number of cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--io", f->io, "I/O backend: auto, io_uring, posix")->default_str("auto");
  cmd->add_option("--usermap", f->usermap,
                  "FROM:TO[,...]: map SRC owners before comparing (as ferry sync --usermap)");
  cmd->add_option("--groupmap", f->groupmap, "FROM:TO[,...]: map SRC groups, as --usermap");
  cmd->add_option("--chown", f->chown, "USER:GROUP: same as --usermap=*:USER --groupmap=*:GROUP");
  cmd->add_option("-e,--rsh", f->rsh, "remote shell for host:PATH (default ssh)")
      ->default_str("ssh");
  cmd->add_option("--remote-ferry", f->remote_ferry, "the ferry binary on the remote host")
      ->default_str("ferry");
  cmd->add_option("--password-file", f->password_file,
                  "a daemon module's secret: the file's first line (else $FERRY_PASSWORD)");
  cmd->add_flag("-z,--compress", f->compress, "compress the remote side's stream (zstd)");
  cmd->add_option("--compress-level", f->compress_level, "zstd level 1..19 with -z (default 3)");
  cmd->callback([cmd, f, exit_code] { *exit_code = RunVerify(*cmd, *f); });
}

}  // namespace ferry::cli
