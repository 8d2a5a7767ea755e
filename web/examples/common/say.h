/* say.h: print without libc. Each call is one write(2) system call on stdout,
 * so the output order is exactly the call order. Shared by every example. */
#ifndef SAY_H
#define SAY_H

static inline long sys_write(int fd, const void *buf, unsigned long n)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(1L /* SYS_write */), "D"((long)fd), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline void say(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	sys_write(1, s, n);
}

#endif
