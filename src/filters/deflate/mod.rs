//! Our DEFLATE encoder (RFC 1951) in a zlib wrapper (RFC 1950), in `core` + `alloc` only.
//!
//! The input is parsed into literals and matches by a hash-chain match finder
//! ([`matcher`]), greedily at the fast levels and lazily above ([`parse`], [`params`]);
//! every 16 Ki symbols a block is closed and written as stored, fixed or dynamic Huffman,
//! whichever is smallest ([`block`]), with length-limited Huffman codes ([`huffman`]).
//! `spec-notes/deflate.md` describes the stream.

mod adler32;
mod bits;
mod block;
mod buckets;
mod huffman;
mod matcher;
mod params;
mod parse;
mod tables;

pub use adler32::adler32;

use alloc::vec::Vec;
use bits::BitWriter;
use block::{write_block, write_stored, Block, Costs};
use buckets::Buckets;
use matcher::{Matcher, MAX_SEGMENT};
use params::Finder;

/// The state shared by the parsers: the input, the output and the block being built.
pub(crate) struct Encoder<'a> {
    data: &'a [u8],
    w: BitWriter,
    block: Block,
    /// Input offset where the current block starts.
    block_start: usize,
    /// Length-3 matches farther than this are coded as literals.
    max_dist3: usize,
    /// Symbol costs under the previous block's codes.
    costs: Costs,
}

impl Encoder<'_> {
    /// Writes the current block, which covers the input up to `end`, and starts a new one.
    fn end_block(&mut self, end: usize, last: bool) {
        self.costs = write_block(
            &mut self.w,
            &self.block,
            &self.data[self.block_start..end],
            last,
        );
        self.block.clear();
        self.block_start = end;
    }
}

/// The two zlib header bytes (RFC 1950 §2.2): deflate with a 32 KiB window, no preset
/// dictionary, the level class in FLEVEL, and FCHECK making the pair a multiple of 31.
pub fn zlib_header(level: u8) -> [u8; 2] {
    let cmf = 0x78u8;
    let flevel: u8 = match level {
        0 | 1 => 0,
        2..=5 => 1,
        6 => 2,
        _ => 3,
    };
    let flg = flevel << 6;
    let rem = (u16::from(cmf) * 256 + u16::from(flg)) % 31;
    let flg = if rem == 0 {
        flg
    } else {
        flg + (31 - rem) as u8
    };
    [cmf, flg]
}

/// The match-finder tables and the symbol buffer of the encoder, kept between calls
/// (each call resets them) so that compressing chunk after chunk allocates them once.
#[derive(Default)]
pub struct Scratch {
    buckets: Option<Buckets>,
    matcher: Option<Matcher>,
    syms: Vec<u32>,
}

impl Scratch {
    /// An empty hash table of 2^`bits` slots.
    fn buckets(&mut self, bits: u32) -> &mut Buckets {
        match &mut self.buckets {
            Some(b) if b.bits() == bits => b.reset(),
            b => *b = Some(Buckets::new(bits)),
        }
        self.buckets.as_mut().expect("just set")
    }

    /// Empty hash chains.
    fn matcher(&mut self) -> &mut Matcher {
        match &mut self.matcher {
            Some(m) => m.reset(),
            m => *m = Some(Matcher::new()),
        }
        self.matcher.as_mut().expect("just set")
    }
}

/// Compresses `data` into a zlib stream at `level` 0–9 (higher is treated as 9): level 0
/// stores the bytes, 1–3 parse greedily, 4–9 lazily with ever deeper searches.
pub fn compress_zlib(data: &[u8], level: u8) -> Vec<u8> {
    let mut out = Vec::new();
    compress_zlib_into(data, level, &mut Scratch::default(), &mut out);
    out
}

/// [`compress_zlib`] into `out`, whose contents are replaced (its allocation is reused),
/// with the tables of `scratch`.
pub fn compress_zlib_into(data: &[u8], level: u8, scratch: &mut Scratch, out: &mut Vec<u8>) {
    let level = level.min(9);
    let want = data.len() / 2 + 64;
    if out.capacity() < want {
        out.clear();
        out.reserve(want);
    }
    let mut w = BitWriter::reuse(core::mem::take(out));
    w.put_bytes(&zlib_header(level));
    if level == 0 {
        write_stored(&mut w, data, true);
    } else {
        let prm = params::params(level);
        let mut enc = Encoder {
            data,
            w,
            block: Block::reuse(core::mem::take(&mut scratch.syms), prm.block_syms + 16),
            block_start: 0,
            max_dist3: prm.max_dist3,
            costs: Costs::fixed(),
        };
        let mut base = 0;
        // matches never reach back across a segment boundary (one per GiB)
        while base < data.len() {
            let seg = &data[base..data.len().min(base + MAX_SEGMENT)];
            match prm.finder {
                Finder::Buckets(bits) => {
                    parse::greedy_buckets(&mut enc, scratch.buckets(bits), seg, base, &prm)
                }
                Finder::Chains if prm.lazy_len > 0 => {
                    parse::lazy(&mut enc, scratch.matcher(), seg, base, &prm)
                }
                Finder::Chains => parse::greedy(&mut enc, scratch.matcher(), seg, base, &prm),
            }
            base += seg.len();
        }
        enc.end_block(data.len(), true);
        w = enc.w;
        scratch.syms = enc.block.syms;
    }
    *out = w.finish();
    out.extend_from_slice(&adler32(data).to_be_bytes());
}

impl Encoder<'_> {
    /// Whether a match of `len` at `dist` for the bytes `x` (at least their low 3) is
    /// worth coding rather than leaving literals.
    #[inline(always)]
    fn worth(&self, len: usize, dist: usize, x: u32) -> bool {
        len > tables::MIN_MATCH
            || (len == tables::MIN_MATCH
                && dist <= self.max_dist3
                && self.costs.match3_pays(x, dist))
    }
}

#[cfg(test)]
pub(crate) mod tests;
