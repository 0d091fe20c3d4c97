#include "protocol/session/client.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <sstream>

#include "engine/base/fd_limit.h"
#include "protocol/session/mail_rules.h"
#include "protocol/session/receiver.h"
#include "protocol/session/sender.h"
#include "protocol/session/streams.h"
#include "protocol/session/sync_rules.h"

namespace ferry::protocol {

std::optional<RemoteSpec> ParseRemote(const std::string& arg) {
  const size_t colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  const size_t slash = arg.find('/');
  if (slash != std::string::npos && slash < colon) return std::nullopt;
  RemoteSpec r;
  std::string host = arg.substr(0, colon);
  const size_t at = host.rfind('@');
  if (at != std::string::npos) {
    r.user = host.substr(0, at);
    host = host.substr(at + 1);
  }
  if (host.empty()) return std::nullopt;
  r.host = host;
  r.path = arg.substr(colon + 1);
  return r;
}

namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

struct Child {
  pid_t pid = -1;
  int in_fd = -1;   // what the remote writes
  int out_fd = -1;  // what the remote reads
};

Result<Child> Spawn(const std::vector<std::string>& argv) {
  int to[2], from[2];
  if (::pipe2(to, O_CLOEXEC) != 0) return PosixError("pipe", "remote shell", errno);
  if (::pipe2(from, O_CLOEXEC) != 0) {
    ::close(to[0]);
    ::close(to[1]);
    return PosixError("pipe", "remote shell", errno);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return PosixError("fork", "remote shell", errno);
  if (pid == 0) {
    ::dup2(to[0], 0);
    ::dup2(from[1], 1);
    ::signal(SIGPIPE, SIG_DFL);
    RestoreDescriptorLimitInChild();
    ::execvp(args[0], args.data());
    const std::string msg = "ferry: cannot run the remote shell '" + argv[0] + "': " +
                            std::strerror(errno) + "\n";
    ssize_t n = ::write(2, msg.data(), msg.size());
    (void)n;
    ::_exit(127);
  }
  ::close(to[0]);
  ::close(from[1]);
  return Child{pid, from[0], to[1]};
}

std::string ExitText(pid_t pid, bool wait_long) {
  int status = 0;
  pid_t r = 0;
  for (int i = 0; i < (wait_long ? 2000 : 1) && r == 0; ++i) {
    r = ::waitpid(pid, &status, WNOHANG);
    if (r == 0 && wait_long) ::usleep(1000);
  }
  if (r != pid) return "";
  if (WIFEXITED(status)) return "remote shell exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "remote shell killed by signal " + std::to_string(WTERMSIG(status));
  return "";
}

}  // namespace

std::vector<std::string> RemoteCommand(const RemoteOptions& ro, const RemoteSpec& spec,
                                       ServeRole remote_role) {
  std::vector<std::string> argv = Words(ro.rsh);
  if (argv.empty()) argv.push_back("ssh");
  if (!spec.user.empty()) {
    argv.push_back("-l");
    argv.push_back(spec.user);
  }
  argv.push_back(spec.host);
  for (const std::string& w : Words(ro.remote_ferry)) argv.push_back(w);
  argv.push_back("serve");
  argv.push_back("--stdio");
  if (!ro.remote_io.empty()) argv.push_back("--io=" + ro.remote_io);
  argv.push_back(remote_role == ServeRole::kSender       ? "--sender"
                 : remote_role == ServeRole::kReceiver   ? "--receiver"
                 : remote_role == ServeRole::kVerifySide ? "--verify-side"
                                                         : "--bench-sink");
  argv.push_back(ShellQuote(spec.path.empty() ? "." : spec.path));
  return argv;
}

SessionOptions ProposeOptions(const SyncOptions& opt, const RemoteOptions& ro) {
  SessionOptions o;
  if (opt.perms) o.preserve |= kPreservePerms;
  if (opt.times) o.preserve |= kPreserveTimes;
  if (opt.owner) o.preserve |= kPreserveOwner;
  if (opt.group) o.preserve |= kPreserveGroup;
  if (opt.links) o.preserve |= kPreserveLinks;
  if (opt.devices) o.preserve |= kPreserveDevices;
  if (opt.specials) o.preserve |= kPreserveSpecials;
  if (opt.atimes) o.preserve |= kPreserveAtimes;
  o.hard_links = opt.hard_links;
  o.xattrs = opt.xattrs;
  o.acls = opt.acls;
  o.numeric_ids = ro.numeric_ids;
  o.del = opt.del;
  o.safe_links = opt.safe_links;
  o.mail = MailSemanticsOf(opt.mail);
  o.checksum = opt.checksum ? ChecksumMode::kXxh3 : ChecksumMode::kSizeMtime;
  o.compression = ro.compress ? Compression::kZstd : Compression::kNone;
  o.compress_level = ro.compress ? ro.compress_level : 0;
  o.max_frame = ro.max_frame;
  o.window = ro.window;
  o.stream_index = ro.stream_index;
  o.stream_count = ro.stream_count;
  if (ro.stream_count != 0) {
    o.split_min = ro.split_min;
    o.run_id = ro.run_id;
  }
  PutSyncRules(opt, &o);
  return o;
}

Result<RemoteResult> RunClientSession(int in_fd, int out_fd, bool push,
                                      const std::string& local_path, const SyncOptions& opt,
                                      const RemoteOptions& ro, SyncStats& stats,
                                      SyncEvents& events) {
  ChannelConfig cc;
  cc.role = Role::kClient;
  SessionOptions proposal = ProposeOptions(opt, ro);
  // A push learns what the remote receiver changed (for -i, -v, --json and
  // the counts of a dry run) from its Itemized messages.
  proposal.report_changes = push;
  if (Status fit = CheckSyncRulesFit(proposal); !fit.ok()) {
    ::close(in_fd);
    if (out_fd != in_fd) ::close(out_fd);
    return fit;
  }
  auto ch = Channel::Connect(in_fd, out_fd, cc, proposal);
  if (!ch.ok()) return ch.status();
  Result<SyncOutcome> r = Status(ErrorCode::kInternal, "not run");
  if (push) {
    SenderConfig sc;
    sc.path = local_path;
    sc.io = opt.io;
    r = RunSender(**ch, sc, stats, events);
  } else {
    ReceiverConfig rc;
    rc.path = local_path;
    rc.io = opt.io;
    rc.whole_file = false;
    r = RunReceiver(**ch, rc, stats, events);
  }
  RemoteResult out;
  out.bytes_sent = (*ch)->bytes_sent();
  out.bytes_received = (*ch)->bytes_received();
  ch->reset();  // closes our ends: the remote sees the end of the stream
  if (!r.ok()) return r.status();
  out.outcome = *r;
  return out;
}

Result<RemoteSession> StartRemote(const RemoteOptions& ro, const RemoteSpec& spec,
                                  ServeRole remote_role, const SessionOptions& options) {
  ASSIGN_OR_RETURN(Child child, Spawn(RemoteCommand(ro, spec, remote_role)));
  ChannelConfig cc;
  cc.role = Role::kClient;
  auto ch = Channel::Connect(child.in_fd, child.out_fd, cc, options);
  if (!ch.ok()) {
    const std::string why = ExitText(child.pid, true);
    if (why.empty()) {
      ::kill(child.pid, SIGTERM);
      ::waitpid(child.pid, nullptr, 0);
    }
    Status s = ch.status();
    return Status(s.code(), s.message() + (why.empty() ? "" : " (" + why + ")"));
  }
  RemoteSession out;
  out.channel = std::move(ch).value();
  out.pid = child.pid;
  return out;
}

std::string FinishRemote(RemoteSession& session) {
  session.channel.reset();
  if (session.pid < 0) return "";
  std::string why = ExitText(session.pid, true);
  if (why.empty()) {
    ::kill(session.pid, SIGTERM);
    ::waitpid(session.pid, nullptr, 0);
  }
  session.pid = -1;
  return why.ends_with("status 0") ? "" : why;
}

Result<RemoteResult> RunRemoteSync(const std::string& src, const std::string& dst,
                                   const SyncOptions& opt, const RemoteOptions& ro,
                                   SyncStats& stats, SyncEvents& events) {
  if (ro.streams > 1 && ro.stream_count == 0) {
    const uint32_t run_id = std::random_device{}();
    auto one = [&](uint32_t k, uint32_t n, const SyncOptions& so, SyncStats& st,
                   SyncEvents& ev) {
      RemoteOptions r = ro;
      r.streams = 1;
      r.stream_index = k;
      r.stream_count = n;
      r.run_id = run_id;
      return RunRemoteSync(src, dst, so, r, st, ev);
    };
    return RunStreams(ro.streams, opt, one, stats, events);
  }
  auto rs = ParseRemote(src);
  auto rd = ParseRemote(dst);
  if (rs.has_value() == rd.has_value()) {
    return InvalidArgument("exactly one of SRC and DST must be remote (host:path)");
  }
  const auto start = std::chrono::steady_clock::now();
  const bool push = rd.has_value();
  const RemoteSpec& spec = push ? *rd : *rs;
  // Rules that cannot travel fail before the remote shell starts.
  RETURN_IF_ERROR(CheckSyncRulesFit(ProposeOptions(opt, ro)));
  ASSIGN_OR_RETURN(Child child,
                   Spawn(RemoteCommand(ro, spec, push ? ServeRole::kReceiver : ServeRole::kSender)));
  Result<RemoteResult> r = RunClientSession(child.in_fd, child.out_fd, push, push ? src : dst,
                                            opt, ro, stats, events);
  std::string why = ExitText(child.pid, true);
  if (why.empty()) {
    ::kill(child.pid, SIGTERM);
    ::waitpid(child.pid, nullptr, 0);
  }
  if (!r.ok()) {
    Status s = r.status();
    return Status(s.code(), s.message() + (why.empty() || why.ends_with("status 0") ? "" : " (" + why + ")"));
  }
  RemoteResult out = std::move(*r);
  out.outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace ferry::protocol
