//! Symbol versioning against GNU ld: a C shared library with a version script and two versions of
//! one symbol (`.symver`), linked by initlink and by GNU ld. The versions each defines
//! (`.gnu.version_d`), its exports with their versions (`readelf --dyn-syms -V`), and what
//! programs linked against either library need and print must agree.

use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{ok, run, write};

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    common::work_dir("versions", name)
}

/// `gcc ARGS` with initlink (`gcc -B ld/`) or with gcc's own GNU ld.
fn link(dir: &Path, initlink: bool, args: &[&str]) -> String {
    let mut a = if initlink {
        vec!["-B", "ld/"]
    } else {
        Vec::new()
    };
    a.extend(args);
    ok(dir, "gcc", &a)
}

/// The names GNU ld alone adds to `.dynsym` and `.symtab`: an absolute symbol named after each
/// version it defines (lld and mold do not make them; nothing looks them up).
fn version_names(verdefs: &[String]) -> Vec<String> {
    verdefs
        .iter()
        .filter_map(|l| l.split("Name: ").nth(1).map(|n| n.trim().to_string()))
        .collect()
}

/// What `readelf --dyn-syms -V` says of a library: its version definitions (offsets dropped)
/// and its dynamic symbols as `name@version type bind visibility defined`, sorted.
fn version_facts(dir: &Path, file: &str) -> (Vec<String>, Vec<String>) {
    let text = ok(dir, "readelf", &["-W", "--dyn-syms", "-V", file]);
    let mut verdefs = Vec::new();
    let mut in_verdef = false;
    for l in text.lines() {
        if l.starts_with("Version definition section") {
            in_verdef = true;
            continue;
        }
        if in_verdef {
            if l.trim().is_empty() || l.starts_with("Version") {
                in_verdef = !l.trim().is_empty() && l.starts_with("Version definition");
                continue;
            }
            // `  0x001c: Rev: 1  Flags: none  Index: 2  Cnt: 1  Name: VER_1` or
            // `  0x0038: Parent 1: VER_1`: drop the offset.
            if let Some((_, rest)) = l
                .split_once(": ")
                .filter(|(_, r)| r.starts_with("Rev:") || r.starts_with("Parent"))
            {
                verdefs.push(rest.trim().to_string());
            }
        }
    }
    let skip = version_names(&verdefs);
    let mut syms: Vec<String> = text
        .lines()
        .filter(|l| l.contains(": ") && l.split_whitespace().count() >= 8)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (ty, bind, vis, ndx, name) = (f[3], f[4], f[5], f[6], f[7]);
            if name.is_empty() || !["FUNC", "OBJECT", "NOTYPE", "TLS", "IFUNC"].contains(&ty) {
                return None;
            }
            if ndx == "ABS" && skip.iter().any(|v| v == name) {
                return None;
            }
            // The version a reference needs is shown as `name@V (n)`: the number is an index.
            let defined = if ndx == "UND" { "undefined" } else { "defined" };
            Some(format!("{name} {ty} {bind} {vis} {defined}"))
        })
        .collect();
    syms.sort();
    syms.dedup();
    (verdefs, syms)
}

const LIB: &str = r#"
int foo_v1(void) { return 1; }
int foo_v2(void) { return 2; }
int bar(void) { return 10; }
int helper(void) { return 5; }
int counter = 7;
__asm__(".symver foo_v1, foo@VER_1");
__asm__(".symver foo_v2, foo@@VER_2");
"#;

const MAP: &str = "/* the first interface */\nVER_1 {\n  global: bar; counter;\n};\n\n# foo changed: the old one stays as foo@VER_1\nVER_2 {\n  global: foo;\n  local: *;\n} VER_1;\n";

/// A program built against the old interface: it names `foo@VER_1`.
const OLD: &str = r#"
#include <stdio.h>
int foo(void);
__asm__(".symver foo, foo@VER_1");
int bar(void);
int main(void) { printf("old %d %d\n", foo(), bar()); return 0; }
"#;

const NEW: &str = r#"
#include <stdio.h>
int foo(void);
int bar(void);
extern int counter;
int main(void) { printf("new %d %d %d\n", foo(), bar(), counter); return 0; }
"#;

#[test]
fn a_library_with_two_versions_of_one_symbol_matches_gnu_ld() {
    let d = work_dir("two-versions");
    write(&d, "lib.c", LIB);
    write(&d, "lib.map", MAP);
    write(&d, "old.c", OLD);
    write(&d, "new.c", NEW);
    ok(&d, "gcc", &["-c", "-fPIC", "lib.c"]);
    ok(&d, "gcc", &["-c", "-fPIE", "old.c", "new.c"]);
    // Each linker builds the library under the same soname in a directory of its own.
    let mut facts = Vec::new();
    let mut runs = Vec::new();
    for (side, initlink) in [("gnu", false), ("initlink", true)] {
        let sub = d.join(side);
        fs::create_dir_all(&sub).unwrap();
        let out = format!("{side}/libsv.so");
        link(
            &d,
            initlink,
            &[
                "-shared",
                "-o",
                &out,
                "lib.o",
                "-Wl,-soname,libsv.so,--version-script,lib.map",
            ],
        );
        facts.push(version_facts(&d, &out));
        // Programs linked by the same linker against that library; both must run.
        let mut outputs = Vec::new();
        for prog in ["old", "new"] {
            let exe = format!("{side}/{prog}");
            link(
                &d,
                initlink,
                &[
                    "-o",
                    &exe,
                    &format!("{prog}.o"),
                    &format!("-L{side}"),
                    "-lsv",
                ],
            );
            let needs = version_facts(&d, &exe).1;
            let o = run(&sub, &format!("./{prog}"), &[]);
            assert!(o.status.success(), "{side}/{prog}: {o:?}");
            outputs.push((needs, String::from_utf8_lossy(&o.stdout).into_owned()));
        }
        runs.push(outputs);
    }
    let (gnu, il) = (&facts[0], &facts[1]);
    assert_eq!(il.0, gnu.0, "version definitions (.gnu.version_d)");
    assert_eq!(
        il.1, gnu.1,
        "the library's dynamic symbols and their versions"
    );
    assert!(
        gnu.1.iter().any(|s| s.starts_with("foo@VER_1 ")),
        "{:?}",
        gnu.1
    );
    assert!(
        gnu.1.iter().any(|s| s.starts_with("foo@@VER_2 ")),
        "{:?}",
        gnu.1
    );
    assert!(
        !gnu.1.iter().any(|s| s.starts_with("helper")),
        "{:?}",
        gnu.1
    );
    assert_eq!(runs[1], runs[0], "what the programs need and print");
    assert_eq!(runs[0][0].1, "old 1 10\n");
    assert_eq!(runs[0][1].1, "new 2 10 7\n");
    // And each linker's program runs against the other's library.
    for (side, other) in [("gnu", "initlink"), ("initlink", "gnu")] {
        for prog in ["old", "new"] {
            let exe = d.join(side).join(prog);
            let o = run(&d.join(other), exe.to_str().unwrap(), &[]);
            let want = if prog == "old" {
                "old 1 10\n"
            } else {
                "new 2 10 7\n"
            };
            assert_eq!(
                String::from_utf8_lossy(&o.stdout),
                want,
                "{side}/{prog} with {other}'s library"
            );
        }
    }
}

#[test]
fn a_malformed_version_script_is_named_with_line_and_column() {
    let d = work_dir("malformed");
    write(&d, "lib.c", "int foo(void) { return 1; }\n");
    write(&d, "bad.map", "VER_1 {\n  global: foo\n};\n");
    ok(&d, "gcc", &["-c", "-fPIC", "lib.c"]);
    let o = run(
        &d,
        "gcc",
        &[
            "-B",
            "ld/",
            "-shared",
            "-o",
            "x.so",
            "lib.o",
            "-Wl,--version-script=bad.map",
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.map:3:1: expected ';' after 'foo'"),
        "{err}"
    );
}

#[test]
fn a_version_node_missing_for_a_symver_name_is_an_error_as_in_gnu_ld() {
    let d = work_dir("missing-node");
    write(&d, "lib.c", LIB);
    write(&d, "lib.map", "VER_2 { global: foo; local: *; };\n");
    ok(&d, "gcc", &["-c", "-fPIC", "lib.c"]);
    for initlink in [false, true] {
        let mut a = if initlink {
            vec!["-B", "ld/"]
        } else {
            Vec::new()
        };
        a.extend([
            "-shared",
            "-o",
            "x.so",
            "lib.o",
            "-Wl,--version-script=lib.map",
        ]);
        let o = run(&d, "gcc", &a);
        assert!(!o.status.success(), "initlink={initlink}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("version node not found for symbol foo@VER_1"),
            "initlink={initlink}: {err}"
        );
    }
}
