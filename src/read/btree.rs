//! Version-1 B-trees of type 1, the chunk index of layout v3 (format-notes §5):
//! node decoding, libhdf5's lookup (`H5B_find` with `H5D__btree_cmp3` and
//! `H5D__btree_found`), and a checking walk over every node.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::bytes::Source;
use super::error::{malformed, Error, Result, Structure};
use crate::encode::UNDEF;
use crate::format::dataspace::UNLIMITED;

const B: Structure = Structure::BTreeNode;

/// The shape of one dataset's chunk B-tree.
#[derive(Clone, Debug)]
pub(crate) struct Shape {
    /// Half the maximum number of children per node.
    pub k: usize,
    /// Key dims: dataset rank + 1.
    pub ndims: usize,
    /// Layout dims: the chunk dims, then the element size.
    pub dims: Vec<u64>,
}

impl Shape {
    pub fn key_len(&self) -> usize {
        8 + 8 * self.ndims
    }

    pub fn node_len(&self, o: usize) -> u64 {
        (8 + 2 * o + 2 * self.k * o + (2 * self.k + 1) * self.key_len()) as u64
    }
}

/// A decoded node: `entries` children and `entries + 1` keys.
pub(crate) struct Node {
    pub level: u8,
    pub entries: usize,
    pub left: u64,
    pub right: u64,
    /// Stored chunk sizes of the keys.
    pub sizes: Vec<u32>,
    pub masks: Vec<u32>,
    /// Key offsets as stored, `ndims` per key.
    pub raw: Vec<u64>,
    /// Key offsets divided by the layout dims, `ndims` per key.
    pub scaled: Vec<u64>,
    pub children: Vec<u64>,
    ndims: usize,
}

impl Node {
    pub fn raw_key(&self, i: usize) -> &[u64] {
        &self.raw[i * self.ndims..(i + 1) * self.ndims]
    }

    pub fn key(&self, i: usize) -> &[u64] {
        &self.scaled[i * self.ndims..(i + 1) * self.ndims]
    }
}

fn decode_node(src: &Source<'_>, shape: &Shape, addr: u64) -> Result<Node> {
    let o = usize::from(src.sizes.offsets);
    let mut c = src.cursor(B, addr, shape.node_len(o))?;
    if c.bytes(4)? != b"TREE" {
        return Err(Error::BadSignature {
            structure: B,
            offset: addr,
        });
    }
    let kind = c.u8()?;
    if kind != 1 {
        return Err(Error::BTreeNodeType {
            structure: B,
            offset: addr,
            found: kind,
        });
    }
    let level = c.u8()?;
    let entries = c.u16()?;
    let max = 2 * shape.k;
    if usize::from(entries) > max {
        return Err(Error::BTreeEntries {
            structure: B,
            offset: addr,
            entries,
            max: max as u16,
        });
    }
    let entries = usize::from(entries);
    let left = c.addr()?;
    let right = c.addr()?;
    let nd = shape.ndims;
    let mut node = Node {
        level,
        entries,
        left,
        right,
        sizes: Vec::with_capacity(entries + 1),
        masks: Vec::with_capacity(entries + 1),
        raw: Vec::with_capacity((entries + 1) * nd),
        scaled: Vec::with_capacity((entries + 1) * nd),
        children: Vec::with_capacity(entries),
        ndims: nd,
    };
    // the node's full size was checked: the used keys and children are all inside
    let keys = c.bytes(c.remaining())?;
    let (key_len, stride) = (shape.key_len(), shape.key_len() + o);
    let le = |b: &[u8]| {
        let mut v = [0u8; 8];
        v[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(v)
    };
    for i in 0..=entries {
        let k = &keys[i * stride..i * stride + key_len];
        node.sizes.push(le(&k[0..4]) as u32);
        node.masks.push(le(&k[4..8]) as u32);
        for (d, v) in k[8..].chunks_exact(8).enumerate() {
            let v = le(v);
            node.raw.push(v);
            node.scaled.push(v / shape.dims[d]);
        }
        if i < entries {
            let a = &keys[i * stride + key_len..(i + 1) * stride];
            node.children.push(if a.iter().all(|&x| x == 0xff) {
                UNDEF
            } else {
                le(a)
            });
        }
    }
    Ok(node)
}

/// A hasher for file addresses (multiplicative; addresses are not adversarial
/// enough to need SipHash, and lookups are the hot path of reading).
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A map keyed by file addresses.
pub(crate) type AddrMap<V> = HashMap<u64, V, BuildHasherDefault<AddrHasher>>;
/// A set of file addresses.
pub(crate) type AddrSet = HashSet<u64, BuildHasherDefault<AddrHasher>>;

/// Decoded nodes of one tree, by address.
#[derive(Default)]
pub(crate) struct Cache {
    nodes: AddrMap<Node>,
}

impl Cache {
    pub fn node(&mut self, src: &Source<'_>, shape: &Shape, addr: u64) -> Result<&Node> {
        use std::collections::hash_map::Entry;
        match self.nodes.entry(addr) {
            Entry::Occupied(o) => Ok(o.into_mut()),
            Entry::Vacant(v) => Ok(v.insert(decode_node(src, shape, addr)?)),
        }
    }

    pub fn cached(&self, addr: u64) -> Option<&Node> {
        self.nodes.get(&addr)
    }
}

/// Lexicographic comparison, dim 0 most significant (`H5VM_vector_cmp_u`).
pub(crate) fn lex(a: &[u64], b: &[u64]) -> Ordering {
    a.iter().cmp(b.iter())
}

/// `H5D__btree_cmp3`: where `target` lies relative to the child between `lt` and `rt`.
fn cmp3(lt: &[u64], target: &[u64], rt: &[u64]) -> Ordering {
    if target.len() == 2 {
        // libhdf5's special case for 1-D datasets
        if target[0] > rt[0] || (target[0] == rt[0] && target[1] >= rt[1]) {
            Ordering::Greater
        } else if target[0] < lt[0] {
            Ordering::Less
        } else {
            Ordering::Equal
        }
    } else if lex(target, rt) != Ordering::Less {
        Ordering::Greater
    } else if lex(target, lt) == Ordering::Less {
        Ordering::Less
    } else {
        Ordering::Equal
    }
}

/// A chunk found by a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub addr: u64,
    pub size: u32,
    pub mask: u32,
}

/// `H5B_find`: looks up the chunk whose scaled coordinates are `target` (rank + 1
/// values, the last 0). Like libhdf5 it trusts each node's own level; a node met
/// twice on the way down is a [`Error::BTreeCycle`] (libhdf5 would recurse forever).
pub(crate) fn find(
    cache: &mut Cache,
    src: &Source<'_>,
    shape: &Shape,
    root: u64,
    target: &[u64],
) -> Result<Option<Found>> {
    let mut addr = root;
    let mut path: Vec<u64> = Vec::new();
    let mut long_path = AddrSet::default();
    loop {
        let seen = if path.len() < 32 {
            path.contains(&addr)
        } else {
            if long_path.is_empty() {
                long_path.extend(path.iter().copied());
            }
            !long_path.insert(addr)
        };
        if seen {
            return Err(Error::BTreeCycle {
                structure: B,
                offset: addr,
                parent: path.last().copied().unwrap_or(UNDEF),
            });
        }
        path.push(addr);
        let node = cache.node(src, shape, addr)?;
        let (mut lt, mut rt) = (0usize, node.entries);
        let mut idx = 0usize;
        let mut cmp = Ordering::Greater;
        while lt < rt && cmp != Ordering::Equal {
            idx = (lt + rt) / 2;
            cmp = cmp3(node.key(idx), target, node.key(idx + 1));
            if cmp == Ordering::Less {
                rt = idx;
            } else {
                lt = idx + 1;
            }
        }
        if cmp != Ordering::Equal {
            return Ok(None);
        }
        if node.level > 0 {
            addr = node.children[idx];
            continue;
        }
        // H5D__btree_found: is this really the requested chunk?
        let key = node.key(idx);
        if target
            .iter()
            .zip(key)
            .any(|(&t, &k)| t >= k.wrapping_add(1))
        {
            return Ok(None);
        }
        return Ok(Some(Found {
            addr: node.children[idx],
            size: node.sizes[idx],
            mask: node.masks[idx],
        }));
    }
}

/// One leaf entry met by [`walk`]; its key is in [`Walk::raw`] and [`Walk::scaled`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    /// The leaf holding it, and its index there.
    pub leaf: u64,
    pub index: usize,
    pub size: u32,
    pub mask: u32,
    pub addr: u64,
}

/// What [`walk`] checks leaf entries against.
pub(crate) struct Expect<'d> {
    pub max_dims: &'d [u64],
    /// Chunks along dim 0 inside the current dims: keys from there on (dim 0 at
    /// least this, scaled) lie beyond the dims.
    pub frontier: u64,
    /// Bytes of an unfiltered chunk.
    pub chunk_bytes: u64,
    pub filtered: bool,
}

/// Result of a walk: the leaf entries in key order, the nodes by level in visiting
/// order (for sibling checks), and every node's address.
#[derive(Default)]
pub(crate) struct Walk {
    pub entries: Vec<Entry>,
    /// Keys of the entries as stored, `ndims` per entry.
    pub raw: Vec<u64>,
    /// Keys of the entries scaled to chunk units, `ndims` per entry.
    pub scaled: Vec<u64>,
    ndims: usize,
    /// No key order, key range or node reuse problem: the entries' keys strictly
    /// increase in walk order.
    pub ordered: bool,
    /// Nodes with key order or range problems confined to keys beyond the dims
    /// (with `expect`): readers of the current dims cannot notice them.
    pub beyond_dims: Vec<u64>,
    /// No structural problem at all, and every key of every node has a 0 last
    /// (element-size) coordinate and no coordinate equal to `u64::MAX`. Then a
    /// libhdf5 lookup of each entry's key finds exactly that entry (see
    /// [`Walk::lookups_are_identity`]).
    simple: bool,
    /// For each level: (node address, left, right) in the order met.
    pub levels: Vec<Vec<(u64, u64, u64)>>,
    pub nodes: Vec<u64>,
}

impl Walk {
    /// True when a libhdf5 lookup of every entry's own key (its dataset coordinates,
    /// then 0) is known to return that very entry, so that lookups can be skipped.
    ///
    /// Why: with every node's keys strictly increasing and every child's entries
    /// inside the range its ancestors give it (from the parent's key left of it up to
    /// the tightest enclosing right key), the intervals `[key[i], key[i+1])` of a
    /// node are disjoint and ordered, and an entry's key lies in the interval of
    /// every node on its path. `H5D__btree_cmp3` is then Greater left of that
    /// interval, Equal on it and Less right of it (for rank 1 too, since no key has
    /// a nonzero element-size coordinate), so `H5B_find`'s binary search descends
    /// along the entry's path, and `H5D__btree_found` accepts the entry (no
    /// coordinate is `u64::MAX`, whose + 1 would wrap).
    pub fn lookups_are_identity(&self) -> bool {
        self.simple
    }

    /// Entry `i`'s key as stored.
    pub fn raw(&self, i: usize) -> &[u64] {
        &self.raw[i * self.ndims..(i + 1) * self.ndims]
    }

    /// Entry `i`'s key scaled to chunk units.
    pub fn scaled(&self, i: usize) -> &[u64] {
        &self.scaled[i * self.ndims..(i + 1) * self.ndims]
    }
}

/// A step of [`walk`]'s depth-first traversal.
enum Step {
    /// Visit a node: address, (parent, index in the parent), and where the tightest
    /// upper bound of its keys is: (node, key index) of the smallest right key among
    /// its ancestors' keys that enclose it (`None` at the root).
    Enter(u64, Option<(u64, usize)>, Option<(u64, usize)>),
    /// Leave an internal node (its subtree is done).
    Exit(u64),
}

/// Visits every node reachable from `root` once, depth first in key order, the way
/// libhdf5 iterates (a node with level 0 is a leaf, whatever its parent's level),
/// reporting every problem to `errors`: node decoding errors, level mismatches,
/// cycles, nodes reached twice, keys not strictly increasing, child entries outside
/// the range the ancestors' keys give them, and, with `expect`, keys that are not
/// multiples of the chunk dims and chunk entries that are misaligned, outside the
/// maximum dims, of the wrong size, or past the end of file. With `expect`, order
/// and range problems confined to keys beyond the dims go to [`Walk::beyond_dims`]
/// instead.
pub(crate) fn walk(
    cache: &mut Cache,
    src: &Source<'_>,
    shape: &Shape,
    root: u64,
    expect: Option<&Expect<'_>>,
    errors: &mut Vec<Error>,
) -> Walk {
    let mut out = Walk {
        ndims: shape.ndims,
        ordered: true,
        simple: true,
        ..Walk::default()
    };
    let mut visited = AddrSet::default();
    // the internal nodes from the root to the current node
    let mut on_path = AddrSet::default();
    let mut stack: Vec<Step> = vec![Step::Enter(root, None, None)];
    while let Some(step) = stack.pop() {
        let (addr, parent, bound) = match step {
            Step::Exit(a) => {
                on_path.remove(&a);
                continue;
            }
            Step::Enter(a, p, b) => (a, p, b),
        };
        let parent_addr = parent.map_or(UNDEF, |p| p.0);
        if on_path.contains(&addr) {
            out.ordered = false;
            out.simple = false;
            errors.push(Error::BTreeCycle {
                structure: B,
                offset: addr,
                parent: parent_addr,
            });
            continue;
        }
        if !visited.insert(addr) {
            out.ordered = false;
            out.simple = false;
            errors.push(Error::BTreeNodeReused {
                structure: B,
                offset: addr,
                parent: parent_addr,
            });
            continue;
        }
        if let Err(e) = cache.node(src, shape, addr) {
            out.simple = false;
            errors.push(e);
            continue;
        }
        let node = cache.cached(addr).expect("just decoded");
        if let Some((p, i)) = parent {
            let pn = cache.cached(p).expect("parents are decoded first");
            if node.level.wrapping_add(1) != pn.level {
                // libhdf5 goes on with the child's own level: so does the walk
                out.simple = false;
                errors.push(Error::BTreeLevel {
                    structure: B,
                    offset: addr,
                    parent: p,
                    expected: pn.level - 1,
                    found: node.level,
                });
            }
            // Entries must lie in [parent key i, tightest enclosing right key). The
            // node's own right key may reach further: it only bounds lookups that
            // the ancestors never route here (h5sink's appended trees keep the far
            // sentinel as every node's right key).
            let lo = pn.key(i);
            let (bn, bi) = bound.expect("children have a bound");
            let hi = cache.cached(bn).expect("ancestors are decoded").key(bi);
            let first = node.key(0);
            let last = node.key(node.entries.saturating_sub(1));
            let outside = |k: &[u64]| lex(k, lo) == Ordering::Less || lex(k, hi) != Ordering::Less;
            if lex(first, lo) == Ordering::Less
                || (node.entries > 0 && lex(last, hi) != Ordering::Less)
            {
                out.ordered = false;
                out.simple = false;
                // harmless when every entry outside the range lies beyond the dims
                let frontier = expect.map(|x| x.frontier);
                if frontier.is_some_and(|fr| {
                    (0..node.entries).all(|j| !outside(node.key(j)) || node.key(j)[0] >= fr)
                }) {
                    out.beyond_dims.push(addr);
                } else {
                    errors.push(Error::BTreeKeyRange {
                        structure: B,
                        offset: addr,
                        parent: p,
                        index: i,
                        first: first.to_vec(),
                        last: last.to_vec(),
                        low: lo.to_vec(),
                        high: hi.to_vec(),
                    });
                }
            }
        }
        let nd = shape.ndims;
        if node
            .scaled
            .chunks_exact(nd)
            .any(|k| k[nd - 1] != 0 || k.contains(&u64::MAX))
        {
            out.simple = false;
        }
        if expect.is_some() {
            // every key but the leaf entries' (checked with their chunks)
            let first = if node.level == 0 { node.entries } else { 0 };
            for i in first..=node.entries {
                let k = node.raw_key(i);
                if k.iter().zip(&shape.dims).any(|(o, d)| o % d != 0) {
                    errors.push(Error::BTreeKeyMisaligned {
                        structure: B,
                        offset: addr,
                        index: i,
                        key: k.to_vec(),
                    });
                }
            }
        }
        out.nodes.push(addr);
        let level = usize::from(node.level);
        if out.levels.len() <= level {
            out.levels.resize(level + 1, Vec::new());
        }
        out.levels[level].push((addr, node.left, node.right));
        for i in 0..node.entries {
            if lex(node.key(i), node.key(i + 1)) != Ordering::Less {
                out.ordered = false;
                out.simple = false;
                // key i >= key i + 1 beyond the dims: both keys exceed every target
                // inside the dims, for which the search behaves as if sorted
                if expect.is_some_and(|x| node.key(i + 1)[0] >= x.frontier) {
                    out.beyond_dims.push(addr);
                    continue;
                }
                errors.push(Error::BTreeKeyOrder {
                    structure: B,
                    offset: addr,
                    index: i,
                    left: node.key(i).to_vec(),
                    right: node.key(i + 1).to_vec(),
                });
            }
        }
        if node.level > 0 {
            on_path.insert(addr);
            stack.push(Step::Exit(addr));
            for i in (0..node.entries).rev() {
                // the tighter of this node's key i + 1 and the inherited bound
                let own = (addr, i + 1);
                let b = match bound {
                    Some((bn, bi))
                        if lex(
                            cache.cached(bn).expect("ancestors are decoded").key(bi),
                            node.key(i + 1),
                        ) == Ordering::Less =>
                    {
                        (bn, bi)
                    }
                    _ => own,
                };
                stack.push(Step::Enter(node.children[i], Some((addr, i)), Some(b)));
            }
            continue;
        }
        for i in 0..node.entries {
            let e = Entry {
                leaf: addr,
                index: i,
                size: node.sizes[i],
                mask: node.masks[i],
                addr: node.children[i],
            };
            if let Some(x) = expect {
                check_entry(src, shape, x, &e, node.raw_key(i), errors);
            }
            out.entries.push(e);
            out.raw.extend_from_slice(node.raw_key(i));
            out.scaled.extend_from_slice(node.key(i));
        }
    }
    out
}

fn check_entry(
    src: &Source<'_>,
    shape: &Shape,
    x: &Expect<'_>,
    e: &Entry,
    raw: &[u64],
    errors: &mut Vec<Error>,
) {
    let rank = shape.ndims - 1;
    let misaligned = (0..rank).any(|d| raw[d] % shape.dims[d] != 0) || raw[rank] != 0;
    if misaligned {
        errors.push(Error::ChunkMisaligned {
            structure: B,
            offset: e.leaf,
            entry: e.index,
            chunk: raw.to_vec(),
        });
    }
    if (0..rank).any(|d| x.max_dims[d] != UNLIMITED && raw[d] >= x.max_dims[d]) {
        errors.push(Error::ChunkOutsideMaxDims {
            structure: B,
            offset: e.leaf,
            entry: e.index,
            chunk: raw[..rank].to_vec(),
            max_dims: x.max_dims.to_vec(),
        });
    }
    let wrong_size = if x.filtered {
        e.size == 0
    } else {
        u64::from(e.size) != x.chunk_bytes
    };
    if wrong_size {
        errors.push(Error::ChunkSize {
            structure: B,
            offset: e.leaf,
            entry: e.index,
            size: e.size,
            expected: x.chunk_bytes,
        });
    }
    if !x.filtered && e.mask != 0 {
        errors.push(malformed(
            B,
            e.leaf,
            format!(
                "entry {}: filter mask {:#x} but the dataset has no filters",
                e.index, e.mask
            ),
        ));
    }
    let len = if x.filtered {
        u64::from(e.size)
    } else {
        x.chunk_bytes
    };
    if let Err(err) = src.check_extent(Structure::Chunk, e.addr, len) {
        errors.push(err);
    }
}

/// Follows the right-sibling pointers of every level the way libhdf5's
/// `H5B__get_info_helper` does (from the root, each level's leftmost node along
/// `right` until UNDEF, then down through the leftmost node's first child), and
/// reports pointers to nodes that cannot be read and cycles. Nodes of the tree
/// itself are reported by [`walk`]; `errors` already holds those problems.
pub(crate) fn check_sibling_chains(
    cache: &mut Cache,
    src: &Source<'_>,
    shape: &Shape,
    root: u64,
    errors: &mut Vec<Error>,
) {
    // leftmost nodes met: going down to one again is a cycle [`walk`] reports
    let mut leftmosts = AddrSet::default();
    let mut row = AddrSet::default();
    let mut leftmost = root;
    loop {
        if !leftmosts.insert(leftmost) {
            return;
        }
        row.clear();
        row.insert(leftmost);
        let Ok(node) = cache.node(src, shape, leftmost) else {
            return; // reported by walk
        };
        let (level, first_child, mut next) =
            (node.level, node.children.first().copied(), node.right);
        let mut from = leftmost;
        while next != UNDEF {
            let cause = if !row.insert(next) {
                Some(Error::BTreeCycle {
                    structure: B,
                    offset: next,
                    parent: from,
                })
            } else {
                match cache.node(src, shape, next) {
                    Ok(n) => {
                        from = next;
                        next = n.right;
                        None
                    }
                    Err(e) => Some(e),
                }
            };
            if let Some(cause) = cause {
                if errors.contains(&cause) {
                    break; // a node of the tree, already reported
                }
                errors.push(Error::SiblingChain {
                    structure: B,
                    offset: from,
                    target: next,
                    cause: Box::new(cause),
                });
                break;
            }
        }
        if level == 0 {
            return;
        }
        match first_child {
            Some(c) => leftmost = c,
            None => {
                errors.push(malformed(
                    B,
                    leftmost,
                    format!("internal node (level {level}) without entries"),
                ));
                return;
            }
        }
    }
}
