// Flags and the serve loop of the TCP daemon (see daemon_command.h).
#include "cli/daemon_command.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "cli/exit_codes.h"
#include "engine/io/io_backend.h"
#include "protocol/daemon_client.h"
#include "protocol/daemon_config.h"

namespace ferry::cli {

namespace {

constexpr int kExitOk = 0;

void LogLine(const std::string& line) {
  static std::mutex mu;
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard lock(mu);
  std::fprintf(stderr, "%s ferry[%d]: %s\n", stamp, static_cast<int>(getpid()), line.c_str());
}

}  // namespace

void AddDaemonFlags(CLI::App* cmd, DaemonFlags* flags) {
  cmd->add_option("--listen", flags->listen,
                  "Address to listen on, ADDR:PORT ([::]:8730, 0.0.0.0:8730, *:8730); "
                  "overrides [daemon] listen");
  cmd->add_option("--config", flags->config, "Daemon config file (TOML: [daemon], [modules.NAME])")
      ->capture_default_str();
  cmd->add_flag("--check-config", flags->check_config,
                "Load and check the config, print the modules, and exit");
  cmd->add_option("--port-file", flags->port_file,
                  "Once listening, write the bound port to FILE (for --listen ADDR:0)");
}

int RunDaemon(const DaemonFlags& flags, const protocol::SessionFn& session) {
  Result<std::unique_ptr<io::IoBackend>> io = io::MakeBackend(io::BackendKind::kPosix);
  if (!io.ok()) {
    std::fprintf(stderr, "ferry: %s\n", io.status().message().c_str());
    return kExitSocket;
  }
  Result<protocol::DaemonConfig> config = protocol::LoadDaemonConfig(flags.config, **io);
  if (!config.ok()) {
    std::fprintf(stderr, "ferry: %s\n", config.status().message().c_str());
    return kExitSyntax;
  }
  if (!flags.listen.empty()) {
    Result<protocol::HostPort> hp = protocol::ParseHostPort(flags.listen, true);
    if (!hp.ok()) {
      std::fprintf(stderr, "ferry: --listen: %s\n", hp.status().message().c_str());
      return kExitSyntax;
    }
    config->listen = *hp;
  }
  if (flags.check_config) {
    std::printf("%s: OK, listen %s\n", config->file.c_str(),
                protocol::FormatHostPort(config->listen).c_str());
    for (const protocol::DaemonModule& m : config->modules)
      std::printf("  %-16s %s %s, %zu user%s%s%s\n", m.name.c_str(), m.path.c_str(),
                  m.read_only ? "read-only" : "read-write", m.users.size(),
                  m.users.size() == 1 ? "" : "s", m.hosts_allow.empty() ? "" : ", hosts limited",
                  m.comment.empty() ? "" : ("  # " + m.comment).c_str());
    return kExitOk;
  }
  Result<std::unique_ptr<protocol::Daemon>> daemon =
      protocol::Daemon::Listen(std::move(*config), session, LogLine);
  if (!daemon.ok()) {
    std::fprintf(stderr, "ferry: %s\n", daemon.status().message().c_str());
    return kExitSocket;
  }
  if (!flags.port_file.empty()) {
    // Written whole under a temporary name, so a reader never sees half.
    const std::string tmp = flags.port_file + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    const bool ok = f && std::fprintf(f, "%u\n", (*daemon)->address().port) > 0;
    if ((f && std::fclose(f) != 0) || !ok || std::rename(tmp.c_str(), flags.port_file.c_str()) != 0) {
      std::fprintf(stderr, "ferry: --port-file %s: cannot write it\n", flags.port_file.c_str());
      return kExitFileIo;
    }
  }
  if (Status s = protocol::InstallShutdownSignals(daemon->get()); !s.ok()) {
    std::fprintf(stderr, "ferry: %s\n", s.message().c_str());
    return kExitSocket;
  }
  Status served = (*daemon)->Serve();
  Status restored = protocol::InstallShutdownSignals(nullptr);
  (void)restored;
  if (!served.ok()) {
    std::fprintf(stderr, "ferry: %s\n", served.message().c_str());
    return kExitSocket;
  }
  return kExitOk;
}

Result<std::string> DaemonSecret(const std::string& password_file) {
  if (!password_file.empty()) {
    ASSIGN_OR_RETURN(std::unique_ptr<io::IoBackend> backend,
                     io::MakeBackend(io::BackendKind::kPosix));
    return protocol::ReadPasswordFile(password_file, *backend);
  }
  if (const char* env = std::getenv("FERRY_PASSWORD"); env && *env) return std::string(env);
  return InvalidArgument(
      "the daemon module needs a secret: pass --password-file FILE (mode 0600) or set "
      "FERRY_PASSWORD");
}

std::string DaemonUser(const std::string& from_target) {
  if (!from_target.empty()) return from_target;
  for (const char* var : {"USER", "LOGNAME"})
    if (const char* v = std::getenv(var); v && *v) return v;
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) return pw->pw_name;
  return std::to_string(geteuid());
}

}  // namespace ferry::cli
