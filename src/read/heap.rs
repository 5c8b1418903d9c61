//! Global heap collections ("GCOL", format-notes §4.9): where variable-length data
//! lives.

use std::collections::HashMap;

use super::bytes::{Cursor, Source};
use super::error::{malformed, Error, Result, Structure};
use crate::format::global_heap::MIN_COLLECTION;

const G: Structure = Structure::GlobalHeap;

/// One parsed collection: object index → (file offset of the data, length).
pub(crate) struct Collection {
    pub size: u64,
    objects: HashMap<u16, (u64, u64)>,
}

/// Parses each collection once.
#[derive(Default)]
pub(crate) struct Heaps {
    cache: HashMap<u64, Result<Collection>>,
}

impl Heaps {
    /// The collection at `addr`, parsed on first use.
    pub fn get(&mut self, src: &Source<'_>, addr: u64) -> Result<&Collection> {
        self.cache
            .entry(addr)
            .or_insert_with(|| parse(src, addr))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Every collection parsed so far: (address, size).
    pub fn extents(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.cache
            .iter()
            .filter_map(|(a, c)| c.as_ref().ok().map(|c| (*a, c.size)))
    }

    /// The data of object `index` in the collection at `addr`.
    pub fn object<'a>(&mut self, src: &Source<'a>, addr: u64, index: u32) -> Result<&'a [u8]> {
        let c = self.get(src, addr)?;
        let (off, len) = u16::try_from(index)
            .ok()
            .filter(|&i| i != 0)
            .and_then(|i| c.objects.get(&i))
            .copied()
            .ok_or_else(|| malformed(G, addr, format!("no object with index {index}")))?;
        src.slice(G, off, len)
    }
}

fn parse(src: &Source<'_>, addr: u64) -> Result<Collection> {
    let sizes = src.sizes;
    let head_len = 8 + u64::from(sizes.lengths);
    let head = src.slice(G, addr, head_len)?;
    if &head[..4] != b"GCOL" {
        return Err(Error::BadSignature {
            structure: G,
            offset: addr,
        });
    }
    if head[4] != 1 {
        return Err(Error::BadVersion {
            structure: G,
            offset: addr,
            version: head[4],
        });
    }
    let size = Cursor::new(&head[8..], addr, G, sizes).length()?;
    if size < MIN_COLLECTION as u64 {
        // libhdf5 reads 4096 bytes before it looks at the size
        return Err(malformed(
            G,
            addr,
            format!("collection size {size} is below the {MIN_COLLECTION}-byte minimum"),
        ));
    }
    let bytes = src.slice(G, addr, size)?;
    let mut c = Cursor::new(&bytes[head_len as usize..], addr, G, sizes);
    let ohead = 8 + usize::from(sizes.lengths);
    let mut objects = HashMap::new();
    while c.remaining() >= ohead {
        let at = addr + head_len + c.pos() as u64;
        let index = c.u16()?;
        c.u16()?; // reference count
        c.u32()?; // reserved
        let len = c.length()?;
        if index == 0 {
            // free space: the rest of the collection
            let rest = (c.remaining() + ohead) as u64;
            if len > rest {
                return Err(malformed(
                    G,
                    addr,
                    format!("free-space object at {at:#x} of {len} bytes, only {rest} remain"),
                ));
            }
            break;
        }
        let padded = len.div_ceil(8).saturating_mul(8);
        if padded > c.remaining() as u64 {
            return Err(malformed(
                G,
                addr,
                format!("object {index} at {at:#x} of {len} bytes runs past the collection's end"),
            ));
        }
        let data_at = addr + head_len + c.pos() as u64;
        c.skip(padded as usize)?;
        if objects.insert(index, (data_at, len)).is_some() {
            return Err(malformed(
                G,
                addr,
                format!("object index {index} appears twice"),
            ));
        }
    }
    Ok(Collection { size, objects })
}

/// Resolves the variable-length elements of `raw` (each: length u32, collection
/// address, object index u32) to their data; `base_size` is the size of one element
/// of the sequence (1 for strings).
pub(crate) fn resolve_vlen(
    src: &Source<'_>,
    heaps: &mut Heaps,
    raw: &[u8],
    elem_size: usize,
    base_size: u64,
    offset: u64,
    structure: Structure,
) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(raw.len() / elem_size.max(1));
    let mut total = 0u64;
    for e in raw.chunks_exact(elem_size.max(1)) {
        let mut c = Cursor::new(e, offset, structure, src.sizes);
        let n = u64::from(c.u32()?);
        let addr = c.addr()?;
        let index = c.u32()?;
        if n == 0 {
            out.push(Vec::new());
            continue;
        }
        let data = heaps.object(src, addr, index)?;
        let want = n.saturating_mul(base_size);
        if want > data.len() as u64 {
            return Err(malformed(
                structure,
                offset,
                format!(
                    "variable-length element of {want} bytes, but heap object {index} at {addr:#x} holds {}",
                    data.len()
                ),
            ));
        }
        total = total.saturating_add(want);
        if total > src.eof() {
            return Err(malformed(
                structure,
                offset,
                "variable-length data adds up to more than the file size",
            ));
        }
        out.push(data[..want as usize].to_vec());
    }
    Ok(out)
}
