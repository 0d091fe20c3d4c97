// --usermap/--groupmap in a local sync: the scanned SRC entries take the ids
// DST is to have. rsync's receiver does the same to the file list it gets, so
// every later stage (CompareMeta, ApplyMeta, itemize) compares and applies
// the mapped ids and a second pass finds nothing to change.
#include <algorithm>
#include <vector>

#include "engine/transfer/context.h"

namespace ferry::transfer {

namespace {

void Collect(const DirNode& n, std::vector<uint32_t>* uids, std::vector<uint32_t>* gids) {
  if (n.has_self) uids->push_back(n.self.uid), gids->push_back(n.self.gid);
  for (const Entry& e : n.src) uids->push_back(e.uid), gids->push_back(e.gid);
  for (const auto& c : n.children) Collect(*c, uids, gids);
}

void Rewrite(const IdTable& t, Entry* e) {
  e->uid = t.Uid(e->uid);
  e->gid = t.Gid(e->gid);
}

void Apply(const IdTable& t, DirNode* n) {
  if (n->has_self) Rewrite(t, &n->self);
  for (Entry& e : n->src) Rewrite(t, &e);
  for (auto& c : n->children) Apply(t, c.get());
}

void Unique(std::vector<uint32_t>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

void MapOwners(Context& ctx, const IdMapping& bound) {
  if (!ctx.root) return;
  std::vector<uint32_t> uids, gids;
  Collect(*ctx.root, &uids, &gids);
  Unique(&uids);
  Unique(&gids);
  IdTable t = bound.Table(uids, gids);
  Apply(t, ctx.root.get());
}

}  // namespace ferry::transfer
