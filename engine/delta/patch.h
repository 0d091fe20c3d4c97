// Patch: rebuilds new data from old data and a Delta, streaming it into a
// caller-supplied sink, hashing it when asked to.
//
// No file I/O here: the caller owns the old bytes (e.g. an mmap of the
// destination's old file) and the sink (e.g. a writer to a temporary file).
// The returned XXH3-128 of the produced bytes lets the caller compare against
// the sender's whole-file hash before it renames the temporary into place.
//
// Thread safety: ApplyDelta may run concurrently on distinct sinks.
#pragma once

#include <cstddef>
#include <functional>
#include <span>

#include "engine/base/hash.h"
#include "engine/base/status.h"
#include "engine/delta/delta.h"

namespace ferry::delta {

// Receives the new file's bytes in order. The span is only valid during the
// call (it may point into the old data or into the delta's literals). A
// non-OK return stops the patch and is returned from ApplyDelta unchanged.
using ByteSink = std::function<Status(std::span<const std::byte>)>;

// Validates `delta` (Delta::Validate) and that delta.old_size equals
// old_data.size() BEFORE writing anything, then emits every op into `sink`
// (copies straight from `old_data`, no intermediate buffer) and stores the
// XXH3-128 of all bytes emitted in *new_hash (if not null).
// Errors: kCorrupt for an invalid delta (e.g. a COPY outside the old file,
// message names the op), kInvalidArgument when old_data has the wrong size,
// or the sink's error. Cost: O(new size), one pass.
Status ApplyDelta(std::span<const std::byte> old_data, const Delta& delta,
                  const ByteSink& sink, Hash128* new_hash);

}  // namespace ferry::delta
