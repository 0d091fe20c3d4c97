// The server's half of `ferry verify` with a remote side (`ferry serve
// --stdio --verify-side PATH`): reads the client's VerifyOpen, resolves the
// root it names under PATH, and streams what the client's comparison needs
// (PROTOCOL.md section 13): the root entry, every directory's listing with
// each entry's metadata, xattrs/ACLs, link target and hard-link identity
// (VerifyListing), and the XXH3-128 of every non-empty regular file
// (VerifyHashes). The tree is walked and hashed in parallel (TBB, one task
// per directory and per batch of files, as the local verify reads), and
// messages go out as they are ready, so the client compares while this side
// still reads. Per-path failures are Error messages with the path.
//
// Nothing is changed on this side. Every xattr this process may read is
// sent (the client keeps the ones its policy compares); filters apply on the
// client.
//
// Thread safety: one call per session.
#pragma once

#include <string>

#include "engine/base/status.h"
#include "engine/io/io_backend.h"
#include "protocol/channel.h"

namespace ferry::protocol {

// Serves one verify request on an accepted channel. `path` is the served
// PATH as the client wrote it (its trailing slash matters only through
// VerifyOpen.follow). base_fd >= 0: a daemon module's root (the caller's
// fd), `path` is relative to it and every open is beneath it without
// following symlinks (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), as the
// sync's roles are confined. Unless the session is numeric_ids, entries
// carry their owner and group names (for the client's owner maps). Returns
// the session's failure (protocol, transport); unreadable paths are
// reported to the client, not returned.
Status ServeVerify(Channel& ch, const std::string& path, io::BackendKind io, int base_fd = -1);

}  // namespace ferry::protocol
