#include "say.h"

int circle_area(int);

__attribute__((constructor)) static void square_ctor(void) { say("  constructor in square.o (loaded for square)\n"); }

int square(int x) { return circle_area(0) + x * x; }
