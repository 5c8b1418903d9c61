//! Adding to files in libhdf5's default format: a version 0 or 1 superblock,
//! version-1 object headers and old-style (symbol table) groups.
//!
//! New objects are written as h5sink writes them everywhere (version-2 headers,
//! new-style groups), which libhdf5 reads in any file. What belongs to libhdf5 is
//! changed in place, one field at a time, in the commit's phases:
//! - a dataset's dataspace message gets its new dims (phase 3, the commit record);
//! - a dataset's layout message gets a new chunk index root (phase 2: the new root
//!   reaches only chunks readers ignore until the dims grow);
//! - a group that gains links gets a whole new symbol table (local heap, symbol table
//!   nodes, group B-tree) in fresh space, then its symbol table message is pointed at
//!   it (phase 3); for the root, the superblock's cached copy follows.
//!
//! Version-1 headers carry no checksum, so each patch is only the bytes that change.

use std::collections::HashMap;

use super::error::{invalid, Result};
use super::inner::{Inner, Kind, ObjId};
use crate::format::symbol_table::{self, Cache, Entry};
use crate::format::Sizes;
use crate::space::Placement;

/// Where the fields a commit updates lie in a version 0/1 superblock.
pub(crate) struct LegacySuperblock {
    /// File offset of the end-of-file address.
    pub eof_at: u64,
    /// File offset of the root entry's cached (B-tree, heap) when it has them.
    pub root_cache_at: Option<u64>,
    /// Symbol table nodes hold up to `2 * group_leaf_k` entries.
    pub group_leaf_k: u16,
    /// Group B-tree nodes hold up to `2 * group_k` children.
    pub group_k: u16,
}

/// The messages of a version-1 object header that commits patch.
#[derive(Default)]
pub(crate) struct LegacyHeader {
    /// Dataspace message: file offset of the body and the body on disk.
    pub space: Option<(u64, Vec<u8>)>,
    /// Layout message: file offset of the body and the body on disk.
    pub layout: Option<(u64, Vec<u8>)>,
    /// An old-style group's symbol table.
    pub stab: Option<Box<SymbolTable>>,
    /// Address of the header (its prefix holds the message count at +2).
    pub addr: u64,
    /// The message count in the prefix.
    pub nmesgs: u16,
    /// NULL messages: file offset of the message header, body size.
    pub nulls: Vec<(u64, usize)>,
    /// Messages that may move to a continuation chunk to make room: file offset of
    /// the message header, type, flags, body.
    pub movable: Vec<(u64, u8, u8, Vec<u8>)>,
    /// Attributes (the first of the object's) already in the header.
    pub attrs_on_disk: usize,
}

/// Appends a version-1 header message: type (2 bytes), body size (2), flags, three
/// reserved bytes, the body padded to 8 bytes. Returns the message's offset in `out`.
fn push_v1_message(out: &mut Vec<u8>, kind: u8, flags: u8, body: &[u8]) -> usize {
    let at = out.len();
    let size = body.len().div_ceil(8) * 8;
    out.extend_from_slice(&v1_message_header(kind, size as u16, flags));
    out.extend_from_slice(body);
    out.resize(at + 8 + size, 0);
    at
}

/// The 8-byte header of a version-1 message whose body is `size` bytes.
fn v1_message_header(kind: u8, size: u16, flags: u8) -> [u8; 8] {
    let [k0, k1] = u16::from(kind).to_le_bytes();
    let [s0, s1] = size.to_le_bytes();
    [k0, k1, s0, s1, flags, 0, 0, 0]
}

/// An old-style group's symbol table as the file has it now.
pub(crate) struct SymbolTable {
    /// File offset of the symbol table message body (B-tree, then heap address).
    pub at: u64,
    /// Root of the group B-tree.
    pub btree: u64,
    /// Local heap (header address).
    pub heap: u64,
    /// The heap's data segment. A new table's heap starts with it unchanged, so the
    /// old table stays valid with the new heap.
    pub data: Vec<u8>,
    /// The heap's free list head (free blocks are left as they are).
    pub free_head: u64,
    /// Offsets of names in `data` outside free blocks.
    pub names: HashMap<Vec<u8>, u64>,
}

impl SymbolTable {
    /// The symbol table at body offset `at` pointing at `btree` and the local heap
    /// at `heap`, read from `bytes` (the whole file, already verified).
    pub(crate) fn read(
        object: &str,
        bytes: &[u8],
        sizes: Sizes,
        at: u64,
        btree: u64,
        heap: u64,
    ) -> Result<SymbolTable> {
        let bad = || invalid(object, "the group's local heap cannot be read");
        let field = |off: u64| -> Result<u64> {
            let s = bytes.get(off as usize..off as usize + 8).ok_or_else(bad)?;
            Ok(u64::from_le_bytes(s.try_into().expect("8 bytes")))
        };
        if sizes != Sizes::DEFAULT || bytes.get(heap as usize..heap as usize + 4) != Some(b"HEAP") {
            return Err(bad());
        }
        let (size, free_head, data_addr) = (field(heap + 8)?, field(heap + 16)?, field(heap + 24)?);
        let data = bytes
            .get(data_addr as usize..(data_addr + size) as usize)
            .ok_or_else(bad)?
            .to_vec();
        // free blocks: (offset of next, size) at each block's start
        let mut free = Vec::new();
        let mut next = free_head;
        while next != symbol_table::HEAP_FREE_NONE && free.len() <= data.len() / 16 {
            let block = data
                .get(next as usize..next as usize + 16)
                .ok_or_else(bad)?;
            let len = u64::from_le_bytes(block[8..16].try_into().expect("8 bytes"));
            free.push((next, next + len));
            next = u64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
        }
        let mut names = HashMap::new();
        for off in (0..data.len()).step_by(8) {
            let o = off as u64;
            if free.iter().any(|&(s, e)| o >= s && o < e) {
                continue;
            }
            if let Some(n) = data[off..].iter().position(|&b| b == 0) {
                let end = off + n;
                if free
                    .iter()
                    .all(|&(s, _)| s as usize > end || (s as usize) < off)
                {
                    names.entry(data[off..end].to_vec()).or_insert(o);
                }
            }
        }
        Ok(SymbolTable {
            at,
            btree,
            heap,
            data,
            free_head,
            names,
        })
    }
}

/// The byte ranges where `new` differs from `old`, as writes at `at` (ranges closer
/// than 8 bytes are merged).
fn patches(at: u64, old: &[u8], new: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut i = 0;
    while i < new.len() {
        if old.get(i) == Some(&new[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        let mut j = end;
        while j < new.len() && j < end + 8 {
            if old.get(j) != Some(&new[j]) {
                end = j + 1;
            }
            j += 1;
        }
        out.push((at + start as u64, new[start..end].to_vec()));
        i = end;
    }
    out
}

/// The dataspace body `old` (version 1 or 2) with its dims replaced by `dims`.
pub(crate) fn dataspace_with_dims(
    object: &str,
    sizes: Sizes,
    old: &[u8],
    dims: &[u64],
) -> Result<Vec<u8>> {
    let at = match old.first() {
        Some(1) => 8,
        Some(2) => 4,
        _ => return Err(invalid(object, "a dataspace message of unknown version")),
    };
    let w = usize::from(sizes.lengths);
    let mut new = old.to_vec();
    if old.get(1).map(|&r| usize::from(r)) != Some(dims.len()) || new.len() < at + w * dims.len() {
        return Err(invalid(
            object,
            "the dataspace message does not match the dims",
        ));
    }
    for (i, d) in dims.iter().enumerate() {
        new[at + i * w..at + (i + 1) * w].copy_from_slice(&d.to_le_bytes()[..w]);
    }
    Ok(new)
}

impl Inner {
    /// Commits a changed object with a version-1 header: its writes for phase 2 and 3.
    pub(crate) fn commit_legacy(
        &mut self,
        id: ObjId,
        phase2: &mut Vec<(u64, Vec<u8>)>,
        phase3: &mut Vec<(u64, Vec<u8>)>,
    ) -> Result<()> {
        let sizes = self.sizes;
        self.place_new_attributes(id, phase3)?;
        let obj = &self.objects[id];
        let legacy = obj.legacy.as_deref().expect("a legacy object");
        match &obj.kind {
            Kind::Dataset(d) => {
                let (msgs, _) = d.messages(sizes);
                let mut space = None;
                if let Some((at, old)) = &legacy.space {
                    let new = dataspace_with_dims(&obj.path, sizes, old, &d.dims)?;
                    phase3.extend(patches(*at, old, &new));
                    space = Some((*at, new));
                }
                let mut layout = None;
                if let Some((at, old)) = &legacy.layout {
                    let ours = &msgs
                        .iter()
                        .find(|m| m.kind == crate::format::msg_type::LAYOUT)
                        .expect("a dataset has a layout message")
                        .body;
                    if ours.len() > old.len() {
                        return Err(invalid(
                            &obj.path,
                            "the layout message would outgrow its place in the header",
                        ));
                    }
                    let mut new = old.clone();
                    new[..ours.len()].copy_from_slice(ours);
                    phase2.extend(patches(*at, old, &new));
                    layout = Some((*at, new));
                }
                let legacy = self.objects[id].legacy.as_deref_mut().expect("legacy");
                if let Some(s) = space {
                    legacy.space = Some(s);
                }
                if let Some(l) = layout {
                    legacy.layout = Some(l);
                }
            }
            Kind::Group(_) => {
                if legacy.stab.is_none() {
                    return Ok(());
                }
                let (at, old_btree, old_heap) = {
                    let t = legacy.stab.as_deref().expect("a symbol table");
                    (t.at, t.btree, t.heap)
                };
                let (btree, heap) = self.write_symbol_table(id)?;
                // the new heap first: a superset of the old one, so the old tree
                // still reads right with it; then the new tree
                phase2.extend(patches(
                    at + 8,
                    &old_heap.to_le_bytes(),
                    &heap.to_le_bytes(),
                ));
                phase3.extend(patches(at, &old_btree.to_le_bytes(), &btree.to_le_bytes()));
                if id == 0 {
                    // the superblock's copy of the root's addresses (readers ignore
                    // it; libhdf5 repairs a stale one when it opens the file to write)
                    if let Some(cache) = self.legacy.as_ref().and_then(|l| l.root_cache_at) {
                        let mut both = btree.to_le_bytes().to_vec();
                        both.extend_from_slice(&heap.to_le_bytes());
                        phase3.push((cache, both));
                    }
                }
            }
        }
        Ok(())
    }

    /// Puts the attributes added to a version-1 header since the last commit into a
    /// new continuation chunk, and a continuation message pointing at it into the
    /// header: in place of a NULL message when one is large enough (its body is
    /// written first, while readers still skip it, then its 8-byte message header),
    /// otherwise in place of a message that moves into the new chunk (one write).
    /// The chunk ends with a spare NULL message for the next continuation.
    fn place_new_attributes(&mut self, id: ObjId, phase3: &mut Vec<(u64, Vec<u8>)>) -> Result<()> {
        let obj = &self.objects[id];
        let l = obj.legacy.as_deref().expect("a legacy object");
        if obj.attrs.len() <= l.attrs_on_disk {
            return Ok(());
        }
        // a slot of 16 body bytes (exactly, or with room for a NULL after it)
        let fits = |b: usize| b == 16 || b >= 24;
        let null = l.nulls.iter().position(|n| fits(n.1));
        let moved = if null.is_some() {
            None
        } else {
            // prefer a message no commit patches
            let patched = [
                l.space.as_ref().map(|s| s.0),
                l.layout.as_ref().map(|s| s.0),
            ];
            let candidates: Vec<usize> = (0..l.movable.len())
                .filter(|&i| fits(l.movable[i].3.len().div_ceil(8) * 8))
                .collect();
            let pick = candidates
                .iter()
                .find(|&&i| {
                    let m = &l.movable[i];
                    m.1 != crate::format::msg_type::SYMBOL_TABLE
                        && !patched.contains(&Some(m.0 + 8))
                })
                .or(candidates.first())
                .copied();
            Some(pick.ok_or_else(|| {
                invalid(
                    &obj.path,
                    "the version-1 object header has no message that can make room for \
                     a continuation message",
                )
            })?)
        };
        if let Some((name, _)) = obj.attrs[l.attrs_on_disk..]
            .iter()
            .find(|(_, m)| m.body.len() > 0xfff8)
        {
            return Err(invalid(
                &obj.path,
                format!("attribute {name:?} is too large for a version-1 header message"),
            ));
        }
        let mut chunk = Vec::new();
        let mut moved_at = None;
        if let Some(i) = moved {
            let m = &l.movable[i];
            moved_at = Some(push_v1_message(&mut chunk, m.1, m.2, &m.3));
        }
        let added = obj.attrs.len() - l.attrs_on_disk;
        for (_, m) in &obj.attrs[l.attrs_on_disk..] {
            push_v1_message(&mut chunk, m.kind, m.flags, &m.body);
        }
        let spare = push_v1_message(&mut chunk, crate::format::msg_type::NIL, 0, &[0; 16]);
        let (slot, body_len) = match (null, moved) {
            (Some(n), _) => l.nulls[n],
            (None, Some(i)) => (l.movable[i].0, l.movable[i].3.len().div_ceil(8) * 8),
            _ => unreachable!("a slot was found"),
        };
        let (hdr_addr, nmesgs) = (l.addr, l.nmesgs);

        let cont = self.alloc(chunk.len() as u64, Placement::Align(8))?;
        self.write_at("writing an object header continuation chunk", cont, &chunk)?;
        // the continuation message, and a NULL message for what remains of the slot
        let mut msg = Vec::with_capacity(32);
        let mut body = cont.to_le_bytes().to_vec();
        body.extend_from_slice(&(chunk.len() as u64).to_le_bytes());
        push_v1_message(&mut msg, crate::format::msg_type::CONTINUATION, 0, &body);
        let rest = body_len - 16;
        if rest > 0 {
            let null = v1_message_header(crate::format::msg_type::NIL, (rest - 8) as u16, 0);
            msg.extend_from_slice(&null);
        }
        let mut count = u32::from(nmesgs) + added as u32 + 1 + u32::from(rest > 0);
        if null.is_some() {
            // readers skip the NULL message until its header changes
            self.write_at("preparing a continuation message", slot + 8, &msg[8..])?;
            phase3.push((slot, msg[..8].to_vec()));
        } else {
            count += 1;
            phase3.push((slot, msg));
        }
        let count = u16::try_from(count)
            .map_err(|_| invalid(&self.objects[id].path, "more than 65535 header messages"))?;
        phase3.push((hdr_addr + 2, count.to_le_bytes().to_vec()));

        let obj = &mut self.objects[id];
        let n_attrs = obj.attrs.len();
        let l = obj.legacy.as_deref_mut().expect("a legacy object");
        l.nmesgs = count;
        l.attrs_on_disk = n_attrs;
        match (null, moved) {
            (Some(n), _) => {
                l.nulls.remove(n);
            }
            (None, Some(i)) => {
                let m = l.movable.remove(i);
                let new_body = cont + moved_at.expect("moved") as u64 + 8;
                if let Some(s) = l.space.as_mut().filter(|s| s.0 == m.0 + 8) {
                    s.0 = new_body;
                }
                if let Some(s) = l.layout.as_mut().filter(|s| s.0 == m.0 + 8) {
                    s.0 = new_body;
                }
                if let Some(t) = l.stab.as_deref_mut().filter(|t| t.at == m.0 + 8) {
                    t.at = new_body;
                }
                l.movable.push((new_body - 8, m.1, m.2, m.3));
            }
            _ => {}
        }
        if rest > 0 {
            l.nulls.push((slot + 24, rest - 8));
        }
        l.nulls.push((cont + spare as u64, 16));
        Ok(())
    }

    /// Writes a new symbol table (local heap, symbol table nodes, group B-tree) for
    /// the links of old-style group `id` into fresh space; returns (B-tree, heap).
    fn write_symbol_table(&mut self, id: ObjId) -> Result<(u64, u64)> {
        let sizes = self.sizes;
        let (leaf_k, k) = {
            let l = self.legacy.as_ref().expect("a legacy file");
            (l.group_leaf_k, l.group_k)
        };
        let Kind::Group(g) = &self.objects[id].kind else {
            return Err(invalid(&self.objects[id].path, "not a group"));
        };
        // libhdf5 orders a symbol table by the names' bytes (strcmp)
        let mut links: Vec<(&[u8], Option<ObjId>, &str)> = g
            .links
            .iter()
            .map(|(n, c)| (n.as_bytes(), Some(*c), ""))
            .chain(g.soft.iter().map(|(n, t)| (n.as_bytes(), None, t.as_str())))
            .collect();
        links.sort_by(|a, b| a.0.cmp(b.0));
        let table = self.objects[id]
            .legacy
            .as_deref()
            .and_then(|l| l.stab.as_deref())
            .expect("an old-style group");
        // names the heap lacks go after its data, which stays as it is
        let mut data = table.data.clone();
        let mut names = table.names.clone();
        let free_head = table.free_head;
        let mut offset_of = |s: &[u8]| {
            *names.entry(s.to_vec()).or_insert_with(|| {
                let at = data.len() as u64;
                symbol_table::push_name(&mut data, s);
                at
            })
        };
        let mut entries = Vec::with_capacity(links.len());
        for (name, child, target) in &links {
            let name = offset_of(name);
            entries.push(match child {
                Some(child) => {
                    let c = &self.objects[*child];
                    Entry {
                        name,
                        header: c.addr,
                        cache: match c.legacy.as_ref().and_then(|l| l.stab.as_deref()) {
                            Some(t) => Cache::Stab(t.btree, t.heap),
                            None => Cache::None,
                        },
                    }
                }
                None => Entry {
                    name,
                    header: crate::format::UNDEF,
                    cache: Cache::SoftLink(offset_of(target.as_bytes()) as u32),
                },
            });
        }

        let head = symbol_table::heap_header_len(sizes);
        let heap = self.alloc((head + data.len()) as u64, Placement::Align(8))?;
        let mut buf = Vec::with_capacity(head + data.len());
        symbol_table::encode_heap_header(
            &mut buf,
            sizes,
            data.len() as u64,
            free_head,
            heap + head as u64,
        );
        buf.extend_from_slice(&data);
        self.write_at("writing a group's local heap", heap, &buf)?;

        // level 0 of the tree points at symbol table nodes: (address, greatest name)
        let per_node = 2 * usize::from(leaf_k);
        let mut below: Vec<(u64, u64)> = Vec::new();
        for part in entries.chunks(per_node) {
            let len = symbol_table::snod_len(sizes, leaf_k);
            let addr = self.alloc(len as u64, Placement::Align(8))?;
            let mut buf = Vec::with_capacity(len);
            symbol_table::encode_snod(&mut buf, sizes, leaf_k, part);
            self.write_at("writing a symbol table node", addr, &buf)?;
            below.push((addr, part[part.len() - 1].name));
        }
        let fan = 2 * usize::from(k);
        let node_len = symbol_table::group_node_len(sizes, k);
        let mut level = 0u8;
        loop {
            let groups: Vec<&[(u64, u64)]> = if below.is_empty() {
                vec![&[][..]]
            } else {
                below.chunks(fan).collect()
            };
            let mut addrs = Vec::with_capacity(groups.len());
            for _ in &groups {
                addrs.push(self.alloc(node_len as u64, Placement::Align(8))?);
            }
            let mut next = Vec::with_capacity(groups.len());
            let mut left_bound = 0u64;
            for (i, part) in groups.iter().enumerate() {
                let mut keys = vec![left_bound];
                keys.extend(part.iter().map(|p| p.1));
                let children: Vec<u64> = part.iter().map(|p| p.0).collect();
                let undef = crate::format::UNDEF;
                let siblings = (
                    if i == 0 { undef } else { addrs[i - 1] },
                    addrs.get(i + 1).copied().unwrap_or(undef),
                );
                let mut buf = Vec::with_capacity(node_len);
                symbol_table::encode_group_node(
                    &mut buf, sizes, k, level, siblings, &keys, &children,
                );
                self.write_at("writing a group B-tree node", addrs[i], &buf)?;
                left_bound = *keys.last().expect("a key");
                next.push((addrs[i], left_bound));
            }
            if next.len() == 1 {
                let t = self.objects[id]
                    .legacy
                    .as_deref_mut()
                    .and_then(|l| l.stab.as_deref_mut())
                    .expect("an old-style group");
                (t.btree, t.heap, t.data, t.names) = (next[0].0, heap, data, names);
                return Ok((next[0].0, heap));
            }
            below = next;
            level += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_cover_only_changed_bytes() {
        let old = [0u8; 32];
        let mut new = old;
        new[3] = 1;
        new[5] = 2;
        new[20] = 3;
        let p = patches(100, &old, &new);
        assert_eq!(p, vec![(103, vec![1, 0, 2]), (120, vec![3])]);
        assert!(patches(0, &new, &new).is_empty());
    }

    #[test]
    fn dataspace_dims_are_replaced_in_either_version() {
        let mut v1 = vec![1u8, 2, 1, 0, 0, 0, 0, 0];
        v1.extend([3u64, 4, u64::MAX, 4].iter().flat_map(|v| v.to_le_bytes()));
        let new = dataspace_with_dims("/d", Sizes::DEFAULT, &v1, &[7, 4]).unwrap();
        assert_eq!(&new[8..16], &7u64.to_le_bytes());
        assert_eq!(&new[16..], &v1[16..]);
        let mut v2 = vec![2u8, 1, 1, 1];
        v2.extend([3u64, u64::MAX].iter().flat_map(|v| v.to_le_bytes()));
        let new = dataspace_with_dims("/d", Sizes::DEFAULT, &v2, &[9]).unwrap();
        assert_eq!(&new[4..12], &9u64.to_le_bytes());
        assert!(dataspace_with_dims("/d", Sizes::DEFAULT, &v2, &[9, 1]).is_err());
    }
}
