//! `.interp` and `.dynamic`. The tags `.dynamic` holds, in order, are the dynamic plan's
//! (`DynPlan::tags`); their values come from the linker-made section each describes, or from the
//! options and the known sections (init and fini arrays) here.

use super::{range, table, Extent, Header, LinkerMade, SizeCx};
use crate::bytes::put64;
use crate::dynamic::DynPlan;
use crate::options::{Options, OutputKind};
use crate::relocate::Values;
use crate::sections::OutId;
use crate::synthesize::SymRef;
use object::elf::*;

/// `.interp`: the program interpreter's path, NUL-terminated.
pub struct Interp;

impl LinkerMade for Interp {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let d = cx.synth.dynamic.as_deref();
        let n = d.and_then(|p| p.interp.as_ref()).map_or(0, |i| i.len() + 1);
        table(n, 1, 1)
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        if let Some(i) = v.synth.dynamic.as_deref().and_then(|d| d.interp.as_ref()) {
            dst[..i.len()].copy_from_slice(i.as_bytes());
        }
    }
}

/// `.dynamic`: (tag, value) pairs.
pub struct Dynamic;

impl LinkerMade for Dynamic {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        table(
            cx.synth.dynamic.as_deref().map_or(0, |p| p.tags.len()),
            16,
            8,
        )
    }

    fn write(&self, v: &Values<'_, '_>, opts: &Options, _addr: u64, dst: &mut [u8]) {
        let Some(d) = v.synth.dynamic.as_deref() else {
            return;
        };
        let mut needed = d.needed_str.iter();
        let mut auxiliary = d.auxiliary_str.iter();
        for (k, &tag) in d.tags.iter().enumerate() {
            let value = match tag {
                DT_NEEDED => u64::from(needed.next().copied().unwrap_or(0)),
                DT_AUXILIARY => u64::from(auxiliary.next().copied().unwrap_or(0)),
                _ => super::dynamic_value(v, tag).unwrap_or_else(|| own_value(v, d, tag, opts)),
            };
            put64(dst, 16 * k, u64::from(tag));
            put64(dst, 16 * k + 8, value);
        }
    }

    fn header(&self, _v: &Values<'_, '_>) -> Header {
        Header {
            link: Some(OutId::DynStr),
            entsize: 16,
            ..Header::default()
        }
    }
}

/// The value of a tag no linker-made section answers.
fn own_value(v: &Values<'_, '_>, d: &DynPlan, tag: u32, opts: &Options) -> u64 {
    let sym = |n: &[u8]| v.res.lookup(n).map_or(0, |g| v.sym_addr(SymRef::Global(g)));
    let start = |id| range(v, id).0;
    let size = |id| range(v, id).1;
    match tag {
        DT_SONAME => u64::from(d.soname_str.unwrap_or(0)),
        DT_RUNPATH | DT_RPATH => u64::from(d.rpath_str.unwrap_or(0)),
        DT_AUDIT => u64::from(d.audit_str.unwrap_or(0)),
        DT_FILTER => u64::from(d.filter_str.unwrap_or(0)),
        DT_DEPAUDIT => u64::from(d.depaudit_str.unwrap_or(0)),
        DT_INIT => sym(opts.init_symbol().as_bytes()),
        DT_FINI => sym(opts.fini_symbol().as_bytes()),
        DT_PREINIT_ARRAY => start(OutId::PreinitArray),
        DT_PREINIT_ARRAYSZ => size(OutId::PreinitArray),
        DT_INIT_ARRAY => start(OutId::InitArray),
        DT_INIT_ARRAYSZ => size(OutId::InitArray),
        DT_FINI_ARRAY => start(OutId::FiniArray),
        DT_FINI_ARRAYSZ => size(OutId::FiniArray),
        DT_FLAGS => {
            let textrel = if d.textrel_warned.is_empty() {
                0
            } else {
                DF_TEXTREL
            };
            let static_tls = if d.static_tls { DF_STATIC_TLS } else { 0 };
            let bind_now = if opts.bind_now { DF_BIND_NOW } else { 0 };
            u64::from(bind_now | opts.dt_flags | textrel | static_tls)
        }
        DT_TEXTREL => 0,
        DT_FLAGS_1 => {
            let mut f = opts.dt_flags_1;
            if opts.bind_now {
                f |= DF_1_NOW;
            }
            if opts.kind == OutputKind::Pie {
                f |= DF_1_PIE;
            }
            u64::from(f)
        }
        _ => 0,
    }
}
