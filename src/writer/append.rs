//! Appending frames along dim 0 with bounded memory.
//!
//! At most one chunk row (the chunks that share a dim-0 range) is buffered per
//! dataset. A full row is written to fresh space and indexed at once; a commit that
//! finds a partial row writes it too (padded with fill), remembering the chunk
//! addresses so that later frames complete the same chunks in place. Rewriting a
//! committed chunk in place is safe for raw chunks: the committed frames' bytes do
//! not change, so any torn state still holds them.

use super::btree::{AllocFn, BTreeAppender};
use super::dataset::{ChunkIndex, Chunked, DataStore};
use super::encode_pool::EncodePool;
use super::error::{invalid, Error, Result};
use super::inner::{Inner, Kind, ObjId};
use super::selection;
use crate::filters::{EncodedChunk, Pipeline};
use crate::format::btree_v1::{ChunkKey, NodeShape};
use crate::format::dataspace::UNLIMITED;
use crate::space::Placement;
use std::collections::VecDeque;

/// State of a dataset written by appending frames.
pub(crate) struct AppendState {
    pub tree: BTreeAppender,
    /// Frames per chunk.
    c0: u64,
    /// Dim-0 index of the current chunk row.
    row: u64,
    /// Frames of the current row, row-major, `buffered` of them valid.
    buf: Vec<u8>,
    buffered: u64,
    /// Frames of the current row already written to `slots`.
    emitted: u64,
    /// Addresses of the current row's chunks once written.
    slots: Option<Vec<u64>>,
    /// One chunk being assembled.
    scratch: Vec<u8>,
    /// Bytes of one frame (cached for the hot path).
    frame_bytes: usize,
    /// Threads that encode filtered chunks.
    pub threads: usize,
    /// The encoding threads (filtered datasets, `threads` > 1), started on first use.
    pool: Option<EncodePool>,
    /// Complete rows whose chunks are in the pool, oldest first: (row, chunks).
    in_pool: VecDeque<(u64, usize)>,
    /// Chunks of the oldest row in the pool already written: (address, size, mask).
    written: Vec<(u64, u32, u32)>,
}

impl AppendState {
    /// The last `n` chunk index entries (those of the current row when it is on disk).
    pub fn tree_tail(&self, n: usize) -> Vec<(ChunkKey, u64)> {
        self.tree.tail(n)
    }

    /// The state of a dataset reopened for appending: `tree` continues the index,
    /// `row` is the current chunk row, whose first `buffered` frames (`buf`) are on disk
    /// in the chunks at `slots` when `buffered` > 0.
    #[allow(clippy::too_many_arguments)]
    pub fn reopened(
        tree: BTreeAppender,
        c0: u64,
        row: u64,
        buf: Vec<u8>,
        buffered: u64,
        slots: Option<Vec<u64>>,
        frame_bytes: usize,
        threads: usize,
    ) -> Self {
        AppendState {
            tree,
            c0,
            row,
            buf,
            buffered,
            emitted: buffered,
            slots,
            scratch: Vec::new(),
            frame_bytes,
            threads: threads.max(1),
            pool: None,
            in_pool: VecDeque::new(),
            written: Vec::new(),
        }
    }
    /// [`Self::new`] with `threads` encoding threads.
    pub fn with_threads(
        threads: usize,
        shape: NodeShape,
        sentinel: ChunkKey,
        len: u64,
        c0: u64,
        frame_bytes: usize,
    ) -> Self {
        let mut s = Self::new(shape, sentinel, len, c0, frame_bytes);
        s.threads = threads.max(1);
        s
    }

    /// An empty appender for a dataset whose dim 0 starts at `len` frames.
    pub fn new(
        shape: NodeShape,
        sentinel: ChunkKey,
        len: u64,
        c0: u64,
        frame_bytes: usize,
    ) -> Self {
        AppendState {
            tree: BTreeAppender::new(shape, sentinel),
            c0,
            row: len / c0,
            buf: Vec::new(),
            // frames of a first partial row are set up by `Inner::init_append`
            buffered: 0,
            emitted: 0,
            slots: None,
            scratch: Vec::new(),
            frame_bytes,
            threads: 1,
            pool: None,
            in_pool: VecDeque::new(),
            written: Vec::new(),
        }
    }
}

/// The geometry of one dataset's chunk rows.
struct Geometry {
    elem: usize,
    frame_dims: Vec<u64>,
    frame_bytes: usize,
    chunk: Vec<u64>,
    chunk_bytes: usize,
    /// Chunks per row along each frame dim.
    grid: Vec<u64>,
    /// A chunk holds whole frames (one chunk per row).
    whole_frames: bool,
}

impl Inner {
    fn geometry(&self, id: ObjId) -> Geometry {
        let d = self.dataset(id);
        let DataStore::Chunked(c) = &d.store else {
            unreachable!("append on a chunked dataset")
        };
        let frame_dims = d.dims[1..].to_vec();
        let chunk: Vec<u64> = c.chunk.iter().map(|&x| u64::from(x)).collect();
        let grid: Vec<u64> = frame_dims
            .iter()
            .zip(&chunk[1..])
            .map(|(f, c)| f.div_ceil(*c))
            .collect();
        let frame_bytes = frame_dims.iter().product::<u64>() as usize * d.elem;
        Geometry {
            elem: d.elem,
            whole_frames: frame_dims == chunk[1..],
            frame_dims,
            frame_bytes,
            chunk_bytes: c.chunk_bytes,
            chunk,
            grid,
        }
    }

    fn append_state(&mut self, id: ObjId) -> Option<&mut AppendState> {
        match &mut self.dataset_mut(id).store {
            DataStore::Chunked(Chunked {
                index: ChunkIndex::Append(a),
                ..
            }) => Some(a),
            _ => None,
        }
    }

    /// The hot path of [`Self::append`]: frames that stay inside the buffered chunk row
    /// are copied with no allocation. Returns false when the general path must run.
    fn append_in_row(&mut self, id: ObjId, data: &[u8]) -> bool {
        if self.finished || self.poisoned.is_some() {
            return false;
        }
        let obj = &mut self.objects[id];
        let Kind::Dataset(d) = &mut obj.kind else {
            return false;
        };
        let DataStore::Chunked(Chunked {
            index: ChunkIndex::Append(st),
            ..
        }) = &mut d.store
        else {
            return false;
        };
        let fb = st.frame_bytes;
        if fb == 0 || data.len() % fb != 0 || d.max.as_ref().is_none_or(|m| m[0] != UNLIMITED) {
            return false;
        }
        let n = (data.len() / fb) as u64;
        let need = st.c0 as usize * fb;
        if st.buffered + n >= st.c0 || st.buf.len() < need {
            return false;
        }
        let at = st.buffered as usize * fb;
        st.buf[at..at + data.len()].copy_from_slice(data);
        st.buffered += n;
        d.dims[0] += n;
        obj.dirty = true;
        true
    }

    /// Appends whole frames (raw bytes) along dim 0.
    pub(crate) fn append(&mut self, id: ObjId, data: &[u8]) -> Result<()> {
        if self.append_in_row(id, data) {
            return Ok(());
        }
        self.check_usable()?;
        let path = self.objects[id].path.clone();
        let d = self.dataset(id);
        if d.dims.is_empty() || !matches!(d.store, DataStore::Chunked(_)) {
            return Err(invalid(
                &path,
                "append needs a chunked dataset with at least one dimension",
            ));
        }
        let frame_bytes = d.dims[1..].iter().product::<u64>() as usize * d.elem;
        if frame_bytes == 0 {
            return Err(invalid(&path, "frames of zero elements cannot be appended"));
        }
        if data.len() % frame_bytes != 0 {
            return Err(invalid(
                &path,
                format!(
                    "appended data holds {} bytes, not a whole number of {}-byte frames of shape {:?}",
                    data.len(),
                    frame_bytes,
                    &d.dims[1..]
                ),
            ));
        }
        let n = (data.len() / frame_bytes) as u64;
        let old = d.dims[0];
        let max0 = d.max.as_ref().map_or(old, |m| m[0]);
        if max0 != UNLIMITED && old + n > max0 {
            return Err(invalid(
                &path,
                format!("appending {n} frames to {old} exceeds the maximum dim 0 of {max0}"),
            ));
        }
        if n == 0 {
            return Ok(());
        }
        if self.append_state(id).is_none() {
            // an index kept in memory: grow, then write the new rows as a region
            let mut dims = self.dataset(id).dims.clone();
            dims[0] += n;
            self.set_dims(id, dims.clone());
            let mut start = vec![0; dims.len()];
            start[0] = old;
            let mut count = dims.clone();
            count[0] = n;
            return self.write_region(id, &start, &count, data);
        }
        let r = self.append_frames(id, data, n);
        self.poison_on(r)
    }

    fn set_dims(&mut self, id: ObjId, dims: Vec<u64>) {
        self.dataset_mut(id).dims = dims;
        self.objects[id].dirty = true;
    }

    fn append_frames(&mut self, id: ObjId, data: &[u8], n: u64) -> Result<()> {
        let g = self.geometry(id);
        let mut pos = 0u64;
        while pos < n {
            let st = self.append_state(id).expect("append state");
            let c0 = st.c0;
            if st.buffered == 0 && g.whole_frames && n - pos >= c0 {
                // whole chunks straight from the caller's buffer
                let bytes =
                    &data[(pos as usize) * g.frame_bytes..((pos + c0) as usize) * g.frame_bytes];
                let row = st.row;
                let filtered = !self.dataset(id).filters.is_empty();
                if filtered && st_threads(self, id) > 1 {
                    let mut image = self.image_buffer(id, &g)?;
                    image.extend_from_slice(bytes);
                    self.queue_row(id, &g, row, vec![image])?;
                    let st = self.append_state(id).expect("append state");
                    st.row += 1;
                    pos += c0;
                    continue;
                }
                let chunk = if !filtered {
                    let addr = self.alloc(g.chunk_bytes as u64, Placement::Align(8))?;
                    self.write_at("writing a chunk", addr, bytes)?;
                    (addr, g.chunk_bytes as u32, 0)
                } else {
                    let enc = self.encode_here(id, &g, bytes);
                    let w = self.write_encoded(std::slice::from_ref(&enc));
                    self.spare_out = enc.bytes;
                    w?[0]
                };
                self.index_row(id, &g, row, &[chunk], false)?;
                let st = self.append_state(id).expect("append state");
                st.row += 1;
                pos += c0;
                continue;
            }
            let take = (c0 - st.buffered).min(n - pos);
            let need = (c0 as usize) * g.frame_bytes;
            if st.buf.len() < need {
                st.buf.resize(need, 0);
            }
            let at = st.buffered as usize * g.frame_bytes;
            let len = take as usize * g.frame_bytes;
            let from = pos as usize * g.frame_bytes;
            st.buf[at..at + len].copy_from_slice(&data[from..from + len]);
            st.buffered += take;
            pos += take;
            if st.buffered == c0 {
                self.emit_row(id, &g)?;
                let st = self.append_state(id).expect("append state");
                st.row += 1;
                st.buffered = 0;
                st.emitted = 0;
                st.slots = None;
            }
        }
        let mut dims = self.dataset(id).dims.clone();
        dims[0] += n;
        self.set_dims(id, dims);
        Ok(())
    }

    /// The key of chunk number `j` (row-major in the chunk grid) of chunk row `row`.
    fn chunk_key(g: &Geometry, row: u64, j: usize, size: u32, mask: u32) -> ChunkKey {
        let mut offsets = Vec::with_capacity(g.chunk.len() + 1);
        offsets.push(row * g.chunk[0]);
        let mut rem = j as u64;
        let mut rest = vec![0u64; g.grid.len()];
        for d in (0..g.grid.len()).rev() {
            rest[d] = rem % g.grid[d];
            rem /= g.grid[d];
        }
        offsets.extend(rest.iter().zip(&g.chunk[1..]).map(|(i, c)| i * c));
        offsets.push(0);
        ChunkKey {
            size,
            filter_mask: mask,
            offsets,
        }
    }

    /// Runs `f` on the dataset's tree with an allocator that may grow the file.
    fn with_tree(
        &mut self,
        id: ObjId,
        f: impl FnOnce(&mut BTreeAppender, &mut AllocFn<'_, Error>) -> Result<()>,
    ) -> Result<()> {
        let mut tree = self.append_state(id).expect("append state").tree.take();
        let r = f(&mut tree, &mut |len| {
            self.alloc(len as u64, Placement::Align(8))
        });
        self.append_state(id).expect("append state").tree = tree;
        r
    }

    /// Adds a new chunk row's chunks (address, size, mask) to the index, in one leaf
    /// when a later commit may have to replace them (filtered chunks).
    fn index_row(
        &mut self,
        id: ObjId,
        g: &Geometry,
        row: u64,
        chunks: &[(u64, u32, u32)],
        same_leaf: bool,
    ) -> Result<()> {
        self.with_tree(id, |tree, alloc| {
            if same_leaf {
                tree.reserve_in_leaf(chunks.len(), alloc)?;
            }
            for (j, &(addr, size, mask)) in chunks.iter().enumerate() {
                tree.push(Self::chunk_key(g, row, j, size, mask), addr, alloc)?;
            }
            Ok(())
        })
    }

    /// Writes the buffered frames of the current row into their chunks: all of each
    /// chunk the first time, then only the frames added since.
    fn emit_row(&mut self, id: ObjId, g: &Geometry) -> Result<()> {
        let fill = {
            let d = self.dataset(id);
            d.fill_buffer(g.chunk_bytes / g.elem)
        };
        let st = self.append_state(id).expect("append state");
        let (row, buffered, emitted) = (st.row, st.buffered, st.emitted);
        if buffered == emitted && st.slots.is_some() {
            return Ok(());
        }
        let nchunks: u64 = g.grid.iter().product();
        let first_time = st.slots.is_none();
        if !self.dataset(id).filters.is_empty() {
            return self.emit_filtered_row(id, g, &fill, first_time);
        }
        let st = self.append_state(id).expect("append state");
        let plane = g.chunk_bytes / g.chunk[0] as usize; // bytes of one frame inside a chunk
        let mut addrs = st.slots.clone().unwrap_or_default();
        let mut scratch = std::mem::take(&mut st.scratch);
        let buf = std::mem::take(&mut st.buf);
        let r = (|| {
            for j in 0..nchunks as usize {
                let bytes: &[u8] = if g.whole_frames {
                    if first_time {
                        scratch.clear();
                        scratch.extend_from_slice(&buf[..buffered as usize * g.frame_bytes]);
                        scratch.extend_from_slice(&fill[buffered as usize * plane..]);
                        &scratch
                    } else {
                        &buf[..buffered as usize * g.frame_bytes]
                    }
                } else {
                    scratch.clear();
                    scratch.extend_from_slice(&fill);
                    self.gather_chunk(g, j, buffered, &buf, &mut scratch);
                    &scratch
                };
                if first_time {
                    let addr = self.alloc(g.chunk_bytes as u64, Placement::Align(8))?;
                    self.write_at("writing a chunk", addr, bytes)?;
                    addrs.push(addr);
                } else {
                    let (a, b) = (emitted as usize * plane, buffered as usize * plane);
                    self.write_at(
                        "completing a chunk in place",
                        addrs[j] + a as u64,
                        &bytes[a..b],
                    )?;
                }
            }
            Ok(())
        })();
        let st = self.append_state(id).expect("append state");
        st.scratch = scratch;
        st.buf = buf;
        r?;
        if first_time {
            let chunks: Vec<(u64, u32, u32)> = addrs
                .iter()
                .map(|&a| (a, g.chunk_bytes as u32, 0))
                .collect();
            self.index_row(id, g, row, &chunks, false)?;
        }
        let st = self.append_state(id).expect("append state");
        st.slots = Some(addrs);
        st.emitted = buffered;
        Ok(())
    }

    /// [`Self::emit_row`] for filtered chunks: every chunk of the row is encoded whole
    /// (frames not yet appended are fill) into fresh space. The first time the row is
    /// indexed; later, its entries are replaced (copy-on-write of the edge leaf).
    fn emit_filtered_row(
        &mut self,
        id: ObjId,
        g: &Geometry,
        fill: &[u8],
        first_time: bool,
    ) -> Result<()> {
        let st = self.append_state(id).expect("append state");
        let (row, buffered, threads) = (st.row, st.buffered, st.threads);
        if threads > 1 && first_time && buffered == st.c0 {
            // a complete row: into the pool, written when encoded
            let images = self.row_images(id, g, fill)?;
            return self.queue_row(id, g, row, images);
        }
        // rows must reach the index in order
        self.drain_queue(id, g)?;
        let images = self.row_images(id, g, fill)?;
        let encoded = self.encode_images(id, g, images)?;
        let chunks = self.write_encoded(&encoded)?;
        if first_time {
            self.index_row(id, g, row, &chunks, true)?;
        } else {
            let entries: Vec<(ChunkKey, u64)> = chunks
                .iter()
                .enumerate()
                .map(|(j, &(a, size, mask))| (Self::chunk_key(g, row, j, size, mask), a))
                .collect();
            self.with_tree(id, |tree, alloc| tree.replace_tail(entries, alloc))?;
        }
        let st = self.append_state(id).expect("append state");
        st.slots = Some(chunks.iter().map(|c| c.0).collect());
        st.emitted = buffered;
        Ok(())
    }

    /// Raw images of every chunk of the current row (frames not appended are fill).
    fn row_images(&mut self, id: ObjId, g: &Geometry, fill: &[u8]) -> Result<Vec<Vec<u8>>> {
        let st = self.append_state(id).expect("append state");
        let buffered = st.buffered as usize;
        let buf = std::mem::take(&mut st.buf);
        let plane = g.chunk_bytes / g.chunk[0] as usize;
        let nchunks = g.grid.iter().product::<u64>() as usize;
        let mut images = Vec::with_capacity(nchunks);
        for j in 0..nchunks {
            let mut img = match self.image_buffer(id, g) {
                Ok(b) => b,
                Err(e) => {
                    self.append_state(id).expect("append state").buf = buf;
                    return Err(e);
                }
            };
            if g.whole_frames {
                img.extend_from_slice(&buf[..buffered * g.frame_bytes]);
                img.extend_from_slice(&fill[buffered * plane..]);
            } else {
                img.extend_from_slice(fill);
                self.gather_chunk(g, j, buffered as u64, &buf, &mut img);
            }
            images.push(img);
        }
        self.append_state(id).expect("append state").buf = buf;
        Ok(images)
    }

    /// An empty buffer for a chunk image: from the encoding pool when the dataset
    /// encodes on several threads (starting the pool on first use), else a new one.
    fn image_buffer(&mut self, id: ObjId, g: &Geometry) -> Result<Vec<u8>> {
        let st = self.append_state(id).expect("append state");
        if st.threads <= 1 {
            return Ok(Vec::with_capacity(g.chunk_bytes));
        }
        if st.pool.is_none() {
            let threads = st.threads;
            let pool = EncodePool::new(&self.dataset(id).filters, g.elem, threads)?;
            self.append_state(id).expect("append state").pool = Some(pool);
        }
        let st = self.append_state(id).expect("append state");
        let mut b = st.pool.as_mut().expect("pool").image_buffer();
        b.reserve(g.chunk_bytes);
        Ok(b)
    }

    /// Encodes one chunk on the appending thread, reusing the file's encoding buffers.
    fn encode_here(&mut self, id: ObjId, g: &Geometry, raw: &[u8]) -> EncodedChunk {
        let out = std::mem::take(&mut self.spare_out);
        let filters = &self.objects[id].kind;
        let Kind::Dataset(d) = filters else {
            unreachable!("encoding a dataset's chunk")
        };
        d.filters
            .encode_with(raw, g.elem, &mut self.encode_scratch, out)
    }

    /// Encodes `images` now, in order: in the dataset's pool when it has one (after
    /// [`Self::drain_queue`]), else on the appending thread.
    fn encode_images(
        &mut self,
        id: ObjId,
        g: &Geometry,
        images: Vec<Vec<u8>>,
    ) -> Result<Vec<EncodedChunk>> {
        match self.append_state(id).expect("append state").pool.as_mut() {
            Some(pool) => pool.encode_all(images),
            None => Ok(images
                .iter()
                .map(|img| self.encode_here(id, g, img))
                .collect()),
        }
    }

    /// Writes encoded chunks to fresh space, in order: (address, size, mask) each.
    fn write_encoded(
        &mut self,
        encoded: &[crate::filters::EncodedChunk],
    ) -> Result<Vec<(u64, u32, u32)>> {
        encoded
            .iter()
            .map(|e| {
                let addr = self.alloc(e.bytes.len() as u64, Placement::Align(8))?;
                self.write_at("writing a filtered chunk", addr, &e.bytes)?;
                Ok((addr, e.bytes.len() as u32, e.mask))
            })
            .collect()
    }

    /// Hands a complete row's chunk images (from [`Self::image_buffer`]) to the pool.
    /// A chunk is written when the pool is full and it is the oldest, or at the next
    /// commit: the order of writes, so the file, depends only on the calls made.
    fn queue_row(&mut self, id: ObjId, g: &Geometry, row: u64, images: Vec<Vec<u8>>) -> Result<()> {
        let st = self.append_state(id).expect("append state");
        st.in_pool.push_back((row, images.len()));
        for img in images {
            let full = self
                .append_state(id)
                .and_then(|s| s.pool.as_ref())
                .expect("pool")
                .full();
            if full {
                self.write_next_encoded(id, g)?;
            }
            let st = self.append_state(id).expect("append state");
            st.pool.as_mut().expect("pool").submit(img)?;
        }
        Ok(())
    }

    /// Writes the pool's oldest chunk, waiting until it is encoded; indexes its row once
    /// the row's last chunk is written. Returns false when the pool holds none.
    fn write_next_encoded(&mut self, id: ObjId, g: &Geometry) -> Result<bool> {
        let st = self.append_state(id).expect("append state");
        let Some(pool) = st.pool.as_mut() else {
            return Ok(false);
        };
        let Some(chunk) = pool.next()? else {
            return Ok(false);
        };
        let w = self.write_encoded(std::slice::from_ref(&chunk))?;
        let st = self.append_state(id).expect("append state");
        st.pool.as_mut().expect("pool").recycle(chunk.bytes);
        st.written.push(w[0]);
        let (row, n) = *st
            .in_pool
            .front()
            .expect("a row for every chunk in the pool");
        if st.written.len() == n {
            st.in_pool.pop_front();
            let chunks = std::mem::take(&mut st.written);
            self.index_row(id, g, row, &chunks, true)?;
        }
        Ok(true)
    }

    /// Waits for every chunk in the pool, writing and indexing them in order.
    fn drain_queue(&mut self, id: ObjId, g: &Geometry) -> Result<()> {
        while self.write_next_encoded(id, g)? {}
        Ok(())
    }

    /// Copies chunk `j`'s part of the first `frames` buffered frames into `out`
    /// (which holds one chunk, pre-filled).
    fn gather_chunk(&self, g: &Geometry, j: usize, frames: u64, buf: &[u8], out: &mut [u8]) {
        let mut rem = j as u64;
        let mut gi = vec![0u64; g.grid.len()];
        for d in (0..g.grid.len()).rev() {
            gi[d] = rem % g.grid[d];
            rem /= g.grid[d];
        }
        let mut lo = vec![0u64];
        let mut hi = vec![frames];
        let mut src_ext = vec![g.chunk[0]];
        for ((i, c), f) in gi.iter().zip(&g.chunk[1..]).zip(&g.frame_dims) {
            lo.push(i * c);
            hi.push(((i + 1) * c).min(*f));
            src_ext.push(*f);
        }
        let src_org = vec![0u64; lo.len()];
        let mut d_org = lo.clone();
        d_org[0] = 0;
        selection::copy_box(
            g.elem, &lo, &hi, buf, &src_org, &src_ext, out, &d_org, &g.chunk,
        );
    }

    /// What encoding a chunk for [`Self::append_encoded`] takes: the dataset's filters,
    /// its element size, and the raw bytes and frames of one chunk. Refused unless the
    /// dataset is appended along dim 0 in chunks of whole frames.
    pub(crate) fn chunk_encoding(&mut self, id: ObjId) -> Result<(Pipeline, usize, usize, u64)> {
        let path = self.objects[id].path.clone();
        let Some(st) = self.append_state(id) else {
            return Err(invalid(
                &path,
                "encoding chunks needs a dataset extendable along dim 0",
            ));
        };
        let c0 = st.c0;
        let g = self.geometry(id);
        if !g.whole_frames {
            return Err(invalid(
                &path,
                format!(
                    "encoding chunks needs chunks of whole frames; chunks are {:?} for frames {:?}",
                    g.chunk, g.frame_dims
                ),
            ));
        }
        let pipeline = self.dataset(id).filters.clone();
        Ok((pipeline, g.elem, g.chunk_bytes, c0))
    }

    /// Appends one chunk of `c0` whole frames encoded by the caller.
    pub(crate) fn append_encoded(
        &mut self,
        id: ObjId,
        chunk: &crate::filters::EncodedChunk,
    ) -> Result<()> {
        self.check_usable()?;
        let path = self.objects[id].path.clone();
        if self.append_state(id).is_none() {
            return Err(invalid(
                &path,
                "append_encoded needs a dataset extendable along dim 0",
            ));
        }
        let g = self.geometry(id);
        let st = self.append_state(id).expect("append state");
        if !g.whole_frames || st.buffered != 0 {
            return Err(invalid(
                &path,
                "append_encoded needs chunks of whole frames and no partially filled chunk buffered",
            ));
        }
        let (row, c0) = (st.row, st.c0);
        let max0 = self.dataset(id).max.as_ref().map_or(0, |m| m[0]);
        let old = self.dataset(id).dims[0];
        if max0 != UNLIMITED && old + c0 > max0 {
            return Err(invalid(
                &path,
                format!("appending {c0} frames to {old} exceeds the maximum dim 0 of {max0}"),
            ));
        }
        if self.dataset(id).filters.is_empty() && chunk.bytes.len() != g.chunk_bytes {
            return Err(invalid(
                &path,
                format!(
                    "an unfiltered chunk must hold {} bytes ({c0} frames), got {}",
                    g.chunk_bytes,
                    chunk.bytes.len()
                ),
            ));
        }
        if chunk.bytes.len() > u32::MAX as usize {
            return Err(invalid(
                &path,
                "an encoded chunk must be smaller than 4 GiB",
            ));
        }
        let r = (|| {
            self.drain_queue(id, &g)?;
            let chunks = self.write_encoded(std::slice::from_ref(chunk))?;
            self.index_row(id, &g, row, &chunks, true)
        })();
        self.poison_on(r)?;
        self.append_state(id).expect("append state").row += 1;
        let mut dims = self.dataset(id).dims.clone();
        dims[0] += c0;
        self.set_dims(id, dims);
        Ok(())
    }

    /// Commit phase 1 for an appended dataset: write the partial row, then the tree's
    /// new nodes and entries; queue the in-place parts for phase 2.
    pub(crate) fn append_commit(
        &mut self,
        id: ObjId,
        phase2: &mut Vec<(u64, Vec<u8>)>,
    ) -> Result<bool> {
        let g = self.geometry(id);
        self.drain_queue(id, &g)?;
        let st = self.append_state(id).expect("append state");
        if st.buffered > st.emitted {
            self.emit_row(id, &g)?;
        }
        let st = self.append_state(id).expect("append state");
        let w = st.tree.commit_writes();
        let root = st.tree.root();
        for (addr, bytes) in &w.phase1 {
            self.write_at("writing chunk index entries", *addr, bytes)?;
        }
        phase2.extend(w.phase2);
        let DataStore::Chunked(c) = &mut self.dataset_mut(id).store else {
            unreachable!()
        };
        if c.btree != root {
            c.btree = root;
            return Ok(true);
        }
        Ok(false)
    }

    /// Changes a dataset's shape within its maximum shape.
    pub(crate) fn resize(&mut self, id: ObjId, new: &[u64]) -> Result<()> {
        self.check_usable()?;
        let path = self.objects[id].path.clone();
        let d = self.dataset(id);
        if new.len() != d.dims.len() {
            return Err(invalid(
                &path,
                format!("new shape {new:?} has a different rank from {:?}", d.dims),
            ));
        }
        let max = d.max.clone().unwrap_or_else(|| d.dims.clone());
        if let Some(i) = (0..new.len()).find(|&i| max[i] != UNLIMITED && new[i] > max[i]) {
            return Err(invalid(
                &path,
                format!("new shape {new:?} exceeds the maximum shape {max:?} in dim {i}"),
            ));
        }
        if new == d.dims.as_slice() {
            return Ok(());
        }
        let old = d.dims.clone();
        if self.append_state(id).is_none() {
            return self.resize_map(id, &old, new);
        }
        if new[1..] != old[1..] {
            return Err(invalid(
                &path,
                "an appended dataset can only be resized along dim 0",
            ));
        }
        let g = self.geometry(id);
        let st = self.append_state(id).expect("append state");
        let (c0, row_start) = (st.c0, st.row * st.c0);
        if new[0] < row_start {
            return Err(invalid(
                &path,
                format!("cannot shrink dim 0 to {} below the current chunk row, which starts at {row_start}", new[0]),
            ));
        }
        let r = if new[0] >= row_start + c0 {
            self.jump_to(id, &g, new[0])
        } else {
            self.set_row_frames(id, &g, new[0] - row_start);
            Ok(())
        };
        self.poison_on(r)?;
        self.set_dims(id, new.to_vec());
        if new[0] < old[0] {
            // frames later appended in place of the dropped ones must not land in
            // chunks that a committed (longer) shape still shows: commit the shrink now
            self.commit()?;
        }
        Ok(())
    }

    /// Sets up a new appended dataset whose initial dim 0 ends inside a chunk row: the
    /// frames of that row so far read as the fill value.
    pub(crate) fn init_append(&mut self, id: ObjId) {
        let Some(st) = self.append_state(id) else {
            return;
        };
        let c0 = st.c0;
        let len = self.dataset(id).dims[0];
        if len % c0 != 0 {
            let g = self.geometry(id);
            self.set_row_frames(id, &g, len % c0);
        }
    }

    /// Makes the current row hold `frames` frames: forgets later ones, or pads with fill.
    fn set_row_frames(&mut self, id: ObjId, g: &Geometry, frames: u64) {
        let st = self.append_state(id).expect("append state");
        if frames > st.buffered {
            let (from, c0) = (st.buffered, st.c0);
            let fill = self
                .dataset(id)
                .fill_buffer((frames - from) as usize * g.frame_bytes / g.elem);
            let st = self.append_state(id).expect("append state");
            st.buf.resize(c0 as usize * g.frame_bytes, 0);
            let at = from as usize * g.frame_bytes;
            st.buf[at..at + fill.len()].copy_from_slice(&fill);
        }
        let st = self.append_state(id).expect("append state");
        st.buffered = frames;
        st.emitted = st.emitted.min(frames);
    }

    /// Grows dim 0 past the current row: completes the row with fill frames, then
    /// starts the row holding frame `len` (earlier rows have no chunks: they read as fill).
    fn jump_to(&mut self, id: ObjId, g: &Geometry, len: u64) -> Result<()> {
        let st = self.append_state(id).expect("append state");
        let c0 = st.c0;
        if st.buffered > 0 {
            self.set_row_frames(id, g, c0);
            self.emit_row(id, g)?;
        }
        let st = self.append_state(id).expect("append state");
        st.row = len / c0;
        st.emitted = 0;
        st.slots = None;
        st.buffered = 0;
        self.set_row_frames(id, g, len % c0);
        Ok(())
    }

    /// Resize of a dataset whose index is in memory: chunks wholly outside the new
    /// shape are dropped from the index; elements outside it in edge chunks are reset
    /// to the fill value so that a later growth shows fill there.
    fn resize_map(&mut self, id: ObjId, old: &[u64], new: &[u64]) -> Result<()> {
        let shrinks = old.iter().zip(new).any(|(o, n)| n < o);
        if shrinks {
            let r = self.prune_outside(id, new);
            self.poison_on(r)?;
        }
        self.set_dims(id, new.to_vec());
        Ok(())
    }

    fn prune_outside(&mut self, id: ObjId, new: &[u64]) -> Result<()> {
        let d = self.dataset(id);
        let (elem, filters) = (d.elem, d.filters.clone());
        let DataStore::Chunked(c) = &d.store else {
            return Ok(());
        };
        let chunk: Vec<u64> = c.chunk.iter().map(|&x| u64::from(x)).collect();
        let chunk_bytes = c.chunk_bytes;
        let ChunkIndex::Map { entries, .. } = &c.index else {
            return Ok(());
        };
        let mut drop = Vec::new();
        let mut edge = Vec::new();
        for (scaled, &entry) in entries {
            let lo: Vec<u64> = scaled.iter().zip(&chunk).map(|(s, c)| s * c).collect();
            if lo.iter().zip(new).any(|(l, n)| l >= n) {
                drop.push(scaled.clone());
            } else if lo.iter().zip(&chunk).zip(new).any(|((l, c), n)| l + c > *n) {
                edge.push((scaled.clone(), lo, entry));
            }
        }
        let fill = d.fill_buffer(chunk_bytes / elem);
        let path = self.objects[id].path.clone();
        let mut updated = Vec::new();
        for (scaled, lo, (addr, size, mask)) in edge {
            let mut stored = vec![0u8; size as usize];
            self.read_at("reading an edge chunk to clear it", addr, &mut stored)?;
            let mut buf = if filters.is_empty() {
                stored
            } else {
                filters
                    .decode(&stored, mask, elem, chunk_bytes)
                    .map_err(|e| {
                        invalid(
                            &path,
                            format!("chunk {scaled:?} read back does not decode: {e}"),
                        )
                    })?
            };
            // reset every element at or beyond the new shape
            let hi: Vec<u64> = lo.iter().zip(&chunk).map(|(l, c)| l + c).collect();
            for d in 0..lo.len() {
                if hi[d] > new[d] {
                    let mut blo = lo.clone();
                    blo[d] = new[d].max(lo[d]);
                    selection::copy_box(elem, &blo, &hi, &fill, &lo, &chunk, &mut buf, &lo, &chunk);
                }
            }
            if filters.is_empty() {
                self.write_at("clearing an edge chunk", addr, &buf)?;
            } else {
                let enc = filters.encode(&buf, elem);
                let a = self.alloc(enc.bytes.len() as u64, Placement::Align(8))?;
                self.write_at("writing a cleared edge chunk", a, &enc.bytes)?;
                updated.push((scaled, (a, enc.bytes.len() as u32, enc.mask)));
            }
        }
        if let DataStore::Chunked(Chunked {
            index: ChunkIndex::Map { entries, dirty },
            ..
        }) = &mut self.dataset_mut(id).store
        {
            for k in drop {
                entries.remove(&k);
                *dirty = true;
            }
            for (k, v) in updated {
                entries.insert(k, v);
                *dirty = true;
            }
        }
        Ok(())
    }
}

fn st_threads(inner: &mut Inner, id: ObjId) -> usize {
    inner.append_state(id).map_or(1, |s| s.threads)
}
