#include "engine/mail/maildir.h"

#include <gtest/gtest.h>

namespace ferry::mail {
namespace {

TEST(MaildirTest, ParseMailModeAcceptsTheThreeValuesAndNamesABadOne) {
  EXPECT_EQ(*ParseMailMode("auto"), MailMode::kAuto);
  EXPECT_EQ(*ParseMailMode("on"), MailMode::kOn);
  EXPECT_EQ(*ParseMailMode("off"), MailMode::kOff);
  auto bad = ParseMailMode("yes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--mail"), std::string::npos);
  EXPECT_NE(bad.status().message().find("'yes'"), std::string::npos);
}

TEST(MaildirTest, FolderNeedsTheTripleInAutoAndCurNewWhenOn) {
  EXPECT_TRUE(IsMaildirFolder(MailMode::kAuto, true, true, true));
  EXPECT_FALSE(IsMaildirFolder(MailMode::kAuto, true, true, false));
  EXPECT_FALSE(IsMaildirFolder(MailMode::kAuto, false, true, true));
  EXPECT_TRUE(IsMaildirFolder(MailMode::kOn, true, true, false));
  EXPECT_FALSE(IsMaildirFolder(MailMode::kOn, true, false, true));
  EXPECT_FALSE(IsMaildirFolder(MailMode::kOff, true, true, true));
}

TEST(MaildirTest, BaseNameDropsTheFlagsAFlagChangeRewrites) {
  EXPECT_EQ(MaildirBaseName("1700000000.M1P2.host,S=99:2,RS"), "1700000000.M1P2.host,S=99");
  EXPECT_EQ(MaildirBaseName("1700000000.M1P2.host,S=99:2,"), "1700000000.M1P2.host,S=99");
  EXPECT_EQ(MaildirBaseName("1700000000.M1P2.host,S=99"), "1700000000.M1P2.host,S=99");
  EXPECT_EQ(MaildirBaseName("old.courier:1,x"), "old.courier");
  // Only the last info part counts; a name that starts with it keeps it.
  EXPECT_EQ(MaildirBaseName("a:2,b:2,S"), "a:2,b");
  EXPECT_EQ(MaildirBaseName(":2,S"), ":2,S");
}

TEST(MaildirTest, IndexFilesLandAfterMessagesOthersDoNot) {
  for (const char* n : {"dovecot-uidlist", "dovecot-keywords", "subscriptions", "dovecot.index",
                        "dovecot.index.log", "dovecot.index.cache"})
    EXPECT_TRUE(LandsAfterMessages(n)) << n;
  for (const char* n : {"maildirfolder", "dovecot-uidvalidity", "dovecot-uidlist.lock.x",
                        "1700000000.M1P2.host:2,S"})
    EXPECT_FALSE(LandsAfterMessages(n)) << n;
}

}  // namespace
}  // namespace ferry::mail
