# clang spells priorities without padding: .init_array.101, .init_array.1000.
# Sorted by *name*, ".init_array.1000" would come before ".init_array.00999"...
# and before ".init_array.200". Sorted by *number* (as GNU ld, lld and initlink
# do), 200 runs before 999 and 999 before 1000.
	.macro	SAY text
	.pushsection .rodata.str, "a"
.Ls\@:	.ascii	"\text"
.Le\@:
	.popsection
	movl	$1, %eax			# SYS_write
	movl	$1, %edi			# stdout
	leaq	.Ls\@(%rip), %rsi
	movl	$(.Le\@ - .Ls\@), %edx
	syscall
	.endm

	.text
clang_200:
	SAY	"  constructor 200 (clang_style.s, .init_array.200)\n"
	ret
clang_1000:
	SAY	"  constructor 1000 (clang_style.s, .init_array.1000)\n"
	ret
clang_d200:
	SAY	"  destructor 200 (clang_style.s, .fini_array.200)\n"
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
