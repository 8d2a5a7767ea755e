/* Archive member that nothing references: never loaded. */
int unused_fn(void) { return 1; }
