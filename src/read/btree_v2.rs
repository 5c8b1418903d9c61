//! Version-2 B-trees (spec III.A.2): a header ("BTHD"), internal nodes ("BTIN") and
//! leaves ("BTLF"). One traversal serves every record type the reader meets:
//! chunk records of type 10 (unfiltered chunks: address and scaled offsets) and 11
//! (filtered: address, stored size, filter mask, scaled offsets) of the v2 B-tree
//! chunk index (spec-notes/chunk-index-btree-v2.md); the name and creation-order
//! indexes of dense links (types 5, 6) and attributes (types 8, 9); and the
//! fractal heap's huge-object index (types 1, 3) (spec-notes/dense-storage.md).

use std::collections::HashSet;

use super::bytes::{Cursor, Source};
use super::chunks_v4::{checked_block, Budget, EntryFormat, Found};
use super::error::{malformed, Error, Result, Structure};
use crate::encode::UNDEF;

/// Signature, version, type and checksum: the bytes of every node besides its
/// records and child pointers.
const PREFIX: u64 = 10;

/// `H5VM_limit_enc_size`: bytes needed to store numbers up to `n`.
fn enc_size(n: u64) -> u64 {
    u64::from(63 - n.max(1).leading_zeros()) / 8 + 1
}

/// Per-depth node capacities, as libhdf5 derives them from the node and record
/// sizes (`H5B2__hdr_init`).
struct Levels {
    /// Records per node at each depth (0: leaves).
    max_nrec: Vec<u64>,
    /// Bytes of a child's record count (all depths).
    nrec_size: u64,
    /// Bytes of a child's total record count, per depth of the child (0 for leaves).
    total_size: Vec<u64>,
}

impl Levels {
    fn new(node_size: u64, rrec: u64, depth: u16, o: u64) -> Option<Levels> {
        let leaf = node_size.checked_sub(PREFIX)? / rrec;
        if leaf == 0 {
            return None;
        }
        let nrec_size = enc_size(leaf);
        let mut max_nrec = vec![leaf];
        let mut cum = vec![leaf];
        let mut total_size = vec![0];
        for u in 1..=usize::from(depth) {
            let ptr = o + nrec_size + if u > 1 { total_size[u - 1] } else { 0 };
            let max = node_size.checked_sub(PREFIX + ptr)? / (rrec + ptr);
            if max == 0 {
                return None;
            }
            let c = (max + 1).saturating_mul(cum[u - 1]).saturating_add(max);
            max_nrec.push(max);
            cum.push(c);
            total_size.push(enc_size(c));
        }
        Some(Levels {
            max_nrec,
            nrec_size,
            total_size,
        })
    }

    /// Bytes of one child pointer in a node at `depth` ≥ 1.
    fn ptr_size(&self, depth: usize, o: u64) -> u64 {
        o + self.nrec_size
            + if depth > 1 {
                self.total_size[depth - 1]
            } else {
                0
            }
    }
}

/// What a tree holds: the record type its header must carry, the size and decoding
/// of one record, and the order records must come in.
pub(crate) trait Records {
    /// A decoded record.
    type Rec: Clone;
    /// The record type the header and every node must carry.
    fn kind(&self) -> u8;
    /// What the records are, for errors ("filtered chunks", "link names").
    fn what(&self) -> &'static str;
    /// Bytes of one record.
    fn size(&self) -> u64;
    /// Decodes one record.
    fn decode(&self, c: &mut Cursor<'_>) -> Result<Self::Rec>;
    /// Whether `next` may follow `prev` in the in-order walk.
    fn ordered(&self, prev: &Self::Rec, next: &Self::Rec) -> bool;
    /// The record's key, for errors.
    fn key(&self, r: &Self::Rec) -> String;
}

/// One step of the in-order walk.
enum Step<R> {
    /// Read the node at `addr` holding `nrec` records, at `depth`.
    Node { addr: u64, nrec: u64, depth: usize },
    /// Emit a record of the internal node at `node`.
    Record { node: u64, rec: R },
}

/// Reads the v2 B-tree whose header is at `addr` and returns its records in key
/// order. The header's record type and size must be those of `recs`, records must
/// follow each other as [`Records::ordered`] says (libhdf5's lookups depend on it),
/// nodes must not be reached twice, record counts must fit each node and the
/// header's total must match the tree. Every node goes to `extents` with its full
/// node size, and is charged to `budget`.
pub(crate) fn walk<R: Records>(
    src: &Source<'_>,
    addr: u64,
    recs: &R,
    extents: &mut Vec<(Structure, u64, u64)>,
    budget: &mut Budget,
) -> Result<Vec<R::Rec>> {
    let (o, l) = (u64::from(src.sizes.offsets), u64::from(src.sizes.lengths));
    let s = Structure::BTreeV2Header;
    let covered = 16 + o + 2 + l;
    budget.spend(s, addr, covered + 4)?;
    let b = checked_block(src, s, addr, b"BTHD", covered)?;
    extents.push((s, addr, covered + 4));
    let mut c = Cursor::new(&b[5..], addr, s, src.sizes);
    let kind = c.u8()?;
    let bad = |r: String| malformed(s, addr, r);
    if kind != recs.kind() {
        return Err(bad(format!(
            "record type {kind}, expected {} for {}",
            recs.kind(),
            recs.what()
        )));
    }
    let node_size = u64::from(c.u32()?);
    let rrec = u64::from(c.u16()?);
    if rrec != recs.size() {
        return Err(bad(format!("record size {rrec}, expected {}", recs.size())));
    }
    let depth = c.u16()?;
    let _split = c.u8()?;
    let _merge = c.u8()?;
    let root = c.addr()?;
    let root_nrec = u64::from(c.u16()?);
    let total = c.length()?;
    let levels = Levels::new(node_size, rrec, depth, o).ok_or_else(|| {
        bad(format!(
            "node size {node_size} holds no {rrec}-byte records at depth {depth}"
        ))
    })?;
    let mut out: Vec<R::Rec> = Vec::new();
    if root == UNDEF {
        if root_nrec != 0 || total != 0 {
            return Err(bad(format!(
                "no root node, but {root_nrec} root records and {total} in all"
            )));
        }
        return Ok(out);
    }
    let mut seen: HashSet<u64> = HashSet::new();
    let mut stack = vec![Step::Node {
        addr: root,
        nrec: root_nrec,
        depth: usize::from(depth),
    }];
    let emit = |out: &mut Vec<R::Rec>, node: u64, structure: Structure, r: R::Rec| {
        if let Some(prev) = out.last() {
            if !recs.ordered(prev, &r) {
                return Err(malformed(
                    structure,
                    node,
                    format!(
                        "record {} does not follow record {} in key order",
                        recs.key(&r),
                        recs.key(prev)
                    ),
                ));
            }
        }
        out.push(r);
        Ok(())
    };
    while let Some(step) = stack.pop() {
        let (at, nrec, depth) = match step {
            Step::Record { node, rec } => {
                emit(&mut out, node, Structure::BTreeV2Internal, rec)?;
                continue;
            }
            Step::Node { addr, nrec, depth } => (addr, nrec, depth),
        };
        let (s, sig) = if depth == 0 {
            (Structure::BTreeV2Leaf, b"BTLF")
        } else {
            (Structure::BTreeV2Internal, b"BTIN")
        };
        if !seen.insert(at) {
            return Err(malformed(s, at, "node reached twice"));
        }
        if nrec > levels.max_nrec[depth] {
            return Err(malformed(
                s,
                at,
                format!(
                    "{nrec} records, more than the {} a node at depth {depth} holds",
                    levels.max_nrec[depth]
                ),
            ));
        }
        let ptr = if depth > 0 {
            levels.ptr_size(depth, o)
        } else {
            0
        };
        let covered = 6 + nrec * rrec + if depth > 0 { (nrec + 1) * ptr } else { 0 };
        src.check_extent(s, at, node_size)?;
        budget.spend(s, at, node_size)?;
        let b = checked_block(src, s, at, sig, covered)?;
        extents.push((s, at, node_size));
        if b[5] != kind {
            return Err(malformed(
                s,
                at,
                format!("record type {}, the header says {kind}", b[5]),
            ));
        }
        let mut c = Cursor::new(&b[6..], at, s, src.sizes);
        let mut records = Vec::with_capacity(nrec as usize);
        for _ in 0..nrec {
            records.push(recs.decode(&mut c)?);
        }
        if depth == 0 {
            for r in records {
                emit(&mut out, at, s, r)?;
            }
            continue;
        }
        let mut children = Vec::with_capacity(nrec as usize + 1);
        for _ in 0..=nrec {
            let child = c.addr()?;
            let n = c.uint(levels.nrec_size as u8)?;
            if depth > 1 {
                c.uint(levels.total_size[depth - 1] as u8)?;
            }
            children.push((child, n));
        }
        // in-order: child 0, record 0, child 1, ..., child n (pushed in reverse)
        for i in (0..=nrec as usize).rev() {
            let (child, n) = children[i];
            stack.push(Step::Node {
                addr: child,
                nrec: n,
                depth: depth - 1,
            });
            if i > 0 {
                stack.push(Step::Record {
                    node: at,
                    rec: records[i - 1].clone(),
                });
            }
        }
    }
    let found = out.len() as u64;
    if found != total {
        return Err(Error::Malformed {
            structure: Structure::BTreeV2Header,
            offset: addr,
            reason: format!("{total} records in the header, {found} in the tree"),
        });
    }
    Ok(out)
}

/// Chunk records (types 10 and 11) of a dataset of `rank` dims.
struct ChunkRecords<'f> {
    fmt: &'f EntryFormat,
    chunk_bytes: u64,
    rank: usize,
}

impl Records for ChunkRecords<'_> {
    type Rec = Found;

    fn kind(&self) -> u8 {
        if self.fmt.filtered {
            11
        } else {
            10
        }
    }

    fn what(&self) -> &'static str {
        if self.fmt.filtered {
            "filtered chunks"
        } else {
            "unfiltered chunks"
        }
    }

    fn size(&self) -> u64 {
        (self.fmt.len() + 8 * self.rank) as u64
    }

    fn decode(&self, c: &mut Cursor<'_>) -> Result<Found> {
        let e = self.fmt.decode(c, self.chunk_bytes)?;
        let mut scaled = Vec::with_capacity(self.rank);
        for _ in 0..self.rank {
            scaled.push(c.u64()?);
        }
        Ok(Found {
            scaled,
            addr: e.addr,
            size: e.size,
            mask: e.mask,
        })
    }

    /// Strictly increasing scaled offsets.
    fn ordered(&self, prev: &Found, next: &Found) -> bool {
        prev.scaled < next.scaled
    }

    fn key(&self, r: &Found) -> String {
        format!("{:?}", r.scaled)
    }
}

/// Reads the v2 B-tree chunk index whose header is at `addr` and appends every
/// record to `out` in key order (a record with an undefined address is kept: the
/// caller drops it). Records must be strictly increasing in scaled offsets.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read(
    src: &Source<'_>,
    addr: u64,
    fmt: &EntryFormat,
    chunk_bytes: u64,
    rank: usize,
    out: &mut Vec<Found>,
    extents: &mut Vec<(Structure, u64, u64)>,
    budget: &mut Budget,
) -> Result<()> {
    let recs = ChunkRecords {
        fmt,
        chunk_bytes,
        rank,
    };
    out.extend(walk(src, addr, &recs, extents, budget)?);
    Ok(())
}
