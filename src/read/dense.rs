//! Dense link and attribute storage (spec-notes/dense-storage.md): when a group has
//! more links, or an object more attributes, than its header keeps compactly, libhdf5
//! stores the link or attribute messages as objects of a fractal heap and indexes
//! them by a v2 B-tree of name hashes (record type 5 for links, 8 for attributes),
//! plus one by creation order (types 6 and 9) when creation order is indexed. The
//! link info message (0x02) or attribute info message (0x15) holds the addresses.

use std::collections::HashMap;

use super::btree_v2::{self, Records};
use super::bytes::{Cursor, Source};
use super::chunks_v4::Budget;
use super::error::{malformed, unsupported, Error, Result, Structure};
use super::fractal_heap::{FractalHeap, Object};
use super::heap::Heaps;
use super::message::{Attribute, Link};
use crate::encode::hashlittle;

/// What an object stores densely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenseKind {
    /// A group's links (link info message).
    Links,
    /// An object's attributes (attribute info message).
    Attributes,
}

/// Dense storage of one object's links or attributes: where its fractal heap and
/// indexes are.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DenseStorage {
    /// The object header holding the link info or attribute info message.
    pub object: u64,
    /// Links or attributes.
    pub kind: DenseKind,
    /// The fractal heap header ("FRHP") holding the messages.
    pub heap: u64,
    /// The v2 B-tree indexing them by name hash.
    pub name_index: u64,
    /// The v2 B-tree indexing them by creation order, when order is indexed.
    pub order_index: Option<u64>,
    /// The heap's free-space manager header ("FSHD"), once the heap was read.
    pub free_space: Option<u64>,
}

/// One record of a name or creation-order index.
#[derive(Clone)]
struct Rec {
    /// The heap ID of the message.
    id: Vec<u8>,
    /// lookup3 hash of the name (name indexes).
    hash: u32,
    /// Creation order (order indexes, and attribute name records).
    corder: u64,
    /// The attribute message's header-message flags (attribute records).
    flags: u8,
    /// The node holding the record, and its structure.
    node: u64,
    structure: Structure,
}

/// The records of index type 5 (link names), 6 (link creation order), 8 (attribute
/// names) or 9 (attribute creation order), for heap IDs of `id_len` bytes.
struct IndexRecords {
    kind: u8,
    id_len: usize,
}

impl Records for IndexRecords {
    type Rec = Rec;

    fn kind(&self) -> u8 {
        self.kind
    }

    fn what(&self) -> &'static str {
        match self.kind {
            5 => "a link name index",
            6 => "a link creation-order index",
            8 => "an attribute name index",
            _ => "an attribute creation-order index",
        }
    }

    fn size(&self) -> u64 {
        self.id_len as u64
            + match self.kind {
                5 => 4,
                6 => 8,
                8 => 9,
                _ => 5,
            }
    }

    fn decode(&self, c: &mut Cursor<'_>) -> Result<Rec> {
        let mut r = Rec {
            id: Vec::new(),
            hash: 0,
            corder: 0,
            flags: 0,
            node: c.base(),
            structure: c.structure(),
        };
        match self.kind {
            5 => {
                r.hash = c.u32()?;
                r.id = c.bytes(self.id_len)?.to_vec();
            }
            6 => {
                r.corder = c.u64()?;
                r.id = c.bytes(self.id_len)?.to_vec();
            }
            k => {
                r.id = c.bytes(self.id_len)?.to_vec();
                r.flags = c.u8()?;
                r.corder = u64::from(c.u32()?);
                if k == 8 {
                    r.hash = c.u32()?;
                }
            }
        }
        Ok(r)
    }

    /// Name indexes: by hash (records of equal hashes by name, which needs the heap:
    /// checked by the caller); order indexes: strictly by creation order.
    fn ordered(&self, prev: &Rec, next: &Rec) -> bool {
        match self.kind {
            5 | 8 => prev.hash <= next.hash,
            _ => prev.corder < next.corder,
        }
    }

    fn key(&self, r: &Rec) -> String {
        match self.kind {
            5 | 8 => format!("hash {:#010x}", r.hash),
            _ => format!("creation order {}", r.corder),
        }
    }
}

/// A message read from the heap: the record naming it, its bytes and their offset.
struct Stored<'a> {
    rec: Rec,
    obj: Object<'a>,
}

impl Stored<'_> {
    /// File offset for errors and for the decoded message (the index node for a
    /// tiny object, which lives in its heap ID).
    fn offset(&self) -> u64 {
        self.obj.addr.unwrap_or(self.rec.node)
    }
}

/// Reads the heap and the name index of `d`: every message the index names, in
/// index order, after checking that the index and the heap count the same objects.
fn read_messages<'a>(
    src: &Source<'a>,
    d: &mut DenseStorage,
    name_kind: u8,
    extents: &mut Vec<(Structure, u64, u64)>,
) -> Result<(Vec<Stored<'a>>, usize)> {
    let heap = FractalHeap::open(src, d.heap, extents)?;
    d.free_space = (heap.free_space != crate::encode::UNDEF).then_some(heap.free_space);
    let mut budget = Budget::named(src.eof(), "name index");
    let recs = IndexRecords {
        kind: name_kind,
        id_len: heap.id_len,
    };
    let names = btree_v2::walk(src, d.name_index, &recs, extents, &mut budget)?;
    if names.len() as u64 != heap.objects {
        return Err(malformed(
            Structure::BTreeV2Header,
            d.name_index,
            format!(
                "{} records in the name index, {} objects in the fractal heap at {:#x}",
                names.len(),
                heap.objects,
                d.heap
            ),
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for rec in names {
        let obj = heap
            .object(&rec.id)
            .map_err(|r| malformed(rec.structure, rec.node, r))?;
        out.push(Stored { rec, obj });
    }
    Ok((out, heap.id_len))
}

/// Checks a name against its record's hash and against the previous record
/// (records of equal hashes in increasing name order); `Ok(false)` for a name
/// equal to the previous one (a duplicate, reported by the caller).
fn check_name(s: &Stored<'_>, name: &str, prev: Option<(&Rec, &str)>, what: &str) -> Result<bool> {
    let hash = hashlittle(name.as_bytes(), 0);
    if hash != s.rec.hash {
        return Err(malformed(
            s.rec.structure,
            s.rec.node,
            format!(
                "{what} {name:?}: its name hashes to {hash:#010x}, the index record says {:#010x}",
                s.rec.hash
            ),
        ));
    }
    if let Some((p, pname)) = prev {
        if p.hash == s.rec.hash {
            if pname == name {
                return Ok(false);
            }
            if pname.as_bytes() > name.as_bytes() {
                return Err(malformed(
                    s.rec.structure,
                    s.rec.node,
                    format!(
                        "{what} {name:?} follows {pname:?} of the same hash: not in name order"
                    ),
                ));
            }
        }
    }
    Ok(true)
}

/// The order in which to list `n` messages: creation order when `d` has an order
/// index (whose records must name exactly the messages of the name index, each
/// once), else `None`.
fn creation_order(
    src: &Source<'_>,
    d: &DenseStorage,
    order_kind: u8,
    id_len: usize,
    ids: &[&[u8]],
    extents: &mut Vec<(Structure, u64, u64)>,
) -> Result<Option<Vec<usize>>> {
    let Some(at) = d.order_index else {
        return Ok(None);
    };
    let mut budget = Budget::named(src.eof(), "creation-order index");
    let recs = IndexRecords {
        kind: order_kind,
        id_len,
    };
    let order = btree_v2::walk(src, at, &recs, extents, &mut budget)?;
    if order.len() != ids.len() {
        return Err(malformed(
            Structure::BTreeV2Header,
            at,
            format!(
                "{} records in the creation-order index, {} in the name index",
                order.len(),
                ids.len()
            ),
        ));
    }
    let mut by_id: HashMap<&[u8], usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut out = Vec::with_capacity(order.len());
    for r in &order {
        let i = by_id.remove(r.id.as_slice()).ok_or_else(|| {
            malformed(
                r.structure,
                r.node,
                format!(
                    "creation order {}: a heap ID the name index does not list (or lists once)",
                    r.corder
                ),
            )
        })?;
        out.push(i);
    }
    Ok(Some(out))
}

/// Puts `items` in creation order (`order`) or, without an order index, in name
/// order.
fn arrange<T>(items: Vec<T>, order: Option<Vec<usize>>, name: impl Fn(&T) -> &str) -> Vec<T> {
    match order {
        Some(order) => {
            let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
            order.into_iter().filter_map(|i| slots[i].take()).collect()
        }
        None => {
            let mut items = items;
            items.sort_by(|a, b| name(a).as_bytes().cmp(name(b).as_bytes()));
            items
        }
    }
}

/// The links of a group with dense link storage `d`: in creation order when it is
/// indexed, else in name order. Each link message is decoded like one in a header.
pub(crate) fn read_links(
    src: &Source<'_>,
    d: &mut DenseStorage,
    extents: &mut Vec<(Structure, u64, u64)>,
) -> Result<Vec<Link>> {
    let (stored, id_len) = read_messages(src, d, 5, extents)?;
    let mut links: Vec<Link> = Vec::with_capacity(stored.len());
    for (i, s) in stored.iter().enumerate() {
        let mut c = Cursor::new(&s.obj.bytes, s.offset(), Structure::Link, src.sizes);
        let l = Link::decode(&mut c)?;
        let prev = i
            .checked_sub(1)
            .map(|j| (&stored[j].rec, links[j].name.as_str()));
        if !check_name(s, &l.name, prev, "link")? {
            return Err(Error::DuplicateLink {
                structure: Structure::Group,
                offset: d.object,
                name: l.name,
            });
        }
        links.push(l);
    }
    let ids: Vec<&[u8]> = stored.iter().map(|s| s.rec.id.as_slice()).collect();
    let order = creation_order(src, d, 6, id_len, &ids, extents)?;
    Ok(arrange(links, order, |l| &l.name))
}

/// The attributes of an object with dense attribute storage `d`: in creation order
/// when it is indexed, else in name order. Variable-length values are read from
/// the global heap through `heaps`.
pub(crate) fn read_attributes(
    src: &Source<'_>,
    heaps: &mut Heaps,
    d: &mut DenseStorage,
    extents: &mut Vec<(Structure, u64, u64)>,
) -> Result<Vec<Attribute>> {
    let (stored, id_len) = read_messages(src, d, 8, extents)?;
    let mut attrs: Vec<Attribute> = Vec::with_capacity(stored.len());
    for (i, s) in stored.iter().enumerate() {
        if s.rec.flags & 0x02 != 0 {
            return Err(unsupported(
                s.rec.structure,
                s.rec.node,
                "shared attribute messages in dense attribute storage",
            ));
        }
        let a = super::read_attribute(src, heaps, &s.obj.bytes, s.offset())?;
        let prev = i
            .checked_sub(1)
            .map(|j| (&stored[j].rec, attrs[j].name.as_str()));
        if !check_name(s, &a.name, prev, "attribute")? {
            return Err(Error::DuplicateAttribute {
                structure: Structure::ObjectHeader,
                offset: d.object,
                name: a.name,
            });
        }
        attrs.push(a);
    }
    let ids: Vec<&[u8]> = stored.iter().map(|s| s.rec.id.as_slice()).collect();
    let order = creation_order(src, d, 9, id_len, &ids, extents)?;
    Ok(arrange(attrs, order, |a| &a.name))
}
