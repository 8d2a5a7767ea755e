//! Little-endian fields in output bytes. Callers pass offsets inside the buffer they sized; an
//! offset past it is a linker bug and panics like any out-of-bounds index.

pub fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn put64(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

/// The word at `o`, 0 past the end.
pub fn read64(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 8)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}
