//! One test per relocation formula. Each assembles a snippet with GNU as, links it with initlink,
//! and checks the patched field against the psABI formula evaluated from the output itself: S from
//! its symbol table, P from the section address, GOT from `_GLOBAL_OFFSET_TABLE_`, TP from PT_TLS.
//! A wrong formula, a wrong addend or a field written at the wrong place fails.

use object::{Object, ObjectSection, ObjectSymbol};
use std::path::PathBuf;
use std::process::Command;

struct Linked {
    bytes: Vec<u8>,
}

impl Linked {
    fn file(&self) -> object::File<'_> {
        object::File::parse(&*self.bytes).expect("initlink output parses")
    }
    fn sym(&self, name: &str) -> u64 {
        let f = self.file();
        f.symbols()
            .find(|s| s.name() == Ok(name))
            .unwrap_or_else(|| panic!("no symbol {name} in the output"))
            .address()
    }
    /// Address of label `name` and the bytes from there.
    fn at(&self, name: &str, len: usize) -> (u64, Vec<u8>) {
        let a = self.sym(name);
        let f = self.file();
        for s in f.sections() {
            if a >= s.address() && a + len as u64 <= s.address() + s.size() {
                let d = s.data().unwrap();
                let o = (a - s.address()) as usize;
                return (a, d[o..o + len].to_vec());
            }
        }
        panic!("{name} at 0x{a:x} is in no section with data");
    }
    fn i32_at(&self, name: &str, skip: usize) -> (u64, i64) {
        let (a, b) = self.at(name, skip + 4);
        (
            a + skip as u64,
            i64::from(i32::from_le_bytes(b[skip..skip + 4].try_into().unwrap())),
        )
    }
    fn u64_at(&self, name: &str, skip: usize) -> (u64, u64) {
        let (a, b) = self.at(name, skip + 8);
        (
            a + skip as u64,
            u64::from_le_bytes(b[skip..skip + 8].try_into().unwrap()),
        )
    }
    fn word_at_addr(&self, addr: u64) -> u64 {
        let f = self.file();
        for s in f.sections() {
            if addr >= s.address() && addr + 8 <= s.address() + s.size() {
                let d = s.data().unwrap();
                let o = (addr - s.address()) as usize;
                return u64::from_le_bytes(d[o..o + 8].try_into().unwrap());
            }
        }
        panic!("0x{addr:x} is in no section");
    }
    fn tls(&self) -> (u64, u64) {
        let f = self.file();
        // PT_TLS: object exposes segments; find the one that holds .tdata.
        let tdata = f.section_by_name(".tdata").expect(".tdata");
        let start = tdata.address();
        let tbss_end = f
            .section_by_name(".tbss")
            .map_or(start + tdata.size(), |s| s.address() + s.size());
        let align = tdata
            .align()
            .max(f.section_by_name(".tbss").map_or(1, |s| s.align()));
        let memsz = tbss_end - start;
        let tp = start + memsz.div_ceil(align) * align;
        let _ = f.segments().count();
        (start, tp)
    }
}

fn link(name: &str, asm: &str, extra: &[&str]) -> Linked {
    link_as(name, asm, &[], extra)
}

fn link_as(name: &str, asm: &str, as_flags: &[&str], extra: &[&str]) -> Linked {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("relocs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("t.s");
    std::fs::write(
        &src,
        format!("{asm}\n.section .note.GNU-stack,\"\",@progbits\n"),
    )
    .unwrap();
    let st = Command::new("as")
        .args(as_flags)
        .arg("-o")
        .arg(dir.join("t.o"))
        .arg(&src)
        .status()
        .expect("as");
    assert!(st.success(), "as failed for {name}");
    let out = Command::new(env!("CARGO_BIN_EXE_initlink"))
        .current_dir(&dir)
        .args(["-static", "-e", "_start", "-o", "t", "t.o"])
        .args(extra)
        .output()
        .expect("initlink");
    assert!(
        out.status.success(),
        "initlink failed for {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Linked {
        bytes: std::fs::read(dir.join("t")).unwrap(),
    }
}

const START: &str = ".globl _start\n.text\n_start: mov $60, %eax\n xor %edi, %edi\n syscall\n";

#[test]
fn r_64_is_s_plus_a() {
    let l = link(
        "64",
        &format!("{START}.data\n.globl target\ntarget: .quad 0\nd: .quad target + 24\n"),
        &[],
    );
    assert_eq!(l.u64_at("d", 0).1, l.sym("target") + 24);
}

#[test]
fn r_32_and_32s_are_s_plus_a() {
    let l = link(
        "32",
        &format!(
            "{START}.data\ntarget: .quad 0\nd32: .long target + 5\nd32s: movl $target - 8, %eax\n"
        ),
        &[],
    );
    let (_, b) = l.at("d32", 4);
    assert_eq!(
        u64::from(u32::from_le_bytes(b[..4].try_into().unwrap())),
        l.sym("target") + 5
    );
    let (_, v) = l.i32_at("d32s", 1); // b8 imm32
    assert_eq!(v as u64, l.sym("target") - 8);
}

#[test]
fn r_16_and_8_are_s_plus_a() {
    let l = link("16", &format!("{START}.data\n.set small, 0x1234\nd16: .word small + 1\nd8: .byte 0x12 + 3\n.byte small & 0\n"), &[]);
    let (_, b) = l.at("d16", 2);
    assert_eq!(u16::from_le_bytes([b[0], b[1]]), 0x1235);
}

#[test]
fn r_pc32_is_s_plus_a_minus_p() {
    let l = link(
        "pc32",
        &format!("{START}\nf: lea target+16(%rip), %rax\n.data\ntarget: .quad 0\n"),
        &[],
    );
    // lea disp32 at offset 3; P is the field's address, A = 16 - 4.
    let (p, v) = l.i32_at("f", 3);
    assert_eq!(v, (l.sym("target") + 16) as i64 - 4 - p as i64);
}

#[test]
fn r_pc64_and_pc16_pc8() {
    let l = link(
        "pc64",
        &format!(
            "{START}.data\ntarget: .quad 0\nd: .quad target - .\nd2: .long target - . + 100\n"
        ),
        &[],
    );
    let (p, v) = l.u64_at("d", 0);
    assert_eq!(v, l.sym("target").wrapping_sub(p));
    let (p2, v2) = l.i32_at("d2", 0);
    assert_eq!(v2, l.sym("target") as i64 + 100 - p2 as i64);
}

#[test]
fn r_plt32_in_a_static_link_is_l_plus_a_minus_p_with_l_the_function() {
    let l = link("plt32", &format!("{START}\nc: call fn@PLT\nfn: ret\n"), &[]);
    let (p, v) = l.i32_at("c", 1);
    assert_eq!(v, l.sym("fn") as i64 - 4 - p as i64);
}

#[test]
fn r_gotpcrel_is_g_plus_got_plus_a_minus_p_and_the_slot_holds_s() {
    // Plain GOTPCREL (gas without relax relocations): never relaxed, a GOT slot that holds S.
    let l = link_as(
        "gotpcrel",
        &format!("{START}\ng: movq target@GOTPCREL(%rip), %rax\n.data\ntarget: .quad 0\n"),
        &["-mrelax-relocations=no"],
        &[],
    );
    let (p, v) = l.i32_at("g", 3);
    let slot = (p as i64 + 4 + v) as u64;
    assert_eq!(
        l.word_at_addr(slot),
        l.sym("target"),
        "the GOT slot holds the symbol's address"
    );
    let (_, b) = l.at("g", 3);
    assert_eq!(b[1], 0x8b, "GOTPCREL (no X) is never relaxed");
}

#[test]
fn r_rex_gotpcrelx_relaxes_mov_to_lea() {
    // gas emits R_X86_64_REX_GOTPCRELX for movq foo@GOTPCREL(%rip) by default.
    let asm = format!("{START}\ng: movq target@GOTPCREL(%rip), %rax\nh: call *fn@GOTPCREL(%rip)\nfn: ret\n.data\ntarget: .quad 0\n");
    let l = link_as("gotpcrelx", &asm, &["-mrelax-relocations=yes"], &[]);
    let (_, b) = l.at("g", 3);
    assert_eq!(b[1], 0x8d, "mov foo@GOTPCREL(%rip) relaxed to lea");
    let (p, v) = l.i32_at("g", 3);
    assert_eq!(
        v,
        l.sym("target") as i64 - 4 - p as i64,
        "relaxed to lea target(%rip)"
    );
    let (_, c) = l.at("h", 2);
    assert_eq!(
        &c[..2],
        &[0x67, 0xe8],
        "call *foo@GOTPCREL(%rip) relaxed to addr32 call"
    );
    let (p, v) = l.i32_at("h", 2);
    assert_eq!(v, l.sym("fn") as i64 - 4 - p as i64);
}

#[test]
fn r_gotpc32_gotoff64_gotpc64_got64_pltoff64() {
    let asm = format!(
        "{START}\na: lea _GLOBAL_OFFSET_TABLE_(%rip), %rbx\nb: movabs $target@GOTOFF, %rax\n\
         c: movabs $_GLOBAL_OFFSET_TABLE_, %rcx\nd: movabs $target@GOT, %rdx\ne: movabs $fn@PLTOFF, %rsi\nfn: ret\n.data\ntarget: .quad 0\n"
    );
    let l = link("gotoff", &asm, &[]);
    let got = l.sym("_GLOBAL_OFFSET_TABLE_");
    let (p, v) = l.i32_at("a", 3);
    assert_eq!(v, got as i64 - 4 - p as i64, "GOTPC32 = GOT + A - P");
    let (_, off) = l.u64_at("b", 2);
    assert_eq!(
        off,
        l.sym("target").wrapping_sub(got),
        "GOTOFF64 = S + A - GOT"
    );
    let (p, gp) = l.u64_at("c", 2);
    assert_eq!(
        gp,
        got.wrapping_sub(p).wrapping_add(2),
        "GOTPC64 = GOT + A - P (A = field offset 2)"
    );
    let (_, g) = l.u64_at("d", 2);
    assert_eq!(
        l.word_at_addr(got.wrapping_add(g)),
        l.sym("target"),
        "GOT64 = G: slot offset from GOT"
    );
    let (_, po) = l.u64_at("e", 2);
    assert_eq!(
        po,
        l.sym("fn").wrapping_sub(got),
        "PLTOFF64 = L + A - GOT (L = the function, static)"
    );
}

#[test]
fn r_size32_and_size64_are_z_plus_a() {
    let l = link("size", &format!("{START}.data\nobj: .quad 1,2,3\n.size obj, 24\nd: .long obj@SIZE + 1\ne: .quad obj@SIZE\n"), &[]);
    let (_, b) = l.at("d", 4);
    assert_eq!(u32::from_le_bytes(b[..4].try_into().unwrap()), 25);
    assert_eq!(l.u64_at("e", 0).1, 24);
}

#[test]
fn tls_tpoff32_dtpoff64_and_initial_exec_relaxation() {
    let asm = format!(
        "{START}\na: movq %fs:v@tpoff, %rax\nb: movq v@gottpoff(%rip), %rcx\n\
         .section .tdata,\"awT\",@progbits\n.globl v\npad: .quad 7\nv: .quad 42\n.data\nd: .quad v@dtpoff\n"
    );
    let l = link("tls", &asm, &[]);
    let (start, tp) = l.tls();
    let v = l.sym("v"); // TLS symbols are offsets into the template in .symtab
    let vaddr = start + v;
    let (_, t) = l.i32_at("a", 5); // 64 48 8b 04 25 imm32
    assert_eq!(t, vaddr as i64 - tp as i64, "TPOFF32 = S + A - TP");
    let (_, b) = l.at("b", 3);
    assert_eq!(&b[..3], &[0x48, 0xc7, 0xc1], "IE → LE: movq $tpoff, %rcx");
    let (_, ie) = l.i32_at("b", 3);
    assert_eq!(ie, vaddr as i64 - tp as i64);
    assert_eq!(
        l.u64_at("d", 0).1,
        vaddr - start,
        "DTPOFF64 in data = S + A - TLS block start"
    );
}

fn sha1sum(path: &std::path::Path) -> String {
    digest_of("sha1sum", &[], path)
}

/// The hex digest `tool` prints for `path` (coreutils' `sha1sum`, xxHash's `xxhsum -H2`).
fn digest_of(tool: &str, args: &[&str], path: &std::path::Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (apt-get install xxhash coreutils)"));
    assert!(out.status.success(), "{tool} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The build ID and the file with it zeroed.
fn build_id(l: &Linked) -> (String, Vec<u8>) {
    let f = l.file();
    let note = f
        .section_by_name(".note.gnu.build-id")
        .expect("build-id note");
    let off = note.file_range().expect("in the file").0 as usize + 16;
    let hex: String = l.bytes[off..off + 20]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut zeroed = l.bytes.clone();
    zeroed[off..off + 20].fill(0);
    (hex, zeroed)
}

#[test]
fn build_id_is_the_sha1_of_the_file_with_the_id_zeroed() {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("buildid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Up to 1 MiB, plain --build-id (gcc's) and =sha1 alike: GNU ld's, sha1sum of the file.
    for style in ["--build-id", "--build-id=sha1"] {
        let l = link("buildid", START, &[style]);
        let (hex, zeroed) = build_id(&l);
        assert!(zeroed.len() <= 1 << 20);
        std::fs::write(dir.join("zeroed"), &zeroed).unwrap();
        assert_eq!(
            hex,
            sha1sum(&dir.join("zeroed")),
            "{style}: build ID is not sha1sum's"
        );
    }

    // Past 1 MiB: the SHA-1 of the file's 1 MiB chunks' digests (hashed in parallel). With
    // =sha1 the chunks' SHA-1s, as lld; with plain --build-id their XXH3-128s (xxhsum -H2).
    let big = format!("{START}.data\nbig: .fill 3000000, 1, 7\n");
    for (style, tool, args) in [
        ("--build-id=sha1", "sha1sum", &[][..]),
        ("--build-id", "xxhsum", &["-H2"][..]),
    ] {
        let l = link("buildid-big", &big, &[style]);
        let (hex, zeroed) = build_id(&l);
        assert!(zeroed.len() > 2 << 20);
        let mut digests = Vec::new();
        for (k, c) in zeroed.chunks(1 << 20).enumerate() {
            let p = dir.join(format!("chunk{k}"));
            std::fs::write(&p, c).unwrap();
            digests.extend(unhex(&digest_of(tool, args, &p)));
        }
        std::fs::write(dir.join("digests"), &digests).unwrap();
        assert_eq!(
            hex,
            sha1sum(&dir.join("digests")),
            "{style}: build ID is not the SHA-1 of the chunks' {tool} digests"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
