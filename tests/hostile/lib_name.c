/* Second archive member: data, strings and TLS (its own, and main.o's through the GOT). */
int lib_counter = 5;
__thread int lib_tls = 9;
extern __thread long tls_zero;
const char *lib_name(void) {
    lib_tls++;
    tls_zero++;
    return lib_tls > 100 ? "many" : "initlink";
}
