//! Report phase: the link described as data (serialized as JSON by serde). It reads the decisions
//! the other phases made; it never re-derives them. Built only when asked for, so plain links stay
//! fast. The CLI's map file and the playground are both printed from it. Schema: docs/report.md.

use crate::arch;
use crate::diag::{name_str, Diagnostic};
use crate::input::{SymPlace, E};
use crate::layout::{Class, PieceSrc, Synthetic};
use crate::relocate::Values;
use crate::resolve::{FileId, Origin};
use crate::synthesize::Entry;
use crate::write::{build_symtab, entry_address};
use object::elf::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Report {
    pub format: u32,
    pub tool: String,
    pub output: OutputInfo,
    pub inputs: Vec<InputInfo>,
    pub archives: Vec<ArchiveInfo>,
    pub segments: Vec<SegmentInfo>,
    pub sections: Vec<SectionInfo>,
    pub symbols: Vec<SymbolInfo>,
    pub init_arrays: InitArrays,
    pub stubs: Vec<StubInfo>,
    /// Present for dynamically linked outputs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dynamic: Option<DynamicInfo>,
    pub diagnostics: Vec<Diagnostic>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct DynamicInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interp: Option<String>,
    pub needed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soname: Option<String>,
    /// `.dynamic`, in order, with the value the loader reads.
    pub entries: Vec<DynEntry>,
    pub imports: Vec<ImportInfo>,
    pub exports: Vec<String>,
    /// Dynamic relocations by type (`R_X86_64_RELATIVE`: 12, ...).
    pub relocation_counts: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DynEntry {
    pub tag: String,
    pub value: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportInfo {
    pub symbol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    /// How this module reaches it: "plt", "got", "copy", "canonical-plt", "data".
    pub via: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct OutputInfo {
    pub path: String,
    pub kind: String,
    pub entry: u64,
    pub entry_symbol: String,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputInfo {
    pub index: usize,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Why it is in the link: "command line", or the symbol that pulled an archive member.
    pub why: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referenced_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveInfo {
    pub name: String,
    pub index_symbols: usize,
    pub members_loaded: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentInfo {
    #[serde(rename = "type")]
    pub p_type: String,
    pub flags: String,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
    pub sections: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SectionInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub sh_type: String,
    pub flags: String,
    pub address: u64,
    pub offset: u64,
    pub size: u64,
    pub align: u64,
    pub pieces: Vec<PieceInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PieceInfo {
    /// "input", "merged", "common", "eh_frame" or "linker".
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    pub address: u64,
    pub offset: u64,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub from_ctors: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SymbolInfo {
    pub name: String,
    pub value: u64,
    pub size: u64,
    #[serde(rename = "type")]
    pub sym_type: String,
    pub binding: String,
    pub section: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_in: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct InitArrays {
    pub preinit: Vec<InitEntry>,
    pub init: Vec<InitEntry>,
    pub fini: Vec<InitEntry>,
    /// Everything that runs around `main`, in order, including `_init`/`_fini`.
    pub sequence: Vec<SequenceStep>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitEntry {
    /// Position in the order the entries run (1-based; fini entries run last slot first).
    pub run_order: usize,
    pub slot: usize,
    pub slot_address: u64,
    pub target_address: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    pub priority: u32,
    pub from_ctors: bool,
    pub linker_made: bool,
    pub called_by: String,
    /// How the slot gets its value: "static" (the file holds it) or a dynamic relocation.
    pub filled_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceStep {
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<u64>,
    pub called_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StubInfo {
    pub name: String,
    pub address: u64,
    pub size: u64,
    pub section: String,
    pub why: String,
    pub bytes: String,
    pub lines: Vec<StubLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StubLine {
    pub offset: u64,
    pub address: u64,
    pub bytes: String,
    pub asm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reloc: Option<RelocInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelocInfo {
    #[serde(rename = "type")]
    pub r_type: String,
    pub symbol: String,
    pub addend: i64,
    pub formula: String,
    #[serde(rename = "S")]
    pub s: u64,
    #[serde(rename = "A")]
    pub a: i64,
    #[serde(rename = "P")]
    pub p: u64,
    pub value: i64,
    /// Offset of the patched field within the instruction, and its width in bytes.
    pub field_offset: usize,
    pub field_size: usize,
}

pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn flags_str(f: u64) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (SHF_WRITE, 'W'),
        (SHF_ALLOC, 'A'),
        (SHF_EXECINSTR, 'X'),
        (SHF_MERGE, 'M'),
        (SHF_STRINGS, 'S'),
        (SHF_TLS, 'T'),
    ] {
        if f & u64::from(bit) != 0 {
            s.push(c);
        }
    }
    s
}

fn sh_type_str(t: u32) -> String {
    match t {
        SHT_PROGBITS => "PROGBITS",
        SHT_NOBITS => "NOBITS",
        SHT_NOTE => "NOTE",
        SHT_RELA => "RELA",
        SHT_INIT_ARRAY => "INIT_ARRAY",
        SHT_FINI_ARRAY => "FINI_ARRAY",
        SHT_PREINIT_ARRAY => "PREINIT_ARRAY",
        SHT_STRTAB => "STRTAB",
        _ => return format!("0x{t:x}"),
    }
    .into()
}

/// Disassemble one instruction (Intel syntax) at `ip`.
pub fn disassemble(bytes: &[u8], ip: u64) -> String {
    use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
    let mut d = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let mut f = IntelFormatter::new();
    f.options_mut().set_hex_prefix("0x");
    f.options_mut().set_hex_suffix("");
    f.options_mut().set_uppercase_hex(false);
    f.options_mut().set_space_after_operand_separator(true);
    f.options_mut().set_branch_leading_zeros(false);
    f.options_mut().set_leading_zeros(false);
    f.options_mut().set_signed_immediate_operands(true);
    let mut out = String::new();
    if d.can_decode() {
        let insn = d.decode();
        f.format(&insn, &mut out);
    }
    out
}

/// The function symbol at `value` in `sec` of `file` (init-array slots usually name a section
/// symbol plus an addend).
fn function_at(v: &Values<'_, '_>, file: FileId, sec: u32, value: u64) -> Option<String> {
    let obj = &v.res.files[file.0 as usize].obj;
    let mut best = None;
    for (i, s) in obj.symbols.iter().enumerate() {
        let ty = s.st_type();
        if (ty == STT_FUNC || ty == STT_GNU_IFUNC || ty == STT_NOTYPE)
            && s.st_value.get(E) == value
            && obj.sym_place(i).ok() == Some(SymPlace::Section(sec))
        {
            if let Ok(n) = obj.sym_name(i) {
                if !n.is_empty() && !n.starts_with(b".L") {
                    best = Some(name_str(n));
                    if ty == STT_FUNC {
                        break;
                    }
                }
            }
        }
    }
    best
}

/// How an init/fini slot gets its final value.
fn filled_by(v: &Values<'_, '_>, file: FileId, sec: u32, in_off: u64, value: u64) -> String {
    let Some(d) = v.synth.dynamic.as_deref() else {
        return "static: the file holds the address (a static executable is not relocated)".into();
    };
    let here = crate::dynamic::DynLoc::Input {
        file,
        sec,
        off: in_off,
    };
    match d.relocs.iter().find(|r| r.loc == here) {
        Some(r) if r.r_type == R_X86_64_RELATIVE => format!(
            "R_X86_64_RELATIVE: before any initializer runs, the loader writes load base + 0x{value:x} \
             (the addend) into the slot; GNU ld and initlink also leave 0x{value:x} in the file"
        ),
        Some(r) => format!("{} against a symbol: the loader writes its address", arch::reloc_name(r.r_type)),
        None => "static: an absolute address fixed at link time (ET_EXEC is not relocated)".into(),
    }
}

fn init_entries(
    v: &Values<'_, '_>,
    elf: &[u8],
    name: &str,
    called_by: &str,
    reverse: bool,
) -> Vec<InitEntry> {
    let layout = v.layout;
    let Some(si) = layout.section_by_name(name) else {
        return Vec::new();
    };
    let os = &layout.sections[si as usize];
    let mut out = Vec::new();
    for piece in &os.pieces {
        if piece.src == PieceSrc::Synthetic(Synthetic::InitStubSlot) {
            let slot_address = os.addr + piece.offset;
            let fo = (os.offset + piece.offset) as usize;
            let target_address = elf
                .get(fo..fo + 8)
                .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
            let pic = v.synth.dynamic.as_deref().is_some_and(|d| d.pic);
            out.push(InitEntry {
                run_order: 0,
                slot: out.len(),
                slot_address,
                target_address,
                symbol: Some("initlink.register_module".into()),
                input: None,
                section: Some("(linker-made, --init-stub)".into()),
                priority: 0,
                from_ctors: false,
                linker_made: true,
                called_by: called_by.to_string(),
                filled_by: if pic {
                    format!("R_X86_64_RELATIVE: the loader writes load base + 0x{target_address:x} before any initializer runs")
                } else {
                    "static: the file holds the stub's address".into()
                },
            });
            continue;
        }
        let PieceSrc::Input { file, sec } = piece.src else {
            continue;
        };
        let obj = &v.res.files[file.0 as usize].obj;
        let s = &obj.sections[sec as usize];
        let n = piece.size / 8;
        for k in 0..n {
            let slot_address = os.addr + piece.offset + 8 * k;
            let fo = (os.offset + piece.offset + 8 * k) as usize;
            let target_address = elf
                .get(fo..fo + 8)
                .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
            // `.ctors` words were reversed: output slot k came from input word n-1-k.
            let in_off = if piece.from_ctors {
                8 * (n - 1 - k)
            } else {
                8 * k
            };
            let mut symbol = None;
            if let Some(r) = s.relocs.iter().find(|r| r.r_offset.get(E) == in_off) {
                let sym = r.r_sym(E, false) as usize;
                if let Some(st) = obj.symbols.get(sym) {
                    symbol = if st.st_type() == STT_SECTION {
                        match obj.sym_place(sym) {
                            Ok(SymPlace::Section(ts)) => function_at(
                                v,
                                file,
                                ts,
                                st.st_value.get(E).wrapping_add(r.r_addend.get(E) as u64),
                            ),
                            _ => None,
                        }
                    } else {
                        Some(obj.sym_display(sym))
                    };
                }
            }
            out.push(InitEntry {
                run_order: 0,
                slot: out.len(),
                slot_address,
                target_address,
                symbol,
                input: Some(obj.name.clone()),
                section: Some(s.name_str()),
                priority: piece.priority,
                from_ctors: piece.from_ctors,
                linker_made: false,
                called_by: called_by.to_string(),
                filled_by: filled_by(v, file, sec, in_off, target_address),
            });
        }
    }
    let total = out.len();
    for (i, e) in out.iter_mut().enumerate() {
        e.run_order = if reverse { total - i } else { i + 1 };
    }
    out
}

pub fn build(
    v: &Values<'_, '_>,
    elf: &[u8],
    opts: &crate::options::Options,
    diagnostics: &[Diagnostic],
) -> Report {
    let layout = v.layout;
    let res = v.res;
    let synth = v.synth;
    let mut r = Report {
        format: FORMAT,
        tool: format!("initlink {}", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    let entry_symbol = match &synth.entry {
        Entry::Symbol(_, n) => n.clone(),
        Entry::Stub(i) => format!("{} (linker-made)", synth.stubs[*i].name),
        Entry::TextStart => "(start of .text)".into(),
        Entry::None => "(none: shared object)".into(),
    };
    r.output = OutputInfo {
        path: opts.output.clone(),
        kind: format!("{:?}", opts.kind).to_lowercase(),
        entry: entry_address(v),
        entry_symbol,
        size: elf.len() as u64,
    };
    for (i, f) in res.files.iter().enumerate() {
        let (archive, member, why, loaded_for, referenced_by) = match &f.origin {
            Origin::CommandLine => (
                None,
                None,
                "named on the command line".to_string(),
                None,
                None,
            ),
            Origin::Member {
                archive,
                member,
                symbol,
                referenced_by,
            } => (
                Some(archive.clone()),
                Some(member.clone()),
                match referenced_by {
                    Some(by) => format!("defines `{symbol}`, referenced by {by}"),
                    None => format!("defines `{symbol}`, named with -u"),
                },
                Some(symbol.clone()),
                referenced_by.clone(),
            ),
        };
        r.inputs.push(InputInfo {
            index: i,
            name: f.obj.name.clone(),
            archive,
            member,
            why,
            loaded_for,
            referenced_by,
        });
    }
    r.archives = res
        .archives
        .iter()
        .map(|(n, s, l)| ArchiveInfo {
            name: n.clone(),
            index_symbols: *s,
            members_loaded: *l,
        })
        .collect();
    for seg in &layout.segments {
        let t = match seg.p_type {
            PT_LOAD => "LOAD",
            PT_NOTE => "NOTE",
            PT_TLS => "TLS",
            PT_GNU_EH_FRAME => "GNU_EH_FRAME",
            PT_GNU_STACK => "GNU_STACK",
            _ => "OTHER",
        };
        let flags = format!(
            "{}{}{}",
            if seg.flags & PF_R != 0 { 'R' } else { '-' },
            if seg.flags & PF_W != 0 { 'W' } else { '-' },
            if seg.flags & PF_X != 0 { 'X' } else { '-' }
        );
        r.segments.push(SegmentInfo {
            p_type: t.into(),
            flags,
            offset: seg.offset,
            vaddr: seg.vaddr,
            filesz: seg.filesz,
            memsz: seg.memsz,
            align: seg.align,
            sections: seg
                .sections
                .iter()
                .map(|&i| layout.sections[i as usize].name.clone())
                .collect(),
        });
    }
    for os in layout.sections.iter().filter(|s| s.shndx != 0) {
        let mut pieces = Vec::new();
        for p in &os.pieces {
            let (kind, input, section) = match p.src {
                PieceSrc::Input { file, sec } => {
                    let o = &res.files[file.0 as usize].obj;
                    ("input", Some(o.name.clone()), Some(o.section_name(sec)))
                }
                PieceSrc::EhFrame { file, sec, .. } => {
                    let o = &res.files[file.0 as usize].obj;
                    ("eh_frame", Some(o.name.clone()), Some(o.section_name(sec)))
                }
                PieceSrc::Merged(_) => ("merged", None, Some("merged strings/constants".into())),
                PieceSrc::Common(g) => (
                    "common",
                    None,
                    Some(format!("COMMON {}", name_str(res.global(g).name))),
                ),
                PieceSrc::Synthetic(s) => ("linker", None, Some(format!("{s:?}"))),
            };
            if p.size == 0 && kind != "input" {
                continue;
            }
            let is_array = os.sh_type == SHT_INIT_ARRAY || os.sh_type == SHT_FINI_ARRAY;
            pieces.push(PieceInfo {
                kind: kind.into(),
                input,
                section,
                address: if os.class == Class::NonAlloc {
                    0
                } else {
                    os.addr + p.offset
                },
                offset: os.offset + p.offset,
                size: p.size,
                priority: is_array.then_some(p.priority),
                from_ctors: p.from_ctors,
            });
        }
        r.sections.push(SectionInfo {
            name: os.name.clone(),
            sh_type: sh_type_str(os.sh_type),
            flags: flags_str(os.flags),
            address: os.addr,
            offset: os.offset,
            size: os.size,
            align: os.align,
            pieces,
        });
    }
    let (syms, first_global) = build_symtab(v);
    let shname = |shndx: u16| -> String {
        match shndx {
            SHN_UNDEF => "UND".into(),
            SHN_ABS => "ABS".into(),
            n => layout
                .sections
                .iter()
                .find(|s| s.shndx == n)
                .map_or_else(|| n.to_string(), |s| s.name.clone()),
        }
    };
    for (i, s) in syms.iter().enumerate().skip(1) {
        let ty = s.info & 0xf;
        if i < first_global && ty == STT_FILE {
            continue;
        }
        let name = name_str(&s.name);
        let defined_in = res
            .lookup(&s.name)
            .and_then(|g| crate::synthesize::definition(res, crate::synthesize::SymRef::Global(g)))
            .map(|(f, _)| res.files[f.0 as usize].obj.name.clone())
            .or_else(|| {
                (res.lookup(&s.name).map(|g| res.global(g).def)
                    == Some(crate::resolve::Def::Linker))
                .then(|| "linker".to_string())
            });
        if i < first_global && defined_in.is_none() {
            continue; // file-local symbols stay in the ELF symtab; the report lists the link's names
        }
        r.symbols.push(SymbolInfo {
            name,
            value: s.value,
            size: s.size,
            sym_type: match ty {
                STT_FUNC => "FUNC",
                STT_OBJECT => "OBJECT",
                STT_TLS => "TLS",
                STT_GNU_IFUNC => "IFUNC",
                STT_SECTION => "SECTION",
                _ => "NOTYPE",
            }
            .into(),
            binding: match s.info >> 4 {
                STB_LOCAL => "LOCAL",
                STB_WEAK => "WEAK",
                _ => "GLOBAL",
            }
            .into(),
            section: shname(s.shndx),
            defined_in,
        });
    }
    // Start-up: who calls what, in order.
    // initlink's freestanding `_start` calls the arrays itself; the glibc-style one leaves it to libc.
    let synthesized = synth.start_stub.is_some() && synth.dynamic.is_none();
    let shared = synth.dynamic.as_deref().is_some_and(|d| d.shared);
    let dynamic = synth.dynamic.is_some();
    let (pre_by, init_by, fini_by) = if synthesized {
        (
            "initlink's _start",
            "initlink's _start",
            "initlink's _start, after main returns",
        )
    } else if shared {
        (
            "(a shared object has no .preinit_array)",
            "the dynamic loader: _dl_init (glibc elf/dl-init.c) runs this object's DT_INIT then DT_INIT_ARRAY after its dependencies' and before the executable's",
            "the dynamic loader: _dl_fini (glibc elf/dl-fini.c) at exit, after the executable's finalizers (or dlclose)",
        )
    } else if dynamic {
        (
            "the dynamic loader: _dl_init (glibc elf/dl-init.c), before any library initializer",
            "__libc_start_main → call_init (glibc csu/libc-start.c), after every library's initializers",
            "exit() → _dl_fini (glibc elf/dl-fini.c, passed to __libc_start_main in %rdx and registered with __cxa_atexit), before the libraries' finalizers",
        )
    } else {
        (
            "__libc_start_main (glibc csu/libc-start.c, static: call_init)",
            "__libc_start_main (glibc csu/libc-start.c, static: call_init)",
            "exit() → call_fini, registered by __libc_start_main with __cxa_atexit",
        )
    };
    r.init_arrays.preinit = init_entries(v, elf, ".preinit_array", pre_by, false);
    r.init_arrays.init = init_entries(v, elf, ".init_array", init_by, false);
    r.init_arrays.fini = init_entries(v, elf, ".fini_array", fini_by, true);
    let seq = &mut r.init_arrays.sequence;
    let global_addr = |n: &[u8]| {
        res.lookup(n)
            .filter(|&g| res.global(g).def != crate::resolve::Def::Undefined)
            .map(|g| v.sym_addr(crate::synthesize::SymRef::Global(g)))
    };
    for e in &r.init_arrays.preinit {
        seq.push(SequenceStep {
            step: ".preinit_array".into(),
            symbol: e.symbol.clone(),
            address: Some(e.target_address),
            called_by: e.called_by.clone(),
        });
    }
    if !synthesized {
        if let Some(a) = global_addr(b"_init") {
            seq.push(SequenceStep {
                step: "_init (.init: crti.o + crtn.o pieces)".into(),
                symbol: Some("_init".into()),
                address: Some(a),
                called_by: init_by.into(),
            });
        }
    }
    for e in &r.init_arrays.init {
        seq.push(SequenceStep {
            step: ".init_array".into(),
            symbol: e.symbol.clone(),
            address: Some(e.target_address),
            called_by: e.called_by.clone(),
        });
    }
    seq.push(SequenceStep {
        step: "main".into(),
        symbol: Some("main".into()),
        address: global_addr(b"main"),
        called_by: if synthesized {
            pre_by.into()
        } else {
            "__libc_start_main".into()
        },
    });
    let mut fini: Vec<&InitEntry> = r.init_arrays.fini.iter().collect();
    fini.sort_by_key(|e| e.run_order);
    for e in fini {
        seq.push(SequenceStep {
            step: ".fini_array".into(),
            symbol: e.symbol.clone(),
            address: Some(e.target_address),
            called_by: e.called_by.clone(),
        });
    }
    if !synthesized {
        if let Some(a) = global_addr(b"_fini") {
            seq.push(SequenceStep {
                step: "_fini (.fini)".into(),
                symbol: Some("_fini".into()),
                address: Some(a),
                called_by: fini_by.into(),
            });
        }
    }
    // Stubs, annotated line by line.
    for st in &synth.stubs {
        let base = v.stub_addr(st);
        let (bytes, applied) = v.stub_bytes(st);
        let mut lines = Vec::new();
        let mut off = 0usize;
        for (insn, ap) in st.insns.iter().zip(&applied) {
            let b = &bytes[off..off + insn.bytes.len()];
            let addr = base + off as u64;
            let reloc = match (&insn.reloc, ap) {
                (Some(rl), Some(a)) => Some(RelocInfo {
                    r_type: arch::reloc_name(a.r_type).into(),
                    symbol: match &rl.target {
                        crate::synthesize::StubTarget::Sym(s) => v.sym_name(*s),
                        crate::synthesize::StubTarget::Linker(n) => (*n).to_string(),
                        crate::synthesize::StubTarget::GotPltSlot(k) => {
                            format!(".got.plt slot {k}")
                        }
                        crate::synthesize::StubTarget::GotPltWord(n) => {
                            format!(".got.plt word {n}")
                        }
                        crate::synthesize::StubTarget::Plt0 => "PLT0".to_string(),
                        crate::synthesize::StubTarget::Piece(_) => {
                            "initlink.module_data".to_string()
                        }
                    },
                    addend: a.a,
                    formula: arch::formula(a.r_type).into(),
                    s: a.s,
                    a: a.a,
                    p: a.p,
                    value: a.value as i64 as i32 as i64,
                    field_offset: a.at,
                    field_size: a.width,
                }),
                _ => None,
            };
            lines.push(StubLine {
                offset: off as u64,
                address: addr,
                bytes: hex(b),
                asm: disassemble(b, addr),
                reloc,
            });
            off += insn.bytes.len();
        }
        r.stubs.push(StubInfo {
            name: st.name.clone(),
            address: base,
            size: st.size(),
            section: match st.home {
                crate::synthesize::StubHome::Text => ".text".into(),
                crate::synthesize::StubHome::Plt => ".plt".into(),
            },
            why: st.why.clone(),
            bytes: hex(&bytes),
            lines,
        });
    }
    if let Some(d) = synth.dynamic.as_deref() {
        r.dynamic = Some(dynamic_info(v, d, elf));
    }
    r.diagnostics = diagnostics.to_vec();
    r.notes.extend(synth.notes.iter().cloned());
    if opts.gc_sections {
        r.notes.push(
            "--gc-sections was accepted but not applied: every loaded section is kept".into(),
        );
    }
    for ig in &opts.ignored {
        r.notes.push(format!("option accepted and ignored: {ig}"));
    }
    let _ = Synthetic::Got;
    r
}

/// A text map in the spirit of GNU ld's `-Map`, printed from the report.
pub fn map_text(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "initlink link map for {} (entry 0x{:x}, {})\n",
        r.output.path, r.output.entry, r.output.entry_symbol
    );
    let _ = writeln!(
        s,
        "Archive member included to satisfy reference by file (symbol)\n"
    );
    for i in &r.inputs {
        if let (Some(a), Some(m)) = (&i.archive, &i.member) {
            let _ = writeln!(
                s,
                "{a}({m})\n                              {} ({})",
                i.referenced_by.as_deref().unwrap_or("-u"),
                i.loaded_for.as_deref().unwrap_or("")
            );
        }
    }
    let _ = writeln!(s, "\nProgram headers\n");
    for seg in &r.segments {
        let _ = writeln!(
            s,
            "{:<13} {} off 0x{:08x} vaddr 0x{:016x} filesz 0x{:08x} memsz 0x{:08x}  {}",
            seg.p_type,
            seg.flags,
            seg.offset,
            seg.vaddr,
            seg.filesz,
            seg.memsz,
            seg.sections.join(" ")
        );
    }
    let _ = writeln!(s, "\nLinker script and memory map\n");
    for sec in &r.sections {
        let _ = writeln!(
            s,
            "{:<20} 0x{:016x} 0x{:8x} {}",
            sec.name, sec.address, sec.size, sec.flags
        );
        for p in &sec.pieces {
            let what = match (&p.input, &p.section) {
                (Some(i), Some(n)) => format!("{i}({n})"),
                (None, Some(n)) => format!("*({n})"),
                _ => p.kind.clone(),
            };
            let extra = match p.priority {
                Some(pr) if pr != 65535 => format!(
                    "  priority {pr}{}",
                    if p.from_ctors { " (.ctors)" } else { "" }
                ),
                _ if p.from_ctors => "  (.ctors, reversed)".into(),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                " {:<19} 0x{:016x} 0x{:8x} {what}{extra}",
                "", p.address, p.size
            );
        }
    }
    let _ = writeln!(s, "\nStart-up sequence\n");
    for (i, st) in r.init_arrays.sequence.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:>3}. {:<40} {:<30} 0x{:x}  ({})",
            i + 1,
            st.step,
            st.symbol.as_deref().unwrap_or("?"),
            st.address.unwrap_or(0),
            st.called_by
        );
    }
    for st in &r.stubs {
        let _ = writeln!(
            s,
            "\nLinker-made code: {} at 0x{:x} ({} bytes) in {}\n  {}",
            st.name, st.address, st.size, st.section, st.why
        );
        for l in &st.lines {
            let rel = l
                .reloc
                .as_ref()
                .map(|x| {
                    format!(
                        "   ; {} {}{:+} = {} = {}",
                        x.r_type,
                        x.symbol,
                        x.addend,
                        x.formula,
                        signed_hex(x.value)
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(s, "  {:8x}:  {:<24} {}{rel}", l.address, l.bytes, l.asm);
        }
    }
    s
}

fn dynamic_info(v: &Values<'_, '_>, d: &crate::dynamic::DynPlan, elf: &[u8]) -> DynamicInfo {
    let res = v.res;
    let mut info = DynamicInfo {
        interp: d.interp.clone(),
        needed: d.needed.clone(),
        soname: v.opts.and_then(|o| o.soname.clone()).filter(|_| d.shared),
        ..Default::default()
    };
    if let Some(i) = v.layout.section_by_name(".dynamic") {
        let s = &v.layout.sections[i as usize];
        for (k, &tag) in d.tags.iter().enumerate() {
            let o = (s.offset + 16 * k as u64 + 8) as usize;
            let value = elf
                .get(o..o + 8)
                .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
            info.entries.push(DynEntry {
                tag: dt_name(tag).into(),
                value,
            });
        }
    }
    for &g in &d.dynsyms {
        let gl = res.global(g);
        let name = name_str(gl.name);
        match gl.def {
            crate::resolve::Def::Shared { dso, sym } => {
                let o = &res.dsos[dso as usize].obj;
                let s = crate::synthesize::SymRef::Global(g);
                let mut via = Vec::new();
                if d.copy_of.contains_key(&g) {
                    via.push("copy".to_string());
                }
                if d.canonical.contains(&g) {
                    via.push("canonical-plt".to_string());
                } else if d.plt_index.contains_key(&s) {
                    via.push("plt".to_string());
                }
                if d.relocs
                    .iter()
                    .any(|r| r.sym == Some(g) && matches!(r.loc, crate::dynamic::DynLoc::Got(_)))
                {
                    via.push("got".to_string());
                }
                if d.relocs.iter().any(|r| {
                    r.sym == Some(g) && matches!(r.loc, crate::dynamic::DynLoc::Input { .. })
                }) {
                    via.push("data".to_string());
                }
                info.imports.push(ImportInfo {
                    symbol: name,
                    version: o.syms[sym as usize].version.map(name_str),
                    library: Some(o.soname.clone()),
                    via,
                });
            }
            crate::resolve::Def::Undefined => info.imports.push(ImportInfo {
                symbol: name,
                version: None,
                library: None,
                via: vec!["got".into()],
            }),
            _ => info.exports.push(name),
        }
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in &d.relocs {
        let n = arch::reloc_name(r.r_type).to_string();
        match counts.iter_mut().find(|(k, _)| *k == n) {
            Some(c) => c.1 += 1,
            None => counts.push((n, 1)),
        }
    }
    let jump = d.plt.len();
    if jump > 0 {
        counts.push(("R_X86_64_JUMP_SLOT".into(), jump));
    }
    info.relocation_counts = counts;
    info
}

fn dt_name(tag: u32) -> &'static str {
    match tag {
        DT_NULL => "NULL",
        DT_NEEDED => "NEEDED",
        DT_PLTRELSZ => "PLTRELSZ",
        DT_PLTGOT => "PLTGOT",
        DT_HASH => "HASH",
        DT_STRTAB => "STRTAB",
        DT_SYMTAB => "SYMTAB",
        DT_RELA => "RELA",
        DT_RELASZ => "RELASZ",
        DT_RELAENT => "RELAENT",
        DT_STRSZ => "STRSZ",
        DT_SYMENT => "SYMENT",
        DT_INIT => "INIT",
        DT_FINI => "FINI",
        DT_SONAME => "SONAME",
        DT_RUNPATH => "RUNPATH",
        DT_DEBUG => "DEBUG",
        DT_PLTREL => "PLTREL",
        DT_JMPREL => "JMPREL",
        DT_INIT_ARRAY => "INIT_ARRAY",
        DT_FINI_ARRAY => "FINI_ARRAY",
        DT_INIT_ARRAYSZ => "INIT_ARRAYSZ",
        DT_FINI_ARRAYSZ => "FINI_ARRAYSZ",
        DT_PREINIT_ARRAY => "PREINIT_ARRAY",
        DT_PREINIT_ARRAYSZ => "PREINIT_ARRAYSZ",
        DT_FLAGS => "FLAGS",
        DT_FLAGS_1 => "FLAGS_1",
        DT_GNU_HASH => "GNU_HASH",
        DT_VERSYM => "VERSYM",
        DT_VERNEED => "VERNEED",
        DT_VERNEEDNUM => "VERNEEDNUM",
        _ => "?",
    }
}

fn signed_hex(v: i64) -> String {
    if v < 0 {
        format!("-0x{:x}", v.unsigned_abs())
    } else {
        format!("0x{v:x}")
    }
}
