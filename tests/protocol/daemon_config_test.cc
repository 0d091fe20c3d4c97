#include "protocol/daemon_config.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

using ::ferry::testing::MakeDirs;
using ::ferry::testing::TempDir;
using ::ferry::testing::WriteFile;

class DaemonConfigTest : public ::testing::Test {
 protected:
  DaemonConfigTest() : io_(io::MakeBackend(io::BackendKind::kPosix).value()) {
    MakeDirs(dir_ / "www");
    MakeDirs(dir_ / "backup");
  }

  // Writes `text` as the config file with `mode` and loads it.
  Result<DaemonConfig> Load(const std::string& text, mode_t mode = 0600) {
    const std::string path = dir_ / "ferryd.toml";
    WriteFile(path, text, mode);
    chmod(path.c_str(), mode);
    return LoadDaemonConfig(path, *io_);
  }

  std::string Secrets(const std::string& text, mode_t mode = 0600) {
    const std::string path = dir_ / "users.secrets";
    WriteFile(path, text, mode);
    chmod(path.c_str(), mode);
    return path;
  }

  // The error message of a config that must fail.
  std::string ErrorOf(const std::string& text, mode_t mode = 0600) {
    Result<DaemonConfig> c = Load(text, mode);
    EXPECT_FALSE(c.ok()) << "accepted:\n" << text;
    return c.ok() ? "" : c.status().message();
  }

  TempDir dir_;
  std::unique_ptr<io::IoBackend> io_;
};

TEST_F(DaemonConfigTest, FullConfigLoads) {
  const std::string secrets = Secrets("# deploy users\nalice:wonder land\n\nbob:b0b\r\n");
  Result<DaemonConfig> c = Load(
      "[daemon]\n"
      "listen = \"[::1]:9000\"\n"
      "max_connections = 4\n"
      "auth_timeout = 3\n"
      "io_timeout = 600\n"
      "shutdown_grace = 5\n"
      "[modules.www]\n"
      "path = \"" + dir_ / "www/" + "\"\n"
      "read_only = false\n"
      "comment = \"web\"\n"
      "secrets_file = \"" + secrets + "\"\n"
      "hosts_allow = [\"10.0.0.0/8\", \"::1\"]\n"
      "[modules.backup]\n"
      "path = \"" + dir_ / "backup" + "\"\n"
      "secrets = [\"carol:c4rol\"]\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->listen, (HostPort{"::1", 9000}));
  EXPECT_EQ(c->max_connections, 4);
  EXPECT_EQ(c->auth_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c->io_timeout, std::chrono::seconds(600));
  EXPECT_EQ(c->shutdown_grace, std::chrono::seconds(5));
  const DaemonModule* www = c->FindModule("www");
  ASSERT_NE(www, nullptr);
  EXPECT_EQ(www->path, dir_ / "www");  // trailing slash dropped
  EXPECT_FALSE(www->read_only);
  EXPECT_EQ(www->comment, "web");
  ASSERT_EQ(www->users.size(), 2u);
  EXPECT_EQ(www->FindUser("alice")->secret, "wonder land");
  EXPECT_EQ(www->FindUser("bob")->secret, "b0b");  // CR of a CRLF file dropped
  EXPECT_EQ(www->hosts_allow.size(), 2u);
  const DaemonModule* backup = c->FindModule("backup");
  ASSERT_NE(backup, nullptr);
  EXPECT_TRUE(backup->read_only);  // the default, as in rsyncd
  EXPECT_EQ(backup->FindUser("carol")->secret, "c4rol");
  EXPECT_EQ(backup->FindUser("alice"), nullptr);
  EXPECT_EQ(c->FindModule("nope"), nullptr);
}

TEST_F(DaemonConfigTest, ErrorsNameFileLineAndColumn) {
  std::string e = ErrorOf(
      "[modules.www]\n"
      "path = \"" + dir_ / "www" + "\"\n"
      "read_only = \"yes\"\n"
      "secrets = [\"a:b\"]\n");
  EXPECT_NE(e.find("ferryd.toml:3:13: 'read_only' in [modules.www] must be true or false, "
                   "got a string"),
            std::string::npos)
      << e;
}

TEST_F(DaemonConfigTest, TomlSyntaxErrorHasPosition) {
  std::string e = ErrorOf("[daemon]\nlisten = \n");
  EXPECT_NE(e.find("ferryd.toml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("TOML syntax error"), std::string::npos) << e;
}

TEST_F(DaemonConfigTest, UnknownKeysAndBadValuesAreAllReported) {
  std::string e = ErrorOf(
      "[daemon]\n"
      "listen = \"0.0.0.0:99999\"\n"
      "max_conections = 3\n"
      "auth_timeout = 0\n"
      "[modules.www]\n"
      "path = \"relative/dir\"\n"
      "secrets = [\"nocolon\"]\n"
      "hosts_allow = [\"10.0.0.1/8\"]\n");
  EXPECT_NE(e.find("ferryd.toml:2:10: 'listen' in [daemon]: bad address '0.0.0.0:99999': port "
                   "must be 1 to 65535"),
            std::string::npos) << e;
  EXPECT_NE(e.find("ferryd.toml:3:1: unknown key 'max_conections' in [daemon]"), std::string::npos)
      << e;
  EXPECT_NE(e.find("ferryd.toml:4:16: 'auth_timeout' in [daemon] is 0: expected 1 to 3600"),
            std::string::npos) << e;
  EXPECT_NE(e.find("ferryd.toml:6:8: 'path' in [modules.www] must be an absolute path"),
            std::string::npos) << e;
  EXPECT_NE(e.find("ferryd.toml:7:12: 'secrets' in [modules.www]: expected USER:SECRET"),
            std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 10.0.0.0/8?"), std::string::npos) << e;
}

TEST_F(DaemonConfigTest, ModulePathMustBeAnExistingDirectory) {
  WriteFile(dir_ / "file", "x");
  std::string e = ErrorOf("[modules.a]\npath = \"" + dir_ / "missing" +
                          "\"\nsecrets = [\"u:s\"]\n[modules.b]\npath = \"" + dir_ / "file" +
                          "\"\nsecrets = [\"u:s\"]\n");
  EXPECT_NE(e.find("ferryd.toml:2:8: 'path' in [modules.a]: "), std::string::npos) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;
  EXPECT_NE(e.find("ferryd.toml:5:8: 'path' in [modules.b]: '" + dir_ / "file" +
                   "' is not a directory"),
            std::string::npos) << e;
}

TEST_F(DaemonConfigTest, ModuleNeedsPathAndUsers) {
  std::string e = ErrorOf("[modules.www]\ncomment = \"x\"\n");
  EXPECT_NE(e.find("missing required key 'path'"), std::string::npos) << e;
  EXPECT_NE(e.find("no users"), std::string::npos) << e;
  e = ErrorOf("[daemon]\nmax_connections = 2\n");
  EXPECT_NE(e.find("no modules"), std::string::npos) << e;
  e = ErrorOf("[modules.\"bad name\"]\npath = \"/\"\nsecrets = [\"u:s\"]\n");
  EXPECT_NE(e.find("bad module name 'bad name'"), std::string::npos) << e;
}

TEST_F(DaemonConfigTest, SecretsFileReadableByOthersIsRefused) {
  const std::string secrets = Secrets("alice:pw\n", 0644);
  std::string e = ErrorOf("[modules.www]\npath = \"" + dir_ / "www" + "\"\nsecrets_file = \"" +
                          secrets + "\"\n");
  EXPECT_NE(e.find("ferryd.toml:3:16: 'secrets_file' in [modules.www]: secrets file '" + secrets +
                   "' is accessible by others (mode 0644): chmod 600"),
            std::string::npos) << e;
  chmod(secrets.c_str(), 0640);  // group-readable is allowed, as in rsyncd
  Result<DaemonConfig> c = Load("[modules.www]\npath = \"" + dir_ / "www" +
                                "\"\nsecrets_file = \"" + secrets + "\"\n");
  EXPECT_TRUE(c.ok()) << c.status().message();
}

TEST_F(DaemonConfigTest, InlineSecretsNeedAPrivateConfigFile) {
  std::string e = ErrorOf("[modules.www]\npath = \"" + dir_ / "www" + "\"\nsecrets = [\"a:b\"]\n",
                          0644);
  EXPECT_NE(e.find("ferryd.toml:3:12: inline 'secrets' in [modules.www] need a config file that "
                   "is not accessible by others"),
            std::string::npos) << e;
  // Without inline secrets a world-readable config is fine.
  const std::string secrets = Secrets("alice:pw\n");
  Result<DaemonConfig> c = Load("[modules.www]\npath = \"" + dir_ / "www" +
                                "\"\nsecrets_file = \"" + secrets + "\"\n", 0644);
  EXPECT_TRUE(c.ok()) << c.status().message();
}

TEST_F(DaemonConfigTest, BadSecretsLinesNameTheLineButNeverEchoTheSecret) {
  const std::string secrets = Secrets("alice:ok\nthis-line-is-a-secret\nalice:again\n:nouser\n");
  std::string e = ErrorOf("[modules.www]\npath = \"" + dir_ / "www" + "\"\nsecrets_file = \"" +
                          secrets + "\"\n");
  EXPECT_NE(e.find(secrets + ":2: expected USER:SECRET"), std::string::npos) << e;
  EXPECT_NE(e.find(secrets + ":3: user 'alice' is listed twice"), std::string::npos) << e;
  EXPECT_NE(e.find(secrets + ":4: bad user name"), std::string::npos) << e;
  EXPECT_EQ(e.find("this-line-is-a-secret"), std::string::npos) << e;
  EXPECT_EQ(e.find("again"), std::string::npos) << e;
}

TEST_F(DaemonConfigTest, MissingConfigFileNamesIt) {
  Result<DaemonConfig> c = LoadDaemonConfig(dir_ / "nope.toml", *io_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(dir_ / "nope.toml"), std::string::npos)
      << c.status().message();
}

TEST(HostPattern, MatchesCidrBlocksAndMappedAddresses) {
  auto v4 = [](const char* a) {
    sockaddr_storage s{};
    auto* in = reinterpret_cast<sockaddr_in*>(&s);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, a, &in->sin_addr);
    return s;
  };
  auto v6 = [](const char* a) {
    sockaddr_storage s{};
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, a, &in6->sin6_addr);
    return s;
  };
  Result<HostPattern> net = HostPattern::Parse("10.0.0.0/8");
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(net->Matches(v4("10.200.3.4")));
  EXPECT_FALSE(net->Matches(v4("11.0.0.1")));
  EXPECT_TRUE(net->Matches(v6("::ffff:10.1.1.1")));  // a dual-stack listener's view
  EXPECT_FALSE(net->Matches(v6("::1")));
  Result<HostPattern> one = HostPattern::Parse("2001:db8::/32");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->Matches(v6("2001:db8:1::5")));
  EXPECT_FALSE(one->Matches(v6("2001:db9::5")));
  Result<HostPattern> host = HostPattern::Parse("192.168.1.7");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(host->Matches(v4("192.168.1.7")));
  EXPECT_FALSE(host->Matches(v4("192.168.1.8")));
  EXPECT_FALSE(HostPattern::Parse("example.com").ok());
  EXPECT_FALSE(HostPattern::Parse("10.0.0.0/33").ok());
  EXPECT_FALSE(HostPattern::Parse("10.0.0.0/").ok());
}

TEST(HostPort, ParsesListenSpellings) {
  EXPECT_EQ(*ParseHostPort("0.0.0.0:873", false), (HostPort{"0.0.0.0", 873}));
  EXPECT_EQ(*ParseHostPort("[::]:873", false), (HostPort{"::", 873}));
  EXPECT_EQ(*ParseHostPort("*:873", false), (HostPort{"", 873}));
  EXPECT_EQ(*ParseHostPort(":873", false), (HostPort{"", 873}));
  EXPECT_EQ(*ParseHostPort("localhost:0", true), (HostPort{"localhost", 0}));
  EXPECT_FALSE(ParseHostPort("localhost:0", false).ok());
  EXPECT_FALSE(ParseHostPort("::1:873", false).ok());  // needs brackets
  EXPECT_FALSE(ParseHostPort("host", false).ok());
  EXPECT_FALSE(ParseHostPort("[::1]873", false).ok());
  EXPECT_EQ(FormatHostPort(HostPort{"::1", 5}), "[::1]:5");
  EXPECT_EQ(FormatHostPort(HostPort{"", 5}), "*:5");
}

}  // namespace
}  // namespace ferry::protocol
