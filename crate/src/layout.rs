//! Layout phase, in two steps with the synthesize phase between them.
//! `plan` decides which input sections are kept and where each goes: output sections arranged as GNU
//! ld's default x86-64 script does, `.init_array.N`/`.ctors.N` sorted by numeric priority, `.ctors`
//! folded into `.init_array` reversed, strings merged, dead `.eh_frame` FDEs dropped. `assign` gives
//! every output section an address and file offset (all sizes known by then) and builds the segments.

use crate::diag::{err, name_str, Diagnostic, Result};
use crate::input::{SymPlace, E};
use crate::options::Options;
use crate::resolve::{Def, FileId, Resolved, SymbolId};
use object::elf;
use rustc_hash::FxHashMap;
use std::borrow::Cow;

pub const BASE: u64 = 0x400000;
pub const PAGE: u64 = 0x1000;
pub const EHDR_SIZE: u64 = 64;
pub const PHDR_SIZE: u64 = 56;

/// Which segment an output section belongs to (the order is the file order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Headers,
    Exec,
    Rodata,
    Rw,
    NonAlloc,
}

/// Linker-made content, sized by the synthesize phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synthetic {
    Stubs,
    Plt,
    Got,
    GotPlt,
    RelaPlt,
    EhFrameHdr,
    BuildId,
    Interp,
    DynSym,
    DynStr,
    GnuHash,
    Hash,
    VerSym,
    VerNeed,
    /// The `R_X86_64_RELATIVE` entries at input sites, first in `.rela.dyn`, written with the
    /// sections they fix up.
    RelaDynRelative,
    RelaDyn,
    Dynamic,
    /// Data copied from a shared object by `R_X86_64_COPY` (lives in `.bss`).
    Copy,
    /// The `.init_array` slot that points at the module-registration stub (first in the array).
    InitStubSlot,
    /// The module description the registration stub passes (`struct initlink_module`).
    ModuleData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceSrc {
    Input {
        file: FileId,
        sec: u32,
    },
    /// A `.eh_frame` input with dead FDEs removed; `eh` indexes `Layout::eh`.
    EhFrame {
        file: FileId,
        sec: u32,
        eh: u32,
    },
    Merged(u32),
    Common(SymbolId),
    Synthetic(Synthetic),
}

#[derive(Debug, Clone)]
pub struct Piece {
    pub src: PieceSrc,
    pub offset: u64,
    pub size: u64,
    pub align: u64,
    /// Init-array priority used to order the piece (65535 when unsuffixed).
    pub priority: u32,
    /// A `.ctors`/`.dtors` section folded into `.init_array`/`.fini_array`: words reversed.
    pub from_ctors: bool,
}

#[derive(Debug, Clone)]
pub struct OutSec {
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub align: u64,
    pub class: Class,
    rank: u32,
    pub pieces: Vec<Piece>,
    pub size: u64,
    pub addr: u64,
    pub offset: u64,
    /// Index in the output section header table (0: not emitted, e.g. empty).
    pub shndx: u16,
}

impl OutSec {
    pub fn is_nobits(&self) -> bool {
        self.sh_type == elf::SHT_NOBITS
    }
    pub fn is_tls(&self) -> bool {
        self.flags & u64::from(elf::SHF_TLS) != 0
    }
}

/// Where an input section landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Dropped,
    At {
        out: u32,
        off: u64,
    },
    /// Piecewise (merged strings, `.eh_frame` records): offsets go through `maps[map]`; `base` is
    /// the piece's offset in the output section.
    Split {
        out: u32,
        base: u64,
        map: u32,
    },
    /// Before `assign`: merged into group `group`, offsets through `maps[map]`.
    Merged {
        out: u32,
        group: u32,
        map: u32,
    },
}

/// Input offset ranges → output offsets (relative to the piece); `u64::MAX` marks a dropped range.
#[derive(Debug, Clone, Default)]
pub struct SplitMap {
    pub starts: Vec<u64>,
    pub outs: Vec<u64>,
    pub in_size: u64,
    pub out_size: u64,
}

impl SplitMap {
    pub fn lookup(&self, off: u64) -> Option<u64> {
        let mut at = usize::MAX;
        self.lookup_from(off, &mut at)
    }

    /// [`Self::lookup`] for offsets that mostly come in increasing order (a section's
    /// relocations): `at` is the range found last, and the search walks on from it rather than
    /// bisecting again (the large link's 180,000 `.eh_frame` relocations spent a quarter of
    /// their relocating in the bisection).
    #[inline]
    pub fn lookup_from(&self, off: u64, at: &mut usize) -> Option<u64> {
        if off >= self.in_size {
            return (off == self.in_size).then_some(self.out_size);
        }
        let mut k = *at;
        if self.starts.get(k).is_some_and(|&s| s <= off) {
            while self.starts.get(k + 1).is_some_and(|&s| s <= off) {
                k += 1;
            }
        } else {
            k = self.starts.partition_point(|&s| s <= off).checked_sub(1)?;
        }
        *at = k;
        let o = *self.outs.get(k)?;
        (o != u64::MAX).then(|| o + (off - self.starts[k]))
    }
}

#[derive(Debug, Clone)]
pub struct MergeGroup {
    pub out: u32,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EhKind {
    Cie,
    Fde { cie_in: u64 },
    Terminator,
}

/// One `.eh_frame` record, in 16 bytes (the large link has 300,000): offsets within one input
/// section, which [`split_eh_frame`] limits to 4 GiB.
#[derive(Debug, Clone, Copy)]
pub struct EhRecord {
    in_off: u32,
    len: u32,
    /// An FDE's CIE (input offset), or [`EH_CIE`] or [`EH_TERMINATOR`].
    cie: u32,
    /// Output offset relative to the piece, [`EH_DROPPED`] when dropped.
    out: u32,
}

const EH_CIE: u32 = u32::MAX;
const EH_TERMINATOR: u32 = u32::MAX - 1;
const EH_DROPPED: u32 = u32::MAX;

impl EhRecord {
    fn new(in_off: u64, len: u64, kind: EhKind, out_off: Option<u64>) -> EhRecord {
        // split_eh_frame keeps every offset and length below EH_TERMINATOR.
        EhRecord {
            in_off: in_off as u32,
            len: len as u32,
            cie: match kind {
                EhKind::Cie => EH_CIE,
                EhKind::Terminator => EH_TERMINATOR,
                EhKind::Fde { cie_in } => cie_in as u32,
            },
            out: out_off.map_or(EH_DROPPED, |o| o as u32),
        }
    }

    pub fn in_off(&self) -> u64 {
        u64::from(self.in_off)
    }

    pub fn size(&self) -> u64 {
        u64::from(self.len)
    }

    pub fn kind(&self) -> EhKind {
        match self.cie {
            EH_CIE => EhKind::Cie,
            EH_TERMINATOR => EhKind::Terminator,
            c => EhKind::Fde {
                cie_in: u64::from(c),
            },
        }
    }

    /// Output offset relative to the piece, None when dropped.
    pub fn out_off(&self) -> Option<u64> {
        (self.out != EH_DROPPED).then_some(u64::from(self.out))
    }
}

#[derive(Debug, Clone)]
pub struct EhInput {
    pub file: FileId,
    pub sec: u32,
    pub records: Vec<EhRecord>,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
    /// Output section indices (into `Layout::sections`) it covers.
    pub sections: Vec<u32>,
}

pub struct Layout {
    pub sections: Vec<OutSec>,
    /// `[file][section]`.
    pub places: Vec<Vec<Place>>,
    pub maps: Vec<SplitMap>,
    pub merges: Vec<MergeGroup>,
    pub eh: Vec<EhInput>,
    pub fde_count: usize,
    /// Common symbols: (symbol, output section, offset).
    pub commons: Vec<(SymbolId, u32, u64)>,
    by_name: FxHashMap<String, u32>,
    /// While `assign` inserts the linker's sections: where each section `plan` made is now
    /// (`places`, `merges` and `commons` are renumbered once, after the last insertion).
    moved: Vec<u32>,
    /// After `assign`: each input section's address (`NOT_AT` unless it is placed whole),
    /// file `f`'s sections from `file_first[f]` on.
    input_base: Vec<u64>,
    file_first: Vec<u32>,
    pub exec_stack: bool,
    /// Load address of the first segment: 0x400000 for `ET_EXEC`, 0 for PIE and shared objects.
    pub base: u64,
    /// Dynamically linked (has `.dynamic`).
    pub dynamic: bool,
    // Filled by `assign`.
    pub segments: Vec<Segment>,
    pub tls: Option<Tls>,
    pub headers_size: u64,
    pub alloc_end: u64,
    /// File offset where non-alloc data ends (symtab and friends follow).
    pub file_end: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Tls {
    pub start: u64,
    pub memsz: u64,
    pub filesz: u64,
    pub align: u64,
}

impl Tls {
    /// x86-64 variant II: the thread pointer sits at the aligned end of the TLS block.
    pub fn tp(&self) -> u64 {
        self.start + align_up(self.memsz, self.align)
    }
}

pub fn align_up(v: u64, a: u64) -> u64 {
    if a <= 1 {
        v
    } else {
        (v + a - 1) & !(a - 1)
    }
}

/// The output section an input section goes to, by name, as GNU ld's default script maps it.
/// Returns (name, class, rank); None means "not copied".
fn map_input(
    name: &[u8],
    sh_type: u32,
    flags: u64,
    is_crt_ctors: bool,
) -> Option<(Cow<'static, str>, Class, u32)> {
    let n = name;
    let has = |p: &[u8]| n == p || (n.starts_with(p) && n.get(p.len()) == Some(&b'.'));
    let alloc = flags & u64::from(elf::SHF_ALLOC) != 0;
    let write = flags & u64::from(elf::SHF_WRITE) != 0;
    let exec = flags & u64::from(elf::SHF_EXECINSTR) != 0;
    let tls = flags & u64::from(elf::SHF_TLS) != 0;
    if n == b".note.GNU-stack"
        || n.starts_with(b".gnu.warning")
        || n == b".llvm_addrsig"
        || n.starts_with(b".gnu.lto_")
        || n == b".note.gnu.property"
        || flags & 0x8000_0000 != 0
    {
        return None;
    }
    // Borrowed names: one output name per input section, 24,000 of them for 2,000 objects.
    let s = |x: &'static str| Some(Cow::Borrowed(x));
    let own = |n: &[u8]| Some(Cow::Owned(name_str(n)));
    let (out, class, rank) = if has(b".text") || n.starts_with(b".gnu.linkonce.t.") {
        (s(".text"), Class::Exec, 30)
    } else if n == b".init" {
        (s(".init"), Class::Exec, 10)
    } else if n == b".fini" {
        (s(".fini"), Class::Exec, 40)
    } else if has(b".rodata") || n.starts_with(b".gnu.linkonce.r.") {
        (s(".rodata"), Class::Rodata, 10)
    } else if n == b".eh_frame" {
        (s(".eh_frame"), Class::Rodata, 30)
    } else if has(b".gcc_except_table") {
        (s(".gcc_except_table"), Class::Rodata, 40)
    } else if has(b".tdata") || n.starts_with(b".gnu.linkonce.td.") {
        (s(".tdata"), Class::Rw, 10)
    } else if has(b".tbss") || n.starts_with(b".gnu.linkonce.tb.") {
        (s(".tbss"), Class::Rw, 11)
    } else if n == b".preinit_array" {
        (s(".preinit_array"), Class::Rw, 20)
    } else if has(b".init_array") {
        (s(".init_array"), Class::Rw, 21)
    } else if has(b".fini_array") {
        (s(".fini_array"), Class::Rw, 22)
    } else if has(b".ctors") {
        if is_crt_ctors {
            (s(".ctors"), Class::Rw, 23)
        } else {
            (s(".init_array"), Class::Rw, 21)
        }
    } else if has(b".dtors") {
        if is_crt_ctors {
            (s(".dtors"), Class::Rw, 24)
        } else {
            (s(".fini_array"), Class::Rw, 22)
        }
    } else if has(b".data.rel.ro") {
        (s(".data.rel.ro"), Class::Rw, 30)
    } else if has(b".data") || n.starts_with(b".gnu.linkonce.d.") {
        (s(".data"), Class::Rw, 50)
    } else if has(b".bss") || n.starts_with(b".gnu.linkonce.b.") {
        (s(".bss"), Class::Rw, 60)
    } else if !alloc {
        let rank = if n == b".comment" { 10 } else { 20 };
        (own(n), Class::NonAlloc, rank)
    } else if sh_type == elf::SHT_NOTE {
        (own(n), Class::Headers, 13)
    } else if tls {
        let nobits = sh_type == elf::SHT_NOBITS;
        (
            s(if nobits { ".tbss" } else { ".tdata" }),
            Class::Rw,
            if nobits { 11 } else { 10 },
        )
    } else if exec {
        (own(n), Class::Exec, 35)
    } else if write {
        let nobits = sh_type == elf::SHT_NOBITS;
        (own(n), Class::Rw, if nobits { 65 } else { 55 })
    } else {
        (own(n), Class::Rodata, 15)
    };
    out.map(|o| (o, class, rank))
}

/// Init priority of an input section name: `.init_array.00101` and `.init_array.101` are both 101
/// (sorted as numbers, not names); `.ctors.N` means 65535 - N; no suffix is 65535.
pub fn init_priority(name: &[u8]) -> (u32, bool) {
    let (base, ctors) = if name.starts_with(b".ctors") || name.starts_with(b".dtors") {
        (6usize, true)
    } else if name.starts_with(b".init_array") || name.starts_with(b".fini_array") {
        (11, false)
    } else {
        return (65535, false);
    };
    let suffix = name
        .get(base + 1..)
        .filter(|_| name.get(base) == Some(&b'.'));
    let num = suffix
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse::<u32>().ok());
    match (num, ctors) {
        (Some(n), true) => (65535u32.saturating_sub(n), true),
        (Some(n), false) => (n, false),
        (None, c) => (65535, c),
    }
}

fn is_crt_file(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base.trim_end_matches(')');
    let base = base.rsplit('(').next().unwrap_or(base);
    base.starts_with("crtbegin") || base.starts_with("crtend")
}

/// Decide every output section and its pieces (no addresses yet).
pub fn plan(res: &mut Resolved<'_>, opts: &Options) -> Result<Layout> {
    let mut sections: Vec<OutSec> = Vec::new();
    let mut by_name: FxHashMap<String, u32> = FxHashMap::default();
    let mut places: Vec<Vec<Place>> = Vec::with_capacity(res.files.len());
    let mut merges: Vec<MergeGroup> = Vec::new();
    let mut merge_keys: FxHashMap<(u32, u64, u64, u64), u32> = FxHashMap::default();
    let mut merge_dedup: Vec<FxHashMap<&[u8], u64>> = Vec::new();
    let mut maps: Vec<SplitMap> = Vec::new();
    let mut eh: Vec<EhInput> = Vec::new();
    let mut exec_stack = false;
    let mut any_missing_note = false;
    // Merged data is bounded, like the output file (write.rs), in proportion to the input.
    let input_bytes: u64 = res.files.iter().map(|f| f.obj.data.len() as u64).sum();
    let merge_cap = input_bytes.saturating_mul(16).saturating_add(64 << 20);

    fn get_out(
        sections: &mut Vec<OutSec>,
        by_name: &mut FxHashMap<String, u32>,
        name: Cow<'_, str>,
        class: Class,
        rank: u32,
        sh_type: u32,
        flags: u64,
    ) -> u32 {
        if let Some(&i) = by_name.get(name.as_ref()) {
            let s = &mut sections[i as usize];
            // A PROGBITS input makes a NOBITS output section PROGBITS.
            if s.sh_type == elf::SHT_NOBITS && sh_type != elf::SHT_NOBITS {
                s.sh_type = elf::SHT_PROGBITS;
            }
            s.flags |= flags
                & u64::from(elf::SHF_WRITE | elf::SHF_EXECINSTR | elf::SHF_ALLOC | elf::SHF_TLS);
            return i;
        }
        let out_type = match name.as_ref() {
            ".init_array" => elf::SHT_INIT_ARRAY,
            ".fini_array" => elf::SHT_FINI_ARRAY,
            ".preinit_array" => elf::SHT_PREINIT_ARRAY,
            _ => sh_type,
        };
        let keep = u64::from(elf::SHF_WRITE | elf::SHF_EXECINSTR | elf::SHF_ALLOC | elf::SHF_TLS);
        let id = sections.len() as u32;
        let name = name.into_owned();
        sections.push(OutSec {
            name: name.clone(),
            sh_type: out_type,
            flags: flags & keep,
            align: 1,
            class,
            rank,
            pieces: Vec::new(),
            size: 0,
            addr: 0,
            offset: 0,
            shndx: 0,
        });
        by_name.insert(name, id);
        id
    }

    // The init/fini arrays always exist (possibly empty) so their start/end symbols have a home.
    let wa = u64::from(elf::SHF_WRITE | elf::SHF_ALLOC);
    for (n, t) in [
        (".preinit_array", elf::SHT_PREINIT_ARRAY),
        (".init_array", elf::SHT_INIT_ARRAY),
        (".fini_array", elf::SHT_FINI_ARRAY),
    ] {
        let rank = match n {
            ".preinit_array" => 20,
            ".init_array" => 21,
            _ => 22,
        };
        get_out(
            &mut sections,
            &mut by_name,
            n.into(),
            Class::Rw,
            rank,
            t,
            wa,
        );
    }
    let text = get_out(
        &mut sections,
        &mut by_name,
        ".text".into(),
        Class::Exec,
        30,
        elf::SHT_PROGBITS,
        u64::from(elf::SHF_ALLOC | elf::SHF_EXECINSTR),
    );
    // Linker stubs (the synthesized `_start`, module-registration stubs) open `.text`.
    sections[text as usize].pieces.push(Piece {
        src: PieceSrc::Synthetic(Synthetic::Stubs),
        offset: 0,
        size: 0,
        align: 16,
        priority: 0,
        from_ctors: false,
    });

    // `.eh_frame` inputs are split into records (dead FDEs found) per file, natively in parallel
    // and meanwhile: the in-order walk below leaves their pieces' sizes and records to fill in.
    let res_ro: &Resolved<'_> = res;
    let split_all = || -> Vec<Vec<(u32, Result<EhSplit>)>> {
        let res = res_ro;
        let one = |fi: usize| -> Vec<(u32, Result<EhSplit>)> {
            let file = &res.files[fi];
            (0..file.obj.sections.len())
                .filter(|&si| {
                    let sec = &file.obj.sections[si];
                    sec.name == b".eh_frame"
                        && sec.sh_type == elf::SHT_PROGBITS
                        && !file.discarded[si]
                })
                .map(|si| {
                    (
                        si as u32,
                        eh_split_mapped(res, FileId(fi as u32), si as u32),
                    )
                })
                .collect()
        };
        crate::par::map_range(res.files.len(), 1, one)
    };
    let mut eh_pending: Vec<EhPending> = Vec::new();
    let walk = || -> Result<()> {
        let res = res_ro;
        let mut routes: FxHashMap<(&[u8], u32, u64, bool), Option<u32>> = FxHashMap::default();
        for (fi, file) in res.files.iter().enumerate() {
            let fid = FileId(fi as u32);
            let obj = &file.obj;
            let crt = is_crt_file(&obj.name);
            let mut fplaces = vec![Place::Dropped; obj.sections.len()];
            let mut gnu_stack = None;
            for (si, sec) in obj.sections.iter().enumerate() {
                // The first `.note.GNU-stack` says whether the object wants an executable stack.
                if gnu_stack.is_none() && sec.name == b".note.GNU-stack" {
                    gnu_stack = Some(sec.flags & u64::from(elf::SHF_EXECINSTR) != 0);
                }
                if file.discarded[si] {
                    continue;
                }
                match sec.sh_type {
                    elf::SHT_NULL
                    | elf::SHT_SYMTAB
                    | elf::SHT_STRTAB
                    | elf::SHT_RELA
                    | elf::SHT_REL
                    | elf::SHT_GROUP
                    | elf::SHT_SYMTAB_SHNDX => continue,
                    _ => {}
                }
                if !sec.is_alloc()
                    && (opts.strip_all || (opts.strip_debug && sec.name.starts_with(b".debug")))
                {
                    continue;
                }
                // Routing depends on nothing else, and get_out's updates are idempotent: 24,000
                // input sections of 2,000 objects share a few dozen keys.
                let key = (sec.name, sec.sh_type, sec.flags, crt);
                let out = match routes.get(&key) {
                    Some(&out) => out,
                    None => {
                        if LINKER_MADE_SECTIONS.contains(&sec.name) {
                            return err(Diagnostic::error(format!(
                            "input section {} is one the linker makes; an object cannot provide it",
                            sec.name_str()
                        ))
                            .file(obj.name.clone())
                            .section(sec.name_str()));
                        }
                        let out = map_input(sec.name, sec.sh_type, sec.flags, crt).map(
                            |(oname, class, rank)| {
                                get_out(
                                    &mut sections,
                                    &mut by_name,
                                    oname,
                                    class,
                                    rank,
                                    sec.sh_type,
                                    sec.flags,
                                )
                            },
                        );
                        routes.insert(key, out);
                        out
                    }
                };
                let Some(out) = out else {
                    continue;
                };
                let (priority, from_ctors) = init_priority(sec.name);
                let from_ctors = from_ctors && !crt;
                let osec = &mut sections[out as usize];
                osec.align = osec.align.max(sec.align);
                let merge = sec.flags & u64::from(elf::SHF_MERGE) != 0
                    && sec.relocs.is_empty()
                    && sec.entsize > 0
                    && sec.size % sec.entsize == 0
                    && sec.sh_type == elf::SHT_PROGBITS;
                if merge {
                    let strings = sec.flags & u64::from(elf::SHF_STRINGS) != 0;
                    let key = (out, sec.entsize, sec.align, u64::from(strings));
                    let g = *merge_keys.entry(key).or_insert_with(|| {
                        merges.push(MergeGroup {
                            out,
                            data: Vec::new(),
                        });
                        merge_dedup.push(FxHashMap::default());
                        osec.pieces.push(Piece {
                            src: PieceSrc::Merged(merges.len() as u32 - 1),
                            offset: 0,
                            size: 0,
                            align: sec.align,
                            priority: 65535,
                            from_ctors: false,
                        });
                        merges.len() as u32 - 1
                    });
                    let mut map = SplitMap {
                        in_size: sec.size,
                        ..Default::default()
                    };
                    let group = &mut merges[g as usize];
                    let dedup = &mut merge_dedup[g as usize];
                    let mut off = 0usize;
                    let data = sec.data;
                    while off < data.len() {
                        let end = if strings && sec.entsize == 1 {
                            memchr::memchr(0, &data[off..]).map_or(data.len(), |p| off + p + 1)
                        } else if strings {
                            let es = sec.entsize as usize;
                            let mut e = off;
                            // Strings end at an all-zero element of entsize bytes.
                            loop {
                                if e + es > data.len() {
                                    e = data.len();
                                    break;
                                }
                                if data[e..e + es].iter().all(|&b| b == 0) {
                                    e += es;
                                    break;
                                }
                                e += es;
                            }
                            e
                        } else {
                            off + sec.entsize as usize
                        };
                        let item = &data[off..end];
                        let o = match dedup.get(item) {
                            Some(&o) => o,
                            None => {
                                let pad = align_up(group.data.len() as u64, sec.align) as usize
                                    - group.data.len();
                                // Each entry is padded to the section's alignment: a huge alignment
                                // on many small entries asks for gigabytes. Bounded like the output.
                                let need = (group.data.len() + pad + item.len()) as u64;
                                if need > merge_cap {
                                    return Err(Diagnostic::error(format!(
                                    "mergeable section with alignment {} and {}-byte entries would make {need} bytes of merged data from {input_bytes} bytes of input: refusing",
                                    sec.align, sec.entsize
                                ))
                                .file(res.files[fi].obj.name.clone())
                                .section(sec.name_str())
                                .offset(off as u64)
                                .into());
                                }
                                group.data.extend(std::iter::repeat_n(0, pad));
                                let o = group.data.len() as u64;
                                group.data.extend_from_slice(item);
                                dedup.insert(item, o);
                                o
                            }
                        };
                        map.starts.push(off as u64);
                        map.outs.push(o);
                        off = end;
                    }
                    maps.push(map);
                    fplaces[si] = Place::Merged {
                        out,
                        group: g,
                        map: maps.len() as u32 - 1,
                    };
                    continue;
                }
                if sec.name == b".eh_frame" && sec.sh_type == elf::SHT_PROGBITS {
                    // Records, map and size come from the split, once it is done.
                    maps.push(SplitMap::default());
                    eh.push(EhInput {
                        file: fid,
                        sec: si as u32,
                        records: Vec::new(),
                    });
                    let piece_off = osec.pieces.len() as u64;
                    eh_pending.push(EhPending {
                        file: fi,
                        sec: si as u32,
                        out,
                        piece: osec.pieces.len(),
                        map: maps.len() - 1,
                    });
                    osec.pieces.push(Piece {
                        src: PieceSrc::EhFrame {
                            file: fid,
                            sec: si as u32,
                            eh: eh.len() as u32 - 1,
                        },
                        offset: 0,
                        size: 0,
                        // Records need 4-byte alignment only; padding to 8 would put a zero word
                        // (an end marker to the unwinder's linear walk) between two inputs.
                        align: sec.align.min(4),
                        priority: 65535,
                        from_ctors: false,
                    });
                    // `base` temporarily holds the piece index; fixed after offsets are known.
                    fplaces[si] = Place::Split {
                        out,
                        base: piece_off,
                        map: maps.len() as u32 - 1,
                    };
                    continue;
                }
                if from_ctors && (sec.size % 8 != 0) {
                    return err(Diagnostic::error(
                        "a .ctors/.dtors section's size is not a multiple of 8",
                    )
                    .file(obj.name.clone())
                    .section(sec.name_str()));
                }
                fplaces[si] = Place::At {
                    out,
                    off: osec.pieces.len() as u64,
                };
                osec.pieces.push(Piece {
                    src: PieceSrc::Input {
                        file: fid,
                        sec: si as u32,
                    },
                    offset: 0,
                    size: sec.size,
                    align: sec.align,
                    priority,
                    from_ctors,
                });
            }
            match gnu_stack {
                Some(true) => exec_stack = true,
                Some(false) => {}
                None => any_missing_note = true,
            }
            places.push(fplaces);
        }
        Ok(())
    };
    let (mut eh_split, walked) = crate::par::join(split_all, walk);
    // Errors in input order, as one walk would have met them: a split's error comes before
    // whatever stopped the walk after it.
    let mut splits = Vec::with_capacity(eh_pending.len());
    for p in &eh_pending {
        let split = &mut eh_split[p.file];
        splits.push(match split.iter().position(|x| x.0 == p.sec) {
            Some(k) => split.swap_remove(k).1?,
            None => eh_split_mapped(res, FileId(p.file as u32), p.sec)?,
        });
    }
    walked?;
    // The walk pushed one `eh` entry per pending split, in the same order.
    for ((p, (records, map)), e) in eh_pending.iter().zip(splits).zip(eh.iter_mut()) {
        sections[p.out as usize].pieces[p.piece].size = map.out_size;
        maps[p.map] = map;
        e.records = records;
    }
    // `-z execstack`/`-z noexecstack` wins; otherwise GNU ld's rule: executable if any input asks,
    // or (historically) if an input has no note at all.
    let exec_stack = opts.execstack.unwrap_or(exec_stack || any_missing_note);
    let dynamic = matches!(
        opts.kind,
        crate::options::OutputKind::Pie | crate::options::OutputKind::Shared
    ) || res.dsos.iter().any(|d| d.needed);

    // Common symbols go at the end of `.bss`, in symbol order (deterministic).
    let mut commons = Vec::new();
    let bss_needed = res
        .globals
        .iter()
        .any(|g| matches!(g.def, Def::Common { .. }));
    if bss_needed {
        let bss = get_out(
            &mut sections,
            &mut by_name,
            ".bss".into(),
            Class::Rw,
            60,
            elf::SHT_NOBITS,
            wa,
        );
        for (i, g) in res.globals.iter().enumerate() {
            if let Def::Common { .. } = g.def {
                let (size, align) = res.common(SymbolId(i as u32));
                let s = &mut sections[bss as usize];
                s.align = s.align.max(align);
                commons.push((SymbolId(i as u32), bss, s.pieces.len() as u64));
                s.pieces.push(Piece {
                    src: PieceSrc::Common(SymbolId(i as u32)),
                    offset: 0,
                    size,
                    align,
                    priority: 65535,
                    from_ctors: false,
                });
            }
        }
    }

    // `--init-stub`: a slot first in `.init_array` (priority 0 sorts before every input) and,
    // unless DATA names a definition, the module description in `.data`.
    if let Some(d) = init_stub_decision(res, opts) {
        let init = by_name[".init_array"] as usize;
        sections[init].align = sections[init].align.max(8);
        sections[init].pieces.push(Piece {
            src: PieceSrc::Synthetic(Synthetic::InitStubSlot),
            offset: 0,
            size: 8,
            align: 8,
            priority: 0,
            from_ctors: false,
        });
        if d.data.is_none() {
            let data = get_out(
                &mut sections,
                &mut by_name,
                ".data".into(),
                Class::Rw,
                50,
                elf::SHT_PROGBITS,
                wa,
            );
            let s = &mut sections[data as usize];
            s.align = s.align.max(8);
            s.pieces.push(Piece {
                src: PieceSrc::Synthetic(Synthetic::ModuleData),
                offset: 0,
                size: MODULE_DATA_SIZE + opts.output.len() as u64 + 1,
                align: 8,
                priority: 65535,
                from_ctors: false,
            });
        }
    }

    // Sort init/fini array pieces by priority (stable: ties keep input order). Pieces are then
    // re-indexed, so fix the piece indices stored in `places`.
    for name in [".init_array", ".fini_array", ".preinit_array"] {
        let id = by_name[name] as usize;
        let pieces = &mut sections[id].pieces;
        let mut order: Vec<usize> = (0..pieces.len()).collect();
        order.sort_by_key(|&i| pieces[i].priority);
        let mut new_index = vec![0usize; pieces.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let sorted: Vec<Piece> = order.iter().map(|&i| pieces[i].clone()).collect();
        *pieces = sorted;
        // Only the pieces' own places point here: reach them through the pieces (visiting
        // every place of 2,000 objects, three times, was a tenth of the plan).
        for p in pieces.iter() {
            if let PieceSrc::Input { file, sec } = p.src {
                let place = places
                    .get_mut(file.0 as usize)
                    .and_then(|fp| fp.get_mut(sec as usize));
                if let Some(Place::At { out, off }) = place {
                    if *out as usize == id {
                        *off = new_index.get(*off as usize).copied().unwrap_or(0) as u64;
                    }
                }
            }
        }
    }

    // Merged sizes are known now.
    for s in sections.iter_mut() {
        for p in s.pieces.iter_mut() {
            if let PieceSrc::Merged(g) = p.src {
                p.size = merges[g as usize].data.len() as u64;
            }
        }
    }

    // Linker-provided symbols that inputs reference but do not define (natively in parallel:
    // every global is visited).
    let provide = |g: &mut crate::resolve::Global<'_>| {
        if g.def == Def::Undefined && is_linker_symbol(g.name, &by_name, dynamic) {
            g.def = Def::Linker;
        }
    };
    crate::par::for_each_mut(&mut res.globals, 8192, provide);

    let kept_fdes = |e: &EhInput| {
        e.records
            .iter()
            .filter(|r| matches!(r.kind(), EhKind::Fde { .. }) && r.out_off().is_some())
            .count()
    };
    // Natively in parallel: 181,000 records on the large link.
    let fde_count = crate::par::sum(&eh, kept_fdes);
    // Sort sections by (class, rank), stable in first-appearance order.
    let mut order: Vec<usize> = (0..sections.len()).collect();
    order.sort_by_key(|&i| (sections[i].class, sections[i].rank));
    let mut remap = vec![0u32; sections.len()];
    for (new, &old) in order.iter().enumerate() {
        remap[old] = new as u32;
    }
    // Moved, not cloned: cloning copied every piece list (24,000 pieces for 2,000 objects).
    let mut slots: Vec<Option<OutSec>> = sections.into_iter().map(Some).collect();
    let mut sorted: Vec<OutSec> = order.iter().filter_map(|&i| slots[i].take()).collect();
    let renumber = |fp: &mut Vec<Place>| {
        for p in fp.iter_mut() {
            match p {
                Place::At { out, .. } | Place::Split { out, .. } | Place::Merged { out, .. } => {
                    *out = remap[*out as usize]
                }
                Place::Dropped => {}
            }
        }
    };
    crate::par::for_each_mut(&mut places, 64, renumber);
    for m in merges.iter_mut() {
        m.out = remap[m.out as usize];
    }
    for c in commons.iter_mut() {
        c.1 = remap[c.1 as usize];
    }
    let by_name = sorted
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i as u32))
        .collect();
    for s in sorted.iter_mut() {
        s.align = s.align.max(1);
    }
    Ok(Layout {
        sections: sorted,
        places,
        maps,
        merges,
        eh,
        fde_count,
        commons,
        by_name,
        moved: Vec::new(),
        input_base: Vec::new(),
        file_first: Vec::new(),
        exec_stack,
        base: BASE,
        dynamic,
        segments: Vec::new(),
        tls: None,
        headers_size: 0,
        alloc_end: 0,
        file_end: 0,
    })
}

/// Sections only the linker makes (dynamic linking tables, PLT/GOT, headers' notes).
const LINKER_MADE_SECTIONS: &[&[u8]] = &[
    b".dynamic",
    b".dynsym",
    b".dynstr",
    b".interp",
    b".gnu.hash",
    b".hash",
    b".gnu.version",
    b".gnu.version_r",
    b".gnu.version_d",
    b".rela.dyn",
    b".rela.plt",
    b".got.plt",
    b".plt",
    b".got",
    b".eh_frame_hdr",
    b".note.gnu.build-id",
];

/// Size of `struct initlink_module` (version 1; see docs/module-registration.md). The module's
/// name string follows it.
pub const MODULE_DATA_SIZE: u64 = 88;
pub const MODULE_DATA_VERSION: u32 = 1;

/// What `--init-stub` makes in this link.
pub struct InitStubDecision {
    pub register: SymbolId,
    /// The DATA symbol when the link defines it; None: the synthesized module description.
    pub data: Option<SymbolId>,
}

/// `--init-stub=REGISTER[,DATA]`: None when not asked for, or when REGISTER is defined by this
/// link (this module is the runtime, as in Go: no stub).
pub fn init_stub_decision(res: &Resolved<'_>, opts: &Options) -> Option<InitStubDecision> {
    let st = opts.init_stub.as_ref()?;
    let register = res.lookup(st.register.as_bytes())?;
    if matches!(
        res.global(register).def,
        Def::Defined { .. } | Def::Common { .. }
    ) {
        return None;
    }
    let data = st
        .data
        .as_ref()
        .and_then(|d| res.lookup(d.as_bytes()))
        .filter(|&g| matches!(res.global(g).def, Def::Defined { .. } | Def::Common { .. }));
    Some(InitStubDecision { register, data })
}

const LINKER_SYMBOLS: &[&str] = &[
    "__preinit_array_start",
    "__preinit_array_end",
    "__init_array_start",
    "__init_array_end",
    "__fini_array_start",
    "__fini_array_end",
    "__ehdr_start",
    "__executable_start",
    "_etext",
    "etext",
    "__etext",
    "_edata",
    "edata",
    "_end",
    "end",
    "__bss_start",
    "_GLOBAL_OFFSET_TABLE_",
    "__rela_iplt_start",
    "__rela_iplt_end",
    "__dso_handle",
    "__GNU_EH_FRAME_HDR",
    "_TLS_MODULE_BASE_",
];

fn is_c_ident(s: &[u8]) -> bool {
    !s.is_empty()
        && !s[0].is_ascii_digit()
        && s.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

fn is_linker_symbol(name: &[u8], by_name: &FxHashMap<String, u32>, dynamic: bool) -> bool {
    if name == b"_DYNAMIC" {
        return dynamic;
    }
    if LINKER_SYMBOLS.iter().any(|s| s.as_bytes() == name) {
        return true;
    }
    for p in [&b"__start_"[..], b"__stop_"] {
        if let Some(sec) = name.strip_prefix(p) {
            return is_c_ident(sec) && by_name.contains_key(&name_str(sec));
        }
    }
    false
}

/// An `.eh_frame` input's records and its input → output offset map (`out_size`: the bytes kept).
type EhSplit = (Vec<EhRecord>, SplitMap);

/// [`Layout::input_base`] of a section that is not placed whole (dropped, merged or split).
const NOT_AT: u64 = u64::MAX;

/// An `.eh_frame` input the plan's walk placed before its split was done.
struct EhPending {
    file: usize,
    sec: u32,
    out: u32,
    /// Its piece in output section `out`, and its map in `maps`.
    piece: usize,
    map: usize,
}

/// [`split_eh_frame`] with the offset map, built where the split runs (in parallel natively)
/// rather than in the plan's in-order walk (181,000 records on the large link).
fn eh_split_mapped(res: &Resolved<'_>, fid: FileId, si: u32) -> Result<EhSplit> {
    let (records, kept) = split_eh_frame(res, fid, si)?;
    let map = SplitMap {
        starts: records.iter().map(EhRecord::in_off).collect(),
        outs: (records.iter())
            .map(|r| r.out_off().unwrap_or(u64::MAX))
            .collect(),
        in_size: res.files[fid.0 as usize].obj.sections[si as usize].size,
        out_size: kept,
    };
    Ok((records, map))
}

/// Split one input `.eh_frame` into CIE/FDE records, dropping FDEs whose function was discarded.
fn split_eh_frame(res: &Resolved<'_>, fid: FileId, si: u32) -> Result<(Vec<EhRecord>, u64)> {
    let file = &res.files[fid.0 as usize];
    let obj = &file.obj;
    let sec = &obj.sections[si as usize];
    let data = sec.data;
    let bad = |off: u64, msg: &str| {
        Diagnostic::error(msg.to_string())
            .file(obj.name.clone())
            .section(".eh_frame")
            .offset(off)
    };
    if data.len() >= EH_TERMINATOR as usize {
        return err(bad(0, "section of 4 GiB or more"));
    }
    // Room for records of 16 bytes (the large link's average is 19): no regrowth, no copies.
    let mut records = Vec::with_capacity(data.len() / 16 + 1);
    let mut off = 0u64;
    let mut out = 0u64;
    let mut ri = 0usize; // walks relocations, which gcc and as emit sorted by offset
    while (off as usize) < data.len() {
        let o = off as usize;
        let Some(len) = data
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return err(bad(off, "truncated record length"));
        };
        if len == 0xffff_ffff {
            return err(bad(off, "64-bit DWARF .eh_frame records are not supported"));
        }
        if len == 0 {
            records.push(EhRecord::new(off, 4, EhKind::Terminator, Some(out)));
            out += 4;
            off += 4;
            continue;
        }
        let total = 4 + u64::from(len);
        if off + total > data.len() as u64 || len < 4 {
            return err(bad(
                off,
                &format!("record of length 0x{len:x} runs past the section end"),
            ));
        }
        let id = u32::from_le_bytes([data[o + 4], data[o + 5], data[o + 6], data[o + 7]]);
        let kind = if id == 0 {
            EhKind::Cie
        } else {
            let cie = (off + 4).checked_sub(u64::from(id));
            match cie {
                Some(c) => EhKind::Fde { cie_in: c },
                None => return err(bad(off, "FDE's CIE pointer points before the section")),
            }
        };
        let mut keep = true;
        if let EhKind::Fde { .. } = kind {
            // The relocation at pc_begin (offset 8) names the function the FDE describes.
            while ri < sec.relocs.len() && sec.relocs[ri].r_offset.get(E) < off + 8 {
                ri += 1;
            }
            let mut found = None;
            if ri < sec.relocs.len() && sec.relocs[ri].r_offset.get(E) == off + 8 {
                found = Some(ri);
            } else if sec
                .relocs
                .windows(2)
                .any(|w| w[0].r_offset.get(E) > w[1].r_offset.get(E))
            {
                found = sec.relocs.iter().position(|r| r.r_offset.get(E) == off + 8);
            }
            if let Some(k) = found {
                let sym = sec.relocs[k].r_sym(E, false) as usize;
                if sym >= obj.symbols.len() {
                    return err(bad(
                        off + 8,
                        &format!("relocation symbol index {sym} out of range"),
                    ));
                }
                keep = symbol_section_kept(res, fid, sym);
            }
        }
        records.push(EhRecord::new(off, total, kind, keep.then_some(out)));
        if keep {
            out += total;
        }
        off += total;
    }
    Ok((records, out))
}

/// Whether the section a symbol lives in survives (false for discarded COMDAT members).
fn symbol_section_kept(res: &Resolved<'_>, fid: FileId, sym: usize) -> bool {
    let file = &res.files[fid.0 as usize];
    match file.obj.sym_place(sym) {
        Ok(SymPlace::Section(s)) => !file.discarded.get(s as usize).copied().unwrap_or(true),
        _ => true,
    }
}

/// Sizes of the linker-made pieces, from the synthesize phase.
pub struct SynthSizes {
    pub stubs: u64,
    pub got: u64,
    pub got_plt: u64,
    pub plt: u64,
    pub rela_plt: u64,
    pub eh_frame_hdr: u64,
    pub build_id: u64,
    pub interp: u64,
    pub dynsym: u64,
    pub dynstr: u64,
    pub gnu_hash: u64,
    pub hash: u64,
    pub versym: u64,
    pub verneed: u64,
    pub rela_dyn: u64,
    pub rela_dyn_relative: u64,
    pub dynamic: u64,
    /// Copy-relocated data in `.bss`.
    pub copy: u64,
    pub copy_align: u64,
    /// Position-independent: based at 0.
    pub pic: bool,
}

impl Layout {
    pub fn section_by_name(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    // Each argument is one column of the section's row (name, class, rank, type, flags,
    // alignment, size).
    #[allow(clippy::too_many_arguments)]
    fn add_synthetic(
        &mut self,
        name: &str,
        class: Class,
        rank: u32,
        sh_type: u32,
        flags: u32,
        align: u64,
        what: Synthetic,
        size: u64,
    ) {
        if size == 0 {
            return;
        }
        let piece = Piece {
            src: PieceSrc::Synthetic(what),
            offset: 0,
            size,
            align,
            priority: 0,
            from_ctors: false,
        };
        if let Some(i) = self.section_by_name(name) {
            let s = &mut self.sections[i as usize];
            s.pieces.push(piece);
            s.align = s.align.max(align);
            return;
        }
        let pos = self
            .sections
            .iter()
            .position(|s| (s.class, s.rank) > (class, rank))
            .unwrap_or(self.sections.len());
        self.sections.insert(
            pos,
            OutSec {
                name: name.into(),
                sh_type,
                flags: u64::from(flags),
                align,
                class,
                rank,
                pieces: vec![piece],
                size: 0,
                addr: 0,
                offset: 0,
                shndx: 0,
            },
        );
        let pos = pos as u32;
        if self.moved.is_empty() {
            // The first insertion: every section before it is still where `plan` put it.
            self.moved = (0..self.sections.len() as u32 - 1).collect();
        }
        for m in self.moved.iter_mut() {
            if *m >= pos {
                *m += 1;
            }
        }
        self.by_name = self
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i as u32))
            .collect();
    }

    /// Give every section an address and a file offset, and build the program headers.
    pub fn assign(&mut self, sizes: &SynthSizes) -> Result<()> {
        let a = elf::SHF_ALLOC;
        let base = if sizes.pic { 0 } else { BASE };
        self.base = base;
        // The dynamic linker's sections, read-only ones in the first segment as GNU ld puts them.
        self.add_synthetic(
            ".interp",
            Class::Headers,
            5,
            elf::SHT_PROGBITS,
            a,
            1,
            Synthetic::Interp,
            sizes.interp,
        );
        self.add_synthetic(
            ".gnu.hash",
            Class::Headers,
            14,
            elf::SHT_GNU_HASH,
            a,
            8,
            Synthetic::GnuHash,
            sizes.gnu_hash,
        );
        self.add_synthetic(
            ".hash",
            Class::Headers,
            15,
            elf::SHT_HASH,
            a,
            8,
            Synthetic::Hash,
            sizes.hash,
        );
        self.add_synthetic(
            ".dynsym",
            Class::Headers,
            16,
            elf::SHT_DYNSYM,
            a,
            8,
            Synthetic::DynSym,
            sizes.dynsym,
        );
        self.add_synthetic(
            ".dynstr",
            Class::Headers,
            17,
            elf::SHT_STRTAB,
            a,
            1,
            Synthetic::DynStr,
            sizes.dynstr,
        );
        self.add_synthetic(
            ".gnu.version",
            Class::Headers,
            18,
            elf::SHT_GNU_VERSYM,
            a,
            2,
            Synthetic::VerSym,
            sizes.versym,
        );
        self.add_synthetic(
            ".gnu.version_r",
            Class::Headers,
            19,
            elf::SHT_GNU_VERNEED,
            a,
            8,
            Synthetic::VerNeed,
            sizes.verneed,
        );
        for (what, size) in [
            (Synthetic::RelaDynRelative, sizes.rela_dyn_relative),
            (Synthetic::RelaDyn, sizes.rela_dyn),
        ] {
            self.add_synthetic(
                ".rela.dyn",
                Class::Headers,
                19,
                elf::SHT_RELA,
                a,
                8,
                what,
                size,
            );
        }
        self.add_synthetic(
            ".dynamic",
            Class::Rw,
            35,
            elf::SHT_DYNAMIC,
            a | elf::SHF_WRITE,
            8,
            Synthetic::Dynamic,
            sizes.dynamic,
        );
        self.add_synthetic(
            ".bss",
            Class::Rw,
            60,
            elf::SHT_NOBITS,
            a | elf::SHF_WRITE,
            sizes.copy_align,
            Synthetic::Copy,
            sizes.copy,
        );
        let text = self.section_by_name(".text").unwrap_or(0) as usize;
        for p in self.sections[text].pieces.iter_mut() {
            if p.src == PieceSrc::Synthetic(Synthetic::Stubs) {
                p.size = sizes.stubs;
            }
        }
        self.add_synthetic(
            ".note.gnu.build-id",
            Class::Headers,
            11,
            elf::SHT_NOTE,
            a,
            4,
            Synthetic::BuildId,
            sizes.build_id,
        );
        self.add_synthetic(
            ".rela.plt",
            Class::Headers,
            20,
            elf::SHT_RELA,
            a | elf::SHF_INFO_LINK,
            8,
            Synthetic::RelaPlt,
            sizes.rela_plt,
        );
        // IPLT entries live in `.plt`, as GNU ld places them in static executables.
        self.add_synthetic(
            ".plt",
            Class::Exec,
            20,
            elf::SHT_PROGBITS,
            a | elf::SHF_EXECINSTR,
            16,
            Synthetic::Plt,
            sizes.plt,
        );
        self.add_synthetic(
            ".eh_frame_hdr",
            Class::Rodata,
            20,
            elf::SHT_PROGBITS,
            a,
            4,
            Synthetic::EhFrameHdr,
            sizes.eh_frame_hdr,
        );
        self.add_synthetic(
            ".got",
            Class::Rw,
            40,
            elf::SHT_PROGBITS,
            a | elf::SHF_WRITE,
            8,
            Synthetic::Got,
            sizes.got,
        );
        self.add_synthetic(
            ".got.plt",
            Class::Rw,
            41,
            elf::SHT_PROGBITS,
            a | elf::SHF_WRITE,
            8,
            Synthetic::GotPlt,
            sizes.got_plt,
        );
        // Piece offsets and section sizes.
        for s in self.sections.iter_mut() {
            let mut off = 0u64;
            for p in s.pieces.iter_mut() {
                off = align_up(off, p.align);
                p.offset = off;
                off = off
                    .checked_add(p.size)
                    .ok_or_else(|| Diagnostic::error(format!("section {} is too large", s.name)))?;
                s.align = s.align.max(p.align);
            }
            s.size = off;
        }
        // Renumber what points at `plan`'s sections (one walk over the places, not one per
        // inserted section: 24,000 places of 2,000 objects were walked 13 times), and resolve
        // piece indices in places to offsets.
        let moved = std::mem::take(&mut self.moved);
        let now = |out: &mut u32| {
            if let Some(&m) = moved.get(*out as usize) {
                *out = m;
            }
        };
        for m in self.merges.iter_mut() {
            now(&mut m.out);
        }
        for c in self.commons.iter_mut() {
            now(&mut c.1);
        }
        for fp in self.places.iter_mut() {
            for p in fp.iter_mut() {
                if let Place::At { out, .. }
                | Place::Split { out, .. }
                | Place::Merged { out, .. } = p
                {
                    now(out);
                }
                match p {
                    Place::At { out, off } => {
                        let s = &self.sections[*out as usize];
                        *off = s.pieces[*off as usize].offset;
                    }
                    Place::Split { out, base, .. } => {
                        // Until now `base` held the `.eh_frame` piece's index.
                        *base = self.sections[*out as usize].pieces[*base as usize].offset;
                    }
                    Place::Merged { out, group, map } => {
                        let s = &self.sections[*out as usize];
                        let base = s
                            .pieces
                            .iter()
                            .find(|pc| pc.src == PieceSrc::Merged(*group))
                            .map_or(0, |pc| pc.offset);
                        *p = Place::Split {
                            out: *out,
                            base,
                            map: *map,
                        };
                    }
                    Place::Dropped => {}
                }
            }
        }
        for c in self.commons.iter_mut() {
            c.2 = self.sections[c.1 as usize].pieces[c.2 as usize].offset;
        }

        // Drop empty output sections from the header table but keep them placed (for symbols).
        let classes = [Class::Headers, Class::Exec, Class::Rodata, Class::Rw];
        let has_notes = self
            .sections
            .iter()
            .any(|s| s.sh_type == elf::SHT_NOTE && s.size > 0 && s.class != Class::NonAlloc);
        let has_tls = self.sections.iter().any(|s| s.is_tls() && s.size > 0);
        let has_ehh = self
            .sections
            .iter()
            .any(|s| s.name == ".eh_frame_hdr" && s.size > 0);
        let loads = classes
            .iter()
            .filter(|&&c| {
                c == Class::Headers || self.sections.iter().any(|s| s.class == c && s.size > 0)
            })
            .count();
        let has_interp = self
            .sections
            .iter()
            .any(|s| s.name == ".interp" && s.size > 0);
        let has_dynamic = self
            .sections
            .iter()
            .any(|s| s.name == ".dynamic" && s.size > 0);
        let nphdr = loads
            + has_notes as usize
            + has_tls as usize
            + has_ehh as usize
            + 1
            + 2 * has_interp as usize
            + 2 * has_dynamic as usize;
        self.headers_size = EHDR_SIZE + PHDR_SIZE * nphdr as u64;
        let mut addr = base + self.headers_size;
        let mut segments = Vec::new();
        if has_interp {
            segments.push(Segment {
                p_type: elf::PT_PHDR,
                flags: elf::PF_R,
                offset: EHDR_SIZE,
                vaddr: base + EHDR_SIZE,
                filesz: self.headers_size - EHDR_SIZE,
                memsz: self.headers_size - EHDR_SIZE,
                align: 8,
                sections: Vec::new(),
            });
            // PT_INTERP is filled in below, once `.interp` has its address.
            segments.push(Segment {
                p_type: elf::PT_INTERP,
                flags: elf::PF_R,
                offset: 0,
                vaddr: 0,
                filesz: 0,
                memsz: 0,
                align: 1,
                sections: Vec::new(),
            });
        }
        for &c in &classes {
            let members: Vec<usize> = (0..self.sections.len())
                .filter(|&i| self.sections[i].class == c)
                .collect();
            let nonempty = members.iter().any(|&i| self.sections[i].size > 0);
            if c != Class::Headers && !nonempty {
                for &i in &members {
                    self.sections[i].addr = addr;
                    self.sections[i].offset = addr - base;
                }
                continue;
            }
            if c != Class::Headers {
                addr = align_up(addr, PAGE);
            }
            let start = if c == Class::Headers { base } else { addr };
            let mut file_end = addr;
            let mut secs = Vec::new();
            for &i in &members {
                let s = &mut self.sections[i];
                addr = align_up(addr, s.align);
                s.addr = addr;
                s.offset = addr - base;
                if s.size > 0 {
                    secs.push(i as u32);
                }
                if s.is_nobits() && s.is_tls() {
                    continue; // .tbss takes no room outside the TLS template
                }
                addr = addr
                    .checked_add(s.size)
                    .ok_or_else(|| Diagnostic::error("output too large"))?;
                if !s.is_nobits() {
                    file_end = addr;
                }
            }
            let flags = match c {
                Class::Headers | Class::Rodata => elf::PF_R,
                Class::Exec => elf::PF_R | elf::PF_X,
                _ => elf::PF_R | elf::PF_W,
            };
            segments.push(Segment {
                p_type: elf::PT_LOAD,
                flags,
                offset: start - base,
                vaddr: start,
                filesz: file_end.max(start) - start,
                memsz: addr - start,
                align: PAGE,
                sections: secs,
            });
        }
        self.alloc_end = segments
            .iter()
            .map(|s| s.offset + s.filesz)
            .max()
            .unwrap_or(self.headers_size);
        let one = |layout: &Layout, name: &str, p_type: u32, flags: u32, align: u64| {
            let i = layout.section_by_name(name).unwrap_or(0);
            let s = &layout.sections[i as usize];
            Segment {
                p_type,
                flags,
                offset: s.offset,
                vaddr: s.addr,
                filesz: s.size,
                memsz: s.size,
                align,
                sections: vec![i],
            }
        };
        if has_interp {
            segments[1] = one(self, ".interp", elf::PT_INTERP, elf::PF_R, 1);
        }
        if has_dynamic {
            segments.push(one(
                self,
                ".dynamic",
                elf::PT_DYNAMIC,
                elf::PF_R | elf::PF_W,
                8,
            ));
        }
        if has_notes {
            let notes: Vec<u32> = (0..self.sections.len())
                .filter(|&i| {
                    self.sections[i].sh_type == elf::SHT_NOTE
                        && self.sections[i].size > 0
                        && self.sections[i].class != Class::NonAlloc
                })
                .map(|i| i as u32)
                .collect();
            let first = &self.sections[notes[0] as usize];
            let last = &self.sections[*notes.last().unwrap_or(&notes[0]) as usize];
            let size = last.addr + last.size - first.addr;
            segments.push(Segment {
                p_type: elf::PT_NOTE,
                flags: elf::PF_R,
                offset: first.offset,
                vaddr: first.addr,
                filesz: size,
                memsz: size,
                align: first.align.max(4),
                sections: notes,
            });
        }
        if has_tls {
            let tls: Vec<u32> = (0..self.sections.len())
                .filter(|&i| self.sections[i].is_tls())
                .map(|i| i as u32)
                .collect();
            let first = &self.sections[tls[0] as usize];
            let start = first.addr;
            let mut memsz = 0;
            let mut filesz = 0;
            let mut align = 1;
            for &i in &tls {
                let s = &self.sections[i as usize];
                memsz = s.addr + s.size - start;
                if !s.is_nobits() {
                    filesz = s.addr + s.size - start;
                }
                align = align.max(s.align);
            }
            self.tls = Some(Tls {
                start,
                memsz,
                filesz,
                align,
            });
            segments.push(Segment {
                p_type: elf::PT_TLS,
                flags: elf::PF_R,
                offset: start - base,
                vaddr: start,
                filesz,
                memsz,
                align,
                sections: tls
                    .into_iter()
                    .filter(|&i| self.sections[i as usize].size > 0)
                    .collect(),
            });
        }
        if has_ehh {
            let i = self.section_by_name(".eh_frame_hdr").unwrap_or(0);
            let s = &self.sections[i as usize];
            segments.push(Segment {
                p_type: elf::PT_GNU_EH_FRAME,
                flags: elf::PF_R,
                offset: s.offset,
                vaddr: s.addr,
                filesz: s.size,
                memsz: s.size,
                align: 4,
                sections: vec![i],
            });
        }
        segments.push(Segment {
            p_type: elf::PT_GNU_STACK,
            flags: if self.exec_stack {
                elf::PF_R | elf::PF_W | elf::PF_X
            } else {
                elf::PF_R | elf::PF_W
            },
            offset: 0,
            vaddr: 0,
            filesz: 0,
            memsz: 0,
            align: 16,
            sections: Vec::new(),
        });
        if has_dynamic {
            // RELRO: what the loader may make read-only once relocated (init/fini arrays, .data.rel.ro,
            // .dynamic, .got). It rounds the end down to a page, so what follows stays writable.
            let relro: Vec<u32> = (0..self.sections.len())
                .filter(|&i| {
                    let s = &self.sections[i];
                    s.class == Class::Rw && s.rank <= 40 && s.size > 0
                })
                .map(|i| i as u32)
                .collect();
            let start = relro
                .first()
                .map_or(base, |&i| self.sections[i as usize].addr);
            let end = relro
                .iter()
                .map(|&i| &self.sections[i as usize])
                .filter(|s| !(s.is_nobits() && s.is_tls()))
                .map(|s| s.addr + s.size)
                .max()
                .unwrap_or(start);
            segments.push(Segment {
                p_type: elf::PT_GNU_RELRO,
                flags: elf::PF_R,
                offset: start.saturating_sub(base),
                vaddr: start,
                filesz: end.saturating_sub(start),
                memsz: end.saturating_sub(start),
                align: 1,
                sections: relro,
            });
        }
        debug_assert_eq!(segments.len(), nphdr);
        self.segments = segments;
        // Non-alloc sections follow the loaded image in the file.
        let mut off = self.alloc_end;
        for s in self
            .sections
            .iter_mut()
            .filter(|s| s.class == Class::NonAlloc)
        {
            off = align_up(off, s.align);
            s.offset = off;
            s.addr = 0;
            off += s.size;
        }
        self.file_end = off;
        // Header indices for non-empty sections, in order.
        let mut idx = 1u16;
        for s in self.sections.iter_mut() {
            if s.size > 0 || (s.sh_type == elf::SHT_NOBITS && !s.pieces.is_empty()) {
                s.shndx = idx;
                idx += 1;
            }
        }
        let _ = a;
        // Every input section's address in one flat table (files one after another), asked at
        // each relocation against a section symbol: one load from a dense table, not a file's
        // place list and then its output section.
        let mut first = Vec::with_capacity(self.places.len() + 1);
        let mut at = 0u32;
        for fp in &self.places {
            first.push(at);
            at = at.saturating_add(fp.len() as u32);
        }
        first.push(at);
        let sections = &self.sections;
        self.input_base = self
            .places
            .iter()
            .flatten()
            .map(|p| match *p {
                Place::At { out, off } => sections[out as usize].addr.wrapping_add(off),
                _ => NOT_AT,
            })
            .collect();
        self.file_first = first;
        Ok(())
    }

    /// Address of byte `off` of input section `sec` of `file` (None when the section or the
    /// record holding that byte was dropped).
    #[inline]
    pub fn input_addr(&self, file: FileId, sec: u32, off: u64) -> Option<u64> {
        match self.placed_at(file, sec) {
            Some(base) => Some(base.wrapping_add(off)),
            None => self.input_addr_slow(file, sec, off),
        }
    }

    /// The address of input section `sec` of `file` when it is placed whole (not dropped,
    /// merged or split), once `assign` has run.
    #[inline]
    pub fn placed_at(&self, file: FileId, sec: u32) -> Option<u64> {
        let f = file.0 as usize;
        let (&a, &b) = (self.file_first.get(f)?, self.file_first.get(f + 1)?);
        if sec >= b.saturating_sub(a) {
            return None;
        }
        match self.input_base.get(a as usize + sec as usize) {
            Some(&base) if base != NOT_AT => Some(base),
            _ => None,
        }
    }

    fn input_addr_slow(&self, file: FileId, sec: u32, off: u64) -> Option<u64> {
        match *self.places.get(file.0 as usize)?.get(sec as usize)? {
            Place::Dropped | Place::Merged { .. } => None,
            Place::At { out, off: o } => Some(
                self.sections[out as usize]
                    .addr
                    .wrapping_add(o)
                    .wrapping_add(off),
            ),
            Place::Split { out, base, map } => {
                let m = self.maps[map as usize].lookup(off)?;
                Some(self.sections[out as usize].addr + base + m)
            }
        }
    }

    /// Output (section index, offset in section) of an input byte: for writing.
    pub fn input_out(&self, file: FileId, sec: u32) -> Option<(u32, u64)> {
        match *self.places.get(file.0 as usize)?.get(sec as usize)? {
            Place::At { out, off } => Some((out, off)),
            Place::Split { out, base, .. } => Some((out, base)),
            Place::Dropped | Place::Merged { .. } => None,
        }
    }

    pub fn section_range(&self, name: &str) -> Option<(u64, u64)> {
        let s = &self.sections[self.section_by_name(name)? as usize];
        Some((s.addr, s.addr + s.size))
    }

    /// Value of a linker-defined symbol.
    pub fn linker_symbol(&self, name: &[u8]) -> Option<u64> {
        let n = std::str::from_utf8(name).ok()?;
        let start = |s: &str| self.section_range(s).map(|r| r.0);
        let end = |s: &str| self.section_range(s).map(|r| r.1);
        let last_of = |c: Class, progbits_only: bool| {
            self.sections
                .iter()
                .filter(|s| {
                    s.class == c
                        && !(progbits_only && s.is_nobits())
                        && !(s.is_nobits() && s.is_tls())
                })
                .map(|s| s.addr + s.size)
                .max()
        };
        Some(match n {
            "__preinit_array_start" => start(".preinit_array")?,
            "__preinit_array_end" => end(".preinit_array")?,
            "__init_array_start" => start(".init_array")?,
            "__init_array_end" => end(".init_array")?,
            "__fini_array_start" => start(".fini_array")?,
            "__fini_array_end" => end(".fini_array")?,
            "__ehdr_start" | "__executable_start" => self.base,
            "_etext" | "etext" | "__etext" => last_of(Class::Exec, false).unwrap_or(self.base),
            "_edata" | "edata" => last_of(Class::Rw, true)
                .or_else(|| last_of(Class::Rodata, false))
                .unwrap_or(self.base),
            "__bss_start" => start(".bss")
                .or_else(|| last_of(Class::Rw, true))
                .unwrap_or(self.base),
            "_end" | "end" => last_of(Class::Rw, false).unwrap_or(self.base),
            "_GLOBAL_OFFSET_TABLE_" => start(".got.plt").or_else(|| start(".got")).unwrap_or(0),
            "__rela_iplt_start" => start(".rela.plt").unwrap_or(self.base + self.headers_size),
            "__rela_iplt_end" => end(".rela.plt").unwrap_or(self.base + self.headers_size),
            "__GNU_EH_FRAME_HDR" => start(".eh_frame_hdr").unwrap_or(0),
            "__dso_handle" => start(".data").unwrap_or(0),
            // TLS descriptors in local-dynamic form count from the start of the TLS block.
            "_TLS_MODULE_BASE_" => self.tls.map_or(0, |t| t.start),
            "_DYNAMIC" => start(".dynamic")?,
            _ => {
                if let Some(s) = n.strip_prefix("__start_") {
                    start(s)?
                } else if let Some(s) = n.strip_prefix("__stop_") {
                    end(s)?
                } else {
                    return None;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMap;

    #[test]
    fn split_map_walk_agrees_with_bisection_in_any_order() {
        // Records at 0, 24, 64 (dropped), 100; 140 bytes in, 100 kept.
        let m = SplitMap {
            starts: vec![0, 24, 64, 100],
            outs: vec![0, 24, u64::MAX, 64],
            in_size: 140,
            out_size: 100,
        };
        let naive = |off: u64| -> Option<u64> {
            if off >= 140 {
                return (off == 140).then_some(100);
            }
            let k = m.starts.iter().rposition(|&s| s <= off)?;
            (m.outs[k] != u64::MAX).then(|| m.outs[k] + off - m.starts[k])
        };
        let orders: [&[u64]; 3] = [
            &[0, 8, 24, 30, 64, 70, 100, 139, 140, 141],
            &[139, 100, 70, 30, 0, 140, 24, 64],
            &[30, 8, 101, 24, 99, 63, 0, 120],
        ];
        for order in orders {
            let mut at = usize::MAX;
            for &off in order {
                assert_eq!(
                    m.lookup_from(off, &mut at),
                    naive(off),
                    "offset {off} in {order:?}"
                );
                assert_eq!(m.lookup(off), naive(off), "offset {off}");
            }
        }
    }
}
