//! A relocatable output's bytes: each output section's pieces copied (compressed inputs
//! uncompressed, `--compress-debug-sections` compressing again), each `.rela` section's entries
//! rebased, the group sections, the symbol and string tables, and the headers. Section contents
//! are not relocated: with RELA the addend lives in the entry, so the bytes stay as they are.

use super::plan::{is_debug, Place, Plan};
use super::symtab::Symtab;
use super::Indices;
use crate::diag::{Diagnostic, Result};
use crate::input::E;
use crate::resolve::Resolved;
use object::elf;

/// The entries of output section `k`'s `.rela` section. A relocation against a local symbol
/// left out of the output (its section was a discarded COMDAT duplicate) becomes type 0 (none,
/// in every psABI) against no symbol, as with GNU ld; in a debugging section it is dropped.
pub(super) fn relocs(res: &Resolved<'_>, plan: &Plan<'_>, t: &Symtab, k: usize) -> Vec<u8> {
    let os = &plan.sections[k];
    let debug = is_debug(os.name, os.flags);
    let mut out = Vec::with_capacity(24 * os.relocs);
    for p in &os.pieces {
        let f = p.file.0 as usize;
        let file = &res.files[f];
        let obj = &file.obj;
        let Some(section) = obj.sections.get(p.sec as usize) else {
            continue;
        };
        for r in section.relocs {
            let sym = r.r_sym(E, false) as usize;
            let addend = r.r_addend.get(E);
            let target = if sym == 0 {
                Some((0, addend))
            } else if let Some(g) = file.global(sym) {
                Some((t.globals[g.0 as usize], addend))
            } else if obj.symbols[sym].st_type() == elf::STT_SECTION {
                match obj.sym_place(sym) {
                    Ok(crate::input::SymPlace::Section(s)) => {
                        match plan.places[f].get(s as usize) {
                            Some(&Place::At { out, offset }) => Some((
                                t.section_syms[out as usize],
                                addend.wrapping_add(offset as i64),
                            )),
                            _ => None,
                        }
                    }
                    _ => Some((0, addend)),
                }
            } else {
                Some(t.locals[f][sym])
                    .filter(|&s| s != 0)
                    .map(|s| (s, addend))
            };
            let info = match target {
                Some((s, _)) => (u64::from(s) << 32) | u64::from(r.r_type(E, false)),
                None if debug => continue,
                None => 0,
            };
            let offset = r.r_offset.get(E).wrapping_add(p.offset);
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&info.to_le_bytes());
            out.extend_from_slice(&target.map_or(0, |(_, a)| a).to_le_bytes());
        }
    }
    out
}

/// Output section `k`'s bytes (empty for `SHT_NOBITS`).
pub(super) fn contents(res: &Resolved<'_>, plan: &Plan<'_>, k: usize) -> Result<Vec<u8>> {
    let os = &plan.sections[k];
    if let Some(made) = &os.made {
        return Ok(made.clone());
    }
    if os.sh_type == elf::SHT_NOBITS {
        return Ok(Vec::new());
    }
    // A NOBITS input joined to a section with contents can make it huge: fail, not abort.
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(os.size as usize).map_err(|_| {
        Diagnostic::error(format!(
            "output section {} (0x{:x} bytes) does not fit in memory",
            crate::diag::name_str(os.name),
            os.size
        ))
    })?;
    bytes.resize(os.size as usize, 0);
    for p in &os.pieces {
        let obj = &res.files[p.file.0 as usize].obj;
        let s = &obj.sections[p.sec as usize];
        if s.sh_type == elf::SHT_NOBITS {
            continue;
        }
        let at = p.offset as usize;
        let dst = &mut bytes[at..at + s.size as usize];
        if s.compressed {
            crate::compress::decompress_into(s.data, dst).map_err(|why| {
                Diagnostic::error(format!("section {} {why}", p.sec))
                    .file(obj.name.clone())
                    .section(s.name_str())
            })?;
        } else {
            dst.copy_from_slice(s.data);
        }
    }
    Ok(bytes)
}

/// One section header's fields.
pub(super) struct Header {
    pub name: u32,
    pub sh_type: u32,
    pub flags: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub align: u64,
    pub entsize: u64,
}

/// Where the file's parts go: the ELF header, then each section's bytes in header order at its
/// alignment, then the section header table.
pub(super) fn assemble(
    res: &Resolved<'_>,
    ix: &Indices,
    headers: &mut [Header],
    data: &[Vec<u8>],
) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    for (h, d) in headers.iter_mut().zip(data).skip(1) {
        let at = (out.len() as u64).next_multiple_of(h.align.max(1));
        out.resize(at as usize, 0);
        h.offset = at;
        out.extend_from_slice(d);
    }
    let shoff = (out.len() as u64).next_multiple_of(8);
    out.resize(shoff as usize, 0);
    let count = headers.len() as u32;
    if count >= u32::from(elf::SHN_LORESERVE) {
        headers[0].size = u64::from(count);
    }
    if ix.shstrtab >= u32::from(elf::SHN_LORESERVE) {
        headers[0].link = ix.shstrtab;
    }
    for h in headers.iter() {
        for w in [h.name, h.sh_type] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for w in [h.flags, 0, h.offset, h.size] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for w in [h.link, h.info] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        for w in [h.align, h.entsize] {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
    let small = |n: u32| {
        if n >= u32::from(elf::SHN_LORESERVE) {
            None
        } else {
            Some(n as u16)
        }
    };
    // ELFOSABI_GNU (byte 7, EI_OSABI) when an input says so (STB_GNU_UNIQUE, STT_GNU_IFUNC): the symbols carry on.
    let osabi = res
        .files
        .iter()
        .filter_map(|f| f.obj.data.get(7))
        .copied()
        .find(|&a| a == elf::ELFOSABI_GNU)
        .unwrap_or(elf::ELFOSABI_NONE);
    let h = &mut out[..64];
    h[..4].copy_from_slice(&elf::ELFMAG);
    (h[4], h[5], h[6], h[7]) = (elf::ELFCLASS64, elf::ELFDATA2LSB, elf::EV_CURRENT, osabi);
    let mut at = 16;
    let mut put = |bytes: &[u8]| {
        h[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(&elf::ET_REL.to_le_bytes());
    put(&elf::EM_X86_64.to_le_bytes());
    put(&u32::from(elf::EV_CURRENT).to_le_bytes());
    put(&0u64.to_le_bytes()); // e_entry
    put(&0u64.to_le_bytes()); // e_phoff
    put(&shoff.to_le_bytes());
    put(&0u32.to_le_bytes()); // e_flags
    put(&64u16.to_le_bytes()); // e_ehsize
    put(&0u16.to_le_bytes()); // e_phentsize
    put(&0u16.to_le_bytes()); // e_phnum
    put(&64u16.to_le_bytes()); // e_shentsize
    put(&small(count).unwrap_or(0).to_le_bytes());
    put(&small(ix.shstrtab).unwrap_or(elf::SHN_XINDEX).to_le_bytes());
    out
}
