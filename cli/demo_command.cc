// `ferry demo`: generates a sample hosting account, runs a stage-one copy with
// live progress, changes the source the way a day of use does, runs a delta
// pass, and says what each pass moved and how long it took.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/demo_account.h"
#include "cli/render.h"
#include "engine/io/io_backend.h"
#include "engine/transfer/sync.h"

namespace ferry::cli {

namespace {

class QuietEvents : public SyncEvents {
 public:
  void OnError(const Status& e) override { std::fprintf(stderr, "ferry: %s\n", e.message().c_str()); }
};

struct DemoFlags {
  std::string dir;
  bool keep = false;
  int messages = 600;
};

bool RunPass(const char* label, const std::string& src, const std::string& dst,
             const SyncOptions& opt) {
  SyncStats stats;
  QuietEvents events;
  ProgressLine progress(stats, label);
  bool tty = ::isatty(2);
  if (tty) progress.Start();
  auto r = RunLocalSync(SyncRequest{src + "/", dst + "/"}, opt, stats, events);
  progress.Stop();
  if (!r.ok()) {
    std::fprintf(stderr, "ferry demo: %s\n", r.status().message().c_str());
    return false;
  }
  std::printf("%-10s %s files scanned, %s files sent (%s), %s deleted, %s hard links, %.3f s%s\n",
              label, Grouped(stats.files).c_str(), Grouped(stats.transferred_files).c_str(),
              HumanBytes(static_cast<double>(stats.literal_bytes + stats.reflinked_bytes)).c_str(),
              Grouped(stats.deleted).c_str(), Grouped(stats.hard_links).c_str(), r->seconds,
              r->partial ? "  (with errors)" : "");
  if (stats.matched_bytes)
    std::printf("%-10s delta: %s reused from the old copy, %s sent as literal data\n", "",
                HumanBytes(static_cast<double>(stats.matched_bytes)).c_str(),
                HumanBytes(static_cast<double>(stats.literal_bytes)).c_str());
  if (stats.renamed_files)
    std::printf("%-10s renames: %s messages read, flagged or moved were renamed on DST, not sent "
                "again (%s)\n",
                "", Grouped(stats.renamed_files).c_str(),
                HumanBytes(static_cast<double>(stats.renamed_bytes)).c_str());
  return !r->partial;
}

int RunDemo(const DemoFlags& f) {
  namespace fs = std::filesystem;
  std::string base = f.dir;
  if (base.empty()) {
    char tmpl[] = "/tmp/ferry-demo-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      std::perror("ferry demo: mkdtemp");
      return 11;
    }
    base = tmpl;
  }
  std::string src = base + "/old-server/home/alice";
  std::string dst = base + "/new-server/home/alice";
  std::error_code ec;
  if (fs::exists(src, ec)) fs::remove_all(base + "/old-server", ec);
  fs::remove_all(base + "/new-server", ec);
  fs::create_directories(base + "/old-server/home", ec);
  fs::create_directories(base + "/new-server/home", ec);

  std::printf("ferry demo: I/O backend %s, %u cores\n", io::AutoBackendName(),
              std::max(1u, std::thread::hardware_concurrency()));
  DemoAccountSize size;
  size.messages = f.messages;
  if (Status s = GenerateDemoAccount(src, size, 42); !s.ok()) {
    std::fprintf(stderr, "ferry demo: %s\n", s.message().c_str());
    return 11;
  }
  std::printf("generated sample account in %s\n\n", src.c_str());

  SyncOptions opt;  // rsync -aHAX --numeric-ids
  ::umask(0);
  bool ok = RunPass("stage one", src, dst, opt);

  auto changes = ChangeDemoAccount(src, 7);
  if (!changes.ok()) {
    std::fprintf(stderr, "ferry demo: %s\n", changes.status().message().c_str());
    return 11;
  }
  std::printf("\nchanged the source: %s\n\n", changes->c_str());
  SyncOptions delta = opt;
  delta.del = true;
  delta.whole_file = false;  // send only what changed inside files
  ok = RunPass("delta", src, dst, delta) && ok;

  if (!f.keep && f.dir.empty()) {
    fs::remove_all(base, ec);
    std::printf("\n(trees removed; `ferry demo --keep` keeps them to inspect)\n");
  } else {
    std::printf("\nsource:      %s\ndestination: %s\n", src.c_str(), dst.c_str());
    std::printf("check it:    rsync -aHAXc --dry-run --itemize-changes --delete %s/ %s/\n",
                src.c_str(), dst.c_str());
  }
  return ok ? 0 : 23;
}

}  // namespace

void AddDemoCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<DemoFlags>();
  CLI::App* cmd = app.add_subcommand("demo", "Sync a generated sample account twice and report");
  cmd->footer(
      "Examples:\n"
      "  ferry demo\n"
      "  ferry demo --keep --dir /tmp/demo --messages 5000");
  cmd->add_option("--dir", f->dir, "work directory (default: a new one in /tmp)");
  cmd->add_flag("--keep", f->keep, "keep the generated trees");
  cmd->add_option("--messages", f->messages, "messages in the sample Maildir")
      ->check(CLI::Range(1, 1000000));
  cmd->callback([f, exit_code] { *exit_code = RunDemo(*f); });
}

}  // namespace ferry::cli
