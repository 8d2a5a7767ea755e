//! The `initlink` command: GNU ld's command line (as gcc's collect2 passes it), files read from disk,
//! the output written atomically. All linking happens in the library.

mod cleanup;
mod exit;
mod output;

use initlink::options::{parse_args, InputArg};
use initlink::{link_into, Diagnostic, InputItem, Severity};
use output::{write_atomic, OutputFile};
use std::path::{Path, PathBuf};
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

/// Expand `@file` response files (gcc uses them for long command lines).
fn expand_response_files(args: Vec<String>) -> Result<Vec<String>, Vec<Diagnostic>> {
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        match a.strip_prefix('@') {
            Some(path) if Path::new(path).is_file() => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    vec![Diagnostic::error(format!("cannot read response file: {e}")).file(path)]
                })?;
                out.extend(split_response(&text));
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

fn find_library(name: &str, exact: bool, static_only: bool, dirs: &[String]) -> Option<PathBuf> {
    let candidates: Vec<String> = if exact {
        vec![name.to_string()]
    } else if static_only {
        vec![format!("lib{name}.a")]
    } else {
        vec![format!("lib{name}.so"), format!("lib{name}.a")]
    };
    for d in dirs {
        for c in &candidates {
            let p = Path::new(d).join(c);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn run(args: Vec<String>) -> Result<u8, Vec<Diagnostic>> {
    let started = std::time::Instant::now();
    let args = expand_response_files(args)?;
    // `initlink --describe-dso LIB.so`: print the text description a link can use instead.
    if args.first().map(String::as_str) == Some("--describe-dso") {
        let Some(path) = args.get(1) else {
            return Err(vec![Diagnostic::error(
                "--describe-dso needs a shared object",
            )]);
        };
        let data = std::fs::read(path)
            .map_err(|e| vec![Diagnostic::error(format!("cannot open: {e}")).file(path.clone())])?;
        let dso = initlink::dso::SharedObject::parse(path.clone(), &data).map_err(|e| e.0)?;
        print!("{}", dso.describe());
        return Ok(0);
    }
    let cmd = parse_args(&args).map_err(|e| e.0)?;
    if cmd.version {
        println!(
            "initlink {} (GNU ld compatible command line; x86-64 ELF)",
            env!("CARGO_PKG_VERSION")
        );
        if cmd.inputs.is_empty() {
            return Ok(0);
        }
    }
    if cmd.help {
        println!("usage: initlink [options] file...\n  -o FILE  -L DIR  -lNAME  -static  -e SYM  --start-group ... --end-group\n  --report=FILE (JSON link report)  -Map=FILE (text map)  --build-id  --eh-frame-hdr  -z KEYWORD\nSee README.md for the full list.");
        return Ok(0);
    }
    if cmd.inputs.is_empty() {
        return Err(vec![Diagnostic::error("no input files")]);
    }
    room_for_open_files(cmd.inputs.len());
    tune_malloc();
    // Read every file first; the core borrows the bytes. Linker scripts expand in place.
    // The command line's own paths are opened up front, in parallel (opening thousands of
    // objects one by one is a large share of a link); anything not found that way takes the
    // search below.
    let mut opened: Vec<Option<FileData>> = {
        use rayon::prelude::*;
        cmd.inputs
            .par_iter()
            .map(|a| match a {
                InputArg::Path(p) => FileData::open(Path::new(p)).ok(),
                _ => None,
            })
            .collect()
    };
    let mut inputs: std::collections::VecDeque<(InputArg, Option<FileData>)> = cmd
        .inputs
        .iter()
        .cloned()
        .zip(opened.iter_mut().map(Option::take))
        .collect();
    let mut search_dirs = cmd.search_dirs.clone();
    let mut args_out: Vec<InputArg> = Vec::new();
    let mut paths: Vec<Option<PathBuf>> = Vec::new();
    let mut data: Vec<FileData> = Vec::new();
    let mut errors = Vec::new();
    let mut scripts = 0;
    let mut as_needed_now = false;
    while let Some((a, pre)) = inputs.pop_front() {
        if let InputArg::AsNeeded(x) = a {
            as_needed_now = x;
        }
        let path = match &a {
            InputArg::Path(p) if pre.is_some() => Some(PathBuf::from(p)),
            InputArg::Path(p) => {
                let pb = PathBuf::from(p);
                // A bare name in a script is searched for in the -L directories.
                if !pb.exists() && !pb.is_absolute() {
                    search_dirs
                        .iter()
                        .map(|d| Path::new(d).join(p))
                        .find(|c| c.is_file())
                        .or(Some(pb))
                } else {
                    Some(pb)
                }
            }
            InputArg::Lib {
                name,
                static_only,
                exact,
            } => match find_library(name, *exact, *static_only, &search_dirs) {
                Some(p) => Some(p),
                None => {
                    errors.push(Diagnostic::error(format!(
                        "cannot find -l{}{name}",
                        if *exact { ":" } else { "" }
                    )));
                    None
                }
            },
            InputArg::StartGroup | InputArg::EndGroup | InputArg::AsNeeded(_) => None,
        };
        let bytes = match (&path, pre) {
            (_, Some(d)) => d,
            (Some(p), None) => match FileData::open(p) {
                Ok(d) => d,
                Err(e) => {
                    errors.push(
                        Diagnostic::error(format!("cannot open: {e}"))
                            .file(p.display().to_string()),
                    );
                    FileData::Owned(Vec::new())
                }
            },
            (None, None) => FileData::Owned(Vec::new()),
        };
        if let Some(p) = &path {
            if initlink::input::classify(&bytes) == initlink::input::FileKind::Text
                && !initlink::dso::is_description(&bytes)
            {
                scripts += 1;
                if scripts > 64 {
                    errors.push(
                        Diagnostic::error("too many nested linker scripts")
                            .file(p.display().to_string()),
                    );
                    break;
                }
                let text = String::from_utf8_lossy(&bytes);
                match initlink::script::parse(&p.display().to_string(), &text) {
                    Ok(script) => {
                        search_dirs.extend(script.search_dirs);
                        let static_only = matches!(
                            &a,
                            InputArg::Lib {
                                static_only: true,
                                ..
                            }
                        );
                        for item in script.items.into_iter().rev() {
                            let item = match item {
                                InputArg::Lib { name, exact, .. } => InputArg::Lib {
                                    name,
                                    exact,
                                    static_only,
                                },
                                // The end of AS_NEEDED(...) restores the state around the script.
                                InputArg::AsNeeded(false) => InputArg::AsNeeded(as_needed_now),
                                other => other,
                            };
                            inputs.push_front((item, None));
                        }
                    }
                    Err(e) => errors.extend(e.0),
                }
                continue;
            }
        }
        args_out.push(a);
        paths.push(path);
        data.push(bytes);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let cmd_inputs = args_out;
    let mut items = Vec::with_capacity(cmd_inputs.len());
    for (k, a) in cmd_inputs.iter().enumerate() {
        items.push(match a {
            InputArg::StartGroup => InputItem::StartGroup,
            InputArg::EndGroup => InputItem::EndGroup,
            InputArg::AsNeeded(a) => InputItem::AsNeeded(*a),
            _ => InputItem::File(initlink::Input {
                name: paths[k]
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                data: &data[k],
            }),
        });
    }
    let opts = cmd.options.clone();
    let t_inputs = started.elapsed();
    let t_link = std::time::Instant::now();
    let mut output = OutputFile::new(Path::new(&cmd.options.output));
    let out = link_into(&items, &opts, &mut output);
    let t_link = t_link.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    if opts.time {
        eprintln!(
            "initlink: time: {:<12} {:>8.3} ms",
            "open inputs",
            ms(t_inputs)
        );
    }
    for (phase, us, cpu) in &out.timings {
        eprintln!(
            "initlink: time: {phase:<12} {:>8.3} ms  (cpu {:>8.3} ms)",
            *us as f64 / 1000.0,
            *cpu as f64 / 1000.0
        );
    }
    if opts.time {
        eprintln!(
            "initlink: time: {:<12} {:>8.3} ms",
            "link total",
            ms(t_link)
        );
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
    if out.failed()
        || out
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    {
        return Ok(1);
    }
    let t_write = std::time::Instant::now();
    output.commit()?;
    if opts.time {
        eprintln!(
            "initlink: time: {:<12} {:>8.3} ms",
            "write file",
            ms(t_write.elapsed())
        );
        eprintln!(
            "initlink: time: {:<12} {:>8.3} ms",
            "total",
            ms(started.elapsed())
        );
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

/// An input file's bytes: mapped when large (a link reads a fraction of a big archive or of
/// libc.so.6, and copying them in was most of a small link's time), read when small.
enum FileData {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl FileData {
    fn open(path: &Path) -> std::io::Result<FileData> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        // Most objects are small: a read that comes back short of HEAD bytes has the whole file
        // (a regular file reads short only at its end), without asking its size first (statx
        // was a tenth of opening 2,000 objects).
        let mut head = [0u8; HEAD];
        let n = loop {
            match file.read(&mut head) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        if n < HEAD {
            keep_open(file);
            return Ok(FileData::Owned(head[..n].to_vec()));
        }
        let len = file.metadata()?.len();
        if len >= MAP_MIN {
            // SAFETY: the map is read-only; like every linker that maps its inputs, we assume
            // they are not truncated while the link runs.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                // Its first page faulted in here, on this thread, not one by one in the
                // in-order pass that reads every input's header.
                std::hint::black_box(map.first().copied());
                return Ok(FileData::Mapped(map));
            }
        }
        // The rest, in one read of the size fstat gave.
        let mut bytes = vec![0u8; (len as usize).max(HEAD)];
        bytes[..HEAD].copy_from_slice(&head);
        file.read_exact(&mut bytes[HEAD..])?;
        keep_open(file);
        Ok(FileData::Owned(bytes))
    }
}

/// Bytes read before asking a file's size.
const HEAD: usize = 4096;
/// Files this big are mapped (a link reads a fraction of a big archive or of libc.so.6, and
/// copying them in was most of a small link's time); smaller ones are read.
const MAP_MIN: u64 = 64 * 1024;

/// How many more descriptors [`keep_open`] may keep (set by [`room_for_open_files`]).
static KEEP_BUDGET: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Leave a small file's descriptor open for the process's exit to close: 2,000 `close` calls
/// were a tenth of opening 2,000 objects, and by default the helper the process exits handing
/// off to closes them (see `exit::exit_handing_off`).
fn keep_open(file: std::fs::File) {
    use std::sync::atomic::Ordering;
    let room = KEEP_BUDGET
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok();
    if room {
        std::mem::forget(file);
    }
}

/// Make the descriptor table big enough for `n` inputs kept open, before any thread exists: a
/// threaded process that grows its table waits for an RCU grace period at each doubling. The
/// soft open-file limit is raised toward the
/// hard one if need be, as mold does; without room, files are closed as they are read.
fn room_for_open_files(n: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls; the descriptor F_DUPFD makes is closed at once.
    unsafe {
        let Ok(top) = i32::try_from(n + 63) else {
            return;
        };
        let want = (n + 64) as libc::rlim_t;
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        if lim.rlim_cur < want && lim.rlim_max >= want {
            lim.rlim_cur = want;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return;
            }
        }
        // The lowest free descriptor from `top` on (none past the limit: then nothing is
        // kept), so that the table holds `top`; unlike dup2, no inherited descriptor is closed.
        let fd = libc::fcntl(2, libc::F_DUPFD, top);
        if fd >= top {
            libc::close(fd);
            KEEP_BUDGET.store(n, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl std::ops::Deref for FileData {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileData::Owned(v) => v,
            FileData::Mapped(m) => m,
        }
    }
}
