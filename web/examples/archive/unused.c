#include "say.h"

/* Never referenced: this member is not loaded, so this never runs. */
__attribute__((constructor)) static void unused_ctor(void) { say("  constructor in unused.o: MUST NOT RUN\n"); }

int nobody_calls_this(void) { return 1; }
