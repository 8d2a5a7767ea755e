/* Function pointers placed in the start-up arrays by hand: this is all that
 * __attribute__((constructor)) does. The freestanding _start calls preinit and
 * init entries with (argc, argv, envp), like glibc; fini entries get nothing. */
#include "say.h"

typedef void (*initfn)(int argc, char **argv, char **envp);
typedef void (*finifn)(void);

static void pre_first(int c, char **v, char **e) { (void)c, (void)v, (void)e; say("  .preinit_array [0]: runs before every other initializer\n"); }
static void pre_second(int c, char **v, char **e) { (void)c, (void)v, (void)e; say("  .preinit_array [1]\n"); }
static void init_plain(int c, char **v, char **e) { (void)c, (void)v, (void)e; say("  .init_array (no priority: last)\n"); }
static void init_150(int c, char **v, char **e) { (void)c, (void)v, (void)e; say("  .init_array.00150\n"); }
static void fini_plain(void) { say("  .fini_array\n"); }

/* aligned(8): gcc would align a 16-byte array to 16, which could leave a
 * NULL hole in the output array. */
__attribute__((section(".preinit_array"), used, aligned(8))) static initfn pre[2] = { pre_first, pre_second };
__attribute__((section(".init_array"), used)) static initfn init_p = init_plain;
__attribute__((section(".init_array.00150"), used)) static initfn init_150_p = init_150;
__attribute__((section(".fini_array"), used)) static finifn fini_p = fini_plain;
