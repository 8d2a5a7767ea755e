/* config.h for initlink's TinyCC builds (tcc.wasm and the native twin the tests compare it with),
   written by hand instead of tcc's configure: a cross-platform x86-64 Linux compiler whose only
   files live under {B} = CONFIG_TCCDIR (the wasm build's in-memory file system puts tcc's own
   headers at /tcc/include and the libc headers, copied from the build machine by libc_headers.py,
   at /tcc/libc/include). No system include or library directories: the page has none. */
#define TCC_VERSION "0.9.27"
#define CONFIG_TCCDIR "/tcc"
#define CONFIG_TCC_SYSINCLUDEPATHS "{B}/include:{B}/libc/include"
#define CONFIG_TCC_LIBPATHS "{B}/lib"
#define CONFIG_TCC_CRTPREFIX "{B}/lib"
#define CONFIG_TCC_ELFINTERP "/lib64/ld-linux-x86-64.so.2"
#define CONFIG_TCC_STATIC 1
