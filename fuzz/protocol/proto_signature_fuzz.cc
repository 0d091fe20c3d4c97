// Proves: a frame stream of SignatureHeader and SignatureBlocks messages never crashes the decoder or the assembler nor makes them allocate beyond the blocks actually received, and every signature they complete is valid and drives ComputeDelta to a valid delta.
#include <cstdlib>
#include <optional>

#include "engine/delta/matcher.h"
#include "fuzz/protocol/fuzz_util.h"
#include "protocol/signature_assembler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  using namespace ferry::protocol;
  auto in = std::as_bytes(std::span(data, size));
  std::optional<SignatureAssembler> assembler;
  fuzz::ForEachMessage(in, 1 << 16, [&](Message& m) {
    if (auto* h = std::get_if<SignatureHeader>(&m)) {
      if (h->block_count > h->file_size && h->file_size != 0) std::abort();
      assembler.emplace(*h);
      return true;
    }
    auto* b = std::get_if<SignatureBlocks>(&m);
    if (b == nullptr || !assembler) return false;
    if (!assembler->Add(*b).ok()) return false;
    if (!assembler->complete()) return true;
    Result<delta::Signature> sig = std::move(*assembler).Finish();
    assembler.reset();
    if (!sig.ok()) return true;  // e.g. geometry refused by Validate
    if (!sig->Validate().ok()) std::abort();
    Result<delta::Delta> d = delta::ComputeDelta(*sig, in, delta::MatcherOptions{1, 1});
    if (!d.ok() || !d->Validate().ok() || d->new_size != in.size()) std::abort();
    return true;
  });
  return 0;
}
