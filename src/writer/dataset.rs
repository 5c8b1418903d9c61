//! Datasets: creation, the three storage layouts, and writing regions.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use super::attr::AttrWriter;
use super::btree;
use super::error::{invalid, type_error, Error, Result};
use super::inner::{Inner, Kind, ObjId};
use super::{lock, selection};
use crate::filters::{Filter, Pipeline};
use crate::format::btree_v1::{ChunkKey, NodeShape, CHUNK_K};
use crate::format::dataspace::{Dataspace, UNLIMITED};
use crate::format::datatype::{Datatype, TypeError, ValueChecker};
use crate::format::fill_value::{AllocTime, FillValue};
use crate::format::filter_pipeline::encode_pipeline;
use crate::format::layout::Layout;
use crate::format::object_header::Message;
use crate::format::{msg_type, Sizes, MSG_FLAG_CONSTANT, UNDEF};
use crate::space::Placement;
use crate::types::H5Type;

/// Contiguous datasets up to this size are held in memory until the next commit.
pub(crate) const STAGED_CONTIGUOUS: usize = 64 << 10;
/// Largest raw data a compact dataset may hold (it lives in one header message).
pub const MAX_COMPACT_BYTES: usize = 65_000;
/// Largest chunk: the v1 B-tree key stores a chunk's size in 32 bits.
pub const MAX_CHUNK_BYTES: u64 = u32::MAX as u64;
/// Highest rank HDF5 allows.
pub const MAX_RANK: usize = 32;

/// How a dataset's raw data is stored, as chosen on the builder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageLayout {
    /// One block of the file (the default for fixed shapes without a chunk shape).
    Contiguous,
    /// Inside the object header; at most [`MAX_COMPACT_BYTES`].
    Compact,
    /// In chunks of the given shape, indexed by a v1 B-tree.
    Chunked(Vec<u64>),
}

/// The raw-data side of a dataset.
pub(crate) enum DataStore {
    Compact(Vec<u8>),
    /// A contiguous block; a small one (`STAGED_CONTIGUOUS`) is held in `staged`
    /// until the next commit writes it next to its header.
    Contiguous {
        addr: u64,
        size: u64,
        staged: Option<Vec<u8>>,
    },
    Chunked(Chunked),
}

/// A chunked dataset's chunk shape and index.
pub(crate) struct Chunked {
    pub chunk: Vec<u32>,
    pub chunk_bytes: usize,
    /// Root of the B-tree the header points at.
    pub btree: u64,
    pub index: ChunkIndex,
}

/// How a chunked dataset's index is maintained.
pub(crate) enum ChunkIndex {
    /// Chunks written in any order, all kept in memory; a commit that added chunks
    /// writes a new tree into fresh space and swings the header to it.
    Map {
        /// Scaled chunk coordinates → (address, stored size, filter mask).
        entries: BTreeMap<Vec<u64>, (u64, u32, u32)>,
        /// Chunks were added since the last tree was written.
        dirty: bool,
    },
    /// Frames appended along dim 0: the tree grows on its right edge, in place.
    Append(Box<super::append::AppendState>),
}

/// Everything the writer knows about one dataset.
pub(crate) struct DatasetState {
    pub dtype: Datatype,
    pub elem: usize,
    /// Current dims; empty for a scalar.
    pub dims: Vec<u64>,
    /// Maximum dims when they differ from `dims`.
    pub max: Option<Vec<u64>>,
    pub fill: Option<Vec<u8>>,
    pub filters: Pipeline,
    pub store: DataStore,
    /// The datatype message body of a reopened dataset, written back verbatim (its
    /// `dtype` may then be a stand-in of the same size).
    pub raw_dtype: Option<Vec<u8>>,
}

impl DatasetState {
    fn dataspace(&self) -> Dataspace {
        if self.dims.is_empty() {
            Dataspace::Scalar
        } else {
            Dataspace::Simple {
                dims: self.dims.clone(),
                max: self.max.clone(),
            }
        }
    }

    fn layout(&self) -> Layout {
        match &self.store {
            DataStore::Compact(data) => Layout::Compact { data: data.clone() },
            DataStore::Contiguous { addr, size, .. } => Layout::Contiguous {
                addr: *addr,
                size: *size,
            },
            DataStore::Chunked(c) => Layout::Chunked {
                btree: c.btree,
                chunk: c.chunk.clone(),
                element_size: self.elem as u32,
            },
        }
    }

    /// Header messages: dataspace and (unless compact) layout first, pinned in chunk 0.
    pub fn messages(&self, sizes: Sizes) -> (Vec<Message>, usize) {
        let mut space = Vec::new();
        self.dataspace().encode(&mut space, sizes);
        let mut layout = Vec::new();
        self.layout().encode(&mut layout, sizes);
        let dtype = match &self.raw_dtype {
            Some(raw) => raw.clone(),
            None => {
                let mut dtype = Vec::new();
                self.dtype.encode(&mut dtype);
                dtype
            }
        };
        let alloc = match self.store {
            DataStore::Compact(_) => AllocTime::Early,
            DataStore::Contiguous { .. } => AllocTime::Late,
            DataStore::Chunked(_) => AllocTime::Incremental,
        };
        let mut fill = Vec::new();
        FillValue {
            alloc,
            value: self.fill.clone(),
        }
        .encode(&mut fill);
        let m = |kind, flags, body| Message { kind, flags, body };
        let space = m(msg_type::DATASPACE, 0, space);
        let layout = m(msg_type::LAYOUT, 0, layout);
        let dtype = m(msg_type::DATATYPE, MSG_FLAG_CONSTANT, dtype);
        let fill = m(msg_type::FILL_VALUE, MSG_FLAG_CONSTANT, fill);
        match self.store {
            DataStore::Compact(_) => (vec![space, dtype, fill, layout], 1),
            _ => {
                let mut msgs = vec![space, layout, dtype, fill];
                if !self.filters.is_empty() {
                    let mut body = Vec::new();
                    encode_pipeline(&mut body, &self.filters.descriptions(self.elem as u32));
                    msgs.push(m(msg_type::FILTER_PIPELINE, 0, body));
                }
                (msgs, 2)
            }
        }
    }

    /// One element of fill, repeated `n` times.
    pub(crate) fn fill_buffer(&self, n: usize) -> Vec<u8> {
        match &self.fill {
            Some(f) if f.iter().any(|&b| b != 0) => f.repeat(n),
            _ => vec![0; n * self.elem],
        }
    }
}

impl Inner {
    pub(crate) fn dataset(&self, id: ObjId) -> &DatasetState {
        match &self.objects[id].kind {
            Kind::Dataset(d) => d,
            Kind::Group(_) => unreachable!("dataset handle on a group"),
        }
    }

    pub(crate) fn dataset_mut(&mut self, id: ObjId) -> &mut DatasetState {
        match &mut self.objects[id].kind {
            Kind::Dataset(d) => d,
            Kind::Group(_) => unreachable!("dataset handle on a group"),
        }
    }

    /// Writes `data` (row-major, `count` elements per dim) at `start`.
    pub(crate) fn write_region(
        &mut self,
        id: ObjId,
        start: &[u64],
        count: &[u64],
        data: &[u8],
    ) -> Result<()> {
        self.check_usable()?;
        let path = self.objects[id].path.clone();
        let d = self.dataset(id);
        if start.len() != d.dims.len() || count.len() != d.dims.len() {
            return Err(invalid(
                &path,
                format!(
                    "region has rank {} but the dataset has rank {}",
                    start.len(),
                    d.dims.len()
                ),
            ));
        }
        for (i, ((s, c), n)) in start.iter().zip(count).zip(&d.dims).enumerate() {
            if s.checked_add(*c).is_none_or(|end| end > *n) {
                return Err(invalid(
                    &path,
                    format!("region start {start:?} count {count:?} lies outside the dataset's shape {:?} (dim {i})", d.dims),
                ));
            }
        }
        let n: u64 = count.iter().product();
        if data.len() as u64 != n * d.elem as u64 {
            return Err(invalid(
                &path,
                format!(
                    "data holds {} bytes but the region {count:?} needs {} elements of {} bytes",
                    data.len(),
                    n,
                    d.elem
                ),
            ));
        }
        if n == 0 {
            return Ok(());
        }
        let r = self.write_region_unchecked(id, start, count, data);
        self.poison_on(r)
    }

    fn write_region_unchecked(
        &mut self,
        id: ObjId,
        start: &[u64],
        count: &[u64],
        data: &[u8],
    ) -> Result<()> {
        let hi: Vec<u64> = start.iter().zip(count).map(|(s, c)| s + c).collect();
        let d = self.dataset(id);
        let elem = d.elem;
        let dims = d.dims.clone();
        let zeros = vec![0u64; dims.len()];
        match &d.store {
            DataStore::Compact(_) => {
                let DataStore::Compact(buf) = &mut self.dataset_mut(id).store else {
                    unreachable!()
                };
                selection::copy_box(elem, start, &hi, data, start, count, buf, &zeros, &dims);
                self.objects[id].dirty = true;
                Ok(())
            }
            DataStore::Contiguous {
                staged: Some(_), ..
            } => {
                if let DataStore::Contiguous {
                    staged: Some(buf), ..
                } = &mut self.dataset_mut(id).store
                {
                    selection::copy_box(elem, start, &hi, data, start, count, buf, &zeros, &dims);
                }
                Ok(())
            }
            DataStore::Contiguous { addr, .. } => {
                let addr = *addr;
                // coalesce rows that are adjacent in the file (they are in the source)
                let mut runs: Vec<(u64, u64, u64)> = Vec::new();
                selection::for_each_row(start, &hi, &zeros, &dims, start, count, |f, s, n| {
                    match runs.last_mut() {
                        Some(last) if last.0 + last.2 == f && last.1 + last.2 == s => last.2 += n,
                        _ => runs.push((f, s, n)),
                    }
                });
                for (f, s, n) in runs {
                    let (s, n) = (s as usize * elem, n as usize * elem);
                    self.write_at(
                        "writing contiguous raw data",
                        addr + f * elem as u64,
                        &data[s..s + n],
                    )?;
                }
                Ok(())
            }
            DataStore::Chunked(_) => self.write_chunks(id, start, &hi, count, data),
        }
    }

    /// Writes the part of a region that falls in each chunk it touches.
    fn write_chunks(
        &mut self,
        id: ObjId,
        start: &[u64],
        hi: &[u64],
        count: &[u64],
        data: &[u8],
    ) -> Result<()> {
        let d = self.dataset(id);
        let DataStore::Chunked(c) = &d.store else {
            unreachable!()
        };
        let chunk: Vec<u64> = c.chunk.iter().map(|&x| u64::from(x)).collect();
        let dims = d.dims.clone();
        let first: Vec<u64> = start.iter().zip(&chunk).map(|(s, c)| s / c).collect();
        let last: Vec<u64> = hi.iter().zip(&chunk).map(|(h, c)| (h - 1) / c).collect();
        let mut ci = first.clone();
        loop {
            self.write_one_chunk(id, &ci, &chunk, &dims, start, hi, count, data)?;
            // odometer over the touched chunks
            let mut dim = ci.len();
            loop {
                if dim == 0 {
                    return Ok(());
                }
                dim -= 1;
                ci[dim] += 1;
                if ci[dim] <= last[dim] {
                    break;
                }
                ci[dim] = first[dim];
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write_one_chunk(
        &mut self,
        id: ObjId,
        ci: &[u64],
        chunk: &[u64],
        dims: &[u64],
        start: &[u64],
        hi: &[u64],
        count: &[u64],
        data: &[u8],
    ) -> Result<()> {
        let c_lo: Vec<u64> = ci.iter().zip(chunk).map(|(i, c)| i * c).collect();
        let c_hi: Vec<u64> = c_lo.iter().zip(chunk).map(|(l, c)| l + c).collect();
        let Some((lo, hi)) = selection::intersect(start, hi, &c_lo, &c_hi) else {
            return Ok(());
        };
        let in_dims_hi: Vec<u64> = c_hi.iter().zip(dims).map(|(h, d)| *h.min(d)).collect();
        let covers_all = lo == c_lo && hi == in_dims_hi;
        let d = self.dataset(id);
        let elem = d.elem;
        let DataStore::Chunked(c) = &d.store else {
            unreachable!()
        };
        let chunk_bytes = c.chunk_bytes;
        let ChunkIndex::Map { entries, .. } = &c.index else {
            return Err(invalid(
                &self.objects[id].path,
                "an extendable dataset is written with append()",
            ));
        };
        let existing = entries.get(ci).copied();
        let filters = d.filters.clone();
        let mut buf = match existing {
            Some((addr, size, mask)) if !covers_all => {
                let mut b = vec![0u8; size as usize];
                self.read_at("reading a chunk back to update part of it", addr, &mut b)?;
                if filters.is_empty() {
                    b
                } else {
                    filters.decode(&b, mask, elem, chunk_bytes).map_err(|e| {
                        invalid(
                            &self.objects[id].path,
                            format!("chunk {ci:?} read back does not decode: {e}"),
                        )
                    })?
                }
            }
            _ if covers_all && in_dims_hi == c_hi => vec![0u8; chunk_bytes],
            _ => d.fill_buffer(chunk_bytes / elem),
        };
        selection::copy_box(elem, &lo, &hi, data, start, count, &mut buf, &c_lo, chunk);
        let (addr, size, mask) = if filters.is_empty() {
            // raw chunks keep their place: rewriting one in place changes only its bytes
            let addr = match existing {
                Some((addr, _, _)) => addr,
                None => self.alloc(chunk_bytes as u64, Placement::Align(8))?,
            };
            self.write_at("writing a chunk", addr, &buf)?;
            (addr, chunk_bytes as u32, 0)
        } else {
            // a filtered chunk changes size: always a fresh copy, indexed at the commit
            let enc = filters.encode(&buf, elem);
            let addr = self.alloc(enc.bytes.len() as u64, Placement::Align(8))?;
            self.write_at("writing a chunk", addr, &enc.bytes)?;
            (addr, enc.bytes.len() as u32, enc.mask)
        };
        if existing != Some((addr, size, mask)) {
            if let DataStore::Chunked(Chunked {
                index: ChunkIndex::Map { entries, dirty },
                ..
            }) = &mut self.dataset_mut(id).store
            {
                entries.insert(ci.to_vec(), (addr, size, mask));
                *dirty = true;
            }
        }
        Ok(())
    }

    /// Commit phase 1 for a dataset's chunk index: puts buffered frames and new index
    /// entries on disk, queueing in-place growth for phase 2. Returns whether the
    /// header must be rewritten (new root).
    pub(crate) fn dataset_commit_index(
        &mut self,
        id: ObjId,
        phase2: &mut Vec<(u64, Vec<u8>)>,
    ) -> Result<bool> {
        if let DataStore::Contiguous { addr, staged, .. } = &mut self.dataset_mut(id).store {
            // a small contiguous dataset's data goes out with its header
            if let Some(data) = staged.take() {
                let addr = *addr;
                self.write_at("writing contiguous raw data", addr, &data)?;
            }
            return Ok(false);
        }
        let DataStore::Chunked(c) = &self.dataset(id).store else {
            return Ok(false);
        };
        match &c.index {
            ChunkIndex::Map { dirty: false, .. } => Ok(false),
            ChunkIndex::Map { .. } => self.rebuild_tree(id),
            ChunkIndex::Append(_) => self.append_commit(id, phase2),
        }
    }

    fn rebuild_tree(&mut self, id: ObjId) -> Result<bool> {
        let sizes = self.sizes;
        let DataStore::Chunked(c) = &self.dataset(id).store else {
            return Ok(false);
        };
        let ChunkIndex::Map { entries, .. } = &c.index else {
            return Ok(false);
        };
        let ndims = c.chunk.len() + 1;
        let shape = NodeShape {
            sizes,
            k: CHUNK_K,
            ndims,
        };
        let sentinel = btree::sentinel(&c.chunk, ndims);
        let keyed: Vec<(ChunkKey, u64)> = entries
            .iter()
            .map(|(scaled, &(addr, size, mask))| {
                let mut offsets: Vec<u64> = scaled
                    .iter()
                    .zip(&c.chunk)
                    .map(|(s, &k)| s * u64::from(k))
                    .collect();
                offsets.push(0);
                (
                    ChunkKey {
                        size,
                        filter_mask: mask,
                        offsets,
                    },
                    addr,
                )
            })
            .collect();
        let mut nodes: Vec<(u64, Vec<u8>)> = Vec::new();
        let root = {
            let mut alloc = |len: usize| self.alloc(len as u64, Placement::Align(8));
            btree::build(shape, keyed, &sentinel, &mut alloc, &mut |a, b| {
                nodes.push((a, b.to_vec()));
                Ok(())
            })?
        };
        for (a, b) in nodes {
            self.write_at("writing a chunk index node", a, &b)?;
        }
        let DataStore::Chunked(c) = &mut self.dataset_mut(id).store else {
            unreachable!()
        };
        c.btree = root;
        if let ChunkIndex::Map { dirty, .. } = &mut c.index {
            *dirty = false;
        }
        Ok(true)
    }

    /// Creates a dataset at `path` relative to `from`.
    pub(crate) fn create_dataset(
        &mut self,
        from: ObjId,
        path: &str,
        spec: DatasetSpec,
    ) -> Result<ObjId> {
        self.check_usable()?;
        let (parent, name) = self.parent_for_new(from, path)?;
        let full = super::path::join(&self.objects[parent].path, name);
        let state = spec.validate(&full)?;
        let r = (|| {
            let mut state = state;
            // a small contiguous dataset starts as its fill value, in memory
            let n = (state.dims.iter().product::<u64>()) as usize;
            let small = if n * state.elem <= STAGED_CONTIGUOUS {
                state.fill_buffer(n)
            } else {
                Vec::new()
            };
            if let DataStore::Contiguous { addr, size, staged } = &mut state.store {
                if *size > 0 {
                    *addr = self.alloc(*size, Placement::Align(8))?;
                    if *size as usize <= STAGED_CONTIGUOUS {
                        *staged = Some(small);
                    } else {
                        // fresh space reads as zeros; a reopened file's old tail may not
                        let zero = vec![0u8; state.elem];
                        let fill = state.fill.as_deref().unwrap_or(&zero);
                        if fill.iter().any(|&b| b != 0) || *addr < self.dirty_below {
                            self.fill_contiguous(*addr, *size, fill)?;
                        }
                    }
                }
            }
            self.add_object(full, Kind::Dataset(Box::new(state)))
        })();
        let id = self.poison_on(r)?;
        self.init_append(id);
        self.link(parent, name, id);
        Ok(id)
    }

    fn fill_contiguous(&mut self, addr: u64, size: u64, fill: &[u8]) -> Result<()> {
        const STEP: usize = 1 << 20;
        let per = (STEP / fill.len()).max(1);
        let block = fill.repeat(per);
        let mut off = 0u64;
        while off < size {
            let n = (size - off).min(block.len() as u64) as usize;
            self.write_at("writing the fill value", addr + off, &block[..n])?;
            off += n as u64;
        }
        Ok(())
    }
}

/// What a builder asks for, before validation.
#[derive(Clone, Debug)]
pub(crate) struct DatasetSpec {
    pub dtype: Datatype,
    pub shape: Option<Vec<u64>>,
    pub max_shape: Option<Vec<u64>>,
    pub layout: Option<StorageLayout>,
    pub fill: Option<Vec<u8>>,
    pub filters: Pipeline,
    pub threads: usize,
}

impl DatasetSpec {
    fn validate(self, path: &str) -> Result<DatasetState> {
        self.dtype.validate().map_err(|e| type_error(path, e))?;
        let elem = self.dtype.size() as usize;
        let dims = self
            .shape
            .ok_or_else(|| invalid(path, "no shape given (call .shape(...))"))?;
        if dims.len() > MAX_RANK {
            return Err(invalid(
                path,
                format!("rank {} exceeds HDF5's maximum of {MAX_RANK}", dims.len()),
            ));
        }
        let max = match self.max_shape {
            Some(m) if m != dims => {
                if m.len() != dims.len() {
                    return Err(invalid(
                        path,
                        format!("max shape {m:?} has a different rank from shape {dims:?}"),
                    ));
                }
                if let Some(i) = (0..dims.len()).find(|&i| m[i] != UNLIMITED && m[i] < dims[i]) {
                    return Err(invalid(
                        path,
                        format!("max shape {m:?} is smaller than shape {dims:?} in dim {i}"),
                    ));
                }
                Some(m)
            }
            _ => None,
        };
        let n: u64 = dims
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .ok_or_else(|| invalid(path, "shape overflows"))?;
        let bytes = n
            .checked_mul(elem as u64)
            .ok_or_else(|| invalid(path, "shape overflows"))?;
        let layout = self.layout.unwrap_or(StorageLayout::Contiguous);
        if max.is_some() && !matches!(layout, StorageLayout::Chunked(_)) {
            return Err(invalid(
                path,
                "an extendable dataset (max shape ≠ shape) must be chunked",
            ));
        }
        if !self.filters.is_empty() && !matches!(layout, StorageLayout::Chunked(_)) {
            return Err(invalid(
                path,
                "filters need chunked storage (call .chunk(...) or .frames(...))",
            ));
        }
        if let Some(f) = &self.fill {
            if f.len() != elem {
                return Err(invalid(path, "the fill value must be one element"));
            }
            self.dtype
                .check_values(f)
                .map_err(|e| type_error(path, e))?;
        }
        let store = match layout {
            StorageLayout::Compact => {
                if bytes as usize > MAX_COMPACT_BYTES {
                    return Err(invalid(
                        path,
                        format!("compact data of {bytes} bytes exceeds the {MAX_COMPACT_BYTES}-byte limit"),
                    ));
                }
                let fill = DatasetState {
                    dtype: self.dtype.clone(),
                    elem,
                    dims: vec![],
                    max: None,
                    fill: self.fill.clone(),
                    filters: Pipeline::default(),
                    store: DataStore::Compact(vec![]),
                    raw_dtype: None,
                };
                DataStore::Compact(fill.fill_buffer(n as usize))
            }
            StorageLayout::Contiguous => DataStore::Contiguous {
                staged: None,
                addr: UNDEF,
                size: bytes,
            },
            StorageLayout::Chunked(chunk) => {
                if dims.is_empty() {
                    return Err(invalid(path, "a scalar dataset cannot be chunked"));
                }
                if chunk.len() != dims.len() {
                    return Err(invalid(
                        path,
                        format!(
                            "chunk shape {chunk:?} has rank {} but the dataset has rank {}",
                            chunk.len(),
                            dims.len()
                        ),
                    ));
                }
                if let Some(i) = chunk.iter().position(|&c| c == 0) {
                    return Err(invalid(
                        path,
                        format!("chunk shape {chunk:?} has a zero in dim {i}"),
                    ));
                }
                let maxd = max.as_ref().unwrap_or(&dims);
                for i in 0..dims.len() {
                    if chunk[i] > u64::from(u32::MAX) {
                        return Err(invalid(
                            path,
                            format!("chunk dim {i} ({}) exceeds 2^32-1", chunk[i]),
                        ));
                    }
                    if maxd[i] != UNLIMITED && chunk[i] > maxd[i] && maxd[i] > 0 {
                        return Err(invalid(
                            path,
                            format!("chunk shape {chunk:?} is larger than the fixed dimension {i} of size {}", maxd[i]),
                        ));
                    }
                }
                let cb = chunk
                    .iter()
                    .try_fold(elem as u64, |a, &c| a.checked_mul(c))
                    .unwrap_or(u64::MAX);
                if cb > MAX_CHUNK_BYTES {
                    return Err(invalid(
                        path,
                        format!("a chunk of {chunk:?} holds {cb} bytes, more than the 4 GiB limit"),
                    ));
                }
                let chunk: Vec<u32> = chunk.iter().map(|&c| c as u32).collect();
                // appends along dim 0 when it can grow; any other dim stays fixed
                let appendable = max.as_ref().is_some_and(|m| m[0] != dims[0])
                    && max
                        .as_ref()
                        .is_some_and(|m| (1..dims.len()).all(|i| m[i] == dims[i]));
                let per_row: u64 = (1..dims.len())
                    .map(|i| dims[i].div_ceil(u64::from(chunk[i])))
                    .product();
                if appendable && !self.filters.is_empty() && per_row > 2 * u64::from(CHUNK_K) {
                    return Err(invalid(
                        path,
                        format!(
                            "a filtered extendable dataset may have at most {} chunks per frame; chunk {chunk:?} \
                             splits a frame into {per_row}",
                            2 * CHUNK_K
                        ),
                    ));
                }
                let index = if appendable {
                    ChunkIndex::Append(Box::new(super::append::AppendState::with_threads(
                        self.threads,
                        NodeShape {
                            sizes: Sizes::DEFAULT,
                            k: CHUNK_K,
                            ndims: chunk.len() + 1,
                        },
                        btree::sentinel(&chunk, chunk.len() + 1),
                        dims[0],
                        u64::from(chunk[0]),
                        dims[1..].iter().product::<u64>() as usize * elem,
                    )))
                } else {
                    ChunkIndex::Map {
                        entries: BTreeMap::new(),
                        dirty: false,
                    }
                };
                DataStore::Chunked(Chunked {
                    chunk,
                    chunk_bytes: cb as usize,
                    btree: UNDEF,
                    index,
                })
            }
        };
        Ok(DatasetState {
            dtype: self.dtype,
            elem,
            dims,
            max,
            fill: self.fill,
            filters: self.filters,
            store,
            raw_dtype: None,
        })
    }
}

/// Configures a new dataset; nothing is written until [`DatasetBuilder::create`].
#[must_use = "a builder does nothing until .create()"]
pub struct DatasetBuilder<T> {
    inner: Arc<Mutex<Inner>>,
    from: ObjId,
    path: String,
    spec: DatasetSpec,
    /// The datatype was given at run time (`datatype()`): data are raw bytes.
    raw: bool,
    _t: PhantomData<T>,
}

impl<T: H5Type> DatasetBuilder<T> {
    pub(crate) fn new(inner: Arc<Mutex<Inner>>, from: ObjId, path: &str) -> Self {
        DatasetBuilder {
            inner,
            from,
            path: path.to_string(),
            spec: DatasetSpec {
                dtype: T::datatype(),
                shape: None,
                max_shape: None,
                layout: None,
                fill: None,
                filters: Pipeline::default(),
                threads: 1,
            },
            raw: false,
            _t: PhantomData,
        }
    }

    /// The dataset's shape (an empty shape makes a scalar dataset).
    pub fn shape(mut self, dims: impl AsRef<[u64]>) -> Self {
        self.spec.shape = Some(dims.as_ref().to_vec());
        self
    }

    /// Maximum shape; [`UNLIMITED`] marks a dimension with no bound. Requires chunking.
    pub fn max_shape(mut self, dims: impl AsRef<[u64]>) -> Self {
        self.spec.max_shape = Some(dims.as_ref().to_vec());
        self
    }

    /// Chunked storage with chunks of this shape (same rank as the dataset).
    pub fn chunk(mut self, chunk: impl AsRef<[u64]>) -> Self {
        self.spec.layout = Some(StorageLayout::Chunked(chunk.as_ref().to_vec()));
        self
    }

    /// An extendable stack of frames: shape `(0, *frame)`, unlimited along dim 0,
    /// chunked one frame per chunk unless [`Self::chunk_frames`] or [`Self::chunk`]
    /// says otherwise. Frames are added with [`Dataset::append`].
    pub fn frames(mut self, frame: impl AsRef<[u64]>) -> Self {
        let frame = frame.as_ref();
        let mut shape = vec![0];
        shape.extend_from_slice(frame);
        let mut max = vec![UNLIMITED];
        max.extend_from_slice(frame);
        let c0 = match &self.spec.layout {
            Some(StorageLayout::Chunked(c)) if c.len() == shape.len() => c[0],
            _ => 1,
        };
        let mut chunk = vec![c0];
        chunk.extend_from_slice(frame);
        self.spec.shape = Some(shape);
        self.spec.max_shape = Some(max);
        self.spec.layout = Some(StorageLayout::Chunked(chunk));
        self
    }

    /// Frames per chunk along dim 0 (the other chunk dims keep their value, the whole
    /// frame by default). Call after [`Self::frames`] or [`Self::chunk`].
    pub fn chunk_frames(mut self, n: u64) -> Self {
        match &mut self.spec.layout {
            Some(StorageLayout::Chunked(c)) if !c.is_empty() => c[0] = n,
            _ => {
                let mut c = self.spec.shape.clone().unwrap_or_default();
                if let Some(first) = c.first_mut() {
                    *first = n;
                }
                self.spec.layout = Some(StorageLayout::Chunked(c));
            }
        }
        self
    }

    /// Adds the shuffle filter (usually before deflate or LZ4).
    pub fn shuffle(mut self) -> Self {
        self.spec.filters.filters.push(Filter::Shuffle);
        self
    }

    /// Adds the deflate (zlib) filter at `level` 0–9.
    pub fn deflate(mut self, level: u8) -> Self {
        self.spec
            .filters
            .filters
            .push(Filter::Deflate(level.min(9)));
        self
    }

    /// Adds the Fletcher-32 checksum filter (readers then detect corrupted chunks).
    pub fn fletcher32(mut self) -> Self {
        self.spec.filters.filters.push(Filter::Fletcher32);
        self
    }

    /// Adds the LZ4 filter (plugin 32004; h5py reads it with `hdf5plugin`).
    pub fn lz4(mut self) -> Self {
        self.spec.filters.filters.push(Filter::Lz4);
        self
    }

    /// Encodes filtered chunks of appended frames on `n` threads (default 1: on the
    /// appending thread). With `n` > 1, complete chunks go to `n` encoding threads that
    /// live as long as the dataset while `append` returns; at most `2n` chunks are in
    /// flight, and they are written in append order (a commit waits for all of them).
    pub fn threads(mut self, n: usize) -> Self {
        self.spec.threads = n.max(1);
        self
    }

    /// Adds bitshuffle + LZ4 (plugin 32008, what many X-ray detectors write; h5py reads
    /// it with `hdf5plugin`). It replaces shuffle and a compressor.
    pub fn bitshuffle_lz4(mut self) -> Self {
        self.spec.filters.filters.push(Filter::BitshuffleLz4);
        self
    }

    /// Replaces the filter pipeline.
    pub fn filters(mut self, pipeline: Pipeline) -> Self {
        self.spec.filters = pipeline;
        self
    }

    /// Contiguous storage (the default without a chunk shape).
    pub fn contiguous(mut self) -> Self {
        self.spec.layout = Some(StorageLayout::Contiguous);
        self
    }

    /// Compact storage: the data lives in the object header (small datasets only).
    pub fn compact(mut self) -> Self {
        self.spec.layout = Some(StorageLayout::Compact);
        self
    }

    /// The value that elements never written read as (default: zero).
    pub fn fill_value(mut self, value: T) -> Self {
        self.spec.fill = Some(T::store_slice(std::slice::from_ref(&value)).into_owned());
        self
    }

    /// Creates the dataset. It is visible to readers after the next commit.
    pub fn create(self) -> Result<Dataset<T>> {
        let dtype = self.spec.dtype.clone();
        let rust = std::mem::size_of::<T>();
        if !self.raw && dtype.size() as usize != rust {
            let e = TypeError::SizeMismatch {
                rust,
                declared: dtype.size(),
            };
            return Err(type_error(&self.path, e));
        }
        let id = lock(&self.inner).create_dataset(self.from, &self.path, self.spec)?;
        Ok(Dataset {
            inner: self.inner,
            id,
            check: Dataset::<T>::checker(&dtype),
            _t: PhantomData,
        })
    }

    /// Creates the dataset and writes all of its data.
    pub fn create_with_data(self, data: &[T]) -> Result<Dataset<T>> {
        // refuse data of the wrong length before the dataset exists
        if let Some(shape) = &self.spec.shape {
            let n: u64 = shape.iter().product();
            // raw data (a run-time datatype) is counted in bytes
            let per = if self.raw {
                u64::from(self.spec.dtype.size())
            } else {
                1
            };
            if n.checked_mul(per) != Some(data.len() as u64) {
                return Err(invalid(
                    &self.path,
                    format!(
                        "data holds {} {} but the shape {shape:?} needs {n} elements",
                        data.len(),
                        if self.raw { "bytes" } else { "elements" }
                    ),
                ));
            }
        }
        let ds = self.create()?;
        ds.write(data)?;
        Ok(ds)
    }
}

impl DatasetBuilder<u8> {
    /// Stores elements of `dtype`, a datatype built at run time, instead of `u8`: the
    /// data given to `write`, `write_region`, `append` and `create_with_data` are then
    /// raw bytes, `dtype.size()` per element, laid out as `dtype` says (numbers in its
    /// byte order, compound fields at their offsets). They are checked against the type
    /// ([`Datatype::check_values`]); an invalid type is refused by `create()`.
    pub fn datatype(mut self, dtype: Datatype) -> Self {
        self.spec.dtype = dtype;
        self.raw = true;
        self
    }

    /// The fill value as raw bytes of one element of the dataset's datatype.
    pub fn fill_value_bytes(mut self, value: &[u8]) -> Self {
        self.spec.fill = Some(value.to_vec());
        self
    }
}

/// A handle to a dataset of element type `T`.
pub struct Dataset<T> {
    pub(crate) inner: Arc<Mutex<Inner>>,
    pub(crate) id: ObjId,
    /// How written bytes are checked against the datatype (enumeration members,
    /// strings); `Err` for variable-length strings, whose raw bytes are refused.
    check: Option<std::result::Result<Arc<ValueChecker>, TypeError>>,
    _t: PhantomData<T>,
}

impl<T: H5Type> Dataset<T> {
    /// A handle to the existing dataset at absolute `path`, whose type must be `T`'s.
    pub(crate) fn open(inner: Arc<Mutex<Inner>>, path: &str) -> Result<Dataset<T>> {
        let (id, dtype) = {
            let g = lock(&inner);
            let names = super::path::split(path)?;
            let id = g.resolve(0, &names)?;
            let Kind::Dataset(d) = &g.objects[id].kind else {
                return Err(Error::NotFound {
                    path: path.to_string(),
                    reason: "not a dataset",
                });
            };
            // a reopened dataset's type is known by its encoded bytes
            let matches = match &d.raw_dtype {
                Some(raw) => {
                    let mut ours = Vec::new();
                    T::datatype().encode(&mut ours);
                    // a version-1 header pads message bodies to 8 bytes
                    raw.starts_with(&ours)
                        && raw.len() - ours.len() < 8
                        && raw[ours.len()..].iter().all(|&b| b == 0)
                }
                None => d.dtype == T::datatype(),
            };
            if !matches {
                return Err(invalid(
                    path,
                    format!("the dataset's datatype is not {:?}", T::datatype()),
                ));
            }
            (id, T::datatype())
        };
        if let Kind::Dataset(d) = &mut lock(&inner).objects[id].kind {
            d.dtype = dtype.clone();
        }
        Ok(Dataset {
            inner,
            id,
            check: Dataset::<T>::checker(&dtype),
            _t: PhantomData,
        })
    }
    fn checker(dtype: &Datatype) -> Option<std::result::Result<Arc<ValueChecker>, TypeError>> {
        dtype
            .has_constraints()
            .then(|| ValueChecker::new(dtype).map(Arc::new))
    }

    /// Checks bytes about to be written against the datatype (see [`Datatype::check_values`]).
    fn check_bytes(&self, data: &[u8]) -> Result<()> {
        match &self.check {
            None => Ok(()),
            Some(Ok(c)) => c.check(data).map_err(|e| type_error(&self.path(), e)),
            Some(Err(e)) => Err(type_error(&self.path(), e.clone())),
        }
    }

    /// Writes the whole dataset (`data` in row-major order).
    pub fn write(&self, data: &[T]) -> Result<()> {
        let bytes = T::store_slice(data);
        self.check_bytes(&bytes)?;
        let mut inner = lock(&self.inner);
        let dims = inner.dataset(self.id).dims.clone();
        let zeros = vec![0; dims.len()];
        inner.write_region(self.id, &zeros, &dims, &bytes)
    }

    /// Writes a rectangular region: `count[i]` elements from `start[i]` in each dim.
    pub fn write_region(&self, start: &[u64], count: &[u64], data: &[T]) -> Result<()> {
        let bytes = T::store_slice(data);
        self.check_bytes(&bytes)?;
        lock(&self.inner).write_region(self.id, start, count, &bytes)
    }

    /// Appends whole frames along dim 0 (`data` holds any number of frames, row-major).
    pub fn append(&self, data: &[T]) -> Result<()> {
        let bytes = T::store_slice(data);
        self.check_bytes(&bytes)?;
        lock(&self.inner).append(self.id, &bytes)
    }

    /// Appends whole frames given as raw bytes in the element type's byte order
    /// (native, as written by the datatype); the length must be a multiple of a frame.
    pub fn append_bytes(&self, data: &[u8]) -> Result<()> {
        self.check_bytes(data)?;
        lock(&self.inner).append(self.id, data)
    }

    /// The dataset's filter pipeline: `pipeline().encode(raw_chunk, element_size)`
    /// produces what [`Self::append_encoded`] takes, on any thread.
    pub fn pipeline(&self) -> Pipeline {
        lock(&self.inner).dataset(self.id).filters.clone()
    }

    /// Encodes one chunk for [`Self::append_encoded`]: `frames` holds exactly the frames
    /// of one chunk (`chunk_frames` of them), row-major, for a dataset appended in chunks
    /// of whole frames. The filters run on the calling thread without holding the file,
    /// so several threads can encode chunks at once while one appends them in order.
    pub fn encode_chunk(&self, frames: &[T]) -> Result<crate::filters::EncodedChunk> {
        let bytes = T::store_slice(frames);
        self.check_bytes(&bytes)?;
        let (pipeline, elem, chunk_bytes, c0) = lock(&self.inner).chunk_encoding(self.id)?;
        if bytes.len() != chunk_bytes {
            return Err(invalid(
                &self.path(),
                format!(
                    "a chunk holds {c0} frames ({chunk_bytes} bytes), got {} bytes",
                    bytes.len()
                ),
            ));
        }
        Ok(pipeline.encode(&bytes, elem))
    }

    /// Appends one whole chunk of frames encoded by [`Self::encode_chunk`] (or by
    /// [`Self::pipeline`]): for datasets whose chunks hold whole frames, at a chunk
    /// boundary (no partial chunk buffered).
    pub fn append_encoded(&self, chunk: &crate::filters::EncodedChunk) -> Result<()> {
        lock(&self.inner).append_encoded(self.id, chunk)
    }

    /// Changes the current shape within the maximum shape. Elements outside the old
    /// shape read as the fill value.
    pub fn resize(&self, dims: impl AsRef<[u64]>) -> Result<()> {
        lock(&self.inner).resize(self.id, dims.as_ref())
    }

    /// Length along dim 0 (frames appended so far); 1 for a scalar.
    pub fn len(&self) -> u64 {
        lock(&self.inner)
            .dataset(self.id)
            .dims
            .first()
            .copied()
            .unwrap_or(1)
    }

    /// True when dim 0 has length 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dataset's current shape.
    pub fn shape(&self) -> Vec<u64> {
        lock(&self.inner).dataset(self.id).dims.clone()
    }

    /// The dataset's absolute path.
    pub fn path(&self) -> String {
        lock(&self.inner).objects[self.id].path.clone()
    }

    /// Starts writing an attribute of this dataset.
    pub fn attr(&self, name: &str) -> AttrWriter {
        AttrWriter::new(self.inner.clone(), self.id, name)
    }
}

impl<T> std::fmt::Debug for Dataset<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset").field("id", &self.id).finish()
    }
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<S: Send>() {}
    is_send::<Dataset<u8>>();
    let _ = Error::Finished;
}
