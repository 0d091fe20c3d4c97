// rsync's filter flags (--exclude, --include, --exclude-from, --include-from)
// for any subcommand, turned into a FilterList in command-line order (the
// first matching rule wins, so the order between the flags matters).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/tree/filter.h"

namespace ferry::cli {

struct FilterFlags {
  std::vector<std::string> exclude, include, exclude_from, include_from;
  CLI::Option *o_exclude = nullptr, *o_include = nullptr,
              *o_exclude_from = nullptr, *o_include_from = nullptr;
};

// Registers the four flags on cmd, storing into *f (which must outlive cmd).
void AddFilterFlags(CLI::App* cmd, FilterFlags* f);

// The rules given, in order; null when there are none. "-" as a file reads
// standard input. Errors name the rule or the file and line.
Result<std::shared_ptr<const FilterList>> BuildFilter(CLI::App& cmd, const FilterFlags& f);

}  // namespace ferry::cli
