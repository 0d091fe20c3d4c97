#include "cli/render.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/base/thread_name.h"

namespace ferry::cli {

std::string HumanBytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (b >= 1024 && u < 5) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string Grouped(uint64_t n) {
  // Built front to back (GCC 12 -O3 warns falsely on std::string::insert).
  std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

ProgressLine::ProgressLine(const SyncStats& stats, std::string label, bool terminal)
    : stats_(stats), label_(std::move(label)), terminal_(terminal) {}

ProgressLine::~ProgressLine() { Stop(); }

ProgressSample SampleOf(const SyncStats& s, double elapsed) {
  ProgressSample p;
  p.elapsed = elapsed;
  // Bytes move as they are copied; transferred_bytes counts whole files at
  // landing (and is the only count in a dry run).
  p.done_bytes = std::max(s.literal_bytes.load() + s.reflinked_bytes.load() + s.matched_bytes.load(),
                          s.transferred_bytes.load());
  // Totals only once planned: a remote receiver counts them while the list
  // streams, and a partial count would pass for a resumed attempt's plan.
  const bool planned = s.planned.load();
  p.total_bytes = planned ? s.planned_bytes.load() : 0;
  p.done_files = s.transferred_files.load();
  p.total_files = planned ? s.planned_files.load() : 0;
  p.finished = s.phase.load() == SyncPhase::kDone;
  return p;
}

std::string ProgressLine::Render(double elapsed) {
  char buf[320];
  if (!stats_.planned.load() && !seeded_) {
    std::snprintf(buf, sizeof buf, "%s: scan  %s entries  %s", label_.c_str(),
                  Grouped(stats_.files.load()).c_str(),
                  HumanBytes(static_cast<double>(stats_.total_size.load())).c_str());
    return buf;
  }
  // The rate and ETA are about moving data: the clock starts at the plan.
  if (copy_start_ < 0) copy_start_ = elapsed;
  ProgressView v = estimator_.Update(SampleOf(stats_, elapsed - copy_start_));
  const char* phase = "copy";
  switch (stats_.phase.load()) {
    case SyncPhase::kLink: phase = "link"; break;
    case SyncPhase::kFinish: phase = "finish"; break;
    case SyncPhase::kDone: phase = "done"; break;
    default: break;
  }
  std::snprintf(buf, sizeof buf, "%s: %s  %s / %s  %3.0f%%  %s/%s files  %s/s  ETA %s",
                label_.c_str(), phase, HumanBytes(static_cast<double>(v.done_bytes)).c_str(),
                HumanBytes(static_cast<double>(v.total_bytes)).c_str(), std::floor(v.percent),
                Grouped(v.done_files).c_str(), Grouped(v.total_files).c_str(),
                HumanBytes(v.rate).c_str(), FormatEta(v.eta).c_str());
  return buf;
}

void ProgressLine::Seed(uint64_t total_files, uint64_t total_bytes) {
  if (!total_files && !total_bytes) return;
  seeded_ = true;
  estimator_.Seed(total_bytes, total_files);
}

double ProgressLine::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressLine::Start() {
  start_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] {
    SetThreadName("ferry-render");
    // A terminal gets the line redrawn in place 5 times a second; a log (not
    // a terminal, --progress) gets a whole line every 5 seconds.
    const int ticks = terminal_ ? 4 : 100;
    while (!stop_.load()) {
      std::string line = Render(Elapsed());
      if (terminal_) {
        size_t pad = last_len_ > line.size() ? last_len_ - line.size() : 0;
        std::fprintf(stderr, "\r%s%*s", line.c_str(), static_cast<int>(pad), "");
        last_len_ = line.size();
      } else {
        std::fprintf(stderr, "%s\n", line.c_str());
      }
      std::fflush(stderr);
      for (int i = 0; i < ticks && !stop_.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

void ProgressLine::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();
  if (terminal_) {
    std::fprintf(stderr, "\r%*s\r", static_cast<int>(last_len_), "");
  } else {
    // The log's last line: where the pass ended.
    std::fprintf(stderr, "%s\n", Render(Elapsed()).c_str());
  }
  std::fflush(stderr);
}

std::string StatsText(const SyncStats& s, const SyncOutcome& o) {
  std::string t;
  auto line = [&t](const std::string& k, const std::string& v) { t += k + ": " + v + "\n"; };
  line("Number of files", Grouped(s.files.load()) + " (reg: " + Grouped(s.reg_files.load()) +
                              ", dir: " + Grouped(s.dirs.load()) + ", link: " +
                              Grouped(s.symlinks.load()) + ", special: " +
                              Grouped(s.specials.load()) + ")");
  line("Number of created files", Grouped(s.created.load()));
  line("Number of deleted files", Grouped(s.deleted.load()));
  line("Number of regular files transferred", Grouped(s.transferred_files.load()));
  line("Number of hard links made", Grouped(s.hard_links.load()));
  line("Number of files renamed within DST", Grouped(s.renamed_files.load()));
  line("Number of files copied within DST", Grouped(s.dst_copied_files.load()));
  line("Number of appended files", Grouped(s.appended_files.load()));
  line("Number of metadata-only updates", Grouped(s.meta_updates.load()));
  line("Total file size", Grouped(s.total_size.load()) + " bytes");
  line("Total transferred file size", Grouped(s.transferred_bytes.load()) + " bytes");
  line("Literal data", Grouped(s.literal_bytes.load()) + " bytes");
  line("Matched data", Grouped(s.matched_bytes.load()) + " bytes");
  line("Reflinked data", Grouped(s.reflinked_bytes.load()) + " bytes");
  line("Data not sent (renamed or copied within DST)", Grouped(s.renamed_bytes.load()) + " bytes");
  line("Data not sent (appended files' prefixes)", Grouped(s.append_reused_bytes.load()) + " bytes");
  line("Errors", Grouped(s.errors.load()) + " (vanished: " + Grouped(s.vanished.load()) + ")");
  if (s.delete_skipped.load())
    line("Deletions skipped (--max-delete)", Grouped(s.delete_skipped.load()));
  if (s.unsafe_links.load())
    line("Unsafe symlinks ignored (--safe-links)", Grouped(s.unsafe_links.load()));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f s", o.seconds);
  line("Elapsed", buf);
  return t;
}

std::string StatsJson(const SyncStats& s, const SyncOutcome& o, int exit_code) {
  nlohmann::json j = {
      {"event", "summary"},
      {"exit_code", exit_code},
      {"seconds", o.seconds},
      {"files", s.files.load()},
      {"reg_files", s.reg_files.load()},
      {"dirs", s.dirs.load()},
      {"symlinks", s.symlinks.load()},
      {"specials", s.specials.load()},
      {"created", s.created.load()},
      {"deleted", s.deleted.load()},
      {"transferred_files", s.transferred_files.load()},
      {"transferred_bytes", s.transferred_bytes.load()},
      {"total_size", s.total_size.load()},
      {"literal_bytes", s.literal_bytes.load()},
      {"matched_bytes", s.matched_bytes.load()},
      {"reflinked_bytes", s.reflinked_bytes.load()},
      {"hard_links", s.hard_links.load()},
      {"renamed_files", s.renamed_files.load()},
      {"dst_copied_files", s.dst_copied_files.load()},
      {"renamed_bytes", s.renamed_bytes.load()},
      {"appended_files", s.appended_files.load()},
      {"append_reused_bytes", s.append_reused_bytes.load()},
      {"meta_updates", s.meta_updates.load()},
      {"errors", s.errors.load()},
      {"vanished", s.vanished.load()},
      {"delete_skipped", s.delete_skipped.load()},
      {"unsafe_links", s.unsafe_links.load()},
      {"partial", o.partial},
  };
  return j.dump();
}

}  // namespace ferry::cli
