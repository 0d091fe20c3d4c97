// The owner maps of a plan account (usermap/groupmap, rsync's semantics),
// bound for the runner's passes.
//
// Forward maps apply to the legs that land on the account's destination.
// A rollback syncs the destination back to the source, so it needs the
// inverse: every FROM:TO becomes TO:FROM. Only a map whose rules are plain
// names or numbers, no two of which land on the same id, has one; a range,
// a wildcard, or two rules onto one id ("two names to one") is refused with a
// message that quotes the rules. Ids no rule matches are kept both ways, so
// a destination owner that a rule also produces (an unmapped "bob" next to
// "alice:bob") would come back as the rule's FROM: write the map as a
// permutation when the rollback matters.
//
// Names are looked up on this machine, the end the runner runs on.
// Thread safety: pure functions apart from the name lookups (NSS).
#pragma once

#include <memory>

#include "engine/base/status.h"
#include "engine/plan/compile.h"
#include "engine/tree/id_map.h"

namespace ferry::plan {

// The account's maps bound against the destination's names. Errors name the
// field: "usermap: user \"x\" (in \"a:x\") does not exist on the destination".
Result<std::shared_ptr<const IdMapping>> BindAccountIds(const CompiledAccount& a);

// The inverse maps for a rollback, bound against the source's names. Errors
// (kUnsupported) say which rule has no inverse and why.
Result<std::shared_ptr<const IdMapping>> BindRollbackIds(const CompiledAccount& a);

}  // namespace ferry::plan
