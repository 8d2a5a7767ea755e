//! Dynamic linking: what the synthesize phase decides for a PIE, a `-no-pie` executable against
//! shared objects, or a shared object (PLT entries, copy relocations, dynamic relocations, the
//! dynamic symbol table with its versions), and the bytes of the sections that only depend on those
//! decisions (`.dynstr`, `.gnu.hash`, `.hash`, `.gnu.version`, `.gnu.version_r`). Sections that hold
//! addresses (`.dynamic`, `.rela.dyn`, `.plt`, `.got.plt`) are written by the write phase.

use crate::arch::DynKind;
use crate::options::{HashStyle, Options};
use crate::resolve::SymRef;
use crate::resolve::{Def, FileId, Resolved, SymbolId};
use crate::symver::{export_name, Exports};
use object::elf::VER_FLG_BASE;
use rustc_hash::FxHashMap;

/// Marks an offset of [`DynPlan::copy_of`] as one in the `.data.rel.ro` copy area.
pub const RELRO_COPY: u64 = 1 << 63;

/// Where a dynamic relocation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynLoc {
    /// Word `n` of `.got`.
    Got(u32),
    /// Byte `off` of input section `sec` of `file`.
    Input { file: FileId, sec: u32, off: u64 },
    /// A copy-relocated symbol's slot in `.bss` (or `.data.rel.ro`).
    Copy(SymbolId),
    /// Byte `off` of a linker-made piece (whose value the write phase computes).
    Synthetic {
        what: crate::layout::Synthetic,
        off: u64,
    },
}

/// A library's versions that imports use: (its index among the DSOs, [(version name, the
/// `.gnu.version_r` index given to it)]).
type DsoVersions = (u32, Vec<(Vec<u8>, u16)>);

#[derive(Debug, Clone)]
pub struct DynReloc {
    pub loc: DynLoc,
    /// What the loader computes (`arch::dyn_type` gives the raw type).
    pub kind: DynKind,
    /// The dynamic symbol the loader looks up (None: load-base-relative and friends).
    pub sym: Option<SymbolId>,
    /// For relative relocations, the symbol whose link-time address goes into the addend.
    pub target: Option<SymRef>,
    pub addend: i64,
}

impl DynReloc {
    /// The raw type written to the output.
    pub fn r_type(&self) -> u32 {
        crate::arch::dyn_type(self.kind)
    }
}

#[derive(Default)]
pub struct DynPlan {
    /// Position-independent output (PIE or shared object): based at 0.
    pub pic: bool,
    pub shared: bool,
    pub interp: Option<String>,
    pub needed: Vec<String>,
    /// Lazy PLT entries (imported or preemptible functions), by slot.
    pub plt: Vec<SymRef>,
    pub plt_index: FxHashMap<SymRef, u32>,
    /// Imported functions whose address the executable takes directly: the PLT entry is their address.
    pub canonical: Vec<SymbolId>,
    /// Copy-relocated data: (symbol, offset in the copy area); aliases share a slot.
    pub copies: Vec<(SymbolId, u64)>,
    pub copy_of: FxHashMap<SymbolId, u64>,
    pub copy_size: u64,
    pub copy_align: u64,
    /// The copy area in `.data.rel.ro`, for data the library has in a read-only section (as GNU
    /// ld: the copy is read-only after relocation too). Its offsets in [`DynPlan::copy_of`]
    /// carry [`RELRO_COPY`].
    pub copy_relro_size: u64,
    pub copy_relro_align: u64,
    /// Dynamic relocations, except the load-base-relative ones at input sites: those are only
    /// counted here and written by the write phase beside the data they fix up (first in
    /// `.rela.dyn`, in address order): a position-independent output can have one per pointer
    /// in its data, too many to keep as a list (docs/benchmarks.md).
    pub relocs: Vec<DynReloc>,
    /// Input section (file, section) -> its load-base-relative dynamic relocations.
    pub input_relative: FxHashMap<(crate::resolve::FileId, u32), u32>,
    pub relative_count: usize,
    /// The warnings given for text relocations (words the loader writes in read-only sections),
    /// one per symbol and section; any means `DT_TEXTREL` and `DF_TEXTREL`.
    pub textrel_warned: rustc_hash::FxHashSet<String>,
    /// A shared object uses the initial-exec TLS model (a GOT slot holding a TP offset): GNU ld
    /// sets `DF_STATIC_TLS`, telling `dlopen` the module needs static TLS space.
    pub static_tls: bool,
    /// Dynamic symbols (index 1..), undefined first, then defined in `.gnu.hash` order.
    pub dynsyms: Vec<SymbolId>,
    pub dynsym_index: FxHashMap<SymbolId, u32>,
    pub wanted: Vec<SymbolId>,
    pub wanted_set: FxHashMap<SymbolId, ()>,
    /// Number of undefined entries at the front of `.dynsym` (the `.gnu.hash` symoffset).
    pub undefined_count: usize,
    pub dynstr: Vec<u8>,
    pub dynsym_names: Vec<u32>,
    pub needed_str: Vec<u32>,
    pub soname_str: Option<u32>,
    pub rpath_str: Option<u32>,
    /// `DT_AUDIT` (`--audit`) and `DT_DEPAUDIT` (`--depaudit`, then the libraries' own
    /// `DT_AUDIT`s), colon-separated.
    pub audit_str: Option<u32>,
    /// `DT_FILTER` (`-F`) and each `DT_AUXILIARY` (`-f`).
    pub filter_str: Option<u32>,
    pub auxiliary_str: Vec<u32>,
    pub depaudit_str: Option<u32>,
    pub versym: Vec<u16>,
    /// `.gnu.version_d`: the base version, then each version this output defines.
    pub verdef: Vec<u8>,
    pub verdef_count: u32,
    pub verneed: Vec<u8>,
    pub verneed_count: u32,
    pub gnu_hash: Vec<u8>,
    pub sysv_hash: Vec<u8>,
    /// `.dynamic` tags in order (values are filled by the write phase).
    pub tags: Vec<u32>,
}

pub fn gnu_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 5381;
    for &c in name {
        h = h.wrapping_mul(33).wrapping_add(u32::from(c));
    }
    h
}

pub fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

impl DynPlan {
    /// Ask for `g` in `.dynsym` (imports and exports alike).
    pub fn want(&mut self, g: SymbolId) {
        if self.wanted_set.insert(g, ()).is_none() {
            self.wanted.push(g);
        }
    }

    pub fn need_plt(&mut self, s: SymRef) {
        if !self.plt_index.contains_key(&s) {
            self.plt_index.insert(s, self.plt.len() as u32);
            self.plt.push(s);
        }
        if let SymRef::Global(g) = s {
            self.want(g);
        }
    }

    /// Order `.dynsym`: the undefined symbols, then the defined ones (by `.gnu.hash` bucket
    /// when there is one). Returns the bucket count.
    fn order_dynsyms(&mut self, res: &Resolved<'_>, gnu: bool) -> u32 {
        let is_defined = |g: SymbolId| -> bool {
            match res.global(g).def {
                Def::Defined { .. } | Def::Common { .. } | Def::Linker => true,
                // Copies are defined here; a canonical PLT entry is this module's address for the
                // function, which the loader must find (so other modules agree on `&f`).
                _ => self.copy_of.contains_key(&g) || self.canonical.contains(&g),
            }
        };
        let mut undef: Vec<SymbolId> = self
            .wanted
            .iter()
            .copied()
            .filter(|&g| !is_defined(g))
            .collect();
        let mut def: Vec<SymbolId> = self
            .wanted
            .iter()
            .copied()
            .filter(|&g| is_defined(g))
            .collect();
        undef.sort();
        def.sort();
        let nbuckets = (def.len() / 4).max(1) as u32;
        if gnu {
            def.sort_by_key(|&g| (gnu_hash(res.global(g).name) % nbuckets, g));
        }
        self.undefined_count = undef.len();
        self.dynsyms = undef.into_iter().chain(def).collect();
        self.dynsym_index = self
            .dynsyms
            .iter()
            .enumerate()
            .map(|(i, &g)| (g, i as u32 + 1))
            .collect();
        nbuckets
    }

    /// Order `.dynsym`, build `.dynstr`, the hash tables and the version sections.
    pub fn finish(&mut self, res: &Resolved<'_>, opts: &Options, exports: &Exports) {
        let gnu = opts.hash_style != HashStyle::Sysv;
        let sysv = opts.hash_style != HashStyle::Gnu;
        let (soname, rpath) = (opts.soname.as_deref(), &opts.rpath[..]);
        let base = crate::symver::base_name(opts);
        let nbuckets = self.order_dynsyms(res, gnu);

        // Strings: symbol names, needed sonames, soname, rpath, version names.
        let mut strs: FxHashMap<Vec<u8>, u32> = FxHashMap::default();
        let mut dynstr = vec![0u8];
        let mut add = |s: &[u8], dynstr: &mut Vec<u8>| -> u32 {
            if let Some(&o) = strs.get(s) {
                return o;
            }
            let o = dynstr.len() as u32;
            dynstr.extend_from_slice(s);
            dynstr.push(0);
            strs.insert(s.to_vec(), o);
            o
        };
        self.needed_str = self
            .needed
            .iter()
            .map(|n| add(n.as_bytes(), &mut dynstr))
            .collect();
        self.soname_str = soname.map(|s| add(s.as_bytes(), &mut dynstr));
        self.rpath_str = (!rpath.is_empty()).then(|| add(rpath.join(":").as_bytes(), &mut dynstr));
        self.filter_str = opts.filter.as_ref().map(|f| add(f.as_bytes(), &mut dynstr));
        let aux = opts.auxiliary.iter();
        self.auxiliary_str = aux.map(|a| add(a.as_bytes(), &mut dynstr)).collect();
        let audit = &opts.audit;
        self.audit_str = (!audit.is_empty()).then(|| add(audit.join(":").as_bytes(), &mut dynstr));
        // Every library linked against, needed or not: GNU ld takes their DT_AUDIT as it loads
        // them, before --as-needed drops any.
        let inherited = res.dsos.iter();
        let depaudit: Vec<&str> = (opts.depaudit.iter().map(String::as_str))
            .chain(inherited.filter_map(|d| d.obj.audit.as_deref()))
            .collect();
        self.depaudit_str =
            (!depaudit.is_empty()).then(|| add(depaudit.join(":").as_bytes(), &mut dynstr));
        self.dynsym_names = self
            .dynsyms
            .iter()
            .map(|&g| add(export_name(res.global(g).name), &mut dynstr))
            .collect();

        // Versions: each import bound to the version its library marks default.
        let mut versions: Vec<DsoVersions> = Vec::new();
        // Needed versions are numbered after the ones this output defines.
        let mut next_index = 2 + exports.defs.len() as u16;
        self.versym = vec![0u16];
        for &g in &self.dynsyms {
            let v = match res.global(g).def {
                Def::Shared { dso, sym } => {
                    match res.dsos[dso as usize].obj.syms[sym as usize].version {
                        Some(ver) => {
                            let entry = match versions.iter_mut().position(|(d, _)| *d == dso) {
                                Some(p) => &mut versions[p].1,
                                None => {
                                    versions.push((dso, Vec::new()));
                                    &mut versions.last_mut().expect("just pushed").1
                                }
                            };
                            match entry.iter().find(|(n, _)| n.as_slice() == ver) {
                                Some(&(_, i)) => i,
                                None => {
                                    entry.push((ver.to_vec(), next_index));
                                    next_index += 1;
                                    next_index - 1
                                }
                            }
                        }
                        None => 1,
                    }
                }
                Def::Undefined => 1,
                _ => exports.version_of(g),
            };
            self.versym.push(v);
        }
        if !exports.defs.is_empty() {
            self.verdef = verdef(exports, &base, &mut |s| add(s, &mut dynstr));
            self.verdef_count = exports.defs.len() as u32 + 1;
        }
        let mut vn = Vec::new();
        for (k, (dso, vers)) in versions.iter().enumerate() {
            let file = add(res.dsos[*dso as usize].obj.soname.as_bytes(), &mut dynstr);
            let last = k + 1 == versions.len();
            vn.extend_from_slice(&1u16.to_le_bytes());
            vn.extend_from_slice(&(vers.len() as u16).to_le_bytes());
            vn.extend_from_slice(&file.to_le_bytes());
            vn.extend_from_slice(&16u32.to_le_bytes());
            let next = if last { 0 } else { 16 + 16 * vers.len() as u32 };
            vn.extend_from_slice(&next.to_le_bytes());
            for (j, (name, idx)) in vers.iter().enumerate() {
                let n = add(name, &mut dynstr);
                vn.extend_from_slice(&elf_hash(name).to_le_bytes());
                vn.extend_from_slice(&0u16.to_le_bytes());
                vn.extend_from_slice(&idx.to_le_bytes());
                vn.extend_from_slice(&n.to_le_bytes());
                let next = if j + 1 == vers.len() { 0u32 } else { 16 };
                vn.extend_from_slice(&next.to_le_bytes());
            }
        }
        self.verneed = vn;
        self.verneed_count = versions.len() as u32;
        self.dynstr = dynstr;

        let names: Vec<&[u8]> = self
            .dynsyms
            .iter()
            .map(|&g| export_name(res.global(g).name))
            .collect();
        if gnu {
            self.gnu_hash = build_gnu_hash(&names, self.undefined_count, nbuckets);
        }
        if sysv {
            self.sysv_hash = build_sysv_hash(&names);
        }
    }
}

/// `.gnu.version_d`: the base version (the output's own name), then each version defined, each
/// entry followed by its name and its parents' names.
fn verdef(exports: &Exports, base: &str, add: &mut dyn FnMut(&[u8]) -> u32) -> Vec<u8> {
    let mut out = Vec::new();
    let all = std::iter::once((base, &[][..], VER_FLG_BASE)).chain(
        exports
            .defs
            .iter()
            .map(|d| (d.name.as_str(), &d.parents[..], 0)),
    );
    let count = exports.defs.len() + 1;
    for (k, (name, parents, flags)) in all.enumerate() {
        let cnt = 1 + parents.len();
        let next = if k + 1 == count {
            0
        } else {
            20 + 8 * cnt as u32
        };
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&(k as u16 + 1).to_le_bytes());
        out.extend_from_slice(&(cnt as u16).to_le_bytes());
        out.extend_from_slice(&elf_hash(name.as_bytes()).to_le_bytes());
        out.extend_from_slice(&20u32.to_le_bytes());
        out.extend_from_slice(&next.to_le_bytes());
        let names = std::iter::once(name).chain(parents.iter().map(String::as_str));
        for (j, n) in names.enumerate() {
            out.extend_from_slice(&add(n.as_bytes()).to_le_bytes());
            let next = if j + 1 == cnt { 0u32 } else { 8 };
            out.extend_from_slice(&next.to_le_bytes());
        }
    }
    out
}

/// `.gnu.hash`: a Bloom filter, buckets, and a chain of hash values for the defined symbols.
fn build_gnu_hash(names: &[&[u8]], symoffset: usize, nbuckets: u32) -> Vec<u8> {
    let defined = &names[symoffset..];
    let shift = 26u32;
    let maskwords = ((defined.len() / 4).max(1)).next_power_of_two() as u32;
    let mut bloom = vec![0u64; maskwords as usize];
    let mut buckets = vec![0u32; nbuckets as usize];
    let mut chain = vec![0u32; defined.len()];
    let hashes: Vec<u32> = defined.iter().map(|n| gnu_hash(n)).collect();
    for (i, &h) in hashes.iter().enumerate() {
        let w = ((h / 64) % maskwords) as usize;
        bloom[w] |= (1u64 << (h % 64)) | (1u64 << ((h >> shift) % 64));
        let b = (h % nbuckets) as usize;
        if buckets[b] == 0 {
            buckets[b] = (symoffset + 1 + i) as u32;
        }
        let last = i + 1 == hashes.len() || hashes[i + 1] % nbuckets != h % nbuckets;
        chain[i] = if last { h | 1 } else { h & !1 };
    }
    let mut out = Vec::new();
    for v in [nbuckets, (symoffset + 1) as u32, maskwords, shift] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for b in bloom {
        out.extend_from_slice(&b.to_le_bytes());
    }
    for b in buckets {
        out.extend_from_slice(&b.to_le_bytes());
    }
    for c in chain {
        out.extend_from_slice(&c.to_le_bytes());
    }
    out
}

/// SysV `.hash` over every dynamic symbol (index 0 is the null symbol).
fn build_sysv_hash(names: &[&[u8]]) -> Vec<u8> {
    let nchain = names.len() as u32 + 1;
    let nbucket = (names.len() as u32 / 2).max(1);
    let mut buckets = vec![0u32; nbucket as usize];
    let mut chain = vec![0u32; nchain as usize];
    for (i, n) in names.iter().enumerate() {
        let idx = i as u32 + 1;
        let b = (elf_hash(n) % nbucket) as usize;
        chain[idx as usize] = buckets[b];
        buckets[b] = idx;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&nbucket.to_le_bytes());
    out.extend_from_slice(&nchain.to_le_bytes());
    for v in buckets.into_iter().chain(chain) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn hash_functions_match_the_gabi_and_glibc() {
        // Values from the System V gABI / glibc's dl-hash.h and dl_new_hash.
        assert_eq!(elf_hash(b""), 0);
        assert_eq!(elf_hash(b"printf"), 0x077905a6);
        assert_eq!(gnu_hash(b""), 5381);
        assert_eq!(gnu_hash(b"printf"), 0x156b2bb8);
    }
}
