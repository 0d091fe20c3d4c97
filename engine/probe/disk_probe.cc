#include "engine/probe/disk_probe.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include "engine/probe/scratch_dir.h"
#include "engine/transfer/sync.h"

namespace ferry::probe {

namespace {

constexpr size_t kChunk = 1 << 20;  // one request; a multiple of any block size
constexpr size_t kAlign = 4096;

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct FreeDeleter {
  void operator()(std::byte* p) const { std::free(p); }
};

}  // namespace

Result<SequentialResult> MeasureSequential(io::IoBackend& io, const std::string& dir,
                                           uint64_t bytes) {
  if (bytes == 0) return InvalidArgument("--size must be at least 1 byte");
  ASSIGN_OR_RETURN(io::UniqueFd dirfd, OpenDirectory(dir));
  std::string name = ScratchName();
  std::string shown = dir + "/" + name;
  SequentialResult r;
  r.bytes = (bytes + kChunk - 1) / kChunk * kChunk;
  std::unique_ptr<std::byte, FreeDeleter> buf(
      static_cast<std::byte*>(std::aligned_alloc(kAlign, kChunk)));
  if (!buf) return Internal("out of memory for a 1 MiB buffer");
  // Incompressible and non-zero, so no file system can shortcut the write.
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < kChunk; i += 8) {
    uint64_t v = rng();
    std::memcpy(buf.get() + i, &v, 8);
  }
  std::span<std::byte> chunk(buf.get(), kChunk);

  bool direct = true;
  auto out = io.OpenAt(dirfd.get(), name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_DIRECT, 0600);
  if (!out.ok() && out.status().sys_errno() == EINVAL) {
    direct = false;  // the file system refuses O_DIRECT
    out = io.OpenAt(dirfd.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
  }
  if (!out.ok()) return out.status().WithContext(shown);
  r.method = direct ? "O_DIRECT" : "fdatasync+fadvise";
  ScratchFile cleanup(io, dirfd.get(), name);

  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t off = 0; off < r.bytes; off += kChunk) {
    RETURN_IF_ERROR(io.PWriteAll(out->get(), chunk, off).WithContext(shown));
  }
  RETURN_IF_ERROR(io.FSync(out->get()).WithContext(shown));
  r.write_bps = static_cast<double>(r.bytes) / std::max(Since(t0), 1e-9);
  out->reset();

  auto in = io.OpenAt(dirfd.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | (direct ? O_DIRECT : 0), 0);
  if (!in.ok()) return in.status().WithContext(shown);
  // Not a file-system operation: a hint to drop this file's cached pages.
  if (!direct) (void)::posix_fadvise(in->get(), 0, 0, POSIX_FADV_DONTNEED);
  t0 = std::chrono::steady_clock::now();
  for (uint64_t off = 0; off < r.bytes;) {
    ASSIGN_OR_RETURN(size_t n, io.PRead(in->get(), chunk, off));
    if (n == 0) return Status(ErrorCode::kChanged, shown + ": shrank while being read");
    off += n;
  }
  r.read_bps = static_cast<double>(r.bytes) / std::max(Since(t0), 1e-9);
  return r;
}

Result<CreateRateResult> MeasureCreateRate(const std::string& dir, uint64_t files,
                                           uint64_t file_size, int jobs) {
  if (files == 0) return InvalidArgument("--files must be at least 1");
  ASSIGN_OR_RETURN(std::unique_ptr<io::IoBackend> io, io::MakeBackend(io::BackendKind::kAuto));
  ASSIGN_OR_RETURN(io::UniqueFd dirfd, OpenDirectory(dir));
  std::string name = ScratchName();
  RETURN_IF_ERROR(io->MkdirAt(dirfd.get(), name.c_str(), 0700).WithContext(dir));
  ScratchTree cleanup(*io, dirfd.get(), name);
  std::string root = dir + "/" + name;
  ASSIGN_OR_RETURN(io::UniqueFd rootfd, io->OpenAt(dirfd.get(), name.c_str(), O_RDONLY | O_DIRECTORY, 0));
  RETURN_IF_ERROR(io->MkdirAt(rootfd.get(), "src", 0700).WithContext(root));
  ASSIGN_OR_RETURN(io::UniqueFd srcfd, io->OpenAt(rootfd.get(), "src", O_RDONLY | O_DIRECTORY, 0));
  // Spread over directories of 1,000 as real trees are; one huge directory
  // would measure the file system's directory index instead.
  std::vector<std::byte> data(file_size, std::byte{'x'});
  io::UniqueFd sub;
  for (uint64_t i = 0; i < files; ++i) {
    if (i % 1000 == 0) {
      std::string d = "d" + std::to_string(i / 1000);
      RETURN_IF_ERROR(io->MkdirAt(srcfd.get(), d.c_str(), 0755).WithContext(root + "/src"));
      ASSIGN_OR_RETURN(sub, io->OpenAt(srcfd.get(), d.c_str(), O_RDONLY | O_DIRECTORY, 0));
    }
    std::string f = "f" + std::to_string(i);
    ASSIGN_OR_RETURN(io::UniqueFd fd, io->OpenAt(sub.get(), f.c_str(),
                                                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644));
    RETURN_IF_ERROR(io->PWriteAll(fd.get(), data, 0).WithContext(root + "/src/" + f));
  }
  SyncOptions opt;
  opt.jobs = jobs;
  SyncStats stats;
  SyncEvents quiet;
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(SyncOutcome out,
                   RunLocalSync(SyncRequest{root + "/src/", root + "/dst/"}, opt, stats, quiet));
  CreateRateResult r;
  r.seconds = Since(t0);
  if (out.partial || stats.transferred_files.load() != files)
    return Status(ErrorCode::kIo, root + ": the probe sync landed " +
                                      std::to_string(stats.transferred_files.load()) + " of " +
                                      std::to_string(files) + " files");
  r.files = files;
  r.file_size = file_size;
  r.files_per_s = static_cast<double>(files) / std::max(r.seconds, 1e-9);
  return r;
}

}  // namespace ferry::probe
