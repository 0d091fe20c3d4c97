// Test helpers for the delta engine: deterministic random data, random
// mutations (edits, inserts, deletes, block moves) and a full round trip
// sig -> delta -> patch that checks the result.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/base/hash.h"
#include "engine/delta/matcher.h"
#include "engine/delta/patch.h"
#include "engine/delta/signature.h"

namespace ferry::delta::testing {

using Bytes = std::vector<std::byte>;

inline Bytes RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    for (int k = 0; k < 8; ++k) out[i + k] = static_cast<std::byte>(v >> (8 * k));
  }
  for (; i < n; ++i) out[i] = static_cast<std::byte>(rng());
  return out;
}

inline Bytes FromString(const std::string& s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return Bytes(p, p + s.size());
}

// Applies `edits` random mutations of up to `max_len` bytes each: overwrite,
// insert, delete, move a range elsewhere, or duplicate a range.
inline Bytes Mutate(const Bytes& in, std::mt19937_64& rng, int edits,
                    size_t max_len) {
  Bytes b = in;
  for (int e = 0; e < edits; ++e) {
    const size_t len = 1 + rng() % max_len;
    const size_t pos = b.empty() ? 0 : rng() % (b.size() + 1);
    switch (rng() % 5) {
      case 0: {  // overwrite
        for (size_t i = pos; i < std::min(b.size(), pos + len); ++i) {
          b[i] = static_cast<std::byte>(rng());
        }
        break;
      }
      case 1: {  // insert random bytes
        Bytes ins = RandomBytes(len, rng());
        b.insert(b.begin() + pos, ins.begin(), ins.end());
        break;
      }
      case 2: {  // delete
        b.erase(b.begin() + pos, b.begin() + std::min(b.size(), pos + len));
        break;
      }
      case 3: {  // move a range to another place
        const size_t n = std::min(len, b.size() - pos);
        Bytes cut(b.begin() + pos, b.begin() + pos + n);
        b.erase(b.begin() + pos, b.begin() + pos + n);
        const size_t to = b.empty() ? 0 : rng() % (b.size() + 1);
        b.insert(b.begin() + to, cut.begin(), cut.end());
        break;
      }
      default: {  // duplicate a range
        const size_t n = std::min(len, b.size() - pos);
        Bytes dup(b.begin() + pos, b.begin() + pos + n);
        const size_t to = rng() % (b.size() + 1);
        b.insert(b.begin() + to, dup.begin(), dup.end());
        break;
      }
    }
  }
  return b;
}

// Applies `delta` to `old_data`; returns the output and checks the hash.
inline Bytes Patch(const Bytes& old_data, const Delta& delta) {
  Bytes out;
  out.reserve(delta.new_size);
  Hash128 h;
  Status s = ApplyDelta(
      old_data, delta,
      [&](std::span<const std::byte> chunk) {
        out.insert(out.end(), chunk.begin(), chunk.end());
        return Status::Ok();
      },
      &h);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(h, HashBytes(out));
  return out;
}

// sig(old) -> delta(new) -> patch must give back `new_data` exactly.
inline Delta RoundTrip(const Bytes& old_data, const Bytes& new_data,
                       SignatureParams params, MatcherOptions options) {
  auto sig = ComputeSignature(old_data, params, options.threads);
  EXPECT_TRUE(sig.ok()) << sig.status().ToString();
  if (!sig.ok()) return {};
  auto delta = ComputeDelta(*sig, new_data, options);
  EXPECT_TRUE(delta.ok()) << delta.status().ToString();
  if (!delta.ok()) return {};
  EXPECT_TRUE(delta->Validate().ok()) << delta->Validate().ToString();
  EXPECT_EQ(delta->stats.literal_bytes + delta->stats.matched_bytes,
            new_data.size());
  // Compare while patching instead of materializing a second copy.
  size_t pos = 0;
  bool same = true;
  Hash128 h;
  Status s = ApplyDelta(
      old_data, *delta,
      [&](std::span<const std::byte> chunk) {
        same = same && chunk.size() <= new_data.size() - pos &&
               std::equal(chunk.begin(), chunk.end(), new_data.begin() + pos);
        pos += chunk.size();
        return Status::Ok();
      },
      &h);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(h, HashBytes(new_data));
  EXPECT_TRUE(same && pos == new_data.size())
      << "patch(old, delta(sig(old), new)) != new; old " << old_data.size()
      << " new " << new_data.size() << " block " << params.block_size
      << " threads " << options.threads << " segments " << options.segments;
  return *std::move(delta);
}

}  // namespace ferry::delta::testing
