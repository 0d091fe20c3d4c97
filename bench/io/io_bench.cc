// I/O backend benchmarks over a generated tree of small files (warm cache):
//  (a) stat every entry: fstatat loop vs io_uring STATX batches;
//  (b) whole small-file read: PosixBackend::ReadFiles vs UringBackend's;
//  (c) create+write+land (rename over the previous copy): both backends,
//      and new files created O_TMPFILE and linked into place;
//  (d) list the xattrs of every file: /proc path vs listxattrat.
// The CPU column is process CPU time: it includes io_uring's kernel worker
// threads (io-wq), which do the STATX, O_CREAT-open, rename and fsync work.
// Every benchmark processes the whole tree per iteration, split across its
// threads (thread t takes directories t, t+T, ...), so the Time column of a
// 1-thread and a 2-thread run compare directly. Each thread owns its own
// backend (its own ring), as the engine's worker threads do.
//
// The tree goes under $FERRY_BENCH_DIR (default $TMPDIR or /tmp); the file
// system type is printed in the context, since tmpfs and ext4 differ.
// Results and the command: bench/results/io.md.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/io/posix_backend.h"
#include "engine/io/uring_backend.h"

namespace ferry::io {
namespace {

constexpr int kDirs = 20;
constexpr int kFilesPerDir = 1000;  // 20,000 files of 1-8 KiB
constexpr size_t kBatch = 256;      // ops per ReadFiles/CreateFiles/LandFiles

void Die(const char* what, const std::string& path) {
  std::fprintf(stderr, "io_bench: %s %s: %s\n", what, path.c_str(),
               std::strerror(errno));
  std::exit(1);
}

struct Tree {
  std::string root;
  std::vector<int> src_fds, out_fds;  // per directory
  std::vector<std::vector<std::string>> names, tmp_names;
  std::vector<std::vector<size_t>> sizes;
  std::string data;  // contents source for writes

  Tree() {
    const char* base = std::getenv("FERRY_BENCH_DIR");
    if (base == nullptr || *base == 0) base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") +
                       "/ferry-io-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp", tmpl);
    root = tmpl;
    data.resize(8192);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (char& c : data) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      c = static_cast<char>(x);
    }
    names.resize(kDirs);
    tmp_names.resize(kDirs);
    sizes.resize(kDirs);
    for (int d = 0; d < kDirs; ++d) {
      std::string src = root + "/src" + std::to_string(d);
      std::string out = root + "/out" + std::to_string(d);
      if (::mkdir(src.c_str(), 0755) != 0) Die("mkdir", src);
      if (::mkdir(out.c_str(), 0755) != 0) Die("mkdir", out);
      src_fds.push_back(::open(src.c_str(), O_RDONLY | O_DIRECTORY));
      out_fds.push_back(::open(out.c_str(), O_RDONLY | O_DIRECTORY));
      for (int i = 0; i < kFilesPerDir; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t size = 1024 + x % (7 * 1024 + 1);
        std::string name = "file-" + std::to_string(i) + ".dat";
        int fd = ::openat(src_fds.back(), name.c_str(),
                          O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0 || ::write(fd, data.data(), size) !=
                          static_cast<ssize_t>(size)) {
          Die("write", name);
        }
        ::close(fd);
        names[d].push_back(name);
        tmp_names[d].push_back(".ferry-tmp." + name);
        sizes[d].push_back(size);
      }
    }
    struct statfs fs;
    char type[32];
    std::snprintf(type, sizeof type, "0x%lx",
                  ::statfs(root.c_str(), &fs) == 0
                      ? static_cast<unsigned long>(fs.f_type)
                      : 0ul);
    ::sync();  // the benchmarks read a clean, warm page cache
    benchmark::AddCustomContext("bench_dir", root);
    benchmark::AddCustomContext(
        "bench_fs", std::string(type) + (fs.f_type == 0xEF53     ? " (ext4)"
                                         : fs.f_type == 0x01021994 ? " (tmpfs)"
                                         : fs.f_type == 0x58465342 ? " (xfs)"
                                         : fs.f_type == 0x9123683E ? " (btrfs)"
                                                                   : ""));
  }
  ~Tree() {
    for (int fd : src_fds) ::close(fd);
    for (int fd : out_fds) ::close(fd);
    std::string cmd = "rm -rf '" + root + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "cleanup failed\n");
  }
};

}  // namespace

Tree& GetTree() {
  static Tree tree;  // built once, before the benchmarks run
  return tree;
}

namespace {

// Directories thread t of T handles.
std::vector<int> MyDirs(const benchmark::State& state) {
  std::vector<int> out;
  for (int d = state.thread_index(); d < kDirs; d += state.threads())
    out.push_back(d);
  return out;
}

// Backend variants (the benchmark's first argument).
enum Variant {
  kPosix = 0,
  kUring = 1,           // UringOptions defaults: the shipped configuration
  kUringSyncOpenRename = 2,  // O_CREAT open and rename as plain syscalls
  kUringNoEofSkip = 3,  // reads to EOF (no fstat shortcut)
};
const char* VariantName(int v) {
  switch (v) {
    case kPosix: return "posix";
    case kUring: return "io_uring";
    case kUringSyncOpenRename: return "io_uring_sync_open_rename";
    default: return "io_uring_read_to_eof";
  }
}

std::unique_ptr<IoBackend> MakeVariant(int v, benchmark::State& state) {
  if (v == kPosix) return std::make_unique<PosixBackend>();
  UringOptions o;
  if (v == kUringSyncOpenRename) {
    o.sync_create_open = true;
    o.sync_rename = true;
  } else if (v == kUringNoEofSkip) {
    o.eof_from_fstat = false;
  }
  auto b = UringBackend::Create(o);
  if (!b.ok()) {
    state.SkipWithError(b.status().ToString().c_str());
    return nullptr;
  }
  return std::move(b).value();
}

// --- (a) stat every entry ----------------------------------------------------

void BM_StatFstatat(benchmark::State& state) {
  Tree& t = GetTree();
  std::vector<int> dirs = MyDirs(state);
  size_t files = 0;
  for (auto _ : state) {
    for (int d : dirs) {
      for (const std::string& n : t.names[d]) {
        struct stat st;
        if (::fstatat(t.src_fds[d], n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
          state.SkipWithError("fstatat failed");
        benchmark::DoNotOptimize(st);
      }
      files += t.names[d].size();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(files));
}

// The backend's loop shape (bounded in flight, one submit+wait per round,
// batched reaping) applied to IORING_OP_STATX.
void BM_StatUringStatx(benchmark::State& state) {
  Tree& t = GetTree();
  std::vector<int> dirs = MyDirs(state);
  const unsigned depth = static_cast<unsigned>(state.range(0));
  io_uring ring;
  if (io_uring_queue_init(depth, &ring, 0) < 0) {
    state.SkipWithError("io_uring_queue_init failed");
    return;
  }
  std::vector<struct statx> out(kFilesPerDir);
  size_t files = 0;
  for (auto _ : state) {
    for (int d : dirs) {
      const std::vector<std::string>& names = t.names[d];
      size_t next = 0, done = 0;
      unsigned inflight = 0;
      while (done < names.size()) {
        while (next < names.size() && inflight < depth) {
          io_uring_sqe* sqe = io_uring_get_sqe(&ring);
          if (sqe == nullptr) break;
          io_uring_prep_statx(sqe, t.src_fds[d], names[next].c_str(),
                              AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
                              &out[next]);
          io_uring_sqe_set_data64(sqe, next);
          ++next;
          ++inflight;
        }
        int r = io_uring_submit_and_wait(&ring, 1);
        if (r < 0 && r != -EINTR) state.SkipWithError("submit failed");
        unsigned head, seen = 0;
        io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring, head, cqe) {
          if (cqe->res < 0) state.SkipWithError("statx failed");
          ++seen;
        }
        io_uring_cq_advance(&ring, seen);
        inflight -= seen;
        done += seen;
      }
      benchmark::DoNotOptimize(out.data());
      files += names.size();
    }
  }
  io_uring_queue_exit(&ring);
  state.SetItemsProcessed(static_cast<int64_t>(files));
}

// --- (b) whole small-file reads -----------------------------------------------

void BM_ReadFiles(benchmark::State& state) {
  Tree& t = GetTree();
  std::vector<int> dirs = MyDirs(state);
  state.SetLabel(VariantName(static_cast<int>(state.range(0))));
  std::unique_ptr<IoBackend> b = MakeVariant(static_cast<int>(state.range(0)),
                                             state);
  if (!b) return;
  std::vector<std::byte> buf(kBatch * (8192 + 1));
  std::vector<ReadFileOp> ops(kBatch);
  size_t files = 0, bytes = 0;
  for (auto _ : state) {
    for (int d : dirs) {
      for (size_t i = 0; i < t.names[d].size(); i += kBatch) {
        size_t n = std::min(kBatch, t.names[d].size() - i);
        for (size_t k = 0; k < n; ++k) {
          ops[k] = ReadFileOp{};
          ops[k].dirfd = t.src_fds[d];
          ops[k].name = t.names[d][i + k].c_str();
          ops[k].buf = buf.data() + k * (8192 + 1);
          ops[k].buf_len = t.sizes[d][i + k] + 1;
        }
        b->ReadFiles({ops.data(), n});
        for (size_t k = 0; k < n; ++k) {
          if (ops[k].err != 0 || ops[k].bytes_read != t.sizes[d][i + k])
            state.SkipWithError("read failed");
          bytes += ops[k].bytes_read;
        }
      }
      files += t.names[d].size();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(files));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// --- (c) create + write + land ------------------------------------------------

// One pass: per_dir files of each of `dirs` are written to a temporary and
// renamed to their final name, inside `pass_fds` (one fresh directory per
// source directory and pass). With `unnamed`, each file is created O_TMPFILE
// and linked as its final name instead (what the engine does for new files).
bool CreateAndLand(IoBackend& b, Tree& t, const std::vector<int>& dirs,
                   const std::vector<int>& pass_fds, bool fsync,
                   size_t per_dir, std::vector<WriteFileOp>& w,
                   std::vector<LandOp>& l, bool unnamed = false) {
  bool ok = true;
  for (size_t j = 0; j < dirs.size(); ++j) {
    const int d = dirs[j];
    for (size_t i = 0; i < per_dir; i += kBatch) {
      size_t n = std::min(kBatch, per_dir - i);
      for (size_t k = 0; k < n; ++k) {
        w[k] = WriteFileOp{};
        w[k].dirfd = pass_fds[j];
        w[k].name = unnamed ? nullptr : t.tmp_names[d][i + k].c_str();
        w[k].mode = 0644;
        w[k].data = reinterpret_cast<const std::byte*>(t.data.data());
        w[k].len = t.sizes[d][i + k];
      }
      b.CreateFiles({w.data(), n});
      for (size_t k = 0; k < n; ++k) {
        if (w[k].err != 0) return false;
        l[k] = LandOp{};
        l[k].fd = w[k].fd;
        l[k].dirfd = pass_fds[j];
        l[k].tmp_name = unnamed ? nullptr : t.tmp_names[d][i + k].c_str();
        l[k].final_name = t.names[d][i + k].c_str();
        l[k].fsync = fsync;
      }
      b.LandFiles({l.data(), n});
      for (size_t k = 0; k < n; ++k) ok = ok && l[k].err == 0;
    }
  }
  return ok;
}

// Every pass writes into fresh directories and nothing is deleted before the
// process exits: on ext4, creating files right after deleting many makes
// inode allocation skip the recently deleted ones, which costs more than
// everything measured here (seen: 20x slower opens) and is no backend's doing.
void CreateLand(benchmark::State& state, bool fsync, size_t per_dir,
                bool unnamed = false) {
  Tree& t = GetTree();
  std::vector<int> dirs = MyDirs(state);
  state.SetLabel(VariantName(static_cast<int>(state.range(0))));
  std::unique_ptr<IoBackend> b = MakeVariant(static_cast<int>(state.range(0)),
                                             state);
  if (!b) return;
  std::vector<WriteFileOp> w(kBatch);
  std::vector<LandOp> l(kBatch);
  static std::atomic<int> pass_counter{0};
  auto fresh_dirs = [&](std::vector<int>& fds) {
    for (int fd : fds) ::close(fd);
    fds.clear();
    std::string name = "p" + std::to_string(pass_counter++);
    for (int d : dirs) {
      if (::mkdirat(t.out_fds[d], name.c_str(), 0755) != 0) Die("mkdir", name);
      fds.push_back(::openat(t.out_fds[d], name.c_str(),
                             O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
  };
  std::vector<int> pass_fds;
  if (state.thread_index() == 0) ::sync();  // start without dirty data
  size_t files = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fresh_dirs(pass_fds);
    state.ResumeTiming();
    if (!CreateAndLand(*b, t, dirs, pass_fds, fsync, per_dir, w, l, unnamed)) {
      state.SkipWithError("create/land failed");
      break;
    }
    files += dirs.size() * per_dir;
  }
  for (int fd : pass_fds) ::close(fd);
  state.SetItemsProcessed(static_cast<int64_t>(files));
}

// 10,000 files (500 from each directory) per pass: an initial copy.
void BM_CreateLand(benchmark::State& state) { CreateLand(state, false, 500); }
// The same with fsync before close, 1,000 files (50 per directory): what
// overlapping fsyncs on the ring's worker threads does on this disk. Not a
// warm-cache number.
void BM_CreateLandFsync(benchmark::State& state) {
  CreateLand(state, true, 50);
}

// The same 10,000 new files created unnamed (O_TMPFILE) and linked into
// place (linkat AT_EMPTY_PATH / IORING_OP_LINKAT) instead of a named
// temporary plus rename: one directory entry instead of two, no rename. The
// engine lands every new small file this way.
void BM_CreateLinkUnnamed(benchmark::State& state) {
  CreateLand(state, false, 500, true);
}

// --- (d) list xattrs of every file -------------------------------------------

// What a no-change pass does per file besides the stat: list its xattrs by
// (dirfd, name). Arg 0: llistxattr on "/proc/self/fd/N/name" (the fallback);
// Arg 1: Linux 6.13's listxattrat(dirfd, name) (ENOSYS on older kernels:
// reported as skipped). The files carry no xattrs, like most of a web tree.
void BM_ListXattrs(benchmark::State& state) {
  Tree& t = GetTree();
  const bool xattrat = state.range(0) == 1;
  state.SetLabel(xattrat ? "listxattrat" : "proc_path_llistxattr");
  SetXattrAtForTesting(xattrat);
  PosixBackend b;
  if (xattrat) {
    long r = ::syscall(465, t.src_fds[0], t.names[0][0].c_str(),
                       AT_SYMLINK_NOFOLLOW, nullptr, 0);
    if (r < 0 && errno == ENOSYS) {
      state.SkipWithError("listxattrat: ENOSYS (kernel older than 6.13)");
      return;
    }
  }
  size_t files = 0;
  for (auto _ : state) {
    for (int d = 0; d < kDirs; ++d) {
      for (const std::string& n : t.names[d]) {
        auto r = b.ReadXattrs(t.src_fds[d], n.c_str());
        if (!r.ok()) {
          state.SkipWithError(r.status().ToString().c_str());
          return;
        }
        benchmark::DoNotOptimize(r);
        ++files;
      }
    }
  }
  SetXattrAtForTesting(true);
  state.SetItemsProcessed(static_cast<int64_t>(files));
}

// Variants: 0 posix, 1 io_uring (shipped defaults), 2 io_uring with O_CREAT
// opens and renames as plain syscalls, 3 io_uring reading to EOF.
BENCHMARK(BM_StatFstatat)->Threads(1)->Threads(2)->UseRealTime()
    ->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StatUringStatx)->Arg(64)->Arg(256)->Threads(1)->Threads(2)
    ->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadFiles)->Arg(kPosix)->Arg(kUring)->Arg(kUringNoEofSkip)
    ->Threads(1)->Threads(2)->UseRealTime()->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);
// Create+land runs one pass per repetition (each pass leaves its files).
BENCHMARK(BM_CreateLand)->Arg(kPosix)->Arg(kUring)->Arg(kUringSyncOpenRename)
    ->Threads(1)->Threads(2)->Iterations(1)->UseRealTime()
    ->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CreateLinkUnnamed)->Arg(kPosix)->Arg(kUring)->Threads(1)
    ->Iterations(1)->UseRealTime()->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ListXattrs)->Arg(0)->Arg(1)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CreateLandFsync)->Arg(kPosix)->Arg(kUring)
    ->Arg(kUringSyncOpenRename)->Threads(1)->Iterations(1)->UseRealTime()
    ->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ferry::io

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ferry::io::GetTree();  // build the tree (and its context lines) up front
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
