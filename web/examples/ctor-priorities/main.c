/* Expected output: constructors by ascending priority across all three files
 * (101, 200, 300, 500, 999, 1000, then no priority), main, then destructors by
 * descending priority (500, 200, 101).
 * Priority 300 is spelled out here: a pointer in a section named by the
 * priority, five digits, is what gcc makes of __attribute__((constructor(300))).
 * The page's compiler, tcc, takes this form (it rejects constructor(300)). */
#include "say.h"

static void main_300(void) { say("  constructor 300 (main.c, .init_array.00300)\n"); }
__attribute__((section(".init_array.00300"), used)) static void (*main_300_slot)(void) = main_300;

int main(void)
{
	say("main\n");
	return 0;
}
