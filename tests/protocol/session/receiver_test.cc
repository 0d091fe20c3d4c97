// A real receiver (RunReceiver into a temporary DST) against a hand-driven
// sender over a socketpair: what lands, what a hash mismatch does, and what
// a hostile file list or unrequested data gets (CVE-2024-12087 class:
// nothing written outside DST, a clear protocol error).
#include "protocol/session/receiver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

using ferry::testing::Exists;
using ferry::testing::ReadFile;
using ferry::testing::TempDir;

std::vector<std::byte> Bytes(const std::string& s) {
  auto b = std::as_bytes(std::span(s));
  return {b.begin(), b.end()};
}

FileEntry Dir(const std::string& path) {
  FileEntry e;
  e.path = path;
  e.kind = FileKind::kDirectory;
  e.perms = 0755;
  return e;
}

FileEntry Reg(const std::string& path, uint64_t size) {
  FileEntry e;
  e.path = path;
  e.kind = FileKind::kRegular;
  e.perms = 0644;
  e.size = size;
  e.mtime_sec = 1700000000;
  return e;
}

class ReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    dst_ = tmp_ / "dst";
    PrepareDst();
    result_ = std::async(std::launch::async, [this, fd = sv[1]]() -> Result<SyncOutcome> {
      ChannelConfig cc;
      cc.role = Role::kServer;
      cc.timeout = std::chrono::milliseconds(5000);
      ASSIGN_OR_RETURN(std::unique_ptr<Channel> ch, Channel::Accept(fd, fd, cc, nullptr));
      ReceiverConfig rc;
      rc.path = dst_;
      Configure(rc);
      return RunReceiver(*ch, rc, stats_, events_);
    });
    const SessionOptions o = Options();
    ChannelConfig cc;
    cc.timeout = std::chrono::milliseconds(5000);
    cc.capabilities = SenderCapabilities();
    auto ch = Channel::Connect(sv[0], sv[0], cc, o);
    ASSERT_TRUE(ch.ok()) << ch.status().message();
    sender_ = std::move(ch).value();
  }

  // What the hand-driven sender offers in its Hello.
  virtual uint64_t SenderCapabilities() const { return kCapKnownMask; }

  virtual SessionOptions Options() const {
    SessionOptions o;
    o.preserve = kPreservePerms | kPreserveTimes | kPreserveLinks;
    o.max_frame = kMinMaxFrame;
    o.window = kDefaultWindow;
    return o;
  }

  // The receiver's Status after a hostile entry or request: a protocol
  // error naming `what`, and the sender told so.
  void ExpectRefused(const std::string& what) {
    auto r = result_.get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt) << r.status().message();
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
    bool told = false;
    while (true) {
      auto in = sender_->Receive();
      if (!in.ok() || in->eof) break;
      if (auto* e = std::get_if<Error>(&in->message)) told |= e->code == WireError::kProtocol;
    }
    EXPECT_TRUE(told) << "the sender was not told why";
  }

  // What DST holds before the receiver starts.
  virtual void PrepareDst() {}
  // The receiver's configuration beyond its path.
  virtual void Configure(ReceiverConfig&) {}

  // The next message, PlannedTotals set aside (kept in planned_).
  Message Next() {
    while (true) {
      auto in = sender_->Receive();
      EXPECT_TRUE(in.ok()) << in.status().message();
      if (!in.ok()) return Message{Keepalive{}};
      if (auto* p = std::get_if<PlannedTotals>(&in->message)) {
        planned_.push_back(*p);
        continue;
      }
      return in->message;
    }
  }

  // Answers whole-file requests for `index` with `data` and `hash`.
  void Answer(uint32_t index, const std::string& data, const Hash128& hash) {
    Message m = Next();
    ASSERT_TRUE(std::holds_alternative<FileRequest>(m)) << TypeName(static_cast<uint8_t>(TypeOf(m)));
    EXPECT_EQ(std::get<FileRequest>(m).file_index, index);
    ASSERT_TRUE(sender_->Send(FileData{index, 0, Bytes(data)}).ok());
    ASSERT_TRUE(sender_->Send(FileDone{index, data.size(), hash}).ok());
  }

  void EndPass(uint32_t pass) {
    Message m = Next();
    // With kCapReuse agreed the last pass's EndOfPass follows a report.
    if (std::holds_alternative<ReceiverReport>(m)) m = Next();
    ASSERT_TRUE(std::holds_alternative<EndOfPass>(m)) << TypeName(static_cast<uint8_t>(TypeOf(m)));
    EXPECT_EQ(std::get<EndOfPass>(m).pass, pass);
    ASSERT_TRUE(sender_->Send(EndOfPass{pass, 1, 5}).ok());
  }

  TempDir tmp_;
  std::string dst_;
  SyncStats stats_;
  SyncEvents events_;
  std::vector<PlannedTotals> planned_;
  std::future<Result<SyncOutcome>> result_;
  std::unique_ptr<Channel> sender_;
};

TEST_F(ReceiverTest, AFileLandsWhenItsHashMatches) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Reg("f", 5)).ok());
  ASSERT_TRUE(sender_->Send(FileListEnd{2}).ok());
  Answer(1, "hello", HashBytes(Bytes("hello")));
  EndPass(1);
  auto r = result_.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->partial);
  EXPECT_EQ(ReadFile(dst_ + "/f"), "hello");
  struct stat st {};
  ASSERT_EQ(::stat((dst_ + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

// DST holds an older "f", which the receiver offers as the basis of a
// delta, and replaces it. By default its state is left to the process exit
// (as `ferry serve` does), so only what Run itself stopped and closed is
// gone when it returns.
class ReceiverReplaceTest : public ReceiverTest {
 protected:
  void PrepareDst() override { ferry::testing::WriteFile(dst_ + "/f", "old contents of f"); }
  void Configure(ReceiverConfig& rc) override { rc.leave_state_to_exit = true; }

  // Sends "f" as a delta against DST's copy and ends the pass; "old news"
  // has landed.
  void ReplaceF() {
    ASSERT_TRUE(sender_->Send(Dir(".")).ok());
    ASSERT_TRUE(sender_->Send(Reg("f", 8)).ok());
    ASSERT_TRUE(sender_->Send(FileListEnd{2}).ok());
    Message m = Next();
    ASSERT_TRUE(std::holds_alternative<FileRequest>(m)) << TypeName(static_cast<uint8_t>(TypeOf(m)));
    EXPECT_TRUE(std::get<FileRequest>(m).delta);
    m = Next();
    ASSERT_TRUE(std::holds_alternative<SignatureHeader>(m)) << TypeName(static_cast<uint8_t>(TypeOf(m)));
    for (uint64_t blocks = std::get<SignatureHeader>(m).block_count, got = 0; got < blocks;) {
      m = Next();
      ASSERT_TRUE(std::holds_alternative<SignatureBlocks>(m)) << TypeName(static_cast<uint8_t>(TypeOf(m)));
      got += std::get<SignatureBlocks>(m).weak.size();
    }
    // "old " from the basis (a COPY: read through its descriptor), then "news".
    ASSERT_TRUE(sender_->Send(DeltaOps{1, {{delta::OpKind::kCopy, 4, 0}, {delta::OpKind::kLiteral, 4, 0}},
                                       Bytes("news")})
                    .ok());
    ASSERT_TRUE(sender_->Send(FileDone{1, 8, HashBytes(Bytes("old news"))}).ok());
    EndPass(1);
    auto r = result_.get();
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE(r->partial);
    EXPECT_EQ(ReadFile(dst_ + "/f"), "old news");
  }
};

// Descriptors (of this process, or of every other process it may look at)
// on files under `under` that no longer have a name (a replaced file's old
// copy: its blocks are not free until the last one is closed).
std::vector<std::string> DeletedFilesHeld(const std::string& under, bool elsewhere = false) {
  std::vector<std::string> held;
  std::vector<std::string> fd_dirs;
  if (!elsewhere) {
    fd_dirs.push_back("/proc/self/fd");
  } else {
    std::error_code ec;
    for (const auto& p : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = p.path().filename().string();
      if (name.find_first_not_of("0123456789") == std::string::npos &&
          name != std::to_string(::getpid())) {
        fd_dirs.push_back(p.path().string() + "/fd");
      }
    }
  }
  for (const std::string& dir : fd_dirs) {
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator(dir, ec)) {
      std::error_code lec;
      const std::string target = std::filesystem::read_symlink(fd.path(), lec).string();
      if (!lec && target.starts_with(under) && target.ends_with(" (deleted)")) {
        held.push_back(dir + ": " + target);
      }
    }
  }
  if (elsewhere) return held;
  std::istringstream maps(ReadFile("/proc/self/maps"));
  for (std::string line; std::getline(maps, line);) {
    if (line.find(under) != std::string::npos && line.ends_with("(deleted)")) held.push_back(line);
  }
  return held;
}

// What other processes hold of deleted files under `under`, once it has
// `count` entries (the helper receives descriptors asynchronously), or
// after 5 s.
std::vector<std::string> HeldElsewhereAfterWaiting(const std::string& under, size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::vector<std::string> held = DeletedFilesHeld(under, true);
  while (held.size() != count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    held = DeletedFilesHeld(under, true);
  }
  return held;
}

// The old copy goes on other threads than the landing: the receiver waits
// for them before it returns. Its last close (which frees its blocks, and
// with discard waits for the device) is left to the deferred-close helper,
// which holds it until this process, whose state is left to the exit, ends.
TEST_F(ReceiverReplaceTest, TheReplacedCopyIsLetGoOfBeforeTheReceiverReturns) {
  ReplaceF();
  EXPECT_EQ(DeletedFilesHeld(dst_), std::vector<std::string>{});
  EXPECT_EQ(HeldElsewhereAfterWaiting(dst_, 1).size(), 1u)
      << "the deferred-close helper does not hold the old copy";
}

// A receiver in a process that goes on: its helper closes the old copy
// once the session is over.
class ReceiverReplaceGoesOnTest : public ReceiverReplaceTest {
 protected:
  void Configure(ReceiverConfig& rc) override { rc.leave_state_to_exit = false; }
};

TEST_F(ReceiverReplaceGoesOnTest, TheOldCopyIsClosedAfterTheSession) {
  ReplaceF();
  EXPECT_EQ(DeletedFilesHeld(dst_), std::vector<std::string>{});
  EXPECT_EQ(HeldElsewhereAfterWaiting(dst_, 0), std::vector<std::string>{});
  // Not merely still on its way to the helper (in the socket, where no
  // process shows it): a helper that kept it would show it by now.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(DeletedFilesHeld(dst_, true), std::vector<std::string>{});
}

// Without the helper, the releasers close the old copy before Run returns.
class ReceiverReplaceNoDeferTest : public ReceiverReplaceTest {
 protected:
  void Configure(ReceiverConfig& rc) override {
    rc.leave_state_to_exit = true;
    rc.defer_close = false;
  }
};

TEST_F(ReceiverReplaceNoDeferTest, TheOldCopyIsClosedBeforeRunReturns) {
  ReplaceF();
  EXPECT_EQ(DeletedFilesHeld(dst_), std::vector<std::string>{});
  EXPECT_EQ(DeletedFilesHeld(dst_, true), std::vector<std::string>{});
}

// An old copy larger than what may be held (the budget that keeps a pass
// from filling DST with old copies) is closed at once, as without a helper.
class ReceiverReplaceOverBudgetTest : public ReceiverReplaceTest {
 protected:
  void Configure(ReceiverConfig& rc) override {
    rc.leave_state_to_exit = true;
    rc.defer_close_max = 1;  // less than the old copy's one block
  }
};

TEST_F(ReceiverReplaceOverBudgetTest, TheOldCopyIsClosedBeforeRunReturns) {
  ReplaceF();
  EXPECT_EQ(DeletedFilesHeld(dst_), std::vector<std::string>{});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // not on its way either
  EXPECT_EQ(DeletedFilesHeld(dst_, true), std::vector<std::string>{});
}

// DST holds "same" as listed (size and mtime): the receiver's PlannedTotals,
// once the list ended, count only the files it requests.
class ReceiverPlannedTest : public ReceiverTest {
 protected:
  void PrepareDst() override {
    ferry::testing::WriteFile(dst_ + "/same", "123");
    const struct timespec t[2] = {{1700000000, 0}, {1700000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (dst_ + "/same").c_str(), t, 0), 0);
  }
};

TEST_F(ReceiverPlannedTest, PlannedTotalsFollowTheListWithWhatNeedsData) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Reg("f", 5)).ok());
  ASSERT_TRUE(sender_->Send(Reg("same", 3)).ok());  // no size of a new file: no probe
  ASSERT_TRUE(sender_->Send(Reg("g", 7)).ok());
  ASSERT_TRUE(sender_->Send(FileListEnd{4}).ok());
  Answer(1, "hello", HashBytes(Bytes("hello")));
  Answer(3, "goodbye", HashBytes(Bytes("goodbye")));
  EndPass(1);
  auto r = result_.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(planned_.size(), 1u);
  EXPECT_EQ(planned_[0], (PlannedTotals{2, 12}));
  EXPECT_TRUE(stats_.planned.load());
  EXPECT_EQ(stats_.transferred_files.load(), 2u);
  // Counted as the data arrived, not only when the files landed.
  EXPECT_EQ(stats_.literal_bytes.load(), 12u);
}

// A sender that does not know capability 7 (an older ferry) gets no
// PlannedTotals, which it would refuse; the receiver's own side still has
// its totals.
class ReceiverOlderSenderTest : public ReceiverTest {
 protected:
  uint64_t SenderCapabilities() const override { return kCapKnownMask & ~kCapPlanned; }
};

TEST_F(ReceiverOlderSenderTest, NoPlannedTotalsWithoutTheCapability) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Reg("f", 5)).ok());
  ASSERT_TRUE(sender_->Send(FileListEnd{2}).ok());
  Answer(1, "hello", HashBytes(Bytes("hello")));
  EndPass(1);
  auto r = result_.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(ReadFile(dst_ + "/f"), "hello");
  EXPECT_TRUE(planned_.empty());
  EXPECT_TRUE(stats_.planned.load());
  EXPECT_EQ(stats_.planned_files.load(), 1u);
}

// Regression: the receiver sent a second EndOfPass after the sender's last
// one and exited; a sender answering it wrote into a closed pipe (exit 12).
TEST_F(ReceiverTest, OnlyEndOfSessionFollowsTheLastEndOfPass) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(FileListEnd{1}).ok());
  EndPass(1);
  auto r = result_.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto last = sender_->Receive();
  ASSERT_TRUE(last.ok()) << last.status().message();
  ASSERT_FALSE(last->eof);
  EXPECT_TRUE(std::holds_alternative<EndOfSession>(last->message))
      << TypeName(static_cast<uint8_t>(TypeOf(last->message)));
  auto after = sender_->Receive();
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_TRUE(after->eof) << TypeName(static_cast<uint8_t>(TypeOf(after->message)));
}

TEST_F(ReceiverTest, AHashMismatchIsRequestedAgainAndNeverLands) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Reg("f", 5)).ok());
  ASSERT_TRUE(sender_->Send(FileListEnd{2}).ok());
  const Hash128 wrong{1, 2};
  Answer(1, "hello", wrong);
  EndPass(1);
  Answer(1, "hello", wrong);  // pass 2: the whole file again
  Message m = Next();
  ASSERT_TRUE(std::holds_alternative<Error>(m));
  EXPECT_NE(std::get<Error>(m).message.find("hash mismatch"), std::string::npos);
  EndPass(2);
  auto r = result_.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->partial);
  EXPECT_FALSE(Exists(dst_ + "/f"));
}

TEST_F(ReceiverTest, AFileInsideASymlinkSentEarlierIsRefused) {
  const std::string outside = tmp_ / "outside";
  ferry::testing::MakeDirs(outside);
  FileEntry link;
  link.path = "link";
  link.kind = FileKind::kSymlink;
  link.symlink_target = outside;
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(link).ok());
  ASSERT_TRUE(sender_->Send(Reg("link/evil", 4)).ok());
  auto r = result_.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("symlink"), std::string::npos) << r.status().message();
  EXPECT_FALSE(Exists(outside + "/evil"));
  // The sender is told why.
  Message m = Next();
  ASSERT_TRUE(std::holds_alternative<Error>(m));
  EXPECT_EQ(std::get<Error>(m).code, WireError::kProtocol);
}

TEST_F(ReceiverTest, DotDotInAPathIsRefused) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  // The codec refuses it at decode time already (path_check.h).
  (void)sender_->Send(Reg("../escape", 4));
  auto r = result_.get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(".."), std::string::npos) << r.status().message();
  EXPECT_FALSE(Exists(tmp_ / "escape"));
}

TEST_F(ReceiverTest, DataForAFileNotRequestedIsAProtocolError) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  FileEntry same = Reg("f", 5);
  ASSERT_TRUE(sender_->Send(same).ok());
  // Index 1 is asked for; data arrives for 7, which is no entry at all.
  ASSERT_TRUE(sender_->Send(FileData{7, 0, Bytes("x")}).ok());
  auto r = result_.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("7"), std::string::npos) << r.status().message();
}

// --- CVE-2024-12087 class: paths from the wire ---------------------------------

TEST_F(ReceiverTest, CVE_2024_12087_AnAbsolutePathIsRefused) {
  const std::string target = tmp_ / "abs-escape";
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  (void)sender_->Send(Reg(target, 4));
  ExpectRefused("is absolute");
  EXPECT_FALSE(Exists(target));
}

TEST_F(ReceiverTest, CVE_2024_12087_AnEmptyComponentIsRefused) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Dir("a")).ok());
  (void)sender_->Send(Reg("a//b", 4));
  ExpectRefused("has an empty component");
  EXPECT_FALSE(Exists(dst_ + "/a/b"));
}

TEST_F(ReceiverTest, CVE_2024_12087_ANulInAPathIsRefused) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  (void)sender_->Send(Reg(std::string("f\0/../../x", 11), 4));
  ExpectRefused("NUL");
  EXPECT_FALSE(Exists(dst_ + "/f"));
}

TEST_F(ReceiverTest, CVE_2024_12087_AControlCharacterInAPathIsRefused) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  (void)sender_->Send(Reg("evil\x1b[2Jname", 4));
  ExpectRefused("control character");
  EXPECT_FALSE(Exists(dst_ + "/evil\x1b[2Jname"));
}

TEST_F(ReceiverTest, CVE_2024_12084_APathLongerThanPathMaxIsRefused) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  std::string longer;
  while (longer.size() < kPathMax) longer += "abcdefghij/";
  (void)sender_->Send(Reg(longer + "f", 4));
  ExpectRefused("4095");
}

TEST_F(ReceiverTest, CVE_2024_12087_ASecondEntryForADirectoryIsRefused) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Dir("d")).ok());
  FileEntry again = Dir("d");
  again.kind = FileKind::kSymlink;
  again.symlink_target = tmp_ / "outside";
  ASSERT_TRUE(sender_->Send(again).ok());
  ExpectRefused("a second entry for a path already sent");
  struct stat st {};
  ASSERT_EQ(::lstat((dst_ + "/d").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode)) << "d was replaced";
}

// --- owners, deletes and data the session did not negotiate -----------------

TEST_F(ReceiverTest, AnUnknownUserNameIsNeverMappedToRoot) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  FileEntry f = Reg("f", 5);
  f.uid = 0;
  f.user_name = "ferry-no-such-user-7d3e";
  ASSERT_TRUE(sender_->Send(f).ok());
  ExpectRefused("refusing to map it to uid 0");
  EXPECT_FALSE(Exists(dst_ + "/f"));
}

TEST_F(ReceiverTest, AnUnknownGroupNameIsNeverMappedToRoot) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  FileEntry f = Reg("f", 5);
  f.gid = 0;
  f.group_name = "ferry-no-such-group-7d3e";
  ASSERT_TRUE(sender_->Send(f).ok());
  ExpectRefused("refusing to map it to gid 0");
  EXPECT_FALSE(Exists(dst_ + "/f"));
}

TEST_F(ReceiverTest, HardLinkDataNotNegotiatedIsRefused) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Reg("f", 5)).ok());
  FileEntry g = Reg("g", 5);
  g.link_leader = 1;
  ASSERT_TRUE(sender_->Send(g).ok());
  ExpectRefused("hard links (-H) were not negotiated");
  EXPECT_FALSE(Exists(dst_ + "/g"));
}

TEST_F(ReceiverTest, XattrDataNotNegotiatedIsRefused) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  FileEntry f = Reg("f", 5);
  f.xattrs.push_back(Xattr{"user.evil", "1"});
  ASSERT_TRUE(sender_->Send(f).ok());
  ExpectRefused("xattr");
  EXPECT_FALSE(Exists(dst_ + "/f"));
}

TEST_F(ReceiverTest, ADeleteRequestWithoutDeleteNegotiatedIsRefused) {
  ferry::testing::WriteFile(dst_ + "/keep", "x");
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(DeleteRequest{0, "keep"}).ok());
  ExpectRefused("--delete was not negotiated");
  EXPECT_TRUE(Exists(dst_ + "/keep"));
}

class ReceiverDeleteTest : public ReceiverTest {
 protected:
  SessionOptions Options() const override {
    SessionOptions o = ReceiverTest::Options();
    o.del = true;
    return o;
  }
};

TEST_F(ReceiverDeleteTest, ADeleteRequestOutsideTheTreeIsRefused) {
  ferry::testing::WriteFile(tmp_ / "sentinel", "x");
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  (void)sender_->Send(DeleteRequest{0, ".."});
  ExpectRefused("DeleteRequest: name");
  EXPECT_TRUE(Exists(tmp_ / "sentinel"));
}

TEST_F(ReceiverDeleteTest, ADeleteRequestWithAPathForANameIsRefused) {
  ferry::testing::WriteFile(tmp_ / "sentinel", "x");
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  (void)sender_->Send(DeleteRequest{0, "../sentinel"});
  ExpectRefused("DeleteRequest: name");
  EXPECT_TRUE(Exists(tmp_ / "sentinel"));
}

TEST_F(ReceiverDeleteTest, ADeleteRequestInAFileEntryIsRefused) {
  ferry::testing::WriteFile(dst_ + "/f", "old");
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  FileEntry link;
  link.path = "l";
  link.kind = FileKind::kSymlink;
  link.symlink_target = tmp_.path();
  ASSERT_TRUE(sender_->Send(link).ok());
  ferry::testing::WriteFile(tmp_ / "victim", "x");
  // "l" points at the directory holding victim; it is not a directory entry.
  (void)sender_->Send(DeleteRequest{1, "victim"});
  ExpectRefused("DeleteRequest");
  EXPECT_TRUE(Exists(tmp_ / "victim"));
}

// The sender could not read b/ (an Error without a file index): the list
// has b but nothing beneath it, and DST's b/y must not be deleted as if SRC
// had lost it; what the sender did list is still mirrored (z goes).
class ReceiverDeleteUnreadTest : public ReceiverDeleteTest {
 protected:
  void PrepareDst() override {
    ferry::testing::WriteFile(dst_ + "/b/y", "kept");
    ferry::testing::WriteFile(dst_ + "/z", "goes");
  }

  // The list "." and "b", the sender's Error for b (`code`), the pass's end;
  // the receiver's outcome.
  Result<SyncOutcome> ListWithErrorOnB(WireError code, const std::string& why) {
    EXPECT_TRUE(sender_->Send(Dir(".")).ok());
    EXPECT_TRUE(sender_->Send(Dir("b")).ok());
    Error e;
    e.code = code;
    e.path = "b";
    e.message = "open directory b: " + why;
    EXPECT_TRUE(sender_->Send(e).ok());
    EXPECT_TRUE(sender_->Send(FileListEnd{2}).ok());
    EndPass(1);
    return result_.get();
  }
};

TEST_F(ReceiverDeleteUnreadTest, WhatTheSenderCouldNotReadIsNotDeleted) {
  auto r = ListWithErrorOnB(WireError::kPermission, "Permission denied");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->partial);
  EXPECT_EQ(ReadFile(dst_ + "/b/y"), "kept");
  EXPECT_FALSE(Exists(dst_ + "/z"));
  EXPECT_EQ(stats_.deleted.load(), 1u);
}

// A vanished directory is not an unread one: what was beneath it goes.
TEST_F(ReceiverDeleteUnreadTest, WhatVanishedOnTheSenderIsDeleted) {
  auto r = ListWithErrorOnB(WireError::kNotFound, "No such file or directory");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(Exists(dst_ + "/b/y"));
  EXPECT_FALSE(Exists(dst_ + "/z"));
}

// --- CVE-2024-12088 class: --safe-links enforced on what a sender sends -------

class ReceiverSafeLinksTest : public ReceiverTest {
 protected:
  SessionOptions Options() const override {
    SessionOptions o = ReceiverTest::Options();
    o.safe_links = true;
    return o;
  }
};

FileEntry Link(const std::string& path, const std::string& target) {
  FileEntry e;
  e.path = path;
  e.kind = FileKind::kSymlink;
  e.perms = 0777;
  e.symlink_target = target;
  return e;
}

TEST_F(ReceiverSafeLinksTest, CVE_2024_12088_UnsafeLinksFromTheSenderAreNotCreated) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Dir("d")).ok());
  ASSERT_TRUE(sender_->Send(Link("a", ".")).ok());
  ASSERT_TRUE(sender_->Send(Link("y", "a/../../outside")).ok());  // chain
  ASSERT_TRUE(sender_->Send(Link("d/x", "../../outside")).ok());  // direct
  ASSERT_TRUE(sender_->Send(Link("abs", tmp_ / "outside")).ok());
  ASSERT_TRUE(sender_->Send(Link("d/ok", "../a")).ok());
  ASSERT_TRUE(sender_->Send(FileListEnd{7}).ok());
  EndPass(1);
  auto r = result_.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(Exists(dst_ + "/a"));
  EXPECT_TRUE(Exists(dst_ + "/d/ok"));
  EXPECT_FALSE(Exists(dst_ + "/y"));
  EXPECT_FALSE(Exists(dst_ + "/d/x"));
  EXPECT_FALSE(Exists(dst_ + "/abs"));
  EXPECT_EQ(stats_.unsafe_links.load(), 3u);
}

TEST_F(ReceiverTest, AProbeResultForAFileNotProbedIsAProtocolError) {
  ASSERT_TRUE(sender_->Send(Dir(".")).ok());
  ASSERT_TRUE(sender_->Send(Reg("f", 5)).ok());
  ASSERT_TRUE(sender_->Send(FileListEnd{2}).ok());
  Message m = Next();
  ASSERT_TRUE(std::holds_alternative<FileRequest>(m)) << TypeName(static_cast<uint8_t>(TypeOf(m)));
  ASSERT_TRUE(sender_->Send(ProbeResult{1, ProbeOutcome::kReuse, 0, HashBytes(Bytes("hello"))}).ok());
  auto r = result_.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.status().message().find("not probed"), std::string::npos) << r.status().message();
  EXPECT_FALSE(Exists(dst_ + "/f"));
}

// DST holds old/m; the list has new/m with its size and mtime and not old/m.
class ReceiverReuseTest : public ReceiverTest {
 protected:
  void PrepareDst() override {
    ferry::testing::WriteFile(dst_ + "/old/m", "hello");
    const struct timespec t[2] = {{1700000000, 0}, {1700000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (dst_ + "/old/m").c_str(), t, 0), 0);
  }
  // The list, then the receiver's ReuseProbe for new/m (index 3).
  void ListAndExpectProbe() {
    ASSERT_TRUE(sender_->Send(Dir(".")).ok());
    ASSERT_TRUE(sender_->Send(Dir("new")).ok());
    ASSERT_TRUE(sender_->Send(Dir("old")).ok());
    ASSERT_TRUE(sender_->Send(Reg("new/m", 5)).ok());
    ASSERT_TRUE(sender_->Send(FileListEnd{4}).ok());
    Message m = Next();
    ASSERT_TRUE(std::holds_alternative<ReuseProbe>(m)) << TypeName(static_cast<uint8_t>(TypeOf(m)));
    const auto& p = std::get<ReuseProbe>(m);
    EXPECT_EQ(p.file_index, 3u);
    ASSERT_EQ(p.candidates.size(), 1u);
    EXPECT_EQ(p.candidates[0], HashBytes(Bytes("hello")));  // the receiver's own hash
  }
};

TEST_F(ReceiverReuseTest, AConfirmedCandidateIsCopiedWithinDst) {
  ListAndExpectProbe();
  ASSERT_TRUE(sender_->Send(ProbeResult{3, ProbeOutcome::kReuse, 0, HashBytes(Bytes("hello"))}).ok());
  EndPass(1);
  auto r = result_.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(ReadFile(dst_ + "/new/m"), "hello");
  EXPECT_EQ(ReadFile(dst_ + "/old/m"), "hello");  // without --delete the old path stays
  EXPECT_EQ(stats_.dst_copied_files.load(), 1u);
}

TEST_F(ReceiverReuseTest, AMissIsFollowedByTheWholeFile) {
  ListAndExpectProbe();
  ASSERT_TRUE(sender_->Send(ProbeResult{3, ProbeOutcome::kMiss, 0, Hash128{}}).ok());
  ASSERT_TRUE(sender_->Send(FileData{3, 0, Bytes("world")}).ok());
  ASSERT_TRUE(sender_->Send(FileDone{3, 5, HashBytes(Bytes("world"))}).ok());
  EndPass(1);
  auto r = result_.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(ReadFile(dst_ + "/new/m"), "world");
  EXPECT_EQ(stats_.dst_copied_files.load() + stats_.renamed_files.load(), 0u);
}

TEST_F(ReceiverReuseTest, AHashThatIsNotTheCandidatesIsAProtocolError) {
  ListAndExpectProbe();
  ASSERT_TRUE(sender_->Send(ProbeResult{3, ProbeOutcome::kReuse, 0, Hash128{1, 2}}).ok());
  auto r = result_.get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not the offered candidate"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(Exists(dst_ + "/new/m"));
}

TEST_F(ReceiverReuseTest, DataBeforeTheProbeResultIsAProtocolError) {
  ListAndExpectProbe();
  ASSERT_TRUE(sender_->Send(FileData{3, 0, Bytes("world")}).ok());
  auto r = result_.get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("before the ProbeResult"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace ferry::protocol
