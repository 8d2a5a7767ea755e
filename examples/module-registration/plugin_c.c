/* A plugin with no constructor: initlink's stub registers it. */
int plugin_c_counter = 13;
static int scratch[64];
int plugin_c_value(void) { scratch[3] = plugin_c_counter; return scratch[3] * 2; }
#ifdef CONTROL
void register_control(const char *);
__attribute__((constructor)) static void control(void) { register_control("libplugin_c.so"); }
#endif
