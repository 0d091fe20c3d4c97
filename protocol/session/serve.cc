#include "protocol/session/serve.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "protocol/path_check.h"
#include "protocol/session/common.h"
#include "protocol/session/dst_ops.h"
#include "protocol/session/bench_transport.h"
#include "protocol/session/receiver.h"
#include "protocol/session/sender.h"
#include "protocol/session/verify_side.h"
#include "protocol/session/sync_rules.h"

namespace ferry::protocol {

namespace {

// The server's own events: per-path errors already went to the client.
class QuietEvents : public SyncEvents {};

// In a module, the path relative to its root (opened by the caller), which
// the roles then open beneath the root's fd.
Result<std::string> ResolvePath(const ServeRequest& req, const ServeOptions& opt) {
  if (opt.root.empty()) return req.path;
  std::string rel = req.path;
  const bool slash = !rel.empty() && rel.back() == '/';
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  if (rel.empty() || rel == ".") return std::string(".");
  if (rel.starts_with('/')) {
    return Status(ErrorCode::kPermission, "requested path " + QuotePath(req.path) +
                                              " is absolute; give a path inside the module");
  }
  RETURN_IF_ERROR(CheckWirePath(rel, "requested path"));
  return rel + (slash ? "/" : "");
}

// Opens what the role will open beneath the module root, so that a path
// that leaves the module (through a symlink) or is missing is refused in the
// handshake, with a message the client shows, rather than by a session that
// ends. The receiver's missing directories are created here.
Status CheckInModule(io::IoBackend* io, int root, const std::string& rel, bool receiving) {
  Status s = [&]() -> Status {
    if (receiving) return MakeDirsBeneath(*io, root, rel).status();
    std::string p = rel;
    const bool contents = p.back() == '/' || p == ".";
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    const size_t slash = p.rfind('/');
    const std::string dir = contents ? p : (slash == std::string::npos ? "" : p.substr(0, slash));
    ASSIGN_OR_RETURN(io::UniqueFd d, io->OpenBeneath(root, dir == "." ? "" : dir,
                                                     O_RDONLY | O_DIRECTORY, 0));
    if (contents) return Status::Ok();
    const std::string top = slash == std::string::npos ? p : p.substr(slash + 1);
    return io->StatAt(d.get(), top.c_str(), AT_SYMLINK_NOFOLLOW).status();
  }();
  if (s.ok()) return s;
  std::string why = "requested path " + QuotePath(rel) + ": " + s.message();
  if (s.sys_errno() == ELOOP || s.sys_errno() == EXDEV || s.sys_errno() == ENOTDIR) {
    why += " (a module path may not go through a symlink or leave the module)";
  }
  return Status(s.code() == ErrorCode::kNotFound ? s.code() : ErrorCode::kPermission, why,
                s.sys_errno());
}

}  // namespace

Result<SyncOutcome> ServeSession(int in_fd, int out_fd, const ServeRequest& request,
                                 const ServeOptions& options) {
  ChannelConfig cc = options.channel;
  cc.role = Role::kServer;
  auto resolved = ResolvePath(request, options);
  io::UniqueFd root;
  std::unique_ptr<io::IoBackend> root_io;
  if (!options.root.empty() && resolved.ok()) {
    // The module root is opened once; everything else is resolved beneath it.
    root_io = SessionBackend(options.io);
    auto fd = root_io->OpenAt(AT_FDCWD, options.root.c_str(), O_RDONLY | O_DIRECTORY, 0);
    if (fd.ok()) root = std::move(*fd);
    else resolved = fd.status().WithContext("module root");
  }
  const bool receiving = request.role == ServeRole::kReceiver;
  auto policy = [&](const SessionOptions& o) -> Status {
    if (!resolved.ok()) return resolved.status();
    if (receiving && options.read_only) {
      return Status(ErrorCode::kPermission, "this module is read-only");
    }
    // (A dry run creates nothing: its receiver resolves beneath the root too.)
    if (root.valid() && !(receiving && o.dry_run)) {
      Status in = CheckInModule(root_io.get(), root.get(), *resolved, receiving);
      // A verify side's missing root is a verification result (everything
      // missing), which its walk reports; leaving the module is refused.
      if (!in.ok() && !(request.role == ServeRole::kVerifySide &&
                        in.code() == ErrorCode::kNotFound)) {
        return in;
      }
    }
    // Bad filter rules, or an owner map naming a user this host lacks, are
    // refused before anything is listed.
    return SyncRulesFrom(o, receiving).status();
  };
  ASSIGN_OR_RETURN(std::unique_ptr<Channel> ch, Channel::Accept(in_fd, out_fd, cc, policy));
  SyncStats stats;
  QuietEvents events;
  if (request.role == ServeRole::kVerifySide) {
    RETURN_IF_ERROR(ServeVerify(*ch, *resolved, options.io, root.valid() ? root.get() : -1));
    return SyncOutcome{};
  }
  if (request.role == ServeRole::kBenchSink) {
    RETURN_IF_ERROR(ServeBenchSink(*ch));
    return SyncOutcome{};
  }
  if (receiving) {
    ReceiverConfig rc;
    rc.path = *resolved;
    rc.base_fd = root.valid() ? root.get() : -1;
    rc.io = options.io;
    rc.show_peer_errors = false;
    rc.leave_state_to_exit = options.one_session;
    // A daemon's session ends with its messages, not with the process:
    // the releasers' closes after them delay no client, and a long-lived
    // daemon starts no helper processes.
    rc.defer_close = options.one_session;
    return RunReceiver(*ch, rc, stats, events);
  }
  SenderConfig sc;
  sc.path = *resolved;
  sc.base_fd = root.valid() ? root.get() : -1;
  sc.io = options.io;
  sc.show_peer_errors = false;
  sc.report_unsafe_links = false;
  return RunSender(*ch, sc, stats, events);
}

}  // namespace ferry::protocol
