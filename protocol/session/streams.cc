#include "protocol/session/streams.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
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
// streams ("skipping device files") is passed on once.
class SerialEvents : public SyncEvents {
 public:
  explicit SerialEvents(SyncEvents& inner) : inner_(inner) {}
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

 private:
  SyncEvents& inner_;
  std::mutex mu_;
  std::set<std::string, std::less<>> warned_;
};

void Add(std::atomic<uint64_t>& to, const std::atomic<uint64_t>& from) { to += from.load(); }

// What a session did, added to the total (the scan counts are not: every
// stream scans the same tree).
void AddWork(SyncStats& t, const SyncStats& s) {
  Add(t.planned_files, s.planned_files);
  Add(t.planned_bytes, s.planned_bytes);
  Add(t.created, s.created);
  Add(t.deleted, s.deleted);
  Add(t.transferred_files, s.transferred_files);
  Add(t.transferred_bytes, s.transferred_bytes);
  Add(t.literal_bytes, s.literal_bytes);
  Add(t.matched_bytes, s.matched_bytes);
  Add(t.reflinked_bytes, s.reflinked_bytes);
  Add(t.hard_links, s.hard_links);
  Add(t.renamed_files, s.renamed_files);
  Add(t.dst_copied_files, s.dst_copied_files);
  Add(t.renamed_bytes, s.renamed_bytes);
  Add(t.appended_files, s.appended_files);
  Add(t.append_reused_bytes, s.append_reused_bytes);
  Add(t.meta_updates, s.meta_updates);
  Add(t.errors, s.errors);
  Add(t.vanished, s.vanished);
  Add(t.delete_skipped, s.delete_skipped);
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
  if (!IsStream(o) || mkdir_error.sys_errno() != EEXIST) return false;
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
  SerialEvents serial(events);
  SyncOptions stream_opt = opt;
  stream_opt.del = false;
  std::vector<std::unique_ptr<SyncStats>> part(streams);
  std::vector<Result<RemoteResult>> results(streams, Status(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  stats.phase = SyncPhase::kCopy;
  for (uint32_t k = 0; k < streams; ++k) {
    part[k] = std::make_unique<SyncStats>();
    threads.emplace_back([&, k] { results[k] = session(k, streams, stream_opt, *part[k], serial); });
  }
  for (std::thread& t : threads) t.join();
  RemoteResult total;
  for (uint32_t k = 0; k < streams; ++k) {
    AddWork(stats, *part[k]);
    if (!results[k].ok()) {
      const Status& s = results[k].status();
      return Status(s.code(), "stream " + std::to_string(k + 1) + " of " +
                                  std::to_string(streams) + ": " + s.message());
    }
    Merge(total, *results[k]);
  }
  // The final pass: --delete, directory metadata, whatever a stream missed.
  SyncStats last;
  auto fin = session(streams, streams, opt, last, serial);
  AddWork(stats, last);
  SetScan(stats, last);
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
