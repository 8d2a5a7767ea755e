//! Straight-line integer code in the emulator: a loop whose body is 1,000 register ALU
//! instructions (add, sub, xor, and, or, shifts, imul, lea, mov, inc, cmp), run for about 100
//! million instructions. Prints instructions per second:
//! `cargo run --release -p initlink-emu --example bench [MILLIONS]`.

fn main() {
    let millions: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let t = std::time::Instant::now();
    let n = initlink_emu::bench::run(millions).expect("the benchmark loop must exit");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{n} instructions in {secs:.3} s: {:.1} M instructions/s",
        n as f64 / secs / 1e6
    );
}
