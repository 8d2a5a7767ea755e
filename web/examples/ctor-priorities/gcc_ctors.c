/* gcc turns constructor(N) into a pointer in a section named .init_array.NNNNN
 * (five digits, zero-padded): .init_array.00101, .init_array.00500, ...
 * A constructor without a priority goes to plain .init_array and runs last. */
#include "say.h"

__attribute__((constructor(101))) static void gcc_101(void) { say("  constructor 101 (gcc_ctors.c, .init_array.00101)\n"); }
__attribute__((constructor(500))) static void gcc_500(void) { say("  constructor 500 (gcc_ctors.c, .init_array.00500)\n"); }
__attribute__((constructor(999))) static void gcc_999(void) { say("  constructor 999 (gcc_ctors.c, .init_array.00999)\n"); }
__attribute__((constructor)) static void gcc_default(void) { say("  constructor, no priority (gcc_ctors.c, .init_array)\n"); }

/* Destructors run in the opposite order: highest priority number first. */
__attribute__((destructor(101))) static void gcc_d101(void) { say("  destructor 101 (gcc_ctors.c, .fini_array.00101)\n"); }
__attribute__((destructor(500))) static void gcc_d500(void) { say("  destructor 500 (gcc_ctors.c, .fini_array.00500)\n"); }
