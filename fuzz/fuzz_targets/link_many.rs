//! Several fuzzed files (objects, archives, anything) on one command line.
//! Input: one option byte, then the files separated by `initlink_fuzz::SEP`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let files = initlink_fuzz::split(rest);
    initlink_fuzz::link_files(&files, flags);
});
