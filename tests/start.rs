//! The synthesized `_start`s. A dynamic executable linked with no crt files gets glibc's Scrt1.o
//! sequence and must behave like the same program linked by gcc with GNU ld (constructors with
//! priorities, main's arguments, destructors, exit status).

use std::path::PathBuf;
use std::process::Command;

const PROGRAM: &str = r#"
#include <stdio.h>
__attribute__((constructor(150))) static void c150(void) { puts("ctor 150"); }
__attribute__((constructor)) static void cdef(void) { puts("ctor default"); }
__attribute__((destructor)) static void dtor(void) { puts("dtor"); }
int main(int argc, char **argv) { printf("main argc=%d argv[1]=%s\n", argc, argv[1]); return 5; }
"#;

fn run(cmd: &mut Command) -> (String, i32) {
    let o = cmd.output().expect("run");
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

#[test]
fn no_crt_dynamic_link_gets_glibc_start_and_behaves_like_gnu_ld() {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("start-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.c"), PROGRAM).unwrap();
    assert!(Command::new("gcc")
        .current_dir(&dir)
        .args(["-O1", "-c", "p.c"])
        .status()
        .unwrap()
        .success());
    assert!(Command::new("gcc")
        .current_dir(&dir)
        .args(["-o", "ref", "p.o"])
        .status()
        .unwrap()
        .success());
    let libc = "/lib/x86_64-linux-gnu/libc.so.6";
    for kind in ["-pie", "-no-pie"] {
        let out = Command::new(env!("CARGO_BIN_EXE_initlink"))
            .current_dir(&dir)
            .args([kind, "-o", "prog", "p.o", libc, "--report=prog.json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = run(Command::new(dir.join("ref")).arg("x"));
        let got = run(Command::new(dir.join("prog")).arg("x"));
        assert_eq!(
            got, expected,
            "{kind}: initlink's glibc _start vs gcc + GNU ld"
        );
        let report = std::fs::read_to_string(dir.join("prog.json")).unwrap();
        assert!(
            report.contains("\"name\": \"_start\""),
            "{kind}: the stub is in the report"
        );
        assert!(
            report.contains("\"symbol\": \"__libc_start_main\""),
            "{kind}: the call is annotated"
        );
    }
}

#[test]
fn a_glibc_description_links_like_the_real_libc() {
    // `initlink --describe-dso libc.so.6` is what the playground ships instead of libc itself.
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("describe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.c"), PROGRAM).unwrap();
    assert!(Command::new("gcc")
        .current_dir(&dir)
        .args(["-O1", "-c", "p.c"])
        .status()
        .unwrap()
        .success());
    let libc = "/lib/x86_64-linux-gnu/libc.so.6";
    let d = Command::new(env!("CARGO_BIN_EXE_initlink"))
        .args(["--describe-dso", libc])
        .output()
        .unwrap();
    assert!(d.status.success());
    std::fs::write(dir.join("libc.so.6.dso"), &d.stdout).unwrap();
    for kind in ["-pie", "-no-pie"] {
        for (out, lib) in [("real", libc), ("described", "libc.so.6.dso")] {
            let o = Command::new(env!("CARGO_BIN_EXE_initlink"))
                .current_dir(&dir)
                .args([kind, "-o", out, "p.o", lib])
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{kind} {lib}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let real = std::fs::read(dir.join("real")).unwrap();
        let described = std::fs::read(dir.join("described")).unwrap();
        assert!(
            real == described,
            "{kind}: linking against the description must give the same bytes"
        );
        let (out, code) = run(Command::new(dir.join("described")).arg("y"));
        assert_eq!(code, 5);
        assert!(
            out.contains("ctor 150\nctor default\nmain argc=2 argv[1]=y\ndtor\n"),
            "{out}"
        );
    }
}
