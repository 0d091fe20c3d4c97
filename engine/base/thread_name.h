// Names for ferry's threads, as `top -H`, `ps -L`, perf and gdb show them
// ("ferry-lander", "ferry-reader", ...), so that a busy or stuck thread can
// be told apart from the others at a glance.
//
// Thread safety: names the calling thread only.
#pragma once

namespace ferry {

// Names the calling thread. The kernel keeps at most 15 characters (the
// rest is cut); best effort: a name that cannot be set changes nothing.
void SetThreadName(const char* name);

}  // namespace ferry
