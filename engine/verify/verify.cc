// VerifyTrees: binds the comparison (compare.cc) to two local paths with
// rsync's trailing-slash rule, and sets up the worker threads.
#include "engine/verify/verify.h"

#include <sys/stat.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/base/path.h"
#include "engine/verify/local_side.h"
#include "engine/verify/side.h"

namespace ferry {

Result<VerifyOutcome> VerifyTrees(const VerifyRequest& req, const VerifyOptions& opt,
                                  VerifyEvents& events) {
  auto start = std::chrono::steady_clock::now();
  if (req.src.empty() || req.dst.empty())
    return InvalidArgument("verify needs a source and a destination");
  if (!opt.backend_factory && opt.io == io::BackendKind::kUring) {
    std::string why;
    if (!io::UringAvailable(&why))
      return Status(ErrorCode::kUnsupported, "--io=io_uring: " + why);
  }
  std::string src = StripTrailingSlashes(req.src), dst = StripTrailingSlashes(req.dst);
  bool contents = req.src.back() == '/';
  auto [src_parent, src_name] = SplitParent(src);
  if (src_name == "." || src_name == "..") contents = true;  // rsync: "." is "./"
  struct stat sst;
  if ((contents ? ::stat(src.c_str(), &sst) : ::lstat(src.c_str(), &sst)) != 0)
    return PosixError("source", req.src, errno);
  if (contents && !S_ISDIR(sst.st_mode)) return PosixError("source", req.src, ENOTDIR);

  auto side = std::make_shared<verify::LocalSide>(opt.io, opt.backend_factory);
  verify::SideRoot s, d;
  if (contents) {
    ASSIGN_OR_RETURN(s.dir, side->OpenRoot(src));
    ASSIGN_OR_RETURN(d.dir, verify::OpenDestinationDir(*side, dst, req.dst));
  } else {
    std::string dst_dir = dst, dst_name = src_name;
    struct stat dstst;
    bool dst_is_dir = ::stat(dst.c_str(), &dstst) == 0 && S_ISDIR(dstst.st_mode);
    if (!S_ISDIR(sst.st_mode) && !dst_is_dir && req.dst.back() != '/') {
      // A single file compared with a copy under another name.
      std::tie(dst_dir, dst_name) = SplitParent(dst);
    }
    ASSIGN_OR_RETURN(s.dir, side->OpenRoot(src_parent));
    ASSIGN_OR_RETURN(d.dir, verify::OpenDestinationDir(*side, dst_dir, req.dst));
    s.entry = src_name;
    d.entry = dst_name;
  }

  int jobs = opt.jobs > 0 ? opt.jobs
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<size_t>(jobs));
  VerifyOutcome out = verify::VerifySides(s, d, opt, events);
  out.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace ferry
