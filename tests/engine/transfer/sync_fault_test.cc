// RunLocalSync when things go wrong: injected ENOSPC and rename failures,
// source files that vanish or change while they are read, unreadable source
// files, and a DST directory swapped for a symlink in the middle of a run.
// Whatever happens, nothing is torn: a final name holds either the complete
// new file or what it held before, and no temporary is left behind.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/io/fault_backend.h"
#include "tests/engine/transfer/sync_test_util.h"

namespace ferry::sync_test {
namespace {

// ---- a child that syncs as an unprivileged user ---------------------------------
//
// Running as root, the permission test re-executes this binary as uid/gid
// 65534 with FERRY_SYNC_TEST_CHILD="SRC\nDST" set; this hook runs the sync
// before main() and reports on stdout, one line each:
//   partial=0|1 vanished=0|1 failed=0|1   then   error <message>...
[[maybe_unused]] const int kChildHook = [] {
  const char* spec = std::getenv("FERRY_SYNC_TEST_CHILD");
  if (spec == nullptr) return 0;
  std::string s(spec);
  size_t nl = s.find('\n');
  SyncOptions o;
  o.io = io::BackendKind::kPosix;
  auto run = DoSync(s.substr(0, nl), s.substr(nl + 1), o);
  std::printf("partial=%d vanished=%d failed=%d\n", run->outcome.partial ? 1 : 0,
              run->outcome.vanished ? 1 : 0, run->failed ? 1 : 0);
  if (run->failed) std::printf("error %s\n", run->failed->message().c_str());
  for (const Status& e : run->events.errors) std::printf("error %s\n", e.message().c_str());
  std::fflush(stdout);
  std::_Exit(0);
}();

// Runs the sync as uid/gid 65534 in a fresh process; returns its report.
std::string SyncAsNobody(const std::string& src, const std::string& dst) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return "pipe failed";
  std::string env = "FERRY_SYNC_TEST_CHILD=" + src + "\n" + dst;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
      ::_exit(101);
    char* argv[] = {const_cast<char*>("sync_fault_test"), nullptr};
    char* envp[] = {env.data(), nullptr};
    ::execve("/proc/self/exe", argv, envp);
    ::_exit(102);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    out += "child exit status " + std::to_string(status);
  return out;
}

// ---- backends that misbehave on purpose -------------------------------------------

// Deletes a source file the first time the engine opens or reads it (after
// the scan saw it), as a user's `rm` racing the sync would.
class VanishingBackend : public io::PosixBackend {
 public:
  struct Shared {
    std::map<std::string, std::string> paths;  // name -> full SRC path
    std::mutex mu;
    std::set<std::string> done;
  };
  explicit VanishingBackend(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  Result<io::UniqueFd> OpenAt(int dirfd, const char* name, int flags,
                              mode_t mode) override {
    if (!(flags & O_CREAT)) MaybeVanish(name);
    return PosixBackend::OpenAt(dirfd, name, flags, mode);
  }
  void ReadFiles(std::span<io::ReadFileOp> ops) override {
    for (io::ReadFileOp& op : ops) MaybeVanish(op.name);
    PosixBackend::ReadFiles(ops);
  }

 private:
  void MaybeVanish(const char* name) {
    std::lock_guard<std::mutex> l(s_->mu);
    auto it = s_->paths.find(name);
    if (it == s_->paths.end() || s_->done.count(name)) return;
    s_->done.insert(name);
    ::unlink(it->second.c_str());
  }
  std::shared_ptr<Shared> s_;
};

// Appends to a source file while the engine reads it: before a batched read
// (so the read sees more than the scan did) and after each single-file data
// copy step (copy_file_range, pread, clone). `limit` appends in all, or -1
// for every time.
class AppendingBackend : public io::PosixBackend {
 public:
  struct Shared {
    std::string src_dir;
    std::set<std::string> names;
    std::set<ino_t> inodes;
    int limit = 1;
    bool shrink = false;  // truncate to half before the data copy instead
    std::atomic<int> appended{0};
  };
  explicit AppendingBackend(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  void ReadFiles(std::span<io::ReadFileOp> ops) override {
    for (io::ReadFileOp& op : ops)
      if (s_->names.count(op.name)) Append(s_->src_dir + "/" + op.name);
    PosixBackend::ReadFiles(ops);
  }
  Result<size_t> CopyFileRange(int in_fd, uint64_t in_off, int out_fd,
                               uint64_t out_off, size_t len) override {
    if (s_->shrink) ShrinkFd(in_fd);
    auto r = PosixBackend::CopyFileRange(in_fd, in_off, out_fd, out_off, len);
    AppendFd(in_fd);
    return r;
  }
  Result<size_t> PRead(int fd, std::span<std::byte> buf, uint64_t off) override {
    if (s_->shrink) ShrinkFd(fd);
    auto r = PosixBackend::PRead(fd, buf, off);
    AppendFd(fd);
    return r;
  }
  Status Clone(int out_fd, int in_fd) override {
    if (s_->shrink) ShrinkFd(in_fd);
    Status s = PosixBackend::Clone(out_fd, in_fd);
    AppendFd(in_fd);
    return s;
  }

 private:
  void ShrinkFd(int fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0 || !s_->inodes.count(st.st_ino)) return;
    if (s_->limit >= 0 && s_->appended.fetch_add(1) >= s_->limit) return;
    if (::truncate(("/proc/self/fd/" + std::to_string(fd)).c_str(), st.st_size / 2) != 0) {}
  }
  void AppendFd(int fd) {
    if (s_->shrink) return;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !s_->inodes.count(st.st_ino)) return;
    Append("/proc/self/fd/" + std::to_string(fd));
  }
  void Append(const std::string& path) {
    if (s_->limit >= 0 && s_->appended.fetch_add(1) >= s_->limit) return;
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    if (fd < 0) return;
    static const char kMore[] = "appended while being read\n";
    if (::write(fd, kMore, sizeof kMore - 1) < 0) {}
    ::close(fd);
  }
  std::shared_ptr<Shared> s_;
};

// ---- fixture --------------------------------------------------------------------

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    MakeDirs(src_);
  }
  std::string S(std::string_view rel) const { return src_ + "/" + std::string(rel); }
  std::string D(std::string_view rel) const { return dst_ + "/" + std::string(rel); }

  SyncOptions With(std::function<std::unique_ptr<io::IoBackend>()> factory) const {
    SyncOptions o;
    o.jobs = 4;
    o.backend_factory = std::move(factory);
    return o;
  }
  SyncOptions WithFaults(std::vector<io::FaultRule> rules) const {
    return With([rules] { return std::make_unique<io::FaultBackend>(rules); });
  }
  std::unique_ptr<SyncRun> Sync(const SyncOptions& o) {
    return DoSync(src_ + "/", dst_ + "/", o);
  }

  // Ordinary files that must land whatever happens to the others.
  void AddBystanders() {
    for (int i = 0; i < 30; ++i)
      WriteFile(S("sub/other" + std::to_string(i)), Pattern(100 + static_cast<size_t>(i), 50u + static_cast<unsigned>(i)));
    WriteFile(S("other_large"), Pattern(700 * 1024, 77));
    Symlink("other_large", S("other_link"));
  }
  void ExpectBystandersLanded() {
    for (int i = 0; i < 30; ++i) {
      std::string rel = "sub/other" + std::to_string(i);
      EXPECT_TRUE(SameContent(ReadFile(D(rel)), ReadFile(S(rel)))) << rel;
    }
    EXPECT_EQ(Describe(D("other_large")), Describe(S("other_large")));
    EXPECT_EQ(Describe(D("other_link")), Describe(S("other_link")));
  }

  TempDir tmp_;
  std::string src_, dst_;
};

// An old DST copy of the victims, then new SRC content for them.
void PrepareVictims(const std::string& src, const std::string& dst) {
  WriteFile(src + "/sub/victim_old.txt", "old content");
  WriteFile(src + "/victim_big_old.bin", Pattern(300 * 1024, 1));
  auto first = DoSync(src + "/", dst + "/", SyncOptions{});
  ASSERT_TRUE(first->clean()) << first->Dump();
  WriteFile(src + "/sub/victim_old.txt", "new content, longer");
  WriteFile(src + "/victim_big_old.bin", Pattern(310 * 1024, 2));
  WriteFile(src + "/sub/victim_new.txt", "brand new");
  WriteFile(src + "/victim_big_new.bin", Pattern(400 * 1024, 3));
}

void ExpectVictimsUntouched(const std::string& dst) {
  EXPECT_EQ(ReadFile(dst + "/sub/victim_old.txt"), "old content");
  EXPECT_TRUE(SameContent(ReadFile(dst + "/victim_big_old.bin"), Pattern(300 * 1024, 1)));
  EXPECT_FALSE(Exists(dst + "/sub/victim_new.txt"));
  EXPECT_FALSE(Exists(dst + "/victim_big_new.bin"));
}

// ---- injected failures ------------------------------------------------------------

TEST_F(FaultTest, NoSpaceWritingOneFileLeavesNothingTorn) {
  PrepareVictims(src_, dst_);
  AddBystanders();
  // The batched path names the file; large files are written without a
  // name (PWriteAll / copy_file_range), so this hits the small victims.
  auto run = Sync(WithFaults({{"write", "victim", ENOSPC, 0}}));
  ASSERT_TRUE(run->ok()) << run->Dump();
  EXPECT_TRUE(run->outcome.partial) << run->Dump();
  EXPECT_TRUE(run->events.ErrorMentions("sub/victim_new.txt")) << run->Dump();
  EXPECT_TRUE(run->events.ErrorMentions("sub/victim_old.txt")) << run->Dump();
  EXPECT_EQ(ReadFile(D("sub/victim_old.txt")), "old content");
  EXPECT_FALSE(Exists(D("sub/victim_new.txt")));
  EXPECT_EQ(Join(Temporaries(dst_)), "");
  ExpectBystandersLanded();

  auto rerun = Sync(SyncOptions{});
  ASSERT_TRUE(rerun->clean()) << rerun->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

// A file system without O_TMPFILE (EOPNOTSUPP on the unnamed create): new
// files land through named temporaries instead, with no error and nothing
// left behind.
TEST_F(FaultTest, NoUnnamedFilesFallsBackToNamedTemporaries) {
  PrepareVictims(src_, dst_);
  AddBystanders();
  auto run = Sync(WithFaults({{"create_unnamed", "", EOPNOTSUPP, 0}}));
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

TEST_F(FaultTest, NoSpaceWritingALargeFileLeavesNothingTorn) {
  // Only large files and entries without data, so an unnamed "write" fault
  // hits exactly the large-file path.
  WriteFile(S("big_old.bin"), Pattern(600 * 1024, 1));
  auto first = Sync(SyncOptions{});
  ASSERT_TRUE(first->clean()) << first->Dump();
  WriteFile(S("big_old.bin"), Pattern(650 * 1024, 2));
  WriteFile(S("dir/big_new.bin"), Pattern(2 << 20, 3));
  Symlink("big_old.bin", S("link"));
  MakeDirs(S("emptydir"));

  auto run = Sync(WithFaults({{"write", "", ENOSPC, 0}}));
  ASSERT_TRUE(run->ok()) << run->Dump();
  EXPECT_TRUE(run->outcome.partial) << run->Dump();
  EXPECT_TRUE(run->events.ErrorMentions("big_old.bin")) << run->Dump();
  EXPECT_TRUE(run->events.ErrorMentions("dir/big_new.bin")) << run->Dump();
  EXPECT_TRUE(SameContent(ReadFile(D("big_old.bin")), Pattern(600 * 1024, 1)));
  EXPECT_FALSE(Exists(D("dir/big_new.bin")));
  EXPECT_EQ(Join(Temporaries(dst_)), "");
  EXPECT_EQ(Describe(D("link")), Describe(S("link")));
  EXPECT_TRUE(Exists(D("emptydir")));

  auto rerun = Sync(SyncOptions{});
  ASSERT_TRUE(rerun->clean()) << rerun->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
}

TEST_F(FaultTest, RenameFailureLeavesNothingTorn) {
  PrepareVictims(src_, dst_);
  AddBystanders();
  Symlink("somewhere", S("victim_link"));
  ASSERT_EQ(::mkfifo(S("victim_fifo").c_str(), 0644), 0);
  auto run = Sync(WithFaults({{"rename", "victim", EIO, 0}}));
  ASSERT_TRUE(run->ok()) << run->Dump();
  EXPECT_TRUE(run->outcome.partial) << run->Dump();
  for (const char* p : {"sub/victim_new.txt", "sub/victim_old.txt", "victim_big_old.bin",
                        "victim_big_new.bin", "victim_link", "victim_fifo"})
    EXPECT_TRUE(run->events.ErrorMentions(p)) << p << "\n" << run->Dump();
  ExpectVictimsUntouched(dst_);
  EXPECT_FALSE(Exists(D("victim_link")));
  EXPECT_FALSE(Exists(D("victim_fifo")));
  EXPECT_EQ(Join(Temporaries(dst_)), "");
  ExpectBystandersLanded();

  auto rerun = Sync(SyncOptions{});
  ASSERT_TRUE(rerun->clean()) << rerun->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

TEST_F(FaultTest, RenameFailureOnTheDeltaPathLeavesNothingTorn) {
  PrepareVictims(src_, dst_);
  AddBystanders();
  SyncOptions o = WithFaults({{"rename", "victim", EIO, 0}});
  o.whole_file = false;
  auto run = Sync(o);
  ASSERT_TRUE(run->ok()) << run->Dump();
  EXPECT_TRUE(run->outcome.partial) << run->Dump();
  EXPECT_TRUE(run->events.ErrorMentions("victim_big_old.bin")) << run->Dump();
  ExpectVictimsUntouched(dst_);
  EXPECT_EQ(Join(Temporaries(dst_)), "");
  ExpectBystandersLanded();
}

TEST_F(FaultTest, FailedHardLinkLeaderIsReportedForItsFollowers) {
  WriteFile(S("a/victim_leader"), "linked");
  HardLink(S("a/victim_leader"), S("b/follower"));
  AddBystanders();
  auto run = Sync(WithFaults({{"write", "victim", ENOSPC, 0}}));
  ASSERT_TRUE(run->ok()) << run->Dump();
  EXPECT_TRUE(run->outcome.partial);
  EXPECT_TRUE(run->events.ErrorMentions("b/follower")) << run->Dump();
  EXPECT_FALSE(Exists(D("a/victim_leader")));
  EXPECT_FALSE(Exists(D("b/follower")));
  EXPECT_EQ(Join(Temporaries(dst_)), "");
  ExpectBystandersLanded();

  auto rerun = Sync(SyncOptions{});
  ASSERT_TRUE(rerun->clean()) << rerun->Dump();
  EXPECT_EQ(LStat(D("a/victim_leader")).st_ino, LStat(D("b/follower")).st_ino);
}

// ---- sources that move under the sync -------------------------------------------

TEST_F(FaultTest, VanishedSourceFilesAreReportedAndTheRestGoesOn) {
  WriteFile(S("gone_small"), "small");
  WriteFile(S("dir/gone_large"), Pattern(500 * 1024, 4));
  AddBystanders();
  auto shared = std::make_shared<VanishingBackend::Shared>();
  shared->paths = {{"gone_small", S("gone_small")}, {"gone_large", S("dir/gone_large")}};
  auto run = Sync(With([shared] { return std::make_unique<VanishingBackend>(shared); }));
  ASSERT_TRUE(run->ok()) << run->Dump();
  ASSERT_EQ(shared->done.size(), 2u) << "the test did not delete both files";
  EXPECT_TRUE(run->outcome.vanished) << run->Dump();
  EXPECT_FALSE(run->outcome.partial) << run->Dump();
  EXPECT_TRUE(run->events.errors.empty()) << run->Dump();
  EXPECT_EQ(run->stats.vanished.load(), 2u) << run->Dump();
  EXPECT_TRUE(run->events.WarningMentions("gone_small")) << run->Dump();
  EXPECT_TRUE(run->events.WarningMentions("dir/gone_large")) << run->Dump();
  EXPECT_FALSE(Exists(D("gone_small")));
  EXPECT_FALSE(Exists(D("dir/gone_large")));
  EXPECT_EQ(Join(Temporaries(dst_)), "");
  ExpectBystandersLanded();
}

std::shared_ptr<AppendingBackend::Shared> Appender(const std::string& src,
                                                  std::set<std::string> names,
                                                  int limit) {
  auto s = std::make_shared<AppendingBackend::Shared>();
  s->src_dir = src;
  s->names = names;
  for (const std::string& n : names) s->inodes.insert(LStat(src + "/" + n).st_ino);
  s->limit = limit;
  return s;
}

TEST_F(FaultTest, FileChangedWhileReadIsRetriedAndLandsCurrent) {
  for (const char* n : {"grow_small", "grow_large"}) {
    SCOPED_TRACE(n);
    TempDir t;
    std::string src = t / "src", dst = t / "dst";
    WriteFile(src + "/" + n, std::string(n) == "grow_small" ? Pattern(1000, 1)
                                                           : Pattern(600 * 1024, 2));
    WriteFile(src + "/bystander", "b");
    auto shared = Appender(src, {n}, 1);
    SyncOptions o = With([shared] { return std::make_unique<AppendingBackend>(shared); });
    auto run = DoSync(src + "/", dst + "/", o);
    ASSERT_TRUE(run->ok()) << run->Dump();
    ASSERT_GE(shared->appended.load(), 1) << "the test did not change the file";
    EXPECT_FALSE(run->outcome.partial) << run->Dump();
    EXPECT_TRUE(run->events.WarningMentions(n)) << run->Dump();
    EXPECT_TRUE(run->events.errors.empty()) << run->Dump();
    EXPECT_TRUE(SameContent(ReadFile(dst + "/" + n), ReadFile(src + "/" + n)));
    EXPECT_EQ(TreeDiff(src, dst), "");
    EXPECT_EQ(Join(Temporaries(dst)), "");
  }
}

// A file truncated while it is read (a log being rotated) is retried like one
// that grew, and lands with its current content.
TEST_F(FaultTest, FileThatShrankWhileReadIsRetriedAndLandsCurrent) {
  WriteFile(S("shrinking.log"), Pattern(600 * 1024, 1));
  WriteFile(S("bystander"), "b");
  auto shared = Appender(src_, {"shrinking.log"}, 1);
  shared->shrink = true;
  auto run = Sync(With([shared] { return std::make_unique<AppendingBackend>(shared); }));
  ASSERT_TRUE(run->ok()) << run->Dump();
  ASSERT_GE(shared->appended.load(), 1) << "the test did not change the file";
  ASSERT_EQ(LStat(S("shrinking.log")).st_size, 300 * 1024);
  EXPECT_FALSE(run->outcome.partial) << run->Dump();
  EXPECT_TRUE(run->events.errors.empty()) << run->Dump();
  EXPECT_TRUE(SameContent(ReadFile(D("shrinking.log")), ReadFile(S("shrinking.log"))));
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

TEST_F(FaultTest, FileThatKeepsChangingIsAnErrorAndNeverLands) {
  for (const char* n : {"grow_small", "grow_large"}) {
    SCOPED_TRACE(n);
    TempDir t;
    std::string src = t / "src", dst = t / "dst";
    bool small = std::string(n) == "grow_small";
    WriteFile(src + "/" + n, small ? Pattern(1000, 1) : Pattern(600 * 1024, 2));
    WriteFile(src + "/bystander", "b");
    auto first = DoSync(src + "/", dst + "/", SyncOptions{});
    ASSERT_TRUE(first->clean()) << first->Dump();
    std::string old = ReadFile(dst + "/" + n);
    WriteFile(src + "/" + n, small ? Pattern(1001, 3) : Pattern(600 * 1024 + 1, 4));
    WriteFile(src + "/new_bystander", "nb");

    auto shared = Appender(src, {n}, -1);
    SyncOptions o = With([shared] { return std::make_unique<AppendingBackend>(shared); });
    auto run = DoSync(src + "/", dst + "/", o);
    ASSERT_TRUE(run->ok()) << run->Dump();
    EXPECT_TRUE(run->outcome.partial) << run->Dump();
    EXPECT_TRUE(run->events.ErrorMentions(n)) << run->Dump();
    EXPECT_TRUE(SameContent(ReadFile(dst + "/" + n), old)) << "a changing file landed";
    EXPECT_EQ(ReadFile(dst + "/new_bystander"), "nb");
    EXPECT_EQ(Join(Temporaries(dst)), "");
  }
}

// ---- permissions ----------------------------------------------------------------

TEST_F(FaultTest, UnreadableSourceFileIsAnErrorNamingItAndTheRestIsCopied) {
  WriteFile(S("secret.txt"), "s", 0000);
  WriteFile(S("dir/secret_large.bin"), Pattern(400 * 1024, 1), 0000);
  WriteFile(S("public.txt"), "p", 0644);
  WriteFile(S("dir/public2.txt"), "p2", 0644);
  std::string report;
  if (AmRoot()) {
    // The unprivileged child must be able to reach both trees.
    Chmod(tmp_.path(), 0755);
    MakeDirs(dst_);
    ASSERT_EQ(::chown(dst_.c_str(), 65534, 65534), 0);
    if (::access("/proc/self/exe", R_OK) != 0) GTEST_SKIP() << "cannot re-execute the test";
    report = SyncAsNobody(src_ + "/", dst_ + "/");
    if (report.find("child exit status") != std::string::npos &&
        report.find("partial=") == std::string::npos)
      GTEST_SKIP() << "cannot run the sync as uid 65534 here: " << report;
  } else {
    auto run = Sync(SyncOptions{});
    report = "partial=" + std::to_string(run->outcome.partial ? 1 : 0) + "\n";
    for (const Status& e : run->events.errors) report += "error " + e.message() + "\n";
  }
  EXPECT_NE(report.find("partial=1"), std::string::npos) << report;
  EXPECT_NE(report.find("secret.txt"), std::string::npos) << report;
  EXPECT_NE(report.find("dir/secret_large.bin"), std::string::npos) << report;
  EXPECT_NE(report.find("ermission denied"), std::string::npos) << report;
  EXPECT_FALSE(Exists(D("secret.txt")));
  EXPECT_FALSE(Exists(D("dir/secret_large.bin")));
  EXPECT_EQ(ReadFile(D("public.txt")), "p");
  EXPECT_EQ(ReadFile(D("dir/public2.txt")), "p2");
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

// Not root: read-only directories are filled and still end up read-only, on
// the first run and when something is added later (rsync makes them
// writable for as long as it needs).
TEST_F(FaultTest, ReadOnlyDirectoriesAsNonRoot) {
  WriteFile(S("ro_dir/inner"), "i", 0444);
  WriteFile(S("ro_dir/nested/deep"), "d", 0644);
  Chmod(S("ro_dir/nested"), 0555);
  Chmod(S("ro_dir"), 0555);
  WriteFile(S("plain"), "p");
  auto run_as_user = [&]() -> std::string {
    if (!AmRoot()) {
      auto run = Sync(SyncOptions{});
      std::string r = "partial=" + std::to_string(run->outcome.partial ? 1 : 0) + "\n";
      for (const Status& e : run->events.errors) r += "error " + e.message() + "\n";
      return r;
    }
    return SyncAsNobody(src_ + "/", dst_ + "/");
  };
  if (AmRoot()) {
    Chmod(tmp_.path(), 0755);
    MakeDirs(dst_);
    ASSERT_EQ(::chown(dst_.c_str(), 65534, 65534), 0);
  }
  std::string report = run_as_user();
  if (report.find("partial=") == std::string::npos)
    GTEST_SKIP() << "cannot run the sync as uid 65534 here: " << report;
  EXPECT_NE(report.find("partial=0"), std::string::npos) << report;
  EXPECT_EQ(LStat(D("ro_dir")).st_mode & 07777, 0555u);
  EXPECT_EQ(LStat(D("ro_dir/nested")).st_mode & 07777, 0555u);
  EXPECT_EQ(ReadFile(D("ro_dir/nested/deep")), "d");

  WriteFile(S("ro_dir/added"), "later");  // root may write into 0555
  WriteFile(S("ro_dir/nested/added"), "later too");
  SetTimes(S("ro_dir/nested"), 1500000000, 5);
  SetTimes(S("ro_dir"), 1500000000, 6);
  report = run_as_user();
  EXPECT_NE(report.find("partial=0"), std::string::npos) << report;
  EXPECT_EQ(ReadFile(D("ro_dir/added")), "later");
  EXPECT_EQ(ReadFile(D("ro_dir/nested/added")), "later too");
  EXPECT_EQ(LStat(D("ro_dir")).st_mode & 07777, 0555u);
  EXPECT_EQ(LStat(D("ro_dir/nested")).st_mode & 07777, 0555u);
  EXPECT_EQ(LStat(D("ro_dir/nested")).st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(LStat(D("ro_dir")).st_mtim.tv_nsec, 6);
  EXPECT_EQ(Join(Temporaries(dst_)), "");
}

// ---- a DST directory swapped for a symlink in the middle of a run ----------

// Before reading SRC's `trigger`, renames DST/sub away and puts a symlink to
// an outside directory in its place.
class SwappingBackend : public io::PosixBackend {
 public:
  SwappingBackend(std::string dst, std::string outside, std::shared_ptr<std::atomic<bool>> done)
      : dst_(std::move(dst)), outside_(std::move(outside)), done_(std::move(done)) {}
  void ReadFiles(std::span<io::ReadFileOp> ops) override {
    for (io::ReadFileOp& op : ops)
      if (std::string(op.name) == "trigger") Swap();
    PosixBackend::ReadFiles(ops);
  }
  Result<io::UniqueFd> OpenAt(int dirfd, const char* name, int flags, mode_t mode) override {
    if (std::string(name) == "trigger") Swap();
    return PosixBackend::OpenAt(dirfd, name, flags, mode);
  }

 private:
  void Swap() {
    if (done_->exchange(true)) return;
    if (::rename((dst_ + "/sub").c_str(), (dst_ + "/sub.moved").c_str()) == 0)
      ::symlink(outside_.c_str(), (dst_ + "/sub").c_str());
  }
  std::string dst_, outside_;
  std::shared_ptr<std::atomic<bool>> done_;
};

TEST_F(FaultTest, DestinationDirectorySwappedForASymlinkMidRunIsNotFollowed) {
  std::string outside = tmp_ / "outside";
  WriteFile(outside + "/keep", "outside", 0600);
  SetTimes(outside, 1000000000, 0);
  WriteFile(S("sub/trigger"), "t");
  for (int i = 0; i < 20; ++i) WriteFile(S("sub/f" + std::to_string(i)), "f");
  WriteFile(S("sub/large"), Pattern(300 * 1024, 1));
  WriteFile(S("sub/deeper/x"), "x");
  Chmod(S("sub"), 0711);
  MakeDirs(D("sub"));  // exists before the run, so the scan sees a directory
  auto outside_before = Listing(outside);

  auto done = std::make_shared<std::atomic<bool>>(false);
  std::string dst = dst_;
  auto run = Sync(With([dst, outside, done] {
    return std::make_unique<SwappingBackend>(dst, outside, done);
  }));
  ASSERT_TRUE(run->ok()) << run->Dump();
  ASSERT_TRUE(done->load()) << "the swap did not happen";
  EXPECT_EQ(Listing(outside), outside_before) << "wrote through the swapped-in symlink\n"
                                              << run->Dump();
}

}  // namespace
}  // namespace ferry::sync_test
