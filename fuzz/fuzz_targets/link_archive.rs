//! An object on the command line plus a well-formed `ar` archive whose members are fuzzed.
//! Input: one option byte, then files separated by `initlink_fuzz::SEP`: the first is the
//! command-line object, the others become archive members (with a symbol index built from the
//! members that parse, unless option bit 7 is set: then the archive has no index).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let files = initlink_fuzz::split(rest);
    let Some((first, members)) = files.split_first() else {
        return;
    };
    let ar = initlink_fuzz::make_archive(members, flags & 0x80 == 0);
    initlink_fuzz::link_files(&[first, &ar], flags & 0x7f);
});
