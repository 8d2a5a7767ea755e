//! Whole programs, natively and in the emulator: the playground gallery's freestanding examples
//! (linked by initlink with its synthesized `_start`), every runnable fixture of
//! `tests/fixtures/{freestanding,static,cxx,asm}` (freestanding ones linked by initlink, the others
//! by gcc/g++ -static with GNU ld), and a static glibc program whose constructors and destructors
//! print their names. Standard output, standard error and the exit status must be identical; the
//! initializers the emulator sees called must be the report's start-up sequence, in its order,
//! and the order the native run prints.
#![cfg(target_arch = "x86_64")]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use initlink_emu::{Config, Outcome, TraceKind, TracePoint};

const ENV: &[(&str, &str)] = &[("E2E_VAR", "e2e-value"), ("LANG", "C")];
const FREESTANDING: &[&str] = &[
    "-O1",
    "-ffreestanding",
    "-fno-pie",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-fcf-protection=none",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn work_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("emu-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sh(cmd: &mut Command) {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Link with initlink's library (as `initlink ARGS`), with a report.
fn initlink(dir: &Path, args: &[String]) -> (PathBuf, serde_json::Value) {
    let out = dir.join("prog");
    let mut all = vec!["-o".to_string(), out.display().to_string()];
    all.extend(args.iter().cloned());
    all.push(format!("--report={}", dir.join("prog.json").display()));
    let cmd = initlink::options::parse_args(&all).unwrap_or_else(|e| panic!("{all:?}: {:?}", e.0));
    let data: Vec<Option<Vec<u8>>> = cmd
        .inputs
        .iter()
        .map(|a| match a {
            initlink::options::InputArg::Path(p) => Some(std::fs::read(dir.join(p)).unwrap()),
            _ => None,
        })
        .collect();
    let items: Vec<initlink::InputItem> = cmd
        .inputs
        .iter()
        .zip(&data)
        .map(|(a, d)| match (a, d) {
            (initlink::options::InputArg::Path(p), Some(d)) => {
                initlink::InputItem::File(initlink::Input {
                    name: p.clone(),
                    data: d,
                    lib_search: false,
                    members: Vec::new(),
                })
            }
            (initlink::options::InputArg::StartGroup, _) => initlink::InputItem::StartGroup,
            (initlink::options::InputArg::EndGroup, _) => initlink::InputItem::EndGroup,
            (other, _) => panic!("unexpected input {other:?}"),
        })
        .collect();
    let res = initlink::link(&items, &cmd.options);
    assert!(!res.failed(), "initlink {all:?}: {:?}", res.diagnostics);
    std::fs::write(&out, res.elf.as_ref().unwrap()).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
    let report = serde_json::to_value(res.report.as_ref().expect("a report")).unwrap();
    (out, report)
}

#[derive(Debug, PartialEq, Eq)]
struct Ran {
    stdout: String,
    stderr: String,
    status: String,
}

fn native(exe: &Path, args: &[&str]) -> Ran {
    let o = Command::new(exe)
        .args(args)
        .env_clear()
        .envs(ENV.iter().copied())
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    Ran {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        status: match (o.status.code(), o.status.signal()) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        },
    }
}

fn emulate(exe: &Path, args: &[&str], points: Vec<TracePoint>) -> (Ran, Outcome) {
    let elf = std::fs::read(exe).unwrap();
    let mut argv = vec![exe.display().to_string().into_bytes()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let config = Config {
        args: argv,
        env: ENV
            .iter()
            .map(|(k, v)| format!("{k}={v}").into_bytes())
            .collect(),
        trace_points: points,
        max_instructions: 300_000_000,
        ..Config::default()
    };
    let out = initlink_emu::run(&elf, &config);
    if let Some(e) = &out.error {
        panic!(
            "{}: the emulator stopped: {e}\nstdout so far:\n{}",
            exe.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let ran = Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: match (out.exit_code, out.signal) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        },
    };
    (ran, out)
}

/// Trace points from initlink's report (the emulator's own reading of it).
fn report_points(report: &serde_json::Value) -> Vec<TracePoint> {
    initlink_emu::api::trace_points_from_report(report)
}

/// The sequence's addresses, in order (what the report predicts runs around main).
fn predicted(report: &serde_json::Value) -> Vec<u64> {
    report["init_arrays"]["sequence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["address"].as_u64())
        .collect()
}

/// The program's own calls the trace recorded (not the entry, not a library's initializers).
fn observed(out: &Outcome) -> Vec<u64> {
    out.trace
        .iter()
        .filter(|t| t.kind != TraceKind::Entry && t.library.is_none())
        .map(|t| t.address)
        .collect()
}

#[test]
fn gallery_freestanding_examples_run_as_natively_and_as_the_report_predicts() {
    let examples = repo().join("web/examples");
    let mut ran = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let src = entry.unwrap().path();
        let Ok(conf) = std::fs::read_to_string(src.join("example.conf")) else {
            continue;
        };
        let mut link = Vec::new();
        let mut archives = Vec::new();
        let mut extra = Vec::new();
        let mut freestanding = true;
        for line in conf.lines() {
            let line = line.split('#').next().unwrap().trim();
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim());
            match k {
                "link" => link = v.split_whitespace().map(String::from).collect(),
                "args" => extra = v.split_whitespace().map(String::from).collect(),
                "kind" | "cflags" => freestanding = false,
                _ if k.starts_with("archive ") => {
                    let name = k.split_whitespace().nth(1).unwrap().to_string();
                    archives.push((
                        name,
                        v.split_whitespace().map(String::from).collect::<Vec<_>>(),
                    ));
                }
                _ => {}
            }
        }
        if !freestanding {
            continue; // PIE against glibc, a shared object: later slices.
        }
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let dir = work_dir(&format!("gallery-{name}"));
        let mut sources: Vec<String> = std::fs::read_dir(&src)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".c") || f.ends_with(".s") || f.ends_with(".S"))
            .collect();
        sources.sort();
        let obj = |s: &str| format!("{}.o", s.rsplit_once('.').unwrap().0);
        for s in &sources {
            sh(Command::new("gcc")
                .current_dir(&dir)
                .arg("-c")
                .args(FREESTANDING)
                .arg("-I")
                .arg(examples.join("common"))
                .arg(src.join(s))
                .arg("-o")
                .arg(obj(s)));
        }
        for (lib, members) in &archives {
            sh(Command::new("ar")
                .current_dir(&dir)
                .arg("rcs")
                .arg(lib)
                .args(members.iter().map(|m| obj(m))));
        }
        if link.is_empty() {
            link = sources.clone();
        }
        let mut args: Vec<String> = link
            .iter()
            .map(|l| {
                if sources.contains(l) {
                    obj(l)
                } else {
                    l.clone()
                }
            })
            .collect();
        args.extend(extra);
        let (exe, report) = initlink(&dir, &args);
        for argv in [&[][..], &["one", "two"][..]] {
            let want = native(&exe, argv);
            let (got, out) = emulate(&exe, argv, report_points(&report));
            assert_eq!(
                got, want,
                "gallery example {name} {argv:?}: emulator vs native"
            );
            let pred = predicted(&report);
            assert!(
                !pred.is_empty(),
                "{name}: the report has a start-up sequence"
            );
            assert_eq!(
                observed(&out),
                pred,
                "{name}: the calls the emulator saw are the report's sequence\n{:#?}",
                out.trace
            );
            // Every initializer got (argc, argv, envp) from the synthesized _start.
            for t in out.trace.iter().filter(|t| t.kind == TraceKind::Init) {
                assert_eq!(
                    t.args[0],
                    argv.len() as u64 + 1,
                    "{name}: argc passed to {}",
                    t.symbol
                );
            }
            assert_eq!(
                out.trace[0].kind,
                TraceKind::Entry,
                "{name}: the entry comes first"
            );
            assert_eq!(
                out.trace[0].symbol, "_start",
                "{name}: the entry is the synthesized _start"
            );
        }
        ran += 1;
    }
    assert!(ran >= 4, "only {ran} freestanding gallery examples found");
}

/// One fixture case: its sources and `case.conf` keys (as tests/e2e.rs reads them).
struct Case {
    id: String,
    dir: PathBuf,
    sources: Vec<String>,
    mode: String,
    cflags: Vec<String>,
    file_cflags: BTreeMap<String, Vec<String>>,
    archives: Vec<(String, Vec<String>)>,
    link: Vec<String>,
    ldflags: Vec<String>,
    args: Vec<String>,
    env: Vec<String>,
}

fn read_case(group: &str, path: &Path) -> Case {
    let id = format!("{group}/{}", path.file_name().unwrap().to_string_lossy());
    let is_src = |f: &str| {
        [".c", ".cc", ".cpp", ".s", ".S"]
            .iter()
            .any(|e| f.ends_with(e))
    };
    let (dir, sources, conf) = if path.is_dir() {
        let mut s: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| is_src(f))
            .collect();
        s.sort();
        (
            path.to_path_buf(),
            s,
            std::fs::read_to_string(path.join("case.conf")).unwrap_or_default(),
        )
    } else {
        let text = std::fs::read_to_string(path).unwrap();
        let conf: Vec<&str> = text
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix("// e2e:")
                    .or_else(|| l.trim().strip_prefix("# e2e:"))
            })
            .collect();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        (
            path.parent().unwrap().to_path_buf(),
            vec![name],
            conf.join("\n"),
        )
    };
    let mut c = Case {
        id,
        dir,
        sources,
        mode: match group {
            "cxx" => "c++",
            "freestanding" => "freestanding",
            _ => "cc",
        }
        .into(),
        cflags: Vec::new(),
        file_cflags: BTreeMap::new(),
        archives: Vec::new(),
        link: Vec::new(),
        ldflags: Vec::new(),
        args: vec!["alpha".into(), "beta".into()],
        env: Vec::new(),
    };
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    for line in conf.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = words(k);
        let v = v.trim();
        match k.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["mode"] => c.mode = v.into(),
            ["cflags"] => c.cflags.extend(words(v)),
            ["cflags", f] => c
                .file_cflags
                .entry(f.to_string())
                .or_default()
                .extend(words(v)),
            ["archive", n] => c.archives.push((n.to_string(), words(v))),
            ["link"] => c.link = words(v),
            ["ldflags"] => c.ldflags = words(v),
            ["args"] => c.args = words(v),
            ["env"] => c.env = words(v),
            _ => {}
        }
    }
    c
}

fn build_case(c: &Case, work: &Path) -> (PathBuf, Option<serde_json::Value>) {
    let dir = work.join(c.id.replace('/', "__"));
    std::fs::create_dir_all(&dir).unwrap();
    let obj = |s: &str| format!("{s}.o");
    let cxx = c.mode == "c++"
        || c.sources
            .iter()
            .any(|s| s.ends_with(".cc") || s.ends_with(".cpp"));
    for s in &c.sources {
        let mut cmd = Command::new(if s.ends_with(".cc") || s.ends_with(".cpp") {
            "g++"
        } else {
            "gcc"
        });
        cmd.current_dir(&dir).arg("-c");
        if c.mode == "freestanding" {
            cmd.args(&FREESTANDING[..5])
                .arg("-I")
                .arg(repo().join("tests/fixtures/freestanding"));
        } else {
            cmd.arg("-O1");
        }
        cmd.args(&c.cflags)
            .args(c.file_cflags.get(s).into_iter().flatten())
            .arg(c.dir.join(s))
            .arg("-o")
            .arg(obj(s));
        sh(&mut cmd);
    }
    for (lib, members) in &c.archives {
        sh(Command::new("ar")
            .current_dir(&dir)
            .arg("rcs")
            .arg(lib)
            .args(members.iter().map(|m| obj(m))));
    }
    let in_archive: Vec<&String> = c.archives.iter().flat_map(|a| &a.1).collect();
    let items: Vec<String> = if c.link.is_empty() {
        let mut v: Vec<String> = c
            .sources
            .iter()
            .filter(|s| !in_archive.contains(s))
            .map(|s| obj(s))
            .collect();
        v.extend(c.archives.iter().map(|a| a.0.clone()));
        v
    } else {
        c.link
            .iter()
            .map(|l| {
                if c.sources.contains(l) {
                    obj(l)
                } else {
                    l.clone()
                }
            })
            .collect()
    };
    if c.mode == "freestanding" {
        let args: Vec<String> = items
            .iter()
            .map(|i| i.strip_prefix("-Wl,").unwrap_or(i).to_string())
            .collect();
        let (exe, report) = initlink(&dir, &args);
        (exe, Some(report))
    } else {
        sh(Command::new(if cxx { "g++" } else { "gcc" })
            .current_dir(&dir)
            .arg("-static")
            .args(&items)
            .args(&c.ldflags)
            .arg("-o")
            .arg("prog"));
        (dir.join("prog"), None)
    }
}

#[test]
fn fixtures_run_in_the_emulator_as_natively() {
    let work = work_dir("fixtures");
    let mut cases = Vec::new();
    for group in ["freestanding", "static", "cxx", "asm"] {
        let gdir = repo().join("tests/fixtures").join(group);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&gdir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if !(p.is_dir() || [".c", ".cc", ".s"].iter().any(|e| name.ends_with(e)))
                || name == "ref_start.s"
            {
                continue;
            }
            cases.push(read_case(group, &p));
        }
    }
    assert!(cases.len() >= 20, "only {} fixtures found", cases.len());
    // Compile, link and run the cases on every core.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(case) = cases.get(k) else { break };
                let r = std::panic::catch_unwind(|| check_case(case, &work));
                let problem = match r {
                    Ok(None) => continue,
                    Ok(Some(p)) => p,
                    Err(e) => e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default(),
                };
                failures
                    .lock()
                    .unwrap()
                    .push(format!("{}: {problem}", case.id));
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Build one fixture, run it both ways; a description of any difference.
fn check_case(case: &Case, work: &Path) -> Option<String> {
    let (exe, report) = build_case(case, work);
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let want = native_env(&exe, &args, &case.env);
    let points = report.as_ref().map(report_points).unwrap_or_default();
    let (got, out) = emulate_env(&exe, &args, &case.env, points);
    if got != want {
        return Some(format!("emulator {got:?}\nnative {want:?}"));
    }
    let r = report.as_ref()?;
    (observed(&out) != predicted(r))
        .then(|| format!("trace {:?} vs report {:?}", out.trace, predicted(r)))
}

fn native_env(exe: &Path, args: &[&str], env: &[String]) -> Ran {
    let mut c = Command::new(exe);
    c.current_dir(exe.parent().unwrap())
        .args(args)
        .env_clear()
        .envs(ENV.iter().copied());
    for e in env {
        let (k, v) = e.split_once('=').unwrap();
        c.env(k, v);
    }
    let o = c.output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    Ran {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        status: match (o.status.code(), o.status.signal()) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        },
    }
}

fn emulate_env(
    exe: &Path,
    args: &[&str],
    env: &[String],
    points: Vec<TracePoint>,
) -> (Ran, Outcome) {
    if env.is_empty() {
        return emulate(exe, args, points);
    }
    // The same environment natively: ENV then the case's own, as Command orders them (sorted).
    let mut all: BTreeMap<String, String> = ENV
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for e in env {
        let (k, v) = e.split_once('=').unwrap();
        all.insert(k.into(), v.into());
    }
    let elf = std::fs::read(exe).unwrap();
    let mut argv = vec![exe.display().to_string().into_bytes()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let config = Config {
        args: argv,
        env: all
            .iter()
            .map(|(k, v)| format!("{k}={v}").into_bytes())
            .collect(),
        trace_points: points,
        max_instructions: 300_000_000,
        ..Config::default()
    };
    let out = initlink_emu::run(&elf, &config);
    if let Some(e) = &out.error {
        panic!("{}: the emulator stopped: {e}", exe.display());
    }
    let ran = Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: match (out.exit_code, out.signal) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        },
    };
    (ran, out)
}

const ORDER_PROGRAM: &str = r#"
#include <stdio.h>
#include <unistd.h>
static void say(const char *s) { puts(s); fflush(stdout); }
static void p_preinit(void) { say("p_preinit"); }
__attribute__((section(".preinit_array"), used)) static void (*pre)(void) = p_preinit;
__attribute__((constructor(101))) static void p_ctor101(void) { say("p_ctor101"); }
__attribute__((constructor(300))) static void p_ctor300(void) { say("p_ctor300"); }
__attribute__((constructor(200))) static void p_ctor200(void) { say("p_ctor200"); }
__attribute__((constructor)) static void p_ctor(void) { say("p_ctor"); }
__attribute__((destructor(200))) static void p_dtor200(void) { say("p_dtor200"); }
__attribute__((destructor)) static void p_dtor(void) { say("p_dtor"); }
__attribute__((destructor(101))) static void p_dtor101(void) { say("p_dtor101"); }
int main(int argc, char **argv) { printf("main %d %s\n", argc, argv[1]); fprintf(stderr, "err %.3f\n", 2.5); return 7; }
"#;

/// The 8-byte entries of a section, by name.
fn section_words(elf: &[u8], name: &str) -> Vec<u64> {
    use object::{Object, ObjectSection};
    let f = object::File::parse(elf).unwrap();
    f.section_by_name(name)
        .map(|s| {
            s.data()
                .unwrap()
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn static_glibc_constructors_run_in_the_order_printed_natively() {
    // -static-pie: the same at the PIE's load address (trace points are link-time addresses).
    for kind in ["-static", "-static-pie"] {
        glibc_order(kind);
    }
}

fn glibc_order(kind: &str) {
    use object::{Object, ObjectSymbol};
    let dir = work_dir(&format!("order{kind}"));
    std::fs::write(dir.join("order.c"), ORDER_PROGRAM).unwrap();
    sh(Command::new("gcc")
        .current_dir(&dir)
        .args(["-O1", kind, "order.c", "-o", "prog"]));
    let exe = dir.join("prog");
    let elf = std::fs::read(&exe).unwrap();
    let f = object::File::parse(&*elf).unwrap();
    let name_at = |a: u64| {
        f.symbols()
            .find(|s| s.address() == a && s.kind() == object::SymbolKind::Text)
            .map(|s| s.name().unwrap().to_string())
    };
    let mut points = Vec::new();
    for (sec, kind) in [
        (".preinit_array", TraceKind::Preinit),
        (".init_array", TraceKind::Init),
        (".fini_array", TraceKind::Fini),
    ] {
        for a in section_words(&elf, sec) {
            points.push(TracePoint {
                address: a,
                kind,
                symbol: name_at(a).unwrap_or_default(),
                library: None,
            });
        }
    }
    for (sym, kind) in [
        ("main", TraceKind::Main),
        ("_init", TraceKind::DtInit),
        ("_fini", TraceKind::DtFini),
    ] {
        let s = f.symbols().find(|s| s.name() == Ok(sym)).unwrap();
        points.push(TracePoint {
            address: s.address(),
            kind,
            symbol: sym.into(),
            library: None,
        });
    }
    let want = native(&exe, &["x"]);
    let (got, out) = emulate(&exe, &["x"], points);
    assert_eq!(got, want, "static glibc program: emulator vs native");
    assert_eq!(want.status, "exit 7");
    // The program's own initializers and finalizers, as the emulator saw them called...
    let seen: Vec<&str> = out
        .trace
        .iter()
        .filter(|t| t.symbol.starts_with("p_") || t.kind == TraceKind::Main)
        .map(|t| t.symbol.as_str())
        .collect();
    // ...and as the native run printed them.
    let printed: Vec<&str> = want
        .stdout
        .lines()
        .map(|l| if l.starts_with("main ") { "main" } else { l })
        .collect();
    assert_eq!(seen, printed, "emulator's calls vs the native run's output");
    assert_eq!(
        seen,
        [
            "p_preinit",
            "p_ctor101",
            "p_ctor200",
            "p_ctor300",
            "p_ctor",
            "main",
            "p_dtor",
            "p_dtor200",
            "p_dtor101"
        ]
    );
    // _init runs after the preinit array and before the init array (glibc's call_init).
    let kinds: Vec<TraceKind> = out.trace.iter().map(|t| t.kind).collect();
    let pos = |k| kinds.iter().position(|&x| x == k).unwrap();
    assert!(
        pos(TraceKind::Preinit) < pos(TraceKind::DtInit)
            && pos(TraceKind::DtInit) < pos(TraceKind::Init)
    );
    let main = out
        .trace
        .iter()
        .find(|t| t.kind == TraceKind::Main)
        .unwrap();
    assert_eq!(main.args[0], 2, "main's argc");
    // The system calls glibc's start-up makes, with results.
    let names: Vec<&str> = out.syscalls.iter().map(|s| s.name).collect();
    for n in [
        "brk",
        "arch_prctl",
        "set_tid_address",
        "write",
        "exit_group",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    assert!(
        out.instructions > 5_000,
        "{} instructions",
        out.instructions
    );
}

/// The host's loader and the C and C++ libraries, as a virtual file system.
fn host_libraries() -> initlink_emu::MemFs {
    let mut fs = initlink_emu::MemFs::default();
    for p in [
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libgcc_s.so.1",
    ] {
        fs.files.insert(
            p.to_string(),
            std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}")),
        );
    }
    fs
}

fn emulate_dynamic(
    exe: &Path,
    args: &[&str],
    fs: &initlink_emu::MemFs,
    points: Vec<TracePoint>,
) -> (Ran, Outcome) {
    let mut argv = vec![exe.display().to_string().into_bytes()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let config = Config {
        args: argv,
        env: ENV
            .iter()
            .map(|(k, v)| format!("{k}={v}").into_bytes())
            .collect(),
        trace_points: points,
        vfs: Some(fs),
        ..Config::default()
    };
    let out = initlink_emu::run(&std::fs::read(exe).unwrap(), &config);
    if let Some(e) = &out.error {
        panic!("{}: the emulator stopped: {e}", exe.display());
    }
    let ran = Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: format!("exit {}", out.exit_code.unwrap_or(-1)),
    };
    (ran, out)
}

const CXX_PROGRAM: &str = r#"
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>
struct G { G() { std::cout << "global ctor\n"; } ~G() { std::cout << "global dtor\n"; } } g;
int main(int argc, char **argv) {
  std::vector<std::string> v(argv, argv + argc);
  try { throw std::runtime_error("boom"); } catch (const std::exception &e) { std::cerr << "caught " << e.what() << "\n"; }
  for (auto &s : v) std::cout << s.size() << ' ';
  std::cout << 2.75 << std::endl;
  return 3;
}
"#;

#[test]
fn dynamic_programs_run_with_the_real_loader_and_libc() {
    let dir = work_dir("dynamic");
    std::fs::write(dir.join("order.c"), ORDER_PROGRAM).unwrap();
    std::fs::write(dir.join("cxx.cc"), CXX_PROGRAM).unwrap();
    let fs = host_libraries();
    for (out, cmd) in [
        ("c-pie", &["gcc", "-O1", "-pie", "-fPIE", "order.c"][..]),
        (
            "c-nopie",
            &["gcc", "-O1", "-no-pie", "-fno-pie", "order.c"][..],
        ),
        ("cxx-pie", &["g++", "-O1", "cxx.cc"][..]),
    ] {
        sh(Command::new(cmd[0])
            .current_dir(&dir)
            .args(&cmd[1..])
            .args(["-o", out]));
        let exe = dir.join(out);
        let want = native(&exe, &["x"]);
        let (got, run) = emulate_dynamic(&exe, &["x"], &fs, Vec::new());
        assert_eq!(got, want, "{out}: emulator vs native");
        let names: Vec<&str> = run.syscalls.iter().map(|s| s.name).collect();
        assert!(
            names.contains(&"openat") && names.contains(&"mmap"),
            "{out}: the loader opened and mapped libc: {names:?}"
        );
        // The loader runs each library's initializers before it jumps to the program's entry,
        // and its finalizers after `exit`: libc.so.6's (two .init_array slots), and for C++
        // libstdc++'s, libgcc_s's and libm's.
        let entry = run
            .trace
            .iter()
            .position(|t| t.kind == TraceKind::Entry)
            .unwrap_or_else(|| panic!("{out}: no jump to _start in {:#?}", run.trace));
        let libs = |r: std::ops::Range<usize>, kinds: &[TraceKind]| -> Vec<String> {
            run.trace[r]
                .iter()
                .filter(|t| kinds.contains(&t.kind))
                .filter_map(|t| t.library.clone())
                .collect()
        };
        let before = libs(0..entry, &[TraceKind::Init, TraceKind::DtInit]);
        assert!(
            before.iter().any(|l| l == "libc.so.6"),
            "{out}: libc.so.6's initializers before _start: {:#?}",
            run.trace
        );
        if out.starts_with("cxx") {
            for lib in ["libstdc++.so.6", "libgcc_s.so.1", "libm.so.6"] {
                assert!(before.iter().any(|l| l == lib), "{out}: {lib}: {before:?}");
            }
            let after = libs(
                entry..run.trace.len(),
                &[TraceKind::Fini, TraceKind::DtFini],
            );
            assert!(
                after.iter().any(|l| l == "libstdc++.so.6"),
                "{out}: {after:?}"
            );
        }
        assert!(
            run.trace[..entry].iter().all(|t| t.library.is_some()),
            "{out}: only libraries' initializers run before the entry: {:#?}",
            run.trace
        );
    }
}

#[test]
fn gallery_pie_example_linked_by_initlink_runs_as_its_report_predicts() {
    // initlink links the PIE with glibc's start-up sequence against the real libc.so.6; its
    // initializers are called by __libc_start_main inside libc.so.6.
    let dir = work_dir("gallery-pie");
    let src = repo().join("web/examples/pie-glibc/greet.c");
    sh(Command::new("gcc")
        .current_dir(&dir)
        .args(["-c", "-O1", "-fPIE"])
        .arg(&src)
        .args(["-o", "greet.o"]));
    std::fs::copy("/lib/x86_64-linux-gnu/libc.so.6", dir.join("libc.so.6")).unwrap();
    let (exe, report) = initlink(&dir, &["-pie".into(), "greet.o".into(), "libc.so.6".into()]);
    let fs = host_libraries();
    for argv in [&[][..], &["one"][..]] {
        let want = native(&exe, argv);
        let (got, out) = emulate_dynamic(&exe, argv, &fs, report_points(&report));
        assert_eq!(got, want, "pie-glibc {argv:?}: emulator vs native");
        let seen: Vec<u64> = observed(&out)
            .iter()
            .map(|a| a - 0x5555_5555_4000)
            .collect();
        assert_eq!(
            seen,
            predicted(&report),
            "pie-glibc: the calls seen are the report's sequence\n{:#?}",
            out.trace
        );
    }
}

/// `tests/fixtures/shared/*`: the program and its own shared libraries built by gcc with GNU ld
/// (e2e's reference combination, base variant), run natively in their directory and emulated
/// with the directory and the host's libraries in the Vfs (`$ORIGIN` from /proc/self/exe).
#[test]
fn shared_library_fixtures_run_as_natively() {
    let work = work_dir("shared");
    let root = repo().join("tests/fixtures/shared");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(name) = names.get(k) else { break };
                let problem = match std::panic::catch_unwind(|| shared_case(name, &root, &work)) {
                    Ok(p) => p,
                    Err(e) => Some(format!("{name}: {:?}", e.downcast_ref::<String>())),
                };
                failures.lock().unwrap().extend(problem);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(names.len() >= 5);
    assert!(
        failures.is_empty(),
        "{} of {} shared fixtures differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n\n")
    );
}

/// Build and run one shared fixture; a description of any difference.
fn shared_case(name: &str, root: &Path, work: &Path) -> Option<String> {
    let src = root.join(name);
    let conf = std::fs::read_to_string(src.join("case.conf")).unwrap();
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let (mut cxx, mut cflags, mut program, mut ldflags) =
        (false, Vec::new(), Vec::new(), Vec::new());
    let mut args = vec!["alpha".to_string(), "beta".to_string()];
    let mut env: Vec<(String, String)> = Vec::new();
    let mut libs: Vec<(String, Vec<String>)> = Vec::new();
    let mut libflags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut symlinks = Vec::new();
    for line in conf
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = words(k);
        let v = v.trim();
        match k.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["mode"] => cxx = v == "c++",
            ["cflags"] => cflags = words(v),
            ["lib", n] => libs.push((n.to_string(), words(v))),
            ["libflags", n] => {
                libflags.insert(n.to_string(), words(v));
            }
            ["symlink", n] => symlinks.push((n.to_string(), v.to_string())),
            ["program"] => program = words(v),
            ["ldflags"] => ldflags = words(v),
            ["args"] => args = words(v),
            ["env"] => {
                env = words(v)
                    .iter()
                    .filter_map(|e| e.split_once('='))
                    .map(|(a, b)| (a.into(), b.into()))
                    .collect()
            }
            _ => {}
        }
    }
    let cc = |f: &str| {
        if f.ends_with(".cc") || f.ends_with(".cpp") || cxx {
            "g++"
        } else {
            "gcc"
        }
    };
    let compile = |f: &str, pic: bool| {
        let o = format!("{f}{}.o", if pic { ".pic" } else { "" });
        let mut c = Command::new(cc(f));
        c.current_dir(&dir).args(["-c", "-O1"]).args(&cflags);
        if pic {
            c.arg("-fPIC");
        }
        sh(c.arg(src.join(f)).arg("-o").arg(&o));
        o
    };
    for (lib, files) in &libs {
        let objs: Vec<String> = files.iter().map(|f| compile(f, true)).collect();
        sh(Command::new(if cxx { "g++" } else { "gcc" })
            .current_dir(&dir)
            .arg("-shared")
            .args(&cflags)
            .args(&objs)
            .args(libflags.get(lib).into_iter().flatten())
            .arg("-o")
            .arg(lib));
        for (link, target) in symlinks.iter().filter(|s| &s.1 == lib) {
            let _ = std::fs::remove_file(dir.join(link));
            std::os::unix::fs::symlink(target, dir.join(link)).unwrap();
        }
    }
    let objs: Vec<String> = program.iter().map(|f| compile(f, false)).collect();
    sh(Command::new(if cxx { "g++" } else { "gcc" })
        .current_dir(&dir)
        .args(&cflags)
        .args(&objs)
        .args(&ldflags)
        .arg("-o")
        .arg("prog"));
    let exe = dir.join("prog");
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut c = Command::new(&exe);
    c.current_dir(&dir)
        .args(&argv)
        .env_clear()
        .envs(ENV.iter().copied())
        .envs(env.iter().map(|(a, b)| (a, b)));
    let o = c.output().unwrap();
    let want = Ran {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        status: format!("exit {}", o.status.code().unwrap_or(-1)),
    };
    let mut fs = host_libraries();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if let Ok(d) = std::fs::read(&p) {
            fs.files.insert(p.display().to_string(), d);
        }
    }
    let mut all_env: BTreeMap<String, String> = ENV
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all_env.extend(env.iter().cloned());
    let mut full_argv = vec![exe.display().to_string().into_bytes()];
    full_argv.extend(argv.iter().map(|a| a.as_bytes().to_vec()));
    let config = Config {
        args: full_argv,
        env: all_env
            .iter()
            .map(|(k, v)| format!("{k}={v}").into_bytes())
            .collect(),
        vfs: Some(&fs),
        cwd: dir.display().to_string(),
        ..Config::default()
    };
    let out = initlink_emu::run(&std::fs::read(&exe).unwrap(), &config);
    let got = Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: format!("exit {}", out.exit_code.unwrap_or(-1)),
    };
    if let Some(e) = &out.error {
        return Some(format!("{name}: the emulator stopped: {e}"));
    } else if got != want {
        return Some(format!("{name}: emulator {got:?}\nnative {want:?}"));
    }
    None
}

/// Threads: a mutex-protected counter, a producer and consumers on a condition variable, a
/// barrier, `pthread_once`, thread-local variables, a detached thread and `pthread_exit`, a
/// timed wait that times out, and C++ `std::thread`. What they print does not depend on the
/// schedule.
const THREAD_PROGRAM: &str = r#"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define N 6
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t barrier;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static long counter, queue[64], head, tail, consumed;
static int once_runs;
static __thread int mine = -1;
static void init_once(void) { once_runs++; }
static void *worker(void *arg) {
    long id = (long)arg;
    mine = (int)id;
    pthread_once(&once, init_once);
    for (int k = 0; k < 2000; k++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    pthread_barrier_wait(&barrier);
    return (void *)(long)(mine * 100);
}
static void *consumer(void *arg) {
    long got = 0;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (head == tail) pthread_cond_wait(&ready, &lock);
        long v = queue[head++ % 64];
        consumed++;
        pthread_mutex_unlock(&lock);
        if (v < 0) break;
        got += v;
    }
    return (void *)got;
}
static void *detached(void *arg) {
    pthread_mutex_lock(&lock);
    counter += 1000000;
    pthread_cond_broadcast(&ready);
    pthread_mutex_unlock(&lock);
    pthread_exit(NULL);
}
int main(void) {
    pthread_t t[N], c[2], d;
    pthread_barrier_init(&barrier, NULL, N);
    for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    long sum = 0;
    for (int i = 0; i < N; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
    printf("counter %ld, once %d, joined %ld, main's own %d\n", counter, once_runs, sum, mine);
    for (int i = 0; i < 2; i++) pthread_create(&c[i], NULL, consumer, NULL);
    for (long v = 1; v <= 100; v++) {
        pthread_mutex_lock(&lock);
        while (tail - head >= 60) { pthread_mutex_unlock(&lock); sched_yield(); pthread_mutex_lock(&lock); }
        queue[tail++ % 64] = v;
        pthread_cond_signal(&ready);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    queue[tail++ % 64] = -1;
    queue[tail++ % 64] = -1;
    pthread_cond_broadcast(&ready);
    pthread_mutex_unlock(&lock);
    long total = 0;
    for (int i = 0; i < 2; i++) { void *r; pthread_join(c[i], &r); total += (long)r; }
    printf("consumed %ld items, sum %ld\n", consumed, total);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&lock);
    pthread_create(&d, &a, detached, NULL);
    while (counter < 1000000) pthread_cond_wait(&ready, &lock);
    pthread_mutex_unlock(&lock);
    printf("detached thread ran: %ld\n", counter / 1000000);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 1000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    pthread_mutex_lock(&lock);
    int e = pthread_cond_timedwait(&ready, &lock, &ts);
    pthread_mutex_unlock(&lock);
    printf("timed wait: %s\n", e == ETIMEDOUT ? "timed out" : "woken");
    return 7;
}
"#;

const THREAD_CXX_PROGRAM: &str = r#"
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>
int main() {
    std::atomic<int> hits{0};
    std::mutex m;
    long total = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++)
        ts.emplace_back([&, i] { for (int k = 0; k < 500; k++) { hits++; std::lock_guard<std::mutex> g(m); total += i; } });
    for (auto &t : ts) t.join();
    std::cout << "hits " << hits << " total " << total << std::endl;
}
"#;

#[test]
fn threaded_programs_run_as_natively() {
    let dir = work_dir("threads");
    std::fs::write(dir.join("threads.c"), THREAD_PROGRAM).unwrap();
    std::fs::write(dir.join("threads.cc"), THREAD_CXX_PROGRAM).unwrap();
    let fs = host_libraries();
    for (out, cmd) in [
        (
            "c-static",
            &["gcc", "-O1", "-static", "-pthread", "threads.c"][..],
        ),
        ("c-pie", &["gcc", "-O1", "-pthread", "threads.c"][..]),
        ("cxx-pie", &["g++", "-O1", "-pthread", "threads.cc"][..]),
    ] {
        sh(Command::new(cmd[0])
            .current_dir(&dir)
            .args(&cmd[1..])
            .args(["-o", out]));
        let exe = dir.join(out);
        let want = native(&exe, &[]);
        let (got, out_) = if out.ends_with("static") {
            emulate(&exe, &[], Vec::new())
        } else {
            emulate_dynamic(&exe, &[], &fs, Vec::new())
        };
        assert_eq!(got, want, "{out}: emulator vs native");
        let tids: std::collections::BTreeSet<u64> = out_.syscalls.iter().map(|s| s.tid).collect();
        assert!(tids.len() > 2, "{out}: system calls from several threads");
    }
}
