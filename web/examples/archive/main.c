/* main.o needs square() and nothing else: the linker loads square.o from
 * libshapes.a, which in turn needs circle_area(): circle.o is loaded too.
 * unused.o defines nothing anyone needs, so it stays out, and so does its
 * constructor. See the "Inputs" view for why each member was loaded. */
#include "say.h"

int square(int);

int main(void)
{
	say(square(7) == 49 ? "main: square(7) = 49\n" : "main: wrong\n");
	return 0;
}
