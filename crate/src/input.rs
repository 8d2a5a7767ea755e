//! Input phase: tell objects, archives and shared objects apart, and parse ELF relocatable objects
//! zero-copy over the caller's bytes. Every index and range that later phases follow is checked here
//! (or when first read), so malformed input becomes a diagnostic naming the file and section.

use crate::diag::{err, name_str, Diagnostic, Result};
use object::elf;
use object::read::archive::{ArchiveFile, ArchiveMember};
use object::read::elf::{FileHeader, SectionHeader, SectionTable};
use object::LittleEndian as LE;

pub type Sym = elf::Sym64<LE>;
/// Largest section, common symbol or other size an input may claim: the x86-64 user address space
/// (47 bits). Sizes are only checked against the file for sections with contents; this bounds the
/// rest (`.bss`, `.tbss`, commons), so no later sum of them can overflow a `u64`.
pub const MAX_SIZE: u64 = 1 << 47;
/// Largest alignment a section or common symbol may ask for (256 MiB).
pub const MAX_ALIGN: u64 = 1 << 28;

/// How many bytes of names (section names, symbol names) later phases may read and hash for one
/// file: 8 times its size, plus 1 MiB. Real objects store each name once (the sum is about the
/// string table's size); a hostile one can point every symbol at one huge name, and the work
/// would grow as the product of the two.
fn name_budget(file_len: usize) -> usize {
    file_len.saturating_mul(8).saturating_add(1 << 20)
}
pub type Rela = elf::Rela64<LE>;
/// The name prefix of GCC's LTO bytecode sections.
pub const LTO_PREFIX: &[u8] = b".gnu.lto_";
pub const E: LE = LE;

/// The hash global symbol names are interned by.
pub fn name_hash(name: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(name)
}

/// One file given to the link (bytes owned by the caller: an mmap, a `Vec`, wasm memory).
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub name: String,
    pub data: &'a [u8],
    /// Found by `-lNAME` in a search directory (not named by its path): a shared object without
    /// `DT_SONAME` is then recorded in `DT_NEEDED` by its file name alone, as GNU ld does.
    pub lib_search: bool,
    /// A thin archive's members' bytes, in archive order (the files its headers name, which
    /// the input resolver read); empty otherwise.
    pub members: Vec<&'a [u8]>,
}

/// A command line item as the core sees it: files and group boundaries, in order.
#[derive(Debug, Clone)]
pub enum InputItem<'a> {
    File(Input<'a>),
    StartGroup,
    EndGroup,
    /// `--as-needed` / `--no-as-needed` for the shared objects that follow.
    AsNeeded(bool),
    /// `--whole-archive` / `--no-whole-archive`: every member of the archives that follow is
    /// loaded, needed or not.
    WholeArchive(bool),
    /// Version nodes: a `--version-script` (`command_line`) or a linker script's `VERSION`.
    Versions {
        script: &'a crate::version_script::Script,
        command_line: bool,
    },
    /// The patterns of a `--dynamic-list` or (`export`) an `--export-dynamic-symbol-list`.
    DynamicList {
        patterns: &'a [crate::version_script::Pattern],
        export: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Object,
    Archive,
    ThinArchive,
    SharedObject,
    Text,
    Unknown,
}

pub fn classify(data: &[u8]) -> FileKind {
    if data.starts_with(b"!<arch>\n") {
        FileKind::Archive
    } else if data.starts_with(b"!<thin>\n") {
        FileKind::ThinArchive
    } else if data.starts_with(b"\x7fELF") {
        if data.len() >= 18 && u16::from_le_bytes([data[16], data[17]]) == elf::ET_DYN {
            FileKind::SharedObject
        } else {
            FileKind::Object
        }
    } else if !data.is_empty()
        && data
            .iter()
            .take(256)
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        FileKind::Text
    } else {
        FileKind::Unknown
    }
}

#[derive(Debug, Clone)]
pub struct Section<'a> {
    pub name: &'a [u8],
    pub sh_type: u32,
    pub flags: u64,
    pub align: u64,
    pub size: u64,
    pub entsize: u64,
    pub info: u32,
    pub link: u32,
    /// Empty for `SHT_NOBITS`. A compressed section's (`SHF_COMPRESSED`) header and stream: it
    /// is uncompressed as it is written (`size` is its uncompressed size).
    pub data: &'a [u8],
    pub compressed: bool,
    pub relocs: &'a [Rela],
    /// Index of the `SHT_RELA` section that holds `relocs` (0 when none), for diagnostics.
    pub rela_index: u32,
}

impl Section<'_> {
    pub fn is_alloc(&self) -> bool {
        self.flags & u64::from(elf::SHF_ALLOC) != 0
    }
    pub fn name_str(&self) -> String {
        name_str(self.name)
    }
}

/// Where a symbol lives, with extended indices resolved and range-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymPlace {
    Undefined,
    Absolute,
    Common,
    Section(u32),
}

#[derive(Debug)]
pub struct Object<'a> {
    /// Display name: `path` or `archive.a(member.o)`.
    pub name: String,
    pub data: &'a [u8],
    pub sections: Vec<Section<'a>>,
    pub symbols: &'a [Sym],
    strtab: &'a [u8],
    shndx: &'a [object::U32Bytes<LE>],
    pub first_global: usize,
    /// Name and [`name_hash`] of each global symbol (index `first_global + k`): found and hashed
    /// here, where objects are parsed in parallel, not in the in-order symbol resolution. The
    /// name is the one symbols resolve by: a default-version definition `foo@@V` (from `.symver`)
    /// defines `foo`; a non-default `foo@V` is its own name.
    pub global_names: Vec<(u64, &'a [u8])>,
    /// Some global's name carries a version (`@`).
    pub versioned: bool,
    /// `(signature symbol name, member section indices)` of each COMDAT group, in file order.
    pub comdat_groups: Vec<(&'a [u8], Vec<u32>)>,
    /// It holds GCC's LTO bytecode (`.gnu.lto_*` sections): a linker plugin may claim it.
    pub lto: bool,
}

impl<'a> Object<'a> {
    pub fn parse(name: String, data: &'a [u8]) -> Result<Object<'a>> {
        let header = check_header(&name, data)?;
        let shoff = header.e_shoff(E);
        if shoff != 0 && shoff < 64 {
            return err(bad(
                &name,
                &format!("section header table at offset 0x{shoff:x} overlaps the ELF header"),
            ));
        }
        let table = header
            .sections(E, data)
            .map_err(|e| bad(&name, &format!("bad section header table: {e}")))?;
        let budget = name_budget(data.len());
        let mut sections = read_sections(&name, data, &table, budget)?;
        let symtab = SymbolTable::find(&name, &sections)?;
        attach_relocations(&name, &mut sections, &symtab)?;
        let lto = sections.iter().any(|s| s.name.starts_with(LTO_PREFIX));
        let mut obj = Object {
            name,
            data,
            sections,
            symbols: symtab.symbols,
            strtab: symtab.strtab,
            shndx: symtab.shndx,
            first_global: symtab.first_global,
            global_names: Vec::with_capacity(
                symtab.symbols.len().saturating_sub(symtab.first_global),
            ),
            comdat_groups: Vec::new(),
            versioned: false,
            lto,
        };
        // Symbol names and group signatures share one budget of name bytes.
        let name_bytes = obj.check_symbols(budget)?;
        obj.read_comdat_groups(name_bytes, budget)?;
        Ok(obj)
    }

    /// Validate every symbol's name and section index once, so later phases can index freely,
    /// and the sizes and alignments later phases add up; note each global's name and hash.
    /// Returns the bytes of names read.
    fn check_symbols(&mut self, budget: usize) -> Result<usize> {
        let nsec = self.sections.len();
        let mut name_bytes = 0usize;
        for i in 0..self.symbols.len() {
            let sym = &self.symbols[i];
            let sname = self.sym_name(i)?;
            name_bytes = name_bytes.saturating_add(sname.len());
            if i >= self.first_global {
                let mut key = sname;
                if let Some(at) = memchr::memchr(b'@', sname) {
                    self.versioned = true;
                    let defined = sym.st_shndx.get(E) != elf::SHN_UNDEF;
                    if defined && sname.get(at + 1) == Some(&b'@') {
                        key = &sname[..at];
                    }
                }
                self.global_names.push((name_hash(key), key));
            }
            if name_bytes > budget {
                return err(Diagnostic::error(format!(
                    "symbol {i}: symbol names add up to more than {budget} bytes (symbols share absurdly long names)"
                ))
                .file(self.name.clone())
                .section(".symtab"));
            }
            let bad_sym = |msg: String| {
                err(
                    Diagnostic::error(format!("symbol {i} ({}): {msg}", self.sym_display(i)))
                        .file(self.name.clone())
                        .section(".symtab"),
                )
            };
            match self.sym_place(i)? {
                SymPlace::Section(s) => {
                    let Some(sec) = self.sections.get(s as usize) else {
                        return bad_sym(format!(
                            "section index {s} is out of range ({nsec} sections)"
                        ));
                    };
                    if s == 0 {
                        return bad_sym(
                            "extended section index 0 (SHN_UNDEF) is not allowed".into(),
                        );
                    }
                    if sym.st_type() == elf::STT_TLS && sec.flags & u64::from(elf::SHF_TLS) == 0 {
                        return bad_sym(format!(
                            "thread-local symbol defined in section {s} ({}), which is not a TLS section",
                            sec.name_str()
                        ));
                    }
                    // A TLS symbol's value is its offset in the TLS template: it must lie inside
                    // its section (or at its end).
                    if sym.st_type() == elf::STT_TLS && sym.st_value.get(E) > sec.size {
                        return bad_sym(format!(
                            "thread-local symbol at offset 0x{:x}, past the end of section {s} ({}, 0x{:x} bytes)",
                            sym.st_value.get(E),
                            sec.name_str(),
                            sec.size
                        ));
                    }
                }
                SymPlace::Common => {
                    let (size, align) = (sym.st_size.get(E), sym.st_value.get(E));
                    if size > MAX_SIZE {
                        return bad_sym(format!("common symbol size 0x{size:x} is too large"));
                    }
                    if align > 1 && !align.is_power_of_two() {
                        return bad_sym(format!(
                            "common symbol alignment {align} is not a power of two"
                        ));
                    }
                    if align > MAX_ALIGN {
                        return bad_sym(format!("common symbol alignment {align} is too large"));
                    }
                }
                SymPlace::Undefined | SymPlace::Absolute => {}
            }
        }
        Ok(name_bytes)
    }

    /// The COMDAT groups, in file order; their signatures' names count toward the name budget
    /// after the symbols' `name_bytes`.
    fn read_comdat_groups(&mut self, mut name_bytes: usize, budget: usize) -> Result<()> {
        let nsec = self.sections.len();
        let bad = |msg: &str| bad(&self.name, msg);
        for i in 0..self.sections.len() {
            let s = &self.sections[i];
            if s.sh_type != elf::SHT_GROUP {
                continue;
            }
            let words: &[object::U32Bytes<LE>] = object::pod::slice_from_all_bytes(s.data)
                .map_err(|_| bad(&format!("group section {i}: size is not a multiple of 4")))?;
            let Some((flags, members)) = words.split_first() else {
                return err(bad(&format!("group section {i}: empty")));
            };
            if flags.get(E) & elf::GRP_COMDAT == 0 {
                continue;
            }
            let sig = s.info as usize;
            if sig >= self.symbols.len() {
                return err(bad(&format!(
                    "group section {i}: signature symbol {sig} out of range"
                )));
            }
            let sig_name = self.sym_name(sig)?;
            name_bytes = name_bytes.saturating_add(sig_name.len());
            if name_bytes > budget {
                return err(bad(&format!(
                    "group section {i}: group signatures add up to more than {budget} bytes of names"
                )));
            }
            let mut list = Vec::with_capacity(members.len());
            for m in members {
                let m = m.get(E);
                if m == 0 || m as usize >= nsec {
                    return err(bad(&format!(
                        "group section {i}: member section index {m} out of range"
                    )));
                }
                list.push(m);
            }
            self.comdat_groups.push((sig_name, list));
        }
        Ok(())
    }

    /// A symbol's name, bounds-checked against the string table.
    pub fn sym_name(&self, i: usize) -> Result<&'a [u8]> {
        let sym = match self.symbols.get(i) {
            Some(s) => s,
            None => {
                return err(Diagnostic::error(format!("symbol index {i} out of range"))
                    .file(self.name.clone()))
            }
        };
        let off = sym.st_name.get(E) as usize;
        let tail = match self.strtab.get(off..) {
            Some(t) => t,
            None => {
                return err(Diagnostic::error(format!(
                    "symbol {i}: name offset 0x{off:x} is past the string table (0x{:x} bytes)",
                    self.strtab.len()
                ))
                .file(self.name.clone())
                .section(".strtab"))
            }
        };
        // Every symbol's name is found once per link (the parse validates them all).
        match nul_at(tail) {
            Some(n) => Ok(&tail[..n]),
            None => err(Diagnostic::error(format!(
                "symbol {i}: name at 0x{off:x} is not NUL-terminated"
            ))
            .file(self.name.clone())
            .section(".strtab")),
        }
    }

    /// A symbol's name for messages: section symbols are named after their section.
    pub fn sym_display(&self, i: usize) -> String {
        let Some(sym) = self.symbols.get(i) else {
            return format!("<symbol {i}>");
        };
        if sym.st_type() == elf::STT_SECTION {
            if let Ok(SymPlace::Section(s)) = self.sym_place(i) {
                if let Some(sec) = self.sections.get(s as usize) {
                    return sec.name_str();
                }
            }
        }
        match self.sym_name(i) {
            Ok(n) if !n.is_empty() => name_str(n),
            _ => format!("<symbol {i}>"),
        }
    }

    /// Where symbol `i` is defined. Inlined (every relocation asks), the rare and the wrong
    /// cases out of line.
    #[inline]
    pub fn sym_place(&self, i: usize) -> Result<SymPlace> {
        match self.symbols.get(i).map(|s| s.st_shndx.get(E)) {
            Some(elf::SHN_UNDEF) => Ok(SymPlace::Undefined),
            Some(elf::SHN_ABS) => Ok(SymPlace::Absolute),
            Some(elf::SHN_COMMON) => Ok(SymPlace::Common),
            Some(s) if s < elf::SHN_LORESERVE => Ok(SymPlace::Section(u32::from(s))),
            _ => self.sym_place_special(i),
        }
    }

    #[cold]
    #[inline(never)]
    fn sym_place_special(&self, i: usize) -> Result<SymPlace> {
        let Some(sym) = self.symbols.get(i) else {
            return err(
                Diagnostic::error(format!("symbol index {i} out of range")).file(self.name.clone())
            );
        };
        match sym.st_shndx.get(E) {
            elf::SHN_XINDEX => match self.shndx.get(i) {
                Some(x) => Ok(SymPlace::Section(x.get(E))),
                None => err(Diagnostic::error(format!(
                    "symbol {i}: SHN_XINDEX without SHT_SYMTAB_SHNDX entry"
                ))
                .file(self.name.clone())),
            },
            s => err(Diagnostic::error(format!(
                "symbol {i}: unsupported special section index 0x{s:x}"
            ))
            .file(self.name.clone())),
        }
    }

    /// A "slim" LTO object: bytecode only (`-flto` without `-ffat-lto-objects`), GCC's mark
    /// `__gnu_lto_slim` among its symbols; without a plugin nothing of it can be linked.
    pub fn is_slim(&self) -> bool {
        self.lto
            && self
                .global_names
                .iter()
                .any(|&(_, n)| n == b"__gnu_lto_slim")
    }

    pub fn section_name(&self, i: u32) -> String {
        self.sections
            .get(i as usize)
            .map(|s| s.name_str())
            .unwrap_or_else(|| format!("<section {i}>"))
    }
}

/// An error about the file `file` as a whole.
fn bad(file: &str, msg: &str) -> Diagnostic {
    Diagnostic::error(msg.to_string()).file(file.to_string())
}

/// The ELF header of an x86-64 relocatable object, or why `data` is not one.
fn check_header<'a>(name: &str, data: &'a [u8]) -> Result<&'a elf::FileHeader64<LE>> {
    if data.len() < 64 {
        return err(bad(
            name,
            &format!("file too short to be an ELF object ({} bytes)", data.len()),
        ));
    }
    if &data[..4] != b"\x7fELF" {
        return err(bad(name, "not an ELF file"));
    }
    if data[4] != elf::ELFCLASS64 {
        return err(bad(
            name,
            "32-bit ELF object: initlink links x86-64 (ELFCLASS64) only",
        ));
    }
    if data[5] != elf::ELFDATA2LSB {
        return err(bad(
            name,
            "big-endian ELF object: initlink links little-endian x86-64 only",
        ));
    }
    let header = elf::FileHeader64::<LE>::parse(data)
        .map_err(|e| bad(name, &format!("bad ELF header: {e}")))?;
    let machine = header.e_machine(E);
    if machine != elf::EM_X86_64 {
        return err(bad(
            name,
            &format!("wrong machine type {machine} (expected x86-64, EM_X86_64 = 62)"),
        ));
    }
    match header.e_type(E) {
        elf::ET_REL => Ok(header),
        elf::ET_DYN => err(bad(name, "shared object given to a static link")),
        elf::ET_EXEC => err(bad(name, "is an executable, not a relocatable object")),
        t => err(bad(name, &format!("unsupported ELF file type {t}"))),
    }
}

/// Every section header, checked: its name, its contents inside the file, its size, flags and
/// alignment. Section names may add up to at most `budget` bytes.
fn read_sections<'a>(
    name: &str,
    data: &'a [u8],
    table: &SectionTable<'a, elf::FileHeader64<LE>>,
    budget: usize,
) -> Result<Vec<Section<'a>>> {
    let bad = |msg: &str| bad(name, msg);
    let mut sections = Vec::with_capacity(table.len());
    let mut name_bytes = 0usize;
    for (i, sh) in table.iter().enumerate() {
        let sname = table
            .section_name(E, sh)
            .map_err(|e| bad(&format!("section {i}: bad name offset: {e}")))?;
        name_bytes = name_bytes.saturating_add(sname.len());
        if name_bytes > budget {
            return err(bad(&format!(
                "section {i}: section names add up to more than {budget} bytes (sections share absurdly long names)"
            )));
        }
        let sh_type = sh.sh_type(E);
        let sdata = if sh_type == elf::SHT_NOBITS || sh_type == elf::SHT_NULL {
            &[][..]
        } else {
            sh.data(E, data).map_err(|_| {
                bad(&format!(
                    "section {} ({}): offset 0x{:x} + size 0x{:x} is past the end of the file (0x{:x} bytes)",
                    i,
                    name_str(sname),
                    sh.sh_offset(E),
                    sh.sh_size(E),
                    data.len()
                ))
            })?
        };
        let (size, flags) = if sh_type == elf::SHT_NULL {
            // An inactive section header: its other fields mean nothing (gABI).
            (0, 0)
        } else {
            (sh.sh_size(E), sh.sh_flags(E))
        };
        let mut align = sh.sh_addralign(E);
        let compressed = flags & u64::from(elf::SHF_COMPRESSED) != 0 && sh_type != elf::SHT_NOBITS;
        let size = if compressed {
            // The uncompressed size and alignment, from the section's own header (bounded).
            let (size, a) = crate::compress::header(sdata)
                .map_err(|why| bad(&format!("section {} ({}): {why}", i, name_str(sname))))?;
            align = a;
            size
        } else {
            size
        };
        if let Some(why) = section_fault(size, flags, align) {
            return err(bad(&format!("section {} ({}): {why}", i, name_str(sname))));
        }
        sections.push(Section {
            name: sname,
            sh_type,
            flags,
            align: align.max(1),
            size,
            entsize: sh.sh_entsize(E),
            info: sh.sh_info(E),
            link: sh.sh_link(E),
            data: sdata,
            compressed,
            relocs: &[],
            rela_index: 0,
        });
    }
    Ok(sections)
}

/// What is wrong with a section's size, flags and alignment, if anything.
fn section_fault(size: u64, flags: u64, align: u64) -> Option<String> {
    let has = |f: u32| flags & u64::from(f) != 0;
    if size > MAX_SIZE {
        Some(format!(
            "size 0x{size:x} is larger than any x86-64 program can be"
        ))
    } else if has(elf::SHF_COMPRESSED) && has(elf::SHF_ALLOC) {
        Some("SHF_COMPRESSED is not allowed on an allocated section".into())
    } else if has(elf::SHF_TLS) && !has(elf::SHF_ALLOC) {
        Some("SHF_TLS without SHF_ALLOC (thread-local data must be allocated)".into())
    } else if align > 1 && !align.is_power_of_two() {
        Some(format!("alignment {align} is not a power of two"))
    } else if align > MAX_ALIGN {
        Some(format!("alignment {align} is too large"))
    } else {
        None
    }
}

/// A relocatable object's symbol table (at most one) and what goes with it.
struct SymbolTable<'a> {
    /// The section index of `.symtab`, None when there is none.
    index: Option<usize>,
    symbols: &'a [Sym],
    strtab: &'a [u8],
    shndx: &'a [object::U32Bytes<LE>],
    first_global: usize,
}

impl<'a> SymbolTable<'a> {
    fn find(name: &str, sections: &[Section<'a>]) -> Result<SymbolTable<'a>> {
        let bad = |msg: &str| bad(name, msg);
        let mut t = SymbolTable {
            index: None,
            symbols: &[],
            strtab: &[],
            shndx: &[],
            first_global: 0,
        };
        for (i, s) in sections.iter().enumerate() {
            if s.sh_type != elf::SHT_SYMTAB {
                continue;
            }
            if t.index.is_some() {
                return err(bad("more than one symbol table"));
            }
            t.index = Some(i);
            t.symbols = object::pod::slice_from_all_bytes(s.data).map_err(|_| {
                bad(&format!(
                    "section {i} (.symtab): size is not a multiple of the symbol size"
                ))
            })?;
            let link = s.link as usize;
            match sections.get(link) {
                Some(st) if st.sh_type == elf::SHT_STRTAB => t.strtab = st.data,
                _ => {
                    return err(bad(&format!(
                        "section {i} (.symtab): sh_link {link} is not a string table"
                    )))
                }
            }
            t.first_global = s.info as usize;
            if t.first_global == 0 && !t.symbols.is_empty() {
                return err(bad(&format!(
                    "section {i} (.symtab): sh_info 0 makes the null symbol global"
                )));
            }
            if t.first_global > t.symbols.len() {
                return err(bad(&format!(
                    "section {i} (.symtab): sh_info {} (first global) is past the {} symbols",
                    t.first_global,
                    t.symbols.len()
                )));
            }
        }
        for (i, s) in sections.iter().enumerate() {
            if s.sh_type == elf::SHT_SYMTAB_SHNDX && Some(s.link as usize) == t.index {
                t.shndx = object::pod::slice_from_all_bytes(s.data)
                    .map_err(|_| bad(&format!("section {i}: bad SHT_SYMTAB_SHNDX size")))?;
            }
        }
        Ok(t)
    }
}

/// Attach each relocation section to the section it relocates, checking its target, its symbol
/// table and every symbol index.
fn attach_relocations(
    name: &str,
    sections: &mut [Section<'_>],
    symtab: &SymbolTable<'_>,
) -> Result<()> {
    let bad = |msg: &str| bad(name, msg);
    let nsec = sections.len();
    for i in 0..sections.len() {
        let s = &sections[i];
        match s.sh_type {
            elf::SHT_RELA => {
                let target = s.info as usize;
                if target == 0 || target >= nsec {
                    return err(bad(&format!(
                        "relocation section {} ({}): sh_info {} is not a valid section index",
                        i,
                        s.name_str(),
                        target
                    )));
                }
                if Some(s.link as usize) != symtab.index {
                    return err(bad(&format!(
                        "relocation section {} ({}): sh_link {} is not the symbol table",
                        i,
                        s.name_str(),
                        s.link
                    )));
                }
                let relocs: &[Rela] = object::pod::slice_from_all_bytes(s.data).map_err(|_| {
                    bad(&format!(
                        "relocation section {} ({}): size is not a multiple of 24",
                        i,
                        s.name_str()
                    ))
                })?;
                if sections[target].sh_type == elf::SHT_NOBITS && !relocs.is_empty() {
                    return err(bad(&format!(
                        "relocation section {} ({}): relocates section {} ({}), which has no contents",
                        i,
                        s.name_str(),
                        target,
                        sections[target].name_str()
                    )));
                }
                let nsyms = symtab.symbols.len() as u64;
                if let Some((k, r)) = relocs
                    .iter()
                    .enumerate()
                    .find(|(_, r)| u64::from(r.r_sym(E, false)) >= nsyms)
                {
                    return err(Diagnostic::error(format!(
                        "relocation {k}: symbol index {} is out of range ({nsyms} symbols)",
                        r.r_sym(E, false)
                    ))
                    .file(name.to_string())
                    .section(sections[target].name_str())
                    .offset(r.r_offset.get(E)));
                }
                if sections[target].rela_index != 0 {
                    return err(bad(&format!(
                        "section {} has two relocation sections",
                        target
                    )));
                }
                sections[target].relocs = relocs;
                sections[target].rela_index = i as u32;
            }
            elf::SHT_REL => {
                return err(bad(&format!(
                "section {} ({}): SHT_REL relocations are not used on x86-64; expected SHT_RELA",
                i,
                s.name_str()
            )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The file offset of a member's header (what a symbol index points at): its data start, less the
/// 60-byte header and a BSD `#1/LEN` name stored before the data. A thin archive's member has
/// no data here: its header's place in the archive's bytes is its offset.
fn member_header_offset(data: &[u8], m: &ArchiveMember<'_>) -> Option<u64> {
    let h = m.header()?;
    if m.is_thin() {
        let at =
            (h as *const object::archive::Header as usize).checked_sub(data.as_ptr() as usize)?;
        return (at < data.len()).then_some(at as u64);
    }
    let digits = h.size.iter().take_while(|b| b.is_ascii_digit());
    let mut stored = 0u64;
    for d in digits {
        stored = stored.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    let bsd_name = stored.checked_sub(m.size())?;
    m.file_range().0.checked_sub(60)?.checked_sub(bsd_name)
}

/// The members a thin archive names, in archive order: paths relative to the archive's
/// directory (or absolute), whose files hold the members' bytes.
pub fn thin_member_names(data: &[u8]) -> std::result::Result<Vec<String>, String> {
    let file = ArchiveFile::parse(data).map_err(|e| format!("bad archive: {e}"))?;
    let mut out = Vec::new();
    for m in file.members() {
        let m = m.map_err(|e| format!("bad archive member header: {e}"))?;
        out.push(name_str(m.name()));
    }
    Ok(out)
}

/// An `ar` archive: its symbol index (name → member offset) and the bytes to parse members from.
pub struct Archive<'a> {
    pub name: String,
    pub data: &'a [u8],
    file: ArchiveFile<'a>,
    /// Symbol name → member file offset, in index order.
    pub index: Vec<(&'a [u8], u64)>,
    /// A thin archive's members' bytes, by header offset (sorted); empty for a normal archive.
    thin: Vec<(u64, &'a [u8])>,
}

impl<'a> Archive<'a> {
    /// Read the archive `data`; a thin archive's members' bytes are `members`, in archive order
    /// ([`thin_member_names`] lists the files).
    pub fn parse(name: String, data: &'a [u8], members: &[&'a [u8]]) -> Result<Archive<'a>> {
        let bad = |msg: String| Diagnostic::error(msg).file(name.clone());
        let file = ArchiveFile::parse(data).map_err(|e| bad(format!("bad archive: {e}")))?;
        let mut ar = Archive {
            name: name.clone(),
            data,
            file,
            index: Vec::new(),
            thin: Vec::new(),
        };
        if ar.file.is_thin() {
            ar.thin = ar.thin_members(members)?;
        }
        let symbols = ar
            .file
            .symbols()
            .map_err(|e| bad(format!("bad archive symbol index: {e}")))?;
        match symbols {
            Some(iter) => {
                for s in iter {
                    let s = s.map_err(|e| bad(format!("bad archive symbol index entry: {e}")))?;
                    ar.index.push((s.name(), s.offset().0));
                }
            }
            // No index (`ar q` without `s`): build one from the members' defined globals.
            None => ar.index = ar.index_from_members()?,
        }
        Ok(ar)
    }

    fn bad(&self, msg: String) -> Diagnostic {
        Diagnostic::error(msg).file(self.name.clone())
    }

    /// Pair a thin archive's member headers with the bytes of the files they name.
    fn thin_members(&self, members: &[&'a [u8]]) -> Result<Vec<(u64, &'a [u8])>> {
        let mut out = Vec::with_capacity(members.len());
        let mut given = members.iter();
        for m in self.file.members() {
            let m = m.map_err(|e| self.bad(format!("bad archive member header: {e}")))?;
            let off = self.header_offset(&m)?;
            let Some(&bytes) = given.next() else {
                return err(self.bad(format!(
                    "thin archive member '{}' was not read",
                    name_str(m.name())
                )));
            };
            out.push((off, bytes));
        }
        Ok(out)
    }

    fn header_offset(&self, m: &ArchiveMember<'a>) -> Result<u64> {
        let bad = || {
            self.bad(format!(
                "bad archive member header for '{}'",
                name_str(m.name())
            ))
        };
        member_header_offset(self.data, m).ok_or_else(|| bad().into())
    }

    /// The bytes of member `m`, whose header is at `off`.
    fn member_data(&self, m: &ArchiveMember<'a>, off: u64) -> Result<&'a [u8]> {
        if m.is_thin() {
            let k = self.thin.binary_search_by_key(&off, |&(o, _)| o);
            let missing = || self.bad(format!("thin archive member at 0x{off:x} was not read"));
            return k.map(|k| self.thin[k].1).map_err(|_| missing().into());
        }
        m.data(self.data)
            .map_err(|e| self.bad(format!("bad archive member: {e}")).into())
    }

    /// An index built from every object member's defined globals, in archive order.
    fn index_from_members(&self) -> Result<Vec<(&'a [u8], u64)>> {
        let mut index = Vec::new();
        for m in self.file.members() {
            let m = m.map_err(|e| self.bad(format!("bad archive member header: {e}")))?;
            let off = self.header_offset(&m)?;
            let mdata = self.member_data(&m, off)?;
            if classify(mdata) != FileKind::Object {
                continue;
            }
            let mname = format!("{}({})", self.name, name_str(m.name()));
            let obj = Object::parse(mname, mdata)?;
            for i in obj.first_global..obj.symbols.len() {
                if obj.symbols[i].st_shndx.get(E) != elf::SHN_UNDEF {
                    index.push((obj.sym_name(i)?, off));
                }
            }
        }
        Ok(index)
    }

    /// The header offsets of the members that are ELF objects, in archive order (for
    /// `--whole-archive`, which loads them all).
    pub fn object_members(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for m in self.file.members() {
            let m = m.map_err(|e| self.bad(format!("bad archive member header: {e}")))?;
            let off = self.header_offset(&m)?;
            if classify(self.member_data(&m, off)?) == FileKind::Object {
                out.push(off);
            }
        }
        Ok(out)
    }

    /// Parse the member at `offset` (a header offset from the symbol index).
    pub fn member(&self, offset: u64) -> Result<(String, Object<'a>)> {
        let bad = |msg: String| {
            Diagnostic::error(msg)
                .file(self.name.clone())
                .offset(offset)
        };
        let m = self
            .file
            .member(object::read::archive::ArchiveOffset(offset))
            .map_err(|e| bad(format!("symbol index points at a bad member: {e}")))?;
        let mname = name_str(m.name());
        let mdata = self.member_data(&m, offset)?;
        let full = format!("{}({})", self.name, mname);
        match classify(mdata) {
            FileKind::Object => Ok((mname, Object::parse(full, mdata)?)),
            FileKind::Archive | FileKind::ThinArchive => {
                err(bad(format!("member '{mname}' is a nested archive")))
            }
            _ => Object::parse(full, mdata).map(|o| (mname, o)),
        }
    }
}

/// Where the first NUL byte of `s` is. Most symbol names are short: their first words are
/// tested eight bytes at a time (`(w - 0x01..) & !w & 0x80..` marks the first zero byte as its
/// lowest set bit; a borrow can only mark bytes after it), the rest of a long one by memchr.
#[inline]
fn nul_at(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while at < 32 {
        let Some(w) = s.get(at..at + 8) else { break };
        let w = u64::from_le_bytes(w.try_into().ok()?);
        let zero = w.wrapping_sub(ONES) & !w & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr(0, s.get(at..)?).map(|n| at + n)
}

#[cfg(test)]
mod tests {
    /// `nul_at` agrees with memchr at every length and position, with high bytes (whose
    /// borrows the word test must not mistake for a zero) around the NUL.
    #[test]
    fn nul_at_finds_the_first_nul_as_memchr_does() {
        for len in 0..48 {
            for fill in [b'a', 0x80, 0xff, 0x01] {
                for nul in (0..len).map(Some).chain([None]) {
                    let mut s = vec![fill; len];
                    if let Some(at) = nul {
                        s[at] = 0;
                        if at + 1 < len {
                            s[at + 1] = 0; // a second NUL after the first
                        }
                    }
                    assert_eq!(super::nul_at(&s), memchr::memchr(0, &s), "{s:?}");
                }
            }
        }
    }
}
