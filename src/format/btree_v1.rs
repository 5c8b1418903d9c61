//! Version-1 B-tree nodes of type 1, the chunk index of layout v3 (spec III.A.1).
//!
//! A node is "TREE", type, level, entries used, left and right sibling addresses,
//! then `2K` children interleaved with `2K + 1` keys. Readers always read the full
//! node size, so the writer allocates it whole. Nodes carry no checksum.

use super::Sizes;
use crate::encode::Encoder;
use alloc::vec::Vec;

/// The chunk B-tree 'K' every libhdf5 default file implies: 64 children per node.
pub const CHUNK_K: u16 = 32;

/// Shape of the nodes of one chunk B-tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeShape {
    /// Address and length widths.
    pub sizes: Sizes,
    /// Half the maximum number of children.
    pub k: u16,
    /// Dimensions in a key: dataset rank + 1.
    pub ndims: usize,
}

/// The key of a chunk: its stored size, filter mask and element offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkKey {
    /// Bytes the chunk occupies in the file (after filters).
    pub size: u32,
    /// Bit i set: filter i was skipped for this chunk.
    pub filter_mask: u32,
    /// Offset of the chunk's first element in each dataset dimension, then 0.
    pub offsets: Vec<u64>,
}

impl NodeShape {
    /// Size of an encoded key.
    pub fn key_len(&self) -> usize {
        8 + 8 * self.ndims
    }

    /// Maximum children per node.
    pub fn capacity(&self) -> usize {
        2 * usize::from(self.k)
    }

    /// Size of the node prefix before key 0.
    pub fn prefix_len(&self) -> usize {
        8 + 2 * usize::from(self.sizes.offsets)
    }

    /// Full size of a node as readers read it.
    pub fn node_len(&self) -> usize {
        let o = usize::from(self.sizes.offsets);
        self.prefix_len() + self.capacity() * o + (self.capacity() + 1) * self.key_len()
    }

    /// Offset of key `i` inside a node.
    pub fn key_offset(&self, i: usize) -> usize {
        self.prefix_len() + i * (self.key_len() + usize::from(self.sizes.offsets))
    }

    /// Offset of child `i` inside a node.
    pub fn child_offset(&self, i: usize) -> usize {
        self.key_offset(i) + self.key_len()
    }

    /// Offset of the "entries used" field.
    pub const ENTRIES_OFFSET: usize = 6;

    /// Offset of the right-sibling address.
    pub fn right_sibling_offset(&self) -> usize {
        8 + usize::from(self.sizes.offsets)
    }

    /// Appends one key.
    pub fn encode_key(&self, out: &mut Vec<u8>, key: &ChunkKey) {
        let mut e = Encoder::new(out, self.sizes);
        e.u32(key.size).u32(key.filter_mask);
        for &o in &key.offsets {
            e.u64(o);
        }
    }

    /// Appends `keys[i], children[i]` pairs for consecutive entries, then
    /// `keys[children.len()]` (the right bound): the byte image of a node's entry area
    /// from the key of the first given entry on.
    pub fn encode_entries(&self, out: &mut Vec<u8>, keys: &[ChunkKey], children: &[u64]) {
        debug_assert_eq!(keys.len(), children.len() + 1);
        for (k, &c) in keys.iter().zip(children) {
            self.encode_key(out, k);
            Encoder::new(out, self.sizes).addr(c);
        }
        self.encode_key(out, &keys[children.len()]);
    }

    /// Appends a whole node of [`Self::node_len`] bytes; unused slots are zero.
    pub fn encode_node(
        &self,
        out: &mut Vec<u8>,
        level: u8,
        left: u64,
        right: u64,
        keys: &[ChunkKey],
        children: &[u64],
    ) {
        let start = out.len();
        Encoder::new(out, self.sizes)
            .bytes(b"TREE")
            .u8(1)
            .u8(level)
            .u16(children.len() as u16)
            .addr(left)
            .addr(right);
        self.encode_entries(out, keys, children);
        out.resize(start + self.node_len(), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::UNDEF;
    use alloc::vec;

    fn shape() -> NodeShape {
        NodeShape {
            sizes: Sizes::DEFAULT,
            k: CHUNK_K,
            ndims: 4,
        }
    }

    #[test]
    fn node_size_matches_libhdf5() {
        // K=32, rank 3: 24 + 512 + 65 * 40 = 3136 bytes (format-notes §5).
        assert_eq!(shape().node_len(), 3136);
        assert_eq!(shape().key_offset(1), 24 + 40 + 8);
        assert_eq!(shape().child_offset(0), 64);
    }

    #[test]
    fn golden_leaf() {
        let s = shape();
        let k0 = ChunkKey {
            size: 48,
            filter_mask: 0,
            offsets: vec![0, 0, 0, 0],
        };
        let k1 = ChunkKey {
            size: 0,
            filter_mask: 0,
            offsets: vec![1, 4, 6, 2],
        };
        let mut out = Vec::new();
        s.encode_node(&mut out, 0, UNDEF, UNDEF, &[k0, k1], &[0x900]);
        assert_eq!(out.len(), 3136);
        assert_eq!(&out[..8], b"TREE\x01\x00\x01\x00");
        assert!(out[8..24].iter().all(|&b| b == 0xff));
        assert_eq!(&out[24..28], &48u32.to_le_bytes());
        assert_eq!(&out[64..72], &0x900u64.to_le_bytes());
        assert_eq!(&out[72..76], &0u32.to_le_bytes());
        assert_eq!(&out[80..88], &1u64.to_le_bytes());
        assert_eq!(&out[104..112], &2u64.to_le_bytes());
        assert!(out[112..].iter().all(|&b| b == 0));
    }
}
