/* A plugin with no constructor: initlink's stub registers it. */
int plugin_b_counter = 11;
static int scratch[64];
int plugin_b_value(void) { scratch[3] = plugin_b_counter; return scratch[3] * 2; }
#ifdef CONTROL
void register_control(const char *);
__attribute__((constructor)) static void control(void) { register_control("libplugin_b.so"); }
#endif
