//! Resolve phase: walk the command line left to right as GNU ld does, load archive members only to
//! satisfy strong undefined references (rescanning `--start-group` groups until nothing changes),
//! keep the first COMDAT group of each signature, and bind every global name to one definition.
//! Undefined symbols are not errors here: only a relocation in a kept section makes one fatal.

use crate::diag::{name_str, Diagnostic, Errors, Result};
use crate::dso::SharedObject;
use crate::input::{classify, name_hash, Archive, FileKind, InputItem, Object, SymPlace, E};
use crate::ir::{Claim, IrSymbol, Offered};
use object::elf;
use rustc_hash::{FxHashMap, FxHashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymbolId(pub u32);

/// A symbol as a relocation names it: a global (resolved across files) or a file's local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymRef {
    Global(SymbolId),
    Local(FileId, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Def {
    Undefined,
    /// Defined by symbol `sym` of `file` (in a kept section, or absolute).
    Defined {
        file: FileId,
        sym: u32,
        weak: bool,
    },
    /// A common symbol: the largest size wins, allocated in `.bss` by layout (its size and
    /// alignment, the largest of all its commons, are in [`Resolved::commons`]: kept out of
    /// here, they would double the size of every global).
    Common {
        file: FileId,
        sym: u32,
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
    /// `--defsym NAME=NUMBER`: an absolute value, not an address in the image (no relocation
    /// moves it in a PIE or shared object).
    pub absolute: bool,
    /// Some object gives it a non-default visibility (hidden, internal or protected): while
    /// undefined, it is never left to the loader (GNU ld resolves an undefined weak one to 0).
    pub non_default: bool,
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
    /// A member of an archive given under `--whole-archive`: loaded because it is there.
    WholeArchive {
        archive: String,
        member: String,
    },
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

/// Global names to ids. Entries carry the name's full hash, so probing compares hashes and touches
/// a name's bytes only on a match; the hashes come precomputed from the parallel object parse.
#[derive(Default)]
pub struct Names {
    table: hashbrown::HashTable<(u64, SymbolId)>,
}

impl Names {
    fn find(&self, hash: u64, name: &[u8], globals: &[Global<'_>]) -> Option<SymbolId> {
        self.table
            .find(hash, |&(h, id)| {
                h == hash && globals.get(id.0 as usize).is_some_and(|g| g.name == name)
            })
            .map(|&(_, id)| id)
    }
}

pub struct Resolved<'a> {
    pub files: Vec<File<'a>>,
    pub globals: Vec<Global<'a>>,
    pub names: Names,
    /// Archives seen, with how many members were loaded from each, for the report.
    pub archives: Vec<(String, usize, usize)>,
    pub dsos: Vec<Dso<'a>>,
    /// One byte of [`fact`]s per global, set by [`Resolved::settle_facts`].
    pub facts: Vec<u8>,
    /// (size, alignment) of each [`Def::Common`] global.
    pub commons: FxHashMap<SymbolId, (u64, u64)>,
    /// How each global binds in a dynamic output ([`bind`] bits), when a version script, dynamic
    /// list or export option decides it (`symver::settle`); empty: by visibility alone.
    pub binding: Vec<u8>,
    /// References of the needed shared objects that nothing in the link defines: (the shared
    /// object, the name), for `--no-allow-shlib-undefined`.
    pub shlib_undefined: Vec<(u32, &'a [u8])>,
    /// `--warn-common`'s warnings, in input order.
    pub warnings: Vec<Diagnostic>,
    /// The `--defsym`s and script assignments that define their symbol (a `PROVIDE` that no
    /// reference needs is not one), in order.
    pub defsym: Vec<(String, crate::options::Defsym)>,
    /// Every undefined symbol is 0, resolved here ([`fact::LOCAL_UNDEF`]): an executable with
    /// no dynamic linker (a static PIE) has nobody to resolve it later (GNU ld's `nointerp`).
    pub undef_local: bool,
    /// Every weakly referenced undefined symbol is 0, resolved here and kept out of `.dynsym`
    /// (`-z nodynamic-undefined-weak`).
    pub weak_undef_local: bool,
    /// The LTO objects a linker plugin claimed (their files hold stand-ins, `ir::stand_in`).
    pub claimed: Vec<Claimed>,
}

/// An LTO object the plugin claimed.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The stand-in's file.
    pub file: FileId,
    /// The file that held it (as offered to the plugin) and where in it ([`Offered::offset`]).
    pub path: String,
    pub offset: u64,
    /// Its symbols, in the plugin's order: the stand-in's globals, in the same order.
    pub symbols: Vec<IrSymbol>,
}

/// How a global binds in a dynamic output, beyond its visibility: what a version script, a
/// dynamic list, `--exclude-libs` and `-Bsymbolic-functions` decided.
pub mod bind {
    /// Not exported, bound locally: a version script's `local:`, `--exclude-libs`, the plain
    /// name of a symbol also defined at a version of the same node.
    pub const LOCAL: u8 = 1;
    /// Exported, but bound locally: not preemptible (`-Bsymbolic-functions`, a shared object's
    /// symbols outside its dynamic list).
    pub const SYMBOLIC: u8 = 2;
    /// Exported from an executable too (`--dynamic-list`, `--export-dynamic-symbol`).
    pub const EXPORT: u8 = 4;
}

/// What the relocation scan and the write phase ask of a global's definition, one byte each:
/// asking the defining object's symbol table at every relocation was a cache miss each (a fifth
/// of the scan on crypto).
pub mod fact {
    pub const UNDEFINED: u8 = 1;
    /// Defined by a shared object.
    pub const SHARED: u8 = 2;
    /// Defined (or common) in an input object.
    pub const DEFINED: u8 = 8;
    pub const IFUNC: u8 = 16;
    pub const ABSOLUTE: u8 = 32;
    pub const DEFAULT_VISIBILITY: u8 = 64;
    /// Defined here with default visibility and not bound locally ([`super::bind`]): in a
    /// shared object, another module's definition could replace it.
    pub const PREEMPTIBLE: u8 = 4;
    /// Undefined, but some object gives it a non-default visibility: it binds here, to 0
    /// (set with [`UNDEFINED`] and [`ABSOLUTE`]), never to another module's definition.
    pub const LOCAL_UNDEF: u8 = 128;
}

impl<'a> Resolved<'a> {
    /// Settle [`Resolved::facts`] once no definition changes any more (after layout has made
    /// its linker symbols).
    pub fn settle_facts(&mut self, undef_local: bool, weak_undef_local: bool) {
        self.undef_local = undef_local;
        self.weak_undef_local = weak_undef_local;
        let one = |i: usize| self.fact_of(SymbolId(i as u32));
        self.facts = crate::par::map_range(self.globals.len(), 4096, one);
    }

    /// The [`fact`]s of global `id`.
    #[inline]
    pub fn facts(&self, id: SymbolId) -> u8 {
        match self.facts.get(id.0 as usize) {
            Some(&f) => f,
            None => self.fact_of(id),
        }
    }

    fn fact_of(&self, id: SymbolId) -> u8 {
        let g = self.global(id);
        match g.def {
            Def::Undefined
                if g.non_default
                    || self.undef_local
                    || (self.weak_undef_local && !g.strong_ref) =>
            {
                fact::UNDEFINED | fact::LOCAL_UNDEF | fact::ABSOLUTE
            }
            Def::Undefined => fact::UNDEFINED,
            Def::Shared { .. } => fact::SHARED,
            Def::Linker if g.absolute => fact::ABSOLUTE,
            Def::Linker => 0,
            Def::Defined { file, sym, .. } | Def::Common { file, sym, .. } => {
                let obj = &self.files[file.0 as usize].obj;
                let mut f = fact::DEFINED;
                if let Some(s) = obj.symbols.get(sym as usize) {
                    if s.st_type() == elf::STT_GNU_IFUNC {
                        f |= fact::IFUNC;
                    }
                    if s.st_other & 3 == elf::STV_DEFAULT {
                        f |= fact::DEFAULT_VISIBILITY;
                        let b = self.binding.get(id.0 as usize).copied().unwrap_or(0);
                        if b & (bind::LOCAL | bind::SYMBOLIC) == 0 {
                            f |= fact::PREEMPTIBLE;
                        }
                    }
                }
                if obj.sym_place(sym as usize).ok() == Some(SymPlace::Absolute) {
                    f |= fact::ABSOLUTE;
                }
                f
            }
        }
    }

    pub fn lookup(&self, name: &[u8]) -> Option<SymbolId> {
        self.names.find(name_hash(name), name, &self.globals)
    }
    pub fn global(&self, id: SymbolId) -> &Global<'a> {
        &self.globals[id.0 as usize]
    }

    /// (size, alignment) of a common global.
    pub fn common(&self, id: SymbolId) -> (u64, u64) {
        self.commons.get(&id).copied().unwrap_or((0, 1))
    }
}

/// What a common symbol met, for `--warn-common`'s words.
#[derive(Clone, Copy)]
enum CommonMeets {
    /// Another common of the same size.
    Common,
    /// A smaller common, which it replaces.
    Smaller,
    /// A larger common, which stays.
    Larger,
    /// A definition, which stays.
    Definition,
    /// (A definition meeting an earlier common, which it replaces.)
    Overridden,
}

struct Resolver<'a, 'c> {
    files: Vec<File<'a>>,
    globals: Vec<Global<'a>>,
    names: Names,
    comdats: FxHashMap<&'a [u8], FileId>,
    errors: Vec<Diagnostic>,
    dsos: Vec<Dso<'a>>,
    commons: FxHashMap<SymbolId, (u64, u64)>,
    /// `--allow-multiple-definition`: a second strong definition is ignored, not an error.
    allow_multiple_definition: bool,
    /// `--noinhibit-exec`: a duplicate definition is reported but does not fail the link.
    noinhibit_exec: bool,
    /// Globals first named by an undefined reference with a version (`foo@V`, from `.symver`).
    versioned_refs: Vec<SymbolId>,
    /// `--wrap`: the name an object's undefined reference binds to instead of the one it names
    /// (SYMBOL → `__wrap_SYMBOL`, `__real_SYMBOL` → SYMBOL).
    wrapped: FxHashMap<&'a [u8], &'a [u8]>,
    /// `--warn-common`: warn where a common symbol meets another or a definition.
    warn_common: bool,
    warnings: Vec<Diagnostic>,
    /// `-y`/`--trace-symbol` names: each file that defines or refers to one says so.
    traced: FxHashSet<&'a [u8]>,
    /// The linker plugin LTO objects are offered to (the first resolve of an LTO link).
    claim: Option<&'c mut dyn Claim<'a>>,
    claimed: Vec<Claimed>,
    /// What the plugin's compiled objects replace ([`crate::options::Options::lto_replaced`]).
    replaced: &'a crate::options::LtoReplaced,
}

impl<'a> Resolver<'a, '_> {
    fn intern(&mut self, name: &'a [u8]) -> SymbolId {
        self.intern_hashed(name_hash(name), name)
    }

    fn intern_hashed(&mut self, hash: u64, name: &'a [u8]) -> SymbolId {
        if let Some(id) = self.names.find(hash, name, &self.globals) {
            return id;
        }
        let id = SymbolId(self.globals.len() as u32);
        self.globals.push(Global {
            name,
            def: Def::Undefined,
            strong_ref: false,
            first_ref: None,
            dso_ref: false,
            absolute: false,
            non_default: false,
        });
        self.names
            .table
            .insert_unique(hash, (hash, id), |&(h, _)| h);
        id
    }

    /// Add an object of `file` (whose bytes are `base`): an LTO object is offered to the plugin
    /// first, and left out when the plugin's output replaces it.
    fn add_input(
        &mut self,
        obj: Object<'a>,
        origin: Origin,
        file: &str,
        base: &[u8],
    ) -> Result<()> {
        if obj.lto {
            self.add_lto(obj, origin, file, base)
        } else {
            self.add_object(obj, origin)
        }
    }

    #[cold]
    fn add_lto(&mut self, obj: Object<'a>, origin: Origin, file: &str, base: &[u8]) -> Result<()> {
        let (file, offset) = match base.as_ptr_range().contains(&obj.data.as_ptr()) {
            true => (
                file.to_string(),
                (obj.data.as_ptr() as usize - base.as_ptr() as usize) as u64,
            ),
            // A thin archive's member: its own file, beside the archive.
            false => (thin_member_path(file, &origin), 0),
        };
        let file = file.as_str();
        if (self.replaced.objects.iter()).any(|(f, o)| f == file && *o == offset) {
            return Ok(());
        }
        if let Some(claim) = self.claim.as_deref_mut() {
            let offered = Offered {
                file,
                offset,
                data: obj.data,
                name: &obj.name,
            };
            if let Some(symbols) = claim.claim(&offered)? {
                let bytes = claim.keep(crate::ir::stand_in(&symbols));
                let stand_in = Object::parse(obj.name.clone(), bytes)?;
                self.claimed.push(Claimed {
                    file: FileId(self.files.len() as u32),
                    path: file.to_string(),
                    offset,
                    symbols,
                });
                return self.add_object(stand_in, origin);
            }
        }
        if obj.is_slim() {
            // GNU ld's words; its code is bytecode only, which only the plugin compiles.
            return Err(Diagnostic::error("plugin needed to handle lto object")
                .file(obj.name.clone())
                .note("LTO objects need GCC's plugin (gcc passes -plugin when it links with -flto), which the playground cannot run")
                .into());
        }
        self.add_object(obj, origin)
    }

    fn add_object(&mut self, obj: Object<'a>, origin: Origin) -> Result<()> {
        let fid = FileId(self.files.len() as u32);
        let mut discarded = vec![false; obj.sections.len()];
        for (sig, members) in &obj.comdat_groups {
            let taken = self.comdats.contains_key(sig)
                || (!self.replaced.comdats.is_empty() && self.compiled_elsewhere(sig, &obj.name));
            if taken {
                for &m in members {
                    discarded[m as usize] = true;
                }
            } else {
                self.comdats.insert(sig, fid);
            }
        }
        let mut globals = Vec::with_capacity(obj.symbols.len().saturating_sub(obj.first_global));
        for (i, &(hash, name)) in (obj.first_global..).zip(&obj.global_names) {
            let sym = &obj.symbols[i];
            let mut place = obj.sym_place(i)?;
            if let SymPlace::Section(s) = place {
                if discarded[s as usize] {
                    place = SymPlace::Undefined;
                }
            }
            let id = match self.wrapped.get(name) {
                Some(&to) if place == SymPlace::Undefined => self.intern(to),
                _ => self.intern_hashed(hash, name),
            };
            globals.push(id);
            if !self.traced.is_empty() && self.traced.contains(name) {
                self.trace(&obj.name, name, place != SymPlace::Undefined);
            }
            let bind = sym.st_bind();
            let weak = bind == elf::STB_WEAK;
            if place == SymPlace::Undefined
                && obj.versioned
                && self.globals[id.0 as usize].def == Def::Undefined
                && memchr::memchr(b'@', name).is_some()
            {
                self.versioned_refs.push(id);
            }
            let g = &mut self.globals[id.0 as usize];
            if sym.st_other & 3 != elf::STV_DEFAULT {
                g.non_default = true;
            }
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
                    let here = Def::Common {
                        file: fid,
                        sym: i as u32,
                    };
                    match g.def {
                        Def::Undefined
                        | Def::Linker
                        | Def::Shared { .. }
                        | Def::Defined { weak: true, .. } => {
                            g.def = here;
                            self.commons.insert(id, (size, align));
                        }
                        Def::Common { file, .. } => {
                            let (s0, a0) = self.commons.get(&id).copied().unwrap_or((0, 1));
                            if size > s0 {
                                g.def = here;
                            }
                            self.commons.insert(id, (size.max(s0), align.max(a0)));
                            let how = match size.cmp(&s0) {
                                std::cmp::Ordering::Equal => CommonMeets::Common,
                                std::cmp::Ordering::Greater => CommonMeets::Smaller,
                                std::cmp::Ordering::Less => CommonMeets::Larger,
                            };
                            self.warn_common(name, &obj.name, file, how);
                        }
                        Def::Defined {
                            file, weak: false, ..
                        } => self.warn_common(name, &obj.name, file, CommonMeets::Definition),
                    }
                }
                SymPlace::Absolute | SymPlace::Section(_) => match g.def {
                    Def::Common { file, .. } if !weak && self.warn_common => {
                        g.def = Def::Defined {
                            file: fid,
                            sym: i as u32,
                            weak,
                        };
                        self.warn_common(name, &obj.name, file, CommonMeets::Overridden);
                    }
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
                        // `--allow-multiple-definition`: the first one stays, as in GNU ld.
                        if !weak && !self.allow_multiple_definition {
                            let other = self
                                .files
                                .get(file.0 as usize)
                                .map(|f| f.obj.name.clone())
                                .unwrap_or_default();
                            let d =
                                Diagnostic::error(format!("duplicate symbol: {}", name_str(name)))
                                    .symbol(name_str(name))
                                    .note(format!("defined in {other}"))
                                    .note(format!("defined in {}", obj.name));
                            // `--noinhibit-exec`: reported, not fatal; the first one stays.
                            match self.noinhibit_exec {
                                true => self.warnings.push(d),
                                false => self.errors.push(d),
                            }
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

    /// Whether the LTO plugin's compiled objects hold the definitions of COMDAT group `sig`,
    /// and `name` is not one of them (see [`crate::options::LtoReplaced::comdats`]).
    #[cold]
    fn compiled_elsewhere(&self, sig: &[u8], name: &str) -> bool {
        self.replaced.comdats.iter().any(|c| c.as_bytes() == sig)
            && !self.replaced.compiled.iter().any(|c| c == name)
    }

    /// `--warn-common`: GNU ld's words for a common symbol `name` of `here` meeting the common
    /// or definition of `there`, or for a definition of `here` overriding `there`'s common.
    fn warn_common(&mut self, name: &[u8], here: &str, there: FileId, how: CommonMeets) {
        if !self.warn_common {
            return;
        }
        let n = name_str(name);
        let there = self
            .files
            .get(there.0 as usize)
            .map(|f| f.obj.name.as_str())
            .unwrap_or_default();
        let (file, msg) = match how {
            CommonMeets::Common => (
                format!("{here} and {there}"),
                format!("multiple common of `{n}'"),
            ),
            CommonMeets::Smaller => (
                here.to_string(),
                format!("common of `{n}' overriding smaller common from {there}"),
            ),
            CommonMeets::Larger => (
                here.to_string(),
                format!("common of `{n}' overridden by larger common from {there}"),
            ),
            CommonMeets::Definition => (
                here.to_string(),
                format!("common of `{n}' overridden by definition from {there}"),
            ),
            CommonMeets::Overridden => (
                here.to_string(),
                format!("definition of `{n}' overriding common from {there}"),
            ),
        };
        self.warnings
            .push(Diagnostic::warning(msg).file(file).symbol(n));
    }

    /// `-y`: GNU ld's line for `file` defining or referring to the traced `name`.
    fn trace(&mut self, file: &str, name: &[u8], defines: bool) {
        let what = if defines {
            "definition of"
        } else {
            "reference to"
        };
        let msg = format!("{what} {}", name_str(name));
        self.warnings
            .push(Diagnostic::info(msg).file(file.to_string()));
    }

    fn add_shared(&mut self, obj: SharedObject<'a>, as_needed: bool) {
        let d = self.dsos.len() as u32;
        for (k, s) in obj.syms.iter().enumerate() {
            // A non-default version binds only references that name it (`bind_versioned`).
            if s.hidden {
                continue;
            }
            let id = self.intern_hashed(s.hash, s.name);
            if !self.traced.is_empty() && self.traced.contains(s.name) {
                self.trace(&obj.name, s.name, s.defined);
            }
            let g = &mut self.globals[id.0 as usize];
            // Mentioned by a shared object, defined or not: an executable's own definition of
            // it must be exported (to be the one the library sees, as GNU ld exports it).
            g.dso_ref = true;
            if s.defined && g.def == Def::Undefined {
                g.def = Def::Shared {
                    dso: d,
                    sym: k as u32,
                };
            }
        }
        self.dsos.push(Dso {
            obj,
            as_needed,
            needed: !as_needed,
        });
    }

    /// Scan an archive's index until nothing changes; loads each member that defines a strongly
    /// referenced, still undefined symbol. Returns how many members it loaded.
    fn scan_archive(&mut self, ar: &Archive<'a>, members: &mut Members) -> Result<usize> {
        // One thread asked for (RAYON_NUM_THREADS=1): no helper either.
        if members.offsets.len() >= PREFETCH_MIN && crate::par::threads() > 1 {
            return self.scan_prefetching(ar, members);
        }
        self.scan_with(
            ar,
            &members.slot,
            &members.hashes,
            &mut members.ids,
            &mut members.loaded,
            &mut |_, off| ar.member(off),
        )
    }

    /// [`Self::scan_archive`] with the members parsed ahead by a helper thread, in index order,
    /// on the otherwise idle core; see [`crate::par::parse_ahead`].
    fn scan_prefetching(&mut self, ar: &Archive<'a>, members: &mut Members) -> Result<usize> {
        let Members {
            offsets,
            slot,
            hashes,
            ids,
            loaded,
        } = members;
        let parse = |k: usize| ar.member(offsets[k]);
        crate::par::parse_ahead(loaded.clone(), &parse, &mut |take| {
            self.scan_with(ar, slot, hashes, ids, loaded, &mut |k, _| take(k))
        })
    }

    fn scan_with(
        &mut self,
        ar: &Archive<'a>,
        slot: &[u32],
        hashes: &[u64],
        ids: &mut [u32],
        loaded: &mut [bool],
        fetch: &mut dyn FnMut(usize, u64) -> Result<(String, Object<'a>)>,
    ) -> Result<usize> {
        let mut count = 0;
        // Index entries whose member was read and found to hold only a common definition of a
        // name that is common here: not read again on the next pass.
        let mut only_common: FxHashSet<usize> = FxHashSet::default();
        loop {
            let mut changed = false;
            let entries = ar.index.iter().zip(slot).zip(hashes).zip(ids.iter_mut());
            for (e, (((&(name, off), &k), &hash), known)) in entries.enumerate() {
                let k = k as usize;
                if loaded[k] {
                    continue;
                }
                // A name once interned keeps its id: later passes over the index (a big archive
                // takes several) look it up by index, not by hash.
                let id = match *known {
                    NOT_INTERNED => match self.names.find(hash, name, &self.globals) {
                        Some(id) => {
                            *known = id.0;
                            id
                        }
                        None => continue,
                    },
                    id => SymbolId(id),
                };
                let g = &self.globals[id.0 as usize];
                // A common symbol is replaced by a member's real definition, as GNU ld does
                // (`elf_link_is_defined_archive_symbol`): never by another common one.
                let replaces_common =
                    matches!(g.def, Def::Common { .. }) && !only_common.contains(&e) && {
                        let real = ar.member(off).is_ok_and(|(_, o)| defines(&o, name));
                        if !real {
                            only_common.insert(e);
                        }
                        real
                    };
                if !replaces_common && (g.def != Def::Undefined || !g.strong_ref) {
                    continue;
                }
                let referenced_by = g
                    .first_ref
                    .map(|f| self.files[f.0 as usize].obj.name.clone());
                loaded[k] = true;
                let (member, obj) = fetch(k, off)?;
                let origin = Origin::Member {
                    archive: ar.name.clone(),
                    member,
                    symbol: name_str(name),
                    referenced_by,
                };
                self.add_input(obj, origin, &ar.name, ar.data)?;
                count += 1;
                changed = true;
            }
            if !changed {
                return Ok(count);
            }
        }
    }
}

/// The file of a thin archive's member (`origin`'s), named relative to the archive's directory.
fn thin_member_path(archive: &str, origin: &Origin) -> String {
    let member = match origin {
        Origin::Member { member, .. } | Origin::WholeArchive { member, .. } => member.as_str(),
        Origin::CommandLine => return archive.to_string(),
    };
    match archive.rsplit_once('/') {
        Some((dir, _)) if !member.starts_with('/') => format!("{dir}/{member}"),
        _ => member.to_string(),
    }
}

/// Whether `obj` defines `name` strongly in one of its sections (not as a common symbol: the
/// definition that would replace a common one).
fn defines(obj: &Object<'_>, name: &[u8]) -> bool {
    (obj.first_global..)
        .zip(&obj.global_names)
        .any(|(i, &(_, n))| {
            n == name
                && obj.symbols[i].st_bind() != elf::STB_WEAK
                && matches!(obj.sym_place(i), Ok(SymPlace::Section(_)))
        })
}

impl<'a> Resolver<'a, '_> {
    /// Bind each reference that names a version (`foo@V`) and no input defines under that name:
    /// to `foo` when its definition is at version V (a default version `foo@@V` defines `foo`),
    /// else to the first shared object that defines `foo` at version V (default or not).
    fn bind_versioned(&mut self) {
        for id in std::mem::take(&mut self.versioned_refs) {
            let g = &self.globals[id.0 as usize];
            if g.def != Def::Undefined {
                continue;
            }
            let Some(at) = memchr::memchr(b'@', g.name) else {
                continue;
            };
            let base = &g.name[..at];
            let rest = &g.name[at + 1..];
            let ver = rest.strip_prefix(b"@").unwrap_or(rest);
            let plain = self.names.find(name_hash(base), base, &self.globals);
            let def = plain
                .map(|p| self.globals[p.0 as usize].def)
                .and_then(|d| match d {
                    Def::Shared { dso, sym } => {
                        let s = &self.dsos[dso as usize].obj.syms[sym as usize];
                        (s.version == Some(ver)).then_some(d)
                    }
                    Def::Defined { file, sym, .. } => {
                        let raw = self.files[file.0 as usize]
                            .obj
                            .sym_name(sym as usize)
                            .ok()?;
                        (raw.len() == base.len() + 2 + ver.len()
                            && raw.starts_with(base)
                            && raw.ends_with(ver)
                            && &raw[base.len()..base.len() + 2] == b"@@")
                            .then_some(d)
                    }
                    _ => None,
                });
            let def = def.or_else(|| {
                self.dsos.iter().enumerate().find_map(|(d, dso)| {
                    let k = dso
                        .obj
                        .syms
                        .iter()
                        .position(|s| s.defined && s.name == base && s.version == Some(ver))?;
                    Some(Def::Shared {
                        dso: d as u32,
                        sym: k as u32,
                    })
                })
            });
            if let Some(def) = def {
                self.globals[id.0 as usize].def = def;
            }
        }
    }

    /// The needed shared objects' strong references that nothing in the link defines, at the
    /// version they need.
    fn shlib_undefined(&self) -> Vec<(u32, &'a [u8])> {
        let mut out = Vec::new();
        for (d, dso) in self.dsos.iter().enumerate().filter(|(_, d)| d.needed) {
            for s in dso
                .obj
                .syms
                .iter()
                .filter(|s| !s.defined && s.bind() != elf::STB_WEAK)
            {
                let def = self
                    .names
                    .find(s.hash, s.name, &self.globals)
                    .map(|id| self.globals[id.0 as usize].def);
                let found = match (def, s.version) {
                    (Some(Def::Undefined) | None, Some(ver)) => self.dsos.iter().any(|o| {
                        o.obj
                            .syms
                            .iter()
                            .any(|x| x.defined && x.name == s.name && x.version == Some(ver))
                    }),
                    (Some(Def::Undefined) | None, None) => false,
                    _ => true,
                };
                if !found {
                    out.push((d as u32, s.name));
                }
            }
        }
        out
    }
}

/// [`Members::ids`] of an index entry whose name has no symbol yet.
const NOT_INTERNED: u32 = u32::MAX;

/// Archives with fewer members are scanned without a helper thread.
const PREFETCH_MIN: usize = 16;

/// An archive's members as its symbol index names them: each distinct member offset, in order of
/// first appearance, and whether it was loaded.
struct Members {
    offsets: Vec<u64>,
    /// The member (position in `offsets`) of each index entry.
    slot: Vec<u32>,
    /// [`name_hash`] of each index entry's name, computed once for all the passes.
    hashes: Vec<u64>,
    /// Each index entry's symbol id, once its name is interned ([`NOT_INTERNED`] until then).
    ids: Vec<u32>,
    loaded: Vec<bool>,
}

impl Members {
    fn of(ar: &Archive<'_>) -> Members {
        let mut at: FxHashMap<u64, u32> = FxHashMap::default();
        let mut offsets = Vec::new();
        let slot = ar
            .index
            .iter()
            .map(|&(_, off)| {
                *at.entry(off).or_insert_with(|| {
                    offsets.push(off);
                    offsets.len() as u32 - 1
                })
            })
            .collect();
        let loaded = vec![false; offsets.len()];
        Members {
            offsets,
            slot,
            hashes: ar.index.iter().map(|&(n, _)| name_hash(n)).collect(),
            ids: vec![NOT_INTERNED; ar.index.len()],
            loaded,
        }
    }

    fn count(&self) -> usize {
        self.loaded.iter().filter(|&&l| l).count()
    }
}

/// The resolve phase: `items` read in order, archive members loaded as references ask, every
/// name bound. `register`: the `--init-stub` register function, referenced like a `-u` symbol.
pub fn resolve<'a>(
    items: &[InputItem<'a>],
    opts: &'a crate::options::Options,
    register: Option<&'a str>,
    claim: Option<&mut dyn Claim<'a>>,
) -> Result<Resolved<'a>> {
    let (undefined, defsym, wrap) = (&opts.undefined, &opts.defsym, &opts.wrap);
    let static_link = opts.kind == crate::options::OutputKind::Static;
    let allow_multiple_definition = opts.allow_multiple_definition;
    let warn_common = opts.warn_common;
    let mut wrapped = FxHashMap::default();
    for w in wrap {
        wrapped.insert(w.symbol.as_bytes(), w.wrapper.as_bytes());
        wrapped.insert(w.real.as_bytes(), w.symbol.as_bytes());
    }
    let mut r = Resolver {
        traced: opts.trace_symbols.iter().map(|s| s.as_bytes()).collect(),
        wrapped,
        allow_multiple_definition,
        noinhibit_exec: opts.noinhibit_exec,
        warn_common,
        warnings: Vec::new(),
        files: Vec::new(),
        globals: Vec::new(),
        names: Names::default(),
        comdats: FxHashMap::default(),
        errors: Vec::new(),
        dsos: Vec::new(),
        commons: FxHashMap::default(),
        versioned_refs: Vec::new(),
        claim,
        claimed: Vec::new(),
        replaced: &opts.lto_replaced,
    };
    // `-u` names: strong references before any input, so archives pull their definitions; so
    // are the symbols `--defsym` aliases.
    let aliased = defsym.iter().filter_map(|(_, v)| match v {
        crate::options::Defsym::Symbol(t) => Some(t.as_str()),
        crate::options::Defsym::Value(_) | crate::options::Defsym::Layout => None,
    });
    for u in undefined
        .iter()
        .map(String::as_str)
        .chain(register)
        .chain(aliased)
    {
        let id = r.intern(u.as_bytes());
        r.globals[id.0 as usize].strong_ref = true;
    }
    // Objects and shared objects named on the command line are parsed (and validated, and their
    // names hashed) ahead of the walk, natively by a helper thread; the walk stays in order.
    // Room for the globals up front, from the inputs' sizes (an object spends 190-260 bytes per
    // global here); the name table grows as it goes (rehashing moves stored hashes only).
    let bytes: usize = items
        .iter()
        .map(|i| match i {
            InputItem::File(f) if classify(f.data) == FileKind::Object => f.data.len(),
            _ => 0,
        })
        .sum();
    r.globals.reserve(bytes / 128);
    let archives = with_parsed(items, bytes, &mut |take| {
        walk(&mut r, items, static_link, take)
    })?;
    // `--defsym`: NAME = a number (a linker-made symbol whose value layout gives), or an alias
    // of a symbol an input defines (the same definition) or of a linker-made one.
    let mut applied = Vec::with_capacity(defsym.len());
    for (name, value) in defsym {
        let id = r.intern(name.as_bytes());
        // `PROVIDE (NAME = VALUE)`: only for a name referred to and defined nowhere.
        let g = &r.globals[id.0 as usize];
        if opts.provide.contains(name) && (g.def != Def::Undefined || g.first_ref.is_none()) {
            continue;
        }
        applied.push((name.clone(), value.clone()));
        let def = match value {
            crate::options::Defsym::Value(_) | crate::options::Defsym::Layout => Def::Linker,
            crate::options::Defsym::Symbol(t) => {
                let target = r.intern(t.as_bytes());
                match r.globals[target.0 as usize].def {
                    d @ (Def::Defined { .. } | Def::Common { .. }) => d,
                    Def::Shared { .. } => {
                        r.errors.push(Diagnostic::error(format!(
                            "--defsym {name}={t}: an alias of a shared library's symbol is not supported yet"
                        )));
                        continue;
                    }
                    // Linker-made (`_GLOBAL_OFFSET_TABLE_`): layout gives the value; layout
                    // reports a name nothing defines.
                    Def::Undefined | Def::Linker => Def::Linker,
                }
            }
        };
        let g = &mut r.globals[id.0 as usize];
        g.def = def;
        g.absolute = matches!(value, crate::options::Defsym::Value(_));
    }
    if !r.errors.is_empty() {
        return Err(Errors(r.errors));
    }
    r.bind_versioned();
    // `--as-needed`: a shared object is needed when a regular object uses something it defines.
    // (As GNU ld: only a non-weak reference from a regular object makes it needed.)
    for g in &r.globals {
        if let Def::Shared { dso, .. } = g.def {
            if g.first_ref.is_some() && g.strong_ref {
                r.dsos[dso as usize].needed = true;
            }
        }
    }
    // Before the unneeded libraries' definitions are dropped: they still satisfy references.
    let shlib_undefined = r.shlib_undefined();
    for g in r.globals.iter_mut() {
        if let Def::Shared { dso, .. } = g.def {
            if !r.dsos[dso as usize].needed {
                g.def = Def::Undefined;
            }
        }
    }
    let archives = archives
        .iter()
        .map(|(a, m)| (a.name.clone(), a.index.len(), m.count()))
        .collect();
    Ok(Resolved {
        files: r.files,
        globals: r.globals,
        names: r.names,
        archives,
        dsos: r.dsos,
        facts: Vec::new(),
        commons: r.commons,
        binding: Vec::new(),
        shlib_undefined,
        warnings: r.warnings,
        undef_local: false,
        weak_undef_local: false,
        defsym: applied,
        claimed: r.claimed,
    })
}

/// The command line, left to right: objects added, archives scanned, shared objects added; at a
/// group's end its archives are rescanned until nothing changes. As with GNU ld, an archive in a
/// group is scanned where it stands too (before the shared objects after it: a symbol both define
/// comes from the archive), and groups nest (a linker script's `GROUP` inside `--start-group`):
/// an outer group rescans the inner one's archives as well. `take(i)` gives item `i` parsed.
fn walk<'a>(
    r: &mut Resolver<'a, '_>,
    items: &[InputItem<'a>],
    static_link: bool,
    take: &mut Take<'_, 'a>,
) -> Result<Vec<(Archive<'a>, Members)>> {
    let mut as_needed = false;
    let mut whole_archive = false;
    let mut archives: Vec<(Archive<'a>, Members)> = Vec::new();
    // Where each open group's archives start in `archives`, innermost last.
    let mut group_starts: Vec<usize> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match item {
            InputItem::StartGroup => group_starts.push(archives.len()),
            InputItem::AsNeeded(a) => as_needed = *a,
            InputItem::WholeArchive(w) => whole_archive = *w,
            // Read by the exports step (`symver`), after resolve.
            InputItem::Versions { .. } | InputItem::DynamicList { .. } => {}
            InputItem::EndGroup => {
                if let Some(start) = group_starts.pop() {
                    loop {
                        let mut n = 0;
                        for (ar, loaded) in archives.iter_mut().skip(start) {
                            n += r.scan_archive(ar, loaded)?;
                        }
                        if n == 0 {
                            break;
                        }
                    }
                }
            }
            InputItem::File(input) => match file_kind(input.data) {
                FileKind::Object => {
                    let obj = match take(index) {
                        Some(Parsed::Object(o)) => o?,
                        _ => Object::parse(input.name.clone(), input.data)?,
                    };
                    r.add_input(obj, Origin::CommandLine, &input.name, input.data)?;
                }
                FileKind::Archive | FileKind::ThinArchive if whole_archive => {
                    // Every member, in archive order; the archive is not scanned again.
                    let ar = Archive::parse(input.name.clone(), input.data, &input.members)?;
                    for off in ar.object_members()? {
                        let (member, obj) = ar.member(off)?;
                        let origin = Origin::WholeArchive {
                            archive: ar.name.clone(),
                            member,
                        };
                        r.add_input(obj, origin, &ar.name, ar.data)?;
                    }
                }
                FileKind::Archive | FileKind::ThinArchive => {
                    let ar = Archive::parse(input.name.clone(), input.data, &input.members)?;
                    let mut members = Members::of(&ar);
                    r.scan_archive(&ar, &mut members)?;
                    archives.push((ar, members));
                }
                FileKind::SharedObject => {
                    if static_link {
                        return Err(Diagnostic::error("shared object given to a -static link")
                            .file(input.name.clone())
                            .into());
                    }
                    let dso = match take(index) {
                        Some(Parsed::Shared(d)) => d?,
                        _ => parse_shared(input)?,
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
            },
        }
    }
    Ok(archives)
}

/// Objects past this many bytes in all are parsed alongside the walk rather than before it.
const PIPELINE_MIN: usize = 8 << 20;

/// Run `walk` with each command-line object and shared object parsed ahead, natively. A small
/// link parses them all first, on every thread. A big one has a helper thread parse them in order
/// while the walk interns what is ready (parsing any it reaches first itself), so that parsing
/// hides behind the in-order walk; for small links the helper's
/// start and hand-offs cost more than they hide. Parsing is a pure function of the bytes: who
/// parsed what changes nothing.
fn with_parsed<'a, T>(
    items: &[InputItem<'a>],
    object_bytes: usize,
    walk: &mut dyn FnMut(&mut Take<'_, 'a>) -> T,
) -> T {
    if crate::par::threads() > 1 && object_bytes < PIPELINE_MIN {
        let mut parsed: Vec<Option<Parsed<'a>>> = crate::par::map(items, 1, parse_item);
        return walk(&mut |i| parsed.get_mut(i).and_then(Option::take));
    }
    if crate::par::threads() > 1 {
        let skip = items.iter().map(|i| parsed_kind(i).is_none()).collect();
        let parse = |i: usize| items.get(i).and_then(parse_item);
        return crate::par::parse_ahead(skip, &parse, &mut |take| walk(take));
    }
    walk(&mut |i| items.get(i).and_then(parse_item))
}

/// Hands the walk command-line item `i` parsed (None for what is not parsed ahead).
type Take<'t, 'a> = crate::par::TakeFn<'t, Option<Parsed<'a>>>;

/// A command-line file parsed ahead of the walk.
enum Parsed<'a> {
    Object(Result<Object<'a>>),
    Shared(Result<SharedObject<'a>>),
}

fn parse_shared<'a>(input: &crate::input::Input<'a>) -> Result<SharedObject<'a>> {
    if crate::dso::is_description(input.data) {
        SharedObject::parse_description(input.name.clone(), input.data)
    } else {
        let mut dso = SharedObject::parse(input.name.clone(), input.data)?;
        // No DT_SONAME, found by `-lNAME`: GNU ld records the file name, not the directory.
        if input.lib_search && !dso.named_itself {
            dso.soname = dso.name.rsplit('/').next().unwrap_or(&dso.name).to_string();
        }
        Ok(dso)
    }
}

/// What a command-line file is: a shared-object description stands in for the library it
/// describes.
fn file_kind(data: &[u8]) -> FileKind {
    if crate::dso::is_description(data) {
        FileKind::SharedObject
    } else {
        classify(data)
    }
}

/// What [`parse_item`] parses `item` as: an object, a shared object (or its description), or
/// nothing.
fn parsed_kind(item: &InputItem<'_>) -> Option<FileKind> {
    let InputItem::File(f) = item else {
        return None;
    };
    match file_kind(f.data) {
        k @ (FileKind::Object | FileKind::SharedObject) => Some(k),
        _ => None,
    }
}

/// An object or shared object from the command line, parsed.
fn parse_item<'a>(item: &InputItem<'a>) -> Option<Parsed<'a>> {
    let InputItem::File(f) = item else {
        return None;
    };
    match parsed_kind(item)? {
        FileKind::Object => Some(Parsed::Object(Object::parse(f.name.clone(), f.data))),
        _ => Some(Parsed::Shared(parse_shared(f))),
    }
}
