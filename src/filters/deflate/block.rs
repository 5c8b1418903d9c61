//! One DEFLATE block: the symbols the match finder chose, their frequencies, and the
//! writer that emits them as a stored, fixed-Huffman or dynamic-Huffman block, whichever
//! is smallest (RFC 1951 §3.2.3–§3.2.7).

use super::bits::BitWriter;
use super::huffman::{canonical_codes, code_lengths};
use super::tables::*;
use alloc::vec::Vec;

/// The order in which the code lengths of the code-length alphabet are sent (§3.2.7).
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];
/// The distance symbol a literal carries in [`Block::syms`]: no code, no extra bits.
const NO_DIST: usize = 30;

/// Extra bits of the code-length symbols 16, 17 and 18.
const CL_EXTRA: [u8; 19] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7];

/// The symbols of the block being built, each packed in a `u32` ready for the writer,
/// from the low bit: a literal byte, or 256 + the match length - 3 (9 bits); the distance
/// symbol (5 bits; [`NO_DIST`] for a literal); the value of the distance's extra bits
/// (13 bits).
pub struct Block {
    /// Literals and matches in stream order.
    pub syms: Vec<u32>,
    /// Frequency of each literal/length symbol (end-of-block not counted).
    pub lit_freq: [u32; NUM_LITLEN],
    /// Frequency of each distance symbol.
    pub dist_freq: [u32; NUM_DIST],
}

impl Block {
    /// An empty block reusing the allocation of `syms`, with room for `cap` symbols.
    pub fn reuse(mut syms: Vec<u32>, cap: usize) -> Self {
        syms.clear();
        syms.reserve(cap);
        Block {
            syms,
            lit_freq: [0; NUM_LITLEN],
            dist_freq: [0; NUM_DIST],
        }
    }

    /// Appends a literal byte.
    #[inline(always)]
    pub fn literal(&mut self, b: u8) {
        self.syms.push(u32::from(b) | (NO_DIST as u32) << 9);
        self.lit_freq[b as usize] += 1;
    }

    /// Appends a match of `len` (3..=258) bytes at `dist` (1..=32768) back.
    #[inline(always)]
    pub fn matched(&mut self, len: usize, dist: usize) {
        debug_assert!((MIN_MATCH..=MAX_MATCH).contains(&len) && (1..=WINDOW).contains(&dist));
        let li = LEN_INDEX[len] as usize;
        let dc = dist_symbol(dist as u32);
        self.syms.push(
            (256 + len - MIN_MATCH) as u32
                | (dc as u32) << 9
                | (dist as u32 - u32::from(DIST_BASE[dc & 31])) << 14,
        );
        self.lit_freq[257 + li] += 1;
        self.dist_freq[dc] += 1;
    }

    /// Empties the block.
    pub fn clear(&mut self) {
        self.syms.clear();
        self.lit_freq = [0; NUM_LITLEN];
        self.dist_freq = [0; NUM_DIST];
    }
}

/// Code lengths and bit-reversed codes of one Huffman code over up to 288 symbols.
struct Code<const N: usize> {
    lens: [u8; N],
    codes: [u16; N],
}

impl<const N: usize> Code<N> {
    fn from_lens(lens: [u8; N]) -> Self {
        let mut codes = [0u16; N];
        canonical_codes(&lens, &mut codes);
        Code { lens, codes }
    }

    /// Bits the symbols of `freq` cost under this code (extra bits not included).
    fn cost(&self, freq: &[u32]) -> u64 {
        freq.iter()
            .zip(&self.lens)
            .map(|(&f, &l)| u64::from(f) * u64::from(l))
            .sum()
    }
}

/// The dynamic block header: the code-length code and the run-length coded lengths.
struct Header {
    hlit: usize,
    hdist: usize,
    hclen: usize,
    cl: Code<19>,
    /// Code-length symbols, each `symbol | extra value << 8`.
    rle: Vec<u16>,
}

impl Header {
    fn new(lit: &[u8; 288], dist: &[u8; 32]) -> Self {
        let hlit = 257
            + lit[257..NUM_LITLEN]
                .iter()
                .rposition(|&l| l > 0)
                .map_or(0, |i| i + 1);
        let hdist = 1 + dist[1..NUM_DIST]
            .iter()
            .rposition(|&l| l > 0)
            .map_or(0, |i| i + 1);
        let mut all = [0u8; NUM_LITLEN + NUM_DIST];
        all[..hlit].copy_from_slice(&lit[..hlit]);
        all[hlit..hlit + hdist].copy_from_slice(&dist[..hdist]);
        let rle = run_lengths(&all[..hlit + hdist]);
        let mut freq = [0u32; 19];
        for &s in &rle {
            freq[(s & 0xff) as usize] += 1;
        }
        let mut lens = [0u8; 19];
        code_lengths(&freq, 7, &mut lens);
        let hclen = 4.max(19 - CL_ORDER.iter().rev().take_while(|&&s| lens[s] == 0).count());
        Header {
            hlit,
            hdist,
            hclen,
            cl: Code::from_lens(lens),
            rle,
        }
    }

    /// Size in bits, the 3-bit block header not included.
    fn bits(&self) -> u64 {
        let body: u64 = self
            .rle
            .iter()
            .map(|&s| {
                let s = (s & 0xff) as usize;
                u64::from(self.cl.lens[s]) + u64::from(CL_EXTRA[s])
            })
            .sum();
        14 + 3 * self.hclen as u64 + body
    }

    fn write(&self, w: &mut BitWriter) {
        w.put((self.hlit - 257) as u64, 5);
        w.put((self.hdist - 1) as u64, 5);
        w.put((self.hclen - 4) as u64, 4);
        for &s in &CL_ORDER[..self.hclen] {
            w.put(u64::from(self.cl.lens[s]), 3);
        }
        for &s in &self.rle {
            let (sym, extra) = ((s & 0xff) as usize, u64::from(s >> 8));
            let len = u32::from(self.cl.lens[sym]);
            w.put(
                u64::from(self.cl.codes[sym]) | extra << len,
                len + u32::from(CL_EXTRA[sym]),
            );
        }
    }
}

/// Run-length codes a sequence of code lengths with symbols 16 (repeat the previous length
/// 3–6 times), 17 (3–10 zeros) and 18 (11–138 zeros).
fn run_lengths(lens: &[u8]) -> Vec<u16> {
    let mut out = Vec::with_capacity(lens.len());
    let mut i = 0;
    while i < lens.len() {
        let v = lens[i];
        let run = lens[i..].iter().take_while(|&&l| l == v).count();
        let mut left = run;
        if v == 0 {
            while left >= 11 {
                let r = left.min(138);
                out.push(18 | ((r - 11) as u16) << 8);
                left -= r;
            }
            if left >= 3 {
                out.push(17 | ((left - 3) as u16) << 8);
                left = 0;
            }
        } else {
            out.push(u16::from(v));
            left -= 1;
            while left >= 3 {
                let r = left.min(6);
                out.push(16 | ((r - 3) as u16) << 8);
                left -= r;
            }
        }
        out.extend(core::iter::repeat_n(u16::from(v), left));
        i += run;
    }
    out
}

/// Writes `block` (whose symbols decode to `raw`) as the smallest of a stored, fixed or
/// dynamic block; `last` sets BFINAL. Returns the symbol costs under this block's dynamic
/// codes, for the parser's decisions in the next block.
pub fn write_block(w: &mut BitWriter, block: &Block, raw: &[u8], last: bool) -> Costs {
    let mut lit_freq = [0u32; 288];
    lit_freq[..NUM_LITLEN].copy_from_slice(&block.lit_freq);
    lit_freq[END_OF_BLOCK] = 1;
    let mut dist_freq = [0u32; 32];
    dist_freq[..NUM_DIST].copy_from_slice(&block.dist_freq);

    let extra: u64 = (0..29)
        .map(|i| u64::from(lit_freq[257 + i]) * u64::from(LEN_EXTRA[i]))
        .chain((0..30).map(|i| u64::from(dist_freq[i]) * u64::from(DIST_EXTRA[i])))
        .sum();

    let mut lit_lens = [0u8; 288];
    code_lengths(&lit_freq[..NUM_LITLEN], 15, &mut lit_lens[..NUM_LITLEN]);
    let mut dist_lens = [0u8; 32];
    code_lengths(&dist_freq[..NUM_DIST], 15, &mut dist_lens[..NUM_DIST]);
    if dist_lens.iter().all(|&l| l == 0) {
        // no match in the block: send two one-bit distance codes, a complete code
        dist_lens[0] = 1;
        dist_lens[1] = 1;
    }
    let dyn_lit = Code::from_lens(lit_lens);
    let dyn_dist = Code::from_lens(dist_lens);
    let header = Header::new(&lit_lens, &dist_lens);
    let dyn_bits = 3 + header.bits() + dyn_lit.cost(&lit_freq) + dyn_dist.cost(&dist_freq) + extra;

    let fixed_lit = Code::from_lens(FIXED_LITLEN_LENS);
    let fixed_dist = Code::from_lens(FIXED_DIST_LENS);
    let fixed_bits = 3 + fixed_lit.cost(&lit_freq) + fixed_dist.cost(&dist_freq) + extra;

    let stored_bits = stored_size(w.bit_len(), raw.len());

    if stored_bits < dyn_bits.min(fixed_bits) {
        write_stored(w, raw, last);
    } else if fixed_bits <= dyn_bits {
        w.put(u64::from(last) | 1 << 1, 3);
        write_symbols(w, &block.syms, &fixed_lit, &fixed_dist);
    } else {
        w.put(u64::from(last) | 2 << 1, 3);
        header.write(w);
        write_symbols(w, &block.syms, &dyn_lit, &dyn_dist);
    }
    Costs::from_lengths(&lit_lens, &dist_lens)
}

/// Bits assumed for a symbol the previous block did not use.
const UNUSED_SYMBOL_BITS: u8 = 9;

/// The cost in bits of literals and of length-3 matches under the codes of the block
/// just written: the parser's estimate for the next block of whether a 3-byte match is
/// cheaper than its three literals. On text, literals are cheap and far 3-byte matches
/// are not worth their distance; on noisy numeric data a literal costs nearly 8 bits and
/// even the farthest 3-byte match saves a few.
pub struct Costs {
    /// Bits of each literal.
    pub lit: [u8; 256],
    /// Bits of a length-3 match at each distance symbol: the length symbol 257, the
    /// distance symbol and its extra bits.
    pub match3: [u8; 32],
}

impl Costs {
    /// The costs of the fixed Huffman codes, for the first block.
    pub fn fixed() -> Self {
        Costs::from_lengths(&FIXED_LITLEN_LENS, &FIXED_DIST_LENS)
    }

    fn from_lengths(lit_lens: &[u8; 288], dist_lens: &[u8; 32]) -> Self {
        let bits = |l: u8| if l == 0 { UNUSED_SYMBOL_BITS } else { l };
        let len3 = bits(lit_lens[257]);
        Costs {
            lit: core::array::from_fn(|b| bits(lit_lens[b])),
            match3: core::array::from_fn(|c| {
                if c < NUM_DIST {
                    len3 + bits(dist_lens[c]) + DIST_EXTRA[c]
                } else {
                    u8::MAX
                }
            }),
        }
    }

    /// Whether a length-3 match at `dist` is cheaper than the literals `x` (its low 3 bytes).
    #[inline(always)]
    pub fn match3_pays(&self, x: u32, dist: usize) -> bool {
        let lits = u32::from(self.lit[x as usize & 255])
            + u32::from(self.lit[(x >> 8) as usize & 255])
            + u32::from(self.lit[(x >> 16) as usize & 255]);
        u32::from(self.match3[dist_symbol(dist as u32) & 31]) < lits
    }
}

/// Bits taken by `len` raw bytes as stored blocks of at most 65,535 bytes, starting at
/// bit position `pos`.
fn stored_size(pos: u64, len: usize) -> u64 {
    let mut bits = 0u64;
    let mut left = len;
    loop {
        let n = left.min(65535);
        bits += 3;
        bits += (8 - (pos + bits) % 8) % 8;
        bits += 32 + 8 * n as u64;
        left -= n;
        if left == 0 {
            return bits;
        }
    }
}

/// Writes `raw` as stored blocks (§3.2.4): header bits, padding to a byte, LEN, NLEN, bytes.
pub fn write_stored(w: &mut BitWriter, raw: &[u8], last: bool) {
    let mut rest = raw;
    loop {
        let n = rest.len().min(65535);
        let final_piece = n == rest.len();
        w.put(u64::from(last && final_piece), 3);
        w.align();
        w.put_bytes(&(n as u16).to_le_bytes());
        w.put_bytes(&(!(n as u16)).to_le_bytes());
        w.put_bytes(&rest[..n]);
        rest = &rest[n..];
        if final_piece {
            return;
        }
    }
}

/// What one entry of a write table sends: `bits` (a code, bit-reversed, with the value
/// of its extra bits above it, if known), then `extra` more bits for a distance's extra
/// value; `total` counts both.
#[derive(Clone, Copy, Default)]
struct Entry {
    bits: u32,
    len: u32,
    total: u32,
}

fn write_symbols(w: &mut BitWriter, syms: &[u32], lit: &Code<288>, dist: &Code<32>) {
    // literals, then match lengths 3..=258 with their extra bits joined
    let lit_tab: [Entry; 512] = core::array::from_fn(|s| {
        if s < 256 {
            let len = u32::from(lit.lens[s]);
            Entry {
                bits: u32::from(lit.codes[s]),
                len,
                total: len,
            }
        } else {
            let mlen = (s - 256 + MIN_MATCH).min(MAX_MATCH);
            let i = LEN_INDEX[mlen] as usize;
            let len = u32::from(lit.lens[257 + i]);
            Entry {
                bits: u32::from(lit.codes[257 + i]) | (mlen as u32 - u32::from(LEN_BASE[i])) << len,
                len,
                total: len + u32::from(LEN_EXTRA[i]),
            }
        }
    });
    // distance symbols 30 and 31 (a literal's NO_DIST) send nothing
    let dist_tab: [Entry; 32] = core::array::from_fn(|c| {
        if c < NUM_DIST {
            let len = u32::from(dist.lens[c]);
            Entry {
                bits: u32::from(dist.codes[c]),
                len,
                total: len + u32::from(DIST_EXTRA[c]),
            }
        } else {
            Entry::default()
        }
    });
    // at most 15 + 5 + 15 + 13 = 48 bits a symbol
    w.put_fields(syms.iter().map(|&s| {
        let l = lit_tab[s as usize & 511];
        let d = dist_tab[(s >> 9) as usize & 31];
        let dbits = u64::from(d.bits) | u64::from(s >> 14) << d.len;
        (u64::from(l.bits) | dbits << l.total, l.total + d.total)
    }));
    w.put(
        u64::from(lit.codes[END_OF_BLOCK]),
        u32::from(lit.lens[END_OF_BLOCK]),
    );
}

#[cfg(test)]
mod tests {
    use super::run_lengths;

    #[test]
    fn run_length_coding_of_code_lengths() {
        let lens = [
            3u8, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 0, 0,
        ];
        // 3, 16(x6 → extra 3), 3, 18(x12 → extra 1), 5, 5, 0, 0
        let want = [3u16, 16 | 3 << 8, 3, 18 | 1 << 8, 5, 5, 0, 0];
        assert_eq!(run_lengths(&lens), want);
        let zeros = [0u8; 150];
        assert_eq!(run_lengths(&zeros), [18 | 127 << 8, 18 | 1 << 8]);
    }
}
