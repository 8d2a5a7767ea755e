//! The output sections the linker knows by name, in one table: where each goes (its segment class
//! and its rank within it, as GNU ld's default x86-64 script orders them), its type and flags,
//! whether it is read-only after relocation (`PT_GNU_RELRO`), and whether only the linker may make
//! it. Input sections with other names ("orphans") get a class and rank from their flags instead
//! (`layout::map_input`). Later phases find a known section by its [`OutId`], never by its name.
//!
//! The linker-made pieces ([`Synthetic`]) are listed here too, each with the known section it
//! lives in; `synthetic/` has the type that sizes and writes each one.

use object::elf;

/// Which segment an output section belongs to (the order is the file order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Headers,
    Exec,
    Rodata,
    Rw,
    NonAlloc,
}

/// A known output section. The discriminant indexes [`ROWS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutId {
    Interp,
    GnuProperty,
    BuildId,
    GnuHash,
    Hash,
    DynSym,
    DynStr,
    VerSym,
    VerDef,
    VerNeed,
    RelaDyn,
    RelaPlt,
    Init,
    Plt,
    Text,
    Fini,
    Rodata,
    EhFrameHdr,
    EhFrame,
    GccExceptTable,
    Tdata,
    Tbss,
    PreinitArray,
    InitArray,
    FiniArray,
    Ctors,
    Dtors,
    DataRelRo,
    Dynamic,
    Got,
    GotPlt,
    Data,
    Bss,
}

/// One known output section.
#[derive(Debug)]
pub struct Row {
    pub id: OutId,
    pub name: &'static str,
    pub sh_type: u32,
    /// The flags a linker-made section gets (input-mapped ones take their inputs' flags).
    pub flags: u32,
    pub class: Class,
    /// Order within the class; sections of equal rank keep the order they were made in.
    pub rank: u32,
    /// Read-only once relocated: inside `PT_GNU_RELRO`.
    pub relro: bool,
    /// Only the linker makes it; an input section of this name is an error.
    pub linker_only: bool,
}

const A: u32 = elf::SHF_ALLOC;
const AW: u32 = elf::SHF_ALLOC | elf::SHF_WRITE;
const AX: u32 = elf::SHF_ALLOC | elf::SHF_EXECINSTR;
const AWT: u32 = AW | elf::SHF_TLS;

const fn row(
    id: OutId,
    name: &'static str,
    sh_type: u32,
    flags: u32,
    class: Class,
    rank: u32,
) -> Row {
    Row {
        id,
        name,
        sh_type,
        flags,
        class,
        rank,
        relro: false,
        linker_only: false,
    }
}

const fn linker(r: Row) -> Row {
    Row {
        linker_only: true,
        ..r
    }
}

const fn relro(r: Row) -> Row {
    Row { relro: true, ..r }
}

use elf::{
    SHT_DYNAMIC as DYN, SHT_DYNSYM, SHT_FINI_ARRAY, SHT_GNU_HASH, SHT_GNU_VERDEF, SHT_GNU_VERNEED,
    SHT_GNU_VERSYM, SHT_HASH, SHT_INIT_ARRAY, SHT_NOBITS, SHT_NOTE, SHT_PREINIT_ARRAY,
    SHT_PROGBITS as BITS, SHT_RELA, SHT_STRTAB,
};
use Class::{Exec, Headers, Rodata, Rw};

/// Every known output section, in [`OutId`] order.
pub const ROWS: &[Row] = &[
    linker(row(OutId::Interp, ".interp", BITS, A, Headers, 5)),
    linker(row(
        OutId::GnuProperty,
        ".note.gnu.property",
        SHT_NOTE,
        A,
        Headers,
        8,
    )),
    linker(row(
        OutId::BuildId,
        ".note.gnu.build-id",
        SHT_NOTE,
        A,
        Headers,
        11,
    )),
    linker(row(
        OutId::GnuHash,
        ".gnu.hash",
        SHT_GNU_HASH,
        A,
        Headers,
        14,
    )),
    linker(row(OutId::Hash, ".hash", SHT_HASH, A, Headers, 15)),
    linker(row(OutId::DynSym, ".dynsym", SHT_DYNSYM, A, Headers, 16)),
    linker(row(OutId::DynStr, ".dynstr", SHT_STRTAB, A, Headers, 17)),
    linker(row(
        OutId::VerSym,
        ".gnu.version",
        SHT_GNU_VERSYM,
        A,
        Headers,
        18,
    )),
    linker(row(
        OutId::VerDef,
        ".gnu.version_d",
        SHT_GNU_VERDEF,
        A,
        Headers,
        19,
    )),
    linker(row(
        OutId::VerNeed,
        ".gnu.version_r",
        SHT_GNU_VERNEED,
        A,
        Headers,
        19,
    )),
    linker(row(OutId::RelaDyn, ".rela.dyn", SHT_RELA, A, Headers, 19)),
    linker(row(
        OutId::RelaPlt,
        ".rela.plt",
        SHT_RELA,
        A | elf::SHF_INFO_LINK,
        Headers,
        20,
    )),
    row(OutId::Init, ".init", BITS, AX, Exec, 10),
    linker(row(OutId::Plt, ".plt", BITS, AX, Exec, 20)),
    row(OutId::Text, ".text", BITS, AX, Exec, 30),
    row(OutId::Fini, ".fini", BITS, AX, Exec, 40),
    row(OutId::Rodata, ".rodata", BITS, A, Rodata, 10),
    linker(row(OutId::EhFrameHdr, ".eh_frame_hdr", BITS, A, Rodata, 20)),
    row(OutId::EhFrame, ".eh_frame", BITS, A, Rodata, 30),
    row(
        OutId::GccExceptTable,
        ".gcc_except_table",
        BITS,
        A,
        Rodata,
        40,
    ),
    relro(row(OutId::Tdata, ".tdata", BITS, AWT, Rw, 10)),
    relro(row(OutId::Tbss, ".tbss", SHT_NOBITS, AWT, Rw, 11)),
    relro(row(
        OutId::PreinitArray,
        ".preinit_array",
        SHT_PREINIT_ARRAY,
        AW,
        Rw,
        20,
    )),
    relro(row(
        OutId::InitArray,
        ".init_array",
        SHT_INIT_ARRAY,
        AW,
        Rw,
        21,
    )),
    relro(row(
        OutId::FiniArray,
        ".fini_array",
        SHT_FINI_ARRAY,
        AW,
        Rw,
        22,
    )),
    relro(row(OutId::Ctors, ".ctors", BITS, AW, Rw, 23)),
    relro(row(OutId::Dtors, ".dtors", BITS, AW, Rw, 24)),
    relro(row(OutId::DataRelRo, ".data.rel.ro", BITS, AW, Rw, 30)),
    relro(linker(row(OutId::Dynamic, ".dynamic", DYN, AW, Rw, 35))),
    relro(linker(row(OutId::Got, ".got", BITS, AW, Rw, 40))),
    // Not RELRO: lazy binding writes `.got.plt` after start-up.
    linker(row(OutId::GotPlt, ".got.plt", BITS, AW, Rw, 41)),
    row(OutId::Data, ".data", BITS, AW, Rw, 50),
    row(OutId::Bss, ".bss", SHT_NOBITS, AW, Rw, 60),
];

impl OutId {
    pub const COUNT: usize = ROWS.len();

    pub fn row(self) -> &'static Row {
        &ROWS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// The known section of this name.
    pub fn by_name(name: &[u8]) -> Option<OutId> {
        ROWS.iter()
            .find(|r| r.name.as_bytes() == name)
            .map(|r| r.id)
    }
}

/// A linker-made piece's size and alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub size: u64,
    pub align: u64,
}

/// Linker-made content: pieces the synthesize phase sizes and `synthetic/` writes. The order is
/// the order `layout::assign` places them in, which decides the order of equal-ranked sections
/// (`.gnu.version_d`, then `.gnu.version_r`, before `.rela.dyn`, as GNU ld's script orders them)
/// and of pieces sharing a section (the RELATIVE entries open `.rela.dyn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synthetic {
    Interp,
    GnuHash,
    Hash,
    DynSym,
    DynStr,
    VerSym,
    /// `.gnu.version_d`: the versions the output defines.
    VerDef,
    VerNeed,
    /// The RELATIVE entries at input sites, first in `.rela.dyn`, written with the
    /// sections they fix up.
    RelaDynRelative,
    RelaDyn,
    Dynamic,
    /// Data copied from a shared object by copy relocations (lives in `.bss`).
    Copy,
    /// Data copied from a read-only section of a shared object (lives in `.data.rel.ro`).
    CopyRelro,
    /// Linker-made code at the start of `.text` (the teaching `_start`, registration stubs).
    Stubs,
    BuildId,
    /// `.note.gnu.property`: the inputs' GNU properties merged.
    GnuProperty,
    RelaPlt,
    /// PLT0, the PLT entries and the IPLT entries.
    Plt,
    EhFrameHdr,
    Got,
    GotPlt,
    /// The `.init_array` slot that points at the module-registration stub (first in the array).
    InitStubSlot,
    /// The module description the registration stub passes (`struct initlink_module`).
    ModuleData,
}

impl Synthetic {
    /// Every linker-made piece, in placing order.
    pub const ALL: [Synthetic; 23] = [
        Synthetic::Interp,
        Synthetic::GnuHash,
        Synthetic::Hash,
        Synthetic::DynSym,
        Synthetic::DynStr,
        Synthetic::VerSym,
        Synthetic::VerDef,
        Synthetic::VerNeed,
        Synthetic::RelaDynRelative,
        Synthetic::RelaDyn,
        Synthetic::Dynamic,
        Synthetic::Copy,
        Synthetic::CopyRelro,
        Synthetic::Stubs,
        Synthetic::BuildId,
        Synthetic::GnuProperty,
        Synthetic::RelaPlt,
        Synthetic::Plt,
        Synthetic::EhFrameHdr,
        Synthetic::Got,
        Synthetic::GotPlt,
        Synthetic::InitStubSlot,
        Synthetic::ModuleData,
    ];

    /// The output section the piece lives in.
    pub fn home(self) -> OutId {
        match self {
            Synthetic::Interp => OutId::Interp,
            Synthetic::GnuHash => OutId::GnuHash,
            Synthetic::Hash => OutId::Hash,
            Synthetic::DynSym => OutId::DynSym,
            Synthetic::DynStr => OutId::DynStr,
            Synthetic::VerSym => OutId::VerSym,
            Synthetic::VerDef => OutId::VerDef,
            Synthetic::VerNeed => OutId::VerNeed,
            Synthetic::RelaDynRelative | Synthetic::RelaDyn => OutId::RelaDyn,
            Synthetic::Dynamic => OutId::Dynamic,
            Synthetic::Copy => OutId::Bss,
            Synthetic::CopyRelro => OutId::DataRelRo,
            Synthetic::Stubs => OutId::Text,
            Synthetic::BuildId => OutId::BuildId,
            Synthetic::GnuProperty => OutId::GnuProperty,
            Synthetic::RelaPlt => OutId::RelaPlt,
            Synthetic::Plt => OutId::Plt,
            Synthetic::EhFrameHdr => OutId::EhFrameHdr,
            Synthetic::Got => OutId::Got,
            Synthetic::GotPlt => OutId::GotPlt,
            Synthetic::InitStubSlot => OutId::InitArray,
            Synthetic::ModuleData => OutId::Data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_id_order_and_names_unique() {
        for (i, r) in ROWS.iter().enumerate() {
            assert_eq!(r.id as usize, i, "{}", r.name);
            assert_eq!(OutId::by_name(r.name.as_bytes()), Some(r.id));
        }
    }

    #[test]
    fn every_piece_is_listed_once() {
        for (i, s) in Synthetic::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
    }
}
