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

/// Writing a string and a word in hex with a bare system call: the programs these scripts lay
/// out run without libc.
const PRINT_C: &str = r#"static long sys_write(long fd, const void *p, long n) {
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
"#;

/// The embedded-layout program: its declarations, [`PRINT_C`], its `main`.
const EMBEDDED_C_DECLS: &str = r#"extern char __bss_start[], __bss_end[], __data_start[], __data_end[], __text_end[];
static long counter = 5;
static char buf[100];
long values[4] = {1, 2, 3, 4};
__attribute__((section(".text.boot"))) long boot(void) { return counter; }
"#;

const EMBEDDED_C_MAIN: &str = r#"int main(void) {
    for (char *p = __bss_start; p < __bss_end; p++) if (*p) return 9;
    buf[3] = 1;
    put("bss "); hex(__bss_end - __bss_start);
    put("data "); hex(__data_end - __data_start);
    put("text_end "); hex((unsigned long)__text_end);
    return (int)(boot() + values[3] + buf[3]);
}
"#;

fn embedded_c() -> String {
    format!("{EMBEDDED_C_DECLS}{PRINT_C}{EMBEDDED_C_MAIN}")
}

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
    write(&d, "emb.c", &embedded_c());
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
        ("SECTIONS {\n  .data : { *(.data) } :text\n}\n", "bad.ld:2:24"),
        ("\nPHDRS { text PT_LOAD; }\n", "bad.ld:2:1"),
        ("SECTIONS {\n  .data : AT(0x100) { *(.data) } AT > ram\n}\n", "bad.ld:2:34"),
        // Malformed MEMORY: a bad attribute, a misspelt LENGTH, no closing brace, a region
        // named twice, an origin below zero, a region nobody declared.
        ("MEMORY {\n  ram (rwz) : ORIGIN = 0, LENGTH = 1K\n}\n", "bad.ld:2:8"),
        ("MEMORY {\n  ram (rwx) : ORIGIN = 0x1000, LEN = 1K\n}\n", "bad.ld:2:32"),
        ("MEMORY {\n  ram : ORIGIN = 0, LENGTH = 1K\n", "bad.ld:3:1"),
        ("MEMORY {\n  ram : o = 0, l = 1K\n  ram : o = 0, l = 1K\n}\n", "bad.ld:3:3"),
        ("MEMORY {\n  ram : ORIGIN = 0 - 1, LENGTH = 1K\n}\nSECTIONS { .text : { *(.text) } > ram }\n", "bad.ld:2:3"),
        ("MEMORY {\n  ram : ORIGIN = 0, LENGTH = 1K\n}\nSECTIONS {\n  .text : { *(.text) } > rom\n}\n", "bad.ld:5:3"),
        // An expression outside SECTIONS has its value where SECTIONS lays the output out.
        ("MEMORY { ram : o = 0, l = 1K }\ntop = ORIGIN(ram) + 1;\n", "bad.ld:2:1"),
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

/// The course-layout program: its declarations, [`PRINT_C`], its `main`.
const COURSE_C_DECLS: &str = r#"extern char _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
long counter = 5;
__attribute__((section(".tables"))) long table[2] = {7, 9};
__attribute__((section(".rodata2"))) const volatile long after = 11;
static char buf[64];
"#;

const COURSE_C_MAIN: &str = r#"int main(void) {
    for (char *p = _sbss; p < _ebss; p++) if (*p) return 99;
    buf[1] = 1;
    put("lma "); hex((unsigned long)_sidata);
    put("len "); hex(_edata - _sdata);
    put("top "); hex((unsigned long)_estack);
    return (int)(counter + table[1] + after + buf[1]);
}
"#;

fn course_c() -> String {
    format!("{COURSE_C_DECLS}{PRINT_C}{COURSE_C_MAIN}")
}

/// A microcontroller course's layout: code and constants in flash, `.data` in RAM loaded
/// from flash after the code (`AT > FLASH`), the next RAM section loaded after it (GNU ld
/// carries the load region on), `.bss` in RAM, a last section back in flash after what flash
/// loads (on a page of its own, so the program runs: Linux maps segments by page), the stack
/// at the top of RAM, set outside SECTIONS as STM32 scripts do (`org`/`len` are
/// `ORIGIN`/`LENGTH`'s short names).
const COURSE_LD: &str = r#"MEMORY
{
  FLASH (rx) : ORIGIN = 0x400000, LENGTH = 64K
  RAM (rwx) : org = 0x600000, len = 20K
}
ENTRY(_start)
_estack = ORIGIN(RAM) + LENGTH(RAM);
SECTIONS
{
  .text : { *(.text.boot) *(.text*) *(.rodata) *(.rodata.*) } > FLASH
  _sidata = LOADADDR(.data);
  .data : { _sdata = .; *(.data*) _edata = .; } > RAM AT > FLASH
  .tables : { *(.tables) } > RAM
  .bss : { _sbss = .; *(.bss*) *(COMMON) _ebss = .; } > RAM
  .rodata2 : ALIGN(0x1000) { *(.rodata2) } > FLASH
  /DISCARD/ : { *(.comment) *(.eh_frame) *(.note.GNU-stack) }
}
"#;

/// Regions picked by the sections' flags (GNU ld's attribute letters, `w` meaning writable,
/// `!` negating), `.tables` in RAM without `> RAM` and so loaded where it runs, `.data` loaded
/// in flash.
const ATTR_LD: &str = r#"MEMORY
{
  FLASH (rx) : ORIGIN = 0x400000, LENGTH = 64K
  RAM (w!x) : ORIGIN = 0x600000, LENGTH = 20K
}
ENTRY(_start)
SECTIONS
{
  .text : { *(.text*) *(.rodata) *(.rodata.*) }
  .data : { _sdata = .; *(.data) _edata = .; } > RAM AT > FLASH
  _sidata = LOADADDR(.data);
  .tables : { *(.tables) }
  .bss : { _sbss = .; *(.bss*) *(COMMON) _ebss = .; }
  .rodata2 : { *(.rodata2) }
  _estack = ORIGIN(RAM) + LENGTH(RAM);
  /DISCARD/ : { *(.comment) *(.eh_frame) *(.note.GNU-stack) }
}
"#;

/// `AT(LMA)` without `MEMORY`: `.data` loaded apart from its address, the sections after it
/// loaded as far from their addresses as it is, `LOADADDR` of one of them.
const AT_LD: &str = r#"ENTRY(_start)
SECTIONS
{
  .text 0x400000 : { *(.text*) *(.rodata) *(.rodata.*) }
  .rodata2 : { *(.rodata2) }
  .data 0x600000 : AT(0x401000) { _sdata = .; *(.data) _edata = .; }
  .tables : ALIGN(32) { *(.tables) }
  .bss : { _sbss = .; *(.bss*) *(COMMON) _ebss = .; }
  _sidata = LOADADDR(.tables);
  _estack = 0x700000;
  /DISCARD/ : { *(.comment) *(.eh_frame) *(.note.GNU-stack) }
}
"#;

/// `readelf -lW`'s `LOAD` lines: offsets, addresses, load addresses (`PhysAddr`), sizes.
fn load_lines(dir: &Path, file: &str) -> Vec<String> {
    ok(dir, "readelf", &["-lW", file])
        .lines()
        .filter(|l| l.trim_start().starts_with("LOAD"))
        .map(String::from)
        .collect()
}

#[test]
fn memory_regions_and_load_addresses_lay_out_as_gnu_ld_does() {
    let d = work_dir("memory");
    write(&d, "course.c", &course_c());
    write(&d, "start.s", START_S);
    write(&d, "course.ld", COURSE_LD);
    write(&d, "at.ld", AT_LD);
    write(&d, "attr.ld", ATTR_LD);
    let cflags = [
        "-c",
        "-O1",
        "-ffreestanding",
        "-fno-pie",
        "-fno-stack-protector",
        "course.c",
    ];
    ok(&d, "gcc", &cflags);
    ok(&d, "as", &["start.s", "-o", "start.o"]);
    let initlink = env!("CARGO_BIN_EXE_initlink");
    for script in ["course.ld", "at.ld", "attr.ld"] {
        let inputs = ["-T", script, "start.o", "course.o"];
        let (gnu, il) = (format!("gnu-{script}"), format!("il-{script}"));
        ok(&d, "ld", &[&["-o", &gnu][..], &inputs].concat());
        ok(&d, initlink, &[&["-o", &il][..], &inputs].concat());
        let (g, i) = (outcome(&d, &gnu), outcome(&d, &il));
        assert_eq!(g, i, "{script}");
        assert_eq!(i.1, Some(26), "{script}: {i:?}");
        let (gs, gy) = facts(&d, &gnu);
        let (is, iy) = facts(&d, &il);
        assert_eq!(gs, is, "{script}: sections (name, address, size)");
        assert_eq!(gy, iy, "{script}: symbols (name, value)");
        // The same segments, loaded at the same addresses: a new PT_LOAD where the load
        // address stops following the address.
        let (gl, il_loads) = (load_lines(&d, &gnu), load_lines(&d, &il));
        assert_eq!(gl, il_loads, "{script}");
        assert!(il_loads.len() >= 2, "{script}: {il_loads:?}");
        // The ROM image: `.data` and `.tables` after the code, where they are loaded.
        let (gb, ib) = (format!("{gnu}.bin"), format!("{il}.bin"));
        ok(
            &d,
            "ld",
            &[&["--oformat=binary", "-o", &gb][..], &inputs].concat(),
        );
        ok(
            &d,
            initlink,
            &[&["--oformat=binary", "-o", &ib][..], &inputs].concat(),
        );
        let (gimage, iimage) = (
            fs::read(d.join(&gb)).unwrap(),
            fs::read(d.join(&ib)).unwrap(),
        );
        assert_eq!(gimage, iimage, "{script}");
    }
    // Spelled out for the course layout: `.data` runs at 0x600000 and is loaded right after
    // the code, which `_sidata` says; the stack starts at the top of RAM.
    let (out, _) = outcome(&d, "il-course.ld");
    let loads = load_lines(&d, "il-course.ld");
    assert!(
        loads[1].contains("0x0000000000600000")
            && !loads[1].contains("0x0000000000600000 0x0000000000600000"),
        "{loads:?}"
    );
    let sidata = out.lines().next().unwrap().trim_start_matches("lma ");
    assert!(loads[1].contains(sidata), "{out} {loads:?}");
    assert!(out.contains("top 0x0000000000605000"), "{out}");
}

#[test]
fn a_section_that_overflows_its_region_is_gnu_lds_error() {
    let d = work_dir("overflow");
    write(&d, "course.c", &course_c());
    write(&d, "start.s", START_S);
    // 64 bytes of flash and 2 of RAM hold neither the code nor the data.
    let small = COURSE_LD
        .replace("LENGTH = 64K", "LENGTH = 64")
        .replace("len = 20K", "len = 2");
    write(&d, "small.ld", &small);
    ok(
        &d,
        "gcc",
        &[
            "-c",
            "-O1",
            "-ffreestanding",
            "-fno-pie",
            "-fno-stack-protector",
            "course.c",
        ],
    );
    ok(&d, "as", &["start.s", "-o", "start.o"]);
    let inputs = ["-o", "out", "-T", "small.ld", "start.o", "course.o"];
    let gnu = run(&d, "ld", &inputs);
    let il = run(&d, env!("CARGO_BIN_EXE_initlink"), &inputs);
    assert_eq!(gnu.status.code(), Some(1));
    assert_eq!(il.status.code(), Some(1));
    // GNU ld's messages, with the same sections, regions and byte counts.
    let reports = |o: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter_map(|l| {
                let i = l.find("section `").or_else(|| l.find("region `"))?;
                Some(l[i..].to_string())
            })
            .collect()
    };
    let (g, i) = (reports(&gnu), reports(&il));
    assert_eq!(g, i);
    assert!(
        i.iter()
            .any(|l| l.starts_with("region `FLASH' overflowed by ")),
        "{i:?}"
    );
    // Each names where the section's description stands.
    let err = String::from_utf8_lossy(&il.stderr);
    assert!(
        err.contains("small.ld:10:3: section `.text' will not fit in region `FLASH'"),
        "{err}"
    );
    assert!(!d.join("out").exists());
}

#[test]
fn include_reads_a_script_where_it_stands_as_gnu_ld_finds_it() {
    let d = work_dir("include");
    write(&d, "course.c", &course_c());
    write(&d, "start.s", START_S);
    ok(
        &d,
        "gcc",
        &[
            "-c",
            "-O1",
            "-ffreestanding",
            "-fno-pie",
            "-fno-stack-protector",
            "course.c",
        ],
    );
    ok(&d, "as", &["start.s", "-o", "start.o"]);
    // The course layout cut in files: a region list INCLUDEd inside MEMORY (from the search
    // path), MEMORY itself at the top level (from the current directory), an output section
    // description inside SECTIONS and input descriptions inside an output section.
    fs::create_dir_all(d.join("lib")).unwrap();
    write(
        &d,
        "lib/regions.ld",
        "  FLASH (rx) : ORIGIN = 0x400000, LENGTH = 64K\n",
    );
    write(
        &d,
        "memory.ld",
        "MEMORY\n{\n  INCLUDE regions.ld\n  RAM (rwx) : org = 0x600000, len = 20K\n}\n",
    );
    write(
        &d,
        "lib/bss.ld",
        "_sbss = .; *(.bss*) *(COMMON) _ebss = .;\n",
    );
    write(
        &d,
        "lib/data.ld",
        ".data : { _sdata = .; *(.data*) _edata = .; } > RAM AT > FLASH\n",
    );
    let main = COURSE_LD
        .replace(
            COURSE_LD.split("ENTRY").next().unwrap(),
            "INCLUDE memory.ld\n",
        )
        .replace(
            "  .data : { _sdata = .; *(.data*) _edata = .; } > RAM AT > FLASH\n",
            "  INCLUDE data.ld\n",
        )
        .replace(
            "{ _sbss = .; *(.bss*) *(COMMON) _ebss = .; }",
            "{ INCLUDE bss.ld }",
        );
    assert_eq!(main.matches("INCLUDE").count(), 3, "{main}");
    write(&d, "main.ld", &main);
    write(&d, "course.ld", COURSE_LD);
    let initlink = env!("CARGO_BIN_EXE_initlink");
    let inputs = ["start.o", "course.o"];
    ok(
        &d,
        "ld",
        &[&["-o", "gnu", "-L", "lib", "-T", "main.ld"][..], &inputs].concat(),
    );
    ok(
        &d,
        initlink,
        &[&["-o", "il", "-L", "lib", "-T", "main.ld"][..], &inputs].concat(),
    );
    ok(
        &d,
        initlink,
        &[&["-o", "whole", "-T", "course.ld"][..], &inputs].concat(),
    );
    assert_eq!(outcome(&d, "gnu"), outcome(&d, "il"));
    assert_eq!(facts(&d, "gnu"), facts(&d, "il"));
    assert_eq!(facts(&d, "whole"), facts(&d, "il"));
    assert_eq!(load_lines(&d, "gnu"), load_lines(&d, "il"));
    // Not found: GNU ld's message, at the INCLUDE; an error in an included file names it.
    write(&d, "missing.ld", "SECTIONS {\n  INCLUDE nothere.ld\n}\n");
    write(&d, "lib/broken.ld", ".text : { *(.text) }\n. = 1 +;\n");
    write(&d, "bad.ld", "SECTIONS {\n  INCLUDE broken.ld\n}\n");
    for (script, want) in [
        (
            "missing.ld",
            "missing.ld:2:3: cannot open linker script file nothere.ld: No such file or directory",
        ),
        ("bad.ld", "lib/broken.ld:2:8: expected an expression"),
    ] {
        let o = run(
            &d,
            initlink,
            &[&["-o", "out", "-L", "lib", "-T", script][..], &inputs].concat(),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{script}: {err}");
        assert!(err.contains(want), "{script}: {err}");
    }
    // A file that includes itself is an error, not a recursion without end.
    write(&d, "self.ld", "INCLUDE self.ld\n");
    let o = run(
        &d,
        initlink,
        &[&["-o", "out", "-T", "self.ld"][..], &inputs].concat(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("included more than"),
        "{o:?}"
    );
}
