//! Reopening a file h5sink wrote, to add to it: after a clean close or after a crash.
//!
//! The file is parsed and verified by `crate::read`; the writer's state is rebuilt
//! from it. Space above the last referenced byte (the tail a crashed writer had
//! preallocated) is reused. An extendable dataset's chunk index may hold entries
//! beyond the committed dims (a crash between a commit's phases): they are cut off
//! first, each step behind a barrier, so the tree again grows only past its count.

use std::collections::HashMap;

use super::append::AppendState;
use super::btree::{self, BTreeAppender};
use super::dataset::{ChunkIndex, Chunked, DataStore, DatasetState};
use super::error::{invalid, Error, Result};
use super::inner::{GroupState, Inner, Kind, ObjId, Object};
use super::legacy::{LegacyHeader, LegacySuperblock, SymbolTable};
use super::{selection, Durability};
use crate::filters::{Filter, Pipeline};
use crate::format::btree_v1::{ChunkKey, NodeShape, CHUNK_K};
use crate::format::dataspace::UNLIMITED;
use crate::format::filter_pipeline::{
    FilterDesc, FILTER_BITSHUFFLE, FILTER_DEFLATE, FILTER_FLETCHER32, FILTER_LZ4, FILTER_SHUFFLE,
};
use crate::format::object_header::Message;
use crate::format::{msg_type, Sizes, UNDEF};
use crate::read;
use crate::sink::Storage;
use crate::space::Space;

/// In-place writes that put an appended tree back into the state of the last commit:
/// `cut` (entry counts back to the committed entries, right-sibling links of the edge
/// back to undefined) go first, then `bound` (the key after each edge node's last kept
/// entry becomes the far right bound again), each step behind a barrier.
#[derive(Default)]
struct Repair {
    cut: Vec<(u64, Vec<u8>)>,
    bound: Vec<(u64, Vec<u8>)>,
}

fn refuse(reason: impl Into<String>) -> Error {
    invalid(
        "/",
        format!("cannot reopen the file for appending: {}", reason.into()),
    )
}

/// The name in an attribute message body (versions 1 to 3).
fn attribute_name(body: &[u8]) -> Option<String> {
    let len = usize::from(u16::from_le_bytes([*body.get(2)?, *body.get(3)?]));
    let at = if body.first() == Some(&3) { 9 } else { 8 };
    let raw = body.get(at..at + len)?;
    Some(String::from_utf8_lossy(raw.strip_suffix(&[0]).unwrap_or(raw)).into_owned())
}

/// The writer's filter for a filter description, when it can write it.
fn filter_of(d: &FilterDesc) -> Option<Filter> {
    Some(match d.id {
        FILTER_DEFLATE => Filter::Deflate(d.cd.first().copied().unwrap_or(6).min(9) as u8),
        FILTER_SHUFFLE => Filter::Shuffle,
        FILTER_FLETCHER32 => Filter::Fletcher32,
        FILTER_LZ4 => Filter::Lz4,
        FILTER_BITSHUFFLE if d.cd.get(4) == Some(&2) => Filter::BitshuffleLz4,
        _ => return None,
    })
}

impl Inner {
    /// Rebuilds a writer over `storage`, whose current contents are `bytes`.
    pub fn reopen(
        storage: Box<dyn Storage>,
        bytes: &[u8],
        durability: Durability,
    ) -> Result<Inner> {
        let report = read::verify(bytes);
        if let Some(p) = report.problems.first() {
            return Err(refuse(format!("the file is not sound: {}", p.error)));
        }
        let f = read::File::parse(bytes).map_err(|e| refuse(e.to_string()))?;
        // dense links and attributes (fractal heaps and v2 B-tree name indexes) are
        // read, never written
        if let Some(d) = f.dense_storage().first() {
            let path = f.object_at(d.object).map_or("?", |o| o.path());
            return Err(refuse(match d.kind {
                read::DenseKind::Links => format!(
                    "{path}: dense link storage (fractal heap) is not supported for appending"
                ),
                _ => format!(
                    "{path}: dense attribute storage (fractal heap) is not supported for \
                     appending"
                ),
            }));
        }
        // h5sink continues v1 B-tree chunk indexes only; the layout v4/v5 indexes
        // libhdf5 writes with libver >= v110 are read, never written
        for d in f.datasets() {
            if let read::Layout::Chunked { index, version, .. } = &d.layout {
                if !matches!(index, read::ChunkIndex::BTreeV1) {
                    return Err(refuse(format!(
                        "{}: index type {} (data layout message version {version}) is not \
                         supported for appending",
                        d.path,
                        index.name()
                    )));
                }
            }
        }
        let sb = f.superblock();
        if sb.sizes != Sizes::DEFAULT {
            return Err(refuse("only 8-byte addresses and lengths are supported"));
        }
        if sb.flags != 0 {
            return Err(refuse(format!(
                "the superblock's file consistency flags are {:#x}: a libhdf5 writer has the \
                 file open or was killed (`h5clear -s` clears them once no writer is left)",
                sb.flags
            )));
        }
        let legacy = if sb.version < 2 {
            Some(legacy_superblock(sb, bytes)?)
        } else {
            if sb.root != 48 {
                return Err(refuse("the root group is not where h5sink puts it"));
            }
            None
        };
        let high_water = report.high_water.div_ceil(8) * 8;
        let mut inner = Inner::empty(
            storage,
            durability,
            Space::new(high_water, sb.eof.max(high_water)),
        );
        // the old preallocated tail may hold a killed session's bytes
        inner.dirty_below = sb.eof;
        inner.legacy = legacy;
        let ids: HashMap<u64, ObjId> = f
            .objects()
            .iter()
            .enumerate()
            .map(|(i, o)| (o.addr(), i))
            .collect();
        let mut repairs = Repair::default();
        for obj in f.objects() {
            let (msgs, chunks) = f
                .raw_header(obj.addr())
                .map_err(|e| refuse(e.to_string()))?;
            let v1 = bytes.get(obj.addr() as usize) == Some(&1);
            let legacy = if v1 {
                Some(Box::new(legacy_header(
                    obj.path(),
                    obj.addr(),
                    bytes,
                    &msgs,
                )?))
            } else {
                None
            };
            let attrs: Vec<(String, Message)> = msgs
                .iter()
                .filter(|m| m.0 == msg_type::ATTRIBUTE)
                .map(|m| {
                    let name = attribute_name(&m.2).unwrap_or_default();
                    (
                        name,
                        Message {
                            kind: m.0,
                            flags: m.1,
                            body: m.2.clone(),
                        },
                    )
                })
                .collect();
            let ochk = match chunks.as_slice() {
                [_, (addr, len)] if !v1 => Some((
                    *addr,
                    bytes[*addr as usize..(*addr + *len) as usize].to_vec(),
                )),
                _ => None,
            };
            let kind = match obj {
                read::Object::Group(g) => {
                    let mut state = GroupState::default();
                    for link in &g.links {
                        let target = match &link.target {
                            read::LinkTarget::Hard { addr } => *addr,
                            read::LinkTarget::Soft { path }
                                if legacy.as_ref().is_some_and(|l| l.stab.is_some()) =>
                            {
                                state.soft.push((link.name.clone(), path.clone()));
                                continue;
                            }
                            _ => {
                                return Err(refuse(format!(
                                    "{}: soft and external links are not supported",
                                    g.path
                                )))
                            }
                        };
                        let id = *ids.get(&target).ok_or_else(|| {
                            refuse(format!("{}: a link to an unknown object", g.path))
                        })?;
                        state.links.push((link.name.clone(), id));
                        state.index.insert(link.name.clone(), id);
                    }
                    Kind::Group(state)
                }
                read::Object::Dataset(d) => {
                    let raw = msgs
                        .iter()
                        .find(|m| m.0 == msg_type::DATATYPE)
                        .map(|m| m.2.clone());
                    let raw =
                        raw.ok_or_else(|| refuse(format!("{}: no datatype message", d.path)))?;
                    Kind::Dataset(Box::new(dataset_state(&f, d, raw, &mut repairs)?))
                }
            };
            inner.objects.push(Object {
                path: obj.path().to_string(),
                addr: obj.addr(),
                capacity: if v1 {
                    chunks[0].1 as usize
                } else {
                    reopened_capacity(&report.starts, obj.addr(), chunks[0].1)
                },
                ochk,
                written: true,
                dirty: false,
                attrs,
                kind,
                legacy,
            });
        }
        // cut chunk index entries beyond the committed dims: the count first, then the
        // key after the last kept entry becomes the far right bound again
        if !repairs.cut.is_empty() || !repairs.bound.is_empty() {
            for (addr, bytes) in &repairs.cut {
                inner.write_at(
                    "cutting a chunk index back to the committed dims",
                    *addr,
                    bytes,
                )?;
            }
            inner.barrier()?;
            for (addr, bytes) in &repairs.bound {
                inner.write_at("restoring a chunk index right bound", *addr, bytes)?;
            }
            inner.barrier()?;
        }
        // the room each reopened header may grow into is not free space
        let reserved = inner
            .objects
            .iter()
            .map(|o| o.addr + o.capacity as u64)
            .max()
            .unwrap_or(0);
        let next = high_water.max(reserved).div_ceil(8) * 8;
        inner.space = Space::new(next, sb.eof.max(next));
        for id in 0..inner.objects.len() {
            inner.load_partial_row(id, bytes)?;
        }
        Ok(inner)
    }

    /// Reads the committed frames of a reopened dataset's last, partial chunk row back
    /// into its row buffer.
    fn load_partial_row(&mut self, id: ObjId, bytes: &[u8]) -> Result<()> {
        let Kind::Dataset(d) = &mut self.objects[id].kind else {
            return Ok(());
        };
        let (elem, dims, filters, fill) =
            (d.elem, d.dims.clone(), d.filters.clone(), d.fill_buffer(1));
        let DataStore::Chunked(Chunked {
            chunk,
            chunk_bytes,
            index: ChunkIndex::Append(st),
            ..
        }) = &mut d.store
        else {
            return Ok(());
        };
        let chunk: Vec<u64> = chunk.iter().map(|&c| u64::from(c)).collect();
        let (c0, frames) = (chunk[0], dims[0] % chunk[0]);
        if frames == 0 {
            return Ok(());
        }
        let frame_dims = &dims[1..];
        let frame_bytes = frame_dims.iter().product::<u64>() as usize * elem;
        let nchunks: u64 = frame_dims
            .iter()
            .zip(&chunk[1..])
            .map(|(f, c)| f.div_ceil(*c))
            .product();
        let row = dims[0] / c0;
        let tail: Vec<_> = st
            .tree_tail(nchunks as usize)
            .into_iter()
            .filter(|(k, _)| k.offsets[0] == row * c0)
            .collect();
        if tail.is_empty() {
            // the row was never written (libhdf5 allocates chunks only when written):
            // its frames read as fill, and its chunks are new entries when it is flushed
            let buf = fill.repeat(c0 as usize * frame_bytes / elem);
            let (threads, tree) = (st.threads, st.tree.take());
            **st = AppendState::reopened(tree, c0, row, buf, frames, None, frame_bytes, threads);
            return Ok(());
        }
        if tail.len() != nchunks as usize {
            return Err(refuse(format!(
                "{}: the last chunk row is incomplete in the index",
                self.objects[id].path
            )));
        }
        let mut buf = fill.repeat(c0 as usize * frame_bytes / elem);
        let mut grid_lo = vec![0u64; frame_dims.len()];
        for (key, addr) in &tail {
            let stored = bytes
                .get(*addr as usize..(*addr + u64::from(key.size)) as usize)
                .ok_or_else(|| refuse("a chunk lies past the end of the file"))?;
            let raw = if filters.is_empty() {
                stored.to_vec()
            } else {
                filters
                    .decode(stored, key.filter_mask, elem, *chunk_bytes)
                    .map_err(|e| refuse(e.to_string()))?
            };
            grid_lo.copy_from_slice(&key.offsets[1..key.offsets.len() - 1]);
            // the chunk's part of the frames, into the row buffer
            let mut lo = vec![0u64];
            lo.extend_from_slice(&grid_lo);
            let mut hi = vec![frames];
            hi.extend(
                grid_lo
                    .iter()
                    .zip(&chunk[1..])
                    .zip(frame_dims)
                    .map(|((l, c), f)| (l + c).min(*f)),
            );
            let mut c_org = vec![0u64];
            c_org.extend_from_slice(&grid_lo);
            let mut row_ext = vec![c0];
            row_ext.extend_from_slice(frame_dims);
            selection::copy_box(
                elem,
                &lo,
                &hi,
                &raw,
                &c_org,
                &chunk,
                &mut buf,
                &vec![0; lo.len()],
                &row_ext,
            );
        }
        let slots = tail.iter().map(|(_, a)| *a).collect();
        let threads = st.threads;
        let tree = st.tree.take();
        **st = AppendState::reopened(
            tree,
            c0,
            row,
            buf,
            frames,
            Some(slots),
            frame_bytes,
            threads,
        );
        Ok(())
    }
}

/// Everything the writer needs to know about a dataset it did not create in this
/// session; `repairs` collects chunk index cuts (node address, key address, bytes).
fn dataset_state(
    f: &read::File<'_>,
    d: &read::Dataset,
    raw_dtype: Vec<u8>,
    repairs: &mut Repair,
) -> Result<DatasetState> {
    let path = &d.path;
    // the datatype message is written back as it was; a type the reader does not map
    // gets a stand-in of the same size until `open_dataset` names the Rust type
    let dtype = d
        .datatype
        .to_writer_type()
        .unwrap_or(crate::Datatype::FixedString {
            size: d.element_size() as u32,
            pad: crate::StringPad::NullPad,
            cset: crate::CharSet::Ascii,
        });
    let filters: Vec<Filter> = d
        .filters
        .iter()
        .map(|fd| {
            filter_of(fd)
                .ok_or_else(|| refuse(format!("{path}: filter {} is not supported", fd.id)))
        })
        .collect::<Result<_>>()?;
    let elem = d.element_size() as usize;
    let dims = d.dims().to_vec();
    let max = (d.max_dims() != dims.as_slice()).then(|| d.max_dims().to_vec());
    let store = match &d.layout {
        read::Layout::Compact { data } => DataStore::Compact(data.clone()),
        read::Layout::Contiguous { addr, size } => DataStore::Contiguous {
            addr: addr.unwrap_or(UNDEF),
            size: *size,
            staged: None,
        },
        read::Layout::Chunked {
            btree: root, chunk, ..
        } => {
            let chunk_bytes = chunk.iter().map(|&c| c as usize).product::<usize>() * elem;
            let appendable = max
                .as_ref()
                .is_some_and(|m| m[0] != dims[0] && (1..dims.len()).all(|i| m[i] == dims[i]));
            let ndims = chunk.len() + 1;
            let shape = NodeShape {
                sizes: Sizes::DEFAULT,
                k: CHUNK_K,
                ndims,
            };
            let sentinel = btree::sentinel(chunk, ndims);
            let index = if appendable {
                let tree = match root {
                    Some(r) => continue_tree(
                        f,
                        d,
                        *r,
                        u64::from(chunk[0]),
                        shape,
                        sentinel.clone(),
                        repairs,
                    )?,
                    None => BTreeAppender::new(shape, sentinel),
                };
                let c0 = u64::from(chunk[0]);
                let frame_bytes = dims[1..].iter().product::<u64>() as usize * elem;
                ChunkIndex::Append(Box::new(AppendState::reopened(
                    tree,
                    c0,
                    dims[0] / c0,
                    Vec::new(),
                    0,
                    None,
                    frame_bytes,
                    1,
                )))
            } else {
                let entries = f
                    .chunks(path)
                    .map_err(|e| refuse(e.to_string()))?
                    .into_iter()
                    .map(|e| {
                        let scaled = e
                            .offsets
                            .iter()
                            .zip(chunk)
                            .map(|(o, &c)| o / u64::from(c))
                            .collect();
                        (scaled, (e.addr, e.size, e.filter_mask))
                    })
                    .collect();
                ChunkIndex::Map {
                    entries,
                    dirty: false,
                }
            };
            DataStore::Chunked(Chunked {
                chunk: chunk.clone(),
                chunk_bytes,
                btree: root.unwrap_or(UNDEF),
                index,
            })
        }
    };
    if max.as_ref().is_some_and(|m| m.contains(&UNLIMITED))
        && !matches!(store, DataStore::Chunked(_))
    {
        return Err(refuse(format!(
            "{path}: an extendable dataset that is not chunked"
        )));
    }
    Ok(DatasetState {
        dtype,
        elem,
        dims,
        max,
        fill: d.fill.clone(),
        filters: Pipeline { filters },
        store,
        raw_dtype: Some(raw_dtype),
    })
}

/// Loads the right edge of an appended dataset's tree: at each level the entries
/// whose chunk row holds committed frames. Entries past them (a crash after a
/// commit's phase 2) are queued in `repairs` to be cut off.
fn continue_tree(
    f: &read::File<'_>,
    d: &read::Dataset,
    root: u64,
    c0: u64,
    shape: NodeShape,
    sentinel: ChunkKey,
    repairs: &mut Repair,
) -> Result<BTreeAppender> {
    let boundary = d.dims()[0].div_ceil(c0) * c0;
    let mut edge = Vec::new();
    let mut addr = root;
    loop {
        let n = f.raw_node(d, addr).map_err(|e| refuse(e.to_string()))?;
        let keep = n.keys.iter().take_while(|k| k.2[0] < boundary).count();
        if keep == 0 {
            if edge.is_empty() {
                // nothing committed yet: a new tree replaces this one at the next commit
                return Ok(BTreeAppender::new(shape, sentinel));
            }
            return Err(refuse(format!(
                "{}: a chunk index node without committed entries",
                d.path
            )));
        }
        if keep < n.keys.len() {
            let mut key = Vec::new();
            shape.encode_key(&mut key, &sentinel);
            repairs.cut.push((
                addr + NodeShape::ENTRIES_OFFSET as u64,
                (keep as u16).to_le_bytes().to_vec(),
            ));
            repairs
                .bound
                .push((addr + shape.key_offset(keep) as u64, key));
        }
        if n.right != UNDEF {
            // a sibling a crash left beyond the committed tree: it may lie in space
            // this session reuses, and libhdf5 follows sibling links
            repairs.cut.push((
                addr + shape.right_sibling_offset() as u64,
                UNDEF.to_le_bytes().to_vec(),
            ));
        }
        let keys: Vec<ChunkKey> = n.keys[..keep]
            .iter()
            .map(|(size, mask, off)| ChunkKey {
                size: *size,
                filter_mask: *mask,
                offsets: off.clone(),
            })
            .collect();
        let children = n.children[..keep].to_vec();
        let next = children[keep - 1];
        edge.push((addr, n.level, n.left, keys, children));
        if n.level == 0 {
            break;
        }
        addr = next;
    }
    edge.reverse();
    Ok(BTreeAppender::from_edge(shape, sentinel, edge))
}

/// The fields of a version 0/1 superblock that commits update.
fn legacy_superblock(sb: &read::Superblock, bytes: &[u8]) -> Result<LegacySuperblock> {
    if sb.chunk_k != CHUNK_K {
        return Err(refuse(format!(
            "a chunk B-tree K of {} (h5sink writes chunk indexes with libhdf5's default, {CHUNK_K})",
            sb.chunk_k
        )));
    }
    // 24 bytes (28 for version 1) of fixed fields, then base, extension, end-of-file
    // and driver addresses, then the root's symbol table entry
    let fixed: u64 = if sb.version == 1 { 28 } else { 24 };
    let entry = fixed + 32;
    let cache_type = bytes
        .get(entry as usize + 16..entry as usize + 20)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
    Ok(LegacySuperblock {
        eof_at: fixed + 16,
        root_cache_at: (cache_type == Some(1)).then_some(entry + 24),
        group_leaf_k: sb.group_leaf_k,
        group_k: sb.group_k,
    })
}

/// The messages of a version-1 object header that commits patch.
fn legacy_header(
    path: &str,
    addr: u64,
    bytes: &[u8],
    msgs: &[read::RawMessage],
) -> Result<LegacyHeader> {
    let nmesgs = bytes
        .get(addr as usize + 2..addr as usize + 4)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| refuse(format!("{path}: a short object header")))?;
    let mut h = LegacyHeader {
        addr,
        nmesgs,
        attrs_on_disk: msgs.iter().filter(|m| m.0 == msg_type::ATTRIBUTE).count(),
        ..Default::default()
    };
    for (kind, flags, body, at) in msgs {
        match *kind {
            msg_type::NIL => h.nulls.push((at - 8, body.len())),
            msg_type::CONTINUATION => {}
            _ => h.movable.push((at - 8, *kind, *flags, body.clone())),
        }
        match *kind {
            msg_type::DATASPACE => h.space = Some((*at, body.clone())),
            msg_type::LAYOUT => h.layout = Some((*at, body.clone())),
            msg_type::SYMBOL_TABLE => {
                let field = |i: usize| {
                    body.get(i..i + 8)
                        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
                        .ok_or_else(|| refuse(format!("{path}: a short symbol table message")))
                };
                let (btree, heap) = (field(0)?, field(8)?);
                h.stab = Some(Box::new(SymbolTable::read(
                    path,
                    bytes,
                    Sizes::DEFAULT,
                    *at,
                    btree,
                    heap,
                )?));
            }
            _ => {}
        }
    }
    Ok(h)
}

/// The room a reopened object's chunk 0 may use when it is rewritten: up to the next
/// referenced structure (the bytes before it are free: unreferenced padding or the
/// capacity reserved at creation), within its 512-byte sector and at most 512 bytes.
fn reopened_capacity(starts: &[u64], addr: u64, len: u64) -> usize {
    let sector_end = (addr / 512 + 1) * 512;
    let next = starts
        .get(starts.partition_point(|&s| s <= addr))
        .copied()
        .unwrap_or(u64::MAX);
    (next.min(sector_end) - addr)
        .max(len)
        .min(super::header::MAX_CHUNK0 as u64) as usize
}
