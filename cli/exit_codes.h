// Exit codes that mean what rsync's mean, shared by every subcommand.
// Codes of one subcommand only (verify's 8, plan's 2-5) stay in its file.
#pragma once

namespace ferry::cli {

constexpr int kExitSyntax = 1;      // usage or syntax error
constexpr int kExitStartClient = 5; // error starting client-server protocol (daemon)
constexpr int kExitSocket = 10;     // error in socket I/O
constexpr int kExitFileIo = 11;     // error in file I/O
constexpr int kExitProtocol = 12;   // error in the protocol data stream
constexpr int kExitSignal = 20;     // SIGINT, SIGTERM or SIGHUP
constexpr int kExitPartial = 23;    // partial transfer due to error
constexpr int kExitVanished = 24;   // some source files vanished
constexpr int kExitMaxDelete = 25;  // --max-delete stopped deletions

}  // namespace ferry::cli
