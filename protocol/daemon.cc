#include "protocol/daemon.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "engine/base/thread_name.h"
#include "protocol/auth.h"
#include "protocol/daemon_wire.h"
#include "protocol/handshake.h"
#include "protocol/path_check.h"

namespace ferry::protocol {

namespace {

constexpr std::string_view kAuthFailed = "authentication failed";

std::vector<std::byte> Greeting(const AuthChallenge& challenge) {
  std::vector<std::byte> out(kStreamMagic.begin(), kStreamMagic.end());
  AppendAuthChallenge(challenge, &out);
  return out;
}

// Best effort: a short message to a client that is being turned away.
void SendResult(int fd, const AuthResult& result, bool with_magic, int cancel_fd) {
  std::vector<std::byte> out;
  if (with_magic) out.assign(kStreamMagic.begin(), kStreamMagic.end());
  AppendAuthResult(result, &out);
  Status s = WriteAll(fd, out, std::chrono::steady_clock::now() + std::chrono::milliseconds(200),
                      cancel_fd);
  (void)s;  // the client may be gone; it learns nothing more either way
}

void SetTimeouts(int fd, std::chrono::milliseconds t) {
  if (t.count() <= 0) return;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Result<io::UniqueFd> BindOne(const addrinfo* ai, bool dual_stack, std::string* err) {
  io::UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
  if (!fd.valid()) {
    *err = std::strerror(errno);
    return PosixError("socket", "", errno);
  }
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ai->ai_family == AF_INET6) {
    int v6only = dual_stack ? 0 : 1;
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd.get(), 128) != 0) {
    *err = std::strerror(errno);
    return PosixError("bind", "", errno);
  }
  return fd;
}

std::atomic<Daemon*> g_signal_daemon{nullptr};

void OnShutdownSignal(int) {
  if (Daemon* d = g_signal_daemon.load()) d->RequestShutdown();
}

}  // namespace

Daemon::Daemon(DaemonConfig config, SessionFn session, DaemonLogFn log)
    : config_(std::move(config)), session_(std::move(session)), log_(std::move(log)) {}

Daemon::~Daemon() {
  RequestShutdown();
  DrainConnections();
}

Result<std::unique_ptr<Daemon>> Daemon::Listen(DaemonConfig config, SessionFn session,
                                               DaemonLogFn log) {
  std::unique_ptr<Daemon> d(new Daemon(std::move(config), std::move(session), std::move(log)));
  d->shutdown_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!d->shutdown_fd_.valid()) return PosixError("eventfd", "", errno);

  const HostPort& want = d->config_.listen;
  const std::string where = FormatHostPort(want);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_family = want.host.empty() ? AF_INET6 : AF_UNSPEC;
  const std::string port = std::to_string(want.port);
  addrinfo* res = nullptr;
  int rc = getaddrinfo(want.host.empty() ? nullptr : want.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 && want.host.empty()) {  // no IPv6 here: every IPv4 address
    hints.ai_family = AF_INET;
    rc = getaddrinfo(nullptr, port.c_str(), &hints, &res);
  }
  if (rc != 0)
    return InvalidArgument("listen address " + where + ": " + gai_strerror(rc));
  std::string err;
  for (const addrinfo* ai = res; ai && !d->listen_fd_.valid(); ai = ai->ai_next) {
    Result<io::UniqueFd> fd = BindOne(ai, want.host.empty(), &err);
    if (fd.ok()) d->listen_fd_ = std::move(*fd);
  }
  freeaddrinfo(res);
  if (!d->listen_fd_.valid() && want.host.empty()) {  // IPv6 disabled: fall back to IPv4
    hints.ai_family = AF_INET;
    if (getaddrinfo(nullptr, port.c_str(), &hints, &res) == 0) {
      for (const addrinfo* ai = res; ai && !d->listen_fd_.valid(); ai = ai->ai_next) {
        Result<io::UniqueFd> fd = BindOne(ai, false, &err);
        if (fd.ok()) d->listen_fd_ = std::move(*fd);
      }
      freeaddrinfo(res);
    }
  }
  if (!d->listen_fd_.valid())
    return Status(ErrorCode::kIo, "cannot listen on " + where + ": " + err);

  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(d->listen_fd_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  d->address_.host = want.host;
  d->address_.port = ntohs(bound.ss_family == AF_INET6
                               ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return d;
}

void Daemon::RequestShutdown() noexcept {
  const uint64_t one = 1;
  if (shutdown_fd_.valid()) {
    ssize_t n = write(shutdown_fd_.get(), &one, sizeof one);
    (void)n;  // EAGAIN only when the counter is already huge: still readable
  }
}

int Daemon::active_connections() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const Conn& c : conns_) n += c.done ? 0 : 1;
  return n;
}

void Daemon::Log(const std::string& line) const {
  if (log_) log_(line);
}

void Daemon::ReapFinished() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->done) {
      it->thread.join();  // has returned from HandleConnection already
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void Daemon::RefuseBusy(int fd) const {
  AuthResult r;
  r.message = "server busy: " + std::to_string(config_.max_connections) +
              " connections (max_connections) already open; try again later";
  std::vector<std::byte> out(kStreamMagic.begin(), kStreamMagic.end());
  AppendAuthResult(r, &out);
  // A fresh socket's send buffer takes these few bytes without blocking.
  ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)n;
}

Status Daemon::Serve() {
  if (served_.exchange(true)) return Internal("Daemon::Serve called twice");
  Log("listening on " + FormatHostPort(address_) + " (" + std::to_string(config_.modules.size()) +
      " modules, max " + std::to_string(config_.max_connections) + " connections)");
  Status result;
  for (;;) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {shutdown_fd_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      result = PosixError("poll", "listening socket", errno);
      break;
    }
    if (fds[1].revents & POLLIN) break;
    if (!(fds[0].revents & POLLIN)) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        Log("accept: " + std::string(std::strerror(errno)) + "; pausing 100 ms");
        SleepUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(100),
                   shutdown_fd_.get());
      }
      continue;  // EINTR, ECONNABORTED, a peer that left: keep serving
    }
    std::lock_guard lock(mu_);
    ReapFinished();
    if (static_cast<int>(conns_.size()) >= config_.max_connections) {
      Log("peer " + FormatPeerAddress(peer) + ": refused, max_connections (" +
          std::to_string(config_.max_connections) + ") reached");
      RefuseBusy(fd);
      close(fd);
      continue;
    }
    Conn& c = conns_.emplace_back();
    c.fd = fd;
    c.peer = peer;
    c.accepted = std::chrono::steady_clock::now();
    c.thread = std::thread([this, &c] { HandleConnection(&c); });
  }
  listen_fd_.reset();
  DrainConnections();
  Log("shut down");
  return result;
}

void Daemon::DrainConnections() {
  std::unique_lock lock(mu_);
  const auto grace_end = std::chrono::steady_clock::now() + config_.shutdown_grace;
  auto all_done = [&] {
    for (const Conn& c : conns_)
      if (!c.done) return false;
    return true;
  };
  if (!cv_.wait_until(lock, grace_end, all_done)) {
    for (Conn& c : conns_) {
      if (!c.done && c.fd >= 0) {
        Log("peer " + FormatPeerAddress(c.peer) + ": session still running after " +
            std::to_string(config_.shutdown_grace.count()) + " ms of shutdown grace; closing");
        shutdown(c.fd, SHUT_RDWR);
      }
    }
    cv_.wait(lock, all_done);
  }
  ReapFinished();
}

Result<const DaemonModule*> Daemon::Handshake(Conn* c, std::string* user) {
  const int fd = c->fd;
  const int cancel = shutdown_fd_.get();
  const Deadline deadline = c->accepted + config_.auth_timeout;
  ASSIGN_OR_RETURN(AuthNonce nonce, NewAuthNonce());
  RETURN_IF_ERROR(WriteAll(fd, Greeting(AuthChallenge{nonce}), deadline, cancel));
  RETURN_IF_ERROR(ReadStreamMagic(fd, deadline, cancel));
  ASSIGN_OR_RETURN(Frame frame, ReadHandshakeFrame(fd, deadline, cancel, "AuthResponse"));
  ASSIGN_OR_RETURN(AuthResponse resp, DecodeAuthResponse(frame));
  const auto received = std::chrono::steady_clock::now();
  const DaemonModule* m =
      protocol::Authenticate(config_, nonce, resp.module, resp.user, resp.mac, c->peer);
  *user = resp.user;
  if (!m) {
    // The module and user names are the client's own words; they are
    // logged (escaped) for the administrator, never echoed to the client.
    Log("peer " + FormatPeerAddress(c->peer) + ": authentication failed (module " +
        QuotePath(resp.module) + ", user " + QuotePath(resp.user) + ")");
    if (!SleepUntil(received + config_.auth_failure_delay, cancel))
      return Status(ErrorCode::kIo, "shutting down", ECANCELED);
    AuthResult r;
    r.message = std::string(kAuthFailed);
    SendResult(fd, r, false, cancel);
    return Status(ErrorCode::kPermission, std::string(kAuthFailed));
  }
  AuthResult ok;
  ok.ok = true;
  ok.read_only = m->read_only;
  std::vector<std::byte> out;
  AppendAuthResult(ok, &out);
  RETURN_IF_ERROR(WriteAll(fd, out, deadline, cancel));
  return m;
}

void Daemon::HandleConnection(Conn* c) {
  SetThreadName("ferry-conn");
  const std::string peer = FormatPeerAddress(c->peer);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string user;
  Result<const DaemonModule*> m = Handshake(c, &user);
  if (!m.ok()) {
    const Status& s = m.status();
    if (s.code() != ErrorCode::kPermission) {
      Log("peer " + peer + ": closed before authentication: " + s.message());
      // Tell a confused client (an HTTP probe, an old ferry) why, if it
      // still listens; this reveals nothing about modules or users.
      if (s.sys_errno() != ECANCELED) {
        AuthResult r;
        r.message = s.sys_errno() == ETIMEDOUT ? "timed out before authentication"
                                               : "protocol error before authentication";
        SendResult(c->fd, r, false, shutdown_fd_.get());
      }
    }
  } else {
    const DaemonModule& mod = **m;
    Log("peer " + peer + ": user " + QuotePath(user) + " authenticated for module " + mod.name +
        (mod.read_only ? " (read-only)" : " (read-write)"));
    SetTimeouts(c->fd, config_.io_timeout);
    {
      std::lock_guard lock(mu_);
      c->in_session = true;
    }
    SessionContext ctx{c->fd, c->fd, mod.name, mod.path, mod.read_only, user, peer};
    Status s;
    try {
      s = session_ ? session_(ctx) : Internal("no session handler");
    } catch (const std::exception& e) {
      s = Internal(std::string("session threw: ") + e.what());
    }
    Log("peer " + peer + ": session for module " + mod.name + " ended: " + s.ToString());
  }
  std::lock_guard lock(mu_);
  close(c->fd);
  c->fd = -1;
  c->done = true;
  cv_.notify_all();
}

Status InstallShutdownSignals(Daemon* daemon) {
  g_signal_daemon.store(daemon);
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = daemon ? OnShutdownSignal : SIG_DFL;
  for (int sig : {SIGTERM, SIGINT})
    if (sigaction(sig, &sa, nullptr) != 0) return PosixError("sigaction", "", errno);
  sa.sa_handler = daemon ? SIG_IGN : SIG_DFL;
  if (sigaction(SIGPIPE, &sa, nullptr) != 0) return PosixError("sigaction", "SIGPIPE", errno);
  return Status::Ok();
}

}  // namespace ferry::protocol
