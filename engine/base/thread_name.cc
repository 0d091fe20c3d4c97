#include "engine/base/thread_name.h"

#include <pthread.h>

#include <cstring>

namespace ferry {

void SetThreadName(const char* name) {
  // pthread_setname_np refuses names of 16 bytes or more (ERANGE).
  char cut[16] = {};
  std::strncpy(cut, name, sizeof(cut) - 1);
  (void)::pthread_setname_np(::pthread_self(), cut);
}

}  // namespace ferry
