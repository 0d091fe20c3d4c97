#include "engine/base/hash.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(HashTest, StreamingEqualsOneShotAndDiffersOnOneByte) {
  std::string a(100000, 'x');
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<char>(i * 31 + 7);
  Hasher h;
  h.Update(Bytes(a).first(12345));
  h.Update(Bytes(a).subspan(12345));
  EXPECT_EQ(h.Finish(), HashBytes(Bytes(a)));
  std::string b = a;
  b[50000] ^= 1;
  EXPECT_NE(HashBytes(Bytes(a)), HashBytes(Bytes(b)));
  EXPECT_EQ(HashBytes(Bytes(a)).Hex().size(), 32u);
}

}  // namespace
}  // namespace ferry
