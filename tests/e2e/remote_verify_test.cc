// `ferry verify` with a remote side over the remote-shell stand-in
// (tests/remote_shell_standin.sh runs `ferry serve --stdio --verify-side`
// locally), with DST remote and with SRC remote: each kind of difference is
// found and printed exactly as a local verify prints it (same lines, same
// JSON objects, same exit code), an identical copy prints nothing, and a
// remote root that is missing or not a directory, or a remote shell that
// fails, is a clear error.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

#ifndef FERRY_STANDIN
#error "FERRY_STANDIN must name tests/remote_shell_standin.sh"
#endif

namespace ferry::e2e {
namespace {

enum class RemoteEnd { kDst, kSrc };

void PrintTo(RemoteEnd e, std::ostream* os) { *os << (e == RemoteEnd::kDst ? "DST" : "SRC"); }

std::string EndName(const ::testing::TestParamInfo<RemoteEnd>& i) {
  return i.param == RemoteEnd::kDst ? "RemoteDst" : "RemoteSrc";
}

class RemoteVerifyTest : public ::testing::TestWithParam<RemoteEnd> {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    dst_ = tmp_ / "dst";
    MakeDirs(src_);
  }

  std::string S(const std::string& rel) const { return src_ + "/" + rel; }
  std::string D(const std::string& rel) const { return dst_ + "/" + rel; }

  // `ferry verify ARGS... SRC DST` with the parameter's side remote.
  Proc Remote(std::vector<std::string> args, const std::string& src, const std::string& dst) {
    std::vector<std::string> argv = {Ferry(), "verify", "-e", FERRY_STANDIN,
                                     "--remote-ferry", Ferry()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(GetParam() == RemoteEnd::kSrc ? "testhost:" + src : src);
    argv.push_back(GetParam() == RemoteEnd::kDst ? "testhost:" + dst : dst);
    return RunProcess(argv, tmp_.path());
  }
  Proc Local(std::vector<std::string> args, const std::string& src, const std::string& dst) {
    std::vector<std::string> argv = {Ferry(), "verify"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(src);
    argv.push_back(dst);
    return RunProcess(argv, tmp_.path());
  }

  // Verifies SRC/ against DST/ remotely and locally: the same exit code and
  // the same lines (in any order), which must be `want`.
  void ExpectOnly(const std::vector<std::string>& want, std::vector<std::string> args = {}) {
    Proc r = Remote(args, src_ + "/", dst_ + "/");
    Proc l = Local(args, src_ + "/", dst_ + "/");
    std::vector<std::string> w = want;
    std::sort(w.begin(), w.end());
    EXPECT_EQ(Sorted(r.out), w) << r.Dump();
    EXPECT_EQ(Sorted(r.out), Sorted(l.out)) << "remote:\n" << r.Dump() << "local:\n" << l.Dump();
    EXPECT_EQ(r.code, want.empty() ? 0 : 8) << r.Dump();
    EXPECT_EQ(r.code, l.code) << r.Dump() << l.Dump();
    EXPECT_EQ(r.err, "") << r.Dump();
  }

  void Copy() {
    Proc p = RunProcess({Ferry(), "sync", "--no-progress", src_ + "/", dst_ + "/"}, tmp_.path());
    ASSERT_EQ(p.code, 0) << p.Dump();
  }
  // DST's directories get SRC's mtimes back after entries were changed.
  void RestoreDirTimes(const std::vector<std::string>& dirs) {
    for (const std::string& d : dirs) {
      struct stat st = LStat(d.empty() ? src_ : S(d));
      SetMtime(d.empty() ? dst_ : D(d), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
  }
  // Other bytes of the same length and mtime at offset `at`.
  void FlipByte(const std::string& rel, size_t at) {
    struct stat st = LStat(D(rel));
    std::string c = ReadFile(D(rel));
    c[at] = static_cast<char>(c[at] ^ 1);
    WriteFile(D(rel), c);
    SetMtime(D(rel), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  }

  // Every kind of entry the comparison looks at.
  void BuildTree() {
    WriteFile(S("small"), Pattern(1000, 1));
    WriteFile(S("large"), Pattern(3 * 1024 * 1024 + 5, 2));  // hashed in chunks
    WriteFile(S("empty"), "");
    for (int i = 0; i < 80; ++i) WriteFile(S("many/f" + std::to_string(i)), Pattern(100 + i, i));
    WriteFile(S("sub/deep/inner"), "inner");
    ASSERT_EQ(::symlink("small", S("link").c_str()), 0);
    ASSERT_EQ(::link(S("small").c_str(), S("sub/hard").c_str()), 0);
    xattrs_ = ::setxattr(S("small").c_str(), "user.tag", "v", 1, 0) == 0;
    ASSERT_EQ(::mkfifo(S("fifo").c_str(), 0600), 0);
    SetMtime(S("sub/deep"), 1700000000, 123456789);
    Copy();
  }

  TempDir tmp_;
  std::string src_, dst_;
  bool xattrs_ = false;
};

TEST_P(RemoteVerifyTest, IdenticalCopyReportsNothing) {
  BuildTree();
  ExpectOnly({});
  // Compressed too, and the JSON summary counts what a local verify counts.
  Proc r = Remote({"-z", "--json"}, src_ + "/", dst_ + "/");
  Proc l = Local({"--json"}, src_ + "/", dst_ + "/");
  ASSERT_EQ(r.code, 0) << r.Dump();
  nlohmann::json rj = nlohmann::json::parse(r.out), lj = nlohmann::json::parse(l.out);
  EXPECT_EQ(rj["identical"], true) << r.out;
  EXPECT_EQ(rj["entries"], lj["entries"]) << r.out << l.out;
  EXPECT_EQ(rj["files_hashed"], lj["files_hashed"]) << r.out << l.out;
  EXPECT_EQ(rj["bytes_hashed"], lj["bytes_hashed"]) << r.out << l.out;
}

TEST_P(RemoteVerifyTest, OneByteOfContent) {
  BuildTree();
  FlipByte("many/f7", 50);
  FlipByte("large", 2 * 1024 * 1024);
  ExpectOnly({">fc........ many/f7", ">fc........ large"});
}

TEST_P(RemoteVerifyTest, MtimeOffByOneNanosecond) {
  BuildTree();
  SetMtime(D("sub/deep"), 1700000000, 123456790);
  struct stat st = LStat(S("many/f3"));
  SetMtime(D("many/f3"), st.st_mtim.tv_sec, (st.st_mtim.tv_nsec + 1) % 1000000000);
  ExpectOnly({".d..t...... sub/deep/", ".f..t...... many/f3"});
}

TEST_P(RemoteVerifyTest, Mode) {
  BuildTree();
  ASSERT_EQ(::chmod(D("sub/deep/inner").c_str(), 0600), 0);
  ExpectOnly({".f...p..... sub/deep/inner"});
}

TEST_P(RemoteVerifyTest, OwnerAndGroup) {
  if (!AmRoot()) GTEST_SKIP() << "changing a file's owner needs root";
  BuildTree();
  ASSERT_EQ(::lchown(D("many/f1").c_str(), 65534, static_cast<gid_t>(-1)), 0);
  ASSERT_EQ(::lchown(D("many/f2").c_str(), static_cast<uid_t>(-1), 65534), 0);
  ExpectOnly({".f....o.... many/f1", ".f.....g... many/f2"});
}

TEST_P(RemoteVerifyTest, MissingXattr) {
  BuildTree();
  if (!xattrs_) GTEST_SKIP() << "no user xattrs on this file system";
  ASSERT_EQ(::lremovexattr(D("small").c_str(), "user.tag"), 0);
  // sub/hard is the same inode.
  ExpectOnly({".f........x small", ".f........x sub/hard"});
}

TEST_P(RemoteVerifyTest, HardLinkBroken) {
  BuildTree();
  struct stat st = LStat(D("sub/hard"));
  std::string c = ReadFile(D("sub/hard"));
  ASSERT_EQ(::unlink(D("sub/hard").c_str()), 0);
  WriteFile(D("sub/hard"), c);
  ASSERT_EQ(::chmod(D("sub/hard").c_str(), st.st_mode & 07777), 0);
  if (xattrs_) {
    ASSERT_EQ(::setxattr(D("sub/hard").c_str(), "user.tag", "v", 1, 0), 0);
  }
  SetMtime(D("sub/hard"), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  RestoreDirTimes({"sub"});
  ExpectOnly({"hf          sub/hard => small"});
}

TEST_P(RemoteVerifyTest, ExtraAndMissingFile) {
  BuildTree();
  WriteFile(D("sub/extra"), "only in DST");
  ASSERT_EQ(::unlink(D("many/f9").c_str()), 0);
  RestoreDirTimes({"sub", "many"});
  ExpectOnly({"*deleting   sub/extra", ">f+++++++++ many/f9"});
}

// A name with a control byte cannot cross the wire: the remote side leaves
// it out and says so, and the client reports it as not compared (exit 23),
// not as missing on one side; the rest is still compared. A local verify
// compares it and prints it on one line (\#012).
TEST_P(RemoteVerifyTest, ANameWithAControlCharacterIsReportedAsNotCompared) {
  WriteFile(S("new\nline"), "same");
  WriteFile(S("sub/ok"), "ok");
  WriteFile(S("changed"), "one");
  Copy();
  WriteFile(D("changed"), "two");
  Proc r = Remote({}, src_ + "/", dst_ + "/");
  EXPECT_EQ(r.code, 23) << r.Dump();
  EXPECT_NE(r.out.find(" changed\n"), std::string::npos) << r.Dump();
  EXPECT_EQ(r.out.find("new"), std::string::npos) << "reported as a difference: " << r.Dump();
  EXPECT_NE(r.err.find("new\\#012line: "), std::string::npos) << r.Dump();
  EXPECT_NE(r.err.find("not compared"), std::string::npos) << r.Dump();
  WriteFile(D("new\nline"), "different");
  Proc l = Local({}, src_ + "/", dst_ + "/");
  EXPECT_EQ(l.code, 8) << l.Dump();
  EXPECT_NE(l.out.find("new\\#012line\n"), std::string::npos) << l.Dump();
}

TEST_P(RemoteVerifyTest, JsonIsTheLocalJson) {
  BuildTree();
  FlipByte("small", 10);
  ASSERT_EQ(::unlink(D("link").c_str()), 0);
  ASSERT_EQ(::symlink("elsewhere", D("link").c_str()), 0);
  RestoreDirTimes({""});
  Proc r = Remote({"--json"}, src_ + "/", dst_ + "/");
  Proc l = Local({"--json"}, src_ + "/", dst_ + "/");
  EXPECT_EQ(r.code, 8) << r.Dump();
  std::vector<nlohmann::json> rd, ld;
  for (auto [out, v] : {std::pair{&r.out, &rd}, std::pair{&l.out, &ld}}) {
    for (const std::string& line : Lines(*out)) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << line;
      if (j.value("event", "") == "difference") v->push_back(j);
    }
    std::sort(v->begin(), v->end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return a.dump() < b.dump();
    });
  }
  ASSERT_EQ(rd.size(), 3u) << r.out;  // small, sub/hard (same inode), link
  // Hard-link counts and inode numbers are this host's in both; everything
  // else is equal, hashes included.
  EXPECT_EQ(rd, ld) << r.out << "\n" << l.out;
}

TEST_P(RemoteVerifyTest, NamedEntryRoots) {
  BuildTree();
  Proc p = RunProcess({Ferry(), "sync", "--no-progress", src_, dst_ + "/"}, tmp_.path());
  ASSERT_EQ(p.code, 0) << p.Dump();
  // SRC without a trailing slash: SRC is compared with DST/src.
  Proc same = Remote({}, src_, dst_);
  EXPECT_EQ(same.code, 0) << same.Dump();
  EXPECT_EQ(same.out, "") << same.Dump();
  FlipByte("src/small", 3);
  Proc diff = Remote({}, src_, dst_);
  EXPECT_EQ(diff.code, 8) << diff.Dump();
  EXPECT_EQ(Sorted(diff.out), Sorted(Local({}, src_, dst_).out)) << diff.Dump();
  EXPECT_TRUE(HasLine(diff.out, ">fc........ src/small")) << diff.Dump();
  // A single file compared with a copy under another name.
  WriteFile(tmp_ / "copy", ReadFile(S("small")));
  struct stat st = LStat(S("small"));
  ASSERT_EQ(::chmod((tmp_ / "copy").c_str(), st.st_mode & 07777), 0);
  SetMtime(tmp_ / "copy", st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  Proc file = Remote({"--no-xattrs"}, S("small"), tmp_ / "copy");
  EXPECT_EQ(file.code, 0) << file.Dump();
  EXPECT_EQ(file.out, "") << file.Dump();
}

TEST_P(RemoteVerifyTest, RemoteRootMissingOrNotADirectory) {
  WriteFile(S("file"), "f");
  WriteFile(tmp_ / "plain", "p");
  if (GetParam() == RemoteEnd::kSrc) {
    Proc missing = Remote({}, tmp_ / "no_such_source/", dst_ + "/");
    EXPECT_EQ(missing.code, 23) << missing.Dump();
    EXPECT_NE(missing.err.find("source testhost:" + (tmp_ / "no_such_source/") +
                               ": No such file or directory"),
              std::string::npos) << missing.Dump();
    Proc notdir = Remote({}, tmp_ / "plain/", dst_ + "/");
    EXPECT_NE(notdir.code, 0) << notdir.Dump();
    EXPECT_NE(notdir.err.find("Not a directory"), std::string::npos) << notdir.Dump();
    EXPECT_NE(notdir.err.find("plain/"), std::string::npos) << notdir.Dump();
  } else {
    // A missing DST is a copy with everything missing, as locally.
    Proc missing = Remote({}, src_ + "/", tmp_ / "no_such_dst/");
    EXPECT_EQ(missing.code, 8) << missing.Dump();
    EXPECT_TRUE(HasLine(missing.out, ">f+++++++++ file")) << missing.Dump();
    Proc notdir = Remote({}, src_ + "/", tmp_ / "plain");
    Proc local = Local({}, src_ + "/", tmp_ / "plain");
    EXPECT_EQ(notdir.code, local.code) << notdir.Dump() << local.Dump();
    EXPECT_NE(notdir.err.find("destination testhost:" + (tmp_ / "plain") +
                              ": Not a directory"),
              std::string::npos) << notdir.Dump();
  }
}

TEST_P(RemoteVerifyTest, RemoteShellFailureExits12) {
  WriteFile(S("file"), "f");
  std::string remote = "testhost:" + src_ + "/";
  std::vector<std::string> paths = GetParam() == RemoteEnd::kSrc
                                       ? std::vector<std::string>{remote, dst_ + "/"}
                                       : std::vector<std::string>{src_ + "/", "testhost:" + dst_};
  Proc p = RunProcess({Ferry(), "verify", "-e", "false", paths[0], paths[1]}, tmp_.path());
  EXPECT_EQ(p.code, 12) << p.Dump();
  EXPECT_NE(p.err.find("remote shell exited with status 1"), std::string::npos) << p.Dump();
  Proc nf = RunProcess({Ferry(), "verify", "-e", FERRY_STANDIN, "--remote-ferry",
                        tmp_ / "no-such-ferry", paths[0], paths[1]}, tmp_.path());
  EXPECT_EQ(nf.code, 12) << nf.Dump();
  EXPECT_NE(nf.err.find("status 127"), std::string::npos) << nf.Dump();
}

// Owner maps match SRC's names: this machine's for a local SRC, the names
// the remote side sends with its listing for a remote one (the stand-in's
// "remote" host has this machine's names, so both are expected to agree
// with the local sync that landed the owners).
TEST_P(RemoteVerifyTest, IdMapsMatchTheSourcesNames) {
  if (!AmRoot()) GTEST_SKIP() << "needs root to chown";
  WriteFile(S("www/index.html"), "<html>");
  ASSERT_EQ(::chown(S("www").c_str(), 1, 1), 0);             // daemon:daemon
  ASSERT_EQ(::chown(S("www/index.html").c_str(), 1, 1), 0);
  Proc sync = RunProcess({Ferry(), "sync", "--no-progress", "--usermap=daemon:sys",
                          "--groupmap=1:4", src_ + "/", dst_ + "/"}, tmp_.path());
  ASSERT_EQ(sync.code, 0) << sync.Dump();
  ASSERT_EQ(LStat(D("www/index.html")).st_uid, 3u);
  Proc plain = Remote({}, src_ + "/", dst_ + "/");
  EXPECT_EQ(plain.code, 8) << plain.Dump();
  EXPECT_TRUE(HasLine(plain.out, ".f....og... www/index.html")) << plain.Dump();
  // A name rule (daemon:sys) matches only through SRC's names.
  Proc mapped = Remote({"--usermap=daemon:sys", "--groupmap=1:4"}, src_ + "/", dst_ + "/");
  EXPECT_EQ(mapped.code, 0) << mapped.Dump();
  EXPECT_EQ(mapped.out, "") << mapped.Dump();
  EXPECT_EQ(mapped.err, "") << mapped.Dump();
  // DST with the unmapped owner: the map says it should be sys.
  ASSERT_EQ(::chown(D("www/index.html").c_str(), 1, 4), 0);
  Proc unmapped = Remote({"--usermap=daemon:sys", "--groupmap=1:4"}, src_ + "/", dst_ + "/");
  EXPECT_EQ(unmapped.code, 8) << unmapped.Dump();
  EXPECT_EQ(Lines(unmapped.out), std::vector<std::string>{".f....o.... www/index.html"})
      << unmapped.Dump();
  // A TO name unknown here is refused before anything is compared.
  Proc unknown = Remote({"--usermap=daemon:no_such_user_xyz"}, src_ + "/", dst_ + "/");
  EXPECT_EQ(unknown.code, 1) << unknown.Dump();
  EXPECT_NE(unknown.err.find("no_such_user_xyz"), std::string::npos) << unknown.Dump();
}

INSTANTIATE_TEST_SUITE_P(Ends, RemoteVerifyTest,
                         ::testing::Values(RemoteEnd::kDst, RemoteEnd::kSrc), EndName);

}  // namespace
}  // namespace ferry::e2e
