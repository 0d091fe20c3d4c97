#include "cli/commands.h"
namespace ferry::cli {
void AddSyncCommand(CLI::App&, int*) {}
}  // namespace ferry::cli
