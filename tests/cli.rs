//! The CLI as a process: by default it links in a forked child and the parent exits once the
//! output is in place (as mold and wild do). These tests hold it to what a caller sees: the exit
//! status and diagnostics of the link, and an output that can be run the moment the linker exits
//! (a child still holding it open for writing, or mapped, would make execve fail with ETXTBSY).

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
    for (round, extra) in [&[][..], &["--no-fork"][..]]
        .iter()
        .cycle()
        .take(20)
        .enumerate()
    {
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
    // No temporary or set-aside file is left beside the output.
    let left: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".initlink-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
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
