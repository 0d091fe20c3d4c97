#include "engine/delta/patch.h"

#include <algorithm>
#include <string>

namespace ferry::delta {

namespace {
// Bounds each sink call so a huge COPY streams in pieces the sink (and the
// hash) can overlap with its own I/O.
constexpr size_t kMaxChunk = size_t{4} << 20;
}  // namespace

Status ApplyDelta(std::span<const std::byte> old_data, const Delta& delta,
                  const ByteSink& sink, Hash128* new_hash) {
  if (delta.old_size != old_data.size()) {
    return InvalidArgument("delta was computed against an old file of " +
                           std::to_string(delta.old_size) +
                           " bytes but the old data has " +
                           std::to_string(old_data.size()));
  }
  RETURN_IF_ERROR(delta.Validate());
  Hasher hasher;
  auto emit = [&](std::span<const std::byte> bytes) -> Status {
    while (!bytes.empty()) {
      auto chunk = bytes.first(std::min(bytes.size(), kMaxChunk));
      // Only when asked: a caller that hashes what its sink receives (the
      // remote receiver) would otherwise read every COPY twice.
      if (new_hash != nullptr) hasher.Update(chunk);
      RETURN_IF_ERROR(sink(chunk));
      bytes = bytes.subspan(chunk.size());
    }
    return Status::Ok();
  };
  size_t literal_pos = 0;
  for (const DeltaOp& op : delta.ops) {
    if (op.kind == OpKind::kCopy) {
      RETURN_IF_ERROR(emit(old_data.subspan(op.old_offset, op.length)));
    } else {
      RETURN_IF_ERROR(emit(std::span(delta.literals).subspan(literal_pos, op.length)));
      literal_pos += op.length;
    }
  }
  if (new_hash != nullptr) *new_hash = hasher.Finish();
  return Status::Ok();
}

}  // namespace ferry::delta
