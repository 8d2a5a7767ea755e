//! Which input section goes where in a relocatable output: input sections of the same name are
//! concatenated into one output section (each at its alignment), in order of first appearance,
//! as GNU ld's `-r` script does (it names few sections, and orphans go by name). The members of
//! each kept COMDAT group get output sections of their own, so the later link can still choose
//! between this object's copy and another's; a group resolve discarded is left out.

use crate::diag::{name_str, Diagnostic, Result};
use crate::input::{Section, MAX_SIZE};
use crate::layout::gc::Gc;
use crate::options::Options;
use crate::resolve::{Def, FileId, Resolved, SymbolId};
use object::elf;
use rustc_hash::FxHashMap;

/// Where an input section went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Not in the output: not a content section, a COMDAT duplicate, collected, or stripped.
    Dropped,
    /// At `offset` in output section `out`.
    At { out: u32, offset: u64 },
    /// A kept COMDAT group's own section: output group `Plan::groups[k]`.
    Group(u32),
}

/// An input section's bytes inside an output section.
pub(super) struct Piece {
    pub file: FileId,
    pub sec: u32,
    pub offset: u64,
}

pub(super) struct OutSec<'a> {
    pub name: &'a [u8],
    pub sh_type: u32,
    pub flags: u64,
    pub align: u64,
    pub entsize: u64,
    pub size: u64,
    pub pieces: Vec<Piece>,
    /// A member of a kept COMDAT group (`SHF_GROUP`); never shared with other inputs.
    pub group: bool,
    /// Bytes made here rather than copied: `.note.gnu.property`, the inputs' notes merged.
    pub made: Option<Vec<u8>>,
    /// The section its first linked piece names in `sh_link` (`SHF_LINK_ORDER`'s, `.stab`'s
    /// string table).
    pub link: Option<(FileId, u32)>,
    /// How many input relocations its pieces have (its `.rela` section exists when nonzero).
    pub relocs: usize,
}

/// A kept COMDAT group: its signature (symbol `sig` of `file`) and member output sections.
pub(super) struct Group {
    pub file: FileId,
    pub sig: u32,
    pub members: Vec<u32>,
}

pub(super) struct Plan<'a> {
    pub sections: Vec<OutSec<'a>>,
    pub groups: Vec<Group>,
    /// Per file, per input section.
    pub places: Vec<Vec<Place>>,
    /// `-d`: each common symbol given space, at (output section, offset).
    pub commons: FxHashMap<SymbolId, (u32, u64)>,
}

/// Sections a relocatable output makes itself or leaves out (symbol and string tables,
/// relocations, groups), rather than copies by name. Other string tables (`.stabstr`) are
/// contents like any.
fn copied(s: &Section<'_>) -> bool {
    match s.sh_type {
        elf::SHT_STRTAB => s.name != b".strtab" && s.name != b".shstrtab",
        t => !matches!(
            t,
            elf::SHT_NULL
                | elf::SHT_SYMTAB
                | elf::SHT_RELA
                | elf::SHT_REL
                | elf::SHT_GROUP
                | elf::SHT_SYMTAB_SHNDX
        ),
    }
}

/// Debugging sections, whose relocations against discarded code GNU ld drops (elsewhere they
/// become `R_*_NONE`).
pub(super) fn is_debug(name: &[u8], flags: u64) -> bool {
    flags & u64::from(elf::SHF_ALLOC) == 0
        && [&b".debug"[..], b".zdebug", b".stab", b".line"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// The members of group section `gi` of `sections`, checked (a non-COMDAT group's words were
/// not looked at by the input phase); None for a group that is not COMDAT.
fn group_members(
    file: &str,
    sections: &[Section<'_>],
    gi: usize,
    nsyms: usize,
) -> Result<Option<Vec<u32>>> {
    let s = &sections[gi];
    let word = |k: usize| {
        s.data
            .get(4 * k..4 * k + 4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    };
    let bad = |why: String| {
        crate::diag::err(
            Diagnostic::error(format!("group section {gi}: {why}"))
                .file(file.to_string())
                .section(s.name_str()),
        )
    };
    if word(0).unwrap_or(0) & elf::GRP_COMDAT == 0 {
        return Ok(None);
    }
    if s.info as usize >= nsyms {
        return bad(format!("signature symbol {} out of range", s.info));
    }
    let members: Vec<u32> = (1..s.data.len() / 4).filter_map(word).collect();
    if let Some(m) = members
        .iter()
        .find(|&&m| m == 0 || m as usize >= sections.len())
    {
        return bad(format!("member section index {m} out of range"));
    }
    Ok(Some(members))
}

impl<'a> Plan<'a> {
    fn new_section(&mut self, s: &Section<'a>, group: bool) -> u32 {
        self.sections.push(OutSec {
            name: s.name,
            sh_type: s.sh_type,
            flags: 0,
            align: 1,
            entsize: s.entsize,
            size: 0,
            pieces: Vec::new(),
            group,
            made: None,
            link: None,
            relocs: 0,
        });
        (self.sections.len() - 1) as u32
    }

    /// Append section `si` of `file` to output section `out`, at its alignment.
    fn add(
        &mut self,
        out: u32,
        file: FileId,
        si: usize,
        s: &Section<'_>,
        name: &str,
    ) -> Result<Place> {
        let o = &mut self.sections[out as usize];
        // `.eh_frame` records need only 4-byte alignment, and 4 bytes of padding between two
        // inputs would read as a zero-length terminator to the next link's walk over records.
        let at = if s.name == b".eh_frame" {
            s.align.min(4)
        } else {
            s.align
        };
        let offset = o
            .size
            .checked_next_multiple_of(at)
            .and_then(|off| off.checked_add(s.size).map(|end| (off, end)));
        let Some((offset, end)) = offset.filter(|&(_, end)| end <= MAX_SIZE) else {
            return crate::diag::err(
                Diagnostic::error(format!(
                    "output section {} would be larger than any object can be",
                    s.name_str()
                ))
                .file(name.to_string())
                .section(s.name_str()),
            );
        };
        o.size = end;
        o.align = o.align.max(s.align);
        let keep = if o.group { elf::SHF_GROUP } else { 0 };
        o.flags |= s.flags & !u64::from((elf::SHF_GROUP & !keep) | elf::SHF_COMPRESSED);
        if o.sh_type == elf::SHT_NOBITS && s.sh_type != elf::SHT_NOBITS {
            o.sh_type = s.sh_type;
        }
        if o.entsize != s.entsize {
            o.entsize = 0;
        }
        if s.link != 0 && o.link.is_none() {
            o.link = Some((file, s.link));
        }
        o.relocs += s.relocs.len();
        o.pieces.push(Piece {
            file,
            sec: si as u32,
            offset,
        });
        Ok(Place::At { out, offset })
    }
}

/// Whether section `si` of file `fi` goes to the output at all.
fn wanted(res: &Resolved<'_>, opts: &Options, gc: Option<&Gc>, fi: usize, si: usize) -> bool {
    let f = &res.files[fi];
    let s = &f.obj.sections[si];
    copied(s)
        && !f.discarded[si]
        && gc.is_none_or(|g| g.live(FileId(fi as u32), si as u32))
        && !(opts.strip_debug && is_debug(s.name, s.flags))
}

/// `--relocatable-merge-sections`: the section `name` joins, by the final link's prefixes
/// (`.text.foo` into `.text`). Mergeable sections keep their names (their entry sizes differ),
/// and so do the init and fini arrays (a suffix is a priority the next link sorts by).
fn merged_name(name: &[u8], flags: u64) -> &[u8] {
    const PREFIXES: [&[u8]; 9] = [
        b".text",
        b".rodata",
        b".data.rel.ro",
        b".data",
        b".bss",
        b".tdata",
        b".tbss",
        b".gcc_except_table",
        b".ldata",
    ];
    if flags & u64::from(elf::SHF_MERGE) != 0 {
        return name;
    }
    PREFIXES
        .into_iter()
        .find(|p| name.starts_with(p) && name.get(p.len()) == Some(&b'.'))
        .unwrap_or(name)
}

/// Place every input section.
pub(super) fn plan<'a>(res: &Resolved<'a>, opts: &Options, gc: Option<&Gc>) -> Result<Plan<'a>> {
    let mut p = Plan {
        sections: Vec::new(),
        groups: Vec::new(),
        places: Vec::with_capacity(res.files.len()),
        commons: FxHashMap::default(),
    };
    let mut by_name: FxHashMap<&'a [u8], u32> = FxHashMap::default();
    for (fi, f) in res.files.iter().enumerate() {
        let (obj, fid) = (&f.obj, FileId(fi as u32));
        let mut places = vec![Place::Dropped; obj.sections.len()];
        for (si, s) in obj.sections.iter().enumerate() {
            if s.sh_type == elf::SHT_GROUP && !f.discarded[si] {
                let Some(members) = group_members(&obj.name, &obj.sections, si, obj.symbols.len())?
                else {
                    continue;
                };
                let mut outs = Vec::with_capacity(members.len());
                for m in members {
                    let m = m as usize;
                    if !wanted(res, opts, gc, fi, m) || places[m] != Place::Dropped {
                        continue;
                    }
                    let out = p.new_section(&obj.sections[m], true);
                    places[m] = p.add(out, fid, m, &obj.sections[m], &obj.name)?;
                    outs.push(out);
                }
                if !outs.is_empty() {
                    places[si] = Place::Group(p.groups.len() as u32);
                    p.groups.push(Group {
                        file: fid,
                        sig: s.info,
                        members: outs,
                    });
                }
                continue;
            }
            if !wanted(res, opts, gc, fi, si) || places[si] != Place::Dropped {
                continue;
            }
            let name = if opts.relocatable_merge_sections {
                merged_name(s.name, s.flags)
            } else {
                s.name
            };
            let out = match by_name.get(name) {
                Some(&o) => o,
                None => {
                    let o = p.new_section(s, false);
                    p.sections[o as usize].name = name;
                    by_name.insert(name, o);
                    o
                }
            };
            places[si] = p.add(out, fid, si, s, &obj.name)?;
        }
        p.places.push(places);
    }
    if let Some(&o) = by_name.get(&b".note.gnu.property"[..]) {
        let (props, _cet_report) = crate::property::merge(res, opts)?;
        let mut note = vec![0u8; crate::property::note_size(&props) as usize];
        crate::property::write_note(&props, &mut note);
        let out = &mut p.sections[o as usize];
        (out.size, out.align, out.made) = (note.len() as u64, 8, Some(note));
    }
    if let Some(&o) = by_name.get(&b".note.GNU-stack"[..]) {
        // As GNU ld: an input without the note (or with an executable one) may need an
        // executable stack, so the note says so (`SHF_EXECINSTR`) for the next link, unless
        // `-z [no]execstack` decides.
        let note = |f: &crate::resolve::File<'_>| {
            f.obj.sections.iter().any(|s| s.name == b".note.GNU-stack")
        };
        let flag = u64::from(elf::SHF_EXECINSTR);
        let out = &mut p.sections[o as usize];
        let exec = opts
            .execstack
            .unwrap_or_else(|| out.flags & flag != 0 || !res.files.iter().all(note));
        out.flags = if exec {
            out.flags | flag
        } else {
            out.flags & !flag
        };
    }
    if opts.define_common {
        define_commons(res, &mut p, &mut by_name)?;
    }
    Ok(p)
}

/// `-d`: every common symbol gets its space at the end of `.bss`, in symbol order.
fn define_commons<'a>(
    res: &Resolved<'a>,
    p: &mut Plan<'a>,
    by_name: &mut FxHashMap<&'a [u8], u32>,
) -> Result<()> {
    for (id, g) in res.globals.iter().enumerate() {
        if !matches!(g.def, Def::Common { .. }) {
            continue;
        }
        let id = SymbolId(id as u32);
        let (size, align) = res.common(id);
        let out = match by_name.get(&b".bss"[..]) {
            Some(&o) => o,
            None => {
                p.sections.push(OutSec {
                    name: b".bss",
                    sh_type: elf::SHT_NOBITS,
                    flags: u64::from(elf::SHF_ALLOC | elf::SHF_WRITE),
                    align: 1,
                    entsize: 0,
                    size: 0,
                    pieces: Vec::new(),
                    group: false,
                    made: None,
                    link: None,
                    relocs: 0,
                });
                let o = (p.sections.len() - 1) as u32;
                by_name.insert(b".bss", o);
                o
            }
        };
        let o = &mut p.sections[out as usize];
        let at = o
            .size
            .checked_next_multiple_of(align.max(1))
            .and_then(|at| at.checked_add(size).map(|end| (at, end)))
            .filter(|&(_, end)| end <= MAX_SIZE);
        let Some((at, end)) = at else {
            return crate::diag::err(
                Diagnostic::error(format!(
                    "common symbol {}: .bss would be larger than any object can be",
                    name_str(g.name)
                ))
                .symbol(name_str(g.name)),
            );
        };
        (o.size, o.align) = (end, o.align.max(align));
        p.commons.insert(id, (out, at));
    }
    Ok(())
}
