#include "protocol/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace ferry::protocol {

namespace {

Status BadAddress(std::string_view spec, std::string_view why) {
  return InvalidArgument("bad address '" + std::string(spec) + "': " + std::string(why));
}

// The peer as 4 (IPv4, including IPv4-mapped IPv6) or 16 bytes.
bool PeerBytes(const sockaddr_storage& peer, bool* v6, std::array<uint8_t, 16>* out) {
  if (peer.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&peer);
    std::memcpy(out->data(), &in->sin_addr, 4);
    *v6 = false;
    return true;
  }
  if (peer.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      std::memcpy(out->data(), in6->sin6_addr.s6_addr + 12, 4);
      *v6 = false;
    } else {
      std::memcpy(out->data(), in6->sin6_addr.s6_addr, 16);
      *v6 = true;
    }
    return true;
  }
  return false;
}

}  // namespace

Result<HostPort> ParseHostPort(std::string_view spec, bool allow_port_zero) {
  HostPort hp;
  std::string_view port;
  if (!spec.empty() && spec[0] == '[') {
    size_t close = spec.find(']');
    if (close == std::string_view::npos) return BadAddress(spec, "missing ']' after IPv6 address");
    hp.host = std::string(spec.substr(1, close - 1));
    if (hp.host.empty()) return BadAddress(spec, "empty IPv6 address in []");
    if (close + 1 >= spec.size() || spec[close + 1] != ':')
      return BadAddress(spec, "expected ':PORT' after ']'");
    port = spec.substr(close + 2);
  } else {
    size_t colon = spec.rfind(':');
    if (colon == std::string_view::npos) return BadAddress(spec, "expected HOST:PORT");
    if (spec.substr(0, colon).find(':') != std::string_view::npos)
      return BadAddress(spec, "an IPv6 address needs brackets: [ADDR]:PORT");
    hp.host = std::string(spec.substr(0, colon));
    if (hp.host == "*") hp.host.clear();
    port = spec.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535 ||
      (value == 0 && !allow_port_zero))
    return BadAddress(spec, "port must be 1 to 65535");
  hp.port = static_cast<uint16_t>(value);
  return hp;
}

std::string FormatHostPort(const HostPort& hp) {
  std::string host = hp.host.empty() ? "*" : hp.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(hp.port);
}

std::string FormatPeerAddress(const sockaddr_storage& addr) {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  if (!PeerBytes(addr, &v6, &bytes)) return "(unknown address family)";
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

Result<HostPattern> HostPattern::Parse(std::string_view text) {
  HostPattern p;
  p.text_ = std::string(text);
  std::string_view addr = text;
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view bits = text.substr(slash + 1);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), v);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || v > 128)
      return BadAddress(text, "prefix length after '/' must be a number");
    prefix = static_cast<int>(v);
  }
  std::string a(addr);
  if (inet_pton(AF_INET, a.c_str(), p.addr_.data()) == 1) {
    p.v6_ = false;
  } else if (inet_pton(AF_INET6, a.c_str(), p.addr_.data()) == 1) {
    p.v6_ = true;
  } else {
    return BadAddress(text, "expected a numeric IPv4 or IPv6 address, optionally /PREFIX "
                            "(host names are not resolved)");
  }
  const int max = p.v6_ ? 128 : 32;
  if (prefix > max)
    return BadAddress(text, "prefix /" + std::to_string(prefix) + " is longer than " +
                                std::to_string(max) + " bits");
  p.prefix_ = prefix < 0 ? max : prefix;
  for (int bit = p.prefix_; bit < max; ++bit) {
    if (p.addr_[bit / 8] & (0x80 >> (bit % 8))) {
      std::array<uint8_t, 16> net = p.addr_;
      for (int b = p.prefix_; b < max; ++b) net[b / 8] &= static_cast<uint8_t>(~(0x80 >> (b % 8)));
      char buf[INET6_ADDRSTRLEN] = {};
      inet_ntop(p.v6_ ? AF_INET6 : AF_INET, net.data(), buf, sizeof buf);
      return BadAddress(text, "host bits set below the prefix; did you mean " +
                                  std::string(buf) + "/" + std::to_string(p.prefix_) + "?");
    }
  }
  return p;
}

bool HostPattern::Matches(const sockaddr_storage& peer) const {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  if (!PeerBytes(peer, &v6, &bytes) || v6 != v6_) return false;
  for (int bit = 0; bit < prefix_; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((bytes[bit / 8] & mask) != (addr_[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace ferry::protocol
