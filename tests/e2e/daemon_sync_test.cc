// `ferry sync` against a real `ferry serve --listen 127.0.0.1:0` daemon over
// TCP loopback: push and pull into a module with every metadata kind,
// --delete, -z on and off; a wrong secret (exit 5, nothing written); the
// confinement of a module (a symlink inside it, "..", a read-only module);
// and a connection cut mid-transfer by a proxy (nothing torn, a rerun
// completes). rsync judges fidelity, as in remote_sync_test.cc:
//   rsync -aHAXc --dry-run --itemize-changes --delete --modify-window=-1 SRC/ DST/
// prints nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace ferry::e2e {
namespace {

constexpr char kSecret[] = "correct horse";

// A TCP proxy on loopback for one connection that forwards both ways and
// closes both sockets once `cut_after` bytes went in the direction cut
// (client to daemon when cut_upstream, else daemon to client).
class CuttingProxy {
 public:
  CuttingProxy(uint16_t daemon_port, size_t cut_after, bool cut_upstream)
      : daemon_port_(daemon_port), cut_after_(cut_after), cut_upstream_(cut_upstream) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(0);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~CuttingProxy() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  bool cut() const { return cut_.load(); }

 private:
  static sockaddr_in Loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  void Run() {
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    const int daemon = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(daemon_port_);
    if (::connect(daemon, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(client);
      ::close(daemon);
      return;
    }
    size_t counted = 0;
    char buf[65536];
    for (;;) {
      pollfd fds[2] = {{client, POLLIN, 0}, {daemon, POLLIN, 0}};
      if (::poll(fds, 2, 10000) <= 0) break;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int from = i == 0 ? client : daemon, to = i == 0 ? daemon : client;
        ssize_t n = ::read(from, buf, sizeof buf);
        if (n <= 0) {
          done = true;
          break;
        }
        size_t len = static_cast<size_t>(n);
        const bool counted_dir = (i == 0) == cut_upstream_;
        if (counted_dir && counted + len >= cut_after_) {
          len = cut_after_ - counted;
          done = true;
          cut_ = true;
        }
        if (counted_dir) counted += len;
        if (len > 0 && ::send(to, buf, len, MSG_NOSIGNAL) != static_cast<ssize_t>(len)) done = true;
      }
      if (done) break;
    }
    ::close(client);
    ::close(daemon);
  }

  uint16_t daemon_port_;
  size_t cut_after_;
  bool cut_upstream_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> cut_{false};
  std::thread thread_;
};

class DaemonSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ferry::testing::Shell("command -v rsync >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "rsync is not installed";
    module_ = tmp_ / "module";
    src_ = module_ + "/tree";  // pulled from the module
    dst_ = module_ + "/copy";  // pushed into the module
    outside_ = tmp_ / "outside";
    MakeDirs(src_);
    MakeDirs(tmp_ / "ro");
    MakeDirs(outside_);
    WriteFile(outside_ + "/secret.txt", "outside the module");
    // A symlink inside the module pointing out of it.
    ASSERT_EQ(::symlink(outside_.c_str(), (module_ + "/escape").c_str()), 0);
    const std::string config = tmp_ / "ferryd.toml";
    WriteFile(config,
              "[daemon]\n"
              "auth_timeout = 5\n"
              "[modules.data]\n"
              "path = \"" + module_ + "\"\n"
              "read_only = false\n"
              "secrets = [\"alice:" + kSecret + "\"]\n"
              "[modules.archive]\n"
              "path = \"" + (tmp_ / "ro") + "\"\n"
              "secrets = [\"alice:" + kSecret + "\"]\n",
              0600);
    const std::string port_file = tmp_ / "port";
    const std::string log = tmp_ / "daemon.log";
    daemon_ = ::fork();
    ASSERT_GE(daemon_, 0);
    if (daemon_ == 0) {
      int e = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (e >= 0) ::dup2(e, 2);
      ::execl(Ferry().c_str(), Ferry().c_str(), "serve", "--listen", "127.0.0.1:0", "--config",
              config.c_str(), "--port-file", port_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !Exists(port_file); ++i) ::usleep(10000);
    ASSERT_TRUE(Exists(port_file)) << "the daemon did not start:\n" << ReadFile(log);
    port_ = static_cast<uint16_t>(std::stoi(ReadFile(port_file)));
    ::setenv("FERRY_PASSWORD", kSecret, 1);
  }

  void TearDown() override {
    ::unsetenv("FERRY_PASSWORD");
    if (daemon_ > 0) {
      ::kill(daemon_, SIGTERM);
      int status = 0;
      ::waitpid(daemon_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "the daemon did not shut down cleanly on SIGTERM:\n"
          << ReadFile(tmp_ / "daemon.log");
    }
  }

  std::string Url(const std::string& module_path, uint16_t port = 0) const {
    return "ferry://alice@127.0.0.1:" + std::to_string(port ? port : port_) + "/" + module_path;
  }

  Proc Sync(std::vector<std::string> args) {
    std::vector<std::string> argv = {Ferry(), "sync", "--no-progress"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, tmp_.path());
  }
  // Local src_ into the module's "copy" (the daemon receives).
  Proc Push(std::vector<std::string> extra = {}, uint16_t port = 0) {
    extra.push_back(src_ + "/");
    extra.push_back(Url("data/copy/", port));
    return Sync(extra);
  }
  // The module's "tree" into local dst_ (the daemon sends).
  Proc Pull(std::vector<std::string> extra = {}, uint16_t port = 0) {
    extra.push_back(Url("data/tree/", port));
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
  void BuildTree() { BuildEveryKindTree(src_, 3, 10); }

  bool HasTemporaries(const std::string& dir) {
    std::string out;
    ferry::testing::Shell("find '" + dir + "' -name '.~ferry.*'", &out);
    return !out.empty();
  }

  // Every file under dst is complete (equal to its source) or absent.
  void CheckNothingTorn() {
    std::string list;
    ferry::testing::Shell("cd '" + dst_ + "' 2>/dev/null && find . -type f", &list);
    for (const std::string& rel : Lines(list)) {
      if (rel.empty()) continue;
      EXPECT_EQ(ReadFile(D(rel)), ReadFile(S(rel))) << rel << " is torn";
    }
  }

  TempDir tmp_;
  std::string module_, src_, dst_, outside_;
  pid_t daemon_ = -1;
  uint16_t port_ = 0;
};

TEST_F(DaemonSyncTest, PushKeepsEveryMetadataKind) {
  BuildTree();
  Proc p = Push();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_LT(LStat(D("sparse.img")).st_blocks * 512, 1 << 20) << "the hole was written out";
  EXPECT_EQ(LStat(D("hard/one")).st_ino, LStat(D("many/d0/third_link")).st_ino);
  EXPECT_FALSE(HasTemporaries(module_));
}

TEST_F(DaemonSyncTest, PullKeepsEveryMetadataKind) {
  BuildTree();
  dst_ = tmp_ / "pulled";
  Proc p = Pull();
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_EQ(LStat(D("hard/one")).st_ino, LStat(D("many/d0/third_link")).st_ino);
  EXPECT_FALSE(HasTemporaries(dst_));
}

// --streams 3 through the daemon: three authenticated connections and the
// final pass, files of 64 KiB and more split by ranges across them.
TEST_F(DaemonSyncTest, SeveralStreamsPushAndPull) {
  BuildTree();
  ::setenv("FERRY_STREAMS_SPLIT_MIN", "65536", 1);
  Proc push = Push({"--streams", "3", "--stats"});
  const std::string pushed = dst_;
  dst_ = tmp_ / "pulled";
  Proc pull = Pull({"--streams", "3"});
  ::unsetenv("FERRY_STREAMS_SPLIT_MIN");
  ASSERT_EQ(push.code, 0) << push.Dump();
  EXPECT_NE(push.out.find("streams: 3"), std::string::npos) << push.out;
  ASSERT_EQ(pull.code, 0) << pull.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries(dst_));
  dst_ = pushed;
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries(module_));
}

TEST_F(DaemonSyncTest, UserComesFromUserWhenTheTargetHasNone) {
  WriteFile(S("a"), "a");
  const char* was = std::getenv("USER");
  const std::string saved = was ? was : "";
  ::setenv("USER", "alice", 1);
  Proc p = Sync({"ferry://127.0.0.1:" + std::to_string(port_) + "/data/tree/", dst_ + "/"});
  ::setenv("USER", "mallory", 1);
  Proc q = Sync({"ferry://127.0.0.1:" + std::to_string(port_) + "/data/tree/", dst_ + "/"});
  if (was) ::setenv("USER", saved.c_str(), 1);
  else ::unsetenv("USER");
  EXPECT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ReadFile(D("a")), "a");
  EXPECT_EQ(q.code, 5) << "mallory has no secret in the module\n" << q.Dump();
}

TEST_F(DaemonSyncTest, DirectoryWithoutSlashLandsUnderItsName) {
  WriteFile(S("x/y.txt"), "y");
  Proc p = Sync({src_, Url("data/copy")});
  ASSERT_EQ(p.code, 0) << p.Dump();
  EXPECT_EQ(ReadFile(module_ + "/copy/tree/x/y.txt"), "y");
  Proc q = Sync({Url("data/tree"), tmp_ / "pulled"});
  ASSERT_EQ(q.code, 0) << q.Dump();
  EXPECT_EQ(ReadFile(tmp_ / "pulled/tree/x/y.txt"), "y");
}

TEST_F(DaemonSyncTest, DeleteAndCompressionBothWays) {
  for (int i = 0; i < 6; ++i)
    WriteFile(S("text/f" + std::to_string(i)), Pattern(256 << 10, 1) + std::to_string(i));
  Proc plain = Push({"--stats"});
  ASSERT_EQ(plain.code, 0) << plain.Dump();
  EXPECT_EQ(Oracle(), "");
  // A second push with -z after changes, with --delete.
  ASSERT_EQ(::unlink(S("text/f2").c_str()), 0);
  WriteFile(S("text/new"), Pattern(300 << 10, 7));
  WriteFile(D("text/dst_only"), "extra");
  Proc keep = Push({"-z"});
  ASSERT_EQ(keep.code, 0) << keep.Dump();
  EXPECT_TRUE(Exists(D("text/dst_only"))) << "deleted without --delete";
  Proc del = Push({"-z", "--delete", "--stats"});
  ASSERT_EQ(del.code, 0) << del.Dump();
  EXPECT_FALSE(Exists(D("text/dst_only")));
  EXPECT_FALSE(Exists(D("text/f2")));
  EXPECT_EQ(Oracle(), "");
  // Pulls: plain, then -z --delete over a changed local copy.
  dst_ = tmp_ / "pulled";
  Proc pull = Pull();
  ASSERT_EQ(pull.code, 0) << pull.Dump();
  EXPECT_EQ(Oracle(), "");
  WriteFile(D("pulled_extra"), "x");
  ferry::testing::RemoveTree(dst_ + "/text");
  Proc zp = Pull({"-z", "--delete", "--stats"});
  ASSERT_EQ(zp.code, 0) << zp.Dump();
  EXPECT_FALSE(Exists(D("pulled_extra")));
  EXPECT_EQ(Oracle(), "");
  // Fresh pushes of the same tree with and without -z: zstd shrinks the wire.
  ferry::testing::RemoveTree(module_ + "/copy");
  dst_ = module_ + "/copy";
  Proc p0 = Push({"--stats"});
  ferry::testing::RemoveTree(module_ + "/copy");
  Proc p1 = Push({"--stats", "-z"});
  ASSERT_EQ(p0.code, 0) << p0.Dump();
  ASSERT_EQ(p1.code, 0) << p1.Dump();
  const auto sent = [](const std::string& out) -> int64_t {
    for (const std::string& l : Lines(out)) {
      if (!l.starts_with("Total bytes sent:")) continue;
      std::string digits;
      for (char c : l) if (c >= '0' && c <= '9') digits += c;
      return digits.empty() ? -1 : std::stoll(digits);
    }
    return -1;
  };
  ASSERT_GT(sent(p0.out), 1 << 20) << p0.out;
  ASSERT_GT(sent(p1.out), 0) << p1.out;
  EXPECT_LT(sent(p1.out) * 2, sent(p0.out)) << "zstd should at least halve repetitive text";
}

TEST_F(DaemonSyncTest, WrongSecretIsExit5AndWritesNothing) {
  WriteFile(S("a"), "a");
  ::setenv("FERRY_PASSWORD", "wrong", 1);
  Proc p = Push();
  EXPECT_EQ(p.code, 5) << p.Dump();
  EXPECT_NE(p.err.find("authentication failed"), std::string::npos) << p.err;
  EXPECT_FALSE(Exists(dst_));
  Proc q = Pull();
  EXPECT_EQ(q.code, 5) << q.Dump();
  // An unknown module fails the same way (the daemon says nothing more).
  Proc r = Sync({src_ + "/", Url("nosuchmodule/x/")});
  EXPECT_EQ(r.code, 5) << r.Dump();
  EXPECT_NE(r.err.find("authentication failed"), std::string::npos) << r.err;
  // No secret at all: a usage error naming both ways to give one.
  ::unsetenv("FERRY_PASSWORD");
  Proc none = Push();
  EXPECT_EQ(none.code, 1) << none.Dump();
  EXPECT_NE(none.err.find("--password-file"), std::string::npos) << none.err;
  // --password-file works, and one readable by others is refused.
  const std::string pw = tmp_ / "pw";
  WriteFile(pw, std::string(kSecret) + "\n", 0600);
  Proc ok = Push({"--password-file", pw});
  EXPECT_EQ(ok.code, 0) << ok.Dump();
  EXPECT_EQ(ReadFile(D("a")), "a");
  ASSERT_EQ(::chmod(pw.c_str(), 0644), 0);
  Proc loose = Push({"--password-file", pw});
  EXPECT_NE(loose.code, 0) << loose.Dump();
}

TEST_F(DaemonSyncTest, NoPortRefusedIsExit10) {
  // A port nobody listens on: bind one, close it, connect there.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  WriteFile(S("a"), "a");
  Proc p = Push({}, ntohs(a.sin_port));
  EXPECT_EQ(p.code, 10) << p.Dump();
}

// The CVE-2024-12086/12087 class for modules: module/escape -> outside.
TEST_F(DaemonSyncTest, SymlinkInsideTheModuleDoesNotLeadOut) {
  WriteFile(S("a"), "pushed");
  const std::vector<std::string> pushes = {"data/escape/", "data/escape/sub/", "data/escape"};
  for (const std::string& target : pushes) {
    Proc p = Sync({src_ + "/", Url(target)});
    EXPECT_EQ(p.code, 5) << target << "\n" << p.Dump();
    EXPECT_NE(p.err.find("symlink"), std::string::npos) << p.err;
  }
  std::string listing;
  ferry::testing::Shell("ls -A '" + outside_ + "'", &listing);
  EXPECT_EQ(listing, "secret.txt\n") << "something was written outside the module";
  for (const std::string target : {"data/escape/", "data/escape/secret.txt", "data/escape/."}) {
    const std::string out = tmp_ / "pulled";
    Proc p = Sync({Url(target), out + "/"});
    EXPECT_NE(p.code, 0) << target << "\n" << p.Dump();
    EXPECT_FALSE(Exists(out + "/secret.txt")) << target << " read a file outside the module";
  }
  // Pulling "escape" without a slash sends the symlink itself, not its target.
  Proc link = Sync({Url("data/escape"), tmp_ / "pulled2/"});
  EXPECT_EQ(link.code, 0) << link.Dump();
  EXPECT_TRUE(S_ISLNK(LStat(tmp_ / "pulled2/escape").st_mode));
}

TEST_F(DaemonSyncTest, DotDotAndReadOnlyAreRefused) {
  WriteFile(S("a"), "a");
  Proc up = Sync({src_ + "/", Url("data/../outside/")});
  EXPECT_EQ(up.code, 5) << up.Dump();
  EXPECT_NE(up.err.find(".."), std::string::npos) << up.err;
  Proc down = Sync({Url("data/tree/../../outside/"), tmp_ / "pulled/"});
  EXPECT_EQ(down.code, 5) << down.Dump();
  EXPECT_FALSE(Exists(tmp_ / "pulled/secret.txt"));
  Proc ro = Sync({src_ + "/", Url("archive/x/")});
  EXPECT_EQ(ro.code, 5) << ro.Dump();
  EXPECT_NE(ro.err.find("read-only"), std::string::npos) << ro.err;
  EXPECT_FALSE(Exists(tmp_ / "ro/x"));
  // Reading a read-only module works.
  WriteFile(tmp_ / "ro/r.txt", "r");
  Proc pull = Sync({Url("archive/"), tmp_ / "from_ro/"});
  EXPECT_EQ(pull.code, 0) << pull.Dump();
  EXPECT_EQ(ReadFile(tmp_ / "from_ro/r.txt"), "r");
}

TEST_F(DaemonSyncTest, CutConnectionOnPushLeavesNothingTornAndRerunCompletes) {
  for (int i = 0; i < 10; ++i) WriteFile(S("f" + std::to_string(i)), Pattern(1 << 20, i));
  {
    CuttingProxy proxy(port_, 3000000, /*cut_upstream=*/true);
    Proc cut = Push({}, proxy.port());
    // 10: the socket failed under a write; 12: a frame was cut short.
    EXPECT_TRUE(cut.code == 10 || cut.code == 12) << cut.Dump();
    EXPECT_TRUE(proxy.cut()) << "the transfer ended before the cut";
    EXPECT_NE(cut.err.find("connection closed"), std::string::npos) << cut.err;
  }
  CheckNothingTorn();
  Proc again = Push();
  ASSERT_EQ(again.code, 0) << again.Dump();
  EXPECT_EQ(Oracle(), "");
  EXPECT_FALSE(HasTemporaries(module_));
}

TEST_F(DaemonSyncTest, CutConnectionOnPullLeavesNothingTornAndRerunCompletes) {
  for (int i = 0; i < 10; ++i) WriteFile(S("f" + std::to_string(i)), Pattern(1 << 20, i));
  dst_ = tmp_ / "pulled";
  {
    CuttingProxy proxy(port_, 3000000, /*cut_upstream=*/false);
    Proc cut = Pull({}, proxy.port());
    EXPECT_TRUE(cut.code == 10 || cut.code == 12) << cut.Dump();
    EXPECT_TRUE(proxy.cut()) << "the transfer ended before the cut";
    EXPECT_NE(cut.err.find("connection closed"), std::string::npos) << cut.err;
  }
  CheckNothingTorn();
  EXPECT_FALSE(HasTemporaries(dst_));
  Proc again = Pull();
  ASSERT_EQ(again.code, 0) << again.Dump();
  EXPECT_EQ(Oracle(), "");
}

// rsync's spelling, host::module/path, always means port 8730: a second
// daemon listens there when it is free.
TEST_F(DaemonSyncTest, RsyncDaemonSyntaxReachesPort8730) {
  const std::string port_file = tmp_ / "port8730";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int e = ::open((tmp_ / "daemon8730.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (e >= 0) ::dup2(e, 2);
    ::execl(Ferry().c_str(), Ferry().c_str(), "serve", "--listen", "127.0.0.1:8730", "--config",
            (tmp_ / "ferryd.toml").c_str(), "--port-file", port_file.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  for (int i = 0; i < 300 && !Exists(port_file); ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      GTEST_SKIP() << "port 8730 is taken here: " << ReadFile(tmp_ / "daemon8730.log");
    }
    ::usleep(10000);
  }
  ASSERT_TRUE(Exists(port_file)) << ReadFile(tmp_ / "daemon8730.log");
  WriteFile(S("r.txt"), "rsync syntax");
  Proc push = Sync({src_ + "/", "alice@127.0.0.1::data/copy/"});
  Proc pull = Sync({"alice@127.0.0.1::data/copy/", tmp_ / "pulled/"});
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(push.code, 0) << push.Dump();
  EXPECT_EQ(pull.code, 0) << pull.Dump();
  EXPECT_EQ(ReadFile(D("r.txt")), "rsync syntax");
  EXPECT_EQ(ReadFile(tmp_ / "pulled/r.txt"), "rsync syntax");
}

TEST_F(DaemonSyncTest, ServeNeedsExactlyOneOfStdioAndListen) {
  Proc neither = RunProcess({Ferry(), "serve"}, tmp_.path());
  EXPECT_EQ(neither.code, 1) << neither.Dump();
  EXPECT_NE(neither.err.find("--listen ADDR:PORT --config FILE"), std::string::npos)
      << neither.err;
  Proc both = RunProcess({Ferry(), "serve", "--stdio", "--listen", "127.0.0.1:0", "--config",
                          tmp_ / "ferryd.toml"},
                         tmp_.path());
  EXPECT_EQ(both.code, 1) << both.Dump();
  Proc role = RunProcess({Ferry(), "serve", "--listen", "127.0.0.1:0", "--config",
                          tmp_ / "ferryd.toml", "--sender", "/etc"},
                         tmp_.path());
  EXPECT_EQ(role.code, 1) << role.Dump();
  EXPECT_NE(role.err.find("--bench-sink go with --stdio"), std::string::npos) << role.err;
  Proc check = RunProcess({Ferry(), "serve", "--config", tmp_ / "ferryd.toml", "--check-config"},
                          tmp_.path());
  EXPECT_EQ(check.code, 0) << check.Dump();
  EXPECT_NE(check.out.find("data"), std::string::npos) << check.out;
}

}  // namespace
}  // namespace ferry::e2e
