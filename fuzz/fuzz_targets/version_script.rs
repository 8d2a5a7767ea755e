//! Version scripts and dynamic lists: the parser, the matcher over the parsed nodes, and a
//! linker script's `VERSION` command. Every input must give a result or a diagnostic.
#![no_main]
use initlink::version_script::{self, List, Matcher};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line is also used as a symbol name to match (and as a glob against it).
    let sym = text.lines().next().unwrap_or("");
    if let Ok(s) = version_script::parse("fuzz.ver", &text) {
        let m = Matcher::new(&s.nodes);
        let cxx = version_script::demangle(sym);
        let _ = m.place(sym, cxx.as_deref());
        let _ = m.place("foo", None);
    }
    if let Ok(l) = version_script::parse_dynamic_list("fuzz.list", &text) {
        let _ = List::new(&l).matches(sym, None);
    }
    let _ = version_script::glob_match(sym, &text);
    let _ = initlink::script::parse("fuzz.ld", &format!("VERSION {{ {text} }}"));
});
