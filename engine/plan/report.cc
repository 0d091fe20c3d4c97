#include "engine/plan/report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "engine/plan/values.h"

namespace ferry::plan {
namespace {

constexpr size_t kMaxListed = 20;  // per list on the text page

Status WriteWhole(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError("open", tmp, errno);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return PosixError("write", tmp, e);
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return PosixError("rename", path, errno);
  return Status::Ok();
}

const char* KindName(StepKind k) {
  switch (k) {
    case StepKind::kSync: return "sync";
    case StepKind::kHook: return "hook";
    case StepKind::kWait: return "wait";
    case StepKind::kVerify: return "verify";
    case StepKind::kBarrier: return "end";
  }
  return "?";
}

std::string Secs(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2fs", s);
  return b;
}

}  // namespace

Result<std::string> WritePhaseReport(const StepGraph& g, const CompiledPhase& p,
                                     StateStore& st, const std::string& state_dir,
                                     const std::string& account,
                                     const std::map<std::string, std::string>& skipped,
                                     double run_started, const std::string& result) {
  nlohmann::json j;
  j["plan"] = g.name;
  j["phase"] = p.name;
  j["kind"] = PhaseKindName(p.kind);
  j["account_filter"] = account;
  j["started"] = run_started;
  j["finished"] = NowSeconds();
  j["result"] = result;
  std::string text;
  text += "ferry plan report: " + (g.name.empty() ? std::string("(unnamed plan)") : g.name) +
          ", phase " + p.name + " (" + PhaseKindName(p.kind) + ")" +
          (account.empty() ? "" : ", account " + account) + "\n";
  text += "result: " + result + "\n";
  text += "duration: " + Secs(NowSeconds() - run_started) + "\n\n";
  uint64_t tfiles = 0, tbytes = 0, terrors = 0, tunchanged = 0;
  double tsecs = 0;
  nlohmann::json steps = nlohmann::json::array();
  std::string errors_text, changed_text, diff_text;
  size_t nerr = 0, nchanged = 0, ndiff = 0;
  for (size_t i = p.first; i < p.end; ++i) {
    const Step& s = g.steps[i];
    if (s.kind == StepKind::kBarrier) continue;
    if (!account.empty() && !s.account.empty() && s.account != account) continue;
    auto row = st.GetStep(s.id);
    nlohmann::json js;
    js["id"] = s.id;
    js["account"] = s.account;
    js["kind"] = KindName(s.kind);
    js["status"] = row ? row->status : "pending";
    js["message"] = row ? row->message : "";
    auto sk = skipped.find(s.id);
    if (sk != skipped.end()) js["skipped"] = sk->second;
    std::string line = "  " + s.id + ": " + (row ? row->status : std::string("pending"));
    if (sk != skipped.end()) line += " (skipped: " + sk->second + ")";
    if (row && row->finished > row->started && row->started > 0 && sk == skipped.end())
      line += ", " + Secs(row->finished - row->started);
    nlohmann::json passes = nlohmann::json::array();
    for (const PassRow& pr : st.Passes(s.id)) {
      if (pr.started < run_started) continue;
      uint64_t unchanged = pr.scanned - std::min(pr.scanned, pr.files);
      passes.push_back({{"pass", pr.pass}, {"status", pr.status}, {"resumed", pr.resumed},
                        {"files", pr.files}, {"bytes", pr.bytes}, {"unchanged_files", unchanged},
                        {"deleted", pr.deleted}, {"errors", pr.errors},
                        {"dst_changed", pr.dst_changed}, {"seconds", pr.seconds}});
      line += "\n      pass " + std::to_string(pr.pass) + (pr.resumed ? " (resumed)" : "") +
              ": " + pr.status + ", moved " + std::to_string(pr.files) + " files " +
              FormatBytes(pr.bytes) + ", skipped " + std::to_string(unchanged) +
              " unchanged (same size and mtime), deleted " + std::to_string(pr.deleted) +
              ", " + std::to_string(pr.errors) + " errors, " + Secs(pr.seconds);
      tfiles += pr.files;
      tbytes += pr.bytes;
      terrors += pr.errors;
      tunchanged += unchanged;
      tsecs += pr.seconds;
    }
    if (!passes.empty()) js["passes"] = passes;
    nlohmann::json ev = nlohmann::json::array();
    for (const EventRow& e : st.Events(s.id, run_started)) {
      ev.push_back({{"kind", e.kind}, {"path", e.path}, {"message", e.message}});
      if (e.kind == "error" && nerr++ < kMaxListed) errors_text += "  " + s.id + ": " + e.message + "\n";
      if (e.kind == "dst-changed" && nchanged++ < kMaxListed)
        changed_text += "  " + e.message + " " + s.transfers[0].label + "/" + e.path + "\n";
      if (e.kind == "difference" && ndiff++ < kMaxListed)
        diff_text += "  " + e.message + " " + e.path + "\n";
      if (e.kind == "hook-output") line += " (" + e.path + ")";
    }
    if (!ev.empty()) js["events"] = ev;
    if (row && row->status == "failed") line += "\n      why: " + row->message;
    text += line + "\n";
    steps.push_back(js);
  }
  auto more = [](size_t n) {
    return n > kMaxListed ? "  ... and " + std::to_string(n - kMaxListed) + " more (see the JSON)\n"
                          : std::string();
  };
  text += "\nmoved: " + std::to_string(tfiles) + " files, " + FormatBytes(tbytes) + " in " +
          Secs(tsecs) + "; skipped " + std::to_string(tunchanged) +
          " unchanged files; " + std::to_string(terrors) + " errors\n";
  if (nerr) text += "\nerrors by path:\n" + errors_text + more(nerr);
  if (nchanged)
    text += "\nchanged on the destination since the last pass (overwritten; the source is "
            "authoritative):\n" + changed_text + more(nchanged);
  if (ndiff) text += "\nverification differences:\n" + diff_text + more(ndiff);
  j["steps"] = steps;
  j["totals"] = {{"files", tfiles}, {"bytes", tbytes}, {"unchanged_files", tunchanged},
                 {"errors", terrors}, {"seconds", tsecs}};
  std::string dir = state_dir + "/reports";
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return PosixError("mkdir", dir, errno);
  std::string base = dir + "/" + p.name;
  RETURN_IF_ERROR(WriteWhole(base + ".json", j.dump(2) + "\n"));
  RETURN_IF_ERROR(WriteWhole(base + ".txt", text));
  return base + ".txt";
}

}  // namespace ferry::plan
