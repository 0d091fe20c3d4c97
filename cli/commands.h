// Subcommands of the ferry binary. Each Add*Command registers one CLI11
// subcommand; when it runs, it stores the process exit code in *exit_code.
// cli/ only parses, calls the engine and renders (ARCHITECTURE.md rule 1).
#pragma once

#include <CLI/CLI.hpp>

namespace ferry::cli {

void AddSyncCommand(CLI::App& app, int* exit_code);
void AddDemoCommand(CLI::App& app, int* exit_code);
void AddRdiffCommand(CLI::App& app, int* exit_code);
void AddPlanCommand(CLI::App& app, int* exit_code);
void AddVerifyCommand(CLI::App& app, int* exit_code);
void AddBenchCommand(CLI::App& app, int* exit_code);
void AddServeCommand(CLI::App& app, int* exit_code);

}  // namespace ferry::cli
