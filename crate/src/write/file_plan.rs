//! What the output file holds where, decided before any byte is written: the ELF and program
//! headers, the section headers, the jobs that write the sections and the symbol table chunks.

use super::*;

/// One part of the file written as a unit: a run of one output section's pieces (about 256 KiB
/// of them, so that one big `.text` spreads over the threads too), with its share of the
/// RELATIVE entries at input sites (the start of `.rela.dyn`, in address order),
/// written with the data they fix up.
pub(super) struct Job<'j> {
    pub(super) os: &'j crate::layout::OutSec,
    pub(super) pieces: &'j [crate::layout::Piece],
    /// The section offset the window starts at.
    pub(super) base: u64,
    /// The window: file offset and length.
    pub(super) at: usize,
    pub(super) len: usize,
    /// The RELATIVE entries: file offset and length.
    pub(super) rel_at: usize,
    pub(super) rel_len: usize,
    /// Where the symbols are in `.symtab`, for `--emit-relocs`.
    pub(super) index: Option<&'j SymIndex>,
}

/// A chunk of the symbol table: its symbols, their offset in `.symtab`, their names' length and
/// offset in `.strtab`.
pub(super) type SymChunk<'j> = (&'j [OutSym<'j>], usize, usize, usize);

/// What the output file holds where, known before any of its bytes is written.
pub(super) struct FilePlan<'j> {
    pub(super) total: usize,
    /// ELF header and program headers, at offset 0.
    pub(super) head: Vec<u8>,
    /// Section headers and section names: (file offset, bytes).
    pub(super) shdrs: (usize, Vec<u8>),
    pub(super) shstrtab: (usize, Vec<u8>),
    pub(super) jobs: Vec<Job<'j>>,
    pub(super) symtab_off: usize,
    pub(super) strtab_off: usize,
    pub(super) chunks: Vec<SymChunk<'j>>,
    /// `.note.gnu.build-id`'s file offset, when an ID is asked for.
    pub(super) note: Option<usize>,
    /// `.eh_frame_hdr` and `.eh_frame`, when the header is made.
    pub(super) hdr: Option<(&'j crate::layout::OutSec, &'j crate::layout::OutSec)>,
}

impl FilePlan<'_> {
    /// The parts the jobs and symbol-table chunks fill, as (file offset, length): each job's
    /// window and RELATIVE entries, then each chunk's `.symtab` and `.strtab` bytes.
    pub(super) fn parts(&self) -> Vec<(usize, usize)> {
        let jobs = self
            .jobs
            .iter()
            .flat_map(|j| [(j.at, j.len), (j.rel_at, j.rel_len)]);
        let chunks = self.chunks.iter().flat_map(|&(c, st, names, at)| {
            [
                (self.symtab_off + st, 24 * c.len()),
                (self.strtab_off + at, names),
            ]
        });
        jobs.chain(chunks).collect()
    }

    /// `.eh_frame_hdr`'s file range (empty without one).
    pub(super) fn hdr_range(&self) -> (usize, usize) {
        self.hdr.map_or((0, 0), |(h, _)| {
            (h.offset as usize, (h.offset + h.size) as usize)
        })
    }
}

pub(super) fn internal(what: &str) -> Errors {
    Diagnostic::error(format!("internal: {what}")).into()
}

/// How many RELATIVE entries an input piece puts at the start of `.rela.dyn`.
pub(super) fn relative_count(dynamic: Option<&DynPlan>, p: &crate::layout::Piece) -> usize {
    match (p.src, dynamic) {
        (PieceSrc::Input { file, sec } | PieceSrc::EhFrame { file, sec, .. }, Some(d))
            if d.relative_count > 0 =>
        {
            d.input_relative
                .get(&(file, sec))
                .map_or(0, |&n| n as usize)
        }
        _ => 0,
    }
}

pub(super) fn plan_file<'j>(
    v: &Values<'j, '_>,
    opts: &Options,
    syms: &'j SymTab<'j>,
) -> Result<FilePlan<'j>> {
    let layout = v.layout;
    let t = Tail::new(layout, opts, syms);
    let total = check_size(v, t.total)?;
    let head = elf_header(v, &t, total)?;
    let mut jobs = section_jobs(layout, v.synth.dynamic.as_deref(), total)?;
    for j in jobs.iter_mut() {
        j.index = syms.index.as_ref();
    }
    let chunks = if t.with_symtab {
        symtab_chunks(syms)?
    } else {
        Vec::new()
    };
    let shdrs = section_headers(v, &t, syms.first_global);
    let note = opts.build_id.as_ref().and(build_id_note(layout));
    let hdr = match (
        layout.known(OutId::EhFrameHdr),
        layout.known(OutId::EhFrame),
    ) {
        (Some(hi), Some(ei)) if layout.sections[hi as usize].size > 0 => {
            Some((&layout.sections[hi as usize], &layout.sections[ei as usize]))
        }
        _ => None,
    };
    Ok(FilePlan {
        total,
        head,
        shdrs: (t.shoff as usize, shdrs),
        shstrtab: (t.shstrtab_off as usize, t.shstrtab),
        jobs,
        symtab_off: t.symtab_off as usize,
        strtab_off: t.strtab_off as usize,
        chunks,
        note,
        hdr,
    })
}

/// What follows the loaded image: `.symtab`, `.strtab` (unless `--strip-all`), `.shstrtab` and
/// the section headers, with each section's name in `.shstrtab`.
struct Tail {
    /// The output sections that get a header, in order.
    emitted: Vec<usize>,
    sh_names: Vec<u32>,
    with_symtab: bool,
    symtab_name: u32,
    strtab_name: u32,
    shstrtab_name: u32,
    shstrtab: Vec<u8>,
    symtab_len: u64,
    strtab_len: u64,
    symtab_off: u64,
    strtab_off: u64,
    shstrtab_off: u64,
    shoff: u64,
    shnum: usize,
    /// The file's size.
    total: u64,
}

impl Tail {
    fn new(layout: &Layout, opts: &Options, syms: &SymTab<'_>) -> Tail {
        let mut shstrtab = vec![0u8];
        let mut name_of = |n: &str| -> u32 {
            let o = shstrtab.len() as u32;
            shstrtab.extend_from_slice(n.as_bytes());
            shstrtab.push(0);
            o
        };
        let emitted: Vec<usize> = (0..layout.sections.len())
            .filter(|&i| layout.sections[i].shndx != 0)
            .collect();
        let sh_names: Vec<u32> = emitted
            .iter()
            .map(|&i| name_of(&layout.sections[i].name))
            .collect();
        let with_symtab = !opts.strip_all;
        let (symtab_name, strtab_name) = if with_symtab {
            (name_of(".symtab"), name_of(".strtab"))
        } else {
            (0, 0)
        };
        let shstrtab_name = name_of(".shstrtab");
        // `.symtab`/`.strtab` are filled in parallel with the sections; only sizes here.
        let (symtab_len, strtab_len) = if with_symtab {
            (syms.len() as u64 * 24, syms.strtab_len() as u64)
        } else {
            (0, 0)
        };
        let symtab_off = align_up(layout.file_end, 8);
        let strtab_off = symtab_off + symtab_len;
        let shstrtab_off = strtab_off + strtab_len;
        let shoff = align_up(shstrtab_off + shstrtab.len() as u64, 8);
        let shnum = 1 + emitted.len() + if with_symtab { 2 } else { 0 } + 1;
        Tail {
            total: shoff + 64 * shnum as u64,
            emitted,
            sh_names,
            with_symtab,
            symtab_name,
            strtab_name,
            shstrtab_name,
            shstrtab,
            symtab_len,
            strtab_len,
            symtab_off,
            strtab_off,
            shstrtab_off,
            shoff,
            shnum,
        }
    }
}

/// The file's size as a length, refused when it is out of proportion to the input: zero-filled
/// NOBITS among file-backed data or huge alignments can ask for gigabytes from a few bytes.
fn check_size(v: &Values<'_, '_>, total: u64) -> Result<usize> {
    let (layout, res) = (v.layout, v.res);
    let input_bytes: u64 = res.files.iter().map(|f| f.obj.data.len() as u64).sum();
    let cap = input_bytes.saturating_mul(16).saturating_add(256 << 20);
    if total <= cap {
        return usize::try_from(total).map_err(|_| Diagnostic::error("output too large").into());
    }
    let big = layout
        .sections
        .iter()
        .filter(|s| !s.is_nobits())
        .max_by_key(|s| s.size)
        .map(|s| {
            format!(
                "; the largest section is {} (0x{:x} bytes at file offset 0x{:x})",
                s.name, s.size, s.offset
            )
        })
        .unwrap_or_default();
    // Name the input piece that costs the most file space (its size plus its alignment).
    let culprit = layout
        .sections
        .iter()
        .filter(|s| !s.is_nobits())
        .flat_map(|s| s.pieces.iter())
        .filter_map(|p| match p.src {
            PieceSrc::Input { file, sec } | PieceSrc::EhFrame { file, sec, .. } => {
                Some((p.size.saturating_add(p.align), file, sec))
            }
            _ => None,
        })
        .max_by_key(|c| c.0);
    let mut d = Diagnostic::error(format!(
        "the output file would be {total} bytes from {input_bytes} bytes of input objects{big}: refusing \
         (zero-filled NOBITS sections among file-backed data, or very large alignments, in the inputs)"
    ));
    if let Some((_, file, sec)) = culprit {
        let o = &res.files[file.0 as usize].obj;
        d = d.file(o.name.clone()).section(o.section_name(sec));
    }
    Err(d.into())
}

/// The ELF header and the program headers.
fn elf_header(v: &Values<'_, '_>, t: &Tail, total: usize) -> Result<Vec<u8>> {
    let layout = v.layout;
    let mut head = vec![0u8; (EHDR_SIZE + PHDR_SIZE * layout.segments.len() as u64) as usize];
    if head.len() > total {
        return Err(internal("the headers do not fit in the file"));
    }
    let buf = &mut head[..];
    buf[0..4].copy_from_slice(b"\x7fELF");
    buf[4] = ELFCLASS64;
    buf[5] = ELFDATA2LSB;
    buf[6] = EV_CURRENT;
    put16(buf, 16, if layout.et_exec { ET_EXEC } else { ET_DYN });
    put16(buf, 18, EM_X86_64);
    put32(buf, 20, u32::from(EV_CURRENT));
    put64(buf, 24, entry_address(v));
    put64(buf, 32, EHDR_SIZE);
    put64(buf, 40, t.shoff);
    put16(buf, 52, EHDR_SIZE as u16);
    put16(buf, 54, PHDR_SIZE as u16);
    put16(buf, 56, layout.segments.len() as u16);
    put16(buf, 58, 64);
    put16(buf, 60, t.shnum as u16);
    put16(buf, 62, (t.shnum - 1) as u16);
    for (k, seg) in layout.segments.iter().enumerate() {
        let o = (EHDR_SIZE + PHDR_SIZE * k as u64) as usize;
        put32(buf, o, seg.p_type);
        put32(buf, o + 4, seg.flags);
        put64(buf, o + 8, seg.offset);
        put64(buf, o + 16, seg.vaddr);
        put64(buf, o + 24, seg.paddr);
        put64(buf, o + 32, seg.filesz);
        put64(buf, o + 40, seg.memsz);
        put64(buf, o + 48, seg.align);
    }
    Ok(head)
}

/// The jobs that write the loaded and non-alloc sections' bytes, in file order, each with its
/// share of the RELATIVE entries that open `.rela.dyn`. Output sections are independent, and
/// so are runs of one section's pieces, so natively they are written in parallel; the bytes do
/// not depend on the order.
fn section_jobs<'j>(
    layout: &'j Layout,
    dynamic: Option<&DynPlan>,
    total: usize,
) -> Result<Vec<Job<'j>>> {
    let mut jobs: Vec<Job<'j>> = Vec::new();
    let mut relative_region = (0usize, 0usize);
    let mut secs: Vec<&crate::layout::OutSec> = layout
        .sections
        .iter()
        .filter(|s| !s.is_nobits() && s.size > 0)
        .collect();
    secs.sort_by_key(|s| s.offset);
    let mut consumed = 0u64;
    for os in secs {
        if os.offset < consumed {
            return Err(internal(&format!(
                "section {} overlaps the one before it",
                os.name
            )));
        }
        if os.offset.saturating_add(os.size) > total as u64 {
            return Err(internal(&format!(
                "section {} passes the file's end",
                os.name
            )));
        }
        let first = match os.pieces.first() {
            Some(p) if p.src == PieceSrc::Synthetic(Synthetic::RelaDynRelative) => {
                let end = os.pieces.get(1).map_or(os.size, |q| q.offset).min(os.size);
                let len = if p.size <= end { p.size as usize } else { 0 };
                relative_region = (os.offset as usize, len);
                (1, end)
            }
            _ => (0, 0),
        };
        split_section(os, first, &mut jobs);
        consumed = os.offset + os.size;
    }
    let (mut rel_at, rel_end) = (relative_region.0, relative_region.0 + relative_region.1);
    for job in jobs.iter_mut() {
        let n: usize = job.pieces.iter().map(|p| relative_count(dynamic, p)).sum();
        if rel_at + 24 * n > rel_end {
            return Err(internal(".rela.dyn has no room for RELATIVE"));
        }
        (job.rel_at, job.rel_len) = (rel_at, 24 * n);
        rel_at += 24 * n;
    }
    Ok(jobs)
}

/// One section's jobs from piece `first` (at section offset `base`) on: pieces in offset order
/// split the section at piece boundaries about every 256 KiB; else one job.
fn split_section<'j>(
    os: &'j crate::layout::OutSec,
    (first, base): (usize, u64),
    jobs: &mut Vec<Job<'j>>,
) {
    let sorted = os.pieces.windows(2).all(|w| w[0].offset <= w[1].offset);
    let (mut first, mut base, mut bytes) = (first, base, 0u64);
    let mut push = |pieces, base: u64, end: u64| {
        jobs.push(Job {
            os,
            pieces,
            base,
            at: (os.offset + base) as usize,
            len: (end - base) as usize,
            rel_at: 0,
            rel_len: 0,
            index: None,
        });
    };
    for (k, p) in os.pieces.iter().enumerate().skip(first) {
        if sorted && bytes >= 256 << 10 && p.offset >= base && p.offset <= os.size {
            push(&os.pieces[first..k], base, p.offset);
            (first, base, bytes) = (k, p.offset, 0);
        }
        bytes += p.size;
    }
    push(&os.pieces[first..], base, os.size);
}

/// `.symtab`/`.strtab` in chunks, independent once each knows where its names start (the
/// table starts with the empty name). Runs are mostly no longer than a chunk (globals come in
/// chunks): their names are counted.
fn symtab_chunks<'j>(syms: &'j SymTab<'j>) -> Result<Vec<SymChunk<'j>>> {
    const CHUNK: usize = 8192;
    let mut chunks = Vec::with_capacity(syms.len() / CHUNK + syms.runs.len());
    let (mut st, mut at) = (0, 1);
    let runs = syms.runs.iter().zip(&syms.names).flat_map(|(r, &n)| {
        r.chunks(CHUNK)
            .map(move |c| (c, if c.len() == r.len() { n } else { names_len(c) }))
    });
    for (c, names) in runs {
        chunks.push((c, st, names, at));
        st += 24 * c.len();
        at += names;
    }
    if st != syms.len() * 24 || at != syms.strtab_len().max(1) {
        return Err(internal("the symbol table's size changed"));
    }
    Ok(chunks)
}

/// One section header.
struct Shdr {
    name: u32,
    ty: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

impl Shdr {
    /// A header for a table outside the loaded image.
    fn table(name: u32, ty: u32, offset: u64, size: u64) -> Shdr {
        Shdr {
            name,
            ty,
            flags: 0,
            addr: 0,
            offset,
            size,
            link: 0,
            info: 0,
            align: 1,
            entsize: 0,
        }
    }

    fn put(&self, buf: &mut [u8]) {
        put32(buf, 0, self.name);
        put32(buf, 4, self.ty);
        put64(buf, 8, self.flags);
        put64(buf, 16, self.addr);
        put64(buf, 24, self.offset);
        put64(buf, 32, self.size);
        put32(buf, 40, self.link);
        put32(buf, 44, self.info);
        put64(buf, 48, self.align);
        put64(buf, 56, self.entsize);
    }
}

/// The section header table: the null header, each emitted section, the symbol table's two,
/// `.shstrtab`.
fn section_headers(v: &Values<'_, '_>, t: &Tail, first_global: usize) -> Vec<u8> {
    let mut shdrs = Vec::with_capacity(t.shnum);
    shdrs.push(Shdr {
        align: 0,
        ..Shdr::table(0, 0, 0, 0)
    });
    let symtab_index = if t.with_symtab {
        t.emitted.len() as u32 + 1
    } else {
        0
    };
    for (k, &i) in t.emitted.iter().enumerate() {
        let s = &v.layout.sections[i];
        let mut h = output_shdr(v, s, t.sh_names[k]);
        // `--emit-relocs`: the symbol table and the section the relocations apply to.
        if let Some(PieceSrc::Relocs(r)) = s.pieces.first().map(|p| p.src) {
            let target = &v.layout.sections[v.layout.emitted[r as usize] as usize];
            (h.link, h.info, h.entsize) = (symtab_index, u32::from(target.shndx), 24);
        }
        shdrs.push(h);
    }
    if t.with_symtab {
        let nsec = t.emitted.len() as u32 + 1;
        let mut symtab = Shdr::table(t.symtab_name, SHT_SYMTAB, t.symtab_off, t.symtab_len);
        (symtab.link, symtab.info) = (nsec + 1, first_global as u32);
        (symtab.align, symtab.entsize) = (8, 24);
        shdrs.push(symtab);
        shdrs.push(Shdr::table(
            t.strtab_name,
            SHT_STRTAB,
            t.strtab_off,
            t.strtab_len,
        ));
    }
    let shstrtab_len = t.shstrtab.len() as u64;
    shdrs.push(Shdr::table(
        t.shstrtab_name,
        SHT_STRTAB,
        t.shstrtab_off,
        shstrtab_len,
    ));
    let mut buf = vec![0u8; 64 * t.shnum];
    for (h, out) in shdrs.iter().zip(buf.chunks_exact_mut(64)) {
        h.put(out);
    }
    buf
}

/// The merge flags and entry size of `s` when every piece of it is of merge groups alike (same
/// entry size, all strings or none), as GNU ld keeps them; a compressed section's were kept
/// before it was compressed.
pub(super) fn merge_flags(layout: &Layout, s: &crate::layout::OutSec) -> Option<(u64, u64)> {
    let group = |p: &crate::layout::Piece| match p.src {
        PieceSrc::Merged(g) => {
            let g = &layout.merges[g as usize];
            let strings = if g.strings { SHF_STRINGS } else { 0 };
            Some((u64::from(SHF_MERGE | strings), g.entsize))
        }
        PieceSrc::Blob(k) => Some((0, layout.blobs[k as usize].1)),
        _ => None,
    };
    let first = group(s.pieces.first()?)?;
    s.pieces
        .iter()
        .all(|p| group(p) == Some(first))
        .then_some(first)
}

/// An output section's header: link, info and entry size from the linker-made section it is,
/// or from its type.
fn output_shdr(v: &Values<'_, '_>, s: &crate::layout::OutSec, name: u32) -> Shdr {
    let layout = v.layout;
    let shndx_of = |id: OutId| {
        layout
            .known(id)
            .map_or(0, |i| u32::from(layout.sections[i as usize].shndx))
    };
    let made = s.id.and_then(|id| crate::synthetic::header(v, id));
    let arrays = [SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY];
    let (entsize, info, link) = match made {
        Some(h) => (
            h.entsize,
            h.info_of.map_or(h.info, shndx_of),
            h.link.map_or(0, shndx_of),
        ),
        None if arrays.contains(&s.sh_type) => (8, 0, 0),
        None => (0, 0, 0),
    };
    let mut flags = s.flags;
    // GNU ld's `.comment` is mergeable strings whatever its inputs say.
    let comment = s.name == ".comment";
    if comment {
        flags |= u64::from(SHF_MERGE | SHF_STRINGS);
    }
    // A section whose inputs were all merged alike stays mergeable, as with GNU ld.
    let mut entsize = entsize;
    if let Some((f, e)) = merge_flags(layout, s) {
        (flags, entsize) = (flags | f, e);
    }
    Shdr {
        name,
        ty: s.sh_type,
        flags,
        addr: s.addr,
        offset: s.offset,
        size: s.size,
        link,
        info,
        align: s.align,
        entsize: if comment { 1 } else { entsize },
    }
}
