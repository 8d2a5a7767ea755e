//! The module-registration demonstration (Go's "call runtime.addmoduledata from .init_array"):
//! plugins with no constructors, linked by initlink with `--init-stub=register_module`, register
//! themselves with a C runtime as the loader initializes them. Checked against real tools:
//! the program's output, a control build whose plugins register from ordinary constructors
//! (same loader order), objdump's disassembly, readelf's relocations, and the JSON report.

use std::path::{Path, PathBuf};
use std::process::Command;

fn initlink() -> &'static str {
    env!("CARGO_BIN_EXE_initlink")
}

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/module-registration")
}

fn work(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("modules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> (String, i32) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code().unwrap_or(-1))
}

fn ok(cmd: &mut Command) -> String {
    let (text, code) = run(cmd);
    assert_eq!(code, 0, "{cmd:?} failed:\n{text}");
    text
}

fn build(dir: &Path) {
    ok(Command::new("sh")
        .arg(demo_dir().join("build.sh"))
        .arg(dir)
        .arg(initlink()));
}

#[test]
fn plugins_register_in_loader_order_with_their_text_ranges() {
    let dir = work("run");
    build(&dir);
    let (out, code) = run(Command::new(dir.join("runtime"))
        .arg(dir.join("libplugin_c.so"))
        .current_dir(&dir));
    assert_eq!(code, 42, "runtime output:\n{out}");
    assert!(out.contains("2 modules registered before main:"), "{out}");
    assert!(
        out.contains("plugin_a_value is in libplugin_a.so's text"),
        "{out}"
    );
    assert!(
        out.contains("plugin_b_value is in libplugin_b.so's text"),
        "{out}"
    );
    assert!(
        out.contains("after dlopen: 3 modules"),
        "dlopen must register the plugin: {out}"
    );
    assert!(
        out.contains("plugin_c_value is in libplugin_c.so's text"),
        "{out}"
    );
    assert!(!out.contains("bad module description"), "{out}");

    // Control: the same plugins registering from ordinary constructors (built by GNU ld) must be
    // initialized in the same order the stubs registered.
    let ctl = dir.join("ctl");
    std::fs::create_dir_all(&ctl).unwrap();
    for p in ["a", "b"] {
        ok(Command::new("gcc")
            .args(["-O1", "-fPIC", "-DCONTROL", "-shared", "-o"])
            .arg(ctl.join(format!("libplugin_{p}.so")))
            .arg(demo_dir().join(format!("plugin_{p}.c"))));
    }
    ok(Command::new("gcc")
        .args([
            "-rdynamic",
            "-o",
            "ctl/runtime",
            "runtime.o",
            "-Lctl",
            "-lplugin_a",
            "-lplugin_b",
            "-Wl,-rpath,$ORIGIN",
        ])
        .current_dir(&dir));
    let (ctl_out, _) = run(Command::new(ctl.join("runtime")).current_dir(&dir));
    let control: Vec<&str> = ctl_out
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("control constructor order ")
                .and_then(|r| r.split(": ").nth(1))
        })
        .collect();
    let registered: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.contains("registered before main"))
        .skip(1)
        .take_while(|l| l.starts_with("  lib"))
        .filter_map(|l| l.trim().split(':').next())
        .collect();
    assert_eq!(control.len(), 2, "control output:\n{ctl_out}");
    assert_eq!(
        registered, control,
        "registration order must be the loader's init order"
    );
}

#[test]
fn stub_bytes_relocations_and_report_agree() {
    let dir = work("bytes");
    build(&dir);
    let so = dir.join("libplugin_a.so");
    let dis = ok(Command::new("objdump").arg("-d").arg(&so));
    let body: Vec<&str> = dis
        .lines()
        .skip_while(|l| !l.contains("<initlink.register_module>:"))
        .skip(1)
        .take(3)
        .collect();
    assert_eq!(
        body.len(),
        3,
        "objdump shows no initlink.register_module:\n{dis}"
    );
    let bytes_of = |l: &str| l.split('\t').nth(1).unwrap_or("").trim().to_string();
    assert!(
        bytes_of(body[0]).starts_with("48 8d 3d"),
        "lea rdi,[rip+data]: {}",
        body[0]
    );
    assert!(body[0].contains("<initlink.module_data>"), "{}", body[0]);
    assert!(bytes_of(body[1]).starts_with("e8"), "call: {}", body[1]);
    assert!(body[1].contains("<register_module@plt>"), "{}", body[1]);
    assert_eq!(bytes_of(body[2]), "c3", "ret: {}", body[2]);
    let stub_addr =
        u64::from_str_radix(body[0].trim().split(':').next().unwrap().trim(), 16).unwrap();

    // The first .init_array slot is filled by R_X86_64_RELATIVE with the stub's address.
    let sections = ok(Command::new("readelf").args(["-SW"]).arg(&so));
    let init_addr = sections
        .lines()
        .find(|l| l.contains(" .init_array "))
        .and_then(|l| {
            l.split_whitespace()
                .skip_while(|w| *w != "INIT_ARRAY")
                .nth(1)
        })
        .map(|a| u64::from_str_radix(a, 16).unwrap())
        .expect("no .init_array");
    let relocs = ok(Command::new("readelf").args(["-rW"]).arg(&so));
    let slot = relocs.lines().find(|l| {
        l.split_whitespace()
            .next()
            .and_then(|o| u64::from_str_radix(o, 16).ok())
            == Some(init_addr)
    });
    let slot =
        slot.unwrap_or_else(|| panic!("no relocation at .init_array 0x{init_addr:x}:\n{relocs}"));
    assert!(slot.contains("R_X86_64_RELATIVE"), "{slot}");
    let addend = u64::from_str_radix(slot.split_whitespace().last().unwrap(), 16).unwrap();
    assert_eq!(addend, stub_addr, "the slot must point at the stub");

    // The report's stub lines carry the same bytes and the two relocations.
    let report = std::fs::read_to_string(dir.join("plugin_a.json")).unwrap();
    let j = |needle: &str| assert!(report.contains(needle), "report lacks {needle}");
    j("\"name\": \"initlink.register_module\"");
    j("\"type\": \"R_X86_64_PC32\"");
    j("\"type\": \"R_X86_64_PLT32\"");
    j("\"symbol\": \"register_module\"");
    j("\"linker_made\": true");
    for l in &body {
        j(&format!("\"bytes\": \"{}\"", bytes_of(l)));
    }
}

#[test]
fn the_runtime_module_gets_no_stub() {
    // A static executable whose objects define the register function: no stub, as in Go.
    let dir = work("static");
    let src = dir.join("rt.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nvoid register_module(void *m) { puts(\"called\"); }\nint main(void) { puts(\"runtime\"); return 3; }\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("ld")).unwrap();
    let _ = std::os::unix::fs::symlink(initlink(), dir.join("ld/ld"));
    ok(Command::new("gcc")
        .args([
            "-static",
            "-B",
            "ld/",
            "-o",
            "rt",
            "rt.c",
            "-Wl,--init-stub=register_module",
            "-Wl,--report=rt.json",
        ])
        .current_dir(&dir));
    let (out, code) = run(&mut Command::new(dir.join("rt")));
    assert_eq!(
        (out.as_str(), code),
        ("runtime\n", 3),
        "the register function must not be called"
    );
    let syms = ok(Command::new("readelf").args(["-sW"]).arg(dir.join("rt")));
    assert!(
        !syms.contains("initlink.register_module"),
        "no stub expected"
    );
    let report = std::fs::read_to_string(dir.join("rt.json")).unwrap();
    assert!(
        report.contains("this module is the runtime's own: no stub"),
        "{report}"
    );
}
