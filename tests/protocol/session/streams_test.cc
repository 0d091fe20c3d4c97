// --streams (protocol/session/streams.h): the negotiated "stream k of N"
// option on the wire, the work split (every non-directory in exactly one
// stream, hard-link groups together, directories in all), and the
// orchestration (streams without --delete, then one final pass with the
// user's options; a failed stream fails the run and names itself).
#include "protocol/session/streams.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/io/posix_backend.h"
#include "protocol/codec_v1.h"
#include "tests/testing/temp_tree.h"

namespace ferry::protocol {
namespace {

SessionOptions Stream(uint32_t k, uint32_t n) {
  SessionOptions o;
  o.hard_links = true;
  o.max_frame = kDefaultMaxFrame;
  o.window = kDefaultWindow;
  o.stream_index = k;
  o.stream_count = n;
  return o;
}

Result<Message> RoundTrip(const SessionOptions& o) {
  CodecV1 codec(DecodeLimits{true, true, true, true, true});
  std::vector<std::byte> p;
  EXPECT_TRUE(codec.Encode(o, &p).ok());
  return codec.Decode(static_cast<uint8_t>(MsgType::kOptions), p);
}

TEST(StreamOption, RoundTripsAndPlainSessionsStayUnmarked) {
  SessionOptions split = Stream(1, 4);
  split.split_min = 1 << 20;
  split.run_id = 0xdeadbeef;
  for (const SessionOptions& o : {Stream(2, 3), Stream(0, 64), Stream(0, 0), Stream(3, 3), split}) {
    auto back = RoundTrip(o);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(std::get<SessionOptions>(*back), o);
  }
}

TEST(StreamOption, OutOfRangeStreamsAreRefusedByName) {
  auto index_past_count = RoundTrip(Stream(4, 3));
  ASSERT_FALSE(index_past_count.ok());
  EXPECT_NE(index_past_count.status().message().find("stream 4 of 3"), std::string::npos)
      << index_past_count.status().message();
  auto one = RoundTrip(Stream(0, 1));
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("stream 0 of 1"), std::string::npos);
  auto too_many = RoundTrip(Stream(1, 65));
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("stream_count"), std::string::npos)
      << too_many.status().message();
  SessionOptions tiny = Stream(0, 2);
  tiny.split_min = 4096;
  auto tiny_split = RoundTrip(tiny);
  ASSERT_FALSE(tiny_split.ok());
  EXPECT_NE(tiny_split.status().message().find("split_min 4096"), std::string::npos)
      << tiny_split.status().message();
  auto huge_index = RoundTrip(Stream(100, 3));
  ASSERT_FALSE(huge_index.ok());
  EXPECT_NE(huge_index.status().message().find("stream_index"), std::string::npos)
      << huge_index.status().message();
}

Entry File(uint64_t ino, uint32_t nlink = 1) {
  Entry e;
  e.mode = S_IFREG | 0644;
  e.dev = 42;
  e.ino = ino;
  e.nlink = nlink;
  return e;
}

TEST(StreamSends, EveryFileInExactlyOneStreamAndSpreadEvenly) {
  constexpr uint32_t kN = 3;
  std::vector<int> per_stream(kN);
  Entry sym;
  sym.mode = S_IFLNK | 0777;
  for (int i = 0; i < 3000; ++i) {
    const std::string path = "home/u" + std::to_string(i % 37) + "/f" + std::to_string(i);
    for (const Entry& e : {File(static_cast<uint64_t>(i) + 1), sym}) {
      int senders = 0;
      for (uint32_t k = 0; k < kN; ++k) {
        if (StreamSends(Stream(k, kN), e, path)) {
          ++senders;
          if (e.is_reg()) per_stream[k]++;
        }
      }
      EXPECT_EQ(senders, 1) << path;
    }
  }
  for (uint32_t k = 0; k < kN; ++k) {
    EXPECT_GT(per_stream[k], 800) << "stream " << k;
    EXPECT_LT(per_stream[k], 1200) << "stream " << k;
  }
}

TEST(StreamSends, DirectoriesInEveryStreamAndEverythingWithoutStreams) {
  Entry dir;
  dir.mode = S_IFDIR | 0755;
  for (uint32_t k = 0; k < 5; ++k) EXPECT_TRUE(StreamSends(Stream(k, 5), dir, "a/b"));
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(StreamSends(Stream(0, 0), File(7), "f" + std::to_string(i)));
  }
}

TEST(StreamSends, HardLinkGroupStaysInOneStream) {
  // The same inode under many names: one stream sends them all, so the
  // receiver of that stream links them.
  for (uint64_t ino = 1; ino < 40; ++ino) {
    std::set<uint32_t> owners;
    for (int name = 0; name < 10; ++name) {
      for (uint32_t k = 0; k < 4; ++k) {
        if (StreamSends(Stream(k, 4), File(ino, 10), "d" + std::to_string(name) + "/x"))
          owners.insert(k);
      }
    }
    EXPECT_EQ(owners.size(), 1u) << "inode " << ino;
  }
}

// Every stream creates every directory: a stream whose mkdir (EEXIST) or
// removal of DST's non-directory (EISDIR) failed because another stream
// made the directory first has lost a race, not failed. Anything else,
// a plain session, or a name that is not a directory now, is an error.
TEST(StreamLostMkdirRace, OnlyAStreamThatFindsTheDirectoryThereLostARace) {
  ferry::testing::TempDir tmp;
  ferry::testing::MakeDirs(tmp / "dir");
  ferry::testing::WriteFile(tmp / "file", "x");
  io::PosixBackend io;
  const int root = ::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(root, 0);
  const Status eexist(ErrorCode::kExists, "mkdir dir: File exists", EEXIST);
  const Status eisdir(ErrorCode::kIo, "unlink dir: Is a directory", EISDIR);
  const Status eacces(ErrorCode::kPermission, "mkdir dir: Permission denied", EACCES);
  EXPECT_TRUE(StreamLostMkdirRace(Stream(1, 3), io, root, "dir", eexist));
  EXPECT_TRUE(StreamLostMkdirRace(Stream(2, 3), io, root, "dir", eisdir));
  EXPECT_FALSE(StreamLostMkdirRace(Stream(1, 3), io, root, "dir", eacces));
  EXPECT_FALSE(StreamLostMkdirRace(Stream(1, 3), io, root, "file", eexist));
  EXPECT_FALSE(StreamLostMkdirRace(Stream(1, 3), io, root, "missing", eisdir));
  EXPECT_FALSE(StreamLostMkdirRace(Stream(0, 0), io, root, "dir", eexist));
  ::close(root);
}

TEST(SplitRange, RangesTileALargeFileAndSmallFilesTravelWhole) {
  constexpr uint64_t kSize = (uint64_t{5} << 30) + 12345;  // 5 GiB and a bit
  uint64_t next = 0;
  for (uint32_t k = 0; k < 3; ++k) {
    SessionOptions o = Stream(k, 3);
    o.split_min = 64 << 20;
    auto r = SplitRange(o, kSize, false);
    ASSERT_TRUE(r.has_value()) << k;
    EXPECT_EQ(r->offset, next) << "stream " << k << " starts where the previous ended";
    EXPECT_EQ(r->offset % (64 << 10), 0u);
    EXPECT_GT(r->length, kSize / 3 - (64 << 10));
    EXPECT_LT(r->length, kSize / 3 + (64 << 10));
    next = r->offset + r->length;
    Entry big = File(k + 1);
    big.size = kSize;
    EXPECT_TRUE(StreamSends(o, big, "any/path")) << "every stream lists it";
    EXPECT_FALSE(SplitRange(o, (64 << 20) - 1, false)) << "below split_min";
    EXPECT_FALSE(SplitRange(o, kSize, true)) << "a hard-link follower is linked, not sent";
  }
  EXPECT_EQ(next, kSize);
  SessionOptions fin = Stream(3, 3);
  fin.split_min = 64 << 20;
  EXPECT_FALSE(SplitRange(fin, kSize, false)) << "the final pass sends whole files";
  SessionOptions off = Stream(0, 3);
  EXPECT_FALSE(SplitRange(off, kSize, false)) << "split_min 0: never split";
}

struct Call {
  uint32_t index, count;
  bool del;
};

TEST(RunStreams, StreamsWithoutDeleteThenOneFinalPassWithTheUsersOptions) {
  SyncOptions opt;
  opt.del = true;
  std::mutex mu;
  std::vector<Call> calls;
  auto session = [&](uint32_t k, uint32_t n, const SyncOptions& so, SyncStats& st,
                     SyncEvents& ev) -> Result<RemoteResult> {
    {
      std::lock_guard<std::mutex> l(mu);
      calls.push_back({k, n, so.del});
    }
    st.files = 100;  // every session scans the whole tree
    st.transferred_files = k == n ? 0 : 10 + k;
    st.deleted = k == n ? 4 : 0;
    ev.OnWarning("skipping device files: only root can create them");
    RemoteResult r;
    r.bytes_sent = 1000;
    r.outcome.partial = k == 1;
    return r;
  };
  struct Counting : SyncEvents {
    int warnings = 0;
    void OnWarning(std::string_view) override { ++warnings; }
  } events;
  SyncStats stats;
  auto r = RunStreams(3, opt, session, stats, events);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(calls.size(), 4u);
  std::set<uint32_t> streams;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(calls[i].count, 3u);
    EXPECT_FALSE(calls[i].del) << "a stream must not delete what another stream sends";
    streams.insert(calls[i].index);
  }
  EXPECT_EQ(streams, (std::set<uint32_t>{0, 1, 2}));
  EXPECT_EQ(calls[3].count, 3u);
  EXPECT_EQ(calls[3].index, 3u) << "the final pass is stream N of N: not a stream";
  EXPECT_TRUE(calls[3].del);
  EXPECT_EQ(stats.transferred_files.load(), 10u + 11u + 12u);
  EXPECT_EQ(stats.deleted.load(), 4u);
  EXPECT_EQ(stats.files.load(), 100u) << "the tree is counted once, not per stream";
  EXPECT_EQ(r->bytes_sent, 4000u);
  EXPECT_TRUE(r->outcome.partial);
  EXPECT_EQ(events.warnings, 1) << "the same warning from every stream is shown once";
}

// --json's "planned" and the progress line's totals: one event, when every
// stream has compared its list, with the sum of their plans.
TEST(RunStreams, TheStreamsPlansAreReportedOnceWithTheirSum) {
  auto session = [&](uint32_t k, uint32_t n, const SyncOptions&, SyncStats& st,
                     SyncEvents& ev) -> Result<RemoteResult> {
    st.planned_files = k == n ? 2 : 10 + k;
    st.planned_bytes = k == n ? 50 : 1000 * (k + 1);
    st.planned = true;
    ev.OnPlanned(st);
    return RemoteResult{};
  };
  struct Planned : SyncEvents {
    std::vector<std::pair<uint64_t, uint64_t>> calls;
    void OnPlanned(const SyncStats& s) override {
      EXPECT_TRUE(s.planned.load());
      calls.emplace_back(s.planned_files.load(), s.planned_bytes.load());
    }
  } events;
  SyncStats stats;
  auto r = RunStreams(3, SyncOptions{}, session, stats, events);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(events.calls.size(), 1u) << "one plan for the run, not one per session";
  EXPECT_EQ(events.calls[0], (std::pair<uint64_t, uint64_t>{10 + 11 + 12, 6000}));
  // The final pass's own plan is counted in the totals.
  EXPECT_TRUE(stats.planned.load());
  EXPECT_EQ(stats.planned_files.load(), 35u);
  EXPECT_EQ(stats.planned_bytes.load(), 6050u);
}

// Whether `cond` held at some check, every 10 ms for up to 5 s.
template <typename F>
bool SeenWithin5s(F cond) {
  for (int i = 0; i < 500; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Runs 3 streams and the final pass; `stream(k, n, stats)` fills a
// session's stats, and the streams (not the final pass) then wait until
// `seen` held or 5 s passed: whether it held while they ran. The run must
// succeed.
template <typename Stream, typename Seen>
bool SeenWhileThreeStreamsRun(Stream stream, SyncStats& stats, Seen seen) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto session = [&](uint32_t k, uint32_t n, const SyncOptions&, SyncStats& st,
                     SyncEvents&) -> Result<RemoteResult> {
    stream(k, n, st);
    if (k != n) released.wait();
    return RemoteResult{};
  };
  SyncEvents events;
  auto run = std::async(std::launch::async, [&] {
    return RunStreams(3, SyncOptions{}, session, stats, events);
  });
  const bool held = SeenWithin5s(seen);
  release.set_value();
  auto r = run.get();
  EXPECT_TRUE(r.ok()) << r.status().message();
  return held;
}

// The progress line reads the run's stats while the streams move data: it
// sees their work as it happens, not only when the last stream ends.
TEST(RunStreams, TheStreamsWorkShowsWhileTheyRun) {
  SyncStats stats;
  const bool seen = SeenWhileThreeStreamsRun(
      [](uint32_t k, uint32_t n, SyncStats& st) {
        if (k == n) return;
        st.literal_bytes = 100 * (k + 1);
        st.transferred_files = 1;
      },
      stats,
      [&] { return stats.literal_bytes.load() == 600 && stats.transferred_files.load() == 3; });
  EXPECT_TRUE(seen) << "the streams' work was not in the run's stats while they ran";
  EXPECT_EQ(stats.literal_bytes.load(), 600u);
  EXPECT_EQ(stats.transferred_files.load(), 3u);
}

// The progress line's "scan N entries" while the streams list: each stream
// counts its share of the files and every directory; the run shows the
// tree's count (shares summed, directories once), then the final pass's.
TEST(RunStreams, TheScanCountsShowWhileTheStreamsRun) {
  SyncStats stats;
  const bool seen = SeenWhileThreeStreamsRun(
      [](uint32_t k, uint32_t n, SyncStats& st) {
        if (k == n) {
          st.files = 41;
          st.dirs = 11;
          st.reg_files = 30;
          return;
        }
        st.dirs = 10;                // every stream lists every directory
        st.reg_files = 5 * (k + 1);  // 5, 10, 15: its share of the files
        st.files = st.dirs.load() + st.reg_files.load();
        st.total_size = 100 * (k + 1);
      },
      stats, [&] {
        return stats.files.load() == 40 && stats.dirs.load() == 10 &&
               stats.reg_files.load() == 30 && stats.total_size.load() == 600;
      });
  EXPECT_TRUE(seen) << "the scan counts were " << stats.files.load() << " while the streams ran";
  EXPECT_EQ(stats.files.load(), 41u) << "the final pass's count";
  EXPECT_EQ(stats.dirs.load(), 11u);
}

TEST(RunStreams, FailedStreamFailsTheRunAndSkipsTheFinalPass) {
  std::atomic<int> finals{0};
  auto session = [&](uint32_t k, uint32_t n, const SyncOptions&, SyncStats&,
                     SyncEvents&) -> Result<RemoteResult> {
    if (k == n) ++finals;
    if (k == 1) return Status(ErrorCode::kIo, "connection closed by the receiver");
    return RemoteResult{};
  };
  SyncEvents events;
  SyncStats stats;
  auto r = RunStreams(3, SyncOptions{}, session, stats, events);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kIo);
  EXPECT_NE(r.status().message().find("stream 2 of 3: connection closed"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(finals.load(), 0) << "no --delete pass after a failed stream";
}

TEST(RunStreams, StreamCountOutsideTheLimitIsRefused) {
  auto never = [](uint32_t, uint32_t, const SyncOptions&, SyncStats&,
                  SyncEvents&) -> Result<RemoteResult> {
    ADD_FAILURE() << "no session may start";
    return RemoteResult{};
  };
  SyncEvents events;
  SyncStats stats;
  EXPECT_EQ(RunStreams(65, SyncOptions{}, never, stats, events).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::protocol
