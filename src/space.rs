//! File-space allocation: a bump allocator over the region below the stored
//! end-of-file address, with sector-contained placement for commit records.
//!
//! Space is never reused within a session: anything a committed structure may still
//! reference stays untouched (DESIGN rules B and C). Growth of the reserved region
//! is decided here and carried out by the writer (set_len, then superblock EOF).

/// The sector size whose single writes are assumed atomic under power loss.
pub const SECTOR: u64 = 512;

/// Where a block may be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// At a multiple of the given power of two.
    Align(u64),
    /// Inside one 512-byte sector (the block must be at most 512 bytes).
    InSector,
}

/// The allocator's state.
#[derive(Clone, Debug)]
pub struct Space {
    /// First unallocated byte (the high-water mark).
    next: u64,
    /// End of the reserved region: the file size and the stored EOF.
    reserved: u64,
}

/// Smallest step by which the reserved region grows.
pub const MIN_GROWTH: u64 = 1 << 20;
/// Largest step by which the reserved region grows.
pub const MAX_GROWTH: u64 = 1 << 30;

impl Space {
    /// An allocator whose first free byte is `next` and whose reserved end is `reserved`.
    pub fn new(next: u64, reserved: u64) -> Self {
        Space { next, reserved }
    }

    /// The high-water mark.
    pub fn high_water(&self) -> u64 {
        self.next
    }

    /// The reserved end (stored EOF).
    pub fn reserved(&self) -> u64 {
        self.reserved
    }

    /// Where a block of `size` bytes would go, without taking it.
    pub fn place(&self, size: u64, placement: Placement) -> u64 {
        match placement {
            Placement::Align(a) => self.next.div_ceil(a) * a,
            Placement::InSector => {
                debug_assert!(size <= SECTOR);
                let sector_end = (self.next / SECTOR + 1) * SECTOR;
                if self.next + size > sector_end {
                    sector_end
                } else {
                    self.next
                }
            }
        }
    }

    /// The reserved end needed to hold a block ending at `end`: `None` when it fits,
    /// else a new end grown by at least a quarter of the file (1 MiB to 1 GiB steps).
    pub fn growth_for(&self, end: u64) -> Option<u64> {
        if end <= self.reserved {
            return None;
        }
        let step = (self.reserved / 4).clamp(MIN_GROWTH, MAX_GROWTH);
        let want = end.max(self.reserved + step);
        Some(want.div_ceil(4096) * 4096)
    }

    /// Records that the reserved region now ends at `reserved`.
    pub fn set_reserved(&mut self, reserved: u64) {
        self.reserved = reserved;
    }

    /// Takes `[addr, addr + size)`; `addr` must come from [`Space::place`].
    pub fn take(&mut self, addr: u64, size: u64) {
        debug_assert!(addr >= self.next && addr + size <= self.reserved);
        self.next = addr + size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sector_placement_never_straddles() {
        let mut s = Space::new(500, 1 << 20);
        let a = s.place(20, Placement::InSector);
        assert_eq!(a, 512);
        s.take(a, 20);
        let b = s.place(100, Placement::InSector);
        assert_eq!(b, 532);
        assert_eq!(s.place(1, Placement::Align(8)), 536);
    }

    #[test]
    fn growth_is_in_large_steps() {
        let s = Space::new(0, 0);
        assert_eq!(s.growth_for(100), Some(MIN_GROWTH));
        let s = Space::new(0, 100 << 20);
        assert_eq!(s.growth_for(50), None);
        assert_eq!(s.growth_for((100 << 20) + 1), Some(125 << 20));
    }
}
