//! The emulator's wasm module, separate from the linker's so the page loads it only when a
//! program first runs. A thin wrapper: bytes and JSON in, JSON out, never a panic or a throw
//! for bad input (see `initlink_emu::api::run_json`).
//!
//! Build and measure under Node:
//! ```sh
//! cargo build -p initlink-emu-wasm --target wasm32-unknown-unknown --profile wasm-emu
//! wasm-bindgen --target nodejs --out-dir target/emu-pkg target/wasm32-unknown-unknown/wasm-emu/initlink_emu_wasm.wasm
//! node emu/wasm/bench.mjs target/emu-pkg
//! ```

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

/// Run `elf` as the JSON `request` says (`{args, env, stdin, maxInstructions, report, trace,
/// files, cwd}`), where `files` (`[{path, size}]`) describes the files of the virtual file system,
/// one after another in `blob`; the result JSON is `{ok, exitCode, signal, stdout, stderr,
/// trace, syscalls, instructions, diagnostics}`.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn run(elf: &[u8], request: &str, blob: &[u8]) -> String {
    initlink_emu::api::run_json_with_files(elf, request, blob)
}

/// A program loaded for the step mode (`initlink_emu::session::Session`): every method answers
/// with the machine's state as JSON (`{stopped, done, rip, instructions, regs, flags, stack,
/// instruction, stdout, stderr, trace, syscalls...}`).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub struct Stepper {
    session: initlink_emu::session::Session,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
impl Stepper {
    /// Load `elf` as `run` would (the same request and files), stopped before its first
    /// instruction; a bad request or program answers `done` with a diagnostic.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen(constructor))]
    pub fn new(elf: &[u8], request: &str, blob: &[u8]) -> Stepper {
        Stepper {
            session: initlink_emu::session::Session::new(elf, request, blob),
        }
    }

    /// The state, without running.
    pub fn state(&mut self) -> String {
        self.session.state().to_string()
    }

    /// Execute `n` instructions (at least one).
    pub fn step(&mut self, n: f64) -> String {
        self.session.step(n.max(1.0) as u64)
    }

    /// Run to `{breakpoints: [address], trace: bool, kinds: [kind], max: n}`.
    pub fn run_to(&mut self, request: &str) -> String {
        self.session.run_to(request)
    }

    /// Run to the end; the answer's `result` is what `run` returns.
    pub fn finish(&mut self) -> String {
        self.session.finish()
    }
}

/// `{interp, needed}`: the loader and the libraries a dynamic program names (`{error}` for a
/// file that is not an ELF program).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn needs(elf: &[u8]) -> String {
    initlink_emu::api::needs_json(elf)
}

/// Run about `millions` million instructions of straight-line integer code; returns how many
/// ran (the caller times it), or -1 if the loop misbehaved.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn bench(millions: u32) -> f64 {
    initlink_emu::bench::run(millions)
        .map(|n| n as f64)
        .unwrap_or(-1.0)
}
