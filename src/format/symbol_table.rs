//! Old-style ("symbol table") groups, as libhdf5 writes them by default (spec III.B,
//! III.C, III.D): a local heap ("HEAP") holding the link names, symbol table nodes
//! ("SNOD") holding one entry per link, and a version-1 B-tree of type 0 over the
//! nodes, keyed by heap offsets of names. h5sink writes these only to add links to a
//! group of a file libhdf5 wrote; its own groups are new-style (link messages).
//!
//! Every structure here is written whole into fresh space: a group's table is
//! rebuilt and the group's symbol table message is then pointed at it.

use super::Sizes;
use crate::encode::Encoder;
use alloc::vec::Vec;

/// The free-list head of a local heap without free blocks.
pub const HEAP_FREE_NONE: u64 = 1;

/// Size of a local heap header.
pub fn heap_header_len(sizes: Sizes) -> usize {
    8 + 2 * usize::from(sizes.lengths) + usize::from(sizes.offsets)
}

/// Appends `name` to a local heap data segment: NUL-terminated, padded to 8 bytes
/// (the segment's length stays a multiple of 8).
pub fn push_name(data: &mut Vec<u8>, name: &[u8]) {
    data.extend_from_slice(name);
    data.push(0);
    data.resize(data.len().div_ceil(8) * 8, 0);
}

/// Appends a local heap header whose data segment of `data_len` bytes lies at
/// `data_addr`, with free list head `free_head` ([`HEAP_FREE_NONE`]: no free blocks).
pub fn encode_heap_header(
    out: &mut Vec<u8>,
    sizes: Sizes,
    data_len: u64,
    free_head: u64,
    data_addr: u64,
) {
    Encoder::new(out, sizes)
        .bytes(b"HEAP")
        .u8(0)
        .zeros(3)
        .len(data_len)
        .len(free_head)
        .addr(data_addr);
}

/// One symbol table entry: a link name's heap offset, the object's header address
/// (UNDEF for a soft link) and what the scratch pad caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Heap offset of the link name.
    pub name: u64,
    /// Address of the object header.
    pub header: u64,
    /// The cached information.
    pub cache: Cache,
}

/// The scratch pad of a symbol table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    /// Cache type 0: nothing.
    None,
    /// Cache type 1: (B-tree, local heap) of a child old-style group.
    Stab(u64, u64),
    /// Cache type 2: a soft link; heap offset of its target path.
    SoftLink(u32),
}

/// Size of one encoded entry.
pub fn entry_len(sizes: Sizes) -> usize {
    usize::from(sizes.lengths) + usize::from(sizes.offsets) + 24
}

/// Size of a symbol table node of a file whose group leaf K is `leaf_k`: readers
/// read room for `2 * leaf_k` entries.
pub fn snod_len(sizes: Sizes, leaf_k: u16) -> usize {
    8 + 2 * usize::from(leaf_k) * entry_len(sizes)
}

/// Appends a whole symbol table node holding `entries` (at most `2 * leaf_k`,
/// sorted by name); unused entries are zero.
pub fn encode_snod(out: &mut Vec<u8>, sizes: Sizes, leaf_k: u16, entries: &[Entry]) {
    let start = out.len();
    let mut e = Encoder::new(out, sizes);
    e.bytes(b"SNOD").u8(1).u8(0).u16(entries.len() as u16);
    for entry in entries {
        e.len(entry.name).addr(entry.header);
        match entry.cache {
            Cache::Stab(btree, heap) => e.u32(1).u32(0).addr(btree).addr(heap),
            Cache::SoftLink(target) => e.u32(2).u32(0).u32(target).zeros(12),
            Cache::None => e.u32(0).u32(0).zeros(16),
        };
    }
    out.resize(start + snod_len(sizes, leaf_k), 0);
}

/// Size of a group B-tree node of a file whose group internal K is `k`.
pub fn group_node_len(sizes: Sizes, k: u16) -> usize {
    let (o, l) = (usize::from(sizes.offsets), usize::from(sizes.lengths));
    8 + 2 * o + 2 * usize::from(k) * o + (2 * usize::from(k) + 1) * l
}

/// Appends a whole group B-tree node (type 0) at `level` with `children` (at most
/// `2 * k`) and `keys` (one more than children: heap offsets of the empty string,
/// then of the greatest name under each child).
pub fn encode_group_node(
    out: &mut Vec<u8>,
    sizes: Sizes,
    k: u16,
    level: u8,
    siblings: (u64, u64),
    keys: &[u64],
    children: &[u64],
) {
    debug_assert_eq!(keys.len(), children.len() + 1);
    let start = out.len();
    let mut e = Encoder::new(out, sizes);
    e.bytes(b"TREE")
        .u8(0)
        .u8(level)
        .u16(children.len() as u16)
        .addr(siblings.0)
        .addr(siblings.1);
    for (key, child) in keys.iter().zip(children) {
        e.len(*key).addr(*child);
    }
    e.len(keys[keys.len() - 1]);
    out.resize(start + group_node_len(sizes, k), 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::UNDEF;

    #[test]
    fn sizes_match_libhdf5_defaults() {
        // leaf K 4: 8 entries of 40 bytes; internal K 16: 32 children, 33 keys
        assert_eq!(snod_len(Sizes::DEFAULT, 4), 328);
        assert_eq!(group_node_len(Sizes::DEFAULT, 16), 24 + 32 * 8 + 33 * 8);
        assert_eq!(heap_header_len(Sizes::DEFAULT), 32);
    }

    #[test]
    fn heap_names_are_padded() {
        let mut data = alloc::vec![0u8; 8];
        push_name(&mut data, b"a");
        push_name(&mut data, b"12345678");
        assert_eq!(data.len(), 32);
        assert_eq!(&data[8..10], b"a\0");
        assert_eq!(&data[16..25], b"12345678\0");
    }

    #[test]
    fn node_layout() {
        let mut out = Vec::new();
        encode_group_node(
            &mut out,
            Sizes::DEFAULT,
            16,
            0,
            (UNDEF, UNDEF),
            &[0, 8],
            &[0x500],
        );
        assert_eq!(&out[..8], b"TREE\0\0\x01\0");
        assert_eq!(&out[24..32], &0u64.to_le_bytes());
        assert_eq!(&out[32..40], &0x500u64.to_le_bytes());
        assert_eq!(&out[40..48], &8u64.to_le_bytes());
        let mut s = Vec::new();
        let e = Entry {
            name: 8,
            header: 0x60,
            cache: Cache::Stab(1, 2),
        };
        encode_snod(&mut s, Sizes::DEFAULT, 4, &[e]);
        assert_eq!(&s[..8], b"SNOD\x01\0\x01\0");
        assert_eq!(&s[24..28], &1u32.to_le_bytes());
        assert_eq!(&s[40..48], &2u64.to_le_bytes());
    }
}
