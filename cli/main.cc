// ferry: high-performance delta file sync for server migrations.
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "engine/base/version.h"
#include "engine/io/io_backend.h"

namespace {

// A sync keeps many files open at once (a worker per core, pipelined remote
// requests, one descriptor per directory being written): take the hard
// limit of descriptors instead of the often low soft one (1024), as
// long-running servers do. A limit that stays low slows ferry down (the
// remote receiver keeps fewer requests in flight) but fails nothing.
void RaiseDescriptorLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20
                                             : std::min<rlim_t>(rl.rlim_max, rlim_t{1} << 20);
  (void)::setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace

int main(int argc, char** argv) {
  RaiseDescriptorLimit();
  CLI::App app{"ferry: fast, faithful file sync for server migrations"};
  app.require_subcommand(0, 1);
  app.footer(
      "Examples:\n"
      "  ferry sync -i --stats /home/alice/ /mnt/new/home/alice/\n"
      "  ferry bench --estimate /home/alice/ /mnt/new/home/alice/\n"
      "  ferry SUBCOMMAND --help; man ferry");
  app.set_version_flag("--version", [] {
    std::string why;
    bool uring = ferry::io::UringAvailable(&why);
    std::string s = std::string("ferry ") + FERRY_VERSION + "\nI/O backend: " +
                    (uring ? "io_uring" : "posix");
    if (!uring) s += " (io_uring unavailable: " + why + ")";
    return s;
  });
  int exit_code = 0;
  ferry::cli::AddSyncCommand(app, &exit_code);
  ferry::cli::AddDemoCommand(app, &exit_code);
  ferry::cli::AddRdiffCommand(app, &exit_code);
  ferry::cli::AddPlanCommand(app, &exit_code);
  ferry::cli::AddVerifyCommand(app, &exit_code);
  ferry::cli::AddBenchCommand(app, &exit_code);
  ferry::cli::AddServeCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // rsync's code 1 means a syntax or usage error.
    return rc == 0 ? 0 : 1;
  }
  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stdout);
    return 1;
  }
  return exit_code;
}
