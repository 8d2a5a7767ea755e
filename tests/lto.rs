//! Link-time optimization through GCC's linker plugin: `gcc -flto` programs (C, C++ with an
//! archive of LTO objects, a shared library, LTO and regular objects mixed) linked by initlink
//! (`gcc -B ld/`) and by GNU ld, run, and compared; and that the optimization happened (a
//! function inlined across files is gone from the symbol table). Skipped, saying why, where gcc's
//! `liblto_plugin.so` is missing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{ok, run, write};

/// gcc's LTO plugin, or None (the test then says why it is skipped).
fn plugin() -> Option<PathBuf> {
    let out = Command::new("gcc")
        .arg("-print-file-name=liblto_plugin.so")
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if p.is_absolute() && p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: gcc's liblto_plugin.so is not installed");
        None
    }
}

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    common::work_dir("lto", name)
}

/// `DRIVER ARGS -o OUT` with initlink (`-B ld/`, output `OUT`) and with GNU ld (output
/// `OUT.ref`).
fn link_both(dir: &Path, driver: &str, out: &str, args: &[&str]) {
    let reference = format!("{out}.ref");
    for (b, o) in [(true, out), (false, reference.as_str())] {
        let mut a = if b { vec!["-B", "ld/"] } else { Vec::new() };
        a.extend(args);
        a.extend(["-o", o]);
        ok(dir, driver, &a);
    }
}

/// Both programs' output, which must be the same.
fn run_both(dir: &Path, exe: &str) -> String {
    let ours = ok(dir, &format!("./{exe}"), &[]);
    let theirs = ok(dir, &format!("./{exe}.ref"), &[]);
    assert_eq!(
        ours, theirs,
        "{exe}: initlink's output differs from GNU ld's"
    );
    ours
}

/// The defined names in `file`'s symbol table (`.dynsym` with `dynamic`).
fn defined(dir: &Path, file: &str, dynamic: bool) -> Vec<String> {
    let flag = if dynamic { "--dyn-syms" } else { "-s" };
    ok(dir, "readelf", &["-W", flag, file])
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(6)
                .is_some_and(|n| n != "UND" && n != "Ndx")
        })
        .filter_map(|l| l.split_whitespace().nth(7).map(String::from))
        .collect()
}

const HELPER: &str = "static int square(int x) { return x * x; }\n\
                      int helper(int x) { return square(x) + 1; }\n";
const MAIN: &str = "#include <stdio.h>\n\
                    int helper(int);\n\
                    int main(void) { printf(\"%d\\n\", helper(6)); return 0; }\n";

#[test]
fn a_c_program_is_optimized_across_its_files() {
    let Some(_) = plugin() else { return };
    let d = work_dir("c");
    write(&d, "helper.c", HELPER);
    write(&d, "main.c", MAIN);
    ok(&d, "gcc", &["-O2", "-flto", "-c", "helper.c", "main.c"]);
    link_both(&d, "gcc", "prog", &["-O2", "-flto", "helper.o", "main.o"]);
    assert_eq!(run_both(&d, "prog"), "37\n");
    // helper() was inlined into main() across files: nothing defines it any more.
    for exe in ["prog", "prog.ref"] {
        let syms = defined(&d, exe, false);
        assert!(syms.iter().any(|s| s == "main"), "{exe}: {syms:?}");
        assert!(!syms.iter().any(|s| s == "helper"), "{exe}: {syms:?}");
    }
    // The same objects compiled without -flto keep it: the test sees what LTO did.
    ok(&d, "gcc", &["-O2", "-c", "helper.c", "main.c"]);
    ok(
        &d,
        "gcc",
        &["-B", "ld/", "-o", "plain", "helper.o", "main.o"],
    );
    assert!(defined(&d, "plain", false).iter().any(|s| s == "helper"));
}

#[test]
fn a_cxx_program_with_an_archive_of_lto_objects() {
    let Some(_) = plugin() else { return };
    let d = work_dir("cxx");
    write(
        &d,
        "shape.h",
        "struct Shape { virtual ~Shape() {} virtual int area() const = 0; };\n\
         struct Square : Shape { int s; explicit Square(int s) : s(s) {} int area() const override; };\n\
         Shape *make_square(int);\n\
         int unused_function(int);\n",
    );
    write(
        &d,
        "square.cc",
        "#include \"shape.h\"\n\
         int Square::area() const { return s * s; }\n\
         Shape *make_square(int s) { return new Square(s); }\n",
    );
    write(
        &d,
        "unused.cc",
        "#include \"shape.h\"\nint unused_function(int x) { return x * 3; }\n",
    );
    write(
        &d,
        "main.cc",
        "#include <iostream>\n#include \"shape.h\"\n\
         int main() {\n\
           Shape *s = make_square(7);\n\
           try { if (s->area() == 49) throw s->area(); }\n\
           catch (int a) { std::cout << \"area \" << a << std::endl; }\n\
           delete s;\n\
           return 0;\n\
         }\n",
    );
    ok(
        &d,
        "g++",
        &["-O2", "-flto", "-c", "square.cc", "unused.cc", "main.cc"],
    );
    ok(
        &d,
        "gcc-ar",
        &["rcs", "libshapes.a", "square.o", "unused.o"],
    );
    link_both(
        &d,
        "g++",
        "prog",
        &["-O2", "-flto", "main.o", "libshapes.a"],
    );
    assert_eq!(run_both(&d, "prog"), "area 49\n");
    // The member nothing needs is not linked; the one main needs was optimized in.
    let syms = defined(&d, "prog", false);
    assert!(
        !syms.iter().any(|s| s.contains("unused_function")),
        "{syms:?}"
    );
}

#[test]
fn a_shared_library_built_with_lto_exports_its_interface() {
    let Some(_) = plugin() else { return };
    let d = work_dir("shared");
    write(
        &d,
        "lib.c",
        "static int twice(int x) { return 2 * x; }\n\
         __attribute__((visibility(\"hidden\"))) int internal(int x) { return twice(x) + 1; }\n\
         int exported(int x) { return internal(x) * 10; }\n",
    );
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint exported(int);\n\
         int main(void) { printf(\"%d\\n\", exported(4)); return 0; }\n",
    );
    ok(&d, "gcc", &["-O2", "-flto", "-fPIC", "-c", "lib.c"]);
    link_both(&d, "gcc", "libx.so", &["-O2", "-flto", "-shared", "lib.o"]);
    for lib in ["libx.so", "libx.so.ref"] {
        let dynsyms = defined(&d, lib, true);
        assert!(
            dynsyms.iter().any(|s| s == "exported"),
            "{lib}: {dynsyms:?}"
        );
        assert!(
            !dynsyms.iter().any(|s| s == "internal"),
            "{lib}: {dynsyms:?}"
        );
    }
    ok(
        &d,
        "gcc",
        &["-B", "ld/", "-o", "prog", "main.c", "-L.", "-lx"],
    );
    assert_eq!(ok(&d, "./prog", &[]), "90\n");
}

#[test]
fn lto_and_regular_objects_mix() {
    let Some(_) = plugin() else { return };
    let d = work_dir("mixed");
    // A regular object calls into LTO code, which calls back into regular code; a fat LTO
    // object (bytecode and code) joins them, and so does a static link.
    write(&d, "regular.c", "int base(void) { return 100; }\nint helper(int);\nint from_regular(void) { return helper(2); }\n");
    write(&d, "helper.c", HELPER);
    write(
        &d,
        "fat.c",
        "int base(void);\nint fat(void) { return base() + 20; }\n",
    );
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint from_regular(void); int fat(void);\n\
         int main(void) { printf(\"%d %d\\n\", from_regular(), fat()); return 0; }\n",
    );
    ok(&d, "gcc", &["-O2", "-c", "regular.c"]);
    ok(&d, "gcc", &["-O2", "-flto", "-c", "helper.c", "main.c"]);
    ok(
        &d,
        "gcc",
        &["-O2", "-flto", "-ffat-lto-objects", "-c", "fat.c"],
    );
    let objs = ["regular.o", "helper.o", "fat.o", "main.o"];
    let mut args = vec!["-O2", "-flto"];
    args.extend(objs);
    link_both(&d, "gcc", "prog", &args);
    assert_eq!(run_both(&d, "prog"), "5 120\n");
    // helper() is referenced from a regular object: it stays, for that object.
    assert!(defined(&d, "prog", false).iter().any(|s| s == "helper"));
    args.push("-static");
    link_both(&d, "gcc", "static", &args);
    assert_eq!(run_both(&d, "static"), "5 120\n");
}

#[test]
fn without_the_plugin_a_slim_object_is_an_error_and_a_fat_one_links_its_code() {
    let Some(_) = plugin() else { return };
    let d = work_dir("no-plugin");
    let flags = [
        "-O2",
        "-ffreestanding",
        "-fno-pie",
        "-fno-stack-protector",
        "-c",
    ];
    write(&d, "m.c", "int main(void) { return 42; }\n");
    let mut slim = vec!["-flto", "-o", "slim.o", "m.c"];
    slim.extend(flags);
    ok(&d, "gcc", &slim);
    let mut fat = vec!["-flto", "-ffat-lto-objects", "-o", "fat.o", "m.c"];
    fat.extend(flags);
    ok(&d, "gcc", &fat);
    let initlink = env!("CARGO_BIN_EXE_initlink");
    let o = run(&d, initlink, &["-o", "slim", "slim.o"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("slim.o: plugin needed to handle lto object"),
        "{err}"
    );
    ok(&d, initlink, &["-o", "fat", "fat.o"]);
    assert_eq!(run(&d, "./fat", &[]).status.code(), Some(42));
}

#[test]
fn a_plugin_that_cannot_be_loaded_is_a_diagnostic() {
    let Some(_) = plugin() else { return };
    let d = work_dir("bad-plugin");
    write(&d, "m.c", "int main(void) { return 0; }\n");
    ok(&d, "gcc", &["-flto", "-c", "m.c"]);
    let initlink = env!("CARGO_BIN_EXE_initlink");
    // A file that is not there, and a library that is not a linker plugin.
    let libm = ok(&d, "gcc", &["-print-file-name=libm.so.6"]);
    for (plugin, says) in [
        ("/nonexistent/liblto_plugin.so", "cannot load plugin"),
        (libm.trim(), "not a linker plugin"),
    ] {
        let o = run(&d, initlink, &["-plugin", plugin, "-o", "x", "m.o"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{plugin}: {err}");
        assert!(
            err.contains(says) && err.contains(plugin),
            "{plugin}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // A plugin that is not there is an error even for a link without LTO objects (as in GNU
    // ld); one that is there is only loaded for a link that has them.
    ok(&d, "gcc", &["-c", "-o", "plain.o", "m.c"]);
    let plain = |plugin: &str| {
        run(
            &d,
            initlink,
            &["-plugin", plugin, "-o", "x", "plain.o", "-e", "main"],
        )
    };
    let o = plain("/nonexistent.so");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent.so: cannot load plugin"));
    let o = plain(libm.trim());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_static_variable_of_an_inline_function_is_shared_with_a_member_loaded_for_compiled_code() {
    let Some(_) = plugin() else { return };
    let d = work_dir("comdat-static");
    let bump = "inline int bump() { static int cnt; return ++cnt; }\n";
    // A regular archive member only the compiled code needs: 128-bit division becomes a call
    // to __divti3, which it defines ahead of libgcc, with its own copy of bump()'s group.
    write(
        &d,
        "a.cc",
        &format!("{bump}extern \"C\" __int128 __divti3(__int128 a, __int128 b) {{ return (long long)a / (long long)b + bump(); }}\n"),
    );
    write(
        &d,
        "main.cc",
        &format!(
            "{bump}volatile long long lo = 21, d = 7;\n\
                  int main() {{ bump(); __int128 a = lo, b = d; return a / b == 5 ? 0 : 1; }}\n"
        ),
    );
    ok(&d, "g++", &["-O2", "-c", "a.cc"]);
    ok(&d, "ar", &["rcs", "libutil.a", "a.o"]);
    ok(
        &d,
        "g++",
        &["-O2", "-flto", "-fno-fat-lto-objects", "-c", "main.cc"],
    );
    let args = [
        "-B",
        "ld/",
        "-O2",
        "-flto",
        "-o",
        "prog",
        "main.o",
        "libutil.a",
    ];
    ok(&d, "g++", &args);
    // One `cnt`: main's bump() and __divti3's count together (21 / 7 + 2).
    let o = run(&d, "./prog", &[]);
    assert_eq!(o.status.code(), Some(0));
    let syms = defined(&d, "prog", false);
    assert_eq!(
        syms.iter().filter(|s| *s == "_ZZ4bumpvE3cnt").count(),
        1,
        "{syms:?}"
    );
}

#[test]
fn a_plugin_that_fails_to_compile_is_a_diagnostic() {
    use object::{Object, ObjectSection};
    let Some(_) = plugin() else { return };
    let d = work_dir("fatal");
    write(&d, "helper.c", HELPER);
    write(&d, "main.c", MAIN);
    ok(&d, "gcc", &["-O2", "-flto", "-c", "helper.c", "main.c"]);
    // helper.o's bytecode for helper() overwritten: the plugin claims it, the compiler fails.
    let mut bytes = fs::read(d.join("helper.o")).unwrap();
    let range = {
        let obj = object::File::parse(&*bytes).unwrap();
        let s = obj
            .sections()
            .find(|s| s.name().is_ok_and(|n| n.starts_with(".gnu.lto_helper")))
            .expect("helper's bytecode");
        let (off, size) = s.file_range().unwrap();
        off as usize..(off + size) as usize
    };
    bytes[range].fill(0xff);
    fs::write(d.join("helper.o"), bytes).unwrap();
    let o = run(
        &d,
        "gcc",
        &["-B", "ld/", "-flto", "-o", "prog", "helper.o", "main.o"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("initlink: error: lto-wrapper failed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!d.join("prog").exists());
}

#[test]
fn an_lto_member_of_a_thin_archive_is_offered_from_its_own_file() {
    let Some(_) = plugin() else { return };
    let d = work_dir("thin");
    fs::create_dir_all(d.join("sub")).unwrap();
    write(&d, "sub/helper.c", HELPER);
    write(&d, "main.c", MAIN);
    ok(
        &d,
        "gcc",
        &["-O2", "-flto", "-c", "sub/helper.c", "-o", "sub/helper.o"],
    );
    ok(&d, "gcc", &["-O2", "-flto", "-c", "main.c"]);
    ok(&d, "ar", &["rcT", "sub/libthin.a", "sub/helper.o"]);
    link_both(
        &d,
        "gcc",
        "prog",
        &["-O2", "-flto", "main.o", "sub/libthin.a"],
    );
    assert_eq!(run_both(&d, "prog"), "37\n");
    assert!(!defined(&d, "prog", false).iter().any(|s| s == "helper"));
}
