/* Archive member pulled in by main.o's reference to lib_add. */
extern int lib_counter;
static const char *names[] = {"alpha", "beta", "gamma"};
int lib_add(int a, int b) { lib_counter++; return a + b + (int)(long)names[1][0]; }
__asm__(".section .text.comdat_fn,\"axG\",@progbits,comdat_fn,comdat\n"
        ".globl comdat_fn\n.type comdat_fn,@function\ncomdat_fn:\n  mov $7, %eax\n  ret\n"
        ".previous\n");
