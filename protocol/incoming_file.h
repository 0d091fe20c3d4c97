// Receiver side: checks and applies the data of one file as it arrives
// (FileData for a whole file, DeltaOps against the receiver's own basis),
// streaming the result into a sink and hashing it; FileDone then compares
// size and XXH3-128 with the sender's, so a file lands only if it matches
// (PROTOCOL.md "Per-file transfer").
//
// Bounds: the data may not exceed `max_size` (the size in the file list: a
// source that grew is reported by the sender as an Error kChanged); whole
// data must arrive in order; every COPY lies inside the basis (checked by
// delta::ApplyDelta before any byte is emitted). The basis is the span the
// receiver itself chose (its file at the entry's path); the peer cannot
// name another one.
//
// Thread safety: thread-compatible; one per file in flight.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "engine/base/hash.h"
#include "engine/base/status.h"
#include "engine/delta/patch.h"
#include "protocol/messages.h"

namespace ferry::protocol {

class IncomingFile {
 public:
  // Reads the basis' bytes [offset, offset + buf.size()) into buf; returns
  // how many it read.
  using BasisReader = std::function<Result<size_t>(uint64_t offset, std::span<std::byte> buf)>;

  // `delta`: expect DeltaOps against `basis`; else FileData. `basis` and
  // `sink` must outlive the object. `read_basis` (optional): COPY bytes are
  // read through it in cache-sized pieces, each hashed and passed to the
  // sink while it is in the cache (rather than hashed and written straight
  // from `basis`, a mapping whose pages fault in one by one); a failed or
  // short read falls back to `basis`.
  IncomingFile(uint32_t file_index, uint64_t max_size, bool delta,
               std::span<const std::byte> basis, delta::ByteSink sink,
               BasisReader read_basis = nullptr)
      : index_(file_index), max_size_(max_size), delta_(delta), basis_(basis),
        sink_(std::move(sink)), read_basis_(std::move(read_basis)) {}

  // Errors: kCorrupt (wrong file, wrong mode, out of order, beyond
  // max_size, COPY outside the basis) or the sink's error.
  Status OnData(const FileData& m);
  Status OnDelta(DeltaOps&& m);
  // Append detection (ProbeResult kAppend): `prefix`, the receiver's own
  // data, is the first bytes of the file; FileData goes on after it. Only
  // for a whole-file transfer before any data. Errors: kCorrupt, or the
  // sink's error.
  Status Prefill(std::span<const std::byte> prefix);
  // kCorrupt "result hash mismatch" / size mismatch; OK means: land it.
  Status OnDone(const FileDone& m);

  uint64_t produced() const { return produced_; }

 private:
  Status Emit(std::span<const std::byte> bytes);
  Status EmitBytes(std::span<const std::byte> bytes);
  std::string Where() const;

  uint32_t index_;
  uint64_t max_size_;
  bool delta_;
  std::span<const std::byte> basis_;
  delta::ByteSink sink_;
  BasisReader read_basis_;
  Hasher hasher_;
  uint64_t produced_ = 0;
  bool done_ = false;
};

}  // namespace ferry::protocol
