//! Synthesize phase: scan every relocation of the kept sections once and decide what the linker must
//! make: GOT slots (for GOT loads that cannot be relaxed), IPLT entries for IFUNC symbols (their
//! `.got.plt` slots filled at start-up from the resolver), and code stubs such as the teaching
//! `_start`. Stubs are tables of instructions with their relocations: the same table produces the
//! bytes and the report's annotation. The scan switches on `arch::RelKind` and records
//! `arch::DynKind`s, never raw types. Undefined symbols become errors here, named with the places
//! that reference them.

use crate::arch::{self, DynKind, RelKind};
use crate::diag::{name_str, Diagnostic, Errors, Result};
use crate::dynamic::{DynLoc, DynPlan, DynReloc};
use crate::input::{Object, Section, SymPlace, E};
use crate::layout::{Layout, OutId};
use crate::options::{Options, OutputKind};
use crate::resolve::{bind, fact, Def, FileId, Resolved, SymbolId};
use object::elf::*;
use rustc_hash::FxHashMap;

pub use crate::resolve::SymRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GotKind {
    /// The symbol's address.
    Addr,
    /// The symbol's offset from the thread pointer (initial-exec TLS that was not relaxed).
    TpOff,
    /// General-dynamic TLS in a shared object: (module id, offset) in two words.
    TlsGd,
    /// Local-dynamic TLS in a shared object: (module id, 0).
    TlsLd,
    /// A TLS descriptor in a shared object (`-mtls-dialect=gnu2`): two words the loader fills.
    TlsDesc,
}

/// What a stub instruction's relocation points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StubTarget {
    Sym(SymRef),
    /// A linker-defined symbol such as `__init_array_start`.
    Linker(&'static str),
    /// Slot `n` of `.got.plt` after the reserved words (a PLT or IPLT entry's pointer).
    GotPltSlot(u32),
    /// Word `n` of `.got.plt` counted from its start (the loader's reserved words).
    GotPltWord(u32),
    /// The lazy PLT's first entry.
    Plt0,
    /// A linker-made piece (the module description of `--init-stub`).
    Piece(crate::layout::Synthetic),
}

/// A field of a linker-made instruction and what it refers to.
pub type StubReloc = arch::Field<StubTarget>;
/// A linker-made instruction (see `arch::Asm`).
pub type Insn = arch::Insn<StubTarget>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StubHome {
    /// The `.text` stub piece.
    Text,
    /// `.plt`.
    Plt,
}

#[derive(Debug, Clone)]
pub struct Stub {
    pub name: String,
    pub why: String,
    pub home: StubHome,
    /// Offset inside its home piece.
    pub offset: u64,
    pub insns: Vec<Insn>,
}

impl Stub {
    pub fn size(&self) -> u64 {
        self.insns.iter().map(|i| i.bytes.len() as u64).sum()
    }
}

pub struct Synth {
    pub got: Vec<(SymRef, GotKind)>,
    got_index: FxHashMap<(SymRef, GotKind), u32>,
    /// IFUNC symbols that have an IPLT entry, in first-reference order.
    pub iplt: Vec<SymRef>,
    iplt_index: FxHashMap<SymRef, u32>,
    /// `.got.plt` starts with 3 reserved words when anything needs `_GLOBAL_OFFSET_TABLE_`.
    pub got_plt_reserved: u64,
    pub stubs: Vec<Stub>,
    /// Index in `stubs` of the synthesized `_start`, if any.
    pub start_stub: Option<usize>,
    pub entry: Entry,
    pub build_id_size: u64,
    pub warnings: Vec<Diagnostic>,
    /// Dynamic-linking decisions (None: a static link).
    pub dynamic: Option<Box<DynPlan>>,
    /// Index in `stubs` of the `--init-stub` registration stub.
    pub init_stub: Option<usize>,
    /// Facts for the report (e.g. why no stub was made).
    pub notes: Vec<String>,
    /// The output's GNU properties (`.note.gnu.property`), sorted by type ([`crate::property`]).
    pub gnu_property: Vec<(u32, u32)>,
}

#[derive(Debug, Clone)]
pub enum Entry {
    Symbol(SymRef, String),
    Stub(usize),
    /// No entry symbol: the start of `.text`, as GNU ld does (with a warning).
    TextStart,
    /// A shared object without `-e`: `e_entry` is 0.
    None,
}

impl Synth {
    pub fn got_slot(&self, s: SymRef, k: GotKind) -> Option<u32> {
        self.got_index.get(&(s, k)).copied()
    }
    #[inline]
    pub fn iplt_slot(&self, s: SymRef) -> Option<u32> {
        if self.iplt_index.is_empty() {
            return None;
        }
        self.iplt_index.get(&s).copied()
    }
}

/// The symbol a relocation names, as a global id or a (file, index) local.
pub fn sym_ref(res: &Resolved<'_>, file: FileId, sym: usize) -> SymRef {
    match res.files[file.0 as usize].global(sym) {
        Some(g) => SymRef::Global(g),
        None => SymRef::Local(file, sym as u32),
    }
}

/// The (file, symbol index) that defines a symbol, if any.
pub fn definition(res: &Resolved<'_>, s: SymRef) -> Option<(FileId, u32)> {
    match s {
        SymRef::Local(f, i) => Some((f, i)),
        SymRef::Global(g) => match res.global(g).def {
            Def::Defined { file, sym, .. } | Def::Common { file, sym, .. } => Some((file, sym)),
            _ => None,
        },
    }
}

pub fn is_ifunc(res: &Resolved<'_>, s: SymRef) -> bool {
    match s {
        SymRef::Global(g) => res.facts(g) & fact::IFUNC != 0,
        SymRef::Local(f, i) => {
            res.files[f.0 as usize].obj.symbols[i as usize].st_type() == STT_GNU_IFUNC
        }
    }
}

/// Whether a relocation of `kind` against `target` (symbol `sym` of `obj`) needs nothing of any
/// output: a PC-relative reference to a symbol defined here that is neither an IFUNC nor
/// preemptible. The static and dynamic scans would each find nothing to do for it (no GOT, PLT or
/// IPLT entry, no dynamic relocation, no error), and most relocations are such.
#[inline(always)]
fn needs_nothing(
    res: &Resolved<'_>,
    obj: &Object<'_>,
    sym: usize,
    target: SymRef,
    kind: RelKind,
) -> bool {
    if !matches!(kind, RelKind::PcRelative | RelKind::PltPcRelative) {
        return false;
    }
    match target {
        SymRef::Local(..) => obj.symbols[sym].st_type() != STT_GNU_IFUNC,
        SymRef::Global(g) => {
            let busy = fact::UNDEFINED | fact::SHARED | fact::IFUNC | fact::PREEMPTIBLE;
            res.facts(g) & busy == 0
        }
    }
}

/// Defined (or linker-provided) with a known address: GOT loads of it can become `lea`.
fn is_resolved(res: &Resolved<'_>, s: SymRef) -> bool {
    match s {
        SymRef::Local(..) => true,
        SymRef::Global(g) => res.facts(g) & fact::UNDEFINED == 0,
    }
}

/// Undefined symbols with up to three of their referencing sites each, in first-reference order.
#[derive(Default)]
struct Undefs {
    list: Vec<Undef>,
    index: FxHashMap<SymbolId, usize>,
    /// Name C++ and Rust symbols demangled (`--demangle`).
    demangle: bool,
}

struct Undef {
    name: String,
    /// The name as the message shows it (demangled).
    display: String,
    sites: Vec<String>,
    count: usize,
}

impl Undefs {
    fn add(&mut self, res: &Resolved<'_>, fid: FileId, g: SymbolId, sec: u32, off: u64) {
        let list = &mut self.list;
        let demangle = self.demangle;
        let k = *self.index.entry(g).or_insert_with(|| {
            let raw = name_str(res.global(g).name);
            list.push(Undef {
                display: demangle
                    .then(|| crate::version_script::demangle(&raw))
                    .flatten()
                    .unwrap_or_else(|| raw.clone()),
                name: raw,
                sites: Vec::new(),
                count: 0,
            });
            list.len() - 1
        });
        let u = &mut self.list[k];
        u.count += 1;
        if u.sites.len() < 3 {
            let obj = &res.files[fid.0 as usize].obj;
            u.sites.push(match enclosing_function(res, fid, sec, off) {
                Some(f) => format!("referenced by {} (function {f})", obj.name),
                None => format!(
                    "referenced by {}:({}+0x{off:x})",
                    obj.name,
                    obj.sections[sec as usize].name_str()
                ),
            });
        }
    }

    /// One error per symbol, like lld and mold: the name, up to three references, then a count.
    fn into_errors(self) -> impl Iterator<Item = Diagnostic> {
        self.list.into_iter().map(|u| {
            let mut d = Diagnostic::error(format!("undefined symbol: {}", u.display))
                .symbol(u.name.clone());
            for site in &u.sites {
                d = d.note(site.clone());
            }
            if u.count > u.sites.len() {
                d = d.note(format!("referenced {} more times", u.count - u.sites.len()));
            }
            d
        })
    }
}

/// The synthesize phase: scan, then the entry point, the linker-made code and the dynamic
/// sections' contents, in that order (each step reads what the earlier ones decided).
pub fn synthesize(
    res: &Resolved<'_>,
    layout: &Layout,
    opts: &Options,
    exports: &crate::symver::Exports,
) -> Result<Synth> {
    let mut s = Synth::start(res, opts);
    let (props, cet_report) = crate::property::merge(res, opts)?;
    s.gnu_property = props;
    s.warnings.extend(cet_report);
    // Every relocation is scanned once, file by file (natively in parallel); what each asks of the
    // link is then applied in file order, so slot and entry order do not depend on threads.
    let dynamic = s.dynamic.is_some();
    let scan = |fi: usize| scan_file(res, layout, opts, dynamic, FileId(fi as u32));
    let scans: Vec<Vec<Need>> = crate::par::map_range(res.files.len(), 1, scan);
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut undefs = Undefs {
        demangle: opts.demangle,
        ..Undefs::default()
    };
    for (fi, needs) in scans.into_iter().enumerate() {
        for need in needs {
            s.apply(res, opts, FileId(fi as u32), need, &mut undefs, &mut errors);
        }
    }
    if s.dynamic
        .as_ref()
        .is_some_and(|p| !p.textrel_warned.is_empty())
    {
        let what = if opts.kind == OutputKind::Shared {
            "a shared object"
        } else {
            "a PIE"
        };
        s.warnings.push(Diagnostic::warning(format!(
            "creating DT_TEXTREL in {what}"
        )));
    }
    s.choose_entry(res, opts)?;
    s.add_init_stub(res, opts)?;
    s.add_plt_entries(res);
    let has_iplt = !s.iplt.is_empty();
    if let Some(plan) = s.dynamic.as_deref_mut() {
        finish_dynamic(plan, res, layout, opts, has_iplt, exports);
    }
    if opts.warn_unresolved {
        // `--warn-unresolved-symbols`: the same messages as warnings; the symbols resolve to 0.
        s.warnings.extend(undefs.into_errors().map(|mut d| {
            d.severity = crate::Severity::Warning;
            d
        }));
    } else if opts.noinhibit_exec {
        // `--noinhibit-exec`: still errors, but the output is made; the symbols resolve to 0.
        s.warnings.extend(undefs.into_errors());
    } else {
        errors.extend(undefs.into_errors());
    }
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    Ok(s)
}

impl Synth {
    /// Nothing decided yet but what the options say: a static or a dynamic link, and the
    /// reserved words of `.got.plt`.
    fn start(res: &Resolved<'_>, opts: &Options) -> Synth {
        let mut s = Synth {
            got: Vec::new(),
            got_index: FxHashMap::default(),
            iplt: Vec::new(),
            iplt_index: FxHashMap::default(),
            got_plt_reserved: 0,
            stubs: Vec::new(),
            start_stub: None,
            entry: Entry::TextStart,
            build_id_size: if opts.build_id.is_some() { 16 + 20 } else { 0 },
            warnings: Vec::new(),
            dynamic: None,
            init_stub: None,
            notes: Vec::new(),
            gnu_property: Vec::new(),
        };
        // `-no-pie` with no shared object needed is a static link; everything else is dynamic.
        let needed: Vec<String> = res
            .dsos
            .iter()
            .filter(|d| d.needed)
            .map(|d| d.obj.soname.clone())
            .collect();
        if matches!(opts.kind, OutputKind::Pie | OutputKind::Shared) || !needed.is_empty() {
            let shared = opts.kind == OutputKind::Shared;
            s.dynamic = Some(Box::new(DynPlan {
                pic: matches!(opts.kind, OutputKind::Pie | OutputKind::Shared),
                shared,
                interp: if shared || opts.no_dynamic_linker {
                    None
                } else {
                    Some(
                        opts.dynamic_linker
                            .clone()
                            .unwrap_or_else(|| "/lib64/ld-linux-x86-64.so.2".into()),
                    )
                },
                needed,
                copy_align: 1,
                copy_relro_align: 1,
                ..Default::default()
            }));
            // The lazy PLT's first entry and the loader's words live at the start of `.got.plt`.
            s.got_plt_reserved = 3;
        }
        if let Some(g) = res.lookup(b"_GLOBAL_OFFSET_TABLE_") {
            if res.global(g).def == Def::Linker {
                s.got_plt_reserved = 3;
            }
        }
        s
    }

    /// Record what one relocation of file `fid` asked for.
    fn apply(
        &mut self,
        res: &Resolved<'_>,
        opts: &Options,
        fid: FileId,
        need: Need,
        undefs: &mut Undefs,
        errors: &mut Vec<Diagnostic>,
    ) {
        match need {
            Need::Got(t, k) => self.need_got(t, k),
            Need::GotPltReserved => self.got_plt_reserved = 3,
            Need::Iplt(t) => self.need_iplt(t),
            Need::Plt(t) => self.plan().need_plt(t),
            Need::Want(t) => self.want_sym(t),
            Need::Reloc(r) => self.plan().relocs.push(r),
            Need::TextRel(w) => {
                // Once per symbol and section, as GNU ld warns.
                let plan = self.plan();
                if plan.textrel_warned.insert(w.message.clone()) {
                    self.warnings.push(*w);
                }
            }
            Need::GotDyn(t, k) => {
                self.got_dyn(res, opts, t, k);
            }
            Need::WeakGot(t) => {
                // An undefined weak symbol: let the loader bind it (or leave it 0).
                let i = self.got.len() as u32;
                self.got_index.insert((t, GotKind::Addr), i);
                self.got.push((t, GotKind::Addr));
                if let SymRef::Global(g) = t {
                    let r = got_reloc(i, DynKind::GotEntry, Some(g), None);
                    self.plan().relocs.push(r);
                }
            }
            Need::DirectImport(t) => {
                if let Some(e) = protected_copy(res, fid, t) {
                    // Once per symbol and file, however many sites refer to it.
                    if !errors.iter().any(|x| x.message == e.message) {
                        errors.push(e);
                    }
                } else {
                    self.direct_import(res, t);
                }
            }
            Need::Undefined { g, sec, off } => undefs.add(res, fid, g, sec, off),
            Need::Error(d) => errors.push(*d),
            Need::Relative { sec, count } => {
                let plan = self.plan();
                plan.input_relative.insert((fid, sec), count);
                plan.relative_count += count as usize;
            }
        }
    }

    /// Entry point: `-e`, else `_start`, else the teaching `_start` when there is a `main`.
    /// A shared object has none unless `-e` (or a script's `ENTRY`) names one it defines.
    fn choose_entry(&mut self, res: &Resolved<'_>, opts: &Options) -> Result<()> {
        let entry_name = opts.entry.clone().unwrap_or_else(|| "_start".into());
        match res.lookup(entry_name.as_bytes()) {
            Some(g) if matches!(res.global(g).def, Def::Defined { .. }) => {
                self.entry = Entry::Symbol(SymRef::Global(g), entry_name)
            }
            _ if (opts.entry.is_none() || opts.entry_from_script)
                && opts.kind == OutputKind::Shared =>
            {
                self.entry = Entry::None
            }
            _ if opts.entry.is_none() => match res.lookup(b"main") {
                Some(m) if matches!(res.global(m).def, Def::Defined { .. }) => {
                    let libc_start = res
                        .lookup(b"__libc_start_main")
                        .filter(|&g| matches!(res.global(g).def, Def::Shared { .. }));
                    let stub = match (self.dynamic.is_some(), libc_start) {
                        (true, Some(lsm)) => {
                            self.plan().need_plt(SymRef::Global(lsm));
                            glibc_start(SymRef::Global(m), SymRef::Global(lsm))
                        }
                        (true, None) => {
                            return Err(Diagnostic::error(
                                "a dynamic executable without _start needs glibc's __libc_start_main for the \
                                 synthesized _start: add libc (-lc or libc.so.6) to the link",
                            )
                            .into())
                        }
                        _ => teaching_start(SymRef::Global(m)),
                    };
                    self.start_stub = Some(self.stubs.len());
                    self.entry = Entry::Stub(self.stubs.len());
                    self.stubs.push(stub);
                }
                _ => self.warnings.push(Diagnostic::warning(
                    "cannot find entry symbol _start (and no main to synthesize one for); defaulting to the start of .text",
                )),
            },
            _ => self.warnings.push(Diagnostic::warning(format!(
                "cannot find entry symbol {entry_name}; defaulting to the start of .text"
            ))),
        }
        Ok(())
    }

    /// `--init-stub`: Go's go.link.addmoduledata, reproduced byte for byte.
    fn add_init_stub(&mut self, res: &Resolved<'_>, opts: &Options) -> Result<()> {
        let Some(st) = &opts.init_stub else {
            return Ok(());
        };
        let Some(d) = crate::layout::init_stub_decision(res, opts) else {
            self.notes.push(format!(
                "--init-stub: {} is defined in this link, so this module is the runtime's own: no stub \
                 (as Go's linker does when the module holds runtime.addmoduledata)",
                st.register
            ));
            return Ok(());
        };
        let reg = SymRef::Global(d.register);
        match res.global(d.register).def {
            Def::Undefined if opts.kind != OutputKind::Shared => {
                return Err(Diagnostic::error(format!(
                    "undefined symbol: {} (called by the --init-stub module-registration stub)",
                    st.register
                ))
                .symbol(st.register.clone())
                .into())
            }
            _ => {}
        }
        if self.dynamic.is_some() && preemptible(res, opts, reg) {
            self.plan().need_plt(reg);
        }
        let data_target = match d.data {
            Some(g) => StubTarget::Sym(SymRef::Global(g)),
            None => StubTarget::Piece(crate::layout::Synthetic::ModuleData),
        };
        let data_name = match (&st.data, d.data) {
            (Some(n), Some(_)) => n.clone(),
            _ => "initlink.module_data".to_string(),
        };
        let offset = self
            .stubs
            .iter()
            .filter(|x| x.home == StubHome::Text)
            .map(|x| crate::layout::align_up(x.offset + x.size(), 16))
            .max()
            .unwrap_or(0);
        self.init_stub = Some(self.stubs.len());
        self.stubs.push(Stub {
            name: "initlink.register_module".into(),
            why: format!(
                "--init-stub={}: like Go's go.link.addmoduledata, this function is first in .init_array, \
                 so when the loader initializes this module it passes {data_name} to {} before any of \
                 the module's own constructors run",
                st.register, st.register
            ),
            home: StubHome::Text,
            offset,
            insns: arch::register_module(data_target, StubTarget::Sym(reg)),
        });
        if let Some(plan) = self.dynamic.as_deref_mut().filter(|p| p.pic) {
            use crate::layout::{Synthetic, MODULE_DATA_SIZE};
            let relative = |what, off| DynReloc {
                loc: DynLoc::Synthetic { what, off },
                kind: DynKind::Relative,
                sym: None,
                target: None,
                addend: 0,
            };
            plan.relocs.push(relative(Synthetic::InitStubSlot, 0));
            if d.data.is_none() {
                // Pointer fields: name, text/data/bss ranges, init_array.
                for off in [16u64, 24, 32, 40, 48, 56, 64, 72] {
                    let _ = MODULE_DATA_SIZE;
                    plan.relocs.push(relative(Synthetic::ModuleData, off));
                }
            }
        }
        Ok(())
    }

    /// The lazy PLT of a dynamic link (PLT0, then one entry per imported function), then the
    /// IPLT entries: `jmp *slot(%rip)` padded to an entry's size.
    fn add_plt_entries(&mut self, res: &Resolved<'_>) {
        let nplt = self.dynamic.as_ref().map_or(0, |p| p.plt.len());
        if let Some(plan) = self.dynamic.as_deref().filter(|_| nplt > 0) {
            let mut stubs = vec![Stub {
                name: "PLT0".into(),
                why: "the lazy PLT's first entry: pushes the module's link map (.got.plt word 1) and jumps \
                      to the loader's resolver (.got.plt word 2), which binds the symbol on first call"
                    .into(),
                home: StubHome::Plt,
                offset: 0,
                insns: arch::plt0(StubTarget::GotPltWord(1), StubTarget::GotPltWord(2)),
            }];
            for (k, &f) in plan.plt.iter().enumerate() {
                let (name, lib) = match f {
                    SymRef::Global(g) => (
                        name_str(res.global(g).name),
                        match res.global(g).def {
                            Def::Shared { dso, .. } => res.dsos[dso as usize].obj.soname.clone(),
                            _ => "another module".into(),
                        },
                    ),
                    SymRef::Local(fl, i) => (
                        res.files[fl.0 as usize].obj.sym_display(i as usize),
                        "this module".into(),
                    ),
                };
                stubs.push(Stub {
                    name: format!("{name}@plt"),
                    why: format!(
                        "calls to {name} (defined in {lib}) go through here: its .got.plt slot first points back at \
                         the push, so the first call enters the loader's resolver with relocation index {k} \
                         ({}); the loader then stores {name}'s address in the slot",
                        arch::dyn_name(DynKind::PltSlot)
                    ),
                    home: StubHome::Plt,
                    offset: arch::PLT_ENTRY_SIZE * (k as u64 + 1),
                    insns: arch::plt_entry(StubTarget::GotPltSlot(k as u32), k as u32, StubTarget::Plt0),
                });
            }
            self.stubs.extend(stubs);
        }
        let plt_words = if nplt > 0 { nplt as u64 + 1 } else { 0 };
        for (k, &f) in self.iplt.iter().enumerate() {
            let name = match f {
                SymRef::Global(g) => name_str(res.global(g).name),
                SymRef::Local(fl, i) => res.files[fl.0 as usize].obj.sym_display(i as usize),
            };
            let slot = (nplt + k) as u32;
            self.stubs.push(Stub {
                name: format!("{name}@iplt"),
                why: format!(
                    "{name} is an IFUNC: calls go through this entry, whose .got.plt slot is filled at start-up \
                     from the resolver ({} in .rela.plt)",
                    arch::dyn_name(DynKind::IRelative)
                ),
                home: StubHome::Plt,
                offset: arch::PLT_ENTRY_SIZE * (plt_words + k as u64),
                insns: arch::iplt_entry(StubTarget::GotPltSlot(slot)),
            });
        }
    }
}

/// The dynamic sections' contents: the exports, `.dynsym` with its strings, hashes and versions,
/// and the `.dynamic` tags.
fn finish_dynamic(
    plan: &mut DynPlan,
    res: &Resolved<'_>,
    layout: &Layout,
    opts: &Options,
    has_iplt: bool,
    exports: &crate::symver::Exports,
) {
    // Exports: a shared object exports its default- and protected-visibility globals; an
    // executable exports what its libraries mention and what its dynamic list names (or
    // everything with -E). What a version script or `--exclude-libs` binds locally stays here.
    // `--defsym` and linker script assignments define symbols as an object would (GNU ld
    // exports them alike), a `PROVIDE`d one only when an object refers to it; the linker's own
    // (`_end`, `__bss_start`...) stay in this module.
    let provided: rustc_hash::FxHashSet<&str> = opts.provide.iter().map(String::as_str).collect();
    let assigned: rustc_hash::FxHashSet<&[u8]> = opts
        .defsym
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| {
            !provided.contains(n)
                || res
                    .lookup(n.as_bytes())
                    .is_some_and(|g| res.global(g).first_ref.is_some())
        })
        .map(str::as_bytes)
        .collect();
    for (i, g) in res.globals.iter().enumerate() {
        let id = SymbolId(i as u32);
        let vis = match g.def {
            Def::Defined { file, sym, .. } | Def::Common { file, sym, .. } => {
                res.files[file.0 as usize].obj.symbols[sym as usize].st_other & 3
            }
            Def::Linker if assigned.contains(g.name) => STV_DEFAULT,
            Def::Linker if crate::layout::start_stop_section(g.name).is_some() => {
                opts.start_stop_visibility
            }
            _ => continue,
        };
        let b = res.binding.get(i).copied().unwrap_or(0);
        if vis == STV_HIDDEN || vis == STV_INTERNAL || b & bind::LOCAL != 0 {
            continue;
        }
        if plan.shared || opts.export_dynamic || g.dso_ref || b & bind::EXPORT != 0 {
            plan.want(id);
        }
    }
    plan.finish(res, opts, exports);
    plan.tags = dynamic_tags(plan, res, layout, opts, has_iplt);
}

/// `.dynamic`: the tags are decided now, their values are addresses filled in by write.
fn dynamic_tags(
    plan: &DynPlan,
    res: &Resolved<'_>,
    layout: &Layout,
    opts: &Options,
    has_iplt: bool,
) -> Vec<u32> {
    let gnu = opts.hash_style != crate::options::HashStyle::Sysv;
    let sysv = opts.hash_style != crate::options::HashStyle::Gnu;
    let defined = |n: &[u8]| {
        res.lookup(n)
            .is_some_and(|g| matches!(res.global(g).def, Def::Defined { .. }))
    };
    let nonempty = |id: OutId| {
        layout.known(id).is_some_and(|i| {
            layout.sections[i as usize]
                .pieces
                .iter()
                .any(|p| p.size > 0)
        })
    };
    let mut tags: Vec<u32> = plan.needed.iter().map(|_| DT_NEEDED).collect();
    if plan.soname_str.is_some() && plan.shared {
        tags.push(DT_SONAME);
    }
    if plan.rpath_str.is_some() {
        tags.push(if opts.new_dtags { DT_RUNPATH } else { DT_RPATH });
    }
    if plan.filter_str.is_some() {
        tags.push(DT_FILTER);
    }
    tags.extend(plan.auxiliary_str.iter().map(|_| DT_AUXILIARY));
    if plan.audit_str.is_some() {
        tags.push(DT_AUDIT);
    }
    if plan.depaudit_str.is_some() {
        tags.push(DT_DEPAUDIT);
    }
    if defined(opts.init_symbol().as_bytes()) {
        tags.push(DT_INIT);
    }
    if defined(opts.fini_symbol().as_bytes()) {
        tags.push(DT_FINI);
    }
    if !plan.shared && nonempty(OutId::PreinitArray) {
        tags.extend([DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ]);
    }
    if nonempty(OutId::InitArray) {
        tags.extend([DT_INIT_ARRAY, DT_INIT_ARRAYSZ]);
    }
    if nonempty(OutId::FiniArray) {
        tags.extend([DT_FINI_ARRAY, DT_FINI_ARRAYSZ]);
    }
    if gnu {
        tags.push(DT_GNU_HASH);
    }
    if sysv {
        tags.push(DT_HASH);
    }
    tags.extend([DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT]);
    if !plan.shared {
        tags.push(DT_DEBUG);
    }
    tags.push(DT_PLTGOT);
    if !plan.plt.is_empty() || has_iplt {
        tags.extend([DT_PLTRELSZ, DT_PLTREL, DT_JMPREL]);
    }
    if !plan.relocs.is_empty() || plan.relative_count > 0 {
        tags.extend([DT_RELA, DT_RELASZ, DT_RELAENT]);
    }
    if !plan.textrel_warned.is_empty() {
        tags.push(DT_TEXTREL);
    }
    if opts.bind_now || opts.dt_flags != 0 || plan.static_tls || !plan.textrel_warned.is_empty() {
        tags.push(DT_FLAGS);
    }
    if opts.bind_now || opts.kind == OutputKind::Pie || opts.dt_flags_1 != 0 {
        tags.push(DT_FLAGS_1);
    }
    if plan.verdef_count > 0 {
        tags.extend([DT_VERDEF, DT_VERDEFNUM]);
    }
    if plan.verneed_count > 0 || plan.verdef_count > 0 {
        tags.push(DT_VERSYM);
    }
    if plan.verneed_count > 0 {
        tags.extend([DT_VERNEED, DT_VERNEEDNUM]);
    }
    tags.push(DT_NULL);
    tags
}

/// What one relocation asks of the link, recorded by [`scan_file`] and applied in file order.
enum Need {
    Got(SymRef, GotKind),
    GotPltReserved,
    Iplt(SymRef),
    Plt(SymRef),
    Want(SymRef),
    Reloc(DynReloc),
    GotDyn(SymRef, GotKind),
    /// A GOT slot for an undefined weak symbol, bound by the loader.
    WeakGot(SymRef),
    DirectImport(SymRef),
    Undefined {
        g: SymbolId,
        sec: u32,
        off: u64,
    },
    Error(Box<Diagnostic>),
    /// A dynamic relocation in a read-only section (a text relocation): GNU ld's warning for it.
    TextRel(Box<Diagnostic>),
    /// Input section `sec` has `count` relocations that become load-base-relative dynamic
    /// relocations.
    Relative {
        sec: u32,
        count: u32,
    },
}

/// One file's scan: what its relocations ask of the link.
struct Scan<'s, 'a> {
    res: &'s Resolved<'a>,
    opts: &'s Options,
    /// A dynamic output (the dynamic rules apply).
    dynamic: bool,
    fid: FileId,
    obj: &'s Object<'a>,
    needs: Vec<Need>,
    /// Load-base-relative dynamic relocations of the section being scanned.
    relative: u32,
}

/// One relocation being scanned: its field is inside its section and its symbol exists.
struct Rel<'s, 'd> {
    sec: &'s Section<'d>,
    si: u32,
    off: u64,
    sym: usize,
    /// The raw type (for the relaxation predicates and messages) and what it computes.
    t: u32,
    kind: RelKind,
    target: SymRef,
    addend: i64,
    /// Its section lands in a writable output section ([`Layout::lands_writable`]).
    writable: bool,
}

/// Scan the relocations of one file's kept sections: checks, and what they need.
fn scan_file(
    res: &Resolved<'_>,
    layout: &Layout,
    opts: &Options,
    dynamic: bool,
    fid: FileId,
) -> Vec<Need> {
    let mut scan = Scan {
        res,
        opts,
        dynamic,
        fid,
        obj: &res.files[fid.0 as usize].obj,
        needs: Vec::new(),
        relative: 0,
    };
    let obj = scan.obj;
    for (si, sec) in obj.sections.iter().enumerate() {
        if sec.relocs.is_empty() || !layout.is_relocated(fid, si as u32) {
            continue;
        }
        scan.section(layout, si as u32, sec);
        let count = std::mem::take(&mut scan.relative);
        if count > 0 {
            scan.needs.push(Need::Relative {
                sec: si as u32,
                count,
            });
        }
    }
    scan.needs
}

impl Scan<'_, '_> {
    /// An error at `off` of `sec`, naming the relocation's symbol when it exists.
    fn error(&mut self, sec: &Section<'_>, off: u64, sym: Option<usize>, message: String) {
        let mut d = Diagnostic::error(message)
            .file(self.obj.name.clone())
            .section(sec.name_str())
            .offset(off);
        if let Some(sym) = sym {
            d = d.symbol(self.obj.sym_display(sym));
        }
        self.needs.push(Need::Error(Box::new(d)));
    }

    /// Scan the relocations of input section `si` (kept, with relocations).
    fn section(&mut self, layout: &Layout, si: u32, sec: &Section<'_>) {
        let (res, opts, obj) = (self.res, self.opts, self.obj);
        let alloc = sec.is_alloc();
        let writable = layout.lands_writable(self.fid, si, sec.flags);
        let split_map = layout.places[self.fid.0 as usize]
            .get(si as usize)
            .and_then(crate::layout::Place::record_map)
            .and_then(|map| layout.maps.get(map as usize));
        let mut skip_next = false;
        let mut map_at = usize::MAX;
        for r in sec.relocs.iter() {
            if std::mem::take(&mut skip_next) {
                continue;
            }
            let off = r.r_offset.get(E);
            let t = r.r_type(E, false);
            let sym = r.r_sym(E, false) as usize;
            if sym >= obj.symbols.len() {
                let msg = format!(
                    "relocation {} refers to symbol index {sym}, but there are {} symbols",
                    arch::reloc_name(t),
                    obj.symbols.len()
                );
                self.error(sec, off, None, msg);
                continue;
            }
            let Some(width) = arch::field_size(t) else {
                let msg = format!(
                    "unsupported relocation type {t} against '{}'",
                    obj.sym_display(sym)
                );
                self.error(sec, off, Some(sym), msg);
                continue;
            };
            if off.checked_add(width).is_none_or(|end| end > sec.size) {
                let msg = format!(
                    "relocation {} at offset 0x{off:x} is past the end of the section (size 0x{:x})",
                    arch::reloc_name(t),
                    sec.size
                );
                self.error(sec, off, Some(sym), msg);
                continue;
            }
            let kind = arch::rel_kind(t);
            let target = sym_ref(res, self.fid, sym);
            if needs_nothing(res, obj, sym, target, kind) {
                continue;
            }
            // Undefined strong references are fatal (weak ones resolve to 0).
            if let SymRef::Global(g) = target {
                let f = res.facts(g);
                let undefined = f & fact::UNDEFINED != 0;
                let weak = obj.symbols[sym].st_bind() == STB_WEAK;
                // A shared object may leave references to its loader, unless
                // `--no-undefined` / `-z defs` or the symbol is hidden;
                // `--unresolved-symbols=ignore-...` leaves them to resolve to 0.
                let allow = (opts.kind == OutputKind::Shared
                    && !opts.no_undefined
                    && f & fact::LOCAL_UNDEF == 0)
                    || opts.ignore_undefined_in_objects;
                if undefined && !weak && alloc && kind != RelKind::None && !allow {
                    self.needs.push(Need::Undefined { g, sec: si, off });
                }
            }
            if !alloc {
                continue;
            }
            // Inside a dropped `.eh_frame` record: the write phase skips it too.
            if split_map.is_some_and(|m| m.lookup_from(off, &mut map_at).is_none()) {
                continue;
            }
            let x = Rel {
                sec,
                si,
                off,
                sym,
                t,
                kind,
                target,
                addend: r.r_addend.get(E),
                writable,
            };
            skip_next = if self.dynamic {
                match self.scan_dynamic(&x) {
                    Ok(skip) => skip,
                    Err(msg) => {
                        self.error(sec, off, Some(sym), msg);
                        false
                    }
                }
            } else {
                self.scan_static(&x)
            };
        }
    }

    /// Decide what one relocation needs in a static executable. Returns true to skip the next
    /// relocation (the `__tls_get_addr` call of a TLS sequence relaxed to local-exec).
    fn scan_static(&mut self, x: &Rel<'_, '_>) -> bool {
        let (res, target) = (self.res, x.target);
        let (code, o) = (x.sec.data, x.off as usize);
        let mut skip_next = false;
        match x.kind {
            RelKind::GotPcRelative => {
                // An absolute symbol (`--defsym X=16`) in a PIE stays in the GOT: a
                // PC-relative `lea` would move it with the image.
                let relax = is_resolved(res, target)
                    && !is_weak_undef(res, target)
                    && !(is_absolute(res, target)
                        && matches!(self.opts.kind, OutputKind::Pie | OutputKind::Shared))
                    && arch::got_relax_ok(x.t, code, o, x.addend).is_some();
                if !relax {
                    self.needs.push(Need::Got(target, GotKind::Addr));
                }
            }
            RelKind::GotOffset | RelKind::GotPcRelative64 => {
                self.needs.push(Need::Got(target, GotKind::Addr));
                self.needs.push(Need::GotPltReserved);
            }
            RelKind::GotBasePcRelative | RelKind::GotBaseRelative | RelKind::PltGotBaseRelative => {
                self.needs.push(Need::GotPltReserved)
            }
            RelKind::TlsInitialExec if !arch::ie_relax_ok(code, o) => {
                self.needs.push(Need::Got(target, GotKind::TpOff));
            }
            RelKind::TlsGeneralDynamic | RelKind::TlsLocalDynamic => {
                let ok = if x.kind == RelKind::TlsGeneralDynamic {
                    arch::gd_relax_ok(code, o)
                } else {
                    arch::ld_relax_len(code, o).is_some()
                };
                if !ok {
                    let msg = format!(
                        "{} is not followed by the psABI call to __tls_get_addr; cannot relax it for a static link",
                        arch::reloc_name(x.t)
                    );
                    self.error(x.sec, x.off, Some(x.sym), msg);
                }
                skip_next = true;
            }
            RelKind::TlsDescriptor if !arch::tlsdesc_relax_ok(code, o) => {
                let msg = "unrecognized TLS descriptor sequence".into();
                self.error(x.sec, x.off, Some(x.sym), msg);
            }
            RelKind::TlsDescriptorCall if !arch::tlsdesc_call_ok(code, o) => {
                let msg = "unrecognized TLS descriptor call".into();
                self.error(x.sec, x.off, Some(x.sym), msg);
            }
            _ => {}
        }
        if !x.kind.is_tls() && is_ifunc(res, target) {
            self.needs.push(Need::Iplt(target));
        }
        skip_next
    }

    /// Decide what one relocation needs in a dynamic output. Ok(true) skips the next relocation
    /// (the `__tls_get_addr` call of a relaxed TLS sequence).
    fn scan_dynamic(&mut self, x: &Rel<'_, '_>) -> std::result::Result<bool, String> {
        let (res, opts, target) = (self.res, self.opts, x.target);
        let imp = imported(res, opts, target);
        let pre = preemptible(res, opts, target);
        if !x.kind.is_tls() && !imp && is_ifunc(res, target) {
            self.needs.push(Need::Iplt(target));
        }
        match x.kind {
            RelKind::PltPcRelative | RelKind::PltGotBaseRelative if pre => {
                self.needs.push(Need::Plt(target));
            }
            RelKind::Absolute if arch::is_word_absolute(x.t) => return self.dynamic_word(x, imp),
            RelKind::Absolute | RelKind::PcRelative => return self.dynamic_direct(x, imp, pre),
            RelKind::GotPcRelative => {
                // An absolute symbol in a PIE stays in the GOT (see the static scan).
                let absolute_in_pic = is_absolute(res, target)
                    && matches!(opts.kind, OutputKind::Pie | OutputKind::Shared);
                let weak = is_weak_undef(res, target);
                let relax = !pre
                    && is_resolved(res, target)
                    && !weak
                    && !absolute_in_pic
                    && arch::got_relax_ok(x.t, x.sec.data, x.off as usize, x.addend).is_some();
                if !relax {
                    if weak {
                        self.needs.push(Need::Want(target));
                    }
                    if weak && !pre {
                        self.needs.push(Need::WeakGot(target));
                    } else {
                        self.needs.push(Need::GotDyn(target, GotKind::Addr));
                    }
                }
            }
            RelKind::GotOffset | RelKind::GotPcRelative64 => {
                self.needs.push(Need::GotDyn(target, GotKind::Addr));
            }
            k if k.is_tls() => return self.dynamic_tls(x, imp),
            _ => {}
        }
        Ok(false)
    }

    /// A word the loader must write in a read-only section: an error under `-z text`; else, as
    /// GNU ld, a warning naming the symbol and section, and the output gets `DT_TEXTREL`.
    fn text_relocation(&mut self, x: &Rel<'_, '_>, what: &str) -> std::result::Result<(), String> {
        if self.opts.z_text {
            return Err(self.fpic(x, what));
        }
        let name = match x.target {
            SymRef::Global(g) => name_str(self.res.global(g).name),
            SymRef::Local(f, i) => self.res.files[f.0 as usize].obj.sym_display(i as usize),
        };
        let msg = format!(
            "relocation against `{name}' in read-only section `{}'",
            x.sec.name_str()
        );
        let w = Diagnostic::warning(msg).file(self.obj.name.clone());
        self.needs.push(Need::TextRel(Box::new(w)));
        Ok(())
    }

    /// The message for a relocation that position-independent output cannot hold.
    fn fpic(&self, x: &Rel<'_, '_>, what: &str) -> String {
        // Only an error needs the name: no allocation per relocation.
        let name = match x.target {
            SymRef::Global(g) => name_str(self.res.global(g).name),
            SymRef::Local(f, i) => self.res.files[f.0 as usize].obj.sym_display(i as usize),
        };
        format!(
            "relocation {} against `{name}' can not be used when making {what}; recompile with -fPIC",
            arch::reloc_name(x.t)
        )
    }

    /// A pointer-sized absolute word in a dynamic output: written by the loader, rebased by it,
    /// or fixed at link time ([`dyn_action`]).
    fn dynamic_word(&mut self, x: &Rel<'_, '_>, imp: bool) -> std::result::Result<bool, String> {
        let (res, opts, target) = (self.res, self.opts, x.target);
        let writable = x.writable;
        match dyn_action(res, opts, target, writable) {
            DynAction::Symbolic => {
                if !writable {
                    self.text_relocation(x, "a shared object (text relocation)")?;
                }
                self.needs.push(Need::Want(target));
                let SymRef::Global(g) = target else {
                    return Ok(false);
                };
                self.needs.push(Need::Reloc(DynReloc {
                    loc: DynLoc::Input {
                        file: self.fid,
                        sec: x.si,
                        off: x.off,
                    },
                    kind: DynKind::Symbolic,
                    sym: Some(g),
                    target: None,
                    addend: x.addend,
                }));
            }
            DynAction::Relative => {
                if !writable {
                    let shared = opts.kind == OutputKind::Shared;
                    self.text_relocation(
                        x,
                        if shared {
                            "a shared object"
                        } else {
                            "a PIE object"
                        },
                    )?;
                }
                // Only counted: the write phase emits it beside the data it fixes up.
                self.relative += 1;
            }
            DynAction::Static => {
                if imp {
                    // Read-only data in an executable pointing into a library.
                    self.needs.push(Need::DirectImport(target));
                }
            }
        }
        Ok(false)
    }

    /// A narrower absolute or a PC-relative field: the loader cannot write it, so it must be
    /// final at link time (an import gets a canonical PLT entry or a copy).
    fn dynamic_direct(
        &mut self,
        x: &Rel<'_, '_>,
        imp: bool,
        pre: bool,
    ) -> std::result::Result<bool, String> {
        let shared = self.opts.kind == OutputKind::Shared;
        let pie = self.opts.kind == OutputKind::Pie;
        let absolute_field = x.kind == RelKind::Absolute;
        if shared && pre {
            return Err(self.fpic(x, "a shared object"));
        }
        if imp {
            if pie && absolute_field {
                return Err(self.fpic(x, "a PIE object").replace("-fPIC", "-fPIE"));
            }
            self.needs.push(Need::DirectImport(x.target));
        } else if absolute_field && (shared || pie) && !is_absolute(self.res, x.target) {
            return Err(if shared {
                self.fpic(x, "a shared object")
            } else {
                self.fpic(x, "a PIE object").replace("-fPIC", "-fPIE")
            });
        }
        Ok(false)
    }

    /// The TLS forms in a dynamic output: a shared object keeps general- and local-dynamic
    /// accesses (GOT pairs for `__tls_get_addr`); an executable relaxes them, to initial-exec
    /// for another module's variable.
    fn dynamic_tls(&mut self, x: &Rel<'_, '_>, imp: bool) -> std::result::Result<bool, String> {
        let shared = self.opts.kind == OutputKind::Shared;
        let (target, code, o) = (x.target, x.sec.data, x.off as usize);
        let name = arch::reloc_name(x.t);
        match x.kind {
            RelKind::TlsGeneralDynamic => {
                if shared {
                    self.needs.push(Need::GotDyn(target, GotKind::TlsGd));
                } else if imp {
                    if !arch::gd_relax_ok(code, o) {
                        return Err(format!(
                            "{name} is not the psABI sequence; cannot relax it to initial-exec"
                        ));
                    }
                    self.needs.push(Need::GotDyn(target, GotKind::TpOff));
                    return Ok(true);
                } else {
                    if !arch::gd_relax_ok(code, o) {
                        return Err(format!(
                            "{name} is not the psABI sequence; cannot relax it to local-exec"
                        ));
                    }
                    return Ok(true);
                }
            }
            RelKind::TlsLocalDynamic => {
                if shared {
                    self.needs.push(Need::GotDyn(target, GotKind::TlsLd));
                } else {
                    if arch::ld_relax_len(code, o).is_none() {
                        return Err(format!(
                            "{name} is not the psABI sequence; cannot relax it to local-exec"
                        ));
                    }
                    return Ok(true);
                }
            }
            RelKind::TlsInitialExec if (shared || imp || !arch::ie_relax_ok(code, o)) => {
                self.needs.push(Need::GotDyn(target, GotKind::TpOff));
            }
            RelKind::TpRelative if shared => {
                return Err(self.fpic(x, "a shared object"));
            }
            // A shared object keeps its descriptors (GNU ld relaxes none there): the call to the
            // descriptor's function stays, the loader fills the descriptor.
            RelKind::TlsDescriptor if shared => {
                self.needs.push(Need::GotDyn(target, GotKind::TlsDesc));
            }
            RelKind::TlsDescriptorCall if shared => {}
            RelKind::TlsDescriptor => {
                if !arch::tlsdesc_relax_ok(code, o) {
                    return Err("unrecognized TLS descriptor sequence".into());
                }
                if imp {
                    self.needs.push(Need::GotDyn(target, GotKind::TpOff));
                }
            }
            RelKind::TlsDescriptorCall if !arch::tlsdesc_call_ok(code, o) => {
                return Err("unrecognized TLS descriptor call".into());
            }
            _ => {}
        }
        Ok(false)
    }
}

/// A dynamic relocation of GOT word `i`: for the loader's symbol `sym`, or with `target`'s
/// link-time address in the addend.
fn got_reloc(i: u32, kind: DynKind, sym: Option<SymbolId>, target: Option<SymRef>) -> DynReloc {
    DynReloc {
        loc: DynLoc::Got(i),
        kind,
        sym,
        target,
        addend: 0,
    }
}

fn is_weak_undef(res: &Resolved<'_>, s: SymRef) -> bool {
    matches!(s, SymRef::Global(g) if undefined_here(res.facts(g)))
}

/// A global with facts `f` is undefined and not bound locally: another module may define it.
fn undefined_here(f: u8) -> bool {
    f & (fact::UNDEFINED | fact::LOCAL_UNDEF) == fact::UNDEFINED
}

/// [`imported`], of a global with facts `f`.
fn imported_facts(f: u8, opts: &Options) -> bool {
    f & fact::SHARED != 0 || (undefined_here(f) && opts.kind == OutputKind::Shared)
}

/// [`preemptible`], of a global with facts `f`.
fn preemptible_facts(f: u8, opts: &Options) -> bool {
    imported_facts(f, opts)
        || (opts.kind == OutputKind::Shared && !opts.bsymbolic && f & fact::PREEMPTIBLE != 0)
}

impl Synth {
    fn need_got(&mut self, s: SymRef, k: GotKind) {
        if !self.got_index.contains_key(&(s, k)) {
            self.got_index.insert((s, k), self.got.len() as u32);
            self.got.push((s, k));
        }
    }
    fn need_iplt(&mut self, s: SymRef) {
        if !self.iplt_index.contains_key(&s) {
            self.iplt_index.insert(s, self.iplt.len() as u32);
            self.iplt.push(s);
        }
    }
}

/// The function symbol of `file` whose range covers `sec+off`, for error messages.
pub fn enclosing_function(res: &Resolved<'_>, file: FileId, sec: u32, off: u64) -> Option<String> {
    let obj = &res.files[file.0 as usize].obj;
    for (i, sym) in obj.symbols.iter().enumerate() {
        if sym.st_type() != STT_FUNC || obj.sym_place(i).ok()? != SymPlace::Section(sec) {
            continue;
        }
        let v = sym.st_value.get(E);
        let size = sym.st_size.get(E);
        if off >= v && off < v.saturating_add(size.max(1)) {
            return obj.sym_name(i).ok().map(name_str);
        }
    }
    None
}

/// The teaching `_start`: what crt1.o and glibc's `__libc_start_main` do, reduced to the init-array
/// protocol. Each initializer gets (argc, argv, envp) as glibc passes them; the fini array runs in
/// reverse; the exit status is main's return value.
fn teaching_start(main: SymRef) -> Stub {
    Stub {
        name: "_start".into(),
        why: "the link has no _start and no -e: initlink made one that runs .preinit_array and .init_array \
              with (argc, argv, envp), calls main, runs .fini_array in reverse and exits with main's status"
            .into(),
        home: StubHome::Text,
        offset: 0,
        insns: arch::teaching_start(StubTarget::Sym(main), StubTarget::Linker),
    }
}

/// How a pointer-sized absolute word (`arch::is_word_absolute`) resolves in a dynamic output.
/// Scan and apply both ask [`dyn_action`], so the dynamic relocation that was counted is the one
/// that gets written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynAction {
    /// Computed at link time (S is the PLT entry or the copy for imported symbols).
    Static,
    /// An absolute address in position-independent output: `DynKind::Relative`, addend S + A.
    Relative,
    /// The loader resolves the symbol: `DynKind::Symbolic` with the symbol, addend A.
    Symbolic,
}

/// Defined by a shared object (or left undefined by a shared object being built).
pub fn imported(res: &Resolved<'_>, opts: &Options, s: SymRef) -> bool {
    match s {
        SymRef::Local(..) => false,
        SymRef::Global(g) => imported_facts(res.facts(g), opts),
    }
}

/// Could another module's definition replace this one at load time?
pub fn preemptible(res: &Resolved<'_>, opts: &Options, s: SymRef) -> bool {
    match s {
        SymRef::Local(..) => false,
        SymRef::Global(g) => preemptible_facts(res.facts(g), opts),
    }
}

fn is_absolute(res: &Resolved<'_>, s: SymRef) -> bool {
    match s {
        SymRef::Global(g) => res.facts(g) & fact::ABSOLUTE != 0,
        SymRef::Local(f, i) => {
            res.files[f.0 as usize].obj.sym_place(i as usize).ok() == Some(SymPlace::Absolute)
        }
    }
}

fn imported_is_function(res: &Resolved<'_>, s: SymRef) -> bool {
    match s {
        SymRef::Global(g) => match res.global(g).def {
            Def::Shared { dso, sym } => {
                let t = res.dsos[dso as usize].obj.syms[sym as usize].st_type();
                t == STT_FUNC || t == STT_GNU_IFUNC
            }
            _ => false,
        },
        _ => false,
    }
}

/// How a pointer-sized absolute word at an allocated input site (in writable data or not)
/// that refers to `s` resolves in a dynamic output.
pub fn dyn_action(res: &Resolved<'_>, opts: &Options, s: SymRef, writable: bool) -> DynAction {
    let pic = matches!(opts.kind, OutputKind::Pie | OutputKind::Shared);
    let shared = opts.kind == OutputKind::Shared;
    // The predicates ([`preemptible`], [`is_weak_undef`], [`is_absolute`], [`imported`]) from
    // one read of the symbol's facts: this runs for every pointer-sized word.
    let (preemptible, weak_undef, absolute, imported) = match s {
        // A local is never preemptible, imported or undefined.
        SymRef::Local(..) => (false, false, is_absolute(res, s), false),
        SymRef::Global(g) => {
            let f = res.facts(g);
            let absolute = f & fact::ABSOLUTE != 0;
            let imported = imported_facts(f, opts);
            (
                preemptible_facts(f, opts),
                undefined_here(f),
                absolute,
                imported,
            )
        }
    };
    // An undefined weak symbol is left to the loader too: 0 unless something defines it.
    if (preemptible || (pic && weak_undef)) && (writable || shared) {
        DynAction::Symbolic
    } else if pic && !absolute && !imported {
        DynAction::Relative
    } else {
        DynAction::Static
    }
}

impl Synth {
    fn plan(&mut self) -> &mut DynPlan {
        self.dynamic.as_mut().expect("dynamic link")
    }

    fn want_sym(&mut self, s: SymRef) {
        if let SymRef::Global(g) = s {
            self.plan().want(g);
        }
    }

    fn got_dyn(&mut self, res: &Resolved<'_>, opts: &Options, s: SymRef, kind: GotKind) -> u32 {
        if let Some(i) = self.got_slot(s, kind) {
            return i;
        }
        let i = self.got.len() as u32;
        self.got_index.insert((s, kind), i);
        self.got.push((s, kind));
        let pre = preemptible(res, opts, s);
        let pic = self.plan().pic;
        let sym = match s {
            SymRef::Global(g) if pre => Some(g),
            _ => None,
        };
        match kind {
            GotKind::Addr => {
                if pre {
                    self.want_sym(s);
                    self.plan()
                        .relocs
                        .push(got_reloc(i, DynKind::GotEntry, sym, None));
                } else if pic && !is_absolute(res, s) {
                    self.plan()
                        .relocs
                        .push(got_reloc(i, DynKind::Relative, None, Some(s)));
                }
            }
            GotKind::TpOff => {
                if self.plan().shared {
                    self.plan().static_tls = true;
                }
                if pre {
                    self.want_sym(s);
                    self.plan()
                        .relocs
                        .push(got_reloc(i, DynKind::TpOffset, sym, None));
                } else if self.plan().shared {
                    self.plan()
                        .relocs
                        .push(got_reloc(i, DynKind::TpOffset, None, Some(s)));
                }
            }
            GotKind::TlsDesc => {
                self.got.push((s, kind)); // the second word
                if pre {
                    self.want_sym(s);
                }
                // Not preemptible: no symbol, the offset in this module's TLS block as addend.
                let target = if pre { None } else { Some(s) };
                let r = got_reloc(i, DynKind::TlsDescriptor, sym, target);
                self.plan().relocs.push(r);
            }
            GotKind::TlsGd | GotKind::TlsLd => {
                self.got.push((s, kind)); // the second word
                if kind == GotKind::TlsGd && pre {
                    self.want_sym(s);
                }
                let modsym = if kind == GotKind::TlsGd { sym } else { None };
                self.plan()
                    .relocs
                    .push(got_reloc(i, DynKind::TlsModule, modsym, None));
                if kind == GotKind::TlsGd && pre {
                    let r = got_reloc(i + 1, DynKind::DtpOffset, sym, None);
                    self.plan().relocs.push(r);
                }
            }
        }
        i
    }

    fn need_copy(&mut self, res: &Resolved<'_>, g: SymbolId) {
        if self.plan().copy_of.contains_key(&g) {
            return;
        }
        let Def::Shared { dso, sym } = res.global(g).def else {
            return;
        };
        let d = &res.dsos[dso as usize].obj;
        let ds = &d.syms[sym as usize];
        let align = 1u64 << ds.value.trailing_zeros().min(5);
        let plan = self.plan();
        // Read-only data in the library stays read-only here: its copy goes to `.data.rel.ro`,
        // which the loader protects after relocating (GNU ld's `.dynrelro`).
        let (size, max_align, mark) = if ds.readonly {
            let relro = crate::dynamic::RELRO_COPY;
            (&mut plan.copy_relro_size, &mut plan.copy_relro_align, relro)
        } else {
            (&mut plan.copy_size, &mut plan.copy_align, 0)
        };
        let off = crate::layout::align_up(*size, align);
        *size = off + ds.size.max(1);
        *max_align = (*max_align).max(align);
        let off = off | mark;
        // Aliases at the same address (`environ`, `__environ`) share the copy, or the library and
        // the program would each see a different variable.
        plan.copy_of.insert(g, off);
        plan.copies.push((g, off));
        plan.want(g);
        for (k, other) in d.syms.iter().enumerate() {
            if k as u32 == sym || !other.defined || other.value != ds.value {
                continue;
            }
            if let Some(a) = res.lookup(other.name) {
                if res.global(a).def == (Def::Shared { dso, sym: k as u32 })
                    && !plan.copy_of.contains_key(&a)
                {
                    plan.copy_of.insert(a, off);
                    plan.copies.push((a, off));
                    plan.want(a);
                }
            }
        }
        plan.relocs.push(DynReloc {
            loc: DynLoc::Copy(g),
            kind: DynKind::Copy,
            sym: Some(g),
            target: None,
            addend: 0,
        });
    }

    /// An executable refers directly to a library's symbol: functions get a canonical PLT entry
    /// (their address in this program), data gets a copy relocation.
    fn direct_import(&mut self, res: &Resolved<'_>, s: SymRef) {
        let SymRef::Global(g) = s else { return };
        if imported_is_function(res, s) {
            self.plan().need_plt(s);
            if !self.plan().canonical.contains(&g) {
                self.plan().canonical.push(g);
            }
        } else {
            self.need_copy(res, g);
        }
    }
}

/// A copy relocation would move a library's protected data into the executable, but the library
/// binds its own references to its own copy (protected: not preemptible), so the two would see
/// different variables: GNU ld refuses, and so does this linker.
fn protected_copy(res: &Resolved<'_>, fid: FileId, s: SymRef) -> Option<Diagnostic> {
    let SymRef::Global(g) = s else { return None };
    let Def::Shared { dso, sym } = res.global(g).def else {
        return None;
    };
    let d = &res.dsos[dso as usize].obj;
    let ds = &d.syms[sym as usize];
    if imported_is_function(res, s) || ds.st_other & 3 != STV_PROTECTED {
        return None;
    }
    let name = name_str(res.global(g).name);
    Some(
        Diagnostic::error(format!(
            "cannot create a copy relocation for protected symbol `{name}' in {} (copy relocation against \
             non-copyable protected symbol): the library binds its own references to its own copy; \
             compile {} with -fPIE or -fPIC",
            d.name, res.files[fid.0 as usize].obj.name
        ))
        .file(res.files[fid.0 as usize].obj.name.clone())
        .symbol(name),
    )
}

/// The teaching `_start` for a dynamic executable: what glibc's `Scrt1.o` does. The loader jumps
/// here with %rdx = its own finalizer; `__libc_start_main` registers that, runs the initializers,
/// calls `main` and passes its result to `exit`. Since glibc 2.34 the `init`/`fini` arguments are
/// NULL: libc walks the init arrays itself.
fn glibc_start(main: SymRef, libc_start_main: SymRef) -> Stub {
    Stub {
        name: "_start".into(),
        why: "the link has no crt files and no _start: initlink made glibc's Scrt1.o _start, which hands main, \
              argc, argv and the loader's finalizer to __libc_start_main"
            .into(),
        home: StubHome::Text,
        offset: 0,
        insns: arch::glibc_start(StubTarget::Sym(main), StubTarget::Sym(libc_start_main)),
    }
}
