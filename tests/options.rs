//! GNU ld's command line through gcc: every spelling gcc, libtool and build systems pass
//! (`-Wl,-soname=x`, `-Wl,--rpath,dir`, `-Wl,-hash-style=sysv`...) must mean what it means to GNU ld.
//! Each test links the same objects with `gcc -B DIR` (DIR/ld being initlink) and with gcc's own
//! GNU ld, compares what `readelf` shows, and runs what was linked.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{ok, run, write};

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    common::work_dir("options", name)
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
    // `-emit-relocs` is `--emit-relocs`, never a link that starts at a symbol called
    // `mit-relocs`: the program runs and keeps its relocations.
    let o = initlink(&d, &["-o", "exe2", "m.o", "-Wl,-emit-relocs"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(&d, "./exe2", &[]);
    assert!(has_section(&d, "exe2", ".rela.text"));
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

/// `a.c` and `b.c` both define `which` (returning 1 and 2); `main.c` prints what it returns.
fn two_definitions(d: &Path) {
    write(d, "a.c", "int which(void) { return 1; }\n");
    write(d, "b.c", "int which(void) { return 2; }\n");
    write(
        d,
        "main.c",
        "#include <stdio.h>\nint which(void);\nint main(void) { printf(\"%d\\n\", which()); }\n",
    );
}

#[test]
fn allow_multiple_definition_keeps_the_first_as_gnu_ld() {
    let d = work_dir("muldefs");
    two_definitions(&d);
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
fn noinhibit_exec_reports_errors_and_keeps_the_output_as_gnu_ld() {
    let d = work_dir("noinhibit-exec");
    two_definitions(&d);
    // An undefined function called only when asked to: the program runs while it is not.
    write(
        &d,
        "undef.c",
        "#include <stdio.h>\nint missing(void);\nint main(int c, char **v) { if (c > 1) return missing(); puts(\"ran\"); }\n",
    );
    ok(&d, "gcc", &["-c", "a.c", "b.c", "main.c", "undef.c"]);
    let keep = "-Wl,--noinhibit-exec";
    // Duplicates: both linkers report them, exit 0 and keep the first definition.
    let o = initlink(&d, &["-o", "exe", "main.o", "b.o", "a.o", keep]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("error: duplicate symbol: which"));
    assert_eq!(same_run(&d, &["main.o", "b.o", "a.o", keep], &[]), "2\n");
    // Undefined: reported, exit 0, the program made. (GNU ld's leaves a PLT relocation the
    // loader refuses; initlink's call to `missing` resolves to 0, so it runs until called.)
    for args in [
        &["-o", "ref", "undef.o", keep][..],
        &["-B", "ld/", "-o", "exe", "undef.o", keep],
    ] {
        let o = run(&d, "gcc", args);
        assert!(o.status.success(), "{args:?}: {o:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("missing"),
            "{args:?}: {o:?}"
        );
    }
    assert!(d.join("ref").exists());
    assert_eq!(ok(&d, "./exe", &[]), "ran\n");
    // Without it, no output and exit 1.
    let _ = fs::remove_file(d.join("exe"));
    let o = initlink(&d, &["-o", "exe", "undef.o"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!d.join("exe").exists());
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

/// The `GNU_STACK` program header line of `file`.
fn gnu_stack(dir: &Path, file: &str) -> String {
    ok(dir, "readelf", &["-lW", file])
        .lines()
        .find(|l| l.contains("GNU_STACK"))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn z_stack_size_rpath_once_and_the_last_of_shared_and_pie_as_gnu_ld() {
    let d = work_dir("stack-rpath-kind");
    write(&d, "m.c", "int main(void) { return 7; }\n");
    write(
        &d,
        "s.c",
        "void _start(void) {}\nint foo(void) { return 42; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "m.c", "s.c"]);
    // -z stack-size=N: PT_GNU_STACK's p_memsz, with or without -z execstack.
    for extra in [
        "-Wl,-z,stack-size=0x900000",
        "-Wl,-z,stack-size=0x900000,-z,execstack",
    ] {
        ok(&d, "gcc", &["-o", "ref", "m.o", extra]);
        let o = initlink(&d, &["-o", "out", "m.o", extra]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(
            gnu_stack(&d, "out").contains("0x900000"),
            "{}",
            gnu_stack(&d, "out")
        );
        assert_eq!(gnu_stack(&d, "out"), gnu_stack(&d, "ref"));
        assert_eq!(run(&d, "./out", &[]).status.code(), Some(7));
    }
    // -rpath: each directory once, in first-seen order.
    let rp = "-Wl,-rpath,/foo,-rpath,/bar,-rpath,/foo,-rpath,/baz";
    ok(&d, "gcc", &["-o", "ref", "m.o", rp]);
    let o = initlink(&d, &["-o", "out", "m.o", rp]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        dynamic(&d, "out", &["RUNPATH"]),
        ["Library runpath: [/foo:/bar:/baz]"]
    );
    assert_eq!(
        dynamic(&d, "out", &["RUNPATH"]),
        dynamic(&d, "ref", &["RUNPATH"])
    );
    // The last of -shared, -pie and -no-pie decides the output's kind, as in GNU ld.
    let ld = env!("CARGO_BIN_EXE_initlink");
    let kind = |args: &[&str], out: &str| {
        let mut a = vec!["-o", out, "s.o", "--dynamic-linker=/lib/ld.so"];
        a.extend(args);
        ok(&d, ld, &a);
        ok(
            &d,
            "ld",
            &[&["-o", &format!("{out}.ref")][..], &a[2..]].concat(),
        );
        let facts = |f: &str| {
            let h = ok(&d, "readelf", &["-hlW", f]);
            let ty = h
                .lines()
                .find(|l| l.contains("Type:"))
                .unwrap_or_default()
                .to_string();
            (ty, h.contains("INTERP"))
        };
        let (mine, gnu) = (facts(out), facts(&format!("{out}.ref")));
        assert_eq!(mine, gnu, "{args:?}");
        mine
    };
    assert!(kind(&["-shared", "-pie"], "runnable.so").1);
    assert!(!kind(&["-pie", "-shared"], "plain.so").1);
    assert!(kind(&["-shared", "-no-pie"], "exec").0.contains("EXEC"));
}

#[test]
fn unresolved_symbols_ignore_or_warn_as_gnu_ld() {
    let d = work_dir("unresolved");
    // foo is referenced but never called: a program that ignores it still runs.
    write(
        &d,
        "u.c",
        "int foo(void);\nint main(int c, char **v) { if (c > 5) foo(); return 3; }\n",
    );
    write(
        &d,
        "s.c",
        "int foo(void);\nint bar(void) { return foo(); }\n",
    );
    ok(&d, "gcc", &["-c", "u.c"]);
    ok(&d, "gcc", &["-c", "-fPIC", "s.c"]);
    for (opt, links, warns) in [
        ("-Wl,--unresolved-symbols=report-all", false, false),
        ("-Wl,--unresolved-symbols=ignore-all", true, false),
        (
            "-Wl,--unresolved-symbols=ignore-in-object-files",
            true,
            false,
        ),
        (
            "-Wl,--unresolved-symbols=ignore-in-shared-libs",
            false,
            false,
        ),
        ("-Wl,--warn-unresolved-symbols", true, true),
        (
            "-Wl,--warn-unresolved-symbols,--error-unresolved-symbols",
            false,
            false,
        ),
    ] {
        let gnu = run(&d, "gcc", &["-o", "ref", "u.o", opt]);
        let mine = initlink(&d, &["-o", "out", "u.o", opt]);
        assert_eq!(mine.status.success(), links, "{opt}: {mine:?}");
        assert_eq!(gnu.status.success(), links, "GNU ld, {opt}");
        let said = String::from_utf8_lossy(&mine.stderr).into_owned();
        assert_eq!(
            said.contains("warning: undefined symbol: foo"),
            warns,
            "{opt}: {said}"
        );
        if links {
            let r = run(&d, "./out", &[]);
            assert_eq!(r.status.code(), Some(3), "{opt}: {r:?}");
            // GNU ld 2.40's ./ref does not start here (ld.so: "unexpected PLT reloc type 0x00"
            // for the ignored foo's PLT slot): only its link status is compared.
            assert!(!ok(&d, "readelf", &["--dyn-syms", "-W", "out"]).contains(" foo"));
        }
    }
    // A shared object under -z defs: ignore-in-object-files keeps foo an import; a warning
    // instead of the error with --warn-unresolved-symbols.
    for opt in [
        "-Wl,--unresolved-symbols=ignore-in-object-files",
        "-Wl,--warn-unresolved-symbols",
    ] {
        let o = initlink(&d, &["-shared", "-o", "s.so", "s.o", "-Wl,-z,defs", opt]);
        assert!(o.status.success(), "{opt}: {o:?}");
        let syms = ok(&d, "readelf", &["--dyn-syms", "-W", "s.so"]);
        assert!(syms.lines().any(|l| l.contains(" UND foo")), "{syms}");
    }
    let o = initlink(&d, &["-shared", "-o", "s.so", "s.o", "-Wl,-z,defs"]);
    assert!(!o.status.success());
    let bad = initlink(
        &d,
        &["-o", "out", "u.o", "-Wl,--unresolved-symbols=sometimes"],
    );
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("bad --unresolved-symbols option: sometimes")
    );
}

#[test]
fn a_response_file_may_name_another_as_with_gnu_ld() {
    let d = work_dir("response-nested");
    write(
        &d,
        "a.c",
        "void foo(void);\nint main(void) { foo(); return 0; }\n",
    );
    write(&d, "b.c", "void foo(void) {}\n");
    ok(&d, "gcc", &["-c", "-fPIC", "a.c", "b.c"]);
    write(&d, "rsp1", "'b.o'\n");
    write(&d, "rsp2", "@rsp1\n");
    let ld = env!("CARGO_BIN_EXE_initlink");
    ok(&d, ld, &["-shared", "-o", "c.so", "a.o", "@rsp2"]);
    ok(&d, "ld", &["-shared", "-o", "ref.so", "a.o", "@rsp2"]);
    let defined = |f: &str| {
        ok(&d, "readelf", &["--dyn-syms", "-W", f])
            .lines()
            .any(|l| l.ends_with(" foo") && !l.contains(" UND "))
    };
    assert!(defined("c.so") && defined("ref.so"));
}

#[test]
fn wrap_binds_references_to_the_wrapper_and_real_to_the_symbol_as_gnu_ld() {
    let d = work_dir("wrap");
    write(
        &d,
        "lib.c",
        "#include <stdio.h>\nvoid foo(void) { puts(\"foo\"); }\n",
    );
    write(
        &d,
        "wrapper.c",
        "#include <stdio.h>\nvoid __real_foo(void);\nvoid __wrap_foo(void) { puts(\"wrap_foo\"); __real_foo(); }\n",
    );
    write(
        &d,
        "main.c",
        "void foo(void);\nint main(void) { foo(); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "lib.c", "wrapper.c", "main.c"]);
    // The wrapper comes from an archive: the renamed reference is what pulls it in.
    ok(&d, "ar", &["rcs", "libw.a", "wrapper.o"]);
    for (args, want) in [
        (&["main.o", "lib.o", "-L.", "-lw"][..], "foo\n"),
        (
            &["main.o", "lib.o", "-L.", "-lw", "-Wl,--wrap=foo"][..],
            "wrap_foo\nfoo\n",
        ),
        (
            &["main.o", "lib.o", "-L.", "-lw", "-Wl,-wrap,foo,-wrap,foo"][..],
            "wrap_foo\nfoo\n",
        ),
    ] {
        ok(&d, "gcc", &[&["-o", "ref"][..], args].concat());
        let o = initlink(&d, &[&["-o", "out"][..], args].concat());
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(ok(&d, "./out", &[]), want, "{args:?}");
        assert_eq!(ok(&d, "./ref", &[]), want, "GNU ld, {args:?}");
    }
}

#[test]
fn dash_t_reads_a_linker_script_where_it_stands() {
    let d = work_dir("dash-t");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nint main(void) { puts(\"Hello world\"); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "a.c"]);
    write(&d, "script", "GROUP(\"a.o\")\n");
    // GNU ld's -T replaces its default script, so a script without SECTIONS fails there for a
    // PIE ("PHDR segment not covered by LOAD segment"); lld and mold read it as initlink does.
    for opt in [
        "-Wl,-T,script",
        "-Wl,--script,script",
        "-Wl,--script=script",
    ] {
        let o = initlink(&d, &["-o", "out", opt]);
        assert!(
            o.status.success(),
            "{opt}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(ok(&d, "./out", &[]), "Hello world\n");
    }
    // What the script reader does not implement is an error that names it, never ignored.
    write(&d, "phdrs.ld", "\n PHDRS { text PT_LOAD; }\n");
    let o = initlink(&d, &["-o", "out", "a.o", "-Wl,-T,phdrs.ld"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("phdrs.ld:2:2"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("PHDRS is not supported by initlink"));
}

#[test]
fn audit_depaudit_and_z_nodump_as_gnu_ld() {
    let d = work_dir("audit");
    write(&d, "m.c", "int main(void) { return 0; }\n");
    write(&d, "l.c", "int l(void) { return 1; }\n");
    ok(&d, "gcc", &["-c", "-fPIC", "m.c", "l.c"]);
    let tags = ["AUDIT", "DEPAUDIT", "FLAGS_1"];
    let opts = "-Wl,--audit=foo,--audit=bar,--depaudit=baz,-P,qux,-z,nodump";
    ok(&d, "gcc", &["-o", "ref", "m.o", opts]);
    let o = initlink(&d, &["-o", "out", "m.o", opts]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mine = dynamic(&d, "out", &tags);
    assert_eq!(mine, dynamic(&d, "ref", &tags));
    assert!(
        mine.contains(&"Audit library: [foo:bar]".to_string()),
        "{mine:?}"
    );
    assert!(mine.iter().any(|l| l.contains("NODUMP")), "{mine:?}");
    // A library linked with --audit: a program linked against it inherits it as DT_DEPAUDIT,
    // after its own --depaudit.
    ok(
        &d,
        "gcc",
        &["-shared", "-o", "libl.so", "l.o", "-Wl,--audit=/x/aud.so"],
    );
    for extra in ["-Wl,--no-as-needed", "-Wl,--depaudit=foo"] {
        let args = ["m.o", "-L.", extra, "-ll"];
        ok(&d, "gcc", &[&["-o", "ref"][..], &args].concat());
        let o = initlink(&d, &[&["-o", "out"][..], &args].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            dynamic(&d, "out", &tags),
            dynamic(&d, "ref", &tags),
            "{extra}"
        );
        assert!(dynamic(&d, "out", &["DEPAUDIT"])[0].contains("/x/aud.so"));
    }
}

#[test]
fn an_executable_stack_the_inputs_ask_for_is_warned_about_as_gnu_ld() {
    let d = work_dir("execstack");
    write(&d, "m.c", "int main(void) { return 0; }\n");
    write(&d, "xs.s", ".section .note.GNU-stack, \"x\"\n");
    write(&d, "nn.s", "nop\n");
    ok(&d, "gcc", &["-c", "m.c", "xs.s", "nn.s"]);
    let warning = |o: &Output| {
        let e = String::from_utf8_lossy(&o.stderr).into_owned();
        e.lines()
            .find(|l| l.contains("warning: "))
            .map(|l| l.split_once("warning: ").unwrap().1.to_string())
    };
    for args in [
        &["xs.o", "m.o"][..],
        &["nn.o", "m.o"],
        &["m.o", "xs.o", "nn.o"],
        &["xs.o", "m.o", "-Wl,--no-warn-execstack"],
        &["xs.o", "m.o", "-Wl,-z,noexecstack"],
        &["m.o", "-Wl,-z,execstack"],
        &["m.o"],
    ] {
        let gnu = run(&d, "gcc", &[&["-o", "ref"][..], args].concat());
        let mine = initlink(&d, &[&["-o", "out"][..], args].concat());
        assert!(mine.status.success() && gnu.status.success());
        assert_eq!(warning(&mine), warning(&gnu), "{args:?}");
        assert_eq!(gnu_stack(&d, "out"), gnu_stack(&d, "ref"), "{args:?}");
    }
}

/// Archives and common symbols (`-fcommon`), with GNU ld's rule: a member with a real definition
/// of a symbol that is only common so far is loaded and replaces it; one with another common
/// definition is not.
#[test]
fn an_archive_member_defining_a_common_symbol_replaces_it_as_gnu_ld() {
    let d = work_dir("common-archive");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nint bar;\nint main(void) { printf(\"%d\\n\", bar); return 0; }\n",
    );
    write(&d, "b.c", "int foo;\n");
    write(
        &d,
        "d.c",
        "int foo;\nint bar = 5;\nint get_foo(void) { return foo; }\n",
    );
    write(&d, "f.c", "int bar;\nint from_f = 1;\n");
    ok(&d, "gcc", &["-fcommon", "-c", "a.c", "b.c", "d.c", "f.c"]);
    ok(&d, "ar", &["rcs", "c.a", "b.o"]);
    ok(&d, "ar", &["rcs", "e.a", "d.o"]);
    ok(&d, "ar", &["rcs", "g.a", "f.o"]);
    for (args, want) in [
        (&["a.o", "c.a", "e.a"][..], "5\n"),
        (&["a.o", "g.a"], "0\n"),
    ] {
        ok(&d, "gcc", &[&["-o", "ref"][..], args].concat());
        let o = initlink(&d, &[&["-o", "out"][..], args].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(ok(&d, "./out", &[]), want, "{args:?}");
        assert_eq!(ok(&d, "./ref", &[]), want, "GNU ld, {args:?}");
        // g.a's member only has bar as common: not loaded (from_f is not in the output).
        let loaded = |f: &str| ok(&d, "nm", &[f]).contains("from_f");
        assert_eq!(loaded("out"), loaded("ref"));
        assert!(!loaded("out"));
    }
}

#[test]
fn text_relocations_warn_and_set_dt_textrel_or_fail_under_z_text_as_gnu_ld() {
    let d = work_dir("textrel");
    write(
        &d,
        "tr.s",
        ".globl fn1\nfn1:\n  sub $8, %rsp\n  movabs ptr, %rax\n  call *%rax\n  add $8, %rsp\n  ret\n.section .note.GNU-stack,\"\",@progbits\n",
    );
    write(
        &d,
        "tb.c",
        "#include <stdio.h>\nint fn1(void);\nint fn2(void) { return 3; }\nvoid *ptr = fn2;\nint main(void) { printf(\"%d\\n\", fn1()); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "tr.s"]);
    ok(&d, "gcc", &["-c", "-fPIC", "tb.c"]);
    let warnings = |o: &Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter_map(|l| l.split_once("warning: ").map(|(_, w)| w.to_string()))
            .collect()
    };
    for (args, out) in [
        (&["-pie", "tr.o", "tb.o"][..], "exe"),
        (&["-shared", "tr.o"], "t.so"),
    ] {
        let gnu = run(&d, "gcc", &[&["-o", "ref"][..], args].concat());
        let mine = initlink(&d, &[&["-o", out][..], args].concat());
        assert!(
            mine.status.success(),
            "{}",
            String::from_utf8_lossy(&mine.stderr)
        );
        let tags = ["TEXTREL", "FLAGS"];
        assert_eq!(
            dynamic(&d, out, &tags),
            dynamic(&d, "ref", &tags),
            "{args:?}"
        );
        assert!(dynamic(&d, out, &["FLAGS"])
            .iter()
            .any(|l| l.contains("TEXTREL")));
        // GNU ld prefixes the symbol warning with the file: compare what follows it.
        let strip = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|w| w.trim_start_matches("tr.o: ").to_string())
                .collect()
        };
        assert_eq!(strip(warnings(&mine)), strip(warnings(&gnu)), "{args:?}");
    }
    assert_eq!(ok(&d, "./exe", &[]), "3\n");
    let o = initlink(&d, &["-pie", "-o", "exe", "tr.o", "tb.o", "-Wl,-z,text"]);
    assert!(!o.status.success());
    assert!(!run(
        &d,
        "gcc",
        &["-pie", "-o", "ref", "tr.o", "tb.o", "-Wl,-z,text"]
    )
    .status
    .success());
}

/// A read-only input `.init_array` (as an assembler that does not force the W flag makes one)
/// merged into the writable output section: no text relocation, as GNU ld decides by the output.
#[test]
fn a_read_only_init_array_input_in_a_writable_output_is_no_text_relocation() {
    let d = work_dir("init-array-ro");
    write(&d, "a.s", ".section .init_array,\"aw\",@init_array\n.p2align 3\n.quad init1\n.section .note.GNU-stack,\"\",@progbits\n");
    write(&d, "b.s", ".section .init_xxxxx,\"a\",@progbits\n.p2align 3\n.quad init2\n.section .note.GNU-stack,\"\",@progbits\n");
    write(
        &d,
        "c.c",
        "#include <stdio.h>\nvoid init1(void) { printf(\"init1 \"); }\nvoid init2(void) { printf(\"init2 \"); }\nint main(void) { return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "a.s", "b.s", "c.c"]);
    // Rename the section in the object, keeping its flags (the name has the same length).
    let b = fs::read(d.join("b.o")).unwrap();
    let at = b.windows(11).position(|w| w == b".init_xxxxx").unwrap();
    let mut b2 = b.clone();
    b2[at..at + 11].copy_from_slice(b".init_array");
    fs::write(d.join("b.o"), b2).unwrap();
    let gnu = run(&d, "gcc", &["-o", "ref", "a.o", "b.o", "c.o"]);
    let mine = initlink(&d, &["-o", "out", "a.o", "b.o", "c.o"]);
    assert!(mine.status.success() && gnu.status.success());
    assert_eq!(ok(&d, "./out", &[]), "init1 init2 ");
    assert_eq!(ok(&d, "./ref", &[]), "init1 init2 ");
    assert!(String::from_utf8_lossy(&mine.stderr).is_empty(), "{mine:?}");
    assert!(dynamic(&d, "out", &["TEXTREL"]).is_empty());
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

/// `readelf -SW`: each section's (name, address, file offset).
fn section_places(dir: &Path, file: &str) -> Vec<(String, u64, u64)> {
    ok(dir, "readelf", &["-SW", file])
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let (_, rest) = l.split_once(']')?;
            let w: Vec<&str> = rest.split_whitespace().collect();
            let hex = |s: &str| u64::from_str_radix(s, 16).ok();
            Some((w.first()?.to_string(), hex(w.get(2)?)?, hex(w.get(3)?)?))
        })
        .collect()
}

/// `readelf -lW`: each `PT_LOAD`'s (offset, address, flags, alignment).
fn loads(dir: &Path, file: &str) -> Vec<(u64, u64, String, u64)> {
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
    ok(dir, "readelf", &["-lW", file])
        .lines()
        .filter(|l| l.trim_start().starts_with("LOAD "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let flags = w[7..w.len() - 1].join("");
            (hex(w[1]), hex(w[2]), flags, hex(w[w.len() - 1]))
        })
        .collect()
}

fn address_of(dir: &Path, file: &str, name: &str) -> u64 {
    let places = section_places(dir, file);
    let found = places.iter().find(|s| s.0 == name);
    found.unwrap_or_else(|| panic!("{file}: no {name}")).1
}

/// What the loader needs of every `PT_LOAD`: an offset congruent to its address modulo its
/// alignment, and the segments in address order.
fn assert_loadable(dir: &Path, file: &str) {
    let segs = loads(dir, file);
    for (off, vaddr, _, align) in &segs {
        assert_eq!(off % align, vaddr % align, "{file}: {segs:x?}");
    }
    assert!(
        segs.windows(2).all(|w| w[0].1 < w[1].1),
        "{file}: {segs:x?}"
    );
}

#[test]
fn section_start_and_t_options_place_sections_where_gnu_ld_does() {
    let d = work_dir("section-start");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\n\
         __attribute__((section(\".fn1\"))) void fn1(void) { printf(\" fn1\"); }\n\
         __attribute__((section(\".fn2\"))) void fn2(void) { printf(\" fn2\"); }\n\
         int d = 7; int b;\n\
         int main(void) { fn1(); fn2(); printf(\" %p %p %d %d\\n\", fn1, fn2, d, b); }\n",
    );
    ok(&d, "gcc", &["-c", "-fno-PIC", "a.c"]);
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, u64)]);
    let cases: [Case; 4] = [
        (
            &["-Wl,--section-start=.fn1=0x10000000,--section-start=.fn2=0x20000000"],
            &[(".fn1", 0x10000000), (".fn2", 0x20000000)],
        ),
        // GNU ld reads the address as hexadecimal, `0x` or not; single-dash spellings too.
        (
            &[
                "-Wl,-section-start,.fn1=20000000",
                "-Wl,--section-start=.fn2=10000000",
            ],
            &[(".fn1", 0x20000000), (".fn2", 0x10000000)],
        ),
        (&["-Wl,-Ttext=0x800000"], &[(".text", 0x800000)]),
        (
            &["-Wl,-Tdata,900000", "-Wl,--Tbss=0xa00000"],
            &[(".data", 0x900000), (".bss", 0xa00000)],
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["-no-pie", "a.o"];
        args.extend(flags);
        ok(&d, "gcc", &[&["-o", "ref"][..], &args].concat());
        let o = initlink(&d, &[&["-o", "exe"][..], &args].concat());
        assert!(
            o.status.success(),
            "{flags:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for &(name, addr) in want {
            assert_eq!(address_of(&d, "ref", name), addr, "GNU ld, {flags:?}");
            assert_eq!(address_of(&d, "exe", name), addr, "{flags:?}");
        }
        assert_loadable(&d, "exe");
        // The file holds no gap of the size of the distance between the addresses.
        assert!(fs::metadata(d.join("exe")).unwrap().len() < 1 << 20);
        assert_eq!(ok(&d, "./exe", &[]), ok(&d, "./ref", &[]), "{flags:?}");
    }
    let o = initlink(&d, &["-no-pie", "a.o", "-Wl,--section-start=.fn1=0xzz"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid hex number '0xzz'"));
}

#[test]
fn ttext_segment_bases_the_image_and_makes_a_pie_an_et_exec() {
    let d = work_dir("ttext-segment");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nint main(void) { puts(\"hi\"); }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIE", "a.c"]);
    for (kind, flag, base) in [
        ("-no-pie", "-Wl,-Ttext-segment=0x9000000", 0x9000000),
        ("-pie", "-Wl,--Ttext-segment,0xa000000", 0xa000000),
        ("-pie", "-Wl,-Ttext-segment=0", 0),
    ] {
        for (linker, out) in [(&["-fuse-ld=bfd"][..], "ref"), (&["-B", "ld/"][..], "exe")] {
            let args = [linker, &[kind, "-o", out, "a.o", flag]].concat();
            ok(&d, "gcc", &args);
            let header = ok(&d, "readelf", &["-hW", out]);
            // GNU ld: a PIE based at 0 stays an `ET_DYN` (mold makes it an `ET_EXEC`).
            let exec = header.contains("EXEC (Executable file)");
            assert_eq!(exec, kind == "-no-pie" || base != 0, "{out} {flag}");
            assert_eq!(loads(&d, out)[0].1, base, "{out} {flag}");
            if base != 0 {
                assert_eq!(ok(&d, &format!("./{out}"), &[]), "hi\n");
            }
        }
        assert_eq!(
            dynamic(&d, "exe", &["FLAGS_1"]),
            dynamic(&d, "ref", &["FLAGS_1"])
        );
    }
    // A shared object so based stays an `ET_DYN`, as with GNU ld.
    let o = initlink(
        &d,
        &["-shared", "-o", "b.so", "a.o", "-Wl,-Ttext-segment=0x10000"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(ok(&d, "readelf", &["-hW", "b.so"]).contains("DYN (Shared object file)"));
    assert_eq!(loads(&d, "b.so")[0].1, 0x10000);
}

#[test]
fn max_page_size_aligns_segments_and_noseparate_code_joins_them_as_gnu_ld() {
    let d = work_dir("max-page-size");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nint main(void) { puts(\"hi\"); }\n",
    );
    ok(&d, "gcc", &["-c", "a.c"]);
    for flags in [
        "-Wl,-z,max-page-size=65536",
        "-Wl,-zmax-page-size=0x200000",
        "-Wl,-z,noseparate-code",
        "-Wl,-z,noseparate-code,-z,max-page-size=0x10000",
        "-Wl,-z,separate-code",
    ] {
        ok(&d, "gcc", &["-o", "ref", "a.o", flags]);
        let o = initlink(&d, &["-o", "exe", "a.o", flags]);
        assert!(
            o.status.success(),
            "{flags}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_loadable(&d, "exe");
        let shape = |f| {
            let l = loads(&d, f);
            l.into_iter().map(|s| (s.2, s.3)).collect::<Vec<_>>()
        };
        // The same segments, with the same access and alignment.
        assert_eq!(shape("exe"), shape("ref"), "{flags}");
        assert_eq!(ok(&d, "./exe", &[]), "hi\n");
    }
    let o = initlink(&d, &["-o", "exe", "a.o", "-Wl,-z,max-page-size=1000"]);
    assert_eq!(o.status.code(), Some(1), "not a power of two");
}

/// Section `name` of `file`, uncompressed by objcopy if it is compressed.
fn section_bytes(dir: &Path, file: &str, name: &str) -> Vec<u8> {
    let plain = format!("{file}.plain");
    let dump = format!("{file}{name}.bin");
    ok(
        dir,
        "objcopy",
        &["--decompress-debug-sections", file, &plain],
    );
    ok(
        dir,
        "objcopy",
        &["--dump-section", &format!("{name}={dump}"), &plain],
    );
    fs::read(dir.join(dump)).unwrap()
}

#[test]
fn compress_debug_sections_compresses_them_as_gnu_ld_with_the_same_contents() {
    let d = work_dir("compress-debug");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nint main(void) { puts(\"hi\"); }\n",
    );
    ok(&d, "gcc", &["-c", "-g", "a.c"]);
    let o = initlink(&d, &["-o", "plain", "a.o"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = &d;
    // The flags of `.debug_info` and `.debug_str`.
    let flags = |f| {
        let s = ok(d, "readelf", &["-SW", f]);
        let mut v: Vec<String> = s
            .lines()
            .filter(|l| l.contains(".debug_info") || l.contains(".debug_str "))
            .map(|l| l.split_whitespace().rev().nth(3).unwrap_or("").to_string())
            .collect();
        v.sort();
        v
    };
    for (codec, ch_type) in [("zlib", "ZLIB"), ("zlib-gabi", "ZLIB"), ("zstd", "ZSTD")] {
        let flag = format!("-Wl,--compress-debug-sections={codec}");
        ok(d, "gcc", &["-o", "ref", "a.o", &flag]);
        let o = initlink(d, &["-o", "exe", "a.o", &flag]);
        assert!(
            o.status.success(),
            "{codec}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(ok(d, "./exe", &[]), "hi\n");
        // The same sections compressed (C), mergeable strings still marked so (MSC).
        assert_eq!(flags("exe"), flags("ref"), "{codec}");
        assert_eq!(flags("exe"), ["C", "MSC"], "{codec}");
        let chdr = ok(d, "readelf", &["-tW", "exe"]);
        assert!(chdr.contains(ch_type), "{codec}: {chdr}");
        // Uncompressed, the contents are those of the uncompressed link.
        for name in [".debug_info", ".debug_str"] {
            assert_eq!(
                section_bytes(d, "exe", name),
                section_bytes(d, "plain", name),
                "{codec} {name}"
            );
        }
    }
    let o = initlink(
        d,
        &["-o", "exe", "a.o", "-Wl,--compress-debug-sections=none"],
    );
    assert!(o.status.success());
    assert!(flags("exe").iter().all(|f| !f.contains('C')), "none");
    let o = initlink(
        d,
        &["-o", "exe", "a.o", "-Wl,--compress-debug-sections=lz4"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid --compress-debug-sections option: 'lz4'"),
        "{err}"
    );
}

/// `file`'s `--emit-relocs` sections: name, and for each entry that the linked bytes can be
/// checked against (PC32 or PLT32 to a defined symbol, or 64 to one), whether the field holds
/// what the relocation computes.
fn emitted_relocs(dir: &Path, file: &str) -> Vec<(String, usize, usize)> {
    use object::read::elf::{ElfFile64, FileHeader, SectionHeader};
    use object::{elf, Endianness, Object, ObjectSection};
    let bytes = fs::read(dir.join(file)).unwrap();
    let elf_file = ElfFile64::<Endianness>::parse(&bytes[..]).unwrap();
    let (e, header) = (elf_file.endian(), elf_file.elf_header());
    let sections = header.sections(e, &bytes[..]).unwrap();
    let symbols = sections.symbols(e, &bytes[..], elf::SHT_SYMTAB).unwrap();
    let mut out = Vec::new();
    for sh in sections.iter() {
        if sh.sh_type(e) != elf::SHT_RELA || sh.sh_flags(e) & u64::from(elf::SHF_ALLOC) != 0 {
            continue;
        }
        let name = String::from_utf8_lossy(sections.section_name(e, sh).unwrap()).into_owned();
        let target = elf_file.section_by_index(object::SectionIndex(sh.sh_info(e) as usize));
        let target = target.unwrap();
        let (base, data) = (target.address(), target.data().unwrap());
        let relas = sh.data_as_array::<elf::Rela64<Endianness>, _>(e, &bytes[..]);
        let (mut checked, mut right) = (0, 0);
        for r in relas.unwrap() {
            let (ty, sym) = (r.r_type(e, false), r.r_sym(e, false));
            let s_value = if sym == 0 {
                0
            } else {
                let s = symbols.symbol(object::SymbolIndex(sym as usize)).unwrap();
                if s.st_shndx.get(e) == elf::SHN_UNDEF {
                    continue;
                }
                s.st_value.get(e)
            };
            let value = s_value.wrapping_add(r.r_addend.get(e) as u64);
            let at = (r.r_offset.get(e) - base) as usize;
            let ok = match ty {
                elf::R_X86_64_PC32 | elf::R_X86_64_PLT32 => {
                    let field = i32::from_le_bytes(data[at..at + 4].try_into().unwrap());
                    value.wrapping_sub(r.r_offset.get(e)) as i32 == field
                }
                elf::R_X86_64_64 => {
                    u64::from_le_bytes(data[at..at + 8].try_into().unwrap()) == value
                }
                elf::R_X86_64_32 | elf::R_X86_64_32S => {
                    u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) == value as u32
                }
                _ => continue,
            };
            checked += 1;
            right += ok as usize;
        }
        out.push((name, checked, right));
    }
    out.sort();
    out
}

#[test]
fn emit_relocs_keeps_the_relocations_rewritten_for_the_output_as_gnu_ld() {
    let d = work_dir("emit-relocs");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nstatic int n = 3; int *p = &n;\n\
         static int twice(int x) { return 2 * x; }\n\
         int main(void) { printf(\"%d\\n\", twice(*p)); }\n",
    );
    // A relocation against a named local symbol names it in the output (mold's issue 1631).
    write(
        &d,
        "b.s",
        ".text\n.globl _start\n_start:\n  .reloc _start, BFD_RELOC_64, str\n  .space 8\n\
         .data\n.globl str\nstr:\n  .string \"Hello\"\n",
    );
    ok(&d, "gcc", &["-c", "-fno-PIC", "a.c", "b.s"]);
    ok(&d, "objcopy", &["--localize-symbol=str", "b.o"]);
    for flag in ["-Wl,--emit-relocs", "-Wl,-q"] {
        ok(&d, "gcc", &["-no-pie", "-o", "ref", "a.o", flag]);
        let o = initlink(&d, &["-no-pie", "-o", "exe", "a.o", flag]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(ok(&d, "./exe", &[]), "6\n");
        let (got, want) = (emitted_relocs(&d, "exe"), emitted_relocs(&d, "ref"));
        let names =
            |v: &[(String, usize, usize)]| v.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&got), names(&want));
        assert!(
            got.iter().any(|e| e.0 == ".rela.text" && e.1 >= 5),
            "{got:?}"
        );
        for (name, checked, right) in &got {
            assert_eq!(
                checked, right,
                "{name}: the fields hold what the relocations compute"
            );
        }
    }
    let o = initlink(
        &d,
        &[
            "-nostdlib",
            "-no-pie",
            "-o",
            "exe",
            "b.o",
            "-Wl,--emit-relocs",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let relocs = ok(&d, "readelf", &["-rW", "exe"]);
    assert!(
        relocs
            .lines()
            .any(|l| l.contains("R_X86_64_64") && l.contains(" str + 0")),
        "{relocs}"
    );
}

/// The names `readelf --debug-dump=info` shows (`DW_AT_name`), wherever their strings are.
fn dwarf_names(dir: &Path, file: &str) -> Vec<String> {
    ok(dir, "readelf", &["--debug-dump=info", "-W", file])
        .lines()
        .filter(|l| l.contains("DW_AT_name"))
        .map(|l| l.rsplit(':').next().unwrap_or("").trim().to_string())
        .collect()
}

/// Object `from` with section `name`'s compression header's size field set to `size`.
fn with_chdr_size(dir: &Path, from: &str, to: &str, name: &str, size: u64) {
    use object::{Object, ObjectSection};
    let mut bytes = fs::read(dir.join(from)).unwrap();
    let at = {
        let f = object::File::parse(&bytes[..]).unwrap();
        let s = f.section_by_name(name).unwrap();
        s.file_range().unwrap().0 as usize
    };
    bytes[at + 8..at + 16].copy_from_slice(&size.to_le_bytes());
    fs::write(dir.join(to), bytes).unwrap();
}

#[test]
fn compressed_input_sections_are_read_as_gnu_ld_reads_them() {
    let d = work_dir("compressed-input");
    write(&d, "a.c", "#include <stdio.h>\nint answer(void) { return 42; }\nint main(void) { printf(\"%d\\n\", answer()); }\n");
    ok(&d, "gcc", &["-c", "-g", "a.c"]);
    for codec in ["zlib", "zstd"] {
        let flag = format!("--compress-debug-sections={codec}");
        ok(&d, "objcopy", &[&flag, "a.o", "az.o"]);
        assert!(
            ok(&d, "readelf", &["-SW", "az.o"]).contains(" C "),
            "{codec}"
        );
        ok(&d, "gcc", &["-o", "ref", "az.o"]);
        let o = initlink(&d, &["-o", "exe", "az.o"]);
        assert!(
            o.status.success(),
            "{codec}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(ok(&d, "./exe", &[]), "42\n");
        let names = dwarf_names(&d, "exe");
        assert!(names.iter().any(|n| n == "answer"), "{codec}: {names:?}");
        assert_eq!(names, dwarf_names(&d, "ref"), "{codec}");
        // And compressed again on the way out.
        let o = initlink(
            &d,
            &["-o", "exe", "az.o", "-Wl,--compress-debug-sections=zlib"],
        );
        assert!(
            o.status.success(),
            "{codec}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(dwarf_names(&d, "exe"), names, "{codec}, compressed again");
    }
    // A header that claims more than its stream can hold, and a stream shorter than its header
    // says: errors that name the file and the section.
    ok(
        &d,
        "objcopy",
        &["--compress-debug-sections=zlib", "a.o", "az.o"],
    );
    for (size, why) in [
        (1u64 << 40, "compression header says"),
        (0x2000, "its header says"),
    ] {
        with_chdr_size(&d, "az.o", "bad.o", ".debug_info", size);
        let o = initlink(&d, &["-o", "exe", "bad.o"]);
        assert_eq!(o.status.code(), Some(1), "{size:#x}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("bad.o") && err.contains(".debug_info") && err.contains(why),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `PT_GNU_RELRO`'s end address.
fn relro_end(dir: &Path, file: &str) -> u64 {
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
    let segs = ok(dir, "readelf", &["-lW", file]);
    let l = segs
        .lines()
        .find(|l| l.contains("GNU_RELRO"))
        .expect("PT_GNU_RELRO");
    let w: Vec<&str> = l.split_whitespace().collect();
    hex(w[2]) + hex(w[5])
}

#[test]
fn relro_ends_on_a_page_boundary_as_gnu_ld_makes_it() {
    let d = work_dir("relro-end");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nconst char *const names[] = {\"a\", \"b\"};\n\
         int main(void) { printf(\"%s\\n\", names[1]); }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "a.c"]);
    for (kind, page) in [
        ("-pie", 0x1000),
        ("-shared", 0x1000),
        ("-pie -Wl,-z,max-page-size=0x10000", 0x10000),
    ] {
        let args: Vec<&str> = kind.split(' ').chain(["a.o"]).collect();
        ok(&d, "gcc", &[&["-o", "ref"][..], &args].concat());
        let o = initlink(&d, &[&["-o", "exe"][..], &args].concat());
        assert!(
            o.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(relro_end(&d, "ref") % page, 0, "GNU ld, {kind}");
        assert_eq!(relro_end(&d, "exe") % page, 0, "{kind}");
        assert_loadable(&d, "exe");
        if kind.starts_with("-pie") {
            assert_eq!(ok(&d, "./exe", &[]), "b\n");
        }
    }
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

/// Whether `.dynsym` of `file` has a symbol named `name`.
fn dynsym_has(dir: &Path, file: &str, name: &str) -> bool {
    ok(dir, "readelf", &["--dyn-syms", "-W", file])
        .lines()
        .any(|l| l.split_whitespace().last() == Some(name))
}

#[test]
fn z_nodynamic_undefined_weak_resolves_a_weak_reference_to_zero_as_gnu_ld() {
    let d = work_dir("undef-weak");
    write(
        &d,
        "a.c",
        "__attribute__((weak)) int foo(void);\nint bar(void) { return foo ? foo() : 0; }\n",
    );
    write(
        &d,
        "e.c",
        "#include <stdio.h>\nint foo(void) { return 1; }\nint bar(void);\n\
         int main(void) { printf(\"%d\\n\", bar()); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "a.c", "e.c"]);
    for (z, want) in [
        ("dynamic-undefined-weak", "1\n"),
        ("nodynamic-undefined-weak", "0\n"),
    ] {
        let zz = format!("-Wl,-z,{z}");
        ok(&d, "gcc", &["-shared", "-o", "libref.so", "a.o", &zz]);
        let o = initlink(&d, &["-shared", "-o", "libil.so", "a.o", &zz]);
        assert!(o.status.success(), "{z}: {o:?}");
        let exported = dynsym_has(&d, "libil.so", "foo");
        assert_eq!(exported, dynsym_has(&d, "libref.so", "foo"), "{z}");
        assert_eq!(exported, z == "dynamic-undefined-weak", "{z}");
        for lib in ["libref.so", "libil.so"] {
            ok(&d, "gcc", &["-o", "main", "e.o", lib, "-Wl,-rpath,$ORIGIN"]);
            assert_eq!(ok(&d, "./main", &[]), want, "{z} {lib}");
        }
    }
}

#[test]
fn a_thin_archive_reads_its_members_from_their_files_as_gnu_ld() {
    let d = work_dir("thin-archive");
    fs::create_dir_all(d.join("objs")).unwrap();
    write(&d, "objs/one.c", "int one(void) { return 1; }\n");
    write(&d, "objs/two.c", "int two(void) { return 2; }\n");
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint one(void);\nint main(void) { printf(\"%d\\n\", one()); return 0; }\n",
    );
    ok(&d.join("objs"), "gcc", &["-c", "one.c", "two.c"]);
    ok(&d, "gcc", &["-c", "main.c"]);
    ok(&d, "ar", &["rcsT", "libt.a", "objs/one.o", "objs/two.o"]);
    assert!(fs::read(d.join("libt.a"))
        .unwrap()
        .starts_with(b"!<thin>\n"));
    for (args, two) in [
        (&["main.o", "libt.a"][..], false),
        (
            &[
                "main.o",
                "-Wl,--whole-archive",
                "libt.a",
                "-Wl,--no-whole-archive",
            ][..],
            true,
        ),
    ] {
        same_run(&d, args, &[]);
        let syms = ok(&d, "nm", &["exe"]);
        assert_eq!(syms.contains(" T two"), two, "{args:?}");
        assert_eq!(ok(&d, "nm", &["ref"]).contains(" T two"), two, "{args:?}");
    }
    // A member's file that is gone: named, exit 1.
    fs::remove_file(d.join("objs/one.o")).unwrap();
    let o = initlink(&d, &["-o", "exe", "main.o", "libt.a"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("libt.a") && err.contains("objs/one.o"),
        "{err}"
    );
}

#[test]
fn trace_symbol_names_each_file_that_defines_or_refers_to_it_as_gnu_ld() {
    let d = work_dir("trace-symbol");
    write(&d, "a.c", "void foo(void);\nvoid bar(void) { foo(); }\n");
    write(
        &d,
        "b.c",
        "void foo(void) {}\nvoid bar(void);\nvoid baz(void);\n\
         int main(void) { bar(); baz(); return 0; }\n",
    );
    write(&d, "c.c", "void baz(void) {}\n");
    write(&d, "d.c", "int x;\nint y = 1;\n");
    ok(&d, "gcc", &["-c", "a.c", "b.c", "d.c"]);
    ok(&d, "gcc", &["-fcommon", "-c", "d.c"]);
    ok(&d, "gcc", &["-shared", "-fPIC", "-o", "libc1.so", "c.c"]);
    let args = [
        "a.o",
        "b.o",
        "d.o",
        "-L.",
        "-lc1",
        "-Wl,-y,foo",
        "-Wl,--trace-symbol=baz",
        "-Wl,-y,x",
        "-Wl,-y,nothere",
    ];
    // The lines after the linker's own name, in order.
    let lines = |o: Output| -> Vec<String> {
        assert!(o.status.success(), "{o:?}");
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(_, r)| r.to_string()))
            .collect()
    };
    let want = lines(run(&d, "gcc", &[&["-o", "ref"], &args[..]].concat()));
    let got = lines(initlink(&d, &[&["-o", "exe"], &args[..]].concat()));
    assert_eq!(got, want);
    assert_eq!(
        got,
        [
            "a.o: reference to foo",
            "b.o: definition of foo",
            "b.o: reference to baz",
            "d.o: definition of x",
            "./libc1.so: definition of baz",
        ]
    );
}

/// The prerequisites of a `--dependency-file` rule, as a sorted set.
fn prerequisites(dir: &Path, file: &str) -> Vec<String> {
    let text = fs::read_to_string(dir.join(file)).unwrap();
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .map(|l| l.trim_end_matches(" \\").to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn dependency_file_lists_every_file_read_as_gnu_ld() {
    let d = work_dir("dependency-file");
    write(&d, "a.c", "int main(void) { return 0; }\n");
    ok(&d, "gcc", &["-c", "a.c"]);
    ok(
        &d,
        "gcc",
        &["-o", "ref", "a.o", "-Wl,--dependency-file=ref.d"],
    );
    let o = initlink(&d, &["-o", "exe", "a.o", "-Wl,--dependency-file=exe.d"]);
    assert!(o.status.success(), "{o:?}");
    let got = prerequisites(&d, "exe.d");
    assert_eq!(got, prerequisites(&d, "ref.d"));
    // The scripts read count too (glibc's libc.so names libc.so.6).
    assert!(got.iter().any(|f| f.ends_with("/libc.so")), "{got:?}");
    let text = fs::read_to_string(d.join("exe.d")).unwrap();
    assert!(text.starts_with("exe: \\\n  "), "{text}");
    assert!(text.contains("\na.o:\n"), "{text}");
    // make reads it: the output is up to date with what it was linked from.
    if Command::new("make").arg("--version").output().is_ok() {
        fs::write(d.join("Makefile"), "include exe.d\n").unwrap();
        let q = run(&d, "make", &["-q", "exe"]);
        assert!(q.status.success(), "{q:?}");
    }
}

#[test]
fn filter_and_auxiliary_make_a_filter_library_as_gnu_ld() {
    let d = work_dir("filter");
    write(&d, "impl.c", "int value(void) { return 42; }\n");
    write(&d, "filt.c", "int value(void) { return 1; }\n");
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint value(void);\nint main(void) { printf(\"%d\\n\", value()); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "impl.c", "filt.c", "main.c"]);
    ok(&d, "gcc", &["-shared", "-o", "libimpl.so", "impl.o"]);
    let flags = [
        "-Wl,-F,nothing.so",
        "-Wl,--filter=libimpl.so",
        "-Wl,-f,aux1.so",
        "-Wl,--auxiliary=aux2.so",
        "-Wl,-rpath,$ORIGIN",
    ];
    ok(
        &d,
        "gcc",
        &[&["-shared", "-o", "libref.so", "filt.o"], &flags[..]].concat(),
    );
    let o = initlink(
        &d,
        &[&["-shared", "-o", "libfilt.so", "filt.o"], &flags[..]].concat(),
    );
    assert!(o.status.success(), "{o:?}");
    let tags = ["FILTER", "AUXILIARY"];
    assert_eq!(
        dynamic(&d, "libfilt.so", &tags),
        dynamic(&d, "libref.so", &tags)
    );
    assert_eq!(
        dynamic(&d, "libfilt.so", &tags),
        [
            "Filter library: [libimpl.so]",
            "Auxiliary library: [aux1.so]",
            "Auxiliary library: [aux2.so]"
        ]
    );
    // The loader looks the filter's symbols up in the filtee: libimpl.so's value() runs.
    ok(
        &d,
        "gcc",
        &[
            "-o",
            "main",
            "main.o",
            "-L.",
            "-lfilt",
            "-Wl,-rpath,$ORIGIN",
        ],
    );
    assert_eq!(ok(&d, "./main", &[]), "42\n");
    // Only a shared object can filter, as GNU ld says.
    let o = initlink(&d, &["-o", "exe", "main.o", "-L.", "-lfilt", "-Wl,-F,x.so"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("-F may not be used without -shared"));
}

#[test]
fn z_cet_report_names_the_inputs_without_ibt_or_shstk_as_gnu_ld() {
    let d = work_dir("cet-report");
    write(&d, "plain.c", "int f(void) { return 1; }\n");
    write(
        &d,
        "main.c",
        "int f(void);\nint main(void) { return f() - 1; }\n",
    );
    ok(&d, "gcc", &["-c", "-fcf-protection=none", "plain.c"]);
    ok(&d, "gcc", &["-c", "-fcf-protection", "main.c"]);
    // (file, message) of each report line, whichever of the two linkers' shapes it has.
    let report = |o: &Output| -> Vec<(String, String)> {
        let text = String::from_utf8_lossy(&o.stderr);
        let mut v: Vec<(String, String)> = text
            .lines()
            .filter(|l| l.contains("missing"))
            .map(|l| {
                let l = l.split_once(": ").unwrap().1;
                let l = l.replace("warning: ", "").replace("error: ", "");
                let (f, m) = l.rsplit_once(": ").unwrap();
                (f.to_string(), m.to_string())
            })
            .collect();
        v.sort();
        v
    };
    for (kw, fails) in [("warning", false), ("error", true)] {
        let z = format!("-Wl,-z,cet-report={kw}");
        let r = run(&d, "gcc", &["-o", "ref", "main.o", "plain.o", &z]);
        let e = initlink(&d, &["-o", "exe", "main.o", "plain.o", &z]);
        assert_eq!(r.status.success(), !fails, "{kw}: {r:?}");
        assert_eq!(e.status.success(), !fails, "{kw}: {e:?}");
        let got = report(&e);
        assert_eq!(got, report(&r), "{kw}");
        assert!(got.contains(&("plain.o".into(), "missing IBT and SHSTK properties".into())));
        assert!(!got.iter().any(|(f, _)| f == "main.o"), "{got:?}");
    }
}

#[test]
fn unique_keeps_matching_input_sections_apart_as_gnu_ld() {
    let d = work_dir("unique");
    write(
        &d,
        "a.s",
        ".section .data.foo.1,\"aw\",@progbits\n.ascii \"a\"\n\
         .section .data.foo.1,\"aw\",@progbits\n.ascii \"b\"\n\
         .section .data.foo.2,\"aw\",@progbits\n.ascii \"c\"\n\
         .section .data.bar.1,\"aw\",@progbits\n.ascii \"d\"\n\
         .section .data.bar.2,\"aw\",@progbits\n.ascii \"e\"\n\
         .text\n.globl _start\n_start:\n mov $60, %eax\n xor %edi, %edi\n syscall\n",
    );
    ok(&d, "gcc", &["-c", "a.s"]);
    // Each section's name and contents, as `readelf -x` shows them.
    let dump = |exe: &str, sec: &str| -> String {
        let o = run(&d, "readelf", &["-x", sec, exe]);
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.starts_with("  0x"))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
            .collect()
    };
    let args = ["a.o", "-nostdlib", "-static", "-Wl,-unique=*foo*"];
    ok(&d, "gcc", &[&["-o", "ref"], &args[..]].concat());
    let o = initlink(&d, &[&["-o", "exe"], &args[..]].concat());
    assert!(o.status.success(), "{o:?}");
    for (sec, want) in [
        (".data.foo.1", "6162"),
        (".data.foo.2", "63"),
        (".data", "6465"),
    ] {
        assert_eq!(dump("ref", sec), want, "ref {sec}");
        assert_eq!(dump("exe", sec), want, "exe {sec}");
    }
    assert!(run(&d, "./exe", &[]).status.success());
}

/// `BIND VIS SECTION-NAME` of `__start_hello` and `__stop_hello` in `readelf FLAG` of `file`.
fn start_stop(dir: &Path, flag: &str, file: &str) -> Vec<String> {
    let names: Vec<(String, String)> = ok(dir, "readelf", &["-SW", file])
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let (n, rest) = l.split_once(']')?;
            Some((
                n.trim().to_string(),
                rest.split_whitespace().next()?.to_string(),
            ))
        })
        .collect();
    let mut v: Vec<String> = ok(dir, "readelf", &[flag, "-W", file])
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let name = *w.get(7)?;
            if name != "__start_hello" && name != "__stop_hello" {
                return None;
            }
            let sec = names
                .iter()
                .find(|(n, _)| n == w[6])
                .map_or(w[6], |(_, s)| s);
            Some(format!("{name} {} {} {sec}", w[4], w[5]))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn start_stop_symbols_take_gnu_lds_visibility_and_section() {
    let d = work_dir("start-stop");
    write(
        &d,
        "ss.c",
        "#include <stdio.h>\n__attribute__((section(\"hello\"))) static char msg[] = \"Hello world\";\n\
         extern char __start_hello[], __stop_hello[];\n\
         int main() { printf(\"%s %d\\n\", msg, (int)(__stop_hello - __start_hello)); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "ss.c"]);
    for extra in [
        vec![],
        vec!["-Wl,-z,start-stop-visibility=hidden"],
        vec!["-Wl,-z,start-stop-visibility=default"],
        vec!["-Wl,-E"],
        vec!["-shared"],
    ] {
        let mut seen = Vec::new();
        for (out, b) in [("gnu", None), ("il", Some("ld/"))] {
            let mut args = vec!["-o", out, "ss.o"];
            args.extend(&extra);
            if let Some(b) = b {
                args.splice(0..0, ["-B", b]);
            }
            ok(&d, "gcc", &args);
            seen.push((
                start_stop(&d, "--syms", out),
                start_stop(&d, "--dyn-syms", out),
            ));
        }
        assert_eq!(seen[1], seen[0], "{extra:?}");
        assert!(!seen[0].0.is_empty(), "{extra:?}");
        assert!(seen[0].0.iter().all(|s| s.ends_with(" hello")), "{seen:?}");
    }
}

/// `.symtab` of `file` as `TYPE BIND NAME` lines, in order.
fn symtab(dir: &Path, file: &str) -> Vec<String> {
    ok(dir, "readelf", &["--syms", "-W", file])
        .lines()
        .skip_while(|l| !l.contains("'.symtab'"))
        .skip(2)
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Some(format!(
                "{} {} {}",
                w.get(3)?,
                w.get(4)?,
                w.get(7).unwrap_or(&"")
            ))
        })
        .collect()
}

#[test]
fn retain_symbols_file_keeps_the_listed_symbols_as_gnu_ld() {
    let d = work_dir("retain");
    write(
        &d,
        "r.c",
        "static void foo(void) {}\nvoid bar(void) {}\nvoid baz(void) {}\nint main(void) { foo(); return 3; }\n",
    );
    fs::create_dir_all(d.join("sub")).unwrap();
    ok(&d, "gcc", &["-c", "r.c", "-o", "sub/r.o"]);
    // The object's file symbol stays under its own name only when listed.
    write(&d, "list1", "foo\nbaz\n");
    write(&d, "list2", "foo\nbaz\nr.c\nmain\n");
    for list in ["list1", "list2"] {
        let flag = format!("-Wl,--retain-symbols-file={list}");
        ok(&d, "gcc", &["-o", "gnu", "sub/r.o", &flag]);
        ok(&d, "gcc", &["-B", "ld/", "-o", "il", "sub/r.o", &flag]);
        // The same symbols (globals in another order than GNU ld's hash order).
        let sorted = |f: &str| -> Vec<String> {
            let mut v = symtab(&d, f);
            v.sort();
            v
        };
        assert_eq!(sorted("il"), sorted("gnu"), "{list}");
        assert_eq!(run(&d, "./il", &[]).status.code(), Some(3));
    }
    assert!(symtab(&d, "il").contains(&"FILE LOCAL r.c".to_string()));
    let o = initlink(
        &d,
        &["-Wl,--retain-symbols-file=missing", "sub/r.o", "-o", "x"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("missing"),
        "{o:?}"
    );
}
