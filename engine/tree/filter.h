// FilterList: rsync-compatible include/exclude rules (--exclude, --include,
// --exclude-from, --include-from), consulted by the directory walk for every
// path.
//
// Semantics follow rsync 3.x ("FILTER RULES" and "PATTERN MATCHING RULES" in
// rsync(1); exclude.c rule_matches() and lib/wildmatch.c), and a test compares
// the decisions with the real rsync binary:
//  * Rules are kept in the order added; the first rule that matches a path
//    decides (exclude or include). A path no rule matches is included.
//  * Wildcards: '?' is one character except '/'; '*' is a run of characters
//    except '/'; '**' (or more stars) is any run including '/'; '[...]' is a
//    class ('!' or '^' negates, ranges, [:alpha:] and the other POSIX names,
//    ASCII only; a class never matches '/'). A backslash escapes the next
//    character, but only in a pattern that holds a wildcard ('*', '?', '[');
//    without one the pattern is compared literally, backslashes included.
//  * A trailing '/' makes the rule match directories only.
//  * A leading '/' anchors the pattern at the transfer root.
//  * A pattern with no '/' (besides a trailing one) and no '**' is matched
//    against the last path component only. Otherwise it is matched against
//    the whole relative path: anchored if it starts with '/'; else, with no
//    '**', against the last N components (N = slashes + 1, so "a/b" matches
//    "x/a/b"); else, with a '**' not at the start, at the start or after any
//    '/' ("a/**/b" matches "x/a/y/b"); a pattern starting with '**' matches
//    as if the path had a leading '/' ("**/foo" matches "foo").
//  * A pattern ending in "***" also matches the directory itself: "dir/***"
//    matches the directory dir and everything below it. "dir/**" matches only
//    what is below dir, not dir itself. "/foo/**/bar" needs at least one
//    directory between foo and bar.
//
// Rule text (AddRule and each line of a rules file) is parsed like rsync's
// --exclude/--include arguments and --exclude-from/--include-from lines,
// which accept rsync's "old-style" prefixes:
//  * "- PATTERN" is an exclude and "+ PATTERN" an include whatever the
//    default type ("+ " and "- " are dash/plus followed by exactly one space;
//    further spaces belong to the pattern). rsync does this for the command
//    line options too: `--exclude='+ *.c'` is an include.
//  * A rule that is exactly "!" clears every rule added before it.
//  * Everything else is a pattern of the default type, taken verbatim:
//    leading and trailing spaces are part of the pattern.
// In files, lines end at '\n' or '\r' (so CRLF files work); empty lines and
// lines whose first character is ';' or '#' are ignored (a '#' elsewhere is
// part of the pattern). Other rsync --filter syntax (merge, dir-merge,
// modifiers such as "-!" or "-/", hide/protect/risk) is not supported: such
// a line is taken as a plain pattern, as rsync does in --exclude-from files.
//
// Deliberate deviations from rsync: rsync ignores an empty --exclude='' and
// silently keeps patterns that can never match (an unterminated '[', an
// unknown [:name:], a trailing backslash in a wildcard pattern, a pattern of
// 4096 bytes or more); AddRule rejects them with kInvalidArgument instead.
//
// Thread safety: const methods (Excluded, empty, size) may run concurrently
// from any number of threads; mutating methods need exclusive access.
// Cost: Add* compiles each pattern once. Excluded() does not allocate; it
// walks the rules in order, each a literal compare or a backtracking match
// bounded like rsync's wildmatch (no regex).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace ferry {

// The default kind of a rule: --exclude/--exclude-from versus
// --include/--include-from. A "+ "/"- " prefix in the text overrides it.
enum class RuleType { kExclude, kInclude };

class FilterList {
 public:
  FilterList();
  ~FilterList();
  FilterList(const FilterList&);
  FilterList& operator=(const FilterList&);
  FilterList(FilterList&&) noexcept;
  FilterList& operator=(FilterList&&) noexcept;

  // Adds one rule as `--exclude=TEXT` (kExclude) or `--include=TEXT`
  // (kInclude) would, after the rules already added. "!" clears the list.
  // Errors (kInvalidArgument, list unchanged): empty text, a bare "- " or
  // "+ ", or a malformed pattern; the message quotes the rule, e.g.
  //   bad filter rule "*.[ch": unterminated '[' character class
  Status AddRule(RuleType type, std::string_view text);

  // Reads rules from a file, one per line, as `--exclude-from=PATH`
  // (kExclude) or `--include-from=PATH` (kInclude) would (see above for the
  // line syntax). All or nothing: on any error no rule of the file is added.
  // Errors: the file cannot be opened or read (the PosixError code, message
  // "open exclude file PATH: <strerror>"), or a bad line (kInvalidArgument,
  // message "PATH:LINE: bad filter rule ..."; LINE counts from 1).
  // Reading standard input for PATH "-" is left to the caller (the CLI), who
  // can pass the text to AddRulesFromText. The file is read with plain POSIX
  // calls: it is local configuration, not part of the source or destination
  // tree, so it does not go through the IoBackend seam.
  Status AddRulesFromFile(RuleType type, const std::string& path);

  // As AddRulesFromFile, on text already read; source_name stands for PATH
  // in error messages.
  Status AddRulesFromText(RuleType type, std::string_view text,
                          std::string_view source_name);

  // True when relpath is excluded: the first matching rule is an exclude.
  // relpath: relative to the transfer root, '/'-separated, no leading or
  // trailing '/', no "." or ".." components ("a/b/c.txt"). is_dir: relpath
  // is a directory (not a symlink to one). The empty path (the root itself)
  // is never excluded. The caller must not descend into an excluded
  // directory: rules are not re-checked against ancestors here.
  bool Excluded(std::string_view relpath, bool is_dir) const;

  bool empty() const;
  size_t size() const;  // the rules in effect; a "!" is not one

  // The rules in effect, in order, each as "- PATTERN" or "+ PATTERN" with
  // the pattern as given: AddRule(kExclude, text) of each, in order, on an
  // empty list rebuilds an equal list (how a remote sync sends its rules).
  std::vector<std::string> Texts() const;

  // Removes every rule (what a "!" rule does).
  void Clear();

  struct Rule;  // a compiled pattern; defined in filter.cc

 private:
  std::vector<Rule> rules_;
};

}  // namespace ferry
