/* setjmp.h for tcc.wasm: wasi-libc (Debian's 2022 snapshot) has none. clang lowers setjmp and
   longjmp calls itself with WebAssembly exception handling (-mllvm -wasm-enable-sjlj) and calls
   the helpers in support.c; jmp_buf only has to hold their state. */
#ifndef INITLINK_WASI_SETJMP_H
#define INITLINK_WASI_SETJMP_H
typedef struct { void *invocation; unsigned label; void *env; int val; } jmp_buf[1];
int setjmp(jmp_buf env);
_Noreturn void longjmp(jmp_buf env, int val);
#endif
