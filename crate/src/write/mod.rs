//! Write phase: lay the bytes down in the order the layout decided. Every input piece is copied and
//! relocated in place; linker-made pieces (stubs, GOT, IPLT, `.rela.plt`, `.eh_frame_hdr`, the build
//! ID) are produced from the synthesize decisions. The symbol table and section headers close the file.

use crate::bytes::{put16, put32, put64, read64};
use crate::diag::{Diagnostic, Errors, Result};
use crate::dynamic::DynPlan;
use crate::input::{SymPlace, E};
use crate::layout::{align_up, EhKind, Layout, OutId, PieceSrc, Synthetic, EHDR_SIZE, PHDR_SIZE};
use crate::options::{BuildId, Options};
use crate::relocate::{RelativeOut, Trace, Traced, Values};
use crate::resolve::{Def, FileId};
use crate::synthesize::Entry;
use object::elf::*;

pub mod binary;
mod build_id;
mod compress;
mod eh_frame_hdr;
mod emit_relocs;
mod file_plan;
mod symtab;

pub use build_id::*;
pub use compress::compress_debug_sections;
use eh_frame_hdr::*;
use emit_relocs::*;
use file_plan::*;
pub use symtab::*;

pub fn entry_address(v: &Values<'_, '_>) -> u64 {
    match &v.synth.entry {
        Entry::Symbol(s, _) => v.sym_addr(*s),
        Entry::Stub(i) => v.stub_addr(&v.synth.stubs[*i]),
        Entry::TextStart => v.layout.range(OutId::Text).map_or(v.layout.base, |r| r.0),
        Entry::None => 0,
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

/// Hand finished bytes to `sink` (an output made whole before it is written: `-r`, `--oformat`).
pub(crate) fn put_bytes(sink: &mut dyn OutputSink, opts: &Options, bytes: &[u8]) -> Result<()> {
    let cannot = |e: String| -> Errors {
        Diagnostic::error(format!("cannot write output: {e}"))
            .file(opts.output.clone())
            .into()
    };
    let buf = sink.buffer(bytes.len()).map_err(cannot)?;
    if buf.bytes.len() != bytes.len() {
        return Err(Diagnostic::error("internal: output buffer of the wrong size").into());
    }
    buf.bytes.copy_from_slice(bytes);
    if let Some(w) = buf.writer {
        w.write_at(0, bytes).map_err(cannot)?;
    }
    Ok(())
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
            index: None,
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
                    if !s.compressed {
                        dst.copy_from_slice(s.data);
                    } else if let Err(why) = crate::compress::decompress_into(s.data, dst) {
                        let obj = &res.files[file.0 as usize].obj;
                        errors.push(
                            Diagnostic::error(why)
                                .file(obj.name.clone())
                                .section(s.name_str()),
                        );
                        break 'piece;
                    }
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
                PieceSrc::Blob(k) | PieceSrc::Data(k) => {
                    dst.copy_from_slice(&layout.blobs[k as usize].0)
                }
                PieceSrc::Relocs(k) => emit_relocs(v, k, job.index, dst, &mut errors),
                PieceSrc::Common(_) => {}
                PieceSrc::Synthetic(what) => {
                    crate::synthetic::object(what).write(v, opts, addr, dst)
                }
            }
        }
        if relative.n != n || room != n {
            // Scan and write disagree: better no output than a loader writing garbage.
            errors.push(Diagnostic::error(format!(
                "internal: {n} {} relocations counted in {}, {} written",
                crate::arch::dyn_name(crate::arch::DynKind::Relative),
                os.name,
                relative.n
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
        crate::par::join(
            || crate::par::for_each_owned(chunks, fill_chunk),
            || crate::par::map_mut(&mut jobs, run),
        )
        .1
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
            let (written, id) = crate::par::join(
                || {
                    w.write_at(0, before)?;
                    w.write_at(h1 as u64, after)
                },
                finish,
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
    let results: Vec<Vec<Diagnostic>> = crate::par::join(
        || crate::par::for_each(&plan.chunks, chunk),
        || crate::par::map(&plan.jobs, 1, run),
    )
    .1;
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
