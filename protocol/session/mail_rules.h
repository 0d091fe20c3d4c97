// Maildir semantics of a remote session (--mail, SessionOptions.mail; the
// local engine's are in engine/transfer/scan_tree.cc and rename.cc):
//  - the sender lists a Maildir folder's tmp/ but not its contents (a
//    half-delivered message is not mail yet);
//  - the receiver's --delete spares DST's tmp/ contents of a folder (as if
//    excluded);
//  - the receiver holds the completed temporaries of index files
//    (mail::LandsAfterMessages) and lands them after the pass's other files
//    and its deletions, so a mail server on DST never reads a uidlist that
//    names messages it cannot find. The receiver cannot tell for sure that a
//    directory is a folder before the list ends, so it holds every file of
//    such a name in mail mode (each lands at the end of the session).
//
// Thread safety: pure functions over values.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail/maildir.h"
#include "engine/tree/entry.h"
#include "protocol/messages.h"

namespace ferry::protocol {

mail::MailMode MailModeOf(MailSemantics m);
MailSemantics MailSemanticsOf(mail::MailMode m);

// Whether a directory with this listing is a Maildir folder under mode.
bool IsMaildirListing(mail::MailMode mode, const std::vector<Entry>& listing);

// Whether the listed directory `dir` ("" the root) is a Maildir folder,
// judged by whether the list has its subdirectories (`listed` answers for a
// path relative to the root).
bool IsListedMaildir(mail::MailMode mode, const std::function<bool(const std::string&)>& listed,
                     const std::string& dir);

// --streams: a stream (not the final pass) lists no index files of a
// folder, so that they land in the final pass, after every stream's
// messages. Removes them from a folder's listing in such a session.
void DropIndexFilesInStream(const SessionOptions& o, std::vector<Entry>* folder_listing);

// Whether the receiver holds a file of this name until the end of the pass.
bool HeldUntilMessagesLanded(mail::MailMode mode, std::string_view name);

}  // namespace ferry::protocol
