#include "protocol/daemon_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <span>

#include "protocol/path_check.h"

namespace ferry::protocol {

namespace {

constexpr uint64_t kSecretFileMax = 1 << 20;

std::string Octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Whether a file holding secrets has safe ownership and mode; *why says not.
bool StrictModeOk(const struct stat& st, const std::string& path, std::string_view what,
                  std::string* why) {
  if (st.st_mode & S_IRWXO) {
    *why = std::string(what) + " " + QuotePath(path) + " is accessible by others (mode " +
           Octal(st.st_mode) + "): chmod 600 " + QuotePath(path);
    return false;
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    *why = std::string(what) + " " + QuotePath(path) + " is owned by uid " +
           std::to_string(st.st_uid) + ", not by this user (uid " + std::to_string(geteuid()) +
           ") or root";
    return false;
  }
  return true;
}

Result<std::string> ReadWhole(const std::string& path, std::string_view what, io::IoBackend& io,
                              bool strict, bool* mode_ok) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io.OpenAt(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC, 0));
  ASSIGN_OR_RETURN(struct stat st, io.FStat(fd.get()));
  if (!S_ISREG(st.st_mode))
    return InvalidArgument(std::string(what) + " " + QuotePath(path) + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kSecretFileMax)
    return InvalidArgument(std::string(what) + " " + QuotePath(path) + " is larger than 1 MiB");
  std::string why;
  const bool ok = StrictModeOk(st, path, what, &why);
  if (mode_ok) *mode_ok = ok;
  if (strict && !ok) return Status(ErrorCode::kPermission, why);
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ASSIGN_OR_RETURN(size_t n, io.PRead(fd.get(),
                                        std::as_writable_bytes(std::span(text).subspan(got)), got));
    if (n == 0) break;
    got += n;
  }
  text.resize(got);
  return text;
}

std::string TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

bool ValidUserName(std::string_view u) {
  if (u.empty() || u.size() > kUserNameMax) return false;
  for (char c : u) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f || c == ':' || c == '@' || c == '/') return false;
  }
  return true;
}

class Parser {
 public:
  Parser(const std::string& file, bool file_mode_ok, io::IoBackend& io)
      : file_(file), file_mode_ok_(file_mode_ok), io_(io) {}

  void Error(const toml::source_region& r, const std::string& msg) {
    errors_ += (errors_.empty() ? "" : "\n") + file_ + ":" + std::to_string(r.begin.line) + ":" +
               std::to_string(r.begin.column) + ": " + msg;
  }
  void Error(const toml::node& n, const std::string& msg) { Error(n.source(), msg); }
  void PlainError(const std::string& msg) { errors_ += (errors_.empty() ? "" : "\n") + msg; }

  void CheckKeys(const toml::table& t, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
    for (auto&& [k, v] : t) {
      bool ok = false;
      for (std::string_view a : allowed) ok |= k.str() == a;
      if (ok) continue;
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Error(k.source(), "unknown key '" + std::string(k.str()) + "' in " + where +
                            " (expected one of: " + list + ")");
    }
  }

  const toml::node* Typed(const toml::table& t, std::string_view key, const std::string& where,
                          toml::node_type type, const char* expected) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (n->type() != type) {
      Error(*n, "'" + std::string(key) + "' in " + where + " must be " + expected + ", got " +
                    TypeName(*n));
      return nullptr;
    }
    return n;
  }

  // An integer in lo..hi; false when absent or bad (reported).
  bool Int(const toml::table& t, std::string_view key, const std::string& where, int64_t lo,
           int64_t hi, int64_t* out) {
    const toml::node* n = Typed(t, key, where, toml::node_type::integer, "an integer");
    if (!n) return false;
    int64_t v = n->as_integer()->get();
    if (v < lo || v > hi) {
      Error(*n, "'" + std::string(key) + "' in " + where + " is " + std::to_string(v) +
                    ": expected " + std::to_string(lo) + " to " + std::to_string(hi));
      return false;
    }
    *out = v;
    return true;
  }

  // The strings of an array (or a single string).
  std::vector<const toml::node*> Strings(const toml::table& t, std::string_view key,
                                         const std::string& where) {
    std::vector<const toml::node*> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    if (n->is_string()) return {n};
    if (!n->is_array()) {
      Error(*n, "'" + std::string(key) + "' in " + where + " must be an array of strings, got " +
                    TypeName(*n));
      return out;
    }
    for (const toml::node& e : *n->as_array()) {
      if (e.is_string()) out.push_back(&e);
      else Error(e, "'" + std::string(key) + "' in " + where + " must hold only strings, got " +
                        TypeName(e));
    }
    return out;
  }

  // "user:secret" -> *u; false with *why on a bad entry.
  static bool SplitSecret(std::string_view line, ModuleUser* u, std::string* why) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      *why = "expected USER:SECRET";
      return false;
    }
    u->name = std::string(line.substr(0, colon));
    u->secret = std::string(line.substr(colon + 1));
    if (!ValidUserName(u->name)) {
      *why = "bad user name (1 to 255 bytes, no control character, ':', '@' or '/')";
      return false;
    }
    if (u->secret.empty() || u->secret.size() > kSecretMax) {
      *why = "the secret must be 1 to 1024 bytes";
      return false;
    }
    return true;
  }

  void AddUser(DaemonModule* m, ModuleUser u, const std::string& where,
               const std::function<void(const std::string&)>& error) {
    if (m->FindUser(u.name)) {
      error("user '" + u.name + "' is listed twice for " + where);
      return;
    }
    m->users.push_back(std::move(u));
  }

  void ParseSecretsFile(DaemonModule* m, const toml::node& n, const std::string& where) {
    const std::string path = n.as_string()->get();
    Result<std::string> text = ReadWhole(path, "secrets file", io_, true, nullptr);
    if (!text.ok()) {
      Error(n, "'secrets_file' in " + where + ": " + text.status().message());
      return;
    }
    size_t line_no = 0, pos = 0;
    const std::string& s = *text;
    while (pos < s.size()) {
      size_t eol = s.find('\n', pos);
      if (eol == std::string::npos) eol = s.size();
      std::string_view line(s.data() + pos, eol - pos);
      pos = eol + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line[0] == '#') continue;
      const std::string at = path + ":" + std::to_string(line_no) + ": ";
      ModuleUser u;
      std::string why;
      if (!SplitSecret(line, &u, &why)) {
        PlainError(at + why);  // the line itself holds a secret: never echoed
        continue;
      }
      AddUser(m, std::move(u), where, [&](const std::string& e) { PlainError(at + e); });
    }
  }

  void ParseModule(std::string_view name, const toml::node& node) {
    const std::string where = "[modules." + std::string(name) + "]";
    if (!node.is_table()) {
      Error(node, "module '" + std::string(name) + "' must be a table (" + where + "), got " +
                      TypeName(node));
      return;
    }
    const toml::table& t = *node.as_table();
    CheckKeys(t, where,
              {"path", "read_only", "comment", "secrets_file", "secrets", "hosts_allow"});
    DaemonModule m;
    m.name = std::string(name);
    if (!ValidModuleName(name))
      Error(node, "bad module name '" + std::string(name) +
                      "': use 1 to 255 of A-Z a-z 0-9 . _ -, not starting with '.'");
    if (const toml::node* p = Typed(t, "path", where, toml::node_type::string, "a string")) {
      m.path = p->as_string()->get();
      while (m.path.size() > 1 && m.path.back() == '/') m.path.pop_back();
      if (m.path.empty() || m.path[0] != '/') {
        Error(*p, "'path' in " + where + " must be an absolute path, got " + QuotePath(m.path));
      } else {
        Result<struct stat> st = io_.StatAt(AT_FDCWD, m.path.c_str(), 0);
        if (!st.ok()) Error(*p, "'path' in " + where + ": " + st.status().message());
        else if (!S_ISDIR(st->st_mode))
          Error(*p, "'path' in " + where + ": " + QuotePath(m.path) + " is not a directory");
      }
    } else if (!t.get("path")) {
      Error(node, where + ": missing required key 'path' (the module's root directory)");
    }
    if (const toml::node* b = Typed(t, "read_only", where, toml::node_type::boolean,
                                    "true or false"))
      m.read_only = b->as_boolean()->get();
    if (const toml::node* c = Typed(t, "comment", where, toml::node_type::string, "a string"))
      m.comment = c->as_string()->get();
    if (const toml::node* f = Typed(t, "secrets_file", where, toml::node_type::string,
                                    "a string"))
      ParseSecretsFile(&m, *f, where);
    for (const toml::node* s : Strings(t, "secrets", where)) {
      if (!file_mode_ok_) {
        Error(*s, "inline 'secrets' in " + where + " need a config file that is not accessible "
                  "by others and owned by this user or root (chmod 600 " + QuotePath(file_) +
                  "), or use secrets_file");
        break;
      }
      ModuleUser u;
      std::string why;
      if (!SplitSecret(s->as_string()->get(), &u, &why)) {
        Error(*s, "'secrets' in " + where + ": " + why);
        continue;
      }
      AddUser(&m, std::move(u), where, [&](const std::string& e) { Error(*s, e); });
    }
    for (const toml::node* h : Strings(t, "hosts_allow", where)) {
      Result<HostPattern> p = HostPattern::Parse(h->as_string()->get());
      if (!p.ok()) Error(*h, "'hosts_allow' in " + where + ": " + p.status().message());
      else m.hosts_allow.push_back(std::move(*p));
    }
    if (m.users.empty() && !t.get("secrets") && !t.get("secrets_file"))
      Error(node, where + ": no users: add 'secrets_file' or 'secrets' (every module needs "
                          "authentication)");
    config_.modules.push_back(std::move(m));
  }

  Result<DaemonConfig> Run(std::string_view text) {
    config_.file = file_;
    toml::table root;
    try {
      root = toml::parse(text, std::string_view(file_));
    } catch (const toml::parse_error& e) {
      Error(e.source(), "TOML syntax error: " + std::string(e.description()));
      return InvalidArgument(errors_);
    }
    CheckKeys(root, "the top level", {"daemon", "modules"});
    if (const toml::node* d = root.get("daemon")) {
      if (!d->is_table()) {
        Error(*d, "'daemon' must be a table ([daemon]), got " + TypeName(*d));
      } else {
        const toml::table& t = *d->as_table();
        const std::string where = "[daemon]";
        CheckKeys(t, where, {"listen", "max_connections", "auth_timeout", "io_timeout",
                             "shutdown_grace"});
        if (const toml::node* l = Typed(t, "listen", where, toml::node_type::string, "a string")) {
          Result<HostPort> hp = ParseHostPort(l->as_string()->get(), false);
          if (!hp.ok()) Error(*l, "'listen' in [daemon]: " + hp.status().message());
          else config_.listen = *hp;
        }
        int64_t v = 0;
        if (Int(t, "max_connections", where, 1, 4096, &v))
          config_.max_connections = static_cast<int>(v);
        if (Int(t, "auth_timeout", where, 1, 3600, &v))
          config_.auth_timeout = std::chrono::seconds(v);
        if (Int(t, "io_timeout", where, 0, 86400, &v))
          config_.io_timeout = std::chrono::seconds(v);
        if (Int(t, "shutdown_grace", where, 0, 3600, &v))
          config_.shutdown_grace = std::chrono::seconds(v);
      }
    }
    const toml::node* mods = root.get("modules");
    if (!mods) {
      Error(root.source(), "no modules: add at least one [modules.NAME] table");
    } else if (!mods->is_table()) {
      Error(*mods, "'modules' must be a table of [modules.NAME], got " + TypeName(*mods));
    } else {
      for (auto&& [k, v] : *mods->as_table()) ParseModule(k.str(), v);
      if (mods->as_table()->empty())
        Error(*mods, "no modules: add at least one [modules.NAME] table");
    }
    if (!errors_.empty()) return InvalidArgument(errors_);
    return std::move(config_);
  }

 private:
  const std::string& file_;
  bool file_mode_ok_;
  io::IoBackend& io_;
  DaemonConfig config_;
  std::string errors_;
};

}  // namespace

const ModuleUser* DaemonModule::FindUser(std::string_view user) const {
  for (const ModuleUser& u : users)
    if (u.name == user) return &u;
  return nullptr;
}

bool DaemonModule::HostAllowed(const sockaddr_storage& peer) const {
  if (hosts_allow.empty()) return true;
  for (const HostPattern& p : hosts_allow)
    if (p.Matches(peer)) return true;
  return false;
}

const DaemonModule* DaemonConfig::FindModule(std::string_view name) const {
  for (const DaemonModule& m : modules)
    if (m.name == name) return &m;
  return nullptr;
}

bool ValidModuleName(std::string_view name) {
  if (name.empty() || name.size() > kModuleNameMax || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<DaemonConfig> ParseDaemonConfig(std::string_view text, const std::string& file,
                                       bool file_mode_ok, io::IoBackend& io) {
  return Parser(file, file_mode_ok, io).Run(text);
}

Result<DaemonConfig> LoadDaemonConfig(const std::string& path, io::IoBackend& io) {
  bool mode_ok = false;
  ASSIGN_OR_RETURN(std::string text, ReadWhole(path, "config file", io, false, &mode_ok));
  return ParseDaemonConfig(text, path, mode_ok, io);
}

Result<std::string> ReadSecretFile(const std::string& path, std::string_view what,
                                   io::IoBackend& io) {
  return ReadWhole(path, what, io, true, nullptr);
}

}  // namespace ferry::protocol
