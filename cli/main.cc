// ferry: high-performance delta file sync for server migrations.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "engine/base/fd_limit.h"
#include "engine/base/version.h"
#include "engine/io/io_backend.h"


int main(int argc, char** argv) {
  ferry::RaiseDescriptorLimit();
  // Room for what a pass keeps open (the receiver's requests in flight hold
  // up to three descriptors each), reserved before any thread starts.
  ferry::ReserveDescriptorTable(1024);
  // A pass builds and drops large tables (the file list, DST listings, the
  // rename index): keep freed memory in the heap for the next one instead
  // of returning it to the kernel and faulting fresh zeroed pages in again
  // (about a fifth of a Maildir pass's page faults).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
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
