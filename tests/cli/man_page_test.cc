// doc/ferry.1 against the built binary: every subcommand (nested ones too)
// has a section, every flag its `--help` lists appears in that section, every
// `--help` carries examples, and groff renders the page without a warning.
// A new flag without documentation fails here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/testing/temp_tree.h"

namespace ferry {
namespace {

using ::ferry::testing::ReadFile;
using ::ferry::testing::Shell;

std::string Help(const std::string& sub) {
  std::string out;
  int rc = Shell(std::string(FERRY_BINARY) + (sub.empty() ? "" : " " + sub) + " --help 2>&1", &out);
  EXPECT_EQ(rc, 0) << "ferry " << sub << " --help\n" << out;
  return out;
}

std::vector<std::string> Section(const std::string& help, const std::string& title) {
  std::vector<std::string> lines;
  std::istringstream in(help);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == title + ":") {
      inside = true;
      continue;
    }
    if (inside && (line.empty() || line[0] != ' ')) inside = false;
    if (inside) lines.push_back(line);
  }
  return lines;
}

// Names under "Subcommands:", e.g. "sync".
std::vector<std::string> Subcommands(const std::string& help) {
  std::vector<std::string> names;
  for (const std::string& l : Section(help, "Subcommands")) {
    std::istringstream w(l);
    std::string name;
    if (w >> name) names.push_back(name);
  }
  return names;
}

// Flags of the "Options:" lines: "-a,--archive", "--reflink TEXT:..." ...
std::set<std::string> Flags(const std::string& help) {
  // (No std::regex: GCC 12 warns falsely inside it under the sanitizers.)
  std::set<std::string> flags;
  for (const std::string& l : Section(help, "Options")) {
    // Only the option column: the text after two spaces is the description.
    size_t start = l.find_first_not_of(' ');
    if (start == std::string::npos || l[start] != '-') continue;
    std::string column = l.substr(start);
    size_t type = column.find(' ');
    column = column.substr(0, type);
    std::istringstream names(column);
    std::string name;
    while (std::getline(names, name, ','))
      if (name.size() > 1 && name[0] == '-') flags.insert(name);
  }
  return flags;
}

// The man page with troff's hyphen and font escapes removed, split into its
// `.SS "ferry ..."` sections (title -> text) plus "" for the top level.
std::map<std::string, std::string> ManSections() {
  std::string page = ReadFile(FERRY_MAN_PAGE);
  EXPECT_FALSE(page.empty()) << FERRY_MAN_PAGE;
  std::map<std::string, std::string> sections;
  std::string current;
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(".SS ")) {
      current = line.substr(4);
      if (current.size() >= 2 && current.front() == '"') current = current.substr(1, current.size() - 2);
      continue;
    }
    if (line.starts_with(".SH ")) current = "";
    std::string plain;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '-') {
        plain += '-';
        ++i;
      } else if (line[i] == '\\' && i + 2 < line.size() && line[i + 1] == 'f' &&
                 std::string_view("BIRP").find(line[i + 2]) != std::string_view::npos) {
        i += 2;  // a font change
      } else {
        plain += line[i];
      }
    }
    sections[current] += plain + "\n";
  }
  return sections;
}

// `flag` as a whole token: not part of a longer flag.
bool Mentions(const std::string& text, const std::string& flag) {
  auto is_flag_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; };
  for (size_t at = text.find(flag); at != std::string::npos; at = text.find(flag, at + 1)) {
    bool before = at == 0 || !is_flag_char(text[at - 1]);
    bool after = at + flag.size() >= text.size() || !is_flag_char(text[at + flag.size()]);
    if (before && after) return true;
  }
  return false;
}

TEST(ManPageTest, EverySubcommandAndFlagIsDocumentedInItsSection) {
  auto man = ManSections();
  std::vector<std::string> todo = Subcommands(Help(""));
  ASSERT_FALSE(todo.empty()) << "no subcommands in ferry --help";
  for (const std::string& f : Flags(Help("")))
    EXPECT_TRUE(Mentions(man[""], f)) << "ferry " << f << " is not in ferry.1's OPTIONS";
  int checked = 0;
  while (!todo.empty()) {
    std::string sub = todo.back();
    todo.pop_back();
    std::string help = Help(sub);
    for (const std::string& nested : Subcommands(help)) todo.push_back(sub + " " + nested);
    std::string title = "ferry " + sub;
    ASSERT_TRUE(man.count(title)) << "ferry.1 has no section .SS \"" << title << "\"";
    for (const std::string& f : Flags(help)) {
      ++checked;
      EXPECT_TRUE(Mentions(man[title], f)) << title << " " << f << " is not in its ferry.1 section";
    }
  }
  EXPECT_GT(checked, 60) << "too few flags found: is the --help format still parsed?";
}

TEST(ManPageTest, EveryHelpHasExamples) {
  std::vector<std::string> todo = Subcommands(Help(""));
  EXPECT_NE(Help("").find("Example"), std::string::npos);
  while (!todo.empty()) {
    std::string sub = todo.back();
    todo.pop_back();
    std::string help = Help(sub);
    for (const std::string& nested : Subcommands(help)) todo.push_back(sub + " " + nested);
    EXPECT_NE(help.find("Example"), std::string::npos) << "ferry " << sub << " --help has no example";
    EXPECT_NE(help.find("ferry " + sub.substr(0, sub.find(' '))), std::string::npos)
        << "ferry " << sub << " --help: the example should show the command";
  }
}

TEST(ManPageTest, ExitCodesOfTheHelpTextsAreDocumented) {
  auto man = ManSections();
  std::string page;
  for (auto& [k, v] : man) page += v;
  for (const char* code : {"0", "1", "11", "20", "23", "24", "25", "100", "104", "106", "108"})
    EXPECT_TRUE(Mentions(page, code)) << "exit code " << code << " is not in ferry.1";
}

TEST(ManPageTest, GroffRendersWithoutWarnings) {
  if (::access("/usr/bin/groff", X_OK) != 0)
    GTEST_SKIP() << "groff not installed (apt-get install groff-base)";
  std::string out;
  int rc = Shell(std::string("groff -man -ww -z ") + FERRY_MAN_PAGE + " 2>&1", &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << "groff warnings:\n" << out;
  // And it renders to text that has the page's sections.
  rc = Shell(std::string("groff -man -Tutf8 -P-cbu ") + FERRY_MAN_PAGE + " 2>&1", &out);
  EXPECT_EQ(rc, 0);
  for (const char* s : {"NAME", "SYNOPSIS", "EXIT STATUS", "EXAMPLES", "FILES", "ENVIRONMENT"})
    EXPECT_NE(out.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace ferry
