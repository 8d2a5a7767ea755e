//! `-r` (`--relocatable`): the same objects combined into one relocatable object by initlink and
//! by GNU ld, each result then linked into a program by GNU ld (and initlink's by initlink too)
//! and run: the programs must print the same. `readelf` shows what the object must hold: an
//! `ET_REL` with its COMDAT groups and its relocations.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{ok, run, write};

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    common::work_dir("relocatable", name)
}

fn initlink(dir: &Path, args: &[&str]) -> Output {
    run(dir, env!("CARGO_BIN_EXE_initlink"), args)
}

/// The number of entries of relocation section `name` in `file`, 0 when it has none.
fn rela_count(dir: &Path, file: &str, name: &str) -> usize {
    let text = ok(dir, "readelf", &["-rW", file]);
    let head = format!("Relocation section '{name}' at offset");
    text.lines()
        .find(|l| l.starts_with(&head))
        .and_then(|l| l.split("contains ").nth(1))
        .and_then(|t| t.split_whitespace().next())
        .map_or(0, |n| n.parse().unwrap())
}

/// The signatures of `file`'s COMDAT groups, sorted.
fn groups(dir: &Path, file: &str) -> Vec<String> {
    let mut g: Vec<String> = ok(dir, "readelf", &["-gW", file])
        .lines()
        .filter(|l| l.starts_with("COMDAT group section"))
        .filter_map(|l| l.split('[').nth(2))
        .map(|s| s.split(']').next().unwrap_or("").to_string())
        .collect();
    g.sort();
    g
}

const A_CC: &str = r#"
#include <cstdio>
#include <stdexcept>
inline int twice(int x) { static int calls; calls++; return 2 * x + calls; }
struct Hello { Hello() { std::puts("constructed"); } } hello;
int risky(int x) {
  try {
    if (x < 0) throw std::runtime_error("negative");
  } catch (const std::exception &e) {
    std::printf("caught %s\n", e.what());
    return -1;
  }
  return twice(x);
}
"#;

const B_CC: &str = r#"
#include <cstdio>
inline int twice(int x) { static int calls; calls++; return 2 * x + calls; }
int risky(int);
static const char *const words[] = {"zero", "one", "two"};
int main() {
  std::printf("%d %d %d %s\n", risky(-3), risky(4), twice(5), words[2]);
  return 0;
}
"#;

#[test]
fn cxx_objects_combined_link_and_run_as_with_gnu_ld() {
    let d = work_dir("cxx");
    write(&d, "a.cc", A_CC);
    write(&d, "b.cc", B_CC);
    ok(&d, "g++", &["-c", "-g", "-O0", "a.cc", "b.cc"]);
    ok(&d, "ld", &["-r", "-o", "gnu.o", "a.o", "b.o"]);
    // Through gcc, with what gcc passes with -r (-plugin, --eh-frame-hdr, -dynamic-linker...).
    ok(
        &d,
        "g++",
        &["-B", "ld/", "-r", "-o", "ours.o", "a.o", "b.o"],
    );
    let header = ok(&d, "readelf", &["-hW", "ours.o"]);
    assert!(header.contains("REL (Relocatable file)"), "{header}");
    // Both inputs have `twice` and its static in COMDAT groups: one of each is kept.
    let g = groups(&d, "ours.o");
    assert_eq!(g, groups(&d, "gnu.o"));
    assert!(g.iter().any(|s| s == "_Z5twicei"), "{g:?}");
    assert_eq!(
        rela_count(&d, "ours.o", ".rela.text"),
        rela_count(&d, "gnu.o", ".rela.text")
    );
    assert!(rela_count(&d, "ours.o", ".rela.init_array") == 1);
    assert!(rela_count(&d, "ours.o", ".rela.eh_frame") > 0);
    assert!(rela_count(&d, "ours.o", ".rela.debug_info") > 0);
    let mode = fs::metadata(d.join("ours.o")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o111,
        0
    );
    ok(&d, "g++", &["-o", "gnu", "gnu.o"]);
    ok(&d, "g++", &["-o", "ours", "ours.o"]);
    ok(&d, "g++", &["-B", "ld/", "-o", "ours-initlink", "ours.o"]);
    let want = ok(&d, "./gnu", &[]);
    assert_eq!(want, "constructed\ncaught negative\n-1 10 11 two\n");
    assert_eq!(ok(&d, "./ours", &[]), want);
    assert_eq!(ok(&d, "./ours-initlink", &[]), want);
    // The debug information still reads without complaint.
    let dwarf = run(&d, "objdump", &["--dwarf=info", "ours.o"]);
    assert!(!String::from_utf8_lossy(&dwarf.stderr).contains("Warning"));
    // Same inputs, same bytes.
    ok(
        &d,
        "g++",
        &["-B", "ld/", "-r", "-o", "again.o", "a.o", "b.o"],
    );
    assert_eq!(
        fs::read(d.join("ours.o")).unwrap(),
        fs::read(d.join("again.o")).unwrap()
    );
}

#[test]
fn archive_members_are_loaded_only_when_needed() {
    let d = work_dir("archive");
    write(&d, "a.c", "void bar(void);\nvoid foo(void) { bar(); }\n");
    write(&d, "b.c", "void bar(void) {}\n");
    write(&d, "c.c", "void baz(void) {}\n");
    write(
        &d,
        "m.c",
        "void foo(void);\nint main(void) { foo(); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "a.c", "b.c", "c.c", "m.c"]);
    ok(&d, "ar", &["crs", "lib.a", "a.o", "b.o", "c.o"]);
    let names = |file: &str| ok(&d, "nm", &[file]);
    let o = initlink(&d, &["-r", "-o", "r.o", "m.o", "lib.a"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let syms = names("r.o");
    assert!(syms.contains(" T foo") && syms.contains(" T bar"), "{syms}");
    assert!(!syms.contains("baz"), "{syms}");
    let o = initlink(
        &d,
        &[
            "-r",
            "-o",
            "w.o",
            "m.o",
            "--whole-archive",
            "lib.a",
            "--no-whole-archive",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(names("w.o").contains(" T baz"));
    ok(&d, "gcc", &["-o", "prog", "r.o"]);
    assert!(run(&d, "./prog", &[]).status.success());
}

#[test]
fn commons_stay_common_unless_defined_with_d() {
    let d = work_dir("common");
    write(
        &d,
        "a.c",
        "int counter;\nint bump(void) { return ++counter; }\n",
    );
    write(
        &d,
        "b.c",
        "#include <stdio.h>\nint counter;\nint bump(void);\nint main(void) { bump(); printf(\"%d\\n\", bump() + counter); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fcommon", "a.c", "b.c"]);
    let sym = |file: &str| {
        ok(&d, "readelf", &["-sW", file])
            .lines()
            .find(|l| l.ends_with(" counter"))
            .map(|l| l.split_whitespace().nth(6).unwrap_or("").to_string())
            .unwrap()
    };
    for (flags, common) in [(&[][..], true), (&["-d"][..], false)] {
        let mut args = vec!["-r", "-o", "r.o"];
        args.extend(flags);
        args.extend(["a.o", "b.o"]);
        let o = initlink(&d, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut gnu = vec!["-r", "-o", "gnu.o"];
        gnu.extend(flags);
        gnu.extend(["a.o", "b.o"]);
        ok(&d, "ld", &gnu);
        assert_eq!(sym("r.o") == "COM", common, "{flags:?}");
        assert_eq!(sym("gnu.o") == "COM", common, "{flags:?}: GNU ld");
        ok(&d, "gcc", &["-o", "prog", "r.o"]);
        assert_eq!(ok(&d, "./prog", &[]), "4\n");
    }
}

#[test]
fn gc_sections_with_r_needs_a_root_as_in_gnu_ld() {
    let d = work_dir("gc");
    write(
        &d,
        "a.c",
        "int unused(void) { return 1; }\nint used(void) { return 2; }\nint main(void) { return used() - 2; }\n",
    );
    ok(&d, "gcc", &["-c", "-ffunction-sections", "a.c"]);
    let o = initlink(&d, &["-r", "--gc-sections", "-o", "r.o", "a.o"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("requires a defined symbol root"));
    let o = initlink(
        &d,
        &["-r", "--gc-sections", "-e", "main", "-o", "r.o", "a.o"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(
        &d,
        "ld",
        &["-r", "--gc-sections", "-e", "main", "-o", "gnu.o", "a.o"],
    );
    let sections = |f: &str| ok(&d, "readelf", &["-SW", f]).contains(".text.unused");
    assert_eq!(sections("r.o"), sections("gnu.o"));
    assert!(!sections("r.o"));
    ok(&d, "gcc", &["-o", "prog", "r.o"]);
    assert!(run(&d, "./prog", &[]).status.success());
}

#[test]
fn compressed_debug_sections_survive() {
    let d = work_dir("compressed");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nvoid hello(void) { puts(\"Hello world\"); }\n",
    );
    write(
        &d,
        "b.c",
        "void hello(void);\nint main(void) { hello(); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-g", "-gz", "a.c", "b.c"]);
    let o = initlink(&d, &["-r", "-o", "plain.o", "a.o", "b.o"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = initlink(
        &d,
        &[
            "-r",
            "--compress-debug-sections=zlib",
            "-o",
            "z.o",
            "a.o",
            "b.o",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info = |f: &str| {
        ok(&d, "readelf", &["-SW", f])
            .lines()
            .find(|l| l.contains(" .debug_info "))
            .unwrap()
            .to_string()
    };
    assert!(!info("plain.o").contains(" C "), "{}", info("plain.o"));
    assert!(info("z.o").contains('C'), "{}", info("z.o"));
    for f in ["plain.o", "z.o"] {
        ok(&d, "gcc", &["-g", "-o", "prog", f]);
        assert_eq!(ok(&d, "./prog", &[]), "Hello world\n");
        let dwarf = run(&d, "objdump", &["--dwarf=info", f]);
        assert!(dwarf.status.success());
        assert!(!String::from_utf8_lossy(&dwarf.stderr).contains("Warning"));
    }
}

#[test]
fn r_with_shared_is_an_error() {
    let d = work_dir("shared");
    write(&d, "a.c", "int f(void) { return 1; }\n");
    ok(&d, "gcc", &["-c", "a.c"]);
    let o = initlink(&d, &["-r", "-shared", "-o", "r.o", "a.o"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("-r and -shared"));
    // `-r` searches `-l` for archives only, as GNU ld: `-lc` is libc.a, whose `puts` (weak) comes in.
    write(
        &d,
        "m.c",
        "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "m.c"]);
    let libdir = ok(&d, "gcc", &["-print-file-name=libc.a"]);
    let libdir = Path::new(libdir.trim())
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let o = initlink(&d, &["-r", "-o", "r.o", "m.o", "-L", &libdir, "-lc"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(ok(&d, "nm", &["r.o"]).contains(" W puts"));
    let so = ok(&d, "gcc", &["-print-file-name=libc.so.6"]);
    let o = initlink(&d, &["-r", "-o", "r.o", "m.o", so.trim()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("attempted static link of dynamic object"));
}

#[test]
fn report_and_map_of_a_relocatable_link() {
    let d = work_dir("report");
    write(&d, "a.c", "int g(void);\nint f(void) { return g() + 1; }\n");
    ok(&d, "gcc", &["-c", "a.c"]);
    let o = initlink(
        &d,
        &["-r", "-o", "r.o", "a.o", "--report=r.json", "-Map=r.map"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join("r.json")).unwrap()).unwrap();
    assert_eq!(json["output"]["kind"], "relocatable");
    let names: Vec<&str> = json["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&".text") && names.contains(&".rela.text"),
        "{names:?}"
    );
    let text = json["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == ".text")
        .unwrap();
    assert_eq!(text["pieces"][0]["input"], "a.o");
    assert!(fs::read_to_string(d.join("r.map"))
        .unwrap()
        .contains(".symtab"));
    // g stays undefined, for the next link.
    assert!(ok(&d, "nm", &["r.o"]).contains(" U g"));
}

#[test]
fn sections_keep_their_names_unless_merged_by_prefix() {
    let d = work_dir("merge");
    write(
        &d,
        "a.c",
        "int foo(void) { return 1; }\nint bar(void) { return 2; }\nint main(void) { return foo() + bar() - 3; }\n",
    );
    ok(&d, "gcc", &["-c", "-ffunction-sections", "a.c"]);
    let o = initlink(&d, &["-r", "-o", "kept.o", "a.o"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(&d, "ld", &["-r", "-o", "gnu.o", "a.o"]);
    let has = |f: &str, name: &str| {
        ok(&d, "readelf", &["-SW", f])
            .lines()
            .any(|l| l.split_whitespace().any(|w| w == name))
    };
    assert!(has("kept.o", ".text.foo") && has("gnu.o", ".text.foo"));
    let o = initlink(
        &d,
        &[
            "-r",
            "--relocatable-merge-sections",
            "-o",
            "merged.o",
            "a.o",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!has("merged.o", ".text.foo") && !has("merged.o", ".text.bar"));
    for f in ["kept.o", "merged.o"] {
        ok(&d, "gcc", &["-o", "prog", f]);
        assert!(run(&d, "./prog", &[]).status.success(), "{f}");
    }
}

#[test]
fn a_missing_stack_note_makes_the_note_executable_as_in_gnu_ld() {
    let d = work_dir("stack");
    write(&d, "f.s", ".text\n.globl f\nf:\n ret\n");
    write(
        &d,
        "m.c",
        "void f(void);\nint main(void) { f(); return 0; }\n",
    );
    ok(&d, "as", &["-o", "f.o", "f.s"]);
    ok(&d, "gcc", &["-c", "m.c"]);
    let note = |f: &str| {
        ok(&d, "readelf", &["-SW", f])
            .lines()
            .find(|l| l.contains(".note.GNU-stack"))
            .map(|l| l.split_whitespace().rev().nth(3).unwrap_or("").to_string())
            .unwrap_or_default()
    };
    for (inputs, exec) in [(&["f.o", "m.o"][..], true), (&["m.o"][..], false)] {
        let mut args = vec!["-r", "-o", "r.o"];
        args.extend(inputs);
        let o = initlink(&d, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut gnu = vec!["-r", "-o", "gnu.o"];
        gnu.extend(inputs);
        let _ = run(&d, "ld", &gnu);
        assert_eq!(note("r.o"), note("gnu.o"), "{inputs:?}");
        assert_eq!(note("r.o") == "X", exec, "{inputs:?}: {}", note("r.o"));
    }
}
