//! One fuzzed file linked alone (`initlink -o out --report=... f0.o`): the whole input is the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    initlink_fuzz::link_files(&[data], 0x01);
});
