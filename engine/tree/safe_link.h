// --safe-links (rsync's meaning): a symlink is unsafe when its target can
// lead outside the transferred tree; such links are not copied ("ignoring
// unsafe symlink"). The judgement is lexical, from the link's depth in the
// tree, so it needs no file system and cannot be raced:
//
//  - an absolute target (or an empty one) is unsafe;
//  - a leading ".." climbs one level from the link's directory and must not
//    climb above the tree root;
//  - a ".." after a normal component is unsafe whatever the depth, because
//    that component may itself be a symlink: with `a -> .` and
//    `x -> a/../../etc`, counting `a/..` as "stay here" would let a chain of
//    links escape (the CVE-2024-12088 class);
//  - "." and empty components (`a//b`) do not move.
//
// Thread safety: pure function. Cost: one pass over the target.
#pragma once

#include <string_view>

namespace ferry {

// `link_path` is the link's path relative to the top of the transfer as it
// appears in the file list ("dir/sub/link": depth 2; "link": depth 0);
// `target` is what readlink returns.
bool IsUnsafeSymlink(std::string_view target, std::string_view link_path);

}  // namespace ferry
