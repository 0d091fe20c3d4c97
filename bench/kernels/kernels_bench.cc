// Kernels under every byte a sync considers, swept over sizes: the XXH3-128
// content hash (beside XXH64, xxhsum's default, in the same binary), the weak
// rolling checksum (a whole-window sum and the per-byte roll the matcher
// runs), and zstd compress/decompress on text-like data. The matcher and
// signature kernels beside librsync are in bench/delta/delta_bench.cc.
// Results: bench/results/kernels.md.
#include <benchmark/benchmark.h>
#include <xxhash.h>
#include <zstd.h>

#include <cstddef>
#include <span>
#include <vector>

#include "engine/base/hash.h"
#include "engine/delta/rolling_checksum.h"
#include "engine/probe/sample_data.h"

namespace ferry::bench {
namespace {

const std::vector<std::byte>& Data() {
  static const std::vector<std::byte> d = probe::TextLikeData(64 << 20);
  return d;
}

std::span<const std::byte> Prefix(int64_t n) {
  return std::span<const std::byte>(Data()).first(static_cast<size_t>(n));
}

void BM_Hash_XXH3_128(benchmark::State& state) {
  auto in = Prefix(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(HashBytes(in));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Hash_XXH3_128)->RangeMultiplier(16)->Range(64, 16 << 20);

void BM_Hash_XXH3_128_Streaming(benchmark::State& state) {
  // As a file is hashed: 256 KiB reads fed to a Hasher.
  auto in = Prefix(state.range(0));
  Hasher h;
  for (auto _ : state) {
    h.Reset();
    for (size_t off = 0; off < in.size(); off += 256 << 10)
      h.Update(in.subspan(off, std::min<size_t>(256 << 10, in.size() - off)));
    benchmark::DoNotOptimize(h.Finish());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Hash_XXH3_128_Streaming)->Arg(1 << 20)->Arg(16 << 20);

void BM_Hash_XXH64(benchmark::State& state) {
  auto in = Prefix(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(XXH64(in.data(), in.size(), 0));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Hash_XXH64)->RangeMultiplier(16)->Range(64, 16 << 20);

// A whole-window weak sum, as the signature computes per block.
void BM_WeakSum(benchmark::State& state) {
  auto in = Prefix(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(delta::WeakSum(in));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_WeakSum)->RangeMultiplier(4)->Range(512, 128 << 10);

// A signature's weak sums over a file read from memory rather than the
// cache: every block (arg bytes) of 256 MiB, as ComputeSignature does.
void BM_WeakSumBlocksFromMemory(benchmark::State& state) {
  const size_t block = static_cast<size_t>(state.range(0));
  static const std::vector<std::byte> big = [] {
    std::vector<std::byte> v(256u << 20);
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::byte(static_cast<uint8_t>((i * 2654435761u) >> 13));
    return v;
  }();
  for (auto _ : state) {
    uint32_t acc = 0;
    for (size_t o = 0; o + block <= big.size(); o += block) {
      acc += delta::WeakSum(std::span<const std::byte>(big).subspan(o, block));
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(big.size() / block * block));
}
BENCHMARK(BM_WeakSumBlocksFromMemory)->Arg(700)->Arg(8192)->Unit(benchmark::kMillisecond);

// The same sum on the route CPUs without AVX2 take (portable scalar lanes).
void BM_WeakSumPortable(benchmark::State& state) {
  auto in = Prefix(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(delta::WeakSumPortable(in));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_WeakSumPortable)->RangeMultiplier(4)->Range(512, 128 << 10);

// The per-byte roll of the matcher's scan over 1 MiB, window = arg.
void BM_WeakRoll(benchmark::State& state) {
  const auto window = static_cast<uint32_t>(state.range(0));
  auto in = Prefix(1 << 20);
  delta::WeakRoller roller(window);
  for (auto _ : state) {
    uint32_t sum = delta::WeakSum(in.first(window));
    for (size_t i = window; i < in.size(); ++i) sum = roller.Roll(sum, in[i - window], in[i]);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size() - window));
}
BENCHMARK(BM_WeakRoll)->Arg(700)->Arg(4096)->Arg(32768);

// Args: level, size. Bytes are input bytes; the ratio is a counter.
void BM_Zstd_Compress(benchmark::State& state) {
  const int level = static_cast<int>(state.range(0));
  auto in = Prefix(state.range(1));
  std::vector<char> out(ZSTD_compressBound(in.size()));
  ZSTD_CCtx* c = ZSTD_createCCtx();
  size_t n = 0;
  for (auto _ : state) {
    n = ZSTD_compressCCtx(c, out.data(), out.size(), in.data(), in.size(), level);
    if (ZSTD_isError(n)) state.SkipWithError(ZSTD_getErrorName(n));
  }
  ZSTD_freeCCtx(c);
  state.SetBytesProcessed(state.iterations() * state.range(1));
  state.counters["ratio"] = static_cast<double>(in.size()) / static_cast<double>(n ? n : 1);
}
BENCHMARK(BM_Zstd_Compress)
    ->ArgsProduct({{1, ZSTD_CLEVEL_DEFAULT, 9}, {64 << 10, 4 << 20}})
    ->Unit(benchmark::kMicrosecond);

// Args: level the data was compressed at, size. Bytes are output bytes.
void BM_Zstd_Decompress(benchmark::State& state) {
  const int level = static_cast<int>(state.range(0));
  auto in = Prefix(state.range(1));
  std::vector<char> z(ZSTD_compressBound(in.size()));
  size_t zn = ZSTD_compress(z.data(), z.size(), in.data(), in.size(), level);
  if (ZSTD_isError(zn)) {
    state.SkipWithError(ZSTD_getErrorName(zn));
    return;
  }
  std::vector<std::byte> back(in.size());
  ZSTD_DCtx* d = ZSTD_createDCtx();
  for (auto _ : state) {
    size_t m = ZSTD_decompressDCtx(d, back.data(), back.size(), z.data(), zn);
    if (ZSTD_isError(m) || m != in.size()) state.SkipWithError("round trip failed");
  }
  ZSTD_freeDCtx(d);
  state.SetBytesProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_Zstd_Decompress)
    ->ArgsProduct({{1, ZSTD_CLEVEL_DEFAULT, 9}, {64 << 10, 4 << 20}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ferry::bench

BENCHMARK_MAIN();
