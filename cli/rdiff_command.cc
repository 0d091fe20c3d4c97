// Replaced by the delta engine work (issue 3).
#include "cli/commands.h"

namespace ferry::cli {
void AddRdiffCommand(CLI::App&, int*) {}
}  // namespace ferry::cli
