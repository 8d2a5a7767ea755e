//! `.note.gnu.property` sections: the note parser must give properties or an offset and a
//! reason for any bytes, and what it parses must write back as a note it parses again.
#![no_main]
use initlink::property;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(props) = property::parse(data) {
        let mut note = vec![0u8; property::note_size(&props) as usize];
        property::write_note(&props, &mut note);
        assert_eq!(property::parse(&note).ok(), Some(props));
    }
});
