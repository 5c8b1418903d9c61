//! The writer's shared state: objects, file space, and the commit protocol.
//!
//! A commit (every `flush()`) runs in three phases separated by barriers (DESIGN §3):
//! 1. write everything new into fresh space: raw chunks (already written as they
//!    filled), chunk-index nodes, continuation chunks, and chunk 0 of new objects;
//! 2. in-place growth of index nodes that readers can already reach (entry counts);
//! 3. rewrite chunk 0 of each changed existing object in place: one write inside
//!    one sector, the commit record that makes phase 1 and 2 visible.
//!
//! With `Durability::PowerLoss` each barrier is an `fdatasync`; with
//! `Durability::Process` the order of the writes is enough.

use std::collections::HashMap;

use super::dataset::DatasetState;
use super::error::{Error, Result};
use super::header;
use super::Durability;
use crate::format::global_heap;
use crate::format::object_header::{self, Message};
use crate::format::superblock::SuperblockV2;
use crate::format::{link, msg_type, Sizes, MSG_FLAG_CONSTANT};
use crate::sink::Storage;
use crate::space::{Placement, Space};

/// Index of an object in [`Inner::objects`]; the root group is 0.
pub(crate) type ObjId = usize;

/// A group's links, in creation order, with a name index.
#[derive(Default)]
pub(crate) struct GroupState {
    pub links: Vec<(String, ObjId)>,
    pub index: HashMap<String, ObjId>,
    /// Soft links (name, target path) of a reopened old-style group, kept as they are.
    pub soft: Vec<(String, String)>,
}

/// What an object is.
pub(crate) enum Kind {
    Group(GroupState),
    Dataset(Box<DatasetState>),
}

/// One object (group or dataset) and the state of its header on disk.
pub(crate) struct Object {
    /// Absolute path, for messages.
    pub path: String,
    /// Address of header chunk 0 (fixed for the object's life).
    pub addr: u64,
    /// Bytes reserved for chunk 0 (inside one sector).
    pub capacity: usize,
    /// The continuation chunk currently referenced by chunk 0: address and bytes.
    pub ochk: Option<(u64, Vec<u8>)>,
    /// Chunk 0 has been written at least once.
    pub written: bool,
    /// The header's content changed since the last commit.
    pub dirty: bool,
    /// Attribute messages, by name, in creation order.
    pub attrs: Vec<(String, Message)>,
    /// Group or dataset state.
    pub kind: Kind,
    /// The patchable messages of a version-1 header (an object libhdf5 wrote).
    pub legacy: Option<Box<super::legacy::LegacyHeader>>,
}

/// A global heap collection being filled; it is written at the next commit, before
/// the headers whose attributes refer to it.
pub(crate) struct PendingHeap {
    addr: u64,
    size: usize,
    used: usize,
    objects: Vec<Vec<u8>>,
}

/// Everything a file's handles share.
pub(crate) struct Inner {
    pub storage: Box<dyn Storage>,
    pub sizes: Sizes,
    pub space: Space,
    pub durability: Durability,
    pub objects: Vec<Object>,
    /// Set when an I/O error interrupted a write; later writes are refused.
    pub poisoned: Option<String>,
    pub finished: bool,
    /// Space below this address may hold a crashed session's leftovers (a reopened
    /// file's old end of file): blocks allocated there are written in full, fill included.
    pub dirty_below: u64,
    /// Global heap collections to write at the next commit.
    pending_heaps: Vec<PendingHeap>,
    /// While `Some`, small writes are collected (commit phase 1) and issued sorted by
    /// address with adjacent ones merged, at the next barrier or read.
    batch: Option<Vec<(u64, Vec<u8>, &'static str)>>,
    /// Padding the allocator skipped since the last commit (start → end): free space a
    /// merged write may cover with zeros.
    gaps: Vec<(u64, u64)>,
    /// The superblock has been written (growth must then update its EOF).
    superblock_written: bool,
    /// A version 0/1 superblock (a file libhdf5 wrote), patched rather than rewritten.
    pub legacy: Option<super::legacy::LegacySuperblock>,
    /// Buffers of the filters that run on the appending thread, reused from chunk to
    /// chunk and shared by every dataset (one chunk is encoded at a time here).
    pub encode_scratch: crate::filters::EncodeScratch,
    /// The bytes of the last chunk encoded here, once written: the next one's output.
    pub spare_out: Vec<u8>,
}

/// Where the root group's header goes: right after the 48-byte superblock.
const ROOT_ADDR: u64 = SuperblockV2::SIZE as u64;
/// Writes up to this size are collected during commit phase 1.
const BATCHED_WRITE: usize = 64 << 10;
/// Merged runs of collected writes stop growing at this size.
const MERGED_WRITE: usize = 4 << 20;

impl Inner {
    /// A new file in `storage`: reserves space, writes the empty root group and then
    /// the superblock that makes it an HDF5 file.
    pub fn create(storage: Box<dyn Storage>, durability: Durability) -> Result<Inner> {
        let mut inner = Inner::empty(storage, durability, Space::new(ROOT_ADDR, 0));
        inner.superblock_written = false;
        inner.storage.set_len(0).map_err(|e| Error::Io {
            op: "truncating the new file",
            offset: 0,
            source: e,
        })?;
        inner.add_object("/".to_string(), Kind::Group(GroupState::default()))?;
        inner.commit()?;
        inner.write_superblock(inner.space.reserved())?;
        inner.barrier()?;
        inner.superblock_written = true;
        Ok(inner)
    }

    /// A writer with no objects over `storage`, allocating from `space`, whose
    /// superblock is already on disk (the reopen case).
    pub fn empty(storage: Box<dyn Storage>, durability: Durability, space: Space) -> Inner {
        Inner {
            storage,
            sizes: Sizes::DEFAULT,
            space,
            durability,
            objects: Vec::new(),
            poisoned: None,
            finished: false,
            dirty_below: 0,
            pending_heaps: Vec::new(),
            batch: None,
            gaps: Vec::new(),
            superblock_written: true,
            legacy: None,
            encode_scratch: crate::filters::EncodeScratch::default(),
            spare_out: Vec::new(),
        }
    }

    /// Refuses work on a finished or poisoned file.
    pub fn check_usable(&self) -> Result<()> {
        if self.finished {
            return Err(Error::Finished);
        }
        if let Some(p) = &self.poisoned {
            return Err(Error::Poisoned(p.clone()));
        }
        Ok(())
    }

    /// Records an error that leaves the writer unable to continue safely.
    pub fn poison_on<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if self.poisoned.is_none() && matches!(e, Error::Io { .. }) {
                self.poisoned = Some(e.to_string());
            }
        }
        r
    }

    // ----- raw I/O, each error tagged with what was being done -----

    pub fn write_at(&mut self, op: &'static str, offset: u64, data: &[u8]) -> Result<()> {
        if let Some(batch) = &mut self.batch {
            if data.len() <= BATCHED_WRITE {
                batch.push((offset, data.to_vec(), op));
                return Ok(());
            }
        }
        self.storage
            .write_at(offset, data)
            .map_err(|source| Error::Io { op, offset, source })
    }

    pub fn read_at(&mut self, op: &'static str, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.flush_batch()?;
        self.storage
            .read_at(offset, buf)
            .map_err(|source| Error::Io { op, offset, source })
    }

    /// Issues the collected writes, sorted by address, adjacent ones merged (they all
    /// go to fresh space or to fields readers ignore, so their order does not matter).
    fn flush_batch(&mut self) -> Result<()> {
        let Some(batch) = self.batch.as_mut() else {
            return Ok(());
        };
        let mut writes = std::mem::take(batch);
        writes.sort_by_key(|w| w.0);
        // runs of writes that touch, or are separated only by allocator padding
        let mut i = 0;
        while i < writes.len() {
            let start = writes[i].0;
            let mut end = start + writes[i].1.len() as u64;
            let mut j = i + 1;
            while j < writes.len()
                && end - start < MERGED_WRITE as u64
                && (writes[j].0 == end || is_gap(&self.gaps, end, writes[j].0))
            {
                end = writes[j].0 + writes[j].1.len() as u64;
                j += 1;
            }
            let op = writes[i].2;
            let r = if j == i + 1 {
                self.storage.write_at(start, &writes[i].1)
            } else {
                let mut buf = vec![0u8; (end - start) as usize];
                for (offset, data, _) in &writes[i..j] {
                    let at = (offset - start) as usize;
                    buf[at..at + data.len()].copy_from_slice(data);
                }
                self.storage.write_at(start, &buf)
            };
            r.map_err(|source| Error::Io {
                op,
                offset: start,
                source,
            })?;
            i = j;
        }
        Ok(())
    }

    /// A barrier between commit phases: `fdatasync` under `PowerLoss`, nothing otherwise.
    /// Collected writes are issued first.
    pub fn barrier(&mut self) -> Result<()> {
        self.flush_batch()?;
        if self.durability == Durability::PowerLoss {
            self.storage.sync().map_err(|source| Error::Io {
                op: "syncing (fdatasync)",
                offset: 0,
                source,
            })?;
        }
        Ok(())
    }

    fn write_superblock(&mut self, eof: u64) -> Result<()> {
        if let Some(l) = &self.legacy {
            let at = l.eof_at;
            return self.write_at(
                "updating the end of file in the superblock",
                at,
                &eof.to_le_bytes(),
            );
        }
        let mut buf = Vec::with_capacity(SuperblockV2::SIZE);
        SuperblockV2 {
            sizes: self.sizes,
            eof,
            root: ROOT_ADDR,
        }
        .encode(&mut buf);
        self.write_at("writing the superblock", 0, &buf)
    }

    /// Allocates `size` bytes. Growing the reserved region follows DESIGN rule D:
    /// extend the file, barrier, then store the new EOF in the superblock, barrier.
    pub fn alloc(&mut self, size: u64, placement: Placement) -> Result<u64> {
        let addr = self.space.place(size, placement);
        if let Some(new_end) = self.space.growth_for(addr + size) {
            self.storage.set_len(new_end).map_err(|source| Error::Io {
                op: "extending the file",
                offset: new_end,
                source,
            })?;
            self.barrier()?;
            if self.superblock_written {
                self.write_superblock(new_end)?;
                self.barrier()?;
            }
            self.space.set_reserved(new_end);
        }
        let hw = self.space.high_water();
        if addr > hw {
            // alignment or sector padding: never allocated, so zeros may be written there
            self.gaps.push((hw, addr));
        }
        self.space.take(addr, size);
        Ok(addr)
    }

    /// Stores `data` as a global heap object; returns (collection address, index).
    /// Collections are filled until the next commit writes them, and never touched again.
    pub fn heap_insert(&mut self, data: &[u8]) -> Result<(u64, u32)> {
        let need = global_heap::object_len(self.sizes, data.len());
        let fits = self
            .pending_heaps
            .last()
            .is_some_and(|h| h.used + need <= h.size && h.objects.len() < usize::from(u16::MAX));
        if !fits {
            let min = global_heap::header_len(self.sizes)
                + need
                + global_heap::object_header_len(self.sizes);
            let size = min.max(global_heap::MIN_COLLECTION).div_ceil(8) * 8;
            let addr = self.alloc(size as u64, Placement::Align(8))?;
            let used = global_heap::header_len(self.sizes);
            self.pending_heaps.push(PendingHeap {
                addr,
                size,
                used,
                objects: Vec::new(),
            });
        }
        let h = self
            .pending_heaps
            .last_mut()
            .expect("a pending heap exists");
        h.objects.push(data.to_vec());
        h.used += need;
        Ok((h.addr, h.objects.len() as u32))
    }

    fn write_pending_heaps(&mut self) -> Result<()> {
        for h in std::mem::take(&mut self.pending_heaps) {
            let objects: Vec<&[u8]> = h.objects.iter().map(|o| o.as_slice()).collect();
            let mut buf = Vec::with_capacity(h.size);
            global_heap::encode_collection(&mut buf, self.sizes, h.size, &objects);
            self.write_at("writing a global heap collection", h.addr, &buf)?;
        }
        Ok(())
    }

    // ----- objects -----

    /// Creates an object: reserves its chunk 0 inside one sector. It becomes reachable
    /// when its parent's header is committed.
    pub fn add_object(&mut self, path: String, kind: Kind) -> Result<ObjId> {
        let mut obj = Object {
            path,
            addr: 0,
            capacity: 0,
            ochk: None,
            written: false,
            dirty: true,
            attrs: Vec::new(),
            kind,
            legacy: None,
        };
        let (own, pinned) = self.messages_of(&obj);
        let msgs = with_attrs(&own, &obj);
        // fail early when the fixed part cannot fit the commit record
        header::split(&obj.path, self.sizes, &msgs, pinned, header::MAX_CHUNK0)?;
        obj.capacity = header::initial_capacity(self.sizes, &msgs, pinned);
        obj.addr = self.alloc(obj.capacity as u64, Placement::InSector)?;
        self.objects.push(obj);
        Ok(self.objects.len() - 1)
    }

    /// The header messages of an object, and how many leading ones must stay in chunk 0.
    fn messages_of(&self, obj: &Object) -> (Vec<Message>, usize) {
        let (mut msgs, pinned) = match &obj.kind {
            Kind::Group(g) => {
                let mut linfo = Vec::with_capacity(24);
                link::encode_link_info(&mut linfo, self.sizes);
                let mut ginfo = Vec::with_capacity(8);
                link::encode_group_info(&mut ginfo);
                let mut msgs = vec![
                    Message {
                        kind: msg_type::LINK_INFO,
                        flags: 0,
                        body: linfo,
                    },
                    Message {
                        kind: msg_type::GROUP_INFO,
                        flags: MSG_FLAG_CONSTANT,
                        body: ginfo,
                    },
                ];
                for (name, child) in &g.links {
                    let mut body = Vec::with_capacity(16 + name.len());
                    link::encode_hard_link(&mut body, self.sizes, name, self.objects_addr(*child));
                    msgs.push(Message {
                        kind: msg_type::LINK,
                        flags: 0,
                        body,
                    });
                }
                (msgs, 2)
            }
            Kind::Dataset(d) => d.messages(self.sizes),
        };
        if !obj.attrs.is_empty() {
            let mut ainfo = Vec::with_capacity(24);
            link::encode_attribute_info(&mut ainfo, self.sizes);
            msgs.push(Message {
                kind: msg_type::ATTRIBUTE_INFO,
                flags: 0,
                body: ainfo,
            });
        }

        (msgs, pinned)
    }

    fn objects_addr(&self, id: ObjId) -> u64 {
        self.objects[id].addr
    }

    /// Encodes an object's header; writes a new continuation chunk when its content
    /// changed. Returns chunk 0's bytes, to be written at the object's address.
    fn prepare_header(&mut self, id: ObjId) -> Result<Vec<u8>> {
        let (own, pinned) = self.messages_of(&self.objects[id]);
        // chunk 0 always holds a prefix of the messages: find its length and the
        // continuation chunk's bytes, then let go of the object to allocate
        let (n, ochk) = {
            let obj = &self.objects[id];
            let msgs = with_attrs(&own, obj);
            let split = header::split(&obj.path, self.sizes, &msgs, pinned, obj.capacity)?;
            let ochk = (!split.rest.is_empty()).then(|| {
                let mut bytes = Vec::with_capacity(header::rest_len(&split.rest));
                object_header::encode_ochk(&mut bytes, self.sizes, &split.rest);
                bytes
            });
            (split.chunk0.len(), ochk)
        };
        let cont = match ochk {
            Some(bytes) => {
                let addr = match &self.objects[id].ochk {
                    Some((addr, old)) if *old == bytes => *addr,
                    _ => {
                        let addr = self.alloc(bytes.len() as u64, Placement::Align(8))?;
                        self.write_at("writing an object header continuation chunk", addr, &bytes)?;
                        addr
                    }
                };
                let cont = object_header::continuation(self.sizes, addr, bytes.len() as u64);
                self.objects[id].ochk = Some((addr, bytes));
                Some(cont)
            }
            None => {
                self.objects[id].ochk = None;
                None
            }
        };
        let obj = &self.objects[id];
        let msgs = with_attrs(&own, obj);
        let mut chunk0: Vec<&Message> = msgs[..n].to_vec();
        chunk0.extend(cont.as_ref());
        let mut out = Vec::with_capacity(obj.capacity);
        object_header::encode_chunk0(&mut out, self.sizes, &chunk0);
        debug_assert!(out.len() <= obj.capacity);
        Ok(out)
    }

    /// Makes everything written so far visible and (under `PowerLoss`) durable.
    pub fn commit(&mut self) -> Result<()> {
        self.check_usable()?;
        let r = self.commit_phases();
        self.poison_on(r)
    }

    fn commit_phases(&mut self) -> Result<()> {
        // Phase 1: heap collections, chunk indexes of datasets, then headers.
        self.batch = Some(Vec::new());
        let r = self.commit_phase1();
        let flushed = self.flush_batch();
        self.batch = None;
        self.gaps.clear();
        let (phase2, phase3) = r?;
        flushed?;
        self.commit_phases23(phase2, phase3)
    }

    /// Phase 1 of a commit; returns the writes of phases 2 and 3.
    #[allow(clippy::type_complexity)]
    fn commit_phase1(&mut self) -> Result<(Vec<(u64, Vec<u8>)>, Vec<(u64, Vec<u8>)>)> {
        self.write_pending_heaps()?;
        let mut phase2: Vec<(u64, Vec<u8>)> = Vec::new();
        for id in 0..self.objects.len() {
            if matches!(self.objects[id].kind, Kind::Dataset(_))
                && self.dataset_commit_index(id, &mut phase2)?
            {
                self.objects[id].dirty = true;
            }
        }
        let mut phase3: Vec<(u64, Vec<u8>)> = Vec::new();
        for id in 0..self.objects.len() {
            if !self.objects[id].dirty {
                continue;
            }
            if self.objects[id].legacy.is_some() {
                self.commit_legacy(id, &mut phase2, &mut phase3)?;
                self.objects[id].dirty = false;
                continue;
            }
            let bytes = self.prepare_header(id)?;
            let addr = self.objects[id].addr;
            if self.objects[id].written {
                phase3.push((addr, bytes));
            } else {
                // padded to its reserved capacity, so that neighbours merge into one write
                let mut bytes = bytes;
                bytes.resize(self.objects[id].capacity, 0);
                self.write_at("writing a new object header", addr, &bytes)?;
                self.objects[id].written = true;
            }
            self.objects[id].dirty = false;
        }
        Ok((phase2, phase3))
    }

    fn commit_phases23(
        &mut self,
        phase2: Vec<(u64, Vec<u8>)>,
        phase3: Vec<(u64, Vec<u8>)>,
    ) -> Result<()> {
        if phase2.is_empty() && phase3.is_empty() {
            return self.barrier();
        }
        self.barrier()?;
        // Phase 2: in-place growth of reachable index nodes.
        if !phase2.is_empty() {
            for (addr, bytes) in &phase2 {
                self.write_at("growing a chunk index node", *addr, bytes)?;
            }
            self.barrier()?;
        }
        // Phase 3: the commit records.
        for (addr, bytes) in &phase3 {
            self.write_at("committing an object header", *addr, bytes)?;
        }
        self.barrier()
    }

    /// Final commit, exact EOF, truncation of the preallocated tail.
    pub fn finish(&mut self) -> Result<u64> {
        self.commit()?;
        let end = self.space.high_water();
        let r = (|| {
            self.write_superblock(end)?;
            self.barrier()?;
            self.storage.set_len(end).map_err(|source| Error::Io {
                op: "truncating the preallocated tail",
                offset: end,
                source,
            })?;
            self.space.set_reserved(end);
            if self.durability == Durability::PowerLoss {
                self.storage.sync().map_err(|source| Error::Io {
                    op: "syncing (fdatasync)",
                    offset: end,
                    source,
                })?;
            }
            Ok(())
        })();
        self.poison_on(r)?;
        self.finished = true;
        Ok(end)
    }

    // ----- paths -----

    /// Follows `names` from `from`; every step must be a group except the last.
    pub fn resolve(&self, from: ObjId, names: &[&str]) -> Result<ObjId> {
        let mut cur = from;
        for name in names {
            let Kind::Group(g) = &self.objects[cur].kind else {
                return Err(Error::NotFound {
                    path: super::path::join(&self.objects[cur].path, name),
                    reason: "a parent in the path is not a group",
                });
            };
            cur = *g.index.get(*name).ok_or_else(|| Error::NotFound {
                path: super::path::join(&self.objects[cur].path, name),
                reason: "no such object",
            })?;
        }
        Ok(cur)
    }

    /// Resolves the group that will hold a new link at `path` (relative to `from`) and
    /// checks that the name is free. Returns the parent and the new link's name.
    pub fn parent_for_new<'p>(&self, from: ObjId, path: &'p str) -> Result<(ObjId, &'p str)> {
        let names = super::path::split(path)?;
        let Some((last, parents)) = names.split_last() else {
            return Err(Error::InvalidName {
                name: path.to_string(),
                reason: "the path names no new object",
            });
        };
        let parent = self.resolve(from, parents).map_err(|e| match e {
            Error::NotFound { path, .. } => Error::NotFound {
                path,
                reason: "the parent group does not exist",
            },
            e => e,
        })?;
        let Kind::Group(g) = &self.objects[parent].kind else {
            return Err(Error::NotFound {
                path: self.objects[parent].path.clone(),
                reason: "the parent is not a group",
            });
        };
        if g.index.contains_key(*last) || g.soft.iter().any(|s| s.0 == *last) {
            return Err(Error::AlreadyExists {
                path: super::path::join(&self.objects[parent].path, last),
            });
        }
        if let Some(l) = &self.objects[parent].legacy {
            if l.stab.is_none() {
                return Err(super::error::invalid(
                    &self.objects[parent].path,
                    "adding links to a group with a version-1 object header but no symbol \
                     table is not supported",
                ));
            }
        }
        Ok((parent, last))
    }

    /// Adds a link `name` in group `parent` to object `child`.
    pub fn link(&mut self, parent: ObjId, name: &str, child: ObjId) {
        if let Kind::Group(g) = &mut self.objects[parent].kind {
            g.links.push((name.to_string(), child));
            g.index.insert(name.to_string(), child);
        }
        self.objects[parent].dirty = true;
    }

    /// Creates a group at `path` relative to `from`.
    pub fn create_group(&mut self, from: ObjId, path: &str) -> Result<ObjId> {
        self.check_usable()?;
        let (parent, name) = self.parent_for_new(from, path)?;
        let full = super::path::join(&self.objects[parent].path, name);
        let r = self.add_object(full, Kind::Group(GroupState::default()));
        let id = self.poison_on(r)?;
        self.link(parent, name, id);
        Ok(id)
    }
}

/// An object's own messages followed by its attribute messages.
fn with_attrs<'a>(own: &'a [Message], obj: &'a Object) -> Vec<&'a Message> {
    own.iter().chain(obj.attrs.iter().map(|(_, m)| m)).collect()
}

/// Whether `[start, end)` is exactly a recorded allocator gap (gaps are recorded in
/// increasing address order).
fn is_gap(gaps: &[(u64, u64)], start: u64, end: u64) -> bool {
    gaps.binary_search_by_key(&start, |g| g.0)
        .is_ok_and(|i| gaps[i].1 == end)
}
