//! Building v1 B-tree chunk indexes.
//!
//! [`build`] writes a whole tree bottom-up from entries sorted by chunk offset: used
//! for datasets whose chunks arrive in any order and are indexed at each commit.
//! Every node on the right edge of the tree ends with a far "sentinel" key, larger
//! than any chunk the dataset can hold, so a tree never needs its ancestors' right
//! keys rewritten when chunks are appended later.

use crate::format::btree_v1::{ChunkKey, NodeShape};
use crate::format::UNDEF;

/// The right bound stored after the last entry of every right-edge node: a dim-0
/// offset that is a multiple of the chunk's dim 0 near 2^63, zeros elsewhere.
pub(crate) fn sentinel(chunk: &[u32], ndims: usize) -> ChunkKey {
    let c0 = u64::from(chunk[0].max(1));
    let mut offsets = vec![0u64; ndims];
    offsets[0] = (u64::MAX >> 1) / c0 * c0;
    ChunkKey {
        size: 0,
        filter_mask: 0,
        offsets,
    }
}

/// Builds a tree over `entries` (sorted by offsets, each with the chunk's address).
/// `alloc(len)` returns the address for a node; `emit(addr, bytes)` writes it.
/// Returns the root address ([`UNDEF`] when there are no entries).
pub(crate) fn build<E>(
    shape: NodeShape,
    entries: Vec<(ChunkKey, u64)>,
    sentinel: &ChunkKey,
    alloc: &mut dyn FnMut(usize) -> Result<u64, E>,
    emit: &mut dyn FnMut(u64, &[u8]) -> Result<(), E>,
) -> Result<u64, E> {
    if entries.is_empty() {
        return Ok(UNDEF);
    }
    let cap = shape.capacity();
    let mut level_entries = entries;
    let mut level = 0u8;
    let mut buf = Vec::with_capacity(shape.node_len());
    loop {
        let groups: Vec<&[(ChunkKey, u64)]> = level_entries.chunks(cap).collect();
        let addrs = groups
            .iter()
            .map(|_| alloc(shape.node_len()))
            .collect::<Result<Vec<u64>, E>>()?;
        let mut parent = Vec::with_capacity(groups.len());
        for (i, g) in groups.iter().enumerate() {
            let mut keys: Vec<ChunkKey> = g.iter().map(|(k, _)| k.clone()).collect();
            keys.push(match groups.get(i + 1) {
                Some(next) => next[0].0.clone(),
                None => sentinel.clone(),
            });
            let children: Vec<u64> = g.iter().map(|(_, c)| *c).collect();
            let left = if i > 0 { addrs[i - 1] } else { UNDEF };
            let right = addrs.get(i + 1).copied().unwrap_or(UNDEF);
            buf.clear();
            shape.encode_node(&mut buf, level, left, right, &keys, &children);
            emit(addrs[i], &buf)?;
            parent.push((g[0].0.clone(), addrs[i]));
        }
        if parent.len() == 1 {
            return Ok(parent[0].1);
        }
        level_entries = parent;
        level += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Sizes;

    #[test]
    fn builds_three_levels_for_many_entries() {
        let shape = NodeShape {
            sizes: Sizes::DEFAULT,
            k: 2,
            ndims: 2,
        };
        let entries: Vec<(ChunkKey, u64)> = (0..20u64)
            .map(|i| {
                (
                    ChunkKey {
                        size: 8,
                        filter_mask: 0,
                        offsets: vec![i * 2, 0],
                    },
                    1000 + i,
                )
            })
            .collect();
        let mut next = 0u64;
        let mut nodes = Vec::new();
        let root = build::<()>(
            shape,
            entries,
            &sentinel(&[2], 2),
            &mut |len| {
                let a = next;
                next += len as u64;
                Ok(a)
            },
            &mut |a, b| {
                nodes.push((a, b.to_vec()));
                Ok(())
            },
        )
        .unwrap();
        // 20 entries, 4 per node: 5 leaves, 2 level-1 nodes, 1 root
        assert_eq!(nodes.len(), 8);
        let (_, root_node) = nodes.iter().find(|(a, _)| *a == root).unwrap();
        assert_eq!(root_node[5], 2, "root level");
        assert_eq!(u16::from_le_bytes([root_node[6], root_node[7]]), 2);
    }
}
