// Network addresses for the TCP daemon transport: "ADDR:PORT" listen and
// connect specifications (IPv4, bracketed IPv6, host names), and host
// patterns for a module's `hosts_allow` (an address or an address/prefix
// CIDR block, IPv4 or IPv6).
//
// IPv4-mapped IPv6 peers (::ffff:10.1.2.3, what a dual-stack listener sees
// for an IPv4 client) match IPv4 patterns.
//
// Thread safety: values and pure functions.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace ferry::protocol {

// rsyncd listens on 873; ferry's daemon on 8730 unless told otherwise.
inline constexpr uint16_t kDefaultDaemonPort = 8730;

struct HostPort {
  std::string host;  // "" = every local address (listen only); no brackets
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// Parses "HOST:PORT", "[V6ADDR]:PORT", ":PORT" and "*:PORT" (every local
// address). Port 0 (an ephemeral port) is allowed only when `allow_port_zero`.
// Errors (kInvalidArgument) quote the input: "bad listen address 'x:99999':
// port must be 1 to 65535".
Result<HostPort> ParseHostPort(std::string_view spec, bool allow_port_zero);

// "127.0.0.1:8730", "[::1]:8730" (for messages).
std::string FormatHostPort(const HostPort& hp);

// A numeric peer address as text ("10.0.0.7", "::1"); IPv4-mapped IPv6
// addresses are shown as IPv4.
std::string FormatPeerAddress(const sockaddr_storage& addr);

// One entry of `hosts_allow`.
class HostPattern {
 public:
  // "192.168.1.0/24", "10.0.0.7", "::1", "2001:db8::/32". Names are not
  // resolved (a name would make access depend on DNS). Errors
  // (kInvalidArgument): not a numeric address, prefix out of range, host
  // bits set below the prefix ("10.0.0.1/8: host bits set; did you mean
  // 10.0.0.0/8?").
  static Result<HostPattern> Parse(std::string_view text);

  bool Matches(const sockaddr_storage& peer) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  bool v6_ = false;
  std::array<uint8_t, 16> addr_{};
  int prefix_ = 0;
};

}  // namespace ferry::protocol
