//! The bit writer: DEFLATE packs fields from the least significant bit of each byte up
//! (RFC 1951 §3.1.1); Huffman codes are stored already bit-reversed so that they too are
//! written least significant bit first.
//!
//! Each `put` stores the whole 64-bit accumulator at the output position and then
//! advances by the number of completed bytes, so there is no branch on whether a byte
//! filled up; the output vector therefore keeps at least 8 writable bytes past `pos`.

use alloc::vec::Vec;

/// Longest field one `put` accepts.
pub const MAX_PUT: u32 = 56 - 7;

/// Appends bit fields to a byte vector.
pub struct BitWriter {
    /// Completed bytes up to `pos`; bytes after it are scratch.
    out: Vec<u8>,
    pos: usize,
    /// Pending bits (fewer than 8 between calls), the oldest in the lowest position.
    buf: u64,
    n: u32,
}

impl BitWriter {
    /// A writer filling `out` from its start; its contents are overwritten.
    pub fn reuse(out: Vec<u8>) -> Self {
        BitWriter {
            out,
            pos: 0,
            buf: 0,
            n: 0,
        }
    }

    /// Makes room for at least `bytes` more bytes of output without reallocating.
    pub fn reserve(&mut self, bytes: usize) {
        let need = self.pos + bytes + 8;
        if self.out.len() < need {
            self.grow(need);
        }
    }

    /// Lengthens the vector to at least `need` bytes: by a quarter at least, within the
    /// allocation when it is large enough (the new bytes are zeroed once, then reused).
    #[cold]
    fn grow(&mut self, need: usize) {
        let len = self.out.len();
        let mut to = need.max(len + len / 4).max(4096);
        if need <= self.out.capacity() {
            to = to.min(self.out.capacity());
        }
        self.out.resize(to, 0);
    }

    /// Writes the low `count` bits of `bits` (count ≤ [`MAX_PUT`], higher bits zero).
    #[inline(always)]
    pub fn put(&mut self, bits: u64, count: u32) {
        self.put_fields(core::iter::once((bits, count)));
    }

    /// Writes each `(bits, count)` of `fields` as [`put`](Self::put) would, with the
    /// room for all of them reserved once, the pending bits kept in registers, and two
    /// fields joined into one store whenever they fit together.
    #[inline(always)]
    pub fn put_fields<I: ExactSizeIterator<Item = (u64, u32)>>(&mut self, mut fields: I) {
        // each field completes at most MAX_PUT / 8 + 1 = 7 bytes
        self.reserve(fields.len() * 7);
        let (mut buf, mut n, mut pos) = (self.buf, self.n, self.pos);
        let out = &mut self.out[..];
        let mut put = |bits: u64, count: u32| {
            buf |= bits << n;
            n += count;
            out[pos..pos + 8].copy_from_slice(&buf.to_le_bytes());
            pos += (n >> 3) as usize;
            buf >>= n & !7;
            n &= 7;
        };
        // three at a time while they fit in one store (almost always: literals, the most
        // common fields, take 15 bits at most)
        while fields.len() >= 3 {
            let (b0, c0) = fields.next().expect("three left");
            let (b1, c1) = fields.next().expect("three left");
            let (b2, c2) = fields.next().expect("three left");
            debug_assert!(c0 <= MAX_PUT && b0 >> c0 == 0);
            debug_assert!(c1 <= MAX_PUT && b1 >> c1 == 0);
            debug_assert!(c2 <= MAX_PUT && b2 >> c2 == 0);
            if c0 + c1 + c2 <= MAX_PUT {
                put(b0 | b1 << c0 | b2 << (c0 + c1), c0 + c1 + c2);
            } else {
                put(b0, c0);
                put(b1, c1);
                put(b2, c2);
            }
        }
        for (b, c) in fields {
            debug_assert!(c <= MAX_PUT && b >> c == 0);
            put(b, c);
        }
        (self.buf, self.n, self.pos) = (buf, n, pos);
    }

    /// Bits written so far, pending ones included.
    pub fn bit_len(&self) -> u64 {
        self.pos as u64 * 8 + u64::from(self.n)
    }

    /// Pads with zero bits to the next byte boundary.
    pub fn align(&mut self) {
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
    }

    /// Appends whole bytes; the writer must be aligned.
    pub fn put_bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.n, 0);
        self.reserve(bytes.len());
        self.out[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
    }

    /// Aligns and returns the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.align();
        self.out.truncate(self.pos);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::BitWriter;

    #[test]
    fn fields_pack_from_the_low_bit_up() {
        let mut w = BitWriter::reuse(alloc::vec![1, 2, 3]);
        w.put_bytes(&[0xAA]);
        w.put(1, 1); // bit 0
        w.put(0b10, 2); // bits 1-2
        w.put(0x1f, 5); // bits 3-7
        w.put(0xABCDE, 20);
        w.put(0xFFFF_FFFF, 32);
        w.put(0, 3);
        assert_eq!(w.bit_len(), 8 + 63);
        w.put_bytes(&[]);
        assert_eq!(
            w.finish(),
            [0xAA, 0xFD, 0xDE, 0xBC, 0xFA, 0xFF, 0xFF, 0xFF, 0x0F]
        );
    }

    #[test]
    fn put_fields_writes_what_put_writes() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let fields: alloc::vec::Vec<(u64, u32)> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // mostly short fields, some up to MAX_PUT bits
                let count = if x % 5 == 0 {
                    (x >> 8) as u32 % (super::MAX_PUT + 1)
                } else {
                    (x >> 8) as u32 % 16
                };
                ((x >> 12) & ((1u64 << count) - 1), count)
            })
            .collect();
        for len in [0, 1, 2, 3, 4, 5, 999, 1000] {
            let mut a = BitWriter::reuse(alloc::vec![7; 3]);
            let mut b = BitWriter::reuse(alloc::vec::Vec::new());
            a.put(5, 3);
            b.put(5, 3);
            for &(bits, count) in &fields[..len] {
                a.put(bits, count);
            }
            b.put_fields(fields[..len].iter().copied());
            assert_eq!(a.bit_len(), b.bit_len());
            assert_eq!(a.finish(), b.finish(), "{len}");
        }
    }
}
