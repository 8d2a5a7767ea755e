/* Where a cross-built tcc can differ from a native one: long double constants (x87 80-bit from
   wasm's binary128), 0/0 (x86's negative default NaN), predefined macros (__linux__), and
   float folding. compile.test.mjs checks that tcc.wasm and native tcc agree byte for byte. */
#include <float.h>
#include <stdarg.h>
#include <stddef.h>
long double ld[] = { 1.1L, 0.1L, -0.0L, 1e4000L, 1e-4940L, 3.6e-4951L, LDBL_MAX, LDBL_MIN, LDBL_EPSILON,
	1.0L / 3.0L, 2.0L / 3.0L, 0.0L / 0.0L, 1.0L / 0.0L, -1.0L / 0.0L, 1.18973149535723176502e+4932L,
	0.999999999999999999999L, 1.00000000000000000005L, 12345678901234567890.0L, (long double)1e308 * 10 };
double d[] = { 1.1, 0.1, 1.0 / 3.0, 1e308 * 10.0, 2.2250738585072014e-308, 4.9e-324, 0.1 + 0.2 };
float f[] = { 1.1f, 0.1f, 1.0f / 3.0f, 3.4e38f, 1e-45f };
#ifdef __linux__
int linux_ = 1;
#endif
#ifdef __unix__
int unix_ = 1;
#endif
long double g(long double x) { return x * 1.1L + 0.3L; }
int sum(int n, ...) { va_list ap; int s = 0; va_start(ap, n); while (n--) s += va_arg(ap, int); va_end(ap); return s; }
size_t off = offsetof(struct { char c; long double x; }, x);
double dn[] = { 0.0 / 0.0, 1.0 / 0.0 };
float fn[] = { 0.0f / 0.0f, -1.0f / 0.0f };
