//! Link-time optimization through a linker plugin (GCC's `liblto_plugin.so`), as GNU ld drives
//! it, in two resolves. The first ([`resolve_ir`]) offers each LTO object the walk loads to the
//! plugin, whose symbol tables stand in for the claimed objects (`ir`), and answers what the
//! plugin then asks: how each IR symbol resolved ([`IrLink::resolutions`]). The caller hands
//! those to the plugin, which compiles the bytecode into regular objects; the second resolve is
//! an ordinary link of the same inputs with those objects added and the claimed ones left out
//! ([`crate::options::Options::lto_replaced`]). The plugin (a shared library with file
//! descriptors and processes) stays the caller's: the core only takes symbol tables and answers
//! with resolutions.

use crate::diag::Result;
use crate::input::InputItem;
use crate::ir::{Claim, IrKind, IrSymbol, Resolution};
use crate::options::{Defsym, Options, OutputKind};
use crate::resolve::{bind, Claimed, Def, FileId, Resolved, SymbolId};
use object::elf;

/// What the first resolve of an LTO link decided.
#[derive(Debug, Default)]
pub struct IrLink {
    /// Each claimed object's symbols' resolutions, in claim order and the plugin's symbol order.
    pub resolutions: Vec<Vec<Resolution>>,
    /// Each claimed object (the file that holds it, where in it), in claim order: the second
    /// resolve leaves them out.
    pub replaced: Vec<(String, u64)>,
    /// The COMDAT groups claimed objects kept whose definitions the compiled objects will hold
    /// as globals ([`crate::options::LtoReplaced::comdats`]).
    pub comdats: Vec<String>,
    /// The names IR code refers to that a regular object or a shared object defines. The second
    /// resolve holds them referenced from the start (as `-u` does), so that the archive members
    /// and libraries they loaded are loaded again wherever the compiled objects stand, as GNU ld
    /// keeps what it loaded before the plugin compiled.
    pub keep: Vec<String>,
}

/// The first resolve of an LTO link: the walk with `claim` offered every LTO object it loads.
pub fn resolve_ir<'a>(
    items: &[InputItem<'a>],
    opts: &'a Options,
    claim: &mut dyn Claim<'a>,
) -> Result<IrLink> {
    let register = opts.init_stub.as_ref().map(|s| s.register.as_str());
    let mut res = crate::resolve::resolve(items, opts, register, Some(claim))?;
    // Which definitions are exported (version scripts, dynamic lists): what makes an IR-only
    // definition `IRONLY_EXP`. An error here is the second resolve's to report.
    let _ = crate::symver::settle(&mut res, opts, items);
    let regular = regular_refs(&res, opts);
    let mut ir_file = vec![false; res.files.len()];
    for c in &res.claimed {
        ir_file[c.file.0 as usize] = true;
    }
    let cx = Cx {
        res: &res,
        opts,
        regular: &regular,
        ir_file: &ir_file,
    };
    let mut out = IrLink::default();
    for c in &res.claimed {
        let list: Vec<Resolution> = (c.symbols.iter().enumerate())
            .map(|(k, s)| cx.resolution(c.file, k, s))
            .collect();
        for (s, r) in c.symbols.iter().zip(&list) {
            let outside = matches!(r, Resolution::ResolvedExec | Resolution::ResolvedDyn);
            if s.kind == IrKind::Undef && outside {
                out.keep.push(crate::diag::name_str(&s.name));
            }
        }
        out.comdats.extend(kept_global_groups(&res, c, &list));
        out.resolutions.push(list);
        out.replaced.push((c.path.clone(), c.offset));
    }
    Ok(out)
}

/// The COMDAT groups of claimed object `c` that it kept and whose every definition stays a
/// global of the compiled code (`PREVAILING_DEF`, `IRONLY_EXP`).
fn kept_global_groups(res: &Resolved<'_>, c: &Claimed, list: &[Resolution]) -> Vec<String> {
    let file = &res.files[c.file.0 as usize];
    let mut out = Vec::new();
    for (sig, members) in &file.obj.comdat_groups {
        let kept = members.iter().all(|&m| !file.discarded[m as usize]);
        let global = (c.symbols.iter().zip(list))
            .filter(|(s, _)| s.comdat.as_deref() == Some(sig) && !s.kind.is_undefined())
            .all(|(_, r)| {
                matches!(
                    r,
                    Resolution::PrevailingDef | Resolution::PrevailingDefIronlyExp
                )
            });
        if kept && global {
            out.push(crate::diag::name_str(sig));
        }
    }
    out
}

/// Which globals something outside the IR refers to: a regular object (defining or referring
/// to it), or the linker itself (the entry point, `-u`, `--defsym`, `-init`/`-fini`, `--wrap`,
/// `--export-dynamic-symbol`). Their IR definitions must stay as they are.
fn regular_refs(res: &Resolved<'_>, opts: &Options) -> Vec<bool> {
    let mut out = vec![false; res.globals.len()];
    let claimed: Vec<FileId> = res.claimed.iter().map(|c| c.file).collect();
    for (i, f) in res.files.iter().enumerate() {
        if claimed.contains(&FileId(i as u32)) {
            continue;
        }
        for id in &f.globals {
            out[id.0 as usize] = true;
        }
    }
    let mut names: Vec<&str> = vec![
        opts.entry.as_deref().unwrap_or("_start"),
        opts.init.as_deref().unwrap_or("_init"),
        opts.fini.as_deref().unwrap_or("_fini"),
    ];
    names.extend(opts.undefined.iter().map(String::as_str));
    names.extend(opts.require_defined.iter().map(String::as_str));
    names.extend(opts.export_dynamic_symbols.iter().map(String::as_str));
    names.extend(opts.init_stub.iter().map(|s| s.register.as_str()));
    for (_, v) in &opts.defsym {
        if let Defsym::Symbol(t) = v {
            names.push(t);
        }
    }
    for w in &opts.wrap {
        names.extend([w.symbol.as_str(), w.wrapper.as_str(), w.real.as_str()]);
    }
    for n in names {
        if let Some(id) = res.lookup(n.as_bytes()) {
            out[id.0 as usize] = true;
        }
    }
    out
}

struct Cx<'r, 'a> {
    res: &'r Resolved<'a>,
    opts: &'r Options,
    regular: &'r [bool],
    ir_file: &'r [bool],
}

impl Cx<'_, '_> {
    /// How symbol `k` of the claimed object in file `f` resolved.
    fn resolution(&self, f: FileId, k: usize, s: &IrSymbol) -> Resolution {
        let file = &self.res.files[f.0 as usize];
        let index = file.obj.first_global + k;
        let Some(id) = file.global(index) else {
            return Resolution::Undef;
        };
        let def = self.res.global(id).def;
        let (owner, sym) = match def {
            Def::Defined { file, sym, .. } | Def::Common { file, sym } => (Some(file), sym),
            _ => (None, 0),
        };
        let in_ir = owner.is_some_and(|o| self.ir_file[o.0 as usize]);
        if s.kind.is_undefined() {
            return match def {
                Def::Undefined => Resolution::Undef,
                Def::Shared { .. } => Resolution::ResolvedDyn,
                _ if in_ir => Resolution::ResolvedIr,
                _ => Resolution::ResolvedExec,
            };
        }
        if owner == Some(f) && sym as usize == index {
            // A variable in a COMDAT group (a function's static variable in an inline function,
            // a template's static member) stays a global of the compiled code: an object
            // loaded only for that code may hold the same group, and must share the variable.
            let shared = s.comdat.is_some() && s.function == Some(false);
            if self.regular[id.0 as usize] || shared {
                Resolution::PrevailingDef
            } else if self.exported(id, s.visibility) {
                Resolution::PrevailingDefIronlyExp
            } else {
                Resolution::PrevailingDefIronly
            }
        } else if in_ir {
            Resolution::PreemptedIr
        } else {
            Resolution::PreemptedReg
        }
    }

    /// Whether the output exports a definition of `id` with visibility `vis`, as the dynamic
    /// plan will decide it (`synthesize::finish_dynamic`): something outside the link may use it.
    fn exported(&self, id: SymbolId, vis: u8) -> bool {
        if vis == elf::STV_HIDDEN || vis == elf::STV_INTERNAL {
            return false;
        }
        let b = self.res.binding.get(id.0 as usize).copied().unwrap_or(0);
        if b & bind::LOCAL != 0 {
            return false;
        }
        self.opts.kind == OutputKind::Shared
            || self.opts.export_dynamic
            || self.res.global(id).dso_ref
            || b & bind::EXPORT != 0
    }
}
