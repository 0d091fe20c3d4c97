// The TCP daemon (`ferry serve --listen ADDR:PORT --config FILE`): listens
// on one address (IPv4, IPv6, or both through a dual-stack socket for "*"),
// serves each connection on its own thread up to max_connections, runs the
// pre-session exchange of daemon_wire.h under a hard deadline for the whole
// phase (auth_timeout), and hands each authenticated connection to a
// SessionFn together with its module's root and read-only flag.
//
// What an unauthenticated client can learn: that authentication failed. An
// unknown module, an unknown user, a wrong secret and a host not in the
// module's hosts_allow all get the same AuthResult message after the same
// delay (auth_failure_delay, measured from the response's arrival). Protocol
// errors and timeouts before authentication close the connection; the
// SessionFn never runs for such a client.
//
// Shutdown: RequestShutdown() (async-signal-safe; InstallShutdownSignals
// wires SIGTERM and SIGINT to it) stops accepting, cancels connections still
// before authentication, and gives running sessions shutdown_grace to finish
// before shutting their sockets down. Serve() returns once every connection
// thread has ended.
//
// Threads: the SessionFn runs on the connection's thread, so it must be safe
// to run concurrently with itself (no chdir, no process-wide state).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "protocol/daemon_config.h"

namespace ferry::protocol {

// What a session is given. The socket is owned by the daemon: the session
// must not close it (the daemon does, when the SessionFn returns).
struct SessionContext {
  int in_fd = -1;   // the connected socket
  int out_fd = -1;  // the same socket
  std::string module;
  std::string root;  // the module's path: the session is confined to it
  bool read_only = true;
  std::string user;
  std::string peer;  // numeric address of the client, for logs
};

// Runs one authenticated session; its Status is logged.
using SessionFn = std::function<Status(const SessionContext&)>;
// One line per event (listening, connection, authentication result, session
// end, errors). Called from connection threads, so it must be thread-safe.
// Never receives a secret.
using DaemonLogFn = std::function<void(const std::string&)>;

class Daemon {
 public:
  // Binds config.listen (SO_REUSEADDR; port 0 = an ephemeral port, for
  // tests) and listens. Errors: the address does not resolve, bind/listen
  // fail (PosixError naming the address).
  static Result<std::unique_ptr<Daemon>> Listen(DaemonConfig config, SessionFn session,
                                                DaemonLogFn log);

  // Requests shutdown and waits for the connections. Serve, if it ran on
  // another thread, must have returned.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // The bound address (the real port when config.listen.port was 0).
  const HostPort& address() const { return address_; }

  // Accepts and serves connections until RequestShutdown. Call once.
  Status Serve();

  // Async-signal-safe; may be called from any thread, any number of times.
  void RequestShutdown() noexcept;

  // Connections currently open (pre-auth and in session).
  int active_connections() const;

 private:
  struct Conn {
    std::thread thread;
    int fd = -1;  // closed and set to -1 under mu_ when the thread ends
    sockaddr_storage peer{};
    std::chrono::steady_clock::time_point accepted;
    bool in_session = false;
    bool done = false;
  };

  Daemon(DaemonConfig config, SessionFn session, DaemonLogFn log);
  void Log(const std::string& line) const;
  void HandleConnection(Conn* c);
  // The pre-session exchange; returns the module on success.
  Result<const DaemonModule*> Handshake(Conn* c, std::string* user);
  void RefuseBusy(int fd) const;
  void ReapFinished();  // mu_ held
  void DrainConnections();

  const DaemonConfig config_;
  const SessionFn session_;
  const DaemonLogFn log_;
  io::UniqueFd listen_fd_;
  io::UniqueFd shutdown_fd_;  // eventfd: readable once shutdown is requested
  HostPort address_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::list<Conn> conns_;
  std::atomic<bool> served_{false};
};

// Routes SIGTERM and SIGINT to daemon->RequestShutdown() (process-wide; one
// daemon per process), and ignores SIGPIPE: a client that vanishes mid-session
// must fail that session's write with EPIPE, not kill the daemon. Pass
// nullptr to restore the default dispositions of all three.
Status InstallShutdownSignals(Daemon* daemon);

}  // namespace ferry::protocol
