// The weak rolling checksum of the delta engine.
//
// Definition (the contract: signatures on the wire depend on it). For a window
// of bytes c[0..n-1]:
//
//   Weak(c) = sum_{i=0}^{n-1} (c[i] + kWeakOffset) * kWeakMultiplier^(n-1-i)
//             (mod 2^32)
//
// i.e. a Rabin-Karp polynomial hash evaluated by Horner's rule. Adding
// kWeakOffset makes runs of zero bytes hash to something length-dependent
// instead of 0. The multiplication carries mix every input bit into the high
// bits, so the high bits are well distributed even for text; index tables with
// the HIGH bits (see WeakIndex), never with the low ones (bit 0 is only the
// parity of the bytes' low bits).
//
// Rolling by one byte costs one multiply and two adds with a 256-entry table:
//   Weak(c[1..n]) = Weak(c[0..n-1]) * M + c[n] + K - (c[0] + K) * M^n.
//
// Thread safety: WeakRoller is a small value; distinct objects may be used
// from distinct threads. WeakSum is pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ferry::delta {

inline constexpr uint32_t kWeakMultiplier = 0x5BD1E995u;  // odd
inline constexpr uint32_t kWeakOffset = 0x5Fu;

// Weak checksum of a whole window (non-rolling). O(n). Windows of 64 bytes
// and more run on 64 independent lanes (Horner's rule with step M^64 per
// lane, combined at the end): AVX2 where the CPU has it (chosen at run
// time), portable scalar lanes otherwise; windows of 256 bytes and more on
// 256 lanes where the CPU has AVX-512; shorter windows and the tail run
// 8 bytes per serial step.
uint32_t WeakSum(std::span<const std::byte> window);

// WeakSum without the AVX2 path (the same value; for tests and benchmarks
// of the portable route, which CPUs without AVX2 take).
uint32_t WeakSumPortable(std::span<const std::byte> window);

// kWeakMultiplier^e mod 2^32.
uint32_t WeakPower(uint64_t e);

// Maps a weak sum to a `bits`-bit table index: its top bits, the ones every
// input bit reaches through the carries (no extra mixing multiply: this runs
// once per byte in the scan). 1 <= bits <= 32.
inline uint32_t WeakIndex(uint32_t weak, unsigned bits) {
  return weak >> (32 - bits);
}

// Rolls a fixed-size window over a buffer.
//
// Usage: WeakSum() of the first window, then Roll(sum, out, in) once per step,
// where `out` is the byte leaving at the front and `in` the byte entering at
// the end.
class WeakRoller {
 public:
  // window_size > 0.
  explicit WeakRoller(uint32_t window_size);

  uint32_t window_size() const { return window_size_; }

  // Returns the new sum after sliding `sum` one byte forward.
  uint32_t Roll(uint32_t sum, std::byte out, std::byte in) const {
    return sum * kWeakMultiplier + Term(out, in);
  }
  // The additive part of Roll: Roll(s, out, in) == s * M + Term(out, in).
  // Lets a scan compute several positions ahead without a serial chain.
  uint32_t Term(std::byte out, std::byte in) const {
    return static_cast<uint32_t>(in) + out_term_[static_cast<uint8_t>(out)];
  }

 private:
  uint32_t window_size_;
  // out_term_[c] = K - (c + K) * M^n: the leaving byte's contribution, plus
  // the constant K of the entering byte.
  std::array<uint32_t, 256> out_term_;
};

}  // namespace ferry::delta
