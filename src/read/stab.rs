//! Old-style groups (format-notes §4.8): the symbol table message (0x11), its local
//! heap ("HEAP") of link names, and the version-1 B-tree of type 0 over symbol table
//! nodes ("SNOD").

use std::collections::HashSet;

use super::bytes::{Cursor, Source};
use super::error::{malformed, Error, Result, Structure};
use super::message::{Link, LinkTarget};
use crate::encode::UNDEF;

/// B-tree levels deeper than this are taken for a cycle or corruption.
const MAX_DEPTH: usize = 64;

/// A local heap: its data segment.
struct LocalHeap<'a> {
    addr: u64,
    data: &'a [u8],
}

impl<'a> LocalHeap<'a> {
    fn parse(
        src: &Source<'a>,
        addr: u64,
        extents: &mut Vec<(Structure, u64, u64)>,
    ) -> Result<Self> {
        const H: Structure = Structure::LocalHeap;
        let sizes = src.sizes;
        let head_len = 8 + 2 * u64::from(sizes.lengths) + u64::from(sizes.offsets);
        let mut c = src.cursor(H, addr, head_len)?;
        if c.bytes(4)? != b"HEAP" {
            return Err(Error::BadSignature {
                structure: H,
                offset: addr,
            });
        }
        let version = c.u8()?;
        if version != 0 {
            return Err(Error::BadVersion {
                structure: H,
                offset: addr,
                version,
            });
        }
        c.skip(3)?;
        let size = c.length()?;
        c.length()?; // free list head
        let data_addr = c.addr()?;
        let data = src.slice(H, data_addr, size)?;
        extents.push((H, addr, head_len));
        if size > 0 {
            extents.push((H, data_addr, size));
        }
        Ok(LocalHeap { addr, data })
    }

    /// The NUL-terminated string at `offset` of the data segment.
    fn string(&self, offset: u64, at: u64) -> Result<String> {
        let bad = |why: String| malformed(Structure::LocalHeap, self.addr, why);
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| self.data.get(o..))
            .ok_or_else(|| {
                bad(format!(
                    "name offset {offset} (entry at {at:#x}) lies outside the {}-byte data segment",
                    self.data.len()
                ))
            })?;
        let end = rest.iter().position(|&b| b == 0).ok_or_else(|| {
            bad(format!(
                "the string at offset {offset} (entry at {at:#x}) is not NUL-terminated"
            ))
        })?;
        String::from_utf8(rest[..end].to_vec())
            .map_err(|_| bad(format!("the string at offset {offset} is not UTF-8")))
    }
}

/// Reads the links of an old-style group from its symbol table message body (at
/// `offset`): every symbol table entry, in B-tree (name) order. Hard links and soft
/// links; other cache types are hard links as well.
pub(crate) fn read_links(
    src: &Source<'_>,
    body: &[u8],
    offset: u64,
    extents: &mut Vec<(Structure, u64, u64)>,
) -> Result<Vec<Link>> {
    let mut c = Cursor::new(body, offset, Structure::SymbolTable, src.sizes);
    let btree = c.addr()?;
    let heap_addr = c.addr()?;
    let heap = LocalHeap::parse(src, heap_addr, extents)?;
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    walk(src, &heap, btree, None, 0, &mut seen, &mut links, extents)?;
    Ok(links)
}

#[allow(clippy::too_many_arguments)]
fn walk(
    src: &Source<'_>,
    heap: &LocalHeap<'_>,
    addr: u64,
    expect_level: Option<u8>,
    depth: usize,
    seen: &mut HashSet<u64>,
    links: &mut Vec<Link>,
    extents: &mut Vec<(Structure, u64, u64)>,
) -> Result<()> {
    const B: Structure = Structure::GroupBTreeNode;
    if depth > MAX_DEPTH {
        return Err(malformed(B, addr, "group B-tree deeper than 64 levels"));
    }
    if !seen.insert(addr) {
        return Err(malformed(
            B,
            addr,
            "group B-tree node reached twice (a cycle or a shared child)",
        ));
    }
    let (o, l) = (u64::from(src.sizes.offsets), u64::from(src.sizes.lengths));
    let head_len = 8 + 2 * o;
    let mut c = src.cursor(B, addr, head_len)?;
    if c.bytes(4)? != b"TREE" {
        return Err(Error::BadSignature {
            structure: B,
            offset: addr,
        });
    }
    let kind = c.u8()?;
    if kind != 0 {
        return Err(Error::BTreeNodeType {
            structure: B,
            offset: addr,
            found: kind,
        });
    }
    let level = c.u8()?;
    if let Some(e) = expect_level {
        if level != e {
            return Err(malformed(
                B,
                addr,
                format!("node of level {level} where level {e} was expected"),
            ));
        }
    }
    let entries = u64::from(c.u16()?);
    let len = head_len + entries * (l + o) + l;
    let mut c = src.cursor(B, addr, len)?;
    c.skip(head_len as usize)?;
    extents.push((B, addr, len));
    let mut children = Vec::with_capacity(entries as usize);
    for _ in 0..entries {
        c.length()?; // key: heap offset of the child's largest name
        children.push(c.addr()?);
    }
    for child in children {
        if level == 0 {
            read_snod(src, heap, child, seen, links, extents)?;
        } else {
            walk(
                src,
                heap,
                child,
                Some(level - 1),
                depth + 1,
                seen,
                links,
                extents,
            )?;
        }
    }
    Ok(())
}

fn read_snod(
    src: &Source<'_>,
    heap: &LocalHeap<'_>,
    addr: u64,
    seen: &mut HashSet<u64>,
    links: &mut Vec<Link>,
    extents: &mut Vec<(Structure, u64, u64)>,
) -> Result<()> {
    const N: Structure = Structure::SymbolTableNode;
    if !seen.insert(addr) {
        return Err(malformed(N, addr, "symbol table node reached twice"));
    }
    let (o, l) = (u64::from(src.sizes.offsets), u64::from(src.sizes.lengths));
    let mut c = src.cursor(N, addr, 8)?;
    if c.bytes(4)? != b"SNOD" {
        return Err(Error::BadSignature {
            structure: N,
            offset: addr,
        });
    }
    let version = c.u8()?;
    if version != 1 {
        return Err(Error::BadVersion {
            structure: N,
            offset: addr,
            version,
        });
    }
    c.u8()?;
    let n = u64::from(c.u16()?);
    let entry_len = l + o + 24;
    let len = 8 + n * entry_len;
    let mut c = src.cursor(N, addr, len)?;
    c.skip(8)?;
    extents.push((N, addr, len));
    for i in 0..n {
        let at = addr + 8 + i * entry_len;
        let name_off = c.length()?;
        let obj = c.addr()?;
        let cache = c.u32()?;
        c.u32()?;
        let scratch = c.bytes(16)?;
        let name = heap.string(name_off, at)?;
        if name.is_empty() {
            return Err(malformed(N, at, "a symbol table entry with an empty name"));
        }
        let target = if cache == 2 {
            let off = u32::from_le_bytes([scratch[0], scratch[1], scratch[2], scratch[3]]);
            LinkTarget::Soft {
                path: heap.string(u64::from(off), at)?,
            }
        } else {
            if obj == UNDEF {
                return Err(malformed(
                    N,
                    at,
                    format!("hard link {name:?} has an undefined object header address"),
                ));
            }
            LinkTarget::Hard { addr: obj }
        };
        links.push(Link {
            name,
            target,
            offset: at,
        });
    }
    Ok(())
}
