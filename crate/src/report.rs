//! Report phase: the link described as data (serialized as JSON by serde). It reads the decisions
//! the other phases made; it never re-derives them. Built only when asked for, so plain links stay
//! fast. The CLI's map file and the playground are both printed from it. Schema: docs/report.md.

use crate::arch::{self, DynKind};
use crate::diag::{name_str, Diagnostic};
use crate::dynamic::DynReloc;
use crate::input::{SymPlace, E};
use crate::layout::{Class, PieceSrc, Synthetic};
use crate::relocate::{DynEmitted, Trace, Traced, Values};
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
    /// `--gc-sections`: each input section kept, with the path that kept it, and each dropped.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gc: Option<GcInfo>,
    /// The relocations of every allocated section of the objects named on the command line, with
    /// the bytes at each site before and after the link.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub relocations: Option<RelocationsInfo>,
    /// True when the link failed after the inputs were resolved: only `output` (path, kind),
    /// `inputs`, `archives`, `diagnostics` and `notes` are filled.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub partial: bool,
}

/// What `--gc-sections` kept and dropped, input section by input section.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct GcInfo {
    pub kept: Vec<GcKept>,
    pub dropped: Vec<GcDropped>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GcKept {
    pub input: String,
    pub section: String,
    pub size: u64,
    /// From a root to this section: each step is `input:section (how it was reached)`.
    pub path: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GcDropped {
    pub input: String,
    pub section: String,
    pub size: u64,
    pub why: String,
}

/// At most this many relocation sites are listed (big links stay reasonable).
pub const RELOC_LIMIT: usize = 20_000;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RelocationsInfo {
    /// Sites listed (at most `limit`).
    pub count: usize,
    pub limit: usize,
    /// True when sites were left out because of the limit.
    pub truncated: bool,
    pub sections: Vec<RelocSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelocSection {
    pub input: String,
    pub section: String,
    /// The output section it went into, and its address and file offset there.
    pub output_section: String,
    pub address: u64,
    pub offset: u64,
    pub size: u64,
    /// True for code (`SHF_EXECINSTR`): windows are whole instructions, disassembled.
    pub code: bool,
    pub relocs: Vec<RelocSite>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelocSite {
    /// `r_offset`: where the field is in the input section.
    pub offset: u64,
    #[serde(rename = "type")]
    pub r_type: String,
    /// The symbol the relocation names (a section symbol shows as its section's name).
    pub symbol: String,
    /// What the reference points at: the function or object at that address, `.sec+0xN`
    /// (with the string, for merged strings) for section symbols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub addend: i64,
    /// psABI notation for the relocation type (`S + A - P`, ...).
    pub formula: String,
    /// The values that went into the formula: S (or L, the PLT entry, for imported functions),
    /// A (0 when the addend selected a piece of a merged section), P (the field's address).
    #[serde(rename = "S")]
    pub s: u64,
    #[serde(rename = "A")]
    pub a: i64,
    #[serde(rename = "P")]
    pub p: u64,
    /// G + GOT: the address of the GOT entry, for the GOT forms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub got_entry: Option<u64>,
    /// GOT: `_GLOBAL_OFFSET_TABLE_`, for the GOT-relative forms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub got: Option<u64>,
    /// TP (the thread pointer's link-time image address) and TLS (the TLS segment start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<u64>,
    /// The field as written, read back from the output (signed for signed fields). None when the
    /// relaxation left no field (TLS local-dynamic, `TLSDESC_CALL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
    /// File offset of the field in the output.
    pub file_offset: u64,
    /// The bytes shown: `window` starts that many bytes before the field (the instruction's start
    /// in code); `before` from the input section, `after` from the output file.
    pub window_start: u64,
    pub before: String,
    pub after: String,
    /// Where the written field is inside the window, and its width.
    pub field_offset: usize,
    pub field_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asm_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asm_after: Option<String>,
    /// Instruction bytes outside the field changed: what the linker rewrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relaxation: Option<String>,
    /// A dynamic relocation fills this site at load time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<DynSite>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DynSite {
    #[serde(rename = "type")]
    pub r_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    pub addend: i64,
    pub note: String,
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
    /// Dynamic relocations by type (`R_X86_64_RELATIVE`: 12, ...; the names are the architecture's).
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

pub(crate) fn flags_str(f: u64) -> String {
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

pub(crate) fn sh_type_str(t: u32) -> String {
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
    let kind = if v.relative_at(file, sec, in_off) {
        Some(DynKind::Relative)
    } else {
        d.relocs.iter().find(|r| r.loc == here).map(|r| r.kind)
    };
    match kind {
        Some(DynKind::Relative) => format!(
            "{}: before any initializer runs, the loader writes load base + 0x{value:x} \
             (the addend) into the slot; GNU ld and initlink also leave 0x{value:x} in the file",
            arch::dyn_name(DynKind::Relative)
        ),
        Some(k) => format!(
            "{} against a symbol: the loader writes its address",
            arch::dyn_name(k)
        ),
        None => "static: an absolute address fixed at link time (ET_EXEC is not relocated)".into(),
    }
}

fn init_entries(
    v: &Values<'_, '_>,
    elf: &[u8],
    id: crate::layout::OutId,
    called_by: &str,
    reverse: bool,
) -> Vec<InitEntry> {
    let layout = v.layout;
    let Some(si) = layout.known(id) else {
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
                    format!(
                        "{}: the loader writes load base + 0x{target_address:x} before any initializer runs",
                        arch::dyn_name(DynKind::Relative)
                    )
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
    trace: &Trace,
    opts: &crate::options::Options,
    diagnostics: &[Diagnostic],
) -> Report {
    let synth = v.synth;
    let mut r = Report {
        format: FORMAT,
        tool: format!("initlink {}", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    r.output = output_info(v, elf, opts);
    (r.inputs, r.archives) = inputs_info(v.res);
    r.segments = segments_info(v.layout);
    r.sections = sections_info(v);
    r.symbols = symbols_info(v);
    let extra = linker_made_symbols(v, &r.symbols);
    r.symbols.extend(extra);
    r.init_arrays = init_arrays_info(v, elf);
    r.stubs = synth.stubs.iter().map(|st| stub_info(v, st)).collect();
    if let Some(d) = synth.dynamic.as_deref() {
        r.dynamic = Some(dynamic_info(v, d, elf));
    }
    r.relocations = Some(relocations(v, elf, trace));
    r.gc = v.layout.gc.as_ref().map(|gc| gc_info(v.res, gc));
    r.diagnostics = diagnostics.to_vec();
    r.notes.extend(synth.notes.iter().cloned());
    for ig in &opts.ignored {
        r.notes.push(format!("option accepted and ignored: {ig}"));
    }
    r
}

fn output_info(v: &Values<'_, '_>, elf: &[u8], opts: &crate::options::Options) -> OutputInfo {
    let synth = v.synth;
    let entry_symbol = match &synth.entry {
        Entry::Symbol(_, n) => n.clone(),
        Entry::Stub(i) => format!("{} (linker-made)", synth.stubs[*i].name),
        Entry::TextStart => "(start of .text)".into(),
        Entry::None => "(none: shared object)".into(),
    };
    OutputInfo {
        path: opts.output.clone(),
        kind: format!("{:?}", opts.kind).to_lowercase(),
        entry: entry_address(v),
        entry_symbol,
        size: elf.len() as u64,
    }
}

fn segments_info(layout: &crate::layout::Layout) -> Vec<SegmentInfo> {
    let mut out = Vec::new();
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
        out.push(SegmentInfo {
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
    out
}

fn sections_info(v: &Values<'_, '_>) -> Vec<SectionInfo> {
    let res = v.res;
    let mut out = Vec::new();
    for os in v.layout.sections.iter().filter(|s| s.shndx != 0) {
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
                PieceSrc::Blob(_) => ("compressed", None, Some(format!("{} compressed", os.name))),
                PieceSrc::Data(_) => (
                    "linker",
                    None,
                    Some("linker script data (BYTE, SHORT, LONG, QUAD)".into()),
                ),
                PieceSrc::Relocs(_) => ("linker", None, Some("relocations (--emit-relocs)".into())),
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
        out.push(SectionInfo {
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
    out
}

/// The output's symbol table as the report lists it: the link's names (file-local symbols
/// only when they come from an input).
fn symbols_info(v: &Values<'_, '_>) -> Vec<SymbolInfo> {
    let (res, layout) = (v.res, v.layout);
    let syms = build_symtab(v);
    let first_global = syms.first_global;
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
    let mut out = Vec::new();
    for (i, s) in syms.iter().enumerate().skip(1) {
        let ty = s.info & 0xf;
        if i < first_global && ty == STT_FILE {
            continue;
        }
        let name = name_str(s.name);
        let defined_in = res
            .lookup(s.name)
            .and_then(|g| crate::synthesize::definition(res, crate::synthesize::SymRef::Global(g)))
            .map(|(f, _)| res.files[f.0 as usize].obj.name.clone())
            .or_else(|| {
                (res.lookup(s.name).map(|g| res.global(g).def) == Some(crate::resolve::Def::Linker))
                    .then(|| "linker".to_string())
            });
        if i < first_global && defined_in.is_none() {
            continue; // file-local symbols stay in the ELF symtab; the report lists the link's names
        }
        out.push(SymbolInfo {
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
    out
}

/// Start-up: the init and fini arrays slot by slot, and who calls what, in order.
fn init_arrays_info(v: &Values<'_, '_>, elf: &[u8]) -> InitArrays {
    let synth = v.synth;
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
    let mut arrays = InitArrays {
        preinit: init_entries(v, elf, crate::layout::OutId::PreinitArray, pre_by, false),
        init: init_entries(v, elf, crate::layout::OutId::InitArray, init_by, false),
        fini: init_entries(v, elf, crate::layout::OutId::FiniArray, fini_by, true),
        sequence: Vec::new(),
    };
    let res = v.res;
    let global_addr = |n: &[u8]| {
        res.lookup(n)
            .filter(|&g| res.global(g).def != crate::resolve::Def::Undefined)
            .map(|g| v.sym_addr(crate::synthesize::SymRef::Global(g)))
    };
    let seq = &mut arrays.sequence;
    let step = |step: &str, e: &InitEntry| SequenceStep {
        step: step.into(),
        symbol: e.symbol.clone(),
        address: Some(e.target_address),
        called_by: e.called_by.clone(),
    };
    seq.extend(arrays.preinit.iter().map(|e| step(".preinit_array", e)));
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
    seq.extend(arrays.init.iter().map(|e| step(".init_array", e)));
    // A shared object's initializers run when it is loaded; its `main`, if any, is nobody's.
    if !shared {
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
    }
    let mut fini: Vec<&InitEntry> = arrays.fini.iter().collect();
    fini.sort_by_key(|e| e.run_order);
    seq.extend(fini.into_iter().map(|e| step(".fini_array", e)));
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
    arrays
}

/// A linker-made stub, annotated line by line.
fn stub_info(v: &Values<'_, '_>, st: &crate::synthesize::Stub) -> StubInfo {
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
                    crate::synthesize::StubTarget::Piece(_) => "initlink.module_data".to_string(),
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
    StubInfo {
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
    }
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
    if let Some(gc) = &r.gc {
        // GNU ld's map lists what --gc-sections removed under this title.
        let _ = writeln!(s, "\nDiscarded input sections\n");
        for d in &gc.dropped {
            let _ = writeln!(s, " {:<19} 0x{:8x} {}", d.section, d.size, d.input);
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
    if let Some(i) = v.layout.known(crate::layout::OutId::Dynamic) {
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
    if d.relative_count > 0 {
        counts.push((arch::dyn_name(DynKind::Relative).into(), d.relative_count));
    }
    for r in &d.relocs {
        let n = arch::dyn_name(r.kind).to_string();
        match counts.iter_mut().find(|(k, _)| *k == n) {
            Some(c) => c.1 += 1,
            None => counts.push((n, 1)),
        }
    }
    let jump = d.plt.len();
    if jump > 0 {
        counts.push((arch::dyn_name(DynKind::PltSlot).into(), jump));
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
        DT_RPATH => "RPATH",
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
        DT_VERDEF => "VERDEF",
        DT_VERDEFNUM => "VERDEFNUM",
        DT_AUDIT => "AUDIT",
        DT_DEPAUDIT => "DEPAUDIT",
        DT_TEXTREL => "TEXTREL",
        DT_BIND_NOW => "BIND_NOW",
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

/// The report of a link that failed after its inputs were resolved: what was loaded and why, and
/// the diagnostics.
pub fn partial(
    res: &crate::resolve::Resolved<'_>,
    opts: &crate::options::Options,
    diagnostics: &[Diagnostic],
) -> Report {
    let (inputs, archives) = inputs_info(res);
    let mut r = Report {
        format: FORMAT,
        tool: format!("initlink {}", env!("CARGO_PKG_VERSION")),
        output: OutputInfo {
            path: opts.output.clone(),
            kind: format!("{:?}", opts.kind).to_lowercase(),
            entry: 0,
            entry_symbol: "(none: the link failed)".into(),
            size: 0,
        },
        inputs,
        archives,
        diagnostics: diagnostics.to_vec(),
        partial: true,
        ..Default::default()
    };
    r.notes.push(
        "the link failed: this partial report lists the inputs and the diagnostics; \
         no output file was written"
            .into(),
    );
    for ig in &opts.ignored {
        r.notes.push(format!("option accepted and ignored: {ig}"));
    }
    r
}

fn inputs_info(res: &crate::resolve::Resolved<'_>) -> (Vec<InputInfo>, Vec<ArchiveInfo>) {
    let mut inputs = Vec::with_capacity(res.files.len());
    for (i, f) in res.files.iter().enumerate() {
        let (archive, member, why, loaded_for, referenced_by) = match &f.origin {
            Origin::CommandLine => (
                None,
                None,
                "named on the command line".to_string(),
                None,
                None,
            ),
            Origin::WholeArchive { archive, member } => (
                Some(archive.clone()),
                Some(member.clone()),
                "in an archive given under --whole-archive".to_string(),
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
        inputs.push(InputInfo {
            index: i,
            name: f.obj.name.clone(),
            archive,
            member,
            why,
            loaded_for,
            referenced_by,
        });
    }
    let archives = res
        .archives
        .iter()
        .map(|(n, s, l)| ArchiveInfo {
            name: n.clone(),
            index_symbols: *s,
            members_loaded: *l,
        })
        .collect();
    (inputs, archives)
}

/// Linker-defined symbols the link used that the output's `.symtab` walk did not list: the
/// array bounds the synthesized `_start` reads, and `_start` itself when the linker made it.
fn linker_made_symbols(v: &Values<'_, '_>, listed: &[SymbolInfo]) -> Vec<SymbolInfo> {
    let layout = v.layout;
    let synth = v.synth;
    let mut out: Vec<SymbolInfo> = Vec::new();
    let known = |out: &Vec<SymbolInfo>, n: &str| {
        listed.iter().any(|s| s.name == n) || out.iter().any(|s| s.name == n)
    };
    let section_of = |name: &str, value: u64| -> String {
        let array = name
            .trim_end_matches("_start")
            .trim_end_matches("_end")
            .trim_start_matches("__");
        let sec = format!(".{array}");
        if layout.section_by_name(&sec).is_some() {
            return sec;
        }
        layout
            .sections
            .iter()
            .filter(|s| s.shndx != 0 && s.class != Class::NonAlloc)
            .find(|s| value >= s.addr && value <= s.addr + s.size)
            .map_or_else(|| "ABS".into(), |s| s.name.clone())
    };
    if let Some(i) = synth.start_stub {
        let st = &synth.stubs[i];
        let name = st.name.clone();
        if !known(&out, &name) {
            out.push(SymbolInfo {
                name,
                value: v.stub_addr(st),
                size: st.size(),
                sym_type: "FUNC".into(),
                binding: "LOCAL".into(),
                section: match st.home {
                    crate::synthesize::StubHome::Text => ".text".into(),
                    crate::synthesize::StubHome::Plt => ".plt".into(),
                },
                defined_in: Some("linker".into()),
            });
        }
    }
    // The values the stubs were patched with are the symbols' values.
    for st in &synth.stubs {
        let (_, applied) = v.stub_bytes(st);
        for (insn, ap) in st.insns.iter().zip(&applied) {
            let (Some(rl), Some(a)) = (&insn.reloc, ap) else {
                continue;
            };
            let crate::synthesize::StubTarget::Linker(n) = rl.target else {
                continue;
            };
            if known(&out, n) {
                continue;
            }
            out.push(SymbolInfo {
                name: n.to_string(),
                value: a.s,
                size: 0,
                sym_type: "NOTYPE".into(),
                // GNU ld's script defines them with PROVIDE_HIDDEN: local in the output.
                binding: "LOCAL".into(),
                section: section_of(n, a.s),
                defined_in: Some("linker".into()),
            });
        }
    }
    out
}

/// Field width and signedness for reading a written value back (`t`: the field's encoding).
fn read_field(elf: &[u8], at: u64, t: u32) -> Option<(i64, usize)> {
    let w = arch::field_size(t)? as usize;
    if w == 0 {
        return None;
    }
    let at = usize::try_from(at).ok()?;
    let b = elf.get(at..at.checked_add(w)?)?;
    let mut raw = [0u8; 8];
    raw[..w].copy_from_slice(b);
    let u = u64::from_le_bytes(raw);
    let signed = !matches!(
        arch::fit(t),
        arch::Fit::Unsigned32 | arch::Fit::Either16 | arch::Fit::Either8
    );
    let v = match (w, signed) {
        (8, _) => u as i64,
        (4, true) => i64::from(u as u32 as i32),
        (4, false) => i64::from(u as u32),
        (2, true) => i64::from(u as u16 as i16),
        (2, false) => i64::from(u as u16),
        (1, true) => i64::from(u as u8 as i8),
        _ => i64::from(u as u8),
    };
    Some((v, w))
}

/// The dynamic relocations the synthesize phase listed at input sites, by (file, section,
/// offset): a traced symbolic site's entry is there.
type SymbolicAt<'v> = rustc_hash::FxHashMap<(u32, u32, u64), &'v DynReloc>;

/// Named symbols of an object by (section, value), to name section-symbol targets: functions
/// first, then objects, then untyped labels.
type Names = rustc_hash::FxHashMap<(u32, u64), (u8, String)>;

fn symbol_names(obj: &crate::input::Object<'_>) -> Names {
    let mut names = Names::default();
    for (i, s) in obj.symbols.iter().enumerate() {
        let rank = match s.st_type() {
            STT_FUNC | STT_GNU_IFUNC => 0,
            STT_OBJECT | STT_TLS => 1,
            STT_NOTYPE => 2,
            _ => continue,
        };
        let Ok(SymPlace::Section(sec)) = obj.sym_place(i) else {
            continue;
        };
        let Ok(n) = obj.sym_name(i) else { continue };
        if n.is_empty() || n.starts_with(b".L") {
            continue;
        }
        let key = (sec, s.st_value.get(E));
        if names.get(&key).is_none_or(|(r, _)| rank < *r) {
            names.insert(key, (rank, name_str(n)));
        }
    }
    names
}

/// Relocation sites of the allocated sections of the objects named on the command line: what
/// the relocate phase did at each (its trace), with the bytes around it.
pub fn relocations(v: &Values<'_, '_>, elf: &[u8], trace: &Trace) -> RelocationsInfo {
    let mut info = RelocationsInfo {
        limit: RELOC_LIMIT,
        ..Default::default()
    };
    let mut symbolic = SymbolicAt::default();
    for r in v.synth.dynamic.iter().flat_map(|d| d.relocs.iter()) {
        if let crate::dynamic::DynLoc::Input { file, sec, off } = r.loc {
            symbolic.insert((file.0, sec, off), r);
        }
    }
    for (fi, f) in v.res.files.iter().enumerate() {
        if f.origin != Origin::CommandLine {
            continue;
        }
        let file = FileId(fi as u32);
        let names = symbol_names(&f.obj);
        for si in 0..f.obj.sections.len() as u32 {
            let sites = trace.section(file, si);
            if sites.is_empty() {
                continue;
            }
            let Some(view) = SectionView::new(v, elf, trace, file, si, &names, &symbolic) else {
                continue;
            };
            let mut rs = view.header();
            for t in sites {
                if info.count >= RELOC_LIMIT {
                    info.truncated = true;
                    if !rs.relocs.is_empty() {
                        info.sections.push(rs);
                    }
                    return info;
                }
                if let Some(site) = view.site(t) {
                    rs.relocs.push(site);
                    info.count += 1;
                }
            }
            if !rs.relocs.is_empty() {
                info.sections.push(rs);
            }
        }
    }
    info
}

/// One input section with traced sites, as the report shows it.
struct SectionView<'v> {
    v: &'v Values<'v, 'v>,
    elf: &'v [u8],
    trace: &'v Trace,
    file: FileId,
    si: u32,
    obj: &'v crate::input::Object<'v>,
    sec: &'v crate::input::Section<'v>,
    os: &'v crate::layout::OutSec,
    /// Where the section starts in its output section.
    base: u64,
    code: bool,
    /// Instruction starts, to show whole instructions in code.
    starts: Vec<u64>,
    names: &'v Names,
    symbolic: &'v SymbolicAt<'v>,
}

impl<'v> SectionView<'v> {
    fn new(
        v: &'v Values<'v, 'v>,
        elf: &'v [u8],
        trace: &'v Trace,
        file: FileId,
        si: u32,
        names: &'v Names,
        symbolic: &'v SymbolicAt<'v>,
    ) -> Option<Self> {
        let obj = &v.res.files[file.0 as usize].obj;
        let sec = obj.sections.get(si as usize)?;
        let (out, base) = v.layout.input_out(file, si)?;
        let os = &v.layout.sections[out as usize];
        if os.is_nobits() {
            return None;
        }
        let code = sec.flags & u64::from(SHF_EXECINSTR) != 0;
        let split = matches!(
            v.layout.places[file.0 as usize].get(si as usize),
            Some(crate::layout::Place::Split { .. })
        );
        let mut starts: Vec<u64> = Vec::new();
        if code && !split {
            use iced_x86::{Decoder, DecoderOptions};
            let mut d = Decoder::with_ip(64, sec.data, 0, DecoderOptions::NONE);
            while d.can_decode() {
                starts.push(d.ip());
                let _ = d.decode();
            }
        }
        Some(SectionView {
            v,
            elf,
            trace,
            file,
            si,
            obj,
            sec,
            os,
            base,
            code,
            starts,
            names,
            symbolic,
        })
    }

    fn header(&self) -> RelocSection {
        RelocSection {
            input: self.obj.name.clone(),
            section: self.sec.name_str(),
            output_section: self.os.name.clone(),
            address: self.os.addr + self.base,
            offset: self.os.offset + self.base,
            size: self.sec.size,
            code: self.code,
            relocs: Vec::new(),
        }
    }

    fn addr_of(&self, off: u64) -> Option<u64> {
        self.v.layout.input_addr(self.file, self.si, off)
    }

    fn file_off(&self, addr: u64) -> u64 {
        self.os.offset.wrapping_add(addr.wrapping_sub(self.os.addr))
    }

    /// The bytes shown around a field of `width` at `in_off`: the instruction(s) holding it in
    /// code (a whole TLS call sequence), else the field.
    fn window(&self, in_off: u64, width: u64, kind: arch::RelKind) -> (u64, u64) {
        let (mut w0, mut w1) = (in_off, in_off + width.max(1));
        let starts = &self.starts;
        if starts.is_empty() {
            return (w0, w1);
        }
        let size = self.sec.size;
        let k = starts.partition_point(|&s| s <= in_off).saturating_sub(1);
        w0 = starts[k];
        let j = starts.partition_point(|&s| s < w1);
        w1 = starts.get(j).copied().unwrap_or(size);
        if let Some((back, on)) = arch::tls_sequence(kind, self.sec.data, in_off as usize) {
            let e = in_off + on;
            let j = starts.partition_point(|&s| s < e.min(size));
            w1 = starts.get(j).copied().unwrap_or(size).max(w1);
            w0 = w0.min(in_off.saturating_sub(back));
        }
        (w0, w1.min(size))
    }

    /// What a section-symbol reference points at: the named function or object there, else
    /// `.sec+0xN` (with the string, in a string section).
    fn target_name(&self, sym: usize, t: &Traced) -> Option<String> {
        let st = &self.obj.symbols[sym];
        if st.st_type() != STT_SECTION {
            return None;
        }
        let Ok(SymPlace::Section(ts)) = self.obj.sym_place(sym) else {
            return None;
        };
        let addend = self.sec.relocs[t.index as usize].r_addend.get(E);
        let base_off = st.st_value.get(E).wrapping_add(addend as u64);
        // rip-relative fields count from the instruction's end.
        let to = if t.kind.is_pc_relative() && !self.starts.is_empty() {
            let k = self.starts.partition_point(|&x| x <= t.r_offset);
            let end = self.starts.get(k).copied().unwrap_or(self.sec.size);
            base_off.wrapping_add(end - t.r_offset)
        } else {
            base_off
        };
        if let Some((_, n)) = self.names.get(&(ts, to)) {
            return Some(n.clone());
        }
        let mut n = format!("{}+0x{to:x}", self.obj.section_name(ts));
        let strings = self.obj.sections.get(ts as usize);
        if let Some(ts) = strings.filter(|x| x.flags & u64::from(SHF_STRINGS) != 0) {
            if let Some(tail) = ts.data.get(to as usize..) {
                let end = tail.iter().position(|&c| c == 0).unwrap_or(tail.len());
                let text = String::from_utf8_lossy(&tail[..end.min(40)]);
                let more = if end > 40 { "…" } else { "" };
                let _ = write!(n, " {:?}{more}", text.as_ref());
            }
        }
        Some(n)
    }

    /// The dynamic relocation the site was given.
    fn dynamic(&self, t: &Traced) -> Option<DynSite> {
        let (kind, symbol, addend) = match t.dynamic {
            DynEmitted::None => return None,
            DynEmitted::Relative { addend } => (DynKind::Relative, None, addend as i64),
            DynEmitted::Symbolic => {
                let d = self.symbolic.get(&(self.file.0, self.si, t.r_offset))?;
                let name = d.sym.map(|g| name_str(self.v.res.global(g).name));
                (d.kind, name, d.addend)
            }
        };
        let note = match t.dynamic {
            DynEmitted::Relative { .. } => format!(
                "the loader writes load base + 0x{addend:x} here before any code runs \
                 (the addend: the link-time address)"
            ),
            _ => format!(
                "the loader looks up {} and writes its address{} here",
                symbol.as_deref().unwrap_or("the symbol"),
                if addend != 0 {
                    format!(" + {addend}")
                } else {
                    String::new()
                }
            ),
        };
        Some(DynSite {
            r_type: arch::dyn_name(kind).into(),
            symbol,
            addend,
            note,
        })
    }

    /// One traced site; None when its bytes cannot be shown (a window across dropped
    /// `.eh_frame` records).
    fn site(&self, t: &Traced) -> Option<RelocSite> {
        let r = &self.sec.relocs[t.index as usize];
        let in_off = t.r_offset;
        let width = arch::field_size(t.r_type)?;
        if in_off
            .checked_add(width.max(1))
            .is_none_or(|e| e > self.sec.data.len() as u64)
        {
            return None;
        }
        let (w0, w1) = self.window(in_off, width, t.kind);
        let before = self.sec.data.get(w0 as usize..w1 as usize)?;
        let (a0, a1) = (self.addr_of(w0)?, self.addr_of(w1 - 1)?);
        // The window where the site is now: a folded `.ctors` word moved, P with it.
        let start = t.p.wrapping_sub(in_off - w0);
        let after = if a1 + 1 == a0 + (w1 - w0) {
            let f0 = self.file_off(start) as usize;
            self.elf.get(f0..f0 + before.len()).unwrap_or(&[])
        } else {
            &[]
        };
        if after.len() != before.len() {
            return None;
        }
        // The field where the relocate phase left it, read back from the output.
        let at_site = ((in_off - w0) as usize, 0, self.file_off(t.p));
        let read = t.field.and_then(|f| {
            let fo = self.file_off(f.addr);
            let (val, w) = read_field(self.elf, fo, f.encoding)?;
            let at_in = in_off.wrapping_add(f.addr.wrapping_sub(t.p));
            Some((val, ((at_in - w0) as usize, w, fo)))
        });
        let (value, (field_offset, field_size, file_offset)) = match read {
            Some((val, at)) => (Some(val), at),
            None => (None, at_site),
        };
        let sym = r.r_sym(E, false) as usize;
        let consumed = t.relaxation == arch::Relaxation::TlsCallConsumed;
        let asm = |b: &[u8], ip: u64| self.code.then(|| disassemble_all(b, ip));
        Some(RelocSite {
            offset: in_off,
            r_type: arch::reloc_name(t.r_type).into(),
            symbol: self.obj.sym_display(sym),
            target: self.target_name(sym, t),
            addend: r.r_addend.get(E),
            formula: arch::formula(t.r_type).into(),
            s: t.s,
            a: t.a,
            p: t.p,
            got_entry: t.got_entry,
            got: t.kind.uses_got_base().then_some(self.trace.got_base),
            tp: t.kind.is_tls_offset().then_some(self.trace.tp),
            tls: t.kind.is_tls_offset().then_some(self.trace.tls_start),
            value,
            file_offset,
            window_start: w0,
            before: hex(before),
            after: hex(after),
            field_offset,
            field_size,
            asm_before: asm(before, start),
            asm_after: if consumed { None } else { asm(after, start) },
            relaxation: arch::relaxation_note(t.relaxation).map(String::from),
            dynamic: self.dynamic(t),
        })
    }
}

/// Every instruction in `bytes`, `; `-separated (Intel syntax).
fn disassemble_all(bytes: &[u8], ip: u64) -> String {
    use iced_x86::{Decoder, DecoderOptions};
    let mut d = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let mut parts = Vec::new();
    while d.can_decode() && parts.len() < 8 {
        let start = d.position();
        let insn = d.decode();
        parts.push(disassemble(&bytes[start..d.position()], insn.ip()));
    }
    parts.join("; ")
}

/// The `gc` part: every input section with contents, kept (with its path from a root) or
/// dropped, in input order.
fn gc_info(res: &crate::resolve::Resolved<'_>, gc: &crate::layout::Gc) -> GcInfo {
    let mut info = GcInfo::default();
    for (fi, file) in res.files.iter().enumerate() {
        let fid = FileId(fi as u32);
        for (si, sec) in file.obj.sections.iter().enumerate() {
            if sec.size == 0
                || file.discarded[si]
                || !crate::layout::gc::content_section(sec.sh_type)
            {
                continue;
            }
            let (input, section) = (file.obj.name.clone(), sec.name_str());
            if gc.live(fid, si as u32) {
                info.kept.push(GcKept {
                    input,
                    section,
                    size: sec.size,
                    path: gc_path(res, gc, fid, si as u32),
                });
            } else {
                info.dropped.push(GcDropped {
                    input,
                    section,
                    size: sec.size,
                    why: "unreachable: no kept section refers to it, and it is no root".into(),
                });
            }
        }
    }
    info
}

/// The chain of references that kept section `sec` of `file`, root first.
fn gc_path(
    res: &crate::resolve::Resolved<'_>,
    gc: &crate::layout::Gc,
    file: FileId,
    sec: u32,
) -> Vec<String> {
    let label = |f: FileId, s: u32| {
        let o = &res.files[f.0 as usize].obj;
        format!("{}:{}", o.name, o.section_name(s))
    };
    let mut steps = Vec::new();
    let (mut f, mut s) = (file, sec);
    // Each section was claimed after the one that reached it: the chain ends at a root. The
    // bound only guards against a broken invariant.
    for _ in 0..=res
        .files
        .iter()
        .map(|x| x.obj.sections.len())
        .sum::<usize>()
    {
        let why = gc.why(f, s);
        steps.push(format!("{} ({})", label(f, s), gc_reason(res, why)));
        match why.from() {
            Some(n) => (f, s) = gc.section_of(n),
            None => break,
        }
    }
    steps.reverse();
    steps
}

/// How a kept section was reached, in words.
fn gc_reason(res: &crate::resolve::Resolved<'_>, why: crate::layout::gc::Why) -> String {
    use crate::layout::gc::{Root, Why};
    let g = |id: crate::resolve::SymbolId| name_str(res.global(id).name);
    let sym = |r: crate::resolve::SymRef| match r {
        crate::resolve::SymRef::Global(id) => g(id),
        crate::resolve::SymRef::Local(f, i) => res.files[f.0 as usize].obj.sym_display(i as usize),
    };
    match why {
        Why::Dead => "dropped".into(),
        Why::Root(r) => match r {
            Root::Entry(id) => format!("root: the entry symbol {}", g(id)),
            Root::Undefined(id) => format!("root: -u/--require-defined {}", g(id)),
            Root::InitFini(id) => format!("root: -init/-fini function {}", g(id)),
            Root::Linker(id) => format!("root: the linker refers to {}", g(id)),
            Root::Exported(id) => format!("root: {} is exported (dynamic symbol)", g(id)),
            Root::Keep => "root: GNU ld's default script KEEPs it".into(),
            Root::Note => "root: a note".into(),
            Root::Retain => "root: SHF_GNU_RETAIN".into(),
            Root::EhFrame => "root: .eh_frame (records of dropped functions are dropped)".into(),
        },
        Why::Reloc { sym: s, .. } => format!("relocation against {}", sym(s)),
        Why::StartStop { sym: s, .. } => format!("{} refers to every section of this name", g(s)),
        Why::Group { .. } => "same COMDAT group".into(),
        Why::LinkOrder { .. } => "SHF_LINK_ORDER: follows the section it is attached to".into(),
        Why::Unwind { sym: s, .. } => {
            format!("its unwind record (LSDA or personality) names {}", sym(s))
        }
        Why::WithFile => "debug or non-allocated section of a file whose code is kept".into(),
    }
}
