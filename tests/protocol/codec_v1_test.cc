// Round trips of every message through the v1 codec, and the hostile cases
// the decoder refuses (named after the rsync advisory class they pin).
#include "protocol/codec_v1.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "protocol/frame.h"
#include "protocol/wire_format.h"

namespace ferry::protocol {
namespace {

// Everything a session may agree, except report_changes (Itemized), which
// its own tests turn on.
DecodeLimits AllLimits() {
  DecodeLimits l;
  l.hard_links = l.xattrs = l.acls = l.atimes = l.del = true;
  l.reuse = l.entry_batches = l.planned = true;
  return l;
}

std::vector<std::byte> Encode(const Message& m) {
  std::vector<std::byte> p;
  EXPECT_TRUE(CodecV1(AllLimits()).Encode(m, &p).ok());
  return p;
}

Result<Message> Decode(MsgType t, const std::vector<std::byte>& p,
                       DecodeLimits limits = AllLimits()) {
  return CodecV1(limits).Decode(static_cast<uint8_t>(t), p);
}

void ExpectRoundTrip(const Message& m) {
  auto p = Encode(m);
  Result<Message> back = Decode(TypeOf(m), p);
  ASSERT_TRUE(back.ok()) << TypeName(static_cast<uint8_t>(TypeOf(m))) << ": "
                         << back.status().message();
  EXPECT_EQ(*back, m) << TypeName(static_cast<uint8_t>(TypeOf(m)));
}

// Builds a raw payload field by field (to forge what a hostile peer sends).
struct Raw {
  std::vector<std::byte> bytes;
  Writer w{&bytes};
};

FileEntry FullEntry() {
  FileEntry e;
  e.path = "home/alice/mail/cur/1700000000.M1P2.host:2,S";
  e.kind = FileKind::kRegular;
  e.perms = 0640;
  e.uid = 1000;
  e.gid = 100;
  e.user_name = "alice";
  e.group_name = "users";
  e.size = uint64_t{1} << 40;
  e.mtime_sec = -12345;  // before 1970
  e.mtime_nsec = 999999999;
  e.has_atime = true;
  e.atime_sec = 1700000000;
  e.atime_nsec = 5;
  e.link_leader = 3;
  e.xattrs = {{"user.comment", std::string("v\0al", 4)},
              {"system.posix_acl_access", std::string(28, '\x02')}};
  return e;
}

SessionOptions SomeOptions() {
  SessionOptions o;
  o.preserve = kPreservePerms | kPreserveTimes | kPreserveOwner | kPreserveAtimes;
  o.hard_links = o.xattrs = o.acls = o.del = o.safe_links = true;
  o.checksum = ChecksumMode::kXxh3;
  o.compression = Compression::kZstd;
  o.compress_level = 19;
  o.block_rule = BlockRule::kFixed;
  o.fixed_block_size = 4096;
  o.max_frame = kDefaultMaxFrame;
  o.window = 8 * kDefaultMaxFrame;
  return o;
}

TEST(CodecV1, EveryMessageRoundTrips) {
  ExpectRoundTrip(SomeOptions());
  ExpectRoundTrip(OptionsAck{SomeOptions()});
  ExpectRoundTrip(FullEntry());
  FileEntry dir{.path = ".", .kind = FileKind::kDirectory, .perms = 0755};
  ExpectRoundTrip(dir);
  FileEntry link{.path = "l", .kind = FileKind::kSymlink, .perms = 0777};
  link.symlink_target = "../../x y";
  ExpectRoundTrip(link);
  FileEntry dev{.path = "dev/sda", .kind = FileKind::kBlockDevice};
  dev.rdev = 0x0801;
  ExpectRoundTrip(dev);
  ExpectRoundTrip(FileEntry{.path = "fifo", .kind = FileKind::kFifo});
  ExpectRoundTrip(FileListEnd{123456789});
  ExpectRoundTrip(FileRequest{7, true});
  ExpectRoundTrip(SignatureHeader{7, 10000, 4096, 16, 3});
  ExpectRoundTrip(SignatureHeader{7, 0, 1024, 8, 0});
  ExpectRoundTrip(SignatureBlocks{7, 2, 3, {1, 0xFFFFFFFFu}, {1, 2, 3, 4, 5, 6}});
  ExpectRoundTrip(FileData{9, 1u << 20, {std::byte{0}, std::byte{0xFF}}});
  ExpectRoundTrip(FileData{9, 0, {}});
  DeltaOps d{9,
             {{delta::OpKind::kCopy, 4096, 8192},
              {delta::OpKind::kLiteral, 3, 0},
              {delta::OpKind::kCopy, 1, 0}},
             {std::byte{'a'}, std::byte{'b'}, std::byte{'c'}}};
  ExpectRoundTrip(d);
  ExpectRoundTrip(FileDone{9, 12345, Hash128{0x0123456789abcdefULL, 0xfedcba9876543210ULL}});
  ExpectRoundTrip(MetadataUpdate{4, FullEntry()});
  ExpectRoundTrip(DeleteRequest{0, "stale.txt"});
  ExpectRoundTrip(Error{5, WireError::kChanged, "a/b", "file changed while read"});
  ExpectRoundTrip(Error{std::nullopt, WireError::kProtocol, "", "bye"});
  ExpectRoundTrip(EndOfPass{2, 1000, uint64_t{1} << 50});
  ExpectRoundTrip(Credit{1 << 20});
  ExpectRoundTrip(Keepalive{});
  ExpectRoundTrip(EndOfSession{});
  const Hash128 h{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  ExpectRoundTrip(ReuseProbe{3, {h, Hash128{1, 2}}});
  ExpectRoundTrip(AppendProbe{3, 4096, h});
  ExpectRoundTrip(ProbeResult{3, ProbeOutcome::kReuse, 1, h});
  ExpectRoundTrip(ProbeResult{3, ProbeOutcome::kAppend, 0, Hash128{}});
  ExpectRoundTrip(ReceiverReport{380, 30, 12, 2, 1 << 20, 1, 4096, 7, 3});
  ExpectRoundTrip(PlannedTotals{4000, uint64_t{5} << 40});
  FileEntries batch;
  batch.entries.push_back(dir);
  batch.entries.push_back(FullEntry());
  FileEntry next = FullEntry();
  next.path += "2";
  next.mtime_sec -= 100000;  // a negative difference
  batch.entries.push_back(next);
  next.path = "other/x";
  next.user_name.clear();
  next.mtime_sec = std::numeric_limits<int64_t>::min();  // wraps
  batch.entries.push_back(next);
  batch.entries.push_back(link);
  batch.entries.push_back(dev);
  ExpectRoundTrip(batch);
}

TEST(CodecV1, HelloIsNotACodecMessage) {
  std::vector<std::byte> p;
  EXPECT_FALSE(CodecV1(AllLimits()).Encode(Hello{}, &p).ok());
  EXPECT_FALSE(Decode(MsgType::kHello, std::vector<std::byte>(17)).ok());
}

TEST(CodecV1, UnknownTagIsRefused) {
  Result<Message> m = CodecV1(AllLimits()).Decode(0x7f, {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("unknown type tag 0x7f"), std::string::npos)
      << m.status().message();
}

TEST(CodecV1, TrailingBytesAreRefused) {
  auto p = Encode(FileRequest{1, false});
  p.push_back(std::byte{0});
  Result<Message> m = Decode(MsgType::kFileRequest, p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("trailing"), std::string::npos);
}

// --- CVE-2024-12084 class: lengths, counts and indexes from the wire ----------

TEST(CodecV1, Cve2024_12084_StrongSumLengthLargerThanNegotiated) {
  Raw r;
  r.w.Varint(0);      // file_index
  r.w.Varint(1000);   // file_size
  r.w.Varint(100);    // block_size
  r.w.Varint(64);     // strong_len: rsync's bug let 64 into a 16-byte buffer
  r.w.Varint(10);
  Result<Message> m = Decode(MsgType::kSignatureHeader, r.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("strong_len 64 is outside 1..16"), std::string::npos)
      << m.status().message();

  Raw b;  // the same in a blocks message
  b.w.Varint(0);
  b.w.Varint(0);
  b.w.Varint(17);
  b.w.Varint(1);
  b.bytes.resize(b.bytes.size() + 4 + 17);
  m = Decode(MsgType::kSignatureBlocks, b.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("strong_len 17"), std::string::npos);
}

TEST(CodecV1, Cve2024_12084_ZeroStrongSumLength) {
  Raw r;
  for (uint64_t v : {0, 1000, 100, 0, 10}) r.w.Varint(v);
  Result<Message> m = Decode(MsgType::kSignatureHeader, r.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("strong_len 0"), std::string::npos);
}

TEST(CodecV1, Cve2024_12084_BlockLengthZeroWithCountPositive) {
  Raw r;
  for (uint64_t v : {0, 1000, 0, 16, 5}) r.w.Varint(v);
  Result<Message> m = Decode(MsgType::kSignatureHeader, r.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("block_size is 0 (with block_count 5)"),
            std::string::npos)
      << m.status().message();
}

TEST(CodecV1, Cve2024_12084_BlockCountNotMatchingFileSize) {
  Raw r;
  for (uint64_t v : {0, 1000, 100, 16, 11}) r.w.Varint(v);
  Result<Message> m = Decode(MsgType::kSignatureHeader, r.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("does not match file_size 1000"), std::string::npos);
}

TEST(CodecV1, Cve2024_12084_CountTimesLengthOverflows) {
  // A block count whose product with the per-block size wraps 64 bits must
  // not pass as "fits the payload".
  Raw b;
  b.w.Varint(0);
  b.w.Varint(0);
  b.w.Varint(16);
  b.w.Varint((UINT64_MAX / 20) + 1);  // * 20 wraps to a small number
  b.bytes.resize(b.bytes.size() + 20);
  Result<Message> m = Decode(MsgType::kSignatureBlocks, b.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("do not match the 20 remaining bytes"),
            std::string::npos)
      << m.status().message();

  Raw h;  // and a header whose file_size implies 2^64/1 blocks
  for (uint64_t v : {uint64_t{0}, UINT64_MAX, uint64_t{1}, uint64_t{16}, UINT64_MAX}) {
    h.w.Varint(v);
  }
  m = Decode(MsgType::kSignatureHeader, h.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("block_count"), std::string::npos);
}

TEST(CodecV1, Cve2024_12084_DeltaOpCountAndLengthsBounded) {
  Raw r;
  r.w.Varint(0);
  r.w.Varint(uint64_t{1} << 60);  // op_count far beyond the payload
  Result<Message> m = Decode(MsgType::kDeltaOps, r.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("op_count"), std::string::npos);

  Raw lit;  // a literal op longer than the bytes that follow
  lit.w.Varint(0);
  lit.w.Varint(1);
  lit.w.Varint(uint64_t{1000} << 1);
  lit.bytes.resize(lit.bytes.size() + 10);
  m = Decode(MsgType::kDeltaOps, lit.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("literal length 1000"), std::string::npos);

  Raw copy;  // a COPY whose end wraps 64 bits
  copy.w.Varint(0);
  copy.w.Varint(1);
  copy.w.Varint(uint64_t{16} << 1 | 1);
  copy.w.Varint(UINT64_MAX - 3);
  m = Decode(MsgType::kDeltaOps, copy.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("overflows"), std::string::npos);

  Raw zero;  // an op of length 0
  zero.w.Varint(0);
  zero.w.Varint(1);
  zero.w.Varint(1);
  zero.w.Varint(0);
  m = Decode(MsgType::kDeltaOps, zero.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("length 0"), std::string::npos);
}

TEST(CodecV1, Cve2024_12084_NameLongerThanPathMax) {
  FileEntry e;
  e.path = std::string(5000, 'a');
  Result<Message> m = Decode(MsgType::kFileEntry, Encode(e));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("path length 5000 exceeds 4095"), std::string::npos)
      << m.status().message();
  e.path = std::string(300, 'b');  // one component longer than NAME_MAX
  m = Decode(MsgType::kFileEntry, Encode(e));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("NAME_MAX"), std::string::npos);
}

TEST(CodecV1, Cve2024_12084_XattrCountAndSizesBounded) {
  Raw r;
  r.w.Varint(1u << 4);  // flags: xattrs
  r.w.String("f");
  r.w.U8(1);
  for (int i = 0; i < 3; ++i) r.w.Varint(0);
  r.w.Varint(0);  // size
  r.w.Signed(0);
  r.w.Varint(0);
  r.w.Varint(1000000);  // xattr count
  Result<Message> m = Decode(MsgType::kFileEntry, r.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("xattr count 1000000 exceeds 1024"), std::string::npos)
      << m.status().message();
}

TEST(CodecV1, Cve2026_53792_FileIndexAboveMaximum) {
  Raw r;
  r.w.Varint(uint64_t{1} << 32);
  r.w.U8(0);
  Result<Message> m = Decode(MsgType::kFileRequest, r.bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("file_index 4294967296 exceeds"), std::string::npos)
      << m.status().message();
}

// --- CVE-2024-12085 class: no uninitialised or padded data ----------------------

TEST(CodecV1, Cve2024_12085_ShortFieldIsAnErrorNeverPadded) {
  // Every strict prefix of a valid encoding must fail: nothing is padded
  // with zeros or stale memory to complete a field.
  const Message samples[] = {FullEntry(), Message(SignatureHeader{7, 10000, 4096, 16, 3}),
                             Message(SignatureBlocks{7, 2, 3, {1, 2}, {1, 2, 3, 4, 5, 6}}),
                             Message(FileDone{1, 2, Hash128{3, 4}}), Message(SomeOptions()),
                             Message(Error{5, WireError::kIo, "p", "m"})};
  for (const Message& msg : samples) {
    const auto full = Encode(msg);
    for (size_t n = 0; n < full.size(); ++n) {
      std::vector<std::byte> prefix(full.begin(), full.begin() + n);
      EXPECT_FALSE(Decode(TypeOf(msg), prefix).ok())
          << TypeName(static_cast<uint8_t>(TypeOf(msg))) << " prefix " << n;
    }
  }
}

TEST(CodecV1, Cve2024_12085_DecodedStructsAreFullyDefined) {
  // A minimal entry decodes to exactly the default-initialised struct plus
  // the fields sent: no member keeps a value that was not on the wire.
  FileEntry sent{.path = "x", .kind = FileKind::kDirectory};
  Result<Message> m = Decode(MsgType::kFileEntry, Encode(sent));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<FileEntry>(*m), sent);
  EXPECT_EQ(std::get<FileEntry>(*m).size, 0u);
  EXPECT_FALSE(std::get<FileEntry>(*m).link_leader.has_value());
}

TEST(CodecV1, Cve2024_12085_SignatureBlocksMustFillThePayloadExactly) {
  Raw b;
  b.w.Varint(0);
  b.w.Varint(0);
  b.w.Varint(8);
  b.w.Varint(2);
  b.bytes.resize(b.bytes.size() + 2 * 12 - 1);  // one byte short
  EXPECT_FALSE(Decode(MsgType::kSignatureBlocks, b.bytes).ok());
}

// --- data the session did not negotiate -----------------------------------------

TEST(CodecV1, HardLinkDataNotNegotiatedIsRefused) {
  FileEntry e{.path = "a"};
  e.link_leader = 0;
  Result<Message> m = Decode(MsgType::kFileEntry, Encode(e), DecodeLimits{});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("hard links (-H) were not negotiated"),
            std::string::npos);
}

TEST(CodecV1, XattrDataNotNegotiatedIsRefused) {
  FileEntry e{.path = "a"};
  e.xattrs = {{"user.x", "1"}};
  Result<Message> m = Decode(MsgType::kFileEntry, Encode(e), DecodeLimits{});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("were negotiated"), std::string::npos)
      << m.status().message();
  // ACLs negotiated but not xattrs: a user xattr is still refused.
  DecodeLimits acls_only;
  acls_only.acls = true;
  m = Decode(MsgType::kFileEntry, Encode(e), acls_only);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("xattrs (-X) were not negotiated"), std::string::npos);
}

TEST(CodecV1, DeleteNotNegotiatedIsRefused) {
  Result<Message> m = Decode(MsgType::kDeleteRequest, Encode(DeleteRequest{0, "x"}),
                             DecodeLimits{});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("--delete was not negotiated"), std::string::npos);
}

// --- CVE-2024-12087 class at the decoder --------------------------------------------

TEST(CodecV1, Cve2024_12087_EntryPathsAreChecked) {
  for (const char* bad : {"/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/"}) {
    FileEntry e{.path = bad};
    EXPECT_FALSE(Decode(MsgType::kFileEntry, Encode(e)).ok()) << bad;
  }
  FileEntry nul{.path = std::string("a\0b", 3)};
  EXPECT_FALSE(Decode(MsgType::kFileEntry, Encode(nul)).ok());
  Result<Message> m = Decode(MsgType::kDeleteRequest, Encode(DeleteRequest{0, "a/b"}));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("not a single path component"), std::string::npos);
  EXPECT_FALSE(Decode(MsgType::kDeleteRequest, Encode(DeleteRequest{0, ".."})).ok());
}

TEST(CodecV1, OutOfRangeFieldsAreNamed) {
  FileEntry e{.path = "a", .mtime_nsec = 1000000000};
  Result<Message> m = Decode(MsgType::kFileEntry, Encode(e));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("FileEntry: mtime_nsec 1000000000 exceeds"),
            std::string::npos);
  e = FileEntry{.path = "a", .perms = 010000};
  m = Decode(MsgType::kFileEntry, Encode(e));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("perms"), std::string::npos);
  SessionOptions o = SomeOptions();
  o.compress_level = 22;
  m = Decode(MsgType::kOptions, Encode(o));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("compress_level 22"), std::string::npos);
}

// Filters, owner maps, --dry-run and the push's change reports travel in the
// session (remote rsync options): they round-trip, and a peer cannot make
// the decoder accept a malformed rule, an oversized count or a report the
// session did not agree on.
TEST(CodecV1, SyncRulesAndItemizedRoundTrip) {
  SessionOptions o = SomeOptions();
  o.dry_run = true;
  o.report_changes = true;
  o.filter_rules = {"- *.tmp", "+ keep/", "- /cache/***"};
  o.usermap = "alice:bob,1000-1999:nobody";
  o.groupmap = "*:staff";
  ExpectRoundTrip(o);
  DecodeLimits l = AllLimits();
  l.itemized = true;
  Itemized it{">f.st......", "dir/file name", "", 42};
  std::vector<std::byte> p = Encode(it);
  auto back = Decode(MsgType::kItemized, p, l);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(std::get<Itemized>(*back), it);
}

// --mail travels as flag bits 17 (mail) and 18 (mail on): each mode
// round-trips, and "on" without "mail" is refused naming the bits.
TEST(CodecV1, MailModeRoundTripsAndHalfAModeIsRefused) {
  for (MailSemantics m : {MailSemantics::kOff, MailSemantics::kAuto, MailSemantics::kOn}) {
    SessionOptions o = SomeOptions();
    o.mail = m;
    ExpectRoundTrip(o);
  }
  SessionOptions o = SomeOptions();
  o.mail = MailSemantics::kAuto;
  std::vector<std::byte> p = Encode(o);
  // Re-encode the leading flags varint with bit 18 instead of bit 17.
  size_t n = 0;
  uint64_t flags = 0;
  for (int shift = 0; n < p.size(); shift += 7) {
    const auto b = static_cast<uint8_t>(p[n++]);
    flags |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  ASSERT_NE(flags & (uint64_t{1} << 17), 0u);
  flags = (flags & ~(uint64_t{1} << 17)) | (uint64_t{1} << 18);
  std::vector<std::byte> forged;
  Writer w(&forged);
  w.Varint(flags);
  forged.insert(forged.end(), p.begin() + static_cast<std::ptrdiff_t>(n), p.end());
  auto m = Decode(MsgType::kOptions, forged);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("mail_on (bit 18) without mail (bit 17)"),
            std::string::npos)
      << m.status().message();
}

TEST(CodecV1, MalformedSyncRulesAndUnagreedItemizedAreRefused) {
  SessionOptions o = SomeOptions();
  o.filter_rules = {"*.tmp"};  // no "- " or "+ ": not the wire form
  auto m = Decode(MsgType::kOptions, Encode(o));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("filter_rule"), std::string::npos) << m.status().message();
  // A count the payload cannot hold is refused before anything is allocated.
  o.filter_rules = {};
  std::vector<std::byte> p = Encode(o);
  p.resize(p.size() - 3);  // drop count 0 and the two empty maps
  Writer w(&p);
  w.Varint(60000);
  m = Decode(MsgType::kOptions, p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("filter_count"), std::string::npos) << m.status().message();
  // Itemized only when report_changes was agreed, and printable.
  p = Encode(Itemized{"*deleting  ", "x", "", 0});
  m = Decode(MsgType::kItemized, p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("report_changes"), std::string::npos);
  DecodeLimits l = AllLimits();
  l.itemized = true;
  m = Decode(MsgType::kItemized, Encode(Itemized{">f+++++++++", "a\x1b[2Jb", "", 0}), l);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("control"), std::string::npos);
  m = Decode(MsgType::kItemized, Encode(Itemized{">f++", "a", "", 0}), l);
  EXPECT_FALSE(m.ok()) << "an item string must be 11 characters";
}

}  // namespace
}  // namespace ferry::protocol

namespace ferry::protocol {
namespace {

TEST(CodecV1, ReuseMessagesNotNegotiatedAreRefused) {
  DecodeLimits l = AllLimits();
  l.reuse = false;
  for (const Message& m : {Message(ReuseProbe{0, {Hash128{}}}), Message(AppendProbe{0, 1, Hash128{}}),
                           Message(ProbeResult{}), Message(ReceiverReport{})}) {
    Result<Message> back = Decode(TypeOf(m), Encode(m), l);
    ASSERT_FALSE(back.ok()) << TypeName(static_cast<uint8_t>(TypeOf(m)));
    EXPECT_NE(back.status().message().find("not negotiated"), std::string::npos)
        << back.status().message();
  }
}

TEST(CodecV1, ReuseProbeCountIsBounded) {
  ReuseProbe p{0, std::vector<Hash128>(kReuseCandidatesMax + 1)};
  Result<Message> m = Decode(MsgType::kReuseProbe, Encode(p));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("count"), std::string::npos) << m.status().message();
  EXPECT_FALSE(Decode(MsgType::kReuseProbe, Encode(ReuseProbe{0, {}})).ok());
  EXPECT_FALSE(Decode(MsgType::kAppendProbe, Encode(AppendProbe{0, 0, Hash128{}})).ok());
  ProbeResult bad{0, ProbeOutcome::kReuse, 0, Hash128{}};
  auto bytes = Encode(bad);
  bytes[1] = std::byte{3};  // outcome
  EXPECT_FALSE(Decode(MsgType::kProbeResult, bytes).ok());
}

}  // namespace
}  // namespace ferry::protocol

namespace ferry::protocol {
namespace {

TEST(CodecV1, FileEntriesAreSmallerThanSeparateEntries) {
  FileEntries batch;
  size_t separate = 0;
  for (int i = 0; i < 100; ++i) {
    FileEntry e{.path = "wp-content/plugins/akismet/views/file" + std::to_string(i) + ".php",
                .kind = FileKind::kRegular, .perms = 0644, .uid = 33, .gid = 33};
    e.size = 1000 + i;
    e.mtime_sec = 1700000000 + i;
    separate += Encode(e).size() + 6;  // and a frame header each
    batch.entries.push_back(e);
  }
  EXPECT_LT(Encode(batch).size() * 3, separate);
}

TEST(CodecV1, FileEntriesAreCheckedLikeFileEntry) {
  FileEntries b;
  b.entries.push_back(FileEntry{.path = "a/b", .kind = FileKind::kRegular});
  b.entries.push_back(FileEntry{.path = "a/..", .kind = FileKind::kRegular});
  Result<Message> m = Decode(MsgType::kFileEntries, Encode(b));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("a/.."), std::string::npos) << m.status().message();
  // Not negotiated, empty, or a shared prefix longer than the previous path.
  DecodeLimits l = AllLimits();
  l.entry_batches = false;
  EXPECT_FALSE(Decode(MsgType::kFileEntries, Encode(FileEntries{{FileEntry{.path = "x"}}}), l).ok());
  EXPECT_FALSE(Decode(MsgType::kFileEntries, Encode(FileEntries{})).ok());
  auto bytes = Encode(FileEntries{{FileEntry{.path = "x"}}});
  // count, flags (2 bytes: perms, uid, gid and mtime are the zero entry's),
  // then shared: 5 bytes of an empty path.
  ASSERT_EQ(bytes[3], std::byte{0});
  bytes[3] = std::byte{5};
  m = Decode(MsgType::kFileEntries, bytes);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("shared path prefix"), std::string::npos)
      << m.status().message();
}

// A peer without capability 7 never gets PlannedTotals through; with it, a
// count no list can hold is refused, naming the field.
TEST(CodecV1, PlannedTotalsNeedTheCapabilityAndAListSizedCount) {
  DecodeLimits l = AllLimits();
  l.planned = false;
  Result<Message> off = Decode(MsgType::kPlannedTotals, Encode(PlannedTotals{1, 2}), l);
  ASSERT_FALSE(off.ok());
  EXPECT_NE(off.status().message().find("PlannedTotals was not negotiated"), std::string::npos)
      << off.status().message();
  const uint64_t most = uint64_t{kFileIndexMax} + 1;
  EXPECT_TRUE(Decode(MsgType::kPlannedTotals, Encode(PlannedTotals{most, 0})).ok());
  Result<Message> big = Decode(MsgType::kPlannedTotals, Encode(PlannedTotals{most + 1, 0}));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("files 4294967296 exceeds 4294967295"),
            std::string::npos)
      << big.status().message();
}

}  // namespace
}  // namespace ferry::protocol
