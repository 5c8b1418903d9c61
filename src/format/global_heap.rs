//! Global heap collection "GCOL" (spec III.E): where variable-length data such as
//! variable-length strings lives. A dataset or attribute element refers to an object
//! in a collection by (collection address, object index).

use super::Sizes;
use crate::encode::Encoder;
use alloc::vec::Vec;

/// The smallest collection libhdf5 reads (it reads this much before parsing).
pub const MIN_COLLECTION: usize = 4096;

/// Bytes of a collection header: "GCOL", version, 3 reserved, collection size.
pub fn header_len(sizes: Sizes) -> usize {
    8 + usize::from(sizes.lengths)
}

/// Bytes of one heap object's header: index u16, reference count u16, 4 reserved, size.
pub fn object_header_len(sizes: Sizes) -> usize {
    8 + usize::from(sizes.lengths)
}

/// Bytes an object of `len` data bytes takes in a collection (data padded to 8).
pub fn object_len(sizes: Sizes, len: usize) -> usize {
    object_header_len(sizes) + len.div_ceil(8) * 8
}

/// Appends a collection of `size` bytes (≥ [`MIN_COLLECTION`]) holding `objects` as
/// indices 1, 2, ...; the space left over becomes the free-space object (index 0)
/// when it can hold an object header.
pub fn encode_collection(out: &mut Vec<u8>, sizes: Sizes, size: usize, objects: &[&[u8]]) {
    let start = out.len();
    let mut e = Encoder::new(out, sizes);
    e.bytes(b"GCOL").u8(1).zeros(3).len(size as u64);
    for (i, data) in objects.iter().enumerate() {
        let mark = e.pos();
        e.u16(i as u16 + 1)
            .u16(0)
            .u32(0)
            .len(data.len() as u64)
            .bytes(data);
        e.pad_from(mark, 8);
    }
    let used = out.len() - start;
    debug_assert!(used <= size);
    let free = size - used;
    let mut e = Encoder::new(out, sizes);
    if free >= object_header_len(sizes) {
        e.u16(0).u16(0).u32(0).len(free as u64);
    }
    out.resize(start + size, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_collection() {
        let mut out = Vec::new();
        encode_collection(&mut out, Sizes::DEFAULT, MIN_COLLECTION, &[b"abc", b""]);
        assert_eq!(out.len(), 4096);
        assert_eq!(&out[..8], b"GCOL\x01\0\0\0");
        assert_eq!(&out[8..16], &4096u64.to_le_bytes());
        // object 1: index, refcount, reserved, size 3, "abc" padded to 8
        assert_eq!(&out[16..24], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&out[24..32], &3u64.to_le_bytes());
        assert_eq!(&out[32..40], b"abc\0\0\0\0\0");
        // object 2: empty
        assert_eq!(&out[40..42], &[2, 0]);
        assert_eq!(&out[48..56], &0u64.to_le_bytes());
        // free space object 0 covers the rest, its own header included
        assert_eq!(&out[56..58], &[0, 0]);
        assert_eq!(&out[64..72], &(4096u64 - 56).to_le_bytes());
        assert_eq!(object_len(Sizes::DEFAULT, 3), 24);
    }
}
