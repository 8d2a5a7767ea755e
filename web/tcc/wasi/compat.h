/* Included first in every tcc.wasm source (-include): what wasi-libc's headers do not declare. */
int execvp(const char *file, char *const argv[]);
