// Validation of paths and names that arrive from the wire (the
// CVE-2024-12087 class): a peer's path is refused unless it is a plain
// relative path that cannot leave the transfer root by itself.
//
// Refused, with the (escaped) path in the message: empty; absolute ("/x");
// a ".." or "." component; an empty component ("a//b", trailing "/"); NUL or
// any control character (bytes < 0x20 and 0x7f); PATH_MAX (4096) bytes or
// more; a component longer than NAME_MAX (255). The lone path "." (the
// transfer root) is accepted only where the caller allows it.
//
// Symlinks inside the destination are not visible here; the file-list
// validator (file_list_validator.h) and the receiver's confined opens
// (ARCHITECTURE.md rule 8) handle them.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace ferry::protocol {

// Errors: kCorrupt "<field> '<path>' <reason>".
Status CheckWirePath(std::string_view path, std::string_view field);

// One path component (a DeleteRequest name): the rules above plus no '/'.
Status CheckWireName(std::string_view name, std::string_view field);

// The path for an error message: quoted, non-printable bytes as \xNN,
// cut after 200 bytes.
std::string QuotePath(std::string_view path);

}  // namespace ferry::protocol
