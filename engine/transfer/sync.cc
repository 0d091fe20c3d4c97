#include "engine/transfer/sync.h"

#include <sys/stat.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "engine/base/path.h"
#include "engine/transfer/context.h"
#include "engine/transfer/itemize.h"
#include "engine/transfer/reuse.h"

namespace ferry {

namespace {

Result<io::UniqueFd> OpenDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("open directory", path, errno);
  return io::UniqueFd(fd);
}

// rsync creates the last component of DST when it is missing, not parents.
Status EnsureDir(const std::string& path, bool dry_run, mode_t mode, bool* existed) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return PosixError("destination", path, ENOTDIR);
    *existed = true;
    return Status::Ok();
  }
  if (errno != ENOENT) return PosixError("stat", path, errno);
  *existed = false;
  if (dry_run) return Status::Ok();
  if (::mkdir(path.c_str(), mode) != 0) return PosixError("mkdir", path, errno);
  return Status::Ok();
}

}  // namespace

Result<SyncOutcome> RunLocalSync(const SyncRequest& req, const SyncOptions& opt,
                                 SyncStats& stats, SyncEvents& events) {
  auto start = std::chrono::steady_clock::now();
  if (req.src.empty() || req.dst.empty())
    return InvalidArgument("sync needs a source and a destination");
  if (!opt.backend_factory && opt.io == io::BackendKind::kUring) {
    std::string why;
    if (!io::UringAvailable(&why))
      return Status(ErrorCode::kUnsupported, "--io=io_uring: " + why);
  }
  // Unknown destination names fail here, before DST is touched.
  std::optional<IdMapping> ids;
  if (opt.id_map && !opt.id_map->empty()) {
    ASSIGN_OR_RETURN(ids, opt.id_map->Bind());
  }
  transfer::Context ctx(opt, stats, events);
  stats.phase = SyncPhase::kScan;
  if (opt.owner && !ctx.meta.am_root)
    events.OnWarning("not running as root: file owners are not preserved");

  bool contents = req.src.back() == '/';
  std::string src = StripTrailingSlashes(req.src);
  std::string dst = StripTrailingSlashes(req.dst);
  bool dst_slash = req.dst.back() == '/';

  struct stat sst;
  if ((contents ? ::stat(src.c_str(), &sst) : ::lstat(src.c_str(), &sst)) != 0)
    return PosixError("source", req.src, errno);
  if (contents && !S_ISDIR(sst.st_mode)) return PosixError("source", req.src, ENOTDIR);

  std::string src_dir = src, dst_dir = dst, name;
  ctx.single = !contents;
  if (!contents) {
    auto [sd, sn] = SplitParent(src);
    src_dir = sd;
    name = sn;
    ctx.single_src_name = sn;
    struct stat dstst;
    bool dst_is_dir = ::stat(dst.c_str(), &dstst) == 0 && S_ISDIR(dstst.st_mode);
    if (!S_ISDIR(sst.st_mode) && !dst_is_dir && !dst_slash) {
      // A single file copied to a new name.
      auto [dd, dn] = SplitParent(dst);
      dst_dir = dd;
      name = dn;
    }
  }
  bool dst_existed = true;
  // SRC/ into DST: DST gets SRC's mode at the end, owner-only until then.
  // SRC into DST: DST is only a container, made as rsync does (0755).
  RETURN_IF_ERROR(EnsureDir(dst_dir, opt.dry_run, contents ? 0700 : 0755, &dst_existed));

  ASSIGN_OR_RETURN(ctx.src_root, OpenDir(src_dir));
  Entry root_src, root_dst;
  bool have_dst = false;
  if (contents) {
    root_src = Entry::FromStat(".", sst);
  } else {
    root_src = Entry::FromStat(name, sst);
  }
  if (dst_existed || !opt.dry_run) {
    ASSIGN_OR_RETURN(ctx.dst_root, OpenDir(dst_dir));
    struct stat dst_st;
    if (contents) {
      if (dst_existed && ::fstat(ctx.dst_root.get(), &dst_st) == 0) {
        root_dst = Entry::FromStat(".", dst_st);
        have_dst = true;
      }
    } else if (::fstatat(ctx.dst_root.get(), name.c_str(), &dst_st,
                         AT_SYMLINK_NOFOLLOW) == 0) {
      root_dst = Entry::FromStat(name, dst_st);
      have_dst = true;
    }
  }

  int jobs = opt.jobs > 0 ? opt.jobs
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<size_t>(jobs));

  RETURN_IF_ERROR(transfer::ScanTree(ctx, &root_src, have_dst ? &root_dst : nullptr));
  if (ids) transfer::MapOwners(ctx, *ids);
  if (contents) {
    ctx.root->dst_exists = have_dst;
    if (!have_dst) {
      // DST was created just now (or would be, in a dry run).
      transfer::DirNode* r = ctx.root.get();
      r->meta_pending = true;
    }
  }
  transfer::PlanTree(ctx);
  transfer::PlanRenames(ctx);
  if (contents && !dst_existed) {
    ItemFlags f;
    f.update = 'c';
    f.type = 'd';
    f.created = true;
    ctx.Item(f, "");
  }
  stats.phase = SyncPhase::kCopy;
  transfer::ExecTree(ctx);
  transfer::FinishRenames(ctx);
  stats.phase = SyncPhase::kLink;
  transfer::LinkFollowers(ctx);
  transfer::LandLateFiles(ctx);
  stats.phase = SyncPhase::kFinish;
  transfer::FinishDirs(ctx);
  stats.phase = SyncPhase::kDone;

  SyncOutcome out;
  out.partial = ctx.partial;
  out.vanished = ctx.vanished;
  out.max_delete_hit = ctx.max_delete_hit;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace ferry
