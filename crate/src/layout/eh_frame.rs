//! `.eh_frame` inputs split into records, dead FDEs dropped.

use super::*;

/// An `.eh_frame` input's records and its input → output offset map (`out_size`: the bytes kept).
pub(super) type EhSplit = (Vec<EhRecord>, SplitMap);
/// An `.eh_frame` input the plan's walk placed before its split was done.
pub(super) struct EhPending {
    pub(super) file: usize,
    pub(super) sec: u32,
    pub(super) out: u32,
    /// Its piece in output section `out`, and its map in `maps`.
    pub(super) piece: usize,
    pub(super) map: usize,
}

/// [`split_eh_frame`] with the offset map, built where the split runs (in parallel natively)
/// rather than in the plan's in-order walk (a record per function).
pub(super) fn eh_split_mapped(
    res: &Resolved<'_>,
    gc: Option<&Gc>,
    fid: FileId,
    si: u32,
) -> Result<EhSplit> {
    let (records, kept) = split_eh_frame(res, gc, fid, si)?;
    let map = SplitMap {
        starts: records.iter().map(EhRecord::in_off).collect(),
        outs: (records.iter())
            .map(|r| r.out_off().unwrap_or(u64::MAX))
            .collect(),
        in_size: res.files[fid.0 as usize].obj.sections[si as usize].size,
        out_size: kept,
    };
    Ok((records, map))
}

/// Split one input `.eh_frame` into CIE/FDE records, dropping FDEs whose function was discarded
/// (a COMDAT duplicate, or unreachable under `--gc-sections`).
fn split_eh_frame(
    res: &Resolved<'_>,
    gc: Option<&Gc>,
    fid: FileId,
    si: u32,
) -> Result<(Vec<EhRecord>, u64)> {
    let file = &res.files[fid.0 as usize];
    let obj = &file.obj;
    let sec = &obj.sections[si as usize];
    let data = sec.data;
    let bad = |off: u64, msg: &str| {
        Diagnostic::error(msg.to_string())
            .file(obj.name.clone())
            .section(".eh_frame")
            .offset(off)
    };
    if data.len() >= EH_TERMINATOR as usize {
        return err(bad(0, "section of 4 GiB or more"));
    }
    // Room for records of 16 bytes (smaller than any FDE with its CIE pointer and range):
    // no regrowth, no copies.
    let mut records = Vec::with_capacity(data.len() / 16 + 1);
    let mut off = 0u64;
    let mut out = 0u64;
    let mut ri = 0usize; // walks relocations, which gcc and as emit sorted by offset
    while (off as usize) < data.len() {
        let o = off as usize;
        let Some(len) = data
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return err(bad(off, "truncated record length"));
        };
        if len == 0xffff_ffff {
            return err(bad(off, "64-bit DWARF .eh_frame records are not supported"));
        }
        if len == 0 {
            records.push(EhRecord::new(off, 4, EhKind::Terminator, Some(out)));
            out += 4;
            off += 4;
            continue;
        }
        let total = 4 + u64::from(len);
        if off + total > data.len() as u64 || len < 4 {
            return err(bad(
                off,
                &format!("record of length 0x{len:x} runs past the section end"),
            ));
        }
        let id = u32::from_le_bytes([data[o + 4], data[o + 5], data[o + 6], data[o + 7]]);
        let kind = if id == 0 {
            EhKind::Cie
        } else {
            let cie = (off + 4).checked_sub(u64::from(id));
            match cie {
                Some(c) => EhKind::Fde { cie_in: c },
                None => return err(bad(off, "FDE's CIE pointer points before the section")),
            }
        };
        let mut keep = true;
        if let EhKind::Fde { .. } = kind {
            // The relocation at pc_begin (offset 8) names the function the FDE describes.
            while ri < sec.relocs.len() && sec.relocs[ri].r_offset.get(E) < off + 8 {
                ri += 1;
            }
            let mut found = None;
            if ri < sec.relocs.len() && sec.relocs[ri].r_offset.get(E) == off + 8 {
                found = Some(ri);
            } else if sec
                .relocs
                .windows(2)
                .any(|w| w[0].r_offset.get(E) > w[1].r_offset.get(E))
            {
                found = sec.relocs.iter().position(|r| r.r_offset.get(E) == off + 8);
            }
            if let Some(k) = found {
                let sym = sec.relocs[k].r_sym(E, false) as usize;
                if sym >= obj.symbols.len() {
                    return err(bad(
                        off + 8,
                        &format!("relocation symbol index {sym} out of range"),
                    ));
                }
                keep = symbol_section_kept(res, gc, fid, sym);
            }
        }
        records.push(EhRecord::new(off, total, kind, keep.then_some(out)));
        if keep {
            out += total;
        }
        off += total;
    }
    Ok((records, out))
}

/// Whether the section a symbol lives in survives (false for discarded COMDAT members and
/// sections `--gc-sections` drops).
fn symbol_section_kept(res: &Resolved<'_>, gc: Option<&Gc>, fid: FileId, sym: usize) -> bool {
    let file = &res.files[fid.0 as usize];
    match file.obj.sym_place(sym) {
        Ok(SymPlace::Section(s)) => {
            !file.discarded.get(s as usize).copied().unwrap_or(true)
                && gc.is_none_or(|g| g.live(fid, s))
        }
        _ => true,
    }
}
