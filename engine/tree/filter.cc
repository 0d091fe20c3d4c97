#include "engine/tree/filter.h"
