//! x86-64 linker-made code: the lazy PLT, IPLT entries, the module-registration stub and the two
//! teaching `_start`s, as instruction lists (see `asm`). Each comment is the instruction's
//! assembly; the report disassembles the same bytes.

use super::asm::{Asm, Insn};
use object::elf::{R_X86_64_PC32, R_X86_64_PLT32};

/// Bytes per PLT entry (PLT0, lazy entries and IPLT entries alike).
pub const PLT_ENTRY_SIZE: u64 = 16;

/// Where a lazy PLT entry's `push` starts: its `.got.plt` slot points there until the loader
/// binds the symbol.
pub const PLT_LAZY_PUSH_AT: u64 = 6;

/// PLT0: pushes the module's link map and jumps to the loader's resolver, both read from
/// `.got.plt` words the loader fills.
pub fn plt0<T>(link_map: T, resolver: T) -> Vec<Insn<T>> {
    let mut a = Asm::default();
    a.rel(&[0xff, 0x35, 0, 0, 0, 0], 2, R_X86_64_PC32, link_map, -4); // push [rip+link_map]
    a.rel(&[0xff, 0x25, 0, 0, 0, 0], 2, R_X86_64_PC32, resolver, -4); // jmp [rip+resolver]
    a.op(&[0x0f, 0x1f, 0x40, 0x00]); // nop dword [rax+0]
    a.finish()
}

/// A lazy PLT entry: jumps through its `.got.plt` slot, which first points back at the push, so
/// the first call enters PLT0 with the entry's relocation index.
pub fn plt_entry<T>(slot: T, index: u32, plt0: T) -> Vec<Insn<T>> {
    let i = index.to_le_bytes();
    let mut a = Asm::default();
    a.rel(&[0xff, 0x25, 0, 0, 0, 0], 2, R_X86_64_PC32, slot, -4); // jmp [rip+slot]
    a.op(&[0x68, i[0], i[1], i[2], i[3]]); // push index
    a.rel(&[0xe9, 0, 0, 0, 0], 1, R_X86_64_PC32, plt0, -4); // jmp PLT0
    a.finish()
}

/// An IPLT entry: jumps through a slot filled at start-up from an IFUNC resolver, padded to a
/// PLT entry's size.
pub fn iplt_entry<T>(slot: T) -> Vec<Insn<T>> {
    let mut a = Asm::default();
    a.rel(&[0xff, 0x25, 0, 0, 0, 0], 2, R_X86_64_PC32, slot, -4); // jmp [rip+slot]
    a.op(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00]); // nop word [rax+rax+0]
    a.op(&[0x0f, 0x1f, 0x40, 0x00]); // nop dword [rax+0]
    a.finish()
}

/// Go's module-registration stub (`--init-stub`): `register(&data)`, then return.
pub fn register_module<T>(data: T, register: T) -> Vec<Insn<T>> {
    let mut a = Asm::default();
    a.rel(&[0x48, 0x8d, 0x3d, 0, 0, 0, 0], 3, R_X86_64_PC32, data, -4); // lea rdi, [rip+data]
    a.rel(&[0xe8, 0, 0, 0, 0], 1, R_X86_64_PLT32, register, -4); // call register
    a.op(&[0xc3]); // ret
    a.finish()
}

/// Call every function pointer from `[rbx]` up to `r15` with (argc, argv, envp) in
/// (r12d, r13, r14), as glibc calls initializers.
fn call_each_up<T>(a: &mut Asm<T>, start: T, end: T) {
    a.rel(&[0x48, 0x8d, 0x1d, 0, 0, 0, 0], 3, R_X86_64_PC32, start, -4); // lea rbx, [rip+start]
    a.rel(&[0x4c, 0x8d, 0x3d, 0, 0, 0, 0], 3, R_X86_64_PC32, end, -4); // lea r15, [rip+end]
    let top = a.new_label();
    let done = a.new_label();
    a.bind(top);
    a.op(&[0x4c, 0x39, 0xfb]); // cmp rbx, r15
    a.jump(0x73, done); // jae done
    pass_start_arguments(a);
    a.op(&[0xff, 0x13]); // call [rbx]
    a.op(&[0x48, 0x83, 0xc3, 0x08]); // add rbx, 8
    a.jump(0xeb, top); // jmp top
    a.bind(done);
}

/// edi, rsi, rdx = argc, argv, envp (kept in r12d, r13, r14).
fn pass_start_arguments<T>(a: &mut Asm<T>) {
    a.op(&[0x44, 0x89, 0xe7]); // mov edi, r12d
    a.op(&[0x4c, 0x89, 0xee]); // mov rsi, r13
    a.op(&[0x4c, 0x89, 0xf2]); // mov rdx, r14
}

/// The teaching `_start`: what crt1.o and glibc's `__libc_start_main` do, reduced to the
/// init-array protocol. `linker` gives the target of a linker-defined symbol
/// (`__init_array_start`...). Each initializer gets (argc, argv, envp) as glibc passes them; the
/// fini array runs in reverse; the exit status is main's return value (`exit_group`).
pub fn teaching_start<T>(main: T, linker: impl Fn(&'static str) -> T) -> Vec<Insn<T>> {
    let mut a = Asm::default();
    a.op(&[0x31, 0xed]); // xor ebp, ebp            ; outermost frame
    a.op(&[0x4c, 0x8b, 0x24, 0x24]); // mov r12, [rsp]      ; argc
    a.op(&[0x4c, 0x8d, 0x6c, 0x24, 0x08]); // lea r13, [rsp+8] ; argv
    a.op(&[0x4f, 0x8d, 0x74, 0xe5, 0x08]); // lea r14, [r13+r12*8+8] ; envp
    a.op(&[0x48, 0x83, 0xe4, 0xf0]); // and rsp, -16       ; ABI stack alignment
    call_each_up(
        &mut a,
        linker("__preinit_array_start"),
        linker("__preinit_array_end"),
    );
    call_each_up(
        &mut a,
        linker("__init_array_start"),
        linker("__init_array_end"),
    );
    pass_start_arguments(&mut a);
    a.rel(&[0xe8, 0, 0, 0, 0], 1, R_X86_64_PLT32, main, -4); // call main
    a.op(&[0x41, 0x89, 0xc4]); // mov r12d, eax         ; keep main's status
    let (end, start) = (linker("__fini_array_end"), linker("__fini_array_start"));
    a.rel(&[0x48, 0x8d, 0x1d, 0, 0, 0, 0], 3, R_X86_64_PC32, end, -4); // lea rbx, [rip+end]
    a.rel(&[0x4c, 0x8d, 0x3d, 0, 0, 0, 0], 3, R_X86_64_PC32, start, -4); // lea r15, [rip+start]
    let top = a.new_label();
    let done = a.new_label();
    a.bind(top);
    a.op(&[0x4c, 0x39, 0xfb]); // cmp rbx, r15
    a.jump(0x76, done); // jbe done
    a.op(&[0x48, 0x83, 0xeb, 0x08]); // sub rbx, 8           ; fini runs in reverse
    a.op(&[0xff, 0x13]); // call [rbx]
    a.jump(0xeb, top); // jmp top
    a.bind(done);
    a.op(&[0x44, 0x89, 0xe7]); // mov edi, r12d
    a.op(&[0xb8, 0xe7, 0x00, 0x00, 0x00]); // mov eax, 231 (exit_group)
    a.op(&[0x0f, 0x05]); // syscall
    a.op(&[0xf4]); // hlt
    a.finish()
}

/// glibc's `Scrt1.o` `_start`: the loader jumps here with %rdx = its own finalizer;
/// `__libc_start_main` registers that, runs the initializers, calls `main` and passes its
/// result to `exit`. Since glibc 2.34 the `init`/`fini` arguments are NULL: libc walks the init
/// arrays itself.
pub fn glibc_start<T>(main: T, libc_start_main: T) -> Vec<Insn<T>> {
    let mut a = Asm::default();
    a.op(&[0x31, 0xed]); // xor ebp, ebp          ; outermost frame
    a.op(&[0x49, 0x89, 0xd1]); // mov r9, rdx     ; rtld_fini from the loader
    a.op(&[0x5e]); // pop rsi                      ; argc
    a.op(&[0x48, 0x89, 0xe2]); // mov rdx, rsp    ; argv
    a.op(&[0x48, 0x83, 0xe4, 0xf0]); // and rsp, -16
    a.op(&[0x50]); // push rax                     ; keeps the stack 16-byte aligned
    a.op(&[0x54]); // push rsp                     ; stack_end
    a.op(&[0x45, 0x31, 0xc0]); // xor r8d, r8d    ; fini = NULL
    a.op(&[0x31, 0xc9]); // xor ecx, ecx          ; init = NULL
    a.rel(&[0x48, 0x8d, 0x3d, 0, 0, 0, 0], 3, R_X86_64_PC32, main, -4); // lea rdi, [rip+main]
    a.rel(&[0xe8, 0, 0, 0, 0], 1, R_X86_64_PLT32, libc_start_main, -4); // call __libc_start_main
    a.op(&[0xf4]); // hlt                          ; __libc_start_main never returns
    a.finish()
}
