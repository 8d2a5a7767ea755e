//! GNU ld's command line through gcc: every spelling gcc, libtool and build systems pass
//! (`-Wl,-soname=x`, `-Wl,--rpath,dir`, `-Wl,-hash-style=sysv`...) must mean what it means to GNU ld.
//! Each test links the same objects with `gcc -B DIR` (DIR/ld being initlink) and with gcc's own
//! GNU ld, compares what `readelf` shows, and runs what was linked.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("options-{name}"));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(d.join("ld")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_initlink"), d.join("ld/ld")).unwrap();
    d
}

fn run(dir: &Path, prog: &str, args: &[&str]) -> Output {
    Command::new(prog)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{prog}: {e}"))
}

fn ok(dir: &Path, prog: &str, args: &[&str]) -> String {
    let o = run(dir, prog, args);
    assert!(
        o.status.success(),
        "{prog} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}

/// Link with gcc and initlink (`gcc -B ld/`).
fn initlink(dir: &Path, args: &[&str]) -> Output {
    let mut a = vec!["-B", "ld/"];
    a.extend(args);
    run(dir, "gcc", &a)
}

/// The `.dynamic` lines of `file` whose tag is one of `tags` (`SONAME`, `RUNPATH`...).
fn dynamic(dir: &Path, file: &str, tags: &[&str]) -> Vec<String> {
    ok(dir, "readelf", &["-dW", file])
        .lines()
        .filter(|l| tags.iter().any(|t| l.contains(&format!("({t})"))))
        .map(|l| l.split_once(')').map_or(l, |(_, r)| r).trim().to_string())
        .collect()
}

fn has_section(dir: &Path, file: &str, name: &str) -> bool {
    ok(dir, "readelf", &["-SW", file])
        .lines()
        .any(|l| l.split_whitespace().any(|w| w == name))
}

#[test]
fn long_options_take_one_or_two_dashes_and_either_value_form() {
    let d = work_dir("spellings");
    write(&d, "a.c", "int f(void) { return 42; }\n");
    ok(&d, "gcc", &["-c", "-fPIC", "a.c"]);
    // GNU ld's reference for the same three options.
    ok(
        &d,
        "gcc",
        &[
            "-shared",
            "-o",
            "ref.so",
            "a.o",
            "-Wl,--soname=libx.so.1,--rpath=/opt/x,--hash-style=sysv",
        ],
    );
    let tags = ["SONAME", "RUNPATH"];
    let want = dynamic(&d, "ref.so", &tags);
    assert_eq!(want.len(), 2, "{want:?}");
    for spelling in [
        "-Wl,-soname=libx.so.1,-rpath=/opt/x,-hash-style=sysv",
        "-Wl,--soname=libx.so.1,--rpath=/opt/x,--hash-style=sysv",
        "-Wl,-soname,libx.so.1,-rpath,/opt/x,-hash-style,sysv",
        "-Wl,--soname,libx.so.1,--rpath,/opt/x,--hash-style,sysv",
        "-Wl,-h,libx.so.1,-R,/opt/x,--hash-sty=sysv",
        "-Wl,-hlibx.so.1,-rpath=/opt/x,-hash-st=sysv",
    ] {
        let o = initlink(&d, &["-shared", "-o", "b.so", "a.o", spelling]);
        assert!(
            o.status.success(),
            "{spelling}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(dynamic(&d, "b.so", &tags), want, "{spelling}");
        assert_eq!(
            (has_section(&d, "b.so", ".hash"), has_section(&d, "b.so", ".gnu.hash")),
            (true, false),
            "{spelling}: -hash-style=sysv"
        );
    }
}

#[test]
fn a_single_dash_long_option_is_never_a_short_option_with_a_glued_value() {
    let d = work_dir("single-dash");
    write(
        &d,
        "m.c",
        "int exported_fn(void) { return 7; }\nint main(void) { return exported_fn() - 7; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIE", "m.c"]);
    // `-export-dynamic` is `--export-dynamic`, not `-e xport-dynamic`: the program still starts
    // at `_start` and exports its functions, as with GNU ld.
    ok(&d, "gcc", &["-o", "ref", "m.o", "-Wl,-export-dynamic"]);
    let o = initlink(&d, &["-o", "exe", "m.o", "-Wl,-export-dynamic"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(&d, "./exe", &[]);
    for f in ["ref", "exe"] {
        let syms = ok(&d, "readelf", &["--dyn-syms", "-W", f]);
        assert!(syms.contains(" exported_fn"), "{f}: {syms}");
    }
    // `-emit-relocs` is `--emit-relocs`, which initlink does not implement: an error naming it,
    // never a link that starts at a symbol called `mit-relocs`.
    let o = initlink(&d, &["-o", "exe2", "m.o", "-Wl,-emit-relocs"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("-emit-relocs"), "{err}");
    assert!(!d.join("exe2").exists());
}

#[test]
fn unknown_and_ambiguous_options_are_errors_that_name_them() {
    let d = work_dir("unknown");
    write(&d, "m.c", "int main(void) { return 0; }\n");
    ok(&d, "gcc", &["-c", "m.c"]);
    for (opt, says) in [
        ("-Wl,--frobnicate", "unknown option: --frobnicate"),
        ("-Wl,-hash", "option '-hash' is ambiguous"),
        ("-Wl,--hash=gnu", "option '--hash=gnu' is ambiguous"),
        ("-Wl,-static-pie", "unable to disambiguate: -static-pie"),
    ] {
        let o = initlink(&d, &["-o", "exe", "m.o", opt]);
        assert_eq!(o.status.code(), Some(1), "{opt}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{opt}: {err}");
        // GNU ld rejects the same.
        assert!(!run(&d, "gcc", &["-o", "ref", "m.o", opt]).status.success(), "{opt}");
    }
}

#[test]
fn dt_needed_names_a_library_without_soname_as_gnu_ld_does() {
    let d = work_dir("needed");
    write(&d, "lib.c", "int lib_value(void) { return 5; }\n");
    write(
        &d,
        "main.c",
        "int lib_value(void);\nint main(void) { return lib_value() - 5; }\n",
    );
    fs::create_dir_all(d.join("sub")).unwrap();
    ok(&d, "gcc", &["-shared", "-fPIC", "-o", "sub/libbar.so", "lib.c"]);
    ok(&d, "gcc", &["-c", "main.c"]);
    let abs = d.join("sub/libbar.so").display().to_string();
    // By path: the path as given; by -l or -l:: the file name.
    for (how, want) in [
        (vec!["sub/libbar.so"], "sub/libbar.so"),
        (vec![abs.as_str()], abs.as_str()),
        (vec!["-Lsub", "-lbar"], "libbar.so"),
        (vec!["-Lsub", "-l:libbar.so"], "libbar.so"),
    ] {
        let mut args = vec!["main.o"];
        args.extend(&how);
        ok(&d, "gcc", &[&["-o", "ref"], &args[..]].concat());
        let o = initlink(&d, &[&["-o", "exe"], &args[..]].concat());
        assert!(o.status.success(), "{how:?}: {}", String::from_utf8_lossy(&o.stderr));
        let want = format!("Shared library: [{want}]");
        for f in ["ref", "exe"] {
            let needed = dynamic(&d, f, &["NEEDED"]);
            assert_eq!(needed.first(), Some(&want), "{f} {how:?}: {needed:?}");
        }
        // The loader finds it by that name (from the directory the test runs in).
        let o = Command::new("./exe")
            .current_dir(&d)
            .env("LD_LIBRARY_PATH", d.join("sub"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{how:?}: {o:?}");
    }
}
