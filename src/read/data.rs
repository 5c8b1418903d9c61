//! Reading raw data: compact, contiguous and chunked datasets, with chunks looked up
//! in the v1 B-tree exactly as libhdf5 looks them up, or listed by a version 4/5
//! index (single chunk, implicit, fixed array, extensible array, v2 B-tree).

use std::borrow::Cow;
use std::collections::HashSet;

use super::btree::{self, Cache, Shape};
use super::chunks_v4::{self, Found};
use super::error::{malformed, unsupported, Error, Result, Structure};
use super::heap::{self, Heaps};
use super::layout_v4::{ChunkIndex, DONT_FILTER_PARTIAL_EDGE_CHUNKS};
use super::{Dataset, Datatype, File, Layout};
use crate::filters::{Filter, Pipeline};
use crate::format::filter_pipeline::{
    FILTER_BITSHUFFLE, FILTER_DEFLATE, FILTER_FLETCHER32, FILTER_LZ4, FILTER_SHUFFLE,
};

/// One entry of a chunk index, as listed by [`File::chunk_index`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChunkEntry {
    /// Element offset of the chunk's first element, one per dataset dim.
    pub offsets: Vec<u64>,
    /// Stored size in bytes.
    pub size: u32,
    /// Bit i set: filter i was skipped for this chunk.
    pub filter_mask: u32,
    /// Address of the chunk's data.
    pub addr: u64,
}

/// A chunked dataset's tree parameters.
pub(crate) struct Tree {
    pub shape: Shape,
    pub root: Option<u64>,
    pub chunk: Vec<u64>,
    pub chunk_bytes: u64,
}

/// Chunks along each dimension that `dims` reach with chunks of `chunk`: the chunk grid.
pub(crate) fn chunk_grid(dims: &[u64], chunk: &[u64]) -> Vec<u64> {
    dims.iter()
        .zip(chunk)
        .map(|(d, c)| d.div_ceil(*c))
        .collect()
}

/// The number of chunks in `grid` (`u64::MAX` when it overflows).
pub(crate) fn grid_total(grid: &[u64]) -> u64 {
    grid.iter()
        .try_fold(1u64, |a, &g| a.checked_mul(g))
        .unwrap_or(u64::MAX)
}

/// The tree parameters of a chunked dataset (`None` for other layouts).
pub(crate) fn tree_of(ds: &Dataset, k: u16) -> Option<Tree> {
    let Layout::Chunked {
        btree,
        chunk,
        element_size,
        ..
    } = &ds.layout
    else {
        return None;
    };
    let chunk: Vec<u64> = chunk.iter().map(|&c| u64::from(c)).collect();
    let mut dims = chunk.clone();
    dims.push(u64::from(*element_size));
    // validated at parse time: fits in u32
    let chunk_bytes = dims.iter().product();
    Some(Tree {
        shape: Shape {
            k: usize::from(k),
            ndims: dims.len(),
            dims,
        },
        root: *btree,
        chunk,
        chunk_bytes,
    })
}

/// Errors of a walk that stop reading: nodes that cannot be decoded, and cycles
/// (where libhdf5 would recurse forever). Key order, key range, level and sharing
/// problems do not: libhdf5's lookups define their effect, and reads follow them.
fn fatal_for_reading(e: &Error) -> bool {
    !matches!(
        e,
        Error::BTreeKeyOrder { .. }
            | Error::BTreeKeyRange { .. }
            | Error::BTreeNodeReused { .. }
            | Error::BTreeLevel { .. }
    )
}

impl<'a> File<'a> {
    /// The elements of a dataset of variable-length strings or sequences, each read
    /// from the global heap (bytes of the string, or of the sequence's elements);
    /// unwritten elements (length 0) are empty. Other types are a
    /// [`Error::WrongKind`].
    pub fn vlen_elements(&self, ds: &Dataset) -> Result<Vec<Vec<u8>>> {
        self.vlen_with(ds, &mut Heaps::default())
    }

    /// [`File::vlen_elements`] with a cache of parsed heap collections.
    pub(crate) fn vlen_with(&self, ds: &Dataset, heaps: &mut Heaps) -> Result<Vec<Vec<u8>>> {
        let base = match &ds.datatype {
            Datatype::VarLenString { .. } => 1,
            Datatype::VarLenSequence { base, .. } => u64::from(base.size()),
            _ => {
                return Err(Error::WrongKind {
                    structure: Structure::Dataset,
                    offset: ds.addr,
                    path: ds.path.clone(),
                    expected: "dataset of variable-length elements",
                })
            }
        };
        let raw = self.read(ds, super::default_limit(self.file_len))?;
        heap::resolve_vlen(
            &self.src,
            heaps,
            &raw,
            ds.datatype.size() as usize,
            base,
            ds.addr,
            Structure::Dataset,
        )
    }

    /// The chunk index entries of a chunked dataset, in tree order, as a libhdf5
    /// iteration lists them (empty when no chunk exists yet). Fails on nodes that
    /// cannot be read (past the end of file, bad signature, type or entry count) and
    /// on cycles; key order, range and level problems do not stop the listing (see
    /// [`File::check`]). Other layouts are a [`Error::WrongKind`].
    pub fn chunk_index(&self, ds: &Dataset) -> Result<Vec<ChunkEntry>> {
        let tree = tree_of(ds, self.superblock.chunk_k).ok_or_else(|| Error::WrongKind {
            structure: Structure::Dataset,
            offset: ds.addr,
            path: ds.path.clone(),
            expected: "chunked dataset",
        })?;
        if !matches!(ds.layout.chunk_index(), Some(ChunkIndex::BTreeV1)) {
            let listing = chunks_v4::list(&self.src, ds)?;
            return listing
                .chunks
                .iter()
                .map(|f| {
                    Ok(ChunkEntry {
                        offsets: f
                            .scaled
                            .iter()
                            .zip(&tree.chunk)
                            .map(|(s, c)| s.saturating_mul(*c))
                            .collect(),
                        size: stored_size(f)?,
                        filter_mask: f.mask,
                        addr: f.addr,
                    })
                })
                .collect();
        }
        let Some(root) = tree.root else {
            return Ok(Vec::new());
        };
        let mut errors = Vec::new();
        let walk = btree::walk(
            &mut Cache::default(),
            &self.src,
            &tree.shape,
            root,
            None,
            &mut errors,
        );
        if let Some(e) = errors.into_iter().find(fatal_for_reading) {
            return Err(e);
        }
        let rank = tree.chunk.len();
        Ok(walk
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| ChunkEntry {
                offsets: walk.raw(i)[..rank].to_vec(),
                size: e.size,
                filter_mask: e.mask,
                addr: e.addr,
            })
            .collect())
    }

    /// The full raw data of `ds`, row-major, elements as stored; missing chunks and
    /// unallocated storage read as the fill value, and filtered chunks are decoded
    /// (deflate, shuffle, Fletcher-32, LZ4, bitshuffle with LZ4). Chunks are found by
    /// libhdf5's lookup. Fails when the result (or one chunk) would exceed `limit`
    /// bytes, on other filters, on chunks that do not decode, and on any structure it
    /// needs that is broken or past the end of file.
    pub fn read(&self, ds: &Dataset, limit: u64) -> Result<Vec<u8>> {
        self.read_impl(ds, limit, false)
    }

    /// [`File::read`]; `lookups` forces a B-tree lookup per chunk even where the
    /// walk proved them unnecessary (for tests).
    pub(crate) fn read_impl(&self, ds: &Dataset, limit: u64, lookups: bool) -> Result<Vec<u8>> {
        let elem = ds.element_size();
        let n = ds.num_elements();
        let bytes = n.saturating_mul(elem);
        if bytes > limit || usize::try_from(bytes).is_err() {
            return Err(Error::TooLarge {
                structure: Structure::Dataset,
                offset: ds.addr,
                bytes,
                limit,
            });
        }
        let fill = |n: u64| -> Vec<u8> {
            match &ds.fill {
                Some(f) if f.iter().any(|&b| b != 0) => f.repeat(n as usize),
                _ => vec![0; (n * elem) as usize],
            }
        };
        match &ds.layout {
            Layout::Compact { data } => Ok(data.clone()),
            Layout::Contiguous { addr: None, .. } => Ok(fill(n)),
            Layout::Contiguous {
                addr: Some(a),
                size,
            } => Ok(self
                .src
                .slice(Structure::ContiguousData, *a, *size)?
                .to_vec()),
            Layout::Chunked { index, .. } => {
                let tree = tree_of(ds, self.superblock.chunk_k).expect("chunked");
                if tree.chunk_bytes > limit {
                    return Err(Error::TooLarge {
                        structure: Structure::Dataset,
                        offset: ds.addr,
                        bytes: tree.chunk_bytes,
                        limit,
                    });
                }
                let pipeline = pipeline_of(ds)?;
                let mut out = fill(n);
                if n == 0 {
                    return Ok(out);
                }
                let r = Reader {
                    file: self,
                    ds,
                    tree: &tree,
                    pipeline: pipeline.as_ref(),
                };
                if !matches!(index, ChunkIndex::BTreeV1) {
                    r.read_listed(&mut out)?;
                } else if let Some(root) = tree.root {
                    r.read_chunks(root, &mut out, lookups)?;
                }
                Ok(out)
            }
        }
    }
}

impl<'f, 'a> Reader<'f, 'a> {
    /// Copies every chunk a lookup finds into `out`.
    ///
    /// libhdf5 looks up each chunk of the dataset's grid. A lookup of target `t`
    /// only succeeds on a leaf entry whose scaled key `k` has `t[d] <= k[d]` in every
    /// dim after the search reached it with `t >= k` (lexicographically; dim 0 only
    /// for rank 1), so `t` equals `k` in the dataset dims. Looking up the scaled keys
    /// of all entries is therefore the same as looking up the whole grid, at the cost
    /// of the index instead of the dataset. When the walk proves that each of those
    /// lookups returns the entry itself ([`btree::Walk::lookups_are_identity`]), they
    /// are skipped.
    fn read_chunks(&self, root: u64, out: &mut [u8], lookups: bool) -> Result<()> {
        let (ds, tree) = (self.ds, self.tree);
        let src = &self.file.src;
        let mut cache = Cache::default();
        let mut errors = Vec::new();
        let walk = btree::walk(&mut cache, src, &tree.shape, root, None, &mut errors);
        if let Some(e) = errors.into_iter().find(fatal_for_reading) {
            return Err(e);
        }
        let dims = ds.dims();
        let rank = dims.len();
        let grid = chunk_grid(dims, &tree.chunk);
        // each target once: in an ordered tree equal targets are neighbours
        let mut done: HashSet<&[u64]> = HashSet::new();
        let mut prev: Option<&[u64]> = None;
        let mut target = vec![0u64; rank + 1];
        let identity = walk.lookups_are_identity() && !lookups;
        for i in 0..walk.entries.len() {
            let t = &walk.scaled(i)[..rank];
            if identity {
                if t.iter().zip(&grid).all(|(a, g)| a < g) {
                    let e = &walk.entries[i];
                    let data = self.chunk(e.addr, e.size.into(), e.mask, false)?;
                    copy_chunk(out, dims, &tree.chunk, t, &data, ds.element_size() as usize);
                }
                continue;
            }
            let dup = if walk.ordered {
                prev == Some(t)
            } else {
                !done.insert(t)
            };
            prev = Some(t);
            if dup || t.iter().zip(&grid).any(|(a, g)| a >= g) {
                continue;
            }
            target[..rank].copy_from_slice(t);
            let Some(found) = btree::find(&mut cache, src, &tree.shape, root, &target)? else {
                continue;
            };
            let data = self.chunk(found.addr, found.size.into(), found.mask, false)?;
            copy_chunk(out, dims, &tree.chunk, t, &data, ds.element_size() as usize);
        }
        Ok(())
    }

    /// Copies every chunk a version 4/5 index lists inside the dims into `out`.
    fn read_listed(&self, out: &mut [u8]) -> Result<()> {
        let (ds, tree) = (self.ds, self.tree);
        let listing = chunks_v4::list(&self.file.src, ds)?;
        let dims = ds.dims();
        let grid = chunk_grid(dims, &tree.chunk);
        let edges_raw = matches!(&ds.layout, Layout::Chunked { flags, .. }
            if flags & DONT_FILTER_PARTIAL_EDGE_CHUNKS != 0);
        for f in &listing.chunks {
            if f.scaled.iter().zip(&grid).any(|(a, g)| a >= g) {
                continue;
            }
            let raw = edges_raw && is_partial_edge(&f.scaled, &tree.chunk, dims);
            let data = self.chunk(f.addr, f.size, f.mask, raw)?;
            copy_chunk(
                out,
                dims,
                &tree.chunk,
                &f.scaled,
                &data,
                ds.element_size() as usize,
            );
        }
        Ok(())
    }

    /// A chunk's raw bytes: as stored, or decoded through the filters (`raw`: a
    /// partial edge chunk stored unfiltered).
    fn chunk(&self, addr: u64, size: u64, mask: u32, raw: bool) -> Result<Cow<'a, [u8]>> {
        let src = &self.file.src;
        let pipeline = if raw { None } else { self.pipeline };
        let Some(p) = pipeline else {
            return Ok(Cow::Borrowed(src.slice(
                Structure::Chunk,
                addr,
                self.tree.chunk_bytes,
            )?));
        };
        let stored = src.slice(Structure::Chunk, addr, size)?;
        p.decode(
            stored,
            mask,
            self.ds.element_size() as usize,
            self.tree.chunk_bytes as usize,
        )
        .map(Cow::Owned)
        .map_err(|e| Error::ChunkDecode {
            structure: Structure::Chunk,
            offset: addr,
            reason: e.to_string(),
        })
    }
}

/// The filters of a dataset as the crate's [`Pipeline`] (`None` when unfiltered).
fn pipeline_of(ds: &Dataset) -> Result<Option<Pipeline>> {
    if ds.filters.is_empty() {
        return Ok(None);
    }
    let mut filters = Vec::with_capacity(ds.filters.len());
    for f in &ds.filters {
        filters.push(match f.id {
            FILTER_DEFLATE => Filter::Deflate(f.cd.first().map_or(0, |&l| l.min(9) as u8)),
            FILTER_SHUFFLE => Filter::Shuffle,
            FILTER_FLETCHER32 => Filter::Fletcher32,
            FILTER_LZ4 => Filter::Lz4,
            // bitshuffle's 5th client value selects its compressor: 2 is LZ4
            FILTER_BITSHUFFLE if f.cd.get(4) == Some(&2) => Filter::BitshuffleLz4,
            _ => {
                return Err(unsupported(
                    Structure::Dataset,
                    ds.addr,
                    "filters other than deflate, shuffle, Fletcher-32, LZ4 and bitshuffle with LZ4",
                ))
            }
        });
    }
    Ok(Some(Pipeline { filters }))
}

/// Whether the chunk at scaled position `pos` reaches past the dims (libhdf5's
/// partial edge chunk, `H5D__chunk_is_partial_edge_chunk`).
pub(crate) fn is_partial_edge(pos: &[u64], chunk: &[u64], dims: &[u64]) -> bool {
    pos.iter()
        .zip(chunk)
        .zip(dims)
        .any(|((p, c), d)| p.saturating_add(1).saturating_mul(*c) > *d)
}

/// A listed chunk's stored size as a [`ChunkEntry`] holds it.
fn stored_size(f: &Found) -> Result<u32> {
    u32::try_from(f.size).map_err(|_| {
        malformed(
            Structure::Chunk,
            f.addr,
            format!("stored chunk size {} is 4 GiB or more", f.size),
        )
    })
}

/// What reading one chunked dataset needs.
struct Reader<'f, 'a> {
    file: &'f File<'a>,
    ds: &'f Dataset,
    tree: &'f Tree,
    pipeline: Option<&'f Pipeline>,
}

/// Copies the part of a chunk (at scaled position `pos`) that lies inside `dims`
/// from `chunk_data` (row-major over the chunk dims) into `out` (row-major over dims).
fn copy_chunk(
    out: &mut [u8],
    dims: &[u64],
    chunk: &[u64],
    pos: &[u64],
    chunk_data: &[u8],
    elem: usize,
) {
    const R: usize = super::message::MAX_RANK;
    let rank = dims.len();
    debug_assert!((1..=R).contains(&rank));
    let (mut origin, mut count) = ([0u64; R], [0u64; R]);
    for d in 0..rank {
        origin[d] = pos[d] * chunk[d];
        count[d] = (origin[d] + chunk[d]).min(dims[d]) - origin[d];
        if count[d] == 0 {
            return;
        }
    }
    // row-major strides in elements
    let (mut cstride, mut ostride) = ([1u64; R], [1u64; R]);
    for d in (0..rank - 1).rev() {
        cstride[d] = cstride[d + 1] * chunk[d + 1];
        ostride[d] = ostride[d + 1] * dims[d + 1];
    }
    let run = count[rank - 1] as usize * elem;
    let mut idx = [0u64; R];
    loop {
        let mut s = 0u64;
        let mut o = 0u64;
        for d in 0..rank {
            s += idx[d] * cstride[d];
            o += (origin[d] + idx[d]) * ostride[d];
        }
        let (s, o) = (s as usize * elem, o as usize * elem);
        out[o..o + run].copy_from_slice(&chunk_data[s..s + run]);
        // odometer over all dims but the last
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < count[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}
