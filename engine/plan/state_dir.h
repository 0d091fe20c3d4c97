// The state directory of a plan and the lock that keeps two runners apart.
//
// Thread safety: the functions are reentrant; a StateLock is owned by one
// runner.
#pragma once

#include <memory>
#include <string>

#include "engine/base/status.h"
#include "engine/plan/compile.h"

namespace ferry::plan {

// The state directory: the plan's state_dir (relative to the plan file's
// directory) or, by default, "PLANFILE.state" next to the plan.
std::string StateDirFor(const std::string& plan_path, const StepGraph& g);

// An exclusive lock on a state directory, held while the object lives.
class StateLock {
 public:
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  friend Result<std::unique_ptr<StateLock>> LockStateDir(const std::string& dir);
  StateLock() = default;
  int fd_ = -1;
};

// Creates dir if needed and takes flock(dir/lock). Errors: kExists with
// "another ferry plan run (pid N) holds DIR/lock; wait for it to finish"
// when another process holds it.
Result<std::unique_ptr<StateLock>> LockStateDir(const std::string& dir);

// mkdir -p: creates dir and its missing parents (0755).
Status MakeDirs(const std::string& dir);

}  // namespace ferry::plan
