//! What GNU ld decides for dynamic outputs beyond plain imports and exports: undefined symbols
//! an object hid, copy relocations into read-only data, the TLS model flags, the GNU property
//! note. Each test links the same objects with initlink (`gcc -B ld/`) and with GNU ld, compares
//! what `readelf` shows and runs what was linked.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("dynamic-{name}"));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(d.join("ld")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_initlink"), d.join("ld/ld")).unwrap();
    d
}

fn run(dir: &Path, prog: &str, args: &[&str]) -> Output {
    Command::new(prog)
        .args(args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .env("LD_LIBRARY_PATH", dir)
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

/// The names in `file`'s `.dynsym`.
fn dynsym_names(dir: &Path, file: &str) -> Vec<String> {
    ok(dir, "readelf", &["-W", "--dyn-syms", file])
        .lines()
        .filter(|l| l.contains(": "))
        .filter_map(|l| l.split_whitespace().nth(7).map(str::to_string))
        .collect()
}

/// The types of `file`'s dynamic relocations (`R_X86_64_...`) with their symbols.
fn dyn_relocs(dir: &Path, file: &str) -> Vec<String> {
    ok(dir, "readelf", &["-W", "-r", file])
        .lines()
        .filter(|l| l.contains("R_X86_64_"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", w[2], w.get(4).unwrap_or(&""))
        })
        .collect()
}

#[test]
fn an_undefined_weak_hidden_symbol_is_zero_in_a_shared_object() {
    let d = work_dir("hidden-weak-undef");
    write(
        &d,
        "a.c",
        "__attribute__((weak, visibility(\"hidden\"))) void foo(void);\n\
         void *p(void) { return (void *)foo; }\n\
         void *q = (void *)foo;\n\
         int call(void) { if (foo) { foo(); return 1; } return 0; }\n",
    );
    // The program defines and exports a `foo` of its own: the library's hidden one is not it.
    write(
        &d,
        "main.c",
        "#include <stdio.h>\n\
         void foo(void) {}\n\
         void *p(void); extern void *q; int call(void);\n\
         int main(void) { printf(\"%d %d %d\\n\", p() == 0, q == 0, call()); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "a.c", "main.c"]);
    for (initlink, lib, exe) in [(false, "libref.so", "ref"), (true, "liba.so", "a")] {
        link(&d, initlink, &["-shared", "-o", lib, "a.o"]);
        assert!(!dynsym_names(&d, lib).iter().any(|n| n == "foo"), "{lib}");
        assert!(
            dyn_relocs(&d, lib).iter().all(|r| !r.contains("foo")),
            "{lib}: {:?}",
            dyn_relocs(&d, lib)
        );
        let l = format!("-l{}", &lib[3..lib.len() - 3]);
        link(&d, initlink, &["-rdynamic", "-o", exe, "main.o", "-L.", &l]);
        assert_eq!(ok(&d, &format!("./{exe}"), &[]), "1 1 0\n", "{exe}");
    }
}

/// The section of `file` whose address range holds `addr`.
fn section_at(dir: &Path, file: &str, addr: u64) -> String {
    ok(dir, "readelf", &["-SW", file])
        .lines()
        .filter_map(|l| {
            let l = l.split_once(']')?.1;
            let w: Vec<&str> = l.split_whitespace().collect();
            let start = u64::from_str_radix(w.get(2)?, 16).ok()?;
            let size = u64::from_str_radix(w.get(4)?, 16).ok()?;
            (start != 0 && (start..start + size).contains(&addr)).then(|| w[0].to_string())
        })
        .next()
        .unwrap_or_default()
}

#[test]
fn a_copy_of_read_only_library_data_goes_to_data_rel_ro() {
    let d = work_dir("copyrel-relro");
    write(
        &d,
        "lib.c",
        "const char readonly[100] = \"abc\";\nchar readwrite[100] = \"def\";\n",
    );
    write(
        &d,
        "main.c",
        "#include <stdio.h>\n\
         extern const char readonly[100];\nextern char readwrite[100];\n\
         int main(void) { readwrite[0] = 'x'; printf(\"%s %s\\n\", readonly, readwrite); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fno-PIE", "main.c"]);
    ok(&d, "gcc", &["-shared", "-fPIC", "-o", "libc1.so", "lib.c"]);
    for (initlink, exe) in [(false, "ref"), (true, "a")] {
        link(
            &d,
            initlink,
            &["-no-pie", "-o", exe, "main.o", "-L.", "-lc1"],
        );
        assert_eq!(ok(&d, &format!("./{exe}"), &[]), "abc xef\n", "{exe}");
        let relocs = ok(&d, "readelf", &["-rW", exe]);
        let copy_in = |sym: &str| {
            let l = relocs
                .lines()
                .find(|l| l.contains("R_X86_64_COPY") && l.contains(sym))
                .unwrap_or_else(|| panic!("{exe}: no copy of {sym}:\n{relocs}"));
            let at = u64::from_str_radix(l.split_whitespace().next().unwrap(), 16).unwrap();
            section_at(&d, exe, at)
        };
        assert_eq!(copy_in("readonly"), ".data.rel.ro", "{exe}");
        assert_eq!(copy_in("readwrite"), ".bss", "{exe}");
    }
}

/// The `FLAGS` line of `file`'s `.dynamic` (what follows the tag), or "".
fn dt_flags(dir: &Path, file: &str) -> String {
    ok(dir, "readelf", &["-dW", file])
        .lines()
        .find(|l| l.contains("(FLAGS)"))
        .map_or(String::new(), |l| {
            l.split_once(')').unwrap().1.trim().to_string()
        })
}

#[test]
fn a_shared_object_using_initial_exec_tls_has_df_static_tls() {
    let d = work_dir("static-tls");
    let lib = "static _Thread_local int foo = 5;\nint bar(void) { return foo++; }\n";
    write(&d, "lib.c", lib);
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint bar(void);\n\
         int main(void) { bar(); printf(\"%d\\n\", bar()); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "main.c"]);
    for (model, flags) in [("initial-exec", "STATIC_TLS"), ("global-dynamic", "")] {
        ok(
            &d,
            "gcc",
            &["-c", "-fPIC", &format!("-ftls-model={model}"), "lib.c"],
        );
        for (initlink, name) in [(false, "ref"), (true, "a")] {
            let so = format!("lib{name}.so");
            link(&d, initlink, &["-shared", "-o", &so, "lib.o"]);
            assert_eq!(dt_flags(&d, &so), flags, "{model} {so}");
            let exe = format!("{name}-{model}");
            link(
                &d,
                initlink,
                &["-o", &exe, "main.o", "-L.", &format!("-l{name}")],
            );
            assert_eq!(ok(&d, &format!("./{exe}"), &[]), "6\n", "{exe}");
        }
    }
}
