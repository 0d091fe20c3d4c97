// The Maildir rules of a remote session (protocol/session/mail_rules.h):
// which listings are folders, which DST directories are, which files wait
// for the messages, and what a stream leaves to the final pass.
#include "protocol/session/mail_rules.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <unordered_set>
#include <vector>

namespace ferry::protocol {
namespace {

Entry Dir(const std::string& name) { return Entry{.name = name, .mode = S_IFDIR | 0700}; }
Entry File(const std::string& name) { return Entry{.name = name, .mode = S_IFREG | 0600}; }

std::vector<std::string> Names(const std::vector<Entry>& v) {
  std::vector<std::string> out;
  for (const Entry& e : v) out.push_back(e.name);
  return out;
}

TEST(MailRules, ModesMapBothWays) {
  for (mail::MailMode m : {mail::MailMode::kAuto, mail::MailMode::kOn, mail::MailMode::kOff})
    EXPECT_EQ(MailModeOf(MailSemanticsOf(m)), m);
  // A peer that says nothing about mail (no bits) means off.
  EXPECT_EQ(MailModeOf(SessionOptions{}.mail), mail::MailMode::kOff);
}

TEST(MailRules, AFolderIsKnownByItsSubdirectories) {
  const std::vector<Entry> folder = {Dir("cur"), File("dovecot-uidlist"), Dir("new"), Dir("tmp")};
  EXPECT_TRUE(IsMaildirListing(mail::MailMode::kAuto, folder));
  EXPECT_FALSE(IsMaildirListing(mail::MailMode::kOff, folder));
  const std::vector<Entry> no_tmp = {Dir("cur"), Dir("new")};
  EXPECT_FALSE(IsMaildirListing(mail::MailMode::kAuto, no_tmp));
  EXPECT_TRUE(IsMaildirListing(mail::MailMode::kOn, no_tmp));
  // Files named like the subdirectories do not make a folder.
  EXPECT_FALSE(IsMaildirListing(mail::MailMode::kOn, {File("cur"), File("new"), Dir("tmp")}));

  const std::unordered_set<std::string> paths = {"a/Maildir", "a/Maildir/cur", "a/Maildir/new",
                                                 "a/Maildir/tmp", "cur", "new"};
  auto listed = [&](const std::string& p) { return paths.count(p) != 0; };
  EXPECT_TRUE(IsListedMaildir(mail::MailMode::kAuto, listed, "a/Maildir"));
  EXPECT_FALSE(IsListedMaildir(mail::MailMode::kAuto, listed, "a"));
  EXPECT_FALSE(IsListedMaildir(mail::MailMode::kAuto, listed, ""));  // no tmp at the root
  EXPECT_TRUE(IsListedMaildir(mail::MailMode::kOn, listed, ""));
  EXPECT_FALSE(IsListedMaildir(mail::MailMode::kOff, listed, "a/Maildir"));
}

TEST(MailRules, IndexFilesWaitForTheMessagesInMailModeOnly) {
  for (const char* n : {"dovecot-uidlist", "dovecot-keywords", "subscriptions", "dovecot.index",
                        "dovecot.index.log", "dovecot.index.cache"})
    EXPECT_TRUE(HeldUntilMessagesLanded(mail::MailMode::kAuto, n)) << n;
  EXPECT_FALSE(HeldUntilMessagesLanded(mail::MailMode::kOff, "dovecot-uidlist"));
  EXPECT_FALSE(HeldUntilMessagesLanded(mail::MailMode::kAuto, "1700000000.M1P2.host:2,S"));
}

TEST(MailRules, AStreamLeavesIndexFilesToTheFinalPass) {
  const std::vector<Entry> folder = {Dir("cur"), File("dovecot-uidlist"), File("dovecot.index"),
                                     File("maildirfolder"), Dir("new"), Dir("tmp")};
  SessionOptions o;
  std::vector<Entry> v = folder;
  DropIndexFilesInStream(o, &v);  // not a stream
  EXPECT_EQ(v.size(), folder.size());
  o.stream_count = 3;
  o.stream_index = 3;  // the final pass lists everything
  DropIndexFilesInStream(o, &v);
  EXPECT_EQ(v.size(), folder.size());
  o.stream_index = 1;
  DropIndexFilesInStream(o, &v);
  EXPECT_EQ(Names(v), (std::vector<std::string>{"cur", "maildirfolder", "new", "tmp"}));
}

}  // namespace
}  // namespace ferry::protocol
