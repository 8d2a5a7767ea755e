//! Synthesize phase: scan every relocation of the kept sections once and decide what the linker must
//! make: GOT slots (for GOT loads that cannot be relaxed), IPLT entries with `R_X86_64_IRELATIVE`
//! for IFUNC symbols, and code stubs such as the teaching `_start`. Stubs are tables of instructions
//! with their relocations: the same table produces the bytes and the report's annotation.
//! Undefined symbols become errors here, named with the places that reference them.

use crate::arch;
use crate::diag::{name_str, Diagnostic, Errors, Result};
use crate::input::{SymPlace, E};
use crate::layout::{Layout, SynthSizes};
use crate::options::{Options, OutputKind};
use crate::resolve::{Def, FileId, Resolved, SymbolId};
use object::elf::*;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymRef {
    Global(SymbolId),
    Local(FileId, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GotKind {
    /// The symbol's address.
    Addr,
    /// The symbol's offset from the thread pointer (initial-exec TLS that was not relaxed).
    TpOff,
}

/// What a stub instruction's relocation points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StubTarget {
    Sym(SymRef),
    /// A linker-defined symbol such as `__init_array_start`.
    Linker(&'static str),
    /// Slot `n` of `.got.plt` (an IPLT entry's pointer).
    GotPltSlot(u32),
}

#[derive(Debug, Clone)]
pub struct StubReloc {
    /// Offset of the field inside the instruction.
    pub at: u8,
    pub r_type: u32,
    pub target: StubTarget,
    pub addend: i64,
}

#[derive(Debug, Clone)]
pub struct Insn {
    /// Encoded bytes, with zeros where the relocation writes.
    pub bytes: Vec<u8>,
    pub reloc: Option<StubReloc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StubHome {
    /// The `.text` stub piece.
    Text,
    /// `.plt`.
    Plt,
}

#[derive(Debug, Clone)]
pub struct Stub {
    pub name: String,
    pub why: String,
    pub home: StubHome,
    /// Offset inside its home piece.
    pub offset: u64,
    pub insns: Vec<Insn>,
}

impl Stub {
    pub fn size(&self) -> u64 {
        self.insns.iter().map(|i| i.bytes.len() as u64).sum()
    }
}

pub struct Synth {
    pub got: Vec<(SymRef, GotKind)>,
    got_index: FxHashMap<(SymRef, GotKind), u32>,
    /// IFUNC symbols that have an IPLT entry, in first-reference order.
    pub iplt: Vec<SymRef>,
    iplt_index: FxHashMap<SymRef, u32>,
    /// `.got.plt` starts with 3 reserved words when anything needs `_GLOBAL_OFFSET_TABLE_`.
    pub got_plt_reserved: u64,
    pub stubs: Vec<Stub>,
    /// Index in `stubs` of the synthesized `_start`, if any.
    pub start_stub: Option<usize>,
    pub entry: Entry,
    pub build_id_size: u64,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
pub enum Entry {
    Symbol(SymRef, String),
    Stub(usize),
    /// No entry symbol: the start of `.text`, as GNU ld does (with a warning).
    TextStart,
}

impl Synth {
    pub fn got_slot(&self, s: SymRef, k: GotKind) -> Option<u32> {
        self.got_index.get(&(s, k)).copied()
    }
    pub fn iplt_slot(&self, s: SymRef) -> Option<u32> {
        self.iplt_index.get(&s).copied()
    }
    pub fn sizes(&self, fde_count: usize, eh_frame_hdr: bool) -> SynthSizes {
        let text: u64 = self
            .stubs
            .iter()
            .filter(|s| s.home == StubHome::Text)
            .map(|s| s.offset + s.size())
            .max()
            .unwrap_or(0);
        let plt: u64 = self
            .stubs
            .iter()
            .filter(|s| s.home == StubHome::Plt)
            .map(|s| s.offset + s.size())
            .max()
            .unwrap_or(0);
        SynthSizes {
            stubs: text,
            got: 8 * self.got.len() as u64,
            got_plt: if self.iplt.is_empty() && self.got_plt_reserved == 0 {
                0
            } else {
                8 * (self.got_plt_reserved + self.iplt.len() as u64)
            },
            plt,
            rela_plt: 24 * self.iplt.len() as u64,
            eh_frame_hdr: if eh_frame_hdr {
                12 + 8 * fde_count as u64
            } else {
                0
            },
            build_id: self.build_id_size,
        }
    }
}

/// The symbol a relocation names, as a global id or a (file, index) local.
pub fn sym_ref(res: &Resolved<'_>, file: FileId, sym: usize) -> SymRef {
    match res.files[file.0 as usize].global(sym) {
        Some(g) => SymRef::Global(g),
        None => SymRef::Local(file, sym as u32),
    }
}

/// The (file, symbol index) that defines a symbol, if any.
pub fn definition(res: &Resolved<'_>, s: SymRef) -> Option<(FileId, u32)> {
    match s {
        SymRef::Local(f, i) => Some((f, i)),
        SymRef::Global(g) => match res.global(g).def {
            Def::Defined { file, sym, .. } | Def::Common { file, sym, .. } => Some((file, sym)),
            _ => None,
        },
    }
}

pub fn is_ifunc(res: &Resolved<'_>, s: SymRef) -> bool {
    match definition(res, s) {
        Some((f, i)) => res.files[f.0 as usize].obj.symbols[i as usize].st_type() == STT_GNU_IFUNC,
        None => false,
    }
}

/// Defined (or linker-provided) with a known address: GOT loads of it can become `lea`.
fn is_resolved(res: &Resolved<'_>, s: SymRef) -> bool {
    match s {
        SymRef::Local(..) => true,
        SymRef::Global(g) => !matches!(res.global(g).def, Def::Undefined),
    }
}

struct Undef {
    name: String,
    sites: Vec<String>,
    count: usize,
}

pub fn synthesize(res: &Resolved<'_>, layout: &Layout, opts: &Options) -> Result<Synth> {
    let mut s = Synth {
        got: Vec::new(),
        got_index: FxHashMap::default(),
        iplt: Vec::new(),
        iplt_index: FxHashMap::default(),
        got_plt_reserved: 0,
        stubs: Vec::new(),
        start_stub: None,
        entry: Entry::TextStart,
        build_id_size: if opts.build_id.is_some() { 16 + 20 } else { 0 },
        warnings: Vec::new(),
    };
    // `-no-pie` with no shared object needed is a static link; everything else needs the dynamic
    // sections, which are not written yet.
    let needed: Vec<&str> = res
        .dsos
        .iter()
        .filter(|d| d.needed)
        .map(|d| d.obj.soname.as_str())
        .collect();
    if matches!(opts.kind, OutputKind::Pie | OutputKind::Shared) || !needed.is_empty() {
        let what = match opts.kind {
            OutputKind::Pie => "a PIE executable".to_string(),
            OutputKind::Shared => "a shared object".to_string(),
            _ => format!("an executable that needs {}", needed.join(", ")),
        };
        return Err(Diagnostic::error(format!(
            "dynamic linking is not supported yet: cannot build {what}; link with -static (gcc -static)"
        ))
        .into());
    }
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut undefs: Vec<Undef> = Vec::new();
    let mut undef_index: FxHashMap<SymbolId, usize> = FxHashMap::default();
    if let Some(g) = res.lookup(b"_GLOBAL_OFFSET_TABLE_") {
        if res.global(g).def == Def::Linker {
            s.got_plt_reserved = 3;
        }
    }

    for (fi, file) in res.files.iter().enumerate() {
        let fid = FileId(fi as u32);
        let obj = &file.obj;
        for (si, sec) in obj.sections.iter().enumerate() {
            if sec.relocs.is_empty() || layout.input_out(fid, si as u32).is_none() {
                continue;
            }
            let alloc = sec.is_alloc();
            let loc = |off: u64| {
                Diagnostic::error(String::new())
                    .file(obj.name.clone())
                    .section(sec.name_str())
                    .offset(off)
            };
            let mut skip_next = false;
            for r in sec.relocs.iter() {
                let off = r.r_offset.get(E);
                let t = r.r_type(E, false);
                let sym = r.r_sym(E, false) as usize;
                if skip_next {
                    skip_next = false;
                    continue;
                }
                if sym >= obj.symbols.len() {
                    let mut d = loc(off);
                    d.message = format!(
                        "relocation {} refers to symbol index {sym}, but there are {} symbols",
                        arch::reloc_name(t),
                        obj.symbols.len()
                    );
                    errors.push(d);
                    continue;
                }
                let Some(width) = arch::field_size(t) else {
                    let mut d = loc(off).symbol(obj.sym_display(sym));
                    d.message = format!(
                        "unsupported relocation type {t} against '{}'",
                        obj.sym_display(sym)
                    );
                    errors.push(d);
                    continue;
                };
                if off.checked_add(width).is_none_or(|end| end > sec.size) {
                    let mut d = loc(off).symbol(obj.sym_display(sym));
                    d.message = format!(
                        "relocation {} at offset 0x{off:x} is past the end of the section (size 0x{:x})",
                        arch::reloc_name(t),
                        sec.size
                    );
                    errors.push(d);
                    continue;
                }
                let target = sym_ref(res, fid, sym);
                // Undefined strong references are fatal (weak ones resolve to 0).
                if let SymRef::Global(g) = target {
                    let gl = res.global(g);
                    let weak = obj.symbols[sym].st_bind() == STB_WEAK;
                    if gl.def == Def::Undefined && !weak && alloc && t != R_X86_64_NONE {
                        let k = *undef_index.entry(g).or_insert_with(|| {
                            undefs.push(Undef {
                                name: name_str(gl.name),
                                sites: Vec::new(),
                                count: 0,
                            });
                            undefs.len() - 1
                        });
                        let u = &mut undefs[k];
                        u.count += 1;
                        if u.sites.len() < 3 {
                            let func = enclosing_function(res, fid, si as u32, off);
                            u.sites.push(match func {
                                Some(f) => format!("referenced by {} (function {f})", obj.name),
                                None => format!(
                                    "referenced by {}:({}+0x{off:x})",
                                    obj.name,
                                    sec.name_str()
                                ),
                            });
                        }
                    }
                }
                if !alloc {
                    continue;
                }
                let code = sec.data;
                let addend = r.r_addend.get(E);
                let o = off as usize;
                match t {
                    R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => {
                        let relax = is_resolved(res, target)
                            && !is_weak_undef(res, target)
                            && arch::got_relax_ok(t, code, o, addend).is_some();
                        if !relax {
                            s.need_got(target, GotKind::Addr);
                        }
                    }
                    R_X86_64_GOT32 | R_X86_64_GOT64 | R_X86_64_GOTPCREL64 | R_X86_64_GOTPLT64 => {
                        s.need_got(target, GotKind::Addr);
                        s.got_plt_reserved = 3;
                    }
                    R_X86_64_GOTPC32 | R_X86_64_GOTPC64 | R_X86_64_GOTOFF64 | R_X86_64_PLTOFF64 => {
                        s.got_plt_reserved = 3
                    }
                    R_X86_64_GOTTPOFF => {
                        if !arch::ie_relax_ok(code, o) {
                            s.need_got(target, GotKind::TpOff);
                        }
                    }
                    R_X86_64_TLSGD => {
                        if !arch::gd_relax_ok(code, o) {
                            let mut d = loc(off).symbol(obj.sym_display(sym));
                            d.message = "R_X86_64_TLSGD is not followed by the psABI call to __tls_get_addr; cannot relax it for a static link".into();
                            errors.push(d);
                        }
                        skip_next = true;
                    }
                    R_X86_64_TLSLD => {
                        if arch::ld_relax_len(code, o).is_none() {
                            let mut d = loc(off).symbol(obj.sym_display(sym));
                            d.message = "R_X86_64_TLSLD is not followed by the psABI call to __tls_get_addr; cannot relax it for a static link".into();
                            errors.push(d);
                        }
                        skip_next = true;
                    }
                    R_X86_64_GOTPC32_TLSDESC => {
                        if !arch::tlsdesc_relax_ok(code, o) {
                            let mut d = loc(off).symbol(obj.sym_display(sym));
                            d.message = "unrecognized TLS descriptor sequence".into();
                            errors.push(d);
                        }
                    }
                    R_X86_64_TLSDESC_CALL => {
                        if !arch::tlsdesc_call_ok(code, o) {
                            let mut d = loc(off).symbol(obj.sym_display(sym));
                            d.message = "unrecognized TLS descriptor call".into();
                            errors.push(d);
                        }
                    }
                    _ => {}
                }
                let tls_type = matches!(
                    t,
                    R_X86_64_TLSGD
                        | R_X86_64_TLSLD
                        | R_X86_64_GOTTPOFF
                        | R_X86_64_TPOFF32
                        | R_X86_64_TPOFF64
                        | R_X86_64_DTPOFF32
                        | R_X86_64_DTPOFF64
                );
                if !tls_type && is_ifunc(res, target) {
                    s.need_iplt(target);
                }
            }
        }
    }

    // Entry point: `-e`, else `_start`, else the teaching `_start` when there is a `main`.
    let entry_name = opts.entry.clone().unwrap_or_else(|| "_start".into());
    match res.lookup(entry_name.as_bytes()) {
        Some(g) if matches!(res.global(g).def, Def::Defined { .. }) => {
            s.entry = Entry::Symbol(SymRef::Global(g), entry_name)
        }
        _ if opts.entry.is_none() => match res.lookup(b"main") {
            Some(m) if matches!(res.global(m).def, Def::Defined { .. }) => {
                let stub = teaching_start(SymRef::Global(m));
                s.start_stub = Some(s.stubs.len());
                s.entry = Entry::Stub(s.stubs.len());
                s.stubs.push(stub);
            }
            _ => s.warnings.push(Diagnostic::warning(
                "cannot find entry symbol _start (and no main to synthesize one for); defaulting to the start of .text",
            )),
        },
        _ => s.warnings.push(Diagnostic::warning(format!(
            "cannot find entry symbol {entry_name}; defaulting to the start of .text"
        ))),
    }
    // IPLT entries: `jmp *slot(%rip)` padded to 16 bytes.
    for (k, &f) in s.iplt.iter().enumerate() {
        let name = match f {
            SymRef::Global(g) => name_str(res.global(g).name),
            SymRef::Local(fl, i) => res.files[fl.0 as usize].obj.sym_display(i as usize),
        };
        s.stubs.push(Stub {
            name: format!("{name}@iplt"),
            why: format!(
                "{name} is an IFUNC: calls go through this entry, whose .got.plt slot glibc fills at start-up \
                 from the resolver (R_X86_64_IRELATIVE in .rela.plt)"
            ),
            home: StubHome::Plt,
            offset: 16 * k as u64,
            insns: vec![
                Insn {
                    bytes: vec![0xff, 0x25, 0, 0, 0, 0],
                    reloc: Some(StubReloc { at: 2, r_type: R_X86_64_PC32, target: StubTarget::GotPltSlot(k as u32), addend: -4 }),
                },
                Insn { bytes: vec![0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00], reloc: None },
                Insn { bytes: vec![0x0f, 0x1f, 0x40, 0x00], reloc: None },
            ],
        });
    }
    // Undefined symbols, like lld and mold: the name, up to three references, then a count.
    for u in undefs {
        let mut d =
            Diagnostic::error(format!("undefined symbol: {}", u.name)).symbol(u.name.clone());
        for site in &u.sites {
            d = d.note(site.clone());
        }
        if u.count > u.sites.len() {
            d = d.note(format!("referenced {} more times", u.count - u.sites.len()));
        }
        errors.push(d);
    }
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    Ok(s)
}

fn is_weak_undef(res: &Resolved<'_>, s: SymRef) -> bool {
    matches!(s, SymRef::Global(g) if res.global(g).def == Def::Undefined)
}

impl Synth {
    fn need_got(&mut self, s: SymRef, k: GotKind) {
        if !self.got_index.contains_key(&(s, k)) {
            self.got_index.insert((s, k), self.got.len() as u32);
            self.got.push((s, k));
        }
    }
    fn need_iplt(&mut self, s: SymRef) {
        if !self.iplt_index.contains_key(&s) {
            self.iplt_index.insert(s, self.iplt.len() as u32);
            self.iplt.push(s);
        }
    }
}

/// The function symbol of `file` whose range covers `sec+off`, for error messages.
pub fn enclosing_function(res: &Resolved<'_>, file: FileId, sec: u32, off: u64) -> Option<String> {
    let obj = &res.files[file.0 as usize].obj;
    for (i, sym) in obj.symbols.iter().enumerate() {
        if sym.st_type() != STT_FUNC || obj.sym_place(i).ok()? != SymPlace::Section(sec) {
            continue;
        }
        let v = sym.st_value.get(E);
        let size = sym.st_size.get(E);
        if off >= v && off < v.saturating_add(size.max(1)) {
            return obj.sym_name(i).ok().map(name_str);
        }
    }
    None
}

/// A tiny assembler for stubs: instructions, labels and short jumps resolved at the end.
struct Asm {
    insns: Vec<Insn>,
    labels: Vec<usize>,
    jumps: Vec<(usize, usize)>,
}

impl Asm {
    fn new() -> Self {
        Asm {
            insns: Vec::new(),
            labels: Vec::new(),
            jumps: Vec::new(),
        }
    }
    fn op(&mut self, bytes: &[u8]) {
        self.insns.push(Insn {
            bytes: bytes.to_vec(),
            reloc: None,
        });
    }
    fn rel(&mut self, bytes: &[u8], at: u8, r_type: u32, target: StubTarget, addend: i64) {
        self.insns.push(Insn {
            bytes: bytes.to_vec(),
            reloc: Some(StubReloc {
                at,
                r_type,
                target,
                addend,
            }),
        });
    }
    fn new_label(&mut self) -> usize {
        self.labels.push(usize::MAX);
        self.labels.len() - 1
    }
    fn bind(&mut self, l: usize) {
        self.labels[l] = self.insns.len();
    }
    /// A 2-byte short jump (`opcode rel8`) to label `l`.
    fn jump(&mut self, opcode: u8, l: usize) {
        self.jumps.push((self.insns.len(), l));
        self.op(&[opcode, 0]);
    }
    fn finish(mut self) -> Vec<Insn> {
        let mut offs = Vec::with_capacity(self.insns.len() + 1);
        let mut o = 0i64;
        for i in &self.insns {
            offs.push(o);
            o += i.bytes.len() as i64;
        }
        offs.push(o);
        for &(at, l) in &self.jumps {
            let disp = offs[self.labels[l]] - (offs[at] + 2);
            self.insns[at].bytes[1] = disp as i8 as u8;
        }
        self.insns
    }
}

/// The teaching `_start`: what crt1.o and glibc's `__libc_start_main` do, reduced to the init-array
/// protocol. Each initializer gets (argc, argv, envp) as glibc passes them; the fini array runs in
/// reverse; the exit status is main's return value.
fn teaching_start(main: SymRef) -> Stub {
    let mut a = Asm::new();
    a.op(&[0x31, 0xed]); // xor ebp, ebp            ; outermost frame
    a.op(&[0x4c, 0x8b, 0x24, 0x24]); // mov r12, [rsp]      ; argc
    a.op(&[0x4c, 0x8d, 0x6c, 0x24, 0x08]); // lea r13, [rsp+8] ; argv
    a.op(&[0x4f, 0x8d, 0x74, 0xe5, 0x08]); // lea r14, [r13+r12*8+8] ; envp
    a.op(&[0x48, 0x83, 0xe4, 0xf0]); // and rsp, -16       ; ABI stack alignment
    for (start, end) in [
        ("__preinit_array_start", "__preinit_array_end"),
        ("__init_array_start", "__init_array_end"),
    ] {
        a.rel(
            &[0x48, 0x8d, 0x1d, 0, 0, 0, 0],
            3,
            R_X86_64_PC32,
            StubTarget::Linker(start),
            -4,
        ); // lea rbx, [rip+start]
        a.rel(
            &[0x4c, 0x8d, 0x3d, 0, 0, 0, 0],
            3,
            R_X86_64_PC32,
            StubTarget::Linker(end),
            -4,
        ); // lea r15, [rip+end]
        let top = a.new_label();
        let done = a.new_label();
        a.bind(top);
        a.op(&[0x4c, 0x39, 0xfb]); // cmp rbx, r15
        a.jump(0x73, done); // jae done
        a.op(&[0x44, 0x89, 0xe7]); // mov edi, r12d
        a.op(&[0x4c, 0x89, 0xee]); // mov rsi, r13
        a.op(&[0x4c, 0x89, 0xf2]); // mov rdx, r14
        a.op(&[0xff, 0x13]); // call [rbx]
        a.op(&[0x48, 0x83, 0xc3, 0x08]); // add rbx, 8
        a.jump(0xeb, top); // jmp top
        a.bind(done);
    }
    a.op(&[0x44, 0x89, 0xe7]); // mov edi, r12d
    a.op(&[0x4c, 0x89, 0xee]); // mov rsi, r13
    a.op(&[0x4c, 0x89, 0xf2]); // mov rdx, r14
    a.rel(
        &[0xe8, 0, 0, 0, 0],
        1,
        R_X86_64_PLT32,
        StubTarget::Sym(main),
        -4,
    ); // call main
    a.op(&[0x41, 0x89, 0xc4]); // mov r12d, eax         ; keep main's status
    a.rel(
        &[0x48, 0x8d, 0x1d, 0, 0, 0, 0],
        3,
        R_X86_64_PC32,
        StubTarget::Linker("__fini_array_end"),
        -4,
    );
    a.rel(
        &[0x4c, 0x8d, 0x3d, 0, 0, 0, 0],
        3,
        R_X86_64_PC32,
        StubTarget::Linker("__fini_array_start"),
        -4,
    );
    let top = a.new_label();
    let done = a.new_label();
    a.bind(top);
    a.op(&[0x4c, 0x39, 0xfb]); // cmp rbx, r15
    a.jump(0x76, done); // jbe done
    a.op(&[0x48, 0x83, 0xeb, 0x08]); // sub rbx, 8           ; fini runs in reverse
    a.op(&[0xff, 0x13]); // call [rbx]
    a.jump(0xeb, top);
    a.bind(done);
    a.op(&[0x44, 0x89, 0xe7]); // mov edi, r12d
    a.op(&[0xb8, 0xe7, 0x00, 0x00, 0x00]); // mov eax, 231 (exit_group)
    a.op(&[0x0f, 0x05]); // syscall
    a.op(&[0xf4]); // hlt
    Stub {
        name: "_start".into(),
        why: "the link has no _start and no -e: initlink made one that runs .preinit_array and .init_array \
              with (argc, argv, envp), calls main, runs .fini_array in reverse and exits with main's status"
            .into(),
        home: StubHome::Text,
        offset: 0,
        insns: a.finish(),
    }
}
