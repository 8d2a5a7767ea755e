//! Write phase: lay the bytes down in the order the layout decided. Every input piece is copied and
//! relocated in place; linker-made pieces (stubs, GOT, IPLT, `.rela.plt`, `.eh_frame_hdr`, the build
//! ID) are produced from the synthesize decisions. The symbol table and section headers close the file.

use crate::arch::DynKind;
use crate::diag::{Diagnostic, Errors, Result};
use crate::dynamic::{DynLoc, DynPlan};
use crate::input::{SymPlace, E};
use crate::layout::{align_up, Class, EhKind, Layout, PieceSrc, Synthetic, EHDR_SIZE, PHDR_SIZE};
use crate::options::{BuildId, Options};
use crate::relocate::{RelativeOut, Trace, Traced, Values};
use crate::resolve::{Def, FileId};
use crate::synthesize::{Entry, GotKind, StubHome, SymRef};
use object::elf::*;

fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn read64(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 8)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}
fn put64(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

/// A symbol for the output `.symtab`.
pub struct OutSym<'n> {
    pub name: &'n [u8],
    pub value: u64,
    pub size: u64,
    pub info: u8,
    pub other: u8,
    pub shndx: u16,
}

/// Names GNU ld's script defines with `PROVIDE_HIDDEN`: local in the output symbol table.
fn hidden_linker_symbol(n: &[u8]) -> bool {
    n.ends_with(b"_array_start")
        || n.ends_with(b"_array_end")
        || n == b"__ehdr_start"
        || n == b"_GLOBAL_OFFSET_TABLE_"
        || n.starts_with(b"__rela_iplt_")
        || n == b"__dso_handle"
        || n == b"__GNU_EH_FRAME_HDR"
}

pub fn entry_address(v: &Values<'_, '_>) -> u64 {
    match &v.synth.entry {
        Entry::Symbol(s, _) => v.sym_addr(*s),
        Entry::Stub(i) => v.stub_addr(&v.synth.stubs[*i]),
        Entry::TextStart => v
            .layout
            .section_range(".text")
            .map_or(v.layout.base, |r| r.0),
        Entry::None => 0,
    }
}

/// The output section (header index) that holds `addr`, or SHN_ABS.
fn shndx_for(layout: &Layout, addr: u64) -> u16 {
    // A section that contains the address, else one that ends exactly there (end symbols).
    let alloc = || {
        layout
            .sections
            .iter()
            .filter(|s| s.shndx != 0 && s.class != Class::NonAlloc)
    };
    alloc()
        .find(|s| addr >= s.addr && addr < s.addr + s.size)
        .or_else(|| alloc().find(|s| addr == s.addr + s.size))
        .map_or(SHN_ABS, |s| s.shndx)
}

/// The output `.symtab` as runs of symbols in order: the null symbol, each file's locals, the
/// linker's, the globals bound locally, then the rest of the globals. The runs are built in
/// parallel and written from where they are, never copied into one list (for 360,000 symbols
/// the copies cost more than building them).
pub struct SymTab<'n> {
    pub runs: Vec<Vec<OutSym<'n>>>,
    /// Each run's bytes in `.strtab`, counted as it was built, so that no later pass over every
    /// symbol is needed to place the runs.
    pub names: Vec<usize>,
    /// Index of the first global symbol (`sh_info` of `.symtab`).
    pub first_global: usize,
}

impl<'n> SymTab<'n> {
    pub fn len(&self) -> usize {
        self.runs.iter().map(Vec::len).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn iter(&self) -> impl Iterator<Item = &OutSym<'n>> {
        self.runs.iter().flatten()
    }
    /// `.strtab`'s size: the names and the empty one it starts with.
    pub fn strtab_len(&self) -> usize {
        1 + self.names.iter().sum::<usize>()
    }
}

fn names_len(run: &[OutSym<'_>]) -> usize {
    run.iter().map(|s| name_len(s.name)).sum()
}

const GLOBAL_CHUNK: usize = 8192;

pub fn build_symtab<'r, 'a: 'r>(v: &Values<'r, 'a>) -> SymTab<'r> {
    let res = v.res;
    let layout = v.layout;
    let tls_start = layout.tls.map_or(0, |t| t.start);
    let null = OutSym {
        name: &[],
        value: 0,
        size: 0,
        info: 0,
        other: 0,
        shndx: 0,
    };
    let sym_value = |file: FileId, i: u32| -> Option<(u64, u16)> {
        let obj = &res.files[file.0 as usize].obj;
        let s = &obj.symbols[i as usize];
        match obj.sym_place(i as usize).ok()? {
            SymPlace::Section(sec) => {
                let addr = layout.input_addr(file, sec, s.st_value.get(E))?;
                let (out, _) = layout.input_out(file, sec)?;
                let os = &layout.sections[out as usize];
                let shndx = if os.shndx != 0 {
                    os.shndx
                } else {
                    shndx_for(layout, addr)
                };
                // A TLS symbol's value is its offset in the TLS template (a corrupt object can put
                // one outside it: keep the arithmetic total).
                let value = if s.st_type() == STT_TLS {
                    addr.wrapping_sub(tls_start)
                } else {
                    addr
                };
                Some((value, shndx))
            }
            SymPlace::Absolute => Some((s.st_value.get(E), SHN_ABS)),
            SymPlace::Common => {
                let a = v.def_addr(file, i);
                Some((a, shndx_for(layout, a)))
            }
            SymPlace::Undefined => None,
        }
    };
    // Each file's locals are independent: collected per file (in parallel natively), in order.
    let file_locals = |(fi, f): (usize, &'r crate::resolve::File<'a>)| -> Run<'r> {
        // Room for every local up front: growing 360,000 symbols' worth of runs cost more in
        // copies and fresh pages than filling them.
        let mut locals = Vec::with_capacity(f.obj.first_global.min(f.obj.symbols.len()));
        let mut names = 0;
        let fid = FileId(fi as u32);
        let obj = &f.obj;
        for i in 1..obj.first_global.min(obj.symbols.len()) {
            let s = &obj.symbols[i];
            let ty = s.st_type();
            if ty == STT_SECTION {
                continue;
            }
            let Ok(name) = obj.sym_name(i) else { continue };
            if name.is_empty() || name.starts_with(b".L") {
                continue;
            }
            if ty == STT_FILE {
                names += name.len() + 1;
                locals.push(OutSym {
                    name,
                    value: 0,
                    size: 0,
                    info: s.st_info,
                    other: 0,
                    shndx: SHN_ABS,
                });
                continue;
            }
            let Some((value, shndx)) = sym_value(fid, i as u32) else {
                continue;
            };
            names += name.len() + 1;
            locals.push(OutSym {
                name,
                value,
                size: s.st_size.get(E),
                info: s.st_info,
                other: s.st_other,
                shndx,
            });
        }
        (locals, names)
    };
    // Linker-made code and data get names, so objdump and gdb show them.
    let mut linker = Vec::new();
    for st in v.synth.stubs.iter() {
        let a = v.stub_addr(st);
        let info = (STB_LOCAL << 4) | STT_FUNC;
        linker.push(OutSym {
            name: st.name.as_bytes(),
            value: a,
            size: st.size(),
            info,
            other: 0,
            shndx: shndx_for(layout, a),
        });
    }
    if v.synth.init_stub.is_some()
        && layout.sections.iter().any(|s| {
            s.pieces
                .iter()
                .any(|p| p.src == PieceSrc::Synthetic(Synthetic::ModuleData))
        })
    {
        let a = crate::relocate::synth_piece_addr(layout, Synthetic::ModuleData);
        let info = (STB_LOCAL << 4) | STT_OBJECT;
        linker.push(OutSym {
            name: b"initlink.module_data",
            value: a,
            size: crate::layout::MODULE_DATA_SIZE,
            info,
            other: 0,
            shndx: shndx_for(layout, a),
        });
    }
    // Globals in chunks (in parallel natively): each gives its locals and globals, in order.
    let chunk_syms = |(c, chunk): (usize, &'r [crate::resolve::Global<'a>])| {
        let (mut locals, mut globals) = (Vec::new(), Vec::with_capacity(chunk.len()));
        let (mut local_names, mut global_names) = (0, 0);
        for (k, g) in chunk.iter().enumerate() {
            let gi = c * GLOBAL_CHUNK + k;
            // Names only the shared objects mention are theirs, not this link's.
            if matches!(g.def, Def::Shared { .. } | Def::Undefined)
                && g.first_ref.is_none()
                && !v.synth.dynamic.as_deref().is_some_and(|d| {
                    d.dynsym_index
                        .contains_key(&crate::resolve::SymbolId(gi as u32))
                })
            {
                continue;
            }
            let (value, size, ty, bind, other, shndx) = match g.def {
                Def::Defined { file, sym, weak } => {
                    let s = &res.files[file.0 as usize].obj.symbols[sym as usize];
                    let Some((value, shndx)) = sym_value(file, sym) else {
                        continue;
                    };
                    let bind = if weak { STB_WEAK } else { STB_GLOBAL };
                    (
                        value,
                        s.st_size.get(E),
                        s.st_type(),
                        bind,
                        s.st_other,
                        shndx,
                    )
                }
                Def::Common { file, sym } => {
                    let a = v.def_addr(file, sym);
                    let (size, _) = res.common(crate::resolve::SymbolId(gi as u32));
                    (a, size, STT_OBJECT, STB_GLOBAL, 0, shndx_for(layout, a))
                }
                Def::Linker => {
                    let a = layout.linker_symbol(g.name).unwrap_or(0);
                    let hidden = hidden_linker_symbol(g.name);
                    let bind = if hidden { STB_LOCAL } else { STB_GLOBAL };
                    (
                        a,
                        0,
                        STT_NOTYPE,
                        bind,
                        if hidden { STV_HIDDEN } else { 0 },
                        shndx_for(layout, a),
                    )
                }
                Def::Shared { dso, sym } => {
                    let ds = &res.dsos[dso as usize].obj.syms[sym as usize];
                    let ty = ds.import_type();
                    (
                        0,
                        0,
                        ty,
                        if g.strong_ref { STB_GLOBAL } else { STB_WEAK },
                        0,
                        SHN_UNDEF,
                    )
                }
                Def::Undefined => (
                    0,
                    0,
                    STT_NOTYPE,
                    if g.strong_ref { STB_GLOBAL } else { STB_WEAK },
                    0,
                    SHN_UNDEF,
                ),
            };
            let vis = other & 3;
            let bind = if vis == STV_HIDDEN || vis == STV_INTERNAL {
                STB_LOCAL
            } else {
                bind
            };
            let sym = OutSym {
                name: g.name,
                value,
                size,
                info: (bind << 4) | (ty & 0xf),
                other,
                shndx,
            };
            if bind == STB_LOCAL {
                local_names += name_len(sym.name);
                locals.push(sym);
            } else {
                global_names += name_len(sym.name);
                globals.push(sym);
            }
        }
        ((locals, local_names), (globals, global_names))
    };
    type Run<'s> = (Vec<OutSym<'s>>, usize);
    type Runs<'s> = Vec<Run<'s>>;
    type Parts<'s> = Vec<(Run<'s>, Run<'s>)>;
    #[cfg(not(target_arch = "wasm32"))]
    let (per_file, parts): (Runs<'_>, Parts<'_>) = {
        use rayon::prelude::*;
        rayon::join(
            || res.files.par_iter().enumerate().map(file_locals).collect(),
            || {
                res.globals
                    .par_chunks(GLOBAL_CHUNK)
                    .enumerate()
                    .map(chunk_syms)
                    .collect()
            },
        )
    };
    #[cfg(target_arch = "wasm32")]
    let (per_file, parts): (Runs<'_>, Parts<'_>) = (
        res.files.iter().enumerate().map(file_locals).collect(),
        res.globals
            .chunks(GLOBAL_CHUNK)
            .enumerate()
            .map(chunk_syms)
            .collect(),
    );
    let mut runs = Vec::with_capacity(per_file.len() + 2 * parts.len() + 2);
    runs.push((vec![null], 0));
    runs.extend(per_file);
    let linker_names = names_len(&linker);
    runs.push((linker, linker_names));
    let mut globals = Vec::with_capacity(parts.len());
    for (l, g) in parts {
        runs.push(l);
        globals.push(g);
    }
    let first_global = runs.iter().map(|r| r.0.len()).sum();
    runs.extend(globals);
    runs.retain(|r| !r.0.is_empty());
    let (runs, names) = runs.into_iter().unzip();
    SymTab {
        runs,
        names,
        first_global,
    }
}

/// The SHA-1 build ID: of the whole file when it fits in one chunk (then `sha1sum` of the file
/// with the ID zeroed gives it, as with GNU ld); of a bigger file, the SHA-1 of its 1 MiB chunks'
/// SHA-1s, as lld does, so that the chunks hash in parallel.
pub const BUILD_ID_CHUNK: usize = 1 << 20;

pub fn build_id_sha1(buf: &[u8]) -> [u8; 20] {
    chunked_build_id(&[buf], sha1_leaf)
}

/// The default build ID (plain `--build-id`, `fast`): [`build_id_sha1`]'s for a file of one chunk,
/// GNU ld's; a bigger file's is the SHA-1 of its chunks' XXH3-128 digests, big-endian as
/// `xxhsum -H2` prints them: XXH3 hashes several times faster than SHA-1. Like lld's `fast`, it
/// names a build, it does not sign one.
pub fn build_id_fast(buf: &[u8]) -> [u8; 20] {
    chunked_build_id(&[buf], fast_leaf)
}

fn sha1_leaf(c: &[u8]) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    Sha1::digest(c).into()
}

fn fast_leaf(c: &[u8]) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(c).to_be_bytes()
}

/// SHA-1 of the file when it fits in one chunk, else SHA-1 of its chunks' `leaf` digests. The
/// file is `parts` one after another (the output is hashed while parts of it are being written
/// out); a chunk that spans two parts is copied into one piece first.
fn chunked_build_id<const N: usize>(parts: &[&[u8]], leaf: fn(&[u8]) -> [u8; N]) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total <= BUILD_ID_CHUNK {
        let mut h = Sha1::new();
        for p in parts {
            h.update(p);
        }
        return h.finalize().into();
    }
    let chunk = |k: usize| -> std::borrow::Cow<'_, [u8]> {
        let (from, to) = (k * BUILD_ID_CHUNK, ((k + 1) * BUILD_ID_CHUNK).min(total));
        let mut at = 0;
        let mut pieces = Vec::new();
        for p in parts {
            let (s, e) = (from.max(at), to.min(at + p.len()));
            if s < e {
                pieces.push(&p[s - at..e - at]);
            }
            at += p.len();
        }
        match pieces[..] {
            [one] => one.into(),
            _ => pieces.concat().into(),
        }
    };
    let n = total.div_ceil(BUILD_ID_CHUNK);
    let digests: Vec<[u8; N]> = crate::par::map_range(n, 1, |k| leaf(&chunk(k)));
    Sha1::digest(digests.concat()).into()
}

/// Whether the build ID of an output of `len` bytes is left to the caller
/// (`Options::defer_build_id`): a SHA-1 one (Web Crypto hashes it faster than wasm), which the
/// fast kind is up to one chunk.
pub fn defers_build_id(opts: &Options, len: usize) -> bool {
    let sha1 = match opts.build_id {
        Some(BuildId::Sha1) => true,
        Some(BuildId::Fast) => len <= BUILD_ID_CHUNK,
        _ => false,
    };
    opts.defer_build_id && sha1 && !opts.report && !opts.map
}

/// Where the 20 bytes of a build ID left to the caller go in an output of `len` bytes.
pub fn build_id_at(layout: &Layout, opts: &Options, len: usize) -> Option<usize> {
    if !defers_build_id(opts, len) {
        return None;
    }
    build_id_note(layout).map(|o| o + 16)
}

/// File offset of the `.note.gnu.build-id` note.
fn build_id_note(layout: &Layout) -> Option<usize> {
    let i = layout.section_by_name(".note.gnu.build-id")?;
    Some(layout.sections[i as usize].offset as usize)
}

fn name_len(n: &[u8]) -> usize {
    if n.is_empty() {
        0
    } else {
        n.len() + 1
    }
}

/// Serialize a chunk of symbols into its part of `.symtab` and their names into its part of
/// `.strtab`, whose names start at `at` in the table.
fn fill_chunk((syms, st, sr, mut at): (&[OutSym<'_>], &mut [u8], &mut [u8], usize)) {
    let mut w = 0;
    for (k, s) in syms.iter().enumerate() {
        let e = &mut st[24 * k..24 * k + 24];
        let name_off = if s.name.is_empty() {
            0
        } else {
            sr[w..w + s.name.len()].copy_from_slice(s.name);
            let o = at;
            w += s.name.len() + 1;
            at += s.name.len() + 1;
            o as u32
        };
        put32(e, 0, name_off);
        e[4] = s.info;
        e[5] = s.other;
        put16(e, 6, s.shndx);
        put64(e, 8, s.value);
        put64(e, 16, s.size);
    }
}

/// Where the output file's bytes go: a zero-filled, writable buffer of the length asked for.
/// The CLI hands out fresh anonymous pages and a [`FileWriter`];
/// [`link`](crate::link) a `Vec` and none.
pub trait OutputSink {
    fn buffer(&mut self, len: usize) -> std::result::Result<OutputBuffer<'_>, String>;
    /// The file itself, when the output may be written into it window by window, without a
    /// buffer of its size (used unless a report or map needs the bytes). Parts of it are written
    /// before every link error is known.
    fn file(&mut self) -> Option<&(dyn FileWriter + Sync)> {
        None
    }
}

pub struct OutputBuffer<'s> {
    pub bytes: &'s mut [u8],
    /// Given, every byte of the finished file is passed to it once the sections are written and
    /// no error is left to find: most of the file is written out on one thread while another
    /// builds `.eh_frame_hdr` and hashes the build ID, so neither core idles. A range can come
    /// twice (the build ID, zero the first time): the last write wins.
    pub writer: Option<&'s (dyn FileWriter + Sync)>,
}

/// Writes the output file's bytes at an offset (see [`OutputBuffer::writer`]).
pub trait FileWriter {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> std::result::Result<(), String>;
    /// The first `len` bytes written so far (for `.eh_frame_hdr` and the build ID, made from the
    /// finished file).
    fn read_back(&self, len: usize) -> std::result::Result<&[u8], String>;
}

impl OutputSink for Vec<u8> {
    fn buffer(&mut self, len: usize) -> std::result::Result<OutputBuffer<'_>, String> {
        // `vec!` of zeros gets fresh zero pages from the allocator, untouched until written.
        *self = vec![0u8; len];
        Ok(OutputBuffer {
            bytes: self,
            writer: None,
        })
    }
}

/// Write the whole output file.
/// Write the whole output file: into the buffer `sink` hands out, or, when it offers a file and
/// nothing needs the bytes afterwards (no report or map), window by window into the file (see
/// [`write_windowed`]); `None` then. With `trace`, the relocate phase records what it did at
/// each relocation site of the sections the report lists (see [`crate::relocate::traced`]).
pub fn write<'s>(
    v: &Values<'_, '_>,
    opts: &Options,
    sink: &'s mut dyn OutputSink,
    trace: Option<&mut Trace>,
) -> Result<Option<&'s mut [u8]>> {
    let syms = if opts.strip_all {
        SymTab {
            runs: Vec::new(),
            names: Vec::new(),
            first_global: 0,
        }
    } else {
        build_symtab(v)
    };
    let plan = plan_file(v, opts, &syms)?;
    if !opts.report && !opts.map && trace.is_none() && !defers_build_id(opts, plan.total) {
        if let Some(file) = sink.file() {
            write_windowed(v, opts, &plan, file)?;
            return Ok(None);
        }
    }
    write_buffered(v, opts, &plan, sink, trace).map(Some)
}

/// One part of the file written as a unit: a run of one output section's pieces (about 256 KiB
/// of them, so that one big `.text` spreads over the threads too), with its share of the
/// `R_X86_64_RELATIVE` entries at input sites (the start of `.rela.dyn`, in address order),
/// written with the data they fix up.
struct Job<'j> {
    os: &'j crate::layout::OutSec,
    pieces: &'j [crate::layout::Piece],
    /// The section offset the window starts at.
    base: u64,
    /// The window: file offset and length.
    at: usize,
    len: usize,
    /// The RELATIVE entries: file offset and length.
    rel_at: usize,
    rel_len: usize,
}

/// A chunk of the symbol table: its symbols, their offset in `.symtab`, their names' length and
/// offset in `.strtab`.
type SymChunk<'j> = (&'j [OutSym<'j>], usize, usize, usize);

/// What the output file holds where, known before any of its bytes is written.
struct FilePlan<'j> {
    total: usize,
    /// ELF header and program headers, at offset 0.
    head: Vec<u8>,
    /// Section headers and section names: (file offset, bytes).
    shdrs: (usize, Vec<u8>),
    shstrtab: (usize, Vec<u8>),
    jobs: Vec<Job<'j>>,
    symtab_off: usize,
    strtab_off: usize,
    chunks: Vec<SymChunk<'j>>,
    /// `.note.gnu.build-id`'s file offset, when an ID is asked for.
    note: Option<usize>,
    /// `.eh_frame_hdr` and `.eh_frame`, when the header is made.
    hdr: Option<(&'j crate::layout::OutSec, &'j crate::layout::OutSec)>,
}

impl FilePlan<'_> {
    /// The parts the jobs and symbol-table chunks fill, as (file offset, length): each job's
    /// window and RELATIVE entries, then each chunk's `.symtab` and `.strtab` bytes.
    fn parts(&self) -> Vec<(usize, usize)> {
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
    fn hdr_range(&self) -> (usize, usize) {
        self.hdr.map_or((0, 0), |(h, _)| {
            (h.offset as usize, (h.offset + h.size) as usize)
        })
    }
}

fn internal(what: &str) -> Errors {
    Diagnostic::error(format!("internal: {what}")).into()
}

/// How many `R_X86_64_RELATIVE` entries an input piece puts at the start of `.rela.dyn`.
fn relative_count(dynamic: Option<&DynPlan>, p: &crate::layout::Piece) -> usize {
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

fn plan_file<'j>(v: &Values<'j, '_>, opts: &Options, syms: &'j SymTab<'j>) -> Result<FilePlan<'j>> {
    let layout = v.layout;
    let res = v.res;
    let dynamic = v.synth.dynamic.as_deref();
    let first_global = syms.first_global;
    // `.symtab`/`.strtab` are filled below, in parallel with the sections; only sizes here.
    let symtab_len = syms.len() * 24;
    let strtab_len = syms.strtab_len();
    // Section header names.
    let mut shstrtab = vec![0u8];
    let name_of = |n: &str, tab: &mut Vec<u8>| -> u32 {
        let o = tab.len() as u32;
        tab.extend_from_slice(n.as_bytes());
        tab.push(0);
        o
    };
    let emitted: Vec<usize> = (0..layout.sections.len())
        .filter(|&i| layout.sections[i].shndx != 0)
        .collect();
    let mut sh_names = Vec::with_capacity(emitted.len());
    for &i in &emitted {
        sh_names.push(name_of(&layout.sections[i].name, &mut shstrtab));
    }
    let with_symtab = !opts.strip_all;
    let symtab_name = if with_symtab {
        name_of(".symtab", &mut shstrtab)
    } else {
        0
    };
    let strtab_name = if with_symtab {
        name_of(".strtab", &mut shstrtab)
    } else {
        0
    };
    let shstrtab_name = name_of(".shstrtab", &mut shstrtab);

    let symtab_off = align_up(layout.file_end, 8);
    let strtab_off = symtab_off + if with_symtab { symtab_len as u64 } else { 0 };
    let shstrtab_off = strtab_off + if with_symtab { strtab_len as u64 } else { 0 };
    let shoff = align_up(shstrtab_off + shstrtab.len() as u64, 8);
    let shnum = 1 + emitted.len() + if with_symtab { 2 } else { 0 } + 1;
    let total = shoff + 64 * shnum as u64;
    // Memory proportional to the input: zero-filled NOBITS among file-backed data or huge
    // alignments can ask for gigabytes from a few bytes; refuse before allocating.
    let input_bytes: u64 = res.files.iter().map(|f| f.obj.data.len() as u64).sum();
    let cap = input_bytes.saturating_mul(16).saturating_add(256 << 20);
    if total > cap {
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
        return Err(d.into());
    }
    let total = usize::try_from(total).map_err(|_| Diagnostic::error("output too large"))?;

    // ELF header and program headers.
    let mut head = vec![0u8; (EHDR_SIZE + PHDR_SIZE * layout.segments.len() as u64) as usize];
    if head.len() > total {
        return Err(internal("the headers do not fit in the file"));
    }
    {
        let buf = &mut head[..];
        buf[0..4].copy_from_slice(b"\x7fELF");
        buf[4] = ELFCLASS64;
        buf[5] = ELFDATA2LSB;
        buf[6] = EV_CURRENT;
        put16(buf, 16, if layout.base == 0 { ET_DYN } else { ET_EXEC });
        put16(buf, 18, EM_X86_64);
        put32(buf, 20, u32::from(EV_CURRENT));
        put64(buf, 24, entry_address(v));
        put64(buf, 32, EHDR_SIZE);
        put64(buf, 40, shoff);
        put16(buf, 52, EHDR_SIZE as u16);
        put16(buf, 54, PHDR_SIZE as u16);
        put16(buf, 56, layout.segments.len() as u16);
        put16(buf, 58, 64);
        put16(buf, 60, shnum as u16);
        put16(buf, 62, (shnum - 1) as u16);
        for (k, seg) in layout.segments.iter().enumerate() {
            let o = (EHDR_SIZE + PHDR_SIZE * k as u64) as usize;
            put32(buf, o, seg.p_type);
            put32(buf, o + 4, seg.flags);
            put64(buf, o + 8, seg.offset);
            put64(buf, o + 16, seg.vaddr);
            put64(buf, o + 24, seg.vaddr);
            put64(buf, o + 32, seg.filesz);
            put64(buf, o + 40, seg.memsz);
            put64(buf, o + 48, seg.align);
        }
    }

    // Section contents, in jobs: output sections are independent, and so are runs of one
    // section's pieces, so natively they are written in parallel; the bytes do not depend on the
    // order.
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
        // Pieces in offset order split the section at piece boundaries; else one job.
        let sorted = os.pieces.windows(2).all(|w| w[0].offset <= w[1].offset);
        let (mut first, mut base, mut bytes) = (0, 0u64, 0u64);
        if let Some(p) = os.pieces.first() {
            if p.src == PieceSrc::Synthetic(Synthetic::RelaDynRelative) {
                let end = os.pieces.get(1).map_or(os.size, |q| q.offset).min(os.size);
                let len = if p.size <= end { p.size as usize } else { 0 };
                relative_region = (os.offset as usize, len);
                (first, base) = (1, end);
            }
        }
        let mut push = |pieces, base: u64, end: u64| {
            let (at, len) = ((os.offset + base) as usize, (end - base) as usize);
            let (rel_at, rel_len) = (0, 0);
            jobs.push(Job {
                os,
                pieces,
                base,
                at,
                len,
                rel_at,
                rel_len,
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

    // `.symtab`/`.strtab` in chunks, independent once each knows where its names start (the
    // table starts with the empty name). Runs are mostly no longer than a chunk (globals come in
    // chunks): their names are counted.
    const CHUNK: usize = 8192;
    let mut chunks = Vec::with_capacity(syms.len() / CHUNK + syms.runs.len());
    if with_symtab {
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
        if st != symtab_len || at != strtab_len.max(1) {
            return Err(internal("the symbol table's size changed"));
        }
    }

    let got_plt_index = layout
        .section_by_name(".got.plt")
        .map_or(0, |i| layout.sections[i as usize].shndx);
    let mut shdrs = vec![0u8; 64 * shnum];
    let mut sh = 64;
    let mut header = |buf: &mut [u8],
                      name: u32,
                      ty: u32,
                      flags: u64,
                      addr: u64,
                      off: u64,
                      size: u64,
                      link: u32,
                      info: u32,
                      align: u64,
                      entsize: u64| {
        put32(buf, sh, name);
        put32(buf, sh + 4, ty);
        put64(buf, sh + 8, flags);
        put64(buf, sh + 16, addr);
        put64(buf, sh + 24, off);
        put64(buf, sh + 32, size);
        put32(buf, sh + 40, link);
        put32(buf, sh + 44, info);
        put64(buf, sh + 48, align);
        put64(buf, sh + 56, entsize);
        sh += 64;
    };
    for (k, &i) in emitted.iter().enumerate() {
        let s = &layout.sections[i];
        let idx = |n: &str| {
            layout
                .section_by_name(n)
                .map_or(0, |i| u32::from(layout.sections[i as usize].shndx))
        };
        let (dynsym, dynstr) = (idx(".dynsym"), idx(".dynstr"));
        let (entsize, info, link) = match s.sh_type {
            SHT_RELA if s.name == ".rela.plt" => (24, u32::from(got_plt_index), dynsym),
            SHT_RELA => (24, 0, dynsym),
            SHT_INIT_ARRAY | SHT_FINI_ARRAY | SHT_PREINIT_ARRAY => (8, 0, 0),
            SHT_DYNSYM => (24, 1, dynstr),
            SHT_GNU_HASH => (0, 0, dynsym),
            SHT_HASH => (4, 0, dynsym),
            SHT_GNU_VERSYM => (2, 0, dynsym),
            SHT_GNU_VERNEED => (0, dynamic.map_or(0, |d| d.verneed_count), dynstr),
            SHT_DYNAMIC => (16, 0, dynstr),
            _ => (0, 0, 0),
        };
        let mut flags = s.flags;
        if s.name == ".rela.plt" {
            flags |= u64::from(SHF_INFO_LINK);
        }
        if s.name == ".comment" {
            flags |= u64::from(SHF_MERGE | SHF_STRINGS);
        }
        let entsize = if s.name == ".comment" { 1 } else { entsize };
        header(
            &mut shdrs,
            sh_names[k],
            s.sh_type,
            flags,
            s.addr,
            s.offset,
            s.size,
            link,
            info,
            s.align,
            entsize,
        );
    }
    let nsec = emitted.len() as u32 + 1;
    if with_symtab {
        header(
            &mut shdrs,
            symtab_name,
            SHT_SYMTAB,
            0,
            0,
            symtab_off,
            symtab_len as u64,
            nsec + 1,
            first_global as u32,
            8,
            24,
        );
        header(
            &mut shdrs,
            strtab_name,
            SHT_STRTAB,
            0,
            0,
            strtab_off,
            strtab_len as u64,
            0,
            0,
            1,
            0,
        );
    }
    header(
        &mut shdrs,
        shstrtab_name,
        SHT_STRTAB,
        0,
        0,
        shstrtab_off,
        shstrtab.len() as u64,
        0,
        0,
        1,
        0,
    );

    let note = opts.build_id.as_ref().and(build_id_note(layout));
    let hdr = match (
        layout.section_by_name(".eh_frame_hdr"),
        layout.section_by_name(".eh_frame"),
    ) {
        (Some(hi), Some(ei)) if layout.sections[hi as usize].size > 0 => {
            Some((&layout.sections[hi as usize], &layout.sections[ei as usize]))
        }
        _ => None,
    };
    Ok(FilePlan {
        total,
        head,
        shdrs: (shoff as usize, shdrs),
        shstrtab: (shstrtab_off as usize, shstrtab),
        jobs,
        symtab_off: symtab_off as usize,
        strtab_off: strtab_off as usize,
        chunks,
        note,
        hdr,
    })
}

/// A `.ctors` section folded into `.init_array` (`dst`, at `addr`): `.ctors` run last-to-first,
/// `.init_array` first-to-last, so its words are reversed; its RELATIVE entries and traced
/// sites move with them.
fn reverse_ctors(
    dst: &mut [u8],
    addr: u64,
    relative: &mut RelativeOut<'_>,
    trace: Option<&mut [Traced]>,
) {
    let size = dst.len() as u64;
    // Word at `at` -> where the reversal puts it.
    let moved = |at: u64| {
        let off = at.wrapping_sub(addr);
        addr.wrapping_add(size.wrapping_sub(8).wrapping_sub(off & !7) + (off & 7))
    };
    let words: Vec<[u8; 8]> = dst
        .chunks_exact(8)
        .map(|c| c.try_into().unwrap_or([0; 8]))
        .collect();
    for (k, w) in words.iter().rev().enumerate() {
        dst[k * 8..k * 8 + 8].copy_from_slice(w);
    }
    for e in relative.buf.chunks_exact_mut(24) {
        put64(e, 0, moved(read64(e, 0)));
    }
    for site in trace.into_iter().flatten() {
        site.p = moved(site.p);
        if let Some(f) = &mut site.field {
            f.addr = moved(f.addr);
        }
    }
}

/// Room for the traced sites of a job's pieces (one allocation per job).
fn trace_room(v: &Values<'_, '_>, job: &Job<'_>) -> usize {
    let room = |p: &crate::layout::Piece| match p.src {
        PieceSrc::Input { file, sec } | PieceSrc::EhFrame { file, sec, .. } => {
            let s = &v.res.files[file.0 as usize].obj.sections[sec as usize];
            if crate::relocate::traced(v.res, file, s) {
                s.relocs.len()
            } else {
                0
            }
        }
        _ => 0,
    };
    job.pieces.iter().map(room).sum()
}

/// Copy, relocate or make one job's pieces into `out` (its window of the file) and its RELATIVE
/// entries into `relative_out`; with `trace`, record the relocation sites there.
fn write_job(
    v: &Values<'_, '_>,
    opts: &Options,
    job: &Job<'_>,
    out: &mut [u8],
    relative_out: &mut [u8],
    mut trace: Option<&mut Vec<Traced>>,
) -> Vec<Diagnostic> {
    let layout = v.layout;
    let res = v.res;
    let synth = v.synth;
    let dynamic = synth.dynamic.as_deref();
    let (os, pieces, base) = (job.os, job.pieces, job.base);
    let mut errors = Vec::new();
    let mut relative_out: &mut [u8] = relative_out;
    for piece in pieces.iter() {
        let n = relative_count(dynamic, piece);
        let room = n.min(relative_out.len() / 24);
        let (mine, rest) = std::mem::take(&mut relative_out).split_at_mut(24 * room);
        relative_out = rest;
        let mut relative = RelativeOut { buf: mine, n: 0 };
        let start = piece.offset.wrapping_sub(base) as usize;
        let addr = os.addr + piece.offset;
        let Some(dst) = out.get_mut(start..start.saturating_add(piece.size as usize)) else {
            errors.push(Diagnostic::error(format!(
                "internal: piece past the end of {}",
                os.name
            )));
            continue;
        };
        'piece: {
            match piece.src {
                PieceSrc::Input { file, sec } => {
                    let s = &res.files[file.0 as usize].obj.sections[sec as usize];
                    if s.sh_type == SHT_NOBITS {
                        break 'piece;
                    }
                    dst.copy_from_slice(s.data);
                    let traced_before = trace.as_deref().map_or(0, |t| t.len());
                    let traced = trace.as_deref_mut();
                    v.relocate_section(
                        file,
                        sec,
                        dst,
                        addr,
                        None,
                        &mut relative,
                        &mut errors,
                        traced,
                    );
                    if piece.from_ctors {
                        let traced = trace.as_deref_mut().map(|t| &mut t[traced_before..]);
                        reverse_ctors(dst, addr, &mut relative, traced);
                    }
                }
                PieceSrc::EhFrame { file, sec, eh } => {
                    let s = &res.files[file.0 as usize].obj.sections[sec as usize];
                    let e = &layout.eh[eh as usize];
                    // An FDE's CIE is almost always the one the last FDE used.
                    let mut last_cie: Option<(u64, Option<u64>)> = None;
                    let mut cie_out = |cie_in: u64| match last_cie {
                        Some((i, out)) if i == cie_in => out,
                        _ => {
                            let r = e.records.iter().find(|r| r.in_off() == cie_in);
                            let out = r.and_then(|r| r.out_off());
                            last_cie = Some((cie_in, out));
                            out
                        }
                    };
                    for r in &e.records {
                        let Some(out) = r.out_off() else { continue };
                        let (o, n) = (out as usize, r.size() as usize);
                        let i = r.in_off() as usize;
                        dst[o..o + n].copy_from_slice(&s.data[i..i + n]);
                        if let EhKind::Fde { cie_in } = r.kind() {
                            // Dropped records in between move the CIE: recompute the back pointer.
                            if let Some(c) = cie_out(cie_in) {
                                put32(dst, o + 4, (out + 4 - c) as u32);
                            }
                        }
                    }
                    let (_, _, mi) = match layout.places[file.0 as usize][sec as usize] {
                        crate::layout::Place::Split { out, base, map } => (out, base, map),
                        _ => break 'piece,
                    };
                    v.relocate_section(
                        file,
                        sec,
                        dst,
                        addr,
                        Some(&layout.maps[mi as usize]),
                        &mut relative,
                        &mut errors,
                        trace.as_deref_mut(),
                    );
                }
                PieceSrc::Merged(g) => dst.copy_from_slice(&layout.merges[g as usize].data),
                PieceSrc::Common(_) => {}
                PieceSrc::Synthetic(what) => match what {
                    Synthetic::Stubs | Synthetic::Plt => {
                        let home = if what == Synthetic::Stubs {
                            StubHome::Text
                        } else {
                            StubHome::Plt
                        };
                        for st in synth.stubs.iter().filter(|s| s.home == home) {
                            let (bytes, _) = v.stub_bytes(st);
                            let o = st.offset as usize;
                            dst[o..o + bytes.len()].copy_from_slice(&bytes);
                        }
                    }
                    Synthetic::Got => {
                        let tls_start = layout.tls.map_or(0, |t| t.start);
                        // Words the loader fills (GLOB_DAT, TPOFF64, DTPMOD64...) hold 0.
                        let mut loader_filled = vec![false; synth.got.len()];
                        for r in dynamic.iter().flat_map(|d| d.relocs.iter()) {
                            if let DynLoc::Got(k) = r.loc {
                                if r.kind != DynKind::Relative {
                                    if let Some(w) = loader_filled.get_mut(k as usize) {
                                        *w = true;
                                    }
                                }
                            }
                        }
                        for (k, &(s, kind)) in synth.got.iter().enumerate() {
                            let second = k > 0 && synth.got[k - 1] == (s, kind);
                            let loader = loader_filled[k];
                            let val = if loader {
                                0
                            } else {
                                match kind {
                                    GotKind::Addr => v.sym_addr(s),
                                    GotKind::TpOff => v.sym_addr_raw(s).wrapping_sub(v.tp()),
                                    GotKind::TlsGd if second => {
                                        v.sym_addr_raw(s).wrapping_sub(tls_start)
                                    }
                                    GotKind::TlsGd | GotKind::TlsLd => 0,
                                }
                            };
                            put64(dst, 8 * k, val);
                        }
                    }
                    Synthetic::GotPlt => {
                        if let Some(d) = dynamic {
                            put64(dst, 0, layout.section_range(".dynamic").map_or(0, |r| r.0));
                            // Lazy binding: each slot starts at its PLT entry's `push`.
                            for k in 0..d.plt.len() {
                                let slot = (v.got_plt_slot(k as u32) - addr) as usize;
                                let entry = v.plt + crate::arch::PLT_ENTRY_SIZE * (k as u64 + 1);
                                put64(dst, slot, entry + crate::arch::PLT_LAZY_PUSH_AT);
                            }
                        }
                    }
                    Synthetic::RelaPlt => {
                        let mut k = 0;
                        if let Some(d) = dynamic {
                            for (i, s) in d.plt.iter().enumerate() {
                                let sym = match s {
                                    crate::synthesize::SymRef::Global(g) => {
                                        d.dynsym_index.get(g).copied().unwrap_or(0)
                                    }
                                    _ => 0,
                                };
                                put64(dst, 24 * k, v.got_plt_slot(i as u32));
                                put64(
                                    dst,
                                    24 * k + 8,
                                    (u64::from(sym) << 32) | u64::from(R_X86_64_JUMP_SLOT),
                                );
                                k += 1;
                            }
                        }
                        for (i, &s) in synth.iplt.iter().enumerate() {
                            put64(dst, 24 * k, v.iplt_got_slot(i as u32));
                            put64(dst, 24 * k + 8, u64::from(R_X86_64_IRELATIVE));
                            put64(dst, 24 * k + 16, v.sym_addr_raw(s));
                            k += 1;
                        }
                    }
                    Synthetic::RelaDyn => {
                        if let Some(d) = dynamic {
                            let tls_start = layout.tls.map_or(0, |t| t.start);
                            // RELATIVE first, as GNU ld orders them (the loader can batch them).
                            let order: Vec<&crate::dynamic::DynReloc> = d
                                .relocs
                                .iter()
                                .filter(|r| r.kind == DynKind::Relative)
                                .chain(d.relocs.iter().filter(|r| r.kind != DynKind::Relative))
                                .collect();
                            let entry = |(e, r): (&mut [u8], &&crate::dynamic::DynReloc)| {
                                let at = dyn_loc_addr(v, r.loc);
                                let sym = r
                                    .sym
                                    .and_then(|g| d.dynsym_index.get(&g).copied())
                                    .unwrap_or(0);
                                let addend = match (r.kind, r.target) {
                                    (DynKind::Relative, Some(t)) => v.s_plus_a(t, r.addend),
                                    (DynKind::Relative, None) => match r.loc {
                                        DynLoc::Synthetic { what, off } => {
                                            synthetic_words(v, what, opts)
                                                .get((off / 8) as usize)
                                                .copied()
                                                .unwrap_or(0)
                                        }
                                        _ => r.addend as u64,
                                    },
                                    (DynKind::TpOffset, Some(t)) => v
                                        .sym_addr_raw(t)
                                        .wrapping_sub(tls_start)
                                        .wrapping_add(r.addend as u64),
                                    _ => r.addend as u64,
                                };
                                put64(e, 0, at);
                                put64(e, 8, (u64::from(sym) << 32) | u64::from(r.r_type()));
                                put64(e, 16, addend);
                            };
                            // One entry per pointer in the data: natively, in parallel.
                            #[cfg(not(target_arch = "wasm32"))]
                            {
                                use rayon::prelude::*;
                                dst.par_chunks_mut(24)
                                    .zip(order.par_iter())
                                    .with_min_len(4096)
                                    .for_each(entry);
                            }
                            #[cfg(target_arch = "wasm32")]
                            dst.chunks_mut(24).zip(order.iter()).for_each(entry);
                        }
                    }
                    Synthetic::Interp => {
                        if let Some(i) = dynamic.and_then(|d| d.interp.as_ref()) {
                            dst[..i.len()].copy_from_slice(i.as_bytes());
                        }
                    }
                    Synthetic::DynStr => {
                        dst.copy_from_slice(&dynamic.map_or(&[][..], |d| &d.dynstr)[..dst.len()])
                    }
                    Synthetic::GnuHash => {
                        dst.copy_from_slice(&dynamic.map_or(&[][..], |d| &d.gnu_hash)[..dst.len()])
                    }
                    Synthetic::Hash => {
                        dst.copy_from_slice(&dynamic.map_or(&[][..], |d| &d.sysv_hash)[..dst.len()])
                    }
                    Synthetic::VerNeed => {
                        dst.copy_from_slice(&dynamic.map_or(&[][..], |d| &d.verneed)[..dst.len()])
                    }
                    Synthetic::VerSym => {
                        if let Some(d) = dynamic {
                            for (k, ver) in d.versym.iter().enumerate() {
                                put16(dst, 2 * k, *ver);
                            }
                        }
                    }
                    Synthetic::DynSym => {
                        if let Some(d) = dynamic {
                            for (k, &g) in d.dynsyms.iter().enumerate() {
                                let e = dynsym_entry(v, d, g);
                                let o = 24 * (k + 1);
                                put32(dst, o, d.dynsym_names[k]);
                                dst[o + 4] = e.info;
                                dst[o + 5] = e.other;
                                put16(dst, o + 6, e.shndx);
                                put64(dst, o + 8, e.value);
                                put64(dst, o + 16, e.size);
                            }
                        }
                    }
                    Synthetic::Dynamic => {
                        if let Some(d) = dynamic {
                            let mut needed = d.needed_str.iter();
                            for (k, &tag) in d.tags.iter().enumerate() {
                                put64(dst, 16 * k, u64::from(tag));
                                put64(dst, 16 * k + 8, dynamic_value(v, d, tag, &mut needed, opts));
                            }
                        }
                    }
                    Synthetic::InitStubSlot | Synthetic::ModuleData => {
                        let words = synthetic_words(v, what, opts);
                        for (k, w) in words.iter().enumerate() {
                            put64(dst, 8 * k, *w);
                        }
                        if what == Synthetic::ModuleData {
                            let at = crate::layout::MODULE_DATA_SIZE as usize;
                            dst[at..at + opts.output.len()].copy_from_slice(opts.output.as_bytes());
                        }
                    }
                    // Written elsewhere: .eh_frame_hdr and the build ID at the end, RELATIVE
                    // entries with the sections they fix up.
                    Synthetic::EhFrameHdr
                    | Synthetic::BuildId
                    | Synthetic::Copy
                    | Synthetic::RelaDynRelative => {}
                },
            }
        }
        if relative.n != n || room != n {
            // Scan and write disagree: better no output than a loader writing garbage.
            errors.push(Diagnostic::error(format!(
                "internal: {n} R_X86_64_RELATIVE relocations counted in {}, {} written",
                os.name, relative.n
            )));
        }
    }
    errors
}

/// `parts` of `buf` at (offset, length), as disjoint windows in the order given; `None` when two
/// overlap or one passes the end.
fn windows<'b>(buf: &'b mut [u8], parts: &[(usize, usize)]) -> Option<Vec<&'b mut [u8]>> {
    let mut order: Vec<usize> = (0..parts.len()).collect();
    // Empty parts first where they share an offset.
    order.sort_by_key(|&i| parts[i]);
    let mut out: Vec<&mut [u8]> = Vec::new();
    out.resize_with(parts.len(), Default::default);
    let (mut rest, mut at) = (buf, 0);
    for i in order {
        let (o, n) = parts[i];
        let (_, tail) = std::mem::take(&mut rest).split_at_mut_checked(o.checked_sub(at)?)?;
        let (w, tail) = tail.split_at_mut_checked(n)?;
        out[i] = w;
        (rest, at) = (tail, o + n);
    }
    Some(out)
}

fn cannot_write(opts: &Options) -> impl Fn(String) -> Errors + '_ {
    |e| {
        Diagnostic::error(format!("cannot write output: {e}"))
            .file(opts.output.clone())
            .into()
    }
}

/// The file in one buffer: the library's and the wasm build's way, and the CLI's over a previous
/// output or when a report reads the bytes afterwards. With a [`FileWriter`], most of the file is written out on one
/// thread while another builds `.eh_frame_hdr` and hashes the build ID.
fn write_buffered<'s>(
    v: &Values<'_, '_>,
    opts: &Options,
    plan: &FilePlan<'_>,
    sink: &'s mut dyn OutputSink,
    trace: Option<&mut Trace>,
) -> Result<&'s mut [u8]> {
    let total = plan.total;
    let OutputBuffer { bytes: buf, writer } = sink.buffer(total).map_err(cannot_write(opts))?;
    if buf.len() != total {
        return Err(internal("output buffer of the wrong size"));
    }
    let fixed = [
        (0, &plan.head),
        (plan.shdrs.0, &plan.shdrs.1),
        (plan.shstrtab.0, &plan.shstrtab.1),
    ];
    for (at, bytes) in fixed {
        buf.get_mut(at..at + bytes.len())
            .ok_or_else(|| internal("headers past the file's end"))?
            .copy_from_slice(bytes);
    }
    // Each job records its sites apart (no lock); they are merged in job order.
    let tracing = trace.is_some();
    let results: Vec<(Vec<Diagnostic>, Vec<Traced>)> = {
        let mut windows = windows(buf, &plan.parts())
            .ok_or_else(|| internal("parts of the file overlap"))?
            .into_iter();
        let mut next = || windows.next().unwrap_or_default();
        let mut jobs: Vec<(&Job<'_>, &mut [u8], &mut [u8])> =
            plan.jobs.iter().map(|j| (j, next(), next())).collect();
        let chunks: Vec<_> = plan
            .chunks
            .iter()
            .map(|&(c, _, _, at)| (c, next(), next(), at))
            .collect();
        let run = |(j, out, rel): &mut (&Job<'_>, &mut [u8], &mut [u8])| {
            let mut sites = Vec::with_capacity(if tracing { trace_room(v, j) } else { 0 });
            let traced = tracing.then_some(&mut sites);
            (write_job(v, opts, j, out, rel, traced), sites)
        };
        #[cfg(not(target_arch = "wasm32"))]
        {
            use rayon::prelude::*;
            rayon::join(
                || chunks.into_par_iter().for_each(fill_chunk),
                || jobs.par_iter_mut().map(run).collect(),
            )
            .1
        }
        #[cfg(target_arch = "wasm32")]
        {
            chunks.into_iter().for_each(fill_chunk);
            jobs.iter_mut().map(run).collect()
        }
    };
    let (errors, sites): (Vec<_>, Vec<_>) = results.into_iter().unzip();
    let errors: Vec<Diagnostic> = errors.into_iter().flatten().collect();
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    if let Some(trace) = trace {
        *trace = Trace::new(v, sites);
    }
    if let Some(o) = plan.note {
        buf[o..o + 16].copy_from_slice(&note_header());
    }

    // Last, what reads the finished bytes: `.eh_frame_hdr` the relocated `.eh_frame`, the build
    // ID the whole file (the note's header is part of it, its ID zero while hashed). The file is
    // split around `.eh_frame_hdr`, so that the rest can be written out meanwhile.
    let (h0, h1) = plan.hdr_range();
    let (before, rest) = buf.split_at_mut(h0);
    let (hdr_bytes, after) = rest.split_at_mut(h1 - h0);
    let (before, after) = (&*before, &*after);
    let mut finish = || -> Option<[u8; 20]> {
        if let Some((_, e)) = plan.hdr {
            // `.eh_frame` is another section, so it lies wholly before or after the header.
            let (part, at) = if e.offset as usize >= h1 {
                (after, h1)
            } else {
                (before, 0)
            };
            let from = (e.offset as usize).saturating_sub(at);
            let eh = part.get(from..from + e.size as usize).unwrap_or(&[]);
            fill_eh_frame_hdr(plan, eh, hdr_bytes);
        }
        plan.note?;
        build_id_of(opts, total, &[before, &*hdr_bytes, after])
    };
    let id = match writer {
        Some(w) => {
            #[cfg(not(target_arch = "wasm32"))]
            let (written, id) = rayon::join(
                || {
                    w.write_at(0, before)?;
                    w.write_at(h1 as u64, after)
                },
                finish,
            );
            #[cfg(target_arch = "wasm32")]
            let (written, id) = (
                w.write_at(0, before)
                    .and_then(|()| w.write_at(h1 as u64, after)),
                finish(),
            );
            written
                .and_then(|()| w.write_at(h0 as u64, hdr_bytes))
                .map_err(cannot_write(opts))?;
            id
        }
        None => finish(),
    };
    if let (Some(o), Some(id)) = (plan.note, id) {
        buf[o + 16..o + 36].copy_from_slice(&id);
        if let Some(w) = writer {
            w.write_at(o as u64 + 16, &id).map_err(cannot_write(opts))?;
        }
    }
    Ok(buf)
}

/// The build-ID note's header; its 20-byte ID follows.
fn note_header() -> [u8; 16] {
    let mut h = [0u8; 16];
    put32(&mut h, 0, 4);
    put32(&mut h, 4, 20);
    put32(&mut h, 8, NT_GNU_BUILD_ID);
    h[12..].copy_from_slice(b"GNU\0");
    h
}

/// Fill `.eh_frame_hdr` from the relocated `.eh_frame` bytes.
fn fill_eh_frame_hdr(plan: &FilePlan<'_>, eh: &[u8], out: &mut [u8]) {
    if let Some((h, e)) = plan.hdr {
        // Input pieces start at record boundaries: the scan splits there, one part per thread.
        let starts: Vec<usize> = e.pieces.iter().map(|p| p.offset as usize).collect();
        eh_frame_hdr(out, eh, &starts, e.addr, h.addr);
    }
}

/// The build ID of the file made of `parts`, when one is asked for.
fn build_id_of(opts: &Options, total: usize, parts: &[&[u8]]) -> Option<[u8; 20]> {
    Some(match opts.build_id.as_ref()? {
        // Hashed by the caller (see `build_id_at`).
        BuildId::Sha1 | BuildId::Fast if defers_build_id(opts, total) => [0; 20],
        BuildId::Sha1 => chunked_build_id(parts, sha1_leaf),
        BuildId::Fast => chunked_build_id(parts, fast_leaf),
        BuildId::Hex(h) => {
            let mut v = [0; 20];
            let n = h.len().min(20);
            v[..n].copy_from_slice(&h[..n]);
            v
        }
    })
}

/// Zero-filled buffers for [`write_windowed`]'s jobs, reused: a job's window is filled in one,
/// written out, and handed back. A pool rather than one per thread: a thread waiting inside a
/// job's own parallel loop can take up another job.
#[derive(Default)]
struct Scratch(std::sync::Mutex<Vec<Vec<u8>>>);

impl Scratch {
    fn take(&self, len: usize) -> Vec<u8> {
        let mut b = self
            .0
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        b.clear();
        b.resize(len, 0);
        b
    }
    fn give(&self, b: Vec<u8>) {
        if let Ok(mut p) = self.0.lock() {
            p.push(b);
        }
    }
}

/// The file written window by window: each job is filled in a reused buffer and written at its
/// offset, what no job covers is written as zeros, then `.eh_frame_hdr` and the build ID are made
/// from the file read back. No buffer of the file's size is touched: fresh memory can cost more
/// than the file's own pages (docs/benchmarks.md). A link error found while writing leaves a
/// partly written file, which the caller removes (so the CLI offers a file only when it is a
/// new one).
fn write_windowed(
    v: &Values<'_, '_>,
    opts: &Options,
    plan: &FilePlan<'_>,
    file: &(dyn FileWriter + Sync),
) -> Result<()> {
    let failed = std::sync::Mutex::new(None::<String>);
    let put = |at: usize, bytes: &[u8]| {
        if bytes.is_empty() {
            return;
        }
        if let Err(e) = file.write_at(at as u64, bytes) {
            if let Ok(mut f) = failed.lock() {
                f.get_or_insert(e);
            }
        }
    };
    let scratch = Scratch::default();
    let (h0, h1) = plan.hdr_range();
    let run = |j: &Job<'_>| -> Vec<Diagnostic> {
        let (mut out, mut rel) = (scratch.take(j.len), scratch.take(j.rel_len));
        let errors = write_job(v, opts, j, &mut out, &mut rel, None);
        if errors.is_empty() {
            // `.eh_frame_hdr` is written last, whole.
            if !(j.at >= h0 && j.at + j.len <= h1) {
                put(j.at, &out);
            }
            put(j.rel_at, &rel);
        }
        scratch.give(out);
        scratch.give(rel);
        errors
    };
    let chunk = |&(c, st_at, names, at): &SymChunk<'_>| {
        let (mut st, mut sr) = (scratch.take(24 * c.len()), scratch.take(names));
        fill_chunk((c, &mut st, &mut sr, at));
        put(plan.symtab_off + st_at, &st);
        put(plan.strtab_off + at, &sr);
        scratch.give(st);
        scratch.give(sr);
    };
    #[cfg(not(target_arch = "wasm32"))]
    let results: Vec<Vec<Diagnostic>> = {
        use rayon::prelude::*;
        rayon::join(
            || plan.chunks.par_iter().for_each(chunk),
            || plan.jobs.par_iter().map(run).collect(),
        )
        .1
    };
    #[cfg(target_arch = "wasm32")]
    let results: Vec<Vec<Diagnostic>> = {
        plan.chunks.iter().for_each(chunk);
        plan.jobs.iter().map(run).collect()
    };
    drop(scratch);
    let errors: Vec<Diagnostic> = results.into_iter().flatten().collect();
    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    put(0, &plan.head);
    put(plan.shdrs.0, &plan.shdrs.1);
    put(plan.shstrtab.0, &plan.shstrtab.1);
    if let Some(o) = plan.note {
        put(o, &note_header());
    }
    // Zeros where nothing was written: the file may be a previous output, reused.
    let mut written = plan.parts();
    written.extend([
        (0, plan.head.len()),
        (plan.shdrs.0, plan.shdrs.1.len()),
        (plan.shstrtab.0, plan.shstrtab.1.len()),
        (h0, h1 - h0),
    ]);
    written.sort_unstable();
    let zeros = [0u8; 1 << 16];
    let mut at = 0;
    for (o, n) in written.into_iter().chain([(plan.total, 0)]) {
        while at < o {
            let n = (o - at).min(zeros.len());
            put(at, &zeros[..n]);
            at += n;
        }
        at = at.max(o + n);
    }
    if let Some(e) = failed.lock().ok().and_then(|mut f| f.take()) {
        return Err(cannot_write(opts)(e));
    }
    if plan.hdr.is_none() && plan.note.is_none() {
        return Ok(());
    }
    let bytes = file.read_back(plan.total).map_err(cannot_write(opts))?;
    if bytes.len() != plan.total {
        return Err(internal("the file read back is of the wrong size"));
    }
    let mut hdr = vec![0u8; h1 - h0];
    if let Some((_, e)) = plan.hdr {
        let eh = bytes
            .get(e.offset as usize..(e.offset + e.size) as usize)
            .unwrap_or(&[]);
        fill_eh_frame_hdr(plan, eh, &mut hdr);
    }
    let id = plan
        .note
        .and_then(|_| build_id_of(opts, plan.total, &[&bytes[..h0], &hdr, &bytes[h1..]]));
    let mut done = file.write_at(h0 as u64, &hdr);
    if let (Some(o), Some(id)) = (plan.note, id) {
        done = done.and_then(|()| file.write_at(o as u64 + 16, &id));
    }
    done.map_err(cannot_write(opts))
}

/// Read a pointer in DWARF EH encoding `enc` at `eh[o..]` (at address `addr`): (value, size).
fn read_encoded(eh: &[u8], o: usize, enc: u8, addr: u64) -> Option<(u64, usize)> {
    let (raw, n): (u64, usize) = match enc & 0x0f {
        0x00 | 0x04 => (u64::from_le_bytes(eh.get(o..o + 8)?.try_into().ok()?), 8),
        0x03 => (
            u64::from(u32::from_le_bytes(eh.get(o..o + 4)?.try_into().ok()?)),
            4,
        ),
        0x0b => (
            i64::from(i32::from_le_bytes(eh.get(o..o + 4)?.try_into().ok()?)) as u64,
            4,
        ),
        0x0c => (u64::from_le_bytes(eh.get(o..o + 8)?.try_into().ok()?), 8),
        0x02 => (
            u64::from(u16::from_le_bytes(eh.get(o..o + 2)?.try_into().ok()?)),
            2,
        ),
        0x0a => (
            i64::from(i16::from_le_bytes(eh.get(o..o + 2)?.try_into().ok()?)) as u64,
            2,
        ),
        _ => return None,
    };
    let v = match enc & 0x70 {
        0x00 => raw,
        0x10 => raw.wrapping_add(addr),
        _ => return None,
    };
    Some((v, n))
}

fn uleb(eh: &[u8], o: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *eh.get(*o)?;
        *o += 1;
        if shift < 64 {
            v |= u64::from(b & 0x7f) << shift;
        }
        shift += 7;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
}

/// The FDE pointer encoding a CIE declares (augmentation 'R'), absptr when none.
fn cie_fde_encoding(eh: &[u8], cie: usize) -> Option<u8> {
    let mut o = cie + 8;
    let version = *eh.get(o)?;
    o += 1;
    let aug_start = o;
    while *eh.get(o)? != 0 {
        o += 1;
    }
    let aug = eh.get(aug_start..o)?.to_vec();
    o += 1;
    uleb(eh, &mut o)?; // code alignment
    uleb(eh, &mut o)?; // data alignment (sleb, same length)
    if version == 1 {
        o += 1;
    } else {
        uleb(eh, &mut o)?;
    }
    if aug.first() != Some(&b'z') {
        return Some(0);
    }
    uleb(eh, &mut o)?;
    for &c in &aug[1..] {
        match c {
            b'L' => o += 1,
            b'R' => return eh.get(o).copied(),
            b'P' => {
                let enc = *eh.get(o)?;
                o += 1;
                let (_, n) = read_encoded(eh, o, enc & 0x7f, 0).unwrap_or((0, 8));
                o += n;
            }
            _ => {}
        }
    }
    Some(0)
}

/// Build `.eh_frame_hdr`: a sorted table of (function start, FDE) for the unwinder's binary search.
/// `starts` are record boundaries (the input pieces' offsets, in order): natively the scan runs in
/// one part per thread between them.
fn eh_frame_hdr(out: &mut [u8], eh: &[u8], starts: &[usize], eh_addr: u64, hdr_addr: u64) {
    #[cfg(not(target_arch = "wasm32"))]
    let parts = rayon::current_num_threads().clamp(1, 8);
    #[cfg(target_arch = "wasm32")]
    let parts = 1;
    // Part k scans from the first boundary at or past k/parts of the bytes.
    let mut cuts: Vec<usize> = (0..parts)
        .map(|k| {
            let at = eh.len() / parts * k;
            starts
                .get(starts.partition_point(|&s| s < at))
                .map_or(eh.len(), |&s| s.min(eh.len()))
        })
        .collect();
    cuts[0] = 0;
    cuts.push(eh.len());
    cuts.dedup();
    let scan = |w: &[usize]| fde_table(eh, w[0], w[1], eh_addr, hdr_addr);
    #[cfg(not(target_arch = "wasm32"))]
    let tables: Vec<Vec<u64>> = {
        use rayon::prelude::*;
        cuts.par_windows(2).map(scan).collect()
    };
    #[cfg(target_arch = "wasm32")]
    let tables: Vec<Vec<u64>> = cuts.windows(2).map(scan).collect();
    let mut table = tables.concat();
    table.sort_unstable();
    // The section was sized for the FDEs counted in the plan; it holds no more.
    table.truncate(out.len().saturating_sub(12) / 8);
    if out.len() < 12 {
        return;
    }
    out[..4].copy_from_slice(&[1u8, 0x1b, 0x03, 0x3b]);
    put32(out, 4, eh_addr.wrapping_sub(hdr_addr + 4) as u32);
    put32(out, 8, table.len() as u32);
    for (k, key) in table.into_iter().enumerate() {
        put32(out, 12 + 8 * k, (key >> 32) as u32 ^ SIGN);
        put32(out, 16 + 8 * k, key as u32 ^ SIGN);
    }
}

/// Flips an `i32`'s sign bit so that its bits compare as unsigned in signed order.
const SIGN: u32 = 1 << 31;

/// Each FDE in `eh[from..to]` (record boundaries) as the table entry it becomes: its function's
/// start and its own address, both relative to `.eh_frame_hdr` (i32, the table's encoding), in
/// one u64 that sorts as the pair does. 8 bytes an entry, not 16 (181,000 of them on the large
/// link); any address the table can hold is within 2 GiB of it, so this is the address order.
fn fde_table(eh: &[u8], from: usize, to: usize, eh_addr: u64, hdr_addr: u64) -> Vec<u64> {
    let rel = |a: u64| u64::from(a.wrapping_sub(hdr_addr) as u32 ^ SIGN);
    // Sized once: an FDE takes at least 16 bytes.
    let mut table = Vec::with_capacity((to - from.min(to)) / 16);
    let mut o = from;
    // FDEs mostly share the CIE before them: parse each CIE's augmentation once.
    let mut last_cie: Option<(usize, Option<u8>)> = None;
    while o + 8 <= to {
        let len = u32::from_le_bytes([eh[o], eh[o + 1], eh[o + 2], eh[o + 3]]) as usize;
        if len == 0 {
            o += 4;
            continue;
        }
        let id = u32::from_le_bytes([eh[o + 4], eh[o + 5], eh[o + 6], eh[o + 7]]) as usize;
        if id != 0 && o + 4 >= id {
            let cie = o + 4 - id;
            let enc = match last_cie {
                Some((c, enc)) if c == cie => enc,
                _ => cie_fde_encoding(eh, cie),
            };
            last_cie = Some((cie, enc));
            if let Some(enc) = enc {
                if let Some((pc, _)) = read_encoded(eh, o + 8, enc, eh_addr + o as u64 + 8) {
                    table.push(rel(pc) << 32 | rel(eh_addr + o as u64));
                }
            }
        }
        o += 4 + len;
    }
    table
}

/// Where a dynamic relocation applies, as an address.
fn dyn_loc_addr(v: &Values<'_, '_>, loc: DynLoc) -> u64 {
    match loc {
        DynLoc::Got(k) => v.got + 8 * u64::from(k),
        DynLoc::Input { file, sec, off } => {
            // A `.ctors` section folded into `.init_array` was reversed word by word: its
            // relocations move with the words.
            let mut off = off;
            if let Some((out, _)) = v.layout.input_out(file, sec) {
                let os = &v.layout.sections[out as usize];
                if os.sh_type == SHT_INIT_ARRAY || os.sh_type == SHT_FINI_ARRAY {
                    let src = crate::layout::PieceSrc::Input { file, sec };
                    if let Some(p) = os.pieces.iter().find(|p| p.src == src && p.from_ctors) {
                        off = (p.size - 8).wrapping_sub(off & !7) + (off & 7);
                    }
                }
            }
            v.layout.input_addr(file, sec, off).unwrap_or(0)
        }
        DynLoc::Copy(g) => v.sym_addr(SymRef::Global(g)),
        DynLoc::Synthetic { what, off } => crate::relocate::synth_piece_addr(v.layout, what) + off,
    }
}

/// The 64-bit words of a linker-made data piece: the `--init-stub` slot (the stub's address) or
/// `struct initlink_module` (version 1; docs/module-registration.md).
pub fn synthetic_words(v: &Values<'_, '_>, what: Synthetic, opts: &Options) -> Vec<u64> {
    let layout = v.layout;
    match what {
        Synthetic::InitStubSlot => {
            vec![v
                .synth
                .init_stub
                .map_or(0, |i| v.stub_addr(&v.synth.stubs[i]))]
        }
        Synthetic::ModuleData => {
            let me = crate::relocate::synth_piece_addr(layout, Synthetic::ModuleData);
            let edata = layout.linker_symbol(b"_edata").unwrap_or(me);
            let end = layout.linker_symbol(b"_end").unwrap_or(me);
            let range =
                |n: &str, fallback: u64| layout.section_range(n).unwrap_or((fallback, fallback));
            let (ts, te) = range(".text", me);
            let (ds, de) = range(".data", edata);
            let (bs, be) = range(".bss", end);
            let (is, ie) = range(".init_array", me);
            let header = u64::from(crate::layout::MODULE_DATA_VERSION)
                | ((crate::layout::MODULE_DATA_SIZE) << 32);
            let _ = opts;
            vec![
                header,
                0,
                me + crate::layout::MODULE_DATA_SIZE,
                ts,
                te,
                ds,
                de,
                bs,
                be,
                is,
                (ie - is) / 8,
            ]
        }
        _ => Vec::new(),
    }
}

/// One `.dynsym` entry: imports are undefined (a canonical PLT entry gives them a value), exports
/// and copied data are defined here.
fn dynsym_entry(v: &Values<'_, '_>, d: &DynPlan, g: crate::resolve::SymbolId) -> OutSym<'static> {
    let res = v.res;
    let gl = res.global(g);
    let tls_start = v.layout.tls.map_or(0, |t| t.start);
    match gl.def {
        Def::Shared { dso, sym } => {
            let ds = &res.dsos[dso as usize].obj.syms[sym as usize];
            let ty = ds.import_type();
            // The references decide: weak only if every reference to it is weak.
            let bind = if gl.strong_ref { STB_GLOBAL } else { STB_WEAK };
            let info = (bind << 4) | ty;
            if let Some(&off) = d.copy_of.get(&g) {
                let a = v.copy + off;
                return OutSym {
                    name: &[],
                    value: a,
                    size: ds.size,
                    info,
                    other: 0,
                    shndx: shndx_for(v.layout, a),
                };
            }
            let canonical = d.canonical.contains(&g);
            let value = if canonical {
                v.sym_addr(SymRef::Global(g))
            } else {
                0
            };
            OutSym {
                name: &[],
                value,
                size: 0,
                info,
                other: 0,
                shndx: SHN_UNDEF,
            }
        }
        Def::Defined { file, sym, weak } => {
            let st = &res.files[file.0 as usize].obj.symbols[sym as usize];
            let a = v.def_addr(file, sym);
            let ty = st.st_type();
            let value = if ty == STT_TLS {
                a.wrapping_sub(tls_start)
            } else {
                a
            };
            let shndx = match res.files[file.0 as usize].obj.sym_place(sym as usize) {
                Ok(crate::input::SymPlace::Absolute) => SHN_ABS,
                _ => shndx_for(v.layout, a),
            };
            let bind = if weak { STB_WEAK } else { STB_GLOBAL };
            OutSym {
                name: &[],
                value,
                size: st.st_size.get(E),
                info: (bind << 4) | ty,
                other: st.st_other & 3,
                shndx,
            }
        }
        Def::Common { file, sym } => {
            let a = v.def_addr(file, sym);
            let (size, _) = res.common(g);
            OutSym {
                name: &[],
                value: a,
                size,
                info: (STB_GLOBAL << 4) | STT_OBJECT,
                other: 0,
                shndx: shndx_for(v.layout, a),
            }
        }
        Def::Linker => {
            let a = v.layout.linker_symbol(gl.name).unwrap_or(0);
            OutSym {
                name: &[],
                value: a,
                size: 0,
                info: STB_GLOBAL << 4,
                other: 0,
                shndx: shndx_for(v.layout, a),
            }
        }
        Def::Undefined => {
            let bind = if gl.strong_ref { STB_GLOBAL } else { STB_WEAK };
            // The type comes from the object that refers to it: a TLS reference must stay TLS.
            let ty = gl
                .first_ref
                .and_then(|f| {
                    let file = &res.files[f.0 as usize];
                    let k = file.globals.iter().position(|&x| x == g)?;
                    file.obj
                        .symbols
                        .get(file.obj.first_global + k)
                        .map(|s| s.st_type())
                })
                .unwrap_or(STT_NOTYPE);
            OutSym {
                name: &[],
                value: 0,
                size: 0,
                info: (bind << 4) | ty,
                other: 0,
                shndx: SHN_UNDEF,
            }
        }
    }
}

/// The value of one `.dynamic` entry.
fn dynamic_value(
    v: &Values<'_, '_>,
    d: &DynPlan,
    tag: u32,
    needed: &mut std::slice::Iter<'_, u32>,
    opts: &Options,
) -> u64 {
    let layout = v.layout;
    let start = |n: &str| layout.section_range(n).map_or(0, |r| r.0);
    let size = |n: &str| layout.section_range(n).map_or(0, |r| r.1 - r.0);
    let sym = |n: &[u8]| v.res.lookup(n).map_or(0, |g| v.sym_addr(SymRef::Global(g)));
    match tag {
        DT_NEEDED => u64::from(needed.next().copied().unwrap_or(0)),
        DT_SONAME => u64::from(d.soname_str.unwrap_or(0)),
        DT_RUNPATH | DT_RPATH => u64::from(d.rpath_str.unwrap_or(0)),
        DT_INIT => sym(opts.init_symbol().as_bytes()),
        DT_FINI => sym(opts.fini_symbol().as_bytes()),
        DT_PREINIT_ARRAY => start(".preinit_array"),
        DT_PREINIT_ARRAYSZ => size(".preinit_array"),
        DT_INIT_ARRAY => start(".init_array"),
        DT_INIT_ARRAYSZ => size(".init_array"),
        DT_FINI_ARRAY => start(".fini_array"),
        DT_FINI_ARRAYSZ => size(".fini_array"),
        DT_GNU_HASH => start(".gnu.hash"),
        DT_HASH => start(".hash"),
        DT_STRTAB => start(".dynstr"),
        DT_SYMTAB => start(".dynsym"),
        DT_STRSZ => size(".dynstr"),
        DT_SYMENT => 24,
        DT_PLTGOT => start(".got.plt"),
        DT_PLTRELSZ => size(".rela.plt"),
        DT_PLTREL => u64::from(DT_RELA),
        DT_JMPREL => start(".rela.plt"),
        DT_RELA => start(".rela.dyn"),
        DT_RELASZ => size(".rela.dyn"),
        DT_RELAENT => 24,
        DT_FLAGS => u64::from(if opts.bind_now { DF_BIND_NOW } else { 0 } | opts.dt_flags),
        DT_FLAGS_1 => {
            let mut f = opts.dt_flags_1;
            if opts.bind_now {
                f |= DF_1_NOW;
            }
            if opts.kind == crate::options::OutputKind::Pie {
                f |= DF_1_PIE;
            }
            u64::from(f)
        }
        DT_VERSYM => start(".gnu.version"),
        DT_VERNEED => start(".gnu.version_r"),
        DT_VERNEEDNUM => u64::from(d.verneed_count),
        _ => 0,
    }
}
