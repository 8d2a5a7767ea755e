//! `--emit-relocs`: a `.rela<name>` section's entries, each input relocation of the section kept
//! and rewritten for the output: its offset the site's address, its symbol the output symbol
//! table's entry for it. A relocation against a section symbol (the output table has none) or a
//! symbol the table leaves out names no symbol, and its addend is the address it refers to.

use super::*;
use crate::resolve::SymRef;

/// Fill `dst` with the relocations of output section `Layout::emitted[k]`.
pub(super) fn emit_relocs(
    v: &Values<'_, '_>,
    k: u32,
    index: Option<&SymIndex>,
    dst: &mut [u8],
    errors: &mut Vec<Diagnostic>,
) {
    let (layout, res) = (v.layout, v.res);
    let os = &layout.sections[layout.emitted[k as usize] as usize];
    let mut at = 0usize;
    for p in &os.pieces {
        let (PieceSrc::Input { file, sec } | PieceSrc::EhFrame { file, sec, .. }) = p.src else {
            continue;
        };
        let obj = &res.files[file.0 as usize].obj;
        let Some(section) = obj.sections.get(sec as usize) else {
            continue;
        };
        for (r, off) in layout.kept_relocs(res, file, sec) {
            let Some(e) = dst.get_mut(at..at + 24) else {
                errors.push(Diagnostic::error(format!(
                    "internal: more relocations than counted for .rela{}",
                    os.name
                )));
                return;
            };
            at += 24;
            let sym = r.r_sym(E, false) as usize;
            let addend = r.r_addend.get(E);
            let (out_sym, addend) = if sym == 0 || sym >= obj.symbols.len() {
                (0, addend)
            } else {
                let (target, s, a) = v.s_and_a(file, section, sym, addend);
                let named = obj.symbols[sym].st_type() != STT_SECTION;
                let out = index.map_or(0, |ix| match target {
                    SymRef::Global(g) => ix.globals.get(g.0 as usize).copied().unwrap_or(0),
                    SymRef::Local(f, i) => ix.locals[f.0 as usize]
                        .get(i as usize)
                        .copied()
                        .unwrap_or(0),
                });
                if named && out != 0 {
                    (out, addend)
                } else {
                    (0, s.wrapping_add(a as u64) as i64)
                }
            };
            put64(e, 0, os.addr + p.offset + off);
            put64(
                e,
                8,
                (u64::from(out_sym) << 32) | u64::from(r.r_type(E, false)),
            );
            put64(e, 16, addend as u64);
        }
    }
    if at != dst.len() {
        errors.push(Diagnostic::error(format!(
            "internal: fewer relocations than counted for .rela{}",
            os.name
        )));
    }
}
