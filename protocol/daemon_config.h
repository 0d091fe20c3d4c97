// The TCP daemon's configuration (`ferry serve --listen ... --config FILE`):
// a TOML file naming the listen address, timeouts, the connection limit and
// the modules - named roots a client may ask for, each confined to its
// directory, read-only or read-write, with the users allowed in and their
// shared secrets.
//
//   [daemon]
//   listen = "0.0.0.0:8730"     # or "[::]:8730", "*:8730"; --listen overrides
//   max_connections = 32        # connections served at once (1..4096)
//   auth_timeout = 10           # seconds for the whole pre-auth phase (1..3600)
//   io_timeout = 0              # seconds a session may sit idle; 0 = no limit
//   shutdown_grace = 30         # seconds running sessions get after SIGTERM
//
//   [modules.www]
//   path = "/srv/www"           # absolute; must be a directory
//   read_only = true            # the default, as in rsyncd
//   comment = "web roots"
//   secrets_file = "/etc/ferry/www.secrets"  # lines USER:SECRET, mode 0600
//   secrets = ["deploy:s3cret"] # inline alternative (or both)
//   hosts_allow = ["10.0.0.0/8", "::1"]      # empty or absent: any host
//
// Secrets are refused, as rsyncd's "strict modes" do, when the file holding
// them (the secrets file, or this config file for inline secrets) is
// accessible by others (any of mode 0007), or is not owned by the daemon's
// user or root. Every module needs at least one user: there are no anonymous
// modules.
//
// Errors name the place: "ferryd.toml:7:10: 'read_only' in [modules.www]
// must be true or false, got a string"; secrets files "www.secrets:3: ...".
// All errors found are reported together, one per line.
//
// Thread safety: DaemonConfig is an immutable value once loaded.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "protocol/net_address.h"

namespace ferry::protocol {

inline constexpr size_t kModuleNameMax = 255;
inline constexpr size_t kUserNameMax = 255;
inline constexpr size_t kSecretMax = 1024;

struct ModuleUser {
  std::string name;
  std::string secret;  // never logged, never sent
};

struct DaemonModule {
  std::string name;  // [A-Za-z0-9._-], 1..255 bytes, not starting with '.'
  std::string path;  // absolute directory: the confined root
  bool read_only = true;
  std::string comment;
  std::vector<ModuleUser> users;          // at least one
  std::vector<HostPattern> hosts_allow;   // empty: every host

  // The user's entry, or nullptr.
  const ModuleUser* FindUser(std::string_view user) const;
  // True when hosts_allow is empty or one pattern matches.
  bool HostAllowed(const sockaddr_storage& peer) const;
};

struct DaemonConfig {
  std::string file;  // where it was loaded from, for messages
  HostPort listen{"", kDefaultDaemonPort};
  int max_connections = 32;
  // Hard deadline for everything before authentication succeeds, counted
  // from accept(): a slow or silent client is cut off when it passes.
  std::chrono::milliseconds auth_timeout{std::chrono::seconds(10)};
  // Every failed authentication is answered this long after the response
  // arrived, whatever failed (unknown module, unknown user, wrong secret,
  // host not allowed), so timing tells nothing and guessing is slow.
  std::chrono::milliseconds auth_failure_delay{std::chrono::seconds(1)};
  // SO_RCVTIMEO/SO_SNDTIMEO of an authenticated session; 0 = none.
  std::chrono::milliseconds io_timeout{0};
  // On shutdown (SIGTERM) running sessions get this long to finish; then
  // their sockets are shut down, which makes them fail and return.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
  std::vector<DaemonModule> modules;

  const DaemonModule* FindModule(std::string_view name) const;
};

// Whether `name` is a valid module name (see DaemonModule::name).
bool ValidModuleName(std::string_view name);

// Parses the TOML text of a config file; secrets files it names are read
// (and their modes checked) through `io`. `file_mode_ok` says whether the
// config file itself may hold inline secrets (not accessible by others, owned
// by us or root): LoadDaemonConfig computes it. Module paths are checked to
// be existing directories.
Result<DaemonConfig> ParseDaemonConfig(std::string_view text, const std::string& file,
                                       bool file_mode_ok, io::IoBackend& io);

// Reads and parses `path`. Errors: the file cannot be read (PosixError
// naming it), or everything ParseDaemonConfig reports.
Result<DaemonConfig> LoadDaemonConfig(const std::string& path, io::IoBackend& io);

// Reads a file that holds secrets (a secrets file, a client's
// --password-file). Errors: unreadable, not a regular file, larger than 1
// MiB, accessible by others or owned by another user (kPermission: "secrets
// file F is accessible by others (mode 0644): chmod 600 F").
Result<std::string> ReadSecretFile(const std::string& path, std::string_view what,
                                   io::IoBackend& io);

}  // namespace ferry::protocol
