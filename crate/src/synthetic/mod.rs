//! Linker-made sections as objects. Each piece the linker makes ([`Synthetic`], listed with its
//! home section in `sections.rs`) is one type implementing [`LinkerMade`]: it knows its size from
//! the synthesize phase's decisions, how to write its bytes once addresses are known, the
//! `sh_link`/`sh_info`/`sh_entsize` of the section it makes, and the `.dynamic` entries that point
//! at it. The layout places what [`extents`] lists; the write phase calls [`object`]`(what).write`
//! for each piece; the section headers and `.dynamic` ask the objects too.
//!
//! Adding a linker-made section: a row in `sections::ROWS` (name, type, flags, class, rank,
//! RELRO), a `Synthetic` variant with its home, and a type here.

mod dynamic;
mod dynsym;
mod got;
mod module;
mod plt;
mod rela;

use crate::options::Options;
use crate::relocate::Values;
pub use crate::sections::Extent;
use crate::sections::{OutId, Synthetic};
use crate::synthesize::Synth;

pub use module::synthetic_words;

/// What sizing needs besides the synthesize phase's decisions.
pub struct SizeCx<'a> {
    pub synth: &'a Synth,
    /// FDEs kept in `.eh_frame` (one `.eh_frame_hdr` table entry each).
    pub fde_count: usize,
    pub eh_frame_hdr: bool,
}

/// The header fields a linker-made section decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header {
    /// `sh_link`: the section this one refers to.
    pub link: Option<OutId>,
    /// `sh_info`: a number, or (when `info_of` is set) that section's index.
    pub info: u32,
    pub info_of: Option<OutId>,
    pub entsize: u64,
}

pub trait LinkerMade: Sync {
    /// The piece's size and alignment (size 0: not made); None when `layout::plan` places and
    /// sizes it itself (the `--init-stub` pieces, whose size depends on nothing later).
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent>;

    /// Write the piece at address `addr` into `dst` (zero-filled, exactly its size). Pieces
    /// written elsewhere (the build ID and `.eh_frame_hdr` at the end, RELATIVE entries with the
    /// sections they fix up) leave it.
    fn write(&self, v: &Values<'_, '_>, opts: &Options, addr: u64, dst: &mut [u8]);

    /// The header fields of the section this piece makes.
    fn header(&self, _v: &Values<'_, '_>) -> Header {
        Header::default()
    }

    /// The value of `.dynamic` entry `tag` when it describes this piece.
    fn dynamic_value(&self, _v: &Values<'_, '_>, _tag: u32) -> Option<u64> {
        None
    }
}

/// The object that makes `what`.
pub fn object(what: Synthetic) -> &'static dyn LinkerMade {
    match what {
        Synthetic::Interp => &dynamic::Interp,
        Synthetic::GnuHash => &dynsym::GnuHash,
        Synthetic::Hash => &dynsym::Hash,
        Synthetic::DynSym => &dynsym::DynSym,
        Synthetic::DynStr => &dynsym::DynStr,
        Synthetic::VerSym => &dynsym::VerSym,
        Synthetic::VerDef => &dynsym::VerDef,
        Synthetic::VerNeed => &dynsym::VerNeed,
        Synthetic::RelaDynRelative => &rela::RelaDynRelative,
        Synthetic::RelaDyn => &rela::RelaDyn,
        Synthetic::Dynamic => &dynamic::Dynamic,
        Synthetic::Copy => &got::Copy,
        Synthetic::CopyRelro => &got::CopyRelro,
        Synthetic::Stubs => &plt::Stubs,
        Synthetic::BuildId => &module::BuildId,
        Synthetic::GnuProperty => &module::GnuProperty,
        Synthetic::RelaPlt => &rela::RelaPlt,
        Synthetic::Plt => &plt::Plt,
        Synthetic::EhFrameHdr => &module::EhFrameHdr,
        Synthetic::Got => &got::Got,
        Synthetic::GotPlt => &got::GotPlt,
        Synthetic::InitStubSlot => &module::InitStubSlot,
        Synthetic::ModuleData => &module::ModuleData,
    }
}

/// Every linker-made piece the layout places, with its extent, in placing order.
pub fn extents(cx: &SizeCx<'_>) -> Vec<(Synthetic, Extent)> {
    Synthetic::ALL
        .iter()
        .filter_map(|&what| object(what).extent(cx).map(|e| (what, e)))
        .collect()
}

/// The header fields of known section `id` when the linker makes it.
pub fn header(v: &Values<'_, '_>, id: OutId) -> Option<Header> {
    let what = Synthetic::ALL
        .into_iter()
        .find(|s| s.home() == id && id.row().linker_only)?;
    Some(object(what).header(v))
}

/// The value of `.dynamic` entry `tag` when a linker-made piece answers it.
pub fn dynamic_value(v: &Values<'_, '_>, tag: u32) -> Option<u64> {
    Synthetic::ALL
        .into_iter()
        .find_map(|s| object(s).dynamic_value(v, tag))
}

/// The extent of a section whose size is counted in entries.
fn table(n: usize, entry: u64, align: u64) -> Option<Extent> {
    Some(Extent {
        size: entry * n as u64,
        align,
    })
}

/// Start and size of known section `id` (zeros when absent).
fn range(v: &Values<'_, '_>, id: OutId) -> (u64, u64) {
    v.layout.range(id).map_or((0, 0), |(a, b)| (a, b - a))
}
