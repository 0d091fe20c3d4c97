#include "protocol/signature_assembler.h"

#include <string>

namespace ferry::protocol {

SignatureAssembler::SignatureAssembler(const SignatureHeader& header) : header_(header) {
  sig_.file_size = header.file_size;
  sig_.block_size = header.block_size;
  sig_.strong_len = header.strong_len;
}

Status SignatureAssembler::Add(const SignatureBlocks& b) {
  const std::string where = "SignatureBlocks for file " + std::to_string(header_.file_index);
  if (b.file_index != header_.file_index) {
    return Corrupt(where + ": got blocks of file " + std::to_string(b.file_index));
  }
  if (b.strong_len != header_.strong_len) {
    return Corrupt(where + ": strong_len " + std::to_string(b.strong_len) +
                   " differs from the header's " + std::to_string(header_.strong_len));
  }
  if (b.first_block != sig_.weak.size()) {
    return Corrupt(where + ": first_block " + std::to_string(b.first_block) +
                   " but " + std::to_string(sig_.weak.size()) + " blocks so far");
  }
  if (b.weak.size() > header_.block_count - sig_.weak.size()) {
    return Corrupt(where + ": " + std::to_string(b.weak.size()) +
                   " more blocks exceed block_count " + std::to_string(header_.block_count));
  }
  if (b.strong.size() != b.weak.size() * b.strong_len) {
    return Corrupt(where + ": strong sums do not match the block count");
  }
  sig_.weak.insert(sig_.weak.end(), b.weak.begin(), b.weak.end());
  sig_.strong.insert(sig_.strong.end(), b.strong.begin(), b.strong.end());
  return Status::Ok();
}

Result<delta::Signature> SignatureAssembler::Finish() && {
  if (!complete()) {
    return Corrupt("signature of file " + std::to_string(header_.file_index) + ": " +
                   std::to_string(sig_.weak.size()) + " of " +
                   std::to_string(header_.block_count) + " blocks received");
  }
  Status s = sig_.Validate();
  if (!s.ok()) return Corrupt("signature of file " + std::to_string(header_.file_index) +
                              ": " + s.message());
  return std::move(sig_);
}

}  // namespace ferry::protocol
