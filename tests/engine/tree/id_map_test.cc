// IdMap: rsync's --usermap/--groupmap/--chown rules, matched against a fake
// source database and bound against a fake destination database.
#include "engine/tree/id_map.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

// SRC: alice 1000, bob 1001, carol 1002, www-data 33, root 0; 1500 has no name.
const TableIdNames kSrc({{"root", 0}, {"www-data", 33}, {"alice", 1000}, {"bob", 1001},
                         {"carol", 1002}},
                        {{"root", 0}, {"staff", 50}, {"users", 100}});
// DST: other ids for the same people, plus toor (a second uid 0).
const TableIdNames kDst({{"root", 0}, {"toor", 0}, {"www-data", 82}, {"alice", 2000},
                         {"robert", 2001}, {"web", 2100}},
                        {{"root", 0}, {"wheel", 0}, {"users", 500}, {"web", 2100}});

IdMap Bound(std::string_view text, IdKind kind = IdKind::kUser) {
  auto m = IdMap::Parse(text, kind, "--usermap");
  EXPECT_TRUE(m.ok()) << m.status().message();
  auto b = m->Bind(kDst);
  EXPECT_TRUE(b.ok()) << b.status().message();
  return *b;
}

// Maps a source uid the way a sync does: by (id, SRC name).
uint32_t MapUid(const IdMap& m, uint32_t uid) {
  auto name = kSrc.Name(IdKind::kUser, uid);
  return m.Map(uid, name ? &*name : nullptr);
}

TEST(IdMap, NameToNameResolvesOnEachSide) {
  IdMap m = Bound("alice:alice,bob:robert");
  EXPECT_EQ(MapUid(m, 1000), 2000u);  // alice: 1000 on SRC, 2000 on DST
  EXPECT_EQ(MapUid(m, 1001), 2001u);  // bob -> robert
  EXPECT_EQ(MapUid(m, 1002), 1002u);  // carol: no rule, id kept
  EXPECT_EQ(MapUid(m, 1500), 1500u);  // no name at all: kept
}

TEST(IdMap, NumbersAndRanges) {
  IdMap m = Bound("1000:3000,1001-1099:web,33:www-data");
  EXPECT_EQ(MapUid(m, 1000), 3000u);
  EXPECT_EQ(MapUid(m, 1001), 2100u);
  EXPECT_EQ(MapUid(m, 1099), 2100u);
  EXPECT_EQ(MapUid(m, 1100), 1100u);  // just past the range
  EXPECT_EQ(MapUid(m, 999), 999u);
  EXPECT_EQ(MapUid(m, 33), 82u);
}

TEST(IdMap, WildcardsMatchTheSourceName) {
  IdMap m = Bound("a*:web,?ob:robert,[c-d]arol:alice");
  EXPECT_EQ(MapUid(m, 1000), 2100u);  // alice matches a*
  EXPECT_EQ(MapUid(m, 1001), 2001u);  // bob matches ?ob
  EXPECT_EQ(MapUid(m, 1002), 2000u);  // carol matches [c-d]arol
  EXPECT_EQ(MapUid(m, 33), 33u);      // www-data matches nothing
  EXPECT_EQ(MapUid(m, 1500), 1500u);  // unnamed: a* needs a name
}

TEST(IdMap, StarAlsoCoversUnnamedIds) {
  IdMap m = Bound("*:web");
  EXPECT_EQ(MapUid(m, 1500), 2100u);
  EXPECT_EQ(MapUid(m, 1000), 2100u);
}

TEST(IdMap, FirstMatchWins) {
  IdMap m = Bound("bob:robert,*:web,1001:alice");
  EXPECT_EQ(MapUid(m, 1001), 2001u);  // bob, not *, not 1001
  EXPECT_EQ(MapUid(m, 1000), 2100u);
  IdMap n = Bound("1001:alice,bob:robert");
  EXPECT_EQ(MapUid(n, 1001), 2000u);  // the numeric rule comes first here
  ASSERT_NE(n.Match(1001, nullptr), nullptr);
  EXPECT_EQ(n.Match(1001, nullptr)->text, "1001:alice");
}

TEST(IdMap, GroupsUseTheGroupDatabase) {
  auto m = IdMap::Parse("staff:users,100:web", IdKind::kGroup, "--groupmap");
  ASSERT_TRUE(m.ok());
  auto b = m->Bind(kDst);
  ASSERT_TRUE(b.ok()) << b.status().message();
  std::string staff = "staff", users = "users";
  EXPECT_EQ(b->Map(50, &staff), 500u);
  EXPECT_EQ(b->Map(100, &users), 2100u);
}

TEST(IdMap, UnknownToNameIsAnErrorNeverRoot) {
  auto m = IdMap::Parse("alice:alice,bob:nosuchuser", IdKind::kUser, "--usermap");
  ASSERT_TRUE(m.ok());
  auto b = m->Bind(kDst);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(b.status().message().find("\"nosuchuser\""), std::string::npos)
      << b.status().message();
  EXPECT_NE(b.status().message().find("bob:nosuchuser"), std::string::npos);
  // An unbound map maps nothing to a TO it could not resolve.
  std::string bob = "bob";
  EXPECT_EQ(m->Map(1001, &bob), 1001u);
}

TEST(IdMap, RootOnlyWhenWritten) {
  // toor is uid 0 on DST: refused, the user did not say root.
  auto m = IdMap::Parse("alice:toor", IdKind::kUser, "--usermap");
  ASSERT_TRUE(m.ok());
  auto b = m->Bind(kDst);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("toor"), std::string::npos);
  // wheel is gid 0 on DST: the same for groups.
  auto g = IdMap::Parse("*:wheel", IdKind::kGroup, "--groupmap");
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->Bind(kDst).ok());
  // Written explicitly: allowed.
  EXPECT_EQ(MapUid(Bound("alice:root"), 1000), 0u);
  EXPECT_EQ(MapUid(Bound("alice:0"), 1000), 0u);
}

TEST(IdMap, ParseErrorsNameThePair) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"alice", "\"alice\""},                   // no colon
      {"alice:", "\"alice:\""},                 // no TO
      {":bob", "\":bob\""},                     // no FROM
      {"alice:bob,carol", "\"carol\""},         // second pair bad
      {"alice:b/ob", "TO \"b/ob\""},            // not a name
      {"20-10:bob", "range 20-10 is empty"},    // backwards range
      {"al;ce:bob", "unexpected character ';'"},
      {"", "empty value"},
  };
  for (const Case& c : cases) {
    auto m = IdMap::Parse(c.text, IdKind::kUser, "--usermap");
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.status().code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_NE(m.status().message().find(c.says), std::string::npos)
        << c.text << " -> " << m.status().message();
    EXPECT_EQ(m.status().message().rfind("--usermap", 0), 0u) << m.status().message();
  }
}

TEST(IdMap, ChownIsStarRules) {
  IdMap u, g;
  ASSERT_TRUE(ParseChown("robert:users", &u, &g).ok());
  ASSERT_EQ(u.rules().size(), 1u);
  ASSERT_EQ(g.rules().size(), 1u);
  auto bu = u.Bind(kDst);
  auto bg = g.Bind(kDst);
  ASSERT_TRUE(bu.ok() && bg.ok());
  EXPECT_EQ(MapUid(*bu, 1000), 2001u);
  EXPECT_EQ(MapUid(*bu, 1500), 2001u);
  EXPECT_EQ(bg->Map(7, nullptr), 500u);

  IdMap u2, g2;
  ASSERT_TRUE(ParseChown(":web", &u2, &g2).ok());
  EXPECT_TRUE(u2.empty());
  EXPECT_EQ(g2.rules().size(), 1u);
  IdMap u3, g3;
  ASSERT_TRUE(ParseChown("web", &u3, &g3).ok());
  EXPECT_EQ(u3.rules().size(), 1u);
  EXPECT_TRUE(g3.empty());
  IdMap u4, g4;
  Status bad = ParseChown(":", &u4, &g4);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("--chown"), std::string::npos);
}

TEST(IdMapping, TableLooksUpSourceNamesOnce) {
  IdMapping m;
  m.users = *IdMap::Parse("alice:alice,bob:robert", IdKind::kUser, "--usermap");
  m.groups = *IdMap::Parse("users:users", IdKind::kGroup, "--groupmap");
  m.src_names = std::make_shared<TableIdNames>(kSrc);
  m.dst_names = std::make_shared<TableIdNames>(kDst);
  auto b = m.Bind();
  ASSERT_TRUE(b.ok()) << b.status().message();
  IdTable t = b->Table({1000, 1001, 1002}, {100, 50});
  EXPECT_EQ(t.Uid(1000), 2000u);
  EXPECT_EQ(t.Uid(1001), 2001u);
  EXPECT_EQ(t.Uid(1002), 1002u);
  EXPECT_EQ(t.Uid(42), 42u);  // not in the table: kept
  EXPECT_EQ(t.Gid(100), 500u);
  EXPECT_EQ(t.Gid(50), 50u);
}

TEST(SystemIdNames, RootAndAnUnknownName) {
  SystemIdNames sys;
  EXPECT_EQ(sys.Id(IdKind::kUser, "root"), std::optional<uint32_t>(0));
  EXPECT_EQ(sys.Name(IdKind::kUser, 0), std::optional<std::string>("root"));
  EXPECT_EQ(sys.Id(IdKind::kUser, "no-such-user-ferry"), std::nullopt);
  EXPECT_EQ(sys.Id(IdKind::kGroup, "no-such-group-ferry"), std::nullopt);
}

}  // namespace
}  // namespace ferry
