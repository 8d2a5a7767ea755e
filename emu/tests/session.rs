//! The step mode's session (`initlink_emu::session`): stepping, breakpoints, stopping at traced
//! calls, the state it reports, and that a program walked a step at a time ends exactly as the
//! same program run in one go.

use initlink_emu::session::Session;
use serde_json::{json, Value};

/// A minimal static ELF: one PT_LOAD with `code` at 0x401000, entry at its start.
fn tiny_elf(code: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 0x1000];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&62u16.to_le_bytes());
    f[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&1u16.to_le_bytes());
    let ph = 64;
    f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f[ph + 4..ph + 8].copy_from_slice(&5u32.to_le_bytes());
    f[ph + 8..ph + 16].copy_from_slice(&0x1000u64.to_le_bytes());
    f[ph + 16..ph + 24].copy_from_slice(&0x401000u64.to_le_bytes());
    f[ph + 32..ph + 40].copy_from_slice(&(code.len() as u64).to_le_bytes());
    f[ph + 40..ph + 48].copy_from_slice(&(code.len() as u64).to_le_bytes());
    f.extend_from_slice(code);
    f
}

/// `_start`: call init twice, write "hi\n", exit(9); init at 0x401030: inc r12, ret.
const PROGRAM: &[u8] = &[
    0xe8, 0x2b, 0, 0, 0, // 0x401000: call 0x401030
    0xe8, 0x26, 0, 0, 0, // 0x401005: call 0x401030
    0xb8, 1, 0, 0, 0, // 0x40100a: mov eax, 1 (write)
    0xbf, 1, 0, 0, 0, // 0x40100f: mov edi, 1
    0x48, 0x8d, 0x35, 0x1b, 0, 0, 0, // 0x401014: lea rsi, [rip + 0x1b] (0x401036)
    0xba, 3, 0, 0, 0, // 0x40101b: mov edx, 3
    0x0f, 0x05, // 0x401020: syscall
    0xb8, 60, 0, 0, 0, // 0x401022: mov eax, 60
    0xbf, 9, 0, 0, 0, // 0x401027: mov edi, 9
    0x0f, 0x05, // 0x40102c: syscall
    0x90, 0x90, // 0x40102e
    0x49, 0xff, 0xc4, // 0x401030: inc r12
    0xc3, // 0x401033: ret
    0x90, 0x90, // 0x401034
    b'h', b'i', b'\n', // 0x401036
];

fn request() -> String {
    json!({"trace": [{"address": 0x401030, "kind": "init", "symbol": "init"},
                     {"address": 0x401000, "kind": "entry", "symbol": "_start"}]})
    .to_string()
}

fn v(s: String) -> Value {
    serde_json::from_str(&s).unwrap()
}

#[test]
fn stepping_shows_registers_flags_stack_and_the_next_instruction() {
    let mut s = Session::new(&tiny_elf(PROGRAM), &request(), b"");
    let a = v(s.step(0));
    // step(0) executes one instruction: the first call.
    assert_eq!(a["rip"], 0x401030);
    assert_eq!(a["instructions"], 1);
    assert_eq!(a["instruction"]["text"], "inc r12");
    assert_eq!(a["instruction"]["bytes"], "49 ff c4");
    assert_eq!(
        a["stack"][0]["value"], "0x401005",
        "the return address on top"
    );
    assert_eq!(a["trace"].as_array().unwrap().len(), 2, "entry and init");
    let b = v(s.step(1));
    assert_eq!(b["regs"]["r12"], "0x1");
    assert!(b["flags"].as_array().unwrap().is_empty());
    assert_eq!(b["trace"].as_array().unwrap().len(), 0, "only what is new");
    assert_eq!(b["stopped"], "step");
}

#[test]
fn run_to_the_next_traced_call_and_to_a_breakpoint() {
    let mut s = Session::new(&tiny_elf(PROGRAM), &request(), b"");
    let a = v(s.run_to(r#"{"trace": true, "kinds": ["init"]}"#));
    assert_eq!(
        (a["stopped"].as_str(), a["rip"].as_u64()),
        (Some("traced"), Some(0x401030))
    );
    assert_eq!(
        a["trace"].as_array().unwrap().last().unwrap()["caller"],
        0x401000
    );
    let b = v(s.run_to(r#"{"trace": true, "kinds": ["init"]}"#));
    assert_eq!(b["trace"][0]["caller"], 0x401005);
    let c = v(s.run_to(r#"{"breakpoints": [4198434]}"#)); // 0x401022
    assert_eq!(
        (c["stopped"].as_str(), c["rip"].as_u64()),
        (Some("breakpoint"), Some(0x401022))
    );
    assert_eq!(c["stdout"], "hi\n");
    assert_eq!(c["syscalls"][0]["name"], "write");
    // From a breakpoint, the same breakpoint does not stop the run again.
    let d = v(s.run_to(r#"{"breakpoints": [4198434]}"#));
    assert_eq!(
        (d["done"].as_bool(), d["exitCode"].as_i64()),
        (Some(true), Some(9))
    );
}

#[test]
fn a_program_walked_step_by_step_ends_as_a_run_in_one_go() {
    let elf = tiny_elf(PROGRAM);
    let whole: Value =
        serde_json::from_str(&initlink_emu::api::run_json(&elf, &request())).unwrap();
    let mut s = Session::new(&elf, &request(), b"");
    let mut steps = 0;
    while !v(s.step(1))["done"].as_bool().unwrap() {
        steps += 1;
        assert!(steps < 100);
    }
    let end = v(s.finish());
    assert_eq!(end["result"], whole);
    // Continue after a few steps: the same result too.
    let mut s = Session::new(&elf, &request(), b"");
    s.step(3);
    assert_eq!(v(s.finish())["result"], whole);
}

#[test]
fn the_budget_ends_a_session_with_a_diagnostic() {
    let mut s = Session::new(&tiny_elf(&[0xeb, 0xfe]), r#"{"maxInstructions": 50}"#, b"");
    let a = v(s.step(10));
    assert_eq!(a["done"], false);
    let b = v(s.finish());
    assert_eq!(b["done"], true);
    assert!(b["result"]["diagnostics"][0]
        .as_str()
        .unwrap()
        .contains("50 instructions"));
}
