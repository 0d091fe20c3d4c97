#include "engine/verify/verify.h"

namespace ferry {

const char* DiffKindName(DiffKind k) {
  switch (k) {
    case DiffKind::kMissing: return "missing";
    case DiffKind::kExtra: return "extra";
    case DiffKind::kChanged: return "changed";
    case DiffKind::kLinkBroken: return "hardlink_broken";
    case DiffKind::kLinkJoined: return "hardlink_joined";
  }
  return "?";
}

std::string Difference::Itemized() const {
  switch (kind) {
    case DiffKind::kExtra:
      return kDeletingItem;
    case DiffKind::kLinkBroken:
    case DiffKind::kLinkJoined: {
      // rsync fills the attribute columns with spaces when it reports a
      // hard link and nothing else: "hf          b => a".
      std::string s(11, ' ');
      s[0] = item.update;
      s[1] = item.type;
      return s;
    }
    default:
      return FormatItem(item);
  }
}

std::string Difference::Suffix() const {
  switch (kind) {
    case DiffKind::kLinkBroken:
      return " => " + link_peer;
    case DiffKind::kLinkJoined:
      return " (hard link to " + link_peer + " only in DST)";
    case DiffKind::kMissing:
    case DiffKind::kChanged:
      if (item.type == 'L') return " -> " + src_target;
      return "";
    default:
      return "";
  }
}

}  // namespace ferry
