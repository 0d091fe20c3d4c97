// Proves: a frame stream of DeltaOps, FileData and FileDone messages applied by IncomingFile (the receiver's delta-op decoder plus patch applier) never crashes, never reads outside the basis, never emits more than the listed size, and reports exactly the bytes it emitted; FileDone succeeds only when size and XXH3-128 match what was emitted.
#include <cstdlib>
#include <vector>

#include "engine/base/hash.h"
#include "fuzz/protocol/fuzz_util.h"
#include "protocol/incoming_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  using namespace ferry::protocol;
  if (size < 3) return 0;
  // Byte 0: basis size (x 64); byte 1: listed size (x 64); byte 2: whole or delta.
  std::vector<std::byte> basis(size_t{data[0]} * 64);
  for (size_t i = 0; i < basis.size(); ++i) basis[i] = static_cast<std::byte>(i * 7);
  const uint64_t max_size = uint64_t{data[1]} * 64;
  const bool delta = data[2] & 1;
  std::vector<std::byte> out;
  IncomingFile file(0, max_size, delta, basis, [&](std::span<const std::byte> b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::Ok();
  });
  fuzz::ForEachMessage(std::as_bytes(std::span(data + 3, size - 3)), 1 << 16, [&](Message& m) {
    Status s;
    if (auto* d = std::get_if<DeltaOps>(&m)) {
      s = file.OnDelta(std::move(*d));
    } else if (auto* w = std::get_if<FileData>(&m)) {
      s = file.OnData(*w);
    } else if (auto* done = std::get_if<FileDone>(&m)) {
      s = file.OnDone(*done);
      if (s.ok() && (done->size != out.size() || done->hash != HashBytes(out))) std::abort();
    } else {
      return false;
    }
    if (out.size() > max_size || file.produced() != out.size()) std::abort();
    return s.ok();
  });
  return 0;
}
