/* Expected output: constructors by ascending priority across all three files
 * (101, 200, 500, 999, 1000, then no priority), main, then destructors by
 * descending priority (500, 200, 101). */
#include "say.h"

__attribute__((constructor(300))) static void main_300(void) { say("  constructor 300 (main.c, .init_array.00300)\n"); }

int main(void)
{
	say("main\n");
	return 0;
}
