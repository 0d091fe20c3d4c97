// The process's descriptor limit: raised for ferry itself, restored for the
// programs it starts.
//
// A sync keeps many files open at once (a worker per core, pipelined remote
// requests, one descriptor per directory being written), so main() raises
// the soft RLIMIT_NOFILE to the hard one, as long-running servers do. The
// programs ferry starts (the remote shell, plan hooks) get the soft limit
// ferry started with: a hook written for select() must not see descriptors
// above 1024 because ferry raised the limit.
//
// Thread safety: RaiseDescriptorLimit and ReserveDescriptorTable run once,
// before any thread starts;
// RestoreDescriptorLimitInChild is async-signal-safe (between fork and exec).
#pragma once

namespace ferry {

// Raises the soft limit to the hard one (at most 2^20). A limit that cannot
// be raised fails nothing: the remote receiver then keeps fewer requests in
// flight.
void RaiseDescriptorLimit();

// Grows the process's descriptor table to hold descriptors below
// min(`count`, the soft limit) now, while one thread runs: growing it later,
// with threads, waits for an RCU grace period (10 ms and more, with every
// other open() and close() of the process blocked meanwhile), several times
// on a pass that keeps hundreds of files open.
void ReserveDescriptorTable(int count);

// In a forked child before exec: puts back the soft limit of the start.
// Does nothing if RaiseDescriptorLimit did not change it.
void RestoreDescriptorLimitInChild();

}  // namespace ferry
