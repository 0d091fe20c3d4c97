#include "protocol/session/mail_rules.h"

namespace ferry::protocol {

mail::MailMode MailModeOf(MailSemantics m) {
  switch (m) {
    case MailSemantics::kAuto:
      return mail::MailMode::kAuto;
    case MailSemantics::kOn:
      return mail::MailMode::kOn;
    case MailSemantics::kOff:
      break;
  }
  return mail::MailMode::kOff;
}

MailSemantics MailSemanticsOf(mail::MailMode m) {
  switch (m) {
    case mail::MailMode::kAuto:
      return MailSemantics::kAuto;
    case mail::MailMode::kOn:
      return MailSemantics::kOn;
    case mail::MailMode::kOff:
      break;
  }
  return MailSemantics::kOff;
}

bool IsMaildirListing(mail::MailMode mode, const std::vector<Entry>& listing) {
  if (mode == mail::MailMode::kOff) return false;
  bool cur = false, neu = false, tmp = false;
  for (const Entry& e : listing) {
    if (!e.is_dir()) continue;
    if (e.name == "cur") cur = true;
    if (e.name == "new") neu = true;
    if (e.name == "tmp") tmp = true;
  }
  return mail::IsMaildirFolder(mode, cur, neu, tmp);
}

bool IsListedMaildir(mail::MailMode mode, const std::function<bool(const std::string&)>& listed,
                     const std::string& dir) {
  if (mode == mail::MailMode::kOff) return false;
  auto has = [&](const char* sub) {
    return listed(dir.empty() || dir == "." ? std::string(sub) : dir + "/" + sub);
  };
  return mail::IsMaildirFolder(mode, has("cur"), has("new"), has("tmp"));
}

void DropIndexFilesInStream(const SessionOptions& o, std::vector<Entry>* folder_listing) {
  if (o.stream_count == 0 || o.stream_index >= o.stream_count) return;
  std::erase_if(*folder_listing,
                [](const Entry& e) { return !e.is_dir() && mail::LandsAfterMessages(e.name); });
}

bool HeldUntilMessagesLanded(mail::MailMode mode, std::string_view name) {
  return mode != mail::MailMode::kOff && mail::LandsAfterMessages(name);
}

}  // namespace ferry::protocol
