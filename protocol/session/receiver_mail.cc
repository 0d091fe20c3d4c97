// The receiver's Maildir semantics (--mail; mail_rules.h has the rules).
#include <fcntl.h>

#include <cerrno>

#include "protocol/session/mail_rules.h"
#include "protocol/session/receiver_impl.h"

namespace ferry::protocol::receiver_internal {

bool Receiver::HoldForMail(std::unique_ptr<InFlight>& f, const Hash128& hash) {
  if (f->shared || !HeldUntilMessagesLanded(MailModeOf(opt_.mail), f->name)) return false;
  // Nothing waits on the sender: the data is complete, only the landing
  // (rename into place) waits for Finish. A held file keeps no descriptor
  // (an account has thousands of folders): its data goes to a named
  // temporary, and its directory is opened again when it lands.
  const int dirfd = f->dir->fd.get();
  if (!f->AwaitOutput().ok()) return false;  // land now: that reports it
  if (f->tmp.empty()) {
    std::string tmp = TempName(f->name, suffix_);
    if (io::LinkUnnamed(f->out.get(), dirfd, tmp.c_str()) != 0) return false;  // land now
    f->tmp = std::move(tmp);
  }
  f->out.reset();
  f->basis_fd.reset();
  auto bare = std::make_shared<Dir>();  // no descriptor: ~InFlight unlinks nothing
  bare->path = f->dir->path;
  f->dir = std::move(bare);
  held_.emplace_back(std::move(f), hash);
  return true;
}

void Receiver::LandHeld() {
  for (auto& [f, hash] : held_) {
    const Listed& r = list_[f->index];
    std::shared_ptr<Dir> dir = ReopenDir(f->dir->path, reopened_);
    if (!dir) {
      Fail(f->index, Status(ErrorCode::kNotFound, "its directory cannot be opened again").WithContext(r.path));
      continue;
    }
    f->dir = dir;  // from here ~InFlight removes the temporary if it does not land
    auto out = io_->OpenAt(dir->fd.get(), f->tmp.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (!out.ok()) {
      Fail(f->index, out.status().WithContext(r.path));
      continue;
    }
    f->out = std::move(*out);
    Land(*f, hash);
  }
  held_.clear();
}

bool Receiver::SparedMailTmp(const std::string& rel, const Entry& e) const {
  const mail::MailMode mode = MailModeOf(opt_.mail);
  if (mode == mail::MailMode::kOff) return false;
  // DST's tmp/ of a folder (which SRC may lack under --mail=on).
  auto listed = [this](const std::string& p) { return validator_.Has(p); };
  if (e.name == "tmp" && e.is_dir() && IsListedMaildir(mode, listed, rel)) return true;
  // Anything inside a folder's tmp/.
  const size_t slash = rel.rfind('/');
  const std::string_view last = slash == std::string::npos ? std::string_view(rel)
                                                            : std::string_view(rel).substr(slash + 1);
  if (last != "tmp") return false;
  const std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  return IsListedMaildir(mode, listed, parent);
}

}  // namespace ferry::protocol::receiver_internal
