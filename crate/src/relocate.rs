//! Relocate phase: compute S, A, P (and G, GOT, TP) for each relocation and patch the bytes while a
//! section is copied into the output. Relaxations ask the same `arch` predicates the synthesize
//! phase asked, so a GOT slot exists exactly when the instruction was left as a GOT load.

use crate::arch::{self, DynKind, RelKind, Relaxation};
use crate::diag::{name_str, Diagnostic};
use crate::input::{Section, SymPlace, E};
use crate::layout::{Layout, SplitMap, Synthetic, Tls};
use crate::resolve::{Def, FileId, Resolved, SymbolId};
use crate::synthesize::{GotKind, Stub, StubHome, StubTarget, SymRef, Synth};
use object::elf::*;

/// Every address the relocation formulas need, read from the layout and synthesize decisions.
pub struct Values<'r, 'a> {
    pub res: &'r Resolved<'a>,
    /// The link's options (dynamic decisions depend on the output kind).
    pub opts: Option<&'r crate::options::Options>,
    pub layout: &'r Layout,
    pub synth: &'r Synth,
    /// `_GLOBAL_OFFSET_TABLE_` (the GOT base of GOTOFF/GOTPC formulas).
    pub got_base: u64,
    pub got: u64,
    pub got_plt: u64,
    pub plt: u64,
    pub text_stubs: u64,
    pub copy: u64,
    /// The copy area in `.data.rel.ro` (offsets marked [`crate::dynamic::RELRO_COPY`]).
    pub copy_relro: u64,
    pub tls: Option<Tls>,
    /// Every global's address as references see it ([`Values::sym_addr`]), computed once: per
    /// relocation it took the defining object's symbol table, the section's place and up to
    /// three hash lookups (IPLT, PLT, copy).
    global_addr: Vec<u64>,
}

/// An input section's share of `.rela.dyn`: its load-base-relative entries, filled in
/// relocation order while the section is relocated.
pub struct RelativeOut<'b> {
    pub buf: &'b mut [u8],
    /// Entries written so far.
    pub n: usize,
}

impl RelativeOut<'_> {
    /// Append an entry; past the counted room it is only counted (the caller reports the
    /// mismatch).
    fn push(&mut self, at: u64, addend: u64) {
        if let Some(e) = self.buf.get_mut(24 * self.n..24 * self.n + 24) {
            e[..8].copy_from_slice(&at.to_le_bytes());
            e[8..16].copy_from_slice(&u64::from(arch::dyn_type(DynKind::Relative)).to_le_bytes());
            e[16..].copy_from_slice(&addend.to_le_bytes());
        }
        self.n += 1;
    }
}

/// What the relocate phase did at one relocation site, recorded only when a report is asked
/// for (the report reads it and recomputes nothing).
#[derive(Debug, Clone)]
pub struct Traced {
    pub file: FileId,
    /// The input section and the relocation's index in its table (symbol and addend are there).
    pub sec: u32,
    pub index: u32,
    pub r_offset: u64,
    /// The raw type and what it computes.
    pub r_type: u32,
    pub kind: RelKind,
    /// S (the PLT entry or copy for imported symbols; a merged piece's address when the addend
    /// chose it), A (then 0), P (the field's address before any relaxation; a folded `.ctors`
    /// word's after the reversal moved it).
    pub s: u64,
    pub a: i64,
    pub p: u64,
    /// G + GOT: the GOT entry the value was computed from. Whether the formula also counts from
    /// `_GLOBAL_OFFSET_TABLE_` or the TLS block ([`Trace::got_base`], [`Trace::tp`]) follows from
    /// `kind` (`RelKind::uses_got_base`, `RelKind::is_tls_offset`).
    pub got_entry: Option<u64>,
    /// Where the field is once the code around it was rewritten; None when no field is left.
    pub field: Option<Field>,
    pub relaxation: Relaxation,
    pub dynamic: DynEmitted,
}

/// A relocated field: its address in the output and the raw type whose encoding it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub addr: u64,
    pub encoding: u32,
}

/// The dynamic relocation emitted for a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DynEmitted {
    #[default]
    None,
    /// Load base + `addend`, written beside the section's data (`relative`).
    Relative { addend: u64 },
    /// The loader writes the symbol's address: the synthesize phase listed it
    /// (`DynPlan::relocs`, at this site).
    Symbolic,
}

/// Every traced site of a link: each write job's, in its order, and where each input section's
/// run of sites is.
#[derive(Debug, Default)]
pub struct Trace {
    /// The values the link-wide symbols of the formulas had.
    pub got_base: u64,
    pub tp: u64,
    pub tls_start: u64,
    jobs: Vec<Vec<Traced>>,
    /// (file, section) -> (job, first site, end).
    runs: rustc_hash::FxHashMap<(u32, u32), (u32, u32, u32)>,
}

impl Trace {
    /// Gather the jobs' traces, in job order (each section is relocated by one job, its sites
    /// in relocation order).
    pub fn new(v: &Values<'_, '_>, jobs: Vec<Vec<Traced>>) -> Trace {
        let mut runs = rustc_hash::FxHashMap::default();
        for (j, sites) in jobs.iter().enumerate() {
            let mut start = 0;
            for (k, t) in sites.iter().enumerate() {
                let last = sites
                    .get(k + 1)
                    .is_none_or(|n| (n.file, n.sec) != (t.file, t.sec));
                if last {
                    runs.insert((t.file.0, t.sec), (j as u32, start as u32, k as u32 + 1));
                    start = k + 1;
                }
            }
        }
        Trace {
            got_base: v.got_base,
            tp: v.tp(),
            tls_start: v.tls.map_or(0, |t| t.start),
            jobs,
            runs,
        }
    }

    /// The traced sites of input section `sec` of `file`, in relocation order.
    pub fn section(&self, file: FileId, sec: u32) -> &[Traced] {
        match self.runs.get(&(file.0, sec)) {
            Some(&(j, a, b)) => &self.jobs[j as usize][a as usize..b as usize],
            None => &[],
        }
    }
}

/// Whether the sites of input section `sec` of `file` are traced: the report lists the
/// allocated sections of the objects named on the command line (archive members would make a
/// libc link's report huge).
pub fn traced(res: &Resolved<'_>, file: FileId, sec: &Section<'_>) -> bool {
    res.files[file.0 as usize].origin == crate::resolve::Origin::CommandLine && sec.is_alloc()
}

/// One applied relocation, as the report shows it.
#[derive(Debug, Clone)]
pub struct Applied {
    pub r_type: u32,
    pub s: u64,
    pub a: i64,
    pub p: u64,
    pub value: u64,
    /// Field offset inside the patched bytes, and its width.
    pub at: usize,
    pub width: usize,
}

pub fn synth_piece_addr(layout: &Layout, what: Synthetic) -> u64 {
    for s in &layout.sections {
        for p in &s.pieces {
            if p.src == crate::layout::PieceSrc::Synthetic(what) {
                return s.addr + p.offset;
            }
        }
    }
    0
}

impl<'r, 'a> Values<'r, 'a> {
    pub fn new(res: &'r Resolved<'a>, layout: &'r Layout, synth: &'r Synth) -> Self {
        let got = synth_piece_addr(layout, Synthetic::Got);
        let got_plt = synth_piece_addr(layout, Synthetic::GotPlt);
        let mut v = Values {
            res,
            opts: None,
            layout,
            synth,
            got_base: layout.linker_symbol(b"_GLOBAL_OFFSET_TABLE_").unwrap_or(0),
            got,
            got_plt,
            plt: synth_piece_addr(layout, Synthetic::Plt),
            copy: synth_piece_addr(layout, Synthetic::Copy),
            copy_relro: synth_piece_addr(layout, Synthetic::CopyRelro),
            text_stubs: synth_piece_addr(layout, Synthetic::Stubs),
            tls: layout.tls,
            global_addr: Vec::new(),
        };
        let one = |g: usize| v.sym_addr_uncached(SymRef::Global(SymbolId(g as u32)));
        v.global_addr = crate::par::map_range(res.globals.len(), 4096, one);
        v
    }

    /// Where symbol `sym` of `file` is defined (its own address; IFUNCs give the resolver).
    pub fn def_addr(&self, file: FileId, sym: u32) -> u64 {
        let f = &self.res.files[file.0 as usize];
        let Some(s) = f.obj.symbols.get(sym as usize) else {
            return 0;
        };
        let value = s.st_value.get(E);
        match f.obj.sym_place(sym as usize) {
            Ok(SymPlace::Section(sec)) => self.layout.input_addr(file, sec, value).unwrap_or(0),
            Ok(SymPlace::Absolute) => value,
            Ok(SymPlace::Common) => self.common_addr(file, sym).unwrap_or(0),
            _ => 0,
        }
    }

    fn common_addr(&self, file: FileId, sym: u32) -> Option<u64> {
        let g = self.res.files[file.0 as usize].global(sym as usize)?;
        let c = self.layout.commons.iter().find(|c| c.sym == g)?;
        Some(self.layout.sections[c.out as usize].addr + c.off)
    }

    /// The address of a copy-relocated symbol's slot at `off` of [`crate::dynamic::DynPlan::copy_of`].
    pub fn copy_addr(&self, off: u64) -> u64 {
        use crate::dynamic::RELRO_COPY;
        if off & RELRO_COPY != 0 {
            self.copy_relro + (off & !RELRO_COPY)
        } else {
            self.copy + off
        }
    }

    /// A symbol's address as references see it: IFUNCs resolve to their IPLT entry.
    #[inline]
    pub fn sym_addr(&self, s: SymRef) -> u64 {
        if let SymRef::Global(g) = s {
            if let Some(&a) = self.global_addr.get(g.0 as usize) {
                return a;
            }
        }
        self.sym_addr_uncached(s)
    }

    fn sym_addr_uncached(&self, s: SymRef) -> u64 {
        if let Some(k) = self.synth.iplt_slot(s) {
            return self.plt_entry(k);
        }
        // Only globals get PLT entries or copies (most relocations name a local section symbol).
        if let (Some(d), SymRef::Global(g)) = (self.synth.dynamic.as_deref(), s) {
            // Calls to (and, in an executable, the address of) an imported function: its PLT entry.
            if let Some(&k) = d.plt_index.get(&s) {
                return self.plt + arch::PLT_ENTRY_SIZE * (u64::from(k) + 1);
            }
            if let Some(&off) = d.copy_of.get(&g) {
                return self.copy_addr(off);
            }
        }
        self.sym_addr_raw(s)
    }

    fn lazy_plt_count(&self) -> u64 {
        self.synth
            .dynamic
            .as_deref()
            .map_or(0, |d| d.plt.len() as u64)
    }

    /// S + A as a relocation computes it: a section symbol of a merged or split section picks
    /// the piece its addend points into (the addend is an offset in the input section).
    pub fn s_plus_a(&self, s: SymRef, a: i64) -> u64 {
        if let SymRef::Local(f, i) = s {
            let obj = &self.res.files[f.0 as usize].obj;
            if let Some(st) = obj.symbols.get(i as usize) {
                if st.st_type() == STT_SECTION {
                    if let Ok(SymPlace::Section(ts)) = obj.sym_place(i as usize) {
                        if let Some(crate::layout::Place::Split { .. }) =
                            self.layout.places[f.0 as usize].get(ts as usize)
                        {
                            let v = st.st_value.get(E).wrapping_add(a as u64);
                            return self.layout.input_addr(f, ts, v).unwrap_or(0);
                        }
                    }
                }
            }
        }
        self.sym_addr(s).wrapping_add(a as u64)
    }

    pub fn sym_addr_raw(&self, s: SymRef) -> u64 {
        match s {
            SymRef::Local(f, i) => self.def_addr(f, i),
            SymRef::Global(g) => {
                let gl = self.res.global(g);
                match gl.def {
                    Def::Defined { file, sym, .. } => self.def_addr(file, sym),
                    Def::Common { .. } => {
                        let Some(c) = self.layout.commons.iter().find(|c| c.sym == g) else {
                            return 0;
                        };
                        self.layout.sections[c.out as usize].addr + c.off
                    }
                    Def::Linker => self.layout.linker_symbol(gl.name).unwrap_or(0),
                    // Bound by the dynamic loader; dynamic outputs are refused before this point.
                    Def::Shared { .. } => 0,
                    Def::Undefined => 0,
                }
            }
        }
    }

    pub fn sym_name(&self, s: SymRef) -> String {
        match s {
            SymRef::Global(g) => name_str(self.res.global(g).name),
            SymRef::Local(f, i) => self.res.files[f.0 as usize].obj.sym_display(i as usize),
        }
    }

    /// IPLT entry `k` (after PLT0 and the lazy entries in a dynamic link).
    pub fn plt_entry(&self, k: u32) -> u64 {
        let n = self.lazy_plt_count();
        let lazy = if n > 0 { n + 1 } else { 0 };
        self.plt + arch::PLT_ENTRY_SIZE * (lazy + u64::from(k))
    }
    /// `.got.plt` slot of IPLT entry `k`.
    pub fn iplt_got_slot(&self, k: u32) -> u64 {
        self.got_plt_slot((self.lazy_plt_count() + u64::from(k)) as u32)
    }
    pub fn got_plt_slot(&self, k: u32) -> u64 {
        self.got_plt + 8 * (self.synth.got_plt_reserved + u64::from(k))
    }
    pub fn got_slot(&self, s: SymRef, k: GotKind) -> Option<u64> {
        self.synth
            .got_slot(s, k)
            .map(|i| self.got + 8 * u64::from(i))
    }
    pub fn tp(&self) -> u64 {
        self.tls.map_or(0, |t| t.tp())
    }

    /// Whether the relocation at `off` of input section `sec` of `file` became a
    /// load-base-relative dynamic relocation (those are counted by the synthesize scan, not
    /// listed in `DynPlan::relocs`): the scan and the apply step ask the same
    /// `synthesize::dyn_action`.
    pub fn relative_at(&self, file: FileId, sec: u32, off: u64) -> bool {
        let (Some(_), Some(opts)) = (self.synth.dynamic.as_deref(), self.opts) else {
            return false;
        };
        let obj = &self.res.files[file.0 as usize].obj;
        let Some(s) = obj.sections.get(sec as usize) else {
            return false;
        };
        let writable = self.layout.lands_writable(file, sec, s.flags);
        s.relocs.iter().any(|r| {
            let sym = r.r_sym(E, false) as usize;
            r.r_offset.get(E) == off
                && arch::is_word_absolute(r.r_type(E, false))
                && s.is_alloc()
                && sym < obj.symbols.len()
                && crate::synthesize::dyn_action(
                    self.res,
                    opts,
                    crate::synthesize::sym_ref(self.res, file, sym),
                    writable,
                ) == crate::synthesize::DynAction::Relative
        })
    }
    pub fn stub_addr(&self, st: &Stub) -> u64 {
        match st.home {
            StubHome::Text => self.text_stubs + st.offset,
            StubHome::Plt => self.plt + st.offset,
        }
    }

    /// The stub's bytes with its relocations applied, and what each relocation computed.
    pub fn stub_bytes(&self, st: &Stub) -> (Vec<u8>, Vec<Option<Applied>>) {
        let base = self.stub_addr(st);
        let mut out = Vec::with_capacity(st.size() as usize);
        let mut applied = Vec::with_capacity(st.insns.len());
        for insn in &st.insns {
            let start = out.len();
            out.extend_from_slice(&insn.bytes);
            let Some(r) = &insn.reloc else {
                applied.push(None);
                continue;
            };
            let s = match &r.target {
                StubTarget::Sym(s) => self.sym_addr(*s),
                StubTarget::Linker(n) => self.layout.linker_symbol(n.as_bytes()).unwrap_or(0),
                StubTarget::GotPltSlot(k) => self.got_plt_slot(*k),
                StubTarget::GotPltWord(n) => self.got_plt + 8 * u64::from(*n),
                StubTarget::Plt0 => self.plt,
                StubTarget::Piece(w) => synth_piece_addr(self.layout, *w),
            };
            let at = start + r.at as usize;
            let p = base + at as u64;
            let value = s.wrapping_add(r.addend as u64).wrapping_sub(p);
            // Stub targets are all inside the image, so the 32-bit fields always fit.
            let _ = arch::write_value(&mut out, at, r.r_type, value);
            applied.push(Some(Applied {
                r_type: r.r_type,
                s,
                a: r.addend,
                p,
                value,
                at: r.at as usize,
                width: 4,
            }));
        }
        (out, applied)
    }

    /// Apply the relocations of input section `sec` of `file` to `buf` (the section's bytes as
    /// placed in the output); `map` translates input offsets for `.eh_frame` pieces. The
    /// load-base-relative dynamic entries the section needs go to `relative`. With `trace` (a
    /// report was asked for), what was done at each site of a [`traced`] section goes there.
    #[allow(clippy::too_many_arguments)]
    pub fn relocate_section(
        &self,
        file: FileId,
        sec_index: u32,
        buf: &mut [u8],
        piece_addr: u64,
        map: Option<&SplitMap>,
        relative: &mut RelativeOut<'_>,
        errors: &mut Vec<Diagnostic>,
        trace: Option<&mut Vec<Traced>>,
    ) {
        let obj = &self.res.files[file.0 as usize].obj;
        let Some(sec) = obj.sections.get(sec_index as usize) else {
            return;
        };
        let writable = self.layout.lands_writable(file, sec_index, sec.flags);
        let mut trace = trace.filter(|_| traced(self.res, file, sec));
        let mut skip_next = false;
        let mut map_at = usize::MAX;
        for (index, r) in sec.relocs.iter().enumerate() {
            // The call of a relaxed TLS sequence: nothing to apply, only to record.
            let consumed = std::mem::take(&mut skip_next);
            if consumed && trace.is_none() {
                continue;
            }
            let t = r.r_type(E, false);
            let kind = arch::rel_kind(t);
            if kind == RelKind::None {
                continue;
            }
            let in_off = r.r_offset.get(E);
            let off = match map {
                Some(m) => match m.lookup_from(in_off, &mut map_at) {
                    Some(o) => o,
                    None => continue, // inside a dropped .eh_frame record
                },
                None => in_off,
            };
            let sym = r.r_sym(E, false) as usize;
            let Some(width) = arch::field_size(t) else {
                continue;
            };
            if sym >= obj.symbols.len()
                || off.checked_add(width).is_none_or(|e| e > buf.len() as u64)
            {
                continue; // reported by the synthesize phase
            }
            let (target, s, a) = self.s_and_a(file, sec, sym, r.r_addend.get(E));
            // The common kinds, untraced, that neither the loader nor a relaxation touches: the
            // value written straight (a value that does not fit takes the path that reports it).
            let quick = match trace.is_none() && !consumed {
                true => self.quick(t, kind, sec, target, writable),
                false => None,
            };
            if let Some(quick) = quick {
                let p = piece_addr + off;
                let sa = s.wrapping_add(a as u64);
                let value = match quick {
                    Quick::PcRelative => sa.wrapping_sub(p),
                    Quick::Absolute | Quick::Relative => sa,
                };
                if arch::write_value(buf, off as usize, t, value).is_ok() {
                    if quick == Quick::Relative {
                        relative.push(p, sa);
                    }
                    continue;
                }
            }
            let site = Site {
                file,
                sec,
                t,
                kind,
                o: off as usize,
                p: piece_addr + off,
                piece_addr,
                in_off,
                target,
                s,
                a,
                writable,
            };
            let done = if consumed {
                Done {
                    relaxation: Relaxation::TlsCallConsumed,
                    ..Done::default()
                }
            } else {
                match self.apply_dynamic(&site, buf, relative, errors) {
                    Some(done) => done,
                    None => self.apply_static(&site, buf, errors),
                }
            };
            skip_next = done.skip_next;
            if let Some(trace) = trace.as_deref_mut() {
                trace.push(self.traced(&site, sec_index, index as u32, &done));
            }
        }
    }

    /// How a relocation of type `t` (kind `kind`) in `sec` against `target` is written when it
    /// is one of the common cases: S + A or S + A - P at its own site, as [`Self::apply_static`]
    /// would write it, plus the RELATIVE entry [`Self::apply_dynamic`] would add for a word the
    /// loader rebases. None: another case (the loader writes the word, a GOT slot, TLS, a
    /// relaxation), which the apply steps handle.
    #[inline(always)]
    fn quick(
        &self,
        t: u32,
        kind: RelKind,
        sec: &Section<'_>,
        target: SymRef,
        writable: bool,
    ) -> Option<Quick> {
        match kind {
            RelKind::PcRelative | RelKind::PltPcRelative => Some(Quick::PcRelative),
            RelKind::Absolute => match (self.synth.dynamic.as_deref(), self.opts) {
                (Some(_), Some(opts)) if arch::is_word_absolute(t) && sec.is_alloc() => {
                    match crate::synthesize::dyn_action(self.res, opts, target, writable) {
                        crate::synthesize::DynAction::Relative => Some(Quick::Relative),
                        crate::synthesize::DynAction::Static => Some(Quick::Absolute),
                        crate::synthesize::DynAction::Symbolic => None,
                    }
                }
                _ => Some(Quick::Absolute),
            },
            _ => None,
        }
    }

    /// The trace entry of a site the apply steps did `done` at.
    fn traced(&self, x: &Site<'_, '_>, sec: u32, index: u32, done: &Done) -> Traced {
        Traced {
            file: x.file,
            sec,
            index,
            r_offset: x.in_off,
            r_type: x.t,
            kind: x.kind,
            s: x.s,
            a: x.a,
            p: x.p,
            got_entry: done.got_entry,
            field: done.field.map(|(at, encoding)| Field {
                addr: x.piece_addr + at as u64,
                encoding,
            }),
            relaxation: done.relaxation,
            dynamic: done.dynamic,
        }
    }

    /// The relocation's symbol, its S and its A. Most name a section symbol of a section placed
    /// whole (S is its address); a section symbol of a merged or split section lets the addend
    /// select the piece (folded into S); debug data about a dropped section gets 0.
    #[inline(always)]
    pub fn s_and_a(
        &self,
        file: FileId,
        sec: &Section<'_>,
        sym: usize,
        a: i64,
    ) -> (SymRef, u64, i64) {
        let obj = &self.res.files[file.0 as usize].obj;
        let target = crate::synthesize::sym_ref(self.res, file, sym);
        let st = &obj.symbols[sym];
        let section = match st.st_type() {
            STT_SECTION => match obj.sym_place(sym) {
                Ok(SymPlace::Section(ts)) => Some(ts),
                _ => None,
            },
            _ => None,
        };
        if let Some(ts) = section {
            if let Some(base) = self.layout.placed_at(file, ts) {
                return (target, base.wrapping_add(st.st_value.get(E)), a);
            }
            match self.layout.places[file.0 as usize].get(ts as usize) {
                Some(crate::layout::Place::Split { .. }) => {
                    let v = st.st_value.get(E).wrapping_add(a as u64);
                    return (target, self.layout.input_addr(file, ts, v).unwrap_or(0), 0);
                }
                Some(crate::layout::Place::Dropped) if !sec.is_alloc() => return (target, 0, 0),
                _ => {}
            }
        }
        let s = if st.st_type() == STT_TLS {
            self.sym_addr_raw(target)
        } else {
            self.sym_addr(target)
        };
        (target, s, a)
    }

    /// What a dynamic output changes: a word the loader writes or rebases, and the TLS forms
    /// that stay dynamic (a shared object's general- and local-dynamic accesses) or relax to
    /// initial-exec (an imported variable). None: apply the static way.
    fn apply_dynamic(
        &self,
        x: &Site<'_, '_>,
        buf: &mut [u8],
        relative: &mut RelativeOut<'_>,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<Done> {
        let (d, opts) = (self.synth.dynamic.as_deref()?, self.opts?);
        let (o, p, a) = (x.o, x.p, x.a);
        let g = |kind| self.got_slot(x.target, kind);
        if arch::is_word_absolute(x.t) && x.sec.is_alloc() {
            match crate::synthesize::dyn_action(self.res, opts, x.target, x.writable) {
                // The loader writes it (the word relocation with the symbol).
                crate::synthesize::DynAction::Symbolic => {
                    return Some(Done {
                        dynamic: DynEmitted::Symbolic,
                        ..Done::at_site(x)
                    })
                }
                // The loader adds its base; the file holds the link-time value too.
                crate::synthesize::DynAction::Relative => {
                    let addend = x.s.wrapping_add(a as u64);
                    relative.push(p, addend);
                    return Some(Done {
                        dynamic: DynEmitted::Relative { addend },
                        ..self.apply_static(x, buf, errors)
                    });
                }
                crate::synthesize::DynAction::Static => {}
            }
        }
        let imported = crate::synthesize::imported(self.res, opts, x.target);
        let done = match x.kind {
            RelKind::TlsGeneralDynamic | RelKind::TlsLocalDynamic if d.shared => {
                let kind = if x.kind == RelKind::TlsGeneralDynamic {
                    GotKind::TlsGd
                } else {
                    GotKind::TlsLd
                };
                let v = g(kind).unwrap_or(0).wrapping_add(a as u64).wrapping_sub(p);
                Done {
                    got_entry: g(kind),
                    ..self.put(buf, o, arch::FIELD_PC32, v, x, errors)
                }
            }
            RelKind::DtpRelative if d.shared => {
                let tls_start = self.tls.map_or(0, |t| t.start);
                let v = x.s.wrapping_add(a as u64).wrapping_sub(tls_start);
                self.put(buf, o, x.t, v, x, errors)
            }
            RelKind::TlsGeneralDynamic if imported && arch::gd_relax_ok(buf, o) => {
                // General-dynamic → initial-exec: the library's variable sits at a fixed
                // offset from the thread pointer, which the loader puts in the GOT.
                let at = arch::gd_to_ie_apply(buf, o);
                let slot = g(GotKind::TpOff).unwrap_or(0);
                let v = slot.wrapping_sub(4).wrapping_sub(x.piece_addr + at as u64);
                Done {
                    got_entry: g(GotKind::TpOff),
                    relaxation: Relaxation::GdToIe,
                    skip_next: true,
                    ..self.put(buf, at, arch::FIELD_PC32, v, x, errors)
                }
            }
            // A shared object's descriptor stays: the field is its GOT pair, the call stays.
            RelKind::TlsDescriptor if d.shared => {
                let v = g(GotKind::TlsDesc)
                    .unwrap_or(0)
                    .wrapping_add(a as u64)
                    .wrapping_sub(p);
                Done {
                    got_entry: g(GotKind::TlsDesc),
                    ..self.put(buf, o, arch::FIELD_PC32, v, x, errors)
                }
            }
            RelKind::TlsDescriptorCall if d.shared => Done::at_site(x),
            RelKind::TlsDescriptor if imported && arch::tlsdesc_relax_ok(buf, o) => {
                arch::tlsdesc_to_ie_apply(buf, o);
                let v = g(GotKind::TpOff)
                    .unwrap_or(0)
                    .wrapping_add(a as u64)
                    .wrapping_sub(p);
                Done {
                    got_entry: g(GotKind::TpOff),
                    relaxation: Relaxation::TlsDescToIe,
                    ..self.put(buf, o, arch::FIELD_PC32, v, x, errors)
                }
            }
            _ => return None,
        };
        Some(done)
    }

    /// Compute the kind's value and write it, relaxing GOT and TLS code sequences where the
    /// synthesize phase decided to (it asked the same `arch` predicates).
    fn apply_static(&self, x: &Site<'_, '_>, buf: &mut [u8], errors: &mut Vec<Diagnostic>) -> Done {
        let (o, p, s, a) = (x.o, x.p, x.s, x.a);
        let tp = self.tp();
        let g = |kind| self.got_slot(x.target, kind);
        let field = arch::site_field(x.t, x.kind);
        // The common case: the kind's value at the site, the instruction untouched.
        let mut got_entry = None;
        let mut relaxation = Relaxation::None;
        let value: u64 = match x.kind {
            RelKind::Absolute => s.wrapping_add(a as u64),
            RelKind::PcRelative | RelKind::PltPcRelative => {
                s.wrapping_add(a as u64).wrapping_sub(p)
            }
            RelKind::GotPcRelative => match g(GotKind::Addr) {
                Some(slot) => {
                    got_entry = Some(slot);
                    slot.wrapping_add(a as u64).wrapping_sub(p)
                }
                None => match arch::got_relax_ok(x.t, buf, o, a) {
                    Some(kind) => {
                        let (at, adj) = arch::got_relax_apply(kind, buf, o);
                        let v = s.wrapping_add(a as u64).wrapping_sub(p).wrapping_add(adj);
                        return Done {
                            relaxation: Relaxation::Got(kind),
                            ..self.put(buf, at, arch::FIELD_PC32, v, x, errors)
                        };
                    }
                    None => 0,
                },
            },
            RelKind::GotPcRelative64 => {
                got_entry = g(GotKind::Addr);
                got_entry
                    .unwrap_or(0)
                    .wrapping_add(a as u64)
                    .wrapping_sub(p)
            }
            RelKind::GotOffset => {
                got_entry = g(GotKind::Addr);
                got_entry
                    .unwrap_or(0)
                    .wrapping_sub(self.got_base)
                    .wrapping_add(a as u64)
            }
            RelKind::GotBasePcRelative => self.got_base.wrapping_add(a as u64).wrapping_sub(p),
            RelKind::GotBaseRelative | RelKind::PltGotBaseRelative => {
                s.wrapping_add(a as u64).wrapping_sub(self.got_base)
            }
            RelKind::TpRelative => s.wrapping_add(a as u64).wrapping_sub(tp),
            RelKind::DtpRelative => {
                // Local-dynamic code was relaxed to local-exec, so offsets in code are TP-relative.
                let code = x.sec.flags & u64::from(SHF_EXECINSTR) != 0;
                if code && x.sec.is_alloc() {
                    relaxation = Relaxation::LdOffsetToLe;
                    s.wrapping_add(a as u64).wrapping_sub(tp)
                } else {
                    s.wrapping_add(a as u64)
                        .wrapping_sub(self.tls.map_or(0, |t| t.start))
                }
            }
            RelKind::TlsInitialExec => match g(GotKind::TpOff) {
                Some(slot) => {
                    got_entry = Some(slot);
                    slot.wrapping_add(a as u64).wrapping_sub(p)
                }
                None => {
                    arch::ie_relax_apply(buf, o);
                    relaxation = Relaxation::IeToLe;
                    s.wrapping_add(a as u64).wrapping_add(4).wrapping_sub(tp)
                }
            },
            RelKind::TlsGeneralDynamic | RelKind::TlsLocalDynamic | RelKind::TlsDescriptorCall => {
                return self.relax_tls_call(x, buf, errors)
            }
            RelKind::TlsDescriptor => {
                if !arch::tlsdesc_relax_ok(buf, o) {
                    return Done::at_site(x);
                }
                arch::tlsdesc_relax_apply(buf, o);
                relaxation = Relaxation::TlsDescToLe;
                if self.is_tls_module_base(x.target) {
                    // Local-dynamic descriptors: the DTPOFF32s that follow were made
                    // TP-relative, so the "module base" they add to is 0.
                    0
                } else {
                    s.wrapping_add(a as u64).wrapping_add(4).wrapping_sub(tp)
                }
            }
            RelKind::Size => {
                let size = crate::synthesize::definition(self.res, x.target)
                    .map(|(f, i)| {
                        self.res.files[f.0 as usize].obj.symbols[i as usize]
                            .st_size
                            .get(E)
                    })
                    .unwrap_or(0);
                size.wrapping_add(a as u64)
            }
            RelKind::None | RelKind::Unsupported => return Done::at_site(x),
        };
        Done {
            got_entry,
            relaxation,
            ..self.put(buf, o, field, value, x, errors)
        }
    }

    /// The static forms that rewrite a `__tls_get_addr` call sequence (general- and
    /// local-dynamic, to local-exec) or a descriptor call (to a nop).
    fn relax_tls_call(
        &self,
        x: &Site<'_, '_>,
        buf: &mut [u8],
        errors: &mut Vec<Diagnostic>,
    ) -> Done {
        let o = x.o;
        match x.kind {
            RelKind::TlsGeneralDynamic => {
                if !arch::gd_relax_ok(buf, o) {
                    return Done::at_site(x);
                }
                let at = arch::gd_relax_apply(buf, o);
                let v =
                    x.s.wrapping_add(x.a as u64)
                        .wrapping_add(4)
                        .wrapping_sub(self.tp());
                Done {
                    relaxation: Relaxation::GdToLe,
                    skip_next: true,
                    ..self.put(buf, at, arch::FIELD_TPOFF32, v, x, errors)
                }
            }
            RelKind::TlsLocalDynamic => match arch::ld_relax_len(buf, o) {
                Some(len) => {
                    arch::ld_relax_apply(buf, o, len);
                    Done {
                        relaxation: Relaxation::LdToLe,
                        skip_next: true,
                        ..Done::default()
                    }
                }
                None => Done {
                    skip_next: true,
                    ..Done::at_site(x)
                },
            },
            _ => {
                if !arch::tlsdesc_call_ok(buf, o) {
                    return Done::default();
                }
                arch::tlsdesc_call_apply(buf, o);
                Done {
                    relaxation: Relaxation::TlsDescCallRemoved,
                    ..Done::default()
                }
            }
        }
    }

    fn is_tls_module_base(&self, s: SymRef) -> bool {
        matches!(s, SymRef::Global(g) if self.res.global(g).name == b"_TLS_MODULE_BASE_")
    }

    /// Write `value` into the field of encoding `t` at `at`, or report that it does not fit.
    /// Returns what was done (the caller adds the relaxation and the GOT entry).
    fn put(
        &self,
        buf: &mut [u8],
        at: usize,
        t: u32,
        value: u64,
        x: &Site<'_, '_>,
        errors: &mut Vec<Diagnostic>,
    ) -> Done {
        if let Err((lo, hi)) = arch::write_value(buf, at, t, value) {
            let name = self.sym_name(x.target);
            errors.push(
                Diagnostic::error(format!(
                    "relocation {} out of range: {} is not in [{lo}, {hi}]; references '{name}'",
                    arch::reloc_name(t),
                    value as i64
                ))
                .file(self.res.files[x.file.0 as usize].obj.name.clone())
                .section(x.sec.name_str())
                .offset(x.in_off)
                .symbol(name),
            );
        }
        Done {
            field: Some((at, t)),
            ..Done::default()
        }
    }
}

/// The common relocations [`Values::quick`] writes without the apply steps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quick {
    /// S + A.
    Absolute,
    /// S + A - P.
    PcRelative,
    /// S + A, and a RELATIVE entry with S + A for the loader to rebase.
    Relative,
}

/// One relocation site, as the apply steps see it.
struct Site<'s, 'd> {
    file: FileId,
    sec: &'s Section<'d>,
    /// The raw type (its field encoding and name) and what it computes.
    t: u32,
    kind: RelKind,
    /// The field's offset in the section's bytes, and its address.
    o: usize,
    p: u64,
    /// The address of the section's bytes (a relaxation moves the field).
    piece_addr: u64,
    /// The field's offset in the input section (for messages).
    in_off: u64,
    target: SymRef,
    s: u64,
    a: i64,
    /// Its section lands in a writable output section ([`Layout::lands_writable`]).
    writable: bool,
}

/// What the apply steps did at one site: what the relocation after it needs, and what the
/// trace records. Small and on the stack: without a report it is dropped unread.
#[derive(Clone, Copy, Default)]
struct Done {
    /// The field's offset in the section's bytes and its encoding (a raw type); None when the
    /// rewrite left no field.
    field: Option<(usize, u32)>,
    relaxation: Relaxation,
    /// The GOT entry (G + GOT) the value was computed from.
    got_entry: Option<u64>,
    dynamic: DynEmitted,
    /// The relocation after this one belonged to the relaxed call sequence (`__tls_get_addr`):
    /// skip it.
    skip_next: bool,
}

impl Done {
    /// Nothing written: the field is where the relocation says.
    fn at_site(x: &Site<'_, '_>) -> Done {
        Done {
            field: Some((x.o, arch::site_field(x.t, x.kind))),
            ..Done::default()
        }
    }
}
