//! Compressed sections (`SHF_COMPRESSED`): an `Elf64_Chdr` (type, reserved word, uncompressed size
//! and alignment), then a zlib or zstd stream. The write phase compresses the output's debug
//! sections for `--compress-debug-sections`. A compressed input section is read with its
//! uncompressed size and alignment (from its header, bounded) and uncompressed as it is written.
//! The codecs are the `compress` feature's, on natively and off in the wasm build, where asking
//! for either is an error naming the file and section (the page's module stays as small as it
//! was).

use object::elf;

/// `sizeof(Elf64_Chdr)`.
pub const CHDR_SIZE: usize = 24;

/// The most a compressed input section may say it holds: its `ch_size` comes from the file.
pub const MAX_UNCOMPRESSED: u64 = 1 << 32;

/// `--compress-debug-sections=none|zlib|zlib-gabi|zstd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Codec {
    #[default]
    None,
    Zlib,
    Zstd,
}

impl Codec {
    fn ch_type(self) -> u32 {
        match self {
            Codec::Zstd => elf::ELFCOMPRESS_ZSTD,
            _ => elf::ELFCOMPRESS_ZLIB,
        }
    }
}

/// Whether this build has the codecs (the `compress` feature).
pub const AVAILABLE: bool = cfg!(feature = "compress");

/// `data` as a compressed section's contents: the header (for a section aligned to `align`),
/// then the stream. None when compressing saves nothing (GNU ld then leaves the section as it
/// is) or this build has no codecs.
pub fn compress(codec: Codec, data: &[u8], align: u64) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(CHDR_SIZE + data.len() / 4);
    out.extend_from_slice(&codec.ch_type().to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    out.extend_from_slice(&align.to_le_bytes());
    let out = codecs::compress(codec, data, out)?;
    (out.len() < data.len()).then_some(out)
}

/// A compressed section's codec, uncompressed size and alignment, from its `Elf64_Chdr`; an
/// error says what is wrong with it. The size is bounded: at most 4 GiB, and at most 2,048 times
/// the stream (zlib cannot do better than about 1,032; zstd can, but debug data does not), so
/// that a small file cannot make the output huge.
fn parse_header(data: &[u8]) -> Result<(Codec, u64, u64), String> {
    if !AVAILABLE {
        return Err(
            "is compressed, and compressed input sections cannot be read in this \
                    build of initlink (the playground's)"
                .into(),
        );
    }
    if data.len() < CHDR_SIZE {
        return Err("compressed, but shorter than its compression header".into());
    }
    let word = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap_or([0; 8]));
    let ch_type = u32::from_le_bytes(data[0..4].try_into().unwrap_or([0; 4]));
    let (size, align) = (word(8), word(16));
    let codec = match ch_type {
        elf::ELFCOMPRESS_ZLIB => Codec::Zlib,
        elf::ELFCOMPRESS_ZSTD => Codec::Zstd,
        t => return Err(format!("unknown compression type {t}")),
    };
    let stream = (data.len() - CHDR_SIZE) as u64;
    let most = MAX_UNCOMPRESSED.min(stream.saturating_mul(2048).max(64 << 10));
    if size > most {
        return Err(format!(
            "compression header says it holds 0x{size:x} bytes, more than 0x{most:x} (from a \
             stream of 0x{stream:x} bytes)"
        ));
    }
    if !align.is_power_of_two() && align != 0 {
        return Err(format!(
            "compression header's alignment {align} is not a power of two"
        ));
    }
    Ok((codec, size, align.max(1)))
}

/// A compressed section's uncompressed size and alignment (see [`parse_header`]).
pub fn header(data: &[u8]) -> Result<(u64, u64), String> {
    parse_header(data).map(|(_, size, align)| (size, align))
}

/// Uncompress a compressed section's contents into `dst`, which is its uncompressed size; an
/// error says what is wrong with them.
pub fn decompress_into(data: &[u8], dst: &mut [u8]) -> Result<(), String> {
    let (codec, size, _) = parse_header(data)?;
    let out = codecs::decompress(codec, &data[CHDR_SIZE..], size)?;
    if out.len() as u64 != size || out.len() != dst.len() {
        return Err(format!(
            "compressed section holds 0x{:x} bytes, its header says 0x{size:x}",
            out.len()
        ));
    }
    dst.copy_from_slice(&out);
    Ok(())
}

#[cfg(feature = "compress")]
mod codecs {
    use super::Codec;
    use std::io::{Read, Write};

    pub(super) fn compress(codec: Codec, data: &[u8], mut out: Vec<u8>) -> Option<Vec<u8>> {
        match codec {
            Codec::None => return None,
            Codec::Zlib => {
                let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::default());
                z.write_all(data).ok()?;
                out = z.finish().ok()?;
            }
            Codec::Zstd => {
                let mut z = zstd::stream::write::Encoder::new(out, 0).ok()?;
                z.write_all(data).ok()?;
                out = z.finish().ok()?;
            }
        }
        Some(out)
    }

    /// At most `size` bytes and one more (to find a stream longer than its header says).
    pub(super) fn decompress(codec: Codec, stream: &[u8], size: u64) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(size.min(64 << 20) as usize);
        let r = match codec {
            Codec::Zstd => zstd::stream::read::Decoder::with_buffer(stream)
                .map_err(|e| e.to_string())?
                .take(size + 1)
                .read_to_end(&mut out),
            _ => flate2::read::ZlibDecoder::new(stream)
                .take(size + 1)
                .read_to_end(&mut out),
        };
        r.map_err(|e| format!("cannot decompress: {e}"))?;
        Ok(out)
    }
}

#[cfg(not(feature = "compress"))]
mod codecs {
    use super::Codec;

    pub(super) fn compress(_: Codec, _: &[u8], _: Vec<u8>) -> Option<Vec<u8>> {
        None
    }

    pub(super) fn decompress(_: Codec, _: &[u8], _: u64) -> Result<Vec<u8>, String> {
        Err("compressed sections are not supported in this build of initlink".into())
    }
}
