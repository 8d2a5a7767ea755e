/* The module description initlink synthesizes for `--init-stub=REGISTER` (no DATA given).
 * Version 1. The linker fills every field but `next`, which belongs to the runtime.
 * In a PIE or shared object each pointer is fixed up by an R_X86_64_RELATIVE relocation
 * before any initializer runs, so the runtime always sees run-time addresses. */
#ifndef INITLINK_MODULE_H
#define INITLINK_MODULE_H
#include <stdint.h>

#define INITLINK_MODULE_VERSION 1

struct initlink_module {
    uint32_t version;                /* INITLINK_MODULE_VERSION */
    uint32_t size;                   /* sizeof(struct initlink_module) as the linker wrote it */
    struct initlink_module *next;    /* 0 from the linker; the runtime links modules here */
    const char *name;                /* the output file name given to the linker (-o) */
    uintptr_t text_start, text_end;  /* .text */
    uintptr_t data_start, data_end;  /* .data */
    uintptr_t bss_start, bss_end;    /* .bss */
    void (**init_array)(void);       /* this module's .init_array */
    uint64_t init_array_count;       /* entries in it, the registration slot included */
};

/* What REGISTER looks like: called once per module, as the loader initializes it. */
void register_module(struct initlink_module *m);

#endif
