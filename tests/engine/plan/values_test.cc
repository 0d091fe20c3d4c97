// The scalar values of a plan file: what operators write for delays, sizes,
// endpoints and id maps, and what is refused.
#include "engine/plan/values.h"

#include <gtest/gtest.h>

namespace ferry::plan {
namespace {

TEST(PlanValues, Durations) {
  EXPECT_EQ(*ParseDuration("90s"), 90'000);
  EXPECT_EQ(*ParseDuration("24h"), 86'400'000);
  EXPECT_EQ(*ParseDuration("1h30m"), 5'400'000);
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  EXPECT_EQ(*ParseDuration("2d"), 172'800'000);
  EXPECT_EQ(*ParseDuration("0"), 0);
  for (const char* bad : {"", "10", "1.5h", "10 minutes", "h", "-5s", "5x"})
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  EXPECT_EQ(FormatDuration(5'400'000), "1h30m");
  EXPECT_EQ(FormatDuration(250), "250ms");
}

TEST(PlanValues, Sizes) {
  EXPECT_EQ(*ParseByteSize("64MiB"), 64ull << 20);
  EXPECT_EQ(*ParseByteSize("64M"), 64ull << 20);
  EXPECT_EQ(*ParseByteSize("1GB"), 1'000'000'000ull);
  EXPECT_EQ(*ParseByteSize("512"), 512ull);
  for (const char* bad : {"", "lots", "1.5G", "10 MB", "-1"})
    EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
}

TEST(PlanValues, Endpoints) {
  auto local = ParseEndpoint("/srv/old");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->kind, EndpointKind::kLocal);
  EXPECT_EQ(local->path, "/srv/old");

  auto ssh = ParseEndpoint("root@web2.example.net:/srv");
  ASSERT_TRUE(ssh.ok());
  EXPECT_EQ(ssh->kind, EndpointKind::kSsh);
  EXPECT_EQ(ssh->user, "root");
  EXPECT_EQ(ssh->host, "web2.example.net");
  EXPECT_EQ(ssh->path, "/srv");

  auto nouser = ParseEndpoint("h1:backup");
  ASSERT_TRUE(nouser.ok());
  EXPECT_EQ(nouser->user, "");
  EXPECT_EQ(nouser->path, "backup");

  auto d = ParseEndpoint("ferry://t1.example.net:8730/home/alice");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kind, EndpointKind::kDaemon);
  EXPECT_EQ(d->host, "t1.example.net");
  EXPECT_EQ(d->port, 8730);
  EXPECT_EQ(d->module, "home");
  EXPECT_EQ(d->path, "alice");

  // A ':' after a '/' is part of a local path, as in rsync.
  auto colon = ParseEndpoint("/srv/a:b");
  ASSERT_TRUE(colon.ok());
  EXPECT_EQ(colon->kind, EndpointKind::kLocal);

  for (const char* bad : {"", "relative/dir", "host:", "@host:/p", "ferry://", "ferry://h",
                          "ferry://h:0/m", "ferry:///m", "bad host:/p"})
    EXPECT_FALSE(ParseEndpoint(bad).ok()) << bad;
}

TEST(PlanValues, IdMaps) {
  auto m = ParseIdMap("alice:alice2,1000:1001,*:nobody,100-199:staff");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->size(), 4u);
  EXPECT_EQ((*m)[0].from, "alice");
  EXPECT_EQ((*m)[0].to, "alice2");
  EXPECT_EQ((*m)[3].from, "100-199");
  for (const char* bad : {"", "alice", "alice:", ":bob", "a:b,", "a b:c", "a:b c"})
    EXPECT_FALSE(ParseIdMap(bad).ok()) << bad;
}

}  // namespace
}  // namespace ferry::plan
