#include "engine/mail/maildir.h"

namespace ferry::mail {

Result<MailMode> ParseMailMode(std::string_view s) {
  if (s == "auto") return MailMode::kAuto;
  if (s == "on") return MailMode::kOn;
  if (s == "off") return MailMode::kOff;
  return InvalidArgument("--mail: expected auto, on or off, got '" + std::string(s) + "'");
}

bool IsMaildirFolder(MailMode mode, bool has_cur, bool has_new, bool has_tmp) {
  switch (mode) {
    case MailMode::kAuto:
      return has_cur && has_new && has_tmp;
    case MailMode::kOn:
      return has_cur && has_new;
    case MailMode::kOff:
      return false;
  }
  return false;
}

std::string_view MaildirBaseName(std::string_view name) {
  for (std::string_view info : {":2,", ":1,"}) {
    size_t p = name.rfind(info);
    if (p != std::string_view::npos && p > 0) return name.substr(0, p);
  }
  return name;
}

bool LandsAfterMessages(std::string_view name) {
  return name == "dovecot-uidlist" || name == "dovecot-keywords" ||
         name == "subscriptions" || name.starts_with("dovecot.index");
}

}  // namespace ferry::mail
