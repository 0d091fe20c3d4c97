#include "protocol/daemon_wire.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <optional>

#include "protocol/handshake.h"
#include "protocol/path_check.h"
#include "protocol/wire_format.h"

namespace ferry::protocol {

namespace {

const char* Name(DaemonMsgType t) {
  switch (t) {
    case DaemonMsgType::kAuthChallenge: return "AuthChallenge";
    case DaemonMsgType::kAuthResponse: return "AuthResponse";
    case DaemonMsgType::kAuthResult: return "AuthResult";
    case DaemonMsgType::kSessionRequest: return "SessionRequest";
  }
  return "?";
}

void Append(DaemonMsgType t, const std::vector<std::byte>& payload, std::vector<std::byte>* out) {
  // Payloads are bounded by the field limits, far below kHandshakeMaxFrame.
  Status s = AppendFrame(static_cast<uint8_t>(t), 0, payload, kHandshakeMaxFrame, out);
  (void)s;
}

Status ExpectTag(const Frame& f, DaemonMsgType t) {
  if (f.tag != static_cast<uint8_t>(t)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%02x", f.tag);
    return Corrupt(std::string("expected ") + Name(t) + ", got a frame with tag " + buf);
  }
  if (f.flags != 0) return Corrupt(std::string(Name(t)) + ": frame flags must be 0");
  return Status::Ok();
}

template <size_t N>
Status GetArray(Reader& r, const char* field, std::array<uint8_t, N>* out) {
  std::span<const std::byte> b;
  RETURN_IF_ERROR(r.Raw(field, N, &b));
  std::memcpy(out->data(), b.data(), N);
  return Status::Ok();
}

Status GetBool(Reader& r, const char* field, bool* v) {
  uint8_t b = 0;
  RETURN_IF_ERROR(r.U8(field, &b));
  if (b > 1) return r.Error(std::string(field) + " must be 0 or 1, got " + std::to_string(b));
  *v = b == 1;
  return Status::Ok();
}

}  // namespace

void AppendAuthChallenge(const AuthChallenge& m, std::vector<std::byte>* out) {
  std::vector<std::byte> p;
  Writer w(&p);
  w.Raw(std::as_bytes(std::span(m.nonce)));
  Append(DaemonMsgType::kAuthChallenge, p, out);
}

void AppendAuthResponse(const AuthResponse& m, std::vector<std::byte>* out) {
  std::vector<std::byte> p;
  Writer w(&p);
  w.String(m.module);
  w.String(m.user);
  w.Raw(std::as_bytes(std::span(m.mac)));
  Append(DaemonMsgType::kAuthResponse, p, out);
}

void AppendAuthResult(const AuthResult& m, std::vector<std::byte>* out) {
  std::vector<std::byte> p;
  Writer w(&p);
  w.U8(m.ok ? 1 : 0);
  w.U8(m.read_only ? 1 : 0);
  w.String(m.message.substr(0, kAuthResultMessageMax));
  Append(DaemonMsgType::kAuthResult, p, out);
}

void AppendSessionRequest(const SessionRequest& m, std::vector<std::byte>* out) {
  std::vector<std::byte> p;
  Writer w(&p);
  w.U8(static_cast<uint8_t>(m.role));
  w.String(m.path);
  Append(DaemonMsgType::kSessionRequest, p, out);
}

Result<AuthChallenge> DecodeAuthChallenge(const Frame& f) {
  RETURN_IF_ERROR(ExpectTag(f, DaemonMsgType::kAuthChallenge));
  Reader r(f.payload, "AuthChallenge");
  AuthChallenge m;
  RETURN_IF_ERROR(GetArray(r, "nonce", &m.nonce));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

Result<AuthResponse> DecodeAuthResponse(const Frame& f) {
  RETURN_IF_ERROR(ExpectTag(f, DaemonMsgType::kAuthResponse));
  Reader r(f.payload, "AuthResponse");
  AuthResponse m;
  RETURN_IF_ERROR(r.String("module", kModuleNameMax, &m.module));
  if (!ValidModuleName(m.module)) return r.Error("module: not a valid module name");
  RETURN_IF_ERROR(r.String("user", kUserNameMax, &m.user));
  if (m.user.empty()) return r.Error("user: empty");
  RETURN_IF_ERROR(GetArray(r, "mac", &m.mac));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

Result<AuthResult> DecodeAuthResult(const Frame& f) {
  RETURN_IF_ERROR(ExpectTag(f, DaemonMsgType::kAuthResult));
  Reader r(f.payload, "AuthResult");
  AuthResult m;
  RETURN_IF_ERROR(GetBool(r, "ok", &m.ok));
  RETURN_IF_ERROR(GetBool(r, "read_only", &m.read_only));
  RETURN_IF_ERROR(r.String("message", kAuthResultMessageMax, &m.message));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

Result<SessionRequest> DecodeSessionRequest(const Frame& f) {
  RETURN_IF_ERROR(ExpectTag(f, DaemonMsgType::kSessionRequest));
  Reader r(f.payload, "SessionRequest");
  SessionRequest m;
  uint8_t role = 0;
  RETURN_IF_ERROR(r.U8("role", &role));
  if (role > 2) {
    return r.Error("role must be 0 (sender), 1 (receiver) or 2 (verify side), got " +
                   std::to_string(role));
  }
  m.role = static_cast<DaemonRole>(role);
  RETURN_IF_ERROR(r.String("path", kSessionRequestPathMax, &m.path));
  RETURN_IF_ERROR(r.ExpectEnd());
  std::string_view rel = m.path;
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  if (rel.empty() && !m.path.empty()) {
    return Corrupt("SessionRequest: path " + QuotePath(m.path) +
                   " is absolute; give a path inside the module");
  }
  if (!rel.empty() && rel != ".") RETURN_IF_ERROR(CheckWirePath(rel, "SessionRequest: path"));
  return m;
}

Status DecodeServerGreeting(const Frame& f, AuthChallenge* challenge,
                            std::optional<AuthResult>* refusal) {
  refusal->reset();
  if (f.tag == static_cast<uint8_t>(DaemonMsgType::kAuthResult)) {
    ASSIGN_OR_RETURN(AuthResult r, DecodeAuthResult(f));
    if (r.ok) return Corrupt("AuthResult: ok before any authentication");
    *refusal = std::move(r);
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(*challenge, DecodeAuthChallenge(f));
  return Status::Ok();
}

Status ReadStreamMagic(int fd, Deadline deadline, int cancel_fd) {
  std::array<std::byte, kStreamMagic.size()> magic{};
  RETURN_IF_ERROR(ReadExact(fd, magic, deadline, cancel_fd, "the stream magic"));
  return CheckStreamMagic(magic);
}

Result<Frame> ReadHandshakeFrame(int fd, Deadline deadline, int cancel_fd, const char* what) {
  FrameDecoder decoder(kHandshakeMaxFrame);
  std::array<std::byte, kFrameHeaderSize> header{};
  RETURN_IF_ERROR(ReadExact(fd, header, deadline, cancel_fd, what));
  std::optional<Frame> frame;
  ASSIGN_OR_RETURN(size_t used, decoder.Feed(header, &frame));
  (void)used;
  if (frame) return std::move(*frame);
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(header[2 + i]) << (8 * i);
  std::vector<std::byte> payload(len);  // len <= kHandshakeMaxFrame: checked by Feed
  RETURN_IF_ERROR(ReadExact(fd, payload, deadline, cancel_fd, what));
  ASSIGN_OR_RETURN(used, decoder.Feed(payload, &frame));
  if (!frame) return Internal("handshake frame incomplete after its payload");
  return std::move(*frame);
}

}  // namespace ferry::protocol
