//! `-r` (`--relocatable`, `-i`): the output is one relocatable object (`ET_REL`) for a later
//! link, as GNU ld makes it. A separate output mode after resolve (archives are searched, COMDAT
//! groups chosen, names bound as in any link): plan places input sections by name
//! ([`plan`]); there are no addresses, segments, linker-made sections, entry point or undefined
//! symbol errors. The symbol table keeps locals, globals, undefined and common symbols
//! ([`symtab`]); each output section's relocations are kept, rebased onto it ([`write`]).
//! `.eh_frame` is concatenated with its relocations (the later link builds the header), and
//! mergeable strings are concatenated, not merged, as GNU ld does with `-r`.

mod plan;
mod symtab;
mod write;

use crate::diag::{Diagnostic, Result};
use crate::options::Options;
use crate::report::{PieceInfo, Report, SectionInfo};
use crate::resolve::Resolved;
use crate::write::OutputSink;
use object::elf;
use plan::Plan;
use write::Header;

/// Section header indices: null, the groups, each output section followed by its `.rela`
/// section (when it has relocations), `.symtab`, `.symtab_shndx` (when a section index needs
/// more than 16 bits), `.strtab`, `.shstrtab`.
pub(super) struct Indices {
    groups: Vec<u32>,
    sections: Vec<u32>,
    /// 0: no `.rela` section.
    relas: Vec<u32>,
    symtab: u32,
    xindex: u32,
    strtab: u32,
    shstrtab: u32,
    count: u32,
}

impl Indices {
    fn new(plan: &Plan<'_>) -> Indices {
        let mut n = 1u32;
        let mut next = || {
            n += 1;
            n - 1
        };
        let groups = plan.groups.iter().map(|_| next()).collect();
        let (mut sections, mut relas) = (Vec::new(), Vec::new());
        for s in &plan.sections {
            sections.push(next());
            relas.push(if s.relocs > 0 { next() } else { 0 });
        }
        let symtab = next();
        // Symbols name sections by 16-bit index: past `SHN_LORESERVE` they need the extension.
        let xindex = if symtab > u32::from(elf::SHN_LORESERVE) {
            next()
        } else {
            0
        };
        let (strtab, shstrtab) = (next(), next());
        Indices {
            groups,
            sections,
            relas,
            symtab,
            xindex,
            strtab,
            shstrtab,
            count: next(),
        }
    }
}

/// What a relocatable link hands back: notes to show, and the report's view when asked.
pub(crate) struct Linked {
    pub notes: Vec<Diagnostic>,
    pub sections: Vec<SectionInfo>,
    pub size: u64,
}

/// Link `res` into a relocatable object written into `sink`.
pub(crate) fn link(
    res: &Resolved<'_>,
    opts: &Options,
    sink: &mut dyn OutputSink,
) -> Result<Linked> {
    if let Some(d) = res.dsos.first() {
        return Err(Diagnostic::error(format!(
            "attempted static link of dynamic object `{}'",
            d.obj.name
        ))
        .file(d.obj.name.clone())
        .into());
    }
    let mut notes = Vec::new();
    let gc = if opts.gc_sections {
        // GNU ld's rule: with -r, nothing is a root unless named.
        if opts.entry.is_none() && opts.undefined.is_empty() {
            return Err(Diagnostic::error(
                "--gc-sections requires a defined symbol root specified by -e or -u",
            )
            .into());
        }
        let gc = crate::layout::gc::collect(res, opts);
        if opts.print_gc_sections {
            notes.extend(gc.removed_notes(res));
        }
        Some(gc)
    } else {
        None
    };
    let plan = plan::plan(res, opts, gc.as_ref())?;
    let ix = Indices::new(&plan);
    let t = symtab::build(res, &plan, &ix)?;
    if t.needs_xindex && ix.xindex == 0 {
        return Err(
            Diagnostic::error("internal: a symbol's section index needs SHN_XINDEX").into(),
        );
    }
    let (mut headers, data) = sections(res, opts, &plan, &ix, t)?;
    let bytes = write::assemble(res, &ix, &mut headers, &data);
    let sections = if opts.report || opts.map {
        report_sections(res, &plan, &ix, &headers, &data[ix.shstrtab as usize])
    } else {
        Vec::new()
    };
    crate::write::put_bytes(sink, opts, &bytes)?;
    Ok(Linked {
        notes,
        sections,
        size: bytes.len() as u64,
    })
}

/// The section headers (file offsets still 0) and bytes, in header order, as they are made.
struct Sheets {
    headers: Vec<Header>,
    data: Vec<Vec<u8>>,
    shstrtab: Vec<u8>,
}

impl Sheets {
    fn name(&mut self, s: &[u8]) -> u32 {
        let o = self.shstrtab.len() as u32;
        self.shstrtab.extend_from_slice(s);
        self.shstrtab.push(0);
        o
    }

    fn set(&mut self, i: u32, name: &[u8], h: Header, data: Vec<u8>) {
        let name = self.name(name);
        self.headers[i as usize] = Header { name, ..h };
        self.data[i as usize] = data;
    }
}

fn blank() -> Header {
    Header {
        name: 0,
        sh_type: 0,
        flags: 0,
        offset: 0,
        size: 0,
        link: 0,
        info: 0,
        align: 0,
        entsize: 0,
    }
}

/// Every section's header and bytes.
fn sections(
    res: &Resolved<'_>,
    opts: &Options,
    plan: &Plan<'_>,
    ix: &Indices,
    t: symtab::Symtab,
) -> Result<(Vec<Header>, Vec<Vec<u8>>)> {
    let n = ix.count as usize;
    let mut sh = Sheets {
        headers: (0..n).map(|_| blank()).collect(),
        data: vec![Vec::new(); n],
        shstrtab: vec![0u8],
    };
    for (g, group) in plan.groups.iter().enumerate() {
        let mut words = elf::GRP_COMDAT.to_le_bytes().to_vec();
        for &m in &group.members {
            for i in [ix.sections[m as usize], ix.relas[m as usize]] {
                if i != 0 {
                    words.extend_from_slice(&i.to_le_bytes());
                }
            }
        }
        let f = group.file.0 as usize;
        let sig = res.files[f].global(group.sig as usize).map_or_else(
            || t.locals[f].get(group.sig as usize).copied().unwrap_or(0),
            |id| t.globals[id.0 as usize],
        );
        let h = Header {
            sh_type: elf::SHT_GROUP,
            size: words.len() as u64,
            link: ix.symtab,
            info: sig,
            align: 4,
            entsize: 4,
            ..blank()
        };
        sh.set(ix.groups[g], b".group", h, words);
    }
    for k in 0..plan.sections.len() {
        content(&mut sh, res, opts, plan, ix, &t, k)?;
    }
    tables(&mut sh, ix, t);
    Ok((sh.headers, sh.data))
}

/// Output section `k` and its `.rela` section.
fn content(
    sh: &mut Sheets,
    res: &Resolved<'_>,
    opts: &Options,
    plan: &Plan<'_>,
    ix: &Indices,
    t: &symtab::Symtab,
    k: usize,
) -> Result<()> {
    let os = &plan.sections[k];
    let mut bytes = write::contents(res, plan, k)?;
    let (mut flags, mut align, mut size) = (os.flags, os.align, os.size);
    if opts.compress_debug != crate::compress::Codec::None
        && os.name.starts_with(b".debug")
        && os.flags & u64::from(elf::SHF_ALLOC) == 0
    {
        if let Some(c) = crate::compress::compress(opts.compress_debug, &bytes, os.align) {
            (bytes, flags, align) = (c, flags | u64::from(elf::SHF_COMPRESSED), 8);
            size = bytes.len() as u64;
        }
    }
    let link = os.link.map_or(0, |(f, s)| {
        match plan.places[f.0 as usize].get(s as usize) {
            Some(&plan::Place::At { out, .. }) => ix.sections[out as usize],
            _ => 0,
        }
    });
    let h = Header {
        sh_type: os.sh_type,
        flags,
        size,
        link,
        align,
        entsize: os.entsize,
        ..blank()
    };
    sh.set(ix.sections[k], os.name, h, bytes);
    if ix.relas[k] != 0 {
        let entries = write::relocs(res, plan, t, k);
        let mut rela_name = b".rela".to_vec();
        rela_name.extend_from_slice(os.name);
        let h = Header {
            sh_type: elf::SHT_RELA,
            flags: u64::from(elf::SHF_INFO_LINK) | (os.flags & u64::from(elf::SHF_GROUP)),
            size: entries.len() as u64,
            link: ix.symtab,
            info: ix.sections[k],
            align: 8,
            entsize: 24,
            ..blank()
        };
        sh.set(ix.relas[k], &rela_name, h, entries);
    }
    Ok(())
}

/// `.symtab`, `.symtab_shndx`, `.strtab` and, last, `.shstrtab`.
fn tables(sh: &mut Sheets, ix: &Indices, t: symtab::Symtab) {
    let h = Header {
        sh_type: elf::SHT_SYMTAB,
        size: t.syms.len() as u64,
        link: ix.strtab,
        info: t.first_global,
        align: 8,
        entsize: 24,
        ..blank()
    };
    sh.set(ix.symtab, b".symtab", h, t.syms);
    if ix.xindex != 0 {
        let words: Vec<u8> = t.xindex.iter().flat_map(|w| w.to_le_bytes()).collect();
        let h = Header {
            sh_type: elf::SHT_SYMTAB_SHNDX,
            size: words.len() as u64,
            link: ix.symtab,
            align: 4,
            entsize: 4,
            ..blank()
        };
        sh.set(ix.xindex, b".symtab_shndx", h, words);
    }
    let h = Header {
        sh_type: elf::SHT_STRTAB,
        size: t.strtab.len() as u64,
        align: 1,
        ..blank()
    };
    sh.set(ix.strtab, b".strtab", h, t.strtab);
    let name = sh.name(b".shstrtab");
    let table = std::mem::take(&mut sh.shstrtab);
    let i = ix.shstrtab as usize;
    sh.headers[i] = Header {
        name,
        sh_type: elf::SHT_STRTAB,
        size: table.len() as u64,
        align: 1,
        ..blank()
    };
    sh.data[i] = table;
}

/// The output's sections as the report lists them, with the input pieces of each.
fn report_sections(
    res: &Resolved<'_>,
    plan: &Plan<'_>,
    ix: &Indices,
    headers: &[Header],
    shstrtab: &[u8],
) -> Vec<SectionInfo> {
    let mut pieces: Vec<Vec<PieceInfo>> = headers.iter().map(|_| Vec::new()).collect();
    for (k, os) in plan.sections.iter().enumerate() {
        let i = ix.sections[k] as usize;
        pieces[i] = os
            .pieces
            .iter()
            .map(|p| {
                let obj = &res.files[p.file.0 as usize].obj;
                PieceInfo {
                    kind: "input".into(),
                    input: Some(obj.name.clone()),
                    section: Some(obj.section_name(p.sec)),
                    address: 0,
                    offset: headers[i].offset + p.offset,
                    size: obj.sections.get(p.sec as usize).map_or(0, |s| s.size),
                    priority: None,
                    from_ctors: false,
                }
            })
            .collect();
    }
    headers
        .iter()
        .zip(pieces)
        .skip(1)
        .map(|(h, pieces)| SectionInfo {
            name: shstrtab
                .get(h.name as usize..)
                .map(|n| crate::diag::name_str(&n[..memchr::memchr(0, n).unwrap_or(n.len())]))
                .unwrap_or_default(),
            sh_type: crate::report::sh_type_str(h.sh_type),
            flags: crate::report::flags_str(h.flags),
            address: 0,
            offset: h.offset,
            size: h.size,
            align: h.align,
            pieces,
        })
        .collect()
}

/// A report for a relocatable link: the inputs, the output's sections and the notes.
pub(crate) fn report(
    res: &Resolved<'_>,
    opts: &Options,
    linked: &Linked,
    diags: &[Diagnostic],
) -> Report {
    let mut r = crate::report::partial(res, opts, diags);
    r.partial = false;
    r.output.kind = "relocatable".into();
    r.output.entry_symbol = "(none: a relocatable object has no entry point)".into();
    r.output.size = linked.size;
    r.sections = linked.sections.clone();
    r.notes.retain(|n| !n.starts_with("the link failed"));
    r
}
