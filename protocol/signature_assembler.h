// Sender side: rebuilds a delta::Signature from the receiver's
// SignatureHeader and its SignatureBlocks messages (PROTOCOL.md
// "Signatures"). The header's geometry was range-checked by the codec; here
// the chunks must arrive in order, for the same file, with the header's
// strong_len, and cover exactly block_count blocks.
//
// Memory grows with the sums actually received (never reserved from the
// header's block_count), so a header claiming 2^24 blocks costs nothing
// until the blocks arrive.
//
// Thread safety: thread-compatible; one per file in flight.
#pragma once

#include "engine/base/status.h"
#include "engine/delta/signature.h"
#include "protocol/messages.h"

namespace ferry::protocol {

class SignatureAssembler {
 public:
  explicit SignatureAssembler(const SignatureHeader& header);

  // Errors (kCorrupt): another file_index, first_block != blocks so far,
  // strong_len != the header's, more blocks than block_count.
  Status Add(const SignatureBlocks& blocks);

  bool complete() const { return sig_.weak.size() == header_.block_count; }

  // The signature once complete. Errors: kCorrupt if blocks are missing or
  // the geometry fails delta::Signature::Validate.
  Result<delta::Signature> Finish() &&;

 private:
  SignatureHeader header_;
  delta::Signature sig_;
};

}  // namespace ferry::protocol
