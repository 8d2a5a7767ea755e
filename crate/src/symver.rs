//! Exports and symbol versions, decided once after resolve: which definitions a dynamic output
//! exports, at which version (`.gnu.version_d`, `.gnu.version`), and which it binds locally. The
//! inputs are the version scripts (`--version-script`, a linker script's `VERSION`), the
//! versions objects give their own definitions (`foo@V`, `foo@@V` from `.symver`), dynamic lists
//! (`--dynamic-list`, `--export-dynamic-symbol[-list]`), `--exclude-libs`,
//! `-Bsymbolic-functions` and `--default-symver`, with GNU ld's rules for each.
//!
//! The result is [`Resolved::binding`] (read through the `PREEMPTIBLE` fact by the scan, and by
//! the dynamic plan and the symbol table) and an [`Exports`] for the dynamic plan.

use crate::diag::{name_str, Diagnostic, Errors, Result};
use crate::input::InputItem;
use crate::options::{Options, OutputKind};
use crate::resolve::{bind, Def, FileId, Origin, Resolved, SymbolId};
use crate::version_script::{self, demangle, Lang, List, Matcher, Node, Pattern, Placed};
use object::elf;
use rustc_hash::{FxHashMap, FxHashSet};

/// A version the output defines, after the base one (`.gnu.version_d` index 2 on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerDef {
    pub name: String,
    /// The versions it inherits (`} PARENT;`).
    pub parents: Vec<String>,
}

/// The versions an output defines and gives its exports.
#[derive(Debug, Default)]
pub struct Exports {
    /// Versions defined after the base; empty: no `.gnu.version_d`.
    pub defs: Vec<VerDef>,
    /// The version index of each definition whose index is not 1 (`VER_NDX_GLOBAL`), with
    /// `VERSYM_HIDDEN` for a non-default version (`foo@V`).
    pub versym: FxHashMap<SymbolId, u16>,
}

impl Exports {
    /// The `.gnu.version` entry of a definition.
    pub fn version_of(&self, g: SymbolId) -> u16 {
        self.versym.get(&g).copied().unwrap_or(elf::VER_NDX_GLOBAL)
    }
}

/// The name a symbol is exported by: without the version a `.symver` name carries.
pub fn export_name(name: &[u8]) -> &[u8] {
    match memchr::memchr(b'@', name) {
        Some(at) => &name[..at],
        None => name,
    }
}

/// The dynamic-list patterns in force.
#[derive(Default)]
struct Lists {
    /// `--dynamic-list` files and `--dynamic-list-cpp-*`.
    dynamic: Vec<Pattern>,
    /// `--export-dynamic-symbol[-list]`.
    export: Vec<Pattern>,
}

/// Every version node in the order GNU ld reads them: the `--version-script`s (read with the
/// options) before the linker scripts' `VERSION`s (read with the inputs).
fn gather_nodes(items: &[InputItem<'_>]) -> Result<Vec<Node>> {
    let mut nodes: Vec<Node> = Vec::new();
    for first in [true, false] {
        for item in items {
            if let InputItem::Versions {
                script,
                command_line,
            } = item
            {
                if *command_line == first {
                    nodes.extend(script.nodes.iter().cloned());
                }
            }
        }
    }
    // GNU ld: a pattern that is global in one node and local in an earlier one (or the
    // reverse) is an error.
    let key = |p: &Pattern| (p.lang == Lang::Cxx, p.text.clone());
    let (mut globals, mut locals) = (FxHashSet::default(), FxHashSet::default());
    for n in &nodes {
        let dup = n
            .globals
            .iter()
            .find(|p| locals.contains(&key(p)))
            .or_else(|| n.locals.iter().find(|p| globals.contains(&key(p))));
        if let Some(p) = dup {
            return Err(Diagnostic::error(format!(
                "duplicate expression '{}' in version information",
                p.text
            ))
            .file(n.at.clone())
            .into());
        }
        globals.extend(n.globals.iter().map(key));
        locals.extend(n.locals.iter().map(key));
    }
    for (k, n) in nodes.iter().enumerate() {
        if n.name.is_none() && nodes.len() > 1 {
            return Err(Diagnostic::error(
                "anonymous version tag cannot be combined with other version tags",
            )
            .file(n.at.clone())
            .into());
        }
        if let Some(name) = &n.name {
            if nodes[..k].iter().any(|m| m.name.as_ref() == Some(name)) {
                return Err(Diagnostic::error(format!("duplicate version tag '{name}'"))
                    .file(n.at.clone())
                    .into());
            }
        }
    }
    Ok(nodes)
}

fn gather_lists(items: &[InputItem<'_>], opts: &Options) -> Lists {
    let mut l = Lists::default();
    for item in items {
        if let InputItem::DynamicList { patterns, export } = item {
            let to = if *export {
                &mut l.export
            } else {
                &mut l.dynamic
            };
            to.extend(patterns.iter().cloned());
        }
    }
    let cxx = |s: &str| version_script::pattern(s, Lang::Cxx);
    if opts.dynamic_list_cpp_new {
        l.dynamic
            .extend(["operator new*", "operator delete*"].map(cxx));
    }
    if opts.dynamic_list_cpp_typeinfo {
        l.dynamic
            .extend(["typeinfo name for*", "typeinfo for*", "vtable for*"].map(cxx));
    }
    l.export.extend(
        opts.export_dynamic_symbols
            .iter()
            .map(|s| version_script::pattern(s, Lang::C)),
    );
    l
}

/// What the pass over the definitions needs.
struct Cx<'o> {
    opts: &'o Options,
    shared: bool,
    matcher: Matcher,
    /// Each node's version index (an anonymous node's is 1).
    node_index: Vec<u16>,
    dynamic: List,
    export: List,
    /// A shared object's symbols outside the dynamic list are bound locally.
    dynamic_mode: bool,
    wants_cxx: bool,
}

/// Decide [`Resolved::binding`] and the versions; errors for a definition whose version no
/// node defines (in a shared object).
pub fn settle(res: &mut Resolved<'_>, opts: &Options, items: &[InputItem<'_>]) -> Result<Exports> {
    let ex = settle_versions(res, opts, items)?;
    hide_script_symbols(res, opts);
    Ok(ex)
}

/// A linker script's `HIDDEN (NAME = ...)` and `PROVIDE_HIDDEN`: the symbol it defines is bound
/// locally (an object's own definition of the name, which a `PROVIDE` left alone, is not).
fn hide_script_symbols(res: &mut Resolved<'_>, opts: &Options) {
    for name in &opts.hidden {
        let Some(g) = res.lookup(name.as_bytes()) else {
            continue;
        };
        if res.global(g).def != Def::Linker {
            continue;
        }
        if res.binding.len() < res.globals.len() {
            res.binding.resize(res.globals.len(), 0);
        }
        res.binding[g.0 as usize] |= bind::LOCAL;
    }
}

fn settle_versions(
    res: &mut Resolved<'_>,
    opts: &Options,
    items: &[InputItem<'_>],
) -> Result<Exports> {
    let nodes = gather_nodes(items)?;
    let lists = gather_lists(items, opts);
    let versioned = res.files.iter().any(|f| f.obj.versioned);
    let any = !nodes.is_empty()
        || !lists.dynamic.is_empty()
        || !lists.export.is_empty()
        || !opts.exclude_libs.is_empty()
        || opts.bsymbolic_functions
        || opts.dynamic_list_data
        || opts.default_symver
        || versioned;
    if !any {
        return Ok(Exports::default());
    }
    let mut ex = Exports::default();
    let mut node_index = Vec::with_capacity(nodes.len());
    for n in &nodes {
        match &n.name {
            Some(name) => {
                ex.defs.push(VerDef {
                    name: name.clone(),
                    parents: n.parents.clone(),
                });
                node_index.push(ex.defs.len() as u16 + 1);
            }
            None => node_index.push(elf::VER_NDX_GLOBAL),
        }
    }
    let dynamic = List::new(&lists.dynamic);
    let export = List::new(&lists.export);
    let matcher = Matcher::new(&nodes);
    let wants_cxx = matcher.wants_cxx() || dynamic.wants_cxx() || export.wants_cxx();
    let cx = Cx {
        opts,
        shared: opts.kind == OutputKind::Shared,
        dynamic_mode: !lists.dynamic.is_empty()
            || opts.dynamic_list_data
            || opts.bsymbolic_functions,
        matcher,
        node_index,
        dynamic,
        export,
        wants_cxx,
    };
    let mut binding = vec![0u8; res.globals.len()];
    let explicit = explicit_versions(res, &cx, &nodes, &mut ex, &mut binding)?;
    let mut default_symver = None;
    for (i, g) in res.globals.iter().enumerate() {
        let id = SymbolId(i as u32);
        let (file, sym) = match g.def {
            Def::Defined { file, sym, .. } | Def::Common { file, sym } => (file, sym),
            _ => continue,
        };
        if excluded_lib(res, opts, file) {
            binding[i] |= bind::LOCAL;
            continue;
        }
        let name = String::from_utf8_lossy(g.name);
        let cxx = if cx.wants_cxx { demangle(&name) } else { None };
        if !ex.versym.contains_key(&id) && binding[i] & bind::LOCAL == 0 && !nodes.is_empty() {
            match cx.matcher.place(&name, cxx.as_deref()) {
                Some(Placed::Global(t)) => {
                    // Also defined at a version of this very node (`foo@V`): the plain name is
                    // hidden rather than exported twice.
                    if explicit.get(g.name).is_some_and(|ts| ts.contains(&t)) {
                        binding[i] |= bind::LOCAL;
                    } else if cx.node_index[t] != elf::VER_NDX_GLOBAL {
                        ex.versym.insert(id, cx.node_index[t]);
                    }
                }
                Some(Placed::Local(_)) => binding[i] |= bind::LOCAL,
                None => {}
            }
        }
        if binding[i] & bind::LOCAL != 0 {
            continue;
        }
        if opts.default_symver && !ex.versym.contains_key(&id) {
            let k = *default_symver.get_or_insert_with(|| {
                ex.defs.push(VerDef {
                    name: base_name(opts),
                    parents: Vec::new(),
                });
                ex.defs.len() as u16 + 1
            });
            ex.versym.insert(id, k);
        }
        let ty = res.files[file.0 as usize]
            .obj
            .symbols
            .get(sym as usize)
            .map_or(elf::STT_NOTYPE, |s| s.st_type());
        binding[i] |= cx.list_binding(&name, cxx.as_deref(), ty);
    }
    res.binding = binding;
    Ok(ex)
}

impl Cx<'_> {
    /// Named by a dynamic list or an export list.
    fn listed(&self, name: &str) -> bool {
        let cxx = if self.wants_cxx { demangle(name) } else { None };
        self.dynamic.matches(name, cxx.as_deref()) || self.export.matches(name, cxx.as_deref())
    }

    /// What the dynamic lists and `-Bsymbolic-functions` say of a definition of type `ty`.
    fn list_binding(&self, name: &str, cxx: Option<&str>, ty: u8) -> u8 {
        let listed = || self.dynamic.matches(name, cxx) || self.export.matches(name, cxx);
        if !self.shared {
            let data = self.opts.dynamic_list_data && ty == elf::STT_OBJECT;
            return if data || listed() { bind::EXPORT } else { 0 };
        }
        // GNU ld: with a dynamic list in force (`--dynamic-list`, `--dynamic-list-data`,
        // `-Bsymbolic-functions`), only what it lists, and data with `-data`/`-functions`,
        // stays preemptible.
        let data =
            (self.opts.dynamic_list_data || self.opts.bsymbolic_functions) && ty == elf::STT_OBJECT;
        if self.dynamic_mode && !data && !listed() {
            bind::SYMBOLIC
        } else {
            0
        }
    }
}

/// The definitions whose names carry a version (`foo@V`, `foo@@V`): their version index, and
/// local when their own node's `local:` names them. Returns, by plain name, the nodes that
/// have such a definition.
fn explicit_versions<'a>(
    res: &Resolved<'a>,
    cx: &Cx<'_>,
    nodes: &[Node],
    ex: &mut Exports,
    binding: &mut [u8],
) -> Result<FxHashMap<&'a [u8], Vec<usize>>> {
    let mut explicit: FxHashMap<&'a [u8], Vec<usize>> = FxHashMap::default();
    let mut errors = Vec::new();
    // Versions an executable's objects name that no script defines (GNU ld makes them).
    let mut made: Vec<(String, u16)> = Vec::new();
    for (i, g) in res.globals.iter().enumerate() {
        let Def::Defined { file, sym, .. } = g.def else {
            continue;
        };
        let obj = &res.files[file.0 as usize].obj;
        if !obj.versioned {
            continue;
        }
        let Ok(raw) = obj.sym_name(sym as usize) else {
            continue;
        };
        let Some(at) = memchr::memchr(b'@', raw) else {
            continue;
        };
        let base = &raw[..at];
        let hidden = raw.get(at + 1) != Some(&b'@');
        let ver = name_str(&raw[at + if hidden { 1 } else { 2 }..]);
        // Versions matter only for what is exported (GNU ld versions dynamic symbols only).
        let vis = obj.symbols[sym as usize].st_other & 3;
        let exported = vis != elf::STV_HIDDEN
            && vis != elf::STV_INTERNAL
            && (cx.shared
                || cx.opts.export_dynamic
                || g.dso_ref
                || cx.listed(&String::from_utf8_lossy(g.name)));
        if ver.is_empty() {
            // `foo@@` or `foo@`: the base version, exported as it is whatever the script says
            // (GNU ld leaves such a name out of the version script's matching).
            ex.versym.insert(SymbolId(i as u32), elf::VER_NDX_GLOBAL);
            continue;
        }
        if !exported {
            continue;
        }
        let index = match nodes
            .iter()
            .position(|n| n.name.as_deref() == Some(ver.as_str()))
        {
            Some(t) => {
                let name = String::from_utf8_lossy(base);
                let cxx = if cx.wants_cxx { demangle(&name) } else { None };
                let global = !cx.matcher.globals[t].hits(&name, cxx.as_deref()).is_empty();
                if !global
                    && !cx.matcher.locals[t].hits(&name, cxx.as_deref()).is_empty()
                    && !cx.opts.export_dynamic
                {
                    binding[i] |= bind::LOCAL;
                }
                explicit.entry(base).or_default().push(t);
                cx.node_index[t]
            }
            None if !cx.shared => match made.iter().find(|(n, _)| *n == ver) {
                Some(&(_, k)) => k,
                None => {
                    ex.defs.push(VerDef {
                        name: ver.clone(),
                        parents: Vec::new(),
                    });
                    let k = ex.defs.len() as u16 + 1;
                    made.push((ver, k));
                    k
                }
            },
            None => {
                errors.push(
                    Diagnostic::error(format!(
                        "version node not found for symbol {}",
                        name_str(raw)
                    ))
                    .file(obj.name.clone())
                    .symbol(name_str(raw)),
                );
                continue;
            }
        };
        let hidden_bit = if hidden { elf::VERSYM_HIDDEN } else { 0 };
        ex.versym.insert(SymbolId(i as u32), index | hidden_bit);
    }
    if errors.is_empty() {
        Ok(explicit)
    } else {
        Err(Errors(errors))
    }
}

/// The base version's name: the soname, else the output's file name.
pub fn base_name(opts: &Options) -> String {
    match &opts.soname {
        Some(s) => s.clone(),
        None => opts
            .output
            .rsplit('/')
            .next()
            .unwrap_or(&opts.output)
            .to_string(),
    }
}

/// `--exclude-libs`: is `file` a member of an archive whose symbols are not exported (named in
/// the list by its file name, or `ALL`)?
fn excluded_lib(res: &Resolved<'_>, opts: &Options, file: FileId) -> bool {
    if opts.exclude_libs.is_empty() {
        return false;
    }
    let archive = match &res.files[file.0 as usize].origin {
        Origin::Member { archive, .. } | Origin::WholeArchive { archive, .. } => archive,
        Origin::CommandLine => return false,
    };
    let base = archive.rsplit('/').next().unwrap_or(archive);
    opts.exclude_libs.iter().any(|l| l == "ALL" || l == base)
}
