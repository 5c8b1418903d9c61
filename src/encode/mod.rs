//! Stateless little-endian encoding of HDF5 structures into a `Vec<u8>`.
//!
//! Nothing here does I/O or can fail: the encoder only appends bytes. Addresses and
//! lengths are written with the file's *size of offsets* and *size of lengths*
//! ([`Sizes`]); everything else has a fixed width.

mod lookup3;

pub use lookup3::hashlittle;

use alloc::vec::Vec;

/// The "undefined address" value: all bytes 0xFF, at whatever width addresses have.
pub const UNDEF: u64 = u64::MAX;

/// Widths of addresses ("size of offsets") and lengths ("size of lengths") in bytes.
///
/// HDF5 allows 2, 4, 8, 16 and 32; this writer encodes 2, 4 and 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Size of offsets (addresses), in bytes.
    pub offsets: u8,
    /// Size of lengths, in bytes.
    pub lengths: u8,
}

impl Sizes {
    /// The sizes every modern writer uses: 8-byte addresses and lengths.
    pub const DEFAULT: Sizes = Sizes {
        offsets: 8,
        lengths: 8,
    };
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes::DEFAULT
    }
}

/// Appends little-endian fields to a byte buffer.
pub struct Encoder<'a> {
    buf: &'a mut Vec<u8>,
    sizes: Sizes,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `buf`, with the file's address and length widths.
    pub fn new(buf: &'a mut Vec<u8>, sizes: Sizes) -> Self {
        Encoder { buf, sizes }
    }

    /// The address and length widths in force.
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// Current length of the underlying buffer (a mark for later back-patching).
    pub fn pos(&self) -> usize {
        self.buf.len()
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// A little-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A little-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A little-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// The low `width` bytes of `v`, little-endian (`width` ≤ 8).
    pub fn uint(&mut self, v: u64, width: u8) -> &mut Self {
        let w = usize::from(width.min(8));
        self.buf.extend_from_slice(&v.to_le_bytes()[..w]);
        self
    }

    /// A file address at the size of offsets; [`UNDEF`] becomes all 0xFF bytes.
    pub fn addr(&mut self, v: u64) -> &mut Self {
        self.uint(v, self.sizes.offsets)
    }

    /// A length at the size of lengths; `u64::MAX` becomes all 0xFF bytes.
    pub fn len(&mut self, v: u64) -> &mut Self {
        self.uint(v, self.sizes.lengths)
    }

    /// Raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// `n` zero bytes.
    pub fn zeros(&mut self, n: usize) -> &mut Self {
        self.buf.resize(self.buf.len() + n, 0);
        self
    }

    /// Zero bytes until the length counted from `mark` is a multiple of `align`.
    pub fn pad_from(&mut self, mark: usize, align: usize) -> &mut Self {
        let used = self.buf.len() - mark;
        let rem = used % align;
        if rem != 0 {
            self.zeros(align - rem);
        }
        self
    }

    /// Appends the lookup3 checksum (u32 LE) of every byte from `mark` to the end.
    pub fn checksum_from(&mut self, mark: usize) -> &mut Self {
        let sum = hashlittle(&self.buf[mark..], 0);
        self.u32(sum)
    }

    /// Overwrites a u16 at `at` (a mark taken earlier), for sizes known only later.
    pub fn patch_u16(&mut self, at: usize, v: u16) {
        self.buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    /// Overwrites a u32 at `at` (a mark taken earlier).
    pub fn patch_u32(&mut self, at: usize, v: u32) {
        self.buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// Bytes needed for an unsigned value: the smallest width in 1..=8 that holds `v`.
pub fn min_width(v: u64) -> u8 {
    let bits = 64 - v.leading_zeros();
    (bits.div_ceil(8)).max(1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn fields_are_little_endian_at_their_widths() {
        let mut buf = Vec::new();
        let mut e = Encoder::new(
            &mut buf,
            Sizes {
                offsets: 4,
                lengths: 2,
            },
        );
        e.u8(1)
            .u16(0x0302)
            .u32(0x07060504)
            .addr(0x0b0a0908)
            .len(0x0d0c)
            .addr(UNDEF);
        assert_eq!(
            buf,
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn padding_and_patching() {
        let mut buf = vec![9];
        let mut e = Encoder::new(&mut buf, Sizes::DEFAULT);
        let mark = e.pos();
        e.bytes(b"abc").pad_from(mark, 8);
        e.patch_u16(1, 0x4241);
        assert_eq!(buf, b"\x09ABc\0\0\0\0\0");
    }

    #[test]
    fn min_width_counts_bytes() {
        assert_eq!(min_width(0), 1);
        assert_eq!(min_width(255), 1);
        assert_eq!(min_width(256), 2);
        assert_eq!(min_width(u64::MAX), 8);
    }
}
