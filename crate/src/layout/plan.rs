//! The plan step: which output section each input section goes to, in which order.

use super::eh_frame::{eh_split_mapped, EhPending, EhSplit};
use super::*;
use crate::input::{Object, Section};

/// The output section an input section goes to, by name, as GNU ld's default script maps it.
/// Returns (name, class, rank); None means "not copied".
fn map_input(
    name: &[u8],
    sh_type: u32,
    flags: u64,
    is_crt_ctors: bool,
) -> Option<(Cow<'static, str>, Class, u32)> {
    let n = name;
    let has = |p: &[u8]| n == p || (n.starts_with(p) && n.get(p.len()) == Some(&b'.'));
    let alloc = flags & u64::from(elf::SHF_ALLOC) != 0;
    let write = flags & u64::from(elf::SHF_WRITE) != 0;
    let exec = flags & u64::from(elf::SHF_EXECINSTR) != 0;
    let tls = flags & u64::from(elf::SHF_TLS) != 0;
    if n == b".note.GNU-stack"
        || n.starts_with(b".gnu.warning")
        || n == b".llvm_addrsig"
        || n.starts_with(b".gnu.lto_")
        || flags & 0x8000_0000 != 0
    {
        return None;
    }
    // Borrowed names: this runs once per distinct kind of input section, but allocating for the
    // known names would still be waste.
    let s = |x: &'static str| Some(Cow::Borrowed(x));
    let own = |n: &[u8]| Some(Cow::Owned(name_str(n)));
    let (out, class, rank) = if has(b".text") || n.starts_with(b".gnu.linkonce.t.") {
        (s(".text"), Class::Exec, 30)
    } else if n == b".init" {
        (s(".init"), Class::Exec, 10)
    } else if n == b".fini" {
        (s(".fini"), Class::Exec, 40)
    } else if has(b".rodata") || n.starts_with(b".gnu.linkonce.r.") {
        (s(".rodata"), Class::Rodata, 10)
    } else if n == b".eh_frame" {
        (s(".eh_frame"), Class::Rodata, 30)
    } else if has(b".gcc_except_table") {
        (s(".gcc_except_table"), Class::Rodata, 40)
    } else if has(b".tdata") || n.starts_with(b".gnu.linkonce.td.") {
        (s(".tdata"), Class::Rw, 10)
    } else if has(b".tbss") || n.starts_with(b".gnu.linkonce.tb.") {
        (s(".tbss"), Class::Rw, 11)
    } else if n == b".preinit_array" {
        (s(".preinit_array"), Class::Rw, 20)
    } else if has(b".init_array") {
        (s(".init_array"), Class::Rw, 21)
    } else if has(b".fini_array") {
        (s(".fini_array"), Class::Rw, 22)
    } else if has(b".ctors") {
        if is_crt_ctors {
            (s(".ctors"), Class::Rw, 23)
        } else {
            (s(".init_array"), Class::Rw, 21)
        }
    } else if has(b".dtors") {
        if is_crt_ctors {
            (s(".dtors"), Class::Rw, 24)
        } else {
            (s(".fini_array"), Class::Rw, 22)
        }
    } else if has(b".data.rel.ro") {
        (s(".data.rel.ro"), Class::Rw, 30)
    } else if has(b".data") || n.starts_with(b".gnu.linkonce.d.") {
        (s(".data"), Class::Rw, 50)
    } else if has(b".bss") || n.starts_with(b".gnu.linkonce.b.") {
        (s(".bss"), Class::Rw, 60)
    } else if !alloc {
        let rank = if n == b".comment" { 10 } else { 20 };
        (own(n), Class::NonAlloc, rank)
    } else if sh_type == elf::SHT_NOTE {
        (own(n), Class::Headers, 13)
    } else if tls {
        let nobits = sh_type == elf::SHT_NOBITS;
        (
            s(if nobits { ".tbss" } else { ".tdata" }),
            Class::Rw,
            if nobits { 11 } else { 10 },
        )
    } else if exec {
        (own(n), Class::Exec, 35)
    } else if write {
        let nobits = sh_type == elf::SHT_NOBITS;
        (own(n), Class::Rw, if nobits { 65 } else { 55 })
    } else {
        (own(n), Class::Rodata, 15)
    };
    out.map(|o| (o, class, rank))
}

/// Init priority of an input section name: `.init_array.00101` and `.init_array.101` are both 101
/// (sorted as numbers, not names); `.ctors.N` means 65535 - N; no suffix is 65535.
pub fn init_priority(name: &[u8]) -> (u32, bool) {
    let (base, ctors) = if name.starts_with(b".ctors") || name.starts_with(b".dtors") {
        (6usize, true)
    } else if name.starts_with(b".init_array") || name.starts_with(b".fini_array") {
        (11, false)
    } else {
        return (65535, false);
    };
    let suffix = name
        .get(base + 1..)
        .filter(|_| name.get(base) == Some(&b'.'));
    let num = suffix
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse::<u32>().ok());
    match (num, ctors) {
        (Some(n), true) => (65535u32.saturating_sub(n), true),
        (Some(n), false) => (n, false),
        (None, c) => (65535, c),
    }
}

fn is_crt_file(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base.trim_end_matches(')');
    let base = base.rsplit('(').next().unwrap_or(base);
    base.starts_with("crtbegin") || base.starts_with("crtend")
}

/// Decide every output section and its pieces (no addresses yet). With `gc` (`--gc-sections`),
/// only the live input sections are placed.
pub fn plan(res: &mut Resolved<'_>, opts: &Options, gc: Option<Gc>) -> Result<Layout> {
    let mut p = Planner::new(res);
    super::script::Rules::check(opts)?;
    p.rules = super::script::Rules::of(opts);
    p.unique = opts.unique.clone();
    p.open_script_sections();
    p.open_known_sections();
    // `.eh_frame` inputs are split into records (dead FDEs found) per file, natively in parallel
    // and meanwhile: the in-order walk leaves their pieces' sizes and records to fill in.
    let res_ro: &Resolved<'_> = res;
    let g = gc.as_ref();
    let (eh_split, walked) = crate::par::join(
        || split_all_eh_frames(res_ro, g),
        || p.walk(res_ro, opts, g),
    );
    p.finish_eh_frames(res_ro, g, eh_split, walked)?;
    // `-z execstack`/`-z noexecstack` wins; otherwise GNU ld's rule: executable if any input asks,
    // or (historically) if an input has no note at all.
    let asked = p.exec_stack.is_some() || p.missing_note.is_some();
    let exec_stack = opts.execstack.unwrap_or(asked);
    let stack_warning = opts
        .execstack
        .is_none()
        .then(|| execstack_warning(res_ro, opts, p.exec_stack, p.missing_note))
        .flatten();
    let dynamic = matches!(
        opts.kind,
        crate::options::OutputKind::Pie | crate::options::OutputKind::Shared
    ) || res.dsos.iter().any(|d| d.needed);
    p.place_commons(res_ro);
    p.place_init_stub(res_ro, opts);
    if p.rules.is_some() {
        p.sort_script_pieces(res_ro);
        p.rank_script_sections();
    } else {
        p.sort_init_arrays();
    }
    p.size_merged();
    p.provide_linker_symbols(res, dynamic)?;
    let defined = p
        .rules
        .as_ref()
        .map(|r| super::script::defined_names(r, res));
    let mut layout = p.into_layout();
    layout.script_defined = defined.unwrap_or_default();
    layout.exec_stack = exec_stack;
    layout.warnings.extend(stack_warning);
    layout.stack_size = opts.stack_size;
    layout.defsym = res.defsym.clone();
    layout.relro = opts.relro;
    layout.dynamic = dynamic;
    layout.placement = Placement::of(opts);
    layout.gc = gc;
    if opts.emit_relocs {
        layout.add_emitted_relocs(res);
    }
    Ok(layout)
}

/// The plan's state while it walks the inputs. Output sections are numbered in the order they
/// are first met until [`Planner::into_layout`] sorts them.
struct Planner<'a> {
    sections: Vec<OutSec>,
    by_name: FxHashMap<String, u32>,
    /// `[file][section]`: `Place::Piece`, `EhPiece` or `Merged` (`assign` gives offsets).
    places: Vec<Vec<Place>>,
    merges: Vec<MergeGroup>,
    /// (output section, entry size, alignment, strings) -> merge group.
    merge_keys: FxHashMap<(u32, u64, u64, u64), u32>,
    /// Per merge group: each distinct entry's offset in its data.
    merge_dedup: Vec<FxHashMap<&'a [u8], u64>>,
    maps: Vec<SplitMap>,
    eh: Vec<EhInput>,
    eh_pending: Vec<EhPending>,
    commons: Vec<Common>,
    /// The first object whose `.note.GNU-stack` asks for an executable stack, and the first
    /// without the note (which implies one).
    exec_stack: Option<FileId>,
    missing_note: Option<FileId>,
    input_bytes: u64,
    /// Merged data is bounded, like the output file (write.rs), in proportion to the input.
    merge_cap: u64,
    /// A linker script's `SECTIONS`: the input section descriptions route the inputs.
    rules: Option<super::script::Rules>,
    /// The script's data commands' bytes (`PieceSrc::Data`), zero until `assign`.
    blobs: Vec<(Vec<u8>, u64)>,
    /// The description that took the input being placed (its pieces' `rule`).
    rule: u16,
    /// `--unique=PATTERN`s: an input section whose name matches one keeps its name as its
    /// output section's.
    unique: Vec<String>,
}

/// GNU ld's warning when the inputs make the stack executable (`--no-warn-execstack` silences
/// it; `-z execstack`/`-z noexecstack` decide without one): the first object asking, else the
/// first without a `.note.GNU-stack`.
fn execstack_warning(
    res: &Resolved<'_>,
    opts: &Options,
    asking: Option<FileId>,
    missing: Option<FileId>,
) -> Option<Diagnostic> {
    if !opts.warn_execstack {
        return None;
    }
    let name = |f: FileId| res.files[f.0 as usize].obj.name.clone();
    if let Some(f) = asking {
        let msg = "requires executable stack (because the .note.GNU-stack section is executable)";
        return Some(Diagnostic::warning(msg).file(name(f)));
    }
    let f = missing?;
    let msg = "missing .note.GNU-stack section implies executable stack";
    let note =
        "NOTE: This behaviour is deprecated and will be removed in a future version of the linker";
    Some(Diagnostic::warning(msg).file(name(f)).note(note))
}

const KEEP_FLAGS: u64 =
    (elf::SHF_WRITE | elf::SHF_EXECINSTR | elf::SHF_ALLOC | elf::SHF_TLS) as u64;
const WA: u64 = (elf::SHF_WRITE | elf::SHF_ALLOC) as u64;

impl<'a> Planner<'a> {
    fn new(res: &Resolved<'a>) -> Self {
        let input_bytes: u64 = res.files.iter().map(|f| f.obj.data.len() as u64).sum();
        Planner {
            sections: Vec::new(),
            by_name: FxHashMap::default(),
            places: Vec::with_capacity(res.files.len()),
            merges: Vec::new(),
            merge_keys: FxHashMap::default(),
            merge_dedup: Vec::new(),
            maps: Vec::new(),
            eh: Vec::new(),
            eh_pending: Vec::new(),
            commons: Vec::new(),
            exec_stack: None,
            missing_note: None,
            input_bytes,
            merge_cap: input_bytes.saturating_mul(16).saturating_add(64 << 20),
            rules: None,
            blobs: Vec::new(),
            rule: 0,
            unique: Vec::new(),
        }
    }

    /// The output section `name`, made on first use with the given order and type; an input
    /// with file data makes a NOBITS section PROGBITS, and inputs add their flags.
    fn get_out(
        &mut self,
        name: Cow<'_, str>,
        class: Class,
        rank: u32,
        sh_type: u32,
        flags: u64,
    ) -> u32 {
        if let Some(&i) = self.by_name.get(name.as_ref()) {
            let s = &mut self.sections[i as usize];
            if s.sh_type == elf::SHT_NOBITS && sh_type != elf::SHT_NOBITS {
                s.sh_type = elf::SHT_PROGBITS;
            }
            s.flags |= flags & KEEP_FLAGS;
            return i;
        }
        let id = OutId::by_name(name.as_bytes());
        // The arrays' types are the output's whatever their inputs' (`.ctors` is PROGBITS).
        let out_type = match id {
            Some(k @ (OutId::InitArray | OutId::FiniArray | OutId::PreinitArray)) => {
                k.row().sh_type
            }
            _ => sh_type,
        };
        let i = self.sections.len() as u32;
        let name = name.into_owned();
        self.sections.push(OutSec {
            id,
            name: name.clone(),
            sh_type: out_type,
            flags: flags & KEEP_FLAGS,
            align: 1,
            class,
            rank,
            pieces: Vec::new(),
            size: 0,
            addr: 0,
            offset: 0,
            shndx: 0,
        });
        self.by_name.insert(name, i);
        i
    }

    /// Known section `id`, made from its row if need be.
    fn get_known(&mut self, id: OutId) -> u32 {
        let r = id.row();
        self.get_out(
            r.name.into(),
            r.class,
            r.rank,
            r.sh_type,
            u64::from(r.flags),
        )
    }

    /// The init/fini arrays always exist (possibly empty) so their start/end symbols have a
    /// home; `.text` opens with the linker's stubs (the synthesized `_start`, registration stubs).
    fn open_known_sections(&mut self) {
        for id in [OutId::PreinitArray, OutId::InitArray, OutId::FiniArray] {
            let r = id.row();
            self.get_out(r.name.into(), r.class, r.rank, r.sh_type, WA);
        }
        let text = self.get_known(OutId::Text);
        self.sections[text as usize].pieces.push(Piece {
            src: PieceSrc::Synthetic(Synthetic::Stubs),
            offset: 0,
            size: 0,
            align: 16,
            priority: 0,
            from_ctors: false,
            rule: 0,
        });
    }

    /// Walk every kept input section in command-line order and place it.
    fn walk(&mut self, res: &Resolved<'a>, opts: &Options, gc: Option<&Gc>) -> Result<()> {
        let mut routes: FxHashMap<RouteKey<'_>, Option<(u32, u16)>> = FxHashMap::default();
        let by_file = self.rules.as_ref().is_some_and(|r| r.by_file);
        for (fi, file) in res.files.iter().enumerate() {
            // A script that names files routes each file's sections on their own.
            if by_file {
                routes.clear();
            }
            let fid = FileId(fi as u32);
            let obj = &file.obj;
            let crt = is_crt_file(&obj.name);
            let mut fplaces = vec![Place::Dropped; obj.sections.len()];
            let mut gnu_stack = None;
            for (si, sec) in obj.sections.iter().enumerate() {
                // The first `.note.GNU-stack` says whether the object wants an executable stack.
                if gnu_stack.is_none() && sec.name == b".note.GNU-stack" {
                    gnu_stack = Some(sec.flags & u64::from(elf::SHF_EXECINSTR) != 0);
                }
                if file.discarded[si]
                    || !copied(sec, opts)
                    || gc.is_some_and(|g| !g.live(fid, si as u32))
                {
                    continue;
                }
                // Routing depends on nothing else, and get_out's updates are idempotent: the
                // input sections of a link share a few dozen keys.
                let key = (sec.name, sec.sh_type, sec.flags, crt);
                let out = match routes.get(&key) {
                    Some(&out) => out,
                    None => {
                        let out = self.route(obj, sec, crt)?;
                        routes.insert(key, out);
                        out
                    }
                };
                if let Some((out, rule)) = out {
                    self.rule = rule;
                    fplaces[si] = self.place(res, fid, si as u32, out, crt)?;
                }
            }
            let first = match gnu_stack {
                Some(true) => &mut self.exec_stack,
                Some(false) => &mut None,
                None => &mut self.missing_note,
            };
            first.get_or_insert(fid);
            self.places.push(fplaces);
        }
        Ok(())
    }

    /// The output section an input section goes to, and the script's description that took it
    /// (None: not copied).
    fn route(
        &mut self,
        obj: &Object<'_>,
        sec: &Section<'_>,
        crt: bool,
    ) -> Result<Option<(u32, u16)>> {
        // The inputs' property notes are merged into the linker's own (`crate::property`).
        if sec.name == b".note.gnu.property" {
            return Ok(None);
        }
        if OutId::by_name(sec.name).is_some_and(|id| id.row().linker_only) {
            return err(Diagnostic::error(format!(
                "input section {} is one the linker makes; an object cannot provide it",
                sec.name_str()
            ))
            .file(obj.name.clone())
            .section(sec.name_str()));
        }
        let Some((oname, class, rank)) = map_input(sec.name, sec.sh_type, sec.flags, crt) else {
            return Ok(None);
        };
        if let Some(rules) = &self.rules {
            use super::script::Route;
            match rules.route(&obj.name, &sec.name_str()) {
                Route::Discard => return Ok(None),
                Route::To { cmd, rule, .. } => {
                    let name = rules.output(cmd).name.clone();
                    let out = self.get_out(name.into(), class, rank, sec.sh_type, sec.flags);
                    return Ok(Some((out, rule)));
                }
                Route::Orphan => {}
            }
        }
        let own = || name_str(sec.name);
        let unique = (self.unique.iter()).any(|p| crate::version_script::glob_match(p, &own()));
        let oname = if unique { Cow::Owned(own()) } else { oname };
        let out = self.get_out(oname, class, rank, sec.sh_type, sec.flags);
        Ok(Some((out, 0)))
    }

    /// Add input section `si` of `fid` to output section `out`: merged, split into `.eh_frame`
    /// records, or whole.
    fn place(
        &mut self,
        res: &Resolved<'a>,
        fid: FileId,
        si: u32,
        out: u32,
        crt: bool,
    ) -> Result<Place> {
        let obj = &res.files[fid.0 as usize].obj;
        let sec = &obj.sections[si as usize];
        let (priority, from_ctors) = init_priority(sec.name);
        let from_ctors = from_ctors && !crt;
        let osec = &mut self.sections[out as usize];
        osec.align = osec.align.max(sec.align);
        // A compressed input is uncompressed only as it is written: it is placed whole.
        let merge = sec.flags & u64::from(elf::SHF_MERGE) != 0
            && !sec.compressed
            && sec.relocs.is_empty()
            && sec.entsize > 0
            && sec.size.is_multiple_of(sec.entsize)
            && sec.sh_type == elf::SHT_PROGBITS;
        if merge {
            return self.place_merged(obj, sec, out);
        }
        if sec.name == b".eh_frame" && sec.sh_type == elf::SHT_PROGBITS {
            return Ok(self.place_eh_frame(fid, si, sec, out));
        }
        if from_ctors && !sec.size.is_multiple_of(8) {
            return err(
                Diagnostic::error("a .ctors/.dtors section's size is not a multiple of 8")
                    .file(obj.name.clone())
                    .section(sec.name_str()),
            );
        }
        let osec = &mut self.sections[out as usize];
        let place = Place::Piece {
            out,
            piece: osec.pieces.len() as u32,
        };
        osec.pieces.push(Piece {
            src: PieceSrc::Input { file: fid, sec: si },
            offset: 0,
            size: sec.size,
            align: sec.align,
            priority,
            from_ctors,
            rule: self.rule,
        });
        Ok(place)
    }

    /// A mergeable input: its entries are added to its merge group (each distinct entry once)
    /// and its offsets map to theirs.
    fn place_merged(&mut self, obj: &Object<'a>, sec: &Section<'a>, out: u32) -> Result<Place> {
        let strings = sec.flags & u64::from(elf::SHF_STRINGS) != 0;
        let key = (out, sec.entsize, sec.align, u64::from(strings));
        let g = match self.merge_keys.get(&key) {
            Some(&g) => g,
            None => {
                let g = self.merges.len() as u32;
                self.merges.push(MergeGroup {
                    out,
                    data: Vec::new(),
                    entsize: sec.entsize,
                    strings,
                });
                self.merge_dedup.push(FxHashMap::default());
                self.sections[out as usize].pieces.push(Piece {
                    src: PieceSrc::Merged(g),
                    offset: 0,
                    size: 0,
                    align: sec.align,
                    priority: 65535,
                    from_ctors: false,
                    rule: self.rule,
                });
                self.merge_keys.insert(key, g);
                g
            }
        };
        let mut map = SplitMap {
            in_size: sec.size,
            ..Default::default()
        };
        let group = &mut self.merges[g as usize];
        let dedup = &mut self.merge_dedup[g as usize];
        let mut off = 0usize;
        let data: &'a [u8] = sec.data;
        while off < data.len() {
            let end = entry_end(data, off, sec.entsize as usize, strings);
            let item = &data[off..end];
            let o = match dedup.get(item) {
                Some(&o) => o,
                None => {
                    let pad =
                        align_up(group.data.len() as u64, sec.align) as usize - group.data.len();
                    // Each entry is padded to the section's alignment: a huge alignment on many
                    // small entries asks for gigabytes. Bounded like the output.
                    let need = (group.data.len() + pad + item.len()) as u64;
                    if need > self.merge_cap {
                        return Err(Diagnostic::error(format!(
                            "mergeable section with alignment {} and {}-byte entries would make {need} bytes of merged data from {} bytes of input: refusing",
                            sec.align, sec.entsize, self.input_bytes
                        ))
                        .file(obj.name.clone())
                        .section(sec.name_str())
                        .offset(off as u64)
                        .into());
                    }
                    group.data.extend(std::iter::repeat_n(0, pad));
                    let o = group.data.len() as u64;
                    group.data.extend_from_slice(item);
                    dedup.insert(item, o);
                    o
                }
            };
            map.starts.push(off as u64);
            map.outs.push(o);
            off = end;
        }
        self.maps.push(map);
        Ok(Place::Merged {
            out,
            group: g,
            map: self.maps.len() as u32 - 1,
        })
    }

    /// An `.eh_frame` input: a piece whose records, map and size come from its split, once that
    /// is done ([`Planner::finish_eh_frames`]).
    fn place_eh_frame(&mut self, fid: FileId, si: u32, sec: &Section<'_>, out: u32) -> Place {
        self.maps.push(SplitMap::default());
        self.eh.push(EhInput {
            file: fid,
            sec: si,
            records: Vec::new(),
        });
        let osec = &mut self.sections[out as usize];
        let piece = osec.pieces.len();
        self.eh_pending.push(EhPending {
            file: fid.0 as usize,
            sec: si,
            out,
            piece,
            map: self.maps.len() - 1,
        });
        osec.pieces.push(Piece {
            src: PieceSrc::EhFrame {
                file: fid,
                sec: si,
                eh: self.eh.len() as u32 - 1,
            },
            offset: 0,
            size: 0,
            // Records need 4-byte alignment only; padding to 8 would put a zero word (an end
            // marker to the unwinder's linear walk) between two inputs.
            align: sec.align.min(4),
            priority: 65535,
            from_ctors: false,
            rule: self.rule,
        });
        Place::EhPiece {
            out,
            piece: piece as u32,
            map: self.maps.len() as u32 - 1,
        }
    }

    /// Take each `.eh_frame` input's split. Errors come in input order, as one walk would have
    /// met them: a split's error before whatever stopped the walk after it.
    fn finish_eh_frames(
        &mut self,
        res: &Resolved<'_>,
        gc: Option<&Gc>,
        mut eh_split: Vec<Vec<(u32, Result<EhSplit>)>>,
        walked: Result<()>,
    ) -> Result<()> {
        let mut splits = Vec::with_capacity(self.eh_pending.len());
        for p in &self.eh_pending {
            let split = &mut eh_split[p.file];
            splits.push(match split.iter().position(|x| x.0 == p.sec) {
                Some(k) => split.swap_remove(k).1?,
                None => eh_split_mapped(res, gc, FileId(p.file as u32), p.sec)?,
            });
        }
        walked?;
        // The walk pushed one `eh` entry per pending split, in the same order.
        for ((p, (records, map)), e) in self.eh_pending.iter().zip(splits).zip(self.eh.iter_mut()) {
            self.sections[p.out as usize].pieces[p.piece].size = map.out_size;
            self.maps[p.map] = map;
            e.records = records;
        }
        Ok(())
    }

    /// Common symbols go at the end of `.bss`, in symbol order (deterministic).
    fn place_commons(&mut self, res: &Resolved<'_>) {
        if !res
            .globals
            .iter()
            .any(|g| matches!(g.def, Def::Common { .. }))
        {
            return;
        }
        let (bss, rule) = self.commons_home();
        for (i, g) in res.globals.iter().enumerate() {
            if let Def::Common { .. } = g.def {
                let (size, align) = res.common(SymbolId(i as u32));
                let s = &mut self.sections[bss as usize];
                s.align = s.align.max(align);
                self.commons.push(Common {
                    sym: SymbolId(i as u32),
                    out: bss,
                    piece: s.pieces.len() as u32,
                    off: 0,
                });
                s.pieces.push(Piece {
                    src: PieceSrc::Common(SymbolId(i as u32)),
                    offset: 0,
                    size,
                    align,
                    priority: 65535,
                    from_ctors: false,
                    rule,
                });
            }
        }
    }

    /// `--init-stub`: a slot first in `.init_array` (priority 0 sorts before every input) and,
    /// unless DATA names a definition, the module description in `.data`.
    fn place_init_stub(&mut self, res: &Resolved<'_>, opts: &Options) {
        let Some(d) = init_stub_decision(res, opts) else {
            return;
        };
        let init = self.get_known(OutId::InitArray) as usize;
        self.sections[init].align = self.sections[init].align.max(8);
        self.sections[init].pieces.push(Piece {
            src: PieceSrc::Synthetic(Synthetic::InitStubSlot),
            offset: 0,
            size: 8,
            align: 8,
            priority: 0,
            from_ctors: false,
            rule: 0,
        });
        if d.data.is_none() {
            let data = self.get_known(OutId::Data);
            let s = &mut self.sections[data as usize];
            s.align = s.align.max(8);
            s.pieces.push(Piece {
                src: PieceSrc::Synthetic(Synthetic::ModuleData),
                offset: 0,
                size: MODULE_DATA_SIZE + opts.output.len() as u64 + 1,
                align: 8,
                priority: 65535,
                from_ctors: false,
                rule: 0,
            });
        }
    }

    /// Under a script, its output sections in its order, made up front so that the linker's
    /// pieces find them in `assign` (an unknown one is NOBITS until an input brings bytes).
    fn open_script_sections(&mut self) {
        let Some(rules) = self.rules.take() else {
            return;
        };
        for (ci, c) in rules.script.commands.iter().enumerate() {
            let crate::linker_script::Command::Output(o) = c else {
                continue;
            };
            if o.is_discard() {
                continue;
            }
            if !self.by_name.contains_key(&o.name) {
                let rank = script_rank(ci as u32);
                let (class, sh_type, flags) = match OutId::by_name(o.name.as_bytes()) {
                    Some(id) => (id.row().class, id.row().sh_type, u64::from(id.row().flags)),
                    None => (Class::Rodata, elf::SHT_NOBITS, 0),
                };
                self.get_out(o.name.clone().into(), class, rank, sh_type, flags);
            }
            self.add_script_data(o);
        }
        self.rules = Some(rules);
    }

    /// Output command `o`'s data commands, each a piece of its section (ordered by its item like
    /// the input sections), whose bytes `assign` fills in. Data makes the section loaded, with
    /// contents, as GNU ld makes it.
    fn add_script_data(&mut self, o: &crate::linker_script::OutputSection) {
        let Some(&i) = self.by_name.get(&o.name) else {
            return;
        };
        for (k, item) in o.items.iter().enumerate() {
            let crate::linker_script::Item::Data { size, .. } = item else {
                continue;
            };
            let b = self.blobs.len() as u32;
            self.blobs.push((vec![0; usize::from(*size)], 0));
            let s = &mut self.sections[i as usize];
            if s.sh_type == elf::SHT_NOBITS {
                s.sh_type = elf::SHT_PROGBITS;
            }
            s.flags |= u64::from(elf::SHF_ALLOC);
            s.pieces.push(Piece {
                src: PieceSrc::Data(b),
                offset: 0,
                size: u64::from(*size),
                align: 1,
                priority: 0,
                from_ctors: false,
                rule: k as u16,
            });
        }
    }

    /// Where common symbols go: the script's `COMMON` description, else `.bss`.
    fn commons_home(&mut self) -> (u32, u16) {
        if let Some(rules) = &self.rules {
            if let super::script::Route::To { cmd, rule, .. } = rules.route("", "COMMON") {
                let name = rules.output(cmd).name.clone();
                let r = OutId::Bss.row();
                let out = self.get_out(name.into(), r.class, r.rank, r.sh_type, WA);
                return (out, rule);
            }
        }
        (self.get_known(OutId::Bss), 0)
    }

    /// Under a script: each section's pieces in the order of the descriptions that took them,
    /// sorted within one as it asks (`SORT_BY_NAME`, `SORT_BY_ALIGNMENT`,
    /// `SORT_BY_INIT_PRIORITY`), and the places renumbered.
    fn sort_script_pieces(&mut self, res: &Resolved<'_>) {
        use crate::linker_script::Sort;
        let Some(rules) = self.rules.take() else {
            return;
        };
        let name_of = |p: &Piece| match p.src {
            PieceSrc::Input { file, sec } | PieceSrc::EhFrame { file, sec, .. } => {
                res.files[file.0 as usize].obj.sections[sec as usize].name
            }
            _ => &b""[..],
        };
        for out in 0..self.sections.len() {
            let s = &self.sections[out];
            let Some(cmd) = rules.command_of(&s.name, s.flags) else {
                continue;
            };
            let pieces = &s.pieces;
            let mut order: Vec<usize> = (0..pieces.len()).collect();
            order.sort_by(|&a, &b| {
                let (pa, pb) = (&pieces[a], &pieces[b]);
                pa.rule
                    .cmp(&pb.rule)
                    .then_with(|| match rules.sort(cmd, pa.rule) {
                        Sort::None => std::cmp::Ordering::Equal,
                        Sort::Name => name_of(pa).cmp(name_of(pb)),
                        Sort::Alignment => pb.align.cmp(&pa.align),
                        Sort::InitPriority => pa.priority.cmp(&pb.priority),
                    })
            });
            self.reorder(out as u32, &order);
        }
        self.rules = Some(rules);
    }

    /// Put section `out`'s pieces in `order` (old indices) and fix what points at them.
    fn reorder(&mut self, out: u32, order: &[usize]) {
        let pieces = &mut self.sections[out as usize].pieces;
        let mut new_index = vec![0u32; pieces.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u32;
        }
        *pieces = order.iter().map(|&i| pieces[i].clone()).collect();
        for p in pieces.iter() {
            let (file, sec) = match p.src {
                PieceSrc::Input { file, sec } | PieceSrc::EhFrame { file, sec, .. } => (file, sec),
                _ => continue,
            };
            let place = self
                .places
                .get_mut(file.0 as usize)
                .and_then(|fp| fp.get_mut(sec as usize));
            if let Some(Place::Piece { out: o, piece } | Place::EhPiece { out: o, piece, .. }) =
                place
            {
                if *o == out {
                    *piece = new_index.get(*piece as usize).copied().unwrap_or(0);
                }
            }
        }
        for c in self.commons.iter_mut().filter(|c| c.out == out) {
            c.piece = new_index.get(c.piece as usize).copied().unwrap_or(0);
        }
    }

    /// Under a script: a named section's class from its flags and its rank from its command;
    /// an orphan ranks right after the last named section of its class (GNU ld places an
    /// orphan after the output section of like flags), else after every loaded one.
    fn rank_script_sections(&mut self) {
        let Some(rules) = self.rules.take() else {
            return;
        };
        let mut named = vec![false; self.sections.len()];
        for (i, s) in self.sections.iter_mut().enumerate() {
            let Some(cmd) = rules.command_of(&s.name, s.flags) else {
                continue;
            };
            named[i] = true;
            s.rank = script_rank(cmd);
            let f = s.flags;
            s.class = if f & u64::from(elf::SHF_ALLOC) == 0 && !s.pieces.is_empty() {
                Class::NonAlloc
            } else if let Some(id) = s.id {
                id.row().class
            } else if f & u64::from(elf::SHF_EXECINSTR) != 0 {
                Class::Exec
            } else if f & u64::from(elf::SHF_WRITE) != 0 {
                Class::Rw
            } else {
                Class::Rodata
            };
        }
        // The last named section of class `c` (of any loaded class with None) holding file
        // bytes or not as `nobits` says (either, if none does).
        let last_of = |c: Option<Class>, nobits: bool, sections: &[OutSec]| {
            let of = |same: bool| {
                (0..sections.len())
                    .filter(|&i| named[i])
                    .filter(|&i| !sections[i].pieces.is_empty() || sections[i].id.is_some())
                    .filter(|&i| c.is_none_or(|c| sections[i].class == c))
                    .filter(|&i| c.is_some() || sections[i].class != Class::NonAlloc)
                    .filter(|&i| !same || sections[i].is_nobits() == nobits)
                    .map(|i| sections[i].rank)
                    .max()
            };
            of(true).or_else(|| of(false))
        };
        let end = script_rank(rules.script.commands.len() as u32);
        for i in 0..self.sections.len() {
            if named[i] {
                continue;
            }
            let (c, nobits) = (self.sections[i].class, self.sections[i].is_nobits());
            // Notes follow the named notes, so that they stay one run (one `PT_NOTE`).
            let note = |j: usize| named[j] && self.sections[j].sh_type == elf::SHT_NOTE;
            let last_note = (0..self.sections.len())
                .filter(|&j| note(j))
                .map(|j| self.sections[j].rank)
                .max();
            let after = match c {
                Class::NonAlloc => Some(end),
                _ if self.sections[i].sh_type == elf::SHT_NOTE && last_note.is_some() => last_note,
                _ => last_of(Some(c), nobits, &self.sections)
                    .or_else(|| last_of(None, nobits, &self.sections)),
            };
            self.sections[i].rank = after.unwrap_or(end) + 1;
        }
        self.rules = Some(rules);
    }

    /// Sort init/fini array pieces by priority (stable: ties keep input order). Pieces are then
    /// re-indexed, so the piece indices stored in `places` are fixed.
    fn sort_init_arrays(&mut self) {
        for id in [OutId::InitArray, OutId::FiniArray, OutId::PreinitArray] {
            let out = self.get_known(id);
            let pieces = &mut self.sections[out as usize].pieces;
            let mut order: Vec<usize> = (0..pieces.len()).collect();
            order.sort_by_key(|&i| pieces[i].priority);
            let mut new_index = vec![0usize; pieces.len()];
            for (new, &old) in order.iter().enumerate() {
                new_index[old] = new;
            }
            *pieces = order.iter().map(|&i| pieces[i].clone()).collect();
            // Only the pieces' own places point here: reach them through the pieces, not by
            // visiting every place.
            for p in pieces.iter() {
                if let PieceSrc::Input { file, sec } = p.src {
                    let place = self
                        .places
                        .get_mut(file.0 as usize)
                        .and_then(|fp| fp.get_mut(sec as usize));
                    if let Some(Place::Piece { out: o, piece }) = place {
                        if *o == out {
                            *piece = new_index.get(*piece as usize).copied().unwrap_or(0) as u32;
                        }
                    }
                }
            }
        }
    }

    /// Merged sizes are known once every input is walked.
    fn size_merged(&mut self) {
        for s in self.sections.iter_mut() {
            for p in s.pieces.iter_mut() {
                if let PieceSrc::Merged(g) = p.src {
                    p.size = self.merges[g as usize].data.len() as u64;
                }
            }
        }
    }

    /// Linker-provided symbols that inputs reference but do not define (natively in parallel:
    /// every global is visited), and the checks that each `--require-defined` symbol is defined
    /// and each `--defsym` alias names a definition.
    fn provide_linker_symbols(&self, res: &mut Resolved<'_>, dynamic: bool) -> Result<()> {
        let provide = |g: &mut crate::resolve::Global<'_>| {
            if g.def == Def::Undefined && is_linker_symbol(g.name, &self.by_name, dynamic) {
                g.def = Def::Linker;
            }
        };
        crate::par::for_each_mut(&mut res.globals, 8192, provide);
        for (name, value) in &res.defsym {
            if let crate::options::Defsym::Symbol(t) = value {
                let known = res
                    .lookup(t.as_bytes())
                    .is_some_and(|g| res.global(g).def != Def::Undefined);
                if !known {
                    return Err(Diagnostic::error(format!(
                        "undefined symbol: {t} (in --defsym {name}={t})"
                    ))
                    .symbol(t.clone())
                    .into());
                }
            }
        }
        Ok(())
    }

    /// Sort the sections by (class, rank), stable in first-appearance order, and renumber what
    /// points at them.
    fn into_layout(self) -> Layout {
        let Planner {
            sections,
            mut places,
            mut merges,
            mut commons,
            maps,
            eh,
            rules,
            blobs,
            ..
        } = self;
        let kept_fdes = |e: &EhInput| {
            e.records
                .iter()
                .filter(|r| matches!(r.kind(), EhKind::Fde { .. }) && r.out_off().is_some())
                .count()
        };
        // Natively in parallel: every record of every input is counted.
        let fde_count = crate::par::sum(&eh, kept_fdes);
        let mut order: Vec<usize> = (0..sections.len()).collect();
        if rules.is_some() {
            // A script orders the loaded sections; the others follow.
            order.sort_by_key(|&i| (sections[i].class == Class::NonAlloc, sections[i].rank));
        } else {
            order.sort_by_key(|&i| (sections[i].class, sections[i].rank));
        }
        let mut remap = vec![0u32; sections.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old] = new as u32;
        }
        // Moved, not cloned: a clone would copy every piece list.
        let mut slots: Vec<Option<OutSec>> = sections.into_iter().map(Some).collect();
        let mut sorted: Vec<OutSec> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let renumber = |fp: &mut Vec<Place>| {
            for out in fp.iter_mut().filter_map(Place::out_mut) {
                *out = remap[*out as usize];
            }
        };
        crate::par::for_each_mut(&mut places, 64, renumber);
        for m in merges.iter_mut() {
            m.out = remap[m.out as usize];
        }
        for c in commons.iter_mut() {
            c.out = remap[c.out as usize];
        }
        for s in sorted.iter_mut() {
            s.align = s.align.max(1);
        }
        let mut layout = Layout {
            known: [None; OutId::COUNT],
            sections: sorted,
            places,
            maps,
            merges,
            eh,
            fde_count,
            commons,
            by_name: FxHashMap::default(),
            moved: Vec::new(),
            input_base: Vec::new(),
            file_first: Vec::new(),
            exec_stack: false,
            stack_size: 0,
            warnings: Vec::new(),
            defsym: Vec::new(),
            relro: true,
            base: BASE,
            dynamic: false,
            placement: Placement::of(&Options::default()),
            blobs,
            emitted: Vec::new(),
            et_exec: true,
            gc: None,
            segments: Vec::new(),
            tls: None,
            headers_size: 0,
            alloc_end: 0,
            file_end: 0,
            script: rules,
            script_defined: Default::default(),
            script_symbols: FxHashMap::default(),
            lmas: Vec::new(),
            headers_loaded: true,
        };
        layout.index_names();
        layout
    }
}

/// What routing an input section depends on: its name, type and flags, and whether it comes
/// from a crtbegin/crtend file.
type RouteKey<'s> = (&'s [u8], u32, u64, bool);

/// The rank of output command `cmd`'s section (orphans take the ranks between).
fn script_rank(cmd: u32) -> u32 {
    cmd.saturating_add(1).saturating_mul(1000)
}

/// Whether an input section is copied at all: not the object's own tables, and not what
/// `--strip-all`/`--strip-debug` drop.
fn copied(sec: &Section<'_>, opts: &Options) -> bool {
    let table = matches!(
        sec.sh_type,
        elf::SHT_NULL
            | elf::SHT_SYMTAB
            | elf::SHT_STRTAB
            | elf::SHT_RELA
            | elf::SHT_REL
            | elf::SHT_GROUP
            | elf::SHT_SYMTAB_SHNDX
    );
    let stripped = !sec.is_alloc()
        && (opts.strip_all || (opts.strip_debug && sec.name.starts_with(b".debug")));
    !table && !stripped
}

/// The end of the mergeable entry at `off`: a NUL-terminated string (strings end at an all-zero
/// element of `entsize` bytes), or `entsize` bytes.
fn entry_end(data: &[u8], off: usize, entsize: usize, strings: bool) -> usize {
    if strings && entsize == 1 {
        return memchr::memchr(0, &data[off..]).map_or(data.len(), |p| off + p + 1);
    }
    if !strings {
        return off + entsize;
    }
    let mut e = off;
    loop {
        if e + entsize > data.len() {
            return data.len();
        }
        if data[e..e + entsize].iter().all(|&b| b == 0) {
            return e + entsize;
        }
        e += entsize;
    }
}

/// Every kept `.eh_frame` input split into records, per file (natively in parallel).
fn split_all_eh_frames(res: &Resolved<'_>, gc: Option<&Gc>) -> Vec<Vec<(u32, Result<EhSplit>)>> {
    let one = |fi: usize| -> Vec<(u32, Result<EhSplit>)> {
        let file = &res.files[fi];
        (0..file.obj.sections.len())
            .filter(|&si| {
                let sec = &file.obj.sections[si];
                sec.name == b".eh_frame" && sec.sh_type == elf::SHT_PROGBITS && !file.discarded[si]
            })
            .map(|si| {
                (
                    si as u32,
                    eh_split_mapped(res, gc, FileId(fi as u32), si as u32),
                )
            })
            .collect()
    };
    crate::par::map_range(res.files.len(), 1, one)
}

/// Size of `struct initlink_module` (version 1; see docs/module-registration.md). The module's
/// name string follows it.
pub const MODULE_DATA_SIZE: u64 = 88;
pub const MODULE_DATA_VERSION: u32 = 1;

/// What `--init-stub` makes in this link.
pub struct InitStubDecision {
    pub register: SymbolId,
    /// The DATA symbol when the link defines it; None: the synthesized module description.
    pub data: Option<SymbolId>,
}

/// `--init-stub=REGISTER[,DATA]`: None when not asked for, or when REGISTER is defined by this
/// link (this module is the runtime, as in Go: no stub).
pub fn init_stub_decision(res: &Resolved<'_>, opts: &Options) -> Option<InitStubDecision> {
    let st = opts.init_stub.as_ref()?;
    let register = res.lookup(st.register.as_bytes())?;
    if matches!(
        res.global(register).def,
        Def::Defined { .. } | Def::Common { .. }
    ) {
        return None;
    }
    let data = st
        .data
        .as_ref()
        .and_then(|d| res.lookup(d.as_bytes()))
        .filter(|&g| matches!(res.global(g).def, Def::Defined { .. } | Def::Common { .. }));
    Some(InitStubDecision { register, data })
}

const LINKER_SYMBOLS: &[&str] = &[
    "__preinit_array_start",
    "__preinit_array_end",
    "__init_array_start",
    "__init_array_end",
    "__fini_array_start",
    "__fini_array_end",
    "__ehdr_start",
    "__executable_start",
    "_etext",
    "etext",
    "__etext",
    "_edata",
    "edata",
    "_end",
    "end",
    "__bss_start",
    "_GLOBAL_OFFSET_TABLE_",
    "__rela_iplt_start",
    "__rela_iplt_end",
    "__dso_handle",
    "__GNU_EH_FRAME_HDR",
    "_TLS_MODULE_BASE_",
];

fn is_linker_symbol(name: &[u8], by_name: &FxHashMap<String, u32>, dynamic: bool) -> bool {
    if name == b"_DYNAMIC" {
        return dynamic;
    }
    if LINKER_SYMBOLS.iter().any(|s| s.as_bytes() == name) {
        return true;
    }
    for p in [&b"__start_"[..], b"__stop_"] {
        if let Some(sec) = name.strip_prefix(p) {
            return super::gc::is_c_ident(sec) && by_name.contains_key(&name_str(sec));
        }
    }
    false
}
