#include "say.h"

__attribute__((constructor)) static void circle_ctor(void) { say("  constructor in circle.o (loaded for circle_area)\n"); }

int circle_area(int r) { return 3 * r * r; }
