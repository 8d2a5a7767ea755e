//! The benchmark program: straight-line integer code for measuring instructions per second
//! (`examples/bench.rs` natively, `initlink-emu-wasm`'s `bench` under Node).

use crate::cpu::{Halt, Machine};

const BODY: &[&[u8]] = &[
    &[0x48, 0x01, 0xd8],             // add rax, rbx
    &[0x48, 0x29, 0xf2],             // sub rdx, rsi
    &[0x49, 0x31, 0xc0],             // xor r8, rax
    &[0x48, 0x21, 0xd6],             // and rsi, rdx
    &[0x4c, 0x09, 0xc7],             // or rdi, r8
    &[0x48, 0xc1, 0xe0, 0x03],       // shl rax, 3
    &[0x48, 0xc1, 0xea, 0x05],       // shr rdx, 5
    &[0x48, 0x0f, 0xaf, 0xdf],       // imul rbx, rdi
    &[0x48, 0x8d, 0x74, 0x58, 0x07], // lea rsi, [rax + rbx*2 + 7]
    &[0x48, 0x89, 0xd7],             // mov rdi, rdx
    &[0x48, 0xff, 0xc3],             // inc rbx
    &[0x48, 0x39, 0xd0],             // cmp rax, rdx
];

/// The loop: `rcx` iterations of the body, then `exit(0)`.
pub fn program(iterations: u32) -> Vec<u8> {
    let mut code = vec![0xb9];
    code.extend_from_slice(&iterations.to_le_bytes()); // mov ecx, iterations
    let top = code.len();
    for k in 0..1000 {
        code.extend_from_slice(BODY[k % BODY.len()]);
    }
    code.extend_from_slice(&[0x48, 0xff, 0xc9]); // dec rcx
    let rel = top as i64 - (code.len() as i64 + 6);
    code.extend_from_slice(&[0x0f, 0x85]); // jnz top
    code.extend_from_slice(&(rel as i32).to_le_bytes());
    code.extend_from_slice(&[0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05]); // exit(0)
    code
}

/// Run about `millions` million instructions of the benchmark loop; returns the count executed
/// (None if the loop did not exit as it should).
pub fn run(millions: u32) -> Option<u64> {
    let iterations = (millions as u64 * 1_000_000 / 1002).clamp(1, u32::MAX as u64) as u32;
    let mut m = Machine::bare(&program(iterations));
    m.run(u64::MAX);
    (m.halt == Some(Halt::Exit(0))).then_some(m.icount)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_benchmark_loop_exits() {
        // mov ecx; 998 iterations of 1,000 + dec + jnz; mov eax, xor edi, syscall.
        assert_eq!(super::run(1), Some(1 + 998 * 1002 + 3));
    }
}
