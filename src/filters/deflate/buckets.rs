//! The match finder of level 1: a hash table that keeps, for each hash of a 3-byte
//! string, the low 16 bits of the most recent position with that hash. 16 bits are
//! enough to find a position in the 32 KiB window (an entry older than 64 KiB aliases to
//! some nearer position, which the byte comparison that every candidate needs anyway
//! rejects or, when the bytes do match there, turns into a valid match), and they keep
//! the table small enough for the caches: 2^17 slots take 256 KiB.
//!
//! The slot is bits 8 and up of the string times a large odd constant. On the W4 frames
//! this spreads the strings of noisy numeric data better than the top bits do (ratio
//! 2.153 against 2.139 with one entry a slot), and as well on text; the measurements are
//! in `spec-notes/deflate.md`.

use super::matcher::{load32, match_len};
use super::tables::{MIN_MATCH, WINDOW};
use alloc::vec::Vec;

/// The hash table over one input segment.
pub struct Buckets {
    table: Vec<u16>,
    mask: u32,
}

impl Buckets {
    /// An empty table of 2^`bits` slots (`bits` ≤ 24).
    pub fn new(bits: u32) -> Self {
        debug_assert!(bits <= 24);
        Buckets {
            table: alloc::vec![0; 1 << bits],
            mask: (1 << bits) - 1,
        }
    }

    /// log2 of the number of slots.
    pub fn bits(&self) -> u32 {
        self.mask.count_ones()
    }

    /// Empties the table.
    pub fn reset(&mut self) {
        self.table.fill(0);
    }

    /// The slot of the string `x` (the 4 bytes at a position; the low 3 count).
    #[inline(always)]
    pub fn slot(&self, x: u32) -> usize {
        (((x & 0x00ff_ffff).wrapping_mul(0x9e37_79b1) >> 8) & self.mask) as usize
    }

    /// Enters position `p` (`p + 4 ≤ data.len()`).
    #[inline(always)]
    pub fn insert(&mut self, data: &[u8], p: usize) {
        let i = self.slot(load32(data, p));
        self.table[i] = p as u16;
    }

    /// The entry of slot `i`.
    #[inline(always)]
    pub fn get(&self, i: usize) -> u16 {
        self.table[i]
    }

    /// Enters position `p` into slot `i`.
    #[inline(always)]
    pub fn set(&mut self, i: usize, p: usize) {
        self.table[i] = p as u16;
    }
}

/// What the entry `e` of its slot offers position `p` (string `x`): the candidate's
/// distance when it is in the window, with whether 3 and whether 4 bytes match.
#[derive(Clone, Copy)]
pub struct Candidate {
    dist: usize,
    eq3: bool,
    eq4: bool,
}

/// Compares the candidate of entry `e` with the string `x` at position `p`
/// (`p + 4 ≤ data.len()`), without branches on the data.
#[inline(always)]
pub fn candidate(e: u16, data: &[u8], p: usize, x: u32) -> Candidate {
    let dist = (p as u16).wrapping_sub(e) as usize;
    let diff = load32(data, p - dist) ^ x;
    let valid = dist.wrapping_sub(1) < WINDOW;
    Candidate {
        dist,
        eq3: valid & (diff & 0x00ff_ffff == 0),
        eq4: valid & (diff == 0),
    }
}

/// The match to code at `p` given its candidate, as (length, distance), length 0 for
/// none; `max_len ≥ 4` bounds the length (`p + max_len ≤ data.len()`), and a length-3
/// match farther than `max_dist3` is refused.
#[inline(always)]
pub fn best_match(
    c: Candidate,
    data: &[u8],
    p: usize,
    max_len: usize,
    max_dist3: usize,
) -> (usize, usize) {
    if c.eq4 {
        return (longer(data, p, c.dist, max_len), c.dist);
    }
    if c.eq3 && c.dist <= max_dist3 {
        (MIN_MATCH, c.dist)
    } else {
        (0, 0)
    }
}

/// The length of a match of at least 4 bytes at `p` from `dist` back.
#[inline(never)]
fn longer(data: &[u8], p: usize, dist: usize, max_len: usize) -> usize {
    4 + match_len(data, p - dist + 4, p + 4, max_len - 4)
}
