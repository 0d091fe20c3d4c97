// The TCP daemon's pre-session messages (PROTOCOL.md section 11): module
// selection and challenge-response authentication, exchanged before the
// session's own greeting on the same connection.
//
//   server -> client: stream magic, AuthChallenge{nonce}
//                     (or AuthResult{ok=false} when busy, then close)
//   client -> server: stream magic, AuthResponse{module, user, mac}
//   server -> client: AuthResult{ok, read_only, message}
//   then, when ok:
//   client -> server: SessionRequest{role, path}
//   and the session (sections 2-3) on the same connection.
//
// These messages come before any version is negotiated, so their layout is
// frozen, like Hello's. They use the frame format of section 2 with the
// handshake frame limit (kHandshakeMaxFrame) and their own tags 0x70-0x73,
// which no session codec accepts. Decoders check tag, flags and every field,
// and refuse trailing bytes; errors (kCorrupt) name the message and field.
//
// Thread safety: values and pure functions, plus deadline reads (socket_io.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "protocol/auth.h"
#include "protocol/frame.h"
#include "protocol/socket_io.h"

namespace ferry::protocol {

enum class DaemonMsgType : uint8_t {
  kAuthChallenge = 0x70,
  kAuthResponse = 0x71,
  kAuthResult = 0x72,
  kSessionRequest = 0x73,
};

inline constexpr size_t kAuthResultMessageMax = 1024;

struct AuthChallenge {
  AuthNonce nonce{};
  bool operator==(const AuthChallenge&) const = default;
};

struct AuthResponse {
  std::string module;  // 1..kModuleNameMax, ValidModuleName
  std::string user;    // 1..kUserNameMax
  AuthMac mac{};
  bool operator==(const AuthResponse&) const = default;
};

struct AuthResult {
  bool ok = false;
  bool read_only = false;  // the module's mode; meaningful when ok
  std::string message;     // <= kAuthResultMessageMax; why it failed
  bool operator==(const AuthResult&) const = default;
};

// Which role the daemon plays in the session that follows.
enum class DaemonRole : uint8_t {
  kSender = 0,    // the client pulls from the module
  kReceiver = 1,  // the client pushes into the module
  // One side of `ferry verify` (protocol/session/verify_side.h): the daemon
  // walks and hashes the module path and changes nothing, so a read-only
  // module allows it. Added after 0 and 1; a daemon that predates it refuses
  // the request with "role must be 0 (sender) or 1 (receiver)".
  kVerifySide = 2,
};

// The longest path a SessionRequest carries (it must fit a handshake frame).
inline constexpr size_t kSessionRequestPathMax = 4000;

// What the client wants after authentication: the daemon's role and a path
// inside the module, as the user wrote it after the module name (trailing
// slash significant: rsync's rule). Empty means the module's root. The
// decoder accepts only a path CheckWirePath accepts once its trailing
// slashes are taken off ("" and "." for the root): relative, no "." or ".."
// component, no empty component, no control character.
struct SessionRequest {
  DaemonRole role = DaemonRole::kSender;
  std::string path;
  bool operator==(const SessionRequest&) const = default;
};

// Append the frame of a message to *out.
void AppendAuthChallenge(const AuthChallenge& m, std::vector<std::byte>* out);
void AppendAuthResponse(const AuthResponse& m, std::vector<std::byte>* out);
void AppendAuthResult(const AuthResult& m, std::vector<std::byte>* out);
void AppendSessionRequest(const SessionRequest& m, std::vector<std::byte>* out);

// Decode one frame. Errors (kCorrupt): another tag ("expected AuthResponse,
// got tag 0x01"), flags set, a field out of range, trailing bytes.
Result<AuthChallenge> DecodeAuthChallenge(const Frame& f);
Result<AuthResponse> DecodeAuthResponse(const Frame& f);
Result<AuthResult> DecodeAuthResult(const Frame& f);
Result<SessionRequest> DecodeSessionRequest(const Frame& f);
// The server's first frame is a challenge, or a result refusing the
// connection (busy): *refusal is set for the latter, *challenge otherwise.
Status DecodeServerGreeting(const Frame& f, AuthChallenge* challenge,
                            std::optional<AuthResult>* refusal);

// Reads the 8-byte stream magic and checks it (CheckStreamMagic's error
// shows what arrived instead).
Status ReadStreamMagic(int fd, Deadline deadline, int cancel_fd);

// Reads exactly one frame of at most kHandshakeMaxFrame payload bytes; a
// longer header is refused before any payload byte is read.
Result<Frame> ReadHandshakeFrame(int fd, Deadline deadline, int cancel_fd, const char* what);

}  // namespace ferry::protocol
