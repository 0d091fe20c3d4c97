#include "engine/base/hash.h"

#include <gtest/gtest.h>

#include <xxhash.h>

#include <random>
#include <string>
#include <vector>

#include "engine/base/xxh3_impl.h"

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

// Hash128 as libxxhash computes it: the value every peer must agree on.
Hash128 Reference(const void* data, size_t len) {
  const XXH128_hash_t h = XXH3_128bits(data, len);
  return Hash128{h.low64, h.high64};
}

// The AVX2 build of XXH3 (where the CPU has it) and whatever HashBytes and
// Hasher chose agree with the library for every length class XXH3 treats
// differently (0, 1-3, 4-8, 9-16, 17-128, 129-240, longer, past a stripe
// and a block) and for streaming in uneven pieces.
TEST(HashTest, EveryImplementationAgreesWithLibxxhash) {
  std::vector<const FerryXxh3Impl*> impls = {&hash_internal::LibraryXxh3(),
                                             &hash_internal::ChosenXxh3()};
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) impls.push_back(FerryXxh3Avx2());
#endif
  std::mt19937_64 rng(5);
  std::vector<unsigned char> data(3 << 20);
  for (auto& b : data) b = static_cast<unsigned char>(rng());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (size_t n : {1023u, 1024u, 1025u, 4096u, 65537u, 1u << 20, 3u << 20}) lengths.push_back(n);
  for (const FerryXxh3Impl* impl : impls) {
    for (size_t n : lengths) {
      const Hash128 want = Reference(data.data(), n);
      Hash128 one;
      impl->hash(data.data(), n, &one.lo, &one.hi);
      EXPECT_EQ(one, want) << "length " << n;
      void* st = impl->create();
      impl->reset(st);
      size_t at = 0;
      while (at < n) {
        const size_t take = std::min<size_t>(n - at, 1 + rng() % 70000);
        impl->update(st, data.data() + at, take);
        at += take;
      }
      Hash128 streamed;
      impl->digest(st, &streamed.lo, &streamed.hi);
      impl->destroy(st);
      EXPECT_EQ(streamed, want) << "streamed, length " << n;
      if (HasFailure()) return;
    }
  }
  Hasher h;
  h.Update(std::as_bytes(std::span(data)));
  EXPECT_EQ(h.Finish(), Reference(data.data(), data.size()));
}

}  // namespace
}  // namespace ferry
