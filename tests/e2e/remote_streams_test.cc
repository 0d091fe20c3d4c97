// `ferry sync --streams N` over the remote-shell stand-in: N sessions share
// the file list, then a final pass does --delete and directory metadata.
// rsync judges fidelity:
//   rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1 SRC/ DST/
// prints nothing after a push or a pull.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

class RemoteStreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ferry::testing::Shell("command -v rsync >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "rsync is not installed";
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    MakeDirs(src_);
    // A remote shell that logs each start, then runs the stand-in.
    rsh_ = tmp_ / "rsh.sh";
    WriteFile(rsh_, "#!/bin/sh\necho start >> '" + (tmp_ / "rsh.log") + "'\nexec '" +
                        std::string(FERRY_STANDIN) + "' \"$@\"\n",
              0755);
  }

  Proc Sync(std::vector<std::string> args) {
    std::vector<std::string> argv = {Ferry(), "sync", "--no-progress", "-e", rsh_,
                                     "--remote-ferry", Ferry()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path());
  }
  Proc Push(std::vector<std::string> extra = {}) {
    extra.push_back(src_ + "/");
    extra.push_back("testhost:" + dst_ + "/");
    return Sync(extra);
  }
  Proc Pull(std::vector<std::string> extra = {}) {
    extra.push_back("testhost:" + src_ + "/");
    extra.push_back(dst_ + "/");
    return Sync(extra);
  }
  int RemoteStarts() {
    std::string log;
    ferry::testing::Shell("cat '" + (tmp_ / "rsh.log") + "' 2>/dev/null; rm -f '" +
                              (tmp_ / "rsh.log") + "'",
                          &log);
    return static_cast<int>(Lines(log).size());
  }

  std::string Oracle() {
    std::string out;
    ferry::testing::Shell("rsync -aHAXc --dry-run --itemize-changes --delete "
                          "--modify-window=-1 '" + src_ + "/' '" + dst_ + "/' 2>&1", &out);
    return out;
  }
  bool HasTemporaries() {
    std::string out;
    ferry::testing::Shell("find '" + dst_ + "' -name '.~ferry.*'", &out);
    return !out.empty();
  }

  std::string S(const std::string& rel) const { return src_ + "/" + rel; }
  std::string D(const std::string& rel) const { return dst_ + "/" + rel; }

  // Many small files in nested directories, hard-link groups across
  // directories, large files, symlinks, a fifo, modes and directory mtimes.
  void BuildTree() {
    for (int d = 0; d < 6; ++d)
      for (int f = 0; f < 40; ++f)
        WriteFile(S("site" + std::to_string(d) + "/htdocs/f" + std::to_string(f)),
                  Pattern(static_cast<size_t>(f * 131 + d), static_cast<unsigned>(d * 40 + f)));
    for (int g = 0; g < 6; ++g) {
      const std::string leader = S("site" + std::to_string(g) + "/linked");
      WriteFile(leader, "group " + std::to_string(g));
      for (int other = 0; other < 6; ++other) {
        if (other == g) continue;
        ASSERT_EQ(::link(leader.c_str(),
                         S("site" + std::to_string(other) + "/htdocs/link_of_" +
                           std::to_string(g)).c_str()),
                  0);
      }
    }
    WriteFile(S("db/big1.bin"), Pattern((3 << 20) + 11, 1));
    WriteFile(S("db/big2.bin"), Pattern((2 << 20) + 7, 2));
    ASSERT_EQ(::symlink("../db/big1.bin", S("site0/current").c_str()), 0);
    ASSERT_EQ(::mkfifo(S("site1/fifo").c_str(), 0640), 0);
    MakeDirs(S("empty/dir"));
    WriteFile(S("site2/secret"), "s", 0600);
    ASSERT_EQ(::chmod(S("site3").c_str(), 0750), 0);
    SetMtime(S("empty/dir"), 1600000000, 5);
    SetMtime(S("site4/htdocs"), 1500000000, 77);
  }

  TempDir tmp_;
  std::string src_, dst_, rsh_;
};

TEST_F(RemoteStreamsTest, PushWithThreeStreamsMatchesRsync) {
  BuildTree();
  Proc p = Push({"--streams", "3", "--stats"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries());
  EXPECT_EQ(RemoteStarts(), 4) << "3 streams and the final pass";
  EXPECT_TRUE(HasLine(p.out, "streams: 3")) << p.out;
  // 240 small files, 6 hard-link leaders, 2 large, 1 secret: each sent once.
  EXPECT_EQ(StatNumber(p.out, "Number of regular files transferred"), 249) << p.out;
  EXPECT_EQ(LStat(D("site0/linked")).st_ino, LStat(D("site5/htdocs/link_of_0")).st_ino);
}

// --json: one "planned" event for the run (not one per stream), once every
// stream has compared its list, with their plans summed: the files that
// need data, each counted once.
TEST_F(RemoteStreamsTest, JsonPlanSumsTheStreams) {
  BuildTree();
  Proc p = Push({"--streams", "3", "--json"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  std::vector<nlohmann::json> planned;
  nlohmann::json summary;
  for (const std::string& l : Lines(p.out)) {
    auto j = nlohmann::json::parse(l, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << "not one JSON object: " << l;
    if (j["event"] == "planned") planned.push_back(j);
    if (j["event"] == "summary") summary = j;
  }
  ASSERT_EQ(planned.size(), 1u) << p.out;
  EXPECT_EQ(planned[0]["planned_files"], 249) << p.out;
  EXPECT_EQ(planned[0]["planned_files"], summary["transferred_files"]) << p.out;
  EXPECT_EQ(planned[0]["planned_bytes"], summary["transferred_bytes"]) << p.out;
}

TEST_F(RemoteStreamsTest, PullWithThreeStreamsSendsEachFileOnce) {
  BuildTree();
  Proc p = Pull({"--streams", "3", "-i"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries());
  EXPECT_EQ(RemoteStarts(), 4);
  std::map<std::string, int> sent;
  for (const std::string& l : Lines(p.out))
    if (l.starts_with(">f")) sent[l.substr(12)]++;
  EXPECT_EQ(sent.size(), 249u) << p.out;
  for (const auto& [path, n] : sent) EXPECT_EQ(n, 1) << path << " sent by several streams";
  EXPECT_EQ(LStat(D("site1/linked")).st_ino, LStat(D("site0/htdocs/link_of_1")).st_ino);
  // A second run is a no-change pass in every stream.
  Proc again = Pull({"--streams", "3", "-i"});
  ASSERT_EQ(again.code, 0) << again.Dump();
  for (const std::string& l : Lines(again.out)) EXPECT_FALSE(l.starts_with(">f")) << l;
}

TEST_F(RemoteStreamsTest, DeleteRunsOnceAfterTheStreams) {
  BuildTree();
  ASSERT_EQ(Push({"--streams", "3"}).code, 0);
  ASSERT_EQ(::unlink(S("site2/htdocs/f7").c_str()), 0);
  ferry::testing::RemoveTree(S("empty"));
  WriteFile(S("site5/new_file"), "new");
  WriteFile(S("db/big1.bin"), Pattern((3 << 20) + 11, 9));
  WriteFile(D("site0/htdocs/dst_only"), "extra");
  Proc p = Push({"--streams", "3", "--delete"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(Exists(D("empty")));
  EXPECT_FALSE(Exists(D("site0/htdocs/dst_only")));
  WriteFile(D("pulled_extra"), "x");
  Proc q = Pull({"--streams", "2", "--delete"});
  ASSERT_EQ(q.code, 0) << q.Dump();
  EXPECT_FALSE(Exists(D("pulled_extra")));
  EXPECT_EQ(Oracle(), "");
}

// Every stream gets every directory: where DST has a file or a fifo and SRC
// a directory, the streams race to replace it. The loser finds the
// directory already there (its unlink fails with EISDIR, or ENOENT when it
// came between the winner's unlink and mkdir): not an error.
TEST_F(RemoteStreamsTest, StreamsReplacingTheSameNonDirectoryWithADirectoryAgree) {
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "push" : "pull");
    ferry::testing::RemoveTree(src_);
    ferry::testing::RemoveTree(dst_);
    for (int i = 0; i < 24; ++i) {
      const std::string d = "d" + std::to_string(i);
      WriteFile(S(d + "/f"), "in " + d);
      if (i % 2 == 0) {
        WriteFile(D(d), "a file where SRC has a directory");
      } else {
        MakeDirs(dst_);
        ASSERT_EQ(::mkfifo(D(d).c_str(), 0644), 0);
      }
    }
    Proc p = round == 0 ? Push({"--streams", "3", "--delete"})
                        : Pull({"--streams", "3", "--delete"});
    EXPECT_EQ(p.code, 0) << p.Dump();
    EXPECT_EQ(p.err, "") << p.Dump();
    EXPECT_EQ(Oracle(), "");
  }
}

void CheckNothingTorn(const std::string& src, const std::string& dst) {
  std::string list;
  ferry::testing::Shell("cd '" + dst + "' && find . -type f", &list);
  for (const std::string& rel : Lines(list)) {
    if (rel.empty()) continue;
    EXPECT_EQ(ReadFile(dst + "/" + rel), ReadFile(src + "/" + rel)) << rel << " is torn";
  }
}

TEST_F(RemoteStreamsTest, CutStreamFailsTheRunAndRerunCompletes) {
  for (int i = 0; i < 18; ++i)
    WriteFile(S("d" + std::to_string(i % 3) + "/f" + std::to_string(i)), Pattern(1 << 20, i));
  ::setenv("FERRY_STANDIN_CUT_IN", "2500000", 1);
  Proc cut = Push({"--streams", "3"});
  ::unsetenv("FERRY_STANDIN_CUT_IN");
  EXPECT_EQ(cut.code, 12) << cut.Dump();
  EXPECT_NE(cut.err.find(" of 3: "), std::string::npos) << "names the stream: " << cut.err;
  CheckNothingTorn(src_, dst_);
  Proc again = Push({"--streams", "3"});
  ASSERT_EQ(again.code, 0) << again.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries());
  // The pull direction: the remote senders' output is cut.
  ferry::testing::RemoveTree(dst_);
  ::setenv("FERRY_STANDIN_CUT_OUT", "2500000", 1);
  Proc pcut = Pull({"--streams", "3"});
  ::unsetenv("FERRY_STANDIN_CUT_OUT");
  EXPECT_EQ(pcut.code, 12) << pcut.Dump();
  CheckNothingTorn(src_, dst_);
  Proc pagain = Pull({"--streams", "3"});
  ASSERT_EQ(pagain.code, 0) << pagain.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries());
}

TEST_F(RemoteStreamsTest, LargeFileIsSplitAcrossStreamsByRanges) {
  constexpr size_t kBig = (6 << 20) + 4321;
  std::string big = Pattern(kBig, 77);
  WriteFile(S("db/big.bin"), big);
  ASSERT_EQ(::link(S("db/big.bin").c_str(), S("db/big.hardlink").c_str()), 0);
  WriteFile(S("small"), "small");
  ::setenv("FERRY_STREAMS_SPLIT_MIN", "1048576", 1);
  Proc p = Push({"--streams", "3", "--stats"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries());
  EXPECT_EQ(LStat(D("db/big.bin")).st_ino, LStat(D("db/big.hardlink")).st_ino);
  // The ranges carry the data once; the final pass rebuilds the file from
  // the shared temporary (all matched) and checks its whole-file hash.
  const int64_t literal = StatNumber(p.out, "Literal data");
  EXPECT_GE(literal, static_cast<int64_t>(kBig)) << p.out;
  EXPECT_LT(literal, static_cast<int64_t>(kBig) + (64 << 10)) << "sent more than once: " << p.out;
  EXPECT_GE(StatNumber(p.out, "Matched data"), static_cast<int64_t>(kBig) - (64 << 10))
      << "the final pass rebuilt the file from the ranges: " << p.out;
  EXPECT_LT(StatNumber(p.out, "Total bytes sent"), static_cast<int64_t>(kBig) + (512 << 10))
      << p.out;

  // A change in the middle: each stream sends a delta against its range.
  big.replace(3 << 20, 100, std::string(100, '#'));
  WriteFile(S("db/big.bin"), big);
  Proc d = Push({"--streams", "3", "--stats"});
  ASSERT_EQ(d.code, 0) << d.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_LT(StatNumber(d.out, "Literal data"), 256 << 10) << d.out;
  EXPECT_LT(StatNumber(d.out, "Total bytes sent"), 1 << 20) << d.out;

  // Pull, into an empty DST.
  ferry::testing::RemoveTree(dst_);
  Proc q = Pull({"--streams", "3"});
  ::unsetenv("FERRY_STREAMS_SPLIT_MIN");
  ASSERT_EQ(q.code, 0) << q.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries());
  EXPECT_EQ(ReadFile(D("db/big.bin")), big);
}

TEST_F(RemoteStreamsTest, CutWhileSplittingLeavesNothingTorn) {
  const std::string big = Pattern((8 << 20) + 3, 5);
  WriteFile(S("db/big.bin"), big);
  ::setenv("FERRY_STREAMS_SPLIT_MIN", "1048576", 1);
  ::setenv("FERRY_STANDIN_CUT_IN", "1500000", 1);
  Proc cut = Push({"--streams", "3"});
  ::unsetenv("FERRY_STANDIN_CUT_IN");
  EXPECT_EQ(cut.code, 12) << cut.Dump();
  EXPECT_FALSE(Exists(D("db/big.bin"))) << "a split file lands only after all ranges";
  // Each stream got 1.5 MB through: the start of its own range is in the
  // shared temporary, at its offset (ranges start on 64 KiB: 2752512 and
  // 5570560 for this size and 3 streams).
  std::string temps;
  ferry::testing::Shell("ls -a '" + D("db") + "' | grep '^.~ferry.big.bin.'", &temps);
  ASSERT_EQ(Lines(temps).size(), 1u) << temps;
  const std::string shared = ReadFile(D("db/" + Lines(temps)[0]));
  ASSERT_EQ(shared.size(), big.size());
  for (size_t at : {size_t{0}, size_t{2752512}, size_t{5570560}})
    EXPECT_EQ(shared.substr(at, 65536), big.substr(at, 65536)) << "range at " << at;
  Proc again = Push({"--streams", "3"});
  ::unsetenv("FERRY_STREAMS_SPLIT_MIN");
  ASSERT_EQ(again.code, 0) << again.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries()) << "the final pass removes the cut run's temporaries";
}

TEST_F(RemoteStreamsTest, BadStreamCountsAreUsageErrors) {
  WriteFile(S("a"), "a");
  Proc zero = Push({"--streams", "0"});
  EXPECT_EQ(zero.code, 1) << zero.Dump();
  EXPECT_NE(zero.err.find("--streams"), std::string::npos) << zero.err;
  Proc many = Push({"--streams", "65"});
  EXPECT_EQ(many.code, 1) << many.Dump();
  Proc local = RunProcess({Ferry(), "sync", "--no-progress", "--streams", "2", src_ + "/",
                           dst_ + "/"},
                          tmp_.path());
  EXPECT_EQ(local.code, 1) << local.Dump();
  EXPECT_NE(local.err.find("--streams needs a remote"), std::string::npos) << local.err;
  EXPECT_FALSE(Exists(D("a")));
}

}  // namespace
}  // namespace ferry::e2e
