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

/// Returns the address for a new node of the given size.
pub(crate) type AllocFn<'a, E> = dyn FnMut(usize) -> Result<u64, E> + 'a;
/// Writes a finished node at an address.
pub(crate) type EmitFn<'a, E> = dyn FnMut(u64, &[u8]) -> Result<(), E> + 'a;

/// Builds a tree over `entries` (sorted by offsets, each with the chunk's address).
/// `alloc(len)` returns the address for a node; `emit(addr, bytes)` writes it.
/// Returns the root address ([`UNDEF`] when there are no entries).
pub(crate) fn build<E>(
    shape: NodeShape,
    entries: Vec<(ChunkKey, u64)>,
    sentinel: &ChunkKey,
    alloc: &mut AllocFn<'_, E>,
    emit: &mut EmitFn<'_, E>,
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

/// One node on the right edge of a growing tree, with its entries in memory.
struct EdgeNode {
    addr: u64,
    level: u8,
    left: u64,
    right: u64,
    keys: Vec<ChunkKey>,
    children: Vec<u64>,
    /// Entries readers can reach: the count stored on disk.
    on_disk: usize,
    /// Never written yet: the whole node is written in phase 1.
    fresh: bool,
    /// The right-sibling field changed since the node was last written.
    right_changed: bool,
}

impl EdgeNode {
    fn new(addr: u64, level: u8, left: u64) -> Self {
        EdgeNode {
            addr,
            level,
            left,
            right: UNDEF,
            keys: Vec::new(),
            children: Vec::new(),
            on_disk: 0,
            fresh: true,
            right_changed: false,
        }
    }
}

/// Writes a commit needs, by phase (see `inner.rs`).
#[derive(Default)]
pub(crate) struct TreeWrites {
    /// Into fresh space or fields readers ignore: new nodes, entries past the count.
    pub phase1: Vec<(u64, Vec<u8>)>,
    /// In place, one aligned field each: a key's dim-0 offset and the entry count.
    pub phase2: Vec<(u64, Vec<u8>)>,
}

/// A v1 B-tree that only grows on the right (chunks appended in key order),
/// keeping just its right edge in memory, whatever its size.
///
/// Commits follow format-notes §9.3: new entries go past the node's stored count,
/// except the dim-0 offset of the key that held the right bound, which keeps the
/// sentinel's value until phase 2 writes it together with the new count; then the
/// dataset header (phase 3) points at a new root when the tree grew a level.
pub(crate) struct BTreeAppender {
    shape: NodeShape,
    sentinel: ChunkKey,
    /// Right edge, leaf first.
    edge: Vec<EdgeNode>,
    /// Full nodes that left the edge with changes not yet on disk.
    retired: Vec<EdgeNode>,
    /// Aligned 8-byte in-place pointer writes (phase 2) after a node was copied on
    /// write: (address, new pointer).
    swings: Vec<(u64, u64)>,
}

impl BTreeAppender {
    /// An empty tree.
    pub fn new(shape: NodeShape, sentinel: ChunkKey) -> Self {
        BTreeAppender {
            shape,
            sentinel,
            edge: Vec::new(),
            retired: Vec::new(),
            swings: Vec::new(),
        }
    }

    /// A tree continued from disk: `edge` lists its right edge, leaf first, as
    /// (address, level, left sibling, keys, children), every entry already on disk.
    #[allow(clippy::type_complexity)]
    pub fn from_edge(
        shape: NodeShape,
        sentinel: ChunkKey,
        edge: Vec<(u64, u8, u64, Vec<ChunkKey>, Vec<u64>)>,
    ) -> Self {
        let edge = edge
            .into_iter()
            .map(|(addr, level, left, keys, children)| {
                let on_disk = children.len();
                EdgeNode {
                    addr,
                    level,
                    left,
                    right: UNDEF,
                    keys,
                    children,
                    on_disk,
                    fresh: false,
                    right_changed: false,
                }
            })
            .collect();
        BTreeAppender {
            shape,
            sentinel,
            edge,
            retired: Vec::new(),
            swings: Vec::new(),
        }
    }

    /// The last `n` entries of the edge leaf (fewer if it has fewer).
    pub fn tail(&self, n: usize) -> Vec<(ChunkKey, u64)> {
        let Some(leaf) = self.edge.first() else {
            return Vec::new();
        };
        let from = leaf.children.len().saturating_sub(n);
        leaf.keys[from..]
            .iter()
            .cloned()
            .zip(leaf.children[from..].iter().copied())
            .collect()
    }

    /// Makes sure the next `n` pushes land in one leaf (starting a new leaf when the
    /// edge leaf has less room), so that [`Self::replace_tail`] can later replace them
    /// together. Does nothing when `n` exceeds a node's capacity.
    pub fn reserve_in_leaf<E>(&mut self, n: usize, alloc: &mut AllocFn<'_, E>) -> Result<(), E> {
        let cap = self.shape.capacity();
        if n > cap || self.edge.is_empty() {
            return Ok(());
        }
        let used = self.edge[0].children.len();
        if used > 0 && used + n > cap {
            self.split_edge(0, alloc)?;
        }
        Ok(())
    }

    /// Replaces the last `entries.len()` entries, which must sit in the edge leaf.
    /// Entries readers can already reach are never edited in place: the leaf is
    /// copied to fresh space and its parent's pointer swung (an aligned 8-byte write
    /// in phase 2), or, for a leaf that is the root, the header commit swings it.
    pub fn replace_tail<E>(
        &mut self,
        entries: Vec<(ChunkKey, u64)>,
        alloc: &mut AllocFn<'_, E>,
    ) -> Result<(), E> {
        let n = entries.len();
        let leaf = &mut self.edge[0];
        let first = leaf.children.len() - n;
        if !leaf.fresh && first < leaf.on_disk {
            let old = leaf.addr;
            leaf.addr = alloc(self.shape.node_len())?;
            leaf.fresh = true;
            leaf.on_disk = 0;
            let (new, left) = (leaf.addr, leaf.left);
            if left != UNDEF {
                // libhdf5 follows sibling links (H5B__get_info_helper): swing in phase 2
                self.swings
                    .push((left + self.shape.right_sibling_offset() as u64, new));
            }
            if let Some(parent) = self.edge.get_mut(1) {
                let i = parent
                    .children
                    .iter()
                    .rposition(|&c| c == old)
                    .expect("the leaf's parent");
                parent.children[i] = new;
                if !parent.fresh && i < parent.on_disk {
                    self.swings
                        .push((parent.addr + self.shape.child_offset(i) as u64, new));
                }
            }
        }
        let leaf = &mut self.edge[0];
        for (j, (k, c)) in entries.into_iter().enumerate() {
            leaf.keys[first + j] = k;
            leaf.children[first + j] = c;
        }
        Ok(())
    }

    /// Puts a new, empty node on the edge at `level` in place of the current one
    /// (which keeps its entries); a new root is made first when it was the root.
    fn split_edge<E>(&mut self, level: usize, alloc: &mut AllocFn<'_, E>) -> Result<(), E> {
        let len = self.shape.node_len();
        if level + 1 == self.edge.len() {
            let mut root = EdgeNode::new(alloc(len)?, level as u8 + 1, UNDEF);
            root.keys.push(self.edge[level].keys[0].clone());
            root.children.push(self.edge[level].addr);
            self.edge.push(root);
        }
        let addr = alloc(len)?;
        let mut old = std::mem::replace(
            &mut self.edge[level],
            EdgeNode::new(addr, level as u8, UNDEF),
        );
        self.edge[level].left = old.addr;
        old.right = addr;
        old.right_changed = true;
        self.retired.push(old);
        Ok(())
    }

    /// The root's address, [`UNDEF`] while empty.
    pub fn root(&self) -> u64 {
        self.edge.last().map_or(UNDEF, |n| n.addr)
    }

    /// Moves the tree out, leaving an empty one (to call [`Self::push`] with an
    /// allocator that borrows the tree's owner).
    pub fn take(&mut self) -> BTreeAppender {
        let empty = BTreeAppender::new(self.shape, self.sentinel.clone());
        std::mem::replace(self, empty)
    }

    /// Appends a chunk whose key is greater than every key so far.
    pub fn push<E>(
        &mut self,
        key: ChunkKey,
        child: u64,
        alloc: &mut AllocFn<'_, E>,
    ) -> Result<(), E> {
        self.push_at(0, key, child, alloc)
    }

    fn push_at<E>(
        &mut self,
        level: usize,
        key: ChunkKey,
        child: u64,
        alloc: &mut AllocFn<'_, E>,
    ) -> Result<(), E> {
        if level == self.edge.len() {
            // the first leaf: it is the root
            self.edge.push(EdgeNode::new(
                alloc(self.shape.node_len())?,
                level as u8,
                UNDEF,
            ));
        }
        if self.edge[level].children.len() == self.shape.capacity() {
            self.split_edge(level, alloc)?;
        }
        // an empty edge node below the root is not linked yet: its first entry links it
        let unlinked = self.edge[level].children.is_empty() && level + 1 < self.edge.len();
        self.edge[level].keys.push(key.clone());
        self.edge[level].children.push(child);
        if unlinked {
            let addr = self.edge[level].addr;
            self.push_at(level + 1, key, addr, alloc)?;
        }
        Ok(())
    }

    /// The writes that put every pending change on disk; marks them written.
    pub fn commit_writes(&mut self) -> TreeWrites {
        let mut w = TreeWrites::default();
        for mut node in std::mem::take(&mut self.retired) {
            self.node_writes(&mut node, &mut w);
        }
        for i in 0..self.edge.len() {
            let mut node = std::mem::replace(&mut self.edge[i], EdgeNode::new(0, 0, UNDEF));
            self.node_writes(&mut node, &mut w);
            self.edge[i] = node;
        }
        for (addr, ptr) in std::mem::take(&mut self.swings) {
            w.phase2.push((addr, ptr.to_le_bytes().to_vec()));
        }
        w
    }

    fn node_writes(&self, node: &mut EdgeNode, w: &mut TreeWrites) {
        let shape = self.shape;
        let n = node.children.len();
        let mut keys = node.keys.clone();
        keys.push(self.sentinel.clone());
        if node.fresh {
            let mut buf = Vec::with_capacity(shape.node_len());
            shape.encode_node(
                &mut buf,
                node.level,
                node.left,
                node.right,
                &keys,
                &node.children,
            );
            w.phase1.push((node.addr, buf));
            node.fresh = false;
            node.right_changed = false;
            node.on_disk = n;
            return;
        }
        if node.right_changed {
            // libhdf5 follows sibling links (H5B__get_info_helper: h5stat, h5py
            // visititems): point at the new sibling only once it is on disk
            w.phase2.push((
                node.addr + shape.right_sibling_offset() as u64,
                node.right.to_le_bytes().to_vec(),
            ));
            node.right_changed = false;
        }
        let old = node.on_disk;
        if old == n {
            return;
        }
        let mut buf = Vec::new();
        shape.encode_entries(&mut buf, &keys[old..], &node.children[old..]);
        let start = node.addr + shape.key_offset(old) as u64;
        const DIM0: usize = 8; // after the key's size u32 and filter mask u32
        w.phase1.push((start, buf[..DIM0].to_vec()));
        w.phase1
            .push((start + DIM0 as u64 + 8, buf[DIM0 + 8..].to_vec()));
        w.phase2
            .push((start + DIM0 as u64, buf[DIM0..DIM0 + 8].to_vec()));
        w.phase2.push((
            node.addr + NodeShape::ENTRIES_OFFSET as u64,
            (n as u16).to_le_bytes().to_vec(),
        ));
        node.on_disk = n;
    }
}
