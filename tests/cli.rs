//! The CLI as a process: by default it exits once the output is in place and leaves freeing its
//! memory and removing the old output to a helper process (mold and wild fork for the same).
//! These tests hold it to what a caller sees: the exit status and diagnostics of the link, and an
//! output that can be run the moment the linker exits (a helper still holding it open for
//! writing, or mapped through a writable descriptor, would make execve fail with ETXTBSY).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn work_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn gcc(dir: &Path, args: &[&str]) {
    let o = Command::new("gcc")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gcc {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// gcc's `collect2` command line for linking `objs` as a PIE against glibc, without plugins.
fn ld_args(dir: &Path, objs: &[&str]) -> Vec<String> {
    let mut cmd = vec!["-v", "-o", "prog"];
    cmd.extend(objs);
    let o = Command::new("gcc")
        .args(&cmd)
        .current_dir(dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("collect2"))
        .expect("no collect2 line from gcc -v");
    let mut out = Vec::new();
    let mut words = line.split_whitespace().skip(1);
    while let Some(w) = words.next() {
        if w == "-plugin" {
            words.next();
        } else if !w.starts_with("-plugin-opt") {
            out.push(w.to_string());
        }
    }
    out
}

fn initlink(dir: &Path, extra: &[&str], args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_initlink"))
        .args(extra)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The CLI with `RAYON_NUM_THREADS=threads` (1: no helper threads either).
fn initlink_threads(dir: &Path, threads: &str, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_initlink"))
        .env("RAYON_NUM_THREADS", threads)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// No temporary or set-aside file is left beside the output.
/// No temporary or set-aside output is left. The old output is removed after the linker has
/// exited (by the helper it hands its teardown to), so this waits for that a little.
fn assert_no_temporaries(dir: &Path) {
    let left = || -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".initlink-"))
            .collect()
    };
    for _ in 0..100 {
        if left().is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(left().is_empty(), "left behind: {:?}", left());
}

#[test]
fn output_runs_the_moment_the_linker_exits() {
    let dir = work_dir("runs");
    // Over 1 MiB, so that a way of writing big outputs that leaves the file open or mapped
    // (ETXTBSY) shows here.
    fs::write(
        dir.join("main.c"),
        "#include <stdio.h>\nstatic char big[3 << 20] = {1};\n\
         int main(void) { printf(\"hello %d\\n\", big[0] + big[sizeof big - 1]); return 7; }\n",
    )
    .unwrap();
    gcc(&dir, &["-c", "main.c"]);
    let args = ld_args(&dir, &["main.o"]);
    // 20 rounds over the previous output (written from a buffer), then 50 fresh ones (written
    // window by window, then read back through a mapping for the build ID and .eh_frame_hdr:
    // a mapping through the writable descriptor failed ~7% of runs here). The last round hands
    // off, and its helper must remove nothing left behind.
    for (round, extra) in [&[][..], &["--no-fork"][..]]
        .iter()
        .cycle()
        .take(20)
        .chain(std::iter::repeat_n(&&[][..], 50))
        .enumerate()
    {
        if round >= 20 {
            fs::remove_file(dir.join("prog")).unwrap();
        }
        let o = initlink(&dir, extra, &args);
        assert!(
            o.status.success(),
            "round {round} {extra:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let run = Command::new(dir.join("prog"))
            .output()
            .unwrap_or_else(|e| panic!("round {round} {extra:?}: cannot run the output: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            "hello 1\n",
            "round {round}"
        );
        assert_eq!(run.status.code(), Some(7), "round {round}");
    }
    assert_no_temporaries(&dir);
}

#[test]
fn a_failed_link_says_why_and_exits_1_with_or_without_fork() {
    let dir = work_dir("fails");
    fs::write(
        dir.join("main.c"),
        "int missing_function(void);\nint main(void) { return missing_function(); }\n",
    )
    .unwrap();
    gcc(&dir, &["-c", "main.c"]);
    let args = ld_args(&dir, &["main.o"]);
    fs::write(dir.join("prog"), b"previous output").unwrap();
    for extra in [&[][..], &["--no-fork"][..]] {
        let o = initlink(&dir, extra, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains("undefined") && err.contains("missing_function") && err.contains("main.o"),
            "{extra:?}: {err}"
        );
        // The previous output is untouched.
        assert_eq!(fs::read(dir.join("prog")).unwrap(), b"previous output");
    }
}

#[test]
fn time_and_warnings_reach_stderr_before_the_parent_exits() {
    let dir = work_dir("time");
    fs::write(dir.join("main.c"), "int main(void) { return 0; }\n").unwrap();
    gcc(&dir, &["-c", "main.c"]);
    let args = ld_args(&dir, &["main.o"]);
    let o = initlink(&dir, &["--time"], &args);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    for phase in ["resolve", "write", "total"] {
        assert!(err.contains(&format!("time: {phase}")), "{err}");
    }
}

/// An existing output is replaced as GNU ld replaces it, though initlink (like mold and wild)
/// writes into the previous file when it can, which is much faster than filling fresh pages:
/// other hard links and a symlink's target keep the old contents, a running output keeps running,
/// and a bigger previous file leaves nothing of itself behind.
#[test]
fn an_existing_output_is_replaced_like_gnu_ld_replaces_it() {
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = work_dir("replace");
    fs::write(
        dir.join("main.c"),
        "#include <stdio.h>\n#include <stdlib.h>\nstatic char big[2 << 20] = {1};\n\
         int main(void) { char b[8]; if (getenv(\"WAIT\")) fgets(b, sizeof b, stdin);\n\
         printf(\"hello %d\\n\", big[0]); return 7; }\n",
    )
    .unwrap();
    gcc(&dir, &["-c", "main.c"]);
    let args = ld_args(&dir, &["main.o"]);
    let to = |name: &str| -> Vec<String> {
        let mut a = args.clone();
        let o = a.iter().position(|w| w == "-o").unwrap();
        a[o + 1] = name.to_string();
        a
    };
    let runs = |name: &str| {
        let run = Command::new(dir.join(name)).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&run.stdout), "hello 1\n", "{name}");
        assert_eq!(run.status.code(), Some(7), "{name}");
    };
    assert!(initlink(&dir, &["--no-fork"], &to("fresh"))
        .status
        .success());
    let fresh = fs::read(dir.join("fresh")).unwrap();
    let old: Vec<u8> = (0..5u32 << 20).map(|i| (i % 251) as u8).collect();

    for extra in [&[][..], &["--no-fork"][..]] {
        // A bigger previous file, ours alone: overwritten and cut to the new length.
        fs::write(dir.join("prog"), &old).unwrap();
        fs::set_permissions(dir.join("prog"), fs::Permissions::from_mode(0o600)).unwrap();
        assert!(initlink(&dir, extra, &args).status.success());
        assert!(fs::read(dir.join("prog")).unwrap() == fresh, "{extra:?}");
        let mode = fs::metadata(dir.join("prog")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o755, "{extra:?}");
        runs("prog");

        // Another hard link keeps the previous contents.
        fs::write(dir.join("prog"), &old).unwrap();
        let _ = fs::remove_file(dir.join("other"));
        fs::hard_link(dir.join("prog"), dir.join("other")).unwrap();
        assert!(initlink(&dir, extra, &args).status.success());
        assert!(fs::read(dir.join("other")).unwrap() == old, "{extra:?}");
        assert_eq!(fs::metadata(dir.join("prog")).unwrap().nlink(), 1);
        runs("prog");

        // A symlink is replaced by the output; its target is untouched.
        fs::remove_file(dir.join("prog")).unwrap();
        fs::write(dir.join("target"), &old).unwrap();
        std::os::unix::fs::symlink("target", dir.join("prog")).unwrap();
        assert!(initlink(&dir, extra, &args).status.success());
        assert!(fs::read(dir.join("target")).unwrap() == old, "{extra:?}");
        assert!(fs::symlink_metadata(dir.join("prog")).unwrap().is_file());
        runs("prog");

        // The previous output, still running, is not written into (ETXTBSY) and runs on.
        let mut running = Command::new(dir.join("prog"))
            .env("WAIT", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let o = initlink(&dir, extra, &args);
        assert!(
            o.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        running.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let out = running.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello 1\n");
        assert_eq!(out.status.code(), Some(7));
        runs("prog");
        assert!(fs::read(dir.join("prog")).unwrap() == fresh, "{extra:?}");
    }
    assert_no_temporaries(&dir);
}

/// The output is written while the link finishes (the file opens at the first write). When it
/// cannot be put in place (here a directory stands at its path), the link fails naming the path,
/// like GNU ld, and leaves nothing behind: no temporary file, no half-written output.
#[test]
fn an_output_that_cannot_be_placed_fails_and_leaves_nothing() {
    let dir = work_dir("unplaceable");
    fs::write(dir.join("main.c"), "int main(void) { return 0; }\n").unwrap();
    gcc(&dir, &["-c", "main.c"]);
    let args = ld_args(&dir, &["main.o"]);
    let _ = fs::remove_file(dir.join("prog")); // gcc -v linked it
    fs::create_dir(dir.join("prog")).unwrap();
    for extra in [&[][..], &["--no-fork"][..]] {
        let o = initlink(&dir, extra, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains("prog") && err.contains("cannot write output"),
            "{extra:?}: {err}"
        );
        assert!(fs::metadata(dir.join("prog")).unwrap().is_dir());
        assert_no_temporaries(&dir);
    }
}

/// A big archive's members are parsed ahead of the in-order walk by a helper thread. What the
/// link loads, its output and its errors must not depend on that: a member parsed ahead but never
/// loaded (here a corrupt one) says nothing, the same member loaded fails the link naming it, and
/// one thread (no helper) gives the same bytes.
#[test]
fn archive_members_parsed_ahead_change_nothing() {
    let dir = work_dir("prefetch");
    let n = 40;
    let mut objs = Vec::new();
    for k in 0..n {
        // A chain: main needs f0, f0 needs f1, ... so nearly every member is loaded.
        let body = if k + 1 < n {
            format!(
                "int f{}(void);\nint f{k}(void) {{ return {k} + f{}(); }}\n",
                k + 1,
                k + 1
            )
        } else {
            format!("int f{k}(void) {{ return {k}; }}\n")
        };
        fs::write(dir.join(format!("m{k}.c")), body).unwrap();
        objs.push(format!("m{k}.c"));
    }
    fs::write(dir.join("unused.c"), "int unused_fn(void) { return 1; }\n").unwrap();
    objs.push("unused.c".into());
    let mut args: Vec<&str> = vec!["-c"];
    args.extend(objs.iter().map(String::as_str));
    gcc(&dir, &args);
    let mut ar = Command::new("ar");
    ar.arg("rcs").arg("libchain.a").current_dir(&dir);
    for k in 0..n {
        ar.arg(format!("m{k}.o"));
    }
    assert!(ar.arg("unused.o").status().unwrap().success());
    // Corrupt unused.o inside the archive: its ELF e_machine (byte 18) becomes ARM's 40.
    let mut bytes = fs::read(dir.join("libchain.a")).unwrap();
    let header = bytes
        .windows(9)
        .position(|w| w == b"unused.o/")
        .expect("member header");
    bytes[header + 60 + 18] = 40;
    fs::write(dir.join("libchain.a"), &bytes).unwrap();

    fs::write(
        dir.join("main.c"),
        "#include <stdio.h>\nint f0(void);\nint main(void) { printf(\"%d\\n\", f0()); return 0; }\n",
    )
    .unwrap();
    gcc(&dir, &["-c", "main.c"]);
    let args = ld_args(&dir, &["main.o", "libchain.a"]);
    let mut outputs = Vec::new();
    for threads in ["2", "1"] {
        let o = initlink_threads(&dir, threads, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{threads} threads: {err}");
        assert!(err.is_empty(), "{threads} threads: {err}");
        let run = Command::new(dir.join("prog")).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&run.stdout), "780\n");
        outputs.push(fs::read(dir.join("prog")).unwrap());
    }
    assert!(
        outputs[0] == outputs[1],
        "output depends on the helper thread"
    );

    // Loading the corrupt member fails the link, naming it, with or without the helper.
    fs::write(
        dir.join("main2.c"),
        "int f0(void);\nint unused_fn(void);\nint main(void) { return f0() + unused_fn(); }\n",
    )
    .unwrap();
    gcc(&dir, &["-c", "main2.c"]);
    let args = ld_args(&dir, &["main2.o", "libchain.a"]);
    for threads in ["2", "1"] {
        let o = initlink_threads(&dir, threads, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{threads} threads: {err}");
        assert!(
            err.contains("libchain.a(unused.o)") && err.contains("machine"),
            "{threads} threads: {err}"
        );
    }
}

#[test]
fn inputs_are_read_whole_at_every_size_and_any_open_file_limit() {
    let dir = work_dir("inputs");
    let assemble = |name: &str, fill: u64| -> u64 {
        let k = &name[1..];
        fs::write(
            dir.join(format!("{name}.s")),
            format!(
                ".globl {name}\n.text\n{name}: mov ${k}, %eax\n ret\n.data\n.fill {fill}, 1, 0x5a\n\
                 .section .note.GNU-stack,\"\",@progbits\n"
            ),
        )
        .unwrap();
        let o = Command::new("as")
            .args([format!("{name}.s"), "-o".into(), format!("{name}.o")])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        fs::metadata(dir.join(format!("{name}.o"))).unwrap().len()
    };
    // 300 objects; the first ones sized exactly around where reading changes (a first read of
    // 4 KiB, mapping from 64 KiB). gas ends an object with its section headers, so a byte lost
    // at the end breaks it.
    let n = 300;
    let sizes = [4088u64, 4096, 4104, 65528, 65536, 65544];
    let mut objs = Vec::new();
    for k in 0..n {
        let name = format!("f{k}");
        let mut size = assemble(&name, 0);
        if let Some(&want) = sizes.get(k) {
            let mut fill = 0;
            for _ in 0..4 {
                fill = (fill + want).saturating_sub(size);
                size = assemble(&name, fill);
            }
            assert_eq!(size, want, "{name}.o");
        }
        objs.push(format!("{name}.o"));
    }
    let calls: String = (0..n).map(|k| format!("s += f{k}();\n")).collect();
    let decls: String = (0..n).map(|k| format!("int f{k}(void);\n")).collect();
    fs::write(
        dir.join("main.c"),
        format!("#include <stdio.h>\n{decls}int main(void) {{ long s = 0;\n{calls}printf(\"%ld\\n\", s); return 0; }}\n"),
    )
    .unwrap();
    gcc(&dir, &["-c", "main.c"]);
    let mut all = vec!["main.o"];
    all.extend(objs.iter().map(String::as_str));
    let args = ld_args(&dir, &all).join(" ");
    let expected = format!("{}\n", n * (n - 1) / 2);
    let mut outputs = Vec::new();
    // A soft limit below the inputs' count that may be raised, then one that may not.
    for limits in ["ulimit -Sn 64", "ulimit -n 64"] {
        for fork in ["", "--no-fork"] {
            let o = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "{limits} && exec {} {fork} {args}",
                    env!("CARGO_BIN_EXE_initlink")
                ))
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{limits} {fork}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let run = Command::new(dir.join("prog")).output().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&run.stdout),
                expected,
                "{limits} {fork}"
            );
            outputs.push(fs::read(dir.join("prog")).unwrap());
        }
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]), "outputs differ");
}

/// A new output is written window by window, straight into the file; one over a previous output
/// (or with `-Map`, which reads the bytes) from a buffer. The bytes must not depend on the way:
/// here a program of 10,000 functions, so that `.text` spans many windows, the symbol table
/// several chunks, and `.eh_frame_hdr` and the build ID are made from the file read back.
#[test]
fn the_output_is_the_same_written_window_by_window_or_from_a_buffer() {
    let dir = work_dir("windows");
    let mut src = String::from("#include <stdio.h>\n");
    for k in 0..10_000 {
        src += &format!("const char *f{k}(int x) {{ return x ? \"string {k}\" : \"\"; }}\n");
    }
    src += "int main(void) { puts(f9999(1)); puts(f0(1)); return 3; }\n";
    fs::write(dir.join("big.c"), src).unwrap();
    gcc(&dir, &["-c", "big.c"]);
    let args = ld_args(&dir, &["big.o"]);
    let to = |name: &str| -> Vec<String> {
        let mut a = args.clone();
        let o = a.iter().position(|w| w == "-o").unwrap();
        a[o + 1] = name.to_string();
        a
    };
    let link = |extra: &[&str], name: &str| {
        let o = initlink(&dir, extra, &to(name));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        fs::read(dir.join(name)).unwrap()
    };
    let _ = fs::remove_file(dir.join("new"));
    let new = link(&[], "new");
    let run = Command::new(dir.join("new")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "string 9999\nstring 0\n"
    );
    assert_eq!(run.status.code(), Some(3));
    let readelf = Command::new("readelf")
        .args(["-SW", "new"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let sections = String::from_utf8_lossy(&readelf.stdout);
    for s in [".eh_frame_hdr", ".note.gnu.build-id", ".symtab"] {
        assert!(sections.contains(s), "no {s}:\n{sections}");
    }
    // Over a previous output twice its size, of other bytes: all of it rewritten.
    let old: Vec<u8> = (0..2 * new.len()).map(|i| (i % 253) as u8 + 1).collect();
    fs::write(dir.join("over"), &old).unwrap();
    assert!(link(&[], "over") == new, "over a previous output");
    assert!(link(&["-Map=m.map"], "mapped") == new, "with -Map");
    assert_no_temporaries(&dir);
}

/// A link error found while the file is being written (a relocation out of range) leaves no
/// output and no temporary file when there was none before, and a previous output intact.
#[test]
fn a_link_that_fails_while_writing_leaves_a_previous_output_intact() {
    let dir = work_dir("fails-writing");
    fs::write(
        dir.join("w.s"),
        ".globl _start\n_start: movl far(%rip), %eax\n ret\n",
    )
    .unwrap();
    fs::write(dir.join("a.s"), ".globl far\n.set far, 0x7000000000\n").unwrap();
    gcc(&dir, &["-c", "w.s", "a.s"]);
    let args: Vec<String> = ["-static", "-o", "prog", "w.o", "a.o"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for extra in [&[][..], &["--no-fork"][..]] {
        let _ = fs::remove_file(dir.join("prog"));
        let o = initlink(&dir, extra, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains("out of range") && err.contains("far") && err.contains("w.o"),
            "{extra:?}: {err}"
        );
        assert!(!dir.join("prog").exists(), "{extra:?}: an output was left");
        assert_no_temporaries(&dir);
        fs::write(dir.join("prog"), b"previous output").unwrap();
        let o = initlink(&dir, extra, &args);
        assert_eq!(o.status.code(), Some(1), "{extra:?}");
        assert_eq!(fs::read(dir.join("prog")).unwrap(), b"previous output");
        assert_no_temporaries(&dir);
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `args` with the output renamed.
fn with_output(args: &[String], output: &str) -> Vec<String> {
    let mut a = args.to_vec();
    let o = a.iter().position(|w| w == "-o").unwrap();
    a[o + 1] = output.to_string();
    a
}

/// A program whose output is over 2 MiB (so it is written from an anonymous map, and a small
/// file system or size limit is exceeded), its collect2 arguments, and that output as linked into
/// a regular file.
fn big_program(dir: &Path) -> (Vec<String>, Vec<u8>) {
    fs::write(
        dir.join("main.c"),
        "#include <stdio.h>\nstatic char big[2 << 20] = {1};\n\
         int main(void) { printf(\"hello %d\\n\", big[0]); return 7; }\n",
    )
    .unwrap();
    gcc(dir, &["-c", "main.c"]);
    let args = ld_args(dir, &["main.o"]);
    let _ = fs::remove_file(dir.join("expected"));
    let o = initlink(dir, &["--no-fork"], &with_output(&args, "expected"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (args, fs::read(dir.join("expected")).unwrap())
}

/// Paths that are not regular files (a device such as `/dev/null`, a FIFO, a descriptor's link
/// such as `/dev/stdout`) are written in place: GNU ld writes into a device and leaves it one,
/// while renaming a new file over `/dev/null` (as root) breaks the whole machine. A FIFO and a
/// pipe behind `/dev/stdout` get exactly the bytes a regular output holds (GNU ld fails there:
/// it seeks). A symlink to a regular file is replaced, a dangling one written through, as GNU
/// ld does.
#[test]
fn an_output_that_is_not_a_regular_file_is_written_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let dir = work_dir("in-place");
    let (args, expected) = big_program(&dir);
    for extra in [&[][..], &["--no-fork"][..]] {
        // A character device, as `gcc -o /dev/null` makes: a copy of /dev/null in the temp dir.
        if is_root() {
            let null = dir.join("null");
            let _ = fs::remove_file(&null);
            let st = Command::new("mknod")
                .args(["-m", "666"])
                .arg(&null)
                .args(["c", "1", "3"])
                .status();
            assert!(st.unwrap().success(), "mknod");
            for path in ["null", "./null"] {
                let o = initlink(&dir, extra, &with_output(&args, path));
                assert!(
                    o.status.success(),
                    "{extra:?}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                let m = fs::symlink_metadata(&null).unwrap();
                assert!(
                    m.file_type().is_char_device(),
                    "{extra:?}: {path} is no longer a device"
                );
            }
            // Through a symlink to the device: both stay what they were.
            let _ = fs::remove_file(dir.join("to-null"));
            std::os::unix::fs::symlink("null", dir.join("to-null")).unwrap();
            assert!(initlink(&dir, extra, &with_output(&args, "to-null"))
                .status
                .success());
            assert!(fs::symlink_metadata(dir.join("to-null"))
                .unwrap()
                .file_type()
                .is_symlink());
            assert!(fs::metadata(&null).unwrap().file_type().is_char_device());
        } else {
            eprintln!("skipped: a character device needs root for mknod");
        }

        // A FIFO, read by a thread: exactly the bytes of a regular output.
        let fifo = dir.join("fifo");
        let _ = fs::remove_file(&fifo);
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        let o = initlink(&dir, extra, &with_output(&args, "fifo"));
        assert!(
            o.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            reader.join().unwrap() == expected,
            "{extra:?}: FIFO bytes differ"
        );
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

        // Stdout redirected to a regular file: written through the descriptor's link, never
        // renamed over `/dev/stdout` (GNU ld removes `/dev/stdout` when its link fails there).
        let have_dev_stdout = fs::symlink_metadata("/dev/stdout").is_ok();
        for path in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"] {
            if path == "/dev/stdout" && !have_dev_stdout {
                eprintln!("skipped: this machine has no /dev/stdout");
                continue;
            }
            let file = fs::File::create(dir.join("redirected")).unwrap();
            let o = Command::new(env!("CARGO_BIN_EXE_initlink"))
                .args(extra)
                .args(with_output(&args, path))
                .current_dir(&dir)
                .stdout(file)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{extra:?} {path}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                fs::read(dir.join("redirected")).unwrap() == expected,
                "{extra:?} {path}"
            );
            if have_dev_stdout {
                let m = fs::symlink_metadata("/dev/stdout").unwrap();
                assert!(m.file_type().is_symlink(), "/dev/stdout was replaced");
            }
        }

        // `/dev/stdout` and `/proc/self/fd/1`, a pipe to this test.
        for path in ["/dev/stdout", "/proc/self/fd/1"] {
            if path == "/dev/stdout" && !have_dev_stdout {
                continue;
            }
            let o = initlink(&dir, extra, &with_output(&args, path));
            assert!(
                o.status.success(),
                "{extra:?} {path}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(o.stdout == expected, "{extra:?} {path}: bytes differ");
        }

        // A symlink to a regular file is replaced by the output (already tested above with a
        // previous output); a dangling one stays, and its target is created.
        let _ = fs::remove_file(dir.join("dangling"));
        let _ = fs::remove_file(dir.join("made"));
        std::os::unix::fs::symlink("made", dir.join("dangling")).unwrap();
        let o = initlink(&dir, extra, &with_output(&args, "dangling"));
        assert!(
            o.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(fs::symlink_metadata(dir.join("dangling"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(
            fs::read(dir.join("made")).unwrap() == expected,
            "{extra:?}: through a dangling link"
        );
    }
    assert_no_temporaries(&dir);
}

/// The linker run with `RLIMIT_FSIZE` at `limit` bytes, as another user (`uid`) when given.
fn initlink_limited(
    dir: &Path,
    extra: &[&str],
    args: &[String],
    limit: Option<u64>,
    uid: Option<u32>,
) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_initlink"));
    cmd.args(extra).args(args).current_dir(dir);
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    if let Some(limit) = limit {
        // SAFETY: setrlimit is async-signal-safe, as pre_exec requires.
        unsafe {
            cmd.pre_exec(move || {
                let l = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &l) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd.output().unwrap()
}

/// A file size limit, a read-only or missing directory, no permission: the link fails with a
/// diagnostic naming the path and the cause, exit 1, no temporary file, and the previous output
/// as it was (its blocks are reserved before a byte of it is overwritten).
#[test]
fn a_write_that_fails_names_the_path_and_the_cause_and_leaves_the_previous_output() {
    use std::os::unix::fs::PermissionsExt;
    let dir = work_dir("write-fails");
    let (args, _) = big_program(&dir);
    let expect_failure = |o: &Output, what: &str, cause: &str, path: &str| {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains(path) && err.contains(cause), "{what}: {err}");
    };
    for extra in [&[][..], &["--no-fork"][..]] {
        // RLIMIT_FSIZE (1 MiB; the output is over 2): EFBIG, not death by SIGXFSZ.
        let _ = fs::remove_file(dir.join("prog"));
        let o = initlink_limited(&dir, extra, &args, Some(1 << 20), None);
        expect_failure(&o, "size limit", "File too large", "prog");
        assert!(
            !dir.join("prog").exists(),
            "{extra:?}: a partial output was left"
        );
        assert_no_temporaries(&dir);
        // Over a previous output, reused in place if its blocks can be reserved: they cannot.
        fs::write(dir.join("prog"), b"previous output").unwrap();
        let o = initlink_limited(&dir, extra, &args, Some(1 << 20), None);
        expect_failure(
            &o,
            "size limit over a previous output",
            "File too large",
            "prog",
        );
        assert_eq!(
            fs::read(dir.join("prog")).unwrap(),
            b"previous output",
            "{extra:?}"
        );
        assert_no_temporaries(&dir);

        // A missing directory.
        let o = initlink(&dir, extra, &with_output(&args, "no/such/dir/prog"));
        expect_failure(
            &o,
            "missing directory",
            "No such file or directory",
            "no/such/dir/prog",
        );

        // A directory the linker may not write in (as root, the linker runs as nobody).
        let ro = dir.join("ro");
        let _ = fs::create_dir(&ro);
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o777)).unwrap();
        fs::write(ro.join("prog"), b"previous output").unwrap();
        fs::set_permissions(ro.join("prog"), fs::Permissions::from_mode(0o666)).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        let uid = is_root().then_some(65534);
        let o = initlink_limited(&dir, extra, &with_output(&args, "ro/prog"), None, uid);
        expect_failure(&o, "read-only directory", "Permission denied", "ro/prog");
        assert_eq!(
            fs::read(ro.join("prog")).unwrap(),
            b"previous output",
            "{extra:?}"
        );
        assert_no_temporaries(&ro);
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A full file system (a 1 MiB tmpfs in a private mount namespace, so nothing outlives the
/// test): ENOSPC named, no temporary file, the previous output intact.
#[test]
fn a_full_file_system_fails_the_link_and_leaves_the_previous_output() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let dir = work_dir("enospc");
    let (args, _) = big_program(&dir);
    fs::create_dir_all(dir.join("small")).unwrap();
    let link = shell_words(&with_output(&args, "small/prog"));
    for extra in ["", "--no-fork"] {
        let script = format!(
            "set -e; mount -t tmpfs -o size=1m tmpfs small\n\
             printf 'previous output' > small/prog\n\
             set +e; {bin} {extra} {link} 2>err; echo \"status $?\"; set -e\n\
             cat err; echo \"prog: $(cat small/prog)\"; echo \"files: $(ls -A small | tr '\\n' ' ')\"\n\
             rm small/prog; set +e; {bin} {extra} {link} 2>/dev/null; echo \"fresh status $?\"\n\
             echo \"fresh files: $(ls -A small | tr '\\n' ' ')\"\n",
            bin = env!("CARGO_BIN_EXE_initlink"),
        );
        let o = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .current_dir(&dir)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{extra}: {out}{err}");
        assert!(out.contains("status 1\n"), "{extra}: {out}");
        assert!(
            out.contains("small/prog") && out.contains("No space left on device"),
            "{extra}: {out}"
        );
        assert!(out.contains("prog: previous output\n"), "{extra}: {out}");
        assert!(
            out.contains("files: prog \n"),
            "{extra}: temporaries left: {out}"
        );
        assert!(
            out.contains("fresh status 1\n") && out.contains("fresh files: \n"),
            "{extra}: {out}"
        );
    }
}

/// Arguments quoted for `sh`.
fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// SIGINT or SIGTERM mid-link: no temporary file is left, and the output's path holds either the
/// previous output or the complete new one, never a mix. The signal is sent the moment the
/// linker's temporary file (or the previous output set aside to be rewritten) appears, and also
/// at a sweep of delays.
#[test]
fn a_signal_mid_link_leaves_no_temporary_and_no_partial_output() {
    use std::os::unix::process::ExitStatusExt;
    let dir = work_dir("signals");
    let mut src = String::from("#include <stdio.h>\n");
    for k in 0..20_000 {
        src += &format!("const char *f{k}(int x) {{ return x ? \"string {k}\" : \"\"; }}\n");
    }
    src += "int main(void) { puts(f19999(1)); return 3; }\n";
    fs::write(dir.join("big.c"), src).unwrap();
    gcc(&dir, &["-c", "big.c"]);
    let args = ld_args(&dir, &["big.o"]);
    let _ = fs::remove_file(dir.join("prog"));
    assert!(initlink(&dir, &[], &args).status.success());
    let new = fs::read(dir.join("prog")).unwrap();
    let previous: Vec<u8> = (0..new.len() + 4096).map(|i| (i % 249) as u8).collect();
    let temporary_exists = || {
        fs::read_dir(&dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".initlink-")
        })
    };
    let mut interrupted = 0;
    let mut caught_with_temporary = 0;
    for round in 0..40 {
        let sig = if round % 2 == 0 {
            libc::SIGINT
        } else {
            libc::SIGTERM
        };
        let extra: &[&str] = if round % 4 < 2 { &[] } else { &["--no-fork"] };
        // Half the rounds over a previous output (rewritten in place), half into a new file.
        if round % 8 < 4 {
            fs::write(dir.join("prog"), &previous).unwrap();
        } else {
            let _ = fs::remove_file(dir.join("prog"));
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_initlink"))
            .args(extra)
            .args(&args)
            .current_dir(&dir)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        if round < 20 {
            // The moment a temporary appears.
            while !temporary_exists() && start.elapsed().as_secs() < 5 {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
            }
            if temporary_exists() {
                caught_with_temporary += 1;
            }
        } else {
            std::thread::sleep(std::time::Duration::from_millis((round as u64 - 20) * 2));
        }
        // SAFETY: kill on our own child's pid.
        unsafe { libc::kill(child.id() as i32, sig) };
        let status = child.wait().unwrap();
        if status.signal() == Some(sig) {
            interrupted += 1;
        }
        assert_no_temporaries(&dir);
        match fs::read(dir.join("prog")) {
            Ok(bytes) => assert!(
                bytes == new || bytes == previous,
                "round {round}: the output is neither the previous one nor the new one"
            ),
            Err(_) => assert!(round % 8 >= 4, "round {round}: the previous output is gone"),
        }
    }
    assert!(
        interrupted > 0,
        "no link was interrupted: the test proves nothing"
    );
    assert!(
        caught_with_temporary > 0,
        "no signal arrived while a temporary existed"
    );
}

/// Two links to the same output at once: both finish, and the file is one of the two complete
/// outputs, never a mix.
#[test]
fn two_links_to_one_output_at_once_leave_one_complete_output() {
    let dir = work_dir("concurrent");
    let (args, big) = big_program(&dir);
    fs::write(dir.join("small.c"), "int main(void) { return 5; }\n").unwrap();
    gcc(&dir, &["-c", "small.c"]);
    let small_args = ld_args(&dir, &["small.o"]);
    let _ = fs::remove_file(dir.join("prog"));
    assert!(initlink(&dir, &[], &small_args).status.success());
    let small = fs::read(dir.join("prog")).unwrap();
    for round in 0..20 {
        let extra: &[&str] = if round % 2 == 0 { &[] } else { &["--no-fork"] };
        let spawn = |a: &[String]| {
            Command::new(env!("CARGO_BIN_EXE_initlink"))
                .args(extra)
                .args(a)
                .current_dir(&dir)
                .output()
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| spawn(&args).unwrap());
            let b = s.spawn(|| spawn(&small_args).unwrap());
            (a.join().unwrap(), b.join().unwrap())
        });
        assert!(
            a.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert!(
            b.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&b.stderr)
        );
        let out = fs::read(dir.join("prog")).unwrap();
        assert!(
            out == big || out == small,
            "round {round}: a mix of two outputs"
        );
        assert_no_temporaries(&dir);
    }
}
