// `ferry verify` with one side a ferry daemon module: a real `ferry serve
// --listen 127.0.0.1:0` on loopback, the module's tree as DST
// (`ferry verify LOCAL/ ferry://alice@127.0.0.1:PORT/data/tree/`) and as
// SRC. An identical copy prints nothing and exits 0; every kind of
// difference (content, mode, mtime, xattr, missing, extra, symlink target)
// is printed exactly as a local verify of the same two trees prints it,
// exit 8; a wrong secret exits 5 with the daemon's refusal; a `..` path and
// a path through a symlink out of the module are refused (exit 5) with the
// message the sync gets; a read-only module can be verified; owner maps with
// the daemon as SRC match the names the daemon sends.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

constexpr char kSecret[] = "correct horse";

enum class DaemonEnd { kDst, kSrc };

void PrintTo(DaemonEnd e, std::ostream* os) { *os << (e == DaemonEnd::kDst ? "DST" : "SRC"); }

std::string EndName(const ::testing::TestParamInfo<DaemonEnd>& i) {
  return i.param == DaemonEnd::kDst ? "DaemonDst" : "DaemonSrc";
}

class DaemonVerifyTest : public ::testing::TestWithParam<DaemonEnd> {
 protected:
  void SetUp() override {
    ::unsetenv("FERRY_PASSWORD");
    module_ = tmp_ / "module";
    ro_module_ = tmp_ / "ro_module";
    local_ = tmp_ / "local";
    MakeDirs(module_ + "/tree");
    MakeDirs(ro_module_);
    MakeDirs(local_);
    secret_file_ = tmp_ / "secret";
    WriteFile(secret_file_, std::string(kSecret) + "\n", 0600);
    wrong_secret_file_ = tmp_ / "wrong";
    WriteFile(wrong_secret_file_, "not the secret\n", 0600);
    const std::string config = tmp_ / "ferryd.toml";
    WriteFile(config,
              "[modules.data]\npath = \"" + module_ + "\"\nread_only = false\n"
              "secrets = [\"alice:" + kSecret + "\"]\n"
              "[modules.ro]\npath = \"" + ro_module_ + "\"\nread_only = true\n"
              "secrets = [\"alice:" + kSecret + "\"]\n",
              0600);
    const std::string port_file = tmp_ / "port";
    log_ = tmp_ / "daemon.log";
    daemon_ = ::fork();
    ASSERT_GE(daemon_, 0);
    if (daemon_ == 0) {
      int e = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (e >= 0) ::dup2(e, 2);
      ::execl(Ferry().c_str(), Ferry().c_str(), "serve", "--listen", "127.0.0.1:0", "--config",
              config.c_str(), "--port-file", port_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !Exists(port_file); ++i) ::usleep(10000);
    ASSERT_TRUE(Exists(port_file)) << "the daemon did not start:\n" << ReadFile(log_);
    port_ = std::stoi(ReadFile(port_file));
  }

  void TearDown() override {
    if (daemon_ > 0) {
      ::kill(daemon_, SIGTERM);
      int status = 0;
      ::waitpid(daemon_, &status, 0);
    }
  }

  std::string Url(const std::string& module_path) const {
    return "ferry://alice@127.0.0.1:" + std::to_string(port_) + "/" + module_path;
  }
  // The tree behind the daemon and the local one, in the parameter's order.
  std::string SrcLocal() const { return GetParam() == DaemonEnd::kSrc ? module_ + "/tree" : local_; }
  std::string DstLocal() const { return GetParam() == DaemonEnd::kSrc ? local_ : module_ + "/tree"; }
  std::string S(const std::string& rel) const { return SrcLocal() + "/" + rel; }
  std::string D(const std::string& rel) const { return DstLocal() + "/" + rel; }

  // `ferry verify --password-file F ARGS... SRC/ DST/` with the daemon's
  // module path `module_path` in place of the parameter's side.
  Proc ViaDaemon(std::vector<std::string> args, const std::string& module_path = "data/tree/",
                 const std::string& secret_file = "") {
    std::vector<std::string> argv = {Ferry(), "verify", "--password-file",
                                     secret_file.empty() ? secret_file_ : secret_file};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(GetParam() == DaemonEnd::kSrc ? Url(module_path) : local_ + "/");
    argv.push_back(GetParam() == DaemonEnd::kDst ? Url(module_path) : local_ + "/");
    return RunProcess(argv, tmp_.path());
  }
  Proc Local(std::vector<std::string> args) {
    std::vector<std::string> argv = {Ferry(), "verify"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(SrcLocal() + "/");
    argv.push_back(DstLocal() + "/");
    return RunProcess(argv, tmp_.path());
  }

  // Through the daemon and locally: the same exit code and lines, `want`.
  void ExpectOnly(const std::vector<std::string>& want) {
    Proc r = ViaDaemon({});
    Proc l = Local({});
    std::vector<std::string> w = want;
    std::sort(w.begin(), w.end());
    EXPECT_EQ(Sorted(r.out), w) << r.Dump();
    EXPECT_EQ(Sorted(r.out), Sorted(l.out)) << "daemon:\n" << r.Dump() << "local:\n" << l.Dump();
    EXPECT_EQ(r.code, want.empty() ? 0 : 8) << r.Dump();
    EXPECT_EQ(r.code, l.code) << r.Dump() << l.Dump();
    EXPECT_EQ(r.err, "") << r.Dump();
  }

  // SRC's tree (every kind the comparison looks at), copied to DST.
  void BuildTree() {
    const std::string s = SrcLocal();
    WriteFile(s + "/content", Pattern(1000, 1));
    WriteFile(s + "/large", Pattern(600 * 1024 + 3, 2));
    WriteFile(s + "/mode", "m");
    WriteFile(s + "/time", "t");
    WriteFile(s + "/xattr", "x");
    WriteFile(s + "/gone", "only in SRC soon");
    WriteFile(s + "/sub/deep/inner", "inner");
    ASSERT_EQ(::symlink("content", (s + "/link").c_str()), 0);
    xattrs_ = ::setxattr((s + "/xattr").c_str(), "user.tag", "v", 1, 0) == 0;
    Proc p = RunProcess({Ferry(), "sync", "--no-progress", s + "/", DstLocal() + "/"},
                        tmp_.path());
    ASSERT_EQ(p.code, 0) << p.Dump();
  }
  // Other bytes of the same length and mtime.
  void FlipByte(const std::string& rel, size_t at) {
    struct stat st = LStat(D(rel));
    std::string c = ReadFile(D(rel));
    c[at] = static_cast<char>(c[at] ^ 1);
    WriteFile(D(rel), c);
    SetMtime(D(rel), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  }
  void RestoreDirTimes(const std::vector<std::string>& dirs) {
    for (const std::string& d : dirs) {
      struct stat st = LStat(d.empty() ? SrcLocal() : S(d));
      SetMtime(d.empty() ? DstLocal() : D(d), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
  }

  TempDir tmp_;
  std::string module_, ro_module_, local_, secret_file_, wrong_secret_file_, log_;
  pid_t daemon_ = -1;
  int port_ = 0;
  bool xattrs_ = false;
};

TEST_P(DaemonVerifyTest, IdenticalCopyReportsNothing) {
  BuildTree();
  ExpectOnly({});
  Proc r = ViaDaemon({"--json"});
  ASSERT_EQ(r.code, 0) << r.Dump();
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["identical"], true) << r.out;
  EXPECT_EQ(j["entries"], 11) << r.out;  // the root and the 10 entries below it
  EXPECT_EQ(j["files_hashed"], 14) << r.out;  // 7 non-empty files, both sides
}

TEST_P(DaemonVerifyTest, EveryKindOfDifference) {
  BuildTree();
  FlipByte("content", 500);
  FlipByte("large", 512 * 1024);
  ASSERT_EQ(::chmod(D("mode").c_str(), 0600), 0);
  struct stat st = LStat(S("time"));
  SetMtime(D("time"), st.st_mtim.tv_sec, (st.st_mtim.tv_nsec + 1) % 1000000000);
  ASSERT_EQ(::unlink(D("gone").c_str()), 0);
  WriteFile(D("sub/extra"), "only in DST");
  ASSERT_EQ(::unlink(D("link").c_str()), 0);
  ASSERT_EQ(::symlink("elsewhere", D("link").c_str()), 0);
  std::vector<std::string> want = {">fc........ content",   ">fc........ large",
                                   ".f...p..... mode",      ".f..t...... time",
                                   ">f+++++++++ gone",      "*deleting   sub/extra",
                                   "cLc.t...... link -> content"};
  if (xattrs_) {
    ASSERT_EQ(::lremovexattr(D("xattr").c_str(), "user.tag"), 0);
    want.push_back(".f........x xattr");
  }
  RestoreDirTimes({"", "sub"});
  ExpectOnly(want);
}

TEST_P(DaemonVerifyTest, NamedEntryRootAndMissingRoot) {
  BuildTree();
  if (GetParam() == DaemonEnd::kDst) {
    // SRC without a trailing slash is compared with DST/src.
    Proc p = RunProcess({Ferry(), "sync", "--no-progress", local_, module_ + "/"}, tmp_.path());
    ASSERT_EQ(p.code, 0) << p.Dump();
    Proc named = RunProcess({Ferry(), "verify", "--password-file", secret_file_, local_,
                             Url("data")}, tmp_.path());
    EXPECT_EQ(named.code, 0) << named.Dump();
    EXPECT_EQ(named.out, "") << named.Dump();
    // A missing DST is a copy with everything missing, as locally.
    Proc missing = ViaDaemon({}, "data/no_such_dir/");
    EXPECT_EQ(missing.code, 8) << missing.Dump();
    EXPECT_TRUE(HasLine(missing.out, ">f+++++++++ content")) << missing.Dump();
  } else {
    Proc missing = ViaDaemon({}, "data/no_such_dir/");
    EXPECT_EQ(missing.code, 23) << missing.Dump();
    EXPECT_NE(missing.err.find("source " + Url("data/no_such_dir/") +
                               ": No such file or directory"),
              std::string::npos)
        << missing.Dump();
  }
}

TEST_P(DaemonVerifyTest, WrongSecretExits5) {
  BuildTree();
  Proc p = ViaDaemon({}, "data/tree/", wrong_secret_file_);
  EXPECT_EQ(p.code, 5) << p.Dump();
  EXPECT_NE(p.err.find("ferry daemon 127.0.0.1:" + std::to_string(port_) +
                       ": authentication failed"),
            std::string::npos)
      << p.Dump();
  EXPECT_EQ(p.out, "") << p.Dump();
  // --json still ends with a summary object.
  Proc j = ViaDaemon({"--json"}, "data/tree/", wrong_secret_file_);
  EXPECT_EQ(j.code, 5) << j.Dump();
  EXPECT_EQ(nlohmann::json::parse(j.out)["exit_code"], 5) << j.Dump();
}

TEST_P(DaemonVerifyTest, TheOtherSideMustBeLocal) {
  std::vector<std::string> argv = {Ferry(), "verify", "--password-file", secret_file_};
  argv.push_back(GetParam() == DaemonEnd::kSrc ? Url("data/tree/") : "otherhost:/srv/");
  argv.push_back(GetParam() == DaemonEnd::kDst ? Url("data/tree/") : "otherhost:/srv/");
  Proc p = RunProcess(argv, tmp_.path());
  EXPECT_EQ(p.code, 1) << p.Dump();
  EXPECT_NE(p.err.find("otherhost:/srv/ is a remote-shell path"), std::string::npos) << p.Dump();
}

TEST_P(DaemonVerifyTest, EscapesFromTheModuleAreRefusedAsForTheSync) {
  BuildTree();
  ASSERT_EQ(::symlink("/etc", (module_ + "/esc").c_str()), 0);
  for (const std::string& path : {std::string("data/tree/../../x/"), std::string("data/esc/")}) {
    SCOPED_TRACE(path);
    Proc v = ViaDaemon({}, path);
    EXPECT_EQ(v.code, 5) << v.Dump();
    EXPECT_EQ(v.out, "") << v.Dump();
    // A sync reading the same path (a pull: the daemon reads, as its verify
    // side does) gets the same refusal.
    Proc s = RunProcess({Ferry(), "sync", "--no-progress", "--password-file", secret_file_,
                         Url(path), (tmp_ / "pulled") + "/"},
                        tmp_.path());
    EXPECT_EQ(s.code, 5) << s.Dump();
    const size_t at = v.err.find("refused the session: ");
    ASSERT_NE(at, std::string::npos) << v.Dump();
    const std::string why = v.err.substr(at, v.err.find('\n', at) - at);
    EXPECT_NE(s.err.find(why), std::string::npos)
        << "verify:\n" << v.Dump() << "sync:\n" << s.Dump();
  }
  Proc link = ViaDaemon({}, "data/esc/");
  EXPECT_NE(link.err.find("a module path may not go through a symlink or leave the module"),
            std::string::npos)
      << link.Dump();
  Proc dots = ViaDaemon({}, "data/tree/../../x/");
  EXPECT_NE(dots.err.find("'..'"), std::string::npos) << dots.Dump();
}

TEST_P(DaemonVerifyTest, ReadOnlyModuleCanBeVerified) {
  BuildTree();
  Proc p = RunProcess({Ferry(), "sync", "--no-progress", DstLocal() + "/", ro_module_ + "/"},
                      tmp_.path());
  ASSERT_EQ(p.code, 0) << p.Dump();
  std::vector<std::string> argv = {Ferry(), "verify", "--password-file", secret_file_};
  const bool src = GetParam() == DaemonEnd::kSrc;
  argv.push_back(src ? Url("ro/") : SrcLocal() + "/");
  argv.push_back(src ? DstLocal() + "/" : Url("ro/"));
  Proc same = RunProcess(argv, tmp_.path());
  EXPECT_EQ(same.code, 0) << same.Dump();
  EXPECT_EQ(same.out, "") << same.Dump();
  WriteFile(ro_module_ + "/added", "x");
  Proc diff = RunProcess(argv, tmp_.path());
  EXPECT_EQ(diff.code, 8) << diff.Dump();
  EXPECT_TRUE(HasLine(diff.out, src ? ">f+++++++++ added" : "*deleting   added")) << diff.Dump();
}

// The daemon (root here) sends its owner names; a --usermap FROM name
// matches them as the sync's receiver matches its sender's.
TEST_P(DaemonVerifyTest, OwnerMapsMatchTheDaemonSourcesNames) {
  if (GetParam() != DaemonEnd::kSrc) GTEST_SKIP() << "owner names come from the source";
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(S("f"), "x");
  ASSERT_EQ(::chown(S("f").c_str(), 1, 1), 0);  // daemon:daemon
  Proc sync = RunProcess({Ferry(), "sync", "--no-progress", "--password-file", secret_file_,
                          "--usermap=daemon:sys", "--groupmap=daemon:sys", Url("data/tree/"),
                          local_ + "/"},
                         tmp_.path());
  ASSERT_EQ(sync.code, 0) << sync.Dump();
  ASSERT_EQ(LStat(D("f")).st_uid, 3u) << "the sync mapped daemon to sys";
  Proc mapped = ViaDaemon({"--usermap=daemon:sys", "--groupmap=daemon:sys"});
  EXPECT_EQ(mapped.code, 0) << mapped.Dump();
  EXPECT_EQ(mapped.out, "") << mapped.Dump();
  ASSERT_EQ(::chown(D("f").c_str(), 1, 3), 0);  // the unmapped owner
  Proc unmapped = ViaDaemon({"--usermap=daemon:sys", "--groupmap=daemon:sys"});
  EXPECT_EQ(unmapped.code, 8) << unmapped.Dump();
  EXPECT_TRUE(HasLine(unmapped.out, ".f....o.... f")) << unmapped.Dump();
}

INSTANTIATE_TEST_SUITE_P(Ends, DaemonVerifyTest,
                         ::testing::Values(DaemonEnd::kDst, DaemonEnd::kSrc), EndName);

}  // namespace
}  // namespace ferry::e2e
