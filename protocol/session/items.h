// The receiver's itemized change strings (-i), computed as the local engine
// computes them (engine/transfer/copy_file.cc CopyItem, exec_dir.cc
// MetaItem and CreateOther), so a remote sync prints the same lines as a
// local one.
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "engine/tree/entry.h"
#include "engine/tree/metadata.h"

namespace ferry::protocol {

// A regular file whose data is (or, in a dry run, would be) sent: ">f..."
// with the attributes that differ from DST's entry `dst` (null: new).
// `content_differs`: --checksum found other content.
std::string DataItem(const MetaPolicy& p, bool checksum, const Entry& src, const Entry* dst,
                     bool content_differs);

// Metadata only: ".X..." with what `d` says differs.
std::string MetaItem(const MetaDiff& d, const Entry& src);

// A symlink, device or special made anew: "cL+++++++++" for a new entry or
// a changed type, else "cLc.t......" (target or device number changed).
std::string NodeItem(const MetaPolicy& p, const Entry& src, const Entry* dst);

}  // namespace ferry::protocol
