/* Seed object for the hostile-input tests and the fuzzer: functions, data, strings, TLS, a
 * constructor, a COMDAT group and relocations of several kinds (PC32, PLT32, 64, 32S,
 * GOTPCRELX, TPOFF32). Freestanding: linked with initlink's synthesized _start. */
extern int lib_add(int a, int b);
extern const char *lib_name(void);
extern int lib_counter;
extern int weak_maybe(void) __attribute__((weak));

static __thread int tls_count = 3;
__thread long tls_zero;
int data_word = 42;
long data_ptrs[3] = {1, 2, 3};
static const char greeting[] = "hello, hostile world";
const char *greeting_ptr = greeting;
int (*fnptr)(int, int) = lib_add;
char common_buf[64];

static int ctor_ran;
__attribute__((constructor)) static void ctor(void) { ctor_ran = 1; }
__attribute__((destructor)) static void dtor(void) { ctor_ran = 2; }

__asm__(".section .text.comdat_fn,\"axG\",@progbits,comdat_fn,comdat\n"
        ".globl comdat_fn\n.type comdat_fn,@function\ncomdat_fn:\n  mov $7, %eax\n  ret\n"
        ".previous\n");
extern int comdat_fn(void);

static int strlen_(const char *s) { int n = 0; while (s[n]) n++; return n; }

int main(int argc, char **argv) {
    tls_count += argc;
    tls_zero = (long)argv;
    int r = lib_add(data_word, tls_count) + strlen_(greeting_ptr) + strlen_(lib_name());
    r += fnptr(1, 2) + comdat_fn() + lib_counter + (int)data_ptrs[1] + common_buf[3] + ctor_ran;
    if (weak_maybe) r += weak_maybe();
    return r & 0x7f;
}
