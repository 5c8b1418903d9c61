//! Data layout message, version 3 (spec IV.A.2.i): compact, contiguous, or chunked
//! with a v1 B-tree chunk index.

use super::Sizes;
use crate::encode::Encoder;
use alloc::vec::Vec;

/// Where and how a dataset's raw data is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Raw data stored inside the message itself (at most 64 KiB).
    Compact {
        /// The raw data.
        data: Vec<u8>,
    },
    /// One contiguous block of the file.
    Contiguous {
        /// Address of the block ([`super::UNDEF`] when not allocated).
        addr: u64,
        /// Size of the block in bytes.
        size: u64,
    },
    /// Fixed-size chunks indexed by a v1 B-tree.
    Chunked {
        /// Root of the chunk B-tree ([`super::UNDEF`] when empty).
        btree: u64,
        /// Chunk dimensions in elements, one per dataset dimension.
        chunk: Vec<u32>,
        /// Element size in bytes (stored as the last chunk dimension).
        element_size: u32,
    },
}

impl Layout {
    /// Offset of the B-tree address inside a chunked layout body.
    pub const BTREE_OFFSET: usize = 3;

    /// Appends the message body.
    pub fn encode(&self, out: &mut Vec<u8>, sizes: Sizes) {
        let mut e = Encoder::new(out, sizes);
        e.u8(3);
        match self {
            Layout::Compact { data } => {
                e.u8(0).u16(data.len() as u16).bytes(data);
            }
            Layout::Contiguous { addr, size } => {
                e.u8(1).addr(*addr).len(*size);
            }
            Layout::Chunked {
                btree,
                chunk,
                element_size,
            } => {
                e.u8(2).u8(chunk.len() as u8 + 1).addr(*btree);
                for &c in chunk {
                    e.u32(c);
                }
                e.u32(*element_size);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::UNDEF;
    use alloc::vec;

    #[test]
    fn golden_bytes() {
        let mut out = Vec::new();
        Layout::Chunked {
            btree: UNDEF,
            chunk: vec![1, 4, 6],
            element_size: 2,
        }
        .encode(&mut out, Sizes::DEFAULT);
        let mut want = vec![3, 2, 4];
        want.extend_from_slice(&[0xff; 8]);
        for v in [1u32, 4, 6, 2] {
            want.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(out, want);
        out.clear();
        Layout::Contiguous {
            addr: 0x800,
            size: 96,
        }
        .encode(&mut out, Sizes::DEFAULT);
        assert_eq!(&out[..2], &[3, 1]);
        assert_eq!(&out[2..10], &0x800u64.to_le_bytes());
        assert_eq!(&out[10..18], &96u64.to_le_bytes());
        out.clear();
        Layout::Compact {
            data: vec![1, 2, 3],
        }
        .encode(&mut out, Sizes::DEFAULT);
        assert_eq!(out, [3, 0, 3, 0, 1, 2, 3]);
    }
}
