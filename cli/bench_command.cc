// `ferry bench [--path DIR]` and `ferry bench --estimate SRC [DST]`: what
// bounds a migration on this machine - sequential read and write of a path,
// small files landed per second, per-core hash, delta and zstd throughput -
// and, given a tree, how long stage one and each delta pass should take.
// The measuring is engine/probe's; this file parses, calls and renders a
// table or one JSON object.
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/render.h"
#include "engine/probe/cpu_probe.h"
#include "engine/probe/disk_probe.h"
#include "engine/probe/scratch_dir.h"
#include "engine/probe/tree_estimate.h"
#include "protocol/session/bench_transport.h"

namespace ferry::cli {

namespace {

constexpr const char* kNoTransport = "give --remote [user@]host[:PATH] to measure it";

struct BenchFlags {
  std::string path;
  uint64_t size = 128ull << 20;
  uint64_t files = 2000;
  uint64_t file_size = 4096;
  std::vector<std::string> estimate;
  double window_hours = 24;
  bool json = false;
  int jobs = 0;
  std::string remote;
  std::string rsh = "ssh", remote_ferry = "ferry";
  uint64_t remote_size = 64ull << 20;
  int compress_level = 3;
};

struct BenchReport {
  std::string path;
  probe::SequentialResult disk;
  probe::CreateRateResult create;
  probe::CpuResult cpu;
  unsigned cores = 1;
  // --estimate
  bool has_estimate = false;
  std::string src, dst;
  probe::TreeCounts counts;
  std::optional<probe::PassPlan> plan;
  probe::Prediction prediction;
  // --remote: without and with zstd.
  std::string remote;
  std::vector<protocol::TransportResult> transport;
};

std::string Rate(double bps) { return HumanBytes(bps) + "/s"; }

std::string Duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[64];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else {
    auto t = static_cast<long long>(std::llround(s));
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld (%.0f s)", t / 3600, (t / 60) % 60, t % 60, s);
  }
  return buf;
}

// One row of the table: what was measured, the number, how.
struct Row {
  std::string what, value, how;
};

std::string Table(const BenchReport& r) {
  std::vector<Row> rows;
  rows.push_back({"sequential write", Rate(r.disk.write_bps),
                  HumanBytes(static_cast<double>(r.disk.bytes)) + ", " + r.disk.method});
  rows.push_back({"sequential read", Rate(r.disk.read_bps),
                  HumanBytes(static_cast<double>(r.disk.bytes)) + ", " + r.disk.method});
  char n[64];
  std::snprintf(n, sizeof n, "%.0f files/s", r.create.files_per_s);
  rows.push_back({"small-file create", n,
                  Grouped(r.create.files) + " files of " +
                      HumanBytes(static_cast<double>(r.create.file_size)) +
                      ", landed as sync does"});
  std::string per_core = "per core (" + std::to_string(r.cores) + " cores)";
  rows.push_back({"hash XXH3-128", Rate(r.cpu.hash_bps), per_core});
  rows.push_back({"delta sig+match", Rate(r.cpu.delta_bps), per_core});
  char ratio[64];
  std::snprintf(ratio, sizeof ratio, "per core, ratio %.2f on text-like data", r.cpu.zstd_ratio);
  rows.push_back({"zstd -" + std::to_string(r.cpu.zstd_level) + " compress",
                  Rate(r.cpu.zstd_compress_bps), ratio});
  rows.push_back({"zstd -" + std::to_string(r.cpu.zstd_level) + " decompress",
                  Rate(r.cpu.zstd_decompress_bps), "per core"});
  if (r.transport.empty()) rows.push_back({"transport", "not measured", kNoTransport});
  for (const protocol::TransportResult& t : r.transport) {
    char how[256];
    std::snprintf(how, sizeof how, "to %s, %s of text-like data, %s on the wire%s",
                  r.remote.c_str(), HumanBytes(static_cast<double>(t.payload_bytes)).c_str(),
                  HumanBytes(static_cast<double>(t.wire_bytes)).c_str(),
                  t.compressed ? "" : ", as sync frames it");
    rows.push_back({t.compressed ? "transport -z" : "transport", Rate(t.payload_bps()), how});
  }

  std::string t = "ferry bench: disk rates measured in " + r.path + "\n";
  for (const Row& row : rows) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-20s %14s   %s\n", row.what.c_str(), row.value.c_str(),
                  row.how.c_str());
    t += line;
  }
  if (!r.has_estimate) return t;
  const probe::TreeCounts& c = r.counts;
  const probe::Prediction& p = r.prediction;
  t += "\nestimate for " + r.src + (r.dst.empty() ? "" : " -> " + r.dst) + "\n";
  auto kv = [&t](const std::string& k, const std::string& v) {
    char line[1024];
    std::snprintf(line, sizeof line, "  %-20s %s\n", k.c_str(), v.c_str());
    t += line;
  };
  kv("tree", Grouped(c.entries) + " entries, " + Grouped(c.files) + " files, " +
                 Grouped(c.dirs) + " dirs, " + HumanBytes(static_cast<double>(c.bytes)) + " (" +
                 Grouped(c.bytes) + " bytes)");
  kv("scan", Duration(c.scan_seconds));
  kv("stage one", Duration(p.stage_one_seconds) + "  = bytes / min(read, write) + entries / create rate");
  kv("delta pass", Grouped(p.delta_files) + " files, " +
                       HumanBytes(static_cast<double>(p.delta_bytes)) + ", " +
                       Duration(p.delta_seconds));
  kv("assumption", p.assumption);
  return t;
}

nlohmann::json Json(const BenchReport& r) {
  nlohmann::json j = {
      {"path", r.path},
      {"disk",
       {{"bytes", r.disk.bytes},
        {"method", r.disk.method},
        {"write_bytes_per_s", r.disk.write_bps},
        {"read_bytes_per_s", r.disk.read_bps}}},
      {"create",
       {{"files", r.create.files},
        {"file_size", r.create.file_size},
        {"seconds", r.create.seconds},
        {"files_per_s", r.create.files_per_s}}},
      {"cpu",
       {{"cores", r.cores},
        {"buffer_bytes", r.cpu.buffer_bytes},
        {"hash_bytes_per_s_per_core", r.cpu.hash_bps},
        {"delta_bytes_per_s_per_core", r.cpu.delta_bps},
        {"zstd_level", r.cpu.zstd_level},
        {"zstd_compress_bytes_per_s_per_core", r.cpu.zstd_compress_bps},
        {"zstd_decompress_bytes_per_s_per_core", r.cpu.zstd_decompress_bps},
        {"zstd_ratio", r.cpu.zstd_ratio}}},
  };
  if (r.transport.empty()) {
    j["transport"] = {{"measured", false}, {"reason", kNoTransport}};
  } else {
    j["transport"] = {{"measured", true}, {"remote", r.remote}};
    for (const protocol::TransportResult& t : r.transport) {
      j["transport"][t.compressed ? "zstd" : "plain"] = {
          {"compress_level", t.compress_level},
          {"payload_bytes", t.payload_bytes},
          {"wire_bytes", t.wire_bytes},
          {"seconds", t.seconds},
          {"setup_seconds", t.setup_seconds},
          {"payload_bytes_per_s", t.payload_bps()},
          {"wire_bytes_per_s", t.wire_bps()}};
    }
  }
  if (r.has_estimate) {
    const probe::TreeCounts& c = r.counts;
    const probe::Prediction& p = r.prediction;
    nlohmann::json plan = nullptr;
    if (r.plan) plan = {{"files", r.plan->files}, {"bytes", r.plan->bytes}, {"seconds", r.plan->seconds}};
    j["estimate"] = {
        {"src", r.src},
        {"dst", r.dst.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.dst)},
        {"entries", c.entries},
        {"files", c.files},
        {"dirs", c.dirs},
        {"bytes", c.bytes},
        {"scan_seconds", c.scan_seconds},
        {"window_seconds", c.window_seconds},
        {"recent_files", c.recent_files},
        {"recent_bytes", c.recent_bytes},
        {"dry_run", plan},
        {"stage_one_seconds", p.stage_one_seconds},
        {"delta_files", p.delta_files},
        {"delta_bytes", p.delta_bytes},
        {"delta_seconds", p.delta_seconds},
        {"changed_file_share", p.changed_file_share},
        {"changed_byte_share", p.changed_byte_share},
        {"assumption", p.assumption},
        {"model",
         "stage_one = bytes / min(read, write) + entries / create; delta = scan + "
         "delta_bytes / min(read, write) + delta_files / create"},
    };
  }
  return j;
}

// The directory SRC's tree sits in (the default place to measure without
// DST: the same file system, outside the tree).
std::string ParentOf(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t s = p.rfind('/');
  if (s == std::string::npos) return ".";
  if (s == 0) return "/";
  return p.substr(0, s);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ferry bench: %s\n", s.message().c_str());
  return s.code() == ErrorCode::kInvalidArgument ? kExitSyntax : kExitFileIo;
}

int RunBench(const BenchFlags& f) {
  BenchReport r;
  r.cores = std::max(1u, std::thread::hardware_concurrency());
  if (!f.estimate.empty()) {
    r.has_estimate = true;
    r.src = f.estimate[0];
    if (f.estimate.size() > 1) r.dst = f.estimate[1];
  }
  // An explicit --path must exist; a DST that does not exist yet (before
  // stage one) is measured on the file system it will be created on.
  r.path = !f.path.empty()    ? f.path
           : !r.dst.empty()   ? probe::NearestExistingDirectory(r.dst)
           : r.has_estimate   ? ParentOf(r.src)
                              : ".";
  if (f.size == 0) return Fail(InvalidArgument("--size must be at least 1 byte"));
  if (f.files == 0) return Fail(InvalidArgument("--files must be at least 1"));
  if (!(f.window_hours > 0)) return Fail(InvalidArgument("--window must be more than 0 hours"));

  if (r.has_estimate) {
    // Count first: a wrong SRC should fail before a minute of disk probes.
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    auto counts = probe::CountTree(r.src, now, static_cast<int64_t>(f.window_hours * 3600));
    if (!counts.ok()) return Fail(counts.status());
    r.counts = *counts;
    if (!r.dst.empty()) {
      auto plan = probe::PlanPass(r.src, r.dst, f.jobs);
      if (!plan.ok()) return Fail(plan.status());
      r.plan = *plan;
    }
  }
  if (!f.remote.empty()) {
    // First: an unreachable host should fail before the disk probes.
    ::signal(SIGPIPE, SIG_IGN);
    auto spec = protocol::ParseRemote(f.remote.find(':') == std::string::npos ? f.remote + ":"
                                                                              : f.remote);
    if (!spec) return Fail(InvalidArgument("--remote " + f.remote + ": expected [user@]host[:PATH]"));
    if (f.remote_size == 0) return Fail(InvalidArgument("--remote-size must be at least 1 byte"));
    if (f.compress_level < 1 || f.compress_level > 19)
      return Fail(InvalidArgument("--compress-level " + std::to_string(f.compress_level) +
                                  " is outside 1..19"));
    r.remote = f.remote;
    for (bool z : {false, true}) {
      protocol::RemoteOptions ro;
      ro.rsh = f.rsh;
      ro.remote_ferry = f.remote_ferry;
      ro.compress = z;
      ro.compress_level = f.compress_level;
      auto t = protocol::MeasureTransport(ro, *spec, f.remote_size);
      if (!t.ok()) {
        std::fprintf(stderr, "ferry bench: transport to %s: %s\n", f.remote.c_str(),
                     t.status().message().c_str());
        return t.status().code() == ErrorCode::kInvalidArgument ? kExitSyntax : kExitProtocol;
      }
      r.transport.push_back(*t);
    }
  }
  auto io = io::MakeBackend(io::BackendKind::kAuto);
  if (!io.ok()) return Fail(io.status());
  auto disk = probe::MeasureSequential(**io, r.path, f.size);
  if (!disk.ok()) return Fail(disk.status());
  r.disk = *disk;
  auto create = probe::MeasureCreateRate(r.path, f.files, f.file_size, f.jobs);
  if (!create.ok()) return Fail(create.status());
  r.create = *create;
  auto cpu = probe::MeasureCpu(16u << 20, 0.2);
  if (!cpu.ok()) return Fail(cpu.status());
  r.cpu = *cpu;
  if (r.has_estimate) {
    probe::MachineRates rates{r.disk.read_bps, r.disk.write_bps, r.create.files_per_s};
    auto p = probe::Predict(r.counts, r.plan ? &*r.plan : nullptr, rates);
    if (!p.ok()) return Fail(p.status());
    r.prediction = *p;
  }
  if (f.json) std::printf("%s\n", Json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else std::fputs(Table(r).c_str(), stdout);
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Measure what bounds a migration here; estimate a tree's stage one and delta passes");
  cmd->footer(
      "Examples:\n"
      "  ferry bench --path /srv/new                 # disk, small files, CPU kernels\n"
      "  ferry bench --json --size 1G --path /srv/new\n"
      "  ferry bench --estimate /home/alice/         # delta pass from the last 24 h of mtimes\n"
      "  ferry bench --estimate /home/alice/ /mnt/new/home/alice/  # dry run against DST\n"
      "  ferry bench --remote new.example.com        # + transport to new, plain and -z\n"
      "  ferry bench --remote root@new -e 'ssh -p 2222' --remote-size 256M --json\n"
      "Temporary files are written under --path as .ferry-bench.* and removed.\n"
      "--remote starts `ferry serve --stdio --bench-sink` there through ssh (or -e), as\n"
      "sync would, and streams --remote-size bytes through the session's framing and\n"
      "flow control, held in memory on both ends (no disk on either side).\n"
      "Exit codes: 0 ok, 1 usage, 11 a measurement failed (file I/O), 12 the\n"
      "transport failed (remote shell, protocol or connection).");
  cmd->add_option("--path", f->path,
                  "directory to measure the disk in (default: DST, else SRC's parent, else .)");
  cmd->add_option("--size", f->size, "bytes written then read sequentially (e.g. 512M, 2G)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("128M");
  cmd->add_option("--files", f->files, "small files landed for the create rate")
      ->check(CLI::PositiveNumber)
      ->default_str("2000");
  cmd->add_option("--file-size", f->file_size, "size of each small file (e.g. 4K)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("4K");
  cmd->add_option("--estimate", f->estimate, "SRC [DST]: predict stage one and a delta pass")
      ->expected(1, 2)
      ->allow_extra_args(false);
  cmd->add_option("--window", f->window_hours,
                  "hours of SRC mtimes that count as the change rate without DST")
      ->default_str("24");
  cmd->add_flag("--json", f->json, "print one JSON object instead of the table");
  cmd->add_option("--remote", f->remote,
                  "[user@]host[:PATH]: also measure the transport to host (plain and -z)");
  cmd->add_option("-e,--rsh", f->rsh, "remote shell for --remote (default ssh)")
      ->default_str("ssh");
  cmd->add_option("--remote-ferry", f->remote_ferry, "the ferry binary on the remote host")
      ->default_str("ferry");
  cmd->add_option("--remote-size", f->remote_size, "bytes sent per transport measurement")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("64M");
  cmd->add_option("--compress-level", f->compress_level, "zstd level of the -z row (default 3)");
  cmd->add_option("-j,--jobs", f->jobs, "worker threads for the sync probes (default: cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([f, exit_code] { *exit_code = RunBench(*f); });
}

}  // namespace ferry::cli
