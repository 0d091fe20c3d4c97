#include "engine/plan/plan.h"

namespace ferry::plan {

const Endpoint* Plan::FindEndpoint(const std::string& n) const {
  for (const Endpoint& e : endpoints)
    if (e.name == n) return &e;
  return nullptr;
}

const Phase* Plan::FindPhase(const std::string& n) const {
  for (const Phase& p : phases)
    if (p.name == n) return &p;
  return nullptr;
}

const char* PhaseKindName(PhaseKind k) {
  switch (k) {
    case PhaseKind::kStageOne: return "stage-one";
    case PhaseKind::kWait: return "wait";
    case PhaseKind::kDelta: return "delta";
    case PhaseKind::kCutover: return "cutover";
    case PhaseKind::kRollback: return "rollback";
  }
  return "?";
}

const char* PathKindName(PathKind k) {
  switch (k) {
    case PathKind::kFiles: return "files";
    case PathKind::kMaildir: return "maildir";
    case PathKind::kDump: return "dump";
  }
  return "?";
}

const char* LegName(Leg l) {
  switch (l) {
    case Leg::kDirect: return "direct";
    case Leg::kOut: return "out";
    case Leg::kBack: return "back";
  }
  return "?";
}

}  // namespace ferry::plan
