//! Just enough of ELF to start a program: the header, the program headers, the function
//! symbols of `.symtab` and `.dynsym` (to name the nearest symbol in a diagnostic), and a shared
//! object's initializers and finalizers from its dynamic section (to trace the calls its loader
//! makes). Every offset and size read from the file is checked.

use crate::TraceKind;

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
pub const PT_DYNAMIC: u32 = 2;
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
                if !(ty == 2 || ty == 11) || entsize != 24 {
                    continue; // SHT_SYMTAB and SHT_DYNSYM only
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
        symbols.dedup();
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

    /// The file offset of the byte at `vaddr`, if a `PT_LOAD` segment holds it in the file.
    pub fn file_offset(&self, vaddr: u64) -> Option<u64> {
        self.phdrs
            .iter()
            .filter(|p| p.kind == PT_LOAD)
            .find(|p| vaddr >= p.vaddr && vaddr - p.vaddr < p.filesz)
            .and_then(|p| p.offset.checked_add(vaddr - p.vaddr))
    }

    /// The `(tag, value)` entries of the dynamic section, up to `DT_NULL`.
    pub fn dynamic(&self) -> Vec<(u64, u64)> {
        let Some(p) = self.phdrs.iter().find(|p| p.kind == PT_DYNAMIC) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for k in 0..(p.filesz / 16).min(1 << 16) {
            let Some(o) = p.offset.checked_add(k * 16) else {
                break;
            };
            let (Some(tag), Some(val)) =
                (u64_at(self.data, o), u64_at(self.data, o.saturating_add(8)))
            else {
                break;
            };
            if tag == 0 {
                break;
            }
            out.push((tag, val));
        }
        out
    }

    /// The function symbol at exactly `addr`, if any.
    fn symbol_at(&self, addr: u64) -> Option<&str> {
        let i = self.symbols.partition_point(|s| s.0 < addr);
        self.symbols
            .get(i)
            .filter(|s| s.0 == addr)
            .map(|s| s.1.as_str())
    }

    /// The value and name of dynamic symbol `index`, if this object defines it.
    fn defined_dynamic_symbol(&self, index: u64) -> Option<(u64, String)> {
        const DT_STRTAB: u64 = 5;
        const DT_SYMTAB: u64 = 6;
        let dynamic = self.dynamic();
        let find = |t: u64| dynamic.iter().find(|e| e.0 == t).map(|e| e.1);
        let sym = self
            .file_offset(find(DT_SYMTAB)?)?
            .checked_add(index.checked_mul(24)?)?;
        let (name, shndx, value) = (
            u32_at(self.data, sym)?,
            u16_at(self.data, sym.checked_add(6)?)?,
            u64_at(self.data, sym.checked_add(8)?)?,
        );
        if shndx == 0 {
            return None; // undefined here
        }
        let at = usize::try_from(
            self.file_offset(find(DT_STRTAB)?)?
                .checked_add(name as u64)?,
        )
        .ok()?;
        let s = self.data.get(at..)?;
        let n = s.iter().position(|&b| b == 0)?;
        Some((value, String::from_utf8_lossy(&s[..n]).into_owned()))
    }

    /// What the dynamic loader calls in this shared object, in the order it calls them: `DT_INIT`,
    /// each `DT_INIT_ARRAY` slot, then at exit each `DT_FINI_ARRAY` slot from the last, and
    /// `DT_FINI`. Addresses are link-time (add the load bias). A slot's value is the addend of its
    /// `R_X86_64_RELATIVE` relocation, the bytes in the file (the implicit addend of a `DT_RELR`
    /// entry), or for an `R_X86_64_64` against a symbol this object defines, that definition
    /// (which the loader binds unless another object interposes the symbol); a slot relocated
    /// otherwise is left out. Names are the symbol at the address, else the slot's name.
    pub fn dso_initializers(&self) -> Vec<(TraceKind, u64, String)> {
        const DT_INIT: u64 = 12;
        const DT_FINI: u64 = 13;
        const DT_RELA: u64 = 7;
        const DT_RELASZ: u64 = 8;
        const DT_INIT_ARRAY: u64 = 25;
        const DT_FINI_ARRAY: u64 = 26;
        const DT_INIT_ARRAYSZ: u64 = 27;
        const DT_FINI_ARRAYSZ: u64 = 28;
        const R_X86_64_64: u32 = 1;
        const R_X86_64_RELATIVE: u32 = 8;
        let dynamic = self.dynamic();
        let tag = |t: u64| dynamic.iter().find(|e| e.0 == t).map(|e| e.1);
        // Relocations of the two arrays' slots: the RELATIVE addend, or None for any other type.
        let arrays: Vec<(u64, u64)> = [
            (DT_INIT_ARRAY, DT_INIT_ARRAYSZ),
            (DT_FINI_ARRAY, DT_FINI_ARRAYSZ),
        ]
        .iter()
        .filter_map(|&(a, n)| Some((tag(a)?, tag(n)?.min(1 << 20))))
        .collect();
        let in_arrays = |v: u64| arrays.iter().any(|&(a, n)| v >= a && v - a < n);
        let mut relocated = rustc_hash::FxHashMap::default();
        if let (Some(rela), Some(size)) = (tag(DT_RELA), tag(DT_RELASZ)) {
            if let Some(off) = self.file_offset(rela) {
                for k in 0..(size / 24).min(1 << 22) {
                    let Some(e) = off.checked_add(k * 24) else {
                        break;
                    };
                    let (Some(at), Some(info), Some(addend)) = (
                        u64_at(self.data, e),
                        u64_at(self.data, e.saturating_add(8)),
                        u64_at(self.data, e.saturating_add(16)),
                    ) else {
                        break;
                    };
                    if in_arrays(at) {
                        let value = match info as u32 {
                            R_X86_64_RELATIVE => Some((addend, None)),
                            R_X86_64_64 => self
                                .defined_dynamic_symbol(info >> 32)
                                .map(|(v, n)| (v.wrapping_add(addend), (addend == 0).then_some(n))),
                            _ => None,
                        };
                        relocated.insert(at, value);
                    }
                }
            }
        }
        // A slot's target and the symbol it was relocated against, if any.
        let slot = |at: u64| -> Option<(u64, Option<String>)> {
            let (v, sym) = match relocated.get(&at) {
                Some(r) => r.clone()?,
                None => (u64_at(self.data, self.file_offset(at)?)?, None),
            };
            (v != 0 && v != u64::MAX).then_some((v, sym))
        };
        let name = |addr: u64, fallback: String| {
            self.symbol_at(addr).map(str::to_string).unwrap_or(fallback)
        };
        let array =
            |t: u64, n: u64, section: &str, kind: TraceKind| -> Vec<(TraceKind, u64, String)> {
                let (Some(start), Some(size)) = (tag(t), tag(n)) else {
                    return Vec::new();
                };
                (0..(size / 8).min(1 << 17))
                    .filter_map(|k| {
                        let (v, sym) = slot(start.checked_add(k * 8)?)?;
                        let fallback = sym.unwrap_or_else(|| format!("{section}[{k}]"));
                        Some((kind, v, name(v, fallback)))
                    })
                    .collect()
            };
        let mut out = Vec::new();
        if let Some(v) = tag(DT_INIT).filter(|&v| v != 0) {
            out.push((TraceKind::DtInit, v, name(v, "_init".into())));
        }
        out.extend(array(
            DT_INIT_ARRAY,
            DT_INIT_ARRAYSZ,
            ".init_array",
            TraceKind::Init,
        ));
        let mut fini = array(
            DT_FINI_ARRAY,
            DT_FINI_ARRAYSZ,
            ".fini_array",
            TraceKind::Fini,
        );
        fini.reverse();
        out.extend(fini);
        if let Some(v) = tag(DT_FINI).filter(|&v| v != 0) {
            out.push((TraceKind::DtFini, v, name(v, "_fini".into())));
        }
        out
    }

    /// The `DT_NEEDED` names of the dynamic section, in order.
    pub fn needed(&self) -> Vec<String> {
        const DT_NEEDED: u64 = 1;
        const DT_STRTAB: u64 = 5;
        let dynamic = self.dynamic();
        let Some(strtab) = dynamic
            .iter()
            .find(|e| e.0 == DT_STRTAB)
            .and_then(|e| self.file_offset(e.1))
        else {
            return Vec::new();
        };
        dynamic
            .iter()
            .filter(|e| e.0 == DT_NEEDED)
            .filter_map(|e| {
                let at = usize::try_from(strtab.checked_add(e.1)?).ok()?;
                let s = self.data.get(at..)?;
                let n = s.iter().position(|&b| b == 0)?;
                Some(String::from_utf8_lossy(&s[..n]).into_owned())
            })
            .collect()
    }
}
