// The TCP daemon's command-line side of `ferry serve`:
//
//   ferry serve --listen ADDR:PORT --config FILE [--check-config] [--port-file FILE]
//
// AddDaemonFlags registers the flags on a subcommand; RunDaemon loads the
// config, listens, logs one line per event to stderr, serves until SIGTERM
// or SIGINT, and returns the exit code. The file-transfer session is passed
// in (SessionFn), so this file does not depend on it.
//
// Client side (`ferry sync ... host::module/path`): DaemonSecret and
// DaemonUser pick the secret and user name the way rsync does.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "engine/base/status.h"
#include "protocol/daemon.h"

namespace ferry::cli {

struct DaemonFlags {
  std::string listen;  // overrides [daemon] listen; "" = the config's
  std::string config = "/etc/ferry/ferryd.toml";
  bool check_config = false;
  // Non-empty: once listening, the bound port (decimal, one line) is written
  // here, for scripts and tests that listen on port 0.
  std::string port_file;
};

void AddDaemonFlags(CLI::App* cmd, DaemonFlags* flags);

// Exit codes as rsync's: 0 after a clean shutdown, 1 for a bad config or
// flag, 10 when the socket cannot be set up.
int RunDaemon(const DaemonFlags& flags, const protocol::SessionFn& session);

// The secret for a daemon module: the first line of `password_file` when
// given (refused if others can read it), else $FERRY_PASSWORD. Errors name
// both ways when neither is set.
Result<std::string> DaemonSecret(const std::string& password_file);

// The user name to authenticate as: the target's user@, else $USER, else
// $LOGNAME, else the name of the effective uid.
std::string DaemonUser(const std::string& from_target);

}  // namespace ferry::cli
