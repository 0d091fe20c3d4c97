// `ferry serve --stdio --sender|--receiver PATH`: the remote end of a sync
// over a remote shell (what `ferry sync` starts through ssh, like rsync's
// `rsync --server`). Speaks the protocol on stdin/stdout; never prints to
// stdout. Session failures go to stderr, which ssh passes to the user.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "protocol/session/serve.h"

namespace ferry::cli {

namespace {

struct ServeFlags {
  bool stdio = false;
  std::string sender, receiver, verify_side, bench_sink;
  std::string io = "auto";
};

int RunServe(const ServeFlags& f) {
  ::signal(SIGPIPE, SIG_IGN);
  if (!f.stdio) {
    std::fprintf(stderr, "ferry serve: --stdio is required (the TCP daemon is separate)\n");
    return 1;
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
      "serve", "The remote end of `ferry sync` over a remote shell (started by ferry)");
  cmd->footer(
      "Example (what `ferry sync /srv/www/ new:/srv/www/` runs on host new):\n"
      "  ferry serve --stdio --receiver '/srv/www/'\n"
      "and with --sender SRC for a pull, --verify-side PATH for `ferry verify`,\n"
      "--bench-sink PATH for `ferry bench --remote`;\n"
      "not meant to be run by hand.\n"
      "Exit codes: 0 ok, 1 usage, 12 protocol or connection error, 23 partial, 24 vanished.");
  cmd->add_flag("--stdio", f->stdio, "speak the protocol on stdin/stdout");
  cmd->add_option("--sender", f->sender, "send PATH (rsync's trailing-slash rule)");
  cmd->add_option("--receiver", f->receiver, "receive into PATH (created if missing)");
  cmd->add_option("--verify-side", f->verify_side,
                  "describe and hash PATH for `ferry verify` (read only)");
  cmd->add_option("--bench-sink", f->bench_sink,
                  "count and discard data for `ferry bench --remote` (PATH is not written)");
  cmd->add_option("--io", f->io, "I/O backend: auto, io_uring, posix")->default_str("auto");
  cmd->callback([f, exit_code] { *exit_code = RunServe(*f); });
}

}  // namespace ferry::cli
