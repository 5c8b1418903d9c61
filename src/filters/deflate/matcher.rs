//! The match finder: a hash table of the most recent position of each 3-byte string and,
//! per position of the 32 KiB window, a link to the previous position with the same hash
//! (a hash chain). Searching walks the chain from the nearest candidate outwards.

use super::tables::{MIN_MATCH, WINDOW};
use alloc::vec::Vec;

/// log2 of the number of hash-table slots.
const HASH_BITS: u32 = 15;
const WINDOW_MASK: usize = WINDOW - 1;
/// Added to every position stored in the tables, so that an empty slot (0) always lies
/// farther back than the window.
pub const TAG: usize = WINDOW + 1;
/// Largest input (in bytes) one matcher can index: tags must fit a `u32`.
pub const MAX_SEGMENT: usize = 1 << 30;

/// Hash table and chains over one input segment (at most [`MAX_SEGMENT`] bytes).
pub struct Matcher {
    head: Vec<u32>,
    prev: Vec<u32>,
}

/// The 4 bytes at `p` as a little-endian integer.
#[inline(always)]
pub fn load32(data: &[u8], p: usize) -> u32 {
    let b: [u8; 4] = data[p..p + 4].try_into().expect("4 bytes");
    u32::from_le_bytes(b)
}

#[inline(always)]
fn load64(data: &[u8], p: usize) -> u64 {
    let b: [u8; 8] = data[p..p + 8].try_into().expect("8 bytes");
    u64::from_le_bytes(b)
}

/// Multiplicative hash of the low 3 bytes of `x`.
#[inline(always)]
fn hash3(x: u32) -> usize {
    ((x & 0x00ff_ffff).wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize
}

/// Number of equal bytes at `a` and `b` (a < b), at most `max`; `b + max ≤ data.len()`.
#[inline(always)]
pub fn match_len(data: &[u8], a: usize, b: usize, max: usize) -> usize {
    let mut n = 0;
    while n + 8 <= max {
        let x = load64(data, a + n) ^ load64(data, b + n);
        if x != 0 {
            return n + (x.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while n < max && data[a + n] == data[b + n] {
        n += 1;
    }
    n
}

impl Matcher {
    /// Empty tables.
    pub fn new() -> Self {
        Matcher {
            head: alloc::vec![0; 1 << HASH_BITS],
            prev: alloc::vec![0; WINDOW],
        }
    }

    /// Empties the tables.
    pub fn reset(&mut self) {
        self.head.fill(0);
        self.prev.fill(0);
    }

    /// Enters position `p` (`p + 4 ≤ data.len()`) and returns the chain it starts from:
    /// the tag of the previous position with the same hash.
    #[inline(always)]
    pub fn insert(&mut self, data: &[u8], p: usize) -> u32 {
        let h = hash3(load32(data, p));
        let s = self.head[h];
        self.head[h] = (p + TAG) as u32;
        self.prev[p & WINDOW_MASK] = s;
        s
    }

    /// The chain of an already entered position `p`.
    #[inline(always)]
    pub fn chain_of(&self, p: usize) -> u32 {
        self.prev[p & WINDOW_MASK]
    }

    /// The longest match for position `p` longer than `best`, following the chain from
    /// `first` over at most `max_chain` candidates and stopping at `nice` bytes; `max_len`
    /// is the longest match allowed (`p + max_len ≤ data.len()`, `p + 4 ≤ data.len()`).
    /// Returns (length, distance), or (`best`, 0) when there is no longer match.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn longest(
        &self,
        data: &[u8],
        p: usize,
        first: u32,
        max_chain: u32,
        nice: usize,
        max_len: usize,
        mut best: usize,
    ) -> (usize, usize) {
        let mut best_dist = 0;
        if best >= max_len {
            return (best, 0);
        }
        debug_assert!(best >= MIN_MATCH - 1);
        let cur = load32(data, p) & 0x00ff_ffff;
        let tag = (p + TAG) as u32;
        let mut s = first;
        let mut chain = max_chain;
        loop {
            let dist = tag.wrapping_sub(s) as usize;
            if dist > WINDOW || dist == 0 {
                break;
            }
            let c = p - dist;
            // the byte that would make the match longer than the best so far, then the first 3
            if data[c + best] == data[p + best] && load32(data, c) & 0x00ff_ffff == cur {
                let len = match_len(data, c, p, max_len);
                if len > best {
                    best = len;
                    best_dist = dist;
                    if len >= nice || len >= max_len {
                        break;
                    }
                }
            }
            chain -= 1;
            if chain == 0 {
                break;
            }
            s = self.prev[c & WINDOW_MASK];
        }
        (best, best_dist)
    }
}
