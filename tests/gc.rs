//! `--gc-sections` against GNU ld: the same objects (compiled here with `-ffunction-sections
//! -fdata-sections`) linked by both with `--gc-sections`, through `gcc -B DIR` (DIR/ld being
//! initlink). The sections dropped (`--print-gc-sections`, line for line), the symbols that
//! survive (`readelf --syms`) and what the programs print must agree; the report says why each
//! section stayed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{checked as ok, run};

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    common::work_dir("gc", name)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `--print-gc-sections`' lines, without the linker's name (`/usr/bin/ld:`, `initlink:`).
fn removed(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter_map(|l| {
            l.split_once(": removing unused section ")
                .map(|(_, r)| r.to_string())
        })
        .collect()
}

/// Link `args` with GNU ld (`gcc`/`g++`) and with initlink (`-B ld/`), both with
/// `--gc-sections --print-gc-sections`, into `NAME.bfd` and `NAME.ini`; the removed-section
/// lines must be the same. Returns them.
fn link_both(dir: &Path, cc: &str, name: &str, args: &[&str]) -> Vec<String> {
    let gc = "-Wl,--gc-sections,--print-gc-sections";
    let bfd_out = format!("{name}.bfd");
    let ini_out = format!("{name}.ini");
    let mut a = vec!["-o", &bfd_out, gc];
    a.extend(args);
    let bfd = ok(dir, cc, &a);
    let mut a = vec!["-B", "ld/", "-o", &ini_out, gc];
    a.extend(args);
    let ini = ok(dir, cc, &a);
    let (want, got) = (removed(&bfd), removed(&ini));
    assert_eq!(
        got, want,
        "{name}: sections removed by initlink and GNU ld differ"
    );
    want
}

/// The defined symbols of `file` among `names` (readelf's symbol table).
fn defined(dir: &Path, file: &str, names: &[&str]) -> BTreeSet<String> {
    let out = stdout(&ok(dir, "readelf", &["-sW", file]));
    out.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 8 && w[6] != "UND" && names.contains(&w[7])).then(|| w[7].to_string())
        })
        .collect()
}

/// Both programs print the same, and exit the same way.
fn same_run(dir: &Path, name: &str, env: &[(&str, &str)]) -> String {
    let go = |f: String| {
        let mut c = Command::new(dir.join(f));
        c.current_dir(dir).envs(env.iter().copied());
        c.output().unwrap()
    };
    let (b, i) = (go(format!("{name}.bfd")), go(format!("{name}.ini")));
    assert_eq!(stdout(&i), stdout(&b), "{name}: output");
    assert_eq!(i.status.code(), b.status.code(), "{name}: exit status");
    stdout(&b)
}

const ROOTS_C: &str = r#"
#include <stdio.h>
__attribute__((noinline)) int used(void) { return 1; }
int unused(void) { return 2; }
int by_u(void) { return 3; }
int by_require(void) { return 4; }
int by_init(void) { return 5; }
__attribute__((retain)) int retained(void) { return 6; }
int live_var = 7, dead_var = 8;
__attribute__((section("kept_sec"))) int in_kept_sec = 9;
__attribute__((section("dead_sec"))) int in_dead_sec = 10;
extern int __start_kept_sec[], __stop_kept_sec[];
static int local_dead(void) { return 11; }
int (*dead_ptr)(void) = local_dead;
int main(void) {
  printf("%d %d %d\n", used(), live_var, (int)(__stop_kept_sec - __start_kept_sec));
  return 0;
}
"#;

const ROOT_NAMES: &[&str] = &[
    "used",
    "unused",
    "by_u",
    "by_require",
    "by_init",
    "retained",
    "live_var",
    "dead_var",
    "in_kept_sec",
    "in_dead_sec",
    "local_dead",
    "dead_ptr",
    "main",
];

#[test]
fn roots_are_gnu_lds_and_unreachable_sections_go() {
    let d = work_dir("roots");
    fs::write(d.join("a.c"), ROOTS_C).unwrap();
    ok(
        &d,
        "gcc",
        &[
            "-c",
            "-O1",
            "-g",
            "-ffunction-sections",
            "-fdata-sections",
            "a.c",
        ],
    );
    let extra = "-Wl,-u,by_u,--require-defined=by_require,-init,by_init";
    for (name, mode) in [("pie", "-pie"), ("nopie", "-no-pie"), ("static", "-static")] {
        let gone = link_both(&d, "gcc", name, &[mode, "a.o", extra]);
        assert!(
            gone.iter().any(|l| l.starts_with("'.text.unused'")),
            "{name}: {gone:?}"
        );
        let want = defined(&d, &format!("{name}.bfd"), ROOT_NAMES);
        assert_eq!(
            defined(&d, &format!("{name}.ini"), ROOT_NAMES),
            want,
            "{name}"
        );
        for kept in [
            "used",
            "by_u",
            "by_require",
            "by_init",
            "retained",
            "in_kept_sec",
        ] {
            assert!(want.contains(kept), "{name}: GNU ld keeps {kept}");
        }
        for dropped in ["unused", "dead_var", "in_dead_sec", "local_dead"] {
            assert!(!want.contains(dropped), "{name}: GNU ld drops {dropped}");
        }
        assert_eq!(same_run(&d, name, &[]), "1 7 1\n");
    }
    // A --require-defined symbol nothing defines is an error with both.
    let o = run(
        &d,
        "gcc",
        &[
            "-B",
            "ld/",
            "-o",
            "bad",
            "a.o",
            "-Wl,--gc-sections,--require-defined=nowhere",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("undefined symbol: nowhere (required by --require-defined)"));
}

const CXX: &str = r#"
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
struct Noisy { Noisy() { std::puts("ctor"); } ~Noisy() { std::puts("dtor"); } };
static Noisy noisy;
template <class T> T twice(T x) { return x + x; }
int never_called(int x) { return twice(x) * 3; }
int thrower(int x) {
  if (x > 2) throw std::runtime_error("boom " + std::to_string(x));
  return x;
}
int main() {
  std::map<std::string, int> m{{"a", 1}, {"b", 2}};
  try {
    for (int i = 0; i < 5; i++) thrower(i + m["a"]);
  } catch (const std::exception &e) {
    std::printf("caught %s %d\n", e.what(), twice(21));
  }
}
"#;

#[test]
fn cxx_exceptions_survive_and_the_same_sections_go() {
    let d = work_dir("cxx");
    fs::write(d.join("x.cc"), CXX).unwrap();
    ok(
        &d,
        "g++",
        &[
            "-c",
            "-O1",
            "-g",
            "-ffunction-sections",
            "-fdata-sections",
            "x.cc",
        ],
    );
    for (name, mode) in [("pie", "-pie"), ("static", "-static")] {
        let gone = link_both(&d, "g++", name, &[mode, "x.o"]);
        assert!(
            gone.iter().any(|l| l.contains("never_called")),
            "{name}: {gone:?}"
        );
        assert_eq!(same_run(&d, name, &[]), "ctor\ncaught boom 3 42\ndtor\n");
    }
}

#[test]
fn exported_symbols_are_roots() {
    let d = work_dir("exports");
    fs::write(
        d.join("lib.c"),
        r#"
int helper_used(void) { return 1; }
int helper_unused(void) { return 2; }
__attribute__((visibility("hidden"))) int hidden_unused(void) { return 3; }
__attribute__((visibility("hidden"))) int hidden_used(void) { return 4; }
int api(void) { return helper_used() + hidden_used(); }
extern int from_exe(void);
int call_exe(void) { return from_exe(); }
"#,
    )
    .unwrap();
    fs::write(
        d.join("main.c"),
        r#"
#include <stdio.h>
int api(void);
int call_exe(void);
int from_exe(void) { return 40; }
int exe_unused(void) { return 9; }
int main(void) { printf("%d %d\n", api(), call_exe()); return 0; }
"#,
    )
    .unwrap();
    let fs = ["-fPIC", "-ffunction-sections", "-fdata-sections", "-c"];
    ok(&d, "gcc", &[&fs[..], &["lib.c", "main.c"]].concat());
    // A shared object keeps every default-visibility definition, drops hidden unused ones.
    let gone = link_both(&d, "gcc", "lib", &["-shared", "lib.o"]);
    assert_eq!(
        gone,
        vec!["'.text.hidden_unused' in file 'lib.o'".to_string()]
    );
    fs::copy(d.join("lib.ini"), d.join("libx.so")).unwrap();
    // An executable keeps what the library refers to (from_exe); -E keeps everything.
    let gone = link_both(&d, "gcc", "exe", &["main.o", "./libx.so"]);
    assert!(
        gone.iter().any(|l| l.contains(".text.exe_unused")),
        "{gone:?}"
    );
    assert!(!gone.iter().any(|l| l.contains("from_exe")), "{gone:?}");
    let gone = link_both(&d, "gcc", "exe_e", &["-rdynamic", "main.o", "./libx.so"]);
    assert!(!gone.iter().any(|l| l.contains("main.o")), "{gone:?}");
    assert_eq!(same_run(&d, "exe", &[("LD_LIBRARY_PATH", ".")]), "5 40\n");
}

#[test]
fn the_report_shows_the_path_that_kept_each_section() {
    let d = work_dir("report");
    fs::write(d.join("a.c"), ROOTS_C).unwrap();
    ok(
        &d,
        "gcc",
        &["-c", "-O1", "-ffunction-sections", "-fdata-sections", "a.c"],
    );
    ok(
        &d,
        "gcc",
        &[
            "-B",
            "ld/",
            "-o",
            "a",
            "a.o",
            "-Wl,--gc-sections,--report=r.json,-Map=a.map",
        ],
    );
    let r: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("r.json")).unwrap()).unwrap();
    let gc = &r["gc"];
    let kept = gc["kept"].as_array().unwrap();
    let path = |sec: &str| -> Vec<String> {
        let k = kept
            .iter()
            .find(|k| k["input"] == "a.o" && k["section"] == sec)
            .unwrap_or_else(|| panic!("{sec} not kept"));
        k["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    // crt1's _start calls main, which calls used.
    let p = path(".text.used");
    assert!(p[0].contains("root: the entry symbol _start"), "{p:?}");
    assert!(
        p[p.len() - 2].starts_with("a.o:.text.main (relocation against main)"),
        "{p:?}"
    );
    assert_eq!(p[p.len() - 1], "a.o:.text.used (relocation against used)");
    assert_eq!(
        path(".text.retained"),
        ["a.o:.text.retained (root: SHF_GNU_RETAIN)"]
    );
    let p = path("kept_sec");
    assert!(
        p.last()
            .unwrap()
            .contains("_kept_sec refers to every section"),
        "{p:?}"
    );
    let dropped = gc["dropped"].as_array().unwrap();
    let d_unused = dropped
        .iter()
        .find(|x| x["input"] == "a.o" && x["section"] == ".text.unused")
        .expect(".text.unused dropped");
    assert!(d_unused["why"].as_str().unwrap().starts_with("unreachable"));
    let map = fs::read_to_string(d.join("a.map")).unwrap();
    let discarded = map.split("Discarded input sections").nth(1).unwrap();
    assert!(discarded.contains(".text.unused"));
}
