//! `--compress-debug-sections`: each `.debug*` section is relocated into a buffer of its own and
//! compressed before the file is planned, so the plan knows its final size; it then goes into
//! the file as finished bytes (`PieceSrc::Blob`).

use super::*;
use crate::compress::{Codec, CHDR_SIZE};
use crate::layout::Class;
use crate::resolve::Resolved;
use crate::synthesize::Synth;

/// Compress the output's non-loaded `.debug*` sections, as GNU ld does: each one that gets
/// smaller is replaced by an `Elf64_Chdr` and the stream, with `SHF_COMPRESSED`.
pub fn compress_debug_sections(
    res: &Resolved<'_>,
    layout: &mut Layout,
    synth: &Synth,
    opts: &Options,
) -> Result<()> {
    let codec = opts.compress_debug;
    let targets: Vec<usize> = (0..layout.sections.len())
        .filter(|&i| {
            let s = &layout.sections[i];
            s.class == Class::NonAlloc
                && s.size > 0
                && !s.is_nobits()
                && s.flags & u64::from(SHF_COMPRESSED) == 0
                && s.name.starts_with(".debug")
        })
        .collect();
    if codec == Codec::None || targets.is_empty() {
        return Ok(());
    }
    if !crate::compress::AVAILABLE {
        let name = &layout.sections[targets[0]].name;
        return Err(Diagnostic::error(format!(
            "cannot compress section {name}: --compress-debug-sections is not available in this \
             build of initlink (the playground's)"
        ))
        .file(opts.output.clone())
        .into());
    }
    let compressed: Vec<Result<Option<Vec<u8>>>> = {
        let mut v = Values::new(res, layout, synth);
        v.opts = Some(opts);
        let v = &v;
        crate::par::map(&targets, 1, |&i| {
            let os = &layout.sections[i];
            let mut bytes = vec![0u8; os.size as usize];
            let job = Job {
                os,
                pieces: &os.pieces,
                base: 0,
                at: 0,
                len: bytes.len(),
                rel_at: 0,
                rel_len: 0,
                index: None,
            };
            let errors = write_job(v, opts, &job, &mut bytes, &mut [], None);
            if !errors.is_empty() {
                return Err(Errors(errors));
            }
            Ok(crate::compress::compress(codec, &bytes, os.align))
        })
    };
    for (&i, c) in targets.iter().zip(compressed) {
        if let Some(bytes) = c? {
            debug_assert!(bytes.len() >= CHDR_SIZE);
            // Mergeable strings stay marked so (`MSC` in readelf), as with GNU ld.
            let (merge, entsize) = merge_flags(layout, &layout.sections[i]).unwrap_or((0, 0));
            let flags = merge | u64::from(SHF_COMPRESSED);
            layout.replace_contents(i, bytes, (flags, entsize));
        }
    }
    Ok(())
}
