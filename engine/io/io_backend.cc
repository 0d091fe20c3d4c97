#include "engine/io/io_backend.h"

#include <mutex>

#include "engine/io/posix_backend.h"
#include "engine/io/uring_backend.h"

namespace ferry::io {

Result<BackendKind> ParseBackendKind(std::string_view s) {
  if (s == "auto") return BackendKind::kAuto;
  if (s == "uring" || s == "io_uring") return BackendKind::kUring;
  if (s == "posix") return BackendKind::kPosix;
  return InvalidArgument("--io: expected auto, io_uring or posix, got '" +
                         std::string(s) + "'");
}

bool UringAvailable(std::string* why) {
  static std::once_flag once;
  static bool available = false;
  static std::string reason;
  std::call_once(once, [] { available = ProbeUring(&reason); });
  if (why) *why = reason;
  return available;
}

const char* AutoBackendName() {
  return UringAvailable(nullptr) ? "io_uring" : "posix";
}

Result<std::unique_ptr<IoBackend>> MakeBackend(BackendKind kind) {
  if (kind == BackendKind::kPosix ||
      (kind == BackendKind::kAuto && !UringAvailable(nullptr))) {
    return std::unique_ptr<IoBackend>(new PosixBackend());
  }
  std::string why;
  if (!UringAvailable(&why))
    return Status(ErrorCode::kUnsupported, "io_uring unavailable: " + why);
  return MakeUringBackend();
}

}  // namespace ferry::io
