// `ferry plan check` semantics: each class of mistake in a plan file is
// reported with its line and column and what was expected, and all of them
// at once.
#include "engine/plan/parse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/plan/compile.h"

namespace ferry::plan {
namespace {

// A valid plan; tests replace or append pieces of it.
constexpr const char* kBase = R"([endpoints]
old = "/srv/old"
new = "/srv/new"

[[phases]]
kind = "stage-one"

[[phases]]
kind = "cutover"

[[accounts]]
name = "alice"
source = "old"
destination = "new"
  [[accounts.paths]]
  path = "alice"
)";

std::vector<Diagnostic> Check(const std::string& text) {
  std::vector<Diagnostic> d;
  Plan p = ParsePlan(text, "plan.toml", &d);
  if (d.empty()) CompilePlan(p, &d);
  return d;
}

std::string All(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const Diagnostic& x : d) s += x.ToString() + "\n";
  return s;
}

// Exactly one diagnostic, at line:col, whose message contains `what`.
void ExpectOne(const std::string& text, int line, int col, const std::string& what) {
  std::vector<Diagnostic> d = Check(text);
  ASSERT_EQ(d.size(), 1u) << All(d);
  EXPECT_EQ(d[0].pos.line, line) << All(d);
  EXPECT_EQ(d[0].pos.column, col) << All(d);
  EXPECT_NE(d[0].message.find(what), std::string::npos) << All(d);
  EXPECT_EQ(d[0].ToString().rfind("plan.toml:" + std::to_string(line) + ":" +
                                       std::to_string(col) + ": ", 0),
            0u)
      << d[0].ToString();
}

TEST(PlanParse, BaseIsValid) { EXPECT_EQ(All(Check(kBase)), ""); }

TEST(PlanParse, TomlSyntaxError) {
  ExpectOne(std::string(kBase) + "name = \n", 17, 8, "TOML syntax error");
}

TEST(PlanParse, UnknownKeyNamesTheExpectedOnes) {
  ExpectOne(std::string(kBase) + "  [[accounts.hooks]]\n  phase = \"cutover\"\n  when = "
            "\"freeze\"\n  on = \"source\"\n  command = \"true\"\n  timout = \"5s\"\n",
            22, 3, "unknown key 'timout' in [[accounts.hooks]] (expected one of: phase, when, on, "
                   "command, timeout)");
}

TEST(PlanParse, UnknownTopLevelKey) {
  ExpectOne("concurency = 2\n" + std::string(kBase), 1, 1, "unknown key 'concurency'");
}

TEST(PlanParse, WrongType) {
  ExpectOne("concurrency = \"2\"\n" + std::string(kBase), 1, 15,
            "'concurrency' in the top level must be an integer, got a string");
}

TEST(PlanParse, MissingRequiredField) {
  std::string t = kBase;
  t.replace(t.find("source = \"old\"\n"), 15, "");
  ExpectOne(t, 11, 1, "[[accounts]]: missing required key 'source' (a string)");
}

TEST(PlanParse, BadEndpoint) {
  std::string t = kBase;
  t.replace(t.find("\"/srv/new\""), 10, "\"srv/new\"");
  ExpectOne(t, 3, 7, "endpoint 'new': bad endpoint \"srv/new\": a local path must be absolute");
}

TEST(PlanParse, BadDaemonPort) {
  std::string t = kBase;
  t.replace(t.find("\"/srv/new\""), 10, "\"ferry://h:99999/mod\"");
  ExpectOne(t, 3, 7, "port must be a number from 1 to 65535");
}

TEST(PlanParse, BadDuration) {
  ExpectOne(std::string(kBase) + "[[phases]]\nkind = \"wait\"\nmin_delay = \"10 minutes\"\n", 19,
            13, "bad duration \"10 minutes\": expected a number followed by ms, s, m, h or d");
}

TEST(PlanParse, BadThreshold) {
  std::string t = kBase;
  t.replace(t.find("kind = \"cutover\""), 16,
            "kind = \"delta\"\nuntil_bytes = \"lots\"\nmax_passes = 0");
  std::vector<Diagnostic> d = Check(t);
  ASSERT_EQ(d.size(), 2u) << All(d);
  EXPECT_EQ(d[0].pos.line, 10) << All(d);
  EXPECT_NE(d[0].message.find("bad threshold 'until_bytes': bad size \"lots\""),
            std::string::npos)
      << All(d);
  EXPECT_EQ(d[1].pos.line, 11) << All(d);
  EXPECT_NE(d[1].message.find("bad threshold 'max_passes': expected 1 to 1000, got 0"),
            std::string::npos)
      << All(d);
}

TEST(PlanParse, ThresholdOnTheWrongPhaseKind) {
  std::string t = kBase;
  t.replace(t.find("kind = \"stage-one\""), 18, "kind = \"stage-one\"\nmax_passes = 3");
  ExpectOne(t, 7, 14, "'max_passes' applies only to delta phases, not stage-one");
}

TEST(PlanParse, AccountDeltaThresholdErrors) {
  std::string t = std::string(kBase) +
                  "  [accounts.delta]\n  until_bytes = \"lots\"\n  max_passes = 0\n  typo = 1\n";
  std::vector<Diagnostic> d = Check(t);
  ASSERT_EQ(d.size(), 3u) << All(d);
  std::string all = All(d);
  EXPECT_NE(all.find("plan.toml:18:17: bad threshold 'until_bytes': bad size \"lots\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("plan.toml:19:16: bad threshold 'max_passes': expected 1 to 1000, got 0"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("plan.toml:20:3: unknown key 'typo' in [accounts.delta] (expected one of: "
                     "until_bytes, until_time, max_passes)"),
            std::string::npos)
      << all;
}

TEST(PlanParse, AccountDeltaMustBeATable) {
  std::string t = kBase;
  t.replace(t.find("destination = \"new\""), 19, "destination = \"new\"\ndelta = 3");
  ExpectOne(t, 15, 9, "'delta' of [[accounts]] 'alice' must be a table");
}

// An account's [accounts.delta] overrides the phase's thresholds key by key,
// for that account only.
TEST(PlanParse, AccountDeltaOverridesThePhaseKeyByKey) {
  std::string t = kBase;
  t.replace(t.find("kind = \"cutover\""), 16,
            "kind = \"delta\"\nuntil_bytes = \"1MiB\"\nmax_passes = 3");
  t += "  [accounts.delta]\n  until_time = \"30s\"\n  max_passes = 7\n"
       "[[accounts]]\nname = \"bob\"\nsource = \"old\"\ndestination = \"new\"\n"
       "  [[accounts.paths]]\n  path = \"bob\"\n";
  std::vector<Diagnostic> d;
  Plan p = ParsePlan(t, "plan.toml", &d);
  StepGraph g = CompilePlan(p, &d);
  ASSERT_TRUE(d.empty()) << All(d);
  const Step* alice = nullptr;
  const Step* bob = nullptr;
  for (const Step& s : g.steps) {
    if (s.id == "delta/alice/sync.1") alice = &s;
    if (s.id == "delta/bob/sync.1") bob = &s;
  }
  ASSERT_TRUE(alice && bob) << FormatGraph(g);
  EXPECT_EQ(alice->until_bytes, std::optional<uint64_t>(1024 * 1024));  // from the phase
  EXPECT_EQ(alice->until_ms, std::optional<int64_t>(30'000));           // the account's
  EXPECT_EQ(alice->max_passes, 7);
  EXPECT_EQ(bob->until_bytes, std::optional<uint64_t>(1024 * 1024));
  EXPECT_EQ(bob->until_ms, std::nullopt);
  EXPECT_EQ(bob->max_passes, 3);
  EXPECT_NE(FormatStep(g, *alice).find("bytes<1.0MiB or time<30s or passes=7"), std::string::npos)
      << FormatStep(g, *alice);
}

TEST(PlanParse, UnknownPhaseKind) {
  std::string t = kBase;
  t.replace(t.find("\"cutover\""), 9, "\"cut-over\"");
  ExpectOne(t, 9, 8, "unknown phase kind \"cut-over\": expected stage-one, wait, delta, cutover "
                     "or rollback");
}

TEST(PlanParse, HookNamesUnknownPhase) {
  ExpectOne(std::string(kBase) + "  [[accounts.hooks]]\n  phase = \"cutovr\"\n  when = "
            "\"freeze\"\n  on = \"source\"\n  command = \"true\"\n",
            18, 11, "hook names unknown phase \"cutovr\" (phases: stage-one, cutover)");
}

TEST(PlanParse, HookWithoutCommand) {
  ExpectOne(std::string(kBase) + "  [[accounts.hooks]]\n  phase = \"cutover\"\n  when = "
            "\"freeze\"\n  on = \"source\"\n",
            17, 3, "hook without command");
}

TEST(PlanParse, HookSlotThePhaseDoesNotHave) {
  ExpectOne(std::string(kBase) + "  [[accounts.hooks]]\n  phase = \"stage-one\"\n  when = "
            "\"switch\"\n  on = \"source\"\n  command = \"true\"\n",
            19, 10, "hook 'when' \"switch\" does not exist in stage-one phase \"stage-one\" "
                    "(expected before, after)");
}

TEST(PlanParse, AccountReferencesUnknownEndpoint) {
  std::string t = kBase;
  t.replace(t.find("destination = \"new\""), 19, "destination = \"nwe\"");
  ExpectOne(t, 14, 15, "account destination \"nwe\" is not an endpoint (defined: new, old)");
}

TEST(PlanParse, DuplicateAccount) {
  std::string t = kBase;
  t += t.substr(t.find("[[accounts]]"));
  ExpectOne(t, 17, 1, "duplicate account \"alice\" (first at line 11)");
}

TEST(PlanParse, DuplicatePhaseName) {
  ExpectOne(std::string(kBase) + "[[phases]]\nname = \"stage-one\"\nkind = \"wait\"\n", 17, 1,
            "duplicate phase name \"stage-one\" (first at line 5)");
}

TEST(PlanParse, BadFilterRule) {
  std::string t = std::string(kBase) + "  filter = [\"- cache/\", \"*.[ch\"]\n";
  ExpectOne(t, 17, 25, "bad filter rule \"*.[ch\": unterminated '[' character class");
}

TEST(PlanParse, BadUserMap) {
  std::string t = kBase;
  t.replace(t.find("destination = \"new\""), 19,
            "destination = \"new\"\nusermap = \"alice:,bob:robert\"");
  ExpectOne(t, 15, 11, "usermap: bad pair \"alice:\": expected FROM:TO");
}

TEST(PlanParse, OrderingDeltaAfterCutover) {
  ExpectOne(std::string(kBase) + "[[phases]]\nkind = \"delta\"\n", 17, 1,
            "delta phase \"delta\" comes after the cutover of leg direct: after cutover the "
            "destination is authoritative");
}

TEST(PlanParse, OrderingRollbackWithoutCutover) {
  std::string t = kBase;
  t.replace(t.find("kind = \"cutover\""), 16, "kind = \"rollback\"");
  ExpectOne(t, 8, 1, "rollback phase \"rollback\" has no cutover of leg direct before it");
}

TEST(PlanParse, OrderingWaitFirst) {
  ExpectOne("[[phases]]\nkind = \"wait\"\nmin_delay = \"1h\"\n" + std::string(kBase), 1, 1,
            "wait phase \"wait\" comes first");
}

TEST(PlanParse, TransitLegWithoutTransitEndpoint) {
  std::string t = kBase;
  t.replace(t.find("kind = \"stage-one\""), 18, "kind = \"stage-one\"\nleg = \"out\"");
  ExpectOne(t, 5, 1, "has leg 'out' but no account names a 'transit' endpoint");
}

TEST(PlanParse, DaemonEndpointTable) {
  std::string t = kBase;
  t.replace(t.find("\"/srv/new\""), 10,
            "{ url = \"ferry://bob@h2:9000/web/site\", password_file = \"/etc/f.secret\" }");
  std::vector<Diagnostic> d;
  Plan p = ParsePlan(t, "plan.toml", &d);
  ASSERT_EQ(All(d), "");
  const Endpoint* e = p.FindEndpoint("new");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->kind, EndpointKind::kDaemon);
  EXPECT_EQ(e->user, "bob");
  EXPECT_EQ(e->port, 9000);
  EXPECT_EQ(e->module, "web");
  EXPECT_EQ(e->password_file, "/etc/f.secret");
  EXPECT_EQ(EndpointDisplay(*e, "site/alice/"), "ferry://bob@h2:9000/web/site/alice/");
}

TEST(PlanParse, EndpointTableErrors) {
  std::string t = kBase;
  t.replace(t.find("\"/srv/new\""), 10, "{ password_file = \"/etc/f.secret\" }");
  ExpectOne(t, 3, 7, "endpoint 'new': missing required key 'url'");
  t = kBase;
  t.replace(t.find("\"/srv/new\""), 10, "{ url = \"ferry://h2/web\", secret = \"x\" }");
  ExpectOne(t, 3, 33, "unknown key 'secret' in endpoint 'new'");
  t = kBase;
  t.replace(t.find("\"/srv/new\""), 10, "{ url = \"h2:/srv\", password_file = \"/f\" }");
  ExpectOne(t, 3, 7, "'password_file' is only for a ferry daemon endpoint");
}

TEST(PlanParse, HookOnDaemonEndpoint) {
  std::string t = kBase;
  t.replace(t.find("\"/srv/new\""), 10, "\"ferry://h2/web\"");
  t += "  [[accounts.hooks]]\n  phase = \"cutover\"\n  when = \"switch\"\n  on = "
       "\"destination\"\n  command = \"true\"\n";
  ExpectOne(t, 20, 8, "a ferry daemon: hooks need a local or ssh endpoint");
}

TEST(PlanParse, SameSourceAndDestinationWithoutTransit) {
  std::string t = kBase;
  t.replace(t.find("destination = \"new\""), 19, "destination = \"old\"");
  ExpectOne(t, 14, 15, "source and destination are the same endpoint \"old\"");
}

TEST(PlanParse, ReportsAllErrorsAtOnce) {
  std::string t = "concurrency = 0\n" + std::string(kBase);
  t.replace(t.find("\"/srv/old\""), 10, "\"old\"");
  t.replace(t.find("kind = \"stage-one\""), 18, "kind = \"stageone\"");
  t += "  kind = \"mbox\"\n";
  std::vector<Diagnostic> d = Check(t);
  ASSERT_EQ(d.size(), 4u) << All(d);
  EXPECT_NE(All(d).find("plan.toml:1:15: bad 'concurrency' 0"), std::string::npos) << All(d);
  EXPECT_NE(All(d).find("plan.toml:3:7: endpoint 'old'"), std::string::npos) << All(d);
  EXPECT_NE(All(d).find("plan.toml:7:8: unknown phase kind \"stageone\""), std::string::npos)
      << All(d);
  EXPECT_NE(All(d).find("plan.toml:18:10: bad path kind \"mbox\""), std::string::npos) << All(d);
}

}  // namespace
}  // namespace ferry::plan
