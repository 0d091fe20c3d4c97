// The client side of `ferry sync` with a remote end: parses
// "[user@]host:path" (rsync's rule), starts the remote shell
// (`ssh [-l user] host ferry serve --stdio --sender|--receiver PATH`, with
// -e/--rsh replacing "ssh" and --remote-ferry naming the remote binary),
// runs the handshake as the client and then the local role: the sender for
// a push, the receiver for a pull.
//
// Errors: the Status is the session's failure, with what the remote shell
// said when it exited early ("remote shell exited with status 127"); per-path
// errors of either side arrive through `events` and set the outcome.
//
// Thread safety: one call per session.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "engine/base/status.h"
#include "engine/transfer/options.h"
#include "engine/transfer/report.h"
#include "protocol/session/serve.h"

namespace ferry::protocol {

struct RemoteSpec {
  std::string user;  // empty: the remote shell's default
  std::string host;
  std::string path;  // empty means the remote home directory (".")
};

// "host:path" or "user@host:path" when a ':' comes before any '/';
// nullopt for a local path ("./a:b", "/x:y", "a/b:c").
std::optional<RemoteSpec> ParseRemote(const std::string& arg);

// --streams: files from this size on are split across the streams by byte
// ranges (FERRY_STREAMS_SPLIT_MIN overrides it).
inline constexpr uint64_t kDefaultSplitMin = uint64_t{64} << 20;

struct RemoteOptions {
  std::string rsh = "ssh";             // -e/--rsh: words split on blanks
  std::string remote_ferry = "ferry";  // --remote-ferry
  bool compress = false;               // -z
  int compress_level = 3;              // --compress-level (zstd 1..19)
  bool numeric_ids = true;
  std::string remote_io;               // non-empty: passed as --io to the remote
  uint32_t max_frame = kDefaultMaxFrame;
  uint64_t window = kDefaultWindow;
  // --streams N: N > 1 runs the transfer as N parallel sessions then a final
  // one (streams.h). stream_index/stream_count: this session is one of them
  // (set by RunStreams' sessions, 0 of 0 otherwise).
  uint32_t streams = 1;
  uint32_t stream_index = 0;
  uint32_t stream_count = 0;
  // With streams: files of at least this many bytes are split by ranges
  // across the streams (0: never); the run's id names their temporaries.
  uint64_t split_min = kDefaultSplitMin;
  uint32_t run_id = 0;
};

// The argv that starts the remote side (exposed for tests and --dry-run
// style display).
std::vector<std::string> RemoteCommand(const RemoteOptions& ro, const RemoteSpec& spec,
                                       ServeRole remote_role);

// The SessionOptions a client proposes for these sync options.
SessionOptions ProposeOptions(const SyncOptions& opt, const RemoteOptions& ro);

struct RemoteResult {
  SyncOutcome outcome;
  uint64_t bytes_sent = 0;      // on the wire, both directions as this side sees them
  uint64_t bytes_received = 0;
};

// The session once a transport is up (a remote shell's pipes, a daemon's
// socket: pass it twice): the handshake as the client, with the options
// ProposeOptions makes, then the local role - the sender of `local_path`
// for a push, its receiver for a pull. Takes ownership of both fds and
// closes them before returning. Errors: the handshake's (a refusal by the
// server is kUnsupported "remote refused the session: ...") and the role's
// session failure; outcome.seconds is left 0 for the caller.
Result<RemoteResult> RunClientSession(int in_fd, int out_fd, bool push,
                                      const std::string& local_path, const SyncOptions& opt,
                                      const RemoteOptions& ro, SyncStats& stats,
                                      SyncEvents& events);

// A started remote side (`ferry serve --stdio` through the remote shell)
// after the handshake: other commands (verify, bench) use it as sync does.
struct RemoteSession {
  std::unique_ptr<Channel> channel;
  pid_t pid = -1;  // the remote shell
};
// Errors as RunRemoteSync's handshake failures ("... (remote shell exited
// with status 127)").
Result<RemoteSession> StartRemote(const RemoteOptions& ro, const RemoteSpec& spec,
                                  ServeRole remote_role, const SessionOptions& options);
// Closes the channel and reaps the remote shell: "" when it exited with 0,
// else "remote shell exited with status N" / "... killed by signal N".
std::string FinishRemote(RemoteSession& session);

// Exactly one of src and dst is remote (the caller checked with ParseRemote).
Result<RemoteResult> RunRemoteSync(const std::string& src, const std::string& dst,
                                   const SyncOptions& opt, const RemoteOptions& ro,
                                   SyncStats& stats, SyncEvents& events);

}  // namespace ferry::protocol
