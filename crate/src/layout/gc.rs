//! `--gc-sections`: the input sections the output needs, found as GNU ld finds them, so that the
//! rest can be dropped. The roots are what GNU ld keeps whatever references it: the entry symbol,
//! `-u`/`--require-defined`/`-init`/`-fini` symbols, exported symbols (every default-visibility
//! global of a shared object or of an executable linked with `-E`, and what a shared object
//! refers to), the sections GNU ld's default script `KEEP`s (`.init`, `.fini`, the init and fini
//! arrays, `.ctors`, `.dtors`, `.jcr`), notes and `SHF_GNU_RETAIN` sections. From the roots the
//! walk follows relocations to the sections their symbols are defined in, a section's COMDAT
//! group, its `SHF_LINK_ORDER` dependents, the relocations of the `.eh_frame` records that
//! describe it (LSDA, personality: `.eh_frame` itself keeps nothing alive), and from a reference
//! to `__start_SEC`/`__stop_SEC` every section named `SEC` (a C identifier). A file with live
//! code keeps its debug sections and `.comment`. Every live section remembers the edge that
//! reached it first, so the report can show the path from a root.
//!
//! The walk goes level by level: the sections of one level are scanned in parallel, then the
//! sections they reach are claimed in the level's order, one thread. So the live set, and the
//! path to each section, do not depend on the number of threads.

use crate::diag::{name_str, Diagnostic};
use crate::input::{Object, SymPlace, E};
use crate::options::{Options, OutputKind};
use crate::resolve::{Def, FileId, Resolved, SymRef, SymbolId};
use object::elf;
use rustc_hash::FxHashMap;

/// Why a section is kept (or that it is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Unreachable: dropped.
    Dead,
    Root(Root),
    /// A relocation in section `from` names `sym`, defined in this section.
    Reloc {
        from: u32,
        sym: SymRef,
    },
    /// Section `from` refers to `__start_`/`__stop_` of this section's name (`sym`).
    StartStop {
        from: u32,
        sym: SymbolId,
    },
    /// A member of the same COMDAT group as `from`: groups are kept whole.
    Group {
        from: u32,
    },
    /// `SHF_LINK_ORDER` section attached to `from`.
    LinkOrder {
        from: u32,
    },
    /// Named by a relocation of the `.eh_frame` record (FDE, or its CIE) that describes `from`:
    /// its LSDA or its personality routine.
    Unwind {
        from: u32,
        sym: SymRef,
    },
    /// Debug information or another non-allocated section of a file whose code is kept.
    WithFile,
}

/// What GNU ld keeps whatever references it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The entry symbol (`-e`, `_start`, or `main` when initlink makes `_start`).
    Entry(SymbolId),
    /// `-u`/`--undefined` or `--require-defined`.
    Undefined(SymbolId),
    /// `-init`/`-fini` (`DT_INIT`/`DT_FINI`).
    InitFini(SymbolId),
    /// A symbol the linker itself refers to: a `--defsym` target, `--init-stub`'s functions.
    Linker(SymbolId),
    /// Exported: in `.dynsym` for other modules (a shared object's, `-E`), or referenced by a
    /// shared object in the link.
    Exported(SymbolId),
    /// Named in GNU ld's default script under `KEEP` (`.init`, `.init_array`, `.ctors`...).
    Keep,
    /// A note (`SHT_NOTE`).
    Note,
    /// `SHF_GNU_RETAIN` (`__attribute__((retain))`, `.section ...,"R"`).
    Retain,
    /// `.eh_frame`: its records are pruned with the functions they describe.
    EhFrame,
}

/// The result: every input section's [`Why`], sections numbered file after file.
pub struct Gc {
    first: Vec<u32>,
    why: Vec<Why>,
}

impl Why {
    /// The section (node) whose edge reached this one; None for roots (and dropped sections).
    pub fn from(&self) -> Option<u32> {
        match *self {
            Why::Reloc { from, .. }
            | Why::StartStop { from, .. }
            | Why::Group { from }
            | Why::LinkOrder { from }
            | Why::Unwind { from, .. } => Some(from),
            Why::Dead | Why::Root(_) | Why::WithFile => None,
        }
    }
}

impl Gc {
    fn node(&self, file: FileId, sec: u32) -> Option<usize> {
        let f = file.0 as usize;
        let (&a, &b) = (self.first.get(f)?, self.first.get(f + 1)?);
        (sec < b - a).then_some(a as usize + sec as usize)
    }

    /// Whether section `sec` of `file` is kept.
    pub fn live(&self, file: FileId, sec: u32) -> bool {
        self.node(file, sec)
            .is_some_and(|n| self.why[n] != Why::Dead)
    }

    /// Why section `sec` of `file` is kept, or [`Why::Dead`].
    pub fn why(&self, file: FileId, sec: u32) -> Why {
        self.node(file, sec).map_or(Why::Dead, |n| self.why[n])
    }

    /// The (file, section) of node `n`.
    pub fn section_of(&self, n: u32) -> (FileId, u32) {
        let f = self.first.partition_point(|&a| a <= n).saturating_sub(1);
        (FileId(f as u32), n - self.first[f])
    }

    /// `--print-gc-sections`: GNU ld's line for each section with contents that is not kept, in
    /// input order, named as GNU ld names it: a group member with its group's signature in
    /// brackets, and a group's own `.group` section when its first member goes. COMDAT
    /// duplicates are listed too: GNU ld never marks them either.
    pub fn removed_notes(&self, res: &Resolved<'_>) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (fi, file) in res.files.iter().enumerate() {
            let fid = FileId(fi as u32);
            let obj = &file.obj;
            let mut sig_of: FxHashMap<u32, &[u8]> = FxHashMap::default();
            for (sig, members) in &obj.comdat_groups {
                sig_of.extend(members.iter().map(|&m| (m, *sig)));
            }
            for (si, sec) in obj.sections.iter().enumerate() {
                let si = si as u32;
                let removed = if sec.sh_type == elf::SHT_GROUP {
                    // Kept with its first member.
                    let first = sec
                        .data
                        .get(4..8)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                    first.is_some_and(|m| !self.live(fid, m))
                } else {
                    content_section(sec.sh_type) && !self.live(fid, si)
                };
                if sec.size == 0 || !removed {
                    continue;
                }
                // A section symbol as the signature names its section (the group's own).
                let name = match sig_of.get(&si) {
                    Some(sig) if !sig.is_empty() => {
                        format!("{}[{}]", name_str(sec.name), name_str(sig))
                    }
                    Some(_) => format!("{0}[{0}]", name_str(sec.name)),
                    None => name_str(sec.name),
                };
                out.push(Diagnostic::info(format!(
                    "removing unused section '{name}' in file '{}'",
                    obj.name
                )));
            }
        }
        out
    }
}

/// Whether a section of type `sh_type` holds contents of the output (not an object's own
/// symbol, string, relocation or group table).
pub fn content_section(sh_type: u32) -> bool {
    !matches!(
        sh_type,
        elf::SHT_NULL
            | elf::SHT_SYMTAB
            | elf::SHT_STRTAB
            | elf::SHT_RELA
            | elf::SHT_REL
            | elf::SHT_GROUP
            | elf::SHT_SYMTAB_SHNDX
    )
}

/// What one file adds to the walk's graph besides its relocations.
#[derive(Default)]
struct FileEdges {
    /// COMDAT group index of each section (`u32::MAX`: none), empty when the file has none.
    group_of: Vec<u32>,
    /// (section described, `.eh_frame` section, range in `unwind_rels`), sorted by section.
    unwind: Vec<(u32, u32, u32, u32)>,
    /// Relocation indices of the `.eh_frame` records, but the FDEs' `pc_begin`.
    unwind_rels: Vec<u32>,
    /// (linked-to section, `SHF_LINK_ORDER` section), sorted.
    link_order: Vec<(u32, u32)>,
    /// The sections that are roots by themselves ([`section_root`], a script's `KEEP`), in order.
    roots: Vec<(u32, Root)>,
    /// The sections whose names are C identifiers (what `__start_NAME` keeps), in order.
    c_named: Vec<u32>,
}

/// The walk's read-only view of the link.
struct Graph<'r, 'a> {
    res: &'r Resolved<'a>,
    first: Vec<u32>,
    files: Vec<FileEdges>,
    /// Sections whose names are C identifiers, by name: what `__start_NAME` keeps.
    by_c_name: FxHashMap<&'a [u8], Vec<u32>>,
    /// Per global, the node of the kept section that defines it ([`NO_NODE`]: none). Looked up
    /// once per global, natively in parallel, instead of once per relocation through the
    /// defining object's symbol table (a cache miss each).
    global_nodes: Vec<u32>,
}

/// No node: a global defined nowhere, or outside a kept section.
const NO_NODE: u32 = u32::MAX;

/// Find the live sections (after resolve: every symbol is bound).
pub fn collect(res: &Resolved<'_>, opts: &Options) -> Gc {
    let mut first = Vec::with_capacity(res.files.len() + 1);
    let mut n = 0u32;
    for f in &res.files {
        first.push(n);
        n = n.saturating_add(f.obj.sections.len() as u32);
    }
    first.push(n);
    let rules = super::script::Rules::of(opts);
    let files = crate::par::map_range(res.files.len(), 8, |fi| file_edges(res, fi, rules.as_ref()));
    let mut by_c_name: FxHashMap<&[u8], Vec<u32>> = FxHashMap::default();
    for (fi, fe) in files.iter().enumerate() {
        let secs = &res.files[fi].obj.sections;
        for &si in &fe.c_named {
            let name = secs[si as usize].name;
            by_c_name.entry(name).or_default().push(first[fi] + si);
        }
    }
    let mut g = Graph {
        res,
        first,
        files,
        by_c_name,
        global_nodes: Vec::new(),
    };
    g.global_nodes = crate::par::map_range(res.globals.len(), 4096, |i| {
        g.defining_node(SymbolId(i as u32)).unwrap_or(NO_NODE)
    });
    let mut why = vec![Why::Dead; n as usize];
    // `live[n]` is `why[n] != Why::Dead`, in a byte: what every relocation asks.
    let mut live = vec![false; n as usize];
    let roots = g.roots(opts);
    let mut frontier = Vec::with_capacity(roots.len());
    for (node, r) in roots {
        if !live[node as usize] {
            live[node as usize] = true;
            why[node as usize] = Why::Root(r);
            frontier.push(node);
        }
    }
    // A level of one chunk (a long chain of calls makes thousands) runs here with its buffers
    // reused; it reaches what the chunked form would, in the same order.
    let (mut next, mut small) = (Vec::new(), Vec::new());
    while !frontier.is_empty() {
        next.clear();
        // The level's sections claim what they reached, in order: the first edge wins.
        fn claim(reached: &[(u32, Why)], live: &mut [bool], why: &mut [Why], next: &mut Vec<u32>) {
            for &(t, w) in reached {
                if !live[t as usize] {
                    live[t as usize] = true;
                    why[t as usize] = w;
                    next.push(t);
                }
            }
        }
        if frontier.len() <= CHUNK {
            let mut reach = Reach::new(&live, std::mem::take(&mut small));
            for &node in &frontier {
                g.edges(node, &mut reach);
            }
            small = reach.out;
            claim(&small, &mut live, &mut why, &mut next);
            small.clear();
        } else {
            let chunks: Vec<&[u32]> = frontier.chunks(CHUNK).collect();
            let reached = crate::par::map(&chunks, 1, |chunk| {
                let mut reach = Reach::new(&live, Vec::new());
                for &node in chunk.iter() {
                    g.edges(node, &mut reach);
                }
                reach.out
            });
            for r in &reached {
                claim(r, &mut live, &mut why, &mut next);
            }
        }
        std::mem::swap(&mut frontier, &mut next);
    }
    g.keep_with_files(&mut why);
    Gc {
        first: g.first,
        why,
    }
}

/// The sections one task of a level walks from.
const CHUNK: usize = 64;

/// What one chunk of a level reaches: sections not yet live, each with the edge that reached
/// it, in the order a one-thread walk would meet them. A section may appear more than once; the
/// level's claim keeps its first edge.
struct Reach<'l> {
    live: &'l [bool],
    /// Sections reached lately, by their low bits: most repeats are filtered here, cheaper than
    /// a set; the claim drops the rest.
    recent: [u32; 64],
    /// The section reached last: a section's relocations mostly name a few sections, each many
    /// times in a row.
    last: u32,
    out: Vec<(u32, Why)>,
}

impl<'l> Reach<'l> {
    /// Reaching from `live` into `out` (empty; its allocation is reused).
    fn new(live: &'l [bool], out: Vec<(u32, Why)>) -> Self {
        Reach {
            live,
            recent: [u32::MAX; 64],
            last: u32::MAX,
            out,
        }
    }

    /// Whether `t` may be reached here for the first time (not live, not reached lately).
    #[inline]
    fn fresh(&self, t: u32) -> bool {
        t != self.last
            && self.recent[t as usize % 64] != t
            && self.live.get(t as usize).is_some_and(|&l| !l)
    }

    /// Whether `t` is reached here for the first time.
    #[inline]
    fn first(&mut self, t: u32) -> bool {
        if t == self.last || self.live.get(t as usize).is_none_or(|&l| l) {
            return false;
        }
        self.last = t;
        let slot = &mut self.recent[t as usize % 64];
        std::mem::replace(slot, t) != t
    }

    #[inline]
    fn add(&mut self, t: u32, why: impl FnOnce() -> Why) {
        if self.first(t) {
            self.out.push((t, why()));
        }
    }
}

impl<'a> Graph<'_, 'a> {
    fn obj(&self, fi: usize) -> &Object<'a> {
        &self.res.files[fi].obj
    }

    /// The section (node) where symbol `sym` of file `fi` is defined, if in a kept section.
    fn def_node(&self, fi: usize, sym: usize) -> Option<u32> {
        let file = &self.res.files[fi];
        match file.obj.sym_place(sym) {
            Ok(SymPlace::Section(s)) if !*file.discarded.get(s as usize)? => {
                (s < self.first[fi + 1] - self.first[fi]).then(|| self.first[fi] + s)
            }
            _ => None,
        }
    }

    /// The node of the section symbol `sym` of file `fi` is defined in (a global's definition),
    /// unchecked for COMDAT discards: only to skip what is live already.
    #[inline]
    fn quick_node(&self, fi: usize, sym: usize) -> Option<u32> {
        let file = &self.res.files[fi];
        if let Some(g) = file.global(sym) {
            return self.global_node(g);
        }
        let sh = file.obj.symbols.get(sym)?.st_shndx.get(E);
        (sh != elf::SHN_UNDEF && sh < elf::SHN_LORESERVE)
            .then(|| self.first[fi].wrapping_add(u32::from(sh)))
    }

    /// The section a global is defined in.
    #[inline]
    fn global_node(&self, g: SymbolId) -> Option<u32> {
        match self.global_nodes.get(g.0 as usize) {
            Some(&NO_NODE) | None => None,
            Some(&n) => Some(n),
        }
    }

    /// [`Self::global_node`] from the definition (what fills `global_nodes`).
    fn defining_node(&self, g: SymbolId) -> Option<u32> {
        match self.res.global(g).def {
            Def::Defined { file, sym, .. } => self.def_node(file.0 as usize, sym as usize),
            _ => None,
        }
    }

    /// The roots, in a fixed order: symbols named by options, exports, then sections.
    fn roots(&self, opts: &Options) -> Vec<(u32, Root)> {
        let res = self.res;
        let mut roots = Vec::new();
        let mut by_name = |name: &str, root: fn(SymbolId) -> Root| {
            if let Some(g) = res.lookup(name.as_bytes()) {
                if let Some(n) = self.global_node(g) {
                    roots.push((n, root(g)));
                }
            }
        };
        let entry = opts.entry.as_deref().unwrap_or("_start");
        by_name(entry, Root::Entry);
        if opts.entry.is_none() {
            // Without `_start` initlink makes one that calls `main`.
            let start_defined = res
                .lookup(b"_start")
                .is_some_and(|g| matches!(res.global(g).def, Def::Defined { .. }));
            if !start_defined {
                by_name("main", Root::Entry);
            }
        }
        for u in &opts.undefined {
            by_name(u, Root::Undefined);
        }
        by_name(opts.init_symbol(), Root::InitFini);
        by_name(opts.fini_symbol(), Root::InitFini);
        for (_, d) in &opts.defsym {
            if let crate::options::Defsym::Symbol(t) = d {
                by_name(t, Root::Linker);
            }
        }
        if let Some(st) = &opts.init_stub {
            by_name(&st.register, Root::Linker);
            if let Some(d) = &st.data {
                by_name(d, Root::Linker);
            }
        }
        self.exported_roots(opts, &mut roots);
        // Then the sections that are roots by themselves (found per file), in file order.
        for (fi, fe) in self.files.iter().enumerate() {
            roots.extend(fe.roots.iter().map(|&(si, r)| (self.first[fi] + si, r)));
        }
        roots
    }

    /// Globals other modules can see: a shared object's (or `-E`'s) default-visibility
    /// definitions, and what the link's shared objects refer to. `--exclude-libs` archives'
    /// members export nothing.
    fn exported_roots(&self, opts: &Options, roots: &mut Vec<(u32, Root)>) {
        let res = self.res;
        let all = opts.kind == OutputKind::Shared || opts.export_dynamic;
        for (i, g) in res.globals.iter().enumerate() {
            let Def::Defined { file, sym, .. } = g.def else {
                continue;
            };
            if !(all || g.dso_ref) {
                continue;
            }
            let obj = self.obj(file.0 as usize);
            let vis = obj.symbols[sym as usize].st_other & 3;
            if vis == elf::STV_HIDDEN || vis == elf::STV_INTERNAL || excluded_lib(res, opts, file) {
                continue;
            }
            if let Some(n) = self.def_node(file.0 as usize, sym as usize) {
                roots.push((n, Root::Exported(SymbolId(i as u32))));
            }
        }
    }

    /// What node `node` keeps alive, each with the edge that reaches it.
    fn edges(&self, node: u32, out: &mut Reach<'_>) {
        let fi = self.first.partition_point(|&a| a <= node) - 1;
        let si = node - self.first[fi];
        let obj = self.obj(fi);
        let sec = &obj.sections[si as usize];
        if sec.sh_type == elf::SHT_PROGBITS && sec.name == b".eh_frame" {
            return;
        }
        for r in sec.relocs {
            let k = r.r_sym(E, false) as usize;
            // Most relocations name a section already live (often their own, or the one the
            // relocation before named): those are skipped on the symbol's section index alone.
            if let Some(t) = self.quick_node(fi, k) {
                if t == node || !out.fresh(t) {
                    continue;
                }
            }
            self.reloc_target(fi, k, node, false, out);
        }
        let fe = &self.files[fi];
        if let Some(&g) = fe.group_of.get(si as usize) {
            if let Some((_, members)) = obj.comdat_groups.get(g as usize) {
                for &m in members {
                    out.add(self.first[fi] + m, || Why::Group { from: node });
                }
            }
        }
        let lo = fe.link_order.partition_point(|&(l, _)| l < si);
        for &(_, dep) in fe.link_order[lo..].iter().take_while(|&&(l, _)| l == si) {
            out.add(self.first[fi] + dep, || Why::LinkOrder { from: node });
        }
        let lo = fe.unwind.partition_point(|&(t, ..)| t < si);
        for &(_, eh, a, b) in fe.unwind[lo..].iter().take_while(|&&(t, ..)| t == si) {
            let relocs = obj.sections[eh as usize].relocs;
            for &k in &fe.unwind_rels[a as usize..b as usize] {
                if let Some(r) = relocs.get(k as usize) {
                    self.reloc_target(fi, r.r_sym(E, false) as usize, node, true, out);
                }
            }
        }
    }

    /// The section a relocation against symbol `sym` of file `fi` keeps alive.
    fn reloc_target(&self, fi: usize, sym: usize, from: u32, unwind: bool, out: &mut Reach<'_>) {
        let file = &self.res.files[fi];
        let (target, sref) = match file.global(sym) {
            None => (
                self.def_node(fi, sym),
                SymRef::Local(FileId(fi as u32), sym as u32),
            ),
            Some(g) => {
                let gl = self.res.global(g);
                if gl.def == Def::Undefined {
                    self.start_stop(gl.name, g, from, out);
                }
                (self.global_node(g), SymRef::Global(g))
            }
        };
        if let Some(t) = target {
            out.add(t, || {
                if unwind {
                    Why::Unwind { from, sym: sref }
                } else {
                    Why::Reloc { from, sym: sref }
                }
            });
        }
    }

    /// `__start_SEC` and `__stop_SEC`, made by the linker, keep every section named `SEC`.
    fn start_stop(&self, name: &[u8], g: SymbolId, from: u32, out: &mut Reach<'_>) {
        let sec = super::start_stop_section(name);
        if let Some(nodes) = sec.and_then(|s| self.by_c_name.get(s)) {
            for &n in nodes {
                out.add(n, || Why::StartStop { from, sym: g });
            }
        }
    }

    /// GNU ld's last step: a file with a live allocated section (notes aside) keeps its debug
    /// sections and its other non-allocated sections without relocations (`.comment`), unless
    /// they belong to a group or follow another section (`SHF_LINK_ORDER`). Their relocations
    /// keep nothing alive.
    fn keep_with_files(&self, why: &mut [Why]) {
        // Each file decides for its own sections: `why` is cut into the files' runs, and the
        // files go natively in parallel.
        let mut runs: Vec<(usize, &mut [Why])> = Vec::with_capacity(self.res.files.len());
        let mut rest = why;
        for fi in 0..self.res.files.len() {
            let n = ((self.first[fi + 1] - self.first[fi]) as usize).min(rest.len());
            let (run, tail) = std::mem::take(&mut rest).split_at_mut(n);
            runs.push((fi, run));
            rest = tail;
        }
        crate::par::for_each_mut(&mut runs, 64, |(fi, why)| self.keep_file_with(*fi, why));
    }

    /// [`Self::keep_with_files`] for file `fi`, whose sections' entries are `why`.
    fn keep_file_with(&self, fi: usize, why: &mut [Why]) {
        let f = &self.res.files[fi];
        let secs = &f.obj.sections;
        let some_kept = secs
            .iter()
            .zip(why.iter())
            .any(|(s, w)| *w != Why::Dead && s.is_alloc() && s.sh_type != elf::SHT_NOTE);
        if !some_kept {
            return;
        }
        let fe = &self.files[fi];
        for ((si, s), w) in secs.iter().enumerate().zip(why.iter_mut()) {
            let in_group = fe.group_of.get(si).is_some_and(|&g| g != u32::MAX);
            let special = is_debug(s.name) || (!s.is_alloc() && s.relocs.is_empty());
            let linked = s.flags & u64::from(elf::SHF_LINK_ORDER) != 0;
            if *w == Why::Dead
                && special
                && !s.is_alloc()
                && !linked
                && !f.discarded[si]
                && (!in_group || self.debug_only_group(fi, si))
            {
                *w = Why::WithFile;
            }
        }
    }

    /// Whether section `si` of file `fi` is in a group of non-allocated sections only (debug
    /// type units, macro tables): such a group goes with its file.
    fn debug_only_group(&self, fi: usize, si: usize) -> bool {
        let obj = self.obj(fi);
        let g = self.files[fi].group_of[si];
        obj.comdat_groups.get(g as usize).is_some_and(|(_, m)| {
            m.iter()
                .all(|&k| obj.sections.get(k as usize).is_some_and(|s| !s.is_alloc()))
        })
    }
}

/// Whether a section is a root by itself.
fn section_root(s: &crate::input::Section<'_>) -> Option<Root> {
    if s.flags & u64::from(elf::SHF_GNU_RETAIN) != 0 {
        return Some(Root::Retain);
    }
    if s.sh_type == elf::SHT_NOTE && s.flags & u64::from(elf::SHF_LINK_ORDER) == 0 {
        return Some(Root::Note);
    }
    if s.sh_type == elf::SHT_PROGBITS && s.name == b".eh_frame" {
        return Some(Root::EhFrame);
    }
    let n = s.name;
    let has = |p: &[u8]| n == p || (n.starts_with(p) && n.get(p.len()) == Some(&b'.'));
    let keep = [
        &b".init_array"[..],
        b".fini_array",
        b".ctors",
        b".dtors",
        b".preinit_array",
    ]
    .iter()
    .any(|p| has(p))
        || matches!(n, b".init" | b".fini" | b".jcr" | b".gnu.attributes");
    keep.then_some(Root::Keep)
}

/// GNU ld's debugging sections.
fn is_debug(name: &[u8]) -> bool {
    name.starts_with(b".debug")
        || name.starts_with(b".zdebug")
        || name.starts_with(b".gnu.linkonce.wi.")
        || name.starts_with(b".line")
        || name.starts_with(b".stab")
}

pub(super) fn is_c_ident(s: &[u8]) -> bool {
    !s.is_empty()
        && !s[0].is_ascii_digit()
        && s.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `--exclude-libs`: is `file` a member of an archive whose symbols are not exported?
fn excluded_lib(res: &Resolved<'_>, opts: &Options, file: FileId) -> bool {
    if opts.exclude_libs.is_empty() {
        return false;
    }
    let archive = match &res.files[file.0 as usize].origin {
        crate::resolve::Origin::Member { archive, .. }
        | crate::resolve::Origin::WholeArchive { archive, .. } => archive,
        crate::resolve::Origin::CommandLine => return false,
    };
    let base = archive.rsplit('/').next().unwrap_or(archive);
    opts.exclude_libs.iter().any(|l| l == "ALL" || l == base)
}

/// File `fi`'s groups, link-order sections and unwind records, for the walk.
fn file_edges(res: &Resolved<'_>, fi: usize, rules: Option<&super::script::Rules>) -> FileEdges {
    let file = &res.files[fi];
    let obj = &file.obj;
    let mut fe = FileEdges::default();
    // A linker script's `KEEP (...)` descriptions keep what they take.
    let kept = |s: &crate::input::Section<'_>| {
        rules.is_some_and(|r| {
            let route = r.route(&obj.name, &s.name_str());
            matches!(route, super::script::Route::To { keep: true, .. })
        })
    };
    for (si, s) in obj.sections.iter().enumerate() {
        if file.discarded[si] {
            continue;
        }
        if let Some(r) = section_root(s).or_else(|| kept(s).then_some(Root::Keep)) {
            fe.roots.push((si as u32, r));
        }
        if is_c_ident(s.name) {
            fe.c_named.push(si as u32);
        }
    }
    if !obj.comdat_groups.is_empty() {
        fe.group_of = vec![u32::MAX; obj.sections.len()];
        for (g, (_, members)) in obj.comdat_groups.iter().enumerate() {
            for &m in members {
                if let Some(x) = fe.group_of.get_mut(m as usize) {
                    *x = g as u32;
                }
            }
        }
    }
    for (si, s) in obj.sections.iter().enumerate() {
        if s.flags & u64::from(elf::SHF_LINK_ORDER) != 0 && (s.link as usize) < obj.sections.len() {
            fe.link_order.push((s.link, si as u32));
        }
        if s.sh_type == elf::SHT_PROGBITS && s.name == b".eh_frame" && !file.discarded[si] {
            unwind_records(obj, si as u32, &mut fe);
        }
    }
    fe.link_order.sort_unstable();
    fe.unwind.sort_by_key(|&(t, ..)| t);
    fe
}

/// For each FDE of `.eh_frame` section `eh`: the section it describes, and the relocations of
/// the FDE (but its `pc_begin`) and of its CIE. A malformed record ends the scan; the plan's
/// split of the same section reports it.
fn unwind_records(obj: &Object<'_>, eh: u32, fe: &mut FileEdges) {
    let sec = &obj.sections[eh as usize];
    let data = sec.data;
    let rel_off = |k: u32| sec.relocs[k as usize].r_offset.get(E);
    let mut order: Vec<u32> = (0..sec.relocs.len() as u32).collect();
    if !sec.relocs.is_sorted_by_key(|r| r.r_offset.get(E)) {
        order.sort_by_key(|&k| rel_off(k));
    }
    // Relocations of record [start, end), from order[*at] on.
    let take = |at: &mut usize, start: u64, end: u64| -> (usize, usize) {
        while *at < order.len() && rel_off(order[*at]) < start {
            *at += 1;
        }
        let lo = *at;
        while *at < order.len() && rel_off(order[*at]) < end {
            *at += 1;
        }
        (lo, *at)
    };
    let mut cies: Vec<(u64, usize, usize)> = Vec::new();
    let (mut off, mut at) = (0u64, 0usize);
    while let Some(b) = data.get(off as usize..off as usize + 8) {
        let len = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if len == 0 || len == 0xffff_ffff {
            break;
        }
        let id = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        let end = off + 4 + len;
        let (lo, hi) = take(&mut at, off, end);
        if id == 0 {
            cies.push((off, lo, hi));
        } else if hi - lo > 1 || cies.iter().any(|c| c.2 > c.1) {
            // Only an FDE with relocations besides its `pc_begin` (an LSDA), or whose CIEs have
            // some (a personality), keeps anything alive.
            let pc_begin = order[lo..hi]
                .iter()
                .find(|&&k| rel_off(k) == off + 8)
                .and_then(|&k| {
                    match obj.sym_place(sec.relocs[k as usize].r_sym(E, false) as usize) {
                        Ok(SymPlace::Section(s)) => Some(s),
                        _ => None,
                    }
                });
            let cie = (off + 4).checked_sub(u64::from(id));
            if let Some(target) = pc_begin {
                let start = fe.unwind_rels.len() as u32;
                let own = order[lo..hi].iter().filter(|&&k| rel_off(k) != off + 8);
                fe.unwind_rels.extend(own);
                if let Some(&(_, clo, chi)) = cies.iter().find(|c| Some(c.0) == cie) {
                    fe.unwind_rels.extend(&order[clo..chi]);
                }
                fe.unwind
                    .push((target, eh, start, fe.unwind_rels.len() as u32));
            }
        }
        off = end;
    }
}
