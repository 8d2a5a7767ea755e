//! `--emit-relocs` (`-q`): beside each loaded output section whose inputs have relocations, a
//! `.rela<name>` section that keeps them, rewritten for the output (GNU ld's, for tools that
//! rewrite linked code: BOLT, kernel relocation tables). Plan makes the sections, sized by the
//! relocations of the pieces kept (those of dropped `.eh_frame` records go with them); the write
//! phase fills them (`write::emit_relocs`).

use super::*;
use crate::input::{Rela, Section};

impl Layout {
    /// Add a `.rela<name>` section (a `PieceSrc::Relocs` piece) for each loaded output section
    /// with relocations to keep.
    pub(super) fn add_emitted_relocs(&mut self, res: &Resolved<'_>) {
        for out in 0..self.sections.len() {
            let s = &self.sections[out];
            if s.class == Class::NonAlloc {
                continue;
            }
            let count: usize = s
                .pieces
                .iter()
                .map(|p| match p.src {
                    PieceSrc::Input { file, sec } | PieceSrc::EhFrame { file, sec, .. } => {
                        self.kept_relocs(res, file, sec).count()
                    }
                    _ => 0,
                })
                .sum();
            if count == 0 {
                continue;
            }
            let k = self.emitted.len() as u32;
            self.emitted.push(out as u32);
            let name = format!(".rela{}", s.name);
            let size = 24 * count as u64;
            self.sections.push(OutSec {
                name,
                id: None,
                sh_type: elf::SHT_RELA,
                flags: u64::from(elf::SHF_INFO_LINK),
                align: 8,
                class: Class::NonAlloc,
                rank: u32::MAX,
                pieces: vec![Piece {
                    src: PieceSrc::Relocs(k),
                    offset: 0,
                    size,
                    align: 8,
                    priority: 0,
                    from_ctors: false,
                    rule: 0,
                }],
                size,
                addr: 0,
                offset: 0,
                shndx: 0,
            });
        }
        self.index_names();
    }

    /// The relocations of input section `sec` of `file` that `--emit-relocs` keeps, with their
    /// offsets in its piece: all of them, but those in a dropped `.eh_frame` record.
    pub fn kept_relocs<'s>(
        &'s self,
        res: &'s Resolved<'_>,
        file: FileId,
        sec: u32,
    ) -> impl Iterator<Item = (&'s Rela, u64)> + 's {
        let obj = &res.files[file.0 as usize].obj;
        let section: Option<&Section<'_>> = obj.sections.get(sec as usize);
        let relocs: &[Rela] = section.map_or(&[], |s| s.relocs);
        let map = self.places[file.0 as usize]
            .get(sec as usize)
            .and_then(Place::record_map)
            .map(|m| &self.maps[m as usize]);
        let mut at = usize::MAX;
        relocs.iter().filter_map(move |r| {
            let off = r.r_offset.get(E);
            match map {
                Some(m) => m.lookup_from(off, &mut at).map(|o| (r, o)),
                None => Some((r, off)),
            }
        })
    }
}
