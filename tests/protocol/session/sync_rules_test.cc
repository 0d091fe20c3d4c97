// The rules a remote session carries: what the client puts in its proposal
// rebuilds, on the other side, a filter that decides every path as the
// user's and owner maps bound on that side.
#include "protocol/session/sync_rules.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ferry::protocol {
namespace {

TEST(SyncRules, TheFilterDecidesAsTheUsersRulesOnTheOtherSide) {
  auto f = std::make_shared<FilterList>();
  ASSERT_TRUE(f->AddRule(RuleType::kInclude, "important.tmp").ok());
  ASSERT_TRUE(f->AddRule(RuleType::kExclude, "*.tmp").ok());
  ASSERT_TRUE(f->AddRule(RuleType::kExclude, "/cache/").ok());
  ASSERT_TRUE(f->AddRule(RuleType::kExclude, "+ keep.log").ok());  // "+ " wins over the type
  ASSERT_TRUE(f->AddRule(RuleType::kExclude, "logs/**").ok());
  SyncOptions opt;
  opt.filter = f;
  opt.dry_run = true;
  SessionOptions o;
  PutSyncRules(opt, &o);
  EXPECT_TRUE(o.dry_run);
  ASSERT_TRUE(CheckSyncRulesFit(o).ok());
  auto rules = SyncRulesFrom(o, false);
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  ASSERT_TRUE(rules->filter);
  EXPECT_FALSE(rules->ids.has_value());
  for (const char* p : {"a/important.tmp", "a/x.tmp", "cache", "x/cache", "keep.log",
                        "logs/a/b", "logs", "src/main.c"}) {
    for (bool dir : {false, true}) {
      EXPECT_EQ(rules->filter->Excluded(p, dir), f->Excluded(p, dir)) << p << " dir=" << dir;
    }
  }
  EXPECT_TRUE(rules->filter->Excluded("a/x.tmp", false));
  EXPECT_FALSE(rules->filter->Excluded("a/important.tmp", false));
}

TEST(SyncRules, OwnerMapsTravelAsTextAndBindOnTheReceiver) {
  auto m = std::make_shared<IdMapping>();
  auto users = IdMap::Parse("4321:nobody,1000-1999:0", IdKind::kUser, "--usermap");
  ASSERT_TRUE(users.ok());
  m->users = *users;
  SyncOptions opt;
  opt.id_map = m;
  SessionOptions o;
  o.numeric_ids = true;
  PutSyncRules(opt, &o);
  EXPECT_EQ(o.usermap, "4321:nobody,1000-1999:0");
  EXPECT_TRUE(o.groupmap.empty());
  EXPECT_FALSE(o.numeric_ids) << "names must travel for FROM names to match";
  auto rules = SyncRulesFrom(o, true);
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  ASSERT_TRUE(rules->ids.has_value());
  EXPECT_TRUE(rules->ids->users.bound());
  EXPECT_EQ(rules->ids->users.Map(1500, nullptr), 0u);  // written as 0: allowed
  EXPECT_EQ(rules->ids->users.Map(77, nullptr), 77u);   // no rule: kept
}

TEST(SyncRules, AnUnknownNameOnTheReceiverIsAnErrorNamingIt) {
  SessionOptions o;
  o.groupmap = "*:no_such_group_ferry";
  auto rules = SyncRulesFrom(o, true);
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("--groupmap"), std::string::npos);
  EXPECT_NE(rules.status().message().find("no_such_group_ferry"), std::string::npos);
  // The sender does not bind: names there are the source's business.
  EXPECT_TRUE(SyncRulesFrom(o, false).ok());
}

TEST(SyncRules, ABadRuleFromThePeerIsRefused) {
  SessionOptions o;
  o.filter_rules = {"- *.[ch"};
  auto rules = SyncRulesFrom(o, false);
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("*.[ch"), std::string::npos);
}

TEST(SyncRules, MoreThanTheWireCarriesIsAClearError) {
  SessionOptions o;
  o.filter_rules.assign(kFilterRulesMax + 1, "- x");
  Status s = CheckSyncRulesFit(o);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("filter rules"), std::string::npos);
  o.filter_rules.clear();
  o.usermap = std::string(kIdMapTextMax + 1, 'a');
  EXPECT_FALSE(CheckSyncRulesFit(o).ok());
}

}  // namespace
}  // namespace ferry::protocol
