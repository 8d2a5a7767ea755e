//! initlink: an x86-64 ELF linker that shows how a program starts.
//!
//! The core takes input bytes and options and returns the output bytes (in a `Vec`, or written into
//! a buffer the caller provides: [`link_into`]), an optional report and the diagnostics, as data.
//! No files, threads or processes here: the CLI (`src/bin/initlink/`) and the wasm bindings own
//! those, and give [`inputs::resolve`] their files to find the command line's inputs in.
//! [`link`] runs the phases in order; each hands a typed result to the next.

pub mod arch;
mod bytes;
mod clock;
pub mod compress;
pub mod demangle;
pub mod diag;
pub mod dso;
pub mod dynamic;
pub mod getopt;
pub mod input;
pub mod inputs;
pub mod ir;
pub mod layout;
pub mod linker_script;
pub mod lto;
pub mod options;
mod par;
pub mod property;
pub mod relocatable;
pub mod relocate;
pub mod report;
pub mod resolve;
pub mod script;
pub mod sections;
pub mod symver;
pub mod synthesize;
pub mod synthetic;
pub mod version_script;
pub mod wasm;
pub mod write;

pub use diag::{Diagnostic, Severity};
pub use input::{Input, InputItem};
pub use options::{Command, Options, OutputKind};
pub use report::Report;
pub use write::{FileWriter, OutputBuffer, OutputSink};

/// Everything a link produces.
pub struct LinkOutput<'a> {
    /// The output file from [`link`], None when the link failed (and always from [`link_into`],
    /// which leaves the bytes in its sink).
    pub elf: Option<Vec<u8>>,
    /// Whether the output was written.
    pub linked: bool,
    /// `--noinhibit-exec`: the output is kept even though errors were reported.
    pub keep_despite_errors: bool,
    pub report: Option<Report>,
    pub diagnostics: Vec<Diagnostic>,
    /// Wall time and process CPU time (all threads) of each phase in microseconds, filled only
    /// with `Options::time`: CPU over wall says how busy the second core was.
    pub timings: Vec<(&'static str, u128, u128)>,
    /// With `Options::defer_build_id`: where the caller must put the SHA-1 build ID,
    /// [`write::build_id_sha1`] of the output as it is (with the ID still zero).
    pub build_id_at: Option<usize>,
    /// The link's working data (symbols, layout, decisions), handed back so that the caller
    /// chooses when to free it: the CLI first tells the waiting parent process that the output is
    /// ready (freeing a large link's data takes a while).
    pub working: Option<Working<'a>>,
}

/// See [`LinkOutput::working`].
pub struct Working<'a> {
    _resolved: resolve::Resolved<'a>,
    _layout: layout::Layout,
    _synth: synthesize::Synth,
}

impl LinkOutput<'_> {
    pub fn failed(&self) -> bool {
        !self.linked
    }

    /// Whether the output is the link's result, to be put in place: the link finished and
    /// reported no error (with `--noinhibit-exec`, whatever errors it reported).
    pub fn keeps_output(&self) -> bool {
        self.linked
            && (self.keep_despite_errors
                || !self
                    .diagnostics
                    .iter()
                    .any(|d| d.severity == Severity::Error))
    }
}

/// Link `items` (files and group markers, in command-line order) as `opts` says.
pub fn link<'a>(items: &[InputItem<'a>], opts: &'a Options) -> LinkOutput<'a> {
    let mut elf = Vec::new();
    let mut out = link_into(items, opts, &mut elf);
    if out.linked {
        out.elf = Some(elf);
    }
    out
}

/// Like [`link`], but the output file's bytes are written into the buffer `sink` hands out.
pub fn link_into<'a>(
    items: &[InputItem<'a>],
    opts: &'a Options,
    sink: &mut dyn OutputSink,
) -> LinkOutput<'a> {
    link_claiming(items, opts, sink, None)
}

/// Like [`link_into`], with each LTO object the link loads offered to `claim` (a linker plugin,
/// see [`lto`]) before it is read as an object.
pub fn link_claiming<'a>(
    items: &[InputItem<'a>],
    opts: &'a Options,
    sink: &mut dyn OutputSink,
    claim: Option<&mut dyn ir::Claim<'a>>,
) -> LinkOutput<'a> {
    let mut out = LinkOutput {
        elf: None,
        linked: false,
        keep_despite_errors: opts.noinhibit_exec,
        report: None,
        diagnostics: Vec::new(),
        timings: Vec::new(),
        build_id_at: None,
        working: None,
    };
    match link_phases(items, opts, sink, &mut out, claim) {
        Ok(()) => {}
        Err(e) => out.diagnostics.extend(e.0),
    }
    // `--fatal-warnings`: the warnings stay warnings, but the output is not made.
    if opts.fatal_warnings
        && out
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Warning)
    {
        out.linked = false;
    }
    out
}

fn link_phases<'a>(
    items: &[InputItem<'a>],
    opts: &'a Options,
    sink: &mut dyn OutputSink,
    out: &mut LinkOutput<'a>,
    claim: Option<&mut dyn ir::Claim<'a>>,
) -> diag::Result<()> {
    let mut clock = Clock::new(opts.time);
    // 1. resolve: parse objects (input phase), pick archive members, bind every name.
    // `--init-stub`'s register function is referenced by the stub, like a `-u` symbol.
    let register = opts.init_stub.as_ref().map(|s| s.register.as_str());
    let mut resolved = resolve::resolve(items, opts, register, claim)?;
    out.diagnostics.append(&mut resolved.warnings);
    clock.lap("resolve", &mut out.timings);
    if opts.relocatable {
        // `-r`: a relocatable object, its own output mode from here on.
        check_resolved(&resolved, opts)?;
        let linked = relocatable::link(&resolved, opts, sink)?;
        out.diagnostics.extend(linked.notes.iter().cloned());
        clock.lap("write", &mut out.timings);
        if opts.report || opts.map {
            let r = relocatable::report(&resolved, opts, &linked, &out.diagnostics);
            out.report = Some(r);
        }
        out.linked = true;
        return Ok(());
    }
    match link_resolved(&mut resolved, items, opts, sink, out, &mut clock) {
        Ok((layout, synth)) => {
            out.working = Some(Working {
                _resolved: resolved,
                _layout: layout,
                _synth: synth,
            });
            Ok(())
        }
        Err(e) => {
            // A failed link still says what was loaded and why, when a report was asked for.
            if opts.report || opts.map {
                let mut diags = out.diagnostics.clone();
                diags.extend(e.0.iter().cloned());
                out.report = Some(report::partial(&resolved, opts, &diags));
            }
            Err(e)
        }
    }
}

/// The phases after resolve.
fn link_resolved<'a>(
    resolved: &mut resolve::Resolved<'a>,
    items: &[InputItem<'a>],
    opts: &'a Options,
    sink: &mut dyn OutputSink,
    out: &mut LinkOutput<'a>,
    clock: &mut Clock,
) -> diag::Result<(layout::Layout, synthesize::Synth)> {
    check_resolved(resolved, opts)?;
    // Which definitions are exported, at which versions, and which are bound locally.
    let exports = symver::settle(resolved, opts, items)?;
    // 2. `--gc-sections`: the input sections nothing the output needs reaches are dropped.
    let gc = opts
        .gc_sections
        .then(|| layout::gc::collect(resolved, opts));
    if let (Some(gc), true) = (&gc, opts.print_gc_sections) {
        out.diagnostics.extend(gc.removed_notes(resolved));
    }
    if gc.is_some() {
        clock.lap("gc", &mut out.timings);
    }
    // 3. plan the layout: which input section goes where, in which order, merged or split.
    let mut layout = layout::plan(resolved, opts, gc)?;
    out.diagnostics.append(&mut layout.warnings);
    // Layout made the linker's symbols: no definition changes from here on.
    resolved.settle_facts(
        opts.no_dynamic_linker && opts.kind != OutputKind::Shared,
        opts.dynamic_undefined_weak == Some(false),
    );
    clock.lap("plan", &mut out.timings);
    // 4. synthesize: scan relocations once; decide GOT/IPLT slots and linker-made stubs.
    let synth = synthesize::synthesize(resolved, &layout, opts, &exports)?;
    out.diagnostics.extend(synth.warnings.iter().cloned());
    clock.lap("synthesize", &mut out.timings);
    // 5. assign addresses now that every size is known.
    let cx = synthetic::SizeCx {
        synth: &synth,
        fde_count: layout.fde_count,
        eh_frame_hdr: opts.eh_frame_hdr,
    };
    let pic = synth.dynamic.as_deref().is_some_and(|d| d.pic);
    layout.assign(&synthetic::extents(&cx), pic)?;
    // `--compress-debug-sections`: the debug sections' final sizes, before the file is planned.
    write::compress_debug_sections(resolved, &mut layout, &synth, opts)?;
    clock.lap("assign", &mut out.timings);
    // 6. write: copy and relocate every piece, then the symbol table and headers.
    let mut values = relocate::Values::new(resolved, &layout, &synth);
    values.opts = Some(opts);
    // A report reads what the relocate phase did at each site: it records it only then.
    let mut trace = (opts.report || opts.map).then(relocate::Trace::default);
    // `--oformat=binary`: the ELF file is made in memory, then its memory image is the output.
    let mut elf_file = Vec::new();
    let elf = if opts.oformat_binary {
        let elf = write::write(&values, opts, &mut elf_file, trace.as_mut())?;
        let image = write::binary::flatten(elf.as_deref().unwrap_or_default(), &opts.output)?;
        write::put_bytes(sink, opts, &image)?;
        elf
    } else {
        let elf = write::write(&values, opts, sink, trace.as_mut())?;
        out.build_id_at = elf
            .as_ref()
            .and_then(|e| write::build_id_at(&layout, opts, e.len()));
        elf
    };
    clock.lap("write", &mut out.timings);
    // 7. report, only when asked (the file is then written from a buffer).
    if let (Some(elf), Some(trace)) = (elf, &trace) {
        out.report = Some(report::build(&values, elf, trace, opts, &out.diagnostics));
        clock.lap("report", &mut out.timings);
    }
    out.linked = true;
    Ok((layout, synth))
}

/// What the options require of the symbols once resolved: `--require-defined` names defined,
/// and with `--no-allow-shlib-undefined` every reference of a needed shared object satisfied.
fn check_resolved(resolved: &resolve::Resolved<'_>, opts: &Options) -> diag::Result<()> {
    let mut errors = Vec::new();
    for name in &opts.require_defined {
        let defined = resolved.lookup(name.as_bytes()).is_some_and(|g| {
            matches!(
                resolved.global(g).def,
                resolve::Def::Defined { .. } | resolve::Def::Common { .. }
            )
        });
        if !defined {
            errors.push(
                Diagnostic::error(format!(
                    "undefined symbol: {name} (required by --require-defined)"
                ))
                .symbol(name),
            );
        }
    }
    if opts.no_allow_shlib_undefined {
        for &(dso, name) in &resolved.shlib_undefined {
            let n = diag::name_str(name);
            errors.push(
                Diagnostic::error(format!("undefined reference to `{n}'"))
                    .file(resolved.dsos[dso as usize].obj.name.clone())
                    .symbol(n),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(diag::Errors(errors))
    }
}

/// Phase timing: wall and CPU microseconds per phase, when `--time` asks.
struct Clock {
    last: Option<(u128, u128)>,
}

impl Clock {
    fn new(on: bool) -> Self {
        Clock {
            last: on.then(clock::now_us),
        }
    }

    fn lap(&mut self, name: &'static str, t: &mut Vec<(&'static str, u128, u128)>) {
        if let Some((wall, cpu)) = self.last {
            let now = clock::now_us();
            t.push((name, now.0.saturating_sub(wall), now.1.saturating_sub(cpu)));
            self.last = Some(now);
        }
    }
}
