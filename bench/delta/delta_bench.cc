// Delta engine kernels beside librsync on the same buffers (bench/RESULTS.md):
// signature, delta on the workloads of workloads.h, the no-match rolling scan,
// patch, and the block-size rule's transfer cost.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "bench/delta/librsync_runner.h"
#include "bench/delta/workloads.h"
#include "engine/delta/block_size.h"
#include "engine/delta/delta_codec.h"
#include "engine/delta/matcher.h"
#include "engine/delta/patch.h"
#include "engine/delta/signature.h"
#include "engine/delta/signature_codec.h"

namespace ferry::delta::bench {
namespace {

// The fastest repetition: on a shared machine the least disturbed one.
double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

enum WorkloadId { kIdentical = 0, kPages = 1, kText = 2, kNoMatch = 3 };

struct Prepared {
  Workload w;
  SignatureParams params;
  Signature sig;
  rs_signature_t* rs_sig = nullptr;  // leaked at exit on purpose
};

const Prepared& Get(int id, size_t size = kWorkloadSize) {
  static std::mutex mu;
  static std::map<std::pair<int, size_t>, std::unique_ptr<Prepared>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[{id, size}];
  if (!slot) {
    slot = std::make_unique<Prepared>();
    switch (id) {
      case kIdentical: slot->w = MakeIdentical(size); break;
      case kPages: slot->w = MakePages(size); break;
      case kText: slot->w = MakeText(size); break;
      default: slot->w = MakeNoMatch(size); break;
    }
    slot->params = DefaultSignatureParams(slot->w.old_data.size());
    slot->sig = *ComputeSignature(slot->w.old_data, slot->params, 1);
    slot->rs_sig = LibrsyncLoadSignature(LibrsyncSignature(
        slot->w.old_data, slot->params.block_size, slot->params.strong_len));
  }
  return *slot;
}

void BM_Signature_Ferry(benchmark::State& state) {
  const Prepared& p = Get(kNoMatch);
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto sig = ComputeSignature(p.w.old_data, p.params, threads);
    benchmark::DoNotOptimize(sig);
  }
  state.SetBytesProcessed(state.iterations() * p.w.old_data.size());
  state.counters["block"] = p.params.block_size;
}
// Process CPU time: with 2 threads it shows whether both did work even when
// the shared machine gave the second one no idle core.
BENCHMARK(BM_Signature_Ferry)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->ComputeStatistics("min", Min);

void BM_Signature_Librsync(benchmark::State& state) {
  const Prepared& p = Get(kNoMatch);
  for (auto _ : state) {
    auto sig = LibrsyncSignature(p.w.old_data, p.params.block_size, p.params.strong_len);
    benchmark::DoNotOptimize(sig);
  }
  state.SetBytesProcessed(state.iterations() * p.w.old_data.size());
}
BENCHMARK(BM_Signature_Librsync)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->ComputeStatistics("min", Min);

// Args: workload, threads. Times ComputeDelta including its index build.
void BM_Delta_Ferry(benchmark::State& state) {
  const Prepared& p = Get(static_cast<int>(state.range(0)));
  const int threads = static_cast<int>(state.range(1));
  // Output buffers are reused across iterations for both engines, so the
  // timing measures matching rather than page faults on fresh memory.
  Delta delta;
  for (auto _ : state) {
    Status s = ComputeDeltaInto(p.sig, p.w.new_data, MatcherOptions{threads, 0}, &delta);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetLabel(p.w.name);
  state.SetBytesProcessed(state.iterations() * p.w.new_data.size());
  state.counters["literal_bytes"] = static_cast<double>(delta.stats.literal_bytes);
  state.counters["false_weak"] = static_cast<double>(delta.stats.false_weak_matches);
  state.counters["wire_bytes"] = static_cast<double>(EncodeDelta(delta, 3)->size());
}
BENCHMARK(BM_Delta_Ferry)
    ->ArgsProduct({{kIdentical, kPages, kText, kNoMatch}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->ComputeStatistics("min", Min);

// Args: workload. The signature is loaded and hashed outside the timing
// (which favours librsync: ferry's timing includes building its index).
void BM_Delta_Librsync(benchmark::State& state) {
  const Prepared& p = Get(static_cast<int>(state.range(0)));
  size_t out = 0;
  std::vector<char> buffer;
  for (auto _ : state) {
    out = LibrsyncDelta(p.rs_sig, p.w.new_data, &buffer);
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetLabel(p.w.name);
  state.SetBytesProcessed(state.iterations() * p.w.new_data.size());
  state.counters["delta_bytes"] = static_cast<double>(out);
}
BENCHMARK(BM_Delta_Librsync)
    ->Arg(kIdentical)->Arg(kPages)->Arg(kText)->Arg(kNoMatch)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->ComputeStatistics("min", Min);

void BM_Patch_Ferry(benchmark::State& state) {
  const Prepared& p = Get(static_cast<int>(state.range(0)));
  const Delta delta = *ComputeDelta(p.sig, p.w.new_data, 1);
  for (auto _ : state) {
    Hash128 h;
    Status s = ApplyDelta(p.w.old_data, delta,
                          [](std::span<const std::byte>) { return Status::Ok(); }, &h);
    benchmark::DoNotOptimize(h);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetLabel(p.w.name);
  state.SetBytesProcessed(state.iterations() * p.w.new_data.size());
}
BENCHMARK(BM_Patch_Ferry)
    ->Arg(kPages)
    ->Arg(kText)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("min", Min);

// Transfer cost of block-size rules: encoded signature + encoded delta bytes,
// and the time of signature + delta. Args: workload, size in MiB, rule:
// 0 ChooseBlockSize, 1 rsync's rule, 2 ChooseBlockSize / 2,
// 3 ChooseBlockSize * 2, 4 fixed 2048 (librsync's default).
void BM_BlockRule(benchmark::State& state) {
  const Prepared& p = Get(static_cast<int>(state.range(0)),
                          static_cast<size_t>(state.range(1)) << 20);
  const uint64_t size = p.w.old_data.size();
  const uint32_t ours = ChooseBlockSize(size);
  const uint32_t rules[] = {ours, RsyncBlockSize(size), ours / 2, ours * 2, 2048};
  const uint32_t block = rules[state.range(2)];
  const SignatureParams params{block, p.params.strong_len};
  size_t sig_bytes = 0, delta_bytes = 0, literal = 0;
  for (auto _ : state) {
    Signature sig = *ComputeSignature(p.w.old_data, params, 1);
    Delta delta = *ComputeDelta(sig, p.w.new_data, 1);
    state.PauseTiming();
    sig_bytes = EncodeSignature(sig)->size();
    delta_bytes = EncodeDelta(delta, 3)->size();
    literal = delta.stats.literal_bytes;
    state.ResumeTiming();
  }
  state.SetLabel(p.w.name);
  state.counters["block"] = block;
  state.counters["sig_bytes"] = static_cast<double>(sig_bytes);
  state.counters["delta_bytes"] = static_cast<double>(delta_bytes);
  state.counters["total_bytes"] = static_cast<double>(sig_bytes + delta_bytes);
  state.counters["literal_bytes"] = static_cast<double>(literal);
}
BENCHMARK(BM_BlockRule)
    ->ArgsProduct({{kPages, kText}, {64, 100}, {0, 1, 2, 3, 4}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ferry::delta::bench

BENCHMARK_MAIN();
