//! x86-64: relocation names, formulas, field widths and kinds from the psABI (its raw types to
//! [`RelKind`], [`DynKind`] to its dynamic types), and the instruction patterns of the GOT and TLS
//! relaxations. The synthesize phase asks the `*_ok` predicates to
//! decide (GOT slot or not); the relocate phase asks the same ones to rewrite bytes, so the
//! decision and the bytes cannot disagree.

use super::{DynKind, RelKind};
use object::elf::*;

pub fn reloc_name(t: u32) -> &'static str {
    match t {
        R_X86_64_NONE => "R_X86_64_NONE",
        R_X86_64_64 => "R_X86_64_64",
        R_X86_64_PC32 => "R_X86_64_PC32",
        R_X86_64_GOT32 => "R_X86_64_GOT32",
        R_X86_64_PLT32 => "R_X86_64_PLT32",
        R_X86_64_COPY => "R_X86_64_COPY",
        R_X86_64_GLOB_DAT => "R_X86_64_GLOB_DAT",
        R_X86_64_JUMP_SLOT => "R_X86_64_JUMP_SLOT",
        R_X86_64_RELATIVE => "R_X86_64_RELATIVE",
        R_X86_64_GOTPCREL => "R_X86_64_GOTPCREL",
        R_X86_64_32 => "R_X86_64_32",
        R_X86_64_32S => "R_X86_64_32S",
        R_X86_64_16 => "R_X86_64_16",
        R_X86_64_PC16 => "R_X86_64_PC16",
        R_X86_64_8 => "R_X86_64_8",
        R_X86_64_PC8 => "R_X86_64_PC8",
        R_X86_64_DTPMOD64 => "R_X86_64_DTPMOD64",
        R_X86_64_DTPOFF64 => "R_X86_64_DTPOFF64",
        R_X86_64_TPOFF64 => "R_X86_64_TPOFF64",
        R_X86_64_TLSGD => "R_X86_64_TLSGD",
        R_X86_64_TLSLD => "R_X86_64_TLSLD",
        R_X86_64_DTPOFF32 => "R_X86_64_DTPOFF32",
        R_X86_64_GOTTPOFF => "R_X86_64_GOTTPOFF",
        R_X86_64_TPOFF32 => "R_X86_64_TPOFF32",
        R_X86_64_PC64 => "R_X86_64_PC64",
        R_X86_64_GOTOFF64 => "R_X86_64_GOTOFF64",
        R_X86_64_GOTPC32 => "R_X86_64_GOTPC32",
        R_X86_64_GOT64 => "R_X86_64_GOT64",
        R_X86_64_GOTPCREL64 => "R_X86_64_GOTPCREL64",
        R_X86_64_GOTPC64 => "R_X86_64_GOTPC64",
        R_X86_64_GOTPLT64 => "R_X86_64_GOTPLT64",
        R_X86_64_PLTOFF64 => "R_X86_64_PLTOFF64",
        R_X86_64_SIZE32 => "R_X86_64_SIZE32",
        R_X86_64_SIZE64 => "R_X86_64_SIZE64",
        R_X86_64_GOTPC32_TLSDESC => "R_X86_64_GOTPC32_TLSDESC",
        R_X86_64_TLSDESC_CALL => "R_X86_64_TLSDESC_CALL",
        R_X86_64_TLSDESC => "R_X86_64_TLSDESC",
        R_X86_64_IRELATIVE => "R_X86_64_IRELATIVE",
        R_X86_64_GOTPCRELX => "R_X86_64_GOTPCRELX",
        R_X86_64_REX_GOTPCRELX => "R_X86_64_REX_GOTPCRELX",
        _ => "unknown",
    }
}

pub fn rel_kind(t: u32) -> RelKind {
    match t {
        R_X86_64_NONE => RelKind::None,
        R_X86_64_64 | R_X86_64_32 | R_X86_64_32S | R_X86_64_16 | R_X86_64_8 => RelKind::Absolute,
        R_X86_64_PC32 | R_X86_64_PC64 | R_X86_64_PC16 | R_X86_64_PC8 => RelKind::PcRelative,
        R_X86_64_PLT32 => RelKind::PltPcRelative,
        R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => RelKind::GotPcRelative,
        R_X86_64_GOTPCREL64 => RelKind::GotPcRelative64,
        R_X86_64_GOT32 | R_X86_64_GOT64 | R_X86_64_GOTPLT64 => RelKind::GotOffset,
        R_X86_64_GOTPC32 | R_X86_64_GOTPC64 => RelKind::GotBasePcRelative,
        R_X86_64_GOTOFF64 => RelKind::GotBaseRelative,
        R_X86_64_PLTOFF64 => RelKind::PltGotBaseRelative,
        R_X86_64_TPOFF32 | R_X86_64_TPOFF64 => RelKind::TpRelative,
        R_X86_64_DTPOFF32 | R_X86_64_DTPOFF64 => RelKind::DtpRelative,
        R_X86_64_GOTTPOFF => RelKind::TlsInitialExec,
        R_X86_64_TLSGD => RelKind::TlsGeneralDynamic,
        R_X86_64_TLSLD => RelKind::TlsLocalDynamic,
        R_X86_64_GOTPC32_TLSDESC => RelKind::TlsDescriptor,
        R_X86_64_TLSDESC_CALL => RelKind::TlsDescriptorCall,
        R_X86_64_SIZE32 | R_X86_64_SIZE64 => RelKind::Size,
        _ => RelKind::Unsupported,
    }
}

/// The pointer-sized absolute relocation: the one that a dynamic relocation can stand for at an
/// input site (the loader writes the symbol's address, or adds its base).
pub fn is_word_absolute(t: u32) -> bool {
    t == R_X86_64_64
}

/// The field encodings the relocate phase writes relaxed or redirected values with: a 32-bit
/// PC-relative displacement and a 32-bit TP offset.
pub const FIELD_PC32: u32 = R_X86_64_PC32;
pub const FIELD_TPOFF32: u32 = R_X86_64_TPOFF32;

/// The field encoding a kind's value is written with at its own site: the GOT-slot and
/// descriptor forms are PC-relative displacements whatever their type says.
pub fn site_field(t: u32, kind: RelKind) -> u32 {
    match kind {
        RelKind::TlsInitialExec | RelKind::TlsDescriptor => FIELD_PC32,
        _ => t,
    }
}

/// The raw type of a dynamic relocation.
pub const fn dyn_type(k: DynKind) -> u32 {
    match k {
        DynKind::Relative => R_X86_64_RELATIVE,
        DynKind::Symbolic => R_X86_64_64,
        DynKind::GotEntry => R_X86_64_GLOB_DAT,
        DynKind::PltSlot => R_X86_64_JUMP_SLOT,
        DynKind::Copy => R_X86_64_COPY,
        DynKind::IRelative => R_X86_64_IRELATIVE,
        DynKind::TpOffset => R_X86_64_TPOFF64,
        DynKind::TlsModule => R_X86_64_DTPMOD64,
        DynKind::DtpOffset => R_X86_64_DTPOFF64,
        DynKind::TlsDescriptor => R_X86_64_TLSDESC,
    }
}

/// A dynamic relocation's name, for the report and for messages.
pub fn dyn_name(k: DynKind) -> &'static str {
    reloc_name(dyn_type(k))
}

/// The psABI formula, for the report and for messages.
pub fn formula(t: u32) -> &'static str {
    match t {
        R_X86_64_64 | R_X86_64_32 | R_X86_64_32S | R_X86_64_16 | R_X86_64_8 => "S + A",
        R_X86_64_PC32 | R_X86_64_PC64 | R_X86_64_PC16 | R_X86_64_PC8 => "S + A - P",
        R_X86_64_PLT32 => "L + A - P",
        R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX | R_X86_64_GOTPCREL64 => {
            "G + GOT + A - P"
        }
        R_X86_64_GOT32 | R_X86_64_GOT64 | R_X86_64_GOTPLT64 => "G + A",
        R_X86_64_GOTPC32 | R_X86_64_GOTPC64 => "GOT + A - P",
        R_X86_64_GOTOFF64 => "S + A - GOT",
        R_X86_64_PLTOFF64 => "L + A - GOT",
        R_X86_64_TPOFF32 | R_X86_64_TPOFF64 => "S + A - TP",
        R_X86_64_DTPOFF32 | R_X86_64_DTPOFF64 => "S + A - TLS",
        R_X86_64_SIZE32 | R_X86_64_SIZE64 => "Z + A",
        R_X86_64_GOTTPOFF => "G + GOT + A - P",
        _ => "",
    }
}

/// Width in bytes of the field a relocation writes (0: writes nothing by itself).
pub fn field_size(t: u32) -> Option<u64> {
    Some(match t {
        R_X86_64_NONE | R_X86_64_TLSDESC_CALL => 0,
        R_X86_64_64 | R_X86_64_PC64 | R_X86_64_GOTOFF64 | R_X86_64_GOTPC64 | R_X86_64_GOT64
        | R_X86_64_GOTPCREL64 | R_X86_64_GOTPLT64 | R_X86_64_PLTOFF64 | R_X86_64_SIZE64
        | R_X86_64_DTPOFF64 | R_X86_64_TPOFF64 | R_X86_64_DTPMOD64 => 8,
        R_X86_64_PC32
        | R_X86_64_PLT32
        | R_X86_64_32
        | R_X86_64_32S
        | R_X86_64_GOTPCREL
        | R_X86_64_GOTPCRELX
        | R_X86_64_REX_GOTPCRELX
        | R_X86_64_GOT32
        | R_X86_64_GOTPC32
        | R_X86_64_TPOFF32
        | R_X86_64_DTPOFF32
        | R_X86_64_GOTTPOFF
        | R_X86_64_TLSGD
        | R_X86_64_TLSLD
        | R_X86_64_SIZE32
        | R_X86_64_GOTPC32_TLSDESC => 4,
        R_X86_64_16 | R_X86_64_PC16 => 2,
        R_X86_64_8 | R_X86_64_PC8 => 1,
        _ => return None,
    })
}

/// How a computed value must fit its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    Any64,
    Signed32,
    Unsigned32,
    /// Either signed or unsigned (16/8-bit data, as GNU as and ld accept).
    Either16,
    Either8,
    Signed16,
    Signed8,
}

pub fn fit(t: u32) -> Fit {
    match t {
        R_X86_64_32 | R_X86_64_SIZE32 => Fit::Unsigned32,
        R_X86_64_16 => Fit::Either16,
        R_X86_64_8 => Fit::Either8,
        R_X86_64_PC16 => Fit::Signed16,
        R_X86_64_PC8 => Fit::Signed8,
        t if field_size(t) == Some(8) => Fit::Any64,
        _ => Fit::Signed32,
    }
}

/// Write `value` into `buf[at..]` if it fits; Err gives the range it had to fit.
pub fn write_value(buf: &mut [u8], at: usize, t: u32, value: u64) -> Result<(), (i128, i128)> {
    let v = value as i64 as i128;
    let (lo, hi, n) = match fit(t) {
        Fit::Any64 => (i128::from(i64::MIN), i128::from(u64::MAX), 8),
        Fit::Signed32 => (i128::from(i32::MIN), i128::from(i32::MAX), 4),
        Fit::Unsigned32 => (0, i128::from(u32::MAX), 4),
        Fit::Either16 => (i128::from(i16::MIN), i128::from(u16::MAX), 2),
        Fit::Either8 => (i128::from(i8::MIN), i128::from(u8::MAX), 1),
        Fit::Signed16 => (i128::from(i16::MIN), i128::from(i16::MAX), 2),
        Fit::Signed8 => (i128::from(i8::MIN), i128::from(i8::MAX), 1),
    };
    if n < 8 && (v < lo || v > hi) {
        // Unsigned 32-bit fields hold addresses: compare the unsigned value.
        if !(fit(t) == Fit::Unsigned32 && value <= u64::from(u32::MAX)) {
            return Err((lo, hi));
        }
    }
    let bytes = value.to_le_bytes();
    match buf.get_mut(at..at + n) {
        Some(dst) => {
            dst.copy_from_slice(&bytes[..n]);
            Ok(())
        }
        None => Err((0, 0)),
    }
}

/// GOT-load relaxations (psABI "Optimize GOTPCRELX Relocations").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GotRelax {
    /// `mov foo@GOTPCREL(%rip), %reg` → `lea foo(%rip), %reg`
    MovToLea,
    /// `call *foo@GOTPCREL(%rip)` → `addr32 call foo`
    Call,
    /// `jmp *foo@GOTPCREL(%rip)` → `jmp foo; nop`
    Jmp,
}

pub fn got_relax_ok(t: u32, code: &[u8], off: usize, addend: i64) -> Option<GotRelax> {
    if !(t == R_X86_64_GOTPCRELX || t == R_X86_64_REX_GOTPCRELX) || addend != -4 || off < 2 {
        return None;
    }
    let (op, modrm) = (*code.get(off - 2)?, *code.get(off - 1)?);
    match (op, modrm) {
        (0x8b, m) if m & 0xc7 == 0x05 => Some(GotRelax::MovToLea),
        (0xff, 0x15) => Some(GotRelax::Call),
        (0xff, 0x25) => Some(GotRelax::Jmp),
        _ => None,
    }
}

/// Rewrite the instruction; returns the new (field offset, P adjustment) for the PC32 that follows.
pub fn got_relax_apply(kind: GotRelax, code: &mut [u8], off: usize) -> (usize, u64) {
    match kind {
        GotRelax::MovToLea => {
            code[off - 2] = 0x8d;
            (off, 0)
        }
        GotRelax::Call => {
            code[off - 2] = 0x67;
            code[off - 1] = 0xe8;
            (off, 0)
        }
        GotRelax::Jmp => {
            code[off - 2] = 0xe9;
            code[off + 3] = 0x90;
            (off - 1, 1)
        }
    }
}

/// A rewrite of the code around a relocation site, as the relocate phase applied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Relaxation {
    /// The instruction is as the compiler left it (only the field was written).
    #[default]
    None,
    /// A GOT load, call or jump that now reaches the symbol directly.
    Got(GotRelax),
    /// Initial-exec → local-exec: the GOT load became an immediate.
    IeToLe,
    /// General-dynamic → initial-exec (a variable of another module).
    GdToIe,
    /// General-dynamic → local-exec.
    GdToLe,
    /// Local-dynamic → local-exec: the module's TLS block base is the thread pointer.
    LdToLe,
    /// A DTV-relative offset in relaxed local-dynamic code, written TP-relative.
    LdOffsetToLe,
    /// TLS descriptor → initial-exec (a variable of another module).
    TlsDescToIe,
    /// TLS descriptor → local-exec.
    TlsDescToLe,
    /// The call through the TLS descriptor became a nop.
    TlsDescCallRemoved,
    /// The `__tls_get_addr` call of a relaxed sequence: replaced, no relocation applied.
    TlsCallConsumed,
}

/// The report's words for a relaxation (None: nothing was rewritten).
pub fn relaxation_note(r: Relaxation) -> Option<&'static str> {
    Some(match r {
        Relaxation::None => return None,
        Relaxation::Got(GotRelax::MovToLea) => {
            "GOT load relaxed: mov foo@GOTPCREL(%rip) became lea foo(%rip) \
             (the symbol is in this file: no GOT entry, the field holds S + A - P)"
        }
        Relaxation::Got(GotRelax::Call) => {
            "GOT call relaxed: call *foo@GOTPCREL(%rip) became addr32 call foo \
             (the field holds S + A - P)"
        }
        Relaxation::Got(GotRelax::Jmp) => {
            "GOT jump relaxed: jmp *foo@GOTPCREL(%rip) became jmp foo; nop \
             (the field moved one byte earlier)"
        }
        Relaxation::IeToLe => {
            "initial-exec → local-exec TLS: the GOT load became an immediate \
             (mov $x@tpoff / lea x@tpoff(%reg)): the field holds S - TP"
        }
        Relaxation::GdToIe => {
            "general-dynamic → initial-exec TLS: the __tls_get_addr call became \
             mov %fs:0, %rax; add x@gottpoff(%rip), %rax"
        }
        Relaxation::GdToLe => {
            "general-dynamic → local-exec TLS: the __tls_get_addr call became \
             mov %fs:0, %rax; lea x@tpoff(%rax), %rax (the field moved 8 bytes on)"
        }
        Relaxation::LdToLe => {
            "local-dynamic → local-exec TLS: the __tls_get_addr call became \
             mov %fs:0, %rax (padded with data16 prefixes)"
        }
        Relaxation::LdOffsetToLe => {
            "local-dynamic relaxed to local-exec: this offset is written \
             TP-relative, S + A - TP"
        }
        Relaxation::TlsDescToIe => "TLS descriptor → initial-exec: lea became mov from a GOT entry",
        Relaxation::TlsDescToLe => {
            "TLS descriptor → local-exec: lea x@tlsdesc(%rip) became mov $x@tpoff"
        }
        Relaxation::TlsDescCallRemoved => {
            "TLS descriptor call removed: call *(%rax) became a 2-byte nop"
        }
        Relaxation::TlsCallConsumed => {
            "part of the TLS sequence above: the linker replaced this call \
             (to __tls_get_addr) and applied no relocation here"
        }
    })
}

/// The bytes a TLS call sequence spans around its relocation at `off` of the input `code`
/// (before `off`, from `off`): the `__tls_get_addr` call is part of it.
pub fn tls_sequence(kind: RelKind, code: &[u8], off: usize) -> Option<(u64, u64)> {
    let span = |start: usize, len: usize| ((off - start) as u64, (start + len - off) as u64);
    match kind {
        RelKind::TlsGeneralDynamic => {
            Some(gd_sequence(code, off).map_or((4, 12), |(start, len)| span(start, len)))
        }
        RelKind::TlsLocalDynamic => {
            Some(ld_relax_len(code, off).map_or((3, 9), |len| span(off - 3, len)))
        }
        _ => None,
    }
}

/// Initial-exec → local-exec: `movq foo@gottpoff(%rip), %reg` / `addq ..., %reg` with a REX.W prefix.
pub fn ie_relax_ok(code: &[u8], off: usize) -> bool {
    if off < 3 {
        return false;
    }
    let (rex, op, modrm) = (code[off - 3], code[off - 2], code[off - 1]);
    (rex == 0x48 || rex == 0x4c)
        && (op == 0x8b || op == 0x03)
        && modrm & 0xc7 == 0x05
        && code.len() >= off + 4
}

pub fn ie_relax_apply(code: &mut [u8], off: usize) {
    let (rex, op, modrm) = (code[off - 3], code[off - 2], code[off - 1]);
    let reg = (modrm >> 3) & 7;
    let high = rex == 0x4c;
    if op == 0x8b {
        // mov $imm32, %reg
        code[off - 3] = if high { 0x49 } else { 0x48 };
        code[off - 2] = 0xc7;
        code[off - 1] = 0xc0 | reg;
    } else if reg == 4 && !high {
        // add $imm32, %rsp
        code[off - 3] = 0x48;
        code[off - 2] = 0x81;
        code[off - 1] = 0xc4;
    } else {
        // lea imm32(%reg), %reg
        code[off - 3] = if high { 0x4d } else { 0x48 };
        code[off - 2] = 0x8d;
        code[off - 1] = 0x80 | (reg << 3) | reg;
    }
}

/// The large code model's call to `__tls_get_addr` after its `lea x@tlsgd(%rip), %rdi` (or
/// `@tlsld`) at `off`: `movabs $__tls_get_addr@pltoff, %rax; add %GOTREG, %rax; call *%rax`,
/// 15 bytes from `off + 4`.
fn large_tls_call(code: &[u8], off: usize) -> bool {
    let Some(c) = off
        .checked_add(4)
        .and_then(|a| code.get(a..a.checked_add(15)?))
    else {
        return false;
    };
    c[..2] == [0x48, 0xb8]
        && (c[10] == 0x48 || c[10] == 0x4c)
        && c[11] == 0x01
        && c[12] & 0xc7 == 0xc0
        && c[13..15] == [0xff, 0xd0]
}

/// Where a general-dynamic sequence whose `R_X86_64_TLSGD` field is at `off` starts, and how
/// long it is, when it is one of the psABI's forms: `data16 lea x@tlsgd(%rip), %rdi` then
/// `data16 data16 rex64 call __tls_get_addr@PLT` or `data16 rex64 call
/// *__tls_get_addr@GOTPCREL(%rip)` (16 bytes), or the large code model's
/// `lea x@tlsgd(%rip), %rdi` and [`large_tls_call`] (22 bytes).
fn gd_sequence(code: &[u8], off: usize) -> Option<(usize, usize)> {
    let small = off >= 4
        && code.len() >= off + 12
        && code[off - 4..off] == [0x66, 0x48, 0x8d, 0x3d]
        && (code[off + 4..off + 8] == [0x66, 0x66, 0x48, 0xe8]
            || code[off + 4..off + 8] == [0x66, 0x48, 0xff, 0x15]);
    if small {
        return Some((off - 4, 16));
    }
    let large = off >= 3
        && code.get(off - 3..off) == Some(&[0x48, 0x8d, 0x3d][..])
        && large_tls_call(code, off);
    large.then(|| (off - 3, 22))
}

/// A general-dynamic sequence that relaxes (to local-exec or initial-exec).
pub fn gd_relax_ok(code: &[u8], off: usize) -> bool {
    gd_sequence(code, off).is_some()
}

/// `nopw 0x0(%rax,%rax,1)`: what pads the large model's 22-byte sequences.
const NOPW6: [u8; 6] = [0x66, 0x0f, 0x1f, 0x44, 0, 0];

/// Rewrite the general-dynamic sequence at `off` (checked by [`gd_relax_ok`]) as
/// `mov %fs:0, %rax` then the 7-byte instruction that starts with `second` and ends with a
/// 32-bit field, padded with a nop to the sequence's length. Returns where that field goes.
fn gd_rewrite(code: &mut [u8], off: usize, second: [u8; 3]) -> usize {
    let Some((start, len)) = gd_sequence(code, off) else {
        return off;
    };
    let fs = [0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0];
    code[start..start + 9].copy_from_slice(&fs);
    code[start + 9..start + 12].copy_from_slice(&second);
    code[start + 12..start + 16].fill(0);
    if len == 22 {
        code[start + 16..start + 22].copy_from_slice(&NOPW6);
    }
    start + 12
}

/// `mov %fs:0, %rax; lea x@tpoff(%rax), %rax`: returns where the 32-bit TP offset goes.
pub fn gd_relax_apply(code: &mut [u8], off: usize) -> usize {
    gd_rewrite(code, off, [0x48, 0x8d, 0x80])
}

/// General-dynamic → initial-exec for a variable of another module:
/// `mov %fs:0, %rax; add x@gottpoff(%rip), %rax`. Returns where the GOT-relative field goes.
pub fn gd_to_ie_apply(code: &mut [u8], off: usize) -> usize {
    gd_rewrite(code, off, [0x48, 0x03, 0x05])
}

/// Local-dynamic sequence from `off - 3`: 12 bytes with `call`, 13 with `call *GOT`, 22 in the
/// large code model ([`large_tls_call`]).
pub fn ld_relax_len(code: &[u8], off: usize) -> Option<usize> {
    if off < 3 || code.len() < off + 6 || code[off - 3..off] != [0x48, 0x8d, 0x3d] {
        return None;
    }
    if code[off + 4] == 0xe8 && code.len() >= off + 9 {
        Some(12)
    } else if code[off + 4..off + 6] == [0xff, 0x15] && code.len() >= off + 10 {
        Some(13)
    } else if large_tls_call(code, off) {
        Some(22)
    } else {
        None
    }
}

/// `mov %fs:0, %rax`, after `data16` prefixes to the sequence's length, or (22 bytes: more
/// than one instruction may hold) after `data16 data16 data16 nopw %cs:0x0(%rax,%rax,1)`.
pub fn ld_relax_apply(code: &mut [u8], off: usize, len: usize) {
    let tail = [0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0];
    let start = off - 3;
    let pad = len - tail.len();
    if len == 22 {
        let nop = [
            0x66, 0x66, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0,
        ];
        code[start..start + pad].copy_from_slice(&nop);
    } else {
        code[start..start + pad].fill(0x66);
    }
    code[start + pad..start + len].copy_from_slice(&tail);
}

/// TLS descriptors: `lea x@tlsdesc(%rip), %reg` → `mov $x@tpoff, %reg`.
pub fn tlsdesc_relax_ok(code: &[u8], off: usize) -> bool {
    off >= 3
        && (code[off - 3] == 0x48 || code[off - 3] == 0x4c)
        && code[off - 2] == 0x8d
        && code[off - 1] & 0xc7 == 0x05
}

pub fn tlsdesc_relax_apply(code: &mut [u8], off: usize) {
    let reg = (code[off - 1] >> 3) & 7;
    code[off - 3] = if code[off - 3] == 0x4c { 0x49 } else { 0x48 };
    code[off - 2] = 0xc7;
    code[off - 1] = 0xc0 | reg;
}

/// TLS descriptors against an imported variable: `lea x@tlsdesc(%rip), %reg` → `mov
/// x@gottpoff(%rip), %reg` (the TP offset loaded from the GOT).
pub fn tlsdesc_to_ie_apply(code: &mut [u8], off: usize) {
    code[off - 2] = 0x8b;
}

/// `call *x@tlscall(%rax)` → `xchg %ax, %ax` (a 2-byte nop).
pub fn tlsdesc_call_ok(code: &[u8], off: usize) -> bool {
    code.get(off..off + 2) == Some(&[0xff, 0x10])
}

pub fn tlsdesc_call_apply(code: &mut [u8], off: usize) {
    code[off] = 0x66;
    code[off + 1] = 0x90;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_must_fit_their_fields() {
        let mut b = [0u8; 8];
        assert!(write_value(&mut b, 0, R_X86_64_PC32, (-5i64) as u64).is_ok());
        assert_eq!(i32::from_le_bytes([b[0], b[1], b[2], b[3]]), -5);
        assert!(write_value(&mut b, 0, R_X86_64_PC32, 0x8000_0000).is_err());
        assert!(write_value(&mut b, 0, R_X86_64_32, 0xffff_ffff).is_ok());
        assert!(write_value(&mut b, 0, R_X86_64_32, 0x1_0000_0000).is_err());
        assert!(write_value(&mut b, 0, R_X86_64_32, (-1i64) as u64).is_err());
        assert!(write_value(&mut b, 0, R_X86_64_32S, (-1i64) as u64).is_ok());
        assert!(write_value(&mut b, 0, R_X86_64_32S, 0x8000_0000).is_err());
        assert!(write_value(&mut b, 0, R_X86_64_64, u64::MAX).is_ok());
        assert_eq!(b, [0xff; 8]);
        assert!(
            write_value(&mut b, 6, R_X86_64_64, 1).is_err(),
            "field past the buffer"
        );
    }

    #[test]
    fn ie_to_le_rewrites_mov_and_add() {
        // movq x@gottpoff(%rip), %rax  (48 8b 05)  -> movq $x, %rax (48 c7 c0)
        let mut c = [0x48, 0x8b, 0x05, 0, 0, 0, 0];
        assert!(ie_relax_ok(&c, 3));
        ie_relax_apply(&mut c, 3);
        assert_eq!(&c[..3], &[0x48, 0xc7, 0xc0]);
        // addq x@gottpoff(%rip), %r12 (4c 03 25) -> leaq x(%r12), %r12 (4d 8d a4)
        let mut c = [0x4c, 0x03, 0x25, 0, 0, 0, 0];
        assert!(ie_relax_ok(&c, 3));
        ie_relax_apply(&mut c, 3);
        assert_eq!(&c[..3], &[0x4d, 0x8d, 0xa4]);
    }

    #[test]
    fn gotpcrelx_patterns() {
        let c = [0x48, 0x8b, 0x05, 0, 0, 0, 0];
        assert_eq!(
            got_relax_ok(R_X86_64_REX_GOTPCRELX, &c, 3, -4),
            Some(GotRelax::MovToLea)
        );
        assert_eq!(
            got_relax_ok(R_X86_64_GOTPCREL, &c, 3, -4),
            None,
            "plain GOTPCREL is never relaxed"
        );
        let c = [0xff, 0x15, 0, 0, 0, 0];
        assert_eq!(
            got_relax_ok(R_X86_64_GOTPCRELX, &c, 2, -4),
            Some(GotRelax::Call)
        );
        let mut c = [0xff, 0x25, 0, 0, 0, 0];
        let (at, adj) = got_relax_apply(GotRelax::Jmp, &mut c, 2);
        assert_eq!((c[0], c[5], at, adj), (0xe9, 0x90, 1, 1));
    }
}

/// `GNU_PROPERTY_X86_FEATURE_1_AND`: the CET bits every input must have.
pub const PROPERTY_X86_FEATURE_1_AND: u32 = 0xc000_0002;
/// Its `IBT` bit (`-z ibt`: indirect branch tracking).
pub const PROPERTY_X86_FEATURE_1_IBT: u32 = 1;
/// Its `SHSTK` bit (`-z shstk`: shadow stack).
pub const PROPERTY_X86_FEATURE_1_SHSTK: u32 = 2;

/// `GNU_PROPERTY_X86_ISA_1_NEEDED`: the x86-64 ISA levels the code needs (ORed).
pub const PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;

/// The `GNU_PROPERTY_X86_ISA_1_NEEDED` bit of `-z x86-64-LEVEL` (`baseline`, `v2`, `v3`, `v4`).
pub fn isa_level_bit(level: &str) -> Option<u32> {
    match level {
        "baseline" => Some(1),
        "v2" => Some(2),
        "v3" => Some(4),
        "v4" => Some(8),
        _ => None,
    }
}

/// How GNU ld merges a GNU property of the inputs into the output's (`elf_x86_64` with the
/// generic rules of `elf-properties.c`), by its type's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyMerge {
    /// The AND of every input's value, an input without it counting as 0 (the CET features).
    And,
    /// The OR of the values of the inputs that have it (the ISA an input needs).
    Or,
    /// The OR of every input's value if every input has it, else dropped (the ISA used).
    OrAnd,
    /// Not merged: dropped.
    Drop,
}

pub fn property_merge(pr_type: u32) -> PropertyMerge {
    match pr_type {
        // GNU_PROPERTY_UINT32_AND_LO..HI, GNU_PROPERTY_X86_UINT32_AND_LO..HI
        0xb000_0000..=0xb000_7fff | 0xc000_0000..=0xc000_7fff => PropertyMerge::And,
        // GNU_PROPERTY_UINT32_OR_LO..HI, GNU_PROPERTY_X86_UINT32_OR_LO..HI
        0xb000_8000..=0xb000_ffff | 0xc000_8000..=0xc000_ffff => PropertyMerge::Or,
        // GNU_PROPERTY_X86_UINT32_OR_AND_LO..HI
        0xc001_0000..=0xc001_7fff => PropertyMerge::OrAnd,
        _ => PropertyMerge::Drop,
    }
}
