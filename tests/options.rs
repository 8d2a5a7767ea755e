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
            (
                has_section(&d, "b.so", ".hash"),
                has_section(&d, "b.so", ".gnu.hash")
            ),
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
        assert!(
            !run(&d, "gcc", &["-o", "ref", "m.o", opt]).status.success(),
            "{opt}"
        );
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
    ok(
        &d,
        "gcc",
        &["-shared", "-fPIC", "-o", "sub/libbar.so", "lib.c"],
    );
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
        assert!(
            o.status.success(),
            "{how:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
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

/// `gcc ARGS` with GNU ld (`ref`) and with initlink (`exe`), then both run: same stdout, status 0.
fn same_run(d: &Path, args: &[&str], env: &[(&str, &Path)]) -> String {
    ok(d, "gcc", &[&["-o", "ref"], args].concat());
    let o = initlink(d, &[&["-o", "exe"], args].concat());
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let go = |p: &str| {
        let mut c = Command::new(p);
        c.current_dir(d);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{p} {args:?}: {o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (want, got) = (go("./ref"), go("./exe"));
    assert_eq!(got, want, "{args:?}");
    got
}

#[test]
fn init_and_fini_name_the_functions_dt_init_and_dt_fini_call() {
    let d = work_dir("init-fini");
    write(
        &d,
        "lib.c",
        "#include <stdio.h>\nvoid my_init(void) { puts(\"my_init\"); }\n\
         void my_fini(void) { puts(\"my_fini\"); }\nint lib_value(void) { return 1; }\n",
    );
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint lib_value(void);\n\
         int main(void) { printf(\"main %d\\n\", lib_value()); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "lib.c", "main.c"]);
    for (lib, linker) in [("libref.so", None), ("libil.so", Some("ld/"))] {
        let mut a = vec![];
        if let Some(b) = linker {
            a.extend(["-B", b]);
        }
        a.extend([
            "-shared",
            "-o",
            lib,
            "lib.o",
            "-Wl,-init,my_init",
            "-Wl,--fini=my_fini",
        ]);
        ok(&d, "gcc", &a);
    }
    let tags = ["INIT", "FINI"];
    let nm = |lib: &str| ok(&d, "nm", &["-D", lib]);
    for lib in ["libref.so", "libil.so"] {
        let dynamic = ok(&d, "readelf", &["-dW", lib]);
        let syms = nm(lib);
        for (tag, func) in tags.iter().zip(["my_init", "my_fini"]) {
            let addr = dynamic
                .lines()
                .find(|l| l.contains(&format!("({tag})")))
                .and_then(|l| l.split_whitespace().last())
                .unwrap_or_else(|| panic!("{lib}: no {tag}"));
            let want = syms
                .lines()
                .find(|l| l.ends_with(&format!(" {func}")))
                .and_then(|l| l.split_whitespace().next())
                .unwrap();
            assert_eq!(
                u64::from_str_radix(addr.trim_start_matches("0x"), 16).unwrap(),
                u64::from_str_radix(want, 16).unwrap(),
                "{lib}: {tag}"
            );
        }
    }
    fs::copy(d.join("libil.so"), d.join("libx.so")).unwrap();
    let out = same_run(&d, &["main.o", "-L.", "-lx"], &[("LD_LIBRARY_PATH", &d)]);
    assert_eq!(out, "my_init\nmain 1\nmy_fini\n");
    // A symbol that is not defined: no DT_INIT at all, as GNU ld.
    let o = initlink(
        &d,
        &["-shared", "-o", "none.so", "lib.o", "-Wl,-init,no_such"],
    );
    assert!(o.status.success());
    assert!(dynamic(&d, "none.so", &["INIT"]).is_empty());
}

#[test]
fn whole_archive_loads_every_member_until_no_whole_archive() {
    let d = work_dir("whole-archive");
    write(
        &d,
        "m1.c",
        "#include <stdio.h>\n__attribute__((constructor)) static void c1(void) { puts(\"m1\"); }\n",
    );
    write(
        &d,
        "m2.c",
        "#include <stdio.h>\n__attribute__((constructor)) static void c2(void) { puts(\"m2\"); }\n",
    );
    write(&d, "main.c", "int main(void) { return 0; }\n");
    ok(&d, "gcc", &["-c", "m1.c", "m2.c", "main.c"]);
    ok(&d, "ar", &["rcs", "libm12.a", "m1.o", "m2.o"]);
    let all = same_run(
        &d,
        &[
            "main.o",
            "-Wl,--whole-archive",
            "libm12.a",
            "-Wl,--no-whole-archive",
        ],
        &[],
    );
    assert_eq!(all, "m1\nm2\n");
    let none = same_run(
        &d,
        &["main.o", "-Wl,-whole-archive,-no-whole-archive", "libm12.a"],
        &[],
    );
    assert_eq!(none, "");
}

#[test]
fn allow_multiple_definition_keeps_the_first_as_gnu_ld() {
    let d = work_dir("muldefs");
    write(&d, "a.c", "int which(void) { return 1; }\n");
    write(&d, "b.c", "int which(void) { return 2; }\n");
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint which(void);\nint main(void) { printf(\"%d\\n\", which()); }\n",
    );
    ok(&d, "gcc", &["-c", "a.c", "b.c", "main.c"]);
    let o = initlink(&d, &["-o", "exe", "main.o", "a.o", "b.o"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("duplicate symbol: which"));
    for flag in ["-Wl,--allow-multiple-definition", "-Wl,-z,muldefs"] {
        assert_eq!(same_run(&d, &["main.o", "a.o", "b.o", flag], &[]), "1\n");
        assert_eq!(same_run(&d, &["main.o", "b.o", "a.o", flag], &[]), "2\n");
    }
}

#[test]
fn z_keywords_and_dtags_set_the_dynamic_flags_gnu_ld_sets() {
    let d = work_dir("z-flags");
    write(&d, "a.c", "int f(void) { return 1; }\n");
    ok(&d, "gcc", &["-c", "-fPIC", "a.c"]);
    let tags = ["FLAGS", "FLAGS_1", "RPATH", "RUNPATH"];
    for flags in [
        "-Wl,-z,initfirst,-z,interpose",
        "-Wl,-z,nodelete,-z,nodlopen,-z,nodefaultlib",
        "-Wl,-z,origin,-rpath=$ORIGIN/x",
        "-Wl,-z,now,-z,origin",
        "-Wl,--disable-new-dtags,-rpath,/a,-rpath,/b",
        "-Wl,--disable-new-dtags,--enable-new-dtags,-rpath,/a",
    ] {
        ok(&d, "gcc", &["-shared", "-o", "ref.so", "a.o", flags]);
        let o = initlink(&d, &["-shared", "-o", "b.so", "a.o", flags]);
        assert!(
            o.status.success(),
            "{flags}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let want = dynamic(&d, "ref.so", &tags);
        assert!(!want.is_empty(), "{flags}");
        assert_eq!(dynamic(&d, "b.so", &tags), want, "{flags}");
    }
    // -z norelro: no PT_GNU_RELRO.
    for (flag, relro) in [("-Wl,-z,norelro", false), ("-Wl,-z,relro", true)] {
        let o = initlink(&d, &["-shared", "-o", "b.so", "a.o", flag]);
        assert!(o.status.success());
        let segs = ok(&d, "readelf", &["-lW", "b.so"]);
        assert_eq!(segs.contains("GNU_RELRO"), relro, "{flag}");
    }
}

#[test]
fn trace_lists_the_input_files() {
    let d = work_dir("trace");
    write(&d, "m.c", "int main(void) { return 0; }\n");
    ok(&d, "gcc", &["-c", "m.c"]);
    for flag in ["-Wl,-t", "-Wl,--trace", "-Wl,-trace"] {
        let o = initlink(&d, &["-o", "exe", "m.o", flag]);
        assert!(o.status.success(), "{flag}");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.lines().any(|l| l == "m.o"), "{flag}: {out}");
        assert!(
            out.lines()
                .any(|l| l.ends_with("crt1.o") || l.ends_with("Scrt1.o")),
            "{out}"
        );
    }
    let o = initlink(&d, &["-o", "exe", "m.o", "-Wl,--verbose"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("initlink"));
}

#[test]
fn sysroot_prefixes_equals_paths_and_the_absolute_paths_of_scripts_inside_it() {
    let d = work_dir("sysroot");
    fs::create_dir_all(d.join("root/lib")).unwrap();
    write(&d, "x.c", "int x_value(void) { return 3; }\n");
    write(&d, "y.c", "int y_value(void) { return 4; }\n");
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint x_value(void), y_value(void);\n\
         int main(void) { printf(\"%d\\n\", x_value() + y_value()); }\n",
    );
    ok(&d, "gcc", &["-c", "x.c", "y.c", "main.c"]);
    fs::rename(d.join("x.o"), d.join("root/lib/x.o")).unwrap();
    ok(&d, "ar", &["rcs", "root/lib/liby.a", "y.o"]);
    // `=` in a script outside the sysroot; a plain absolute path in a script inside it.
    write(&d, "outside.ld", "INPUT(=/lib/x.o)\n");
    write(&d, "root/inside.ld", "INPUT(/lib/liby.a)\n");
    let root = format!("-Wl,--sysroot={}", d.join("root").display());
    let out = same_run(&d, &[&root, "main.o", "outside.ld", "root/inside.ld"], &[]);
    assert_eq!(out, "7\n");
    // -L=DIR searches DIR in the sysroot.
    let out = same_run(
        &d,
        &[&root, "main.o", "outside.ld", "-Wl,-L=/lib", "-ly"],
        &[],
    );
    assert_eq!(out, "7\n");
}

#[test]
fn exclude_libs_keeps_an_archives_symbols_out_of_dynsym() {
    let d = work_dir("exclude-libs");
    write(&d, "a.c", "int from_a(void) { return 1; }\n");
    write(&d, "b.c", "int from_b(void) { return 2; }\n");
    write(
        &d,
        "c.c",
        "int from_a(void), from_b(void);\nint from_c(void) { return from_a() + from_b(); }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "a.c", "b.c", "c.c"]);
    ok(&d, "ar", &["rcs", "liba.a", "a.o"]);
    ok(&d, "ar", &["rcs", "libb.a", "b.o"]);
    let exported = |f: &str| {
        let syms = ok(&d, "readelf", &["--dyn-syms", "-W", f]);
        ["from_a", "from_b", "from_c"]
            .into_iter()
            .filter(|s| syms.contains(&format!(" {s}")))
            .collect::<Vec<_>>()
    };
    for flag in [
        "-Wl,--exclude-libs=liba.a",
        "-Wl,-exclude-libs,libb.a:liba.a",
        "-Wl,--exclude-libs=ALL",
        "-Wl,--exclude-libs=other.a",
    ] {
        let args = ["-shared", "c.o", "liba.a", "libb.a", flag];
        ok(&d, "gcc", &[&["-o", "ref.so"], &args[..]].concat());
        let o = initlink(&d, &[&["-o", "b.so"], &args[..]].concat());
        assert!(
            o.status.success(),
            "{flag}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(exported("b.so"), exported("ref.so"), "{flag}");
    }
}

#[test]
fn an_unknown_z_keyword_is_ignored_with_a_warning_as_gnu_ld() {
    let d = work_dir("z-unknown");
    write(&d, "m.c", "int main(void) { return 0; }\n");
    ok(&d, "gcc", &["-c", "m.c"]);
    let o = initlink(&d, &["-o", "exe", "m.o", "-Wl,-z,no-such-keyword"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning: -z no-such-keyword ignored"), "{err}");
    let gnu = run(&d, "gcc", &["-o", "ref", "m.o", "-Wl,-z,no-such-keyword"]);
    assert!(gnu.status.success());
    assert!(String::from_utf8_lossy(&gnu.stderr).contains("-z no-such-keyword ignored"));
    ok(&d, "./exe", &[]);
}

#[test]
fn defsym_defines_a_number_or_an_alias() {
    let d = work_dir("defsym");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nextern char foo, bar;\nvoid baz(void);\n\
         void print(void) { printf(\"%p %p\\n\", (void *)&foo, (void *)&bar); }\n\
         int main(void) { baz(); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "a.c"]);
    let defs = [
        "-Wl,-defsym=foo=16",
        "-Wl,--defsym,bar=0x2000",
        "-Wl,-defsym,baz=print",
    ];
    // Without PIE, GNU ld and initlink agree.
    let out = same_run(&d, &[&["-no-pie", "a.o"], &defs[..]].concat(), &[]);
    assert_eq!(out, "0x10 0x2000\n");
    // In a PIE the numbers stay absolute (GNU ld 2.40 relaxes their GOT loads to PC-relative
    // `lea`s, which moves them with the image; lld and mold keep them absolute).
    let o = initlink(&d, &[&["-o", "pie", "-pie", "a.o"], &defs[..]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ok(&d, "./pie", &[]), "0x10 0x2000\n");
    // An alias exported from a shared object, like its target.
    ok(
        &d,
        "gcc",
        &["-shared", "-o", "ref.so", "a.o", "-Wl,-defsym=alias=print"],
    );
    let o = initlink(
        &d,
        &["-shared", "-o", "b.so", "a.o", "-Wl,-defsym=alias=print"],
    );
    assert!(o.status.success());
    for f in ["ref.so", "b.so"] {
        let syms = ok(&d, "nm", &["-D", f]);
        let addr = |n: &str| {
            syms.lines()
                .find(|l| l.ends_with(&format!(" {n}")))
                .map(|l| l.split_whitespace().next().unwrap().to_string())
        };
        assert!(addr("alias").is_some(), "{f}: {syms}");
        assert_eq!(addr("alias"), addr("print"), "{f}");
    }
    // A name nothing defines, and an expression initlink does not take: errors naming them.
    for (flag, says) in [
        ("-Wl,-defsym=x=no_such", "undefined symbol: no_such"),
        ("-Wl,-defsym=x=print+1", "--defsym 'x=print+1'"),
    ] {
        let o = initlink(
            &d,
            &[
                "-o",
                "bad",
                "a.o",
                "-Wl,-defsym=foo=1,-defsym=bar=2,-defsym=baz=print",
                flag,
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{flag}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{flag}: {err}");
    }
}

#[test]
fn no_undefined_and_z_defs_make_a_shared_objects_undefined_references_errors() {
    let d = work_dir("no-undefined");
    write(
        &d,
        "a.c",
        "int missing(void);\nint f(void) { return missing(); }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "a.c"]);
    for (flags, fails) in [
        (&[][..], false),
        (&["-Wl,--no-undefined"][..], true),
        (&["-Wl,-z,defs"][..], true),
        (&["-Wl,-z,defs,-z,undefs"][..], false),
    ] {
        let args = [&["-shared", "a.o"], flags].concat();
        let gnu = run(&d, "gcc", &[&["-o", "ref.so"], &args[..]].concat());
        let o = initlink(&d, &[&["-o", "b.so"], &args[..]].concat());
        assert_eq!(gnu.status.success(), !fails, "GNU ld {flags:?}");
        assert_eq!(o.status.success(), !fails, "{flags:?}");
        if fails {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("undefined symbol: missing"), "{err}");
        }
    }
}

#[test]
fn help_lists_what_initlink_accepts_and_the_targets_line_libtool_looks_for() {
    let d = work_dir("help");
    let out = run(&d, env!("CARGO_BIN_EXE_initlink"), &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    // libtool's test for a GNU ld that can make shared libraries, on both linkers' --help.
    let libtool = |text: &str| {
        text.lines().any(|l| {
            l.split_once(": supported targets:")
                .is_some_and(|(_, t)| t.contains(" elf"))
        })
    };
    assert!(libtool(&help), "{help}");
    let gnu = run(&d, "ld.bfd", &["--help"]);
    assert!(libtool(&String::from_utf8_lossy(&gnu.stdout)));
    for accepted in [
        "--whole-archive",
        "--soname ARG",
        "--as-needed",
        "--gc-sections",
    ] {
        assert!(
            help.lines().any(|l| l.trim() == accepted),
            "{accepted} missing from:\n{help}"
        );
    }
    // An option GNU ld has that initlink rejects is not offered.
    assert!(!help.contains("--mri-script"), "{help}");
}

#[test]
fn warn_common_warns_in_gnu_lds_words_and_fatal_warnings_fails_the_link() {
    let d = work_dir("fatal-warnings");
    write(&d, "a.c", "int foo;\n");
    write(&d, "b.c", "int foo;\nint main(void) { return foo; }\n");
    write(&d, "c.c", "int foo = 3;\n");
    ok(&d, "gcc", &["-c", "-fcommon", "a.c", "b.c", "c.c"]);
    // (linker, args) → (exit status, the warnings without their program's prefix).
    let link = |initlink: bool, args: &[&str]| {
        let _ = fs::remove_file(d.join("exe"));
        let mut a = if initlink { vec!["-B", "ld/"] } else { vec![] };
        a.extend(["-o", "exe"]);
        a.extend(args);
        let o = run(&d, "gcc", &a);
        let warnings: Vec<String> = String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(_, w)| w.replace("warning: ", "")))
            .filter(|w| w.contains('`'))
            .collect();
        (o.status.success(), d.join("exe").exists(), warnings)
    };
    let cases: [&[&str]; 5] = [
        &["a.o", "b.o"],
        &["a.o", "b.o", "-Wl,--warn-common"],
        &["a.o", "b.o", "c.o", "-Wl,--warn-common"],
        &["a.o", "b.o", "-Wl,--warn-common,--fatal-warnings"],
        &[
            "a.o",
            "b.o",
            "-Wl,--warn-common,--fatal-warnings,--no-fatal-warnings",
        ],
    ];
    for args in cases {
        let gnu = link(false, args);
        let ours = link(true, args);
        assert_eq!(ours, gnu, "{args:?}");
    }
    assert_eq!(
        link(true, cases[1]).2,
        ["b.o and a.o: multiple common of `foo'"]
    );
    let (linked, made, _) = link(true, cases[3]);
    assert!(!linked && !made);
    // A command-line warning counts only after --fatal-warnings, as GNU ld gives it.
    let z = |args: &[&str]| {
        let mut a = vec!["-B", "ld/", "-o", "exe", "b.o"];
        a.extend(args);
        run(&d, "gcc", &a).status.success()
    };
    assert!(z(&["-Wl,-z,frobnicate,--fatal-warnings"]));
    assert!(!z(&["-Wl,--fatal-warnings,-z,frobnicate"]));
}

#[test]
fn a_linker_script_assigns_symbols_and_names_the_entry_as_gnu_ld() {
    let d = work_dir("script-assignments");
    write(
        &d,
        "a.c",
        "int foo(void) { return 42; }\nint used_provided(void);\n\
         int call(void) { return used_provided(); }\n",
    );
    write(
        &d,
        "script",
        "/* aliases */\nbar = foo;\nPROVIDE(used_provided = foo);\nPROVIDE(unused_provided = foo);\n",
    );
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint bar(void); int call(void);\n\
         int main(void) { printf(\"%d %d\\n\", bar(), call()); return 0; }\n\
         void other_start(void) { printf(\"other\\n\"); fflush(stdout); __builtin_exit(3); }\n",
    );
    write(&d, "entry.ld", "ENTRY(other_start);\n");
    ok(&d, "gcc", &["-c", "-fPIC", "a.c", "main.c"]);
    // (is `name` defined in `file`'s .symtab, with which type)
    let sym = |file: &str, name: &str| {
        ok(&d, "readelf", &["-sW", file])
            .lines()
            .find(|l| l.split_whitespace().nth(7) == Some(name))
            .map(|l| l.split_whitespace().nth(3).unwrap_or("").to_string())
    };
    for (initlink, so, exe) in [(false, "libref.so", "ref"), (true, "liba.so", "a")] {
        let mut args = vec!["-shared", "-o", so, "script", "a.o"];
        let o = if initlink {
            args.splice(0..0, ["-B", "ld/"]);
            run(&d, "gcc", &args)
        } else {
            run(&d, "gcc", &args)
        };
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(sym(so, "bar").as_deref(), Some("FUNC"), "{so}");
        assert_eq!(sym(so, "used_provided").as_deref(), Some("FUNC"), "{so}");
        assert_eq!(sym(so, "unused_provided"), None, "{so}");
        let lib = format!("-l{}", &so[3..so.len() - 3]);
        let mut args = vec!["-o", exe, "main.o", "-L.", lib.as_str(), "-Wl,-rpath,."];
        if initlink {
            args.splice(0..0, ["-B", "ld/"]);
        }
        assert!(run(&d, "gcc", &args).status.success());
        assert_eq!(ok(&d, &format!("./{exe}"), &[]), "42 42\n");
        // ENTRY in a script names the entry point; -e on the command line wins over it.
        let with_entry = format!("{exe}-entry");
        let mut args = vec![
            "-o",
            with_entry.as_str(),
            "main.o",
            "entry.ld",
            "-L.",
            lib.as_str(),
            "-Wl,-rpath,.",
        ];
        if initlink {
            args.splice(0..0, ["-B", "ld/"]);
        }
        assert!(run(&d, "gcc", &args).status.success());
        let o = run(&d, &format!("./{with_entry}"), &[]);
        assert_eq!(
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned()
            ),
            (Some(3), "other\n".to_string()),
            "{with_entry}"
        );
    }
    // A script error names the file, line and column.
    write(&d, "bad.ld", "bar = foo;\n  baz = foo + 1;\n");
    let o = initlink(&d, &["-shared", "-o", "bad.so", "bad.ld", "a.o"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.ld:2:3: "), "{err}");
}
