/* The "runtime": defines register_module and the list head, like Go's runtime.addmoduledata and
 * runtime.lastmoduledatap. Exported with -rdynamic so the plugins' stubs can call it. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "initlink_module.h"

static struct initlink_module *first, **lastp = &first;
static int count;
static const char *control[8];
static int ncontrol;

void register_module(struct initlink_module *m) {
    if (m->version != INITLINK_MODULE_VERSION || m->size != sizeof *m) {
        printf("bad module description: version %u size %u\n", m->version, m->size);
        return;
    }
    m->next = 0;
    *lastp = m;
    lastp = &m->next;
    count++;
}

/* The control build of the plugins registers from an ordinary constructor instead. */
void register_control(const char *name) { control[ncontrol++] = name; }

static const char *base(const char *p) { const char *s = strrchr(p, '/'); return s ? s + 1 : p; }

static int check(const char *what, void *fn) {
    for (struct initlink_module *m = first; m; m = m->next) {
        uintptr_t a = (uintptr_t)fn;
        if (a >= m->text_start && a < m->text_end) {
            printf("  %s is in %s's text\n", what, base(m->name));
            return 1;
        }
    }
    printf("  %s is in no registered module's text!\n", what);
    return 0;
}

extern int plugin_a_value(void);
extern int plugin_b_value(void);

int main(int argc, char **argv) {
    printf("%d modules registered before main:\n", count);
    for (struct initlink_module *m = first; m; m = m->next)
        printf("  %s: text %s, %lu init_array entries, bss %s\n", base(m->name),
               m->text_end > m->text_start ? "non-empty" : "EMPTY",
               (unsigned long)m->init_array_count, m->bss_end >= m->bss_start ? "ok" : "BAD");
    for (int i = 0; i < ncontrol; i++)
        printf("  control constructor order %d: %s\n", i + 1, control[i]);
    int ok = check("plugin_a_value", (void *)plugin_a_value) & check("plugin_b_value", (void *)plugin_b_value);
    printf("values: %d %d\n", plugin_a_value(), plugin_b_value());
    if (argc > 1) {
        void *h = dlopen(argv[1], RTLD_NOW);
        if (!h) { printf("dlopen failed: %s\n", dlerror()); return 1; }
        printf("after dlopen: %d modules\n", count);
        int (*c)(void) = (int (*)(void))dlsym(h, "plugin_c_value");
        ok &= check("plugin_c_value", (void *)c);
        printf("plugin_c_value() = %d\n", c());
    }
    return ok ? 42 : 1;
}
