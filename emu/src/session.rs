//! A program held between calls, for the playground's step mode: load it once, then run it a
//! few instructions at a time, to an address, or to the next call into a traced address (an
//! initializer, `main`, `_start`...), and look at the machine between: the registers, the flags,
//! the top of the stack and the instruction about to run. JSON in and out, as [`crate::api`].
//!
//! The session owns its program's files (the loader and libraries of a dynamic program), so it
//! lives as long as its caller keeps it. Everything it reports is incremental where it grows:
//! each answer carries the trace events and system calls since the previous answer.

use std::rc::Rc;

use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
use rustc_hash::FxHashSet;
use serde_json::{json, Value};

use crate::api::{config_from, outcome_json, parse_request, syscall_json, trace_json, Files};
use crate::cpu::{Halt, Machine, Stop, Watch, AF, CF, DF, OF, PF, RSP, SF, ZF};
use crate::{EmuError, TraceKind, VfsHandle};

/// Register names in `regs` order.
const NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

/// How many 8-byte words of the stack a state shows, from `%rsp` up.
const STACK_WORDS: u64 = 8;

/// A loaded program, run on demand.
pub struct Session {
    /// `Err` when the program could not be loaded (the answer is the load's diagnostic).
    machine: Result<Machine<'static>, EmuError>,
    /// The instruction budget of the whole run.
    max: u64,
    /// Trace events and system calls already reported.
    trace_seen: usize,
    syscalls_seen: usize,
    /// Why the last call returned.
    stopped: &'static str,
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

impl Session {
    /// Load `elf` as [`crate::api::run_json_with_files`] would run it (the same request and
    /// files), stopped before its first instruction. Never fails: a bad request or program gives
    /// a session whose every answer is `done` with the diagnostic.
    pub fn new(elf: &[u8], request: &str, blob: &[u8]) -> Session {
        let loaded = parse_request(request).and_then(|req| {
            let files = Files::new(&req, blob.to_vec()).map_err(|e| format!("bad request: {e}"))?;
            let config = config_from(&req);
            let vfs = (!files.is_empty()).then(|| Rc::new(files) as VfsHandle<'static>);
            Ok((
                config.max_instructions,
                Machine::load_with_vfs(elf, &config, vfs),
            ))
        });
        let (max, machine) = match loaded {
            Ok((max, m)) => (max, m),
            Err(e) => (0, Err(EmuError::Load(e))),
        };
        Session {
            machine,
            max,
            trace_seen: 0,
            syscalls_seen: 0,
            stopped: "loaded",
        }
    }

    /// Execute `n` instructions (fewer if the program ends), then answer with the state.
    pub fn step(&mut self, n: u64) -> String {
        if let Ok(m) = &mut self.machine {
            let watch = Watch {
                pause_at: m.icount.saturating_add(n.max(1)),
                ..Watch::default()
            };
            self.stopped = stop_name(m.run_until(self.max, &watch));
        }
        self.answer()
    }

    /// Run until one of `request.breakpoints` (addresses, before executing it: not the one the
    /// run starts on), a call into a traced address of one of `request.kinds` (`init`, `main`...;
    /// all kinds when absent) when `request.trace` is true, `request.max` more instructions, or the
    /// end; then answer with the state.
    pub fn run_to(&mut self, request: &str) -> String {
        let req = parse_request(request).unwrap_or(Value::Null);
        let Ok(m) = &mut self.machine else {
            return self.answer();
        };
        let kinds: Option<Vec<TraceKind>> = req["kinds"].as_array().map(|ks| {
            ks.iter()
                .filter_map(|k| k.as_str().and_then(TraceKind::from_name))
                .collect()
        });
        let breakpoints: FxHashSet<u64> = req["breakpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .collect();
        let watch = Watch {
            pause_at: req["max"]
                .as_u64()
                .map_or(u64::MAX, |n| m.icount.saturating_add(n)),
            breakpoints,
            on_trace: req["trace"].as_bool().unwrap_or(false),
        };
        loop {
            let stop = m.run_until(self.max, &watch);
            let wanted = match (&kinds, m.trace.last()) {
                (Some(ks), Some(t)) => ks.contains(&t.kind),
                _ => true,
            };
            if stop != Stop::Traced || wanted {
                self.stopped = stop_name(stop);
                break;
            }
        }
        self.answer()
    }

    /// Run to the end (or the budget), then answer with the state and the run's result as
    /// [`crate::api::run_json`] gives it (`result`, with the whole trace and every system call).
    pub fn finish(&mut self) -> String {
        if let Ok(m) = &mut self.machine {
            m.run(self.max);
            self.stopped = "end";
        }
        let mut a = self.state();
        a["result"] = match &self.machine {
            Ok(m) => outcome_json(&m.outcome()),
            Err(e) => json!({"ok": false, "diagnostics": [e.to_string()]}),
        };
        a.to_string()
    }

    fn answer(&mut self) -> String {
        self.state().to_string()
    }

    /// The machine as it stands: `{stopped, done, ok, exitCode, signal, diagnostics, rip,
    /// instructions, tid, threads, regs: {rax: "0x…"…}, rflags, flags: ["ZF"…], fsBase, stack:
    /// [{address, value}], instruction: {address, bytes, text, symbol}, stdout, stderr, trace,
    /// syscalls}` (register values as hex strings: JSON numbers lose bits past 2^53; `trace` and
    /// `syscalls` only what is new since the previous answer).
    pub fn state(&mut self) -> Value {
        let m = match &self.machine {
            Ok(m) => m,
            Err(e) => {
                return json!({"stopped": "error", "done": true, "ok": false, "exitCode": null,
                    "signal": null, "diagnostics": [e.to_string()], "instructions": 0,
                    "trace": [], "syscalls": [], "stdout": "", "stderr": ""})
            }
        };
        let (exit_code, signal, diagnostics) = match &m.halt {
            Some(Halt::Exit(c)) => (Some(*c), None, Vec::new()),
            Some(Halt::Signal(s)) => (None, Some(*s), Vec::new()),
            Some(Halt::Error(e)) => (None, None, vec![e.to_string()]),
            Some(Halt::Pause) | None => (None, None, Vec::new()),
        };
        let regs: serde_json::Map<String, Value> = NAMES
            .iter()
            .zip(m.regs)
            .map(|(n, v)| (n.to_string(), Value::String(hex(v))))
            .collect();
        let flags: Vec<&str> = [
            (CF, "CF"),
            (PF, "PF"),
            (AF, "AF"),
            (ZF, "ZF"),
            (SF, "SF"),
            (DF, "DF"),
            (OF, "OF"),
        ]
        .iter()
        .filter(|(bit, _)| m.flags & bit != 0)
        .map(|&(_, n)| n)
        .collect();
        let stack: Vec<Value> = (0..STACK_WORDS)
            .map(|k| {
                let at = m.regs[RSP].wrapping_add(8 * k);
                let value = m.read_mem(at, 8).ok().map(hex);
                json!({"address": hex(at), "value": value})
            })
            .collect();
        let trace: Vec<Value> = m.trace[self.trace_seen.min(m.trace.len())..]
            .iter()
            .map(trace_json)
            .collect();
        let syscalls: Vec<Value> = m.syscalls[self.syscalls_seen.min(m.syscalls.len())..]
            .iter()
            .map(syscall_json)
            .collect();
        let done = m.halt.is_some();
        let state = json!({
            "stopped": if done { "end" } else { self.stopped },
            "done": done,
            "ok": !matches!(m.halt, Some(Halt::Error(_))),
            "exitCode": exit_code,
            "signal": signal,
            "diagnostics": diagnostics,
            "rip": m.rip,
            "instructions": m.icount,
            "tid": m.tid(),
            "threads": m.thread_count(),
            "regs": regs,
            "rflags": hex(m.flags),
            "flags": flags,
            "fsBase": hex(m.fs_base),
            "stack": stack,
            "instruction": if done { Value::Null } else { instruction_at(m, m.rip) },
            "stdout": String::from_utf8_lossy(&m.stdout),
            "stderr": String::from_utf8_lossy(&m.stderr),
            "trace": trace,
            "syscalls": syscalls,
        });
        self.trace_seen = m.trace.len();
        self.syscalls_seen = m.syscalls.len();
        state
    }
}

fn stop_name(s: Stop) -> &'static str {
    match s {
        Stop::Halted => "end",
        Stop::Paused => "step",
        Stop::Breakpoint => "breakpoint",
        Stop::Traced => "traced",
    }
}

/// The instruction at `at`: `{address, bytes: "48 89 e5", text: "mov rbp, rsp", symbol}` in the
/// report's Intel syntax, or null where nothing decodes.
fn instruction_at(m: &Machine, at: u64) -> Value {
    let bytes = m.mem.peek(at, 15);
    let mut d = Decoder::with_ip(64, bytes, at, DecoderOptions::NONE);
    if !d.can_decode() {
        return Value::Null;
    }
    let ins = d.decode();
    if ins.is_invalid() {
        return Value::Null;
    }
    let mut f = IntelFormatter::new();
    let o = f.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_space_after_operand_separator(true);
    o.set_branch_leading_zeros(false);
    o.set_leading_zeros(false);
    o.set_signed_immediate_operands(true);
    let mut text = String::new();
    f.format(&ins, &mut text);
    let hexbytes: Vec<String> = bytes[..ins.len().min(bytes.len())]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    json!({"address": at, "bytes": hexbytes.join(" "), "text": text, "symbol": m.nearest_symbol(at)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_program_is_a_finished_session_with_a_diagnostic() {
        let mut s = Session::new(b"junk", "{}", b"");
        let v: Value = serde_json::from_str(&s.step(1)).unwrap();
        assert_eq!(v["done"], true);
        assert!(v["diagnostics"][0].as_str().unwrap().contains("not an ELF"));
        let v: Value = serde_json::from_str(&s.finish()).unwrap();
        assert_eq!(v["result"]["ok"], false);
        let mut s = Session::new(b"junk", "{", b"");
        let v: Value = serde_json::from_str(&s.run_to("nonsense")).unwrap();
        assert!(v["diagnostics"][0]
            .as_str()
            .unwrap()
            .contains("bad request"));
    }
}
