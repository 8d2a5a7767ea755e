//! The guest's address space: a sorted list of mapped regions, each a byte vector. Reads and
//! writes check bounds and return a fault instead of panicking; the total mapped size is capped
//! (`Memory::limit`) so a hostile `mmap` or `brk` cannot exhaust the host (or a wasm page).
//!
//! Protection bits are recorded (for `/proc`-like listings later) but not enforced: the programs
//! this emulator runs are compiled by gcc, and a write into text would at worst be ignored by
//! nobody. The decoded-instruction cache is flushed when mappings change.

use std::cell::Cell;

pub const PAGE: u64 = 4096;

pub fn page_down(a: u64) -> u64 {
    a & !(PAGE - 1)
}

pub fn page_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE - 1).map(page_down)
}

/// An access outside every mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub address: u64,
    pub write: bool,
}

#[derive(Debug, Clone)]
pub struct Region {
    pub start: u64,
    pub data: Vec<u8>,
    pub prot: u32,
    pub name: &'static str,
}

impl Region {
    pub fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

#[derive(Debug)]
pub struct Memory {
    regions: Vec<Region>,
    last: Cell<usize>,
    total: usize,
    /// The most bytes all regions together may hold.
    pub limit: usize,
}

impl Memory {
    pub fn new(limit: usize) -> Memory {
        Memory {
            regions: Vec::new(),
            last: Cell::new(0),
            total: 0,
            limit,
        }
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    fn find(&self, addr: u64) -> Option<usize> {
        let l = self.last.get();
        if let Some(r) = self.regions.get(l) {
            if addr >= r.start && addr - r.start < r.data.len() as u64 {
                return Some(l);
            }
        }
        let i = self
            .regions
            .partition_point(|r| r.start <= addr)
            .checked_sub(1)?;
        let r = &self.regions[i];
        if addr - r.start < r.data.len() as u64 {
            self.last.set(i);
            Some(i)
        } else {
            None
        }
    }

    /// Whether any byte of [start, end) is mapped.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.regions
            .iter()
            .any(|r| r.start < end && start < r.end())
    }

    /// Map zeroed memory at [start, start + len). Fails (None) on overlap or over the limit.
    pub fn map(&mut self, start: u64, len: u64, prot: u32, name: &'static str) -> Option<()> {
        let end = start.checked_add(len)?;
        if len == 0 || self.overlaps(start, end) {
            return None;
        }
        let len = usize::try_from(len).ok()?;
        if self.total.checked_add(len)? > self.limit {
            return None;
        }
        let mut data = Vec::new();
        data.try_reserve_exact(len).ok()?;
        data.resize(len, 0);
        self.total += len;
        let i = self.regions.partition_point(|r| r.start < start);
        self.regions.insert(
            i,
            Region {
                start,
                data,
                prot,
                name,
            },
        );
        Some(())
    }

    /// Remove [start, start + len) from every mapping (splitting regions as needed).
    pub fn unmap(&mut self, start: u64, len: u64) {
        let Some(end) = start.checked_add(len) else {
            return;
        };
        let mut out = Vec::with_capacity(self.regions.len() + 1);
        for r in std::mem::take(&mut self.regions) {
            let (rs, re) = (r.start, r.end());
            if re <= start || end <= rs {
                out.push(r);
                continue;
            }
            if rs < start {
                let keep = (start - rs) as usize;
                out.push(Region {
                    start: rs,
                    data: r.data[..keep].to_vec(),
                    prot: r.prot,
                    name: r.name,
                });
            }
            if end < re {
                let from = (end - rs) as usize;
                out.push(Region {
                    start: end,
                    data: r.data[from..].to_vec(),
                    prot: r.prot,
                    name: r.name,
                });
            }
        }
        self.regions = out;
        self.total = self.regions.iter().map(|r| r.data.len()).sum();
        self.last.set(0);
    }

    /// Record new protection bits for every region overlapping [start, start + len).
    pub fn protect(&mut self, start: u64, len: u64, prot: u32) {
        let end = start.saturating_add(len);
        for r in &mut self.regions {
            if r.start < end && start < r.end() {
                r.prot = prot;
            }
        }
    }

    /// A free, page-aligned range of `len` bytes, searched downward from `top`.
    pub fn find_free(&self, len: u64, top: u64) -> Option<u64> {
        let len = page_up(len)?;
        let mut hi = top;
        for r in self.regions.iter().rev() {
            if r.start >= hi {
                continue;
            }
            if r.end() <= hi.checked_sub(len)? {
                return Some(page_down(hi - len));
            }
            hi = page_down(r.start);
        }
        hi.checked_sub(len).filter(|&a| a >= 0x10000)
    }

    /// Grow or shrink the region starting at `start` to `len` bytes (the program break).
    pub fn resize(&mut self, start: u64, len: u64) -> Option<()> {
        let i = self.regions.iter().position(|r| r.start == start)?;
        let end = start.checked_add(len)?;
        if let Some(next) = self.regions.get(i + 1) {
            if end > next.start {
                return None;
            }
        }
        let len = usize::try_from(len).ok()?;
        let old = self.regions[i].data.len();
        if len > old {
            if self.total.checked_add(len - old)? > self.limit {
                return None;
            }
            self.regions[i].data.try_reserve_exact(len - old).ok()?;
        }
        self.regions[i].data.resize(len, 0);
        self.total = self.total - old + len;
        Some(())
    }

    #[inline]
    pub fn read<const N: usize>(&self, addr: u64) -> Result<[u8; N], Fault> {
        if let Some(i) = self.find(addr) {
            let r = &self.regions[i];
            let off = (addr - r.start) as usize;
            if let Some(s) = r.data.get(off..off + N) {
                let mut b = [0u8; N];
                b.copy_from_slice(s);
                return Ok(b);
            }
        } else {
            return Err(Fault {
                address: addr,
                write: false,
            });
        }
        let mut b = [0u8; N];
        for (k, x) in b.iter_mut().enumerate() {
            *x = self.read::<1>(addr.wrapping_add(k as u64))?[0];
        }
        Ok(b)
    }

    #[inline]
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Fault> {
        if let Some(i) = self.find(addr) {
            let r = &mut self.regions[i];
            let off = (addr - r.start) as usize;
            if let Some(s) = r.data.get_mut(off..off + bytes.len()) {
                s.copy_from_slice(bytes);
                return Ok(());
            }
        } else {
            return Err(Fault {
                address: addr,
                write: true,
            });
        }
        // Crosses into the next region: check every byte first, so a fault writes nothing.
        for k in 0..bytes.len() as u64 {
            if self.find(addr.wrapping_add(k)).is_none() {
                return Err(Fault {
                    address: addr.wrapping_add(k),
                    write: true,
                });
            }
        }
        for (k, &x) in bytes.iter().enumerate() {
            let a = addr.wrapping_add(k as u64);
            let i = self.find(a).ok_or(Fault {
                address: a,
                write: true,
            })?;
            let r = &mut self.regions[i];
            r.data[(a - r.start) as usize] = x;
        }
        Ok(())
    }

    /// Up to `max` bytes from `addr` (fewer if the mapping ends): for instruction fetch.
    pub fn peek(&self, addr: u64, max: usize) -> &[u8] {
        match self.find(addr) {
            Some(i) => {
                let r = &self.regions[i];
                let off = (addr - r.start) as usize;
                let end = r.data.len().min(off.saturating_add(max));
                &r.data[off..end]
            }
            None => &[],
        }
    }

    /// `len` bytes from `addr`; `len` must already be bounded by the caller.
    pub fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, Fault> {
        let mut v = Vec::with_capacity(len.min(1 << 20));
        let mut a = addr;
        while v.len() < len {
            let s = self.peek(a, len - v.len());
            if s.is_empty() {
                return Err(Fault {
                    address: a,
                    write: false,
                });
            }
            v.extend_from_slice(s);
            a = a.wrapping_add(s.len() as u64);
        }
        Ok(v)
    }

    /// A NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Fault> {
        let mut v = Vec::new();
        let mut a = addr;
        while v.len() < max {
            let b = self.read::<1>(a)?[0];
            if b == 0 {
                return Ok(v);
            }
            v.push(b);
            a = a.wrapping_add(1);
        }
        Err(Fault {
            address: a,
            write: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_read_write_unmap() {
        let mut m = Memory::new(1 << 20);
        m.map(0x1000, 0x2000, 3, "a").unwrap();
        assert!(m.map(0x2000, 0x1000, 3, "b").is_none(), "overlap refused");
        m.map(0x3000, 0x1000, 3, "c").unwrap();
        // A write across the two regions.
        m.write(0x2ffe, &[1, 2, 3, 4]).unwrap();
        assert_eq!(m.read::<4>(0x2ffe).unwrap(), [1, 2, 3, 4]);
        assert!(m.read::<8>(0x3ffc).is_err());
        m.unmap(0x1800, 0x1000);
        assert!(m.read::<1>(0x1900).is_err());
        assert!(m.read::<1>(0x1000).is_ok() && m.read::<1>(0x2800).is_ok());
        assert!(m.map(0, 1 << 21, 3, "big").is_none(), "over the limit");
        assert_eq!(m.find_free(0x1000, 0x5000), Some(0x4000));
    }
}
