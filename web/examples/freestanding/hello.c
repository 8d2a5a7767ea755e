/* Nothing but main. At the entry point the kernel left argc, argv[], NULL,
 * envp[], NULL and the auxiliary vector on the stack; the linker-made _start
 * (see "Linker-made code") passes them to main and calls exit_group with
 * main's return value. Run it: ./hello one two; echo $? */
#include "say.h"

static void hello_ctor(int argc, char **argv, char **envp)
{
	(void)argv, (void)envp;
	say(argc > 1 ? "constructor: called with arguments\n" : "constructor: called with no arguments\n");
}
__attribute__((section(".init_array"), used)) static void (*hello_ctor_p)(int, char **, char **) = hello_ctor;

int main(int argc, char **argv)
{
	say("hello from ");
	say(argv[0]);
	say("\n");
	for (int i = 1; i < argc; i++) {
		say("  argument: ");
		say(argv[i]);
		say("\n");
	}
	return 42;
}
