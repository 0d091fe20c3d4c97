// Maildir knowledge with no I/O: how a folder is recognised, what a message
// file's stable name is, and which of a folder's files describe its messages
// (and so must land after them).
//
// Layout (Dovecot, Courier, qmail): a folder is a directory holding cur/,
// new/ and tmp/. Messages are delivered into tmp/, moved to new/, and moved
// to cur/ once a client has seen them; flags live in the name after ":2,"
// ("1700000000.M1P2.host,S=1234:2,RS"), so a flag change is a rename.
//
// Thread safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace ferry::mail {

// --mail: whether Maildir semantics apply.
//   kAuto: a directory holding cur/, new/ and tmp/ is a Maildir folder.
//   kOn:   also a directory holding cur/ and new/ without tmp/ (Dovecot makes
//          tmp/ again when it needs it; some backups drop empty directories).
//   kOff:  no directory is a Maildir folder.
enum class MailMode { kAuto, kOn, kOff };

// Parses "auto" | "on" | "off"; anything else is kInvalidArgument naming the
// value.
Result<MailMode> ParseMailMode(std::string_view s);

// Whether a directory whose subdirectories include the given ones is a
// Maildir folder under mode.
bool IsMaildirFolder(MailMode mode, bool has_cur, bool has_new, bool has_tmp);

// The part of a message file name that survives flag changes: everything
// before the last ":2," (or ":1,"), or the whole name when it has none.
// "123.M4P5.host,S=99:2,RS" -> "123.M4P5.host,S=99".
std::string_view MaildirBaseName(std::string_view name);

// Whether a file directly in a Maildir folder names or indexes its messages:
// dovecot-uidlist, dovecot-keywords, subscriptions and Dovecot's index files
// (dovecot.index, dovecot.index.log, dovecot.index.cache, ...). A mail server
// that reads one of these before the messages it names are in place records
// them as expunged, or gives unlisted messages new UIDs, so they land after
// the folder's messages.
bool LandsAfterMessages(std::string_view name);

}  // namespace ferry::mail
