#include "engine/delta/delta.h"

#include <string>

namespace ferry::delta {

Status Delta::Validate() const {
  uint64_t produced = 0;
  uint64_t literal_total = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const DeltaOp& op = ops[i];
    const std::string where = "delta op " + std::to_string(i) + ": ";
    if (op.length == 0) return Corrupt(where + "length is 0");
    if (op.kind == OpKind::kCopy) {
      if (op.old_offset > old_size || op.length > old_size - op.old_offset) {
        return Corrupt(where + "COPY old_offset " + std::to_string(op.old_offset) +
                       " + length " + std::to_string(op.length) +
                       " is outside the old file of " + std::to_string(old_size) +
                       " bytes");
      }
    } else if (op.kind == OpKind::kLiteral) {
      if (op.length > literals.size() - literal_total) {
        return Corrupt(where + "LITERAL length " + std::to_string(op.length) +
                       " overruns the literal bytes (" +
                       std::to_string(literals.size()) + " in all)");
      }
      literal_total += op.length;
    } else {
      return Corrupt(where + "kind " + std::to_string(static_cast<int>(op.kind)) +
                     " is unknown");
    }
    if (op.length > new_size - produced) {
      return Corrupt(where + "length " + std::to_string(op.length) +
                     " overruns new_size " + std::to_string(new_size));
    }
    produced += op.length;
  }
  if (produced != new_size) {
    return Corrupt("delta ops produce " + std::to_string(produced) +
                   " bytes but new_size is " + std::to_string(new_size));
  }
  if (literal_total != literals.size()) {
    return Corrupt("delta LITERAL ops use " + std::to_string(literal_total) +
                   " bytes but literals holds " + std::to_string(literals.size()));
  }
  return Status::Ok();
}

}  // namespace ferry::delta
