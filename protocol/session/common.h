// Shared by the two session roles (sender.h, receiver.h): conversions
// between the engine's scanned Entry and the wire's FileEntry, the mapping
// of error codes to wire codes and back, and the metadata policy implied by
// the agreed SessionOptions.
//
// Thread safety: pure functions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "engine/tree/entry.h"
#include "engine/tree/metadata.h"
#include "protocol/messages.h"

namespace ferry::protocol {

// What this side preserves under the agreed options (am_root: geteuid()==0).
MetaPolicy PolicyFor(const SessionOptions& o);

// Whether an entry of this type is transferred under the options (-l, -D).
bool Wanted(const SessionOptions& o, const Entry& e);

// The wire form of a scanned entry at `path` (kind from the mode).
FileEntry ToWire(const Entry& e, const std::string& path,
                 const std::vector<io::Xattr>& xattrs, const SessionOptions& o);

// The engine form of a validated wire entry; `uid`/`gid` are the local
// owner the validator resolved. The name is the last path component.
Entry FromWire(const FileEntry& w, uint32_t uid, uint32_t gid);
std::vector<io::Xattr> XattrsFromWire(const FileEntry& w, const MetaPolicy& p);

WireError ToWireError(ErrorCode code);
ErrorCode FromWireError(WireError code);

// An Error message for a per-path failure (message cut to the wire limit).
Error MakeError(std::optional<uint32_t> index, const std::string& path, const Status& s);
// Error{kProtocol} carrying the message of a protocol violation found here.
Error ProtocolError(const Status& s);
// The Status a peer's Error stands for, its message prefixed with "remote: ".
Status StatusFromWire(const Error& e);

// The backend a session role uses. The roles issue single operations (no
// batches), where io_uring only adds ring set-up per thread, so kAuto means
// POSIX here; kUring is honoured when asked for.
std::unique_ptr<io::IoBackend> SessionBackend(io::BackendKind kind);

// Bytes of each block's strong sum in a signature sent over the wire:
// rsync's rule (sum_sizes_sqroot) with a wider margin. With the 32-bit weak
// sum, about 16 + 2*log2(file_size) - log2(block_size) bits in all make a
// false block match in a file unlikely (about 2^-16); never fewer than 2
// bytes, never more than 16. A false match is not a corruption: FileDone's
// whole-file XXH3-128 catches it, and the file is requested again, whole.
uint32_t WireStrongLen(uint64_t file_size, uint32_t block_size);

// The block size of a signature sent over the wire under the sqrt block
// rule: rsync's 700 bytes up to 490,000-byte files, then the local engine's
// power of two near the square root (block_size.h: page-aligned for
// databases). With 2-byte strong sums a block costs 6 bytes of signature, so
// small files' smaller blocks send fewer literal bytes around edits.
uint32_t WireBlockSize(uint64_t file_size);

// Temporary names in DST: ".~ferry.<name>.<8 hex>", the local engine's
// pattern, so either engine's next run removes leftovers of the other.
// Feeds [0, len) of fd to h through a per-thread buffer (no allocation
// per file: hashing thousands of small files must not map, zero and unmap
// a fresh buffer each). false: a read failed or the file shrank.
bool HashFdPrefix(io::IoBackend& io, int fd, uint64_t len, Hasher& h);

std::string TempName(const std::string& name, const std::string& suffix);
bool IsTempName(const std::string& name);
std::string RandomSuffix();

}  // namespace ferry::protocol
