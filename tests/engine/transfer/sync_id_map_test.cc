// RunLocalSync with --usermap/--groupmap/--chown: DST entries get the mapped
// owners (checked with lstat), a second pass changes nothing, and an unknown
// TO name fails before DST is touched. Needs root (chown); skipped otherwise.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/engine/transfer/sync_test_util.h"

namespace ferry::sync_test {
namespace {

// Debian's fixed system accounts: daemon 1, bin 2, sys 3, nobody 65534;
// groups daemon 1, bin 2, sys 3, adm 4, nogroup 65534.
class IdMapSyncTest : public SyncTest {
 protected:
  void SetUp() override {
    SyncTest::SetUp();
    if (IsSkipped()) return;
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create files owned by others";
    WriteFile(S("d1/a"), "owned by daemon");
    WriteFile(S("b1/b"), "owned by bin");
    WriteFile(S("plain"), "owned by root");
    Own("d1", 1, 1);
    Own("d1/a", 1, 1);
    Own("b1", 2, 2);
    Own("b1/b", 2, 2);
    ASSERT_EQ(::symlink("a", S("d1/link").c_str()), 0);
    ASSERT_EQ(::lchown(S("d1/link").c_str(), 1, 4), 0);
    ASSERT_EQ(::lchown(S("plain").c_str(), 0, 0), 0);
  }

  void Own(const std::string& rel, uid_t u, gid_t g) {
    ASSERT_EQ(::lchown(S(rel).c_str(), u, g), 0) << rel;
  }

  std::unique_ptr<SyncRun> SyncWith(const char* users, const char* groups) {
    SyncOptions o = Options();
    auto m = std::make_shared<IdMapping>();
    if (users) m->users = *IdMap::Parse(users, IdKind::kUser, "--usermap");
    if (groups) m->groups = *IdMap::Parse(groups, IdKind::kGroup, "--groupmap");
    o.id_map = m;
    return Sync(o);
  }

  void ExpectOwner(const std::string& rel, uid_t u, gid_t g) {
    struct stat st = LStat(D(rel));
    EXPECT_EQ(st.st_uid, u) << rel;
    EXPECT_EQ(st.st_gid, g) << rel;
  }
};

TEST_P(IdMapSyncTest, MapsByNameAndNumberThenNothingToDo) {
  // daemon -> sys (by name), uid 2 -> nobody (by number); groups by range.
  auto run = SyncWith("daemon:sys,2:nobody", "1-2:nogroup,adm:sys");
  ASSERT_TRUE(run->clean()) << run->Dump();
  ExpectOwner("d1", 3, 65534);
  ExpectOwner("d1/a", 3, 65534);
  ExpectOwner("d1/link", 3, 3);
  ExpectOwner("b1", 65534, 65534);
  ExpectOwner("b1/b", 65534, 65534);
  ExpectOwner("plain", 0, 0);  // no rule matches root: kept
  EXPECT_EQ(ReadFile(D("d1/a")), "owned by daemon");
  // SRC is untouched.
  EXPECT_EQ(LStat(S("d1/a")).st_uid, 1u);

  auto again = SyncWith("daemon:sys,2:nobody", "1-2:nogroup,adm:sys");
  ASSERT_TRUE(again->clean()) << again->Dump();
  EXPECT_TRUE(again->events.items.empty()) << again->Dump();
  EXPECT_EQ(again->stats.transferred_files.load(), 0u);

  // Without the map the owners differ again: the pass puts SRC's ids back.
  auto plain = Sync();
  ASSERT_TRUE(plain->clean()) << plain->Dump();
  ExpectOwner("d1/a", 1, 1);
  EXPECT_FALSE(plain->events.items.empty());
}

TEST_P(IdMapSyncTest, ChownStarCoversEverything) {
  auto run = SyncWith("*:bin", "*:adm");
  ASSERT_TRUE(run->clean()) << run->Dump();
  for (const char* rel : {"d1", "d1/a", "d1/link", "b1", "b1/b", "plain"})
    ExpectOwner(rel, 2, 4);
  auto again = SyncWith("*:bin", "*:adm");
  ASSERT_TRUE(again->clean()) << again->Dump();
  EXPECT_TRUE(again->events.items.empty()) << again->Dump();
}

TEST_P(IdMapSyncTest, ChangedDstOwnerIsPutBackToTheMappedOne) {
  ASSERT_TRUE(SyncWith("daemon:sys", nullptr)->clean());
  ASSERT_EQ(::lchown(D("d1/a").c_str(), 1, 1), 0);  // someone restored SRC's uid
  auto run = SyncWith("daemon:sys", nullptr);
  ASSERT_TRUE(run->clean()) << run->Dump();
  ExpectOwner("d1/a", 3, 1);
  EXPECT_EQ(run->stats.transferred_files.load(), 0u);  // metadata only
}

TEST_P(IdMapSyncTest, UnknownToNameFailsBeforeWriting) {
  auto run = SyncWith("daemon:sys,bin:no-such-user-ferry", nullptr);
  ASSERT_FALSE(run->ok());
  EXPECT_NE(run->failed->message().find("no-such-user-ferry"), std::string::npos)
      << run->Dump();
  EXPECT_FALSE(Exists(dst_)) << "nothing may be written";
}

FERRY_INSTANTIATE_BACKENDS(IdMapSyncTest);

}  // namespace
}  // namespace ferry::sync_test
