#include "protocol/incoming_file.h"

#include <algorithm>
#include <string>

#include "engine/io/scratch.h"

namespace ferry::protocol {

std::string IncomingFile::Where() const { return "file " + std::to_string(index_); }

Status IncomingFile::Emit(std::span<const std::byte> bytes) {
  if (!read_basis_ || bytes.empty() || bytes.data() < basis_.data() ||
      bytes.data() + bytes.size() > basis_.data() + basis_.size()) {
    return EmitBytes(bytes);
  }
  // A COPY: through a buffer that stays in the cache while it is hashed,
  // checked for holes and written.
  constexpr size_t kPiece = 256 << 10;
  const std::span<std::byte> buf = io::ThreadScratch().first(kPiece);
  uint64_t from = static_cast<uint64_t>(bytes.data() - basis_.data());
  size_t done = 0;
  while (done < bytes.size()) {
    const size_t want = std::min(bytes.size() - done, buf.size());
    auto n = read_basis_(from + done, buf.first(want));
    if (!n.ok() || *n != want) return EmitBytes(bytes.subspan(done));
    RETURN_IF_ERROR(EmitBytes(buf.first(want)));
    done += want;
  }
  return Status::Ok();
}

Status IncomingFile::EmitBytes(std::span<const std::byte> bytes) {
  hasher_.Update(bytes);
  produced_ += bytes.size();
  return sink_(bytes);
}

Status IncomingFile::OnData(const FileData& m) {
  if (m.file_index != index_) return Corrupt("FileData for file " + std::to_string(m.file_index) + " routed to " + Where());
  if (done_) return Corrupt("FileData: " + Where() + " is already done");
  if (delta_) return Corrupt("FileData: " + Where() + " was requested as a delta");
  if (m.offset != produced_) {
    return Corrupt("FileData: " + Where() + " offset " + std::to_string(m.offset) +
                   " but " + std::to_string(produced_) + " bytes received");
  }
  if (m.data.size() > max_size_ - produced_) {
    return Corrupt("FileData: " + Where() + " data beyond its listed size " +
                   std::to_string(max_size_));
  }
  return Emit(m.data);
}

Status IncomingFile::Prefill(std::span<const std::byte> prefix) {
  if (done_ || delta_ || produced_ != 0) {
    return Corrupt("ProbeResult: " + Where() + " cannot take an appended prefix now");
  }
  if (prefix.size() >= max_size_) {
    return Corrupt("ProbeResult: " + Where() + " prefix is not shorter than its listed size");
  }
  return Emit(prefix);
}

Status IncomingFile::OnDelta(DeltaOps&& m) {
  if (m.file_index != index_) return Corrupt("DeltaOps for file " + std::to_string(m.file_index) + " routed to " + Where());
  if (done_) return Corrupt("DeltaOps: " + Where() + " is already done");
  if (!delta_) return Corrupt("DeltaOps: " + Where() + " was requested whole");
  delta::Delta chunk;
  chunk.old_size = basis_.size();
  for (const delta::DeltaOp& op : m.ops) {
    if (op.length > max_size_ - produced_ - chunk.new_size) {
      return Corrupt("DeltaOps: " + Where() + " produces more than its listed size " +
                     std::to_string(max_size_));
    }
    chunk.new_size += op.length;
  }
  chunk.ops = std::move(m.ops);
  chunk.literals = std::move(m.literals);
  // ApplyDelta validates every op (COPY inside the basis, literal sums)
  // before it emits anything.
  Status s = delta::ApplyDelta(
      basis_, chunk, [this](std::span<const std::byte> b) { return Emit(b); }, nullptr);
  if (!s.ok()) return s.WithContext("DeltaOps: " + Where());
  return Status::Ok();
}

Status IncomingFile::OnDone(const FileDone& m) {
  if (m.file_index != index_) return Corrupt("FileDone for file " + std::to_string(m.file_index) + " routed to " + Where());
  if (done_) return Corrupt("FileDone: " + Where() + " is already done");
  done_ = true;
  if (m.size != produced_) {
    return Corrupt("FileDone: " + Where() + " size " + std::to_string(m.size) + " but " +
                   std::to_string(produced_) + " bytes were produced");
  }
  const Hash128 got = hasher_.Finish();
  if (got != m.hash) {
    return Corrupt("FileDone: " + Where() + " result hash mismatch: rebuilt " + got.Hex() +
                   ", sender " + m.hash.Hex());
  }
  return Status::Ok();
}

}  // namespace ferry::protocol
