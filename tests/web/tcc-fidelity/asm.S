/* GNU-syntax assembly through tcc's assembler (after its preprocessor: .S): instruction classes,
   data directives, symbols, sections and local labels, for the byte-identity check. */
#define STDOUT 1
	.text
	.globl	entry
	.type	entry, @function
entry:
	pushq	%rbp
	movq	%rsp, %rbp
	movl	$STDOUT, %edi
	leaq	msg(%rip), %rsi
	movl	$12, %edx
	movl	$1, %eax
	syscall
	xorl	%ecx, %ecx
1:	incl	%ecx
	cmpl	$10, %ecx
	jne	1b
	jmp	2f
	nop
2:	movq	dbl(%rip), %xmm0
	movq	%xmm0, %rax
	fldt	ldbl(%rip)
	fstpt	-16(%rbp)
	rep movsb
	imulq	$7, %rax, %rdx
	shlq	$3, %rdx
	cmovne	%rdx, %rax
	call	*table(,%rcx,8)
	call	external_function
	popq	%rbp
	ret
	.size	entry, .-entry

	.data
	.p2align 3
table:	.quad	entry, entry + 16, external_data
dbl:	.quad	0x3ff8000000000000
ldbl:	.quad	0x8000000000000000
	.short	0x3fff
	.byte	1, 2, 3
	.long	-1
	.fill	3, 2, 0x55
	.skip	5
	.weak	weak_one
weak_one: .quad 0
	.section .rodata
msg:	.ascii	"hello"
	.asciz	" world\n"
msg_end:
	.section .note.GNU-stack, "", @progbits
