//! What GNU ld decides for dynamic outputs beyond plain imports and exports: undefined symbols
//! an object hid, copy relocations into read-only data, the TLS model flags, the GNU property
//! note. Each test links the same objects with initlink (`gcc -B ld/`) and with GNU ld, compares
//! what `readelf` shows and runs what was linked.

use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{ok, run, write};

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    common::work_dir("dynamic", name)
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
        .filter(|l| {
            l.split_whitespace()
                .next()
                .and_then(|n| n.strip_suffix(':'))
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .map(|l| l.split_whitespace().nth(7).unwrap_or("").to_string())
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
        "const char readonly[100] = \"abc\";\nchar readwrite[100] = \"def\";\n\
         __attribute__((section(\".data.rel.ro\"))) char relro[100] = \"ghi\";\n",
    );
    write(
        &d,
        "main.c",
        "#include <stdio.h>\n\
         extern const char readonly[100];\nextern char readwrite[100];\nextern char relro[100];\n\
         int main(void) { readwrite[0] = 'x'; printf(\"%s %s %s\\n\", readonly, readwrite, relro); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fno-PIE", "main.c"]);
    ok(&d, "gcc", &["-shared", "-fPIC", "-o", "libc1.so", "lib.c"]);
    for (initlink, exe) in [(false, "ref"), (true, "a")] {
        link(
            &d,
            initlink,
            &["-no-pie", "-o", exe, "main.o", "-L.", "-lc1"],
        );
        assert_eq!(ok(&d, &format!("./{exe}"), &[]), "abc xef ghi\n", "{exe}");
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
        // Writable in the library, but inside its PT_GNU_RELRO: read-only once loaded.
        assert_eq!(copy_in("relro"), ".data.rel.ro", "{exe}");
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

/// `readelf -n`'s lines for `.note.gnu.property` (the properties), and the program header types.
fn property_facts(dir: &Path, file: &str) -> (Vec<String>, Vec<String>) {
    let notes = ok(dir, "readelf", &["-nW", file]);
    let props = notes
        .split("Displaying notes found in: ")
        .filter(|s| s.starts_with(".note.gnu.property"))
        .flat_map(|s| s.lines().skip(2).map(|l| l.trim().to_string()))
        .filter(|l| !l.is_empty())
        .collect();
    let phdrs = ok(dir, "readelf", &["-lW", file])
        .lines()
        .skip_while(|l| !l.contains("Program Headers"))
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|t| t.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    (props, phdrs)
}

/// A `.note.gnu.property` with x86 ISA needed, ISA used and feature bits.
fn property_asm(needed: u32, used: u32, features: u32) -> String {
    let mut s = String::from(
        ".section .note.gnu.property, \"a\"\n.p2align 3\n.long 4\n.long 1f - 0f\n.long 5\n.asciz \"GNU\"\n0:\n",
    );
    for (t, v) in [
        (0xc000_8002u32, needed),
        (0xc001_0002, used),
        (0xc000_0002, features),
    ] {
        s += &format!(".long 0x{t:x}\n.long 4\n.long 0x{v:x}\n.p2align 3\n");
    }
    s + "1:\n"
}

#[test]
fn gnu_property_notes_are_merged_as_gnu_ld_merges_them() {
    let d = work_dir("gnu-property");
    write(&d, "main.c", "int main(void) { return 0; }\n");
    write(&d, "bare.s", ".globl main\nmain:\n xor %eax, %eax\n ret\n");
    write(&d, "a.s", &property_asm(0x7, 0x7, 0x3));
    write(&d, "b.s", &property_asm(0x8, 0x8, 0x2));
    write(&d, "empty.s", "");
    ok(
        &d,
        "gcc",
        &["-c", "main.c", "bare.s", "a.s", "b.s", "empty.s"],
    );
    let cases: [&[&str]; 9] = [
        &["main.o"],
        &["bare.o"],
        &["bare.o", "-Wl,-z,shstk"],
        &["bare.o", "-Wl,-z,ibt,-z,shstk"],
        &["main.o", "a.o", "b.o"],
        &["main.o", "a.o", "b.o", "empty.o"],
        &["main.o", "a.o", "-Wl,-z,ibt"],
        &["bare.o", "-Wl,-z,x86-64-v3"],
        &["main.o", "a.o", "-Wl,-z,x86-64-v4"],
    ];
    for (k, args) in cases.iter().enumerate() {
        let mut facts = Vec::new();
        for (initlink, exe) in [(false, format!("ref{k}")), (true, format!("a{k}"))] {
            let mut a = vec!["-o", exe.as_str()];
            a.extend(*args);
            link(&d, initlink, &a);
            assert_eq!(ok(&d, &format!("./{exe}"), &[]), "", "{exe}");
            facts.push(property_facts(&d, &exe));
        }
        assert_eq!(facts[1], facts[0], "{args:?}");
    }
    // The facts say what they should (not only that both linkers agree).
    let (props, phdrs) = property_facts(&d, "a5");
    assert!(props.iter().any(|p| p.contains("x86 ISA needed: x86-64-baseline, x86-64-v2, x86-64-v3, x86-64-v4")), "{props:?}");
    assert!(
        !props
            .iter()
            .any(|p| p.contains("ISA used") || p.contains("SHSTK")),
        "{props:?}"
    );
    assert!(phdrs.iter().any(|t| t == "GNU_PROPERTY"), "{phdrs:?}");
    let (props, _) = property_facts(&d, "a7");
    assert!(
        props
            .iter()
            .any(|p| p.contains("x86 ISA needed:") && p.ends_with("x86-64-v3")),
        "{props:?}"
    );
    let (props, _) = property_facts(&d, "a3");
    assert!(
        props.iter().any(|p| p.contains("x86 feature: IBT, SHSTK")),
        "{props:?}"
    );
    // A malformed note is named with its file, section and offset.
    fs::write(
        d.join("bad.s"),
        ".section .note.gnu.property, \"a\"\n.long 4\n.long 64\n.long 5\n.asciz \"GNU\"\n",
    )
    .unwrap();
    ok(&d, "gcc", &["-c", "bad.s"]);
    let o = run(&d, "gcc", &["-B", "ld/", "-o", "bad", "main.o", "bad.o"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("bad.o: .note.gnu.property+0x0: bad GNU property note"),
        "{err}"
    );
}

#[test]
fn a_static_pie_relocates_itself_with_its_ifuncs() {
    let d = work_dir("static-pie");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\n\
         void foo(void) __attribute__((ifunc(\"resolve_foo\")));\n\
         __attribute__((weak)) extern int nothing;\n\
         static void hello(void) { printf(\"Hello world %d\\n\", &nothing == 0); }\n\
         void *resolve_foo(void) { return hello; }\n\
         int main(void) { foo(); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "a.c"]);
    for (initlink, exe) in [(false, "ref"), (true, "a")] {
        link(&d, initlink, &["-static-pie", "-o", exe, "a.o"]);
        assert_eq!(ok(&d, &format!("./{exe}"), &[]), "Hello world 1\n", "{exe}");
        let phdrs = property_facts(&d, exe).1;
        assert!(!phdrs.iter().any(|t| t == "INTERP"), "{exe}: {phdrs:?}");
        // Only load-base-relative words and IFUNC results: no symbol is left to a loader.
        let mut kinds: Vec<String> = dyn_relocs(&d, exe)
            .into_iter()
            .map(|r| r.split_whitespace().next().unwrap_or("").to_string())
            .collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds, ["R_X86_64_IRELATIVE", "R_X86_64_RELATIVE"], "{exe}");
        assert_eq!(dynsym_names(&d, exe), [""], "{exe}: only the null symbol");
    }
}

#[test]
fn a_shared_object_keeps_its_tls_descriptors_for_the_loader() {
    let d = work_dir("tlsdesc");
    write(
        &d,
        "lib.c",
        "static _Thread_local int foo[10000] = { 3, [9999] = 5 };\n\
         _Thread_local int bar = 7;\n\
         int get_foo(int i) { return foo[i]; }\n\
         int get_bar(void) { return bar; }\n",
    );
    write(
        &d,
        "main.c",
        "#include <dlfcn.h>\n#include <stdio.h>\n\
         int main(int argc, char **argv) {\n\
           void *h = dlopen(argv[1], RTLD_NOW);\n\
           if (!h) { printf(\"%s\\n\", dlerror()); return 1; }\n\
           int (*get)(int) = (int (*)(int))dlsym(h, \"get_foo\");\n\
           int (*gb)(void) = (int (*)(void))dlsym(h, \"get_bar\");\n\
           printf(\"%d %d %d %d\\n\", get(0), get(1), get(9999), gb());\n\
           return 0;\n\
         }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "-mtls-dialect=gnu2", "lib.c"]);
    ok(&d, "gcc", &["-o", "main", "main.c", "-ldl"]);
    for (initlink, so) in [(false, "libref.so"), (true, "liba.so")] {
        link(&d, initlink, &["-shared", "-o", so, "lib.o"]);
        assert_eq!(ok(&d, "./main", &[&format!("./{so}")]), "3 0 5 7\n", "{so}");
        // One descriptor for the exported `bar` (its symbol), one for the static `foo` (no
        // symbol: the offset in the module's TLS block).
        let mut descs: Vec<String> = dyn_relocs(&d, so)
            .into_iter()
            .filter(|r| r.starts_with("R_X86_64_TLSDESC"))
            .collect();
        descs.sort();
        assert_eq!(descs.len(), 2, "{so}: {descs:?}");
        assert!(descs.iter().any(|r| r.ends_with("bar")), "{so}: {descs:?}");
    }
}

/// The `%fs` accesses and nops of `main` and `get_x4` in `file` (`objdump -d`), addresses
/// dropped: what the TLS relaxations left.
fn tls_insns(dir: &Path, file: &str) -> Vec<String> {
    let mut dis = ok(
        dir,
        "objdump",
        &["-d", "--no-show-raw-insn", "--disassemble=main", file],
    );
    dis += &ok(
        dir,
        "objdump",
        &["-d", "--no-show-raw-insn", "--disassemble=get_x4", file],
    );
    dis.lines()
        .filter_map(|l| l.split_once(":\t").map(|(_, i)| i))
        .map(|i| i.split(" <").next().unwrap_or(i).trim().to_string())
        .filter(|i| i.starts_with("mov %fs") || i.starts_with("nop") || i.contains("%fs"))
        .collect()
}

#[test]
fn large_code_model_tls_sequences_relax_as_gnu_ld_relaxes_them() {
    let d = work_dir("tls-large");
    write(
        &d,
        "a.c",
        "#include <stdio.h>\nstatic _Thread_local int x1 = 1;\nstatic _Thread_local int x2;\n\
         extern _Thread_local int x3;\nint get_x4(void);\n\
         int main(void) { x2 = 2; printf(\"%d %d %d %d\\n\", x1, x2, x3, get_x4()); return 0; }\n",
    );
    write(&d, "b.c", "_Thread_local int x3 = 3;\n");
    // Two variables of one module: local-dynamic.
    write(
        &d,
        "c.c",
        "static _Thread_local int x4 = 4, x5;\nvoid set_x5(int v) { x5 = v; }\n\
         int get_x4(void) { return x4 + x5; }\n",
    );
    let large = ["-fPIC", "-mcmodel=large", "-mtls-dialect=gnu", "-c"];
    ok(&d, "gcc", &[&large[..], &["a.c", "b.c"]].concat());
    ok(&d, "gcc", &[&large[..], &["-O2", "c.c"]].concat());
    let tls = ok(&d, "readelf", &["-rW", "a.o", "c.o"]);
    assert!(
        tls.contains("R_X86_64_TLSGD") && tls.contains("R_X86_64_TLSLD"),
        "{tls}"
    );
    let cases: [(&str, &[&str]); 3] = [
        ("dyn", &["a.o", "c.o", "libb.so"]),
        ("static", &["-static", "a.o", "b.o", "c.o"]),
        ("pie", &["-pie", "a.o", "b.o", "c.o"]),
    ];
    ok(&d, "gcc", &["-shared", "-o", "libb.so", "b.o"]);
    for (name, args) in cases {
        let (r, e) = (format!("ref-{name}"), format!("il-{name}"));
        link(&d, false, &[&["-mcmodel=large", "-o", &r], args].concat());
        link(&d, true, &[&["-mcmodel=large", "-o", &e], args].concat());
        for exe in [&r, &e] {
            assert_eq!(ok(&d, &format!("./{exe}"), &[]), "1 2 3 4\n", "{exe}");
        }
        // The same rewritten instructions (`mov %fs:0,%rax`, the nops that pad them).
        let insns = tls_insns(&d, &e);
        assert_eq!(insns, tls_insns(&d, &r), "{name}");
        assert!(
            insns.iter().filter(|i| i.contains("%fs")).count() >= 3,
            "{name}: {insns:?}"
        );
    }
}

#[test]
fn an_executables_ifunc_a_library_refers_to_is_exported_as_its_plt_entry() {
    let d = work_dir("ifunc-exported");
    write(
        &d,
        "lib.c",
        "typedef void Func(void);\nvoid foo(void);\nFunc *get_foo(void) { return foo; }\n",
    );
    write(
        &d,
        "main.c",
        "#include <stdio.h>\ntypedef void Func(void);\n\
         __attribute__((ifunc(\"resolve_foo\"))) void foo(void);\n\
         void real_foo(void) { printf(\"foo\\n\"); }\nFunc *resolve_foo(void) { return real_foo; }\n\
         Func *get_foo(void);\n\
         int main(void) { printf(\"%d\\n\", foo == get_foo()); foo(); get_foo()(); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "lib.c"]);
    ok(&d, "gcc", &["-c", "-fno-PIE", "main.c"]);
    ok(&d, "gcc", &["-shared", "-o", "libf.so", "lib.o"]);
    // The entry's type, value's section and size, as readelf shows them.
    let foo = |exe: &str| {
        let syms = ok(&d, "readelf", &["--dyn-syms", "-W", exe]);
        let l = syms
            .lines()
            .find(|l| l.ends_with(" foo"))
            .unwrap_or("")
            .to_string();
        let w: Vec<&str> = l.split_whitespace().collect();
        (
            w.get(2).map(|s| s.to_string()),
            w.get(3).map(|s| s.to_string()),
        )
    };
    for (initlink, exe) in [(false, "ref"), (true, "il")] {
        link(
            &d,
            initlink,
            &["-no-pie", "-o", exe, "main.o", "-L.", "-lf"],
        );
        assert_eq!(ok(&d, &format!("./{exe}"), &[]), "1\nfoo\nfoo\n", "{exe}");
    }
    assert_eq!(foo("il"), foo("ref"));
    assert_eq!(foo("il"), (Some("0".into()), Some("FUNC".into())));
}

/// The NEEDED entries of `file`.
fn needed(dir: &Path, file: &str) -> Vec<String> {
    ok(dir, "readelf", &["-d", "-W", file])
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .map(|l| l.split_whitespace().last().unwrap_or("").to_string())
        .collect()
}

/// As GNU ld does, an archive inside `--start-group` is scanned where it stands, before the
/// shared objects after it (the archive's `foo` wins over the library's), and a linker script's
/// `GROUP` may open inside the group (as `-lm` and `-lc` do; Meson wraps every link's libraries in
/// `--start-group`): the outer group still rescans its archives, the inner one's too.
#[test]
fn archives_in_a_group_are_scanned_in_place_and_groups_nest() {
    let d = work_dir("group-nesting");
    write(&d, "foo.c", "int foo(void) { return 42; }\n");
    write(&d, "y.c", "int y(void) { return 5; }\n");
    write(&d, "x.c", "int y(void);\nint x(void) { return y() + 1; }\n");
    write(
        &d,
        "bar.c",
        "int foo(void) { return 7; }\nint bar(void) { return 1; }\n",
    );
    write(
        &d,
        "main.c",
        "#include <stdio.h>\nint foo(void);\n#ifdef X\nint x(void);\n#else\n#define x() 0\n#endif\n\
         int main(void) { printf(\"%d %d\\n\", foo(), x()); return 0; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "foo.c", "y.c", "x.c", "bar.c"]);
    ok(&d, "gcc", &["-c", "main.c", "-o", "main.o"]);
    ok(&d, "gcc", &["-c", "-DX", "main.c", "-o", "mainx.o"]);
    ok(&d, "ar", &["rcs", "libfoo.a", "foo.o", "y.o"]);
    ok(&d, "ar", &["rcs", "libx.a", "x.o"]);
    ok(&d, "gcc", &["-shared", "-o", "libbar.so", "bar.o"]);
    write(&d, "libgrp.so", "GROUP ( libbar.so libx.a )\n");
    let cases: [(&str, &[&str], &str); 3] = [
        (
            "plain",
            &["main.o", "-Wl,--start-group", "libfoo.a", "./libbar.so"],
            "42 0\n",
        ),
        (
            "script",
            &["mainx.o", "-Wl,--start-group", "libfoo.a", "-L.", "-lgrp"],
            "42 6\n",
        ),
        (
            "libm",
            &["main.o", "-Wl,--start-group", "libfoo.a", "-lm"],
            "42 0\n",
        ),
    ];
    for (name, args, out) in cases {
        let mut facts = Vec::new();
        for (initlink, exe) in [(false, format!("{name}-ref")), (true, format!("{name}-il"))] {
            let mut a = vec!["-o", &exe];
            a.extend(args);
            a.push("-Wl,--end-group");
            link(&d, initlink, &a);
            assert_eq!(ok(&d, &format!("./{exe}"), &[]), out, "{exe}");
            facts.push(needed(&d, &exe));
        }
        assert_eq!(facts[1], facts[0], "{name}: NEEDED");
    }
}
