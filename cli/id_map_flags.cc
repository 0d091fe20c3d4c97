#include "cli/id_map_flags.h"

namespace ferry::cli {

Result<std::shared_ptr<const IdMapping>> BuildIdMapping(const std::string& usermap,
                                                        const std::string& groupmap,
                                                        const std::string& chown,
                                                        bool bind) {
  auto m = std::make_shared<IdMapping>();
  if (!chown.empty()) {
    if (!usermap.empty() || !groupmap.empty())
      return InvalidArgument("--chown cannot be combined with --usermap or --groupmap");
    RETURN_IF_ERROR(ParseChown(chown, &m->users, &m->groups));
  }
  if (!usermap.empty()) {
    ASSIGN_OR_RETURN(m->users, IdMap::Parse(usermap, IdKind::kUser, "--usermap"));
  }
  if (!groupmap.empty()) {
    ASSIGN_OR_RETURN(m->groups, IdMap::Parse(groupmap, IdKind::kGroup, "--groupmap"));
  }
  if (m->empty()) return std::shared_ptr<const IdMapping>();
  if (!bind) return std::shared_ptr<const IdMapping>(std::move(m));
  auto bound = m->Bind();
  if (!bound.ok()) {
    std::string flag = !chown.empty() ? "--chown" : "";
    if (flag.empty())
      flag = bound.status().message().starts_with("user") ? "--usermap" : "--groupmap";
    return InvalidArgument(flag + ": " + bound.status().message());
  }
  return std::shared_ptr<const IdMapping>(std::make_shared<IdMapping>(std::move(*bound)));
}

}  // namespace ferry::cli
