/* Old compilers emitted .ctors/.dtors. They run from the END of the section
 * backwards, and .ctors.N means priority 65535 - N. Linkers fold them into
 * .init_array/.fini_array, reversing each input section's words. */
#include "say.h"

typedef void (*fn)(void);

static void ctor_a(void) { say("  .ctors word [1] (runs first of the two: .ctors run backwards)\n"); }
static void ctor_b(void) { say("  .ctors word [0]\n"); }
static void ctor_65434(void) { say("  .ctors.65434 = priority 101: first of all constructors\n"); }
static void dtor_plain(void) { say("  .dtors\n"); }

__attribute__((section(".ctors"), used, aligned(8))) static fn ctors[2] = { ctor_b, ctor_a };
__attribute__((section(".ctors.65434"), used)) static fn ctor_65434_p = ctor_65434;
__attribute__((section(".dtors"), used)) static fn dtors_p = dtor_plain;
