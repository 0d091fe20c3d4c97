// Maildir semantics (--mail): flag changes and moves are renames on DST,
// tmp/ is neither copied nor cleaned, and each folder's dovecot-uidlist,
// dovecot-keywords, subscriptions and index files land after its messages.
#include <string>
#include <vector>

#include "tests/engine/transfer/reuse_test_util.h"

namespace ferry::sync_test {
namespace {

class MaildirSyncTest : public SyncTest {
 protected:
  void SetUp() override {
    SyncTest::SetUp();
    if (IsSkipped()) return;
    if (!HaveRsync()) GTEST_SKIP() << "rsync is not installed (the oracle)";
  }
  // A folder at rel with messages in cur/ and new/.
  void Folder(const std::string& rel, int cur, int fresh, unsigned seed) {
    MakeDirs(S(rel + "/tmp"));
    MakeDirs(S(rel + "/new"));
    MakeDirs(S(rel + "/cur"));
    for (int k = 0; k < cur; ++k) {
      std::string n = rel + "/cur/" + std::to_string(1700000000 + k) + ".M" + std::to_string(seed) +
                      "P" + std::to_string(k) + ".host,S=1500:2,S";
      WriteFile(S(n), Pattern(1500, seed * 100 + static_cast<unsigned>(k)), 0600);
      SetTimes(S(n), 1700000000 + k, 0);
    }
    for (int k = 0; k < fresh; ++k) {
      std::string n = rel + "/new/" + std::to_string(1710000000 + k) + ".M" + std::to_string(seed) +
                      "Q" + std::to_string(k) + ".host,S=1200";
      WriteFile(S(n), Pattern(1200, seed * 1000 + static_cast<unsigned>(k)), 0600);
      SetTimes(S(n), 1710000000 + k, 0);
    }
    WriteFile(S(rel + "/dovecot-uidlist"), "3 V1700000000 N1\n", 0600);
    WriteFile(S(rel + "/dovecot.index.log"), Pattern(300, seed), 0600);
  }
  SyncOptions Delete() const {
    SyncOptions o = Options();
    o.del = true;
    return o;
  }
};

TEST_P(MaildirSyncTest, FlagChangesAndMovesAreRenamesNotSends) {
  Folder("Maildir", 3, 2, 1);
  Folder("Maildir/.Archive", 1, 0, 2);
  auto first = Sync();
  ASSERT_TRUE(first->clean()) << first->Dump();

  // Read: new/X -> cur/X:2,S. Flagged, and the client touched the mtime:
  // cur/Y:2,S -> cur/Y:2,FS (the base name is the hint then). Moved:
  // INBOX cur/Z -> .Archive/cur/Z.
  std::string x = "1710000000.M1Q0.host,S=1200", y = "1700000000.M1P0.host,S=1500",
              z = "1700000001.M1P1.host,S=1500:2,S";
  ASSERT_EQ(::rename(S("Maildir/new/" + x).c_str(), S("Maildir/cur/" + x + ":2,S").c_str()), 0);
  ASSERT_EQ(::rename(S("Maildir/cur/" + y + ":2,S").c_str(), S("Maildir/cur/" + y + ":2,FS").c_str()), 0);
  SetTimes(S("Maildir/cur/" + y + ":2,FS"), 1750000000, 5);
  ASSERT_EQ(::rename(S("Maildir/cur/" + z).c_str(), S("Maildir/.Archive/cur/" + z).c_str()), 0);
  WriteFile(S("Maildir/dovecot-uidlist"), "3 V1700000000 N2\n", 0600);

  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
  EXPECT_TRUE(run->events.HasItem("cf+++++++++", "Maildir/cur/" + x + ":2,S => Maildir/new/" + x))
      << run->Dump();
  EXPECT_TRUE(run->events.HasItem("cf+++++++++", "Maildir/cur/" + y + ":2,FS => Maildir/cur/" + y + ":2,S"))
      << run->Dump();
  EXPECT_TRUE(run->events.HasItem("cf+++++++++", "Maildir/.Archive/cur/" + z + " => Maildir/cur/" + z))
      << run->Dump();
  EXPECT_EQ(run->stats.renamed_files.load(), 3u);
  EXPECT_EQ(run->stats.deleted.load(), 0u) << "renamed messages are not also deleted";
  EXPECT_EQ(SentBytes(*run), std::string("3 V1700000000 N2\n").size()) << "only the uidlist is sent";
}

TEST_P(MaildirSyncTest, TmpContentsAreNotCopiedAndNotDeletedFromDst) {
  Folder("Maildir", 1, 0, 3);
  WriteFile(S("Maildir/tmp/1720000000.M9P9.host"), "half a message", 0600);
  // Not a Maildir folder: its tmp/ is ordinary data.
  WriteFile(S("notmail/tmp/keep"), "ordinary");
  auto first = Sync(Delete());
  ASSERT_TRUE(first->clean()) << first->Dump();
  EXPECT_TRUE(Exists(D("Maildir/tmp")));
  EXPECT_FALSE(Exists(D("Maildir/tmp/1720000000.M9P9.host")));
  EXPECT_TRUE(Exists(D("notmail/tmp/keep")));
  // A delivery in progress on DST's own server survives --delete.
  WriteFile(D("Maildir/tmp/1730000000.M1P1.dsthost"), "delivering", 0600);
  auto run = Sync(Delete());
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_TRUE(Exists(D("Maildir/tmp/1730000000.M1P1.dsthost")));
  EXPECT_EQ(RsyncOracle(src_, dst_, "--exclude='/Maildir/tmp/*'"), "");
}

TEST_P(MaildirSyncTest, MailOffCopiesTmpLikeAnyDirectory) {
  Folder("Maildir", 1, 0, 4);
  WriteFile(S("Maildir/tmp/1720000000.M9P9.host"), "half a message", 0600);
  SyncOptions o = Delete();
  o.mail = mail::MailMode::kOff;
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  EXPECT_EQ(TreeDiff(src_, dst_), "");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
}

// Records, in order, the final names files land under and the names
// unlinked (expunged messages). Message landings are slowed down, so an
// index file landed by a parallel task without waiting would overtake them.
class OrderBackend : public io::PosixBackend {
 public:
  OrderBackend(std::mutex* mu, std::vector<std::string>* log) : mu_(mu), log_(log) {}
  void LandFiles(std::span<io::LandOp> ops) override {
    for (const io::LandOp& op : ops)
      if (std::string(op.final_name).find(".host") != std::string::npos) {
        ::usleep(50 * 1000);
        break;
      }
    io::PosixBackend::LandFiles(ops);
    std::lock_guard<std::mutex> l(*mu_);
    for (const io::LandOp& op : ops)
      if (!op.err) log_->push_back(std::string("land ") + op.final_name);
  }
  Status UnlinkAt(int dirfd, const char* name, int flags) override {
    Status s = io::PosixBackend::UnlinkAt(dirfd, name, flags);
    std::lock_guard<std::mutex> l(*mu_);
    if (s.ok() && !std::string(name).starts_with(".~ferry."))
      log_->push_back(std::string("unlink ") + name);
    return s;
  }

 private:
  std::mutex* mu_;
  std::vector<std::string>* log_;
};

TEST_P(MaildirSyncTest, IndexFilesLandAfterEveryMessageAndExpunge) {
  if (GetParam().kind != io::BackendKind::kPosix) GTEST_SKIP() << "recorded on the POSIX backend";
  Folder("Maildir", 40, 10, 5);
  WriteFile(S("Maildir/dovecot-keywords"), "0 $Junk\n", 0600);
  WriteFile(S("Maildir/subscriptions"), "Archive\n", 0600);
  std::mutex mu;
  std::vector<std::string> log;
  SyncOptions o = Delete();
  o.backend_factory = [&] { return std::make_unique<OrderBackend>(&mu, &log); };
  auto check = [&](const char* stage) {
    size_t last_msg = 0, first_index = log.size();
    for (size_t k = 0; k < log.size(); ++k) {
      const std::string& e = log[k];
      bool index = e.find("dovecot") != std::string::npos || e.find("subscriptions") != std::string::npos;
      if (index) first_index = std::min(first_index, k);
      else if (e.find(".host") != std::string::npos) last_msg = k;
    }
    EXPECT_LT(last_msg, first_index) << stage << ": an index file landed before a message change\n"
                                     << Join(log);
    EXPECT_LT(first_index, log.size()) << stage << ": no index file landed\n" << Join(log);
  };
  auto first = Sync(o);
  ASSERT_TRUE(first->clean()) << first->Dump();
  check("stage one");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");

  // A delta pass: a delivery, an expunge, a flag change, a new uidlist.
  log.clear();
  WriteFile(S("Maildir/new/1711111111.M5Z1.host,S=900"), Pattern(900, 77), 0600);
  ASSERT_EQ(::unlink(S("Maildir/cur/1700000003.M5P3.host,S=1500:2,S").c_str()), 0);
  ASSERT_EQ(::rename(S("Maildir/cur/1700000004.M5P4.host,S=1500:2,S").c_str(),
                     S("Maildir/cur/1700000004.M5P4.host,S=1500:2,RS").c_str()), 0);
  WriteFile(S("Maildir/dovecot-uidlist"), "3 V1700000000 N52\n", 0600);
  WriteFile(S("Maildir/dovecot.index.log"), Pattern(400, 5), 0600);
  auto run = Sync(o);
  ASSERT_TRUE(run->clean()) << run->Dump();
  check("delta pass");
  EXPECT_EQ(RsyncOracle(src_, dst_), "");
}

FERRY_INSTANTIATE_BACKENDS(MaildirSyncTest);

}  // namespace
}  // namespace ferry::sync_test
