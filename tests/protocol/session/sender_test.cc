// A real sender (RunSender over a temporary SRC) against a hostile receiver
// speaking raw frames (raw_peer.h) over a socketpair. One test per rsync
// advisory class: every index, length and count from the wire is checked
// before use (CVE-2024-12084 / CVE-2026-53792), nothing outside the file list
// is opened or checksummed (CVE-2024-12086), no byte is sent that was not
// read from the file (CVE-2024-12085), a source swapped for a symlink is not
// followed (CVE-2024-12747), and data the session did not negotiate, or a
// message only a sender may send, is refused. Each test also checks that a
// secret file next to SRC never appears in any byte the sender wrote.
#include "protocol/session/sender.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <map>
#include <string>

#include "engine/io/posix_backend.h"
#include "protocol/wire_format.h"
#include "tests/protocol/session/raw_peer.h"
#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

using ferry::protocol::testing::Bytes;
using ferry::protocol::testing::RawPeer;
using ferry::testing::Exists;
using ferry::testing::MakeDirs;
using ferry::testing::ReadFile;
using ferry::testing::TempDir;
using ferry::testing::WriteFile;

constexpr char kSecret[] = "SECRET-outside-the-root-4f1c9a";

// Bytes that differ at every offset in a 251-byte period, so a byte in the
// wrong place (stale buffer contents) shows.
std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('A' + (i * 7 + i / 251) % 26);
  return s;
}

SessionOptions DefaultOptions() {
  SessionOptions o;
  o.preserve = kPreservePerms | kPreserveTimes | kPreserveLinks;
  o.numeric_ids = true;
  o.max_frame = kMinMaxFrame;
  o.window = kDefaultWindow;
  return o;
}

// Truncates `path` to `keep` bytes just before the first read of the data:
// the file shrinks after the sender's fstat agreed with the scan.
class ShrinkingBackend : public io::PosixBackend {
 public:
  ShrinkingBackend(std::string path, uint64_t keep) : path_(std::move(path)), keep_(keep) {}
  Result<size_t> PRead(int fd, std::span<std::byte> buf, uint64_t off) override {
    if (!shrunk_) {
      shrunk_ = true;
      EXPECT_EQ(::truncate(path_.c_str(), static_cast<off_t>(keep_)), 0);
    }
    return io::PosixBackend::PRead(fd, buf, off);
  }

 private:
  std::string path_;
  uint64_t keep_;
  bool shrunk_ = false;
};

// Keeps what OnPlanned saw.
class PlannedEvents : public SyncEvents {
 public:
  void OnPlanned(const SyncStats& st) override {
    calls.emplace_back(st.planned_files.load(), st.planned_bytes.load());
  }
  std::vector<std::pair<uint64_t, uint64_t>> calls;  // files, bytes
};

class SenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    src_ = tmp_ / "src";
    MakeDirs(src_ + "/d");
    WriteFile(src_ + "/f", "plain file\n");
    WriteFile(src_ + "/d/g", "inside d\n");
    WriteFile(src_ + "/big", Pattern(200000));
    WriteFile(tmp_ / "secret", kSecret);
    MakeDirs(tmp_ / "outside");
    WriteFile(tmp_ / "outside/g", kSecret);
    ASSERT_EQ(::symlink("../secret", (src_ + "/link").c_str()), 0);
  }

  // Starts the sender on SRC's contents and reads its whole file list.
  void Start(const SessionOptions& o = DefaultOptions(),
             std::function<std::unique_ptr<io::IoBackend>()> factory = {}) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    result_ = std::async(std::launch::async, [this, fd = sv[1], factory]() -> Result<SyncOutcome> {
      ChannelConfig cc;
      cc.role = Role::kServer;
      cc.timeout = std::chrono::milliseconds(5000);
      ASSIGN_OR_RETURN(std::unique_ptr<Channel> ch, Channel::Accept(fd, fd, cc, nullptr));
      SenderConfig sc;
      sc.path = src_ + "/";
      sc.workers = 1;
      sc.backend_factory = factory;
      return RunSender(*ch, sc, stats_, events_);
    });
    auto peer = RawPeer::Connect(sv[0], o);
    ASSERT_TRUE(peer.ok()) << peer.status().message();
    peer_ = std::move(peer).value();
    while (true) {
      auto m = peer_->Receive();
      ASSERT_TRUE(m.ok()) << m.status().message();
      ASSERT_TRUE(m->has_value()) << "end of stream inside the file list";
      if (auto* e = std::get_if<FileEntry>(&**m)) {
        index_[e->path] = static_cast<uint32_t>(index_.size());
        continue;
      }
      ASSERT_TRUE(std::holds_alternative<FileListEnd>(**m));
      break;
    }
    ASSERT_EQ(index_.size(), 6u);  // . big d f link d/g, and nothing outside
  }

  uint32_t Index(const std::string& path) {
    auto it = index_.find(path);
    EXPECT_NE(it, index_.end()) << path;
    return it == index_.end() ? 0 : it->second;
  }

  // The sender's Status after a protocol violation; the peer must have been
  // told (Error{kProtocol}) and the secret never sent.
  Status Refusal() {
    std::vector<Message> after = peer_->Drain();
    auto r = result_.get();
    EXPECT_FALSE(r.ok());
    bool told = false;
    for (const Message& m : after) {
      EXPECT_FALSE(std::holds_alternative<FileData>(m));
      EXPECT_FALSE(std::holds_alternative<DeltaOps>(m));
      if (auto* e = std::get_if<Error>(&m)) told |= e->code == WireError::kProtocol;
    }
    EXPECT_TRUE(told) << "the receiver was not told why";
    ExpectNoSecret();
    return r.ok() ? Status::Ok() : r.status();
  }

  // Ends pass 1 cleanly; returns everything the sender sent before its
  // EndOfPass.
  std::vector<Message> EndPass() {
    EXPECT_TRUE(peer_->Send(EndOfPass{1, 0, 0}).ok());
    std::vector<Message> got;
    while (true) {
      auto m = peer_->Receive();
      EXPECT_TRUE(m.ok() && m->has_value()) << (m.ok() ? "eof" : m.status().message());
      if (!m.ok() || !m->has_value()) break;
      if (std::holds_alternative<EndOfPass>(**m)) break;
      got.push_back(std::move(**m));
    }
    peer_->CloseWrite();
    auto r = result_.get();
    EXPECT_TRUE(r.ok()) << r.status().message();
    ExpectNoSecret();
    return got;
  }

  void ExpectNoSecret() {
    EXPECT_EQ(peer_->transcript().find(kSecret), std::string::npos)
        << "a file outside SRC reached the wire";
  }

  static void ExpectNames(const Status& s, const std::string& what) {
    EXPECT_EQ(s.code(), ErrorCode::kCorrupt) << s.message();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  }

  TempDir tmp_;
  std::string src_;
  SyncStats stats_;
  PlannedEvents events_;
  std::future<Result<SyncOutcome>> result_;
  std::unique_ptr<RawPeer> peer_;
  std::map<std::string, uint32_t> index_;
};

// --- CVE-2024-12084 / CVE-2026-53792: indexes, lengths, counts ----------------

TEST_F(SenderTest, CVE_2024_12084_FileIndexOutOfRangeIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(FileRequest{6, false}).ok());  // 6 entries: 0..5
  ExpectNames(Refusal(), "file_index 6 out of range");
}

TEST_F(SenderTest, CVE_2024_12084_FileIndexAboveTheWireMaximumIsRefused) {
  Start();
  std::vector<std::byte> p;
  Writer w(&p);
  w.Varint(uint64_t{1} << 40);
  w.U8(0);
  ASSERT_TRUE(peer_->SendFrame(static_cast<uint8_t>(MsgType::kFileRequest), 0, p).ok());
  ExpectNames(Refusal(), "file_index");
}

TEST_F(SenderTest, CVE_2026_53792_RequestForADirectoryIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(FileRequest{Index("d"), false}).ok());
  ExpectNames(Refusal(), "file_index " + std::to_string(Index("d")) + " 'd' is not a regular file");
}

TEST_F(SenderTest, CVE_2026_53792_RequestForASymlinkOutOfTheRootIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(FileRequest{Index("link"), true}).ok());
  ExpectNames(Refusal(), "'link' is not a regular file");
}

TEST_F(SenderTest, CVE_2024_12084_StrongSumLongerThanNegotiatedIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(FileRequest{Index("big"), true}).ok());
  ASSERT_TRUE(peer_->Send(SignatureHeader{Index("big"), 100, 10, 17, 10}).ok());
  ExpectNames(Refusal(), "strong_len 17");
}

TEST_F(SenderTest, CVE_2024_12084_ZeroStrongSumIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(FileRequest{Index("big"), true}).ok());
  ASSERT_TRUE(peer_->Send(SignatureHeader{Index("big"), 100, 10, 0, 10}).ok());
  ExpectNames(Refusal(), "strong_len 0");
}

TEST_F(SenderTest, CVE_2024_12084_StrongLenOfBlocksDifferentFromTheHeaderIsRefused) {
  Start();
  const uint32_t i = Index("big");
  ASSERT_TRUE(peer_->Send(FileRequest{i, true}).ok());
  ASSERT_TRUE(peer_->Send(SignatureHeader{i, 20, 10, 4, 2}).ok());
  SignatureBlocks b{i, 0, 8, {1, 2}, std::vector<uint8_t>(16, 0xab)};
  ASSERT_TRUE(peer_->Send(b).ok());
  ExpectNames(Refusal(), "strong_len");
}

TEST_F(SenderTest, CVE_2024_12084_BlockSizeZeroWithBlocksIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(FileRequest{Index("big"), true}).ok());
  ASSERT_TRUE(peer_->Send(SignatureHeader{Index("big"), 100, 0, 16, 5}).ok());
  ExpectNames(Refusal(), "block_size is 0");
}

TEST_F(SenderTest, CVE_2024_12084_BlockCountTimesLengthOverflowIsRefused) {
  Start();
  const uint32_t i = Index("big");
  ASSERT_TRUE(peer_->Send(FileRequest{i, true}).ok());
  ASSERT_TRUE(peer_->Send(SignatureHeader{i, 100, 10, 16, 10}).ok());
  // count * (4 + 16) wraps around 2^64 to a small number.
  std::vector<std::byte> p;
  Writer w(&p);
  w.Varint(i);
  w.Varint(0);
  w.Varint(16);
  w.Varint((uint64_t{1} << 63) / 10 * 2 + 1);
  p.resize(p.size() + 20);
  ASSERT_TRUE(peer_->SendFrame(static_cast<uint8_t>(MsgType::kSignatureBlocks), 0, p).ok());
  ExpectNames(Refusal(), "SignatureBlocks: count");
}

TEST_F(SenderTest, CVE_2024_12084_BlockCountAboveTheLimitIsRefused) {
  Start();
  const uint32_t i = Index("big");
  ASSERT_TRUE(peer_->Send(FileRequest{i, true}).ok());
  // A basis of 2^40 bytes in 1-byte blocks: the count alone is refused,
  // before anything is reserved for it.
  ASSERT_TRUE(peer_->Send(SignatureHeader{i, uint64_t{1} << 40, 1, 16, uint64_t{1} << 40}).ok());
  ExpectNames(Refusal(), "block_count");
}

TEST_F(SenderTest, CVE_2024_12084_MoreBlocksThanTheHeaderSaidAreRefused) {
  Start();
  const uint32_t i = Index("big");
  ASSERT_TRUE(peer_->Send(FileRequest{i, true}).ok());
  ASSERT_TRUE(peer_->Send(SignatureHeader{i, 10, 10, 16, 1}).ok());
  SignatureBlocks b{i, 0, 16, {1, 2}, std::vector<uint8_t>(32, 0xab)};
  ASSERT_TRUE(peer_->Send(b).ok());
  ExpectNames(Refusal(), "block");
}

TEST_F(SenderTest, CVE_2024_12084_FrameLargerThanTheMaximumIsRefused) {
  Start();
  // Only the header: the sender must refuse it before buffering a payload.
  ASSERT_TRUE(peer_->SendHeader(static_cast<uint8_t>(MsgType::kSignatureBlocks),
                                peer_->max_frame() + 1).ok());
  ExpectNames(Refusal(), "payload length " + std::to_string(peer_->max_frame() + 1));
}

// --- CVE-2024-12086: nothing outside the list is opened or checksummed --------

TEST_F(SenderTest, CVE_2024_12086_SignatureForAFileNotRequestedIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(FileRequest{Index("big"), true}).ok());
  // The basis of another file: no message can choose one.
  ASSERT_TRUE(peer_->Send(SignatureHeader{Index("f"), 10, 10, 16, 1}).ok());
  ExpectNames(Refusal(), "SignatureHeader for file " + std::to_string(Index("f")) +
                             " that was not requested");
}

TEST_F(SenderTest, CVE_2024_12086_SignatureBlocksForAnotherFileAreRefused) {
  Start();
  const uint32_t i = Index("big");
  ASSERT_TRUE(peer_->Send(FileRequest{i, true}).ok());
  ASSERT_TRUE(peer_->Send(SignatureHeader{i, 10, 10, 16, 1}).ok());
  SignatureBlocks b{Index("f"), 0, 16, {1}, std::vector<uint8_t>(16, 0xab)};
  ASSERT_TRUE(peer_->Send(b).ok());
  ExpectNames(Refusal(), "got blocks of file " + std::to_string(Index("f")));
}

TEST_F(SenderTest, CVE_2024_12086_SignatureWithoutARequestIsRefused) {
  Start();
  SignatureBlocks b{Index("f"), 0, 16, {1}, std::vector<uint8_t>(16, 0xab)};
  ASSERT_TRUE(peer_->Send(b).ok());
  ExpectNames(Refusal(), "SignatureBlocks without a SignatureHeader");
}

// --- CVE-2024-12085: only bytes read from the file are sent -----------------

TEST_F(SenderTest, CVE_2024_12085_AFileThatShrinksWhileReadSendsOnlyWhatItRead) {
  const std::string big = src_ + "/big";
  Start(DefaultOptions(), [big] { return std::make_unique<ShrinkingBackend>(big, 100000); });
  const uint32_t i = Index("big");
  ASSERT_TRUE(peer_->Send(FileRequest{i, false}).ok());
  std::vector<Message> got = EndPass();
  std::string data;
  bool error = false;
  for (const Message& m : got) {
    if (auto* d = std::get_if<FileData>(&m)) {
      EXPECT_EQ(d->file_index, i);
      EXPECT_EQ(d->offset, data.size());
      data.append(reinterpret_cast<const char*>(d->data.data()), d->data.size());
    }
    EXPECT_FALSE(std::holds_alternative<FileDone>(m)) << "a shrunk file was completed";
    if (auto* e = std::get_if<Error>(&m)) {
      error = true;
      EXPECT_EQ(e->file_index, std::optional<uint32_t>(i));
      EXPECT_EQ(e->code, WireError::kChanged);
      EXPECT_NE(e->message.find("shrank"), std::string::npos) << e->message;
    }
  }
  EXPECT_TRUE(error);
  // Exactly the 100000 bytes that were there, each where it belongs.
  EXPECT_EQ(data.size(), 100000u);
  EXPECT_TRUE(data == Pattern(200000).substr(0, 100000)) << "stale or misplaced bytes sent";
}

// All the sender said about request i: one Error{kChanged} naming `why`.
void ExpectOnlyChangedError(const std::vector<Message>& got, uint32_t i, const std::string& why) {
  ASSERT_EQ(got.size(), 1u);
  auto* e = std::get_if<Error>(&got[0]);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->file_index, std::optional<uint32_t>(i));
  EXPECT_EQ(e->code, WireError::kChanged);
  EXPECT_NE(e->message.find(why), std::string::npos) << e->message;
}

// A file that grew since the scan is not sent: its first `size` bytes need
// not be any version the file ever had (a rewrite in place), and they would
// land under its final name with the scanned metadata. It is reported
// (kChanged) and the next run sends it.
TEST_F(SenderTest, AFileThatGrewSinceTheScanIsReportedAndNotSent) {
  Start();
  {
    std::FILE* f = std::fopen((src_ + "/f").c_str(), "a");
    ASSERT_NE(f, nullptr);
    std::fputs("appended after the scan\n", f);
    std::fclose(f);
  }
  const uint32_t i = Index("f");
  ASSERT_TRUE(peer_->Send(FileRequest{i, false}).ok());
  ExpectOnlyChangedError(EndPass(), i, "changed between the scan and the transfer");
}

TEST_F(SenderTest, AFileThatShrankSinceTheScanIsNotSent) {
  Start();
  ASSERT_EQ(::truncate((src_ + "/big").c_str(), 1000), 0);
  const uint32_t i = Index("big");
  ASSERT_TRUE(peer_->Send(FileRequest{i, false}).ok());
  ExpectOnlyChangedError(EndPass(), i, "changed between the scan and the transfer");
}

// --- CVE-2024-12747: a swap to a symlink after the scan is not followed -----

TEST_F(SenderTest, CVE_2024_12747_AFileSwappedForASymlinkIsNotFollowed) {
  Start();
  ASSERT_EQ(::rename((src_ + "/f").c_str(), (src_ + "/f.old").c_str()), 0);
  ASSERT_EQ(::symlink((tmp_ / "secret").c_str(), (src_ + "/f").c_str()), 0);
  const uint32_t i = Index("f");
  ASSERT_TRUE(peer_->Send(FileRequest{i, false}).ok());
  std::vector<Message> got = EndPass();
  ASSERT_EQ(got.size(), 1u);
  auto* e = std::get_if<Error>(&got[0]);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->file_index, std::optional<uint32_t>(i));
  EXPECT_EQ(e->code, WireError::kChanged);
  EXPECT_NE(e->message.find("symlink"), std::string::npos) << e->message;
}

TEST_F(SenderTest, CVE_2024_12747_ADirectorySwappedForASymlinkIsNotFollowed) {
  Start();
  ASSERT_EQ(::rename((src_ + "/d").c_str(), (src_ + "/d.old").c_str()), 0);
  ASSERT_EQ(::symlink((tmp_ / "outside").c_str(), (src_ + "/d").c_str()), 0);
  const uint32_t i = Index("d/g");
  ASSERT_TRUE(peer_->Send(FileRequest{i, false}).ok());
  std::vector<Message> got = EndPass();
  ASSERT_EQ(got.size(), 1u);
  auto* e = std::get_if<Error>(&got[0]);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->file_index, std::optional<uint32_t>(i));
  EXPECT_EQ(e->path, "d/g");
  EXPECT_EQ(e->code, WireError::kChanged);
  EXPECT_NE(e->message.find("symlink now; not followed"), std::string::npos) << e->message;
}

TEST_F(SenderTest, ADeltaAgainstTheReceiversSignatureStillWorks) {
  // The control case for the refusals above: a valid signature is used.
  Start();
  const uint32_t i = Index("f");
  ASSERT_TRUE(peer_->Send(FileRequest{i, true}).ok());
  ASSERT_TRUE(peer_->Send(SignatureHeader{i, 0, 16, 16, 0}).ok());
  std::vector<Message> got = EndPass();
  ASSERT_FALSE(got.empty());
  auto* done = std::get_if<FileDone>(&got.back());
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->hash, HashBytes(Bytes(ReadFile(src_ + "/f"))));
}

// A push: only the remote receiver knows what needs data; its PlannedTotals
// become the sending client's totals, announced once through OnPlanned.
TEST_F(SenderTest, TheReceiversPlannedTotalsAreThePassTotals) {
  Start();
  EXPECT_FALSE(stats_.planned.load());
  ASSERT_TRUE(peer_->Send(PlannedTotals{2, 70123}).ok());
  EndPass();
  ASSERT_EQ(events_.calls.size(), 1u);
  EXPECT_EQ(events_.calls[0], std::make_pair(uint64_t{2}, uint64_t{70123}));
  EXPECT_TRUE(stats_.planned.load());
  EXPECT_EQ(stats_.planned_files.load(), 2u);
  EXPECT_EQ(stats_.planned_bytes.load(), 70123u);
}

TEST_F(SenderTest, ASecondPlannedTotalsIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(PlannedTotals{2, 10}).ok());
  ASSERT_TRUE(peer_->Send(PlannedTotals{3, 10}).ok());
  ExpectNames(Refusal(), "a second PlannedTotals");
}

// --- data or messages the session did not negotiate ------------------------

TEST_F(SenderTest, HardLinkDataNotNegotiatedIsRefused) {
  Start();
  FileEntry e;
  e.path = "x";
  e.link_leader = 0;
  ASSERT_TRUE(peer_->Send(e).ok());
  ExpectNames(Refusal(), "hard-link leader sent but hard links (-H) were not negotiated");
}

TEST_F(SenderTest, XattrDataNotNegotiatedIsRefused) {
  Start();
  FileEntry e;
  e.path = "x";
  e.xattrs.push_back(Xattr{"user.evil", "1"});
  ASSERT_TRUE(peer_->Send(e).ok());
  ExpectNames(Refusal(), "xattr");
}

TEST_F(SenderTest, AFileListFromTheReceiverIsRefusedEvenWhenNegotiated) {
  SessionOptions o = DefaultOptions();
  o.hard_links = true;
  o.xattrs = true;
  Start(o);
  FileEntry e;
  e.path = "x";
  e.xattrs.push_back(Xattr{"user.evil", "1"});
  ASSERT_TRUE(peer_->Send(e).ok());
  ExpectNames(Refusal(), "FileEntry is not a message the receiver may send");
}

TEST_F(SenderTest, DeleteRequestWithoutDeleteNegotiatedIsRefused) {
  Start();
  ASSERT_TRUE(peer_->Send(DeleteRequest{0, "f"}).ok());
  ExpectNames(Refusal(), "--delete was not negotiated");
  EXPECT_TRUE(Exists(src_ + "/f"));
}

TEST_F(SenderTest, DeleteRequestToTheSenderIsRefusedAndDeletesNothing) {
  SessionOptions o = DefaultOptions();
  o.del = true;
  Start(o);
  ASSERT_TRUE(peer_->Send(DeleteRequest{Index("d"), "g"}).ok());
  ExpectNames(Refusal(), "DeleteRequest is not a message the receiver may send");
  EXPECT_TRUE(Exists(src_ + "/d/g"));
}

TEST_F(SenderTest, DeleteRequestOutsideTheTreeCannotBeExpressed) {
  SessionOptions o = DefaultOptions();
  o.del = true;
  Start(o);
  ASSERT_TRUE(peer_->Send(DeleteRequest{0, ".."}).ok());
  ExpectNames(Refusal(), "DeleteRequest: name");
  EXPECT_TRUE(Exists(tmp_ / "secret"));
}

}  // namespace
}  // namespace ferry::protocol
