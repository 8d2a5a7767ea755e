//! `.rela.dyn` (the RELATIVE entries at input sites first, then the rest) and `.rela.plt`.

use super::{range, table, Extent, Header, LinkerMade, SizeCx};
use crate::arch::{dyn_type, DynKind};
use crate::bytes::put64;
use crate::dynamic::{DynLoc, DynReloc};
use crate::options::Options;
use crate::relocate::Values;
use crate::sections::OutId;
use crate::synthesize::SymRef;
use object::elf::{
    DT_JMPREL, DT_PLTREL, DT_PLTRELSZ, DT_RELA, DT_RELAENT, DT_RELASZ, SHT_FINI_ARRAY,
    SHT_INIT_ARRAY,
};

/// The RELATIVE entries at input sites: counted by the scan, written by the write phase with
/// the sections they fix up (each write job gets its share, in address order).
pub struct RelaDynRelative;

impl LinkerMade for RelaDynRelative {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let n = cx.synth.dynamic.as_deref().map_or(0, |p| p.relative_count);
        table(n, 24, 8)
    }

    fn write(&self, _v: &Values<'_, '_>, _opts: &Options, _addr: u64, _dst: &mut [u8]) {}

    fn header(&self, v: &Values<'_, '_>) -> Header {
        RelaDyn.header(v)
    }
}

/// The dynamic relocations the scan listed (GOT slots, copy relocations, symbolic words...),
/// RELATIVE first as GNU ld orders them (the loader can batch them).
pub struct RelaDyn;

impl LinkerMade for RelaDyn {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        table(
            cx.synth.dynamic.as_deref().map_or(0, |p| p.relocs.len()),
            24,
            8,
        )
    }

    fn write(&self, v: &Values<'_, '_>, opts: &Options, _addr: u64, dst: &mut [u8]) {
        let Some(d) = v.synth.dynamic.as_deref() else {
            return;
        };
        let relative = |r: &&DynReloc| r.kind == DynKind::Relative;
        let order: Vec<&DynReloc> = d
            .relocs
            .iter()
            .filter(relative)
            .chain(d.relocs.iter().filter(|r| !relative(r)))
            .collect();
        let entry = |(e, r): (&mut [u8], &&DynReloc)| {
            let sym = r
                .sym
                .and_then(|g| d.dynsym_index.get(&g).copied())
                .unwrap_or(0);
            put64(e, 0, dyn_loc_addr(v, r.loc));
            put64(e, 8, (u64::from(sym) << 32) | u64::from(r.r_type()));
            put64(e, 16, addend(v, opts, r));
        };
        // One entry per pointer in the data, natively in parallel.
        crate::par::zip_chunks_mut(dst, 24, &order, 4096, entry);
    }

    fn header(&self, _v: &Values<'_, '_>) -> Header {
        Header {
            link: Some(OutId::DynSym),
            entsize: 24,
            ..Header::default()
        }
    }

    fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
        let (start, size) = range(v, OutId::RelaDyn);
        match tag {
            DT_RELA => Some(start),
            DT_RELASZ => Some(size),
            DT_RELAENT => Some(24),
            _ => None,
        }
    }
}

/// The addend of a dynamic relocation: the link-time address for RELATIVE, the offset in the
/// TLS block for TPOFF64.
fn addend(v: &Values<'_, '_>, opts: &Options, r: &DynReloc) -> u64 {
    let tls_start = v.layout.tls.map_or(0, |t| t.start);
    match (r.kind, r.target) {
        (DynKind::Relative, Some(t)) => v.s_plus_a(t, r.addend),
        (DynKind::Relative, None) => match r.loc {
            DynLoc::Synthetic { what, off } => super::synthetic_words(v, what, opts)
                .get((off / 8) as usize)
                .copied()
                .unwrap_or(0),
            _ => r.addend as u64,
        },
        (DynKind::TlsDescriptor, Some(t)) => v
            .sym_addr_raw(t)
            .wrapping_sub(tls_start)
            .wrapping_add(r.addend as u64),
        (DynKind::TpOffset, Some(t)) => v
            .sym_addr_raw(t)
            .wrapping_sub(tls_start)
            .wrapping_add(r.addend as u64),
        _ => r.addend as u64,
    }
}

/// Where a dynamic relocation applies, as an address.
fn dyn_loc_addr(v: &Values<'_, '_>, loc: DynLoc) -> u64 {
    match loc {
        DynLoc::Got(k) => v.got + 8 * u64::from(k),
        DynLoc::Input { file, sec, off } => {
            // A `.ctors` section folded into `.init_array` was reversed word by word: its
            // relocations move with the words.
            let mut off = off;
            if let Some((out, _)) = v.layout.input_out(file, sec) {
                let os = &v.layout.sections[out as usize];
                if os.sh_type == SHT_INIT_ARRAY || os.sh_type == SHT_FINI_ARRAY {
                    let src = crate::layout::PieceSrc::Input { file, sec };
                    if let Some(p) = os.pieces.iter().find(|p| p.src == src && p.from_ctors) {
                        off = (p.size - 8).wrapping_sub(off & !7) + (off & 7);
                    }
                }
            }
            v.layout.input_addr(file, sec, off).unwrap_or(0)
        }
        DynLoc::Copy(g) => v.sym_addr(SymRef::Global(g)),
        DynLoc::Synthetic { what, off } => crate::relocate::synth_piece_addr(v.layout, what) + off,
    }
}

/// `.rela.plt`: a `JUMP_SLOT` per PLT entry, then an `IRELATIVE` per IPLT entry.
pub struct RelaPlt;

impl LinkerMade for RelaPlt {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let nplt = cx.synth.dynamic.as_deref().map_or(0, |p| p.plt.len());
        table(nplt + cx.synth.iplt.len(), 24, 8)
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        let mut k = 0;
        if let Some(d) = v.synth.dynamic.as_deref() {
            for (i, s) in d.plt.iter().enumerate() {
                let sym = match s {
                    SymRef::Global(g) => d.dynsym_index.get(g).copied().unwrap_or(0),
                    _ => 0,
                };
                put64(dst, 24 * k, v.got_plt_slot(i as u32));
                put64(
                    dst,
                    24 * k + 8,
                    (u64::from(sym) << 32) | u64::from(dyn_type(DynKind::PltSlot)),
                );
                k += 1;
            }
        }
        for (i, &s) in v.synth.iplt.iter().enumerate() {
            put64(dst, 24 * k, v.iplt_got_slot(i as u32));
            put64(dst, 24 * k + 8, u64::from(dyn_type(DynKind::IRelative)));
            put64(dst, 24 * k + 16, v.sym_addr_raw(s));
            k += 1;
        }
    }

    fn header(&self, _v: &Values<'_, '_>) -> Header {
        // SHF_INFO_LINK: sh_info is the section the entries fix up.
        Header {
            link: Some(OutId::DynSym),
            info_of: Some(OutId::GotPlt),
            entsize: 24,
            ..Header::default()
        }
    }

    fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
        let (start, size) = range(v, OutId::RelaPlt);
        match tag {
            DT_PLTRELSZ => Some(size),
            DT_PLTREL => Some(u64::from(DT_RELA)),
            DT_JMPREL => Some(start),
            _ => None,
        }
    }
}
