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

pub use crate::sections::{Class, Extent, OutId, Synthetic};

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
    /// A section's finished bytes (`Layout::blobs`): a compressed debug section.
    Blob(u32),
    /// A linker script's data command (`BYTE`, `SHORT`, `LONG`, `QUAD`): its bytes in
    /// `Layout::blobs`, filled in when the script's addresses are assigned.
    Data(u32),
    /// `--emit-relocs`: the relocations of output section `Layout::emitted[k]`.
    Relocs(u32),
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
    /// Under a linker script's `SECTIONS`: the item of its output section's command (an input
    /// section description) that took it; pieces are in this order (`layout::script`).
    pub rule: u16,
}

#[derive(Debug, Clone)]
pub struct OutSec {
    pub name: String,
    /// The known section it is (None: an orphan, named after its inputs).
    pub id: Option<OutId>,
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

impl Layout {
    /// Output section `i`'s load address (GNU ld's LMA): where a script's `AT` or `MEMORY`
    /// region loads it, else its address.
    pub fn lma(&self, i: usize) -> u64 {
        self.lmas
            .get(i)
            .copied()
            .flatten()
            .unwrap_or(self.sections[i].addr)
    }

    /// Output section `i`'s contents are now `bytes`, finished (a compressed debug section,
    /// `flags` added, entries of `entsize`): one piece, and the non-loaded sections placed again.
    pub fn replace_contents(&mut self, i: usize, bytes: Vec<u8>, (flags, entsize): (u64, u64)) {
        let align = 8; // an `Elf64_Chdr`'s
        let k = self.blobs.len() as u32;
        let s = &mut self.sections[i];
        s.size = bytes.len() as u64;
        s.flags |= flags;
        s.align = align;
        s.pieces = vec![Piece {
            src: PieceSrc::Blob(k),
            offset: 0,
            size: s.size,
            align,
            priority: 0,
            from_ctors: false,
            rule: 0,
        }];
        self.blobs.push((bytes, entsize));
        self.place_non_alloc();
    }
}

/// Where an input section landed. `plan` makes `Piece`, `EhPiece` and `Merged`; `assign`, once
/// piece offsets are known, turns them into `At` and `Split`, which is all later phases see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Dropped,
    /// Before `assign`: whole, as piece `piece` of output section `out`.
    Piece {
        out: u32,
        piece: u32,
    },
    /// Before `assign`: an `.eh_frame` input, piece `piece` of `out`, offsets through `maps[map]`.
    EhPiece {
        out: u32,
        piece: u32,
        map: u32,
    },
    /// Before `assign`: merged into group `group`, offsets through `maps[map]`.
    Merged {
        out: u32,
        group: u32,
        map: u32,
    },
    /// Whole, at offset `off` of output section `out`.
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
}

impl Place {
    /// The output section, if the input is kept.
    pub fn out_mut(&mut self) -> Option<&mut u32> {
        match self {
            Place::Piece { out, .. }
            | Place::EhPiece { out, .. }
            | Place::Merged { out, .. }
            | Place::At { out, .. }
            | Place::Split { out, .. } => Some(out),
            Place::Dropped => None,
        }
    }

    /// The offset map of an input placed record by record (`.eh_frame`), before or after
    /// `assign`.
    pub fn record_map(&self) -> Option<u32> {
        match *self {
            Place::EhPiece { map, .. } | Place::Split { map, .. } => Some(map),
            _ => None,
        }
    }
}

/// A common symbol's place at the end of `.bss`: piece `piece` of output section `out`, at
/// offset `off` once `assign` has run.
#[derive(Debug, Clone, Copy)]
pub struct Common {
    pub sym: SymbolId,
    pub out: u32,
    pub piece: u32,
    pub off: u64,
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
    /// bisecting again (`.eh_frame` has several relocations per record, in order).
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
    /// The inputs' entry size, and whether they are strings (`SHF_STRINGS`).
    pub entsize: u64,
    pub strings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EhKind {
    Cie,
    Fde { cie_in: u64 },
    Terminator,
}

/// One `.eh_frame` record, in 16 bytes (a link has one per function): offsets within one input
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
    /// The load address (`p_paddr`): the address, but where a script loads it elsewhere.
    pub paddr: u64,
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
    pub commons: Vec<Common>,
    by_name: FxHashMap<String, u32>,
    /// Where each known section is, by [`OutId`].
    known: [Option<u32>; OutId::COUNT],
    /// While `assign` inserts the linker's sections: where each section `plan` made is now
    /// (`places`, `merges` and `commons` are renumbered once, after the last insertion).
    moved: Vec<u32>,
    /// After `assign`: each input section's address (`NOT_AT` unless it is placed whole),
    /// file `f`'s sections from `file_first[f]` on.
    input_base: Vec<u64>,
    file_first: Vec<u32>,
    pub exec_stack: bool,
    /// `-z stack-size=N`: `PT_GNU_STACK`'s `p_memsz` (0: the system's default).
    pub stack_size: u64,
    /// What the layout warns about (an executable stack the inputs asked for).
    pub warnings: Vec<crate::diag::Diagnostic>,
    /// `--defsym` symbols whose value layout gives (numbers, aliases of linker-made symbols).
    pub defsym: Vec<(String, crate::options::Defsym)>,
    /// Write `PT_GNU_RELRO` (not under `-z norelro`).
    pub relro: bool,
    /// Load address of the first segment: 0x400000 for `ET_EXEC`, 0 for PIE and shared objects.
    pub base: u64,
    /// Dynamically linked (has `.dynamic`).
    pub dynamic: bool,
    /// Where the options put sections and segments.
    pub placement: Placement,
    /// The `PieceSrc::Blob` pieces: their bytes and their section's entry size.
    pub blobs: Vec<(Vec<u8>, u64)>,
    /// `--emit-relocs`: the output section whose relocations each `PieceSrc::Relocs` holds.
    pub emitted: Vec<u32>,
    /// The output is an `ET_EXEC` (not position-independent, or based elsewhere than 0 by
    /// `-Ttext-segment`).
    pub et_exec: bool,
    /// `--gc-sections`: which input sections were kept, and why.
    pub gc: Option<Gc>,
    // Filled by `assign`.
    pub segments: Vec<Segment>,
    pub tls: Option<Tls>,
    pub headers_size: u64,
    pub alloc_end: u64,
    /// File offset where non-alloc data ends (symtab and friends follow).
    pub file_end: u64,
    /// A linker script's `SECTIONS`, which the addresses follow.
    script: Option<script::Rules>,
    /// The names the script's `DEFINED(...)` asks about that the link defines.
    script_defined: rustc_hash::FxHashSet<String>,
    /// The values the script's assignments gave (`Defsym::Layout` symbols).
    script_symbols: FxHashMap<String, u64>,
    /// Under a script, each section's load address where it is not its address (`AT`,
    /// `MEMORY` regions); empty otherwise. See [`Layout::lma`].
    lmas: Vec<Option<u64>>,
    /// The ELF and program headers are in the first `PT_LOAD` (always, but under a script
    /// that does not ask for `SIZEOF_HEADERS` or leaves no room for them).
    pub headers_loaded: bool,
}

/// What the options say about addresses and pages: `--section-start` (and `-Ttext`, `-Tdata`,
/// `-Tbss`), `-Ttext-segment`, `-z max-page-size`, `-z separate-code`.
#[derive(Debug, Clone)]
pub struct Placement {
    pub starts: Vec<(String, u64)>,
    pub image_base: Option<u64>,
    pub page: u64,
    pub separate_code: bool,
    /// A shared object: an `ET_DYN` wherever it is based.
    pub shared: bool,
}

impl Placement {
    pub fn of(opts: &Options) -> Placement {
        Placement {
            starts: opts.section_start.clone(),
            image_base: opts.text_segment,
            page: opts.max_page_size,
            separate_code: opts.separate_code,
            shared: opts.kind == crate::options::OutputKind::Shared,
        }
    }

    /// The address `--section-start` gives output section `name` (the last one naming it).
    fn start_of(&self, name: &str) -> Option<u64> {
        self.starts.iter().rev().find(|s| s.0 == name).map(|s| s.1)
    }
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

mod assign;
mod eh_frame;
mod emit_relocs;
pub mod gc;
mod memory;
mod plan;
pub mod script;

pub use gc::Gc;

pub use plan::{
    init_priority, init_stub_decision, plan, InitStubDecision, MODULE_DATA_SIZE,
    MODULE_DATA_VERSION,
};

fn known_index(sections: &[OutSec]) -> [Option<u32>; OutId::COUNT] {
    let mut known = [None; OutId::COUNT];
    for (i, s) in sections.iter().enumerate() {
        if let Some(id) = s.id {
            known[id as usize] = Some(i as u32);
        }
    }
    known
}

/// [`Layout::input_base`] of a section that is not placed whole (dropped, merged or split).
const NOT_AT: u64 = u64::MAX;

impl Layout {
    pub fn section_by_name(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The index of known section `id`, if the link has it.
    pub fn known(&self, id: OutId) -> Option<u32> {
        self.known[id as usize]
    }

    /// Start and end address of known section `id`.
    pub fn range(&self, id: OutId) -> Option<(u64, u64)> {
        let s = &self.sections[self.known(id)? as usize];
        Some((s.addr, s.addr + s.size))
    }

    /// Rebuild the name and id indexes after sections moved.
    fn index_names(&mut self) {
        self.by_name = self
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i as u32))
            .collect();
        self.known = known_index(&self.sections);
    }

    /// The section index of the linker's symbol `name` at `addr`: `__start_SEC` and
    /// `__stop_SEC` belong to SEC (the stop one lies just past its end, maybe where the next
    /// section starts), the others to the section holding (or ending at) `addr`.
    pub fn linker_symbol_shndx(&self, name: &[u8], addr: u64) -> u16 {
        let sec = start_stop_section(name);
        let own = sec.and_then(|n| {
            self.sections
                .iter()
                .find(|s| s.shndx != 0 && s.name.as_bytes() == n)
        });
        own.map_or_else(|| self.shndx_at(addr), |s| s.shndx)
    }

    /// The output section (header index) that holds `addr`, or `SHN_ABS`: one that contains it,
    /// else one that ends exactly there (end symbols).
    pub fn shndx_at(&self, addr: u64) -> u16 {
        let alloc = || {
            self.sections
                .iter()
                .filter(|s| s.shndx != 0 && s.class != Class::NonAlloc)
        };
        alloc()
            .find(|s| addr >= s.addr && addr < s.addr + s.size)
            .or_else(|| alloc().find(|s| addr == s.addr + s.size))
            .map_or(elf::SHN_ABS, |s| s.shndx)
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
            Place::Dropped | Place::Piece { .. } | Place::EhPiece { .. } | Place::Merged { .. } => {
                None
            }
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

    /// Whether input section `sec` of `file` is copied whole or record by record (so its
    /// relocations are applied); in any phase.
    pub fn is_relocated(&self, file: FileId, sec: u32) -> bool {
        let place = self
            .places
            .get(file.0 as usize)
            .and_then(|p| p.get(sec as usize));
        matches!(
            place,
            Some(
                Place::Piece { .. }
                    | Place::EhPiece { .. }
                    | Place::At { .. }
                    | Place::Split { .. }
            )
        )
    }

    /// Whether input section `sec` of `file` (input flags `flags`) lands in a writable output
    /// section: a word the loader writes anywhere else is a text relocation. GNU ld asks the
    /// output section, so a read-only `.init_array` input merged into a writable one is not.
    pub fn lands_writable(&self, file: FileId, sec: u32, flags: u64) -> bool {
        // Every phase asks the same question: the placement's output section, before and after
        // `assign` alike.
        let out = match self
            .places
            .get(file.0 as usize)
            .and_then(|p| p.get(sec as usize))
        {
            Some(
                Place::Piece { out, .. }
                | Place::EhPiece { out, .. }
                | Place::Merged { out, .. }
                | Place::At { out, .. }
                | Place::Split { out, .. },
            ) => Some(*out as usize),
            Some(Place::Dropped) | None => None,
        };
        let flags = out
            .and_then(|o| self.sections.get(o))
            .map_or(flags, |s| s.flags);
        flags & u64::from(object::elf::SHF_WRITE) != 0
    }

    /// Output (section index, offset in section) of an input byte: for writing.
    pub fn input_out(&self, file: FileId, sec: u32) -> Option<(u32, u64)> {
        match *self.places.get(file.0 as usize)?.get(sec as usize)? {
            Place::At { out, off } => Some((out, off)),
            Place::Split { out, base, .. } => Some((out, base)),
            Place::Dropped | Place::Piece { .. } | Place::EhPiece { .. } | Place::Merged { .. } => {
                None
            }
        }
    }

    pub fn section_range(&self, name: &str) -> Option<(u64, u64)> {
        let s = &self.sections[self.section_by_name(name)? as usize];
        Some((s.addr, s.addr + s.size))
    }

    /// Value of a linker-defined symbol.
    pub fn linker_symbol(&self, name: &[u8]) -> Option<u64> {
        let mut n = std::str::from_utf8(name).ok()?;
        // `--defsym` (the last one for a name wins, as GNU ld); a chain of aliases is followed
        // a bounded number of steps (a cycle has no value).
        for _ in 0..=self.defsym.len() {
            match self.defsym.iter().rev().find(|(d, _)| d == n) {
                Some((_, crate::options::Defsym::Value(x))) => return Some(*x),
                Some((_, crate::options::Defsym::Symbol(t))) => n = t,
                Some((_, crate::options::Defsym::Layout)) => {
                    return self.script_symbols.get(n).copied()
                }
                None => return self.builtin_symbol(n),
            }
        }
        None
    }

    /// The value of a symbol the linker makes (`_end`, `__start_SECTION`...).
    fn builtin_symbol(&self, n: &str) -> Option<u64> {
        let start = |id: OutId| self.range(id).map(|r| r.0);
        let end = |id: OutId| self.range(id).map(|r| r.1);
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
            "__preinit_array_start" => start(OutId::PreinitArray)?,
            "__preinit_array_end" => end(OutId::PreinitArray)?,
            "__init_array_start" => start(OutId::InitArray)?,
            "__init_array_end" => end(OutId::InitArray)?,
            "__fini_array_start" => start(OutId::FiniArray)?,
            "__fini_array_end" => end(OutId::FiniArray)?,
            "__ehdr_start" | "__executable_start" => self.base,
            "_etext" | "etext" | "__etext" => last_of(Class::Exec, false).unwrap_or(self.base),
            "_edata" | "edata" => last_of(Class::Rw, true)
                .or_else(|| last_of(Class::Rodata, false))
                .unwrap_or(self.base),
            "__bss_start" => start(OutId::Bss)
                .or_else(|| last_of(Class::Rw, true))
                .unwrap_or(self.base),
            "_end" | "end" => last_of(Class::Rw, false).unwrap_or(self.base),
            "_GLOBAL_OFFSET_TABLE_" => start(OutId::GotPlt)
                .or_else(|| start(OutId::Got))
                .unwrap_or(0),
            // A dynamic output's IRELATIVE entries are the loader's (or, in a static PIE,
            // `_dl_relocate_static_pie`'s): GNU ld's `.rela.iplt` range is then empty, so that
            // a static libc's `apply_irel` does not apply them a second time.
            "__rela_iplt_start" if self.dynamic => {
                start(OutId::RelaPlt).unwrap_or(self.base + self.headers_size)
            }
            "__rela_iplt_start" => start(OutId::RelaPlt).unwrap_or(self.base + self.headers_size),
            "__rela_iplt_end" if self.dynamic => {
                start(OutId::RelaPlt).unwrap_or(self.base + self.headers_size)
            }
            "__rela_iplt_end" => end(OutId::RelaPlt).unwrap_or(self.base + self.headers_size),
            "__GNU_EH_FRAME_HDR" => start(OutId::EhFrameHdr).unwrap_or(0),
            "__dso_handle" => start(OutId::Data).unwrap_or(0),
            // TLS descriptors in local-dynamic form count from the start of the TLS block.
            "_TLS_MODULE_BASE_" => self.tls.map_or(0, |t| t.start),
            "_DYNAMIC" => start(OutId::Dynamic)?,
            _ => {
                if let Some(s) = n.strip_prefix("__start_") {
                    self.section_range(s)?.0
                } else if let Some(s) = n.strip_prefix("__stop_") {
                    self.section_range(s)?.1
                } else {
                    return None;
                }
            }
        })
    }
}

/// `SEC` of `__start_SEC`/`__stop_SEC`.
pub fn start_stop_section(name: &[u8]) -> Option<&[u8]> {
    name.strip_prefix(b"__start_")
        .or_else(|| name.strip_prefix(b"__stop_"))
}

#[cfg(test)]
mod tests {
    use super::SplitMap;

    #[test]
    fn a_piece_stays_48_bytes() {
        // A big link has hundreds of thousands: the script's `rule` lives in the padding.
        assert!(std::mem::size_of::<super::Piece>() <= 48);
    }

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
