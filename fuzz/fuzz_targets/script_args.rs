//! Linker scripts and command lines: the text-only front ends.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = initlink::script::parse("fuzz.ld", &text);
    let args: Vec<String> = text.split_whitespace().map(String::from).collect();
    let _ = initlink::options::parse_args(&args);
});
