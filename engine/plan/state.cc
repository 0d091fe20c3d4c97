#include "engine/plan/state.h"

#include <sqlite3.h>
#include <sys/time.h>

namespace ferry::plan {
namespace {

// One prepared statement; finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  std::string Text(int c) {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  int64_t Int(int c) { return sqlite3_column_int64(s_, c); }
  double Real(int c) { return sqlite3_column_double(s_, c); }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

Status DbError(sqlite3* db, const std::string& what) {
  return Status(ErrorCode::kIo, "state database: " + what + ": " + sqlite3_errmsg(db));
}

constexpr const char* kSchema = R"(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS steps(
  id TEXT PRIMARY KEY, phase TEXT, account TEXT, status TEXT, message TEXT,
  started REAL, finished REAL);
CREATE TABLE IF NOT EXISTS passes(
  id INTEGER PRIMARY KEY AUTOINCREMENT, step TEXT, phase TEXT, account TEXT, dst TEXT,
  pass INTEGER, status TEXT, resumed INTEGER, started REAL, seconds REAL,
  files INTEGER, bytes INTEGER, scanned INTEGER, scanned_bytes INTEGER,
  deleted INTEGER, errors INTEGER, dst_changed INTEGER);
CREATE INDEX IF NOT EXISTS passes_step ON passes(step);
CREATE TABLE IF NOT EXISTS manifest(
  pass INTEGER, path TEXT, mode INTEGER, size INTEGER, mtime_ns INTEGER,
  PRIMARY KEY(pass, path));
CREATE TABLE IF NOT EXISTS events(
  pass INTEGER, step TEXT, kind TEXT, path TEXT, message TEXT, at REAL);
CREATE INDEX IF NOT EXISTS events_step ON events(step);
)";

PassRow ReadPass(Stmt& q) {
  PassRow p;
  p.id = q.Int(0);
  p.step = q.Text(1);
  p.phase = q.Text(2);
  p.account = q.Text(3);
  p.dst = q.Text(4);
  p.pass = static_cast<int>(q.Int(5));
  p.status = q.Text(6);
  p.resumed = q.Int(7) != 0;
  p.started = q.Real(8);
  p.seconds = q.Real(9);
  p.files = static_cast<uint64_t>(q.Int(10));
  p.bytes = static_cast<uint64_t>(q.Int(11));
  p.scanned = static_cast<uint64_t>(q.Int(12));
  p.scanned_bytes = static_cast<uint64_t>(q.Int(13));
  p.deleted = static_cast<uint64_t>(q.Int(14));
  p.errors = static_cast<uint64_t>(q.Int(15));
  p.dst_changed = static_cast<uint64_t>(q.Int(16));
  p.planned_files = static_cast<uint64_t>(q.Int(17));
  p.planned_bytes = static_cast<uint64_t>(q.Int(18));
  return p;
}

constexpr const char* kPassCols =
    "id, step, phase, account, dst, pass, status, resumed, started, seconds, files, bytes, "
    "scanned, scanned_bytes, deleted, errors, dst_changed, planned_files, planned_bytes";

}  // namespace

double NowSeconds() {
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& state_dir) {
  std::unique_ptr<StateStore> s(new StateStore());
  std::string path = state_dir + "/state.db";
  if (sqlite3_open_v2(path.c_str(), &s->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    Status st(ErrorCode::kIo, "open state database " + path + ": " +
                                  (s->db_ ? sqlite3_errmsg(s->db_) : "out of memory"));
    return st;
  }
  sqlite3_busy_timeout(s->db_, 5000);
  RETURN_IF_ERROR(s->Exec(kSchema).WithContext(path));
  // Columns added since the first schema: a state directory made by an
  // older ferry gains them (0: not known).
  bool planned = false;
  {
    Stmt q(s->db_, "PRAGMA table_info(passes)");
    while (q.Step() == SQLITE_ROW) planned = planned || q.Text(1) == "planned_files";
  }
  if (!planned)
    RETURN_IF_ERROR(s->Exec("ALTER TABLE passes ADD COLUMN planned_files INTEGER DEFAULT 0;"
                            "ALTER TABLE passes ADD COLUMN planned_bytes INTEGER DEFAULT 0;")
                        .WithContext(path));
  return s;
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Status(ErrorCode::kIo, "state database: " + m);
  }
  return Status::Ok();
}

std::optional<StepRow> StateStore::GetStep(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "SELECT id, phase, account, status, message, started, finished FROM steps "
              "WHERE id = ?");
  q.Bind(1, id);
  if (q.Step() != SQLITE_ROW) return std::nullopt;
  return StepRow{q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Real(5), q.Real(6)};
}

std::vector<StepRow> StateStore::AllSteps() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<StepRow> out;
  Stmt q(db_, "SELECT id, phase, account, status, message, started, finished FROM steps");
  while (q.Step() == SQLITE_ROW)
    out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Real(5), q.Real(6)});
  return out;
}

Status StateStore::SetStep(const std::string& id, const std::string& phase,
                           const std::string& account, const std::string& status,
                           const std::string& message) {
  std::lock_guard<std::mutex> l(mu_);
  double now = NowSeconds();
  Stmt q(db_,
         "INSERT INTO steps(id, phase, account, status, message, started, finished) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0) ON CONFLICT(id) DO UPDATE SET "
         "started = CASE WHEN ?4 = 'running' AND status IS NOT 'running' THEN ?6 "
         "ELSE started END, "
         "finished = CASE WHEN ?4 IN ('done', 'failed') THEN ?6 ELSE finished END, "
         "status = ?4, message = ?5");
  q.Bind(1, id).Bind(2, phase).Bind(3, account).Bind(4, status).Bind(5, message).Bind(6, now);
  if (q.Step() != SQLITE_DONE) return DbError(db_, "update step " + id);
  return Status::Ok();
}

Status StateStore::ResetSteps(const std::vector<std::string>& ids) {
  std::lock_guard<std::mutex> l(mu_);
  for (const std::string& id : ids) {
    Stmt q(db_, "DELETE FROM steps WHERE id = ?");
    q.Bind(1, id);
    if (q.Step() != SQLITE_DONE) return DbError(db_, "reset step " + id);
  }
  return Status::Ok();
}

Result<int64_t> StateStore::BeginPass(const PassRow& p) {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "INSERT INTO passes(step, phase, account, dst, pass, status, resumed, started, "
              "seconds, files, bytes, scanned, scanned_bytes, deleted, errors, dst_changed) "
              "VALUES(?, ?, ?, ?, ?, 'running', ?, ?, 0, 0, 0, 0, 0, 0, 0, 0)");
  q.Bind(1, p.step).Bind(2, p.phase).Bind(3, p.account).Bind(4, p.dst);
  q.Bind(5, int64_t{p.pass}).Bind(6, int64_t{p.resumed}).Bind(7, NowSeconds());
  if (q.Step() != SQLITE_DONE) return DbError(db_, "begin pass of " + p.step);
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status StateStore::SetPlanned(int64_t pass, uint64_t files, uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "UPDATE passes SET planned_files = ?, planned_bytes = ? WHERE id = ?");
  q.Bind(1, static_cast<int64_t>(files)).Bind(2, static_cast<int64_t>(bytes)).Bind(3, pass);
  if (q.Step() != SQLITE_DONE) return DbError(db_, "planned totals of pass " + std::to_string(pass));
  return Status::Ok();
}

Status StateStore::EndPass(const PassRow& p) {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "UPDATE passes SET status = ?, seconds = ?, files = ?, bytes = ?, scanned = ?, "
              "scanned_bytes = ?, deleted = ?, errors = ?, dst_changed = ? WHERE id = ?");
  q.Bind(1, p.status).Bind(2, p.seconds);
  q.Bind(3, static_cast<int64_t>(p.files)).Bind(4, static_cast<int64_t>(p.bytes));
  q.Bind(5, static_cast<int64_t>(p.scanned)).Bind(6, static_cast<int64_t>(p.scanned_bytes));
  q.Bind(7, static_cast<int64_t>(p.deleted)).Bind(8, static_cast<int64_t>(p.errors));
  q.Bind(9, static_cast<int64_t>(p.dst_changed)).Bind(10, p.id);
  if (q.Step() != SQLITE_DONE) return DbError(db_, "end pass of " + p.step);
  return Status::Ok();
}

Result<int> StateStore::MarkInterrupted() {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "UPDATE passes SET status = 'interrupted' WHERE status = 'running'");
  if (q.Step() != SQLITE_DONE) return DbError(db_, "mark interrupted passes");
  return sqlite3_changes(db_);
}

std::vector<PassRow> StateStore::Passes(const std::string& step) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<PassRow> out;
  Stmt q(db_, (std::string("SELECT ") + kPassCols + " FROM passes WHERE step = ? ORDER BY id")
                  .c_str());
  q.Bind(1, step);
  while (q.Step() == SQLITE_ROW) out.push_back(ReadPass(q));
  return out;
}

std::vector<PassRow> StateStore::AllPasses() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<PassRow> out;
  Stmt q(db_, (std::string("SELECT ") + kPassCols + " FROM passes ORDER BY id").c_str());
  while (q.Step() == SQLITE_ROW) out.push_back(ReadPass(q));
  return out;
}

Status StateStore::SaveManifest(int64_t pass, const std::vector<ManifestEntry>& m) {
  std::lock_guard<std::mutex> l(mu_);
  RETURN_IF_ERROR(Exec("BEGIN"));
  {
    Stmt q(db_, "INSERT OR REPLACE INTO manifest(pass, path, mode, size, mtime_ns) "
                "VALUES(?, ?, ?, ?, ?)");
    for (const ManifestEntry& e : m) {
      sqlite3_reset(q.get());
      q.Bind(1, pass).Bind(2, e.path).Bind(3, int64_t{e.mode});
      q.Bind(4, static_cast<int64_t>(e.size)).Bind(5, e.mtime_ns);
      if (q.Step() != SQLITE_DONE) {
        Status st = DbError(db_, "save manifest");
        (void)Exec("ROLLBACK");
        return st;
      }
    }
  }
  return Exec("COMMIT");
}

std::optional<std::vector<ManifestEntry>> StateStore::LastManifest(const std::string& dst) {
  std::lock_guard<std::mutex> l(mu_);
  Stmt p(db_, "SELECT id FROM passes WHERE dst = ? AND status = 'done' ORDER BY id DESC LIMIT 1");
  p.Bind(1, dst);
  if (p.Step() != SQLITE_ROW) return std::nullopt;
  int64_t id = p.Int(0);
  std::vector<ManifestEntry> out;
  Stmt q(db_, "SELECT path, mode, size, mtime_ns FROM manifest WHERE pass = ? ORDER BY path");
  q.Bind(1, id);
  while (q.Step() == SQLITE_ROW)
    out.push_back({q.Text(0), static_cast<uint32_t>(q.Int(1)), static_cast<uint64_t>(q.Int(2)),
                   q.Int(3)});
  return out;
}

Status StateStore::AddEvent(const EventRow& e) {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "INSERT INTO events(pass, step, kind, path, message, at) "
              "VALUES(?, ?, ?, ?, ?, ?)");
  q.Bind(1, e.pass).Bind(2, e.step).Bind(3, e.kind).Bind(4, e.path).Bind(5, e.message);
  q.Bind(6, NowSeconds());
  if (q.Step() != SQLITE_DONE) return DbError(db_, "add event");
  return Status::Ok();
}

std::vector<EventRow> StateStore::Events(const std::string& step, double since) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<EventRow> out;
  Stmt q(db_, "SELECT pass, step, kind, path, message, at FROM events WHERE step = ? AND "
              "at >= ? ORDER BY rowid");
  q.Bind(1, step).Bind(2, since);
  while (q.Step() == SQLITE_ROW)
    out.push_back({q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Real(5)});
  return out;
}

}  // namespace ferry::plan
