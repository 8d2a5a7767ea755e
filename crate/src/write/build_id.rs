//! The build ID: a hash of the finished file, written into `.note.gnu.build-id` last.

use super::*;

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

pub(super) fn sha1_leaf(c: &[u8]) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    Sha1::digest(c).into()
}

pub(super) fn fast_leaf(c: &[u8]) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(c).to_be_bytes()
}

/// SHA-1 of the file when it fits in one chunk, else SHA-1 of its chunks' `leaf` digests. The
/// file is `parts` one after another (the output is hashed while parts of it are being written
/// out); a chunk that spans two parts is copied into one piece first.
pub(super) fn chunked_build_id<const N: usize>(
    parts: &[&[u8]],
    leaf: fn(&[u8]) -> [u8; N],
) -> [u8; 20] {
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
pub(super) fn build_id_note(layout: &Layout) -> Option<usize> {
    let i = layout.known(OutId::BuildId)?;
    Some(layout.sections[i as usize].offset as usize)
}

/// The build-ID note's header; its 20-byte ID follows.
pub(super) fn note_header() -> [u8; 16] {
    let mut h = [0u8; 16];
    put32(&mut h, 0, 4);
    put32(&mut h, 4, 20);
    put32(&mut h, 8, NT_GNU_BUILD_ID);
    h[12..].copy_from_slice(b"GNU\0");
    h
}

/// The build ID of the file made of `parts`, when one is asked for.
pub(super) fn build_id_of(opts: &Options, total: usize, parts: &[&[u8]]) -> Option<[u8; 20]> {
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
