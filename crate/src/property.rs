//! `.note.gnu.property`: the GNU property notes of the input objects (`NT_GNU_PROPERTY_TYPE_0`,
//! the x86 CET features and ISA levels), merged as GNU ld merges them ([`arch::property_merge`]),
//! with `-z ibt` and `-z shstk` forcing their feature bits on. The output has one such note
//! (`synthetic::GnuProperty`) and a `PT_GNU_PROPERTY` over it, or none when nothing is left.

use crate::arch::{self, PropertyMerge};
use crate::diag::Diagnostic;
use crate::options::Options;
use crate::resolve::Resolved;

const NT_GNU_PROPERTY_TYPE_0: u32 = 5;

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The 4-byte properties `(pr_type, value)` of a `.note.gnu.property` section, in order (other
/// notes and properties of other sizes are skipped); `Err((offset, what))` if it is malformed.
pub fn parse(data: &[u8]) -> Result<Vec<(u32, u32)>, (usize, String)> {
    let mut props = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let bad = |what: &str| Err((at, what.to_string()));
        let (Some(namesz), Some(descsz), Some(ty)) =
            (u32_at(data, at), u32_at(data, at + 4), u32_at(data, at + 8))
        else {
            return bad("truncated note header");
        };
        let name_at = at + 12;
        let desc_at = name_at.checked_add(namesz as usize).map(align8);
        let Some(desc_end) = desc_at.and_then(|d| d.checked_add(descsz as usize)) else {
            return bad("note size overflows");
        };
        if desc_end > data.len() {
            return bad("note runs past the end of the section");
        }
        let desc_at = desc_at.unwrap_or(desc_end);
        let gnu = data.get(name_at..name_at + namesz as usize) == Some(b"GNU\0");
        if gnu && ty == NT_GNU_PROPERTY_TYPE_0 {
            let mut p = desc_at;
            while p < desc_end {
                let (Some(pr_type), Some(size)) = (u32_at(data, p), u32_at(data, p + 4)) else {
                    return Err((p, "truncated property".into()));
                };
                let end = (p + 8)
                    .checked_add(size as usize)
                    .filter(|&e| e <= desc_end);
                let Some(end) = end else {
                    return Err((p, format!("property 0x{pr_type:x} runs past its note")));
                };
                if size == 4 {
                    props.push((pr_type, u32_at(data, p + 8).unwrap_or(0)));
                }
                p = align8(end);
            }
        }
        at = align8(desc_end);
    }
    Ok(props)
}

fn align8(x: usize) -> usize {
    x.saturating_add(7) & !7
}

/// The output's properties (type, value), and the `-z cet-report` warnings.
pub type Merged = (Vec<(u32, u32)>, Vec<Diagnostic>);

/// The output's properties, sorted by type: every loaded object's note merged (an object
/// without one has no property), then `-z ibt`/`-z shstk`/`-z x86-64-vN` bits added.
pub fn merge(res: &Resolved<'_>, opts: &Options) -> crate::diag::Result<Merged> {
    let mut per_file = Vec::with_capacity(res.files.len());
    for f in &res.files {
        let mut props = Vec::new();
        for s in &f.obj.sections {
            if s.name == b".note.gnu.property" {
                let found = parse(s.data).map_err(|(off, what)| {
                    Diagnostic::error(format!("bad GNU property note: {what}"))
                        .file(f.obj.name.clone())
                        .section(".note.gnu.property")
                        .offset(off as u64)
                })?;
                props.extend(found);
            }
        }
        per_file.push(props);
    }
    let report = cet_report(res, opts, &per_file)?;
    // The types present, in order (kept sorted by insertion: a sort would be another
    // instantiation of the standard sort in the wasm build, for a handful of values).
    let mut types: Vec<u32> = Vec::new();
    for &(t, _) in per_file.iter().flatten() {
        if let Err(at) = types.binary_search(&t) {
            types.insert(at, t);
        }
    }
    let mut out = Vec::new();
    for t in types {
        let values = || per_file.iter().map(|p| p.iter().find(|&&(ty, _)| ty == t));
        let merged = match arch::property_merge(t) {
            PropertyMerge::And => values()
                .map(|v| v.map_or(0, |&(_, x)| x))
                .reduce(|a, b| a & b),
            PropertyMerge::Or => values().flatten().map(|&(_, x)| x).reduce(|a, b| a | b),
            PropertyMerge::OrAnd => values()
                .map(|v| v.map(|&(_, x)| x))
                .reduce(|a, b| Some(a? | b?))
                .flatten(),
            PropertyMerge::Drop => None,
        };
        if let Some(v) = merged.filter(|&v| v != 0) {
            out.push((t, v));
        }
    }
    force(
        &mut out,
        arch::PROPERTY_X86_FEATURE_1_AND,
        opts.x86_features,
    );
    force(
        &mut out,
        arch::PROPERTY_X86_ISA_1_NEEDED,
        opts.x86_isa_needed,
    );
    Ok((out, report))
}

/// `-z cet-report=warning|error`: each input object whose notes lack the IBT or SHSTK bit, in
/// GNU ld's words; as errors, they fail the link.
fn cet_report(
    res: &Resolved<'_>,
    opts: &Options,
    per_file: &[Vec<(u32, u32)>],
) -> crate::diag::Result<Vec<Diagnostic>> {
    let Some(as_error) = opts.cet_report else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (f, props) in res.files.iter().zip(per_file) {
        let features = props
            .iter()
            .find(|&&(t, _)| t == arch::PROPERTY_X86_FEATURE_1_AND)
            .map_or(0, |&(_, v)| v);
        let ibt = features & arch::PROPERTY_X86_FEATURE_1_IBT != 0;
        let shstk = features & arch::PROPERTY_X86_FEATURE_1_SHSTK != 0;
        let missing = match (ibt, shstk) {
            (true, true) => continue,
            (false, false) => "missing IBT and SHSTK properties",
            (false, true) => "missing IBT property",
            (true, false) => "missing SHSTK property",
        };
        let d = if as_error {
            Diagnostic::error(missing)
        } else {
            Diagnostic::warning(missing)
        };
        out.push(d.file(f.obj.name.clone()));
    }
    if as_error && !out.is_empty() {
        return Err(crate::diag::Errors(out));
    }
    Ok(out)
}

/// Add `bits` to property `t` of `out` (sorted by type), making it if missing: what `-z ibt`,
/// `-z shstk` and `-z x86-64-vN` ask for whatever the inputs say.
fn force(out: &mut Vec<(u32, u32)>, t: u32, bits: u32) {
    if bits == 0 {
        return;
    }
    match out.binary_search_by_key(&t, |&(ty, _)| ty) {
        Ok(k) => out[k].1 |= bits,
        Err(k) => out.insert(k, (t, bits)),
    }
}

/// The note's bytes for `props` (empty: no note).
pub fn note_size(props: &[(u32, u32)]) -> u64 {
    if props.is_empty() {
        0
    } else {
        16 + 16 * props.len() as u64
    }
}

/// Write the note for `props` into `dst` ([`note_size`] bytes).
pub fn write_note(props: &[(u32, u32)], dst: &mut [u8]) {
    let mut words = vec![4u32, 16 * props.len() as u32, NT_GNU_PROPERTY_TYPE_0];
    words.push(u32::from_le_bytes(*b"GNU\0"));
    for &(t, v) in props {
        words.extend([t, 4, v, 0]);
    }
    for (k, w) in words.iter().enumerate() {
        if let Some(d) = dst.get_mut(4 * k..4 * k + 4) {
            d.copy_from_slice(&w.to_le_bytes());
        }
    }
}
