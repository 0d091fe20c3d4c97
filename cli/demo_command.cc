#include "cli/commands.h"
namespace ferry::cli {
void AddDemoCommand(CLI::App&, int*) {}
}  // namespace ferry::cli
