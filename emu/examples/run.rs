//! Run an ELF file in the emulator: `cargo run -p initlink-emu --example run -- prog [args...]`.
//! Prints the program's output, then the exit status, the instruction count and the speed, the
//! system calls (with `-s`), the trace (with `-t`: the entry and, in a dynamic program, each
//! library's initializers and finalizers) and any error. `-f FILE` (repeatable) puts a file of
//! the host in the virtual file system at its absolute path (a library the program finds
//! through `$ORIGIN`: give the program's path absolute, as `argv[0]` is its `/proc/self/exe`).

use std::io::Write;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let (mut show_sys, mut show_trace) = (false, false);
    let mut extra = Vec::new();
    while let Some(flag) = args
        .first()
        .filter(|a| *a == "-s" || *a == "-t" || *a == "-f")
        .cloned()
    {
        show_sys |= flag == "-s";
        show_trace |= flag == "-t";
        args.remove(0);
        if flag == "-f" && !args.is_empty() {
            extra.push(args.remove(0));
        }
    }
    let Some(path) = args.first() else {
        eprintln!("usage: run [-s] [-t] [-f FILE]... ELF [ARGS...]");
        std::process::exit(2);
    };
    let elf = std::fs::read(path).expect("read the ELF file");
    // A dynamic program finds the host's loader and C and C++ libraries in the virtual file system.
    let mut fs = initlink_emu::MemFs::default();
    for p in [
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libgcc_s.so.1",
    ] {
        if let Ok(d) = std::fs::read(p) {
            fs.files.insert(p.to_string(), d);
        }
    }
    for p in extra {
        let abs = std::fs::canonicalize(&p).expect("a file given with -f");
        let d = std::fs::read(&abs).expect("read a file given with -f");
        fs.files.insert(abs.to_string_lossy().into_owned(), d);
    }
    let config = initlink_emu::Config {
        args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        vfs: Some(&fs),
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let out = initlink_emu::run(&elf, &config);
    let secs = t.elapsed().as_secs_f64();
    std::io::stdout().write_all(&out.stdout).unwrap();
    std::io::stderr().write_all(&out.stderr).unwrap();
    if show_sys {
        for s in &out.syscalls {
            eprintln!(
                "[sys {}] {}({:#x}, {:#x}, {:#x}) = {}{}",
                s.tid,
                s.name,
                s.args[0],
                s.args[1],
                s.args[2],
                s.result,
                s.path
                    .as_ref()
                    .map(|p| format!(" [{p}]"))
                    .unwrap_or_default()
            );
        }
    }
    if show_trace {
        for t in &out.trace {
            eprintln!(
                "[trace] {:<7} {:#x} {}{} (from {:#x}, instruction {})",
                t.kind.name(),
                t.address,
                t.library
                    .as_ref()
                    .map(|l| format!("{l}: "))
                    .unwrap_or_default(),
                t.symbol,
                t.caller,
                t.instruction
            );
        }
    }
    eprintln!(
        "[emu] exit {:?} signal {:?}, {} instructions in {:.3} s ({:.1} M/s)",
        out.exit_code,
        out.signal,
        out.instructions,
        secs,
        out.instructions as f64 / secs / 1e6
    );
    if let Some(e) = out.error {
        eprintln!("[emu] error: {e}");
        std::process::exit(3);
    }
    std::process::exit(out.exit_code.unwrap_or(128 + out.signal.unwrap_or(0)));
}
