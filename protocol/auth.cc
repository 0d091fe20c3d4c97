#include "protocol/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include <cerrno>
#include <vector>

#include "protocol/wire_format.h"

namespace ferry::protocol {

namespace {
constexpr std::string_view kAuthContext = "ferry-daemon-auth-v1";
}  // namespace

Result<AuthNonce> NewAuthNonce() {
  AuthNonce nonce{};
  size_t got = 0;
  while (got < nonce.size()) {
    ssize_t n = getrandom(nonce.data() + got, nonce.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("getrandom", "", errno);
    }
    got += static_cast<size_t>(n);
  }
  return nonce;
}

AuthMac ComputeAuthMac(std::string_view secret, const AuthNonce& nonce, std::string_view module,
                       std::string_view user) {
  std::vector<std::byte> msg;
  Writer w(&msg);
  w.Raw(std::as_bytes(std::span(kAuthContext.data(), kAuthContext.size())));
  w.U8(0);
  w.Raw(std::as_bytes(std::span(nonce)));
  w.String(module);
  w.String(user);
  AuthMac mac{};
  unsigned int len = 0;
  // One-shot HMAC(): not deprecated in OpenSSL 3, and it cannot fail for
  // SHA-256 with in-memory inputs except on allocation failure, where `mac`
  // stays all zero and can match nothing a peer computes with a real key.
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac.data(), &len);
  return mac;
}

bool AuthMacEqual(const AuthMac& a, const AuthMac& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

const DaemonModule* Authenticate(const DaemonConfig& config, const AuthNonce& nonce,
                                 std::string_view module, std::string_view user,
                                 const AuthMac& mac, const sockaddr_storage& peer) {
  // Stands in for the secret when the module or user is unknown, so the
  // same HMAC and compare run on every path.
  static constexpr std::string_view kDummySecret = "ferry: no such module or user";
  const DaemonModule* m = config.FindModule(module);
  const ModuleUser* u = m ? m->FindUser(user) : nullptr;
  const bool host_ok = m && m->HostAllowed(peer);
  const AuthMac expected = ComputeAuthMac(u ? std::string_view(u->secret) : kDummySecret, nonce,
                                          module, user);
  const bool mac_ok = AuthMacEqual(expected, mac);
  return (u && host_ok && mac_ok) ? m : nullptr;
}

}  // namespace ferry::protocol
