//! Layout by a linker script's `SECTIONS`: which output section an input section goes to (the
//! first matching input section description, in script order), and, once sizes are known, the
//! addresses the commands give as the location counter moves through them (symbols take their
//! values where their assignments stand). Without `SECTIONS` none of this runs.

use super::*;
use crate::linker_script::expr::{align_to, Env, Expr, SectionFn};
use crate::linker_script::{Assign, Command, Constraint, Item, OutputSection, Sections, Sort};
use rustc_hash::FxHashSet;

/// Where the script sends an input section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// To output command `cmd`'s section, through its item `rule`.
    To {
        cmd: u32,
        rule: u16,
        keep: bool,
    },
    Discard,
    /// Matched by nothing: an orphan, placed as GNU ld places them.
    Orphan,
}

/// The script's input section descriptions, asked per input section.
pub struct Rules {
    pub script: std::sync::Arc<Sections>,
    /// Some description names particular files (not `*`): routes depend on the file.
    pub by_file: bool,
    /// Some expression reads a section's address, size, alignment or load address.
    pub reads_sections: bool,
}

impl Rules {
    /// The options' script's rules, if it has `SECTIONS` (`MEMORY` alone lays nothing out).
    pub fn of(opts: &Options) -> Option<Rules> {
        let script = opts.sections.clone()?;
        (script.laid_out && !script.commands.is_empty()).then(|| Rules::new(script))
    }

    /// A script's top-level assignment with an expression that is not a constant has its value
    /// where `SECTIONS` lays the output out: without `SECTIONS` it would have none, which is
    /// an error at it.
    pub fn check(opts: &Options) -> Result<()> {
        let Some(script) = opts.sections.as_deref().filter(|s| !s.laid_out) else {
            return Ok(());
        };
        let needs_layout = script.commands.iter().find_map(|c| match c {
            Command::Assign(a) if a.op.is_some() || a.expr.constant().is_none() => Some(a),
            _ => None,
        });
        match needs_layout {
            Some(a) => err(Diagnostic::error(
                "initlink evaluates this expression where SECTIONS lays the output out, and no script has SECTIONS",
            )
            .file(a.at.clone())),
            None => Ok(()),
        }
    }

    pub fn new(script: std::sync::Arc<Sections>) -> Rules {
        let by_file = script.commands.iter().any(|c| match c {
            Command::Output(o) => o.items.iter().any(|i| match i {
                Item::Input(d) => {
                    !d.file.is_any()
                        || !d.exclude_files.is_empty()
                        || d.sections.iter().any(|s| !s.exclude_files.is_empty())
                }
                _ => false,
            }),
            _ => false,
        });
        let mut reads_sections = false;
        for_each_expr(&script, &mut |e| reads_sections |= reads_section(e));
        Rules {
            script,
            by_file,
            reads_sections,
        }
    }

    /// The first description, in script order, that takes section `sec` of file `file`.
    pub fn route(&self, file: &str, sec: &str) -> Route {
        for (ci, c) in self.script.commands.iter().enumerate() {
            let Command::Output(o) = c else { continue };
            for (k, item) in o.items.iter().enumerate() {
                let Item::Input(d) = item else { continue };
                if !d.file.matches(file) || d.exclude_files.iter().any(|p| p.matches(file)) {
                    continue;
                }
                let hit = d.sections.iter().any(|s| {
                    s.pattern.matches(sec) && !s.exclude_files.iter().any(|p| p.matches(file))
                });
                if hit {
                    if o.is_discard() {
                        return Route::Discard;
                    }
                    return Route::To {
                        cmd: ci as u32,
                        rule: k.min(usize::from(u16::MAX)) as u16,
                        keep: d.keep,
                    };
                }
            }
        }
        Route::Orphan
    }

    pub fn output(&self, cmd: u32) -> &OutputSection {
        match &self.script.commands[cmd as usize] {
            Command::Output(o) => o,
            _ => unreachable!("routes name output commands"),
        }
    }

    /// How item `rule` of command `cmd` sorts what it takes.
    pub fn sort(&self, cmd: u32, rule: u16) -> Sort {
        match self.output(cmd).items.get(usize::from(rule)) {
            Some(Item::Input(d)) => d
                .sections
                .iter()
                .map(|s| s.sort)
                .find(|s| *s != Sort::None)
                .unwrap_or(Sort::None),
            _ => Sort::None,
        }
    }

    /// The output command that places section `name` of flags `flags` (of two with one name,
    /// the one whose `ONLY_IF_RO`/`ONLY_IF_RW` holds).
    pub fn command_of(&self, name: &str, flags: u64) -> Option<u32> {
        let writable = flags & u64::from(elf::SHF_WRITE) != 0;
        let mut first = None;
        for (ci, c) in self.script.commands.iter().enumerate() {
            let Command::Output(o) = c else { continue };
            if o.name != name {
                continue;
            }
            first.get_or_insert(ci as u32);
            let holds = match o.constraint {
                Constraint::None => true,
                Constraint::ReadOnly => !writable,
                Constraint::ReadWrite => writable,
            };
            if holds {
                return Some(ci as u32);
            }
        }
        first
    }

    /// Names `DEFINED(...)` asks about.
    pub fn defined_queries(&self) -> Vec<String> {
        let mut out = Vec::new();
        for_each_expr(&self.script, &mut |e| collect_defined(e, &mut out));
        out
    }
}

/// Each expression of the script's assignments and assertions, and of its output sections'
/// addresses, alignments and load addresses.
fn for_each_expr(script: &Sections, visit: &mut dyn FnMut(&Expr)) {
    for c in &script.commands {
        match c {
            Command::Assign(a) => visit(&a.expr),
            Command::Assert(a) => visit(&a.expr),
            Command::Output(o) => {
                o.addr
                    .iter()
                    .chain(&o.align)
                    .chain(&o.lma)
                    .for_each(&mut *visit);
                for i in &o.items {
                    match i {
                        Item::Assign(a) => visit(&a.expr),
                        Item::Assert(a) => visit(&a.expr),
                        Item::Data { expr, .. } => visit(expr),
                        Item::Input(_) => {}
                    }
                }
            }
        }
    }
}

/// Whether `e` reads an output section's address, size, alignment or load address.
fn reads_section(e: &Expr) -> bool {
    match e {
        Expr::Section(..) => true,
        Expr::Unary(_, a) => reads_section(a),
        Expr::Binary(_, a, b) => reads_section(a) || reads_section(b),
        Expr::Cond(c, a, b) => reads_section(c) || reads_section(a) || reads_section(b),
        Expr::Call(_, args) => args.iter().any(reads_section),
        Expr::SegmentStart(_, d) => reads_section(d),
        _ => false,
    }
}

fn collect_defined(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Defined(n) => out.push(n.clone()),
        Expr::Unary(_, a) => collect_defined(a, out),
        Expr::Binary(_, a, b) => {
            collect_defined(a, out);
            collect_defined(b, out);
        }
        Expr::Cond(c, a, b) => {
            collect_defined(c, out);
            collect_defined(a, out);
            collect_defined(b, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| collect_defined(a, out)),
        Expr::SegmentStart(_, d) => collect_defined(d, out),
        _ => {}
    }
}

/// The name a linker-made piece goes by when the script's descriptions are asked where it goes
/// (GNU ld's names for the input sections it makes).
pub fn linker_input_name(what: Synthetic, dynamic: bool) -> &'static str {
    match what {
        Synthetic::RelaPlt if !dynamic => ".rela.iplt",
        Synthetic::Copy => ".dynbss",
        Synthetic::Plt if !dynamic => ".iplt",
        other => other.home().name(),
    }
}

/// `DATA_SEGMENT_ALIGN` and `DATA_SEGMENT_RELRO_END`, over the passes of a layout.
#[derive(Debug, Clone, Copy, Default)]
struct DataSegment {
    /// The second pass: `DATA_SEGMENT_ALIGN` is this base, moved so that RELRO ends on a page.
    adjusted: Option<u64>,
    base: Option<u64>,
    common: u64,
    relro_end: Option<(u64, u64)>,
}

/// What the walk over the script carries from command to command.
struct WalkState<'s> {
    /// The values the script's assignments gave so far.
    symbols: FxHashMap<String, u64>,
    seg: &'s mut DataSegment,
    /// An expression read `SIZEOF_HEADERS`.
    used_headers: bool,
    memory: super::memory::Memory,
}

/// What an expression sees while the layout walks the script.
struct Walker<'l> {
    layout: &'l Layout,
    dot: u64,
    symbols: &'l FxHashMap<String, u64>,
    seg: &'l mut DataSegment,
    used_headers: &'l std::cell::Cell<bool>,
    memory: &'l super::memory::Memory,
}

impl Env for Walker<'_> {
    fn dot(&self) -> std::result::Result<u64, String> {
        Ok(self.dot)
    }
    fn symbol(&self, name: &str) -> std::result::Result<u64, String> {
        if let Some(&v) = self.symbols.get(name) {
            return Ok(v);
        }
        self.layout.linker_symbol(name.as_bytes()).ok_or_else(|| {
            format!("symbol {name} has no value here (initlink reads the symbols the script and the linker define)")
        })
    }
    fn section(&self, f: SectionFn, name: &str) -> std::result::Result<u64, String> {
        let Some(i) = self.layout.section_by_name(name) else {
            return match f {
                SectionFn::Sizeof => Ok(0),
                _ => Err(format!("no output section {name}")),
            };
        };
        let s = &self.layout.sections[i as usize];
        Ok(match f {
            SectionFn::Addr => s.addr,
            SectionFn::LoadAddr => self.layout.lma(i as usize),
            SectionFn::Sizeof => s.size,
            SectionFn::AlignOf => s.align,
        })
    }
    fn defined(&self, name: &str) -> bool {
        self.symbols.contains_key(name) || self.layout.script_defined.contains(name)
    }
    fn segment_start(&self, name: &str) -> Option<u64> {
        match name {
            "text-segment" => self.layout.placement.image_base,
            _ => None,
        }
    }
    fn page(&self, max: bool) -> u64 {
        if max {
            self.layout.placement.page
        } else {
            PAGE
        }
    }
    fn sizeof_headers(&self) -> u64 {
        self.used_headers.set(true);
        self.layout.headers_size
    }
    fn data_segment_align(
        &mut self,
        dot: u64,
        max: u64,
        common: u64,
    ) -> std::result::Result<u64, String> {
        if let Some(b) = self.seg.adjusted {
            return Ok(b);
        }
        let v = align_to(dot, max)?
            .checked_add(dot & max.saturating_sub(1))
            .ok_or("DATA_SEGMENT_ALIGN overflows 64 bits")?;
        self.seg.base = Some(v);
        self.seg.common = common;
        Ok(v)
    }
    fn data_segment_relro_end(&mut self, offset: u64, value: u64) -> u64 {
        self.seg.relro_end = Some((value.saturating_add(offset), offset));
        value
    }
    fn region(&self, origin: bool, name: &str) -> std::result::Result<u64, String> {
        self.memory.value(origin, name)
    }
}

impl Layout {
    /// Evaluate `e` at `dot`.
    fn eval_at(&self, e: &Expr, dot: u64, st: &mut WalkState<'_>, at: &str) -> Result<u64> {
        let used = std::cell::Cell::new(st.used_headers);
        let mut w = Walker {
            layout: self,
            dot,
            symbols: &st.symbols,
            seg: st.seg,
            used_headers: &used,
            memory: &st.memory,
        };
        let v = e.eval(&mut w);
        st.used_headers = used.get();
        v.map_err(|m| Diagnostic::error(m).file(at.to_string()).into())
    }

    /// Addresses by the script: each output section where the location counter stands (after
    /// the sections with no command, the orphans, that come before it), its pieces in the order
    /// of its descriptions, symbols assigned where they stand. Two passes when
    /// `DATA_SEGMENT_RELRO_END` asks for the RELRO sections to end on a page.
    pub(super) fn place_script(&mut self) -> Result<()> {
        let Some(rules) = self.script.take() else {
            return Ok(());
        };
        let mut seg = DataSegment::default();
        let r = self.walk_script(&rules, &mut seg);
        let r = r.and_then(|()| match seg.relro_end {
            Some((end, offset)) if self.relro && self.dynamic => {
                seg.adjusted = Some(self.relro_base(&seg, end, offset));
                self.walk_script(&rules, &mut seg)
            }
            _ => Ok(()),
        });
        // An expression may read a section's address, size or load address before the
        // section is placed (`_sidata = LOADADDR(.data);` above `.data`): GNU ld gives it the
        // final value, so walk once more with every section where the last walk put it.
        let r = r.and_then(|()| match rules.reads_sections {
            true => self.walk_script(&rules, &mut seg),
            false => Ok(()),
        });
        self.script = Some(rules);
        r
    }

    /// GNU ld's `lang_size_relro_segment`: from the last RELRO section back, each moved up as
    /// far as its alignment allows so that the last ends on a common page.
    fn relro_base(&self, seg: &DataSegment, end: u64, offset: u64) -> u64 {
        let base = seg.base.unwrap_or(0);
        let mut desired = align_to(end, seg.common.max(1))
            .unwrap_or(end)
            .saturating_sub(offset);
        for s in self.sections.iter().rev() {
            if s.class == Class::NonAlloc || s.addr < base || s.addr >= end.saturating_sub(offset) {
                continue;
            }
            let room = if s.is_nobits() && s.is_tls() {
                0
            } else {
                s.size
            };
            let bump = desired.saturating_sub(s.addr.saturating_add(room));
            desired = s.addr.saturating_add(bump) & !(s.align.max(1) - 1);
        }
        desired.max(base)
    }

    fn walk_script(&mut self, rules: &Rules, seg: &mut DataSegment) -> Result<()> {
        let mut dot = 0u64;
        let mut st = WalkState {
            symbols: FxHashMap::default(),
            seg,
            used_headers: false,
            memory: super::memory::Memory::new(&rules.script)?,
        };
        // The last walk's load addresses stand until this one gives them again.
        self.lmas.resize(self.sections.len(), None);
        let mut placed = vec![false; self.sections.len()];
        for (ci, c) in rules.script.commands.iter().enumerate() {
            match c {
                Command::Assign(a) => self.assign_symbol(a, &mut dot, None, &mut st)?,
                Command::Assert(a) => {
                    let v = self.eval_at(&a.expr, dot, &mut st, &a.at)?;
                    if v == 0 {
                        return err(Diagnostic::error(a.message.clone()).file(a.at.clone()));
                    }
                }
                Command::Output(o) if o.is_discard() => {}
                Command::Output(o) => {
                    let Some(i) = self.section_by_name(&o.name).map(|i| i as usize) else {
                        continue;
                    };
                    let chosen = rules.command_of(&o.name, self.sections[i].flags);
                    if placed[i]
                        || chosen != Some(ci as u32)
                        || self.sections[i].class == Class::NonAlloc
                    {
                        continue;
                    }
                    self.place_orphans(&mut placed[..i], &mut dot, &mut st)?;
                    self.place_output(i, (ci, o), &mut dot, &mut st)?;
                    placed[i] = true;
                }
            }
        }
        self.place_orphans(&mut placed, &mut dot, &mut st)?;
        st.memory.overflows()?;
        self.settle_headers(st.used_headers);
        self.script_symbols = st.symbols;
        Ok(())
    }

    /// Whether the ELF and program headers are loaded (GNU ld: when the script asks for
    /// `SIZEOF_HEADERS` and they fit below the first section on its page), and the base.
    fn settle_headers(&mut self, used: bool) {
        let page = self.placement.page;
        let first = self
            .sections
            .iter()
            .filter(|s| s.class != Class::NonAlloc && s.size > 0)
            .map(|s| s.addr)
            .min();
        let Some(first) = first else {
            return;
        };
        let hs = self.headers_size;
        self.headers_loaded =
            used && first % page >= hs % page && first & !(page - 1) >= hs / page * page;
        if self.headers_loaded {
            self.base = (first - hs) & !(page - 1);
        }
    }

    /// The loaded sections among the first `placed.len()` not placed yet (orphans), in order.
    fn place_orphans(
        &mut self,
        placed: &mut [bool],
        dot: &mut u64,
        st: &mut WalkState<'_>,
    ) -> Result<()> {
        for (j, done) in placed.iter_mut().enumerate() {
            if !*done && self.sections[j].class != Class::NonAlloc {
                self.place_orphan(j, dot, st)?;
                *done = true;
            }
        }
        Ok(())
    }

    /// A section the script names nothing for: after the location counter (or in the first
    /// region whose attributes it meets), aligned.
    fn place_orphan(&mut self, i: usize, dot: &mut u64, st: &mut WalkState<'_>) -> Result<()> {
        let fixed = self.placement.start_of(&self.sections[i].name);
        let (r, from) = st
            .memory
            .place(None, &self.sections[i], fixed.is_some(), "")?;
        let s = &mut self.sections[i];
        if s.size == 0 {
            s.addr = from.unwrap_or(*dot);
            return Ok(());
        }
        if let Some(a) = fixed {
            s.addr = a;
            return Ok(());
        }
        s.addr = align_to(from.unwrap_or(*dot), s.align)
            .map_err(|m| Diagnostic::error(format!("{m} placing section {}", s.name)))?;
        if !(s.is_nobits() && s.is_tls()) {
            *dot = s.addr.checked_add(s.size).ok_or_else(|| {
                Diagnostic::error(format!("section {} ends past the address space", s.name))
            })?;
        }
        let placed = super::memory::Placed {
            name: &s.name,
            at: "",
            addr: s.addr,
            end: *dot,
            size: s.size,
            align: s.align,
            stmt_align: 1,
            lma: None,
            fixed: false,
            nobits: s.is_nobits(),
        };
        self.lmas[i] = Some(st.memory.finish(None, r, &placed)?);
        Ok(())
    }

    /// Output section `i` by its command `o` (command `ci` of the script).
    fn place_output(
        &mut self,
        i: usize,
        (ci, o): (usize, &OutputSection),
        dot: &mut u64,
        st: &mut WalkState<'_>,
    ) -> Result<()> {
        let mut align = self.sections[i].align;
        let mut stmt_align = 1;
        if let Some(e) = &o.align {
            stmt_align = self.eval_at(e, *dot, st, &o.at)?;
            align = align.max(stmt_align);
        }
        let fixed = match (self.placement.start_of(&o.name), &o.addr) {
            (Some(a), _) => Some(a),
            (None, Some(e)) => Some(self.eval_at(e, *dot, st, &o.at)?),
            (None, None) => None,
        };
        let (region, from) =
            st.memory
                .place(Some(ci), &self.sections[i], fixed.is_some(), &o.at)?;
        // An empty section (GNU ld removes it) does not move the location counter.
        let empty = self.sections[i].pieces.is_empty();
        let here = from.unwrap_or(*dot);
        let start = match fixed {
            Some(_) if empty => here,
            Some(a) => a,
            None if empty => here,
            None => align_to(here, align).map_err(|m| Diagnostic::error(m).file(o.at.clone()))?,
        };
        let lma = match &o.lma {
            Some(e) => Some(self.eval_at(e, start, st, &o.at)?),
            None => None,
        };
        *dot = start;
        self.place_items(i, o, start, dot, st)?;
        let s = &mut self.sections[i];
        s.addr = start;
        s.align = align;
        s.size = *dot - start;
        if s.is_nobits() && s.is_tls() {
            *dot = start;
        }
        let placed = super::memory::Placed {
            name: &o.name,
            at: &o.at,
            addr: start,
            end: *dot,
            size: s.size,
            align: if fixed.is_some() { stmt_align } else { align },
            stmt_align,
            lma,
            fixed: fixed.is_some(),
            nobits: s.is_nobits(),
        };
        self.lmas[i] = Some(st.memory.finish(Some(ci), region, &placed)?);
        Ok(())
    }

    /// The pieces, assignments and data commands of output section `i` by its command `o`,
    /// from `start` on, the location counter moving through them.
    fn place_items(
        &mut self,
        i: usize,
        o: &OutputSection,
        start: u64,
        dot: &mut u64,
        st: &mut WalkState<'_>,
    ) -> Result<()> {
        let mut cursor = 0usize;
        for (k, item) in o.items.iter().enumerate() {
            match item {
                Item::Input(_) => self.place_pieces(i, start, dot, &mut cursor, Some(k))?,
                Item::Assign(a) => self.assign_symbol(a, dot, Some(start), st)?,
                Item::Assert(a) => {
                    if self.eval_at(&a.expr, *dot, st, &a.at)? == 0 {
                        return err(Diagnostic::error(a.message.clone()).file(a.at.clone()));
                    }
                }
                Item::Data { size, expr, at } => {
                    // Its piece (item `k`) is placed with what comes before it.
                    self.place_pieces(i, start, dot, &mut cursor, Some(k))?;
                    let v = self.eval_at(expr, *dot, st, at)?;
                    self.fill_data(i, k, &v.to_le_bytes()[..usize::from(*size)]);
                }
            }
        }
        self.place_pieces(i, start, dot, &mut cursor, None)
    }

    /// The bytes of the data command that is item `k` of output section `i`'s command.
    fn fill_data(&mut self, i: usize, k: usize, bytes: &[u8]) {
        let blob = self.sections[i].pieces.iter().find_map(|p| match p.src {
            PieceSrc::Data(b) if usize::from(p.rule) == k => Some(b as usize),
            _ => None,
        });
        if let Some(b) = blob.and_then(|b| self.blobs.get_mut(b)) {
            b.0 = bytes.to_vec();
        }
    }

    /// The pieces of section `i` from `cursor` whose description is item `upto` or earlier
    /// (all that are left with None), from the location counter on.
    fn place_pieces(
        &mut self,
        i: usize,
        start: u64,
        dot: &mut u64,
        cursor: &mut usize,
        upto: Option<usize>,
    ) -> Result<()> {
        let s = &mut self.sections[i];
        while let Some(p) = s.pieces.get_mut(*cursor) {
            if upto.is_some_and(|k| usize::from(p.rule) > k) {
                break;
            }
            let at = align_to(*dot, p.align)
                .map_err(|m| Diagnostic::error(format!("{m} placing section {}", s.name)))?;
            p.offset = at - start;
            *dot = at.checked_add(p.size).ok_or_else(|| {
                Diagnostic::error(format!("section {} ends past the address space", s.name))
            })?;
            *cursor += 1;
        }
        Ok(())
    }

    /// A symbol or location-counter assignment; `section`: the start of the output section it
    /// stands in (a constant assigned to `.` there is an offset from it).
    fn assign_symbol(
        &mut self,
        a: &Assign,
        dot: &mut u64,
        section: Option<u64>,
        st: &mut WalkState<'_>,
    ) -> Result<()> {
        let mut v = self.eval_at(&a.expr, *dot, st, &a.at)?;
        if let (None, Some(start), None) = (&a.target, section, a.op) {
            if !a.expr.uses_dot() {
                v = start.checked_add(v).ok_or_else(|| {
                    Diagnostic::error("the location counter overflows 64 bits").file(a.at.clone())
                })?;
            }
        }
        let old = match &a.target {
            None => *dot,
            Some(n) => st.symbols.get(n).copied().unwrap_or(0),
        };
        if let Some(op) = a.op {
            let e = Expr::Binary(op, Box::new(Expr::Num(old)), Box::new(Expr::Num(v)));
            v = self.eval_at(&e, *dot, st, &a.at)?;
        }
        match &a.target {
            None => {
                // Inside a section, what is placed stays placed.
                if section.is_some() && v < *dot {
                    return err(Diagnostic::error(format!(
                        "the location counter cannot move backward (from {:#x} to {v:#x})",
                        *dot
                    ))
                    .file(a.at.clone()));
                }
                *dot = v;
            }
            Some(n) => {
                st.symbols.insert(n.clone(), v);
            }
        }
        Ok(())
    }
}

/// Each name `DEFINED(...)` asks about that the link defines.
pub fn defined_names(rules: &Rules, res: &Resolved<'_>) -> FxHashSet<String> {
    rules
        .defined_queries()
        .into_iter()
        .filter(|n| {
            res.lookup(n.as_bytes())
                .is_some_and(|g| res.global(g).def != Def::Undefined)
        })
        .collect()
}
