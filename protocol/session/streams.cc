#include "protocol/session/streams.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "engine/base/hash.h"
#include "protocol/session/common.h"

namespace ferry::protocol {

namespace {

uint32_t Pick(std::span<const std::byte> key, uint32_t count) {
  return static_cast<uint32_t>(HashBytes(key).lo % count);
}

// The events of all sessions, one at a time; a warning said by several
// streams ("skipping device files") is passed on once. The streams' plans
// (OnPlanned, one per stream) are passed on once, when every stream has
// planned, through `all_planned` (which fills in the summed totals); the
// final pass's is not (the totals it adds are counted in the stats).
class SerialEvents : public SyncEvents {
 public:
  SerialEvents(SyncEvents& inner, uint32_t streams, std::function<const SyncStats&()> all_planned)
      : inner_(inner), streams_(streams), all_planned_(std::move(all_planned)) {}
  void OnItem(std::string_view item, std::string_view path) override {
    std::lock_guard<std::mutex> l(mu_);
    inner_.OnItem(item, path);
  }
  void OnChange(const Change& c) override {
    std::lock_guard<std::mutex> l(mu_);
    inner_.OnChange(c);
  }
  void OnError(const Status& e) override {
    std::lock_guard<std::mutex> l(mu_);
    inner_.OnError(e);
  }
  void OnPathError(std::string_view path, const Status& e) override {
    std::lock_guard<std::mutex> l(mu_);
    inner_.OnPathError(path, e);
  }
  void OnWarning(std::string_view m) override {
    std::lock_guard<std::mutex> l(mu_);
    if (warned_.emplace(m).second) inner_.OnWarning(m);
  }
  void OnVanished(std::string_view path) override {
    std::lock_guard<std::mutex> l(mu_);
    inner_.OnVanished(path);
  }
  void OnPlanned(const SyncStats&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (++planned_ == streams_) inner_.OnPlanned(all_planned_());
  }

 private:
  SyncEvents& inner_;
  const uint32_t streams_;
  const std::function<const SyncStats&()> all_planned_;
  std::mutex mu_;
  std::set<std::string, std::less<>> warned_;
  uint32_t planned_ = 0;
};

// What a session did (not the scan counts: every stream scans the same
// tree; not the plan, summed on its own).
template <typename F>
void ForEachWorkCount(F f) {
  for (std::atomic<uint64_t> SyncStats::*m :
       {&SyncStats::created, &SyncStats::deleted, &SyncStats::transferred_files,
        &SyncStats::transferred_bytes, &SyncStats::literal_bytes, &SyncStats::matched_bytes,
        &SyncStats::reflinked_bytes, &SyncStats::hard_links, &SyncStats::renamed_files,
        &SyncStats::dst_copied_files, &SyncStats::renamed_bytes, &SyncStats::appended_files,
        &SyncStats::append_reused_bytes, &SyncStats::meta_updates, &SyncStats::errors,
        &SyncStats::vanished, &SyncStats::delete_skipped}) {
    f(m);
  }
}

// `t` = the sum of the sessions' work so far (and of their plans once
// `planned`): what the progress line and --stats show.
void StoreSum(SyncStats& t, const std::vector<const SyncStats*>& from, bool planned) {
  ForEachWorkCount([&](std::atomic<uint64_t> SyncStats::*m) {
    uint64_t v = 0;
    for (const SyncStats* s : from) v += (s->*m).load();
    (t.*m).store(v);
  });
  if (!planned) return;
  uint64_t files = 0, bytes = 0;
  for (const SyncStats* s : from) {
    files += s->planned_files.load();
    bytes += s->planned_bytes.load();
  }
  t.planned_files = files;
  t.planned_bytes = bytes;
  t.planned = true;
}

// While the streams run, the scan counts of the whole tree: each stream
// counts its share of the non-directories and every directory, so the
// shares are summed and the directories counted once (the furthest
// stream's).
void StoreScanSum(SyncStats& t, const std::vector<const SyncStats*>& streams) {
  uint64_t files = 0, reg = 0, links = 0, specials = 0, size = 0, dirs = 0;
  for (const SyncStats* s : streams) {
    const uint64_t d = s->dirs.load();
    files += s->files.load() - std::min(s->files.load(), d);
    reg += s->reg_files.load();
    links += s->symlinks.load();
    specials += s->specials.load();
    size += s->total_size.load();
    dirs = std::max(dirs, d);
  }
  t.files = files + dirs;
  t.reg_files = reg;
  t.dirs = dirs;
  t.symlinks = links;
  t.specials = specials;
  t.total_size = size;
}

void SetScan(SyncStats& t, const SyncStats& s) {
  t.files = s.files.load();
  t.reg_files = s.reg_files.load();
  t.dirs = s.dirs.load();
  t.symlinks = s.symlinks.load();
  t.specials = s.specials.load();
  t.total_size = s.total_size.load();
}

void Merge(RemoteResult& total, const RemoteResult& r) {
  total.bytes_sent += r.bytes_sent;
  total.bytes_received += r.bytes_received;
  total.outcome.partial |= r.outcome.partial;
  total.outcome.vanished |= r.outcome.vanished;
  total.outcome.max_delete_hit |= r.outcome.max_delete_hit;
}

}  // namespace

bool IsStream(const SessionOptions& o) {
  return o.stream_count != 0 && o.stream_index < o.stream_count;
}

bool StreamSends(const SessionOptions& o, const Entry& e, const std::string& path) {
  if (!IsStream(o) || e.is_dir()) return true;
  // Split by ranges: every stream lists it (a follower too, so that every
  // stream's list agrees on the leader).
  if (e.is_reg() && o.split_min != 0 && e.size >= o.split_min) return true;
  if (o.hard_links && e.is_reg() && e.nlink > 1) {
    const uint64_t key[2] = {e.dev, e.ino};
    return Pick(std::as_bytes(std::span(key)), o.stream_count) == o.stream_index;
  }
  return Pick(std::as_bytes(std::span(path.data(), path.size())), o.stream_count) ==
         o.stream_index;
}

bool StreamLostMkdirRace(const SessionOptions& o, io::IoBackend& io, int dirfd,
                         const char* name, const Status& mkdir_error) {
  // EEXIST from the mkdir; EISDIR from removing the non-directory that
  // another stream has already replaced with the directory.
  const int e = mkdir_error.sys_errno();
  if (!IsStream(o) || (e != EEXIST && e != EISDIR)) return false;
  auto st = io.StatAt(dirfd, name, AT_SYMLINK_NOFOLLOW);
  return st.ok() && S_ISDIR(st->st_mode);
}

bool RemovesLeftovers(const SessionOptions& o) { return !IsStream(o); }

bool AppliesDirMeta(const SessionOptions& o) { return !IsStream(o); }

std::optional<ByteRange> SplitRange(const SessionOptions& o, uint64_t size, bool follower) {
  if (!IsStream(o) || o.split_min == 0 || size < o.split_min || follower) return std::nullopt;
  constexpr uint64_t kAlign = 64 << 10;
  auto start = [&](uint32_t k) -> uint64_t {
    if (k == 0) return 0;
    if (k >= o.stream_count) return size;
    // size * k / N without overflow.
    const uint64_t n = o.stream_count;
    const uint64_t at = size / n * k + size % n * k / n;
    return at / kAlign * kAlign;
  };
  const uint64_t lo = start(o.stream_index);
  return ByteRange{lo, start(o.stream_index + 1) - lo};
}

namespace {
std::string RunSuffix(const SessionOptions& o) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", o.run_id);
  return buf;
}
}  // namespace

std::string SplitTempName(const SessionOptions& o, const std::string& name) {
  return TempName(name, RunSuffix(o));
}

bool IsSplitTemp(const SessionOptions& o, const std::string& temp) {
  if (o.stream_count == 0 || o.stream_index != o.stream_count || o.split_min == 0) return false;
  return IsTempName(temp) && temp.ends_with("." + RunSuffix(o));
}

Result<RemoteResult> RunStreams(uint32_t streams, const SyncOptions& opt,
                                const StreamSession& session, SyncStats& stats,
                                SyncEvents& events) {
  if (streams < 2 || streams > kStreamsMax) {
    return InvalidArgument("--streams " + std::to_string(streams) + " is outside 1.." +
                           std::to_string(kStreamsMax));
  }
  const auto start = std::chrono::steady_clock::now();
  SyncOptions stream_opt = opt;
  stream_opt.del = false;
  std::vector<std::unique_ptr<SyncStats>> part(streams + 1);  // [streams]: the final pass
  for (auto& p : part) p = std::make_unique<SyncStats>();
  std::vector<const SyncStats*> sessions;
  for (auto& p : part) sessions.push_back(p.get());
  // The plan and progress of the whole run are the sums of the sessions':
  // kept up to date while they run (the progress line and --json read
  // `stats` meanwhile), planned once every stream has compared its list.
  std::mutex sum_mu;
  std::atomic<bool> all_planned{false};
  const std::vector<const SyncStats*> stream_parts(sessions.begin(), sessions.end() - 1);
  auto update = [&] {
    std::lock_guard<std::mutex> l(sum_mu);
    StoreSum(stats, sessions, all_planned);
    StoreScanSum(stats, stream_parts);  // the final pass's SetScan replaces it
  };
  SerialEvents serial(events, streams, [&]() -> const SyncStats& {
    all_planned = true;
    update();
    return stats;
  });
  std::vector<Result<RemoteResult>> results(streams, Status(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  stats.phase = SyncPhase::kCopy;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop = false;
  std::thread summer([&] {
    std::unique_lock<std::mutex> l(stop_mu);
    while (!stop_cv.wait_for(l, std::chrono::milliseconds(100), [&] { return stop; })) {
      l.unlock();
      update();
      l.lock();
    }
  });
  auto stop_summer = [&] {
    {
      std::lock_guard<std::mutex> l(stop_mu);
      stop = true;
    }
    stop_cv.notify_all();
    summer.join();
  };
  for (uint32_t k = 0; k < streams; ++k) {
    threads.emplace_back([&, k] { results[k] = session(k, streams, stream_opt, *part[k], serial); });
  }
  for (std::thread& t : threads) t.join();
  RemoteResult total;
  for (uint32_t k = 0; k < streams; ++k) {
    if (!results[k].ok()) {
      stop_summer();
      update();
      const Status& s = results[k].status();
      return Status(s.code(), "stream " + std::to_string(k + 1) + " of " +
                                  std::to_string(streams) + ": " + s.message());
    }
    Merge(total, *results[k]);
  }
  // The final pass: --delete, directory metadata, whatever a stream missed.
  auto fin = session(streams, streams, opt, *part[streams], serial);
  stop_summer();
  update();
  SetScan(stats, *part[streams]);
  if (!fin.ok()) {
    const Status& s = fin.status();
    return Status(s.code(), "final pass after " + std::to_string(streams) + " streams: " +
                                s.message());
  }
  Merge(total, *fin);
  stats.phase = SyncPhase::kDone;
  total.outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return total;
}

}  // namespace ferry::protocol
