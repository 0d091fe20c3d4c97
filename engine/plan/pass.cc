#include "engine/plan/pass.h"

#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

#include "engine/plan/leg.h"
#include "engine/plan/manifest.h"
#include "engine/plan/state_dir.h"
#include "engine/plan/values.h"

namespace ferry::plan {
namespace {

// Counts what a pass did and keeps its per-path errors; optionally logs
// itemized changes. Serialised by the engine.
class PassEvents : public SyncEvents {
 public:
  PassEvents(const RunOptions& o, std::string step) : opt_(o), step_(std::move(step)) {}
  void OnItem(std::string_view item, std::string_view path) override {
    if (opt_.itemize && opt_.log)
      opt_.log(step_ + ": " + std::string(item) + " " + std::string(path));
    if (opt_.on_item) opt_.on_item(step_, item, path);
  }
  void OnError(const Status& e) override { errors.push_back(e.message()); }
  void OnWarning(std::string_view w) override {
    if (opt_.log) opt_.log(step_ + ": warning: " + std::string(w));
  }
  // Stored at once: a pass cut off later still has them for its resumption.
  void OnPlanned(const SyncStats& st) override {
    if (!state || pass_id == 0) return;
    planned_saved = state->SetPlanned(pass_id, st.planned_files.load(), st.planned_bytes.load())
                        .ok();
  }
  std::vector<std::string> errors;
  StateStore* state = nullptr;
  int64_t pass_id = 0;
  bool planned_saved = false;

 private:
  const RunOptions& opt_;
  std::string step_;
};

// Collects a dry run's itemized changes.
class ItemEvents : public SyncEvents {
 public:
  void OnItem(std::string_view item, std::string_view path) override {
    items.emplace_back(std::string(item), std::string(path));
  }
  void OnError(const Status& e) override { errors.push_back(e.message()); }
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<std::string> errors;
};

// What changed on an ssh destination since the last pass landed `before`
// there (a push: the source is local). A dry-run push with itemize lists
// every difference between the source now and the destination now; those
// the source made itself since `before` are not the destination's, nor are
// directory times (they move with the entries inside, listed themselves). A
// path changed on both sides is the source's. Errors: the dry run's.
Result<std::vector<ManifestChange>> ChangedOnSshDestination(
    const Transfer& t, const LegOptions& pass, const std::vector<ManifestEntry>& before) {
  ASSIGN_OR_RETURN(auto src_now, ScanManifest(t.src_path, pass.filter.get()));
  std::set<std::string> by_source;
  for (const ManifestChange& c : DiffManifests(before, src_now)) by_source.insert(c.path);
  LegOptions lo = pass;
  lo.dry_run = true;
  lo.del = true;  // entries only the destination has are changes too
  SyncStats stats;
  ItemEvents ev;
  ASSIGN_OR_RETURN(LegOutcome out, RunLeg(t, lo, stats, ev));
  (void)out;
  if (!ev.errors.empty()) return Status(ErrorCode::kIo, ev.errors.front());
  std::vector<ManifestChange> changed;
  for (auto& [item, path] : ev.items) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path == "." || path.empty() || by_source.count(path)) continue;
    const bool deleting = item.starts_with("*deleting");
    const bool created = item.size() > 2 && item[2] == '+';
    if (!deleting && !created && item.size() > 1 && item[1] == 'd') continue;
    changed.push_back({deleting ? '+' : created ? '-' : 'M', path});
  }
  std::sort(changed.begin(), changed.end(),
            [](const ManifestChange& a, const ManifestChange& b) { return a.path < b.path; });
  return changed;
}

}  // namespace

std::shared_ptr<const FilterList> FilterOf(const Transfer& t) {
  if (t.filter.empty()) return nullptr;
  auto f = std::make_shared<FilterList>();
  // The rules were checked by ParsePlan.
  for (const std::string& r : t.filter) (void)f->AddRule(RuleType::kExclude, r);
  return f;
}

std::string TransferText(const Transfer& t) {
  return EndpointDisplay(t.src, t.src_path) + " -> " + EndpointDisplay(t.dst, t.dst_path);
}

bool RunSyncPass(const PassContext& ctx, const Step& s, std::shared_ptr<const IdMapping> ids,
                 int pass_no, bool resumed, PassRow* result, std::string* why) {
  const Transfer& t = s.transfers[0];
  std::string tag = s.id + " pass " + std::to_string(pass_no) + (resumed ? " (resumed)" : "");
  std::shared_ptr<const FilterList> filter = FilterOf(t);
  LegOptions lo;
  lo.del = s.del;
  lo.ids = std::move(ids);
  lo.dry_run = ctx.options.dry_run;
  lo.filter = filter;
  lo.rsh = ctx.graph.rsh;
  lo.remote_ferry = ctx.graph.remote_ferry;
  if (std::string refused = RemoteLegRefusal(t, lo); !refused.empty()) {
    if (ctx.options.dry_run) {
      ctx.log(tag + ": would sync " + TransferText(t) + " (not shown: " + refused + ")");
      return true;
    }
    return *why = s.id + ": account " + s.account + ": " + refused, false;
  }
  // What changed on the destination since the last pass landed there; the
  // source is authoritative, so the pass overwrites it: list it first. A
  // local destination is scanned against the last manifest; an ssh one (a
  // push) is compared by a dry run before the final pass.
  std::vector<ManifestChange> changed;
  const bool dst_local = t.dst.kind == EndpointKind::kLocal;
  const std::optional<std::string> mirror = LocalMirrorOfDestination(t);
  auto before = ctx.state.LastManifest(EndpointDisplay(t.dst, t.dst_path));
  if (before && dst_local) {
    auto now = ScanManifest(t.dst_path, filter.get());
    if (now.ok()) changed = DiffManifests(*before, *now);
  } else if (before && s.final_pass && t.src.kind == EndpointKind::kLocal) {
    auto remote = ChangedOnSshDestination(t, lo, *before);
    if (remote.ok()) changed = std::move(*remote);
    else
      ctx.log(tag + ": changes made on the destination since the last pass cannot be listed (" +
              remote.status().message() + "); they are overwritten");
  }
  for (const ManifestChange& c : changed)
    ctx.log(tag + ": changed on destination since the last pass" +
            (ctx.options.dry_run ? " (would be overwritten)" : " (overwritten now)") + ": " +
            std::string(1, c.what) + " " + c.path);
  PassRow p;
  p.step = s.id;
  p.phase = s.phase;
  p.account = s.account;
  p.dst = EndpointDisplay(t.dst, t.dst_path);
  p.pass = pass_no;
  p.resumed = resumed;
  if (!ctx.options.dry_run) {
    auto id = ctx.state.BeginPass(p);
    if (!id.ok()) return *why = id.status().message(), false;
    p.id = *id;
    for (const ManifestChange& c : changed)
      (void)ctx.state.AddEvent({p.id, s.id, "dst-changed", c.path, std::string(1, c.what)});
  }
  if (auto m = ctx.state.LastManifest(p.dst); m && ctx.options.log) {
    uint64_t files = 0, bytes = 0;
    for (const ManifestEntry& e : *m)
      if (S_ISREG(e.mode)) ++files, bytes += e.size;
    ctx.log(tag + ": " + TransferText(t) + " (last pass ended with " + std::to_string(files) +
            " files, " + FormatBytes(bytes) + ")");
  } else {
    ctx.log(tag + ": " + TransferText(t));
  }
  SyncStats stats;
  PassEvents ev(ctx.options, s.id);
  ev.state = ctx.options.dry_run ? nullptr : &ctx.state;
  ev.pass_id = p.id;
  RunOptions::PassStart start{s.id, &stats, resumed, 0, 0};
  if (resumed) {
    // The totals the cut-off attempt planned: the resumed pass skips what
    // it landed, so its own plan is smaller than the pass.
    std::vector<PassRow> rows = ctx.state.Passes(s.id);
    for (auto r = rows.rbegin(); r != rows.rend(); ++r) {
      if (r->status != "interrupted" || r->id == p.id) continue;
      start.seed_files = r->planned_files;
      start.seed_bytes = r->planned_bytes;
      break;
    }
    if (start.seed_files || start.seed_bytes)
      ctx.log(tag + ": the cut-off attempt had planned " + std::to_string(start.seed_files) +
              " files, " + FormatBytes(start.seed_bytes));
  }
  const bool live = !ctx.options.dry_run && ctx.options.on_pass_start;
  if (live) ctx.options.on_pass_start(start);
  if (!ctx.options.dry_run && dst_local) (void)MakeDirs(t.dst_path);
  auto out = RunLeg(t, lo, stats, ev);
  if (live && ctx.options.on_pass_end) ctx.options.on_pass_end(s.id);
  if (!ctx.options.dry_run && !ev.planned_saved && p.id)
    (void)ctx.state.SetPlanned(p.id, stats.planned_files.load(), stats.planned_bytes.load());
  p.seconds = out.ok() ? out->seconds : 0;
  p.files = stats.transferred_files.load();
  p.bytes = stats.transferred_bytes.load();
  p.scanned = stats.reg_files.load();
  p.scanned_bytes = stats.total_size.load();
  p.deleted = stats.deleted.load();
  p.dst_changed = changed.size();
  if (!out.ok()) ev.errors.push_back(out.status().message());
  p.errors = ev.errors.size();
  bool ok = ev.errors.empty() && out.ok() && !out->partial;
  p.status = ok ? "done" : "failed";
  if (!ctx.options.dry_run) {
    for (const std::string& e : ev.errors) (void)ctx.state.AddEvent({p.id, s.id, "error", "", e});
    if (ok && mirror) {
      auto m = ScanManifest(*mirror, filter.get());
      if (!m.ok()) {
        ok = false;
        p.status = "failed";
        ev.errors.push_back(m.status().message());
      } else if (Status ms = ctx.state.SaveManifest(p.id, *m); !ms.ok()) {
        ok = false;
        p.status = "failed";
        ev.errors.push_back(ms.message());
      }
    }
    (void)ctx.state.EndPass(p);
  }
  ctx.log(tag + ": " + std::to_string(p.files) + " files, " + FormatBytes(p.bytes) +
          " transferred, " + std::to_string(p.scanned - std::min(p.scanned, p.files)) +
          " unchanged, " + std::to_string(p.deleted) + " deleted, " +
          std::to_string(p.errors) + " errors in " + std::to_string(p.seconds).substr(0, 5) +
          "s" + (ctx.options.dry_run ? " (dry run)" : ""));
  *result = p;
  if (!ok) {
    *why = s.id + ": " + std::to_string(ev.errors.size()) + " error(s); first: " +
           ev.errors.front();
    return false;
  }
  return true;
}

}  // namespace ferry::plan
