#include "cli/filter_flags.h"

#include <cstdio>

namespace ferry::cli {

namespace {

// A rules file, or standard input for "-" (as rsync).
Status AddRulesFrom(FilterList* out, RuleType type, const std::string& path) {
  if (path != "-") return out->AddRulesFromFile(type, path);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) text.append(buf, n);
  return out->AddRulesFromText(type, text, "<stdin>");
}

}  // namespace

void AddFilterFlags(CLI::App* cmd, FilterFlags* f) {
  f->o_exclude = cmd->add_option("--exclude", f->exclude, "exclude files matching PATTERN")
                     ->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  f->o_include = cmd->add_option("--include", f->include, "don't exclude files matching PATTERN")
                     ->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  f->o_exclude_from = cmd->add_option("--exclude-from", f->exclude_from, "read exclude patterns from FILE")
                          ->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  f->o_include_from = cmd->add_option("--include-from", f->include_from, "read include patterns from FILE")
                          ->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

Result<std::shared_ptr<const FilterList>> BuildFilter(CLI::App& cmd, const FilterFlags& f) {
  auto out = std::make_shared<FilterList>();
  size_t ne = 0, ni = 0, nef = 0, nif = 0;
  for (CLI::Option* o : cmd.parse_order()) {
    if (o == f.o_exclude) {
      RETURN_IF_ERROR(out->AddRule(RuleType::kExclude, f.exclude.at(ne++)));
    } else if (o == f.o_include) {
      RETURN_IF_ERROR(out->AddRule(RuleType::kInclude, f.include.at(ni++)));
    } else if (o == f.o_exclude_from) {
      RETURN_IF_ERROR(AddRulesFrom(out.get(), RuleType::kExclude, f.exclude_from.at(nef++)));
    } else if (o == f.o_include_from) {
      RETURN_IF_ERROR(AddRulesFrom(out.get(), RuleType::kInclude, f.include_from.at(nif++)));
    }
  }
  if (out->empty()) return std::shared_ptr<const FilterList>();
  return std::shared_ptr<const FilterList>(std::move(out));
}

}  // namespace ferry::cli
