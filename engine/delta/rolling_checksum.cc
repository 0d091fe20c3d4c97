#include "engine/delta/rolling_checksum.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ferry::delta {

namespace {

constexpr uint32_t Pow(uint32_t base, uint64_t e) {
  uint32_t r = 1;
  while (e != 0) {
    if (e & 1) r *= base;
    base *= base;
    e >>= 1;
  }
  return r;
}

constexpr uint32_t kM = kWeakMultiplier;
constexpr uint32_t kK = kWeakOffset;
// Powers for one 8-byte step of Horner's rule: byte j of the group is weighted
// by M^(7-j); the group's offsets all add up to K * (M^7 + ... + M^0).
constexpr uint32_t kP[8] = {Pow(kM, 7), Pow(kM, 6), Pow(kM, 5), Pow(kM, 4),
                            Pow(kM, 3), Pow(kM, 2), Pow(kM, 1), 1};
constexpr uint32_t kM8 = Pow(kM, 8);
constexpr uint32_t kGroupOffset =
    kK * (kP[0] + kP[1] + kP[2] + kP[3] + kP[4] + kP[5] + kP[6] + kP[7]);

// Lanes: byte j of every L-byte chunk goes to lane j, and each lane runs
// Horner's rule with the step M^L: lane[j] = lane[j] * M^L + (c + K). The
// lanes are independent chains, so a core (or a vector unit) advances many
// at once; at the end, h = sum_j lane[j] * M^(L-1-j) is the Horner value of
// the chunks, exactly as if one chain had read them byte by byte.
// Lane j's final weight for L lanes: M^(L-1-j).
template <size_t L>
constexpr std::array<uint32_t, L> LanePowers() {
  std::array<uint32_t, L> a{};
  for (size_t j = 0; j < L; ++j) a[j] = Pow(kM, L - 1 - j);
  return a;
}
constexpr size_t kLanes = 64;
constexpr uint32_t kMLanes = Pow(kM, kLanes);
constexpr std::array<uint32_t, kLanes> kLanePow = LanePowers<kLanes>();

// Continues Horner's rule from h over p[0..n): 8-byte groups, then bytes.
uint32_t HornerTail(uint32_t h, const uint8_t* p, size_t n) {
  // The serial dependency is one multiply-add per 8 bytes; the eight products
  // inside a group are independent, so they overlap in the pipeline.
  while (n >= 8) {
    uint32_t s = kGroupOffset;
    for (int j = 0; j < 8; ++j) s += p[j] * kP[j];
    h = h * kM8 + s;
    p += 8;
    n -= 8;
  }
  for (; n != 0; --n) h = h * kM + (*p++ + kK);
  return h;
}

// Portable lanes: 64 independent scalar chains (the compiler keeps them in
// registers or vectorises them as the target allows).
uint32_t WeakSumLanes(const uint8_t* p, size_t n) {
  const size_t chunks = n / kLanes;
  uint32_t lane[kLanes] = {};
  for (size_t c = 0; c < chunks; ++c, p += kLanes)
    for (size_t j = 0; j < kLanes; ++j) lane[j] = lane[j] * kMLanes + (p[j] + kK);
  uint32_t h = 0;
  for (size_t j = 0; j < kLanes; ++j) h += lane[j] * kLanePow[j];
  return HornerTail(h, p, n % kLanes);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FERRY_WEAK_AVX2 1
// The same lanes as eight 8-lane AVX2 vectors: per 64 bytes, eight
// multiplies on independent chains (about 5 bytes per cycle).
__attribute__((target("avx2"))) uint32_t WeakSumAvx2(const uint8_t* p, size_t n) {
  const size_t chunks = n / kLanes;
  const __m256i step = _mm256_set1_epi32(static_cast<int>(kMLanes));
  const __m256i k = _mm256_set1_epi32(static_cast<int>(kK));
  __m256i acc[8];
  for (__m256i& a : acc) a = _mm256_setzero_si256();
  for (size_t c = 0; c < chunks; ++c, p += kLanes) {
    for (int v = 0; v < 8; ++v) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 8 * v));
      const __m256i x = _mm256_add_epi32(_mm256_cvtepu8_epi32(bytes), k);
      acc[v] = _mm256_add_epi32(_mm256_mullo_epi32(acc[v], step), x);
    }
  }
  __m256i sum = _mm256_setzero_si256();
  for (int v = 0; v < 8; ++v) {
    const __m256i pw =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanePow.data() + 8 * v));
    sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(acc[v], pw));
  }
  alignas(32) uint32_t parts[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(parts), sum);
  uint32_t h = 0;
  for (uint32_t x : parts) h += x;
  return HornerTail(h, p, n % kLanes);
}

// 256 lanes in sixteen 16-lane AVX-512 vectors: per 256 bytes, sixteen
// independent multiply chains, enough to keep the multiplier busy through
// its latency (1.5x the AVX2 route's speed in the cache), with the data
// prefetched 2 KiB ahead (a signature or a scan reads the file once, from
// memory: 2.3x there). The last n % 256 bytes continue on the AVX2 route:
// H(a b) = H(a) * M^|b| + H(b).
constexpr size_t kWideLanes = 256;
constexpr uint32_t kMWide = Pow(kM, kWideLanes);
constexpr std::array<uint32_t, kWideLanes> kWidePow = LanePowers<kWideLanes>();

__attribute__((target("avx512f"))) uint32_t WeakSumAvx512(const uint8_t* p, size_t n) {
  const size_t chunks = n / kWideLanes;
  const __m512i step = _mm512_set1_epi32(static_cast<int>(kMWide));
  const __m512i k = _mm512_set1_epi32(static_cast<int>(kK));
  __m512i acc[16];
  for (__m512i& a : acc) a = _mm512_setzero_si512();
  for (size_t c = 0; c < chunks; ++c, p += kWideLanes) {
    // (The address may lie past the window: a hint, computed as an integer.)
    const uintptr_t ahead = reinterpret_cast<uintptr_t>(p) + 2048;
    for (uintptr_t line = 0; line < 4; ++line) {
      _mm_prefetch(reinterpret_cast<const char*>(ahead + 64 * line), _MM_HINT_T0);
    }
    for (int v = 0; v < 16; ++v) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * v));
      const __m512i x = _mm512_add_epi32(_mm512_maskz_cvtepu8_epi32(0xFFFF, bytes), k);
      acc[v] = _mm512_add_epi32(_mm512_mullo_epi32(acc[v], step), x);
    }
  }
  __m512i sum = _mm512_setzero_si512();
  for (int v = 0; v < 16; ++v) {
    sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(acc[v], _mm512_loadu_si512(kWidePow.data() + 16 * v)));
  }
  alignas(64) uint32_t parts[16];
  _mm512_store_si512(parts, sum);
  uint32_t h = 0;
  for (uint32_t x : parts) h += x;
  const size_t rest = n % kWideLanes;
  if (rest == 0) return h;
  return h * Pow(kM, rest) + WeakSumAvx2(p, rest);  // (which takes any length)
}
#endif

}  // namespace

uint32_t WeakPower(uint64_t e) { return Pow(kM, e); }

uint32_t WeakSum(std::span<const std::byte> window) {
  const auto* p = reinterpret_cast<const uint8_t*>(window.data());
  const size_t n = window.size();
  if (n < kLanes) return HornerTail(0, p, n);
#ifdef FERRY_WEAK_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  static const bool avx512 = avx2 && __builtin_cpu_supports("avx512f");
  if (avx512 && n >= kWideLanes) return WeakSumAvx512(p, n);
  if (avx2) return WeakSumAvx2(p, n);
#endif
  return WeakSumLanes(p, n);
}

uint32_t WeakSumPortable(std::span<const std::byte> window) {
  const auto* p = reinterpret_cast<const uint8_t*>(window.data());
  return window.size() < kLanes ? HornerTail(0, p, window.size())
                                : WeakSumLanes(p, window.size());
}

WeakRoller::WeakRoller(uint32_t window_size) : window_size_(window_size) {
  const uint32_t mn = WeakPower(window_size);
  for (uint32_t c = 0; c < 256; ++c) out_term_[c] = kK - (c + kK) * mn;
}

}  // namespace ferry::delta
