//! End-to-end differential tests: every fixture under `tests/fixtures/` is
//! compiled once with the system gcc/g++/as, linked twice -- once with GNU ld
//! (the reference) and once with initlink -- and both programs are run with
//! the same arguments and environment. Their stdout, stderr and exit status
//! must match exactly, and `readelf -a -W` must accept initlink's output
//! without complaint.
//!
//! Fixture layout (one case per entry):
//!   tests/fixtures/<group>/<name>.{c,cc,cpp,s,S}   a single-file case
//!   tests/fixtures/<group>/<name>/                 a multi-file case (every
//!                                                  source file in the dir)
//! Groups: `static` (gcc -static), `cxx` (g++ -static), `asm`, and
//! `freestanding` (`initlink -o prog a.o b.o`, no libc, no `_start`; the
//! reference is `ld -static -o prog a.o b.o ref_start.o`).
//!
//! A multi-file case may have a `case.conf`; a single-file case may carry the
//! same lines in comments starting with `// e2e:` (C/C++) or `# e2e:` (asm):
//!   mode = cc | c++ | freestanding     how to link (default from the group)
//!   cflags = FLAGS                     extra flags for every compile
//!   cflags FILE = FLAGS                extra flags for one source file
//!   archive libNAME.a = FILES          put these objects in an archive
//!   link = ITEMS                       link line order; a source file name
//!                                      stands for its object, an archive name
//!                                      for the archive, anything else is
//!                                      passed through (-Wl,--start-group)
//!                                      default: objects (sorted) then archives
//!   ldflags = FLAGS                    appended to the link command
//!   args = ARGS                        program arguments (default: alpha beta)
//!   env = NAME=VALUE ...               extra environment (E2E_VAR is always set)
//!
//! Shared objects (`shared`, `shared-big`): every case is a directory with a
//! `case.conf`. Its libraries and its program are each linked by both
//! linkers, in four combinations (library linker + program linker, one
//! directory each): `bb` (GNU ld + GNU ld, the reference), `ii`, `ib`, `bi`
//! (`i` = initlink). Each combination directory holds its libraries and `prog`
//! and is the program's working directory. All must agree on stdout, stderr and
//! exit status; initlink's files must satisfy `readelf -a -W`; the `readelf -d`
//! NEEDED/SONAME/RPATH/RUNPATH/immediate-binding entries, the undefined
//! `.dynsym` entries (type, version, canonical PLT, binding) and `ldd`'s list
//! of libraries must match GNU ld's. Keys (besides mode, cflags, args, env):
//!   lib NAME = FILES                  a shared library (sources get -fPIC),
//!                                     built in order, in the combination dir
//!   libflags NAME = FLAGS             extra link flags for that library
//!   symlink NAME = TARGET             a symlink next to the libraries
//!   program = FILES                   the program (default: the other sources)
//!   ldflags = FLAGS                   program link flags (-L. -lfoo
//!                                     -Wl,-rpath,$ORIGIN)
//!   variant NAME = FLAGS              also build and check everything with
//!                                     FLAGS on the program's compile and link;
//!                                     its -Wl, flags also go to the libraries
//!                                     (`base`, no flags, always runs)
//!   gdb = yes                         gdb must stop in main of initlink's
//!                                     programs (skipped without gdb)
//!   xfail [VARIANT] [check CHECK] = WHY   a known bug of the linker under test:
//!                                     matching problems are printed, not failed
//!                                     (checks: link readelf dynamic dynsym
//!                                     binding ldd run gdb); XPASS is printed
//!                                     when nothing failed there any more
//! Without `lib` lines (`shared-big`), only `bb` and `bi` are built.
//!
//! Environment variables:
//!   INITLINK_E2E_LD=bfd      use GNU ld on both sides (validates the fixtures
//!                            and this harness without initlink)
//!   INITLINK_E2E_FILTER=s    only run cases whose id (group/name) contains s
//!   INITLINK_E2E_KEEP=1      keep the work directories even when tests pass
//!
//! Run: `cargo test -p initlink --test e2e`

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Limit for running a linked test program.
const RUN_TIMEOUT: Duration = Duration::from_secs(10);
/// Limit for compilers, linkers and readelf.
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_ARGS: &[&str] = &["alpha", "beta"];
const E2E_VAR: &str = "e2e-value";
const SOURCE_EXTS: &[&str] = &["c", "cc", "cpp", "s", "S"];
const FREESTANDING_CFLAGS: &[&str] = &[
    "-O1",
    "-ffreestanding",
    "-fno-pie",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
];

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

fn fixtures_dir() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    p.canonicalize().unwrap_or(p)
}

fn bfd_mode() -> bool {
    match std::env::var("INITLINK_E2E_LD") {
        Err(_) => false,
        Ok(v) if v.is_empty() || v == "initlink" => false,
        Ok(v) if v == "bfd" => true,
        Ok(v) => panic!("INITLINK_E2E_LD={v:?}: expected `bfd` (or unset for initlink)"),
    }
}

fn initlink_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_initlink"))
}

/// Full path of the GNU ld that gcc would run.
fn gnu_ld() -> PathBuf {
    static LD: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LD.get_or_init(find_gnu_ld).clone()
}

fn find_gnu_ld() -> PathBuf {
    let out = Command::new("gcc")
        .arg("-print-prog-name=ld")
        .output()
        .expect("cannot run gcc -print-prog-name=ld");
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if name.contains('/') {
        return PathBuf::from(name);
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    for dir in path.split(':') {
        let p = Path::new(dir).join(&name);
        if p.is_file() {
            return p;
        }
    }
    panic!("GNU ld ({name}) not found in PATH");
}

/// The linker under test: initlink, or GNU ld with INITLINK_E2E_LD=bfd.
fn test_linker() -> PathBuf {
    if bfd_mode() {
        gnu_ld()
    } else {
        initlink_bin()
    }
}

fn test_linker_name() -> &'static str {
    if bfd_mode() {
        "GNU ld (INITLINK_E2E_LD=bfd)"
    } else {
        "initlink"
    }
}

fn filter() -> Option<String> {
    std::env::var("INITLINK_E2E_FILTER")
        .ok()
        .filter(|s| !s.is_empty())
}

fn keep_work() -> bool {
    std::env::var("INITLINK_E2E_KEEP").is_ok_and(|v| !v.is_empty() && v != "0")
}

// ---------------------------------------------------------------------------
// Running processes with a deadline
// ---------------------------------------------------------------------------

struct Output {
    /// None if the process could not be started or was killed at the deadline.
    status: Option<ExitStatus>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    timed_out: bool,
    spawn_error: Option<String>,
    cmdline: String,
}

impl Output {
    fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn status_text(&self) -> String {
        if let Some(e) = &self.spawn_error {
            return format!("could not start: {e}");
        }
        if self.timed_out {
            return "TIMED OUT (killed)".into();
        }
        match self.status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("exit code {c}"),
                (None, Some(sig)) => format!(
                    "killed by signal {sig}{}",
                    if s.core_dumped() {
                        " (core dumped)"
                    } else {
                        ""
                    }
                ),
                _ => format!("{s}"),
            },
            None => "no status".into(),
        }
    }

    fn same_status(&self, other: &Output) -> bool {
        self.status_text() == other.status_text()
    }

    fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn describe_cmd(cmd: &Command) -> String {
    let mut s = String::new();
    if let Some(dir) = cmd.get_current_dir() {
        let _ = write!(s, "(cd {} && ", shell_quote(&dir.to_string_lossy()));
    }
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            let _ = write!(
                s,
                "{}={} ",
                k.to_string_lossy(),
                shell_quote(&v.to_string_lossy())
            );
        }
    }
    s.push_str(&shell_quote(&cmd.get_program().to_string_lossy()));
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&shell_quote(&a.to_string_lossy()));
    }
    if cmd.get_current_dir().is_some() {
        s.push(')');
    }
    s
}

fn spawn_reader<R: Read + Send + 'static>(r: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

/// Runs `cmd`, capturing stdout/stderr; kills its whole process group after
/// `timeout`.
fn run(cmd: &mut Command, timeout: Duration) -> Output {
    let cmdline = describe_cmd(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Output {
                status: None,
                stdout: Vec::new(),
                stderr: Vec::new(),
                timed_out: false,
                spawn_error: Some(e.to_string()),
                cmdline,
            }
        }
    };
    let out_reader = spawn_reader(child.stdout.take());
    let err_reader = spawn_reader(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let mut sleep = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                // The child leads its own process group: kill the group, so
                // that e.g. gcc's collect2/ld die too.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .stderr(Stdio::null())
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => {
                thread::sleep(sleep);
                sleep = (sleep * 2).min(Duration::from_millis(10));
            }
            Err(e) => panic!("waiting for {cmdline}: {e}"),
        }
    };
    Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        timed_out,
        spawn_error: None,
        cmdline,
    }
}

// ---------------------------------------------------------------------------
// Fixture discovery and configuration
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    /// `gcc -static [-B dir/] -o prog objs`
    Cc,
    /// `g++ -static [-B dir/] -o prog objs`
    Cxx,
    /// `initlink -o prog objs` vs `ld -static -o prog objs ref_start.o`
    Freestanding,
}

#[derive(Debug)]
struct Case {
    /// "group/name"
    id: String,
    src_dir: PathBuf,
    /// Source file names inside `src_dir`, sorted.
    sources: Vec<String>,
    mode: Mode,
    cflags: Vec<String>,
    file_cflags: BTreeMap<String, Vec<String>>,
    archives: Vec<(String, Vec<String>)>,
    link: Option<Vec<String>>,
    ldflags: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn is_source(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| SOURCE_EXTS.contains(&e))
}

impl Case {
    fn new(id: String, src_dir: PathBuf, sources: Vec<String>, group: &str) -> Case {
        let mode = match group {
            "cxx" => Mode::Cxx,
            "freestanding" => Mode::Freestanding,
            _ => Mode::Cc,
        };
        Case {
            id,
            src_dir,
            sources,
            mode,
            cflags: Vec::new(),
            file_cflags: BTreeMap::new(),
            archives: Vec::new(),
            link: None,
            ldflags: Vec::new(),
            args: DEFAULT_ARGS.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
        }
    }

    /// Applies one `key [arg] = value` configuration line.
    fn configure(&mut self, line: &str) {
        let id = self.id.clone();
        let bad = |why: &str| -> ! { panic!("fixture {id}: bad config line {line:?}: {why}") };
        let Some((lhs, value)) = line.split_once('=') else {
            bad("expected `key = value`")
        };
        let lhs = words(lhs);
        let value = value.trim();
        let need_source = |f: &str| {
            if !self.sources.iter().any(|s| s == f) {
                bad(&format!("{f} is not a source file of this case"));
            }
        };
        match lhs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["mode"] => {
                self.mode = match value {
                    "cc" => Mode::Cc,
                    "c++" => Mode::Cxx,
                    "freestanding" => Mode::Freestanding,
                    _ => bad("mode must be cc, c++ or freestanding"),
                }
            }
            ["cflags"] => self.cflags.extend(words(value)),
            ["cflags", file] => {
                need_source(file);
                self.file_cflags
                    .entry(file.to_string())
                    .or_default()
                    .extend(words(value));
            }
            ["archive", name] => {
                let members = words(value);
                for m in &members {
                    need_source(m);
                }
                self.archives.push((name.to_string(), members));
            }
            ["link"] => self.link = Some(words(value)),
            ["ldflags"] => self.ldflags.extend(words(value)),
            ["args"] => self.args = words(value),
            ["env"] => {
                for kv in words(value) {
                    let Some((k, v)) = kv.split_once('=') else {
                        bad("env wants NAME=VALUE")
                    };
                    self.env.push((k.to_string(), v.to_string()));
                }
            }
            _ => bad("unknown key"),
        }
    }

    fn in_archive(&self, src: &str) -> bool {
        self.archives
            .iter()
            .any(|(_, m)| m.iter().any(|x| x == src))
    }
}

fn discover(group: &str) -> Vec<Case> {
    let dir = fixtures_dir().join(group);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read fixture dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut cases = Vec::new();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "ref_start.s" {
            continue;
        }
        if path.is_dir() {
            let mut sources: Vec<String> = fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| is_source(n))
                .collect();
            sources.sort();
            assert!(
                !sources.is_empty(),
                "fixture {group}/{name} has no source files"
            );
            let mut case = Case::new(format!("{group}/{name}"), path.clone(), sources, group);
            let conf = path.join("case.conf");
            if conf.exists() {
                for line in fs::read_to_string(&conf).unwrap().lines() {
                    let line = line.trim();
                    if !line.is_empty() && !line.starts_with('#') {
                        case.configure(line);
                    }
                }
            }
            cases.push(case);
        } else if is_source(&name) {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let mut case = Case::new(format!("{group}/{stem}"), dir.clone(), vec![name], group);
            for line in fs::read_to_string(&path).unwrap().lines() {
                let line = line.trim();
                if let Some(conf) = line
                    .strip_prefix("// e2e:")
                    .or_else(|| line.strip_prefix("# e2e:"))
                {
                    case.configure(conf.trim());
                }
            }
            cases.push(case);
        }
    }
    if let Some(f) = filter() {
        cases.retain(|c| c.id.contains(&f));
    }
    cases
}

// ---------------------------------------------------------------------------
// Work directories
// ---------------------------------------------------------------------------

struct Work {
    root: PathBuf,
    /// Directory with `ld` -> linker under test, for `gcc -B`.
    ldbin: PathBuf,
}

impl Work {
    fn new(name: &str) -> Work {
        static PRUNE: std::sync::Once = std::sync::Once::new();
        PRUNE.call_once(prune_stale_work_dirs);
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("e2e-{}", std::process::id()))
            .join(name);
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let ldbin = root.join("ldbin");
        fs::create_dir_all(&ldbin).unwrap();
        std::os::unix::fs::symlink(test_linker(), ldbin.join("ld")).unwrap();
        Work { root, ldbin }
    }

    /// `-B dir/` argument for gcc.
    fn b_arg(&self) -> String {
        format!("{}/", self.ldbin.display())
    }

    fn finish(self, passed: bool) {
        if passed && !keep_work() {
            let _ = fs::remove_dir_all(&self.root);
            let _ = fs::remove_dir(self.root.parent().unwrap());
        }
    }
}

/// Removes `e2e-<pid>` work directories left behind (failed runs) by test
/// processes that no longer exist.
fn prune_stale_work_dirs() {
    let Ok(entries) = fs::read_dir(env!("CARGO_TARGET_TMPDIR")) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("e2e-")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Compiles `tests/fixtures/freestanding/ref_start.s` into `dir`.
fn build_ref_start(dir: &Path) -> Result<PathBuf, String> {
    let obj = dir.join("ref_start.o");
    let src = fixtures_dir().join("freestanding/ref_start.s");
    let out = run(
        Command::new("gcc").arg("-c").arg("-o").arg(&obj).arg(&src),
        TOOL_TIMEOUT,
    );
    if !out.success() {
        return Err(format!(
            "assembling ref_start.s failed:\n$ {}\n{}",
            out.cmdline,
            out.stderr_str()
        ));
    }
    Ok(obj)
}

// ---------------------------------------------------------------------------
// One case
// ---------------------------------------------------------------------------

/// Everything needed to explain a failure.
struct Report {
    id: String,
    dir: PathBuf,
    commands: Vec<String>,
}

impl Report {
    fn fail(&self, reason: &str, details: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "==================== FIXTURE {} FAILED: {reason}",
            self.id
        );
        let _ = writeln!(s, "work dir: {}", self.dir.display());
        let _ = writeln!(s, "commands:");
        for c in &self.commands {
            let _ = writeln!(s, "  $ {c}");
        }
        s.push_str(details);
        s
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 6000;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n... ({} more bytes)", &s[..end], s.len() - end)
}

fn indent(s: &str) -> String {
    if s.is_empty() {
        return "    (empty)\n".into();
    }
    let mut out = String::new();
    for l in clip(s).lines() {
        let _ = writeln!(out, "    | {l}");
    }
    out
}

fn show_output(label: &str, o: &Output) -> String {
    format!(
        "--- {label}: {}\n  stdout:\n{}  stderr:\n{}",
        o.status_text(),
        indent(&o.stdout_str()),
        indent(&o.stderr_str())
    )
}

fn first_difference(a: &str, b: &str) -> String {
    let (al, bl): (Vec<_>, Vec<_>) = (a.lines().collect(), b.lines().collect());
    for i in 0..al.len().max(bl.len()) {
        let (x, y) = (al.get(i), bl.get(i));
        if x != y {
            return format!(
                "first difference at line {}:\n  GNU ld : {}\n  {:7}: {}\n",
                i + 1,
                x.map_or("(end of output)".into(), |s| format!("{s:?}")),
                if bfd_mode() { "test" } else { "initlink" },
                y.map_or("(end of output)".into(), |s| format!("{s:?}")),
            );
        }
    }
    "outputs differ only in trailing newline/bytes\n".into()
}

/// How the C and C++ groups are linked: the same fixtures run in each mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Link {
    Static,
    Pie,
    NoPie,
}

impl Link {
    fn flags(self) -> &'static [&'static str] {
        match self {
            Link::Static => &["-static"],
            Link::Pie => &["-pie"],
            Link::NoPie => &["-no-pie"],
        }
    }
    fn name(self) -> &'static str {
        match self {
            Link::Static => "static",
            Link::Pie => "pie",
            Link::NoPie => "nopie",
        }
    }
}

fn run_case(work: &Work, case: &Case, ref_start: Option<&Path>, link: Link) -> Result<(), String> {
    let dir = work.root.join(case.id.replace('/', "__"));
    fs::create_dir_all(dir.join("obj")).unwrap();
    // Same-length directory names, so argv[0] has the same length on both sides.
    fs::create_dir_all(dir.join("bfd")).unwrap();
    fs::create_dir_all(dir.join("ini")).unwrap();
    let mut rep = Report {
        id: case.id.clone(),
        dir: dir.clone(),
        commands: Vec::new(),
    };

    // Compile every source once.
    let mut objects: BTreeMap<String, PathBuf> = BTreeMap::new();
    for src in &case.sources {
        // Paths are relative to the case directory, every command's cwd.
        let obj = PathBuf::from("obj").join(format!("{src}.o"));
        let is_cxx = src.ends_with(".cc") || src.ends_with(".cpp");
        let mut cmd = Command::new(if is_cxx { "g++" } else { "gcc" });
        cmd.current_dir(&dir).arg("-c");
        if case.mode == Mode::Freestanding {
            cmd.args(FREESTANDING_CFLAGS)
                .arg("-I")
                .arg(fixtures_dir().join("freestanding"));
        } else {
            cmd.arg("-O1");
        }
        cmd.args(&case.cflags);
        if let Some(f) = case.file_cflags.get(src) {
            cmd.args(f);
        }
        cmd.arg("-o").arg(&obj).arg(case.src_dir.join(src));
        let out = run(&mut cmd, TOOL_TIMEOUT);
        rep.commands.push(out.cmdline.clone());
        if !out.success() {
            return Err(rep.fail(
                "compiling the fixture failed",
                &show_output("compiler", &out),
            ));
        }
        objects.insert(src.clone(), obj);
    }

    // Archives.
    let mut archives: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (name, members) in &case.archives {
        let path = PathBuf::from("obj").join(name);
        let mut cmd = Command::new("ar");
        cmd.current_dir(&dir).arg("rcs").arg(&path);
        for m in members {
            cmd.arg(&objects[m]);
        }
        let out = run(&mut cmd, TOOL_TIMEOUT);
        rep.commands.push(out.cmdline.clone());
        if !out.success() {
            return Err(rep.fail("ar failed", &show_output("ar", &out)));
        }
        archives.insert(name.clone(), path);
    }

    // Link items, in order.
    let items: Vec<String> = match &case.link {
        Some(list) => list
            .iter()
            .map(|t| {
                if let Some(o) = objects.get(t) {
                    o.display().to_string()
                } else if let Some(a) = archives.get(t) {
                    a.display().to_string()
                } else {
                    t.clone()
                }
            })
            .collect(),
        None => case
            .sources
            .iter()
            .filter(|s| !case.in_archive(s))
            .map(|s| objects[s].display().to_string())
            .chain(
                case.archives
                    .iter()
                    .map(|(n, _)| archives[n].display().to_string()),
            )
            .collect(),
    };
    for src in &case.sources {
        let o = objects[src].display().to_string();
        if !case.in_archive(src) && !items.contains(&o) {
            return Err(rep.fail(
                &format!("fixture error: {src} is neither linked nor archived"),
                "",
            ));
        }
    }

    let ref_exe = PathBuf::from("bfd/prog");
    let test_exe = PathBuf::from("ini/prog");
    let link_cmd = |exe: &Path, under_test: bool| -> Command {
        match case.mode {
            Mode::Cc | Mode::Cxx => {
                let mut c = Command::new(if case.mode == Mode::Cxx { "g++" } else { "gcc" });
                c.current_dir(&dir).args(link.flags());
                if under_test {
                    c.arg("-B").arg("../ldbin/");
                }
                c.arg("-o").arg(exe).args(&items).args(&case.ldflags);
                c
            }
            Mode::Freestanding => {
                let rs = Path::new("..").join(
                    ref_start
                        .expect("ref_start.o not built")
                        .file_name()
                        .unwrap(),
                );
                if under_test && !bfd_mode() {
                    let mut c = Command::new(initlink_bin());
                    c.current_dir(&dir)
                        .arg("-o")
                        .arg(exe)
                        .args(&items)
                        .args(&case.ldflags);
                    c
                } else {
                    let mut c = Command::new(gnu_ld());
                    c.current_dir(&dir)
                        .arg("-static")
                        .arg("-o")
                        .arg(exe)
                        .args(&items)
                        .arg(&rs)
                        .args(&case.ldflags);
                    c
                }
            }
        }
    };

    let ref_link = run(&mut link_cmd(&ref_exe, false), TOOL_TIMEOUT);
    rep.commands
        .push(format!("{}    # reference (GNU ld)", ref_link.cmdline));
    let test_link = run(&mut link_cmd(&test_exe, true), TOOL_TIMEOUT);
    rep.commands
        .push(format!("{}    # {}", test_link.cmdline, test_linker_name()));
    if !ref_link.success() {
        // Some fixtures cannot be linked as PIE (e.g. objects built with -fno-pie): then
        // initlink must refuse them too, with a diagnostic.
        if link != Link::Static
            && !test_link.success()
            && test_link.stderr_str().contains("initlink: error:")
        {
            return Ok(());
        }
        return Err(rep.fail(
            "fixture error: the reference link with GNU ld failed",
            &show_output("GNU ld link", &ref_link),
        ));
    }
    if !test_link.success() {
        return Err(rep.fail(
            &format!("linking with {} failed", test_linker_name()),
            &show_output(&format!("{} link", test_linker_name()), &test_link),
        ));
    }
    if !dir.join(&test_exe).is_file() {
        return Err(rep.fail(
            "the link reported success but wrote no output file",
            &show_output("link", &test_link),
        ));
    }

    // readelf must be happy with the output.
    let re = run(
        Command::new("readelf")
            .current_dir(&dir)
            .args(["-a", "-W"])
            .arg(&test_exe),
        TOOL_TIMEOUT,
    );
    rep.commands.push(format!("{} > /dev/null", re.cmdline));
    let re_err = re.stderr_str();
    if !re.success()
        || !re_err.trim().is_empty()
        || re_err.contains("Warning")
        || re_err.contains("Error")
    {
        return Err(rep.fail(
            "readelf -a -W complains about the output",
            &format!(
                "--- readelf: {}\n  stderr:\n{}",
                re.status_text(),
                indent(&re_err)
            ),
        ));
    }

    // Run both programs.
    let run_prog = |exe: &Path| -> Output {
        // Absolute program path (bfd/ and ini/ have the same length, so argv[0]
        // and the initial stack layout match on both sides).
        let mut c = Command::new(dir.join(exe));
        c.current_dir(&dir)
            .args(&case.args)
            .env_clear()
            .env("E2E_VAR", E2E_VAR)
            .envs(case.env.iter().map(|(k, v)| (k, v)));
        run(&mut c, RUN_TIMEOUT)
    };
    let r1 = run_prog(&ref_exe);
    rep.commands.push(format!("{}    # reference", r1.cmdline));
    let t = run_prog(&test_exe);
    rep.commands.push(format!("{}    # under test", t.cmdline));

    // Fixture sanity: deterministic, prints something, distinctive exit code.
    let r2 = run_prog(&ref_exe);
    if r1.stdout != r2.stdout || r1.stderr != r2.stderr || !r1.same_status(&r2) {
        return Err(rep.fail(
            "fixture error: the reference program is not deterministic",
            &format!(
                "{}{}",
                show_output("GNU ld, run 1", &r1),
                show_output("GNU ld, run 2", &r2)
            ),
        ));
    }
    let ref_code = r1.status.and_then(|s| s.code());
    if r1.stdout.is_empty() || ref_code.is_none_or(|c| c == 0) {
        return Err(rep.fail(
            "fixture error: the reference program must print something and exit with a distinctive non-zero code",
            &show_output("GNU ld", &r1),
        ));
    }

    let mut problems = Vec::new();
    if !r1.same_status(&t) {
        problems.push("exit status differs");
    }
    if r1.stdout != t.stdout {
        problems.push("stdout differs");
    }
    if r1.stderr != t.stderr {
        problems.push("stderr differs");
    }
    if !problems.is_empty() {
        let mut details = show_output("GNU ld (reference)", &r1);
        details += &show_output(test_linker_name(), &t);
        if r1.stdout != t.stdout {
            details += &first_difference(&r1.stdout_str(), &t.stdout_str());
        }
        return Err(rep.fail(&problems.join(", "), &details));
    }
    Ok(())
}

fn run_group(group: &str) {
    run_group_as(group, Link::Static)
}

fn run_group_as(group: &str, link: Link) {
    let cases = discover(group);
    if cases.is_empty() {
        assert!(filter().is_some(), "no fixtures found in group {group}");
        return;
    }
    let work = Work::new(&if link == Link::Static {
        group.to_string()
    } else {
        format!("{group}-{}", link.name())
    });
    let ref_start = if cases.iter().any(|c| c.mode == Mode::Freestanding) {
        match build_ref_start(&work.root) {
            Ok(p) => Some(p),
            Err(e) => panic!("{e}"),
        }
    } else {
        None
    };
    let mut failures = Vec::new();
    for case in &cases {
        let start = Instant::now();
        match run_case(&work, case, ref_start.as_deref(), link) {
            Ok(()) => println!("ok   {} ({:.2}s)", case.id, start.elapsed().as_secs_f64()),
            Err(msg) => {
                println!("FAIL {}", case.id);
                failures.push((case.id.clone(), msg));
            }
        }
    }
    let root = work.root.clone();
    let passed = failures.is_empty();
    work.finish(passed);
    if !passed {
        let names: Vec<_> = failures.iter().map(|(n, _)| n.as_str()).collect();
        let details: Vec<_> = failures.iter().map(|(_, m)| m.as_str()).collect();
        panic!(
            "{} of {} fixtures in group `{group}` failed with {}: {}\n(work dir kept: {})\n\n{}",
            failures.len(),
            cases.len(),
            test_linker_name(),
            names.join(", "),
            root.display(),
            details.join("\n"),
        );
    }
}

// ---------------------------------------------------------------------------
// Fixture groups
// ---------------------------------------------------------------------------

#[test]
fn static_c() {
    run_group("static");
}

#[test]
fn cxx() {
    run_group("cxx");
}

#[test]
fn pie_c() {
    run_group_as("static", Link::Pie);
}

#[test]
fn nopie_c() {
    run_group_as("static", Link::NoPie);
}

#[test]
fn pie_cxx() {
    run_group_as("cxx", Link::Pie);
}

#[test]
fn nopie_cxx() {
    run_group_as("cxx", Link::NoPie);
}

#[test]
fn asm() {
    run_group("asm");
}

#[test]
fn freestanding() {
    run_group("freestanding");
}

#[test]
fn shared() {
    run_shared_group("shared");
}

#[test]
fn shared_big_archives() {
    run_shared_group("shared-big");
}

// ---------------------------------------------------------------------------
// Shared objects: libraries and programs, each linked by both linkers
// ---------------------------------------------------------------------------

/// One library of a `shared` case.
#[derive(Debug)]
struct SharedLib {
    /// File name, e.g. `libfoo.so` or `libx.so.1`.
    name: String,
    sources: Vec<String>,
    /// Extra flags for linking this library (`libflags NAME = ...`).
    ldflags: Vec<String>,
}

/// A case of the `shared*` groups (a directory with a `case.conf`).
#[derive(Debug)]
struct SharedCase {
    id: String,
    src_dir: PathBuf,
    sources: Vec<String>,
    cxx: bool,
    cflags: Vec<String>,
    file_cflags: BTreeMap<String, Vec<String>>,
    libs: Vec<SharedLib>,
    /// (link name, target) symlinks made next to the libraries.
    symlinks: Vec<(String, String)>,
    program: Vec<String>,
    ldflags: Vec<String>,
    /// (name, flags); the first is always `base` with no flags.
    variants: Vec<(String, Vec<String>)>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    gdb: bool,
    /// Known bugs of the linker under test (`xfail` lines).
    xfail: Vec<Xfail>,
}

/// The checks of a shared case; a known bug (`xfail`) names the ones it breaks.
const SHARED_CHECKS: &[&str] = &[
    "link", "readelf", "dynamic", "dynsym", "binding", "ldd", "run", "gdb",
];

/// `xfail [VARIANT] [check CHECK] = REASON`: problems of that variant (default: any) and
/// check (default: any) are expected; they are printed, but do not fail the test.
#[derive(Debug)]
struct Xfail {
    variant: Option<String>,
    check: Option<String>,
    reason: String,
}

impl Xfail {
    fn covers(&self, variant: &str, check: &str) -> bool {
        check != "fixture"
            && self.variant.as_deref().is_none_or(|v| v == variant)
            && self.check.as_deref().is_none_or(|c| c == check)
    }
    fn scope(&self) -> String {
        format!(
            "variant {}, check {}",
            self.variant.as_deref().unwrap_or("any"),
            self.check.as_deref().unwrap_or("any")
        )
    }
}

/// One thing that went wrong in a variant of a shared case.
struct Problem {
    /// One of SHARED_CHECKS, or "fixture" (a broken fixture, never expected).
    check: &'static str,
    text: String,
}

fn problem(check: &'static str, text: String) -> Problem {
    Problem { check, text }
}

impl SharedCase {
    fn configure(&mut self, line: &str) {
        let id = self.id.clone();
        let bad = |why: &str| -> ! { panic!("fixture {id}: bad config line {line:?}: {why}") };
        let Some((lhs, value)) = line.split_once('=') else {
            bad("expected `key = value`")
        };
        let lhs = words(lhs);
        let value = value.trim();
        let need_source = |f: &str| {
            if !self.sources.iter().any(|s| s == f) {
                bad(&format!("{f} is not a source file of this case"));
            }
        };
        match lhs
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["mode"] => {
                self.cxx = match value {
                    "cc" => false,
                    "c++" => true,
                    _ => bad("mode must be cc or c++"),
                }
            }
            ["cflags"] => self.cflags.extend(words(value)),
            ["cflags", file] => {
                need_source(file);
                self.file_cflags
                    .entry(file.to_string())
                    .or_default()
                    .extend(words(value));
            }
            ["lib", name] => {
                let sources = words(value);
                for s in &sources {
                    need_source(s);
                }
                if self.libs.iter().any(|l| l.name == *name) {
                    bad("library defined twice");
                }
                self.libs.push(SharedLib {
                    name: name.to_string(),
                    sources,
                    ldflags: Vec::new(),
                });
            }
            ["libflags", name] => match self.libs.iter_mut().find(|l| l.name == *name) {
                Some(l) => l.ldflags.extend(words(value)),
                None => bad("libflags before (or without) its `lib` line"),
            },
            ["symlink", name] => self.symlinks.push((name.to_string(), value.to_string())),
            ["program"] => {
                let sources = words(value);
                for s in &sources {
                    need_source(s);
                }
                self.program = sources;
            }
            ["ldflags"] => self.ldflags.extend(words(value)),
            ["variant", name] => {
                if name.contains('/') || self.variants.iter().any(|(n, _)| n == name) {
                    bad("bad or duplicate variant name");
                }
                self.variants.push((name.to_string(), words(value)))
            }
            ["args"] => self.args = words(value),
            ["env"] => {
                for kv in words(value) {
                    let Some((k, v)) = kv.split_once('=') else {
                        bad("env wants NAME=VALUE")
                    };
                    self.env.push((k.to_string(), v.to_string()));
                }
            }
            ["gdb"] => {
                self.gdb = match value {
                    "yes" => true,
                    "no" => false,
                    _ => bad("gdb = yes | no"),
                }
            }
            ["xfail", rest @ ..] => {
                let (variant, check) = match rest {
                    [] => (None, None),
                    [v] => (Some(v.to_string()), None),
                    ["check", c] => (None, Some(c.to_string())),
                    [v, "check", c] => (Some(v.to_string()), Some(c.to_string())),
                    _ => bad("xfail [VARIANT] [check CHECK] = REASON"),
                };
                if let Some(c) = &check {
                    if !SHARED_CHECKS.contains(&c.as_str()) {
                        bad(&format!(
                            "unknown check {c}; checks: {}",
                            SHARED_CHECKS.join(" ")
                        ));
                    }
                }
                self.xfail.push(Xfail {
                    variant,
                    check,
                    reason: value.to_string(),
                });
            }
            _ => bad("unknown key"),
        }
    }

    fn lib_of(&self, src: &str) -> Option<&SharedLib> {
        self.libs
            .iter()
            .find(|l| l.sources.iter().any(|s| s == src))
    }
}

fn discover_shared(group: &str) -> Vec<SharedCase> {
    let dir = fixtures_dir().join(group);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read fixture dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    let mut cases = Vec::new();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let id = format!("{group}/{name}");
        let mut sources: Vec<String> = fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| is_source(n))
            .collect();
        sources.sort();
        let mut case = SharedCase {
            id: id.clone(),
            src_dir: path.clone(),
            sources,
            cxx: false,
            cflags: Vec::new(),
            file_cflags: BTreeMap::new(),
            libs: Vec::new(),
            symlinks: Vec::new(),
            program: Vec::new(),
            ldflags: Vec::new(),
            variants: vec![("base".into(), Vec::new())],
            args: DEFAULT_ARGS.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            gdb: false,
            xfail: Vec::new(),
        };
        let conf = path.join("case.conf");
        let text = fs::read_to_string(&conf)
            .unwrap_or_else(|e| panic!("fixture {id} needs a case.conf ({e})"));
        for line in text.lines() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                case.configure(line);
            }
        }
        if case.program.is_empty() {
            case.program = case
                .sources
                .iter()
                .filter(|s| case.lib_of(s).is_none())
                .cloned()
                .collect();
        }
        assert!(!case.program.is_empty(), "fixture {id}: no program sources");
        for s in &case.program {
            assert!(
                case.lib_of(s).is_none(),
                "fixture {id}: {s} is both in a library and in the program"
            );
        }
        for x in &case.xfail {
            if let Some(v) = &x.variant {
                assert!(
                    case.variants.iter().any(|(n, _)| n == v),
                    "fixture {id}: xfail for unknown variant {v}"
                );
            }
        }
        cases.push(case);
    }
    if let Some(f) = filter() {
        cases.retain(|c| c.id.contains(&f));
    }
    cases
}

/// Who links a library or a program.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Bfd,
    Ini,
}

impl Side {
    fn letter(self) -> char {
        match self {
            Side::Bfd => 'b',
            Side::Ini => 'i',
        }
    }
    fn lib_dir(self) -> &'static str {
        match self {
            Side::Bfd => "lib-bfd",
            Side::Ini => "lib-ini",
        }
    }
    fn linker(self) -> &'static str {
        match self {
            Side::Bfd => "GNU ld",
            Side::Ini => test_linker_name(),
        }
    }
}

/// (library linker, program linker) -> directory `bb`, `ii`, `ib`, `bi`.
/// The reference is `bb`. All names have the same length, so argv[0] and the
/// initial stack have the same layout in every combination.
fn combo_dir(lib: Side, exe: Side) -> String {
    format!("{}{}", lib.letter(), exe.letter())
}

fn combo_desc(lib: Side, exe: Side) -> String {
    format!(
        "{} (libraries: {}, program: {})",
        combo_dir(lib, exe),
        lib.linker(),
        exe.linker()
    )
}

/// `readelf -d` entries that must agree between the two linkers: NEEDED (in
/// order), SONAME, RPATH/RUNPATH, and whether binding is immediate.
fn dynamic_summary(dir: &Path, file: &str, rep: &mut Report) -> Result<Vec<String>, String> {
    let out = run(
        Command::new("readelf")
            .current_dir(dir)
            .args(["-d", "-W", file]),
        TOOL_TIMEOUT,
    );
    rep.commands.push(out.cmdline.clone());
    if !out.success() {
        return Err(show_output("readelf -d", &out));
    }
    let mut entries = Vec::new();
    let mut now = false;
    for line in out.stdout_str().lines() {
        let Some(open) = line.find('(') else { continue };
        let Some(close) = line[open..].find(')') else {
            continue;
        };
        let tag = &line[open + 1..open + close];
        let rest = line[open + close + 1..].trim();
        let bracketed = rest
            .find('[')
            .and_then(|a| rest.rfind(']').map(|b| rest[a + 1..b].to_string()));
        match tag {
            "NEEDED" | "SONAME" | "RPATH" | "RUNPATH" => {
                entries.push(format!("{tag} {}", bracketed.unwrap_or_default()))
            }
            "BIND_NOW" => now = true,
            "FLAGS" if rest.contains("BIND_NOW") => now = true,
            "FLAGS_1" if rest.split_whitespace().any(|w| w == "NOW") => now = true,
            _ => {}
        }
    }
    entries.push(format!(
        "immediate binding: {}",
        if now { "yes" } else { "no" }
    ));
    Ok(entries)
}

/// The undefined symbols of `.dynsym` (what a file imports), by name without
/// version: (`name@version type`, plus ` (canonical PLT)` when the symbol has
/// an address: an executable's PLT entry stands for the function; binding).
struct Imports(BTreeMap<String, (String, String)>);

fn imported_symbols(dir: &Path, file: &str, rep: &mut Report) -> Result<Imports, Problem> {
    let out = run(
        Command::new("readelf")
            .current_dir(dir)
            .args(["--dyn-syms", "-W", file]),
        TOOL_TIMEOUT,
    );
    rep.commands.push(out.cmdline.clone());
    if !out.success() {
        return Err(problem(
            "fixture",
            format!(
                "=== readelf --dyn-syms failed\n{}",
                show_output("readelf --dyn-syms", &out)
            ),
        ));
    }
    let mut map = BTreeMap::new();
    for line in out.stdout_str().lines() {
        // Num: Value Size Type Bind Vis Ndx Name [(verindex)]
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 || !f[0].ends_with(':') || f[6] != "UND" {
            continue;
        }
        let value = u64::from_str_radix(f[1], 16).unwrap_or(0);
        let base = f[7].split('@').next().unwrap_or(f[7]).to_string();
        let desc = format!(
            "{} {}{}",
            f[7],
            f[3],
            if value != 0 { " (canonical PLT)" } else { "" }
        );
        map.insert(base, (desc, f[4].to_string()));
    }
    Ok(Imports(map))
}

/// Compares what a file linked by the linker under test imports with GNU ld's
/// version: `dynsym` (name@version, type, canonical PLT entry; symbols GNU ld
/// does not import at all) and `binding` (GLOBAL/WEAK must come from the
/// references, not from the library that defines the symbol). Symbols only
/// GNU ld imports are not reported: it also imports the strong aliases of
/// weak symbols (`__environ` for `environ`).
fn compare_imports(
    what: &str,
    theirs: &str,
    gnu: &Imports,
    test: &Imports,
    problems: &mut Vec<Problem>,
) {
    let (mut syms, mut bindings) = (String::new(), String::new());
    for (name, (desc, bind)) in &test.0 {
        match gnu.0.get(name) {
            None => {
                let _ = writeln!(syms, "    {desc}: not imported by GNU ld");
            }
            Some((gdesc, gbind)) => {
                if gdesc != desc {
                    let _ = writeln!(syms, "    GNU ld: {gdesc:50}  {theirs}: {desc}");
                }
                if gbind != bind {
                    let _ = writeln!(bindings, "    {name}: GNU ld {gbind}, {theirs} {bind}");
                }
            }
        }
    }
    if !syms.is_empty() {
        problems.push(problem(
            "dynsym",
            format!(
                "=== the undefined dynamic symbols of {what} differ (readelf --dyn-syms)\n{syms}"
            ),
        ));
    }
    let n = bindings.lines().count();
    if n > 12 {
        bindings = bindings
            .lines()
            .take(10)
            .map(|l| format!("{l}\n"))
            .collect();
        let _ = writeln!(bindings, "    ... and {} more", n - 10);
    }
    if !bindings.is_empty() {
        problems.push(problem(
            "binding",
            format!(
                "=== the bindings of the undefined dynamic symbols of {what} differ (readelf --dyn-syms)\n{bindings}"
            ),
        ));
    }
}

/// `readelf -a -W FILE` must succeed without a word on stderr.
fn readelf_clean(dir: &Path, file: &str, rep: &mut Report) -> Result<(), String> {
    let re = run(
        Command::new("readelf")
            .current_dir(dir)
            .args(["-a", "-W", file]),
        TOOL_TIMEOUT,
    );
    rep.commands.push(format!("{} > /dev/null", re.cmdline));
    let err = re.stderr_str();
    if !re.success() || !err.trim().is_empty() {
        return Err(format!(
            "--- readelf -a -W {}: {}\n  stderr:\n{}",
            dir.join(file).display(),
            re.status_text(),
            indent(&err)
        ));
    }
    Ok(())
}

/// The names (first word of each line) that `ldd` lists for a program.
fn ldd_names(prog: &Path, rep: &mut Report) -> Result<Vec<String>, String> {
    let out = run(Command::new("ldd").arg(prog), TOOL_TIMEOUT);
    rep.commands.push(out.cmdline.clone());
    if !out.success() {
        return Err(show_output("ldd", &out));
    }
    Ok(out
        .stdout_str()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect())
}

fn gdb_available() -> bool {
    static HAVE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAVE.get_or_init(|| run(Command::new("gdb").arg("--version"), TOOL_TIMEOUT).success())
}

/// `gdb -batch -ex 'break main' -ex run -ex bt PROG`: did it stop in main?
fn gdb_stops_in_main(dir: &Path, prog: &Path, rep: &mut Report) -> (bool, Output) {
    let out = run(
        Command::new("gdb")
            .current_dir(dir)
            .args(["-nx", "-batch"])
            .args(["-iex", "set debuginfod enabled off"])
            .args(["-ex", "break main", "-ex", "run", "-ex", "bt"])
            .arg(prog),
        TOOL_TIMEOUT,
    );
    rep.commands.push(out.cmdline.clone());
    let text = out.stdout_str();
    let stopped = text.lines().any(|l| l.starts_with("Breakpoint 1, "))
        && text
            .lines()
            .any(|l| l.starts_with("#0 ") && l.split_whitespace().any(|w| w == "main"));
    (stopped, out)
}

fn rel(path: &str, up: usize) -> String {
    format!("{}{path}", "../".repeat(up))
}

fn copy_dir_files(from: &Path, to: &Path) {
    for e in fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            let target = fs::read_link(e.path()).unwrap();
            std::os::unix::fs::symlink(target, &dst).unwrap();
        } else if ft.is_file() {
            fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// Compiles one source of a shared case into `obj_dir` (relative to `dir`).
fn shared_compile(
    case: &SharedCase,
    dir: &Path,
    obj_dir: &str,
    src: &str,
    extra: &[String],
    rep: &mut Report,
) -> Result<String, Problem> {
    let obj = format!("{obj_dir}/{src}.o");
    let is_cxx = src.ends_with(".cc") || src.ends_with(".cpp");
    let mut cmd = Command::new(if is_cxx { "g++" } else { "gcc" });
    cmd.current_dir(dir).arg("-c").arg("-O1").args(extra);
    cmd.args(&case.cflags);
    if let Some(f) = case.file_cflags.get(src) {
        cmd.args(f);
    }
    cmd.arg("-o").arg(&obj).arg(case.src_dir.join(src));
    let out = run(&mut cmd, TOOL_TIMEOUT);
    rep.commands.push(out.cmdline.clone());
    if !out.success() {
        return Err(problem(
            "fixture",
            format!(
                "=== fixture error: compiling {src} failed\n{}",
                show_output("compiler", &out)
            ),
        ));
    }
    Ok(obj)
}

/// The outcome of one variant of a shared case.
struct VariantResult {
    variant: String,
    rep: Report,
    problems: Vec<Problem>,
}

/// Runs one case in every variant.
fn run_shared_case(work: &Work, case: &SharedCase) -> Vec<VariantResult> {
    let dir = work.root.join(case.id.replace('/', "__"));
    fs::create_dir_all(dir.join("obj")).unwrap();
    let mut rep = Report {
        id: case.id.clone(),
        dir: dir.clone(),
        commands: Vec::new(),
    };
    // Library objects: compiled once, with -fPIC.
    let mut lib_objs: BTreeMap<String, String> = BTreeMap::new();
    for lib in &case.libs {
        for src in &lib.sources {
            match shared_compile(case, &dir, "obj", src, &["-fPIC".to_string()], &mut rep) {
                Ok(o) => {
                    lib_objs.insert(src.clone(), o);
                }
                Err(p) => {
                    return vec![VariantResult {
                        variant: "(all)".into(),
                        rep,
                        problems: vec![p],
                    }]
                }
            }
        }
    }
    let mut results = Vec::new();
    for (variant, vflags) in &case.variants {
        let mut vrep = Report {
            id: if vflags.is_empty() {
                format!("{} [variant {variant}]", case.id)
            } else {
                format!("{} [variant {variant}: {}]", case.id, vflags.join(" "))
            },
            dir: dir.join(variant),
            commands: rep.commands.clone(),
        };
        let problems =
            match run_shared_variant(work, case, &dir, variant, vflags, &lib_objs, &mut vrep) {
                Ok(p) => p,
                Err(p) => vec![p],
            };
        results.push(VariantResult {
            variant: variant.clone(),
            rep: vrep,
            problems,
        });
    }
    results
}

/// Builds and checks one variant. `Err` is a problem after which nothing more can be checked;
/// `Ok` lists the problems found.
fn run_shared_variant(
    work: &Work,
    case: &SharedCase,
    case_dir: &Path,
    variant: &str,
    vflags: &[String],
    lib_objs: &BTreeMap<String, String>,
    rep: &mut Report,
) -> Result<Vec<Problem>, Problem> {
    let vdir = case_dir.join(variant);
    fs::create_dir_all(vdir.join("obj")).unwrap();
    // Program objects: compiled per variant (e.g. -fno-pie for -no-pie).
    let mut prog_objs = Vec::new();
    for src in &case.program {
        prog_objs.push(shared_compile(case, &vdir, "obj", src, vflags, rep)?);
    }
    // Only the linker options of a variant apply to the libraries (-no-pie
    // would turn `gcc -shared` into a program link).
    let lib_vflags: Vec<&String> = vflags.iter().filter(|f| f.starts_with("-Wl,")).collect();
    let driver = if case.cxx { "g++" } else { "gcc" };
    let b_arg = work.b_arg();
    let mut problems: Vec<Problem> = Vec::new();

    let link = |cwd: &Path, side: Side, args: &mut dyn FnMut(&mut Command), rep: &mut Report| {
        let mut c = Command::new(driver);
        c.current_dir(cwd);
        if side == Side::Ini {
            c.arg("-B").arg(&b_arg);
        }
        args(&mut c);
        let out = run(&mut c, TOOL_TIMEOUT);
        rep.commands
            .push(format!("{}    # {}", out.cmdline, side.linker()));
        out
    };
    let readelf_d = |dir: &Path, file: &str, rep: &mut Report| {
        dynamic_summary(dir, file, rep).map_err(|d| {
            problem(
                "fixture",
                format!("=== readelf -d {} failed\n{d}", dir.join(file).display()),
            )
        })
    };

    // Libraries, in case.conf order, by each linker.
    let mut ini_libs_ok = true;
    'sides: for side in [Side::Bfd, Side::Ini] {
        let ldir = vdir.join(side.lib_dir());
        fs::create_dir_all(&ldir).unwrap();
        for (name, target) in &case.symlinks {
            let _ = std::os::unix::fs::symlink(target, ldir.join(name));
        }
        for lib in &case.libs {
            let out = link(
                &ldir,
                side,
                &mut |c| {
                    c.arg("-shared").arg("-o").arg(&lib.name);
                    for s in &lib.sources {
                        c.arg(rel(&lib_objs[s], 2));
                    }
                    c.args(&lib.ldflags).args(&lib_vflags);
                },
                rep,
            );
            if !out.success() {
                if side == Side::Bfd {
                    return Err(problem(
                        "fixture",
                        format!(
                            "=== fixture error: linking {} with GNU ld failed\n{}",
                            lib.name,
                            show_output("GNU ld", &out)
                        ),
                    ));
                }
                // Go on with GNU ld's libraries only.
                problems.push(problem(
                    "link",
                    format!(
                        "=== linking {} with {} failed (only the combinations with GNU ld's libraries are checked)\n{}",
                        lib.name,
                        side.linker(),
                        show_output(side.linker(), &out)
                    ),
                ));
                ini_libs_ok = false;
                break 'sides;
            }
            if side == Side::Ini {
                if let Err(d) = readelf_clean(&ldir, &lib.name, rep) {
                    problems.push(problem(
                        "readelf",
                        format!("=== readelf -a -W complains about {}\n{d}", lib.name),
                    ));
                }
            }
        }
    }
    for lib in case.libs.iter().filter(|_| ini_libs_ok) {
        let b = readelf_d(&vdir.join("lib-bfd"), &lib.name, rep)?;
        let i = readelf_d(&vdir.join("lib-ini"), &lib.name, rep)?;
        if b != i {
            problems.push(problem(
                "dynamic",
                format!(
                    "=== the dynamic section of {} differs (readelf -d: NEEDED, SONAME, RUNPATH, binding)\n  GNU ld   : {}\n  {:9}: {}\n",
                    lib.name,
                    b.join(", "),
                    test_linker_name(),
                    i.join(", ")
                ),
            ));
        }
        let b = imported_symbols(&vdir.join("lib-bfd"), &lib.name, rep)?;
        let i = imported_symbols(&vdir.join("lib-ini"), &lib.name, rep)?;
        compare_imports(&lib.name, test_linker_name(), &b, &i, &mut problems);
    }

    // The program, in each combination. Without libraries, only the program's
    // linker varies.
    let mut combos: Vec<(Side, Side)> = if case.libs.is_empty() {
        vec![(Side::Bfd, Side::Bfd), (Side::Bfd, Side::Ini)]
    } else {
        vec![
            (Side::Bfd, Side::Bfd),
            (Side::Ini, Side::Ini),
            (Side::Ini, Side::Bfd),
            (Side::Bfd, Side::Ini),
        ]
    };
    if !ini_libs_ok {
        combos.retain(|&(lib, _)| lib == Side::Bfd);
    }
    let mut linked = Vec::new();
    for &(lib, exe) in &combos {
        let cdir = vdir.join(combo_dir(lib, exe));
        fs::create_dir_all(&cdir).unwrap();
        copy_dir_files(&vdir.join(lib.lib_dir()), &cdir);
        let out = link(
            &cdir,
            exe,
            &mut |c| {
                c.args(vflags).arg("-o").arg("prog");
                for o in &prog_objs {
                    c.arg(rel(o, 1));
                }
                c.args(&case.ldflags);
            },
            rep,
        );
        if !out.success() {
            let text = format!(
                "=== linking the program failed in {}\n{}",
                combo_desc(lib, exe),
                show_output(exe.linker(), &out)
            );
            if (lib, exe) == (Side::Bfd, Side::Bfd) {
                return Err(problem("fixture", text));
            }
            // GNU ld linking against initlink's libraries is a test of the libraries.
            problems.push(problem("link", text));
            continue;
        }
        linked.push((lib, exe));
        if exe == Side::Ini {
            if let Err(d) = readelf_clean(&cdir, "prog", rep) {
                problems.push(problem(
                    "readelf",
                    format!(
                        "=== readelf -a -W complains about the program of {}\n{d}",
                        combo_desc(lib, exe)
                    ),
                ));
            }
        }
    }

    let ref_dir = vdir.join("bb");

    // DT_NEEDED & co. of the programs.
    let ref_dyn = readelf_d(&ref_dir, "prog", rep)?;
    for &(lib, exe) in &linked[1..] {
        let d = readelf_d(&vdir.join(combo_dir(lib, exe)), "prog", rep)?;
        if d != ref_dyn {
            problems.push(problem(
                "dynamic",
                format!(
                    "=== the program's dynamic section (readelf -d: NEEDED, SONAME, RUNPATH, binding) differs in {}\n  GNU ld   : {}\n  this     : {}\n",
                    combo_desc(lib, exe),
                    ref_dyn.join(", "),
                    d.join(", ")
                ),
            ));
        }
    }

    let ref_syms = imported_symbols(&ref_dir, "prog", rep)?;
    for &(lib, exe) in &linked[1..] {
        let d = imported_symbols(&vdir.join(combo_dir(lib, exe)), "prog", rep)?;
        compare_imports(
            &format!("the program in {}", combo_desc(lib, exe)),
            &combo_dir(lib, exe),
            &ref_syms,
            &d,
            &mut problems,
        );
    }

    // ldd: the same libraries, in the same order.
    let ref_ldd = ldd_names(&ref_dir.join("prog"), rep).map_err(|d| {
        problem(
            "fixture",
            format!("=== fixture error: ldd failed on the reference program\n{d}"),
        )
    })?;
    for &(lib, exe) in &linked[1..] {
        match ldd_names(&vdir.join(combo_dir(lib, exe)).join("prog"), rep) {
            Ok(names) if names == ref_ldd => {}
            Ok(names) => problems.push(problem(
                "ldd",
                format!(
                    "=== ldd lists other libraries in {}\n  GNU ld   : {}\n  this     : {}\n",
                    combo_desc(lib, exe),
                    ref_ldd.join(" "),
                    names.join(" ")
                ),
            )),
            Err(d) => problems.push(problem(
                "ldd",
                format!("=== ldd failed in {}\n{d}", combo_desc(lib, exe)),
            )),
        }
    }

    // Run every combination.
    let run_prog = |cdir: &Path| -> Output {
        let mut c = Command::new(cdir.join("prog"));
        c.current_dir(cdir)
            .args(&case.args)
            .env_clear()
            .env("E2E_VAR", E2E_VAR)
            .envs(case.env.iter().map(|(k, v)| (k, v)));
        run(&mut c, RUN_TIMEOUT)
    };
    let r1 = run_prog(&ref_dir);
    rep.commands.push(format!("{}    # reference", r1.cmdline));
    let r2 = run_prog(&ref_dir);
    if r1.stdout != r2.stdout || r1.stderr != r2.stderr || !r1.same_status(&r2) {
        return Err(problem(
            "fixture",
            format!(
                "=== fixture error: the reference program is not deterministic\n{}{}",
                show_output("GNU ld, run 1", &r1),
                show_output("GNU ld, run 2", &r2)
            ),
        ));
    }
    let ref_code = r1.status.and_then(|s| s.code());
    if r1.stdout.is_empty() || ref_code.is_none_or(|c| c == 0) {
        return Err(problem(
            "fixture",
            format!(
                "=== fixture error: the reference program must print something and exit with a distinctive non-zero code\n{}",
                show_output("GNU ld", &r1)
            ),
        ));
    }
    for &(lib, exe) in &linked[1..] {
        let cdir = vdir.join(combo_dir(lib, exe));
        let t = run_prog(&cdir);
        rep.commands
            .push(format!("{}    # {}", t.cmdline, combo_dir(lib, exe)));
        let mut what = Vec::new();
        if !r1.same_status(&t) {
            what.push("exit status differs");
        }
        if r1.stdout != t.stdout {
            what.push("stdout differs");
        }
        if r1.stderr != t.stderr {
            what.push("stderr differs");
        }
        if !what.is_empty() {
            let mut details = format!("=== {} in {}\n", what.join(", "), combo_desc(lib, exe));
            details += &show_output("reference (bb)", &r1);
            details += &show_output(&combo_dir(lib, exe), &t);
            if r1.stdout != t.stdout {
                details += &first_difference(&r1.stdout_str(), &t.stdout_str());
            }
            problems.push(problem("run", details));
        }
    }

    // gdb must stop in main of the programs linked by initlink.
    if case.gdb {
        if !gdb_available() {
            println!("note {}: gdb not installed, gdb check skipped", case.id);
        } else {
            let (ref_ok, ref_out) = gdb_stops_in_main(&ref_dir, &ref_dir.join("prog"), rep);
            if !ref_ok {
                println!(
                    "note {}: gdb does not stop in main even for the GNU ld program here; gdb check skipped\n{}",
                    case.id,
                    show_output("gdb", &ref_out)
                );
            } else {
                for &(lib, exe) in &linked[1..] {
                    if exe != Side::Ini {
                        continue;
                    }
                    let cdir = vdir.join(combo_dir(lib, exe));
                    let (ok, out) = gdb_stops_in_main(&cdir, &cdir.join("prog"), rep);
                    if !ok {
                        problems.push(problem(
                            "gdb",
                            format!(
                                "=== gdb did not stop in main (`Breakpoint 1, ...` and a `#0 ... main` frame) in {}\n{}",
                                combo_desc(lib, exe),
                                show_output("gdb", &out)
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(problems)
}

fn run_shared_group(group: &str) {
    let cases = discover_shared(group);
    if cases.is_empty() {
        assert!(filter().is_some(), "no fixtures found in group {group}");
        return;
    }
    let work = Work::new(group);
    let mut failures = Vec::new();
    let mut expected_count = 0;
    for case in &cases {
        let start = Instant::now();
        let results = run_shared_case(&work, case);
        let mut used = vec![false; case.xfail.len()];
        let mut unexpected = Vec::new();
        for r in &results {
            let (mut exp, mut unexp) = (String::new(), String::new());
            for p in &r.problems {
                match case
                    .xfail
                    .iter()
                    .position(|x| x.covers(&r.variant, p.check))
                {
                    Some(k) => {
                        used[k] = true;
                        let _ = write!(
                            exp,
                            "[known bug ({}): {}]\n{}",
                            case.xfail[k].scope(),
                            case.xfail[k].reason,
                            p.text
                        );
                    }
                    None => unexp += &p.text,
                }
            }
            if !exp.is_empty() {
                expected_count += 1;
                println!(
                    "xfail {} [variant {}]: known bug(s) of {} (work dir {}):\n{}  commands:",
                    case.id,
                    r.variant,
                    test_linker_name(),
                    r.rep.dir.display(),
                    exp.lines().map(|l| format!("  {l}\n")).collect::<String>()
                );
                for c in &r.rep.commands {
                    println!("    $ {c}");
                }
            }
            if !unexp.is_empty() {
                let n = r
                    .problems
                    .iter()
                    .filter(|p| !case.xfail.iter().any(|x| x.covers(&r.variant, p.check)))
                    .count();
                unexpected.push(r.rep.fail(&format!("{n} problem(s)"), &unexp));
            }
        }
        for (k, x) in case.xfail.iter().enumerate() {
            if !used[k] && !bfd_mode() {
                println!(
                    "XPASS {} ({}): marked xfail ({}) but nothing failed there: remove the xfail line",
                    case.id,
                    x.scope(),
                    x.reason
                );
            }
        }
        if unexpected.is_empty() {
            println!(
                "ok   {} ({:.2}s){}",
                case.id,
                start.elapsed().as_secs_f64(),
                if used.iter().any(|&u| u) {
                    " with known bugs (xfail)"
                } else {
                    ""
                }
            );
        } else {
            println!("FAIL {}", case.id);
            failures.push((case.id.clone(), unexpected.join("\n")));
        }
    }
    let root = work.root.clone();
    let passed = failures.is_empty();
    work.finish(passed && expected_count == 0);
    if !passed {
        let names: Vec<_> = failures.iter().map(|(n, _)| n.as_str()).collect();
        let details: Vec<_> = failures.iter().map(|(_, m)| m.as_str()).collect();
        panic!(
            "{} of {} fixtures in group `{group}` failed with {}: {}\n(work dir kept: {})\n\n{}",
            failures.len(),
            cases.len(),
            test_linker_name(),
            names.join(", "),
            root.display(),
            details.join("\n"),
        );
    }
}

// ---------------------------------------------------------------------------
// Options and error handling
// ---------------------------------------------------------------------------

const SMALL_C_PROGRAM: &str = r#"
#include <stdio.h>
#include <string.h>
__attribute__((constructor)) static void hello(void) { printf("constructor\n"); }
int main(int argc, char **argv) { printf("argc %d\n", argc); return strlen(argv[0]) > 0 ? 3 : 4; }
"#;

fn compile_snippet(dir: &Path, name: &str, code: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join(name);
    fs::write(&src, code).unwrap();
    let obj = dir.join(format!("{name}.o"));
    let out = run(
        Command::new("gcc")
            .arg("-c")
            .args(flags)
            .arg("-o")
            .arg(&obj)
            .arg(&src),
        TOOL_TIMEOUT,
    );
    assert!(
        out.success(),
        "compiling snippet failed:\n$ {}\n{}",
        out.cmdline,
        out.stderr_str()
    );
    obj
}

/// `-Wl,--report=FILE` through gcc writes a JSON link report. Only initlink
/// knows this option, so this also proves that `gcc -B dir/` ran initlink.
#[test]
fn report_option_writes_json() {
    if bfd_mode() {
        println!("skipped: --report is an initlink option (INITLINK_E2E_LD=bfd)");
        return;
    }
    let work = Work::new("report");
    let obj = compile_snippet(&work.root, "main.c", SMALL_C_PROGRAM, &["-O1"]);
    let report = work.root.join("R.json");
    let exe = work.root.join("prog");
    let link = run(
        Command::new("gcc")
            .arg("-static")
            .arg("-B")
            .arg(work.b_arg())
            .arg(format!("-Wl,--report={}", report.display()))
            .arg("-o")
            .arg(&exe)
            .arg(&obj),
        TOOL_TIMEOUT,
    );
    assert!(
        link.success(),
        "link with --report failed:\n$ {}\n{}",
        link.cmdline,
        link.stderr_str()
    );
    let json = fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("{} not written ({e}); $ {}", report.display(), link.cmdline));
    for key in ["\"init_arrays\"", "\"stubs\""] {
        assert!(
            json.contains(key),
            "report {} lacks {key}:\n{}",
            report.display(),
            clip(&json)
        );
    }
    let r = run(&mut Command::new(&exe), RUN_TIMEOUT);
    assert_eq!(
        r.status_text(),
        "exit code 3",
        "program linked with --report: {}",
        show_output("run", &r)
    );
    work.finish(true);
}

/// `-Wl,-Map=FILE` writes a non-empty link map (GNU ld understands it too).
#[test]
fn map_option_writes_file() {
    let work = Work::new("map");
    let obj = compile_snippet(&work.root, "main.c", SMALL_C_PROGRAM, &["-O1"]);
    let map = work.root.join("out.map");
    let exe = work.root.join("prog");
    let link = run(
        Command::new("gcc")
            .arg("-static")
            .arg("-B")
            .arg(work.b_arg())
            .arg(format!("-Wl,-Map={}", map.display()))
            .arg("-o")
            .arg(&exe)
            .arg(&obj),
        TOOL_TIMEOUT,
    );
    assert!(
        link.success(),
        "link with -Map failed:\n$ {}\n{}",
        link.cmdline,
        link.stderr_str()
    );
    let len = fs::metadata(&map).map(|m| m.len()).unwrap_or(0);
    assert!(
        len > 0,
        "{} missing or empty; $ {}",
        map.display(),
        link.cmdline
    );
    let r = run(&mut Command::new(&exe), RUN_TIMEOUT);
    assert_eq!(r.status_text(), "exit code 3", "{}", show_output("run", &r));
    work.finish(true);
}

/// Broken inputs: exit code 1 with a message naming the file; never a panic
/// (101) or a signal.
#[test]
fn corrupt_inputs_are_rejected() {
    let work = Work::new("corrupt");
    let dir = &work.root;
    let good = compile_snippet(
        dir,
        "good.c",
        "int main(void) { return 0; }\n",
        FREESTANDING_CFLAGS,
    );
    let bytes = fs::read(&good).unwrap();
    let mut arm = bytes.clone();
    arm[18] = 0x28; // e_machine = EM_ARM
    arm[19] = 0;
    let mut bad_shoff = bytes.clone();
    bad_shoff[40..48].copy_from_slice(&(u64::MAX - 1000).to_le_bytes()); // e_shoff far out of file
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("trunc_header.o", bytes[..30].to_vec()),
        ("trunc_half.o", bytes[..bytes.len() / 2].to_vec()),
        ("machine_arm.o", arm),
        ("bad_shoff.o", bad_shoff),
        ("x.o", b"this is a text file, not an object\n".to_vec()),
    ];
    let ref_start = build_ref_start(dir).unwrap();
    let mut failures = String::new();
    for (name, data) in &inputs {
        fs::write(dir.join(name), data).unwrap();
        let mut cmd = if bfd_mode() {
            let mut c = Command::new(gnu_ld());
            c.args(["-static", "-o", "out"])
                .arg("good.c.o")
                .arg(&ref_start);
            c
        } else {
            let mut c = Command::new(initlink_bin());
            c.args(["-o", "out", "good.c.o"]);
            c
        };
        cmd.current_dir(dir).arg(name);
        let out = run(&mut cmd, TOOL_TIMEOUT);
        let stderr = out.stderr_str();
        let mut why = Vec::new();
        if out.status.and_then(|s| s.code()) != Some(1) {
            why.push(format!("expected exit code 1, got {}", out.status_text()));
        }
        if !stderr.lines().any(|l| l.contains(name)) {
            why.push(format!("no stderr line names {name}"));
        }
        if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
            why.push("stderr shows a panic".into());
        }
        if !why.is_empty() {
            let _ = writeln!(
                failures,
                "=== {name}: {}\n$ {}\n  stderr:\n{}",
                why.join("; "),
                out.cmdline,
                indent(&stderr)
            );
        }
    }
    let ok = failures.is_empty();
    let root = work.root.clone();
    work.finish(ok);
    assert!(
        ok,
        "corrupt inputs handled badly by {} (work dir {}):\n{failures}",
        test_linker_name(),
        root.display()
    );
}

/// The harness itself: a hanging program (with a background child holding
/// the output pipe) is killed at the deadline and reported as a timeout.
#[test]
fn harness_timeout_kills_process_group() {
    let start = Instant::now();
    let out = run(
        Command::new("sh").args(["-c", "sleep 30 & echo started; sleep 30"]),
        Duration::from_millis(500),
    );
    assert!(
        out.timed_out,
        "expected a timeout, got {}",
        out.status_text()
    );
    assert_eq!(out.stdout_str(), "started\n");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
}
