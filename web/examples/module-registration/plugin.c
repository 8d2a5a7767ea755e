/* A plugin, linked as a shared object (-fPIC, output kind
 * "shared"). Nothing here registers it. The link's
 * --init-stub=register_module makes the linker write
 * initlink.register_module and put it first in .init_array:
 *
 *   lea  rdi, [rip + initlink.module_data]  ; initlink_module.h
 *   call register_module@plt   ; defined by the loading program
 *   ret
 *
 * So the loader registers the module before plugin_init, its
 * own constructor, runs. This is Go's go.link.addmoduledata.
 * The program that defines register_module is the runtime
 * (examples/module-registration/runtime.c): a link that defines
 * it itself gets no stub. */
int plugin_counter = 7;   /* .data: in the description's data range */
static int scratch[64];   /* .bss: in its bss range */
static int ready;

__attribute__((constructor)) static void plugin_init(void)
{
	ready = 1;
}

int plugin_value(void)
{
	scratch[3] = plugin_counter;
	return ready ? scratch[3] * 2 : -1;
}
