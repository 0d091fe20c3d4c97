// Status and Result<T>: ferry's one error type, returned by value.
//
// A Status is either OK (cheap: no allocation) or an error carrying a code,
// the errno that caused it (0 when none) and a message that names the path or
// field and the operation, e.g. "open src/a.txt: No such file or directory".
// Errors from the kernel become a Status in one place: PosixError().
//
// Thread safety: values; distinct objects may be used from distinct threads.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ferry {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // bad flag, malformed input, a field out of range
  kNotFound,         // ENOENT: a path that does not exist (a vanished file)
  kPermission,       // EACCES / EPERM
  kNoSpace,          // ENOSPC / EDQUOT
  kIo,               // any other I/O error from the kernel
  kChanged,          // a source file changed while it was being read
  kCorrupt,          // a checksum or format check failed
  kUnsupported,      // the kernel or file system lacks a feature
  kExists,           // EEXIST
  kInternal,         // a broken invariant inside ferry
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message, int sys_errno = 0)
      : code_(code), errno_(sys_errno), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  int sys_errno() const { return errno_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? std::string("OK") : message_; }

  // Prefixes the message with context ("while copying x: ...").
  Status WithContext(std::string_view context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  int errno_ = 0;
  std::string message_;
};

// Builds a Status from an errno value: "<op> <path>: <strerror>".
Status PosixError(std::string_view op, std::string_view path, int err);
Status InvalidArgument(std::string message);
Status Corrupt(std::string message);
Status Internal(std::string message);

// A value or an error. Accessing value() of an error aborts in debug builds.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return v_.index() == 0; }
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ferry

#define FERRY_CONCAT_INNER(a, b) a##b
#define FERRY_CONCAT(a, b) FERRY_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::ferry::Status ferry_status_ = (expr);    \
    if (!ferry_status_.ok()) return ferry_status_; \
  } while (0)

#define FERRY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  FERRY_ASSIGN_OR_RETURN_IMPL(FERRY_CONCAT(ferry_result_, __LINE__), lhs, expr)
