//! Listing the chunks of a dataset whose layout message is version 4 or 5: the
//! single-chunk and implicit indexes here, the fixed array, extensible array and
//! version-2 B-tree through their readers. Every index becomes one list of chunks
//! with their positions in the chunk grid, plus the extents of the index's own
//! structures (for `check`'s overlap test).

use super::bytes::{verify_checksum, Cursor, Source};
use super::data::chunk_grid;
use super::error::{malformed, Error, Result, Structure};
use super::layout_v4::ChunkIndex;
use super::{btree_v2, extensible_array, fixed_array, Dataset, Layout};
use crate::encode::{Sizes, UNDEF};
use crate::format::dataspace::UNLIMITED;

/// One chunk an index lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    /// Position in the chunk grid (element offset / chunk dim), one per dataset dim.
    pub scaled: Vec<u64>,
    /// Address of the stored chunk.
    pub addr: u64,
    /// Stored size in bytes (the chunk size when unfiltered).
    pub size: u64,
    /// Filters skipped for this chunk (bit i: filter i).
    pub mask: u32,
}

/// Everything a version 4/5 index lists.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Chunks in index order.
    pub chunks: Vec<Found>,
    /// The index's structures: (structure, address, length).
    pub extents: Vec<(Structure, u64, u64)>,
}

/// How an array element or B-tree record stores one chunk: its address, then for
/// filtered datasets its stored size (`size_len` bytes) and filter mask (4 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryFormat {
    pub filtered: bool,
    pub size_len: u8,
    pub sizes: Sizes,
}

/// A chunk entry as stored; `addr` is [`UNDEF`] for a chunk never written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stored {
    pub addr: u64,
    pub size: u64,
    pub mask: u32,
}

impl EntryFormat {
    /// Bytes per entry.
    pub fn len(&self) -> usize {
        usize::from(self.sizes.offsets)
            + if self.filtered {
                usize::from(self.size_len) + 4
            } else {
                0
            }
    }

    /// The client ID libhdf5 stores in array headers and blocks (0 unfiltered,
    /// 1 filtered).
    pub fn client(&self) -> u8 {
        u8::from(self.filtered)
    }

    /// Decodes one entry; `chunk_bytes` is the size of an unfiltered chunk.
    pub fn decode(&self, c: &mut Cursor<'_>, chunk_bytes: u64) -> Result<Stored> {
        let addr = c.addr()?;
        if !self.filtered {
            return Ok(Stored {
                addr,
                size: chunk_bytes,
                mask: 0,
            });
        }
        let size = c.uint(self.size_len)?;
        let mask = c.u32()?;
        Ok(Stored { addr, size, mask })
    }
}

/// Caps the bytes of index structures one listing reads at the size of the file:
/// the structures of a sound index never overlap, so a corrupt one whose blocks
/// overlap (or repeat) fails instead of reading the same bytes over and over.
pub(crate) struct Budget {
    left: u64,
    /// What is being read, for the error ("chunk index").
    what: &'static str,
}

impl Budget {
    /// A budget of `eof` bytes for reading a chunk index.
    pub fn new(eof: u64) -> Self {
        Budget::named(eof, "chunk index")
    }

    /// A budget of `eof` bytes for reading `what` (a structure with blocks).
    pub fn named(eof: u64, what: &'static str) -> Self {
        Budget { left: eof, what }
    }

    /// Charges `len` bytes of the structure at `addr`.
    pub fn spend(&mut self, structure: Structure, addr: u64, len: u64) -> Result<()> {
        match self.left.checked_sub(len) {
            Some(l) => {
                self.left = l;
                Ok(())
            }
            None => Err(malformed(
                structure,
                addr,
                format!(
                    "the {} reads more bytes than the file holds: its blocks overlap or repeat",
                    self.what
                ),
            )),
        }
    }
}

/// The `covered + 4` bytes of a checksummed block at `addr` (inside the end of file),
/// after checking its 4-byte signature, version 0 and the checksum stored after
/// `covered` bytes.
pub(crate) fn checked_block<'a>(
    src: &Source<'a>,
    structure: Structure,
    addr: u64,
    signature: &[u8; 4],
    covered: u64,
) -> Result<&'a [u8]> {
    let len = covered
        .checked_add(4)
        .ok_or_else(|| malformed(structure, addr, "block size overflows"))?;
    let b = src.slice(structure, addr, len)?;
    if b.len() < 6 || &b[..4] != signature {
        return Err(Error::BadSignature {
            structure,
            offset: addr,
        });
    }
    if b[4] != 0 {
        return Err(Error::BadVersion {
            structure,
            offset: addr,
            version: b[4],
        });
    }
    verify_checksum(structure, addr, b, covered as usize)?;
    Ok(b)
}

/// Checks the client ID byte (offset 5) of an array block.
pub(crate) fn check_client(
    structure: Structure,
    addr: u64,
    found: u8,
    fmt: &EntryFormat,
) -> Result<()> {
    if found != fmt.client() {
        return Err(malformed(
            structure,
            addr,
            format!(
                "client ID {found}, expected {} ({} chunks)",
                fmt.client(),
                if fmt.filtered {
                    "filtered"
                } else {
                    "unfiltered"
                }
            ),
        ));
    }
    Ok(())
}

/// MSB-first bit `i` of `bits` (libhdf5's page-init bitmaps).
pub(crate) fn bit(bits: &[u8], i: u64) -> bool {
    usize::try_from(i / 8)
        .ok()
        .and_then(|b| bits.get(b))
        .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

/// Bytes a filtered chunk's size takes in a version-4 index entry: one more than
/// the bytes the unfiltered chunk size needs, at most 8 (`H5D_*_COMPUTE_CHUNK_SIZE_LEN`
/// in H5Dfarray.c, H5Dearray.c, H5Dbtree2.c).
pub(crate) fn v4_size_len(chunk_bytes: u64) -> u8 {
    let log2 = 63 - chunk_bytes.max(1).leading_zeros();
    (1 + (log2 + 8) / 8).min(8) as u8
}

/// The chunk grid of the maximum dims (`None` for unlimited dims).
fn max_grid(ds: &Dataset, chunk: &[u64]) -> Vec<Option<u64>> {
    ds.max_dims()
        .iter()
        .zip(chunk)
        .map(|(&m, &c)| (m != UNLIMITED).then(|| m.div_ceil(c)))
        .collect()
}

/// Row-major position of linear index `i` in a grid whose slowest dim may be
/// unbounded (`grid[0]` is not used).
fn unravel(mut i: u64, grid: &[u64]) -> Vec<u64> {
    let mut out = vec![0u64; grid.len()];
    for d in (1..grid.len()).rev() {
        out[d] = i % grid[d];
        i /= grid[d];
    }
    if let Some(first) = out.first_mut() {
        *first = i;
    }
    out
}

/// The chunks of `ds` (a chunked dataset with a version 4/5 layout) and the extents
/// of its index. Fails on any index structure that cannot be read: past the end of
/// file, bad signature, version, checksum, client, sizes or geometry, blocks that
/// do not point back at their header, B-tree records out of order.
pub(crate) fn list(src: &Source<'_>, ds: &Dataset) -> Result<Listing> {
    let Layout::Chunked {
        chunk,
        element_size,
        index,
        version,
        ..
    } = &ds.layout
    else {
        return Ok(Listing::default());
    };
    let chunk: Vec<u64> = chunk.iter().map(|&c| u64::from(c)).collect();
    let chunk_bytes = chunk
        .iter()
        .fold(u64::from(*element_size), |a, &c| a.saturating_mul(c));
    let filtered = !ds.filters.is_empty();
    let fmt = EntryFormat {
        filtered,
        size_len: if *version >= 5 {
            src.sizes.lengths
        } else {
            v4_size_len(chunk_bytes)
        },
        sizes: src.sizes,
    };
    let grid = max_grid(ds, &chunk);
    let bad = |reason: String| malformed(Structure::Layout, ds.addr, reason);
    // fixed-size indexes: one slot per chunk position of the maximum dims
    let fixed_count = || -> Result<(Vec<u64>, u64)> {
        let g: Option<Vec<u64>> = grid.iter().copied().collect();
        let g = g.ok_or_else(|| bad(format!("a {} index with unlimited dims", index.name())))?;
        let n = g
            .iter()
            .try_fold(1u64, |a, &x| a.checked_mul(x))
            .ok_or_else(|| bad("the chunk grid of the maximum dims overflows".into()))?;
        Ok((g, n))
    };
    let mut listing = Listing::default();
    let mut budget = Budget::new(src.eof());
    match index {
        ChunkIndex::BTreeV1 => {}
        ChunkIndex::Single { addr, filtered: f } => {
            if let Some(a) = addr {
                let (size, mask) = f.unwrap_or((chunk_bytes, 0));
                listing.chunks.push(Found {
                    scaled: vec![0; chunk.len()],
                    addr: *a,
                    size,
                    mask,
                });
            }
        }
        ChunkIndex::Implicit { addr } => {
            if filtered {
                return Err(bad("an implicit chunk index with filters".into()));
            }
            let (g, n) = fixed_count()?;
            if let Some(a) = addr {
                // storage for every chunk position of the maximum dims; libhdf5 lists
                // (iterates) the chunks inside the current dims
                let total = n
                    .checked_mul(chunk_bytes)
                    .ok_or_else(|| bad("implicit chunk storage size overflows".into()))?;
                src.check_extent(Structure::Chunk, *a, total)?;
                listing.extents.push((Structure::Chunk, *a, total));
                let current = chunk_grid(ds.dims(), &chunk);
                if current.iter().zip(&g).any(|(c, m)| c > m) {
                    return Err(bad("dims beyond the maximum dims".into()));
                }
                let inside = current.iter().product::<u64>();
                for k in 0..inside {
                    let scaled = unravel(k, &current);
                    let i = scaled
                        .iter()
                        .zip(&g)
                        .fold(0u64, |acc, (s, gd)| acc * gd + s);
                    listing.chunks.push(Found {
                        scaled,
                        addr: a + i * chunk_bytes,
                        size: chunk_bytes,
                        mask: 0,
                    });
                }
            }
        }
        ChunkIndex::FixedArray { addr, .. } => {
            let (g, n) = fixed_count()?;
            if let Some(a) = addr {
                let mut found = Vec::new();
                fixed_array::read(
                    src,
                    *a,
                    &fmt,
                    chunk_bytes,
                    n,
                    &mut found,
                    &mut listing.extents,
                    &mut budget,
                )?;
                listing.chunks = found
                    .into_iter()
                    .map(|(i, s)| Found {
                        scaled: unravel(i, &g),
                        addr: s.addr,
                        size: s.size,
                        mask: s.mask,
                    })
                    .collect();
            }
        }
        ChunkIndex::ExtensibleArray { addr, .. } => {
            let unlimited: Vec<usize> = (0..grid.len()).filter(|&d| grid[d].is_none()).collect();
            let &[u] = unlimited.as_slice() else {
                return Err(bad(format!(
                    "an extensible array index needs exactly one unlimited dim, the dataset has {}",
                    unlimited.len()
                )));
            };
            // the unlimited dim moves to the front (slowest), the others keep their order
            let mut order = vec![u];
            order.extend((0..grid.len()).filter(|&d| d != u));
            let swizzled: Vec<u64> = order.iter().map(|&d| grid[d].unwrap_or(1).max(1)).collect();
            if let Some(a) = addr {
                let mut found = Vec::new();
                extensible_array::read(
                    src,
                    *a,
                    &fmt,
                    chunk_bytes,
                    &mut found,
                    &mut listing.extents,
                    &mut budget,
                )?;
                listing.chunks = found
                    .into_iter()
                    .map(|(i, s)| {
                        let sw = unravel(i, &swizzled);
                        let mut scaled = vec![0u64; sw.len()];
                        for (k, &d) in order.iter().enumerate() {
                            scaled[d] = sw[k];
                        }
                        Found {
                            scaled,
                            addr: s.addr,
                            size: s.size,
                            mask: s.mask,
                        }
                    })
                    .collect();
            }
        }
        ChunkIndex::BTreeV2 { addr, .. } => {
            if let Some(a) = addr {
                btree_v2::read(
                    src,
                    *a,
                    &fmt,
                    chunk_bytes,
                    chunk.len(),
                    &mut listing.chunks,
                    &mut listing.extents,
                    &mut budget,
                )?;
            }
        }
    }
    // an undefined address in an array element means "no chunk"
    listing.chunks.retain(|f| f.addr != UNDEF);
    Ok(listing)
}
