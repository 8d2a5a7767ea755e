# clang spells priorities without padding: .init_array.101, .init_array.1000.
# Sorted by *name*, ".init_array.1000" would come before ".init_array.00999"...
# and before ".init_array.200". Sorted by *number* (as GNU ld, lld and initlink
# do), 200 runs before 999 and 999 before 1000.
# (Written out without .macro, so the page's assembler, tcc's, takes it too.)
	.section .rodata.str, "a"
s200:	.ascii	"  constructor 200 (clang_style.s, .init_array.200)\n"
e200:
s1000:	.ascii	"  constructor 1000 (clang_style.s, .init_array.1000)\n"
e1000:
sd200:	.ascii	"  destructor 200 (clang_style.s, .fini_array.200)\n"
ed200:

	.text
# write(1, s, len): each constructor prints its line with the write system call.
clang_200:
	movl	$1, %eax			# SYS_write
	movl	$1, %edi			# stdout
	leaq	s200(%rip), %rsi
	movl	$(e200 - s200), %edx
	syscall
	ret
clang_1000:
	movl	$1, %eax
	movl	$1, %edi
	leaq	s1000(%rip), %rsi
	movl	$(e1000 - s1000), %edx
	syscall
	ret
clang_d200:
	movl	$1, %eax
	movl	$1, %edi
	leaq	sd200(%rip), %rsi
	movl	$(ed200 - sd200), %edx
	syscall
	ret

	.section .init_array.200, "aw", @init_array
	.p2align 3
	.quad	clang_200
	.section .init_array.1000, "aw", @init_array
	.p2align 3
	.quad	clang_1000
	.section .fini_array.200, "aw", @fini_array
	.p2align 3
	.quad	clang_d200
	.section .note.GNU-stack, "", @progbits
