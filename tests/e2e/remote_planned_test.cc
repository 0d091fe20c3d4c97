// The totals of a remote pass (issue 6): over the remote-shell stand-in
// (two real ferry processes), a push and a pull fire OnPlanned once with
// what this pass sends - the files that changed and their sizes, not the
// whole tree - and the pass then sends exactly that. For a push only the
// remote receiver knows it (PlannedTotals, PROTOCOL.md capability 7).
// `ferry sync --json` reports them in a "planned" event and `--progress`
// ends at 100% of them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "protocol/session/client.h"
#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

// What OnPlanned said, and how much data had landed by then.
class PlannedRecorder : public SyncEvents {
 public:
  void OnChange(const Change& c) override {
    if (c.bytes > 0) ++data_changes;
  }
  void OnPlanned(const SyncStats& s) override {
    ++calls;
    files = s.planned_files.load();
    bytes = s.planned_bytes.load();
    planned_flag = s.planned.load();
  }
  int calls = 0;
  uint64_t files = 0, bytes = 0;
  bool planned_flag = false;
  int data_changes = 0;
};

class RemotePlannedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    // 60 files in 3 directories, then a first sync makes DST equal.
    for (int i = 0; i < 60; ++i)
      WriteFile(S("d" + std::to_string(i % 3) + "/f" + std::to_string(i)),
                Pattern(1000 + 37 * static_cast<size_t>(i), static_cast<unsigned>(i)));
  }

  // The second pass's changes: two files rewritten with other sizes, one
  // new; returns their total size.
  uint64_t Change() {
    const std::string a = Pattern(5555, 901), b = Pattern(70001, 902), c = Pattern(300000, 903);
    WriteFile(S("d0/f3"), a);
    WriteFile(S("d1/f4"), b);
    WriteFile(S("d2/new.bin"), c);
    return a.size() + b.size() + c.size();
  }

  Result<protocol::RemoteResult> Run(bool push, SyncStats& stats, SyncEvents& ev) {
    protocol::RemoteOptions ro;
    ro.rsh = FERRY_STANDIN;
    ro.remote_ferry = FERRY_BIN;
    SyncOptions opt;
    return push ? protocol::RunRemoteSync(src_ + "/", "testhost:" + dst_ + "/", opt, ro, stats, ev)
                : protocol::RunRemoteSync("testhost:" + src_ + "/", dst_ + "/", opt, ro, stats,
                                          ev);
  }

  // A first sync, the changes, then the pass under test.
  void ExpectChangedTotals(bool push) {
    {
      SyncStats stats;
      PlannedRecorder ev;
      auto first = Run(push, stats, ev);
      ASSERT_TRUE(first.ok()) << first.status().message();
      EXPECT_EQ(ev.calls, 1);
      EXPECT_EQ(ev.files, 60u);
    }
    const uint64_t changed = Change();
    SyncStats stats;
    PlannedRecorder ev;
    auto r = Run(push, stats, ev);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE(r->outcome.partial);
    EXPECT_EQ(ev.calls, 1) << "OnPlanned once per pass";
    EXPECT_TRUE(ev.planned_flag);
    EXPECT_EQ(ev.files, 3u);
    EXPECT_EQ(ev.bytes, changed);
    // And the pass sent exactly what it planned.
    EXPECT_EQ(stats.transferred_files.load(), 3u);
    EXPECT_EQ(stats.transferred_bytes.load(), changed);
    EXPECT_EQ(stats.literal_bytes.load() + stats.matched_bytes.load(), changed);
    EXPECT_EQ(ReadFile(D("d2/new.bin")), ReadFile(S("d2/new.bin")));
  }

  Proc Ferry(std::vector<std::string> args) {
    std::vector<std::string> argv = {FERRY_BIN, "sync", "-e", FERRY_STANDIN, "--remote-ferry",
                                     FERRY_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path());
  }

  std::string S(const std::string& rel) const { return src_ + "/" + rel; }
  std::string D(const std::string& rel) const { return dst_ + "/" + rel; }

  TempDir tmp_;
  std::string src_, dst_;
};

TEST_F(RemotePlannedTest, PushFiresOnPlannedWithTheChangedFiles) { ExpectChangedTotals(true); }

TEST_F(RemotePlannedTest, PullFiresOnPlannedWithTheChangedFiles) { ExpectChangedTotals(false); }

// The CLI: --json's "start" (totals unknown yet) is followed by "planned"
// with the receiver's totals; --progress ends at 100% of them.
TEST_F(RemotePlannedTest, SyncJsonAndProgressShowTheRemoteTotals) {
  Proc first = Ferry({"--no-progress", src_ + "/", "testhost:" + dst_ + "/"});
  ASSERT_EQ(first.code, 0) << first.Dump();
  const uint64_t changed = Change();
  Proc p = Ferry({"--json", "--progress", src_ + "/", "testhost:" + dst_ + "/"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  std::vector<nlohmann::json> planned;
  std::string first_event;
  size_t pos = 0;
  while (pos < p.out.size()) {
    const size_t nl = p.out.find('\n', pos);
    nlohmann::json j = nlohmann::json::parse(p.out.substr(pos, nl - pos));
    if (first_event.empty()) first_event = j.at("event");
    if (j.at("event") == "planned") planned.push_back(j);
    pos = nl == std::string::npos ? p.out.size() : nl + 1;
  }
  EXPECT_EQ(first_event, "start") << p.out;
  ASSERT_EQ(planned.size(), 1u) << p.out;
  EXPECT_EQ(planned[0]["planned_files"], 3) << p.out;
  EXPECT_EQ(planned[0]["planned_bytes"], changed) << p.out;
  // 5,555 + 70,001 + 300,000 bytes = 366.8 KiB.
  EXPECT_NE(p.err.find("sync: done  366.8 KiB / 366.8 KiB  100%  3/3 files"), std::string::npos)
      << p.Dump();
  // A pull's progress has the same totals.
  WriteFile(S("d0/f5"), Pattern(2048, 904));
  Proc q = Ferry({"--progress", "testhost:" + src_ + "/", dst_ + "/"});
  ASSERT_EQ(q.code, 0) << q.Dump();
  EXPECT_NE(q.err.find("sync: done  2.0 KiB / 2.0 KiB  100%  1/1 files"), std::string::npos)
      << q.Dump();
}

}  // namespace
}  // namespace ferry::e2e
