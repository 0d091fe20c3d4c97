// The receiver's Maildir semantics (--mail; mail_rules.h has the rules).
#include "protocol/session/mail_rules.h"
#include "protocol/session/receiver_impl.h"

namespace ferry::protocol::receiver_internal {

bool Receiver::HoldForMail(std::unique_ptr<InFlight>& f, const Hash128& hash) {
  if (f->shared || !HeldUntilMessagesLanded(MailModeOf(opt_.mail), f->name)) return false;
  // Nothing waits on the sender: the data is complete, only the landing
  // (link or rename into place) waits for Finish.
  held_.emplace_back(std::move(f), hash);
  return true;
}

void Receiver::LandHeld() {
  for (auto& [f, hash] : held_) Land(*f, hash);
  held_.clear();
}

bool Receiver::SparedMailTmp(const std::string& rel, const Entry& e) const {
  const mail::MailMode mode = MailModeOf(opt_.mail);
  if (mode == mail::MailMode::kOff) return false;
  // DST's tmp/ of a folder (which SRC may lack under --mail=on).
  if (e.name == "tmp" && e.is_dir() && IsListedMaildir(mode, paths_, rel)) return true;
  // Anything inside a folder's tmp/.
  const size_t slash = rel.rfind('/');
  const std::string_view last = slash == std::string::npos ? std::string_view(rel)
                                                            : std::string_view(rel).substr(slash + 1);
  if (last != "tmp") return false;
  const std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
  return IsListedMaildir(mode, paths_, parent);
}

}  // namespace ferry::protocol::receiver_internal
