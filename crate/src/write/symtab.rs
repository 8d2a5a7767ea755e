//! The output symbol table (`.symtab`, `.strtab`), built in runs that are written where they are.

use super::*;

/// A symbol for the output `.symtab`.
pub struct OutSym<'n> {
    pub name: &'n [u8],
    pub value: u64,
    pub size: u64,
    pub info: u8,
    pub other: u8,
    pub shndx: u16,
}

/// Names GNU ld's script defines with `PROVIDE_HIDDEN`: local in the output symbol table.
pub(super) fn hidden_linker_symbol(n: &[u8]) -> bool {
    n.ends_with(b"_array_start")
        || n.ends_with(b"_array_end")
        || n == b"__ehdr_start"
        || n == b"_GLOBAL_OFFSET_TABLE_"
        || n.starts_with(b"__rela_iplt_")
        || n == b"__dso_handle"
        || n == b"__GNU_EH_FRAME_HDR"
}

/// The output `.symtab` as runs of symbols in order: the null symbol, each file's locals, the
/// linker's, the globals bound locally, then the rest of the globals. The runs are built in
/// parallel and written from where they are, never copied into one list (for a big link the
/// copies would cost more than building them).
pub struct SymTab<'n> {
    pub runs: Vec<Vec<OutSym<'n>>>,
    /// Each run's bytes in `.strtab`, counted as it was built, so that no later pass over every
    /// symbol is needed to place the runs.
    pub names: Vec<usize>,
    /// Index of the first global symbol (`sh_info` of `.symtab`).
    pub first_global: usize,
    /// Where each input symbol went, for `--emit-relocs`.
    pub index: Option<SymIndex>,
}

/// Each symbol's index in the output `.symtab` (0: not there): each file's symbols, and the
/// globals.
pub struct SymIndex {
    pub locals: Vec<Vec<u32>>,
    pub globals: Vec<u32>,
}

impl<'n> SymTab<'n> {
    pub fn len(&self) -> usize {
        self.runs.iter().map(Vec::len).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn iter(&self) -> impl Iterator<Item = &OutSym<'n>> {
        self.runs.iter().flatten()
    }
    /// `.strtab`'s size: the names and the empty one it starts with.
    pub fn strtab_len(&self) -> usize {
        1 + self.names.iter().sum::<usize>()
    }
}

pub(super) fn names_len(run: &[OutSym<'_>]) -> usize {
    run.iter().map(|s| name_len(s.name)).sum()
}

pub(super) const GLOBAL_CHUNK: usize = 8192;

/// A run of symbols and the length of their names in `.strtab`.
type Run<'s> = (Vec<OutSym<'s>>, usize);

/// Keep the symbols of `run` that `keep` names, and a file symbol when a local of its file stays,
/// named `file` unless it is listed itself (as GNU ld's `--retain-symbols-file` does).
fn retain_listed<'r>(
    run: &mut Run<'r>,
    keep: &rustc_hash::FxHashSet<&[u8]>,
    file: Option<&'r [u8]>,
) {
    let is_file = |s: &OutSym<'_>| s.info & 0xf == STT_FILE;
    let any = run.0.iter().any(|s| !is_file(s) && keep.contains(s.name));
    run.0.retain(|s| {
        if is_file(s) {
            any
        } else {
            keep.contains(s.name)
        }
    });
    if let Some(f) = file {
        for s in run
            .0
            .iter_mut()
            .filter(|s| is_file(s) && !keep.contains(s.name))
        {
            s.name = f;
        }
    }
    run.1 = names_len(&run.0);
}

pub fn build_symtab<'r, 'a: 'r>(v: &Values<'r, 'a>) -> SymTab<'r> {
    let res = v.res;
    let null = OutSym {
        name: &[],
        value: 0,
        size: 0,
        info: 0,
        other: 0,
        shndx: 0,
    };
    // Each file's locals, and each chunk of globals, are independent: collected in parallel
    // natively, in order.
    let nchunks = res.globals.len().div_ceil(GLOBAL_CHUNK);
    let (mut per_file, mut parts) = crate::par::join(
        || crate::par::map_range(res.files.len(), 1, |fi| file_locals(v, fi)),
        || crate::par::map_range(nchunks, 1, |c| global_chunk(v, c)),
    );
    let mut linker = linker_syms(v);
    let emit = v.opts.is_some_and(|o| o.emit_relocs);
    // `--retain-symbols-file` (not with `--emit-relocs`, whose relocations need their symbols).
    if let Some(list) = v
        .opts
        .and_then(|o| o.retain_symbols.as_ref())
        .filter(|_| !emit)
    {
        let keep: rustc_hash::FxHashSet<&[u8]> = list.iter().map(|n| n.as_bytes()).collect();
        for (fi, run) in per_file.iter_mut().enumerate() {
            // A file symbol not listed is written under the object's own name (GNU ld's).
            let name = res.files[fi].obj.name.as_bytes();
            let base = name.rsplit(|&c| c == b'/').next().unwrap_or(name);
            retain_listed(run, &keep, Some(base));
        }
        for run in parts.iter_mut().flat_map(|(l, g)| [l, g]) {
            retain_listed(run, &keep, None);
        }
        linker.retain(|s| keep.contains(s.name));
    }
    let mut runs = Vec::with_capacity(per_file.len() + 2 * parts.len() + 2);
    runs.push((vec![null], 0));
    runs.extend(per_file);
    let linker_names = names_len(&linker);
    runs.push((linker, linker_names));
    let mut globals = Vec::with_capacity(parts.len());
    for (l, g) in parts {
        runs.push(l);
        globals.push(g);
    }
    let first_global = runs.iter().map(|r| r.0.len()).sum();
    runs.extend(globals);
    runs.retain(|r| !r.0.is_empty());
    let (runs, names) = runs.into_iter().unzip();
    SymTab {
        runs,
        names,
        first_global,
        index: emit.then(|| symtab_index(v, first_global)),
    }
}

/// Where each symbol lands in `.symtab`, found by the same choices `build_symtab` makes: the
/// null symbol, each file's locals, the linker's, the globals bound locally, then the others
/// (from `first_global` on).
fn symtab_index(v: &Values<'_, '_>, first_global: usize) -> SymIndex {
    let res = v.res;
    let mut next = 1u32;
    let locals = (0..res.files.len())
        .map(|fi| {
            let obj = &res.files[fi].obj;
            let mut map = vec![0u32; obj.first_global.min(obj.symbols.len())];
            for (i, m) in map.iter_mut().enumerate().skip(1) {
                if local_sym(v, fi, i).is_some() {
                    (*m, next) = (next, next + 1);
                }
            }
            map
        })
        .collect();
    next += linker_syms(v).len() as u32;
    let syms: Vec<Option<bool>> = (res.globals.iter().enumerate())
        .map(|(gi, g)| global_sym(v, gi, g).map(|s| s.info >> 4 == STB_LOCAL))
        .collect();
    let mut globals = vec![0u32; syms.len()];
    let mut after = first_global as u32;
    for (gi, local) in syms.iter().enumerate() {
        match local {
            Some(true) => (globals[gi], next) = (next, next + 1),
            Some(false) => (globals[gi], after) = (after, after + 1),
            None => {}
        }
    }
    SymIndex { locals, globals }
}

/// The value and section index of symbol `i` of `file` (None: undefined, or in a dropped
/// section).
fn sym_value(v: &Values<'_, '_>, file: FileId, i: u32) -> Option<(u64, u16)> {
    let layout = v.layout;
    let obj = &v.res.files[file.0 as usize].obj;
    let s = &obj.symbols[i as usize];
    match obj.sym_place(i as usize).ok()? {
        SymPlace::Section(sec) => {
            let addr = layout.input_addr(file, sec, s.st_value.get(E))?;
            let (out, _) = layout.input_out(file, sec)?;
            let os = &layout.sections[out as usize];
            let shndx = if os.shndx != 0 {
                os.shndx
            } else {
                layout.shndx_at(addr)
            };
            // A TLS symbol's value is its offset in the TLS template (a corrupt object can put
            // one outside it: keep the arithmetic total).
            let value = if s.st_type() == STT_TLS {
                addr.wrapping_sub(layout.tls.map_or(0, |t| t.start))
            } else {
                addr
            };
            Some((value, shndx))
        }
        SymPlace::Absolute => Some((s.st_value.get(E), SHN_ABS)),
        SymPlace::Common => {
            let a = v.def_addr(file, i);
            Some((a, layout.shndx_at(a)))
        }
        SymPlace::Undefined => None,
    }
}

/// File `fi`'s local symbols, but section symbols and `.L` labels.
fn file_locals<'r>(v: &Values<'r, '_>, fi: usize) -> Run<'r> {
    let obj = &v.res.files[fi].obj;
    // Room for every local up front: growing the runs cost more in copies and fresh pages than
    // filling them.
    let mut locals = Vec::with_capacity(obj.first_global.min(obj.symbols.len()));
    let mut names = 0;
    for i in 1..obj.first_global.min(obj.symbols.len()) {
        if let Some(sym) = local_sym(v, fi, i) {
            names += sym.name.len() + 1;
            locals.push(sym);
        }
    }
    (locals, names)
}

/// Local symbol `i` of file `fi` as `.symtab` has it (None: a section symbol, a `.L` label, a
/// nameless one or one in a dropped section).
fn local_sym<'r>(v: &Values<'r, '_>, fi: usize, i: usize) -> Option<OutSym<'r>> {
    let obj = &v.res.files[fi].obj;
    let s = &obj.symbols[i];
    let ty = s.st_type();
    if ty == STT_SECTION {
        return None;
    }
    let name = obj.sym_name(i).ok()?;
    if name.is_empty() || name.starts_with(b".L") {
        return None;
    }
    Some(if ty == STT_FILE {
        OutSym {
            name,
            value: 0,
            size: 0,
            info: s.st_info,
            other: 0,
            shndx: SHN_ABS,
        }
    } else {
        let (value, shndx) = sym_value(v, FileId(fi as u32), i as u32)?;
        OutSym {
            name,
            value,
            size: s.st_size.get(E),
            info: s.st_info,
            other: s.st_other,
            shndx,
        }
    })
}

/// Linker-made code and data get names, so objdump and gdb show them.
fn linker_syms<'r>(v: &Values<'r, '_>) -> Vec<OutSym<'r>> {
    let layout = v.layout;
    let mut linker = Vec::new();
    for st in v.synth.stubs.iter() {
        let a = v.stub_addr(st);
        linker.push(OutSym {
            name: st.name.as_bytes(),
            value: a,
            size: st.size(),
            info: (STB_LOCAL << 4) | STT_FUNC,
            other: 0,
            shndx: layout.shndx_at(a),
        });
    }
    let module_data = PieceSrc::Synthetic(Synthetic::ModuleData);
    let has_module_data = layout
        .sections
        .iter()
        .any(|s| s.pieces.iter().any(|p| p.src == module_data));
    if v.synth.init_stub.is_some() && has_module_data {
        let a = crate::relocate::synth_piece_addr(layout, Synthetic::ModuleData);
        linker.push(OutSym {
            name: b"initlink.module_data",
            value: a,
            size: crate::layout::MODULE_DATA_SIZE,
            info: (STB_LOCAL << 4) | STT_OBJECT,
            other: 0,
            shndx: layout.shndx_at(a),
        });
    }
    linker
}

/// Chunk `c` of the globals: the ones bound locally (hidden) and the others, in order.
fn global_chunk<'r>(v: &Values<'r, '_>, c: usize) -> (Run<'r>, Run<'r>) {
    let all = &v.res.globals;
    let chunk = &all[c * GLOBAL_CHUNK..((c + 1) * GLOBAL_CHUNK).min(all.len())];
    let (mut locals, mut globals) = (Vec::new(), Vec::with_capacity(chunk.len()));
    let (mut local_names, mut global_names) = (0, 0);
    for (k, g) in chunk.iter().enumerate() {
        let Some(sym) = global_sym(v, c * GLOBAL_CHUNK + k, g) else {
            continue;
        };
        if sym.info >> 4 == STB_LOCAL {
            local_names += name_len(sym.name);
            locals.push(sym);
        } else {
            global_names += name_len(sym.name);
            globals.push(sym);
        }
    }
    ((locals, local_names), (globals, global_names))
}

/// Global `gi`'s symbol (None: names only the shared objects mention, or a definition in a
/// dropped section). Hidden and internal symbols are bound locally.
fn global_sym<'r>(
    v: &Values<'r, '_>,
    gi: usize,
    g: &'r crate::resolve::Global<'_>,
) -> Option<OutSym<'r>> {
    let (res, layout) = (v.res, v.layout);
    let id = crate::resolve::SymbolId(gi as u32);
    // An undefined symbol some object made hidden is 0 here, and GNU ld leaves it out.
    if g.def == Def::Undefined && g.non_default {
        return None;
    }
    // Names only the shared objects mention are theirs, not this link's.
    if matches!(g.def, Def::Shared { .. } | Def::Undefined)
        && g.first_ref.is_none()
        && !v
            .synth
            .dynamic
            .as_deref()
            .is_some_and(|d| d.dynsym_index.contains_key(&id))
    {
        return None;
    }
    let by_refs = if g.strong_ref { STB_GLOBAL } else { STB_WEAK };
    let mut name = g.name;
    let (value, size, ty, bind, other, shndx) = match g.def {
        Def::Defined { file, sym, weak } => {
            let obj = &res.files[file.0 as usize].obj;
            let s = &obj.symbols[sym as usize];
            let (value, shndx) = sym_value(v, file, sym)?;
            let bind = if weak { STB_WEAK } else { STB_GLOBAL };
            let size = s.st_size.get(E);
            // A default-version definition resolves as `foo` and keeps its `foo@@V` here.
            if obj.versioned {
                name = obj.sym_name(sym as usize).unwrap_or(name);
            }
            (value, size, s.st_type(), bind, s.st_other, shndx)
        }
        Def::Common { file, sym } => {
            let a = v.def_addr(file, sym);
            let (size, _) = res.common(id);
            let other = res.files[file.0 as usize].obj.symbols[sym as usize].st_other & 3;
            (a, size, STT_OBJECT, STB_GLOBAL, other, layout.shndx_at(a))
        }
        Def::Linker => {
            let a = layout.linker_symbol(g.name).unwrap_or(0);
            let shndx = layout.linker_symbol_shndx(g.name, a);
            if crate::layout::start_stop_section(g.name).is_some() {
                // GNU ld gives them `-z start-stop-visibility` and leaves them global.
                let vis = v.opts.map_or(STV_PROTECTED, |o| o.start_stop_visibility);
                let info = (STB_GLOBAL << 4) | STT_NOTYPE;
                return Some(OutSym {
                    name,
                    value: a,
                    size: 0,
                    info,
                    other: vis,
                    shndx,
                });
            }
            let hidden = hidden_linker_symbol(g.name);
            let (bind, other) = if hidden {
                (STB_LOCAL, STV_HIDDEN)
            } else {
                (STB_GLOBAL, 0)
            };
            (a, 0, STT_NOTYPE, bind, other, shndx)
        }
        Def::Shared { dso, sym } => {
            let ty = res.dsos[dso as usize].obj.syms[sym as usize].import_type();
            (0, 0, ty, by_refs, 0, SHN_UNDEF)
        }
        Def::Undefined => (0, 0, STT_NOTYPE, by_refs, 0, SHN_UNDEF),
    };
    let vis = other & 3;
    // Bound locally by a version script or `--exclude-libs`, as GNU ld writes them.
    let local = res
        .binding
        .get(gi)
        .is_some_and(|b| b & crate::resolve::bind::LOCAL != 0);
    let bind = if vis == STV_HIDDEN || vis == STV_INTERNAL || local {
        STB_LOCAL
    } else {
        bind
    };
    Some(OutSym {
        name,
        value,
        size,
        info: (bind << 4) | (ty & 0xf),
        other,
        shndx,
    })
}

pub(super) fn name_len(n: &[u8]) -> usize {
    if n.is_empty() {
        0
    } else {
        n.len() + 1
    }
}

/// Serialize a chunk of symbols into its part of `.symtab` and their names into its part of
/// `.strtab`, whose names start at `at` in the table.
pub(super) fn fill_chunk((syms, st, sr, mut at): (&[OutSym<'_>], &mut [u8], &mut [u8], usize)) {
    let mut w = 0;
    for (k, s) in syms.iter().enumerate() {
        let e = &mut st[24 * k..24 * k + 24];
        let name_off = if s.name.is_empty() {
            0
        } else {
            sr[w..w + s.name.len()].copy_from_slice(s.name);
            let o = at;
            w += s.name.len() + 1;
            at += s.name.len() + 1;
            o as u32
        };
        put32(e, 0, name_off);
        e[4] = s.info;
        e[5] = s.other;
        put16(e, 6, s.shndx);
        put64(e, 8, s.value);
        put64(e, 16, s.size);
    }
}
