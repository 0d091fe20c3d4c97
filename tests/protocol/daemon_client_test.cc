#include "protocol/daemon_client.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

using ::ferry::testing::TempDir;
using ::ferry::testing::WriteFile;

DaemonTarget Parse(std::string_view spec) {
  Result<DaemonTarget> t = ParseDaemonTarget(spec);
  EXPECT_TRUE(t.ok()) << spec << ": " << t.status().message();
  return t.ok() ? *t : DaemonTarget{};
}

TEST(DaemonTarget, ParsesFerryUrls) {
  EXPECT_EQ(Parse("ferry://alice@old.example.com:9000/www/site/index.html"),
            (DaemonTarget{"alice", "old.example.com", 9000, "www", "site/index.html"}));
  EXPECT_EQ(Parse("ferry://host/www"), (DaemonTarget{"", "host", kDefaultDaemonPort, "www", ""}));
  EXPECT_EQ(Parse("ferry://host/www/"), (DaemonTarget{"", "host", kDefaultDaemonPort, "www", ""}));
  EXPECT_EQ(Parse("ferry://bob@[2001:db8::1]:873/backup/a"),
            (DaemonTarget{"bob", "2001:db8::1", 873, "backup", "a"}));
  EXPECT_EQ(Parse("ferry://[::1]/m"), (DaemonTarget{"", "::1", kDefaultDaemonPort, "m", ""}));
}

TEST(DaemonTarget, ParsesRsyncDaemonSyntax) {
  EXPECT_EQ(Parse("alice@old.example.com::www/site"),
            (DaemonTarget{"alice", "old.example.com", kDefaultDaemonPort, "www", "site"}));
  EXPECT_EQ(Parse("host::www"), (DaemonTarget{"", "host", kDefaultDaemonPort, "www", ""}));
  EXPECT_EQ(Parse("[::1]::www/x/y"), (DaemonTarget{"", "::1", kDefaultDaemonPort, "www", "x/y"}));
}

TEST(DaemonTarget, TellsDaemonTargetsFromPathsAndSsh) {
  EXPECT_TRUE(IsDaemonTarget("ferry://h/m"));
  EXPECT_TRUE(IsDaemonTarget("h::m/p"));
  EXPECT_TRUE(IsDaemonTarget("u@[::1]::m"));
  EXPECT_FALSE(IsDaemonTarget("h:path"));        // ssh
  EXPECT_FALSE(IsDaemonTarget("u@h:/srv"));      // ssh
  EXPECT_FALSE(IsDaemonTarget("/srv/www"));      // local
  EXPECT_FALSE(IsDaemonTarget("./a::b"));        // a local name with '::'
  EXPECT_FALSE(IsDaemonTarget("[::1]:/srv"));    // ssh to an IPv6 host
}

TEST(DaemonTarget, ErrorsSayWhatIsWrong) {
  auto error = [](std::string_view spec) {
    Result<DaemonTarget> t = ParseDaemonTarget(spec);
    EXPECT_FALSE(t.ok()) << spec;
    return t.ok() ? std::string() : t.status().message();
  };
  EXPECT_NE(error("host::").find("no module"), std::string::npos);
  EXPECT_NE(error("ferry://host").find("expected /MODULE"), std::string::npos);
  EXPECT_NE(error("ferry://host:70000/m").find("port must be 1 to 65535"), std::string::npos);
  EXPECT_NE(error("ferry:///m").find("no host"), std::string::npos);
  EXPECT_NE(error("ferry://[::1/m").find("missing ']'"), std::string::npos);
  EXPECT_NE(error("host::.hidden").find("bad module name"), std::string::npos);
  EXPECT_NE(error("@host::m").find("empty user name"), std::string::npos);
}

TEST(PasswordFile, FirstLineIsTheSecretAndOthersMayNotRead) {
  TempDir dir;
  auto io = io::MakeBackend(io::BackendKind::kPosix).value();
  const std::string path = dir / "pw";
  WriteFile(path, "s3cret word\r\nignored\n", 0600);
  chmod(path.c_str(), 0600);
  Result<std::string> pw = ReadPasswordFile(path, *io);
  ASSERT_TRUE(pw.ok()) << pw.status().message();
  EXPECT_EQ(*pw, "s3cret word");
  chmod(path.c_str(), 0604);
  pw = ReadPasswordFile(path, *io);
  ASSERT_FALSE(pw.ok());
  EXPECT_EQ(pw.status().code(), ErrorCode::kPermission);
  EXPECT_NE(pw.status().message().find("password file '" + path +
                                       "' is accessible by others (mode 0604)"),
            std::string::npos) << pw.status().message();
  WriteFile(path, "\n", 0600);
  chmod(path.c_str(), 0600);
  EXPECT_FALSE(ReadPasswordFile(path, *io).ok());
}

}  // namespace
}  // namespace ferry::protocol
