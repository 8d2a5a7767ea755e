//! `.eh_frame_hdr`: the sorted table of FDEs, read from `.eh_frame` as written.

use super::*;

/// Fill `.eh_frame_hdr` from the relocated `.eh_frame` bytes.
pub(super) fn fill_eh_frame_hdr(plan: &FilePlan<'_>, eh: &[u8], out: &mut [u8]) {
    if let Some((h, e)) = plan.hdr {
        // Input pieces start at record boundaries: the scan splits there, one part per thread.
        let starts: Vec<usize> = e.pieces.iter().map(|p| p.offset as usize).collect();
        eh_frame_hdr(out, eh, &starts, e.addr, h.addr);
    }
}

/// Read a pointer in DWARF EH encoding `enc` at `eh[o..]` (at address `addr`): (value, size).
pub(super) fn read_encoded(eh: &[u8], o: usize, enc: u8, addr: u64) -> Option<(u64, usize)> {
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

pub(super) fn uleb(eh: &[u8], o: &mut usize) -> Option<u64> {
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
pub(super) fn cie_fde_encoding(eh: &[u8], cie: usize) -> Option<u8> {
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
pub(super) fn eh_frame_hdr(
    out: &mut [u8],
    eh: &[u8],
    starts: &[usize],
    eh_addr: u64,
    hdr_addr: u64,
) {
    let parts = crate::par::threads().clamp(1, 8);
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
    let tables: Vec<Vec<u64>> = crate::par::map_range(cuts.len() - 1, 1, |k| scan(&cuts[k..k + 2]));
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
pub(super) const SIGN: u32 = 1 << 31;

/// Each FDE in `eh[from..to]` (record boundaries) as the table entry it becomes: its function's
/// start and its own address, both relative to `.eh_frame_hdr` (i32, the table's encoding), in
/// one u64 that sorts as the pair does: 8 bytes an entry, not 16, for a table that has one entry
/// per function. Any address the table can hold is within 2 GiB of it, so this is the address
/// order.
pub(super) fn fde_table(
    eh: &[u8],
    from: usize,
    to: usize,
    eh_addr: u64,
    hdr_addr: u64,
) -> Vec<u64> {
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
