//! The `initlink` command: GNU ld's command line (as gcc's collect2 passes it), files read from disk,
//! the output written atomically. All linking happens in the library.

use initlink::options::{parse_args, sysroot_path, InputArg};
use initlink::{link_into, Diagnostic, InputItem, OutputSink, Severity};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// glibc grows each thread's heap one mprotect call per page as the parallel phases allocate:
/// 2,000 objects' worth of small blocks spent a tenth of the link in mprotect. Each pool thread
/// gets its heap once, up front, and freed memory stays for reuse. No huge pages: until the
/// eleventh session the heaps and the output buffer were advised onto them (fewer faults: the
/// large link's 6,800 became 1,700), but a huge page is faulted whole, and on this VM the host
/// charges for faulting freed memory back in: without the advice the links ran steadier in the
/// benchmark's order (crypto's upper quartile 20-22 ms against 30) with 5-10 MB less memory
/// (docs/design.md).
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
    for w in &cmd.warnings {
        eprintln!("initlink: {w}");
    }
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
    // The command line's own paths are opened up front, in parallel (2,000 objects spent 25 ms
    // opening one by one); anything not found that way takes the search below.
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
            InputArg::StartGroup
            | InputArg::EndGroup
            | InputArg::AsNeeded(_)
            | InputArg::WholeArchive(_) => None,
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
                        // Under --sysroot, a script inside the sysroot names its files in it.
                        let in_sysroot = cmd.sysroot.as_ref().is_some_and(|root| {
                            match (std::fs::canonicalize(root), std::fs::canonicalize(p)) {
                                (Ok(root), Ok(script)) => script.starts_with(root),
                                _ => false,
                            }
                        });
                        let rooted = |path: String| match sysroot_path(
                            &path,
                            cmd.sysroot.as_deref(),
                            in_sysroot,
                        ) {
                            Some(r) if path.starts_with('=') || Path::new(&r).exists() => r,
                            _ => path,
                        };
                        search_dirs.extend(script.search_dirs.into_iter().map(rooted));
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
                                InputArg::Path(path) => InputArg::Path(rooted(path)),
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
    if cmd.trace || cmd.verbose {
        for p in paths.iter().flatten() {
            if cmd.verbose {
                println!("attempt to open {} succeeded", p.display());
            } else {
                println!("{}", p.display());
            }
        }
    }
    let mut items = Vec::with_capacity(cmd_inputs.len());
    for (k, a) in cmd_inputs.iter().enumerate() {
        items.push(match a {
            InputArg::StartGroup => InputItem::StartGroup,
            InputArg::EndGroup => InputItem::EndGroup,
            InputArg::AsNeeded(a) => InputItem::AsNeeded(*a),
            InputArg::WholeArchive(w) => InputItem::WholeArchive(*w),
            _ => InputItem::File(initlink::Input {
                name: paths[k]
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                data: &data[k],
                lib_search: matches!(a, InputArg::Lib { .. }),
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
        write_atomic(Path::new(path), json.as_bytes(), false).map_err(|e| vec![e])?;
    }
    if let (Some(path), Some(r)) = (&cmd.map_path, &out.report) {
        write_atomic(
            Path::new(path),
            initlink::report::map_text(r).as_bytes(),
            false,
        )
        .map_err(|e| vec![e])?;
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
    output.commit().map_err(|e| vec![e])?;
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
    // old output are left to a helper nobody waits for (see `exit_handing_off`).
    if opts.fork {
        let old = output.old.take();
        exit_handing_off(0, old.as_ref().map(|(p, _)| p.as_path()));
    }
    drop(output);
    Ok(0)
}

/// Exit now, the output being in place, as the process the caller waits for; the address
/// space's teardown (the link's memory, the mapped inputs), closing the inputs and removing the
/// old output happen in a helper process that shares this one's memory and descriptor table and
/// outlives it. mold and wild get the same by forking at the start, where the forked child lost
/// the second core for the first milliseconds of its parallel phases (settled runs: crypto 15.0
/// ms forking, 13.5 handing off; 2,001 objects 19.0 and 14.4; large 65.8 and 60.5). The helper
/// is made with `clone(CLONE_VM | CLONE_FILES)`, which copies neither page tables nor
/// descriptors. Standard streams are closed first, so that a reader of this process's pipes sees
/// their end when it exits; the helper waits for that exit (a pidfd polls readable), then closes
/// the descriptors, unlinks the old output and exits, the last user of the memory. Where pidfds
/// are missing (Linux before 5.3) or clone fails, this process exits the plain way.
fn exit_handing_off(code: u8, old: Option<&Path>) -> ! {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        struct Helper {
            pidfd: i32,
            old: Option<std::ffi::CString>,
        }
        extern "C" fn helper(arg: *mut libc::c_void) -> libc::c_int {
            // SAFETY: `arg` is the leaked Helper below, in the memory this process shares; the
            // helper makes only raw system calls, on its own stack.
            unsafe {
                let h = &*(arg as *const Helper);
                let mut p = libc::pollfd {
                    fd: h.pidfd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // Retried when a signal interrupts it, a bounded number of times.
                for _ in 0..1000 {
                    if libc::syscall(libc::SYS_poll, &mut p as *mut libc::pollfd, 1u64, -1i64) >= 0
                    {
                        break;
                    }
                }
                libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
                if let Some(old) = &h.old {
                    libc::syscall(libc::SYS_unlink, old.as_ptr());
                }
            }
            0
        }
        const STACK: usize = 64 << 10;
        #[repr(C, align(64))]
        struct Stack([u8; STACK]);
        static mut HELPER_STACK: Stack = Stack([0; STACK]);
        let _ = std::io::Write::flush(&mut std::io::stdout());
        // SAFETY: plain system calls; the helper runs on its own stack and makes only raw system
        // calls, and this process touches nothing after the clone but `_exit`.
        unsafe {
            let pidfd = libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0u32);
            if let Ok(pidfd) = i32::try_from(pidfd) {
                if pidfd >= 0 {
                    let h = Box::leak(Box::new(Helper {
                        pidfd,
                        old: old
                            .and_then(|p| std::ffi::CString::new(p.as_os_str().as_bytes()).ok()),
                    }));
                    for fd in 0..3 {
                        libc::close(fd);
                    }
                    let top = (std::ptr::addr_of_mut!(HELPER_STACK) as *mut u8).add(STACK);
                    let pid = libc::clone(
                        helper,
                        top.cast(),
                        libc::CLONE_VM | libc::CLONE_FILES | libc::SIGCHLD,
                        (h as *mut Helper).cast(),
                    );
                    if pid < 0 {
                        if let Some(old) = &h.old {
                            libc::unlink(old.as_ptr());
                        }
                    }
                    libc::_exit(i32::from(code));
                }
            }
        }
    }
    if let Some(p) = old {
        let _ = std::fs::remove_file(p);
    }
    std::process::exit(i32::from(code))
}

/// Remove the old output without waiting for it: freeing a 40 MB file's blocks and pages takes
/// 4 ms when it is still dirty, 27 ms once written back, more while its write-back is under way.
/// A forked child unlinks it (as mold does) after closing stdin/stdout/stderr, so that nobody
/// reading this process's output waits for it either.
fn remove_in_background(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) {
            // SAFETY: between fork and _exit the child calls only close and unlink, which are
            // async-signal-safe, so the other threads' state does not matter.
            unsafe {
                match libc::fork() {
                    0 => {
                        libc::close(0);
                        libc::close(1);
                        libc::close(2);
                        libc::unlink(c.as_ptr());
                        libc::_exit(0);
                    }
                    -1 => {
                        libc::unlink(c.as_ptr());
                    }
                    _ => {}
                }
            }
            return;
        }
    }
    let _ = std::fs::remove_file(path);
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
/// off to closes them (see `exit_handing_off`).
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
/// threaded process that grows its table waits for an RCU grace period at each doubling
/// (opening 2,000 objects went from 11 to 61 ms). The soft open-file limit is raised toward the
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

/// The output file, written to a temporary file beside the target and renamed over it. Over a
/// previous output (set aside and reused: see [`reuse_previous`]) it is built in memory
/// (fresh anonymous pages) and most of it written while the link finishes (see
/// [`initlink::FileWriter`]); the file is opened at the first write, which comes only once no
/// link error is left to find. Otherwise it is written window by window into a new file (see
/// `file`). Writing it in place through a shared mapping of the file was measured slower here:
/// faulting in 10,000 page-cache pages cost more CPU than one 40 MB `write`.
struct OutputFile {
    bytes: Vec<u8>,
    /// A big output's bytes: fresh anonymous pages (see `buffer`).
    map: Option<memmap2::MmapMut>,
    file: EarlyFile,
    /// The previous output, set aside by [`replace`], removed last (by the helper the process
    /// exits handing off to: see `exit_handing_off`).
    old: Option<(PathBuf, u64)>,
}

struct EarlyFile {
    path: PathBuf,
    /// Whether the previous output may be overwritten in place (see [`reuse_previous`]); not when
    /// the output is written window by window (see `OutputFile::file`).
    reuse: bool,
    /// The temporary file and its name, opened at the first write.
    open: std::sync::OnceLock<Result<(std::fs::File, PathBuf), String>>,
    /// The end of the furthest write: the file's length.
    end: std::sync::atomic::AtomicU64,
    /// The written file mapped for reading, once read back.
    read: std::sync::OnceLock<Result<memmap2::Mmap, String>>,
}

impl EarlyFile {
    fn file(&self) -> Result<&std::fs::File, String> {
        match self
            .open
            .get_or_init(|| open_beside(&self.path, self.reuse).map_err(|e| e.to_string()))
        {
            Ok((file, _)) => Ok(file),
            Err(e) => Err(e.clone()),
        }
    }

    /// The open file and its temporary name, if it was opened. A mapping made to read it back
    /// stays until the output is dropped, or the process's teardown.
    fn take(&mut self) -> Option<(std::fs::File, PathBuf)> {
        self.open.take().and_then(Result::ok)
    }
}

impl initlink::FileWriter for EarlyFile {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<(), String> {
        write_all_at(self.file()?, bytes, offset).map_err(|e| e.to_string())?;
        let end = offset.saturating_add(bytes.len() as u64);
        self.end
            .fetch_max(end, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    fn read_back(&self, len: usize) -> Result<&[u8], String> {
        self.file()?;
        let map = self.read.get_or_init(|| {
            // Through a descriptor of its own, opened for reading only: a mapping keeps its file
            // open, and the output must not be open for writing once in place (execve would
            // fail with ETXTBSY) while the mapping lives on until the process's teardown.
            let tmp = match self.open.get() {
                Some(Ok((_, tmp))) => tmp,
                _ => return Err("output file not open".to_string()),
            };
            let file = std::fs::File::open(tmp).map_err(|e| e.to_string())?;
            // SAFETY: the file is this process's temporary, which nobody else writes to.
            unsafe { memmap2::MmapOptions::new().len(len).populate().map(&file) }
                .map_err(|e| e.to_string())
        });
        match map {
            Ok(m) => m
                .get(..len)
                .ok_or_else(|| "file shorter than written".to_string()),
            Err(e) => Err(e.clone()),
        }
    }
}

fn write_all_at(file: &std::fs::File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, Write};
        let mut f = file;
        f.seek(std::io::SeekFrom::Start(offset))?;
        f.write_all(bytes)
    }
}

impl OutputFile {
    fn new(path: &Path) -> OutputFile {
        OutputFile {
            bytes: Vec::new(),
            map: None,
            file: EarlyFile {
                path: path.to_path_buf(),
                reuse: true,
                open: std::sync::OnceLock::new(),
                end: std::sync::atomic::AtomicU64::new(0),
                read: std::sync::OnceLock::new(),
            },
            old: None,
        }
    }

    fn commit(&mut self) -> Result<(), Diagnostic> {
        let bytes = match &self.map {
            Some(m) => &m[..],
            None => &self.bytes[..],
        };
        // Written window by window (see `file`), the buffer is empty.
        let len = (bytes.len() as u64).max(*self.file.end.get_mut());
        let path = self.file.path.clone();
        self.old = match self.file.take() {
            Some((file, tmp)) => place(file, &tmp, &path, len, true)?,
            // Nothing written yet (an empty output): all of it now.
            None => write_beside(&path, bytes, true)?,
        };
        Ok(())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        // Written to but not committed: the link failed while writing. Like GNU ld, leave no
        // output (a reused previous one included).
        if let Some((file, tmp)) = self.file.take() {
            drop(file);
            let _ = std::fs::remove_file(tmp);
        }
        if let Some((old, len)) = self.old.take() {
            remove_old(&old, len);
        }
    }
}

impl OutputSink for OutputFile {
    /// Window by window, into a new file, when there is no previous output to reuse: that file's
    /// pages are fresh either way, and this spares a buffer of fresh pages as big (large link
    /// with no previous output: 158 -> 126 ms, median of 15). Not over a previous output: a
    /// link error found while writing would leave it half overwritten, where a failed link must
    /// leave it intact; from a buffer it is written only once the link cannot fail.
    fn file(&mut self) -> Option<&(dyn initlink::FileWriter + Sync)> {
        if reusable(&self.file.path) {
            return None;
        }
        self.file.reuse = false;
        Some(&self.file)
    }

    fn buffer(&mut self, len: usize) -> Result<initlink::OutputBuffer<'_>, String> {
        let writer: Option<&(dyn initlink::FileWriter + Sync)> = Some(&self.file);
        // Mapped directly, not taken from malloc: glibc serves blocks under its mmap threshold
        // (raised by `tune_malloc`) from the heap, which calloc must clear page by page (2.7 ms
        // for crypto's 4 MB); fresh pages come zeroed, on first touch, in the writing threads.
        if len >= 1 << 20 {
            if let Ok(m) = memmap2::MmapMut::map_anon(len) {
                return Ok(initlink::OutputBuffer {
                    bytes: &mut self.map.insert(m)[..],
                    writer,
                });
            }
        }
        let b = self.bytes.buffer(len)?;
        Ok(initlink::OutputBuffer {
            bytes: b.bytes,
            writer,
        })
    }
}

/// `.NAME.initlink-TAGPID` in the directory of `path`.
fn temp_beside(path: &Path, tag: &str) -> PathBuf {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    dir.join(format!(".{name}.initlink-{tag}{}", std::process::id()))
}

/// Write to a temporary file beside the target, then rename: nobody sees a half-written output.
/// A failed link never touches an existing one; a failed write into a reused previous output
/// (see [`reuse_previous`]) removes it, as GNU ld removes its output on an error.
fn write_atomic(path: &Path, bytes: &[u8], executable: bool) -> Result<(), Diagnostic> {
    if let Some((old, len)) = write_beside(path, bytes, executable)? {
        remove_old(&old, len);
    }
    Ok(())
}

/// The steps of [`write_atomic`] but the last: the previous file, set aside, is returned for the
/// caller to remove when it suits. On failure no temporary file is left.
fn write_beside(
    path: &Path,
    bytes: &[u8],
    executable: bool,
) -> Result<Option<(PathBuf, u64)>, Diagnostic> {
    use std::io::Write;
    let (mut file, tmp) = open_beside(path, true).map_err(|e| cannot_write(path, e))?;
    if let Err(e) = file.write_all(bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(cannot_write(path, e));
    }
    place(file, &tmp, path, bytes.len() as u64, executable)
}

/// The file to write an output into, under a temporary name beside `path`: the previous output
/// set aside (see [`reuse_previous`]) or a new file.
fn open_beside(path: &Path, reuse: bool) -> std::io::Result<(std::fs::File, PathBuf)> {
    let tmp = temp_beside(path, "");
    let file = match reuse.then(|| reuse_previous(path, &tmp)).flatten() {
        Some(file) => file,
        None => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?,
    };
    Ok((file, tmp))
}

/// Put a written output in place: cut to `len` (a reused previous output can be longer), its
/// mode set, renamed over `path` (see [`replace`]; a reused one has nothing there to set aside).
/// On failure it is removed.
fn place(
    file: std::fs::File,
    tmp: &Path,
    path: &Path,
    len: u64,
    executable: bool,
) -> Result<Option<(PathBuf, u64)>, Diagnostic> {
    let placed = finish_file(&file, len, executable).and_then(|()| {
        drop(file);
        replace(tmp, path)
    });
    placed.map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        cannot_write(path, e)
    })
}

fn cannot_write(path: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot write output: {e}")).file(path.display().to_string())
}

/// The previous output, moved to `tmp` and opened for writing, when it can be overwritten in
/// place: rewriting pages already in the page cache is ~8x faster than filling fresh ones (10 vs
/// 86 ms for 40 MB here), which is why mold and wild do the same. Not when it has other hard
/// links (they keep the old contents, as with GNU ld) or is running (ETXTBSY): then it goes back.
/// Whether `path` holds a previous output that [`reuse_previous`] may overwrite: a regular file
/// with no other hard link.
fn reusable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.nlink() == 1)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

fn reuse_previous(path: &Path, tmp: &Path) -> Option<std::fs::File> {
    #[cfg(unix)]
    {
        if !reusable(path) || std::fs::rename(path, tmp).is_err() {
            return None;
        }
        match std::fs::OpenOptions::new().read(true).write(true).open(tmp) {
            Ok(f) => Some(f),
            Err(_) => {
                let _ = std::fs::rename(tmp, path);
                None
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, tmp);
        None
    }
}

/// Cut a written file to its length and set its mode.
fn finish_file(file: &std::fs::File, len: u64, executable: bool) -> std::io::Result<()> {
    file.set_len(len)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if executable { 0o755 } else { 0o644 };
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Rename the complete file `tmp` to `path`; the previous file at `path`, if any, is returned
/// (under a temporary name, with its length) for the caller to remove.
fn replace(tmp: &Path, path: &Path) -> std::io::Result<Option<(PathBuf, u64)>> {
    // Renaming over an existing file makes ext4 (auto_da_alloc) flush the new one to disk first:
    // 90 ms for a 40 MB output. So the old output steps aside under a temporary name, the new one
    // takes its place (no target: no flush), and only then is the old one removed; if the second
    // rename fails, the old output goes back.
    let old = temp_beside(path, "old-");
    let old_len = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let moved = match old_len {
        Some(len) if std::fs::rename(path, &old).is_ok() => Some((old, len)),
        _ => None,
    };
    match std::fs::rename(tmp, path) {
        Ok(()) => Ok(moved),
        Err(e) => {
            if let Some((old, _)) = moved {
                let _ = std::fs::rename(&old, path);
            }
            let _ = std::fs::remove_file(tmp);
            Err(e)
        }
    }
}

/// Remove a previous output (with `--no-fork`, or a report or map file). A big one is removed by
/// a forked child (forking costs ~1 ms per 40 MB of this process's memory).
fn remove_old(old: &Path, len: u64) {
    if len >= 16 << 20 {
        remove_in_background(old);
    } else {
        let _ = std::fs::remove_file(old);
    }
}
