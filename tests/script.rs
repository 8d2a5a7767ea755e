//! Linker scripts with `SECTIONS`: GNU ld's own default scripts (as `ld --verbose` prints them)
//! given with `-T` link C and C++ programs that behave as GNU ld's links do; an embedded-style
//! script puts sections and symbols where GNU ld puts them; `KEEP` holds against
//! `--gc-sections`; a malformed script is an error at its `file:line:column`.

use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{ok, run, write};

/// A scratch directory with `ld/ld` → initlink, for `gcc -B ld/`.
fn work_dir(name: &str) -> PathBuf {
    common::work_dir("script", name)
}

/// GNU ld's default script for these arguments: what `ld ARGS --verbose` prints between its
/// `=====` lines.
fn default_script(dir: &Path, name: &str, args: &[&str]) {
    let mut a = args.to_vec();
    a.push("--verbose");
    let text = ok(dir, "ld", &a);
    let inner: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("====="))
        .skip(1)
        .take_while(|l| !l.starts_with("====="))
        .collect();
    assert!(inner.iter().any(|l| l.contains("SECTIONS")), "{text}");
    write(dir, name, &inner.join("\n"));
}

/// (stdout, exit status) of `./prog`.
fn outcome(dir: &Path, prog: &str) -> (String, Option<i32>) {
    let o = run(dir, &format!("./{prog}"), &[]);
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        o.status.code(),
    )
}

const C_PROGRAM: &str = r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int order;
__attribute__((constructor(200))) static void early(void) { order = order * 10 + 1; }
__attribute__((constructor)) static void late(void) { order = order * 10 + 2; }
__thread int tls_counter = 40;
static void bye(void) { puts("bye"); }
int main(int argc, char **argv) {
    atexit(bye);
    tls_counter += argc;
    char *p = malloc(32);
    strcpy(p, "heap");
    printf("%s order=%d tls=%d\n", p, order, tls_counter);
    free(p);
    return 17;
}
"#;

const CXX_PROGRAM: &str = r#"#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>
struct Global { Global() { std::cout << "ctor\n"; } ~Global() { std::cout << "dtor\n"; } } global;
int main() {
    std::vector<std::string> v{"a", "b", "c"};
    try {
        throw std::runtime_error("thrown " + v[1]);
    } catch (const std::exception &e) {
        std::cout << "caught " << e.what() << " " << v.size() << "\n";
    }
    return 5;
}
"#;

#[test]
fn gnu_lds_default_scripts_link_c_and_cxx_programs_that_behave_as_gnu_lds() {
    let d = work_dir("default");
    write(&d, "c.c", C_PROGRAM);
    write(&d, "x.cc", CXX_PROGRAM);
    ok(&d, "gcc", &["-c", "-O1", "c.c"]);
    ok(&d, "g++", &["-c", "-O1", "x.cc"]);
    default_script(&d, "exec.ld", &[]);
    default_script(&d, "pie.ld", &["-pie"]);
    // (driver, object, output kind flag, script)
    let cases = [
        ("gcc", "c.o", "-no-pie", "exec.ld"),
        ("gcc", "c.o", "-pie", "pie.ld"),
        ("gcc", "c.o", "-static", "exec.ld"),
        ("g++", "x.o", "-no-pie", "exec.ld"),
        ("g++", "x.o", "-pie", "pie.ld"),
        ("g++", "x.o", "-static", "exec.ld"),
    ];
    for (driver, obj, kind, script) in cases {
        let t = format!("-Wl,-T,{script}");
        ok(&d, driver, &[kind, obj, "-o", "gnu", &t]);
        ok(&d, driver, &["-B", "ld/", kind, obj, "-o", "il", &t]);
        let (gnu, il) = (outcome(&d, "gnu"), outcome(&d, "il"));
        assert_eq!(gnu, il, "{driver} {kind} {script}");
        assert!(
            il.1.is_some_and(|c| c == 17 || c == 5),
            "{driver} {kind}: {il:?}"
        );
        // The script's symbols are where its assignments put them.
        let syms = ok(&d, "nm", &["il"]);
        let addr = |name: &str| {
            syms.lines()
                .find(|l| l.ends_with(&format!(" {name}")))
                .and_then(|l| u64::from_str_radix(l.split(' ').next()?, 16).ok())
        };
        let end = addr("_end").expect("_end");
        let bss = addr("__bss_start").expect("__bss_start");
        assert!(end >= bss && end % 8 == 0, "{driver} {kind}: _end {end:#x}");
    }
    // A shared object through GNU ld's shared script: its ENTRY(_start) names nothing the
    // library defines, which is no entry and no warning, as with GNU ld; the exports agree.
    default_script(&d, "shared.ld", &["-shared"]);
    ok(&d, "gcc", &["-c", "-fPIC", "-o", "lib.o", "c.c"]);
    ok(
        &d,
        "gcc",
        &["-shared", "lib.o", "-o", "libgnu.so", "-Wl,-T,shared.ld"],
    );
    let o = run(
        &d,
        "gcc",
        &[
            "-B",
            "ld/",
            "-shared",
            "lib.o",
            "-o",
            "libil.so",
            "-Wl,-T,shared.ld",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    let dynsyms = |f: &str| -> Vec<String> {
        let mut v: Vec<String> = ok(&d, "readelf", &["--dyn-syms", "-W", f])
            .lines()
            .skip(3)
            .map(|l| l.split_whitespace().skip(3).collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.split_whitespace()
                    .filter(|w| w.parse::<u32>().is_err())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(dynsyms("libil.so"), dynsyms("libgnu.so"));
}

const EMBEDDED_C: &str = r#"extern char __bss_start[], __bss_end[], __data_start[], __data_end[], __text_end[];
static long counter = 5;
static char buf[100];
long values[4] = {1, 2, 3, 4};
__attribute__((section(".text.boot"))) long boot(void) { return counter; }
static long sys_write(long fd, const void *p, long n) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(1), "D"(fd), "S"(p), "d"(n) : "rcx", "r11", "memory");
    return r;
}
static void put(const char *s) { long n = 0; while (s[n]) n++; sys_write(1, s, n); }
static void hex(unsigned long v) {
    char b[19];
    b[0] = '0'; b[1] = 'x';
    for (int i = 0; i < 16; i++) { int d = (v >> (60 - 4 * i)) & 15; b[2 + i] = d < 10 ? '0' + d : 'a' + d - 10; }
    b[18] = '\n';
    sys_write(1, b, 19);
}
int main(void) {
    for (char *p = __bss_start; p < __bss_end; p++) if (*p) return 9;
    buf[3] = 1;
    put("bss "); hex(__bss_end - __bss_start);
    put("data "); hex(__data_end - __data_start);
    put("text_end "); hex((unsigned long)__text_end);
    return (int)(boot() + values[3] + buf[3]);
}
"#;

const START_S: &str = ".text\n.globl _start\n_start:\n  call main\n  mov %eax, %edi\n  mov $60, %eax\n  syscall\n.section .note.GNU-stack,\"\",@progbits\n";

const EMBEDDED_LD: &str = r#"/* An embedded-style layout. */
ENTRY(_start)
SECTIONS
{
  . = 0x400000;
  .text : { *(.text.boot) *(.text*) __text_end = .; }
  . = ALIGN(0x1000);
  .rodata : { *(.rodata*) }
  .data : ALIGN(16) { __data_start = .; *(.data*) ; __data_end = .; }
  .bss : {
    __bss_start = .;
    *(.bss*)
    *(COMMON)
    . = ALIGN(8);
    __bss_end = .;
  }
  stack_top = . + 0x1000;
  /DISCARD/ : { *(.comment) *(.eh_frame) *(.note.GNU-stack) }
}
"#;

/// A section's (name, address, size).
type SectionFact = (String, String, String);

/// Every section's (name, address, size) and every symbol's (name, value).
fn facts(dir: &Path, file: &str) -> (Vec<SectionFact>, Vec<(String, String)>) {
    let sections = ok(dir, "readelf", &["-SW", file])
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('[')?;
            let w: Vec<&str> = l.split(']').nth(1)?.split_whitespace().collect();
            (w.len() > 4 && w[0] != "NULL" && !w[0].ends_with("strtab") && w[0] != ".symtab")
                .then(|| (w[0].to_string(), w[2].to_string(), w[4].to_string()))
        })
        .collect();
    let mut symbols: Vec<(String, String)> = ok(dir, "nm", &[file])
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 3).then(|| (w[2].to_string(), w[0].to_string()))
        })
        .collect();
    symbols.sort();
    (sections, symbols)
}

#[test]
fn an_embedded_script_places_sections_and_symbols_as_gnu_ld_does() {
    let d = work_dir("embedded");
    write(&d, "emb.c", EMBEDDED_C);
    write(&d, "start.s", START_S);
    write(&d, "emb.ld", EMBEDDED_LD);
    let cflags = [
        "-c",
        "-O1",
        "-ffreestanding",
        "-fno-pie",
        "-fno-stack-protector",
    ];
    ok(&d, "gcc", &[&cflags[..], &["emb.c"]].concat());
    ok(&d, "as", &["start.s", "-o", "start.o"]);
    let inputs = ["-T", "emb.ld", "start.o", "emb.o"];
    ok(&d, "ld", &[&["-o", "gnu"][..], &inputs].concat());
    ok(
        &d,
        env!("CARGO_BIN_EXE_initlink"),
        &[&["-o", "il"][..], &inputs].concat(),
    );
    let (gnu, il) = (outcome(&d, "gnu"), outcome(&d, "il"));
    assert_eq!(gnu, il);
    assert_eq!(il.1, Some(10));
    assert!(il.0.contains("bss 0x0000000000000068"), "{}", il.0);
    let (gs, gy) = facts(&d, "gnu");
    let (is, iy) = facts(&d, "il");
    assert_eq!(gs, is, "sections (name, address, size)");
    assert_eq!(gy, iy, "symbols (name, value)");
    assert!(
        iy.iter()
            .any(|(n, v)| n == "stack_top" && v == "00000000004020a8"),
        "{iy:?}"
    );
    // The same segments: `.rodata` shares `.data`'s page, so one segment holds both.
    let loads = |f: &str| -> Vec<String> {
        ok(&d, "readelf", &["-lW", f])
            .lines()
            .filter(|l| l.trim_start().starts_with("LOAD"))
            .map(String::from)
            .collect()
    };
    assert_eq!(loads("gnu"), loads("il"));
}

#[test]
fn keep_holds_a_section_against_gc_sections() {
    let d = work_dir("keep");
    write(
        &d,
        "k.c",
        "__attribute__((section(\".keepme\"))) const char tag[] = \"TAG\";\n\
         __attribute__((section(\".dropme\"))) const char other[] = \"DROP\";\n\
         int unused_fn(void) { return 42; }\n\
         int main(void) { return 7; }\n",
    );
    ok(
        &d,
        "gcc",
        &["-c", "-ffunction-sections", "-fdata-sections", "k.c"],
    );
    let script = |keep: bool| {
        let k = if keep {
            "KEEP(*(.keepme))"
        } else {
            "*(.keepme)"
        };
        format!(
            "SECTIONS {{\n  . = SEGMENT_START(\"text-segment\", 0x400000) + SIZEOF_HEADERS;\n  \
             .text : {{ *(.text*) }}\n  .rodata : {{ {k} *(.dropme) *(.rodata*) }}\n  \
             .data : {{ *(.data*) }}\n  .bss : {{ *(.bss*) }}\n}}\n"
        )
    };
    write(&d, "keep.ld", &script(true));
    write(&d, "nokeep.ld", &script(false));
    for (ld, out) in [("ld", "gnu"), (env!("CARGO_BIN_EXE_initlink"), "il")] {
        for (s, kept) in [("keep.ld", true), ("nokeep.ld", false)] {
            let o = format!("{out}-{s}");
            ok(
                &d,
                ld,
                &["-o", &o, "-T", s, "--gc-sections", "-e", "main", "k.o"],
            );
            let rodata = ok(&d, "readelf", &["-x", ".rodata", &o]);
            assert_eq!(rodata.contains("TAG"), kept, "{ld} {s}: {rodata}");
            assert!(!rodata.contains("DROP"), "{ld} {s}");
            assert!(!ok(&d, "nm", &[&o]).contains("unused_fn"), "{ld} {s}");
        }
    }
}

#[test]
fn a_malformed_script_is_an_error_at_its_line_and_column() {
    let d = work_dir("malformed");
    write(&d, "a.c", "int main(void) { return 0; }\n");
    ok(&d, "gcc", &["-c", "a.c"]);
    for (text, at) in [
        ("SECTIONS {\n  .text : { *(.text) \n", "bad.ld:3:1"),
        ("SECTIONS {\n  .text : {\n    *(.text\n  }\n}\n", "bad.ld:4:3"),
        ("SECTIONS {\n  . = 0x1000 +;\n}\n", "bad.ld:2:15"),
        ("SECTIONS {\n  . = 0xffffffffffffffff + 1;\n}\n", "bad.ld:2:3"),
        ("SECTIONS {\n  .data : AT(0x100) { *(.data) }\n}\n", "bad.ld:2:11"),
        ("\nMEMORY { ram : ORIGIN = 0, LENGTH = 1K }\n", "bad.ld:2:1"),
        ("SECTIONS {\n  x = 1 / 0;\n  .text : { *(.text) }\n}\n", "bad.ld:2:3"),
        ("SECTIONS {\n  .text : { *(.text) }\n  ASSERT(SIZEOF(.text) > 0x100000, \"text too small\")\n}\n", "bad.ld:3:3"),
    ] {
        write(&d, "bad.ld", text);
        let o = run(&d, env!("CARGO_BIN_EXE_initlink"), &["-o", "out", "-T", "bad.ld", "a.o"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{text}: {err}");
        assert!(err.contains(&format!("{at}:")) || err.contains(at), "{text}: {err}");
        assert!(!d.join("out").exists());
    }
}

/// `NAME bind vis ndx` of each symbol named in `names` in `readelf SECTION_FLAG`'s listing.
fn symbols(dir: &Path, flag: &str, file: &str, names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ok(dir, "readelf", &[flag, "-W", file])
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let name = *w.get(7)?;
            names
                .contains(&name)
                .then(|| format!("{name} {} {} {}", w[4], w[5], w[6]))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn hidden_assignments_are_bound_locally_and_the_others_exported_as_gnu_ld_does() {
    let d = work_dir("hidden");
    // `h` and `ph` hidden (`ph` only because the library refers to it), `plain` exported,
    // `unref` never defined (PROVIDEd, referred to by nobody), `ds` from `--defsym`.
    write(
        &d,
        "syms.ld",
        "HIDDEN(h = 0x30);\nPROVIDE_HIDDEN(ph = 0x10);\nplain = 0x40;\nPROVIDE(unref = 0x50);\n",
    );
    write(
        &d,
        "lib.c",
        "extern char ph[], h[];\nlong get(void) { return (long)ph + (long)h; }\n",
    );
    ok(&d, "gcc", &["-c", "-fPIC", "-o", "lib.o", "lib.c"]);
    let names = ["h", "ph", "plain", "unref", "ds", "get"];
    let mut outs = Vec::new();
    for (out, b) in [("libgnu.so", None), ("libil.so", Some("ld/"))] {
        let mut args = vec![
            "-shared",
            "lib.o",
            "-o",
            out,
            "syms.ld",
            "-Wl,--defsym,ds=0x60",
        ];
        if let Some(b) = b {
            args.splice(0..0, ["-B", b]);
        }
        ok(&d, "gcc", &args);
        outs.push((
            symbols(&d, "--syms", out, &names),
            symbols(&d, "--dyn-syms", out, &names),
        ));
    }
    assert_eq!(outs[1], outs[0]);
    // What GNU ld does, spelled out: hidden ones LOCAL in .symtab and not exported.
    assert!(
        outs[0].0.contains(&"h LOCAL DEFAULT ABS".to_string()),
        "{:?}",
        outs[0]
    );
    assert!(
        outs[0].1.contains(&"plain GLOBAL DEFAULT ABS".to_string()),
        "{:?}",
        outs[0]
    );
    assert!(
        outs[0].1.contains(&"ds GLOBAL DEFAULT ABS".to_string()),
        "{:?}",
        outs[0]
    );
    assert!(!outs[0]
        .1
        .iter()
        .any(|s| s.starts_with("h ") || s.starts_with("unref ")));
}

const BOOT_SECTOR: &str = r#".code16
.section .text
.globl _start
_start:
  mov $msg, %si
next:
  lodsb
  or %al, %al
  jz done
  mov $0x0e, %ah
  int $0x10
  jmp next
done:
  hlt
.section .rodata
msg: .asciz "hello"
.section .data
counter: .long 0x11223344
.section .bss
buf: .skip 64
"#;

#[test]
fn oformat_binary_writes_the_memory_image_gnu_ld_writes() {
    let d = work_dir("oformat");
    write(&d, "boot.s", BOOT_SECTOR);
    write(
        &d,
        "boot.ld",
        "SECTIONS {\n  . = 0x7c00;\n  .text : { *(.text) }\n  .rodata : { *(.rodata) }\n  .data : { *(.data) }\n  .bss : { *(.bss) }\n}\n",
    );
    // A boot sector's signature by a data command in a section of its own, and data commands
    // after an input section.
    write(
        &d,
        "sig.ld",
        "SECTIONS {\n  . = 0x7c00;\n  .text : { *(.text) }\n  .rodata : { *(.rodata) }\n  . = 0x7dfe;\n  .sig : { SHORT(0xaa55) }\n  .data : { *(.data) LONG(0xdeadbeef) BYTE(1) QUAD(ADDR(.text)) }\n  .bss : { *(.bss) }\n}\n",
    );
    ok(&d, "as", &["-o", "boot.o", "boot.s"]);
    let initlink = env!("CARGO_BIN_EXE_initlink");
    let mut images = Vec::new();
    for (ld, out) in [("ld", "gnu.bin"), (initlink, "il.bin")] {
        ok(
            &d,
            ld,
            &["--oformat", "binary", "-T", "boot.ld", "-o", out, "boot.o"],
        );
        images.push(fs::read(d.join(out)).unwrap());
    }
    assert_eq!(images[1], images[0]);
    // The code, then "hello\0" and the data word, from 0x7c00 on; `.bss` adds nothing. The
    // code's first instruction (`mov $msg, %si`) holds msg's address.
    let image = &images[1];
    let tail = [&b"hello\0"[..], &0x1122_3344u32.to_le_bytes()].concat();
    assert!(image.ends_with(&tail), "{image:x?}");
    let msg = 0x7c00 + (image.len() - tail.len()) as u16;
    assert_eq!(image[0], 0xbe, "{image:x?}");
    assert_eq!(&image[1..3], &msg.to_le_bytes(), "{image:x?}");
    let mut signed = Vec::new();
    for (ld, out) in [("ld", "gnu-sig.bin"), (initlink, "il-sig.bin")] {
        ok(
            &d,
            ld,
            &["--oformat=binary", "-T", "sig.ld", "-o", out, "boot.o"],
        );
        signed.push(fs::read(d.join(out)).unwrap());
    }
    assert_eq!(signed[1], signed[0]);
    assert_eq!(&signed[1][510..512], &[0x55, 0xaa]);
    let data = [
        &0x1122_3344u32.to_le_bytes()[..],
        &0xdead_beefu32.to_le_bytes(),
        &[1],
    ]
    .concat();
    assert_eq!(&signed[1][512..521], &data[..]);
    assert_eq!(&signed[1][521..], &0x7c00u64.to_le_bytes());
    // The ELF file has the data too, in the sections GNU ld makes.
    for (ld, out) in [("ld", "gnu-sig"), (initlink, "il-sig")] {
        ok(&d, ld, &["-T", "sig.ld", "-o", out, "boot.o"]);
    }
    let sig = |f: &str| -> String { ok(&d, "readelf", &["-x", ".sig", "-x", ".data", f]) };
    assert_eq!(
        sig("il-sig").replace("il-sig", "F"),
        sig("gnu-sig").replace("gnu-sig", "F")
    );
    let o = run(&d, initlink, &["--oformat=srec", "-o", "x.srec", "boot.o"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unsupported output format 'srec'"),
        "{o:?}"
    );
}
