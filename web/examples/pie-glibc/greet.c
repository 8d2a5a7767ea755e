/* A plain glibc program, compiled with -fPIE: nothing here
 * knows where it will be loaded. Expected output of ./prog:
 *   constructor: stdio already works (glibc initialized itself first)
 *   hello from ./prog: 1 argument(s)
 *   greeting 0: bonjour
 *   greeting 1: hallo
 *   greeting 2: hola
 *   destructor (.fini_array)
 */
#include <stdio.h>

/* glibc's <sys/cdefs.h> defines __attribute__ away for compilers
 * other than gcc and clang: undo that for tcc, the page's compiler,
 * or it drops the constructor and destructor below. (A no-op for
 * gcc, where __attribute__ is no macro.) */
#undef __attribute__

__attribute__((constructor)) static void setup(void)
{
	puts("constructor: stdio already works (glibc initialized itself first)");
}

__attribute__((destructor)) static void teardown(void)
{
	puts("destructor (.fini_array)");
}

static const char *bonjour(void) { return "bonjour"; }
static const char *hallo(void) { return "hallo"; }
static const char *hola(void) { return "hola"; }

/* Absolute addresses in data: a PIE's link cannot know them,
 * so each slot becomes an R_X86_64_RELATIVE relocation (see
 * "Dynamic"): the loader writes load base + offset into it
 * before any code runs. */
const char *(*const greetings[])(void) = { bonjour, hallo, hola };

int main(int argc, char **argv)
{
	printf("hello from %s: %d argument(s)\n", argv[0], argc);
	for (unsigned i = 0; i < sizeof greetings / sizeof *greetings; i++)
		printf("greeting %u: %s\n", i, greetings[i]());
	return 0;
}
