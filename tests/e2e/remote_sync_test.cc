// `ferry sync` with a remote end, over a remote-shell stand-in
// (tests/remote_shell_standin.sh runs `ferry serve --stdio ...` locally), so
// two real ferry processes talk over pipes. rsync judges fidelity:
//   rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1 SRC/ DST/
// prints nothing after a push or a pull.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

class RemoteSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ferry::testing::Shell("command -v rsync >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "rsync is not installed";
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    MakeDirs(src_);
  }

  // `ferry sync -e STANDIN --remote-ferry FERRY ARGS...`
  Proc Sync(std::vector<std::string> args) {
    std::vector<std::string> argv = {Ferry(), "sync", "--no-progress", "-e", FERRY_STANDIN,
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

  std::string Oracle() {
    std::string out;
    ferry::testing::Shell("rsync -aHAXc --dry-run --itemize-changes --delete "
                          "--modify-window=-1 '" + src_ + "/' '" + dst_ + "/' 2>&1", &out);
    return out;
  }

  std::string S(const std::string& rel) const { return src_ + "/" + rel; }
  std::string D(const std::string& rel) const { return dst_ + "/" + rel; }

  // Every kind of entry and metadata this machine can make.
  void BuildTree() { BuildEveryKindTree(src_, 4, 20); }

  bool HasTemporaries() {
    std::string out;
    ferry::testing::Shell("find '" + dst_ + "' -name '.~ferry.*'", &out);
    return !out.empty();
  }

  TempDir tmp_;
  std::string src_, dst_;
};

// A directory the sender cannot read is in the list without its contents:
// --delete must not take that for "SRC lost them" (rsync: "IO error
// encountered -- skipping file deletion"). Run as uid 65534, push and pull;
// what the sender did list is still mirrored.
TEST_F(RemoteSyncTest, AnUnreadableSourceDirectoryKeepsItsDestinationContents) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to run the sync as uid 65534";
  WriteFile(S("a/x"), "x");
  WriteFile(S("b/y"), "y");
  ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
  for (bool push : {true, false}) {
    SCOPED_TRACE(push ? "push" : "pull");
    ferry::testing::Shell("rm -rf '" + dst_ + "'; chmod 755 '" + S("b") + "'");
    ASSERT_EQ(ferry::testing::Shell("cp -a '" + src_ + "' '" + dst_ + "'"), 0);
    WriteFile(D("gone"), "only on DST");
    ASSERT_EQ(ferry::testing::Shell("chown -R 65534:65534 '" + src_ + "' '" + dst_ + "'"), 0);
    ASSERT_EQ(::chmod(S("b").c_str(), 0), 0);
    std::vector<std::string> argv = {Ferry(), "sync", "--no-progress", "--delete", "-e",
                                     FERRY_STANDIN, "--remote-ferry", Ferry()};
    argv.push_back(push ? src_ + "/" : "testhost:" + src_ + "/");
    argv.push_back(push ? "testhost:" + dst_ + "/" : dst_ + "/");
    Proc p = RunProcess(argv, tmp_.path(), /*as_nobody=*/true);
    if (p.code == 125 || p.code == 127) GTEST_SKIP() << "cannot run ferry as uid 65534";
    EXPECT_EQ(p.code, 23) << p.Dump();
    EXPECT_NE(p.err.find("b: Permission denied"), std::string::npos) << p.Dump();
    EXPECT_EQ(ReadFile(D("b/y")), "y") << p.Dump();
    EXPECT_FALSE(Exists(D("gone"))) << p.Dump();
    EXPECT_EQ(ReadFile(D("a/x")), "x");
  }
  ::chmod(S("b").c_str(), 0755);
}

// The protocol refuses a path holding a control byte from a peer (a hostile
// name); a real SRC may still have one ("new\nline" from a web upload).
// The sender reports each such name and sends the rest (exit 23, not a
// failed session); --delete keeps DST's entry of that name; a DST-only
// name with a newline is deleted and itemized on one line as rsync shows it.
TEST_F(RemoteSyncTest, ANameWithAControlCharacterIsReportedAndTheRestArrives) {
  WriteFile(S("ok"), "ok");
  WriteFile(S("new\nline"), "new");
  WriteFile(S("d/esc\x1bname"), "esc");
  WriteFile(S("d/fine"), "fine");
  MakeDirs(S("tab\tdir"));
  WriteFile(S("tab\tdir/inner"), "inner");
  for (bool push : {true, false}) {
    SCOPED_TRACE(push ? "push" : "pull");
    ferry::testing::Shell("rm -rf '" + dst_ + "'");
    WriteFile(D("new\nline"), "DST's copy");
    WriteFile(D("stray\nname"), "only on DST");
    WriteFile(D("d/stale"), "only on DST");
    Proc p = push ? Push({"--delete", "-i"}) : Pull({"--delete", "-i"});
    EXPECT_EQ(p.code, 23) << p.Dump();
    EXPECT_NE(p.err.find("'new\\x0aline' not sent"), std::string::npos) << p.Dump();
    EXPECT_NE(p.err.find("'d/esc\\x1bname' not sent"), std::string::npos) << p.Dump();
    EXPECT_NE(p.err.find("'tab\\x09dir' not sent"), std::string::npos) << p.Dump();
    EXPECT_EQ(ReadFile(D("ok")), "ok");
    EXPECT_EQ(ReadFile(D("d/fine")), "fine");
    EXPECT_EQ(ReadFile(D("new\nline")), "DST's copy") << "kept under --delete";
    EXPECT_FALSE(Exists(D("d/esc\x1bname")));
    EXPECT_FALSE(Exists(D("tab\tdir")));
    EXPECT_FALSE(Exists(D("stray\nname")));
    EXPECT_FALSE(Exists(D("d/stale")));
    EXPECT_NE(p.out.find("*deleting   stray\\#012name\n"), std::string::npos) << p.Dump();
    EXPECT_FALSE(HasTemporaries());
  }
}

TEST_F(RemoteSyncTest, PushKeepsEveryMetadataKind) {
  BuildTree();
  Proc p = Push();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  struct stat st = LStat(D("sparse.img"));
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "the hole was written out";
  EXPECT_FALSE(HasTemporaries());
}

TEST_F(RemoteSyncTest, PullKeepsEveryMetadataKind) {
  BuildTree();
  Proc p = Pull();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(LStat(D("hard/one")).st_ino, LStat(D("many/d0/third_link")).st_ino);
  EXPECT_FALSE(HasTemporaries());
}

TEST_F(RemoteSyncTest, DirectoryWithoutSlashLandsUnderItsName) {
  WriteFile(S("x/y.txt"), "y");
  Proc p = Sync({src_, "testhost:" + dst_});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ReadFile(dst_ + "/src/x/y.txt"), "y");
}

TEST_F(RemoteSyncTest, DeleteRemovesOnlyWhatSrcLacksInsideTheTree) {
  BuildTree();
  ASSERT_EQ(Push().code, 0);
  ASSERT_EQ(::unlink(S("many/d3/f7").c_str()), 0);
  ferry::testing::RemoveTree(S("nested"));
  WriteFile(S("new_file"), "new");
  WriteFile(D("many/d0/dst_only"), "extra");
  Proc keep = Push();
  ASSERT_EQ(keep.code, 0) << keep.Dump();
  EXPECT_TRUE(Exists(D("many/d0/dst_only"))) << "deleted without --delete";
  Proc del = Push({"--delete"});
  ASSERT_EQ(del.code, 0) << del.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(Exists(D("nested")));
  // Pull with --delete, too.
  WriteFile(D("pulled_extra"), "x");
  Proc pull = Pull({"--delete"});
  ASSERT_EQ(pull.code, 0) << pull.Dump();
  EXPECT_FALSE(Exists(D("pulled_extra")));
  EXPECT_EQ(Oracle(), "");
}

TEST_F(RemoteSyncTest, CompressionShrinksTheWireAndKeepsContent) {
  // Text compresses well; the same tree is pushed with and without -z.
  for (int i = 0; i < 8; ++i)
    WriteFile(S("text/f" + std::to_string(i)), Pattern(256 << 10, 1) + std::to_string(i));
  Proc plain = Push({"--stats"});
  ASSERT_EQ(plain.code, 0) << plain.Dump();
  ferry::testing::RemoveTree(dst_);
  Proc z = Push({"--stats", "-z", "--compress-level", "6"});
  ASSERT_EQ(z.code, 0) << z.Dump();
  EXPECT_EQ(Oracle(), "");
  const int64_t plain_bytes = StatNumber(plain.out, "Total bytes sent");
  const int64_t z_bytes = StatNumber(z.out, "Total bytes sent");
  ASSERT_GT(plain_bytes, 2 << 20) << plain.out;
  ASSERT_GT(z_bytes, 0) << z.out;
  EXPECT_LT(z_bytes * 2, plain_bytes) << "zstd should at least halve repetitive text";
  // And a pull with -z.
  ferry::testing::RemoveTree(dst_);
  Proc zp = Pull({"-z"});
  ASSERT_EQ(zp.code, 0) << zp.Dump();
  EXPECT_EQ(Oracle(), "");
}

TEST_F(RemoteSyncTest, ChangedFilesTravelAsDeltas) {
  std::string content = Pattern(4 << 20, 9);
  WriteFile(S("db.bin"), content);
  ASSERT_EQ(Push().code, 0);
  content.replace(1 << 20, 100, std::string(100, '#'));
  content += "appended tail";
  WriteFile(S("db.bin"), content);
  Proc p = Push({"--stats"});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ReadFile(D("db.bin")), content);
  const int64_t literal = StatNumber(p.out, "Literal data");
  const int64_t matched = StatNumber(p.out, "Matched data");
  EXPECT_GE(literal, 100) << p.out;
  EXPECT_LT(literal, 64 << 10) << p.out;
  EXPECT_GT(matched, (4 << 20) - (64 << 10)) << p.out;
  EXPECT_LT(StatNumber(p.out, "Total bytes sent"), 256 << 10) << p.out;
  // The pull direction: the local receiver sends signatures.
  content.replace(3 << 20, 50, std::string(50, '%'));
  WriteFile(S("db.bin"), content);
  Proc q = Pull({"--stats"});
  ASSERT_EQ(q.code, 0) << q.Dump();
  EXPECT_EQ(ReadFile(D("db.bin")), content);
  EXPECT_LT(StatNumber(q.out, "Total bytes received"), 256 << 10) << q.out;
}

// Large files (signed on the receiver's signer thread, matched on several
// threads and sent window by window) and small ones (signed inline) change
// in one pass: each lands whole and correct, as a delta, both directions.
TEST_F(RemoteSyncTest, LargeAndSmallChangedFilesTravelAsDeltasTogether) {
  const std::vector<std::pair<std::string, size_t>> files = {
      {"big/a.ibd", 17u << 20}, {"big/b.ibd", 9u << 20}, {"c.sql", 5u << 20},
      {"small/1.php", 3000}, {"small/2.php", 70000}};
  std::vector<std::string> content;
  for (size_t i = 0; i < files.size(); ++i) {
    content.push_back(Pattern(files[i].second, 20 + static_cast<int>(i)));
    WriteFile(S(files[i].first), content[i]);
  }
  ASSERT_EQ(Push().code, 0);
  for (bool push : {true, false}) {
    SCOPED_TRACE(push ? "push" : "pull");
    uint64_t changed = 0;
    for (size_t i = 0; i < files.size(); ++i) {
      // A changed page in the middle (and, for the 17 MiB file, one on
      // each side of the sender's 8 MiB windows) and a new tail.
      for (size_t at : {content[i].size() / 2, size_t{8u << 20} - 10, size_t{16u << 20} + 5}) {
        if (at + 64 > content[i].size()) continue;
        content[i].replace(at, 64, std::string(64, push ? '+' : '-'));
        changed += 64;
      }
      content[i] += push ? "pushed tail" : "pulled tail";
      changed += 11;
      WriteFile(S(files[i].first), content[i]);
    }
    Proc p = push ? Push({"--stats"}) : Pull({"--stats"});
    ASSERT_EQ(p.code, 0) << p.Dump();
    for (size_t i = 0; i < files.size(); ++i) {
      EXPECT_TRUE(ReadFile(D(files[i].first)) == content[i]) << files[i].first;
    }
    EXPECT_EQ(StatNumber(p.out, "Number of regular files transferred"), 5) << p.out;
    const int64_t literal = StatNumber(p.out, "Literal data");
    EXPECT_GE(literal, static_cast<int64_t>(changed)) << p.out;
    EXPECT_LT(literal, 1 << 20) << p.out;
    EXPECT_FALSE(HasTemporaries());
    EXPECT_EQ(Oracle(), "");
  }
}

TEST_F(RemoteSyncTest, ChecksumModeFindsSameSizeSameTimeChanges) {
  WriteFile(S("f"), "aaaa");
  SetMtime(S("f"), 1700000000, 0);
  ASSERT_EQ(Push().code, 0);
  WriteFile(S("f"), "bbbb");
  SetMtime(S("f"), 1700000000, 0);
  ASSERT_EQ(Push().code, 0);
  EXPECT_EQ(ReadFile(D("f")), "aaaa") << "size+mtime should have skipped it";
  Proc c = Push({"-c"});
  ASSERT_EQ(c.code, 0) << c.Dump();
  EXPECT_EQ(ReadFile(D("f")), "bbbb");
}

// Nothing torn after a connection cut mid-transfer: every file in DST is
// complete or absent, no temporaries remain, and a rerun completes.
void CheckNothingTorn(const std::string& src, const std::string& dst) {
  std::string list;
  ferry::testing::Shell("cd '" + dst + "' && find . -type f", &list);
  for (const std::string& rel : Lines(list)) {
    if (rel.empty()) continue;
    EXPECT_EQ(ReadFile(dst + "/" + rel), ReadFile(src + "/" + rel)) << rel << " is torn";
  }
}

TEST_F(RemoteSyncTest, CutConnectionOnPushFailsCleanlyAndRerunCompletes) {
  for (int i = 0; i < 12; ++i) WriteFile(S("f" + std::to_string(i)), Pattern(1 << 20, i));
  ::setenv("FERRY_STANDIN_CUT_IN", "3000000", 1);
  Proc cut = Push();
  ::unsetenv("FERRY_STANDIN_CUT_IN");
  EXPECT_NE(cut.code, 0) << cut.Dump();
  EXPECT_NE(cut.err, "") << "the local side must say what happened";
  CheckNothingTorn(src_, dst_);
  EXPECT_FALSE(HasTemporaries());
  Proc again = Push();
  ASSERT_EQ(again.code, 0) << again.Dump();
  EXPECT_EQ(Oracle(), "");
}

TEST_F(RemoteSyncTest, CutConnectionOnPullFailsCleanlyAndRerunCompletes) {
  for (int i = 0; i < 12; ++i) WriteFile(S("f" + std::to_string(i)), Pattern(1 << 20, i));
  ::setenv("FERRY_STANDIN_CUT_OUT", "3000000", 1);
  Proc cut = Pull();
  ::unsetenv("FERRY_STANDIN_CUT_OUT");
  EXPECT_EQ(cut.code, 12) << cut.Dump();
  EXPECT_NE(cut.err.find("connection closed"), std::string::npos) << cut.err;
  CheckNothingTorn(src_, dst_);
  EXPECT_FALSE(HasTemporaries());
  Proc again = Pull();
  ASSERT_EQ(again.code, 0) << again.Dump();
  EXPECT_EQ(Oracle(), "");
}

// A wrapper around the remote shell that outlives the remote ferry (as an
// ssh ProxyCommand or `cat | ssh` can: it holds the pipe open until the
// client closes its side). The push must end on the receiver's EndOfSession,
// not wait for the end of the stream; before that it hung until the first
// Keepalive (10 s) killed the wrapper. `timeout 8` turns a hang into a failure.
TEST_F(RemoteSyncTest, PushEndsWhenAWrapperHoldsThePipeOpen) {
  BuildTree();
  const std::string wrapper = tmp_ / "wrapped_rsh.sh";
  WriteFile(wrapper, std::string("#!/bin/sh\ncat | '") + FERRY_STANDIN + "' \"$@\"\n");
  ASSERT_EQ(::chmod(wrapper.c_str(), 0755), 0);
  Proc p = RunProcess({"/usr/bin/timeout", "8", Ferry(), "sync", "--no-progress", "-a", "-e", wrapper,
                       "--remote-ferry", Ferry(), src_ + "/", "testhost:" + dst_ + "/"},
                      tmp_.path());
  ASSERT_EQ(p.code, 0) << "124 means it hung until the timeout\n" << p.Dump();
  EXPECT_EQ(Oracle(), "");
}

// More directories than descriptors (ulimit -n 100, inherited by the remote
// side through the stand-in): the receiver must not hold a descriptor per
// pending directory, nor more requests in flight than the limit allows.
TEST_F(RemoteSyncTest, MoreDirectoriesThanDescriptorsPushAndPull) {
  for (int d = 0; d < 300; ++d)
    WriteFile(S("d" + std::to_string(d) + "/f"), "file " + std::to_string(d));
  auto limited = [&](const std::string& from, const std::string& to) {
    return RunProcess({"/bin/sh", "-c",
                       std::string("ulimit -n 100 && exec \"$0\" sync --no-progress -a -e '") +
                           FERRY_STANDIN + "' --remote-ferry \"$0\" \"$1\" \"$2\"",
                       Ferry(), from, to},
                      tmp_.path());
  };
  Proc push = limited(src_ + "/", "testhost:" + dst_ + "/");
  ASSERT_EQ(push.code, 0) << push.Dump();
  EXPECT_EQ(Oracle(), "");
  dst_ = tmp_ / "pulled";
  Proc pull = limited("testhost:" + src_ + "/", dst_ + "/");
  ASSERT_EQ(pull.code, 0) << pull.Dump();
  EXPECT_EQ(Oracle(), "");
}

TEST_F(RemoteSyncTest, MissingRemoteFerryIsAClearError) {
  WriteFile(S("a"), "a");
  Proc p = RunProcess({Ferry(), "sync", "--no-progress", "-e", FERRY_STANDIN, "--remote-ferry",
                       "/nonexistent/ferry", src_ + "/", "testhost:" + dst_ + "/"},
                      tmp_.path());
  EXPECT_EQ(p.code, 12) << p.Dump();
  EXPECT_NE(p.err.find("is ferry installed there"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("status 127"), std::string::npos) << p.err;
}

TEST_F(RemoteSyncTest, ShellBannerIsNamedInTheError) {
  WriteFile(S("a"), "a");
  Proc p = RunProcess({Ferry(), "sync", "--no-progress", "-e", FERRY_STANDIN, "--remote-ferry",
                       "echo Welcome to prod-db-1; " + Ferry(), src_ + "/",
                       "testhost:" + dst_ + "/"},
                      tmp_.path());
  EXPECT_EQ(p.code, 12) << p.Dump();
  EXPECT_NE(p.err.find("Welcome "), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("shell startup file"), std::string::npos) << p.err;
}

TEST_F(RemoteSyncTest, RemoteSourceErrorNamesThePathAndSetsTheExitCode) {
  WriteFile(S("ok"), "fine");
  MakeDirs(S("locked"));
  WriteFile(S("locked/inner"), "x");
  ASSERT_EQ(::chmod(S("locked").c_str(), 0), 0);
  // As root every directory is readable: drop to nobody for the remote side.
  std::string ferry_cmd = Ferry();
  if (AmRoot()) {
    if (ferry::testing::Shell("command -v setpriv >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "root without setpriv: cannot make an unreadable directory";
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(src_.c_str(), 0755), 0);
    ferry_cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups " + Ferry();
  }
  Proc p = RunProcess({Ferry(), "sync", "--no-progress", "-e", FERRY_STANDIN, "--remote-ferry",
                       ferry_cmd, "testhost:" + src_ + "/", dst_ + "/"},
                      tmp_.path());
  ::chmod(S("locked").c_str(), 0755);
  EXPECT_EQ(p.code, 23) << p.Dump();
  EXPECT_NE(p.err.find("locked"), std::string::npos) << p.err;
  EXPECT_EQ(ReadFile(D("ok")), "fine");
}

// The receiver creates temporaries off its message thread: a directory it
// cannot write into still fails its files by name (a changed one and a new
// empty one, which lands without any data), leaves the old content and no
// temporary there, and the rest of the pass lands.
TEST_F(RemoteSyncTest, UnwritableDestinationDirectoryFailsItsFilesByName) {
  WriteFile(S("ok"), "fine");
  MakeDirs(S("locked"));
  WriteFile(S("locked/f"), "old content");
  ASSERT_EQ(Push().code, 0);
  WriteFile(S("ok"), "finer");
  WriteFile(S("locked/f"), "new content, longer");
  WriteFile(S("locked/empty"), "");
  // As root every directory is writable: the remote side runs as nobody,
  // owning DST but for locked/.
  std::string ferry_cmd = Ferry();
  if (AmRoot()) {
    if (ferry::testing::Shell("command -v setpriv >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "root without setpriv: cannot make an unwritable directory";
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
    ASSERT_EQ(ferry::testing::Shell("chown -R 65534:65534 '" + dst_ + "' && chown 0:0 '" +
                                    D("locked") + "' && chmod 0755 '" + D("locked") + "'"),
              0);
    ferry_cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups " + Ferry();
  } else {
    ASSERT_EQ(::chmod(D("locked").c_str(), 0555), 0);
  }
  Proc p = RunProcess({Ferry(), "sync", "--no-progress", "-e", FERRY_STANDIN, "--remote-ferry",
                       ferry_cmd, src_ + "/", "testhost:" + dst_ + "/"},
                      tmp_.path());
  ::chmod(D("locked").c_str(), 0755);
  EXPECT_EQ(p.code, 23) << p.Dump();
  EXPECT_NE(p.err.find("locked/f"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("locked/empty"), std::string::npos) << p.err;
  EXPECT_EQ(ReadFile(D("ok")), "finer");
  EXPECT_EQ(ReadFile(D("locked/f")), "old content");
  EXPECT_FALSE(Exists(D("locked/empty")));
  EXPECT_FALSE(HasTemporaries());
}

// --delete in more directories than the receiver may hold open at once:
// every extra entry goes (the receiver used to keep each such directory
// open until the removals ran, and silently skipped the ones past its
// descriptor limit).
TEST_F(RemoteSyncTest, DeleteReachesMoreDirectoriesThanTheDescriptorLimit) {
  for (int i = 0; i < 120; ++i) {
    const std::string d = "d" + std::to_string(i);
    MakeDirs(S(d));
    WriteFile(S(d + "/keep"), "k");
  }
  ASSERT_EQ(Push().code, 0);
  for (int i = 0; i < 120; ++i) WriteFile(D("d" + std::to_string(i) + "/extra"), "x");
  const std::string cmd = "ulimit -n 48 && exec '" + Ferry() + "' sync --no-progress --delete -e '" +
                          FERRY_STANDIN + "' --remote-ferry '" + Ferry() + "' '" + src_ +
                          "/' 'testhost:" + dst_ + "/'";
  Proc p = RunProcess({"/bin/sh", "-c", cmd}, tmp_.path());
  ASSERT_EQ(p.code, 0) << p.Dump();
  for (int i = 0; i < 120; ++i) {
    EXPECT_FALSE(Exists(D("d" + std::to_string(i) + "/extra"))) << i;
  }
  EXPECT_EQ(Oracle(), "");
}

}  // namespace
}  // namespace ferry::e2e
