// ParsePlan: TOML text of a migration plan (PLAN_FORMAT.md) -> Plan value.
//
// Checks the shape of the file: TOML syntax, unknown keys, wrong types,
// missing required fields, and every scalar (durations, sizes, endpoints,
// id maps, enumerations). References between parts (an account naming an
// endpoint, a hook naming a phase) are checked by CompilePlan.
//
// All problems are reported at once, each with file:line:column and what was
// expected; a TOML syntax error stops at that error (the rest of the file
// cannot be read reliably). No I/O: the caller reads the file.
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/plan/plan.h"

namespace ferry::plan {

// file: the name used in diagnostics and stored in Plan::file. Appends to
// *diags; the returned Plan holds whatever could be read and is meaningful
// only when no diagnostic was added.
Plan ParsePlan(std::string_view text, const std::string& file,
               std::vector<Diagnostic>* diags);

}  // namespace ferry::plan
