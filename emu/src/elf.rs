//! Just enough of ELF to start a program: the header, the program headers, and the function
//! symbols of `.symtab` (to name the nearest symbol in a diagnostic). Every offset and size read
//! from the file is checked.

#[derive(Debug, Clone, Copy)]
pub struct Phdr {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;

#[derive(Debug)]
pub struct Elf<'a> {
    pub data: &'a [u8],
    pub kind: u16,
    pub entry: u64,
    pub phoff: u64,
    pub phdrs: Vec<Phdr>,
    /// (address, name) of every function and object symbol with a non-zero address, by address.
    pub symbols: Vec<(u64, String)>,
}

fn u16_at(d: &[u8], o: u64) -> Option<u16> {
    let o = usize::try_from(o).ok()?;
    Some(u16::from_le_bytes(
        d.get(o..o.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32_at(d: &[u8], o: u64) -> Option<u32> {
    let o = usize::try_from(o).ok()?;
    Some(u32::from_le_bytes(
        d.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn u64_at(d: &[u8], o: u64) -> Option<u64> {
    let o = usize::try_from(o).ok()?;
    Some(u64::from_le_bytes(
        d.get(o..o.checked_add(8)?)?.try_into().ok()?,
    ))
}

impl<'a> Elf<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Elf<'a>, String> {
        if data.get(..4) != Some(b"\x7fELF") {
            return Err("not an ELF file".into());
        }
        if data.get(4) != Some(&2) || data.get(5) != Some(&1) {
            return Err("not a little-endian ELF64 file".into());
        }
        let bad = || "truncated ELF header".to_string();
        let kind = u16_at(data, 16).ok_or_else(bad)?;
        let machine = u16_at(data, 18).ok_or_else(bad)?;
        if machine != 62 {
            return Err(format!("e_machine {machine} is not x86-64 (62)"));
        }
        if kind != 2 && kind != 3 {
            return Err(format!(
                "e_type {kind}: only executables (ET_EXEC, ET_DYN) run"
            ));
        }
        let entry = u64_at(data, 24).ok_or_else(bad)?;
        let phoff = u64_at(data, 32).ok_or_else(bad)?;
        let shoff = u64_at(data, 40).ok_or_else(bad)?;
        let phentsize = u16_at(data, 54).ok_or_else(bad)? as u64;
        let phnum = u16_at(data, 56).ok_or_else(bad)? as u64;
        let shentsize = u16_at(data, 58).ok_or_else(bad)? as u64;
        let shnum = u16_at(data, 60).ok_or_else(bad)? as u64;
        if phentsize != 56 {
            return Err(format!("e_phentsize {phentsize}, expected 56"));
        }
        let mut phdrs = Vec::new();
        for k in 0..phnum {
            let o = phoff
                .checked_add(k * 56)
                .ok_or("program header offset overflows")?;
            let p = (|| {
                Some(Phdr {
                    kind: u32_at(data, o)?,
                    flags: u32_at(data, o.saturating_add(4))?,
                    offset: u64_at(data, o.saturating_add(8))?,
                    vaddr: u64_at(data, o.saturating_add(16))?,
                    filesz: u64_at(data, o.saturating_add(32))?,
                    memsz: u64_at(data, o.saturating_add(40))?,
                })
            })()
            .ok_or_else(|| format!("program header {k} lies outside the file"))?;
            phdrs.push(p);
        }
        let mut symbols = Vec::new();
        if shentsize == 64 && shnum < 65536 {
            for k in 0..shnum {
                let Some(o) = shoff.checked_add(k * 64) else {
                    break;
                };
                let (Some(ty), Some(off), Some(size), Some(link), Some(entsize)) = (
                    u32_at(data, o.saturating_add(4)),
                    u64_at(data, o.saturating_add(24)),
                    u64_at(data, o.saturating_add(32)),
                    u32_at(data, o.saturating_add(40)),
                    u64_at(data, o.saturating_add(56)),
                ) else {
                    break;
                };
                if ty != 2 || entsize != 24 {
                    continue; // SHT_SYMTAB only
                }
                let so = shoff.checked_add(link as u64 * 64);
                let (stroff, strsize) = match so {
                    Some(so) => (
                        u64_at(data, so.saturating_add(24)),
                        u64_at(data, so.saturating_add(32)),
                    ),
                    None => (None, None),
                };
                let (Some(stroff), Some(strsize)) = (stroff, strsize) else {
                    continue;
                };
                let strtab = usize::try_from(stroff)
                    .ok()
                    .and_then(|s| data.get(s..s.checked_add(usize::try_from(strsize).ok()?)?));
                let Some(strtab) = strtab else { continue };
                for j in 0..size / 24 {
                    let Some(e) = off.checked_add(j * 24) else {
                        break;
                    };
                    let (Some(name), Some(info), Some(value)) = (
                        u32_at(data, e),
                        data.get(usize::try_from(e.saturating_add(4)).unwrap_or(usize::MAX)),
                        u64_at(data, e.saturating_add(8)),
                    ) else {
                        break;
                    };
                    let ty = info & 15;
                    if value == 0 || !(ty == 1 || ty == 2 || ty == 10) {
                        continue;
                    }
                    let Some(s) = strtab.get(name as usize..) else {
                        continue;
                    };
                    let n = s.iter().position(|&b| b == 0).unwrap_or(s.len());
                    symbols.push((value, String::from_utf8_lossy(&s[..n]).into_owned()));
                }
            }
        }
        symbols.sort();
        Ok(Elf {
            data,
            kind,
            entry,
            phoff,
            phdrs,
            symbols,
        })
    }

    /// The symbol at or before `addr`, as `name+0xoff`.
    pub fn nearest_symbol(&self, addr: u64) -> Option<String> {
        let i = self
            .symbols
            .partition_point(|s| s.0 <= addr)
            .checked_sub(1)?;
        let (a, n) = &self.symbols[i];
        let off = addr - a;
        if off > 1 << 20 {
            return None;
        }
        Some(if off == 0 {
            n.clone()
        } else {
            format!("{n}+{off:#x}")
        })
    }

    pub fn interp(&self) -> Option<&[u8]> {
        let p = self.phdrs.iter().find(|p| p.kind == PT_INTERP)?;
        let s = self.data.get(
            usize::try_from(p.offset).ok()?
                ..usize::try_from(p.offset.checked_add(p.filesz)?).ok()?,
        )?;
        Some(s.split(|&b| b == 0).next().unwrap_or(s))
    }
}
