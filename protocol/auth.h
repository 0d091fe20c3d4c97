// Challenge-response authentication of the TCP daemon (PROTOCOL.md section
// 11). The server sends a fresh random nonce; the client answers
//
//   mac = HMAC-SHA256(key = secret,
//                     "ferry-daemon-auth-v1" 0x00 | nonce | string module | string user)
//
// (`string` = varint length + bytes, so no two (module, user) pairs encode
// alike). The server recomputes it with its copy of the secret and compares
// in constant time. The secret never crosses the wire; a fresh nonce per
// connection makes a recorded answer useless for the next one.
//
// HMAC-SHA256 comes from OpenSSL's libcrypto; the nonce from getrandom(2).
//
// Thread safety: pure functions (Authenticate reads an immutable config).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/base/status.h"
#include "protocol/daemon_config.h"

namespace ferry::protocol {

inline constexpr size_t kAuthNonceSize = 32;
inline constexpr size_t kAuthMacSize = 32;
using AuthNonce = std::array<uint8_t, kAuthNonceSize>;
using AuthMac = std::array<uint8_t, kAuthMacSize>;

// 32 bytes from getrandom(2). Errors: kIo when the kernel has no entropy
// source to give (the connection is then refused, never served with a weak
// nonce).
Result<AuthNonce> NewAuthNonce();

// The client's answer (and the server's expectation); see the header comment.
AuthMac ComputeAuthMac(std::string_view secret, const AuthNonce& nonce, std::string_view module,
                       std::string_view user);

// Constant-time equality (CRYPTO_memcmp): the time taken does not depend on
// where the first difference is.
bool AuthMacEqual(const AuthMac& a, const AuthMac& b);

// The server's decision for one AuthResponse. Does the same work - one HMAC
// and one constant-time compare - whether the module exists, the user is
// known, the host is allowed or not (a dummy secret stands in), so only the
// result differs. Returns the module on success, nullptr on any failure;
// the caller answers every failure identically ("authentication failed").
const DaemonModule* Authenticate(const DaemonConfig& config, const AuthNonce& nonce,
                                 std::string_view module, std::string_view user,
                                 const AuthMac& mac, const sockaddr_storage& peer);

}  // namespace ferry::protocol
