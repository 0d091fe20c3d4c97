// The verify messages (VerifyOpen, VerifyListing, VerifyHashes) through the
// v1 codec: round trips, and what a hostile verify side cannot send - paths
// that leave the root, names with '/', counts beyond the payload, a root
// message with more than the root in it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/codec_v1.h"
#include "protocol/wire_format.h"

namespace ferry::protocol {
namespace {

DecodeLimits AllLimits() { return DecodeLimits{true, true, true, false, false}; }

std::vector<std::byte> Encode(const Message& m) {
  std::vector<std::byte> p;
  EXPECT_TRUE(CodecV1(AllLimits()).Encode(m, &p).ok());
  return p;
}

Result<Message> Decode(const Message& m) {
  return CodecV1(AllLimits()).Decode(static_cast<uint8_t>(TypeOf(m)), Encode(m));
}

std::string Refusal(const Message& m) {
  Result<Message> r = Decode(m);
  return r.ok() ? "accepted" : r.status().message();
}

VerifyItem Item(std::string name, FileKind kind = FileKind::kRegular) {
  VerifyItem it;
  it.entry.path = std::move(name);
  it.entry.kind = kind;
  it.entry.perms = 0644;
  it.entry.uid = 1000;
  it.entry.gid = 100;
  it.entry.size = kind == FileKind::kRegular ? 12345 : 0;
  it.entry.mtime_sec = 1700000000;
  it.entry.mtime_nsec = 999999999;
  it.dev = 0x803;
  it.ino = uint64_t{1} << 40;
  it.nlink = 3;
  return it;
}

TEST(VerifyMessages, RoundTrip) {
  for (const Message& m : std::vector<Message>{
           VerifyOpen{},
           VerifyOpen{true, "", false},
           VerifyOpen{false, "www", true},
           VerifyListing{"", true, {}},
           VerifyListing{"", true, {Item(".", FileKind::kDirectory)}},
           VerifyListing{"home/alice", false, {Item("a"), Item("b", FileKind::kFifo)}},
           VerifyHashes{".", {{"a", Hash128{1, 2}}, {"b", Hash128{~0ull, 0}}}},
           VerifyHashes{"", {{".", Hash128{3, 4}}}},
       }) {
    Result<Message> back = Decode(m);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, m);
  }
  VerifyItem link = Item("l", FileKind::kSymlink);
  link.entry.symlink_target = "../target";
  link.entry.xattrs = {{"user.tag", "v"}, {"system.posix_acl_access", std::string(28, '\2')}};
  Result<Message> back = Decode(VerifyListing{".", true, {link}});
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(std::get<VerifyListing>(*back).items.at(0), link);
}

TEST(VerifyMessages, PathsCannotLeaveTheRoot) {
  for (const char* dir : {"/etc", "../x", "a/../../b", "a//b", "a/"}) {
    EXPECT_NE(Refusal(VerifyListing{dir, true, {}}), "accepted") << dir;
    EXPECT_NE(Refusal(VerifyHashes{dir, {}}), "accepted") << dir;
  }
  for (const char* name : {"a/b", "..", ".", ""}) {
    EXPECT_NE(Refusal(VerifyListing{".", true, {Item(name)}}), "accepted") << name;
    EXPECT_NE(Refusal(VerifyHashes{"d", {{name, {}}}}), "accepted") << name;
  }
  EXPECT_NE(Refusal(VerifyOpen{false, "a/b", false}).find("not a single path component"),
            std::string::npos);
  EXPECT_NE(Refusal(VerifyOpen{false, "..", false}), "accepted");
}

TEST(VerifyMessages, RootMessageHoldsOnlyTheRoot) {
  EXPECT_NE(Refusal(VerifyListing{"", true, {Item("x")}}).find("root entry 'x'"),
            std::string::npos)
      << Refusal(VerifyListing{"", true, {Item("x")}});
  EXPECT_NE(Refusal(VerifyListing{"", true, {Item("."), Item(".")}}).find("count 2"),
            std::string::npos);
  EXPECT_NE(Refusal(VerifyHashes{"", {{"x", {}}}}), "accepted");
}

TEST(VerifyMessages, CountsAreBoundedByThePayload) {
  std::vector<std::byte> p;
  Writer w(&p);
  w.String("d");
  w.U8(1);
  w.Varint(uint64_t{1} << 40);  // items that cannot be there
  Result<Message> m = CodecV1(AllLimits()).Decode(static_cast<uint8_t>(MsgType::kVerifyListing), p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("VerifyListing: count 1099511627776"), std::string::npos)
      << m.status().message();
  p.clear();
  w.String("d");
  w.Varint(1000);
  w.String("a");
  m = CodecV1(AllLimits()).Decode(static_cast<uint8_t>(MsgType::kVerifyHashes), p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("VerifyHashes: count 1000"), std::string::npos)
      << m.status().message();
}

TEST(VerifyMessages, FieldsVerifyDoesNotUseAreRefused) {
  VerifyItem led = Item("a");
  led.entry.link_leader = 0;
  EXPECT_NE(Refusal(VerifyListing{".", true, {led}}).find("link_leader"), std::string::npos);
  std::vector<std::byte> p;
  Writer w(&p);
  w.Varint(4);  // an unknown VerifyOpen flag
  w.String("");
  Result<Message> m = CodecV1(AllLimits()).Decode(static_cast<uint8_t>(MsgType::kVerifyOpen), p);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("flags 4 exceeds 3"), std::string::npos)
      << m.status().message();
  // xattrs need -X/-A agreed, as in a FileEntry.
  VerifyItem x = Item("a");
  x.entry.xattrs = {{"user.tag", "v"}};
  std::vector<std::byte> enc = Encode(VerifyListing{".", true, {x}});
  EXPECT_FALSE(CodecV1(DecodeLimits{}).Decode(static_cast<uint8_t>(MsgType::kVerifyListing), enc).ok());
}

}  // namespace
}  // namespace ferry::protocol
