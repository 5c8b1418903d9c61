//! The chunked class of data layout messages version 4 and 5 (spec-notes/layout-v4.md):
//! flags, chunk dims of a variable width, and one of five chunk indexes with its
//! creation parameters.

use super::bytes::Cursor;
use super::error::Result;
use super::message::MAX_RANK;
use crate::encode::UNDEF;

/// Layout flag bit 0: partial edge chunks are stored without filters.
pub const DONT_FILTER_PARTIAL_EDGE_CHUNKS: u8 = 0x01;
/// Layout flag bit 1: the single-chunk index stores a filtered chunk's size and mask.
pub const SINGLE_INDEX_WITH_FILTER: u8 = 0x02;

/// How a chunked dataset finds its chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkIndex {
    /// Layout version 3: a version-1 B-tree (its root is `Layout::Chunked::btree`).
    BTreeV1,
    /// Index type 1: the dataset is one chunk, whose address the layout holds.
    Single {
        /// The chunk, `None` when not yet written.
        addr: Option<u64>,
        /// Stored size and filter mask of a filtered chunk (layout flag bit 1).
        filtered: Option<(u64, u32)>,
    },
    /// Index type 2: every chunk allocated at once, back to back in row-major order
    /// of the chunk grid of the maximum dims (unfiltered only).
    Implicit {
        /// The first chunk, `None` when not allocated.
        addr: Option<u64>,
    },
    /// Index type 3: a fixed array (FAHD, FADB), one entry per chunk position of
    /// the maximum dims.
    FixedArray {
        /// The array header, `None` when no chunk exists.
        addr: Option<u64>,
        /// log2 of the entries per data block page.
        page_bits: u8,
    },
    /// Index type 4: an extensible array (EAHD, EAIB, EASB, EADB) for one unlimited
    /// dim.
    ExtensibleArray {
        /// The array header, `None` when no chunk exists.
        addr: Option<u64>,
        /// Creation parameters as the layout message lists them: maximum entries
        /// (bits), index block entries, minimum data pointers per secondary block,
        /// minimum entries per data block, data block page entries (bits).
        params: [u8; 5],
    },
    /// Index type 5: a version-2 B-tree (BTHD, BTIN, BTLF) of chunk records.
    BTreeV2 {
        /// The B-tree header, `None` when no chunk exists.
        addr: Option<u64>,
        /// Node size in bytes.
        node_size: u32,
        /// Split percentage.
        split: u8,
        /// Merge percentage.
        merge: u8,
    },
}

impl ChunkIndex {
    /// A short name ("v1 B-tree", "fixed array", ...).
    pub fn name(&self) -> &'static str {
        match self {
            ChunkIndex::BTreeV1 => "v1 B-tree",
            ChunkIndex::Single { .. } => "single chunk",
            ChunkIndex::Implicit { .. } => "implicit",
            ChunkIndex::FixedArray { .. } => "fixed array",
            ChunkIndex::ExtensibleArray { .. } => "extensible array",
            ChunkIndex::BTreeV2 { .. } => "v2 B-tree",
        }
    }

    /// The address the layout message stores for a version 4/5 index (`None` for
    /// the v1 B-tree, whose root is elsewhere, and for undefined addresses).
    pub fn addr(&self) -> Option<u64> {
        match self {
            ChunkIndex::BTreeV1 => None,
            ChunkIndex::Single { addr, .. }
            | ChunkIndex::Implicit { addr }
            | ChunkIndex::FixedArray { addr, .. }
            | ChunkIndex::ExtensibleArray { addr, .. }
            | ChunkIndex::BTreeV2 { addr, .. } => *addr,
        }
    }
}

/// What the chunked class of a version 4/5 layout message holds.
pub(crate) struct ChunkedV4 {
    pub flags: u8,
    pub chunk: Vec<u32>,
    pub element_size: u32,
    pub index: ChunkIndex,
}

/// Decodes the chunked class of a version 4 or 5 layout message (the cursor is past
/// the version and class bytes). The checks are libhdf5's (`H5O__layout_decode`):
/// known flags, rank, 1 to 8 bytes per dim, known index type, nonzero
/// parameters; plus nonzero chunk dims that fit 32 bits.
pub(crate) fn decode_chunked(c: &mut Cursor<'_>) -> Result<ChunkedV4> {
    let flags = c.u8()?;
    if flags & !(DONT_FILTER_PARTIAL_EDGE_CHUNKS | SINGLE_INDEX_WITH_FILTER) != 0 {
        return Err(c.malformed(format!("unknown chunked layout flags {flags:#04x}")));
    }
    let ndims = usize::from(c.u8()?);
    if !(2..=MAX_RANK + 1).contains(&ndims) {
        return Err(c.malformed(format!("chunked layout with {ndims} dims")));
    }
    let width = c.u8()?;
    if !(1..=8).contains(&width) {
        return Err(c.malformed(format!("{width} bytes per chunk dim (1 to 8 allowed)")));
    }
    let mut dims = Vec::with_capacity(ndims);
    for i in 0..ndims {
        let d = c.uint(width)?;
        if d == 0 {
            return Err(c.malformed(format!("chunk dim {i} is 0")));
        }
        let d = u32::try_from(d)
            .map_err(|_| c.malformed(format!("chunk dim {i} is {d}, beyond 32 bits")))?;
        dims.push(d);
    }
    let element_size = dims.pop().expect("ndims >= 2");
    let kind = c.u8()?;
    let defined = |a: u64| (a != UNDEF).then_some(a);
    let index = match kind {
        1 => {
            let filtered = if flags & SINGLE_INDEX_WITH_FILTER != 0 {
                let size = c.length()?;
                let mask = c.u32()?;
                Some((size, mask))
            } else {
                None
            };
            ChunkIndex::Single {
                addr: defined(c.addr()?),
                filtered,
            }
        }
        2 => ChunkIndex::Implicit {
            addr: defined(c.addr()?),
        },
        3 => {
            let page_bits = c.u8()?;
            if page_bits == 0 {
                return Err(c.malformed("fixed array page bits 0"));
            }
            ChunkIndex::FixedArray {
                page_bits,
                addr: defined(c.addr()?),
            }
        }
        4 => {
            let mut params = [0u8; 5];
            for p in &mut params {
                *p = c.u8()?;
            }
            if let Some(i) = params.iter().position(|&p| p == 0) {
                return Err(c.malformed(format!("extensible array parameter {i} is 0")));
            }
            ChunkIndex::ExtensibleArray {
                params,
                addr: defined(c.addr()?),
            }
        }
        5 => {
            let node_size = c.u32()?;
            let split = c.u8()?;
            let merge = c.u8()?;
            if node_size == 0 || split == 0 || merge == 0 {
                return Err(c.malformed(format!(
                    "v2 B-tree parameters node size {node_size}, split {split}%, merge {merge}%"
                )));
            }
            ChunkIndex::BTreeV2 {
                node_size,
                split,
                merge,
                addr: defined(c.addr()?),
            }
        }
        0 => return Err(c.malformed("a v1 B-tree index in a version 4 layout message")),
        k => return Err(c.malformed(format!("unknown chunk index type {k}"))),
    };
    Ok(ChunkedV4 {
        flags,
        chunk: dims,
        element_size,
        index,
    })
}
