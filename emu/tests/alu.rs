//! Instruction-level differential tests: each implemented ALU, flag, shift, multiply/divide,
//! bit, conditional and SSE2 integer form runs on random operands on the host CPU (inline
//! assembly between `popfq` and `pushfq`) and in the emulator, on the very bytes the assembler
//! produced. The registers and every flag the architecture defines for that form must agree.
#![cfg(target_arch = "x86_64")]

use core::arch::asm;
use core::arch::x86_64::__m128i;
use initlink_emu::cpu::{Halt, Machine, ARITH, CF, OF};
use initlink_emu::EmuError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct St {
    rax: u64,
    rcx: u64,
    rdx: u64,
    flags: u64,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Random operands with the edge values (0, 1, -1, sign bits of each width) mixed in.
    fn operand(&mut self) -> u64 {
        const EDGES: [u64; 12] = [
            0,
            1,
            u64::MAX,
            0x7f,
            0x80,
            0xff,
            0x7fff,
            0x8000,
            0x7fff_ffff,
            0x8000_0000,
            0x7fff_ffff_ffff_ffff,
            0x8000_0000_0000_0000,
        ];
        match self.next() % 4 {
            0 => EDGES[(self.next() % 12) as usize],
            1 => self.next() % 70,
            _ => self.next(),
        }
    }
}

/// Run `bytes` (one instruction) in the emulator from `st`.
fn emulate(bytes: &[u8], st: St) -> St {
    let mut m = Machine::bare(bytes);
    m.regs[0] = st.rax;
    m.regs[1] = st.rcx;
    m.regs[2] = st.rdx;
    m.flags = st.flags;
    // Up to the end of the bytes (some cases are two instructions: cqo; idiv).
    let end = initlink_emu::cpu::BARE_CODE + bytes.len() as u64;
    let mut n = 0;
    while m.rip < end && n < 4 {
        n += 1;
        m.run(n);
        match m.halt.as_ref().and_then(Halt::error) {
            Some(EmuError::Budget { .. }) => m.halt = None,
            _ => panic!("{bytes:02x?}: the emulator stopped with {:?}", m.halt),
        }
    }
    St {
        rax: m.regs[0],
        rcx: m.regs[1],
        rdx: m.regs[2],
        flags: m.flags,
    }
}

/// The native run of one instruction over rax, rcx, rdx and the flags, and its bytes.
macro_rules! native {
    ($ins:literal) => {
        |st: St| -> (St, Vec<u8>) {
            let (mut a, mut c, mut d, mut f) = (st.rax, st.rcx, st.rdx, st.flags);
            let (s, e): (u64, u64);
            unsafe {
                asm!(
                    "lea {s}, [rip + 2f]",
                    "lea {e}, [rip + 3f]",
                    "push {f}",
                    "popfq",
                    "2:",
                    $ins,
                    "3:",
                    "pushfq",
                    "pop {f}",
                    s = out(reg) s,
                    e = out(reg) e,
                    f = inout(reg) f,
                    inout("rax") a,
                    inout("rcx") c,
                    inout("rdx") d,
                );
            }
            let bytes = unsafe { std::slice::from_raw_parts(s as *const u8, (e - s) as usize) }.to_vec();
            (St { rax: a, rcx: c, rdx: d, flags: f }, bytes)
        }
    };
}

const N: usize = 1500;

/// Compare `native` and the emulator on random states. `defined(st)` gives the flags the
/// architecture defines for that input; `ok(st)` skips inputs that would fault (division).
fn check(
    name: &str,
    native: impl Fn(St) -> (St, Vec<u8>),
    defined: impl Fn(&St) -> u64,
    ok: impl Fn(&St) -> bool,
) {
    let mut rng = Rng(0x1234_5678_9abc_def1 ^ (name.len() as u64 * 0x9e37));
    for k in 0..N {
        let st = St {
            rax: rng.operand(),
            rcx: rng.operand(),
            rdx: rng.operand(),
            flags: (rng.next() & ARITH) | 0x202,
        };
        if !ok(&st) {
            continue;
        }
        let (want, bytes) = native(st);
        let got = emulate(&bytes, st);
        let m = defined(&st);
        assert_eq!(
            (got.rax, got.rcx, got.rdx, got.flags & m),
            (want.rax, want.rcx, want.rdx, want.flags & m),
            "{name} ({bytes:02x?}) case {k} from {st:x?}: emulator vs host (flags mask {m:#x})"
        );
    }
}

fn all(_: &St) -> u64 {
    ARITH
}
fn logic(_: &St) -> u64 {
    ARITH & !0x10
}
fn yes(_: &St) -> bool {
    true
}

#[test]
fn add_sub_and_logic_at_every_width() {
    check("add64", native!("add rax, rcx"), all, yes);
    check("add32", native!("add eax, ecx"), all, yes);
    check("add16", native!("add ax, cx"), all, yes);
    check("add8", native!("add al, cl"), all, yes);
    check("add8h", native!("add ah, cl"), all, yes);
    check("adc64", native!("adc rax, rcx"), all, yes);
    check("adc8", native!("adc al, cl"), all, yes);
    check("sub64", native!("sub rax, rcx"), all, yes);
    check("sub32", native!("sub eax, ecx"), all, yes);
    check("sub16", native!("sub ax, cx"), all, yes);
    check("sbb64", native!("sbb rax, rcx"), all, yes);
    check("sbb32", native!("sbb eax, ecx"), all, yes);
    check("cmp64", native!("cmp rax, rcx"), all, yes);
    check("cmp8", native!("cmp al, cl"), all, yes);
    check("cmp_imm", native!("cmp rax, -5"), all, yes);
    check("add_imm32", native!("add eax, 0x12345678"), all, yes);
    check("sub_imm8", native!("sub rcx, 3"), all, yes);
    check("and64", native!("and rax, rcx"), logic, yes);
    check("or32", native!("or eax, ecx"), logic, yes);
    check("xor16", native!("xor ax, cx"), logic, yes);
    check("xor8", native!("xor al, dl"), logic, yes);
    check("test64", native!("test rax, rcx"), logic, yes);
    check("test8", native!("test cl, 0x41"), logic, yes);
    check("and_imm", native!("and rdx, -16"), logic, yes);
}

#[test]
fn inc_dec_neg_not() {
    check("inc64", native!("inc rax"), all, yes);
    check("inc32", native!("inc ecx"), all, yes);
    check("dec64", native!("dec rax"), all, yes);
    check("dec8", native!("dec dl"), all, yes);
    check("neg64", native!("neg rax"), all, yes);
    check("neg32", native!("neg ecx"), all, yes);
    check("not64", native!("not rax"), all, yes);
    check("not16", native!("not cx"), all, yes);
}

/// Flags a shift by the masked count `c` defines: none changed at 0, OF only at 1, AF never.
fn shift_flags(c: u64, width: u64) -> u64 {
    let c = c & if width == 64 { 63 } else { 31 };
    if c == 0 {
        ARITH
    } else if c == 1 {
        ARITH & !0x10
    } else if c <= width {
        ARITH & !0x10 & !OF
    } else {
        ARITH & !0x10 & !OF & !CF
    }
}

fn rotate_flags(c: u64, width: u64) -> u64 {
    let c = c & if width == 64 { 63 } else { 31 };
    // Unchanged at 0; CF (and OF at 1) defined otherwise; SF, ZF, AF, PF never touched.
    if c <= 1 {
        ARITH
    } else {
        ARITH & !OF
    }
}

#[test]
fn shifts_and_rotates() {
    check(
        "shl64",
        native!("shl rax, cl"),
        |s| shift_flags(s.rcx, 64),
        yes,
    );
    check(
        "shl32",
        native!("shl eax, cl"),
        |s| shift_flags(s.rcx, 32),
        yes,
    );
    check(
        "shr64",
        native!("shr rax, cl"),
        |s| shift_flags(s.rcx, 64),
        yes,
    );
    check(
        "shr32",
        native!("shr edx, cl"),
        |s| shift_flags(s.rcx, 32),
        yes,
    );
    check(
        "sar64",
        native!("sar rax, cl"),
        |s| shift_flags(s.rcx, 64),
        yes,
    );
    check(
        "sar32",
        native!("sar eax, cl"),
        |s| shift_flags(s.rcx, 32),
        yes,
    );
    check(
        "shl8",
        native!("shl al, cl"),
        |s| shift_flags(s.rcx, 8),
        yes,
    );
    check(
        "shr8",
        native!("shr dl, cl"),
        |s| shift_flags(s.rcx, 8),
        yes,
    );
    check(
        "sar16",
        native!("sar ax, cl"),
        |s| shift_flags(s.rcx, 16),
        yes,
    );
    check(
        "shl_imm",
        native!("shl rax, 13"),
        |_| shift_flags(13, 64),
        yes,
    );
    check("shr_1", native!("shr rdx, 1"), |_| shift_flags(1, 64), yes);
    check(
        "sar_imm",
        native!("sar edx, 31"),
        |_| shift_flags(31, 32),
        yes,
    );
    check(
        "rol64",
        native!("rol rax, cl"),
        |s| rotate_flags(s.rcx, 64),
        yes,
    );
    check(
        "ror64",
        native!("ror rax, cl"),
        |s| rotate_flags(s.rcx, 64),
        yes,
    );
    check(
        "rol32",
        native!("rol eax, cl"),
        |s| rotate_flags(s.rcx, 32),
        yes,
    );
    check(
        "ror32",
        native!("ror edx, cl"),
        |s| rotate_flags(s.rcx, 32),
        yes,
    );
    check(
        "ror_imm",
        native!("ror rax, 8"),
        |_| rotate_flags(8, 64),
        yes,
    );
    check("rol8", native!("rol al, 3"), |_| rotate_flags(3, 8), yes);
    check(
        "shld64",
        native!("shld rax, rdx, cl"),
        |s| shift_flags(s.rcx, 64),
        yes,
    );
    check(
        "shrd64",
        native!("shrd rax, rdx, cl"),
        |s| shift_flags(s.rcx, 64),
        yes,
    );
    check(
        "shld32",
        native!("shld eax, edx, cl"),
        |s| shift_flags(s.rcx, 32),
        yes,
    );
    check(
        "shrd32",
        native!("shrd eax, edx, cl"),
        |s| shift_flags(s.rcx, 32),
        yes,
    );
    check(
        "shrd_imm",
        native!("shrd rax, rdx, 7"),
        |_| shift_flags(7, 64),
        yes,
    );
}

fn cf_of(_: &St) -> u64 {
    CF | OF
}

#[test]
fn multiply_and_divide() {
    check("imul2_64", native!("imul rax, rcx"), cf_of, yes);
    check("imul2_32", native!("imul eax, ecx"), cf_of, yes);
    check("imul3", native!("imul rdx, rcx, 1000"), cf_of, yes);
    check("imul3_8", native!("imul eax, ecx, -7"), cf_of, yes);
    check("imul1_64", native!("imul rcx"), cf_of, yes);
    check("imul1_32", native!("imul ecx"), cf_of, yes);
    check("mul64", native!("mul rcx"), cf_of, yes);
    check("mul32", native!("mul ecx"), cf_of, yes);
    check("mul8", native!("mul cl"), cf_of, yes);
    // Divisions that do not fault: the high half below the divisor (unsigned) or the
    // sign-extension of the low half (signed; and not MIN / -1).
    check(
        "div64",
        native!("div rcx"),
        |_| 0,
        |s| s.rcx != 0 && s.rdx < s.rcx,
    );
    check(
        "div32",
        native!("div ecx"),
        |_| 0,
        |s| (s.rcx as u32) != 0 && (s.rdx as u32) < s.rcx as u32,
    );
    check(
        "idiv64",
        native!("cqo; idiv rcx"),
        |_| 0,
        |s| s.rcx != 0 && !(s.rax == 1 << 63 && s.rcx == u64::MAX),
    );
    check(
        "idiv32",
        native!("cdq; idiv ecx"),
        |_| 0,
        |s| s.rcx as u32 != 0 && !(s.rax as u32 == 1 << 31 && s.rcx as u32 == u32::MAX),
    );
}

#[test]
fn bits_exchanges_and_conditions() {
    check("bt64", native!("bt rax, rcx"), |_| CF, yes);
    check("bts64", native!("bts rax, rcx"), |_| CF, yes);
    check("btr32", native!("btr eax, ecx"), |_| CF, yes);
    check("btc64", native!("btc rdx, 45"), |_| CF, yes);
    check("bsf64", native!("bsf rax, rcx"), |_| 0x40, |s| s.rcx != 0);
    check("bsr64", native!("bsr rax, rcx"), |_| 0x40, |s| s.rcx != 0);
    check(
        "bsr32",
        native!("bsr edx, ecx"),
        |_| 0x40,
        |s| s.rcx as u32 != 0,
    );
    check("xadd64", native!("xadd rax, rcx"), all, yes);
    check("xadd32", native!("xadd eax, edx"), all, yes);
    check("cmpxchg64", native!("cmpxchg rcx, rdx"), all, yes);
    check("cmpxchg32", native!("cmpxchg ecx, edx"), all, yes);
    check("xchg", native!("xchg rcx, rdx"), all, yes);
    check("cmovl", native!("cmovl rax, rcx"), all, yes);
    check("cmovbe32", native!("cmovbe eax, ecx"), all, yes);
    check("cmovns", native!("cmovns rdx, rcx"), all, yes);
    check("setg", native!("setg al"), all, yes);
    check("seta", native!("seta cl"), all, yes);
    check("setp", native!("setp dl"), all, yes);
    check("setle", native!("setle ah"), all, yes);
    check("sbb_self", native!("sbb eax, eax"), all, yes);
    check("adc_imm", native!("adc rdx, 0"), all, yes);
}

#[test]
fn moves_and_extensions() {
    check("movsx8", native!("movsx rax, cl"), all, yes);
    check("movsx16", native!("movsx eax, cx"), all, yes);
    check("movsxd", native!("movsxd rax, ecx"), all, yes);
    check("movzx8", native!("movzx eax, dh"), all, yes);
    check("movzx16", native!("movzx rcx, dx"), all, yes);
    check("mov32", native!("mov eax, ecx"), all, yes);
    check("mov16", native!("mov ax, cx"), all, yes);
    check("mov8h", native!("mov ah, dl"), all, yes);
    check("bswap64", native!("bswap rax"), all, yes);
    check("bswap32", native!("bswap ecx"), all, yes);
    check("cdqe", native!("cdqe"), all, yes);
    check("cwde", native!("cwde"), all, yes);
    check("cqo", native!("cqo"), all, yes);
    check("cdq", native!("cdq"), all, yes);
    check("lea", native!("lea rax, [rcx + rdx*8 - 1000]"), all, yes);
    check("lea32", native!("lea eax, [rcx + rdx*2 + 3]"), all, yes);
    check("cmc", native!("cmc"), all, yes);
    check("lahf", native!("lahf"), all, yes);
    check("sahf", native!("sahf"), all, yes);
}

/// One SSE2 instruction on xmm0 (destination) and xmm1 (source), natively and emulated.
macro_rules! sse {
    ($ins:literal) => {
        |a: u128, b: u128| -> (u128, u128, u64, Vec<u8>) {
            let mut x0: __m128i = unsafe { std::mem::transmute(a) };
            let x1: __m128i = unsafe { std::mem::transmute(b) };
            let mut r: u64 = 0;
            let (s, e): (u64, u64);
            unsafe {
                asm!(
                    "lea {s}, [rip + 2f]",
                    "lea {e}, [rip + 3f]",
                    "2:",
                    $ins,
                    "3:",
                    s = out(reg) s,
                    e = out(reg) e,
                    inout("xmm0") x0,
                    in("xmm1") x1,
                    inout("rax") r,
                );
            }
            let bytes = unsafe { std::slice::from_raw_parts(s as *const u8, (e - s) as usize) }.to_vec();
            (unsafe { std::mem::transmute::<__m128i, u128>(x0) }, b, r, bytes)
        }
    };
}

fn check_sse(name: &str, f: impl Fn(u128, u128) -> (u128, u128, u64, Vec<u8>)) {
    let mut rng = Rng(0xfeed_beef_1234_5678 ^ name.len() as u64);
    for k in 0..N {
        // Bytes that are often equal or zero, as in string functions.
        let lanes = |rng: &mut Rng| -> u128 {
            let mut v = 0u128;
            for j in 0..16 {
                let b = match rng.next() % 4 {
                    0 => 0,
                    1 => 0x61,
                    2 => 0x80,
                    _ => rng.next() as u8,
                };
                v |= (b as u128) << (8 * j);
            }
            v
        };
        let (a, b) = (lanes(&mut rng), lanes(&mut rng));
        let (want, _, want_rax, bytes) = f(a, b);
        let mut m = Machine::bare(&bytes);
        m.xmm[0] = a;
        m.xmm[1] = b;
        m.run(1);
        assert!(
            matches!(
                m.halt.as_ref().and_then(Halt::error),
                Some(EmuError::Budget { .. })
            ),
            "{name}: {:?}",
            m.halt
        );
        assert_eq!(
            (m.xmm[0], m.regs[0]),
            (want, want_rax),
            "{name} ({bytes:02x?}) case {k}: a={a:032x} b={b:032x}"
        );
    }
}

#[test]
fn sse2_integer_forms_glibc_string_functions_use() {
    check_sse("pcmpeqb", sse!("pcmpeqb xmm0, xmm1"));
    check_sse("pcmpeqd", sse!("pcmpeqd xmm0, xmm1"));
    check_sse("pcmpgtb", sse!("pcmpgtb xmm0, xmm1"));
    check_sse("pminub", sse!("pminub xmm0, xmm1"));
    check_sse("pmaxub", sse!("pmaxub xmm0, xmm1"));
    check_sse("psubb", sse!("psubb xmm0, xmm1"));
    check_sse("paddq", sse!("paddq xmm0, xmm1"));
    check_sse("pxor", sse!("pxor xmm0, xmm1"));
    check_sse("pandn", sse!("pandn xmm0, xmm1"));
    check_sse("por", sse!("por xmm0, xmm1"));
    check_sse("punpcklbw", sse!("punpcklbw xmm0, xmm1"));
    check_sse("punpckhbw", sse!("punpckhbw xmm0, xmm1"));
    check_sse("punpcklwd", sse!("punpcklwd xmm0, xmm1"));
    check_sse("punpckldq", sse!("punpckldq xmm0, xmm1"));
    check_sse("punpcklqdq", sse!("punpcklqdq xmm0, xmm1"));
    check_sse("pshufd", sse!("pshufd xmm0, xmm1, 0x1b"));
    check_sse("pshufd0", sse!("pshufd xmm0, xmm1, 0"));
    check_sse("pshuflw", sse!("pshuflw xmm0, xmm1, 0x39"));
    check_sse("psrldq", sse!("psrldq xmm0, 5"));
    check_sse("pslldq", sse!("pslldq xmm0, 9"));
    check_sse("psrlq", sse!("psrlq xmm0, 12"));
    check_sse("psllw", sse!("psllw xmm0, 3"));
    check_sse("psrad", sse!("psrad xmm0, 7"));
    check_sse("packuswb", sse!("packuswb xmm0, xmm1"));
    check_sse("packsswb", sse!("packsswb xmm0, xmm1"));
    check_sse("pmovmskb", sse!("pmovmskb eax, xmm0"));
    check_sse("movd", sse!("movd eax, xmm1"));
    check_sse("movq", sse!("movq xmm0, xmm1"));
    check_sse("movhlps", sse!("movhlps xmm0, xmm1"));
    check_sse("movlhps", sse!("movlhps xmm0, xmm1"));
    check_sse("movsd", sse!("movsd xmm0, xmm1"));
    check_sse("shufps", sse!("shufps xmm0, xmm1, 0x4e"));
    check_sse("unpcklps", sse!("unpcklps xmm0, xmm1"));
}

/// One instruction with a memory operand at [rdx] (16 bytes, random), natively and emulated:
/// natively rdx points at a local buffer, in the emulator at a stack address; the instruction
/// bytes are the same. Registers (but rdx), defined flags and the 16 bytes must agree.
macro_rules! memory_form {
    ($ins:literal) => {
        |st: St, mem: [u64; 2]| -> (St, [u64; 2], Vec<u8>) {
            let mut buf = mem;
            let (mut a, mut c, mut f) = (st.rax, st.rcx, st.flags);
            let p = buf.as_mut_ptr();
            let (s, e): (u64, u64);
            unsafe {
                asm!(
                    "lea {s}, [rip + 2f]",
                    "lea {e}, [rip + 3f]",
                    "push {f}",
                    "popfq",
                    "2:",
                    $ins,
                    "3:",
                    "pushfq",
                    "pop {f}",
                    s = out(reg) s,
                    e = out(reg) e,
                    f = inout(reg) f,
                    inout("rax") a,
                    inout("rcx") c,
                    in("rdx") p,
                    out("xmm2") _,
                    out("rdi") _,
                    out("rsi") _,
                );
            }
            let bytes = unsafe { std::slice::from_raw_parts(s as *const u8, (e - s) as usize) }.to_vec();
            (St { rax: a, rcx: c, rdx: 0, flags: f }, buf, bytes)
        }
    };
}

fn check_memory(
    name: &str,
    native: impl Fn(St, [u64; 2]) -> (St, [u64; 2], Vec<u8>),
    defined: u64,
) {
    let mut rng = Rng(0xabcd_ef01_2345_6789 ^ (name.len() as u64 * 31));
    for k in 0..N / 3 {
        let st = St {
            rax: rng.operand(),
            rcx: rng.operand(),
            rdx: 0,
            flags: (rng.next() & ARITH) | 0x202,
        };
        let mem = [rng.operand(), rng.operand()];
        let (want, want_mem, bytes) = native(st, mem);
        let mut m = Machine::bare(&bytes);
        let at = initlink_emu::cpu::BARE_STACK - 1024;
        m.regs[0] = st.rax;
        m.regs[1] = st.rcx;
        m.regs[2] = at;
        m.flags = st.flags;
        m.mem.write(at, &mem[0].to_le_bytes()).unwrap();
        m.mem.write(at + 8, &mem[1].to_le_bytes()).unwrap();
        let end = initlink_emu::cpu::BARE_CODE + bytes.len() as u64;
        let mut n = 0;
        while m.rip < end && n < 200 {
            n += 1;
            let budget = m.icount + 1;
            m.run(budget);
            assert!(
                matches!(
                    m.halt.as_ref().and_then(Halt::error),
                    Some(EmuError::Budget { .. })
                ),
                "{name}: {:?}",
                m.halt
            );
            m.halt = None;
        }
        let got_mem = [
            u64::from_le_bytes(m.mem.read::<8>(at).unwrap()),
            u64::from_le_bytes(m.mem.read::<8>(at + 8).unwrap()),
        ];
        assert_eq!(
            (m.regs[0], m.regs[1], m.regs[2], m.flags & defined, got_mem),
            (want.rax, want.rcx, at, want.flags & defined, want_mem),
            "{name} ({bytes:02x?}) case {k} from {st:x?} {mem:x?}"
        );
    }
}

#[test]
fn memory_operand_forms() {
    let all = ARITH;
    let logic = ARITH & !0x10;
    check_memory("add_m_r", memory_form!("add qword ptr [rdx], rcx"), all);
    check_memory(
        "sub_m_r32",
        memory_form!("sub dword ptr [rdx + 4], eax"),
        all,
    );
    check_memory("adc_m8", memory_form!("adc byte ptr [rdx + 7], cl"), all);
    check_memory("add_r_m", memory_form!("add rax, qword ptr [rdx + 8]"), all);
    check_memory("cmp_m_imm", memory_form!("cmp qword ptr [rdx], 100"), all);
    check_memory(
        "and_m_imm8",
        memory_form!("and byte ptr [rdx + 1], 0x5a"),
        logic,
    );
    check_memory("or_m16", memory_form!("or word ptr [rdx + 2], cx"), logic);
    check_memory("test_m", memory_form!("test dword ptr [rdx], ecx"), logic);
    check_memory("inc_m", memory_form!("inc dword ptr [rdx + 12]"), all);
    check_memory("neg_m", memory_form!("neg qword ptr [rdx]"), all);
    check_memory("not_m", memory_form!("not byte ptr [rdx + 5]"), all);
    check_memory("shl_m", memory_form!("shl qword ptr [rdx], 7"), logic & !OF);
    check_memory("sar_m1", memory_form!("sar dword ptr [rdx], 1"), logic);
    check_memory(
        "xadd_m",
        memory_form!("lock xadd qword ptr [rdx], rcx"),
        all,
    );
    check_memory(
        "cmpxchg_m",
        memory_form!("lock cmpxchg qword ptr [rdx + 8], rcx"),
        all,
    );
    check_memory("xchg_m", memory_form!("xchg qword ptr [rdx], rax"), all);
    check_memory("bts_m", memory_form!("bts qword ptr [rdx], 45"), CF);
    check_memory("btr_m32", memory_form!("btr dword ptr [rdx + 4], 3"), CF);
    check_memory(
        "movzx_m",
        memory_form!("movzx eax, byte ptr [rdx + 3]"),
        all,
    );
    check_memory(
        "movsx_m",
        memory_form!("movsx rcx, word ptr [rdx + 6]"),
        all,
    );
    check_memory(
        "movsxd_m",
        memory_form!("movsxd rax, dword ptr [rdx + 12]"),
        all,
    );
    check_memory(
        "mov_m_r32",
        memory_form!("mov dword ptr [rdx + 2], ecx"),
        all,
    );
    check_memory(
        "imul_r_m",
        memory_form!("imul rax, qword ptr [rdx]"),
        CF | OF,
    );
    check_memory(
        "cmov_m",
        memory_form!("cmovbe rax, qword ptr [rdx + 8]"),
        all,
    );
    check_memory("setc_m", memory_form!("setc byte ptr [rdx + 9]"), all);
    check_memory(
        "push_pop",
        memory_form!("push qword ptr [rdx + 8]; pop rcx"),
        all,
    );
    check_memory(
        "movdqu",
        memory_form!("movdqu xmm2, [rdx]; movq rax, xmm2; psrldq xmm2, 8; movq rcx, xmm2"),
        all,
    );
    // String instructions over the buffer (rep forms, an overlapping forward copy, scans).
    check_memory(
        "rep_stosb",
        memory_form!("lea rdi, [rdx + 1]; mov ecx, 5; rep stosb"),
        all,
    );
    check_memory(
        "rep_stosq",
        memory_form!("lea rdi, [rdx]; mov ecx, 2; rep stosq"),
        all,
    );
    check_memory(
        "rep_movsb",
        memory_form!("lea rsi, [rdx]; lea rdi, [rdx + 8]; mov ecx, 8; rep movsb"),
        all,
    );
    check_memory(
        "rep_movsb_overlap",
        memory_form!("lea rsi, [rdx]; lea rdi, [rdx + 3]; mov ecx, 9; rep movsb"),
        all,
    );
    check_memory(
        "movsq",
        memory_form!("lea rsi, [rdx + 8]; lea rdi, [rdx]; movsq"),
        all,
    );
    check_memory(
        "repne_scasb",
        memory_form!("lea rdi, [rdx]; mov ecx, 16; repne scasb"),
        all,
    );
    check_memory(
        "repe_cmpsb",
        memory_form!("lea rsi, [rdx]; lea rdi, [rdx + 8]; mov ecx, 8; repe cmpsb"),
        all,
    );
}
