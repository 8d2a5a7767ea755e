//! The dynamic symbol table and what describes it: `.dynsym`, `.dynstr`, `.gnu.hash`, `.hash`,
//! `.gnu.version` and `.gnu.version_r`. The dynamic plan (`dynamic.rs`) built every table but
//! `.dynsym`'s values, which need addresses.

use super::{range, table, Extent, Header, LinkerMade, SizeCx};
use crate::bytes::{put16, put32, put64};
use crate::dynamic::DynPlan;
use crate::input::E;
use crate::options::{Options, OutputKind};
use crate::relocate::Values;
use crate::resolve::{Def, SymbolId};
use crate::sections::OutId;
use crate::synthesize::SymRef;
use object::elf::*;

/// `.dynsym`: the null symbol, then one entry per dynamic symbol.
pub struct DynSym;

impl LinkerMade for DynSym {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let d = cx.synth.dynamic.as_deref();
        table(d.map_or(0, |p| p.dynsyms.len() + 1), 24, 8)
    }

    fn write(&self, v: &Values<'_, '_>, opts: &Options, _addr: u64, dst: &mut [u8]) {
        let Some(d) = v.synth.dynamic.as_deref() else {
            return;
        };
        let exec = opts.kind == OutputKind::Exec;
        for (k, &g) in d.dynsyms.iter().enumerate() {
            let e = dynsym_entry(v, d, g, exec);
            let o = 24 * (k + 1);
            put32(dst, o, d.dynsym_names[k]);
            dst[o + 4] = e.info;
            dst[o + 5] = e.other;
            put16(dst, o + 6, e.shndx);
            put64(dst, o + 8, e.value);
            put64(dst, o + 16, e.size);
        }
    }

    fn header(&self, _v: &Values<'_, '_>) -> Header {
        // sh_info: one past the last local symbol (only the null symbol is local).
        Header {
            link: Some(OutId::DynStr),
            info: 1,
            entsize: 24,
            ..Header::default()
        }
    }

    fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
        match tag {
            DT_SYMTAB => Some(range(v, OutId::DynSym).0),
            DT_SYMENT => Some(24),
            _ => None,
        }
    }
}

/// A byte table the dynamic plan built whole.
fn copy_table(dst: &mut [u8], table: Option<&[u8]>) {
    let t = table.unwrap_or(&[]);
    let n = dst.len().min(t.len());
    dst[..n].copy_from_slice(&t[..n]);
}

/// Defines a section the dynamic plan built whole: its bytes, its `sh_link`/`sh_entsize`, and
/// the `.dynamic` tag holding its address.
macro_rules! plan_table {
    ($ty:ident, $doc:literal, $field:ident, $id:expr, $link:expr, $entsize:expr, $align:expr, $tag:expr) => {
        #[doc = $doc]
        pub struct $ty;

        impl LinkerMade for $ty {
            fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
                let d = cx.synth.dynamic.as_deref();
                table(d.map_or(0, |p| p.$field.len()), 1, $align)
            }

            fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
                copy_table(dst, v.synth.dynamic.as_deref().map(|d| &d.$field[..]));
            }

            fn header(&self, _v: &Values<'_, '_>) -> Header {
                Header {
                    link: $link,
                    entsize: $entsize,
                    ..Header::default()
                }
            }

            fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
                (tag == $tag).then(|| range(v, $id).0)
            }
        }
    };
}

plan_table!(
    GnuHash,
    "`.gnu.hash`: the GNU hash table over the exported symbols.",
    gnu_hash,
    OutId::GnuHash,
    Some(OutId::DynSym),
    0,
    8,
    DT_GNU_HASH
);
plan_table!(
    Hash,
    "`.hash`: the SysV hash table (`--hash-style=sysv` or `both`).",
    sysv_hash,
    OutId::Hash,
    Some(OutId::DynSym),
    4,
    8,
    DT_HASH
);

/// `.dynstr`: the dynamic symbols' and libraries' names.
pub struct DynStr;

impl LinkerMade for DynStr {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        table(
            cx.synth.dynamic.as_deref().map_or(0, |p| p.dynstr.len()),
            1,
            1,
        )
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        copy_table(dst, v.synth.dynamic.as_deref().map(|d| &d.dynstr[..]));
    }

    fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
        let (start, size) = range(v, OutId::DynStr);
        match tag {
            DT_STRTAB => Some(start),
            DT_STRSZ => Some(size),
            _ => None,
        }
    }
}

/// `.gnu.version_r`: the versions each library's imports need.
pub struct VerNeed;

impl LinkerMade for VerNeed {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let d = cx.synth.dynamic.as_deref();
        table(d.map_or(0, |p| p.verneed.len()), 1, 8)
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        copy_table(dst, v.synth.dynamic.as_deref().map(|d| &d.verneed[..]));
    }

    fn header(&self, v: &Values<'_, '_>) -> Header {
        // sh_info: the number of entries (libraries).
        Header {
            link: Some(OutId::DynStr),
            info: v.synth.dynamic.as_deref().map_or(0, |d| d.verneed_count),
            ..Header::default()
        }
    }

    fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
        match tag {
            DT_VERNEED => Some(range(v, OutId::VerNeed).0),
            DT_VERNEEDNUM => Some(u64::from(v.synth.dynamic.as_deref()?.verneed_count)),
            _ => None,
        }
    }
}

/// `.gnu.version_d`: the versions the output defines (the base one first).
pub struct VerDef;

impl LinkerMade for VerDef {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let d = cx.synth.dynamic.as_deref();
        table(d.map_or(0, |p| p.verdef.len()), 1, 8)
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        copy_table(dst, v.synth.dynamic.as_deref().map(|d| &d.verdef[..]));
    }

    fn header(&self, v: &Values<'_, '_>) -> Header {
        // sh_info: the number of entries (versions).
        Header {
            link: Some(OutId::DynStr),
            info: v.synth.dynamic.as_deref().map_or(0, |d| d.verdef_count),
            ..Header::default()
        }
    }

    fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
        match tag {
            DT_VERDEF => Some(range(v, OutId::VerDef).0),
            DT_VERDEFNUM => Some(u64::from(v.synth.dynamic.as_deref()?.verdef_count)),
            _ => None,
        }
    }
}

/// `.gnu.version`: a version index per `.dynsym` entry, made when any import is versioned or
/// the output defines versions.
pub struct VerSym;

impl LinkerMade for VerSym {
    fn extent(&self, cx: &SizeCx<'_>) -> Option<Extent> {
        let d = cx
            .synth
            .dynamic
            .as_deref()
            .filter(|p| p.verneed_count > 0 || p.verdef_count > 0);
        table(d.map_or(0, |p| p.dynsyms.len() + 1), 2, 2)
    }

    fn write(&self, v: &Values<'_, '_>, _opts: &Options, _addr: u64, dst: &mut [u8]) {
        if let Some(d) = v.synth.dynamic.as_deref() {
            for (k, ver) in d.versym.iter().enumerate() {
                put16(dst, 2 * k, *ver);
            }
        }
    }

    fn header(&self, _v: &Values<'_, '_>) -> Header {
        Header {
            link: Some(OutId::DynSym),
            entsize: 2,
            ..Header::default()
        }
    }

    fn dynamic_value(&self, v: &Values<'_, '_>, tag: u32) -> Option<u64> {
        (tag == DT_VERSYM).then(|| range(v, OutId::VerSym).0)
    }
}

/// A `.dynsym` entry's fields besides its name.
struct Entry {
    value: u64,
    size: u64,
    info: u8,
    other: u8,
    shndx: u16,
}

/// One `.dynsym` entry: imports are undefined (a canonical PLT entry gives them a value), exports
/// and copied data are defined here. `exec`: the output is a position-dependent executable.
fn dynsym_entry(v: &Values<'_, '_>, d: &DynPlan, g: SymbolId, exec: bool) -> Entry {
    let res = v.res;
    let gl = res.global(g);
    let tls_start = v.layout.tls.map_or(0, |t| t.start);
    match gl.def {
        Def::Shared { dso, sym } => {
            let ds = &res.dsos[dso as usize].obj.syms[sym as usize];
            let ty = ds.import_type();
            // The references decide: weak only if every reference to it is weak.
            let bind = if gl.strong_ref { STB_GLOBAL } else { STB_WEAK };
            let info = (bind << 4) | ty;
            if let Some(&off) = d.copy_of.get(&g) {
                let a = v.copy_addr(off);
                return Entry {
                    value: a,
                    size: ds.size,
                    info,
                    other: 0,
                    shndx: v.layout.shndx_at(a),
                };
            }
            let canonical = d.canonical.contains(&g);
            let value = if canonical {
                v.sym_addr(SymRef::Global(g))
            } else {
                0
            };
            Entry {
                value,
                size: 0,
                info,
                other: 0,
                shndx: SHN_UNDEF,
            }
        }
        Def::Defined { file, sym, weak } => {
            let st = &res.files[file.0 as usize].obj.symbols[sym as usize];
            let bind = if weak { STB_WEAK } else { STB_GLOBAL };
            let ty = st.st_type();
            // A position-dependent executable's IFUNC is its IPLT entry, the address its own
            // code takes: exported as that function, so another module's reference gets the same
            // address and the loader never has to run this executable's resolver before it is
            // relocated (GNU ld does the same; glibc refuses an exported IFUNC of an executable
            // that a library refers to).
            if ty == STT_GNU_IFUNC && exec && v.synth.iplt_slot(SymRef::Global(g)).is_some() {
                let a = v.sym_addr(SymRef::Global(g));
                return Entry {
                    value: a,
                    size: 0,
                    info: (bind << 4) | STT_FUNC,
                    other: st.st_other & 3,
                    shndx: v.layout.shndx_at(a),
                };
            }
            let a = v.def_addr(file, sym);
            let value = if ty == STT_TLS {
                a.wrapping_sub(tls_start)
            } else {
                a
            };
            let shndx = match res.files[file.0 as usize].obj.sym_place(sym as usize) {
                Ok(crate::input::SymPlace::Absolute) => SHN_ABS,
                _ => v.layout.shndx_at(a),
            };
            Entry {
                value,
                size: st.st_size.get(E),
                info: (bind << 4) | ty,
                other: st.st_other & 3,
                shndx,
            }
        }
        Def::Common { file, sym } => {
            let a = v.def_addr(file, sym);
            let (size, _) = res.common(g);
            let st = &res.files[file.0 as usize].obj.symbols[sym as usize];
            Entry {
                value: a,
                size,
                info: (STB_GLOBAL << 4) | STT_OBJECT,
                other: st.st_other & 3,
                shndx: v.layout.shndx_at(a),
            }
        }
        Def::Linker => {
            let a = v.layout.linker_symbol(gl.name).unwrap_or(0);
            let other = match crate::layout::start_stop_section(gl.name) {
                Some(_) => v.opts.map_or(STV_PROTECTED, |o| o.start_stop_visibility),
                None => 0,
            };
            Entry {
                value: a,
                size: 0,
                info: STB_GLOBAL << 4,
                other,
                shndx: v.layout.linker_symbol_shndx(gl.name, a),
            }
        }
        Def::Undefined => {
            let bind = if gl.strong_ref { STB_GLOBAL } else { STB_WEAK };
            // The type comes from the object that refers to it: a TLS reference must stay TLS.
            let ty = gl
                .first_ref
                .and_then(|f| {
                    let file = &res.files[f.0 as usize];
                    let k = file.globals.iter().position(|&x| x == g)?;
                    file.obj
                        .symbols
                        .get(file.obj.first_global + k)
                        .map(|s| s.st_type())
                })
                .unwrap_or(STT_NOTYPE);
            Entry {
                value: 0,
                size: 0,
                info: (bind << 4) | ty,
                other: 0,
                shndx: SHN_UNDEF,
            }
        }
    }
}
