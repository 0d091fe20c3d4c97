#include "engine/transfer/rename_index.h"

#include <gtest/gtest.h>

namespace ferry::transfer {
namespace {

RenameHint Hint(uint64_t size, int64_t sec, uint32_t nsec, std::string_view base = {}) {
  RenameHint h;
  h.size = size;
  h.mtime_sec = sec;
  h.mtime_nsec = nsec;
  h.mail_base = base;
  return h;
}

TEST(RenameIndexTest, KeepsOnlyCandidatesMatchingSomeTarget) {
  RenameIndex idx;
  uint32_t t = idx.AddTarget(Hint(100, 5, 1));
  EXPECT_TRUE(idx.AddCandidate(7, Hint(100, 5, 1)));
  EXPECT_FALSE(idx.AddCandidate(8, Hint(100, 5, 2)));   // other nanoseconds
  EXPECT_FALSE(idx.AddCandidate(9, Hint(101, 5, 1)));   // other size
  EXPECT_EQ(idx.CandidatesFor(t, 8), (std::vector<uint32_t>{7}));
}

TEST(RenameIndexTest, MaildirBaseNameComesFirstAndMayDifferInMtime) {
  RenameIndex idx;
  uint32_t t = idx.AddTarget(Hint(50, 10, 0, "123.M1.host"));
  EXPECT_TRUE(idx.AddCandidate(1, Hint(50, 10, 0)));                 // time only
  EXPECT_TRUE(idx.AddCandidate(2, Hint(50, 99, 0, "123.M1.host")));  // base, other mtime
  EXPECT_TRUE(idx.AddCandidate(3, Hint(50, 10, 0, "123.M1.host")));  // base and time
  EXPECT_FALSE(idx.AddCandidate(4, Hint(51, 10, 0, "123.M1.host")));  // base, other size
  EXPECT_EQ(idx.CandidatesFor(t, 8), (std::vector<uint32_t>{3, 2, 1}));
  EXPECT_EQ(idx.CandidatesFor(t, 2), (std::vector<uint32_t>{3, 2}));
}

TEST(RenameIndexTest, AssignUsesACandidateOnceAndOnlyWithEqualHashes) {
  Hash128 a{1, 2}, b{3, 4};
  // Targets 0 and 1 both have content a; only candidate 0 holds a.
  std::vector<std::vector<uint32_t>> cands = {{0, 1}, {0}, {1}, {1}};
  std::vector<std::optional<Hash128>> th = {a, a, b, std::nullopt};
  std::vector<std::optional<Hash128>> ch = {a, b};
  auto m = AssignRenames(cands, th, ch);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].target, 0u);
  EXPECT_EQ(m[0].candidate, 0u);
  EXPECT_EQ(m[1].target, 2u);  // target 1 found its only candidate taken
  EXPECT_EQ(m[1].candidate, 1u);
}

TEST(RenameIndexTest, UnreadableCandidateMatchesNothing) {
  std::vector<std::vector<uint32_t>> cands = {{0}};
  EXPECT_TRUE(AssignRenames(cands, {Hash128{1, 1}}, {std::nullopt}).empty());
}

}  // namespace
}  // namespace ferry::transfer
