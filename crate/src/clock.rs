//! The time for `--time`: (wall, CPU) microseconds since a fixed point. On wasm32
//! `std::time::Instant` panics: the clock there is the host's `performance.now()`, and CPU time is
//! wall time (the module runs on one thread).

#[cfg(not(target_arch = "wasm32"))]
pub fn now_us() -> (u128, u128) {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    let wall = START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_micros();
    (wall, process_cpu_us())
}

#[cfg(target_arch = "wasm32")]
pub fn now_us() -> (u128, u128) {
    let us = crate::wasm::now_us();
    (us, us)
}

/// CPU time of the whole process so far, in microseconds.
#[cfg(not(target_arch = "wasm32"))]
fn process_cpu_us() -> u128 {
    #[cfg(unix)]
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe {
        let mut t: libc::timespec = std::mem::zeroed();
        if libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) == 0 {
            return t.tv_sec as u128 * 1_000_000 + t.tv_nsec as u128 / 1000;
        }
    }
    0
}
