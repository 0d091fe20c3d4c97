// The client side of the TCP daemon transport: naming a daemon module, and
// connecting to it with challenge-response authentication (daemon_wire.h,
// auth.h). The connected socket it returns is positioned where the session
// (PROTOCOL.md sections 2-3) begins.
//
// Two spellings name a module, as with rsync:
//   ferry://[user@]host[:port]/module[/path]
//   [user@]host::module[/path]          (rsync's daemon syntax; port 8730)
// An IPv6 host is written in brackets: ferry://[::1]:8730/www, [::1]::www.
//
// Thread safety: free functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "protocol/net_address.h"

namespace ferry::protocol {

struct DaemonTarget {
  std::string user;  // empty: not given (the caller picks, e.g. $USER)
  std::string host;  // without brackets
  uint16_t port = kDefaultDaemonPort;
  std::string module;
  std::string path;  // inside the module, without a leading '/'; may be empty
  bool operator==(const DaemonTarget&) const = default;
};

// Whether `spec` is written as a daemon target (ferry:// or host::module),
// as opposed to a local path or an ssh "host:path".
bool IsDaemonTarget(std::string_view spec);

// Errors (kInvalidArgument) quote the spec and say what is wrong: no host,
// no module ("'host::' would list modules in rsync; name one: host::MODULE"),
// a bad module name, a bad port, an unclosed '['.
Result<DaemonTarget> ParseDaemonTarget(std::string_view spec);

struct DaemonConnection {
  io::UniqueFd fd;  // connected; the session starts here
  bool read_only = false;  // the module's mode, as the server said
};

// Connects to target.host:target.port (every address it resolves to, in
// order), then authenticates as `user` for target.module with `secret`.
// `timeout` bounds connecting and the whole authentication exchange.
// Errors: kIo (cannot connect, timed out, closed), kCorrupt (not a ferry
// daemon: shows the first bytes), kPermission ("ferry daemon host:port:
// authentication failed" - the server's message, verbatim but escaped).
Result<DaemonConnection> ConnectDaemon(const DaemonTarget& target, std::string_view user,
                                       std::string_view secret,
                                       std::chrono::milliseconds timeout);

// The authentication exchange on an already connected socket `fd` (which
// the caller keeps owning). `server` names the daemon in messages.
Result<bool> AuthenticateToDaemon(int fd, std::string_view module, std::string_view user,
                                  std::string_view secret, std::chrono::milliseconds timeout,
                                  std::string_view server);

// The secret of a --password-file: its first line (without the newline),
// like rsync's. Refuses a file accessible by others or owned by another
// user (ReadSecretFile), and an empty secret.
Result<std::string> ReadPasswordFile(const std::string& path, io::IoBackend& io);

}  // namespace ferry::protocol
