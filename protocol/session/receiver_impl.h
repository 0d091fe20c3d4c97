// Internal to protocol/session: the receiver's state (receiver.h has the
// contract), shared by receiver.cc (the message loop, requests, landing of
// regular files) and receiver_finish.cc (metadata of existing entries,
// symlinks/devices/specials, --delete, hard links, directory metadata).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "engine/base/hash.h"
#include "engine/base/thread_name.h"
#include "engine/io/deferred_close.h"
#include "engine/io/io_backend.h"
#include "engine/io/mapped_file.h"
#include "engine/io/posix_backend.h"
#include "engine/tree/entry.h"
#include "engine/tree/metadata.h"
#include "protocol/channel.h"
#include "protocol/file_list_validator.h"
#include "protocol/id_resolver.h"
#include "protocol/incoming_file.h"
#include "protocol/session/common.h"
#include "protocol/session/dir_prefetch.h"
#include "protocol/session/receiver.h"
#include "protocol/session/streams.h"
#include "protocol/session/sync_rules.h"

namespace ferry::protocol::receiver_internal {

struct Listed {
  std::string path;
  Entry meta;  // local owner, wire times and mode
  std::vector<io::Xattr> xattrs;
  std::optional<uint32_t> leader;
  std::string target;  // symlinks
  bool failed = false;
  // A directory DST had, with this metadata when listed: DirMeta sets it
  // only if this pass changed its mtime.
  bool meta_same = false;
};

// A DST directory's entries as first listed, with a mark for each entry
// whose path the list has: OnEntry sets it when it finds the entry, so that
// --delete and reuse look up only the unmarked ones in the list.
struct DstListing {
  // Marks: 0 the list does not have it; kListed; kUnchanged: a regular file
  // the list has with the same size and mtime (a source reuse may copy
  // from: receiver_reuse.cc).
  static constexpr uint8_t kListed = 1, kUnchanged = 2;
  std::vector<Entry> entries;
  std::vector<uint8_t> listed;  // entries.size() marks
  explicit DstListing(std::vector<Entry> e) : entries(std::move(e)), listed(entries.size(), 0) {}
};

struct Dir {
  std::string path;  // "" for the DST root
  io::UniqueFd fd;
  // At open time; one copy, shared with --delete's and reuse's maps.
  std::shared_ptr<DstListing> shared_listing;
  const std::vector<Entry>& listing() const {
    static const std::vector<Entry> kNone;
    return shared_listing ? shared_listing->entries : kNone;
  }
  // Read with the listing (DirPrefetch): the kept xattrs of listing()[i]
  // where xattrs_ok[i]; empty when they were not.
  std::vector<std::vector<io::Xattr>> xattrs;
  std::vector<uint8_t> xattrs_ok;
  const std::vector<io::Xattr>* XattrsOf(const Entry* e) const {
    if (e == nullptr || xattrs_ok.empty()) return nullptr;
    const size_t i = static_cast<size_t>(e - listing().data());
    return i < xattrs_ok.size() && xattrs_ok[i] ? &xattrs[i] : nullptr;
  }
};

// A DST file that may hold the content of a file new at its path
// (receiver_reuse.cc).
struct ReuseCand {
  std::string dir;  // DST directory, relative to the root
  Entry entry;      // as listed
  bool orphan = false;  // the list does not have its path
  bool hashed = false;
  std::optional<Hash128> hash;  // XXH3-128 if it was still the listed file
  std::string moved_to;  // renamed into this path by this session
  std::string Rel() const { return dir.empty() ? entry.name : dir + "/" + entry.name; }
};

// What removing one DST entry (a directory with what is inside) did, in
// order: Deletes removes on several threads and replays these on the
// message thread (stats, items, errors).
struct DeleteEvent {
  enum class Kind { kDeleted, kFailed, kKept };
  Kind kind = Kind::kDeleted;
  std::string rel;
  bool is_dir = false;
  Status status;  // kFailed
};

// A file's temporary, created off the message thread (Receiver::
// StartOutput): the opener fulfils the promise, the InFlight takes it when
// it first needs it (AwaitOutput).
struct OpenedOutput {
  Status status;
  io::UniqueFd out;
  std::string tmp;  // a named temporary where O_TMPFILE was refused
};

struct InFlight {
  uint32_t index = 0;
  std::shared_ptr<Dir> dir;
  std::string name;
  std::optional<Entry> existing;  // DST's entry when requested
  io::UniqueFd out;
  std::string tmp;  // named temporary; empty for an unnamed one
  // Valid while the opener creates `out` (and `tmp`): AwaitOutput waits.
  std::future<OpenedOutput> opening;
  Status open_error;  // the opener could not create the temporary
  io::UniqueFd basis_fd;
  io::MappedFile basis;
  std::optional<Hash128> basis_hash;  // --checksum: the old content's hash
  std::span<const std::byte> basis_view;  // the part of `basis` the delta is against
  // --streams: this stream's byte range of a split file, written at
  // range_offset into the run's shared temporary, which is never landed here.
  uint64_t range_offset = 0;
  bool shared = false;
  std::unique_ptr<IncomingFile> incoming;
  uint64_t written = 0;
  uint64_t flushed = 0;  // bytes of `out` whose writeback StartWriteback started
  Status local_error;  // a write failed: drain the data, land nothing
  bool protocol_checked = false;
  io::IoBackend* io = nullptr;
  // A ReuseProbe was sent: candidate ids (Receiver::cands_) in the order of
  // its hashes; cleared when its ProbeResult arrived.
  std::vector<uint32_t> probe_cands;
  bool append_probe = false;  // an AppendProbe awaits its ProbeResult
  bool appended = false;      // kAppend: the basis is this file's prefix
  // Made from DST data (receiver_reuse.cc): " => OLD" (renamed) or
  // " == OLD" (copied); Land counts it as such.
  std::string reused_detail;

  // Takes the temporary the opener created into `out` and `tmp` (waiting
  // for it): Ok at once when none was handed to it; its error, every time,
  // when it could not be created.
  Status AwaitOutput() {
    if (opening.valid()) {
      OpenedOutput o = opening.get();
      out = std::move(o.out);
      tmp = std::move(o.tmp);
      open_error = std::move(o.status);
    }
    return open_error;
  }

  ~InFlight() {
    (void)AwaitOutput();  // the opener's temporary is this file's to remove
    if (!tmp.empty() && dir && dir->fd.valid()) ::unlinkat(dir->fd.get(), tmp.c_str(), 0);
  }
};

// A file whose data arrived and matched, handed to the lander thread: its
// metadata as listed (copied: list_ grows meanwhile) and, once installed,
// what that did.
struct LandJob {
  std::unique_ptr<InFlight> f;
  Entry meta;
  std::vector<io::Xattr> xattrs;
  std::string path;
  Status status;
};

// One thread that runs jobs in the order they are handed over, off the
// message thread, which takes the finished ones back (with their results)
// for its bookkeeping. At most `capacity` jobs are queued or running: Submit
// waits for room. Stopping (destruction) runs what was handed over first.
// Used for landing completed files (Lander), for signatures of large basis
// files (Signer) and for creating temporaries (Opener). With `first`, the
// queued job that orders first runs next (TakeFinished then returns them in
// the order they ran). Without `keep`, finished jobs are dropped (their
// results go elsewhere): TakeFinished returns none.
template <typename Job>
class JobThread {
 public:
  using Run = std::function<Status(io::IoBackend&, Job&)>;
  using Before = std::function<bool(const Job&, const Job&)>;
  // `name`: the thread's (SetThreadName), a string literal.
  JobThread(Run run, size_t capacity, Before first = nullptr, bool keep = true,
            const char* name = "ferry-job")
      : run_(std::move(run)), capacity_(capacity), first_(std::move(first)), keep_(keep),
        name_(name) {}
  ~JobThread() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  void Submit(Job job) {
    std::unique_lock<std::mutex> l(mu_);
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    cv_.wait(l, [&] { return todo_.size() + running_ < capacity_; });
    todo_.push_back(std::move(job));
    cv_.notify_all();
  }
  // Submit without the wait: false (and `job` dropped) when there is no room.
  bool TrySubmit(Job job) {
    std::unique_lock<std::mutex> l(mu_);
    if (todo_.size() + running_ >= capacity_) return false;
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    todo_.push_back(std::move(job));
    cv_.notify_all();
    return true;
  }
  // The jobs finished so far, in order, each with its result in `status`;
  // with wait, after every job handed over has finished.
  std::vector<Job> TakeFinished(bool wait) {
    std::unique_lock<std::mutex> l(mu_);
    if (wait) cv_.wait(l, [&] { return todo_.empty() && running_ == 0; });
    std::vector<Job> out;
    out.reserve(finished_.size());
    for (Job& j : finished_) out.push_back(std::move(j));
    finished_.clear();
    return out;
  }
  bool idle() const {
    std::lock_guard<std::mutex> l(mu_);
    return todo_.empty() && running_ == 0 && finished_.empty();
  }

 private:
  void Loop() {
    SetThreadName(name_);
    io::PosixBackend io;
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [&] { return stop_ || !todo_.empty(); });
      if (todo_.empty()) return;  // stopping, nothing left
      auto next = first_ ? std::min_element(todo_.begin(), todo_.end(), first_) : todo_.begin();
      Job job = std::move(*next);
      todo_.erase(next);
      ++running_;
      l.unlock();
      job.status = run_(io, job);
      if (!keep_) job = Job();  // dropped outside the lock
      l.lock();
      --running_;
      if (keep_) finished_.push_back(std::move(job));
      cv_.notify_all();
    }
  }

  const Run run_;
  const size_t capacity_;
  const Before first_;
  const bool keep_;
  const char* const name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> todo_, finished_;
  size_t running_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// Installs completed files (metadata, link or rename into place, close).
using Lander = JobThread<LandJob>;

// A large basis file whose signature is computed off the message thread
// (which meanwhile applies other files' deltas): its own mapping of DST's
// file, so the job does not depend on the InFlight (a peer's Error may end
// that first).
struct SignJob {
  uint32_t index = 0;
  io::MappedFile map;
  uint64_t offset = 0, length = 0;  // the InFlight's basis_view in `map`
  Status status;
};
using Signer = JobThread<SignJob>;

// A temporary to create in `dir` for the file `name` (Receiver::
// StartOutput); the result goes to `into`.
struct OpenJob {
  std::shared_ptr<Dir> dir;
  std::string name;
  std::promise<OpenedOutput> into;
  Status status;
};
using Opener = JobThread<OpenJob>;

// Writeback to start for a range of a temporary (Receiver::StartWriteback):
// its own descriptor, so the file may land (and close its own) meanwhile.
struct FlushJob {
  io::UniqueFd fd;
  uint64_t offset = 0, length = 0;
  Status status;
};
using Flusher = JobThread<FlushJob>;

// A landed file's old copy (its mapping and descriptor) to let go of: the
// last close of a file that was replaced frees its blocks (on a file system
// mounted with discard, waiting for the device), which the next file's
// landing need not wait for.
struct ReleaseJob {
  io::MappedFile map;
  io::UniqueFd fd;
  Status status;
};
using Releaser = JobThread<ReleaseJob>;

class Receiver {
 public:
  Receiver(Channel& ch, const ReceiverConfig& cfg, SyncStats& stats, SyncEvents& events)
      : ch_(ch), cfg_(cfg), opt_(ch.options()), policy_(PolicyFor(opt_)), stats_(stats),
        events_(events), validator_(opt_, &resolver_), suffix_(RandomSuffix()) {
    io_ = SessionBackend(cfg.io);
    reuse_ = (ch.capabilities() & kCapReuse) != 0;
  }

  Result<SyncOutcome> Run();

 private:
  Status OpenRoot();
  Status Dispatch(Incoming& in);
  Status OnEntry(const FileEntry& w);
  std::shared_ptr<Dir> DirFor(const std::string& parent);
  void CreateNode(Listed& rec, Dir& dir, const Entry* existing, const std::string& target);
  // `have`: DST's kept xattrs if already read (DirPrefetch), else read here.
  void UpdateMeta(Listed& rec, int dirfd, const char* name, const Entry& existing,
                  const std::vector<io::Xattr>* have = nullptr);
  Status Pump();
  Status StartRequest(uint32_t index, bool whole);
  // Opens f's temporary: O_TMPFILE in its directory, a named temporary
  // where that is refused, or (range) the run's shared split temporary.
  Status OpenOutput(InFlight& f, const std::optional<ByteRange>& range);
  // OpenOutput's unnamed (or named) temporary, created on the opener
  // thread: creating an inode costs the file system more than the rest of
  // a small file's request. f.AwaitOutput() takes it.
  void StartOutput(InFlight& f);
  // Starts the writeback of what f's temporary holds beyond f.flushed, in
  // whole windows, on the flusher thread.
  void StartWriteback(InFlight& f);
  // A large basis goes to the signer thread, a small one is signed here.
  Status SendSignature(uint32_t index, InFlight& f);
  // Computes the signature of `basis` and sends it (any thread).
  Status SignAndSend(uint32_t index, std::span<const std::byte> basis);
  // The signer's failures (it also aborts the channel); wait: after every
  // signature handed over is sent.
  Status ReapSigned(bool wait);
  Status WriteBytes(InFlight& f, std::span<const std::byte> bytes);
  Status OnData(uint32_t index, Message& m, uint32_t wire);
  Status OnDone(const FileDone& d);
  void Land(InFlight& f, const Hash128& hash);
  // Land's cases that only this thread handles (a --streams range, the same
  // content under --checksum): done, and true.
  bool LandsHere(InFlight& f, const Hash128& hash);
  // Land's parts: the file system's (thread-safe through `io`: moves the
  // output into place with `meta`), and the bookkeeping after it.
  Status Install(io::IoBackend& io, InFlight& f, const Entry& meta,
                 const std::vector<io::Xattr>& xattrs, const std::string& path) const;
  void Landed(InFlight& f, const Status& installed);
  // OnDone's landing: on the lander thread where it can be, else here.
  void LandLater(std::unique_ptr<InFlight> f, const Hash128& hash);
  // Bookkeeping of what the lander finished; wait: all of it.
  void ReapLanded(bool wait);
  // The lander, for a landed file's old copy (its basis descriptor), before
  // the releasers close it: hands it to the deferred-close helper (started
  // at the first) while the budget lasts, so that its blocks are freed
  // after the session rather than during it.
  void DeferClose(int fd);
  Status MaybeEndPass();
  // At the end of the list: marks stats_ planned, fires OnPlanned and, with
  // kCapPlanned agreed, tells the sender the totals (PlannedTotals).
  Status AnnouncePlanned();
  // A FileData/DeltaOps of `literal` data bytes took the file's output from
  // `before` to `after` bytes: literal and matched bytes for progress.
  void CountProgress(uint64_t before, uint64_t after, uint64_t literal);
  void Finish();
  void Deletes();
  void HardLinks();
  void DirMeta();
  // Sets directory d's metadata through `io` (thread-safe).
  Status ApplyDirMeta(io::IoBackend& io, const Listed& d) const;
  void Fail(uint32_t index, const Status& s);
  void Fail(const std::string& path, const Status& s, std::optional<uint32_t> index);
  void Item(const std::string& item, const std::string& path, const std::string& detail = "");
  // Every change goes through here: to events_ and, when agreed, to the
  // sender as an Itemized message.
  void Report(const SyncEvents::Change& c);
  bool dry() const { return opt_.dry_run; }
  // Dry run: a directory that does not exist on DST (nothing to read there).
  bool Absent(const std::string& rel) const { return root_absent_ || absent_dirs_.count(rel); }
  void DryLanded(uint32_t index, const Entry* existing);
  // Removes dirfd/e.name through `io`, appending what happened to `log`
  // (thread-safe: reads only the options and the filter).
  bool DeleteTree(io::IoBackend& io, int dirfd, const Entry& e, const std::string& rel,
                  std::vector<DeleteEvent>* log) const;
  // Whether --delete removes DST entry `e` of the listed directory `dir`
  // ("" the root; `path` is dir/e.name): the list does not have it, the
  // filter does not protect it, it is not a Maildir folder's tmp/, and the
  // sender read what holds it. Reuse moves only such files.
  bool Doomed(const std::string& dir, const Entry& e, const std::string& path) const;
  // Doomed's exceptions for an entry the list does not have.
  bool Spared(const std::string& dir, const Entry& e, const std::string& path) const;
  // `path` is, or is beneath, what the sender could not read.
  bool Unlisted(const std::string& path) const;
  void DryLinks();
  // receiver_reuse.cc: rename/copy within DST and append detection.
  bool Deferrable(const Entry* existing, const Listed& r) const;
  void PlanDeferral();  // sets defer_new_ once the root is open
  void PlanReuse();
  std::optional<Hash128> HashCand(ReuseCand& c);
  void HashCands(const std::vector<uint32_t>& ids);  // in parallel
  Status OnProbeResult(const ProbeResult& p);
  Status ReuseInto(InFlight& f, uint32_t cand);
  Status CopyInto(InFlight& f, int old_dir, const char* old_name, const Entry* listed);
  // The directory at `path` (no listing), kept in `cache` for the next call.
  std::shared_ptr<Dir> ReopenDir(const std::string& path, std::shared_ptr<Dir>& cache);
  void CountReused(InFlight& f);
  // The counts a push's sender adds to its --stats (ReceiverReport).
  ReceiverReport Counts() const;
  // receiver_mail.cc (--mail): holds an index file's completed temporary
  // (returns true: f moved into held_); lands the held ones.
  bool HoldForMail(std::unique_ptr<InFlight>& f, const Hash128& hash);
  void LandHeld();
  // receiver_mail.cc: whether --delete spares DST entry `name` of the listed
  // directory `rel` ("" the root): a Maildir folder's tmp/ and its contents.
  bool SparedMailTmp(const std::string& rel, const Entry& e) const;

  Channel& ch_;
  const ReceiverConfig& cfg_;
  const SessionOptions opt_;
  const MetaPolicy policy_;
  SyncStats& stats_;
  SyncEvents& events_;
  SystemIdResolver resolver_;
  FileListValidator validator_;
  std::unique_ptr<io::IoBackend> io_;
  std::string suffix_;

  io::UniqueFd root_;
  // A deque: it grows by blocks (a vector's doubling moved the whole list
  // into fresh pages each time, the message thread's largest cost on a
  // tree of many small files), and an entry never moves.
  std::deque<Listed> list_;
  std::vector<uint32_t> dirs_;
  std::vector<uint32_t> followers_;
  std::unordered_set<std::string> failed_dirs_;
  // What the sender could not read (its Errors without a file index, other
  // than vanished; "" everything): the list lacks what is beneath, so
  // --delete and reuse leave DST's copy there alone (rsync: "IO error
  // encountered -- skipping file deletion").
  std::vector<std::string> unlisted_;
  std::shared_ptr<Dir> current_;
  uint32_t in_flight_limit_ = 0;  // cfg_.max_in_flight capped by RLIMIT_NOFILE
  // --delete: DST directories as first listed (path -> entries).
  std::map<std::string, std::shared_ptr<DstListing>> dst_listings_;
  std::map<uint32_t, std::shared_ptr<Dir>> parent_of_;  // pending requests' dirs
  std::map<uint32_t, std::optional<Entry>> existing_of_;
  std::map<uint32_t, bool> checksum_of_;
  std::deque<std::pair<uint32_t, bool>> pending_;  // index, whole
  std::map<uint32_t, std::unique_ptr<InFlight>> in_flight_;
  // --streams, final pass: this run's shared temporaries of split files
  // ("dir/temp name" -> open fd), the delta basis of their files.
  std::map<std::string, io::UniqueFd> split_basis_;
  std::vector<uint32_t> redo_;
  bool list_ended_ = false;
  bool awaiting_eop_ = false;
  bool final_pass_ = false;
  bool done_ = false;
  uint32_t pass_ = 1;
  uint64_t landed_files_ = 0, landed_bytes_ = 0;
  bool partial_ = false, vanished_ = false;
  bool warned_devices_ = false;
  // The agreed filter (--delete spares what it excludes) and owner maps.
  SyncRules rules_;
  bool root_created_ = false;  // DST did not exist (or, dry run, does not)
  bool root_absent_ = false;   // dry run: DST does not exist
  std::unordered_set<std::string> absent_dirs_;   // dry run: dirs not on DST
  std::map<uint32_t, std::string> dir_items_;  // existing dirs' metadata items
  std::unordered_set<uint32_t> dry_sent_;        // dry run: files that would be sent

  // Reuse of DST data (kCapReuse agreed; receiver_reuse.cc).
  bool reuse_ = false;
  bool defer_new_ = false;  // DST had entries: new files wait for the list's end
  std::vector<uint32_t> deferred_;                 // new files, in list order
  std::map<uint32_t, std::string> parent_path_of_;  // their directories
  // DST listings by directory.
  std::map<std::string, std::shared_ptr<DstListing>> seen_;
  std::vector<ReuseCand> cands_;
  std::map<uint32_t, std::vector<uint32_t>> probe_of_;  // index -> candidate ids
  std::unordered_set<uint32_t> no_append_;  // the append probe missed
  std::unordered_set<std::string> consumed_;  // DST paths renamed away
  std::shared_ptr<Dir> reopened_;
  std::shared_ptr<Dir> cand_dir_;  // ReuseInto: the last candidate's directory

  // --mail: index files whose data arrived, in arrival order, landed by
  // Finish after the deletions (receiver_mail.cc).
  std::vector<std::pair<std::unique_ptr<InFlight>, Hash128>> held_;

  // Holds replaced files' old copies until the session ends (DeferClose):
  // destroyed after the lander and releasers (declared before them).
  std::unique_ptr<io::DeferredClose> closer_;

  // DST directories listed ahead of the list (after root_: stopped first).
  std::unique_ptr<DirPrefetch> prefetch_;
  // Close landed files' old copies, in turn (stopped after the lander,
  // which hands them over): freeing one file's blocks waits for the device
  // (with discard), and several such waits overlap.
  std::vector<std::unique_ptr<Releaser>> releasers_;
  // The lander's (DeferClose): the helper was started (or tried), and how
  // much of the budget the old copies handed to it take.
  bool deferred_tried_ = false;
  uint64_t deferred_budget_ = 0, deferred_bytes_ = 0;
  size_t next_releaser_ = 0;  // the lander's
  // Installs completed files off this thread (stopped before the state it
  // uses goes).
  std::unique_ptr<Lander> lander_;
  // Held while a FileRequest or probe is queued, and while a signature
  // (FileRequest, SignatureHeader, SignatureBlocks) is sent: the sender
  // takes nothing else between a signature's messages.
  std::mutex requests_mu_;
  // Computes and sends the signatures of large basis files (SendSignature);
  // stopped first.
  std::unique_ptr<Signer> signer_;
  // Creates requested files' temporaries (StartOutput); stopped before the
  // in-flight files, which wait for theirs, go.
  std::unique_ptr<Opener> opener_;
  // Starts large temporaries' writeback as they are written (StartWriteback).
  std::unique_ptr<Flusher> flusher_;
};

}  // namespace ferry::protocol::receiver_internal
