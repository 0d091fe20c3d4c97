// delta_workloads DIR [SIZE_MIB [rsync]]: writes DIR/<workload>/{old,new}
// for every benchmark workload and prints ferry's literal/matched bytes for
// each pair (1 thread and 2 threads), the numbers bench/delta/rsync_literal.sh
// compares with rsync's "Literal data". With "rsync", ferry uses rsync's
// block-size rule instead of its own, to compare the matchers alone.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench/delta/workloads.h"
#include "engine/delta/matcher.h"
#include "engine/delta/signature.h"

namespace {

bool Write(const std::filesystem::path& path, const ferry::delta::bench::Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: delta_workloads DIR [SIZE_MIB [rsync]]\n");
    return 1;
  }
  using namespace ferry::delta;
  const std::filesystem::path dir = argv[1];
  const size_t size = argc >= 3 ? std::stoull(argv[2]) << 20 : bench::kWorkloadSize;
  const bool rsync_rule = argc == 4 && std::string(argv[3]) == "rsync";
  for (int i = 0; i < 4; ++i) {
    bench::Workload w = i == 0   ? bench::MakeIdentical(size)
                        : i == 1 ? bench::MakePages(size)
                        : i == 2 ? bench::MakeText(size)
                                 : bench::MakeNoMatch(size);
    std::filesystem::create_directories(dir / w.name);
    if (!Write(dir / w.name / "old", w.old_data) ||
        !Write(dir / w.name / "new", w.new_data)) {
      std::fprintf(stderr, "delta_workloads: cannot write %s\n", (dir / w.name).c_str());
      return 1;
    }
    SignatureParams params = DefaultSignatureParams(w.old_data.size());
    if (rsync_rule) params.block_size = bench::RsyncBlockSize(w.old_data.size());
    auto sig = ComputeSignature(w.old_data, params, 1);
    if (!sig.ok()) return 1;
    for (int threads : {1, 2}) {
      auto d = ComputeDelta(*sig, w.new_data, threads);
      if (!d.ok()) return 1;
      std::printf("%s threads=%d block=%u new_bytes=%zu literal_bytes=%llu matched_bytes=%llu\n",
                  w.name.c_str(), threads, params.block_size, w.new_data.size(),
                  static_cast<unsigned long long>(d->stats.literal_bytes),
                  static_cast<unsigned long long>(d->stats.matched_bytes));
    }
  }
  return 0;
}
