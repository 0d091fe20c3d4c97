#include "protocol/session/serve.h"

#include <unistd.h>

#include "protocol/path_check.h"
#include "protocol/session/receiver.h"
#include "protocol/session/sender.h"
#include "protocol/session/sync_rules.h"

namespace ferry::protocol {

namespace {

// The server's own events: per-path errors already went to the client.
class QuietEvents : public SyncEvents {};

Result<std::string> ResolvePath(const ServeRequest& req, const ServeOptions& opt) {
  if (opt.root.empty()) return req.path;
  std::string rel = req.path;
  const bool slash = !rel.empty() && rel.back() == '/';
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  if (rel.empty() || rel == ".") return opt.root + "/";
  RETURN_IF_ERROR(CheckWirePath(rel, "requested path"));
  return opt.root + "/" + rel + (slash ? "/" : "");
}

}  // namespace

Result<SyncOutcome> ServeSession(int in_fd, int out_fd, const ServeRequest& request,
                                 const ServeOptions& options) {
  ChannelConfig cc = options.channel;
  cc.role = Role::kServer;
  auto resolved = ResolvePath(request, options);
  const bool receiving = request.role == ServeRole::kReceiver;
  auto policy = [&](const SessionOptions& o) -> Status {
    if (!resolved.ok()) return resolved.status();
    if (receiving && options.read_only) {
      return Status(ErrorCode::kPermission, "this module is read-only");
    }
    // Bad filter rules, or an owner map naming a user this host lacks, are
    // refused before anything is listed.
    return SyncRulesFrom(o, receiving).status();
  };
  ASSIGN_OR_RETURN(std::unique_ptr<Channel> ch, Channel::Accept(in_fd, out_fd, cc, policy));
  SyncStats stats;
  QuietEvents events;
  if (receiving) {
    ReceiverConfig rc;
    rc.path = *resolved;
    rc.io = options.io;
    rc.show_peer_errors = false;
    return RunReceiver(*ch, rc, stats, events);
  }
  SenderConfig sc;
  sc.path = *resolved;
  sc.io = options.io;
  sc.show_peer_errors = false;
  return RunSender(*ch, sc, stats, events);
}

}  // namespace ferry::protocol
