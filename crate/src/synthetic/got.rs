//! `.got`, `.got.plt` and the copy-relocated data in `.bss`.

use super::{range, table, Extent, LinkerMade, SizeCx};
use crate::arch::DynKind;
use crate::bytes::put64;
use crate::dynamic::DynLoc;
use crate::options::Options;
use crate::relocate::Values;
use crate::sections::OutId;
use crate::synthesize::GotKind;
use object::elf::DT_PLTGOT;

/// `.got`: one word per (symbol, kind) the scan gave a slot; words the loader fills hold 0.
pub struct Got;

impl LinkerMade for Got {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        table(cx.synth.got.len(), 8, 8)
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        let synth = v.synth;
        let tls_start = v.layout.tls.map_or(0, |t| t.start);
        // Words the loader fills (GLOB_DAT, TPOFF64, DTPMOD64...) hold 0.
        let mut loader_filled = vec![false; synth.got.len()];
        for r in synth.dynamic.iter().flat_map(|d| d.relocs.iter()) {
            if let DynLoc::Got(k) = r.loc {
                if r.kind != DynKind::Relative {
                    if let Some(w) = loader_filled.get_mut(k as usize) {
                        *w = true;
                    }
                }
            }
        }
        for (k, &(s, kind)) in synth.got.iter().enumerate() {
            let second = k > 0 && synth.got[k - 1] == (s, kind);
            let val = if loader_filled[k] {
                0
            } else {
                match kind {
                    GotKind::Addr => v.sym_addr(s),
                    GotKind::TpOff => v.sym_addr_raw(s).wrapping_sub(v.tp()),
                    GotKind::TlsGd if second => v.sym_addr_raw(s).wrapping_sub(tls_start),
                    GotKind::TlsGd | GotKind::TlsLd | GotKind::TlsDesc => 0,
                }
            };
            put64(dst, 8 * k, val);
        }
    }
}

/// `.got.plt`: three reserved words (the first holds `.dynamic`'s address), then a slot per PLT
/// entry, then the IPLT slots.
pub struct GotPlt;

impl LinkerMade for GotPlt {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let s = cx.synth;
        let nplt = s.dynamic.as_deref().map_or(0, |p| p.plt.len() as u64);
        let words = if s.iplt.is_empty() && s.got_plt_reserved == 0 && nplt == 0 {
            0
        } else {
            s.got_plt_reserved + nplt + s.iplt.len() as u64
        };
        table(words as usize, 8, 8)
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, addr: u64, dst: &mut [u8]) {
        let Some(d) = v.synth.dynamic.as_deref() else {
            return;
        };
        put64(dst, 0, range(v, OutId::Dynamic).0);
        // Lazy binding: each slot starts at its PLT entry's `push`.
        for k in 0..d.plt.len() {
            let slot = (v.got_plt_slot(k as u32) - addr) as usize;
            let entry = v.plt + crate::arch::PLT_ENTRY_SIZE * (k as u64 + 1);
            put64(dst, slot, entry + crate::arch::PLT_LAZY_PUSH_AT);
        }
    }

    fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
        (tag == DT_PLTGOT).then(|| range(v, OutId::GotPlt).0)
    }
}

/// Data copied from shared objects by copy relocations, at the end of `.bss` (the loader copies
/// it; nothing to write).
pub struct Copy;

impl LinkerMade for Copy {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let d = cx.synth.dynamic.as_deref();
        Some(Extent {
            size: d.map_or(0, |p| p.copy_size),
            align: d.map_or(1, |p| p.copy_align),
        })
    }

    fn write(&self, _v: &Values<'_, '_>, _opts: &Options, _addr: u64, _dst: &mut [u8]) {}
}

/// Copies of data a shared object keeps in a read-only section, in `.data.rel.ro` (as GNU ld's
/// `.data.rel.ro` for copy relocations): the loader copies it, then protects it with the rest
/// of `PT_GNU_RELRO`. The file holds zeros.
pub struct CopyRelro;

impl LinkerMade for CopyRelro {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let d = cx.synth.dynamic.as_deref();
        Some(Extent {
            size: d.map_or(0, |p| p.copy_relro_size),
            align: d.map_or(1, |p| p.copy_relro_align),
        })
    }

    fn write(&self, _v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        dst.fill(0);
    }
}
