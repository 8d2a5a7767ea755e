//! A relocatable output's symbol table: the null symbol, a section symbol for each output
//! section (what relocations against the inputs' section symbols are rewritten to), each file's
//! locals (but those of sections left out), then every global once, as resolve bound it:
//! defined where its definition was placed, common (unless `-d`), or undefined (weak when no
//! reference is strong), with the most constraining visibility any input gave it.

use super::plan::{Place, Plan};
use super::Indices;
use crate::diag::Result;
use crate::input::{SymPlace, E};
use crate::options::Defsym;
use crate::resolve::{Def, Resolved, SymbolId};
use object::elf;

/// Where a symbol is, before encoding (`SHN_XINDEX` for section indices past `SHN_LORESERVE`).
#[derive(Clone, Copy)]
enum Ndx {
    Undef,
    Abs,
    Common,
    Sec(u32),
}

pub(super) struct Symtab {
    /// The entries, 24 bytes each.
    pub syms: Vec<u8>,
    pub strtab: Vec<u8>,
    /// `SHT_SYMTAB_SHNDX`: each symbol's full section index, when some index needs it.
    pub xindex: Vec<u32>,
    pub needs_xindex: bool,
    pub first_global: u32,
    /// Per file, per input symbol: its output index, 0 when left out.
    pub locals: Vec<Vec<u32>>,
    /// Per global id: its output index.
    pub globals: Vec<u32>,
    /// Per output section: its section symbol.
    pub section_syms: Vec<u32>,
}

impl Symtab {
    fn count(&self) -> u32 {
        (self.syms.len() / 24) as u32
    }

    fn push(&mut self, name: &[u8], info: u8, other: u8, ndx: Ndx, value: u64, size: u64) -> u32 {
        let at = self.count();
        let name_off = if name.is_empty() {
            0
        } else {
            let o = self.strtab.len() as u32;
            self.strtab.extend_from_slice(name);
            self.strtab.push(0);
            o
        };
        let (shndx, full) = match ndx {
            Ndx::Undef => (elf::SHN_UNDEF, 0),
            Ndx::Abs => (elf::SHN_ABS, 0),
            Ndx::Common => (elf::SHN_COMMON, 0),
            Ndx::Sec(n) if n >= u32::from(elf::SHN_LORESERVE) => {
                self.needs_xindex = true;
                (elf::SHN_XINDEX, n)
            }
            Ndx::Sec(n) => (n as u16, n),
        };
        self.syms.extend_from_slice(&name_off.to_le_bytes());
        self.syms.push(info);
        self.syms.push(other);
        self.syms.extend_from_slice(&shndx.to_le_bytes());
        self.syms.extend_from_slice(&value.to_le_bytes());
        self.syms.extend_from_slice(&size.to_le_bytes());
        self.xindex.push(full);
        at
    }
}

/// Where input symbol `i` of file `f` lands: its section's output index and value.
fn placed(
    res: &Resolved<'_>,
    plan: &Plan<'_>,
    ix: &Indices,
    f: usize,
    i: usize,
) -> Result<Option<(Ndx, u64)>> {
    let obj = &res.files[f].obj;
    let value = obj.symbols[i].st_value.get(E);
    Ok(match obj.sym_place(i)? {
        SymPlace::Undefined => Some((Ndx::Undef, value)),
        SymPlace::Absolute => Some((Ndx::Abs, value)),
        SymPlace::Common => Some((Ndx::Common, value)),
        SymPlace::Section(s) => match plan.places[f].get(s as usize) {
            Some(&Place::At { out, offset }) => Some((
                Ndx::Sec(ix.sections[out as usize]),
                value.wrapping_add(offset),
            )),
            Some(&Place::Group(g)) => Some((Ndx::Sec(ix.groups[g as usize]), value)),
            _ => None,
        },
    })
}

/// Build the table.
pub(super) fn build(res: &Resolved<'_>, plan: &Plan<'_>, ix: &Indices) -> Result<Symtab> {
    let mut t = Symtab {
        syms: Vec::new(),
        strtab: vec![0],
        xindex: Vec::new(),
        needs_xindex: false,
        first_global: 0,
        locals: Vec::with_capacity(res.files.len()),
        globals: vec![0; res.globals.len()],
        section_syms: Vec::with_capacity(plan.sections.len()),
    };
    t.push(b"", 0, 0, Ndx::Undef, 0, 0);
    for k in 0..plan.sections.len() {
        let info = elf::STT_SECTION | (elf::STB_LOCAL << 4);
        let s = t.push(b"", info, 0, Ndx::Sec(ix.sections[k]), 0, 0);
        t.section_syms.push(s);
    }
    for (f, file) in res.files.iter().enumerate() {
        let obj = &file.obj;
        let mut map = vec![0u32; obj.symbols.len()];
        let locals = obj.first_global.min(obj.symbols.len());
        for (i, sym) in obj.symbols.iter().enumerate().take(locals).skip(1) {
            if sym.st_type() == elf::STT_SECTION {
                continue;
            }
            let Some((ndx, value)) = placed(res, plan, ix, f, i)? else {
                continue;
            };
            let name = obj.sym_name(i)?;
            let size = sym.st_size.get(E);
            map[i] = t.push(name, sym.st_info, sym.st_other, ndx, value, size);
        }
        t.locals.push(map);
    }
    t.first_global = t.count();
    globals(&mut t, res, plan, ix)?;
    Ok(t)
}

/// Each global's most constraining visibility (internal, hidden, protected, default) over
/// every file that names it, and the type of its first undefined reference.
fn visibilities(res: &Resolved<'_>) -> Vec<(u8, u8)> {
    let rank = |v: u8| match v {
        elf::STV_INTERNAL => 3,
        elf::STV_HIDDEN => 2,
        elf::STV_PROTECTED => 1,
        _ => 0,
    };
    let mut out = vec![(elf::STV_DEFAULT, u8::MAX); res.globals.len()];
    for file in &res.files {
        let obj = &file.obj;
        for (k, id) in file.globals.iter().enumerate() {
            let sym = &obj.symbols[obj.first_global + k];
            let e = &mut out[id.0 as usize];
            let v = sym.st_other & 3;
            if rank(v) > rank(e.0) {
                e.0 = v;
            }
            if e.1 == u8::MAX && sym.st_shndx.get(E) == elf::SHN_UNDEF {
                e.1 = sym.st_type();
            }
        }
    }
    out
}

/// The globals, in id order (which follows the inputs).
fn globals(t: &mut Symtab, res: &Resolved<'_>, plan: &Plan<'_>, ix: &Indices) -> Result<()> {
    let vis = visibilities(res);
    for (id, g) in res.globals.iter().enumerate() {
        let (v, ref_type) = vis[id];
        let ref_type = if ref_type == u8::MAX {
            elf::STT_NOTYPE
        } else {
            ref_type
        };
        let undefined = |bind: u8| ((bind << 4) | ref_type, Ndx::Undef, 0, 0);
        let weak_or_global = if g.strong_ref || g.first_ref.is_none() {
            elf::STB_GLOBAL
        } else {
            elf::STB_WEAK
        };
        let mut name = g.name;
        let (info, ndx, value, size) = match g.def {
            Def::Defined { file, sym, .. } => {
                let obj = &res.files[file.0 as usize].obj;
                let s = &obj.symbols[sym as usize];
                // A default-version definition `foo@@V` keeps its version for the next link.
                let raw = obj.sym_name(sym as usize)?;
                if raw.len() > name.len() && raw.starts_with(name) && raw[name.len()] == b'@' {
                    name = raw;
                }
                match placed(res, plan, ix, file.0 as usize, sym as usize)? {
                    Some((ndx, value)) => (s.st_info, ndx, value, s.st_size.get(E)),
                    // Its section was collected (`--gc-sections`).
                    None if g.first_ref.is_none() => continue,
                    None => undefined(weak_or_global),
                }
            }
            Def::Common { file, sym } => {
                let s = &res.files[file.0 as usize].obj.symbols[sym as usize];
                let (size, align) = res.common(SymbolId(id as u32));
                let info = (s.st_bind() << 4) | elf::STT_OBJECT;
                match plan.commons.get(&SymbolId(id as u32)) {
                    Some(&(out, at)) => (info, Ndx::Sec(ix.sections[out as usize]), at, size),
                    None => (info, Ndx::Common, align, size),
                }
            }
            Def::Linker => match linker_value(res, g.name) {
                Some(value) => ((elf::STB_GLOBAL << 4), Ndx::Abs, value, 0),
                None => undefined(elf::STB_GLOBAL),
            },
            Def::Undefined | Def::Shared { .. } => undefined(weak_or_global),
        };
        let other = match g.def {
            Def::Defined { file, sym, .. } => {
                res.files[file.0 as usize].obj.symbols[sym as usize].st_other & !3
            }
            _ => 0,
        } | v;
        t.globals[id] = t.push(name, info, other, ndx, value, size);
    }
    Ok(())
}

/// A `--defsym NAME=NUMBER`'s value.
fn linker_value(res: &Resolved<'_>, name: &[u8]) -> Option<u64> {
    res.defsym.iter().find_map(|(n, d)| match d {
        Defsym::Value(v) if n.as_bytes() == name => Some(*v),
        _ => None,
    })
}
