// `ferry sync --json` as automation reads it (one JSON object per line:
// start, a file event per change, errors with their path, the summary), and
// the progress line: none when stderr is not a terminal, unless --progress.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

using CliSyncEventsTest = E2eTest;

// Every stdout line as JSON; a line that does not parse fails the test.
std::vector<nlohmann::json> Events(const Proc& p) {
  std::vector<nlohmann::json> out;
  for (const std::string& l : Lines(p.out)) {
    auto j = nlohmann::json::parse(l, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not one JSON object: " << l;
    EXPECT_TRUE(j.is_object() && j.contains("event")) << l;
    if (!j.is_discarded()) out.push_back(j);
  }
  return out;
}

std::map<std::string, nlohmann::json> Sent(const std::vector<nlohmann::json>& ev) {
  std::map<std::string, nlohmann::json> m;
  for (const auto& e : ev)
    if (e["event"] == "file" && e["action"] == "send") m[e["path"].get<std::string>()] = e;
  return m;
}

TEST_P(CliSyncEventsTest, JsonEventsOnePerLineWithAFileEventPerTransferredFile) {
  std::map<std::string, size_t> files = {
      {"a", 10}, {"b", 0}, {"sub/c", 70000}, {"sub/deeper/d", 300000}, {"e", 1}};
  uint64_t total = 0;
  for (auto& [rel, size] : files) {
    WriteFile(S(rel), std::string(size, 'x'));
    total += size;
  }
  ASSERT_EQ(::symlink("a", S("link").c_str()), 0);

  Proc p = Sync({"--json", src_ + "/", dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  auto ev = Events(p);
  ASSERT_GE(ev.size(), 3u) << p.Dump();
  EXPECT_EQ(ev.front()["event"], "start") << p.out;
  EXPECT_EQ(ev.front()["planned_files"], files.size());
  EXPECT_EQ(ev.front()["planned_bytes"], total);
  EXPECT_EQ(ev.back()["event"], "summary") << p.out;
  EXPECT_EQ(ev.back()["transferred_files"], files.size());
  EXPECT_EQ(ev.back()["exit_code"], 0);

  auto sent = Sent(ev);
  ASSERT_EQ(sent.size(), files.size()) << p.out;
  for (auto& [rel, size] : files) {
    ASSERT_TRUE(sent.count(rel)) << rel << " has no file event\n" << p.out;
    EXPECT_EQ(sent[rel]["bytes"], size) << rel;
    EXPECT_EQ(sent[rel]["item"], ">f+++++++++") << rel;
  }
  bool link_seen = false;
  for (const auto& e : ev)
    if (e["event"] == "file" && e["path"] == "link") {
      link_seen = true;
      EXPECT_EQ(e["action"], "create");
      EXPECT_EQ(e["target"], "a");
    }
  EXPECT_TRUE(link_seen) << p.out;

  // The next pass: one file changed, one file event with its new size; a dry
  // run reports the same and moves nothing.
  WriteFile(S("sub/c"), std::string(123, 'y'));
  Proc dry = Sync({"--json", "-n", src_ + "/", dst_ + "/"});
  ASSERT_EQ(dry.code, 0) << dry.Dump();
  auto dry_sent = Sent(Events(dry));
  ASSERT_EQ(dry_sent.size(), 1u) << dry.out;
  EXPECT_EQ(dry_sent["sub/c"]["bytes"], 123);
  EXPECT_EQ(ReadFile(D("sub/c")).size(), 70000u) << "a dry run wrote";
  Proc again = Sync({"--json", src_ + "/", dst_ + "/"});
  ASSERT_EQ(again.code, 0) << again.Dump();
  auto again_sent = Sent(Events(again));
  ASSERT_EQ(again_sent.size(), 1u) << again.out;
  EXPECT_EQ(again_sent["sub/c"]["bytes"], 123);
}

TEST_P(CliSyncEventsTest, ErrorsCarryThePath) {
  // DST holds a non-empty directory where SRC has a file: without --delete
  // ferry refuses to replace it (as rsync does), reports it, and goes on.
  WriteFile(S("blocker"), "file in SRC");
  WriteFile(S("fine"), "copied");
  WriteFile(D("blocker/keep"), "DST content");
  Proc p = Sync({"--json", src_ + "/", dst_ + "/"});
  EXPECT_EQ(p.code, 23) << p.Dump();
  auto ev = Events(p);
  int errors = 0;
  for (const auto& e : ev) {
    if (e["event"] != "error") continue;
    ++errors;
    EXPECT_EQ(e["path"], "blocker") << e.dump();
    EXPECT_NE(e["cause"].get<std::string>().find("blocker"), std::string::npos) << e.dump();
  }
  EXPECT_EQ(errors, 1) << p.out;
  EXPECT_TRUE(Sent(ev).count("fine")) << p.out;
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back()["event"], "summary");
  EXPECT_EQ(ev.back()["errors"], 1);
  EXPECT_NE(p.err.find("blocker"), std::string::npos) << "stderr keeps the text message";
}

TEST_P(CliSyncEventsTest, MissingSourceIsAnErrorEventNamingIt) {
  Proc p = Sync({"--json", tmp_ / "no_such_source", dst_ + "/"});
  EXPECT_EQ(p.code, 23) << p.Dump();
  auto ev = Events(p);
  ASSERT_EQ(ev.size(), 2u) << p.out;
  EXPECT_EQ(ev[0]["event"], "error");
  EXPECT_EQ(ev[0]["path"], tmp_ / "no_such_source");
  EXPECT_EQ(ev[1]["event"], "summary");
}

TEST_P(CliSyncEventsTest, NoProgressOffATerminalUnlessAsked) {
  WriteFile(S("a"), std::string(1000, 'a'));
  std::string io = std::string("--io=") + GetParam().name;
  // stderr is a file here: not a terminal.
  Proc quiet = RunProcess({Ferry(), "sync", io, src_ + "/", dst_ + "/"}, tmp_.path());
  ASSERT_EQ(quiet.code, 0) << quiet.Dump();
  EXPECT_EQ(quiet.err.find('\r'), std::string::npos) << quiet.Dump();
  EXPECT_EQ(quiet.out, "");

  WriteFile(S("b"), std::string(1000, 'b'));
  Proc forced = RunProcess({Ferry(), "sync", io, "--progress", src_ + "/", dst_ + "/"}, tmp_.path());
  ASSERT_EQ(forced.code, 0) << forced.Dump();
  // Off a terminal, whole lines (a log), the last one at 100%.
  EXPECT_EQ(forced.err.find('\r'), std::string::npos) << forced.Dump();
  EXPECT_TRUE(forced.err.ends_with("\n")) << forced.Dump();
  EXPECT_NE(forced.err.find("sync: done  1000 B / 1000 B  100%  1/1 files"), std::string::npos)
      << forced.Dump();
  EXPECT_EQ(forced.out, "") << "progress goes to stderr only";

  // --json with --progress: stdout still holds only JSON lines.
  WriteFile(S("c"), std::string(1000, 'c'));
  Proc both = RunProcess({Ferry(), "sync", io, "--json", "--progress", src_ + "/", dst_ + "/"},
                         tmp_.path());
  ASSERT_EQ(both.code, 0) << both.Dump();
  EXPECT_EQ(Sent(Events(both)).size(), 1u) << both.Dump();
  EXPECT_NE(both.err.find("sync: done"), std::string::npos) << both.Dump();
}

TEST_P(CliSyncEventsTest, InterruptExits20LikeRsync) {
  WriteFile(S("a"), "a");
  // ferry blocks opening the FIFO for --exclude-from, after it has set up its
  // signal handling: once our open for writing returns, ferry is waiting.
  std::string fifo = tmp_ / "rules";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string err = tmp_ / "err";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (e < 0) ::_exit(126);
    ::dup2(e, 2);
    std::string io = std::string("--io=") + GetParam().name;
    ::execl(Ferry().c_str(), "ferry", "sync", io.c_str(), "--exclude-from", fifo.c_str(),
            (src_ + "/").c_str(), (dst_ + "/").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int w = ::open(fifo.c_str(), O_WRONLY);
  ASSERT_GE(w, 0);
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(w);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 20);
  EXPECT_NE(ReadFile(err).find("interrupted"), std::string::npos) << ReadFile(err);
}

FERRY_E2E_INSTANTIATE(CliSyncEventsTest);

}  // namespace
}  // namespace ferry::e2e
