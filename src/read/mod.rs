//! A bounds-checked reader of the files h5sink writes: the writer's own verifier,
//! and the base of `h5sink check` and reopen-for-append.
//!
//! It reads superblock v0–v3, version-1 and version-2 object headers (with
//! continuation chunks), new-style groups (links in the header, or in dense storage:
//! a fractal heap indexed by v2 B-trees of name hashes and creation order), old-style
//! groups (symbol tables, as libhdf5 writes them by default), attributes (in the
//! header or in dense storage; variable-length strings through the global heap), and datasets with compact, contiguous or chunked storage (layout
//! v3 with the v1 B-tree chunk index; layout v4 and v5 with the single-chunk,
//! implicit, fixed array, extensible array and v2 B-tree indexes that libhdf5 writes
//! for `libver` 1.10 and later; the filters h5sink writes) — every structure h5sink
//! writes, and the same structures when libhdf5 writes them. It works on the whole
//! file as one `&[u8]`.
//!
//! # Use
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let storage = h5sink::MemStorage::new();
//! # let w = h5sink::File::options().create_in(storage.clone())?;
//! # w.dataset::<u16>("/d").shape([2, 3]).create_with_data(&[1, 2, 3, 4, 5, 6])?;
//! # w.finish()?;
//! # let bytes = storage.bytes();
//! use h5sink::read;
//! let file = read::File::parse(&bytes)?; // superblock + every object header
//! let d = file.dataset("/d")?;
//! assert_eq!(d.dims(), &[2, 3]);
//! let data = file.dataset_bytes("/d")?; // row-major raw bytes, fill where unwritten
//! assert_eq!(data.len(), 12);
//! assert!(file.check().is_ok()); // chunk indexes, extents, overlaps
//! assert!(read::verify(&bytes).is_ok()); // everything, reporting every problem
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//! Any input, however corrupt, gives an [`Error`] or a [`Report`], never a panic or
//! an endless loop. Every structure is read only below the stored end-of-file address
//! (libhdf5's rule), allocations are bounded by the input length (dataset data by an
//! explicit limit), and each object header and B-tree node is visited at most once,
//! so hard-link cycles and B-tree cycles terminate.
//!
//! # Semantics and strictness
//! - Reading follows libhdf5 (checked against h5dump 1.10.8 on hand-made trees):
//!   chunks are found with `H5B_find`'s binary search, `H5D__btree_cmp3` (including
//!   its rank-1 special case) and `H5D__btree_found`; a chunk the lookup misses reads
//!   as fill even when the index lists it; a node's own level decides whether it is a
//!   leaf. Where libhdf5 would recurse forever (a B-tree cycle; h5dump segfaults),
//!   reading fails.
//! - [`File::parse`] fails where libhdf5 fails to open or read (signatures,
//!   versions, checksums, extents past the end of file) and is stricter where a
//!   writer bug would otherwise go unnoticed (messages that contradict each other,
//!   duplicate names). [`File::check`] and [`verify`] add everything libhdf5 only
//!   notices later or never (see [`File::check`]), and separate problems from
//!   harmless [`Note`]s such as chunks missing inside the dims.

mod btree;
mod btree_v2;
mod bytes;
mod check;
mod chunks_v4;
mod data;
mod dense;
mod error;
mod extensible_array;
mod fixed_array;
mod fractal_heap;
mod header;
mod heap;
mod layout_v4;
mod message;
mod stab;
mod superblock;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_v4;

use std::collections::{HashMap, HashSet, VecDeque};

pub use check::{verify, Note, Problem, Report};
pub use data::ChunkEntry;
pub use dense::{DenseKind, DenseStorage};
pub use error::{Error, Result, Structure};
pub use layout_v4::ChunkIndex;
pub use message::{Attribute, Dataspace, Datatype, Layout, Link, LinkTarget, SpaceKind};
pub use superblock::Superblock;

use crate::format::filter_pipeline::FilterDesc;
use bytes::{Cursor, Source};
use error::malformed;
use header::Msg;
use heap::Heaps;

/// A parsed file: the superblock and every object reachable from the root group.
///
/// It borrows the file's bytes; reading data ([`File::dataset_bytes`]) and checking
/// ([`File::check`]) read from them again.
pub struct File<'a> {
    src: Source<'a>,
    file_len: u64,
    superblock: Superblock,
    /// Root first, then breadth-first in link order.
    objects: Vec<Object>,
    by_addr: HashMap<u64, usize>,
    /// Header chunks and heap collections: (structure, address, length).
    extents: Vec<(Structure, u64, u64)>,
    /// Dense link and attribute storage of the objects, in [`File::objects`] order.
    dense: Vec<DenseStorage>,
}

/// A group or a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Object {
    /// A group.
    Group(Group),
    /// A dataset.
    Dataset(Dataset),
}

impl Object {
    /// The first path the object was reached by (breadth first from the root).
    pub fn path(&self) -> &str {
        match self {
            Object::Group(g) => &g.path,
            Object::Dataset(d) => &d.path,
        }
    }

    /// The address of the object's header.
    pub fn addr(&self) -> u64 {
        match self {
            Object::Group(g) => g.addr,
            Object::Dataset(d) => d.addr,
        }
    }

    /// The object's attributes, in header order.
    pub fn attrs(&self) -> &[Attribute] {
        match self {
            Object::Group(g) => &g.attrs,
            Object::Dataset(d) => &d.attrs,
        }
    }

    /// The attribute named `name`.
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attrs().iter().find(|a| a.name == name)
    }

    /// The group, if it is one.
    pub fn as_group(&self) -> Option<&Group> {
        match self {
            Object::Group(g) => Some(g),
            Object::Dataset(_) => None,
        }
    }

    /// The dataset, if it is one.
    pub fn as_dataset(&self) -> Option<&Dataset> {
        match self {
            Object::Dataset(d) => Some(d),
            Object::Group(_) => None,
        }
    }
}

/// A group: its links and attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Group {
    /// First path reached by.
    pub path: String,
    /// Object header address.
    pub addr: u64,
    /// Links in header order.
    pub links: Vec<Link>,
    /// Attributes in header order.
    pub attrs: Vec<Attribute>,
}

impl Group {
    /// The link named `name`.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }
}

/// A dataset: shape, type, storage, fill value and attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dataset {
    /// First path reached by.
    pub path: String,
    /// Object header address.
    pub addr: u64,
    /// Shape (current and maximum dims).
    pub space: Dataspace,
    /// Element type.
    pub datatype: Datatype,
    /// Storage layout.
    pub layout: Layout,
    /// The defined fill value (one element), `None` for the default (zeros).
    pub fill: Option<Vec<u8>>,
    /// The filter pipeline, in write order (empty: unfiltered).
    pub filters: Vec<FilterDesc>,
    /// Attributes in header order.
    pub attrs: Vec<Attribute>,
}

impl Dataset {
    /// Current dims (empty for scalar and null dataspaces).
    pub fn dims(&self) -> &[u64] {
        &self.space.dims
    }

    /// Maximum dims ([`crate::UNLIMITED`] for unbounded ones).
    pub fn max_dims(&self) -> &[u64] {
        &self.space.max_dims
    }

    /// Number of elements.
    pub fn num_elements(&self) -> u64 {
        self.space.num_elements()
    }

    /// Size of one element in bytes.
    pub fn element_size(&self) -> u64 {
        u64::from(self.datatype.size())
    }

    /// Chunk dims in elements, for chunked datasets.
    pub fn chunk_dims(&self) -> Option<Vec<u64>> {
        match &self.layout {
            Layout::Chunked { chunk, .. } => Some(chunk.iter().map(|&c| u64::from(c)).collect()),
            _ => None,
        }
    }

    /// The fill value's bytes for one element (zeros unless one is defined).
    pub fn fill_bytes(&self) -> Vec<u8> {
        match &self.fill {
            Some(f) => f.clone(),
            None => vec![0; self.datatype.size() as usize],
        }
    }
}

/// Splits a path into link names ("/a//b/" → ["a", "b"]).
fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The default limit of [`File::dataset_bytes`]: 64 times the input length, and at
/// least 256 MiB.
pub fn default_limit(file_len: u64) -> u64 {
    file_len.saturating_mul(64).max(256 << 20)
}

impl<'a> File<'a> {
    /// Parses the file in `bytes` (the whole file): validates the superblock, then
    /// reads every object header reachable from the root group, with all their
    /// messages and attributes. Fails with the first problem found; [`verify`] lists
    /// them all. Chunk indexes are read by [`File::dataset_bytes`],
    /// [`File::chunk_index`] and [`File::check`].
    pub fn parse(bytes: &'a [u8]) -> Result<File<'a>> {
        let (file, problems) = load(bytes);
        if let Some(p) = problems.into_iter().next() {
            return Err(p.error);
        }
        Ok(file.expect("a file without problems has a root"))
    }

    /// The superblock.
    pub fn superblock(&self) -> &Superblock {
        &self.superblock
    }

    /// The stored end-of-file address.
    pub fn eof(&self) -> u64 {
        self.src.eof()
    }

    /// Length of the input (at least [`File::eof`]).
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The root group.
    pub fn root(&self) -> &Group {
        self.objects[0].as_group().expect("the root is a group")
    }

    /// Every object, the root first, then breadth first in link order; each object
    /// once, however many links lead to it.
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// The dense link and attribute storage of every object that has it (fractal
    /// heap and indexes), in [`File::objects`] order.
    pub fn dense_storage(&self) -> &[DenseStorage] {
        &self.dense
    }

    /// Every dataset, in [`File::objects`] order.
    pub fn datasets(&self) -> impl Iterator<Item = &Dataset> {
        self.objects.iter().filter_map(Object::as_dataset)
    }

    /// The object whose header is at `addr`.
    pub fn object_at(&self, addr: u64) -> Option<&Object> {
        self.by_addr.get(&addr).map(|&i| &self.objects[i])
    }

    /// The object a hard link points at (`None` for other links).
    pub fn target(&self, link: &Link) -> Option<&Object> {
        match link.target {
            LinkTarget::Hard { addr } => self.object_at(addr),
            _ => None,
        }
    }

    /// The object at an absolute path (hard links only; "/" is the root).
    pub fn get(&self, path: &str) -> Result<&Object> {
        let mut cur = &self.objects[0];
        for name in components(path) {
            let not_found = || Error::NotFound {
                structure: Structure::Group,
                offset: cur.addr(),
                path: path.to_string(),
            };
            let g = cur.as_group().ok_or_else(not_found)?;
            let link = g.link(name).ok_or_else(not_found)?;
            cur = self.target(link).ok_or_else(not_found)?;
        }
        Ok(cur)
    }

    /// The group at an absolute path.
    pub fn group(&self, path: &str) -> Result<&Group> {
        let o = self.get(path)?;
        o.as_group().ok_or_else(|| Error::WrongKind {
            structure: Structure::Dataset,
            offset: o.addr(),
            path: path.to_string(),
            expected: "group",
        })
    }

    /// The dataset at an absolute path.
    pub fn dataset(&self, path: &str) -> Result<&Dataset> {
        let o = self.get(path)?;
        o.as_dataset().ok_or_else(|| Error::WrongKind {
            structure: Structure::Group,
            offset: o.addr(),
            path: path.to_string(),
            expected: "dataset",
        })
    }

    /// The full raw data of the dataset at `path`, row-major, elements as stored;
    /// unwritten parts read as the fill value. At most [`default_limit`] bytes.
    pub fn dataset_bytes(&self, path: &str) -> Result<Vec<u8>> {
        self.read(self.dataset(path)?, default_limit(self.file_len))
    }

    /// [`File::dataset_bytes`] with an explicit limit on the size of the result.
    pub fn dataset_bytes_limited(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        self.read(self.dataset(path)?, limit)
    }

    /// The chunk index entries of the dataset at `path`, in key order (empty when it
    /// has no chunk yet).
    pub fn chunks(&self, path: &str) -> Result<Vec<ChunkEntry>> {
        self.chunk_index(self.dataset(path)?)
    }
}

/// Parses as much of the file as possible: the file (if its superblock and root group
/// are readable) and every problem met, in breadth-first order.
pub(crate) fn load(bytes: &[u8]) -> (Option<File<'_>>, Vec<Problem>) {
    let mut problems = Vec::new();
    let sb = match Superblock::parse(bytes) {
        Ok(sb) => sb,
        Err(error) => {
            problems.push(Problem {
                path: String::new(),
                error,
            });
            return (None, problems);
        }
    };
    let src = Source {
        data: &bytes[..sb.eof as usize],
        sizes: sb.sizes,
    };
    let mut file = File {
        src,
        file_len: bytes.len() as u64,
        superblock: sb,
        objects: Vec::new(),
        by_addr: HashMap::new(),
        extents: vec![(Structure::Superblock, 0, sb.len)],
        dense: Vec::new(),
    };
    let mut heaps = Heaps::default();
    // every address ever queued: each object header is parsed once
    let mut seen: HashSet<u64> = HashSet::new();
    let mut queue: VecDeque<(u64, String)> = VecDeque::new();
    queue.push_back((sb.root, "/".to_string()));
    seen.insert(sb.root);
    while let Some((addr, path)) = queue.pop_front() {
        let mut errors = Vec::new();
        match parse_object(
            &src,
            &mut heaps,
            addr,
            &path,
            &mut errors,
            &mut file.extents,
            &mut file.dense,
        ) {
            Ok(obj) => {
                if file.objects.is_empty() && !matches!(obj, Object::Group(_)) {
                    problems.push(Problem {
                        path: path.clone(),
                        error: Error::WrongKind {
                            structure: Structure::Dataset,
                            offset: addr,
                            path,
                            expected: "group (the root)",
                        },
                    });
                    return (None, problems);
                }
                if let Object::Group(g) = &obj {
                    for l in &g.links {
                        if let LinkTarget::Hard { addr: child } = l.target {
                            if seen.insert(child) {
                                queue.push_back((child, join(&path, &l.name)));
                            }
                        }
                    }
                }
                file.by_addr.insert(addr, file.objects.len());
                file.objects.push(obj);
            }
            Err(e) => {
                errors.insert(0, e);
            }
        }
        problems.extend(errors.into_iter().map(|error| Problem {
            path: path.clone(),
            error,
        }));
        if file.objects.is_empty() {
            return (None, problems);
        }
    }
    file.extents.extend(
        heaps
            .extents()
            .map(|(a, len)| (Structure::GlobalHeap, a, len)),
    );
    (Some(file), problems)
}

/// Parses one object header into a group or dataset, with its dense links and
/// attributes (their storage goes to `dense`). Problems that leave the object usable
/// (a bad attribute or link, duplicate names, unreadable dense attributes) go to
/// `errors`; the others fail.
fn parse_object<'a>(
    src: &Source<'a>,
    heaps: &mut Heaps,
    addr: u64,
    path: &str,
    errors: &mut Vec<Error>,
    extents: &mut Vec<(Structure, u64, u64)>,
    dense: &mut Vec<DenseStorage>,
) -> Result<Object> {
    let h = header::read_header(src, addr)?;
    extents.extend(h.chunks.iter().copied());
    let mut one: HashMap<u8, Msg<'a>> = HashMap::new();
    let mut links = Vec::new();
    let mut attrs: Vec<Attribute> = Vec::new();
    let sizes = src.sizes;
    let cursor = |m: &Msg<'a>, s: Structure| Cursor::new(m.body, m.offset, s, sizes);
    for m in &h.msgs {
        match m.kind {
            // dataspace, link info, datatype, old fill, fill, layout, group info,
            // filters, symbol table, attribute info: at most one each
            0x01..=0x05 | 0x08 | 0x0a | 0x0b | 0x11 | 0x15 => {
                if m.flags & 0x02 != 0 {
                    return Err(error::unsupported(
                        Structure::Message(m.kind),
                        m.offset,
                        "shared messages",
                    ));
                }
                if one.insert(m.kind, *m).is_some() {
                    return Err(malformed(
                        Structure::Message(m.kind),
                        m.offset,
                        format!("a second message of type 0x{:02x} in one header", m.kind),
                    ));
                }
            }
            0x06 => match Link::decode(&mut cursor(m, Structure::Link)) {
                Ok(l) => {
                    if links.iter().any(|x: &Link| x.name == l.name) {
                        errors.push(Error::DuplicateLink {
                            structure: Structure::Group,
                            offset: addr,
                            name: l.name,
                        });
                    } else {
                        links.push(l);
                    }
                }
                Err(e) => errors.push(e),
            },
            0x0c => match read_attribute(src, heaps, m.body, m.offset) {
                Ok(a) => {
                    if attrs.iter().any(|x| x.name == a.name) {
                        errors.push(Error::DuplicateAttribute {
                            structure: Structure::ObjectHeader,
                            offset: addr,
                            name: a.name,
                        });
                    } else {
                        attrs.push(a);
                    }
                }
                Err(e) => errors.push(e),
            },
            _ => {}
        }
    }
    if let Some(m) = one.get(&0x15) {
        let info = message::decode_attribute_info(&mut cursor(m, Structure::AttributeInfo))?;
        if let Some(a) = info {
            let mut d = DenseStorage {
                object: addr,
                kind: DenseKind::Attributes,
                heap: a.heap,
                name_index: a.name_index,
                order_index: a.order_index,
                free_space: None,
            };
            if !attrs.is_empty() {
                errors.push(malformed(
                    Structure::AttributeInfo,
                    m.offset,
                    "attribute messages in the header besides dense attribute storage",
                ));
            }
            match dense::read_attributes(src, heaps, &mut d, extents) {
                Ok(a) => attrs = a,
                Err(e) => errors.push(e),
            }
            dense.push(d);
        }
    }
    let path = path.to_string();
    if let Some(m) = one.get(&0x11) {
        if one.contains_key(&0x02) || one.contains_key(&0x01) || one.contains_key(&0x08) {
            return Err(malformed(
                Structure::ObjectHeader,
                addr,
                "a symbol table message with link info or dataset messages",
            ));
        }
        if let Some(l) = links.first() {
            return Err(malformed(
                Structure::Link,
                l.offset,
                "a link message in an old-style group",
            ));
        }
        for l in stab::read_links(src, m.body, m.offset, extents)? {
            if links.iter().any(|x: &Link| x.name == l.name) {
                errors.push(Error::DuplicateLink {
                    structure: Structure::Group,
                    offset: addr,
                    name: l.name,
                });
            } else {
                links.push(l);
            }
        }
        return Ok(Object::Group(Group {
            path,
            addr,
            links,
            attrs,
        }));
    }
    if let Some(m) = one.get(&0x02) {
        let info = message::decode_link_info(&mut cursor(m, Structure::LinkInfo))?;
        let gi = one.get(&0x0a).ok_or_else(|| {
            malformed(
                Structure::ObjectHeader,
                addr,
                "a group with a link info message but no group info message",
            )
        })?;
        message::decode_group_info(&mut cursor(gi, Structure::GroupInfo))?;
        if one.contains_key(&0x01) || one.contains_key(&0x08) {
            return Err(malformed(
                Structure::ObjectHeader,
                addr,
                "both group and dataset messages",
            ));
        }
        if let Some(a) = info {
            if let Some(l) = links.first() {
                return Err(malformed(
                    Structure::Link,
                    l.offset,
                    "a link message in the header besides dense link storage",
                ));
            }
            let mut d = DenseStorage {
                object: addr,
                kind: DenseKind::Links,
                heap: a.heap,
                name_index: a.name_index,
                order_index: a.order_index,
                free_space: None,
            };
            let read = dense::read_links(src, &mut d, extents);
            dense.push(d);
            links = read?;
        }
        return Ok(Object::Group(Group {
            path,
            addr,
            links,
            attrs,
        }));
    }
    if let Some(l) = links.first() {
        return Err(malformed(
            Structure::Link,
            l.offset,
            "a link message in an object that is not a group",
        ));
    }
    let (space, dtype) = match (one.get(&0x01), one.get(&0x03)) {
        (Some(s), Some(t)) => (s, t),
        (None, Some(_)) => {
            return Err(error::unsupported(
                Structure::ObjectHeader,
                addr,
                "committed (named) datatypes",
            ))
        }
        _ => {
            return Err(malformed(
                Structure::ObjectHeader,
                addr,
                "neither a group nor a dataset",
            ))
        }
    };
    let space = Dataspace::decode(&mut cursor(space, Structure::Dataspace))?;
    let datatype = Datatype::decode(&mut cursor(dtype, Structure::Datatype), 0)?;
    let lm = one.get(&0x08).ok_or_else(|| {
        malformed(
            Structure::ObjectHeader,
            addr,
            "a dataset without a layout message",
        )
    })?;
    let layout = Layout::decode(&mut cursor(lm, Structure::Layout))?;
    let fill = match (one.get(&0x05), one.get(&0x04)) {
        (Some(m), _) => message::decode_fill(&mut cursor(m, Structure::FillValue))?,
        (None, Some(m)) => message::decode_old_fill(&mut cursor(m, Structure::FillValue))?,
        (None, None) => None,
    };
    let filters = match one.get(&0x0b) {
        Some(m) => message::decode_filters(&mut cursor(m, Structure::FilterPipeline))?,
        None => Vec::new(),
    };
    let d = Dataset {
        path,
        addr,
        space,
        datatype,
        layout,
        fill,
        filters,
        attrs,
    };
    validate_dataset(
        src,
        &d,
        lm.offset,
        one.get(&0x05).or(one.get(&0x04)).map(|m| m.offset),
    )?;
    Ok(Object::Dataset(d))
}

/// Checks that a dataset's messages agree with each other and that its contiguous
/// storage lies below the end of file.
fn validate_dataset(
    src: &Source<'_>,
    d: &Dataset,
    layout_at: u64,
    fill_at: Option<u64>,
) -> Result<()> {
    let elem = d.element_size();
    let n = d.num_elements();
    if let (Some(f), Some(at)) = (&d.fill, fill_at) {
        if f.len() as u64 != elem {
            return Err(malformed(
                Structure::FillValue,
                at,
                format!("fill value of {} bytes for {elem}-byte elements", f.len()),
            ));
        }
    }
    let bytes = n.checked_mul(elem);
    let lay = |reason: String| malformed(Structure::Layout, layout_at, reason);
    match &d.layout {
        Layout::Compact { data } => {
            if bytes != Some(data.len() as u64) {
                return Err(lay(format!(
                    "compact data of {} bytes for {n} elements of {elem} bytes",
                    data.len()
                )));
            }
        }
        Layout::Contiguous { addr, size } => {
            if bytes != Some(*size) {
                return Err(lay(format!(
                    "contiguous storage of {size} bytes for {n} elements of {elem} bytes"
                )));
            }
            if let Some(a) = addr {
                src.check_extent(Structure::ContiguousData, *a, *size)?;
            }
        }
        Layout::Chunked {
            chunk,
            element_size,
            ..
        } => {
            if d.space.kind != SpaceKind::Simple {
                return Err(lay("a chunked dataset without a simple dataspace".into()));
            }
            if chunk.len() != d.dims().len() {
                return Err(lay(format!(
                    "chunk rank {} for a dataset of rank {}",
                    chunk.len(),
                    d.dims().len()
                )));
            }
            if u64::from(*element_size) != elem {
                return Err(lay(format!(
                    "chunk element size {element_size} for {elem}-byte elements"
                )));
            }
            let cb = chunk
                .iter()
                .try_fold(elem, |a, &c| a.checked_mul(u64::from(c)))
                .filter(|&b| b <= u64::from(u32::MAX));
            if cb.is_none() {
                return Err(lay(format!("chunks of {chunk:?} hold 4 GiB or more")));
            }
        }
    }
    Ok(())
}

/// Decodes the attribute message `body` found at `offset` (in a header or a fractal
/// heap), resolving variable-length values in the global heap.
fn read_attribute(
    src: &Source<'_>,
    heaps: &mut Heaps,
    body: &[u8],
    offset: u64,
) -> Result<Attribute> {
    let mut c = Cursor::new(body, offset, Structure::Attribute, src.sizes);
    let mut a = Attribute::decode(&mut c)?;
    let base = match &a.datatype {
        Datatype::VarLenString { .. } => Some(1),
        Datatype::VarLenSequence { base, .. } => Some(u64::from(base.size())),
        _ => None,
    };
    if let Some(base) = base {
        a.vlen = Some(heap::resolve_vlen(
            src,
            heaps,
            &a.raw,
            a.datatype.size() as usize,
            base,
            offset,
            Structure::Attribute,
        )?);
    }
    Ok(a)
}

/// One message of an object header: type, flags, body, and the body's file offset.
pub(crate) type RawMessage = (u8, u8, Vec<u8>, u64);

/// An object header's messages and the (address, length) of each chunk.
pub(crate) type RawHeader = (Vec<RawMessage>, Vec<(u64, u64)>);

/// One node of a chunk B-tree as the writer needs it to continue a tree.
pub(crate) struct RawNode {
    pub level: u8,
    pub left: u64,
    pub right: u64,
    /// Each entry's key (stored size, filter mask, offsets in elements incl. the
    /// element dimension) and child address; `entries + 1` keys are not kept, only
    /// the `entries` left keys.
    pub keys: Vec<(u32, u32, Vec<u64>)>,
    pub children: Vec<u64>,
}

impl<'a> File<'a> {
    /// The raw messages of the object header at `addr`, and the (address, length) of
    /// each of its chunks, chunk 0 first.
    pub(crate) fn raw_header(&self, addr: u64) -> Result<RawHeader> {
        let h = header::read_header(&self.src, addr)?;
        let msgs = h
            .msgs
            .iter()
            .map(|m| (m.kind, m.flags, m.body.to_vec(), m.offset))
            .collect();
        let chunks = h.chunks.iter().map(|c| (c.1, c.2)).collect();
        Ok((msgs, chunks))
    }

    /// The chunk B-tree node at `addr` of chunked dataset `ds`.
    pub(crate) fn raw_node(&self, ds: &Dataset, addr: u64) -> Result<RawNode> {
        let tree = data::tree_of(ds, self.superblock.chunk_k).ok_or(Error::Unsupported {
            structure: Structure::BTreeNode,
            offset: addr,
            feature: "a B-tree of a dataset that is not chunked",
        })?;
        let mut cache = btree::Cache::default();
        let n = cache.node(&self.src, &tree.shape, addr)?;
        let keys = (0..n.entries)
            .map(|i| (n.sizes[i], n.masks[i], n.raw_key(i).to_vec()))
            .collect();
        Ok(RawNode {
            level: n.level,
            left: n.left,
            right: n.right,
            keys,
            children: n.children.clone(),
        })
    }
}
