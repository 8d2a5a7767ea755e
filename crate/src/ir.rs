//! LTO objects once a linker plugin claims them. GCC's `-flto` objects hold bytecode
//! (`.gnu.lto_*` sections); its plugin (`liblto_plugin.so`) reads each one it claims and hands
//! the linker the symbol table of the code inside ([`IrSymbol`]s). Here that table becomes a small
//! stand-in relocatable object ([`stand_in`]) with exactly those symbols, parsed like any other,
//! so that they take part in symbol resolution, COMDAT selection and archive member selection as
//! a real object's symbols do. The plugin itself (a shared library that reads files by
//! descriptor and runs the compiler) is the caller's, reached through [`Claim`]: the core never
//! loads it, opens a file or runs a process.

use crate::diag::Result;
use object::elf;

/// How an IR symbol is defined: the plugin API's `ld_plugin_symbol_kind`, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrKind {
    Def,
    WeakDef,
    Undef,
    WeakUndef,
    Common,
}

impl IrKind {
    /// From the plugin API's `LDPK_*` value.
    pub fn from_api(k: u8) -> Option<IrKind> {
        Some(match k {
            0 => IrKind::Def,
            1 => IrKind::WeakDef,
            2 => IrKind::Undef,
            3 => IrKind::WeakUndef,
            4 => IrKind::Common,
            _ => return None,
        })
    }

    pub fn is_undefined(self) -> bool {
        matches!(self, IrKind::Undef | IrKind::WeakUndef)
    }
}

/// One symbol of a claimed object, as the plugin describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrSymbol {
    pub name: Vec<u8>,
    pub kind: IrKind,
    /// ELF visibility (`STV_*`).
    pub visibility: u8,
    pub size: u64,
    /// The COMDAT group a definition belongs to (its key), if any.
    pub comdat: Option<Vec<u8>>,
    /// A function (true) or a variable (false), when the plugin says.
    pub function: Option<bool>,
}

/// ELF visibility from the plugin API's `LDPV_*` (default, protected, internal, hidden).
pub fn visibility_from_api(v: i32) -> u8 {
    match v {
        1 => elf::STV_PROTECTED,
        2 => elf::STV_INTERNAL,
        3 => elf::STV_HIDDEN,
        _ => elf::STV_DEFAULT,
    }
}

/// How the link resolved an IR symbol, what the plugin asks once every symbol is read: the plugin
/// API's `ld_plugin_symbol_resolution`, with its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Resolution {
    Undef = 1,
    /// This definition prevails, and a regular object (or the linker) refers to it.
    PrevailingDef = 2,
    /// This definition prevails, and only IR refers to it: the compiler may drop or inline it.
    PrevailingDefIronly = 3,
    /// A regular object's definition prevails over this one.
    PreemptedReg = 4,
    /// Another IR object's definition prevails over this one.
    PreemptedIr = 5,
    /// This reference binds to another IR object's definition.
    ResolvedIr = 6,
    /// This reference binds to a regular object's definition.
    ResolvedExec = 7,
    /// This reference binds to a shared object's definition.
    ResolvedDyn = 8,
    /// Like `PrevailingDefIronly`, but exported: something outside the link may refer to it.
    PrevailingDefIronlyExp = 9,
}

/// An object with LTO sections, offered to the plugin: the file holding it and where in it.
pub struct Offered<'s> {
    /// The file's name as the link was given it (an archive's, for a member).
    pub file: &'s str,
    /// Where the object starts in that file (0, or an archive member's data).
    pub offset: u64,
    /// The object's bytes.
    pub data: &'s [u8],
    /// The object's display name (`lib.a(member.o)`).
    pub name: &'s str,
}

/// The caller's linker plugin, as the resolve phase uses it.
pub trait Claim<'a> {
    /// Offer an object with LTO sections: its IR symbol table when the plugin claims it, None
    /// when it does not (the object then links as it is).
    fn claim(&mut self, offered: &Offered<'_>) -> Result<Option<Vec<IrSymbol>>>;
    /// Keep a claimed object's stand-in bytes as long as the link's inputs live.
    fn keep(&mut self, bytes: Vec<u8>) -> &'a [u8];
}

/// Section index of the stand-in's section for definitions outside any COMDAT group.
const PLAIN: u32 = 1;

/// A relocatable x86-64 object whose global symbols are `symbols`, in order: definitions in an
/// empty section (a COMDAT group's in an empty section of that group, with the key as the
/// group's signature), commons as commons, references undefined. Nothing in it is laid out:
/// it only takes part in symbol resolution.
pub fn stand_in(symbols: &[IrSymbol]) -> Vec<u8> {
    // The COMDAT keys, in order of first appearance; group k is section 2+2k, its member 3+2k.
    let mut keys: Vec<&[u8]> = Vec::new();
    for s in symbols {
        if let (Some(k), false) = (&s.comdat, s.kind.is_undefined()) {
            if !keys.contains(&k.as_slice()) {
                keys.push(k);
            }
        }
    }
    let groups = keys.len() as u32;
    let (symtab, strtab, shstrtab) = (2 + 2 * groups, 3 + 2 * groups, 4 + 2 * groups);
    let mut strings = vec![0u8];
    let mut add_string = |name: &[u8]| {
        let at = strings.len() as u32;
        strings.extend_from_slice(name);
        strings.push(0);
        at
    };
    let mut syms = vec![0u8; 24];
    for (k, key) in keys.iter().enumerate() {
        let name = add_string(key);
        push_sym(
            &mut syms,
            name,
            elf::STB_LOCAL,
            elf::STT_NOTYPE,
            0,
            3 + 2 * k as u16,
            0,
            0,
        );
    }
    for s in symbols {
        let name = add_string(&s.name);
        let bind = match s.kind {
            IrKind::WeakDef | IrKind::WeakUndef => elf::STB_WEAK,
            _ => elf::STB_GLOBAL,
        };
        let ty = match s.function {
            Some(true) => elf::STT_FUNC,
            Some(false) => elf::STT_OBJECT,
            None => elf::STT_NOTYPE,
        };
        let (shndx, value) = match s.kind {
            IrKind::Undef | IrKind::WeakUndef => (elf::SHN_UNDEF, 0),
            IrKind::Common => (elf::SHN_COMMON, 1),
            IrKind::Def | IrKind::WeakDef => match &s.comdat {
                Some(k) => {
                    let g = keys.iter().position(|x| x == k).unwrap_or(0);
                    (3 + 2 * g as u16, 0)
                }
                None => (PLAIN as u16, 0),
            },
        };
        push_sym(
            &mut syms,
            name,
            bind,
            ty,
            s.visibility,
            shndx,
            value,
            s.size,
        );
    }
    let shnames = b"\0.ir\0.group\0.symtab\0.strtab\0.shstrtab\0";
    let (n_ir, n_group, n_symtab, n_strtab, n_shstrtab) = (1, 5, 12, 20, 28);
    // Contents: the groups' words, the symbols, the strings, the section names.
    let mut body = Vec::new();
    let mut group_at = Vec::new();
    for k in 0..groups {
        group_at.push(64 + body.len() as u64);
        body.extend_from_slice(&elf::GRP_COMDAT.to_le_bytes());
        body.extend_from_slice(&(3 + 2 * k).to_le_bytes());
    }
    let syms_at = 64 + body.len() as u64;
    body.extend_from_slice(&syms);
    let str_at = 64 + body.len() as u64;
    body.extend_from_slice(&strings);
    let shstr_at = 64 + body.len() as u64;
    body.extend_from_slice(shnames);
    while body.len() % 8 != 0 {
        body.push(0);
    }
    let shoff = 64 + body.len() as u64;
    let shnum = 5 + 2 * groups;
    let mut out = elf_header(shoff, shnum as u16, shstrtab as u16);
    out.extend_from_slice(&body);
    let alloc = u64::from(elf::SHF_ALLOC);
    let mut sh = |name: u32, ty: u32, flags: u64, off: u64, size: u64, link: u32, info: u32| {
        push_section(&mut out, [name, ty], flags, off, size, [link, info]);
    };
    sh(0, elf::SHT_NULL, 0, 0, 0, 0, 0);
    sh(n_ir, elf::SHT_PROGBITS, alloc, 0, 0, 0, 0);
    for (k, &at) in group_at.iter().enumerate() {
        sh(n_group, elf::SHT_GROUP, 0, at, 8, symtab, 1 + k as u32);
        let flags = alloc | u64::from(elf::SHF_GROUP);
        sh(n_ir, elf::SHT_PROGBITS, flags, 0, 0, 0, 0);
    }
    let syms_len = syms.len() as u64;
    sh(
        n_symtab,
        elf::SHT_SYMTAB,
        0,
        syms_at,
        syms_len,
        strtab,
        1 + groups,
    );
    sh(
        n_strtab,
        elf::SHT_STRTAB,
        0,
        str_at,
        strings.len() as u64,
        0,
        0,
    );
    sh(
        n_shstrtab,
        elf::SHT_STRTAB,
        0,
        shstr_at,
        shnames.len() as u64,
        0,
        0,
    );
    out
}

fn elf_header(shoff: u64, shnum: u16, shstrndx: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(b"\x7fELF");
    h.extend_from_slice(&[elf::ELFCLASS64, elf::ELFDATA2LSB, elf::EV_CURRENT, 0]);
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&elf::ET_REL.to_le_bytes());
    h.extend_from_slice(&elf::EM_X86_64.to_le_bytes());
    h.extend_from_slice(&u32::from(elf::EV_CURRENT).to_le_bytes());
    h.extend_from_slice(&[0; 16]); // e_entry, e_phoff
    h.extend_from_slice(&shoff.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for half in [64u16, 0, 0, 64, shnum, shstrndx] {
        h.extend_from_slice(&half.to_le_bytes());
    }
    h
}

#[allow(clippy::too_many_arguments)]
fn push_sym(
    out: &mut Vec<u8>,
    name: u32,
    bind: u8,
    ty: u8,
    other: u8,
    shndx: u16,
    value: u64,
    size: u64,
) {
    out.extend_from_slice(&name.to_le_bytes());
    out.push((bind << 4) | ty);
    out.push(other);
    out.extend_from_slice(&shndx.to_le_bytes());
    out.extend_from_slice(&value.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
}

/// A section header: `[name, type]`, flags, offset, size in bytes, `[link, info]`.
fn push_section(out: &mut Vec<u8>, nt: [u32; 2], flags: u64, off: u64, size: u64, li: [u32; 2]) {
    let (align, entsize) = match nt[1] {
        elf::SHT_SYMTAB => (8u64, 24u64),
        elf::SHT_GROUP => (4, 4),
        _ => (1, 0),
    };
    out.extend_from_slice(&nt[0].to_le_bytes());
    out.extend_from_slice(&nt[1].to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // sh_addr
    out.extend_from_slice(&off.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&li[0].to_le_bytes());
    out.extend_from_slice(&li[1].to_le_bytes());
    out.extend_from_slice(&align.to_le_bytes());
    out.extend_from_slice(&entsize.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Object, SymPlace};

    fn sym(name: &str, kind: IrKind, comdat: Option<&str>) -> IrSymbol {
        IrSymbol {
            name: name.as_bytes().to_vec(),
            kind,
            visibility: elf::STV_DEFAULT,
            size: 4,
            comdat: comdat.map(|c| c.as_bytes().to_vec()),
            function: Some(true),
        }
    }

    #[test]
    fn a_stand_in_parses_with_the_plugins_symbols_in_order() {
        let syms = [
            sym("main", IrKind::Def, None),
            sym("printf", IrKind::Undef, None),
            sym("_Z1fIiEvT_", IrKind::WeakDef, Some("_Z1fIiEvT_")),
            sym("w", IrKind::WeakUndef, None),
            sym("c", IrKind::Common, None),
        ];
        let bytes = stand_in(&syms);
        let obj = Object::parse("x.o".into(), &bytes).unwrap();
        let names: Vec<&[u8]> = obj.global_names.iter().map(|&(_, n)| n).collect();
        assert_eq!(names, [&b"main"[..], b"printf", b"_Z1fIiEvT_", b"w", b"c"]);
        let g = obj.first_global;
        assert!(matches!(obj.sym_place(g), Ok(SymPlace::Section(1))));
        assert_eq!(obj.sym_place(g + 1).unwrap(), SymPlace::Undefined);
        assert_eq!(obj.sym_place(g + 4).unwrap(), SymPlace::Common);
        assert_eq!(obj.symbols[g + 2].st_bind(), elf::STB_WEAK);
        assert_eq!(obj.comdat_groups.len(), 1);
        assert_eq!(obj.comdat_groups[0].0, b"_Z1fIiEvT_");
        assert!(!obj.lto);
    }
}
