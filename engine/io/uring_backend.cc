#include "engine/io/uring_backend.h"

namespace ferry::io {

bool ProbeUring(std::string* why) {
  if (why) *why = "io_uring backend not built yet";
  return false;
}

Result<std::unique_ptr<IoBackend>> MakeUringBackend() {
  return Status(ErrorCode::kUnsupported, "io_uring backend not built yet");
}

}  // namespace ferry::io
