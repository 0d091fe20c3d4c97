// rsync's --usermap, --groupmap and --chown for any subcommand (sync,
// verify): the three strings into one bound IdMapping (engine/tree/id_map.h).
#pragma once

#include <memory>
#include <string>

#include "engine/base/status.h"
#include "engine/tree/id_map.h"

namespace ferry::cli {

// With `bind`, every TO name is looked up on this machine (DST) now: a bad
// pair or an unknown name is kInvalidArgument naming the flag. Without it
// (DST is remote: its receiver binds the maps and refuses the session for
// an unknown name) only the syntax is checked. Null when all are empty.
Result<std::shared_ptr<const IdMapping>> BuildIdMapping(const std::string& usermap,
                                                        const std::string& groupmap,
                                                        const std::string& chown,
                                                        bool bind = true);

}  // namespace ferry::cli
