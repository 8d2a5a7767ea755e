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
    std::env::var("INITLINK_E2E_KEEP").map_or(false, |v| !v.is_empty() && v != "0")
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
        self.status.map_or(false, |s| s.success())
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
        .map_or(false, |e| SOURCE_EXTS.contains(&e))
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
    if r1.stdout.is_empty() || ref_code.map_or(true, |c| c == 0) {
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
