// `ferry serve --stdio --sender|--receiver PATH`: the remote end of a sync
// over a remote shell (what `ferry sync` starts through ssh, like rsync's
// `rsync --server`). Speaks the protocol on stdin/stdout; never prints to
// stdout. Session failures go to stderr, which ssh passes to the user.
//
// `ferry serve --listen ADDR:PORT --config FILE`: the TCP daemon
// (cli/daemon_command.h), each authenticated connection served by
// ServeDaemonSession confined to its module.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/daemon_command.h"
#include "cli/exit_codes.h"
#include "protocol/session/daemon_session.h"
#include "protocol/session/serve.h"

namespace ferry::cli {

namespace {

struct ServeFlags {
  bool stdio = false;
  std::string sender, receiver, verify_side, bench_sink;
  std::string io = "auto";
  DaemonFlags daemon;
  bool daemon_given = false;  // --listen, --config or --check-config
};

// How long a client has, after authenticating, to send its SessionRequest.
constexpr std::chrono::milliseconds kRequestTimeout{10000};

int RunServe(const ServeFlags& f) {
  ::signal(SIGPIPE, SIG_IGN);
  if (f.stdio == f.daemon_given) {
    std::fprintf(stderr,
                 "ferry serve: give --stdio (started by ferry sync over a remote shell) or "
                 "--listen ADDR:PORT --config FILE (the TCP daemon), not %s\n",
                 f.stdio ? "both" : "neither");
    return kExitSyntax;
  }
  if (f.daemon_given) {
    if (!f.sender.empty() || !f.receiver.empty() || !f.verify_side.empty() ||
        !f.bench_sink.empty()) {
      std::fprintf(stderr,
                   "ferry serve: --sender/--receiver/--verify-side/--bench-sink go with --stdio; "
                   "a daemon's clients name the module and path\n");
      return kExitSyntax;
    }
    auto kind = io::ParseBackendKind(f.io);
    if (!kind.ok()) {
      std::fprintf(stderr, "ferry serve: %s\n", kind.status().message().c_str());
      return kExitSyntax;
    }
    const io::BackendKind backend = *kind;
    return RunDaemon(f.daemon, [backend](const protocol::SessionContext& ctx) {
      return protocol::ServeDaemonSession(ctx, backend, kRequestTimeout);
    });
  }
  if (!f.sender.empty() + !f.receiver.empty() + !f.verify_side.empty() +
          !f.bench_sink.empty() !=
      1) {
    std::fprintf(stderr,
                 "ferry serve: give exactly one of --sender PATH, --receiver PATH, "
                 "--verify-side PATH and --bench-sink PATH\n");
    return 1;
  }
  auto kind = io::ParseBackendKind(f.io);
  if (!kind.ok()) {
    std::fprintf(stderr, "ferry serve: %s\n", kind.status().message().c_str());
    return 1;
  }
  protocol::ServeRequest req;
  req.role = !f.sender.empty()   ? protocol::ServeRole::kSender
             : !f.receiver.empty() ? protocol::ServeRole::kReceiver
             : !f.verify_side.empty() ? protocol::ServeRole::kVerifySide
                                      : protocol::ServeRole::kBenchSink;
  req.path = !f.sender.empty()        ? f.sender
             : !f.receiver.empty()    ? f.receiver
             : !f.verify_side.empty() ? f.verify_side
                                      : f.bench_sink;
  protocol::ServeOptions opt;
  opt.io = *kind;
  opt.one_session = true;  // this process exits when the session ends
  auto r = protocol::ServeSession(0, 1, req, opt);
  if (!r.ok()) {
    std::fprintf(stderr, "ferry (remote): %s\n", r.status().message().c_str());
    return 12;  // rsync: error in the protocol data stream
  }
  if (r->partial) return 23;
  if (r->vanished) return 24;
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "The remote end of `ferry sync`: over a remote shell (--stdio) or a TCP daemon");
  cmd->footer(
      "Examples:\n"
      "  ferry serve --listen 0.0.0.0:8730 --config /etc/ferry/ferryd.toml\n"
      "  ferry serve --config /etc/ferry/ferryd.toml --check-config\n"
      "  ferry serve --stdio --receiver '/srv/www/'   (what `ferry sync /srv/www/ new:/srv/www/`\n"
      "      runs on host new through ssh; not meant to be run by hand; likewise --sender\n"
      "      SRC for a pull, --verify-side PATH for `ferry verify`, --bench-sink PATH for\n"
      "      `ferry bench --remote`)\n"
      "Clients: ferry sync SRC/ ferry://[user@]host[:port]/module/path/ or host::module/path/\n"
      "Exit codes: 0 ok, 1 usage or config, 10 socket, 12 protocol or connection error,\n"
      "23 partial, 24 vanished.");
  cmd->add_flag("--stdio", f->stdio, "speak the protocol on stdin/stdout");
  cmd->add_option("--sender", f->sender, "send PATH (rsync's trailing-slash rule)");
  cmd->add_option("--receiver", f->receiver, "receive into PATH (created if missing)");
  cmd->add_option("--verify-side", f->verify_side,
                  "describe and hash PATH for `ferry verify` (read only)");
  cmd->add_option("--bench-sink", f->bench_sink,
                  "count and discard data for `ferry bench --remote` (PATH is not written)");
  cmd->add_option("--io", f->io, "I/O backend: auto, io_uring, posix")->default_str("auto");
  AddDaemonFlags(cmd, &f->daemon);
  cmd->callback([cmd, f, exit_code] {
    f->daemon_given = cmd->count("--listen") + cmd->count("--config") +
                          cmd->count("--check-config") + cmd->count("--port-file") > 0;
    *exit_code = RunServe(*f);
  });
}

}  // namespace ferry::cli
