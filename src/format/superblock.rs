//! Superblock version 2 (spec II.A): 48 bytes with a lookup3 checksum.

use super::{Sizes, SIGNATURE, UNDEF};
use crate::encode::Encoder;
use alloc::vec::Vec;

/// A version-2 superblock at file offset 0. Consistency flags are always 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuperblockV2 {
    /// Address and length widths of the whole file.
    pub sizes: Sizes,
    /// End-of-file address: every referenced byte lies below it.
    pub eof: u64,
    /// Address of the root group's object header.
    pub root: u64,
}

impl SuperblockV2 {
    /// Encoded size with 8-byte addresses: 12 + 4 × 8 + 4.
    pub const SIZE: usize = 48;

    /// Appends the encoded superblock (signature through checksum).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let mut e = Encoder::new(out, self.sizes);
        e.bytes(&SIGNATURE)
            .u8(2)
            .u8(self.sizes.offsets)
            .u8(self.sizes.lengths)
            .u8(0) // file consistency flags: never set (DESIGN rule E)
            .addr(0) // base address
            .addr(UNDEF) // superblock extension: none
            .addr(self.eof)
            .addr(self.root)
            .checksum_from(start);
    }

    /// Offset of the end-of-file address field inside the superblock.
    pub fn eof_offset(sizes: Sizes) -> usize {
        12 + 2 * usize::from(sizes.offsets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_bytes() {
        let mut out = Vec::new();
        SuperblockV2 {
            sizes: Sizes::DEFAULT,
            eof: 0x1234,
            root: 48,
        }
        .encode(&mut out);
        assert_eq!(out.len(), SuperblockV2::SIZE);
        assert_eq!(&out[..12], b"\x89HDF\r\n\x1a\n\x02\x08\x08\x00");
        assert_eq!(&out[12..20], &[0; 8]);
        assert_eq!(&out[20..28], &[0xff; 8]);
        assert_eq!(&out[28..36], &0x1234u64.to_le_bytes());
        assert_eq!(&out[36..44], &48u64.to_le_bytes());
        let sum = crate::encode::hashlittle(&out[..44], 0);
        assert_eq!(&out[44..], &sum.to_le_bytes());
        assert_eq!(SuperblockV2::eof_offset(Sizes::DEFAULT), 28);
    }
}
