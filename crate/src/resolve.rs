//! Resolve phase: walk the command line left to right as GNU ld does, load archive members only to
//! satisfy strong undefined references (rescanning `--start-group` groups until nothing changes),
//! keep the first COMDAT group of each signature, and bind every global name to one definition.
//! Undefined symbols are not errors here: only a relocation in a kept section makes one fatal.

use crate::diag::{name_str, Diagnostic, Errors, Result};
use crate::dso::SharedObject;
use crate::input::{classify, Archive, FileKind, InputItem, Object, SymPlace, E};
use object::elf;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymbolId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Def {
    Undefined,
    /// Defined by symbol `sym` of `file` (in a kept section, or absolute).
    Defined {
        file: FileId,
        sym: u32,
        weak: bool,
    },
    /// A common symbol: the largest size wins, allocated in `.bss` by layout.
    Common {
        file: FileId,
        sym: u32,
        size: u64,
        align: u64,
    },
    /// Provided by the linker (`__init_array_start`, `__start_SEC`, ...): layout gives the value.
    Linker,
    /// Defined by shared object `dso` (its symbol `sym`): bound at load time.
    Shared {
        dso: u32,
        sym: u32,
    },
}

#[derive(Debug, Clone)]
pub struct Global<'a> {
    pub name: &'a [u8],
    pub def: Def,
    /// Some reference is not weak (only strong references pull archive members or are fatal).
    pub strong_ref: bool,
    /// The first file that referenced the symbol, for "why was this member loaded".
    pub first_ref: Option<FileId>,
    /// A shared object refers to it: an executable must export its definition.
    pub dso_ref: bool,
}

pub struct Dso<'a> {
    pub obj: SharedObject<'a>,
    pub as_needed: bool,
    /// Gets a `DT_NEEDED` entry (not `--as-needed`, or something it defines is used).
    pub needed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    CommandLine,
    Member {
        archive: String,
        member: String,
        symbol: String,
        referenced_by: Option<String>,
    },
}

pub struct File<'a> {
    pub obj: Object<'a>,
    pub origin: Origin,
    /// Global symbol id of each symbol at index `first_global + k`.
    pub globals: Vec<SymbolId>,
    /// Sections dropped because another file's COMDAT group with the same signature was kept.
    pub discarded: Vec<bool>,
}

impl<'a> File<'a> {
    /// Global id for symbol `i`, or None for locals.
    pub fn global(&self, i: usize) -> Option<SymbolId> {
        i.checked_sub(self.obj.first_global)
            .and_then(|k| self.globals.get(k).copied())
    }
}

pub struct Resolved<'a> {
    pub files: Vec<File<'a>>,
    pub globals: Vec<Global<'a>>,
    pub names: FxHashMap<&'a [u8], SymbolId>,
    /// Archives seen, with how many members were loaded from each, for the report.
    pub archives: Vec<(String, usize, usize)>,
    pub dsos: Vec<Dso<'a>>,
}

impl<'a> Resolved<'a> {
    pub fn lookup(&self, name: &[u8]) -> Option<SymbolId> {
        self.names.get(name).copied()
    }
    pub fn global(&self, id: SymbolId) -> &Global<'a> {
        &self.globals[id.0 as usize]
    }
}

struct Resolver<'a> {
    files: Vec<File<'a>>,
    globals: Vec<Global<'a>>,
    names: FxHashMap<&'a [u8], SymbolId>,
    comdats: FxHashMap<&'a [u8], FileId>,
    errors: Vec<Diagnostic>,
    dsos: Vec<Dso<'a>>,
}

impl<'a> Resolver<'a> {
    fn intern(&mut self, name: &'a [u8]) -> SymbolId {
        let globals = &mut self.globals;
        *self.names.entry(name).or_insert_with(|| {
            globals.push(Global {
                name,
                def: Def::Undefined,
                strong_ref: false,
                first_ref: None,
                dso_ref: false,
            });
            SymbolId(globals.len() as u32 - 1)
        })
    }

    fn add_object(&mut self, obj: Object<'a>, origin: Origin) -> Result<()> {
        let fid = FileId(self.files.len() as u32);
        let mut discarded = vec![false; obj.sections.len()];
        for (sig, members) in &obj.comdat_groups {
            match self.comdats.get(sig) {
                Some(_) => {
                    for &m in members {
                        discarded[m as usize] = true;
                    }
                }
                None => {
                    self.comdats.insert(sig, fid);
                }
            }
        }
        let mut globals = Vec::with_capacity(obj.symbols.len().saturating_sub(obj.first_global));
        for i in obj.first_global..obj.symbols.len() {
            let sym = &obj.symbols[i];
            let name = obj.sym_name(i)?;
            let id = self.intern(name);
            globals.push(id);
            let bind = sym.st_bind();
            let weak = bind == elf::STB_WEAK;
            let mut place = obj.sym_place(i)?;
            if let SymPlace::Section(s) = place {
                if discarded[s as usize] {
                    place = SymPlace::Undefined;
                }
            }
            let g = &mut self.globals[id.0 as usize];
            match place {
                SymPlace::Undefined => {
                    if !weak {
                        g.strong_ref = true;
                    }
                    if g.first_ref.is_none() {
                        g.first_ref = Some(fid);
                    }
                }
                SymPlace::Common => {
                    let size = sym.st_size.get(E);
                    let align = sym.st_value.get(E).max(1);
                    match g.def {
                        Def::Undefined | Def::Linker | Def::Shared { .. } => {
                            g.def = Def::Common {
                                file: fid,
                                sym: i as u32,
                                size,
                                align,
                            }
                        }
                        Def::Defined { weak: true, .. } => {
                            g.def = Def::Common {
                                file: fid,
                                sym: i as u32,
                                size,
                                align,
                            }
                        }
                        Def::Common {
                            file,
                            sym,
                            size: s0,
                            align: a0,
                        } => {
                            let (f, sy) = if size > s0 {
                                (fid, i as u32)
                            } else {
                                (file, sym)
                            };
                            g.def = Def::Common {
                                file: f,
                                sym: sy,
                                size: size.max(s0),
                                align: align.max(a0),
                            };
                        }
                        Def::Defined { weak: false, .. } => {}
                    }
                }
                SymPlace::Absolute | SymPlace::Section(_) => match g.def {
                    Def::Undefined | Def::Linker | Def::Common { .. } | Def::Shared { .. } => {
                        // A strong definition overrides a common one; a weak one does not.
                        if !(weak && matches!(g.def, Def::Common { .. })) {
                            g.def = Def::Defined {
                                file: fid,
                                sym: i as u32,
                                weak,
                            }
                        }
                    }
                    Def::Defined { weak: true, .. } if !weak => {
                        g.def = Def::Defined {
                            file: fid,
                            sym: i as u32,
                            weak,
                        }
                    }
                    Def::Defined { weak: true, .. } => {}
                    Def::Defined {
                        file, weak: false, ..
                    } => {
                        if !weak {
                            let other = self
                                .files
                                .get(file.0 as usize)
                                .map(|f| f.obj.name.clone())
                                .unwrap_or_default();
                            self.errors.push(
                                Diagnostic::error(format!("duplicate symbol: {}", name_str(name)))
                                    .symbol(name_str(name))
                                    .note(format!("defined in {other}"))
                                    .note(format!("defined in {}", obj.name)),
                            );
                        }
                    }
                },
            }
        }
        self.files.push(File {
            obj,
            origin,
            globals,
            discarded,
        });
        Ok(())
    }

    fn add_shared(&mut self, obj: SharedObject<'a>, as_needed: bool) {
        let d = self.dsos.len() as u32;
        for (k, s) in obj.syms.iter().enumerate() {
            let id = self.intern(s.name);
            let g = &mut self.globals[id.0 as usize];
            if s.defined {
                if g.def == Def::Undefined {
                    g.def = Def::Shared {
                        dso: d,
                        sym: k as u32,
                    };
                }
            } else {
                g.dso_ref = true;
            }
        }
        self.dsos.push(Dso {
            obj,
            as_needed,
            needed: !as_needed,
        });
    }

    /// One pass over an archive's index; loads each member that defines a strongly referenced,
    /// still undefined symbol. Returns how many members it loaded.
    fn scan_archive(&mut self, ar: &Archive<'a>, loaded: &mut Vec<u64>) -> Result<usize> {
        let mut count = 0;
        loop {
            let mut changed = false;
            for &(name, off) in &ar.index {
                let Some(&id) = self.names.get(name) else {
                    continue;
                };
                let g = &self.globals[id.0 as usize];
                if g.def != Def::Undefined || !g.strong_ref || loaded.contains(&off) {
                    continue;
                }
                let referenced_by = g
                    .first_ref
                    .map(|f| self.files[f.0 as usize].obj.name.clone());
                loaded.push(off);
                let (member, obj) = ar.member(off)?;
                let origin = Origin::Member {
                    archive: ar.name.clone(),
                    member,
                    symbol: name_str(name),
                    referenced_by,
                };
                self.add_object(obj, origin)?;
                count += 1;
                changed = true;
            }
            if !changed {
                return Ok(count);
            }
        }
    }
}

pub fn resolve<'a>(
    items: &[InputItem<'a>],
    undefined: &'a [String],
    register: Option<&'a str>,
    static_link: bool,
) -> Result<Resolved<'a>> {
    let mut r = Resolver {
        files: Vec::new(),
        globals: Vec::new(),
        names: FxHashMap::default(),
        comdats: FxHashMap::default(),
        errors: Vec::new(),
        dsos: Vec::new(),
    };
    let mut as_needed = false;
    // `-u` names: strong references before any input, so archives pull their definitions.
    for u in undefined.iter().map(String::as_str).chain(register) {
        let id = r.intern(u.as_bytes());
        r.globals[id.0 as usize].strong_ref = true;
    }
    let mut archives: Vec<(Archive<'a>, Vec<u64>)> = Vec::new();
    let mut group_start: Option<usize> = None;
    // Objects named on the command line are parsed (and validated) up front, in parallel natively;
    // the walk below stays sequential and in order, so results and errors do not change.
    let mut parsed = parse_objects(items);
    // Room for the command line's objects' globals up front (rehashing showed in profiles).
    let globals: usize = parsed
        .iter()
        .flatten()
        .flatten()
        .map(|o| o.symbols.len().saturating_sub(o.first_global))
        .sum();
    r.names.reserve(globals);
    r.globals.reserve(globals);
    for (index, item) in items.iter().enumerate() {
        match item {
            InputItem::StartGroup => group_start = Some(archives.len()),
            InputItem::AsNeeded(a) => as_needed = *a,
            InputItem::EndGroup => {
                if let Some(start) = group_start.take() {
                    loop {
                        let mut n = 0;
                        for k in start..archives.len() {
                            let (ar, loaded) = &mut archives[k];
                            n += r.scan_archive(ar, loaded)?;
                        }
                        if n == 0 {
                            break;
                        }
                    }
                }
            }
            InputItem::File(input) => {
                // A shared-object description stands in for the library it describes.
                let kind = if crate::dso::is_description(input.data) {
                    FileKind::SharedObject
                } else {
                    classify(input.data)
                };
                match kind {
                    FileKind::Object => {
                        let obj = match parsed[index].take() {
                            Some(o) => o?,
                            None => Object::parse(input.name.clone(), input.data)?,
                        };
                        r.add_object(obj, Origin::CommandLine)?;
                    }
                    FileKind::Archive => {
                        let ar = Archive::parse(input.name.clone(), input.data)?;
                        let mut loaded = Vec::new();
                        if group_start.is_none() {
                            r.scan_archive(&ar, &mut loaded)?;
                        }
                        archives.push((ar, loaded));
                    }
                    FileKind::ThinArchive => {
                        return Err(Diagnostic::error("thin archives are not supported yet")
                            .file(input.name.clone())
                            .into())
                    }
                    FileKind::SharedObject => {
                        if static_link {
                            return Err(Diagnostic::error("shared object given to a -static link")
                                .file(input.name.clone())
                                .into());
                        }
                        let dso = if crate::dso::is_description(input.data) {
                            SharedObject::parse_description(input.name.clone(), input.data)?
                        } else {
                            SharedObject::parse(input.name.clone(), input.data)?
                        };
                        r.add_shared(dso, as_needed);
                    }
                    FileKind::Text => {
                        return Err(Diagnostic::error("linker scripts are not supported yet")
                            .file(input.name.clone())
                            .into())
                    }
                    FileKind::Unknown => {
                        return Err(Diagnostic::error(
                            "unknown file type: not an ELF object or ar archive",
                        )
                        .file(input.name.clone())
                        .into())
                    }
                }
            }
        }
    }
    if !r.errors.is_empty() {
        return Err(Errors(r.errors));
    }
    // `--as-needed`: a shared object is needed when a regular object uses something it defines.
    // (As GNU ld: only a non-weak reference from a regular object makes it needed.)
    for g in &r.globals {
        if let Def::Shared { dso, .. } = g.def {
            if g.first_ref.is_some() && g.strong_ref {
                r.dsos[dso as usize].needed = true;
            }
        }
    }
    for g in r.globals.iter_mut() {
        if let Def::Shared { dso, .. } = g.def {
            if !r.dsos[dso as usize].needed {
                g.def = Def::Undefined;
            }
        }
    }
    let archives = archives
        .iter()
        .map(|(a, l)| (a.name.clone(), a.index.len(), l.len()))
        .collect();
    Ok(Resolved {
        files: r.files,
        globals: r.globals,
        names: r.names,
        archives,
        dsos: r.dsos,
    })
}

fn parse_objects<'a>(items: &[InputItem<'a>]) -> Vec<Option<Result<Object<'a>>>> {
    let one = |item: &InputItem<'a>| match item {
        InputItem::File(f) if classify(f.data) == FileKind::Object => {
            Some(Object::parse(f.name.clone(), f.data))
        }
        _ => None,
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        items.par_iter().map(one).collect()
    }
    #[cfg(target_arch = "wasm32")]
    {
        items.iter().map(one).collect()
    }
}
