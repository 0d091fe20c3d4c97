// Writes the seed corpus of the delta fuzz targets: valid encodings of typical deltas and signatures plus hand-made malformed ones (make_corpus DIR; the output is committed under fuzz/delta/corpus/).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "engine/delta/delta_codec.h"
#include "engine/delta/matcher.h"
#include "engine/delta/signature_codec.h"
#include "engine/delta/wire.h"

namespace {

using Bytes = std::vector<std::byte>;
namespace fs = std::filesystem;

Bytes Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::byte>(rng());
  return b;
}

void Put(const fs::path& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes Sealed(std::array<char, 4> magic, std::initializer_list<uint64_t> varints,
             size_t zeros) {
  Bytes p;
  for (uint64_t v : varints) ferry::delta::wire::PutVarint(p, v);
  p.resize(p.size() + zeros);
  return *ferry::delta::wire::Seal(magic, p, 1);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ferry::delta;
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 1;
  }
  const fs::path dp = fs::path(argv[1]) / "delta_patch_fuzz";
  const fs::path sp = fs::path(argv[1]) / "signature_decode_fuzz";
  fs::create_directories(dp);
  fs::create_directories(sp);

  Bytes old_data = Random(6000, 1);
  Bytes new_data = old_data;
  new_data.insert(new_data.begin() + 3000, std::byte{42});
  new_data.erase(new_data.begin() + 100, new_data.begin() + 150);
  Bytes tail(old_data.begin(), old_data.begin() + 200);
  new_data.insert(new_data.end(), tail.begin(), tail.end());
  const SignatureParams params{256, 8};
  const Signature sig = *ComputeSignature(old_data, params, 1);

  Put(dp / "empty", *EncodeDelta(Delta{}));
  Put(dp / "identical", *EncodeDelta(*ComputeDelta(sig, old_data, 1)));
  Put(dp / "edits", *EncodeDelta(*ComputeDelta(sig, new_data, 1)));
  Put(dp / "all_literal", *EncodeDelta(*ComputeDelta(sig, Random(700, 2), 1)));
  Bytes bad_magic = *EncodeDelta(*ComputeDelta(sig, new_data, 1));
  bad_magic[3] = std::byte{'2'};
  Put(dp / "bad_magic", bad_magic);
  Bytes truncated = *EncodeDelta(*ComputeDelta(sig, new_data, 1));
  truncated.resize(truncated.size() / 2);
  Put(dp / "truncated", truncated);
  Put(dp / "huge_op_count", Sealed({'F', 'D', 'L', '1'}, {10, 10, uint64_t{1} << 60, 0}, 0));
  Put(dp / "copy_out_of_range", Sealed({'F', 'D', 'L', '1'}, {10, 5, 1, 0, 11, 12}, 0));

  Put(sp / "empty_file", *EncodeSignature(*ComputeSignature({}, params, 1)));
  Put(sp / "one_byte", *EncodeSignature(*ComputeSignature(Random(1, 3), {700, 16}, 1)));
  Put(sp / "blocks", *EncodeSignature(sig));
  Put(sp / "zeros", *EncodeSignature(*ComputeSignature(Bytes(8192), {64, 4}, 1)));
  Put(sp / "block_size_zero", Sealed({'F', 'S', 'G', '1'}, {100, 0, 8}, 0));
  Put(sp / "count_mismatch", Sealed({'F', 'S', 'G', '1'}, {100, 10, 8}, 108));
  Put(sp / "huge_file_size", Sealed({'F', 'S', 'G', '1'}, {uint64_t{1} << 61, 1, 8}, 24));
  return 0;
}
