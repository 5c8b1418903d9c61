//! Decoders of the header messages h5sink writes (format-notes §4): dataspace,
//! datatype, fill value, layout, link, link info, group info, attribute, attribute
//! info and filter pipeline.

use super::bytes::Cursor;
use super::error::{Error, Result, Structure};
use super::layout_v4::{self, ChunkIndex};
use crate::encode::{Sizes, UNDEF};
use crate::format::dataspace::UNLIMITED;
use crate::format::datatype::{ByteOrder, CharSet, StringPad};
use crate::format::filter_pipeline::FilterDesc;

/// The largest rank HDF5 allows.
pub const MAX_RANK: usize = 32;

/// The kind of a dataspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpaceKind {
    /// One element, rank 0.
    Scalar,
    /// An N-D array.
    Simple,
    /// No elements at all.
    Null,
}

/// The shape of a dataset or an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dataspace {
    /// Scalar, simple or null.
    pub kind: SpaceKind,
    /// Current dims (empty unless simple).
    pub dims: Vec<u64>,
    /// Maximum dims, [`UNLIMITED`] for unbounded ones; equal to `dims` when the
    /// message stores none.
    pub max_dims: Vec<u64>,
}

impl Dataspace {
    /// Number of elements (saturating; 0 for a null dataspace).
    pub fn num_elements(&self) -> u64 {
        match self.kind {
            SpaceKind::Null => 0,
            SpaceKind::Scalar => 1,
            SpaceKind::Simple => self
                .dims
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d))
                .unwrap_or(u64::MAX),
        }
    }

    /// Decodes a dataspace message (versions 1 and 2).
    pub(crate) fn decode(c: &mut Cursor<'_>) -> Result<Dataspace> {
        let version = c.u8()?;
        let rank = usize::from(c.u8()?);
        let flags = c.u8()?;
        let kind = match version {
            1 => {
                c.skip(5)?;
                if rank == 0 {
                    SpaceKind::Scalar
                } else {
                    SpaceKind::Simple
                }
            }
            2 => match c.u8()? {
                0 => SpaceKind::Scalar,
                1 => SpaceKind::Simple,
                2 => SpaceKind::Null,
                t => return Err(c.malformed(format!("dataspace type {t}"))),
            },
            v => {
                return Err(Error::BadVersion {
                    structure: c.structure(),
                    offset: c.base(),
                    version: v,
                })
            }
        };
        if rank > MAX_RANK {
            return Err(c.malformed(format!("rank {rank} exceeds {MAX_RANK}")));
        }
        if kind != SpaceKind::Simple && rank != 0 {
            return Err(c.malformed(format!("rank {rank} for a scalar or null dataspace")));
        }
        if flags & !0x01 != 0 && !(version == 1 && flags & !0x03 == 0) {
            return Err(c.malformed(format!("dataspace flags {flags:#04x}")));
        }
        if flags & 0x02 != 0 {
            return Err(c.unsupported("dataspace permutation indices"));
        }
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push(c.length()?);
        }
        let max_dims = if flags & 0x01 != 0 {
            let mut m = Vec::with_capacity(rank);
            for _ in 0..rank {
                m.push(c.length()?);
            }
            m
        } else {
            dims.clone()
        };
        if let Some(i) = (0..rank).find(|&i| max_dims[i] != UNLIMITED && dims[i] > max_dims[i]) {
            return Err(c.malformed(format!(
                "dim {i}: current size {} exceeds the maximum {}",
                dims[i], max_dims[i]
            )));
        }
        Ok(Dataspace {
            kind,
            dims,
            max_dims,
        })
    }
}

/// An element type, as much of it as the reader needs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Datatype {
    /// Fixed-point integer.
    Integer {
        /// Size in bytes.
        size: u32,
        /// Two's complement signed.
        signed: bool,
        /// Byte order.
        order: ByteOrder,
    },
    /// IEEE floating point.
    Float {
        /// Size in bytes.
        size: u32,
        /// Byte order.
        order: ByteOrder,
    },
    /// Fixed-length string.
    FixedString {
        /// Size in bytes.
        size: u32,
        /// Padding.
        pad: StringPad,
        /// Character set.
        cset: CharSet,
    },
    /// Variable-length string: elements are (length u32, global heap ID).
    VarLenString {
        /// Element size in the file: 4 + size of offsets + 4 (16 with 8-byte addresses).
        size: u32,
        /// Padding.
        pad: StringPad,
        /// Character set.
        cset: CharSet,
    },
    /// Variable-length sequence of `base` elements.
    VarLenSequence {
        /// Element size in the file: 4 + size of offsets + 4.
        size: u32,
        /// The element type of each sequence.
        base: Box<Datatype>,
    },
    /// Any other class (time, bitfield, opaque, compound, reference, enum, array):
    /// only its size is known.
    Other {
        /// The datatype class number.
        class: u8,
        /// Size in bytes.
        size: u32,
    },
}

/// Size of a variable-length element in a file with the given widths.
fn vlen_size(sizes: Sizes) -> u32 {
    4 + u32::from(sizes.offsets) + 4
}

impl Datatype {
    /// Size of one element in bytes, as stored in the file.
    pub fn size(&self) -> u32 {
        match self {
            Datatype::Integer { size, .. }
            | Datatype::Float { size, .. }
            | Datatype::FixedString { size, .. }
            | Datatype::Other { size, .. }
            | Datatype::VarLenString { size, .. }
            | Datatype::VarLenSequence { size, .. } => *size,
        }
    }

    /// The same type as the writer's [`crate::Datatype`], when the writer can write it.
    pub fn to_writer_type(&self) -> Option<crate::Datatype> {
        Some(match *self {
            Datatype::Integer {
                size,
                signed,
                order,
            } if matches!(size, 1 | 2 | 4 | 8) => crate::Datatype::Integer {
                size: size as u8,
                signed,
                order,
            },
            Datatype::Float { size, order } if matches!(size, 2 | 4 | 8) => {
                crate::Datatype::Float {
                    size: size as u8,
                    order,
                }
            }
            Datatype::FixedString { size, pad, cset } => {
                crate::Datatype::FixedString { size, pad, cset }
            }
            Datatype::VarLenString { cset, .. } => crate::Datatype::VarLenString { cset },
            _ => return None,
        })
    }

    /// Decodes a datatype message; `depth` limits nesting of variable-length types.
    pub(crate) fn decode(c: &mut Cursor<'_>, depth: u32) -> Result<Datatype> {
        if depth > 8 {
            return Err(c.malformed("datatypes nested more than 8 deep"));
        }
        let b0 = c.u8()?;
        let (version, class) = (b0 >> 4, b0 & 0x0f);
        if !(1..=4).contains(&version) {
            return Err(Error::BadVersion {
                structure: c.structure(),
                offset: c.base(),
                version,
            });
        }
        let bits = c.bytes(3)?;
        let (b1, b2) = (bits[0], bits[1]);
        let size = c.u32()?;
        if size == 0 {
            return Err(c.malformed("datatype size 0"));
        }
        let order = |c: &Cursor<'_>| -> Result<ByteOrder> {
            match (b1 & 0x01 != 0, class == 1 && b1 & 0x40 != 0) {
                (_, true) => Err(c.unsupported("VAX floating-point byte order")),
                (false, _) => Ok(ByteOrder::LittleEndian),
                (true, _) => Ok(ByteOrder::BigEndian),
            }
        };
        let pad = |c: &Cursor<'_>, v: u8| -> Result<StringPad> {
            match v {
                0 => Ok(StringPad::NullTerm),
                1 => Ok(StringPad::NullPad),
                2 => Ok(StringPad::SpacePad),
                _ => Err(c.malformed(format!("string padding {v}"))),
            }
        };
        let cset = |c: &Cursor<'_>, v: u8| -> Result<CharSet> {
            match v {
                0 => Ok(CharSet::Ascii),
                1 => Ok(CharSet::Utf8),
                _ => Err(c.malformed(format!("character set {v}"))),
            }
        };
        let precision_ok = |c: &Cursor<'_>, off: u16, prec: u16| -> Result<()> {
            if prec == 0 || u64::from(off) + u64::from(prec) > u64::from(size) * 8 {
                return Err(c.malformed(format!(
                    "bit offset {off} + precision {prec} do not fit {size} bytes"
                )));
            }
            Ok(())
        };
        Ok(match class {
            0 => {
                let order = order(c)?;
                let off = c.u16()?;
                let prec = c.u16()?;
                precision_ok(c, off, prec)?;
                Datatype::Integer {
                    size,
                    signed: b1 & 0x08 != 0,
                    order,
                }
            }
            1 => {
                let order = order(c)?;
                let off = c.u16()?;
                let prec = c.u16()?;
                precision_ok(c, off, prec)?;
                c.skip(8)?; // exponent location/size, mantissa location/size, bias
                Datatype::Float { size, order }
            }
            3 => Datatype::FixedString {
                size,
                pad: pad(c, b1 & 0x0f)?,
                cset: cset(c, b1 >> 4)?,
            },
            9 => {
                let kind = b1 & 0x0f;
                let base = Datatype::decode(c, depth + 1)?;
                match kind {
                    0 => Datatype::VarLenSequence {
                        size: vlen_size(c.sizes()),
                        base: Box::new(base),
                    },
                    1 => Datatype::VarLenString {
                        size: vlen_size(c.sizes()),
                        pad: pad(c, b1 >> 4)?,
                        cset: cset(c, b2 & 0x0f)?,
                    },
                    k => return Err(c.malformed(format!("variable-length type {k}"))),
                }
            }
            2 | 4..=8 | 10 => {
                if depth > 0 {
                    return Err(c.unsupported(
                        "variable-length sequences of compound, enum, array and other classes",
                    ));
                }
                c.rest();
                Datatype::Other { class, size }
            }
            k => return Err(c.malformed(format!("datatype class {k}"))),
        })
    }
}

/// Decodes a fill value message (new 0x05, versions 1–3) into the defined value's
/// bytes (`None`: undefined or default, which reads as zeros).
pub(crate) fn decode_fill(c: &mut Cursor<'_>) -> Result<Option<Vec<u8>>> {
    let version = c.u8()?;
    let defined = match version {
        1 | 2 => {
            c.u8()?; // allocation time
            c.u8()?; // fill time
            let defined = c.u8()?;
            if version == 2 && defined == 0 {
                return Ok(None);
            }
            defined != 0 || version == 1
        }
        3 => {
            let flags = c.u8()?;
            if flags & 0xc0 != 0 {
                return Err(c.malformed(format!("fill value flags {flags:#04x}")));
            }
            if flags & 0x10 != 0 && flags & 0x20 != 0 {
                return Err(c.malformed("fill value both undefined and defined"));
            }
            if flags & 0x20 == 0 {
                return Ok(None);
            }
            true
        }
        v => {
            return Err(Error::BadVersion {
                structure: c.structure(),
                offset: c.base(),
                version: v,
            })
        }
    };
    let size = c.u32()?;
    let value = c.bytes(size as usize)?;
    if !defined || size == 0 {
        return Ok(None);
    }
    Ok(Some(value.to_vec()))
}

/// Decodes the old fill value message (0x04): size and value.
pub(crate) fn decode_old_fill(c: &mut Cursor<'_>) -> Result<Option<Vec<u8>>> {
    let size = c.u32()?;
    let value = c.bytes(size as usize)?;
    Ok((size > 0).then(|| value.to_vec()))
}

/// Where and how a dataset's raw data is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// Inside the layout message.
    Compact {
        /// The raw data.
        data: Vec<u8>,
    },
    /// One block of the file.
    Contiguous {
        /// Its address, `None` when not allocated (reads as fill).
        addr: Option<u64>,
        /// Its size in bytes.
        size: u64,
    },
    /// Fixed-size chunks found through a chunk index.
    Chunked {
        /// The v1 B-tree root (layout version 3), `None` when no chunk exists yet
        /// and for the other indexes.
        btree: Option<u64>,
        /// Chunk dims in elements (one per dataset dim).
        chunk: Vec<u32>,
        /// Element size stored as the last layout dim.
        element_size: u32,
        /// The index: [`ChunkIndex::BTreeV1`] for layout version 3, one of the
        /// five others for versions 4 and 5.
        index: ChunkIndex,
        /// The layout message version (3, 4 or 5; in version 5 a filtered chunk's
        /// size is stored in the file's length width, in version 4 in as few bytes
        /// as the chunk size needs).
        version: u8,
        /// Layout flags (versions 4 and 5): bit 0, partial edge chunks are stored
        /// unfiltered; bit 1, the single chunk is filtered.
        flags: u8,
    },
}

impl Layout {
    /// "compact", "contiguous" or "chunked".
    pub fn kind(&self) -> &'static str {
        match self {
            Layout::Compact { .. } => "compact",
            Layout::Contiguous { .. } => "contiguous",
            Layout::Chunked { .. } => "chunked",
        }
    }

    /// The chunk index of a chunked layout.
    pub fn chunk_index(&self) -> Option<&ChunkIndex> {
        match self {
            Layout::Chunked { index, .. } => Some(index),
            _ => None,
        }
    }

    /// Decodes a data layout message (versions 3 to 5; compact and contiguous are
    /// the same in all three, chunked differs from version 4 on).
    pub(crate) fn decode(c: &mut Cursor<'_>) -> Result<Layout> {
        let version = c.u8()?;
        match version {
            3..=5 => {}
            1 | 2 => return Err(c.unsupported("data layout messages version 1 and 2")),
            v => {
                return Err(Error::BadVersion {
                    structure: c.structure(),
                    offset: c.base(),
                    version: v,
                })
            }
        }
        let class = c.u8()?;
        Ok(match class {
            0 => {
                let size = c.u16()?;
                Layout::Compact {
                    data: c.bytes(usize::from(size))?.to_vec(),
                }
            }
            1 => {
                let addr = c.addr()?;
                let size = c.length()?;
                Layout::Contiguous {
                    addr: (addr != UNDEF).then_some(addr),
                    size,
                }
            }
            2 if version >= 4 => {
                let v4 = layout_v4::decode_chunked(c)?;
                Layout::Chunked {
                    btree: None,
                    chunk: v4.chunk,
                    element_size: v4.element_size,
                    index: v4.index,
                    version,
                    flags: v4.flags,
                }
            }
            2 => {
                let ndims = usize::from(c.u8()?);
                if !(2..=MAX_RANK + 1).contains(&ndims) {
                    return Err(c.malformed(format!("chunked layout with {ndims} dims")));
                }
                let btree = c.addr()?;
                let mut chunk = Vec::with_capacity(ndims - 1);
                for _ in 0..ndims - 1 {
                    chunk.push(c.u32()?);
                }
                let element_size = c.u32()?;
                if let Some(i) = chunk.iter().position(|&d| d == 0) {
                    return Err(c.malformed(format!("chunk dim {i} is 0")));
                }
                if element_size == 0 {
                    return Err(c.malformed("chunk element size 0"));
                }
                Layout::Chunked {
                    btree: (btree != UNDEF).then_some(btree),
                    chunk,
                    element_size,
                    index: ChunkIndex::BTreeV1,
                    version,
                    flags: 0,
                }
            }
            3 => return Err(c.unsupported("virtual datasets")),
            k => return Err(c.malformed(format!("layout class {k}"))),
        })
    }
}

/// Where a link points.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkTarget {
    /// An object header in this file.
    Hard {
        /// The object header's address.
        addr: u64,
    },
    /// A path in this file (not followed).
    Soft {
        /// The path.
        path: String,
    },
    /// An object in another file (not followed).
    External {
        /// The file name.
        file: String,
        /// The object path in that file.
        path: String,
    },
    /// A user-defined link type (not followed).
    UserDefined {
        /// The link type (≥ 65).
        kind: u8,
    },
}

/// A named link of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// The link name.
    pub name: String,
    /// Its target.
    pub target: LinkTarget,
    /// Offset of the link message body.
    pub offset: u64,
}

fn utf8(c: &Cursor<'_>, b: &[u8], what: &str) -> Result<String> {
    String::from_utf8(b.to_vec()).map_err(|_| c.malformed(format!("{what} is not UTF-8")))
}

impl Link {
    /// Decodes a link message.
    pub(crate) fn decode(c: &mut Cursor<'_>) -> Result<Link> {
        let version = c.u8()?;
        if version != 1 {
            return Err(Error::BadVersion {
                structure: c.structure(),
                offset: c.base(),
                version,
            });
        }
        let flags = c.u8()?;
        if flags & 0xe0 != 0 {
            return Err(c.malformed(format!("link flags {flags:#04x}")));
        }
        let kind = if flags & 0x08 != 0 { c.u8()? } else { 0 };
        if flags & 0x04 != 0 {
            c.u64()?; // creation order
        }
        if flags & 0x10 != 0 {
            let cs = c.u8()?;
            if cs > 1 {
                return Err(c.malformed(format!("link name character set {cs}")));
            }
        }
        let len = c.uint(1 << (flags & 0x03))?;
        if len == 0 {
            return Err(c.malformed("empty link name"));
        }
        if len > c.remaining() as u64 {
            return Err(Error::Short {
                structure: c.structure(),
                offset: c.base(),
                needed: (c.pos() as u64).saturating_add(len),
                available: (c.pos() + c.remaining()) as u64,
            });
        }
        let name = c.bytes(len as usize)?;
        let name = utf8(c, name, "link name")?;
        let target = match kind {
            0 => LinkTarget::Hard { addr: c.addr()? },
            1 => {
                let n = c.u16()?;
                LinkTarget::Soft {
                    path: String::from_utf8_lossy(c.bytes(usize::from(n))?).into_owned(),
                }
            }
            64 => {
                let n = c.u16()?;
                let b = c.bytes(usize::from(n))?;
                let mut parts = b.get(1..).unwrap_or(&[]).split(|&x| x == 0);
                let file = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
                let path = String::from_utf8_lossy(parts.next().unwrap_or(&[])).into_owned();
                LinkTarget::External { file, path }
            }
            k if k >= 65 => LinkTarget::UserDefined { kind: k },
            k => return Err(c.malformed(format!("link type {k}"))),
        };
        Ok(Link {
            name,
            target,
            offset: c.base(),
        })
    }
}

/// Where a link info or attribute info message puts dense storage: the fractal
/// heap, the name index and (when creation order is indexed) the order index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DenseAddrs {
    pub heap: u64,
    pub name_index: u64,
    pub order_index: Option<u64>,
}

/// The dense storage addresses of a link or attribute info message: `None` when
/// the heap address is undefined (compact storage).
fn dense_addrs(
    c: &Cursor<'_>,
    heap: u64,
    name_index: u64,
    order_index: Option<u64>,
) -> Result<Option<DenseAddrs>> {
    if heap == UNDEF {
        if name_index != UNDEF {
            return Err(c.malformed(format!(
                "a name index at {name_index:#x} without a fractal heap"
            )));
        }
        return Ok(None);
    }
    if name_index == UNDEF {
        return Err(c.malformed(format!("a fractal heap at {heap:#x} without a name index")));
    }
    Ok(Some(DenseAddrs {
        heap,
        name_index,
        order_index: order_index.filter(|&a| a != UNDEF),
    }))
}

/// The version (which must be 0) and flags (only bits 0 and 1 defined) that start the
/// link info, group info and attribute info messages; returns the flags.
fn version0_flags(c: &mut Cursor<'_>, what: &str) -> Result<u8> {
    let version = c.u8()?;
    if version != 0 {
        return Err(Error::BadVersion {
            structure: c.structure(),
            offset: c.base(),
            version,
        });
    }
    let flags = c.u8()?;
    if flags & !0x03 != 0 {
        return Err(c.malformed(format!("{what} flags {flags:#04x}")));
    }
    Ok(flags)
}

/// Decodes a link info message: where dense link storage is, if the group has it.
pub(crate) fn decode_link_info(c: &mut Cursor<'_>) -> Result<Option<DenseAddrs>> {
    decode_dense_info(c, "link info", 8)
}

/// The shared shape of the link info and attribute info messages: version 0, flags
/// (bit 0: a maximum creation index of `index_bytes` bytes follows; bit 1: creation order
/// is indexed), then the fractal heap, the name index and, with bit 1, the order index.
fn decode_dense_info(
    c: &mut Cursor<'_>,
    what: &str,
    index_bytes: usize,
) -> Result<Option<DenseAddrs>> {
    let flags = version0_flags(c, what)?;
    if flags & 0x01 != 0 {
        c.skip(index_bytes)?;
    }
    let heap = c.addr()?;
    let names = c.addr()?;
    let order = if flags & 0x02 != 0 {
        Some(c.addr()?)
    } else {
        None
    };
    dense_addrs(c, heap, names, order)
}

/// Decodes a group info message.
pub(crate) fn decode_group_info(c: &mut Cursor<'_>) -> Result<()> {
    let flags = version0_flags(c, "group info")?;
    if flags & 0x01 != 0 {
        c.skip(4)?;
    }
    if flags & 0x02 != 0 {
        c.skip(4)?;
    }
    Ok(())
}

/// Decodes an attribute info message: where dense attribute storage is, if the
/// object has it.
pub(crate) fn decode_attribute_info(c: &mut Cursor<'_>) -> Result<Option<DenseAddrs>> {
    decode_dense_info(c, "attribute info", 2)
}

/// Decodes a filter pipeline message (versions 1 and 2).
pub(crate) fn decode_filters(c: &mut Cursor<'_>) -> Result<Vec<FilterDesc>> {
    let version = c.u8()?;
    let n = c.u8()?;
    if !(1..=2).contains(&version) {
        return Err(Error::BadVersion {
            structure: c.structure(),
            offset: c.base(),
            version,
        });
    }
    if n > 32 {
        return Err(c.malformed(format!("{n} filters (at most 32)")));
    }
    if version == 1 {
        c.skip(6)?;
    }
    let mut out = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let id = c.u16()?;
        let name_len = if version == 1 || id >= 256 {
            c.u16()?
        } else {
            0
        };
        let flags = c.u16()?;
        let ncd = usize::from(c.u16()?);
        let mut name = usize::from(name_len);
        if version == 1 {
            name = name.div_ceil(8) * 8;
        }
        c.skip(name)?;
        if 4 * ncd > c.remaining() {
            return Err(c.malformed(format!("filter {id}: {ncd} client values do not fit")));
        }
        let mut cd = Vec::with_capacity(ncd);
        for _ in 0..ncd {
            cd.push(c.u32()?);
        }
        if version == 1 && ncd % 2 == 1 {
            c.skip(4)?;
        }
        out.push(FilterDesc {
            id,
            optional: flags & 0x01 != 0,
            cd,
        });
    }
    Ok(out)
}

/// An attribute as stored: name, type, shape and raw value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attribute {
    /// The name.
    pub name: String,
    /// The element type.
    pub datatype: Datatype,
    /// The shape.
    pub space: Dataspace,
    /// The raw value: elements × element size bytes, as stored.
    pub raw: Vec<u8>,
    /// For variable-length types: each element's data, read from the global heap.
    pub vlen: Option<Vec<Vec<u8>>>,
    /// Offset of the attribute message body.
    pub offset: u64,
}

impl Attribute {
    /// The value as strings: each element of a fixed-length string type with its
    /// padding removed, or each variable-length string (invalid UTF-8 is replaced).
    /// `None` for other types.
    pub fn strings(&self) -> Option<Vec<String>> {
        match &self.datatype {
            Datatype::FixedString { size, pad, .. } => {
                let size = *size as usize;
                Some(
                    self.raw
                        .chunks(size.max(1))
                        .map(|e| {
                            let e = match pad {
                                StringPad::SpacePad => {
                                    let n = e.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
                                    &e[..n]
                                }
                                _ => {
                                    let n = e.iter().position(|&b| b == 0).unwrap_or(e.len());
                                    &e[..n]
                                }
                            };
                            String::from_utf8_lossy(e).into_owned()
                        })
                        .collect(),
                )
            }
            Datatype::VarLenString { .. } => Some(
                self.vlen
                    .as_ref()?
                    .iter()
                    .map(|e| String::from_utf8_lossy(e).into_owned())
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Decodes an attribute message (versions 1–3), without resolving variable-length
    /// data.
    pub(crate) fn decode(c: &mut Cursor<'_>) -> Result<Attribute> {
        let version = c.u8()?;
        if !(1..=3).contains(&version) {
            return Err(Error::BadVersion {
                structure: c.structure(),
                offset: c.base(),
                version,
            });
        }
        let flags = c.u8()?;
        if version == 1 && flags != 0 || flags & !0x03 != 0 {
            return Err(c.malformed(format!("attribute flags {flags:#04x}")));
        }
        if flags != 0 {
            return Err(c.unsupported("shared datatypes or dataspaces in attributes"));
        }
        let name_size = usize::from(c.u16()?);
        let dt_size = usize::from(c.u16()?);
        let ds_size = usize::from(c.u16()?);
        if version == 3 {
            let cs = c.u8()?;
            if cs > 1 {
                return Err(c.malformed(format!("attribute name character set {cs}")));
            }
        }
        let pad = |n: usize| if version == 1 { n.div_ceil(8) * 8 } else { n };
        if name_size == 0 {
            return Err(c.malformed("attribute name size 0"));
        }
        let name_field = c.bytes(pad(name_size))?;
        let name = &name_field[..name_size];
        let end = name
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| c.malformed("attribute name is not NUL-terminated within its size"))?;
        let name = utf8(c, &name[..end], "attribute name")?;
        let sizes = c.sizes();
        let base = c.base();
        let dt_bytes = c.bytes(pad(dt_size))?;
        let mut dc = Cursor::new(&dt_bytes[..dt_size], base, Structure::Datatype, sizes);
        let datatype = Datatype::decode(&mut dc, 0)?;
        let ds_bytes = c.bytes(pad(ds_size))?;
        let mut sc = Cursor::new(&ds_bytes[..ds_size], base, Structure::Dataspace, sizes);
        let space = Dataspace::decode(&mut sc)?;
        let n = space.num_elements();
        let len = n
            .checked_mul(u64::from(datatype.size()))
            .filter(|&l| l <= c.remaining() as u64)
            .ok_or_else(|| Error::Short {
                structure: c.structure(),
                offset: c.base(),
                needed: (c.pos() as u64)
                    .saturating_add(n.saturating_mul(u64::from(datatype.size()))),
                available: (c.pos() + c.remaining()) as u64,
            })?;
        let raw = c.bytes(len as usize)?.to_vec();
        Ok(Attribute {
            name,
            datatype,
            space,
            raw,
            vlen: None,
            offset: c.base(),
        })
    }
}
