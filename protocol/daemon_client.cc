#include "protocol/daemon_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>

#include "protocol/auth.h"
#include "protocol/daemon_config.h"
#include "protocol/daemon_wire.h"
#include "protocol/handshake.h"
#include "protocol/path_check.h"

namespace ferry::protocol {

namespace {

constexpr std::string_view kScheme = "ferry://";

// A server's message for the terminal: control bytes as \xNN.
std::string Printable(std::string_view m) {
  std::string out;
  for (char c : m) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

Status BadTarget(std::string_view spec, std::string_view why) {
  return InvalidArgument("bad daemon address " + QuotePath(spec) + ": " + std::string(why));
}

// Splits "[user@]host" or "[user@][v6]" at the start of s, up to the first
// ':' or '/' outside brackets. *end is where the host ended.
Status SplitUserHost(std::string_view spec, std::string_view s, DaemonTarget* t, size_t* end) {
  size_t i = 0;
  if (size_t at = s.find('@'); at != std::string_view::npos &&
                               at < s.find_first_of(":/[")) {
    t->user = std::string(s.substr(0, at));
    if (t->user.empty()) return BadTarget(spec, "empty user name before '@'");
    i = at + 1;
  }
  if (i < s.size() && s[i] == '[') {
    size_t close = s.find(']', i);
    if (close == std::string_view::npos) return BadTarget(spec, "missing ']' after IPv6 address");
    t->host = std::string(s.substr(i + 1, close - i - 1));
    *end = close + 1;
  } else {
    size_t stop = s.find_first_of(":/", i);
    if (stop == std::string_view::npos) stop = s.size();
    t->host = std::string(s.substr(i, stop - i));
    *end = stop;
  }
  if (t->host.empty()) return BadTarget(spec, "no host");
  return Status::Ok();
}

Status SplitModulePath(std::string_view spec, std::string_view rest, DaemonTarget* t) {
  size_t slash = rest.find('/');
  t->module = std::string(rest.substr(0, slash));
  if (t->module.empty())
    return BadTarget(spec, "no module: name one, as in host::MODULE or ferry://host/MODULE "
                           "(ferry does not list modules)");
  if (!ValidModuleName(t->module))
    return BadTarget(spec, "bad module name " + QuotePath(t->module));
  if (slash != std::string_view::npos) {
    std::string_view p = rest.substr(slash + 1);
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    t->path = std::string(p);
  }
  return Status::Ok();
}

// Position of rsync's "::" after the user/host part, or npos.
size_t RsyncSeparator(std::string_view s) {
  DaemonTarget t;
  size_t end = 0;
  if (!SplitUserHost(s, s, &t, &end).ok()) return std::string_view::npos;
  if (s.substr(end, 2) == "::") return end;
  return std::string_view::npos;
}

Status ConnectWithin(int fd, const addrinfo* ai, Deadline deadline) {
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return Status::Ok();
  if (errno != EINPROGRESS) return PosixError("connect", "", errno);
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status(ErrorCode::kIo, "connect: timed out", ETIMEDOUT);
    pollfd p{fd, POLLOUT, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PosixError("poll", "connect", errno);
    if (n == 0) continue;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return PosixError("connect", "", err);
    return Status::Ok();
  }
}

}  // namespace

bool IsDaemonTarget(std::string_view spec) {
  return spec.starts_with(kScheme) || RsyncSeparator(spec) != std::string_view::npos;
}

Result<DaemonTarget> ParseDaemonTarget(std::string_view spec) {
  DaemonTarget t;
  size_t end = 0;
  if (spec.starts_with(kScheme)) {
    std::string_view s = spec.substr(kScheme.size());
    RETURN_IF_ERROR(SplitUserHost(spec, s, &t, &end));
    s.remove_prefix(end);
    if (!s.empty() && s[0] == ':') {
      size_t slash = s.find('/');
      std::string_view port = s.substr(1, slash == std::string_view::npos ? s.npos : slash - 1);
      unsigned v = 0;
      auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
      if (port.empty() || ec != std::errc() || p != port.data() + port.size() || v == 0 ||
          v > 65535)
        return BadTarget(spec, "port must be 1 to 65535");
      t.port = static_cast<uint16_t>(v);
      s.remove_prefix(1 + port.size());
    }
    if (s.empty() || s[0] != '/') return BadTarget(spec, "expected /MODULE after the host");
    RETURN_IF_ERROR(SplitModulePath(spec, s.substr(1), &t));
    return t;
  }
  RETURN_IF_ERROR(SplitUserHost(spec, spec, &t, &end));
  if (spec.substr(end, 2) != "::")
    return BadTarget(spec, "expected HOST::MODULE[/PATH] or ferry://HOST[:PORT]/MODULE[/PATH]");
  RETURN_IF_ERROR(SplitModulePath(spec, spec.substr(end + 2), &t));
  return t;
}

Result<bool> AuthenticateToDaemon(int fd, std::string_view module, std::string_view user,
                                  std::string_view secret, std::chrono::milliseconds timeout,
                                  std::string_view server) {
  const std::string who = "ferry daemon " + std::string(server);
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  Status s = ReadStreamMagic(fd, deadline, -1);
  if (!s.ok()) return s.WithContext(who);
  Result<Frame> f = ReadHandshakeFrame(fd, deadline, -1, "the daemon's challenge");
  if (!f.ok()) return f.status().WithContext(who);
  AuthChallenge challenge;
  std::optional<AuthResult> refusal;
  s = DecodeServerGreeting(*f, &challenge, &refusal);
  if (!s.ok()) return s.WithContext(who);
  if (refusal)
    return Status(ErrorCode::kPermission,
                  who + ": " + Printable(refusal->message.empty() ? "refused" : refusal->message));

  AuthResponse resp;
  resp.module = std::string(module);
  resp.user = std::string(user);
  resp.mac = ComputeAuthMac(secret, challenge.nonce, module, user);
  std::vector<std::byte> out(kStreamMagic.begin(), kStreamMagic.end());
  AppendAuthResponse(resp, &out);
  s = WriteAll(fd, out, deadline, -1);
  if (!s.ok()) return s.WithContext(who);

  f = ReadHandshakeFrame(fd, deadline, -1, "the daemon's answer");
  if (!f.ok()) return f.status().WithContext(who);
  Result<AuthResult> r = DecodeAuthResult(*f);
  if (!r.ok()) return r.status().WithContext(who);
  if (!r->ok)
    return Status(ErrorCode::kPermission,
                  who + ": " + Printable(r->message.empty() ? "refused" : r->message));
  return r->read_only;
}

Result<DaemonConnection> ConnectDaemon(const DaemonTarget& target, std::string_view user,
                                       std::string_view secret,
                                       std::chrono::milliseconds timeout) {
  const std::string server = FormatHostPort(HostPort{target.host, target.port});
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(target.port);
  if (int rc = getaddrinfo(target.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Status(ErrorCode::kIo, "ferry daemon " + server + ": " + gai_strerror(rc));
  Status last = Status(ErrorCode::kIo, "no address");
  DaemonConnection conn;
  for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
    io::UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                           ai->ai_protocol));
    if (!fd.valid()) {
      last = PosixError("socket", "", errno);
      continue;
    }
    last = ConnectWithin(fd.get(), ai, deadline);
    if (last.ok()) {
      conn.fd = std::move(fd);
      break;
    }
  }
  freeaddrinfo(res);
  if (!conn.fd.valid()) return last.WithContext("ferry daemon " + server);
  // The session does blocking I/O on this socket.
  int flags = fcntl(conn.fd.get(), F_GETFL);
  fcntl(conn.fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(conn.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  ASSIGN_OR_RETURN(conn.read_only,
                   AuthenticateToDaemon(conn.fd.get(), target.module, user, secret,
                                        std::max(left, std::chrono::milliseconds(1)), server));
  return conn;
}

Result<std::string> ReadPasswordFile(const std::string& path, io::IoBackend& io) {
  ASSIGN_OR_RETURN(std::string text, ReadSecretFile(path, "password file", io));
  size_t eol = text.find('\n');
  std::string secret = text.substr(0, eol);
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) return InvalidArgument("password file " + QuotePath(path) + " is empty");
  return secret;
}

}  // namespace ferry::protocol
