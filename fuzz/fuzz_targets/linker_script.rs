//! `SECTIONS { ... }`: the text wrapped in the command, parsed (a `}` in it may close the
//! command, so `MEMORY` and the rest of the top level are reached too); every assignment's
//! expression, and every region's origin and length and output section's load address, is
//! then evaluated against a fixed environment, so the checked arithmetic is exercised too.
#![no_main]
use initlink::linker_script::expr::{Env, SectionFn};
use libfuzzer_sys::fuzz_target;

struct Fixed;

impl Env for Fixed {
    fn dot(&self) -> Result<u64, String> {
        Ok(0x401000)
    }
    fn symbol(&self, name: &str) -> Result<u64, String> {
        Ok(name.len() as u64)
    }
    fn section(&self, _: SectionFn, name: &str) -> Result<u64, String> {
        Ok(name.len() as u64 * 16)
    }
    fn defined(&self, name: &str) -> bool {
        name.len() % 2 == 0
    }
    fn segment_start(&self, _: &str) -> Option<u64> {
        None
    }
    fn page(&self, max: bool) -> u64 {
        if max {
            0x1000
        } else {
            0x200
        }
    }
    fn sizeof_headers(&self) -> u64 {
        0x200
    }
    fn data_segment_align(&mut self, dot: u64, max: u64, _: u64) -> Result<u64, String> {
        initlink::linker_script::expr::align_to(dot, max)
    }
    fn data_segment_relro_end(&mut self, offset: u64, value: u64) -> u64 {
        value.wrapping_add(offset)
    }
}

fuzz_target!(|data: &[u8]| {
    let text = format!("SECTIONS {{ {} }}", String::from_utf8_lossy(data));
    let Ok(script) = initlink::script::parse("fuzz.ld", &text) else {
        return;
    };
    for a in &script.assignments {
        if let initlink::script::Assignment::Sections(s) = a {
            for assign in s.assignments() {
                let _ = assign.expr.eval(&mut Fixed);
            }
            for r in &s.memory {
                let _ = r.origin.eval(&mut Fixed);
                let _ = r.length.eval(&mut Fixed);
            }
            for c in &s.commands {
                if let initlink::linker_script::Command::Output(o) = c {
                    if let Some(lma) = &o.lma {
                        let _ = lma.eval(&mut Fixed);
                    }
                }
            }
        }
    }
});
