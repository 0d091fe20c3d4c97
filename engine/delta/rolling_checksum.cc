#include "engine/delta/rolling_checksum.h"

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

}  // namespace

uint32_t WeakPower(uint64_t e) { return Pow(kM, e); }

uint32_t WeakSum(std::span<const std::byte> window) {
  const auto* p = reinterpret_cast<const uint8_t*>(window.data());
  size_t n = window.size();
  uint32_t h = 0;
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

WeakRoller::WeakRoller(uint32_t window_size) : window_size_(window_size) {
  const uint32_t mn = WeakPower(window_size);
  for (uint32_t c = 0; c < 256; ++c) out_term_[c] = kK - (c + kK) * mn;
}

}  // namespace ferry::delta
