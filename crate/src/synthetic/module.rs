//! Pieces that are words or notes: the `--init-stub` slot and module description (placed by
//! `layout::plan`), and the two sections written once the rest of the file is (the build ID
//! hashes the file; `.eh_frame_hdr` indexes `.eh_frame` as written).

use super::{Extent, LinkerMade, SizeCx};
use crate::bytes::put64;
use crate::layout::{MODULE_DATA_SIZE, MODULE_DATA_VERSION};
use crate::options::Options;
use crate::relocate::Values;
use crate::sections::{OutId, Synthetic};

fn write_words(v: &Values<'_, '_>, what: Synthetic, opts: &Options, dst: &mut [u8]) {
    for (k, w) in synthetic_words(v, what, opts).iter().enumerate() {
        put64(dst, 8 * k, *w);
    }
}

/// The `.init_array` slot holding the registration stub's address (first in the array).
pub struct InitStubSlot;

impl LinkerMade for InitStubSlot {
    fn extent(&self, _cx: &SizeCx<'_>) -> Option<Extent> {
        None
    }

    fn write(&self, v: &Values<'_, '_>, opts: &Options, _addr: u64, dst: &mut [u8]) {
        write_words(v, Synthetic::InitStubSlot, opts, dst);
    }
}

/// `struct initlink_module` and the module's name after it, in `.data`.
pub struct ModuleData;

impl LinkerMade for ModuleData {
    fn extent(&self, _cx: &SizeCx<'_>) -> Option<Extent> {
        None
    }

    fn write(&self, v: &Values<'_, '_>, opts: &Options, _addr: u64, dst: &mut [u8]) {
        write_words(v, Synthetic::ModuleData, opts, dst);
        let at = MODULE_DATA_SIZE as usize;
        dst[at..at + opts.output.len()].copy_from_slice(opts.output.as_bytes());
    }
}

/// `.note.gnu.build-id`: written last, from the finished file's bytes.
pub struct BuildId;

impl LinkerMade for BuildId {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        Some(Extent {
            size: cx.synth.build_id_size,
            align: 4,
        })
    }

    fn write(&self, _v: &Values<'_, '_>, _opts: &Options, _addr: u64, _dst: &mut [u8]) {}
}

/// `.note.gnu.property`: one `NT_GNU_PROPERTY_TYPE_0` note with the merged properties.
pub struct GnuProperty;

impl LinkerMade for GnuProperty {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        Some(Extent {
            size: crate::property::note_size(&cx.synth.gnu_property),
            align: 8,
        })
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        crate::property::write_note(&v.synth.gnu_property, dst);
    }
}

/// `.eh_frame_hdr`: a header and a sorted table of (function address, FDE address), written once
/// `.eh_frame` is.
pub struct EhFrameHdr;

impl LinkerMade for EhFrameHdr {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let size = if cx.eh_frame_hdr {
            12 + 8 * cx.fde_count as u64
        } else {
            0
        };
        Some(Extent { size, align: 4 })
    }

    fn write(&self, _v: &Values<'_, '_>, _opts: &Options, _addr: u64, _dst: &mut [u8]) {}
}

pub fn synthetic_words(v: &Values<'_, '_>, what: Synthetic, _opts: &Options) -> Vec<u64> {
    let layout = v.layout;
    match what {
        Synthetic::InitStubSlot => {
            vec![v
                .synth
                .init_stub
                .map_or(0, |i| v.stub_addr(&v.synth.stubs[i]))]
        }
        Synthetic::ModuleData => {
            let me = crate::relocate::synth_piece_addr(layout, Synthetic::ModuleData);
            let edata = layout.linker_symbol(b"_edata").unwrap_or(me);
            let end = layout.linker_symbol(b"_end").unwrap_or(me);
            let range = |id, fallback: u64| layout.range(id).unwrap_or((fallback, fallback));
            let (ts, te) = range(OutId::Text, me);
            let (ds, de) = range(OutId::Data, edata);
            let (bs, be) = range(OutId::Bss, end);
            let (is, ie) = range(OutId::InitArray, me);
            let header = u64::from(MODULE_DATA_VERSION) | ((MODULE_DATA_SIZE) << 32);
            vec![
                header,
                0,
                me + MODULE_DATA_SIZE,
                ts,
                te,
                ds,
                de,
                bs,
                be,
                is,
                (ie - is) / 8,
            ]
        }
        _ => Vec::new(),
    }
}
