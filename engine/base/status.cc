#include "engine/base/status.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace ferry {

namespace {
ErrorCode CodeFromErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
      return ErrorCode::kPermission;
    case ENOSPC:
    case EDQUOT:
      return ErrorCode::kNoSpace;
    case EEXIST:
      return ErrorCode::kExists;
    case ENOSYS:
    case EOPNOTSUPP:
      return ErrorCode::kUnsupported;
    case EINVAL:
      return ErrorCode::kInvalidArgument;
    default:
      return ErrorCode::kIo;
  }
}
}  // namespace

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m), errno_);
}

Status PosixError(std::string_view op, std::string_view path, int err) {
  std::string m(op);
  if (!path.empty()) {
    m += ' ';
    m += path;
  }
  m += ": ";
  m += std::strerror(err);
  return Status(CodeFromErrno(err), std::move(m), err);
}

Status InvalidArgument(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}
Status Corrupt(std::string message) {
  return Status(ErrorCode::kCorrupt, std::move(message));
}
Status Internal(std::string message) {
  return Status(ErrorCode::kInternal, std::move(message));
}

}  // namespace ferry
