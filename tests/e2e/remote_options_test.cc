// rsync options on a remote sync (filters, --dry-run, -i, --json, owner
// maps), over the remote-shell stand-in (tests/remote_shell_standin.sh runs
// `ferry serve --stdio ...` locally, so two ferry processes talk over pipes).
// The judge is a local sync with the same flags: each test gives the same
// SRC and the same starting DST to a local sync, a push and a pull, and
// expects the same -i lines (as sets: the engines run in parallel), the same
// exit code and the same resulting tree.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

class RemoteOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    MakeDirs(src_);
  }

  std::string Root(const std::string& which) const { return tmp_ / which; }
  std::string S(const std::string& rel) const { return src_ + "/" + rel; }

  Proc Ferry(std::vector<std::string> args) {
    std::vector<std::string> argv = {e2e::Ferry(), "sync", "--no-progress"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path());
  }
  Proc Local(std::vector<std::string> args, const std::string& dst = "local") {
    args.push_back(src_ + "/");
    args.push_back(Root(dst) + "/");
    return Ferry(args);
  }
  Proc Push(std::vector<std::string> args, const std::string& dst = "push") {
    args.insert(args.begin(), {"-e", FERRY_STANDIN, "--remote-ferry", e2e::Ferry()});
    args.push_back(src_ + "/");
    args.push_back("testhost:" + Root(dst) + "/");
    return Ferry(args);
  }
  Proc Pull(std::vector<std::string> args, const std::string& dst = "pull") {
    args.insert(args.begin(), {"-e", FERRY_STANDIN, "--remote-ferry", e2e::Ferry()});
    args.push_back("testhost:" + src_ + "/");
    args.push_back(Root(dst) + "/");
    return Ferry(args);
  }

  // The same starting DST under each of the three roots: seeded once, then
  // copied with every time, mode and owner (cp -a), so the three runs start
  // from equal trees.
  void SeedAll(const std::function<void(const std::string&)>& seed) {
    MakeDirs(Root("local"));
    seed(Root("local"));
    SetMtime(Root("local"), 1500000000, 0);
    for (const char* r : {"push", "pull"}) {
      MakeDirs(Root(r));
      ASSERT_EQ(ferry::testing::Shell("cp -a '" + Root("local") + "/.' '" + Root(r) + "/'"), 0);
      SetMtime(Root(r), 1500000000, 0);
    }
  }

  // Directory mtimes of SRC, fixed so that they differ from any DST's.
  void FixSrcDirTimes(const std::vector<std::string>& dirs) {
    for (const std::string& d : dirs) SetMtime(S(d), 1600000000, 5);
    SetMtime(src_, 1600000000, 5);
  }

  // Runs the same flags locally, as a push and as a pull; each must succeed
  // and print the same lines as the local sync.
  void ExpectSameAsLocal(const std::vector<std::string>& flags) {
    Proc l = Local(flags), push = Push(flags), pull = Pull(flags);
    ASSERT_EQ(l.code, 0) << l.Dump();
    ASSERT_EQ(push.code, 0) << push.Dump();
    ASSERT_EQ(pull.code, 0) << pull.Dump();
    EXPECT_EQ(Sorted(push.out), Sorted(l.out)) << "push\n" << push.Dump() << "local\n" << l.Dump();
    EXPECT_EQ(Sorted(pull.out), Sorted(l.out)) << "pull\n" << pull.Dump() << "local\n" << l.Dump();
  }

  // `touched`: DST-only directories the run changed (their mtime is the
  // time of the run); compared by presence only.
  void ExpectSameTrees(const std::vector<std::string>& touched = {}) {
    auto listing = [&](const char* r) {
      auto l = Listing(Root(r));
      for (const std::string& t : touched) {
        if (auto it = l.find(t); it != l.end()) it->second = "present";
      }
      return l;
    };
    const auto want = listing("local");
    EXPECT_EQ(listing("push"), want);
    EXPECT_EQ(listing("pull"), want);
  }

  bool HasTemporaries(const std::string& root) {
    std::string out;
    ferry::testing::Shell("find '" + root + "' -name '.~ferry.*'", &out);
    return !out.empty();
  }

  TempDir tmp_;
  std::string src_;
};

TEST_F(RemoteOptionsTest, FiltersExcludeOnTheSenderAndProtectOnTheReceiverUnderDelete) {
  WriteFile(S("a/f1"), "hello");
  WriteFile(S("a/b/f2.tmp"), "scratch");
  WriteFile(S("a/important.tmp"), "kept by --include");
  WriteFile(S("cache/c"), "cached");
  WriteFile(S("keep/k.txt"), "k");
  WriteFile(S("keep/sub/x.log"), "log");
  ASSERT_EQ(::symlink("a/f1", S("link").c_str()), 0);
  FixSrcDirTimes({"a", "a/b", "cache", "keep", "keep/sub"});
  const std::string rules = tmp_ / "rules";
  WriteFile(rules, "# logs stay home\n- *.log\n");
  SeedAll([](const std::string& d) {
    WriteFile(d + "/a/f1", "old content");
    SetMtime(d + "/a/f1", 1500000000, 0);
    WriteFile(d + "/cache/precious", "only on DST, excluded");
    WriteFile(d + "/old/o.tmp", "excluded inside a deleted directory");
    WriteFile(d + "/old/gone2", "deleted");
    WriteFile(d + "/stray.tmp", "excluded at the top");
    WriteFile(d + "/gone", "deleted");
  });
  ExpectSameAsLocal({"-i", "--delete", "--include=important.tmp", "--exclude=*.tmp",
                     "--exclude=cache/", "--exclude-from=" + rules});
  ExpectSameTrees({"old"});
  for (const char* r : {"push", "pull"}) {
    const std::string d = Root(r);
    SCOPED_TRACE(r);
    EXPECT_EQ(ReadFile(d + "/a/f1"), "hello");
    EXPECT_EQ(ReadFile(d + "/a/important.tmp"), "kept by --include");
    EXPECT_FALSE(Exists(d + "/a/b/f2.tmp")) << "an excluded file was sent";
    EXPECT_FALSE(Exists(d + "/cache/c")) << "an excluded directory was sent";
    EXPECT_FALSE(Exists(d + "/keep/sub/x.log")) << "--exclude-from was ignored";
    EXPECT_TRUE(Exists(d + "/cache/precious")) << "--delete removed an excluded directory";
    EXPECT_TRUE(Exists(d + "/stray.tmp")) << "--delete removed an excluded file";
    EXPECT_TRUE(Exists(d + "/old/o.tmp")) << "--delete removed an excluded file";
    EXPECT_FALSE(Exists(d + "/old/gone2"));
    EXPECT_FALSE(Exists(d + "/gone"));
  }
}

TEST_F(RemoteOptionsTest, DryRunChangesNothingAndItemizesWhatARealRunDoes) {
  WriteFile(S("new.txt"), "new");
  WriteFile(S("changed.txt"), "changed content");
  WriteFile(S("same.txt"), "same");
  SetMtime(S("same.txt"), 1400000000, 0);
  WriteFile(S("perms.txt"), "perms", 0600);
  SetMtime(S("perms.txt"), 1400000000, 0);
  WriteFile(S("dir/inner/leaf"), "leaf");
  WriteFile(S("hard/one"), "linked");
  ASSERT_EQ(::link(S("hard/one").c_str(), S("hard/two").c_str()), 0);
  ASSERT_EQ(::symlink("new.txt", S("link").c_str()), 0);
  FixSrcDirTimes({"dir", "dir/inner", "hard"});
  SeedAll([](const std::string& d) {
    WriteFile(d + "/changed.txt", "old");
    WriteFile(d + "/same.txt", "same");
    SetMtime(d + "/same.txt", 1400000000, 0);
    WriteFile(d + "/perms.txt", "perms", 0644);
    SetMtime(d + "/perms.txt", 1400000000, 0);
    WriteFile(d + "/extra/x", "only on DST");
    WriteFile(d + "/extra.txt", "only on DST");
  });
  std::map<std::string, std::map<std::string, std::string>> before;
  for (const char* r : {"local", "push", "pull"}) before[r] = Listing(Root(r));
  const std::vector<std::string> flags = {"-n", "-i", "--delete", "--stats"};
  Proc l = Local(flags), push = Push(flags), pull = Pull(flags);
  ASSERT_EQ(l.code, 0) << l.Dump();
  ASSERT_EQ(push.code, 0) << push.Dump();
  ASSERT_EQ(pull.code, 0) << pull.Dump();
  for (const char* r : {"local", "push", "pull"}) {
    SCOPED_TRACE(r);
    EXPECT_EQ(Listing(Root(r)), before[r]) << "a dry run changed DST";
    EXPECT_FALSE(HasTemporaries(Root(r)));
  }
  auto items = [](const Proc& p) {
    std::vector<std::string> out;
    for (const std::string& line : Sorted(p.out))
      if (line.size() > 12 && line[11] == ' ' && std::string("<>ch.*").find(line[0]) != std::string::npos)
        out.push_back(line);
    return out;
  };
  EXPECT_EQ(items(push), items(l)) << push.Dump() << l.Dump();
  EXPECT_EQ(items(pull), items(l)) << pull.Dump() << l.Dump();
  EXPECT_TRUE(HasLine(push.out, ">f+++++++++ new.txt")) << push.Dump();
  EXPECT_TRUE(HasLine(push.out, ".f...p..... perms.txt")) << push.Dump();
  EXPECT_TRUE(HasLine(push.out, "*deleting   extra/x")) << push.Dump();
  for (const char* stat : {"Number of regular files transferred", "Number of deleted files"}) {
    EXPECT_EQ(StatNumber(push.out, stat), StatNumber(l.out, stat)) << stat;
    EXPECT_EQ(StatNumber(pull.out, stat), StatNumber(l.out, stat)) << stat;
  }
  // The real run prints the lines the dry run promised.
  Proc real = Push({"-i", "--delete"});
  ASSERT_EQ(real.code, 0) << real.Dump();
  EXPECT_EQ(items(real), items(push));
  Proc real_local = Local({"-i", "--delete"});
  ASSERT_EQ(real_local.code, 0) << real_local.Dump();
  EXPECT_EQ(Listing(Root("push")), Listing(Root("local")));
}

TEST_F(RemoteOptionsTest, DryRunIntoAMissingDestinationCreatesNothing) {
  WriteFile(S("a/b/c"), "c");
  WriteFile(S("top"), "t");
  Proc l = Local({"-n", "-i"}, "nowhere_local");
  Proc push = Push({"-n", "-i"}, "nowhere_push");
  Proc pull = Pull({"-n", "-i"}, "nowhere_pull");
  ASSERT_EQ(l.code, 0) << l.Dump();
  ASSERT_EQ(push.code, 0) << push.Dump();
  ASSERT_EQ(pull.code, 0) << pull.Dump();
  EXPECT_FALSE(Exists(Root("nowhere_push"))) << "a dry-run push made DST";
  EXPECT_FALSE(Exists(Root("nowhere_pull"))) << "a dry-run pull made DST";
  EXPECT_EQ(Sorted(push.out), Sorted(l.out));
  EXPECT_EQ(Sorted(pull.out), Sorted(l.out));
  EXPECT_TRUE(HasLine(push.out, ">f+++++++++ a/b/c")) << push.Dump();
}

TEST_F(RemoteOptionsTest, ItemizeShowsMetadataLinksAndDeletionsAsLocal) {
  WriteFile(S("data"), "new data, longer");
  WriteFile(S("touched"), "same bytes");
  SetMtime(S("touched"), 1300000000, 7);
  WriteFile(S("mode"), "m", 0640);
  SetMtime(S("mode"), 1300000000, 0);
  ASSERT_EQ(::symlink("data", S("link").c_str()), 0);
  WriteFile(S("h/one"), "hard");
  ASSERT_EQ(::link(S("h/one").c_str(), S("h/two").c_str()), 0);
  FixSrcDirTimes({"h"});
  SeedAll([](const std::string& d) {
    WriteFile(d + "/data", "old");
    WriteFile(d + "/touched", "same bytes");
    SetMtime(d + "/touched", 1200000000, 0);
    WriteFile(d + "/mode", "m", 0600);
    SetMtime(d + "/mode", 1300000000, 0);
    ASSERT_EQ(::symlink("elsewhere", (d + "/link").c_str()), 0);
    WriteFile(d + "/deleted/deep/file", "x");
  });
  ExpectSameAsLocal({"-i", "--delete"});
  ExpectSameTrees();
  // -v alone lists names, as locally.
  Proc again_local = Local({"-v"}), again_push = Push({"-v"});
  EXPECT_EQ(Sorted(again_push.out), Sorted(again_local.out));
}

TEST_F(RemoteOptionsTest, JsonEventsMatchALocalSync) {
  WriteFile(S("a/one"), "1");
  WriteFile(S("a/two"), "22");
  ASSERT_EQ(::symlink("a/one", S("l").c_str()), 0);
  FixSrcDirTimes({"a"});
  SeedAll([](const std::string& d) { WriteFile(d + "/stale", "x"); });
  const std::vector<std::string> flags = {"--json", "--delete"};
  Proc l = Local(flags), push = Push(flags), pull = Pull(flags);
  ASSERT_EQ(l.code, 0) << l.Dump();
  ASSERT_EQ(push.code, 0) << push.Dump();
  ASSERT_EQ(pull.code, 0) << pull.Dump();
  // Each line is one JSON object; "file" events compared as sets, and the
  // pass starts with "start" and ends with "summary".
  auto events = [](const Proc& p, std::string* first, std::string* last, int* code) {
    std::set<std::string> files;
    for (const std::string& line : Lines(p.out)) {
      nlohmann::json j = nlohmann::json::parse(line);  // throws: not JSON
      const std::string ev = j.at("event");
      if (first->empty()) *first = ev;
      *last = ev;
      if (ev == "summary") *code = j.value("exit_code", -1);
      if (ev == "file") {
        files.insert(j.at("path").get<std::string>() + " " + j.at("action").get<std::string>() +
                     " " + j.at("item").get<std::string>() + " " +
                     std::to_string(j.at("bytes").get<uint64_t>()) + " " + j.value("target", ""));
      }
    }
    return files;
  };
  std::string lf, ll, pf, pl, qf, ql;
  int lc = -2, pc = -2, qc = -2;
  const auto want = events(l, &lf, &ll, &lc);
  EXPECT_EQ(events(push, &pf, &pl, &pc), want) << push.Dump();
  EXPECT_EQ(events(pull, &qf, &ql, &qc), want) << pull.Dump();
  EXPECT_FALSE(want.empty());
  for (const std::string* f : {&pf, &qf}) EXPECT_EQ(*f, "start");
  for (const std::string* f : {&pl, &ql}) EXPECT_EQ(*f, "summary");
  EXPECT_EQ(pc, lc);
  EXPECT_EQ(qc, lc);
  ExpectSameTrees();
}

TEST_F(RemoteOptionsTest, OwnerMapsApplyOnTheReceiverAsLocally) {
  if (!AmRoot()) GTEST_SKIP() << "owners can be set only as root";
  struct passwd* nobody = ::getpwnam("nobody");
  struct group* nogroup = ::getgrnam("nogroup");
  if (!nobody || !nogroup) GTEST_SKIP() << "no nobody/nogroup here";
  const uid_t nobody_uid = nobody->pw_uid;
  const gid_t nogroup_gid = nogroup->gr_gid;
  WriteFile(S("mapped"), "m");
  WriteFile(S("kept"), "k");
  ASSERT_EQ(::chown(S("mapped").c_str(), 4321, 4321), 0);
  ASSERT_EQ(::chown(S("kept").c_str(), 4444, 4444), 0);
  FixSrcDirTimes({});
  SeedAll([](const std::string&) {});
  ExpectSameAsLocal({"-i", "--usermap=4321:nobody", "--groupmap=4000-4400:nogroup"});
  ExpectSameTrees();
  for (const char* r : {"push", "pull"}) {
    SCOPED_TRACE(r);
    struct stat st = LStat(Root(r) + "/mapped");
    EXPECT_EQ(st.st_uid, nobody_uid);
    EXPECT_EQ(st.st_gid, nogroup_gid);
    st = LStat(Root(r) + "/kept");
    EXPECT_EQ(st.st_uid, 4444u) << "an unmatched id must stay numeric";
    EXPECT_EQ(st.st_gid, 4444u);
  }
  // --chown maps everything.
  ExpectSameAsLocal({"--chown=daemon:daemon"});
  for (const char* r : {"push", "pull"}) {
    struct stat st = LStat(Root(r) + "/kept");
    EXPECT_EQ(st.st_uid, ::getpwnam("daemon")->pw_uid) << r;
  }
}

TEST_F(RemoteOptionsTest, AnUnknownMapTargetIsAnErrorNeverRoot) {
  WriteFile(S("f"), "f");
  for (bool push : {true, false}) {
    SCOPED_TRACE(push ? "push" : "pull");
    const std::string dst = push ? "mapped_push" : "mapped_pull";
    std::vector<std::string> flags = {"--usermap=*:no_such_user_ferry"};
    Proc p = push ? Push(flags, dst) : Pull(flags, dst);
    EXPECT_NE(p.code, 0) << p.Dump();
    EXPECT_NE(p.err.find("no_such_user_ferry"), std::string::npos) << p.Dump();
    EXPECT_FALSE(Exists(Root(dst) + "/f")) << "a file landed despite the bad map";
  }
}

TEST_F(RemoteOptionsTest, ABadFilterRuleIsAUsageErrorBeforeConnecting) {
  WriteFile(S("f"), "f");
  Proc p = Push({"--exclude=*.[ch"});
  EXPECT_EQ(p.code, 1) << p.Dump();
  EXPECT_NE(p.err.find("*.[ch"), std::string::npos) << p.Dump();
  EXPECT_FALSE(Exists(Root("push")));
}

// The remote shell is started with the descriptor limit ferry was started
// with (ferry raises its own soft limit; a program it runs must not
// inherit that).
TEST_F(RemoteOptionsTest, RemoteShellGetsTheDescriptorLimitFerryStartedWith) {
  WriteFile(S("f"), "x");
  const std::string rsh = tmp_ / "rsh.sh";
  const std::string seen = tmp_ / "limit";
  WriteFile(rsh, "#!/bin/sh\nulimit -Sn > '" + seen + "'\nexec '" + FERRY_STANDIN + "' \"$@\"\n");
  ASSERT_EQ(::chmod(rsh.c_str(), 0755), 0);
  std::string out;
  const int rc = ferry::testing::Shell(
      "ulimit -Sn 300 && '" + e2e::Ferry() + "' sync --no-progress -e '" + rsh +
          "' --remote-ferry '" + e2e::Ferry() + "' '" + src_ + "/' 'testhost:" + Root("push") +
          "/' 2>&1",
      &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(ReadFile(seen), "300\n");
}

}  // namespace
}  // namespace ferry::e2e
