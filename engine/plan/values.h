// Parsers for the scalar values of a plan file: durations ("90s", "24h",
// "1h30m"), byte sizes ("64MiB", "1G", "500k"), endpoint specs and
// --usermap/--groupmap lists. Pure functions; no I/O.
//
// Errors are kInvalidArgument whose message says what was expected, e.g.
//   bad duration "10 minutes": expected a number followed by ms, s, m, h or d
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/plan/plan.h"

namespace ferry::plan {

// A sequence of NUMBER UNIT pairs (units ms, s, m, h, d), e.g. "1h30m";
// returns milliseconds. A bare "0" is zero.
Result<int64_t> ParseDuration(std::string_view text);

// A number with an optional unit: b, k/K/KiB (1024), M/MiB, G/GiB, T/TiB;
// KB, MB, GB, TB are powers of 1000. Returns bytes.
Result<uint64_t> ParseByteSize(std::string_view text);

// "ferry://host[:port]/module[/path]", "[user@]host:path" (rsync's rule:
// a ':' before any '/' means remote), or a local absolute path. A relative
// local path is refused (the plan does not depend on the working directory).
Result<Endpoint> ParseEndpoint(std::string_view text);

// rsync's --usermap/--groupmap value: "FROM:TO[,FROM:TO...]". FROM: a name,
// a number, "LOW-HIGH", or a wildcard pattern; TO: a name or a number. The
// grammar is engine/tree/id_map's (IdMap::Parse); errors start with `field`:
//   usermap: bad pair "alice:": expected FROM:TO (...)
Result<std::vector<IdMapRule>> ParseIdMap(std::string_view text,
                                          std::string_view field = "usermap");

// Formats milliseconds as the shortest duration text ("1h30m", "250ms").
std::string FormatDuration(int64_t ms);
// Formats bytes with a binary unit ("1.5MiB", "300B").
std::string FormatBytes(uint64_t bytes);

}  // namespace ferry::plan
