//! Shared objects as link inputs: their dynamic symbols, each bound to the version the library
//! marks default (`memcpy@@GLIBC_2.14`, not the hidden `memcpy@GLIBC_2.2.5`), and their `DT_SONAME`,
//! which becomes a `DT_NEEDED` entry of the output. Parsed zero-copy, every range checked.

use crate::diag::{err, name_str, Diagnostic, Result};
use crate::input::E;
use object::elf;
use object::read::elf::{FileHeader, SectionHeader, SectionTable};
use object::read::StringTable;
use object::LittleEndian as LE;

#[derive(Debug, Clone)]
pub struct DynSym<'a> {
    pub name: &'a [u8],
    /// [`name_hash`](crate::input::name_hash) of `name`.
    pub hash: u64,
    pub value: u64,
    pub size: u64,
    pub st_info: u8,
    pub st_other: u8,
    pub defined: bool,
    /// Defined in a read-only section (no `SHF_WRITE`): a copy of it goes to `.data.rel.ro`.
    pub readonly: bool,
    /// The version this definition carries, or the version this reference needs (None:
    /// unversioned).
    pub version: Option<&'a [u8]>,
    /// A non-default version (`foo@V`, not `foo@@V`): only a reference that names the version
    /// binds to it, never a plain `foo`.
    pub hidden: bool,
}

impl DynSym<'_> {
    pub fn st_type(&self) -> u8 {
        self.st_info & 0xf
    }
    pub fn bind(&self) -> u8 {
        self.st_info >> 4
    }
    /// The type an importing module records: an IFUNC is just a function to its callers.
    pub fn import_type(&self) -> u8 {
        match self.st_type() {
            elf::STT_GNU_IFUNC => elf::STT_FUNC,
            t => t,
        }
    }
}

pub struct SharedObject<'a> {
    pub name: String,
    pub soname: String,
    /// `soname` is the library's own `DT_SONAME` (not the name it was given by).
    pub named_itself: bool,
    /// Its `DT_AUDIT` (`--audit` when it was linked): a program linked against it audits the
    /// same libraries (`DT_DEPAUDIT`), as GNU ld records.
    pub audit: Option<String>,
    /// Global and weak symbols: definitions (at their default version, and at non-default ones,
    /// marked `hidden`), and undefined references.
    pub syms: Vec<DynSym<'a>>,
}

/// The address range of the shared object's `PT_GNU_RELRO` segment, if any: its sections
/// count as read-only, as GNU ld counts them (the loader makes them so before the program runs).
fn relro_range(header: &elf::FileHeader64<LE>, data: &[u8]) -> Option<(u64, u64)> {
    let phdrs = header.program_headers(E, data).ok()?;
    let p = phdrs
        .iter()
        .find(|p| p.p_type.get(E) == elf::PT_GNU_RELRO)?;
    let start = p.p_vaddr.get(E);
    Some((start, start.checked_add(p.p_memsz.get(E))?))
}

/// Whether `[addr, addr + size)` lies inside `range`.
fn within(range: Option<(u64, u64)>, addr: u64, size: u64) -> bool {
    range.is_some_and(|(a, b)| addr >= a && addr.checked_add(size).is_some_and(|end| end <= b))
}

impl<'a> SharedObject<'a> {
    pub fn parse(name: String, data: &'a [u8]) -> Result<SharedObject<'a>> {
        let bad = |m: String| Diagnostic::error(m).file(name.clone());
        let header = elf::FileHeader64::<LE>::parse(data)
            .map_err(|e| bad(format!("bad ELF header: {e}")))?;
        if header.e_machine(E) != elf::EM_X86_64 {
            return err(bad(format!(
                "wrong machine type {} (expected x86-64)",
                header.e_machine(E)
            )));
        }
        let sections = header
            .sections(E, data)
            .map_err(|e| bad(format!("bad section headers: {e}")))?;
        let dynsym = sections
            .symbols(E, data, elf::SHT_DYNSYM)
            .map_err(|e| bad(format!("bad .dynsym: {e}")))?;
        let mut versym: &[elf::Versym<LE>] = &[];
        let mut verdef_names: Vec<(u16, &'a [u8])> = Vec::new();
        // The versions references need (`.gnu.version_r`), by version index.
        let mut verneed_names: Vec<(u16, &'a [u8])> = Vec::new();
        let mut soname = None;
        let mut audit = None;
        for sh in sections.iter() {
            if let Some((v, _)) = sh
                .gnu_versym(E, data)
                .map_err(|e| bad(format!("bad .gnu.version: {e}")))?
            {
                versym = v;
            }
            if let Some((mut it, link)) = sh
                .gnu_verdef(E, data)
                .map_err(|e| bad(format!("bad .gnu.version_d: {e}")))?
            {
                let strings = sections
                    .strings(E, data, link)
                    .map_err(|e| bad(format!("bad verdef strings: {e}")))?;
                let mut guard = 0;
                while let Some((vd, mut aux)) = it
                    .next()
                    .map_err(|e| bad(format!("bad verdef entry: {e}")))?
                {
                    guard += 1;
                    if guard > 65536 {
                        return err(bad("too many version definitions".into()));
                    }
                    if let Some(a) = aux
                        .next()
                        .map_err(|e| bad(format!("bad verdaux entry: {e}")))?
                    {
                        let n = a
                            .name(E, strings)
                            .map_err(|e| bad(format!("bad version name: {e}")))?;
                        verdef_names.push((vd.vd_ndx.get(E), n));
                    }
                }
            }
            verneed_names.extend(needed_versions(&sections, sh, data, &name)?);
            if let Some((so, au)) = dynamic_names(&sections, sh, data, &name)? {
                soname = so.or(soname);
                audit = au.or(audit);
            }
        }
        let relro = relro_range(header, data);
        let mut syms = Vec::new();
        for (i, s) in dynsym.symbols().iter().enumerate().skip(1) {
            let bind = s.st_bind();
            if bind != elf::STB_GLOBAL && bind != elf::STB_WEAK && bind != elf::STB_GNU_UNIQUE {
                continue;
            }
            let vis = s.st_other & 3;
            if vis == elf::STV_HIDDEN || vis == elf::STV_INTERNAL {
                continue;
            }
            let shndx = s.st_shndx.get(E);
            let defined = shndx != elf::SHN_UNDEF;
            let readonly = defined
                && shndx < elf::SHN_LORESERVE
                && sections
                    .section(object::SectionIndex(usize::from(shndx)))
                    .is_ok_and(|sh| {
                        sh.sh_flags(E) & u64::from(elf::SHF_WRITE) == 0
                            || within(relro, sh.sh_addr(E), sh.sh_size(E))
                    });
            let mut version = None;
            let mut hidden = false;
            if let Some(v) = versym.get(i) {
                let v = v.0.get(E);
                // A hidden version (`foo@V`, not `foo@@V`) is for old binaries and for
                // references that name it.
                hidden = defined && v & elf::VERSYM_HIDDEN != 0;
                let idx = v & elf::VERSYM_VERSION;
                if idx == 0 && defined {
                    continue; // local
                }
                if idx > 1 {
                    let names = if defined {
                        &verdef_names
                    } else {
                        &verneed_names
                    };
                    version = names.iter().find(|(n, _)| *n == idx).map(|(_, n)| *n);
                }
            }
            let name = dynsym
                .symbol_name(E, s)
                .map_err(|e| bad(format!("dynamic symbol {i}: {e}")))?;
            if s.st_size.get(E) > crate::input::MAX_SIZE {
                return err(bad(format!(
                    "dynamic symbol {i} ({}): size 0x{:x} is impossibly large",
                    name_str(name),
                    s.st_size.get(E)
                ))
                .symbol(name_str(name)));
            }
            syms.push(DynSym {
                name,
                hash: crate::input::name_hash(name),
                value: s.st_value.get(E),
                size: s.st_size.get(E),
                st_info: s.st_info,
                st_other: s.st_other,
                defined,
                readonly,
                version,
                hidden,
            });
        }
        // Without DT_SONAME, GNU ld records the library as it was named: the path given on the
        // command line (`out/b.so`), or the file name `-l` found (see `resolve::parse_shared`).
        let named_itself = soname.is_some();
        let soname = soname.unwrap_or_else(|| name.clone());
        Ok(SharedObject {
            name,
            soname,
            named_itself,
            audit,
            syms,
        })
    }
}

/// A `.dynamic` section's `DT_SONAME` and `DT_AUDIT` strings (None for any other section).
#[allow(clippy::type_complexity)]
fn dynamic_names<'a>(
    sections: &SectionTable<'a, elf::FileHeader64<LE>, &'a [u8]>,
    sh: &elf::SectionHeader64<LE>,
    data: &'a [u8],
    name: &str,
) -> Result<Option<(Option<String>, Option<String>)>> {
    let bad = |m: String| Diagnostic::error(m).file(name.to_string());
    let Some((dyns, link)) = sh
        .dynamic(E, data)
        .map_err(|e| bad(format!("bad .dynamic: {e}")))?
    else {
        return Ok(None);
    };
    let strings: StringTable<'a, &'a [u8]> = sections
        .strings(E, data, link)
        .map_err(|e| bad(format!("bad .dynamic strings: {e}")))?;
    let (mut soname, mut audit) = (None, None);
    for d in dyns {
        let (tag, slot) = match d.d_tag.get(E) {
            t if t == u64::from(elf::DT_SONAME) => ("DT_SONAME", &mut soname),
            t if t == u64::from(elf::DT_AUDIT) => ("DT_AUDIT", &mut audit),
            _ => continue,
        };
        let off = u32::try_from(d.d_val.get(E)).map_err(|_| bad(format!("bad {tag}")))?;
        let s = strings
            .get(off)
            .map_err(|_| bad(format!("{tag} is past .dynstr")))?;
        *slot = Some(name_str(s));
    }
    Ok(Some((soname, audit)))
}

/// The versions a `.gnu.version_r` section names, with the index its references use (empty
/// for any other section).
fn needed_versions<'a>(
    sections: &SectionTable<'a, elf::FileHeader64<LE>, &'a [u8]>,
    sh: &elf::SectionHeader64<LE>,
    data: &'a [u8],
    name: &str,
) -> Result<Vec<(u16, &'a [u8])>> {
    let bad = |m: String| Diagnostic::error(m).file(name.to_string());
    let mut out = Vec::new();
    let Some((mut it, link)) = sh
        .gnu_verneed(E, data)
        .map_err(|e| bad(format!("bad .gnu.version_r: {e}")))?
    else {
        return Ok(out);
    };
    let strings = sections
        .strings(E, data, link)
        .map_err(|e| bad(format!("bad verneed strings: {e}")))?;
    // A corrupt chain can loop: bound the entries (libraries) and their versions alike.
    let mut entries = 0usize;
    while let Some((_, mut aux)) = it
        .next()
        .map_err(|e| bad(format!("bad verneed entry: {e}")))?
    {
        entries += 1;
        if entries > 65536 {
            return err(bad("too many needed versions".into()));
        }
        while let Some(a) = aux
            .next()
            .map_err(|e| bad(format!("bad vernaux entry: {e}")))?
        {
            if out.len() >= 65536 {
                return err(bad("too many needed versions".into()));
            }
            let n = a
                .name(E, strings)
                .map_err(|e| bad(format!("bad needed version name: {e}")))?;
            out.push((a.vna_other.get(E), n));
        }
    }
    Ok(out)
}

/// First line of a shared-object description: a text stand-in for a library that is not at
/// hand (the playground links PIEs against glibc without shipping `libc.so.6`). It lists what a
/// link needs from a library: its soname and its default-version exports.
///
/// ```text
/// #initlink-dso 1
/// soname libc.so.6
/// # name kind size value version      kind: F function, O object, T tls, I ifunc, N other;
/// printf F 0 0x60770 GLIBC_2.2.5          lower case = weak; version "-" = unversioned
/// ```
pub const DESCRIPTION_MAGIC: &[u8] = b"#initlink-dso 1\n";

pub fn is_description(data: &[u8]) -> bool {
    data.starts_with(DESCRIPTION_MAGIC)
}

impl<'a> SharedObject<'a> {
    /// Read a description (see [`DESCRIPTION_MAGIC`]); names borrow from `data`.
    pub fn parse_description(name: String, data: &'a [u8]) -> Result<SharedObject<'a>> {
        let mut soname = None;
        let mut syms = Vec::new();
        for (n, line) in data.split(|&b| b == b'\n').enumerate().skip(1) {
            let bad =
                |m: &str| Diagnostic::error(format!("line {}: {m}", n + 1)).file(name.clone());
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let mut f = line.split(|&b| b == b' ').filter(|t| !t.is_empty());
            let (Some(a), Some(b)) = (f.next(), f.next()) else {
                return err(bad("expected `name kind size value version`"));
            };
            if a == b"soname" {
                soname = Some(name_str(b));
                continue;
            }
            let (Some(size), Some(value), Some(version)) = (f.next(), f.next(), f.next()) else {
                return err(bad("expected `name kind size value version`"));
            };
            let num = |t: &[u8]| -> Option<u64> {
                let s = std::str::from_utf8(t).ok()?;
                match s.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16).ok(),
                    None => s.parse().ok(),
                }
            };
            let (Some(size), Some(value)) = (num(size), num(value)) else {
                return err(bad("bad size or value"));
            };
            if size > crate::input::MAX_SIZE {
                return err(bad("size is impossibly large"));
            }
            let kind = match b {
                [k] => *k,
                _ => return err(bad("kind is one letter: F, O, T, I or N")),
            };
            let ty = match kind.to_ascii_uppercase() {
                b'F' => elf::STT_FUNC,
                b'O' => elf::STT_OBJECT,
                b'T' => elf::STT_TLS,
                b'I' => elf::STT_GNU_IFUNC,
                b'N' => elf::STT_NOTYPE,
                _ => return err(bad("kind is one letter: F, O, T, I or N")),
            };
            let bind = if kind.is_ascii_lowercase() {
                elf::STB_WEAK
            } else {
                elf::STB_GLOBAL
            };
            syms.push(DynSym {
                name: a,
                hash: crate::input::name_hash(a),
                value,
                size,
                st_info: (bind << 4) | ty,
                st_other: 0,
                defined: true,
                readonly: false,
                version: (version != b"-").then_some(version),
                hidden: false,
            });
        }
        let Some(soname) = soname else {
            return err(
                Diagnostic::error("shared-object description without a `soname` line").file(name),
            );
        };
        Ok(SharedObject {
            name,
            soname,
            named_itself: true,
            audit: None,
            syms,
        })
    }

    /// The description of this library (what `initlink --describe-dso` prints).
    pub fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::from_utf8_lossy(DESCRIPTION_MAGIC).into_owned();
        let _ = writeln!(s, "soname {}", self.soname);
        s.push_str("# name kind size value version (kind: F function, O object, T tls, I ifunc, N other; lower case = weak)\n");
        for d in self.syms.iter().filter(|d| d.defined && !d.hidden) {
            let k = match d.st_type() {
                elf::STT_FUNC => 'F',
                elf::STT_OBJECT => 'O',
                elf::STT_TLS => 'T',
                elf::STT_GNU_IFUNC => 'I',
                _ => 'N',
            };
            let k = if d.bind() == elf::STB_WEAK {
                k.to_ascii_lowercase()
            } else {
                k
            };
            let v = d.version.map_or_else(|| "-".to_string(), name_str);
            let _ = writeln!(s, "{} {k} {} 0x{:x} {v}", name_str(d.name), d.size, d.value);
        }
        s
    }
}
