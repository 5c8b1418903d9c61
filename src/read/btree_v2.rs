//! The version-2 B-tree chunk index (layout index type 5;
//! spec-notes/chunk-index-btree-v2.md): a header ("BTHD"), internal nodes ("BTIN")
//! and leaves ("BTLF") holding records of type 10 (unfiltered chunks: address and
//! scaled offsets) or 11 (filtered: address, stored size, filter mask, scaled
//! offsets), ordered by scaled offsets.

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

/// One step of the in-order walk.
enum Step {
    /// Read the node at `addr` holding `nrec` records, at `depth`.
    Node { addr: u64, nrec: u64, depth: usize },
    /// Emit a record of the internal node at `node`.
    Record { node: u64, found: Found },
}

/// Reads the v2 B-tree whose header is at `addr` and appends every record to `out`
/// in key order (a record with an undefined address is kept: the caller drops it).
/// Records must be strictly increasing in scaled offsets (libhdf5's lookups depend
/// on it), nodes must not be reached twice, the header's record counts must match
/// the tree. Every node goes to `extents` with its full node size.
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
    let (o, l) = (u64::from(src.sizes.offsets), u64::from(src.sizes.lengths));
    let s = Structure::BTreeV2Header;
    let covered = 16 + o + 2 + l;
    budget.spend(s, addr, covered + 4)?;
    let b = checked_block(src, s, addr, b"BTHD", covered)?;
    extents.push((s, addr, covered + 4));
    let mut c = Cursor::new(&b[5..], addr, s, src.sizes);
    let kind = c.u8()?;
    let want_kind = if fmt.filtered { 11 } else { 10 };
    let bad = |r: String| malformed(s, addr, r);
    if kind != want_kind {
        return Err(bad(format!(
            "record type {kind}, expected {want_kind} for {} chunks",
            if fmt.filtered {
                "filtered"
            } else {
                "unfiltered"
            }
        )));
    }
    let node_size = u64::from(c.u32()?);
    let rrec = u64::from(c.u16()?);
    let want_rrec = (fmt.len() + 8 * rank) as u64;
    if rrec != want_rrec {
        return Err(bad(format!("record size {rrec}, expected {want_rrec}")));
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
    if root == UNDEF {
        if root_nrec != 0 || total != 0 {
            return Err(bad(format!(
                "no root node, but {root_nrec} root records and {total} in all"
            )));
        }
        return Ok(());
    }
    let start = out.len();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut stack = vec![Step::Node {
        addr: root,
        nrec: root_nrec,
        depth: usize::from(depth),
    }];
    let emit = |out: &mut Vec<Found>, node: u64, structure: Structure, f: Found| {
        if out.len() > start {
            let prev = &out[out.len() - 1].scaled;
            if prev.as_slice() >= f.scaled.as_slice() {
                return Err(malformed(
                    structure,
                    node,
                    format!(
                        "record {:?} does not follow record {prev:?} in key order",
                        f.scaled
                    ),
                ));
            }
        }
        out.push(f);
        Ok(())
    };
    while let Some(step) = stack.pop() {
        let (at, nrec, depth) = match step {
            Step::Record { node, found } => {
                emit(out, node, Structure::BTreeV2Internal, found)?;
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
            let e = fmt.decode(&mut c, chunk_bytes)?;
            let mut scaled = Vec::with_capacity(rank);
            for _ in 0..rank {
                scaled.push(c.u64()?);
            }
            records.push(Found {
                scaled,
                addr: e.addr,
                size: e.size,
                mask: e.mask,
            });
        }
        if depth == 0 {
            for f in records {
                emit(out, at, s, f)?;
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
                    found: records[i - 1].clone(),
                });
            }
        }
    }
    let found = (out.len() - start) as u64;
    if found != total {
        return Err(Error::Malformed {
            structure: Structure::BTreeV2Header,
            offset: addr,
            reason: format!("{total} records in the header, {found} in the tree"),
        });
    }
    Ok(())
}
