//! The `initlink` command: GNU ld's command line (as gcc's collect2 passes it), files read from disk,
//! the output put in place by `output`. All linking happens in the library.

mod cleanup;
mod exit;
mod files;
mod output;
#[cfg(feature = "plugin")]
mod plugin;

use files::{room_for_open_files, Disk, FileData};
use initlink::inputs::{self, Found};
use initlink::ir::{Claim, IrSymbol, Offered};
use initlink::options::parse_args;
use initlink::{link_claiming, Command, Diagnostic, InputItem};
use output::{write_atomic, OutputFile};
use std::path::Path;
use std::process::ExitCode;

/// glibc grows each thread's heap one mprotect call per page as the parallel phases allocate,
/// which for many small blocks is a real share of a link. Each pool thread gets its heap once,
/// up front, and freed memory stays for reuse. No huge pages: a huge page is faulted whole,
/// however little of it a small link touches (docs/design.md has the measurements).
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const TOP_PAD: usize = 16 << 20;
        const THREAD_RESERVE: usize = 24 << 20;
        // SAFETY: mallopt only changes glibc malloc's thresholds; called before any thread
        // exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            libc::mallopt(libc::M_TOP_PAD, TOP_PAD as i32);
        }
        // A pool thread's heap is grown to the reserve at once (growing it a page at a time
        // cost an mprotect call each); freed, it stays grown.
        let _ = rayon::ThreadPoolBuilder::new()
            .start_handler(|_| {
                drop(std::hint::black_box(Vec::<u8>::with_capacity(
                    THREAD_RESERVE,
                )));
            })
            .build_global();
    }
}

fn main() -> ExitCode {
    cleanup::install();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(args) {
        Ok(code) => code,
        Err(diags) => {
            for d in diags {
                eprintln!("initlink: {d}");
            }
            1
        }
    };
    ExitCode::from(code)
}

/// Expand `@file` response files (gcc uses them for long command lines). A response file may
/// name others, expanded in place as libiberty's `expandargv` does; a cycle ends at the limit.
fn expand_response_files(args: Vec<String>) -> Result<Vec<String>, Vec<Diagnostic>> {
    // libiberty's own bound on expansions, so a file that names itself is an error, not a hang.
    const MAX_EXPANSIONS: usize = 2000;
    let mut out = Vec::with_capacity(args.len());
    let mut todo: Vec<String> = args.into_iter().rev().collect();
    let mut expansions = 0;
    while let Some(a) = todo.pop() {
        match a.strip_prefix('@') {
            Some(path) if Path::new(path).is_file() => {
                expansions += 1;
                if expansions > MAX_EXPANSIONS {
                    let msg = "too many response files (does one name itself?)";
                    return Err(vec![Diagnostic::error(msg).file(path)]);
                }
                let text = std::fs::read_to_string(path).map_err(|e| {
                    vec![Diagnostic::error(format!("cannot read response file: {e}")).file(path)]
                })?;
                todo.extend(split_response(&text).into_iter().rev());
            }
            _ => out.push(a),
        }
    }
    Ok(out)
}

fn split_response(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    any = true;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn run(args: Vec<String>) -> Result<u8, Vec<Diagnostic>> {
    let started = std::time::Instant::now();
    let args = expand_response_files(args)?;
    if args.first().map(String::as_str) == Some("--describe-dso") {
        return describe_dso(args.get(1));
    }
    let mut cmd = parse_args(&args).map_err(|e| e.0)?;
    for w in &cmd.warnings {
        eprintln!("initlink: {w}");
    }
    // A warning given after `--fatal-warnings` fails the link, as in GNU ld.
    if cmd.fatal_warning {
        return Ok(1);
    }
    if let Some(code) = without_linking(&cmd)? {
        return Ok(code);
    }
    if let Some(f) = &cmd.retain_symbols_file {
        // One name per line, as GNU ld reads it.
        let text = std::fs::read(f).map_err(|e| {
            vec![Diagnostic::error(format!(
                "cannot read --retain-symbols-file {f}: {e}"
            ))]
        })?;
        let names = String::from_utf8_lossy(&text)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        cmd.options.retain_symbols = Some(names);
    }
    room_for_open_files(cmd.inputs.len());
    tune_malloc();
    // Every file is read first; the core borrows the bytes.
    let found = open_inputs(&cmd)?;
    inputs::apply_assignments(&found, &mut cmd.options);
    let items = inputs::items(&found);
    // gcc names its LTO plugin on every link: it is loaded only once the link meets an LTO
    // object, and the link starts over with it (see `lto_link`).
    let mut detect = Detect::default();
    let watch = cmd.plugin.is_some() && cfg!(feature = "plugin");
    // The link runs on a pool thread, which takes part in every parallel phase it starts; from
    // outside the pool, each phase would hand its work over and sleep until woken.
    let code =
        rayon::scope(|_| link_and_write(&cmd, &items, started, watch.then_some(&mut detect)))?;
    if !detect.met {
        return Ok(code);
    }
    drop(items);
    lto_link(cmd, found, started)
}

/// Watches a link for LTO objects: the first one stops it (the link is made again with the
/// plugin).
#[derive(Default)]
struct Detect {
    met: bool,
}

impl<'a> Claim<'a> for Detect {
    fn claim(&mut self, o: &Offered<'_>) -> initlink::diag::Result<Option<Vec<IrSymbol>>> {
        self.met = true;
        Err(
            Diagnostic::error("an LTO object: the link starts over with the plugin")
                .file(o.name.to_string())
                .into(),
        )
    }

    fn keep(&mut self, _bytes: Vec<u8>) -> &'a [u8] {
        &[]
    }
}

/// An LTO link (`-plugin`, and an input with LTO sections): a first resolve offers the LTO
/// objects to the plugin, which compiles them once it knows how their symbols resolved; then the
/// same inputs link with its objects in place of the ones it claimed (at the first one's place,
/// as GNU ld puts them) and the libraries it adds at the end.
#[cfg(feature = "plugin")]
fn lto_link(
    mut cmd: Command,
    mut found: Vec<Found<FileData>>,
    started: std::time::Instant,
) -> Result<u8, Vec<Diagnostic>> {
    let path = cmd.plugin.clone().unwrap_or_default();
    let mut plugin = plugin::Plugin::load(&path, &cmd.plugin_opts, &cmd.options)?;
    let ir = {
        let items = inputs::items(&found);
        initlink::lto::resolve_ir(&items, &cmd.options, &mut plugin).map_err(|e| e.0)?
    };
    let added = plugin.all_symbols_read(ir.resolutions);
    // Every new input is read (or mapped) before the plugin removes its temporary files.
    let extra = added.and_then(|a| open_added(&cmd, &found, a));
    plugin.cleanup();
    let extra = extra?;
    let at = found
        .iter()
        .position(|f| match f {
            Found::File { file, .. } => ir.replaced.iter().any(|(p, _)| *p == file.name),
            _ => false,
        })
        .unwrap_or(found.len());
    let (objects, libraries) = extra;
    if cmd.trace || cmd.verbose {
        for f in objects.iter().chain(&libraries) {
            match f {
                Found::File { file, .. } if cmd.verbose => {
                    println!("attempt to open {} succeeded", file.name)
                }
                Found::File { file, .. } => println!("{}", file.name),
                _ => {}
            }
        }
    }
    let compiled = objects.iter().filter_map(|f| match f {
        Found::File { file, .. } => Some(file.name.clone()),
        _ => None,
    });
    cmd.options.lto_replaced = initlink::options::LtoReplaced {
        objects: ir.replaced,
        compiled: compiled.collect(),
        comdats: ir.comdats,
    };
    found.splice(at..at, objects);
    found.extend(libraries);
    cmd.options.undefined.extend(ir.keep);
    let items = inputs::items(&found);
    let code = link_and_write(&cmd, &items, started, None);
    drop(plugin);
    code
}

#[cfg(not(feature = "plugin"))]
fn lto_link(
    _cmd: Command,
    _found: Vec<Found<FileData>>,
    _started: std::time::Instant,
) -> Result<u8, Vec<Diagnostic>> {
    Err(vec![Diagnostic::error(
        "initlink was built without linker plugins",
    )])
}

/// The objects the plugin compiled, and the libraries it adds that the link does not already
/// have (gcc passes its own libraries again through the plugin for GNU ld, which does not
/// search an archive twice; the second resolve finds the compiled objects before them anyway).
#[cfg(feature = "plugin")]
type Extra = (Vec<Found<FileData>>, Vec<Found<FileData>>);

#[cfg(feature = "plugin")]
fn open_added(
    cmd: &Command,
    found: &[Found<FileData>],
    added: plugin::Added,
) -> Result<Extra, Vec<Diagnostic>> {
    use initlink::options::InputArg;
    let static_only = cmd.options.kind == initlink::OutputKind::Static;
    let objects = added.files.into_iter().map(InputArg::Path).collect();
    // Not dependencies (`--dependency-file`): the compiled objects are temporary files, and
    // gcc's libraries are already on the command line.
    let disk = Disk { opened: None };
    let objects = inputs::resolve(&disk, objects, Vec::new(), None)?;
    let libs = added.libraries.into_iter().map(|name| InputArg::Lib {
        name,
        static_only,
        exact: false,
    });
    let mut dirs = cmd.search_dirs.clone();
    dirs.extend(added.library_paths);
    let libraries = inputs::resolve(&disk, libs.collect(), dirs, cmd.sysroot.as_deref())?;
    let have = |name: &str| {
        found
            .iter()
            .any(|f| matches!(f, Found::File { file, .. } if file.name == name))
    };
    let libraries = libraries
        .into_iter()
        .filter(|f| !matches!(f, Found::File { file, .. } if have(&file.name)))
        .collect();
    Ok((objects, libraries))
}

/// `initlink --describe-dso LIB.so`: print the text description a link can use instead.
fn describe_dso(path: Option<&String>) -> Result<u8, Vec<Diagnostic>> {
    let Some(path) = path else {
        return Err(vec![Diagnostic::error(
            "--describe-dso needs a shared object",
        )]);
    };
    let data = std::fs::read(path)
        .map_err(|e| vec![Diagnostic::error(format!("cannot open: {e}")).file(path.clone())])?;
    let dso = initlink::dso::SharedObject::parse(path.clone(), &data).map_err(|e| e.0)?;
    print!("{}", dso.describe());
    Ok(0)
}

/// What the command line asks besides a link (`--version`, `--help`), or why it cannot link:
/// the exit code when that is all, None to go on and link.
fn without_linking(cmd: &Command) -> Result<Option<u8>, Vec<Diagnostic>> {
    if let Some(f) = cmd.just_symbols.iter().find(|f| Path::new(f).is_file()) {
        return Err(vec![Diagnostic::error(
            "-R FILE (--just-symbols) is not supported by initlink yet",
        )
        .file(f.clone())]);
    }
    if cmd.version {
        println!(
            "initlink {} (GNU ld compatible command line; x86-64 ELF)",
            env!("CARGO_PKG_VERSION")
        );
        if cmd.inputs.is_empty() {
            return Ok(Some(0));
        }
    }
    if cmd.help {
        print!("{}", initlink::options::help_text("initlink"));
        return Ok(Some(0));
    }
    if cmd.inputs.is_empty() {
        return Err(vec![Diagnostic::error("no input files")]);
    }
    // GNU ld loads the plugin at once; initlink loads it only for a link with LTO objects
    // (gcc names it on every link), but a plugin that is not there is an error either way.
    if let Some(p) = &cmd.plugin {
        if let Err(e) = std::fs::metadata(p) {
            return Err(vec![
                Diagnostic::error(format!("cannot load plugin: {e}")).file(p.clone())
            ]);
        }
    }
    Ok(None)
}

/// Find and read every input from disk (linker scripts expand in place); `-t` and `--verbose`
/// then list the files, in link order.
fn open_inputs(cmd: &Command) -> Result<Vec<Found<FileData>>, Vec<Diagnostic>> {
    let disk = Disk {
        opened: cmd.dependency_file.as_ref().map(|_| Default::default()),
    };
    let found = inputs::resolve(
        &disk,
        cmd.inputs.clone(),
        cmd.search_dirs.clone(),
        cmd.sysroot.as_deref(),
    )?;
    if let (Some(dep), Some(opened)) = (&cmd.dependency_file, disk.opened) {
        let opened = opened.into_inner().unwrap_or_else(|e| e.into_inner());
        std::fs::write(dep, make_rule(&cmd.options.output, &opened)).map_err(|e| {
            vec![Diagnostic::error(format!(
                "cannot write dependency file {dep}: {e}"
            ))]
        })?;
    }
    if cmd.trace || cmd.verbose {
        for f in &found {
            let Found::File { file, .. } = f else {
                continue;
            };
            if cmd.verbose {
                println!("attempt to open {} succeeded", file.name);
            } else {
                println!("{}", file.name);
            }
        }
    }
    Ok(found)
}

/// `--dependency-file`'s make rule, as GNU ld writes it: the output depends on every file
/// read (each once, in the order first read), and each file has an empty rule of its own so
/// that make does not fail once one is gone.
fn make_rule(output: &str, files: &[String]) -> String {
    let quote = |p: &str| p.replace('$', "$$").replace(' ', "\\ ").replace('#', "\\#");
    let mut seen = std::collections::HashSet::new();
    let files: Vec<String> = files
        .iter()
        .filter(|f| seen.insert(f.as_str()))
        .map(|f| quote(f))
        .collect();
    let mut out = format!("{}:", quote(output));
    for f in &files {
        out += &format!(" \\\n  {f}");
    }
    out += "\n";
    for f in &files {
        out += &format!("\n{f}:\n");
    }
    out
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A `--time` line of the CLI's own (the core's phases have CPU times too).
fn print_time(what: &str, ms: f64) {
    eprintln!("initlink: time: {what:<12} {ms:>8.3} ms");
}

/// Link, print the diagnostics and timings, write the report and map, and put the output in
/// place when the link succeeded. Returns the exit code.
fn link_and_write(
    cmd: &Command,
    items: &[InputItem<'_>],
    started: std::time::Instant,
    mut detect: Option<&mut Detect>,
) -> Result<u8, Vec<Diagnostic>> {
    let opts = &cmd.options;
    let t_inputs = started.elapsed();
    let t_link = std::time::Instant::now();
    let mut output = OutputFile::new(Path::new(&opts.output));
    let claim = detect.as_deref_mut().map(|d| d as &mut dyn Claim<'_>);
    let out = link_claiming(items, opts, &mut output, claim);
    if detect.is_some_and(|d| d.met) {
        // Not a failure: the link starts over with the plugin.
        return Ok(1);
    }
    let t_link = t_link.elapsed();
    if opts.time {
        print_time("open inputs", ms(t_inputs));
    }
    for (phase, us, cpu) in &out.timings {
        eprintln!(
            "initlink: time: {phase:<12} {:>8.3} ms  (cpu {:>8.3} ms)",
            *us as f64 / 1000.0,
            *cpu as f64 / 1000.0
        );
    }
    if opts.time {
        print_time("link total", ms(t_link));
    }
    for d in &out.diagnostics {
        eprintln!("initlink: {d}");
    }
    // The report and map are written even for a failed link: they hold the diagnostics.
    if let (Some(path), Some(r)) = (&cmd.report_path, &out.report) {
        let json = serde_json::to_string_pretty(r).unwrap_or_default();
        write_atomic(Path::new(path), json.as_bytes(), false)?;
    }
    if let (Some(path), Some(r)) = (&cmd.map_path, &out.report) {
        write_atomic(
            Path::new(path),
            initlink::report::map_text(r).as_bytes(),
            false,
        )?;
    }
    if !out.keeps_output() {
        return Ok(1);
    }
    let t_write = std::time::Instant::now();
    // A relocatable object is not a program: mode 0644, as GNU ld leaves it.
    output.commit(!opts.relocatable)?;
    if opts.time {
        print_time("write file", ms(t_write.elapsed()));
        print_time("total", ms(started.elapsed()));
    }
    // The output is in place. Freeing the link's data, unmapping the inputs and removing the
    // old output are left to a helper nobody waits for (see `exit::exit_handing_off`).
    if opts.fork {
        let old = output.old.take();
        exit::exit_handing_off(0, old.as_ref().map(|o| o.path.as_path()));
    }
    drop(output);
    Ok(0)
}
