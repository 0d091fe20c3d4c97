// Blocking socket I/O under an absolute deadline, for the daemon's
// pre-session exchange (daemon_wire.h). Every call waits with poll(2) for at
// most the time left until `deadline`, so a peer that trickles one byte per
// second cannot stretch the phase: the deadline bounds the whole exchange,
// not each read. `cancel_fd` (or -1) is polled too: when it becomes readable
// (the daemon's shutdown eventfd) the call gives up at once.
//
// Reads never take more bytes than asked for, so whatever follows on the
// stream (the session's own greeting) is left for the session.
//
// Errors: kIo "timed out ...", "connection closed by peer ...", "shutting
// down", or the errno of recv/send (PosixError). Writes use MSG_NOSIGNAL:
// a peer that went away is an error, never SIGPIPE.
//
// Thread safety: free functions; one reader and one writer per fd.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>

#include "engine/base/status.h"

namespace ferry::protocol {

using Deadline = std::chrono::steady_clock::time_point;

// Reads exactly buf.size() bytes. `what` names them in errors ("AuthResponse").
Status ReadExact(int fd, std::span<std::byte> buf, Deadline deadline, int cancel_fd,
                 const char* what);

// Writes all of buf.
Status WriteAll(int fd, std::span<const std::byte> buf, Deadline deadline, int cancel_fd);

// Waits until the deadline passes or cancel_fd becomes readable; returns
// false when cancelled.
bool SleepUntil(Deadline deadline, int cancel_fd);

}  // namespace ferry::protocol
