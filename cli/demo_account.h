// A small generated hosting account for `ferry demo`: a Maildir (INBOX and
// folders, Dovecot-style names and ns delivery times), a web tree with
// symlinks and a hard link, and a database dump. Deterministic per seed.
#pragma once

#include <cstdint>
#include <string>

#include "engine/base/status.h"

namespace ferry::cli {

struct DemoAccountSize {
  int messages = 600;
  int web_files = 300;
  uint64_t dump_bytes = 16 << 20;
};

// Creates the account under root (which must not exist yet).
Status GenerateDemoAccount(const std::string& root, const DemoAccountSize& size,
                           uint32_t seed);

// A day of changes: mail read and flagged (renames), a few deliveries and
// deletions, an edited page, rows changed in the dump. Returns a summary.
Result<std::string> ChangeDemoAccount(const std::string& root, uint32_t seed);

}  // namespace ferry::cli
