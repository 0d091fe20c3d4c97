// UringBackend: an IoBackend whose batched operations (ReadFiles, CreateFiles,
// LandFiles) and data path run on io_uring via liburing, one ring per
// instance (so one per worker thread). Operations io_uring cannot do
// (fchown, futimens, xattrs on old kernels, ...) are inherited from
// PosixBackend.
#pragma once

#include <memory>
#include <string>

#include "engine/io/io_backend.h"

namespace ferry::io {

// Whether a ring can be created and supports the opcodes the backend uses.
// On false, *why names the cause (kernel.io_uring_disabled, seccomp, ...).
bool ProbeUring(std::string* why);

// A new backend with its own ring; kUnsupported when ProbeUring() fails.
Result<std::unique_ptr<IoBackend>> MakeUringBackend();

}  // namespace ferry::io
