//! `--oformat=binary`: the finished ELF file turned into the raw memory image a boot loader or a
//! ROM wants, as GNU ld's `binary` output writes it. Each allocated section with contents is at
//! its load address (a script's `AT`: `.data` copied into the ROM after the code; the address
//! otherwise), read as BFD reads it back, from the `PT_LOAD` that holds the section. The image
//! starts at the lowest load address and ends with the highest section's last byte; the gaps
//! between sections are zeros, `SHT_NOBITS` sections (`.bss`) add nothing, and the ELF header,
//! program headers and non-allocated sections (symbols, debug information) are left out.

use crate::diag::{Diagnostic, Errors, Result};
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};

/// The image may not be larger than this: a layout whose sections lie gigabytes apart (an
/// address typed wrong) is an error, not a file that fills the disk.
const MAX_IMAGE: u64 = 1 << 30;

/// The memory image of `elf` (a file initlink wrote), named `output` in diagnostics.
pub fn flatten(elf: &[u8], output: &str) -> Result<Vec<u8>> {
    let bad = |what: String| -> Errors {
        Diagnostic::error(format!("--oformat=binary: {what}"))
            .file(output.to_string())
            .into()
    };
    let e = object::LittleEndian;
    let header = elf::FileHeader64::<object::LittleEndian>::parse(elf)
        .map_err(|err| bad(format!("cannot read the ELF output: {err}")))?;
    let sections = header
        .sections(e, elf)
        .map_err(|err| bad(format!("cannot read the section headers: {err}")))?;
    let segments = header
        .program_headers(e, elf)
        .map_err(|err| bad(format!("cannot read the program headers: {err}")))?;
    // (load address, file offset, size) of each section the image holds.
    let mut parts = Vec::new();
    for s in sections.iter() {
        let flags = s.sh_flags(e);
        let size = s.sh_size(e);
        if flags & u64::from(elf::SHF_ALLOC) == 0 || s.sh_type(e) == elf::SHT_NOBITS || size == 0 {
            continue;
        }
        let (addr, off) = (s.sh_addr(e), s.sh_offset(e));
        // The segment whose file bytes and memory hold the section loads it at its
        // `p_paddr` plus the section's distance from the segment's start.
        let holds = |p: &&elf::ProgramHeader64<object::LittleEndian>| {
            let (o, v) = (p.p_offset(e), p.p_vaddr(e));
            p.p_type(e) == elf::PT_LOAD
                && o <= off
                && off - o < p.p_filesz(e)
                && v <= addr
                && addr - v < p.p_memsz(e)
                && off - o == addr - v
        };
        let lma = match segments.iter().find(holds) {
            Some(p) => p
                .p_paddr(e)
                .checked_add(addr - p.p_vaddr(e))
                .ok_or_else(|| {
                    bad(format!(
                        "section at 0x{addr:x} loads past the address space"
                    ))
                })?,
            None => addr,
        };
        parts.push((lma, off, size));
    }
    let Some(base) = parts.iter().map(|p| p.0).min() else {
        return Ok(Vec::new());
    };
    let end = parts
        .iter()
        .map(|p| p.0.checked_add(p.2))
        .try_fold(base, |m, e| e.map(|e| m.max(e)))
        .ok_or_else(|| bad("a section ends past the address space".into()))?;
    if end - base > MAX_IMAGE {
        return Err(bad(format!(
            "the image from 0x{base:x} to 0x{end:x} would be larger than {MAX_IMAGE} bytes"
        )));
    }
    let mut image = vec![0u8; (end - base) as usize];
    for (addr, off, size) in parts {
        let from = usize::try_from(off).ok();
        let bytes = from
            .and_then(|f| elf.get(f..f.checked_add(size as usize)?))
            .ok_or_else(|| bad(format!("a section at 0x{addr:x} lies past the ELF file")))?;
        let at = (addr - base) as usize;
        image[at..at + bytes.len()].copy_from_slice(bytes);
    }
    Ok(image)
}
