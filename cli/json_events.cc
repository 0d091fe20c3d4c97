#include "cli/json_events.h"

#include <nlohmann/json.hpp>

namespace ferry::cli {

namespace {

const char* CodeName(ErrorCode c) {
  switch (c) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kPermission: return "permission";
    case ErrorCode::kNoSpace: return "no_space";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kChanged: return "changed";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kExists: return "exists";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

// File names are bytes, JSON strings are UTF-8: invalid sequences become
// U+FFFD rather than aborting the run.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string_view ItemAction(std::string_view item) {
  if (item.starts_with("*deleting")) return "delete";
  if (item.empty()) return "meta";
  switch (item[0]) {
    case '>':
    case '<': return "send";
    case 'c': return "create";
    case 'h': return "link";
    default: return "meta";
  }
}

JsonEvents::JsonEvents(std::FILE* out, SyncEvents* text)
    : out_(out), text_(text), last_flush_(std::chrono::steady_clock::now()) {}

void JsonEvents::SetPass(std::string src, std::string dst, bool dry_run) {
  src_ = std::move(src);
  dst_ = std::move(dst);
  dry_run_ = dry_run;
  started_ = false;
}

void JsonEvents::WriteLine(const std::string& json) {
  std::fputs(json.c_str(), out_);
  std::fputc('\n', out_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_flush_ >= std::chrono::milliseconds(100)) {
    std::fflush(out_);
    last_flush_ = now;
  }
}

void JsonEvents::Flush() {
  std::fflush(out_);
  last_flush_ = std::chrono::steady_clock::now();
}

void JsonEvents::OnChange(const Change& c) {
  std::string_view item = c.itemized;
  while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
  std::string_view target = c.detail;
  std::string_view action = ItemAction(c.itemized);
  // A regular file made from another DST file (rename detection) says so:
  // "NEW => OLD" was renamed, "NEW == OLD" copied within DST.
  if (item.size() > 1 && item[0] == 'c' && item[1] == 'f') {
    if (target.starts_with(" => ")) action = "rename";
    if (target.starts_with(" == ")) action = "copy";
  }
  nlohmann::json j = {{"event", "file"},
                      {"path", c.path},
                      {"action", action},
                      {"item", item},
                      {"bytes", c.bytes}};
  if (target.starts_with(" -> ") || target.starts_with(" => ") || target.starts_with(" == "))
    target.remove_prefix(4);
  if (!target.empty()) j["target"] = target;
  WriteLine(Dump(j));
}

void JsonEvents::OnError(const Status& e) {
  WriteLine(Dump({{"event", "error"},
                  {"path", nullptr},
                  {"cause", e.message()},
                  {"code", CodeName(e.code())}}));
  if (text_) text_->OnError(e);
}

void JsonEvents::OnPathError(std::string_view path, const Status& e) {
  WriteLine(Dump({{"event", "error"},
                  {"path", path},
                  {"cause", e.message()},
                  {"code", CodeName(e.code())}}));
  if (text_) text_->OnPathError(path, e);
}

void JsonEvents::OnWarning(std::string_view m) {
  WriteLine(Dump({{"event", "warning"}, {"message", m}}));
  if (text_) text_->OnWarning(m);
}

void JsonEvents::OnVanished(std::string_view path) {
  WriteLine(Dump({{"event", "vanished"}, {"path", path}}));
  if (text_) text_->OnVanished(path);
}

void JsonEvents::OnPlanned(const SyncStats& s) {
  // A second call in a pass is a remote session's totals (header comment).
  const char* event = started_ ? "planned" : "start";
  started_ = true;
  WriteLine(Dump({{"event", event},
                  {"src", src_},
                  {"dst", dst_},
                  {"dry_run", dry_run_},
                  {"files", s.files.load()},
                  {"total_size", s.total_size.load()},
                  {"planned_files", s.planned_files.load()},
                  {"planned_bytes", s.planned_bytes.load()}}));
  Flush();
}

}  // namespace ferry::cli
