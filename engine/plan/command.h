// RunCommand: runs one hook command through `/bin/sh -c` with a time limit,
// locally or on a remote host through the plan's remote shell.
//
// The command runs in its own process group; when the timeout expires the
// whole group gets SIGTERM, then SIGKILL two seconds later, so a hook that
// started children cannot outlive its limit. stdin is /dev/null; stdout and
// stderr are captured together (the last 8 KiB are kept).
//
// Remote: `<rsh> [user@]host '<command>'`, itself run by /bin/sh -c, so rsh
// may carry options ("ssh -p 2222 -o BatchMode=yes"). The remote side runs
// the command with its login shell, as ssh does.
//
// Thread safety: may run concurrently from several threads (one child each).
// Errors: a Status only when the process cannot be started; a command that
// fails or times out is a CommandResult with ok() false.
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/status.h"

namespace ferry::plan {

struct CommandResult {
  int exit_code = -1;     // -1 when killed by a signal
  int signal = 0;         // the signal that ended it, if any
  bool timed_out = false;
  double seconds = 0;
  std::string output;     // last 8 KiB of stdout+stderr
  bool ok() const { return exit_code == 0 && !timed_out; }
  // "exit 3", "killed by signal 9", "timed out after 10s"
  std::string Describe() const;
};

struct CommandSpec {
  std::string command;   // shell text
  int64_t timeout_ms = 600'000;
  // Remote execution: empty host = local.
  std::string rsh = "ssh";
  std::string user;
  std::string host;
};

// Quotes s for a POSIX shell ('...' with embedded quotes escaped).
std::string ShellQuote(const std::string& s);

Result<CommandResult> RunCommand(const CommandSpec& spec);

}  // namespace ferry::plan
