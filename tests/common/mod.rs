//! Helpers the end-to-end test files share: a scratch directory with `ld/ld` → initlink (for
//! `gcc -B ld/`), and running programs in it.
#![allow(dead_code)] // each test file uses its own share of these

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `target/tmp/GROUP-NAME`, emptied, with `ld/ld` → initlink, for `gcc -B ld/`.
pub fn work_dir(group: &str, name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{group}-{name}"));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(d.join("ld")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_initlink"), d.join("ld/ld")).unwrap();
    d
}

/// `PROG ARGS` in `dir`, in the C locale, finding shared objects in `dir`.
pub fn run(dir: &Path, prog: &str, args: &[&str]) -> Output {
    Command::new(prog)
        .args(args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .env("LD_LIBRARY_PATH", dir)
        .output()
        .unwrap_or_else(|e| panic!("{prog}: {e}"))
}

/// [`run`], which must succeed.
pub fn checked(dir: &Path, prog: &str, args: &[&str]) -> Output {
    let o = run(dir, prog, args);
    assert!(
        o.status.success(),
        "{prog} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// [`run`], which must succeed: its stdout.
pub fn ok(dir: &Path, prog: &str, args: &[&str]) -> String {
    String::from_utf8_lossy(&checked(dir, prog, args).stdout).into_owned()
}

pub fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).unwrap();
}
