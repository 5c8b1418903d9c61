//! The match finder of the greedy levels: a hash table of small buckets. Each bucket keeps
//! the low 16 bits of the `WAYS` most recent positions whose 3-byte strings share a hash,
//! the most recent first. 16 bits are enough to find a position in the 32 KiB window
//! (an entry older than 64 KiB aliases to some nearer position, which the byte comparison
//! that every candidate needs anyway rejects or, when the bytes do match there, turns into
//! a valid match), and they keep the table small enough for the caches.

use super::matcher::{load32, match_len};
use super::tables::{MIN_MATCH, WINDOW};
use alloc::vec::Vec;

/// The bucket table over one input segment.
pub struct Buckets<const WAYS: usize> {
    table: Vec<[u16; WAYS]>,
    shift: u32,
}

impl<const WAYS: usize> Buckets<WAYS> {
    /// An empty table of 2^`bits` buckets.
    pub fn new(bits: u32) -> Self {
        Buckets {
            table: alloc::vec![[0; WAYS]; 1 << bits],
            shift: 32 - bits,
        }
    }

    /// log2 of the number of buckets.
    pub fn bits(&self) -> u32 {
        32 - self.shift
    }

    /// Empties the table.
    pub fn reset(&mut self) {
        self.table.fill([0; WAYS]);
    }

    #[inline(always)]
    fn slot(&self, x: u32) -> usize {
        ((x & 0x00ff_ffff).wrapping_mul(0x9e37_79b1) >> self.shift) as usize
    }

    #[inline(always)]
    fn push(&mut self, i: usize, p: usize) {
        let old = self.table[i];
        self.table[i] = core::array::from_fn(|k| if k == 0 { p as u16 } else { old[k - 1] });
    }

    /// Enters position `p` (`p + 4 ≤ data.len()`).
    #[inline(always)]
    pub fn insert(&mut self, data: &[u8], p: usize) {
        let i = self.slot(load32(data, p));
        self.push(i, p);
    }

    /// The slot of the string `x` (the 4 bytes at a position) and the bucket there.
    #[inline(always)]
    pub fn lookup(&self, x: u32) -> (usize, [u16; WAYS]) {
        let i = self.slot(x);
        (i, self.table[i])
    }

    /// Enters position `p` into slot `i`, which held `old`; returns the new bucket.
    #[inline(always)]
    pub fn push_into(&mut self, i: usize, old: &[u16; WAYS], p: usize) -> [u16; WAYS] {
        let new = core::array::from_fn(|k| if k == 0 { p as u16 } else { old[k - 1] });
        self.table[i] = new;
        new
    }
}

/// What the candidates of a bucket offer for one position, found without branches on
/// the data: the distance of the nearest candidate whose first 3 bytes match (0: none),
/// and whether some candidate matches 4 bytes.
#[derive(Clone, Copy)]
pub struct Candidates {
    near3: usize,
    any4: bool,
}

/// Compares the candidates of bucket `b` with the string `x` at position `p`
/// (`p + 4 ≤ data.len()`).
#[inline(always)]
pub fn candidates<const WAYS: usize>(b: &[u16; WAYS], data: &[u8], p: usize, x: u32) -> Candidates {
    let mut near3 = 0usize;
    let mut any4 = false;
    for k in (0..WAYS).rev() {
        let dist = (p as u16).wrapping_sub(b[k]) as usize;
        let diff = load32(data, p - dist) ^ x;
        let valid = dist.wrapping_sub(1) < WINDOW;
        near3 = if valid & (diff & 0x00ff_ffff == 0) {
            dist
        } else {
            near3
        };
        any4 |= valid & (diff == 0);
    }
    Candidates { near3, any4 }
}

/// The match to code at `p` given its candidates, as (length, distance), length 0 for
/// none; `max_len ≥ 4` bounds the length (`p + max_len ≤ data.len()`), and a length-3
/// match farther than `max_dist3` is refused.
#[inline(always)]
pub fn best_match<const WAYS: usize>(
    c: Candidates,
    b: &[u16; WAYS],
    data: &[u8],
    p: usize,
    x: u32,
    max_len: usize,
    max_dist3: usize,
) -> (usize, usize) {
    if c.any4 {
        return longest4(b, data, p, x, max_len);
    }
    if c.near3 != 0 && c.near3 <= max_dist3 {
        (MIN_MATCH, c.near3)
    } else {
        (0, 0)
    }
}

/// The longest match among the candidates of bucket `b` when at least one has 4 equal
/// bytes; the nearest wins among equal lengths.
#[inline(never)]
fn longest4<const WAYS: usize>(
    b: &[u16; WAYS],
    data: &[u8],
    p: usize,
    x: u32,
    max_len: usize,
) -> (usize, usize) {
    let (mut best, mut best_dist) = (0usize, 0usize);
    for &e in b {
        let dist = (p as u16).wrapping_sub(e) as usize;
        let c = p - dist;
        if dist == 0 || dist > WINDOW || load32(data, c) != x {
            continue;
        }
        let len = 4 + match_len(data, c + 4, p + 4, max_len - 4);
        if len > best {
            best = len;
            best_dist = dist;
        }
    }
    (best, best_dist)
}
