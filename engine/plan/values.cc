#include "engine/plan/values.h"

#include <cctype>
#include <cstdio>
#include <limits>
#include <string>

#include "engine/tree/id_map.h"

namespace ferry::plan {
namespace {

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool ValidName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

bool ValidHost(std::string_view s) {
  if (s.empty()) return false;
  if (s.front() == '[' && s.back() == ']') return s.size() > 2;  // IPv6 literal
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'))
      return false;
  return true;
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("bad duration \"" + std::string(text) +
                           "\": expected a number followed by ms, s, m, h or d (e.g. 90s, 24h, "
                           "1h30m)");
  };
  if (text == "0") return int64_t{0};
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    uint64_t n = 0;
    if (!ParseUint(text.substr(i, j - i), &n)) return bad();
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    std::string_view unit = text.substr(j, k - j);
    int64_t mult;
    if (unit == "ms") mult = 1;
    else if (unit == "s") mult = 1000;
    else if (unit == "m") mult = 60'000;
    else if (unit == "h") mult = 3'600'000;
    else if (unit == "d") mult = 86'400'000;
    else return bad();
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / mult / 2)) return bad();
    total += static_cast<int64_t>(n) * mult;
    i = k;
  }
  return total;
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("bad size \"" + std::string(text) +
                           "\": expected a number with an optional unit B, KiB, MiB, GiB, TiB "
                           "(or K, M, G, T; KB, MB, GB, TB are powers of 1000)");
  };
  size_t j = 0;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  uint64_t n = 0;
  if (!ParseUint(text.substr(0, j), &n)) return bad();
  std::string_view u = text.substr(j);
  uint64_t mult;
  if (u.empty() || u == "b" || u == "B") mult = 1;
  else if (u == "k" || u == "K" || u == "KiB") mult = 1ull << 10;
  else if (u == "M" || u == "MiB") mult = 1ull << 20;
  else if (u == "G" || u == "GiB") mult = 1ull << 30;
  else if (u == "T" || u == "TiB") mult = 1ull << 40;
  else if (u == "KB" || u == "kB") mult = 1000;
  else if (u == "MB") mult = 1000'000;
  else if (u == "GB") mult = 1000'000'000;
  else if (u == "TB") mult = 1000'000'000'000;
  else return bad();
  if (n > std::numeric_limits<uint64_t>::max() / mult) return bad();
  return n * mult;
}

Result<Endpoint> ParseEndpoint(std::string_view text) {
  Endpoint e;
  e.spec = std::string(text);
  std::string t(text);
  auto bad = [&](const std::string& why) {
    return InvalidArgument("bad endpoint \"" + t + "\": " + why);
  };
  if (t.empty()) return bad("empty; expected /local/path, [user@]host:path or ferry://host[:port]/module");
  if (t.starts_with("ferry://")) {
    e.kind = EndpointKind::kDaemon;
    std::string rest = t.substr(8);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return bad("expected ferry://[user@]host[:port]/module");
    std::string hostport = rest.substr(0, slash);
    std::string modpath = rest.substr(slash + 1);
    if (size_t at = hostport.rfind('@'); at != std::string::npos) {
      e.user = hostport.substr(0, at);
      if (!ValidName(e.user)) return bad("malformed user before '@'");
      hostport = hostport.substr(at + 1);
    }
    size_t close = hostport.find(']');
    size_t colon = hostport.rfind(':');
    if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
      uint64_t port = 0;
      if (!ParseUint(hostport.substr(colon + 1), &port) || port == 0 || port > 65535)
        return bad("port must be a number from 1 to 65535");
      e.port = static_cast<int>(port);
      hostport = hostport.substr(0, colon);
    }
    if (!ValidHost(hostport)) return bad("missing or malformed host");
    e.host = hostport;
    size_t s2 = modpath.find('/');
    e.module = modpath.substr(0, s2);
    if (!ValidName(e.module)) return bad("missing or malformed module name after the host");
    e.path = s2 == std::string::npos ? "" : modpath.substr(s2 + 1);
    return e;
  }
  size_t colon = t.find(':');
  size_t slash = t.find('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon < slash)) {
    e.kind = EndpointKind::kSsh;
    std::string userhost = t.substr(0, colon);
    e.path = t.substr(colon + 1);
    size_t at = userhost.rfind('@');
    if (at != std::string::npos) {
      e.user = userhost.substr(0, at);
      if (!ValidName(e.user)) return bad("malformed user before '@'");
      userhost = userhost.substr(at + 1);
    }
    if (!ValidHost(userhost)) return bad("missing or malformed host before ':'");
    e.host = userhost;
    if (e.path.empty()) return bad("missing path after ':'");
    return e;
  }
  e.kind = EndpointKind::kLocal;
  if (t.front() != '/') return bad("a local path must be absolute");
  e.path = t;
  return e;
}

Result<std::vector<IdMapRule>> ParseIdMap(std::string_view text, std::string_view field) {
  // One grammar for --usermap/--groupmap everywhere: engine/tree/id_map.
  ASSIGN_OR_RETURN(IdMap m, IdMap::Parse(text, IdKind::kUser, field));
  std::vector<IdMapRule> out;
  for (const IdMap::Rule& r : m.rules())
    out.push_back({r.text.substr(0, r.text.size() - r.to.size() - 1), r.to});
  return out;
}

std::string FormatDuration(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  std::string out;
  if (s >= 86400) out += std::to_string(s / 86400) + "d", s %= 86400;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0 || out.empty()) out += std::to_string(s) + "s";
  return out;
}

std::string FormatBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%lluB", static_cast<unsigned long long>(b));
  else std::snprintf(buf, sizeof buf, "%.1f%s", v, units[u]);
  return buf;
}

}  // namespace ferry::plan
