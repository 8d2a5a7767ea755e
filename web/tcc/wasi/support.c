/* What tcc needs from a C library and Debian's wasi-libc snapshot lacks, for tcc.wasm.
 *
 * setjmp/longjmp: LLVM 19's WebAssembly backend (-mexception-handling -mllvm -wasm-enable-sjlj)
 * rewrites every function that calls setjmp: setjmp becomes __wasm_setjmp(env, label, id), where
 * label numbers the setjmp call site within the calling function and id is unique to that
 * function's invocation; after any call that may longjmp, the function catches the __c_longjmp
 * exception and asks __wasm_setjmp_test(env, id) whether the env belongs to it (the label to
 * resume at) or not (0: rethrow). longjmp throws __c_longjmp with a pointer to {env, val}.
 * This file is compiled with the same flags, so __builtin_wasm_throw uses that tag. */
#include <semaphore.h>
#include <setjmp.h>
#include <stddef.h>

struct state { void *invocation; unsigned label; void *env; int val; };

void __wasm_setjmp(void *env, unsigned label, void *invocation)
{
	struct state *s = env;
	if (label == 0 || invocation == NULL)
		__builtin_trap();
	s->invocation = invocation;
	s->label = label;
}

unsigned __wasm_setjmp_test(void *env, void *invocation)
{
	struct state *s = env;
	if (s->label == 0)
		__builtin_trap();
	return s->invocation == invocation ? s->label : 0;
}

void __wasm_longjmp(void *env, int val)
{
	struct state *s = env;
	s->env = env;
	s->val = val ? val : 1;
	__builtin_wasm_throw(1, &s->env);
}

/* tcc -c never runs another program (only tcc's `-ar`/linking helpers would). */
int execvp(const char *file, char *const argv[])
{
	(void)file, (void)argv;
	return -1;
}

/* tcc's global lock (CONFIG_TCC_SEMLOCK): one thread per instance here, so no lock is needed. */
int sem_init(sem_t *sem, int pshared, unsigned value)
{
	(void)sem, (void)pshared, (void)value;
	return 0;
}

int sem_wait(sem_t *sem)
{
	(void)sem;
	return 0;
}

int sem_post(sem_t *sem)
{
	(void)sem;
	return 0;
}
