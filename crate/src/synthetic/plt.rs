//! Linker-made code: the stubs at the start of `.text` and `.plt` (PLT0, PLT and IPLT entries).

use super::{Extent, LinkerMade, SizeCx};
use crate::options::Options;
use crate::relocate::Values;
use crate::synthesize::{StubHome, Synth};

/// The end of the last stub in `home`.
fn stubs_end(s: &Synth, home: StubHome) -> u64 {
    s.stubs
        .iter()
        .filter(|st| st.home == home)
        .map(|st| st.offset + st.size())
        .max()
        .unwrap_or(0)
}

fn write_stubs(v: &Values<'_, '_>, home: StubHome, dst: &mut [u8]) {
    for st in v.synth.stubs.iter().filter(|s| s.home == home) {
        let (bytes, _) = v.stub_bytes(st);
        let o = st.offset as usize;
        dst[o..o + bytes.len()].copy_from_slice(&bytes);
    }
}

/// The teaching `_start` and the module-registration stubs, first in `.text`.
pub struct Stubs;

impl LinkerMade for Stubs {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        Some(Extent {
            size: stubs_end(cx.synth, StubHome::Text),
            align: 16,
        })
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        write_stubs(v, StubHome::Text, dst);
    }
}

/// `.plt`: PLT0 and an entry per imported function, then the IPLT entries (GNU ld puts those in
/// `.plt` of static executables too).
pub struct Plt;

impl LinkerMade for Plt {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        Some(Extent {
            size: stubs_end(cx.synth, StubHome::Plt),
            align: 16,
        })
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        write_stubs(v, StubHome::Plt, dst);
    }
}
