//! Fractal heaps (spec III.G; spec-notes/fractal-heap.md): the object store of dense
//! link and attribute storage. A header ("FRHP") describes a doubling table of
//! blocks: the root is one direct block ("FHDB") or an indirect block ("FHIB") whose
//! rows point at direct blocks, then (past the largest direct block size) at
//! smaller indirect blocks. Objects are found by heap IDs: managed objects by their
//! offset in the heap's address space, tiny objects inside the ID itself, huge
//! objects as separate extents found through a v2 B-tree (record type 1) or
//! directly from the ID.
//!
//! [`FractalHeap::open`] reads the header and every block once (each inside the end
//! of file, checksums verified, at most the file's size read in all), so that
//! lookups afterwards are searches in memory.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use super::btree_v2::{self, Records};
use super::bytes::{Cursor, Source};
use super::chunks_v4::{checked_block, Budget};
use super::error::{malformed, unsupported, Error, Result, Structure};
use crate::encode::{hashlittle, UNDEF};

const HDR: Structure = Structure::FractalHeapHeader;
const DBLOCK: Structure = Structure::FractalHeapDirectBlock;
const IBLOCK: Structure = Structure::FractalHeapIndirectBlock;

/// log2 of a power of two.
fn log2(n: u64) -> u32 {
    63 - n.leading_zeros()
}

/// One direct block: its offset in the heap's address space and all its bytes.
struct Block<'a> {
    off: u64,
    addr: u64,
    data: &'a [u8],
}

/// A fractal heap, read whole.
pub(crate) struct FractalHeap<'a> {
    /// Address of the header.
    pub addr: u64,
    /// Bytes of a heap ID.
    pub id_len: usize,
    /// Managed, huge and tiny objects, as the header counts them.
    pub objects: u64,
    /// Address of the free-space manager of the managed blocks (UNDEF: none).
    pub free_space: u64,
    man_size: u64,
    max_man_size: u64,
    max_direct_size: u64,
    off_size: u8,
    len_size: u8,
    /// Bytes at the start of each direct block that hold no objects.
    dblock_overhead: u64,
    tiny_extended: bool,
    huge_direct: bool,
    huge_id_size: u8,
    /// Direct blocks sorted by heap offset.
    blocks: Vec<Block<'a>>,
    /// Huge objects found through the B-tree: ID → (address, length).
    huge: BTreeMap<u64, (u64, u64)>,
    src: Source<'a>,
}

/// A heap object: its bytes and, unless it is tiny (stored in its ID), its address.
#[derive(Debug)]
pub(crate) struct Object<'a> {
    pub bytes: Cow<'a, [u8]>,
    pub addr: Option<u64>,
}

/// The doubling table's geometry, derived from the header.
struct Table {
    width: u64,
    start: u64,
    /// Rows of direct blocks an indirect block can have.
    max_direct_rows: u64,
    /// log2(start × width): the bits of the first row's span.
    first_row_bits: u32,
}

impl Table {
    /// Size of each block in `row`.
    fn block_size(&self, row: u64) -> Option<u64> {
        if row == 0 {
            Some(self.start)
        } else {
            self.start.checked_shl(u32::try_from(row - 1).ok()?)
        }
    }

    /// Offset of `row` from the start of its indirect block.
    fn row_offset(&self, row: u64) -> Option<u64> {
        if row == 0 {
            Some(0)
        } else {
            self.start
                .checked_mul(self.width)?
                .checked_shl(u32::try_from(row - 1).ok()?)
        }
    }
}

/// Huge-object records: type 1 (ID → address, length) when IDs are indirect, type 3
/// (address, length) when they hold the address themselves.
struct HugeRecords {
    direct: bool,
    o: u64,
    l: u64,
}

impl Records for HugeRecords {
    /// (ID, address, length); the ID is 0 for type 3.
    type Rec = (u64, u64, u64);

    fn kind(&self) -> u8 {
        if self.direct {
            3
        } else {
            1
        }
    }

    fn what(&self) -> &'static str {
        "huge objects of a fractal heap"
    }

    fn size(&self) -> u64 {
        self.o + self.l + if self.direct { 0 } else { self.l }
    }

    fn decode(&self, c: &mut Cursor<'_>) -> Result<(u64, u64, u64)> {
        let addr = c.addr()?;
        let len = c.length()?;
        let id = if self.direct { 0 } else { c.length()? };
        Ok((id, addr, len))
    }

    /// Type 1 by ID, type 3 by address, strictly increasing.
    fn ordered(&self, prev: &(u64, u64, u64), next: &(u64, u64, u64)) -> bool {
        if self.direct {
            prev.1 < next.1
        } else {
            prev.0 < next.0
        }
    }

    fn key(&self, r: &(u64, u64, u64)) -> String {
        if self.direct {
            format!("at {:#x}", r.1)
        } else {
            format!("ID {}", r.0)
        }
    }
}

impl<'a> FractalHeap<'a> {
    /// Reads the heap whose header is at `addr`: the header, every block reachable
    /// from the root (each at most once) and the huge-object B-tree. Each structure
    /// goes to `extents`.
    pub fn open(
        src: &Source<'a>,
        addr: u64,
        extents: &mut Vec<(Structure, u64, u64)>,
    ) -> Result<FractalHeap<'a>> {
        let (o, l) = (u64::from(src.sizes.offsets), u64::from(src.sizes.lengths));
        let mut budget = Budget::named(src.eof(), "fractal heap");
        // the fixed part: everything up to the filter information
        let covered = fixed_header_len(o, l);
        let head = src.slice(HDR, addr, covered)?;
        if &head[..4] != b"FRHP" {
            return Err(Error::BadSignature {
                structure: HDR,
                offset: addr,
            });
        }
        if u16::from_le_bytes([head[7], head[8]]) > 0 {
            return Err(unsupported(HDR, addr, "fractal heaps with I/O filters"));
        }
        budget.spend(HDR, addr, covered + 4)?;
        let b = checked_block(src, HDR, addr, b"FRHP", covered)?;
        extents.push((HDR, addr, covered + 4));
        let mut c = Cursor::new(&b[5..], addr, HDR, src.sizes);
        let id_len = c.u16()?;
        let _filter_len = c.u16()?;
        let flags = c.u8()?;
        let max_man_size = u64::from(c.u32()?);
        let _next_huge_id = c.length()?;
        let huge_bt = c.addr()?;
        let _free = c.length()?;
        let free_space = c.addr()?;
        let man_size = c.length()?;
        let _man_alloc = c.length()?;
        let _iter_off = c.length()?;
        let man_nobjs = c.length()?;
        let _huge_size = c.length()?;
        let huge_nobjs = c.length()?;
        let _tiny_size = c.length()?;
        let tiny_nobjs = c.length()?;
        let width = u64::from(c.u16()?);
        let start = c.length()?;
        let max_direct_size = c.length()?;
        let max_index = c.u16()?;
        let _start_root_rows = c.u16()?;
        let root = c.addr()?;
        let root_rows = u64::from(c.u16()?);
        let bad = |r: String| malformed(HDR, addr, r);
        if flags & !0x03 != 0 {
            return Err(bad(format!("flags {flags:#04x}")));
        }
        if !width.is_power_of_two() {
            return Err(bad(format!("table width {width} is not a power of two")));
        }
        if !start.is_power_of_two() || !max_direct_size.is_power_of_two() {
            return Err(bad(format!(
                "starting block size {start} and maximum direct block size \
                 {max_direct_size} must be powers of two"
            )));
        }
        if max_direct_size < start {
            return Err(bad(format!(
                "maximum direct block size {max_direct_size} below the starting size {start}"
            )));
        }
        let first_row_bits = log2(start) + log2(width);
        if max_index > 64 || u32::from(max_index) < first_row_bits {
            return Err(bad(format!(
                "maximum heap size of {max_index} bits (the first row needs {first_row_bits})"
            )));
        }
        let max_root_rows = u64::from(max_index) - u64::from(first_row_bits) + 1;
        if root_rows > max_root_rows {
            return Err(bad(format!(
                "{root_rows} rows in the root indirect block, at most {max_root_rows}"
            )));
        }
        let off_size = max_index.div_ceil(8) as u8;
        // bytes for a length up to the maximum direct block size, and up to the
        // largest managed object
        let len_size =
            (log2(max_direct_size).div_ceil(8)).min(log2(max_man_size.max(1)) / 8 + 1) as u8;
        let id_len = usize::from(id_len);
        let managed_id = 1 + usize::from(off_size) + usize::from(len_size);
        if id_len < managed_id {
            return Err(bad(format!(
                "heap IDs of {id_len} bytes cannot hold a managed object's \
                 {off_size}-byte offset and {len_size}-byte length"
            )));
        }
        let checksummed = flags & 0x02 != 0;
        let dblock_overhead = 5 + o + u64::from(off_size) + if checksummed { 4 } else { 0 };
        if start <= dblock_overhead {
            return Err(bad(format!(
                "starting block size {start} leaves no room after the {dblock_overhead}-byte \
                 direct block header"
            )));
        }
        let huge_direct = o + l < id_len as u64;
        let huge_id_size = if huge_direct {
            0
        } else {
            (id_len - 1).min(8) as u8
        };
        let table = Table {
            width,
            start,
            max_direct_rows: u64::from(log2(max_direct_size) - log2(start)) + 2,
            first_row_bits,
        };
        let mut heap = FractalHeap {
            addr,
            id_len,
            objects: man_nobjs
                .saturating_add(huge_nobjs)
                .saturating_add(tiny_nobjs),
            free_space,
            man_size,
            max_man_size,
            max_direct_size,
            off_size,
            len_size,
            dblock_overhead,
            tiny_extended: id_len - 1 > 17,
            huge_direct,
            huge_id_size,
            blocks: Vec::new(),
            huge: BTreeMap::new(),
            src: *src,
        };
        if root == UNDEF {
            if man_nobjs != 0 {
                return Err(bad(format!(
                    "{man_nobjs} managed objects but no root block"
                )));
            }
        } else {
            heap.read_blocks(&table, root, root_rows, checksummed, extents, &mut budget)?;
        }
        if huge_bt == UNDEF {
            if huge_nobjs != 0 {
                return Err(bad(format!(
                    "{huge_nobjs} huge objects but no huge-object B-tree"
                )));
            }
        } else {
            let recs = HugeRecords {
                direct: huge_direct,
                o,
                l,
            };
            let found = btree_v2::walk(src, huge_bt, &recs, extents, &mut budget)?;
            if found.len() as u64 != huge_nobjs {
                return Err(bad(format!(
                    "{huge_nobjs} huge objects in the header, {} in its B-tree",
                    found.len()
                )));
            }
            for (id, a, len) in found {
                src.check_extent(Structure::HugeObject, a, len)?;
                budget.spend(Structure::HugeObject, a, len)?;
                extents.push((Structure::HugeObject, a, len));
                if !huge_direct {
                    heap.huge.insert(id, (a, len));
                }
            }
        }
        Ok(heap)
    }

    /// Reads every block from the root: a direct block of the starting size when
    /// `root_rows` is 0, else an indirect block of `root_rows` rows.
    fn read_blocks(
        &mut self,
        t: &Table,
        root: u64,
        root_rows: u64,
        checksummed: bool,
        extents: &mut Vec<(Structure, u64, u64)>,
        budget: &mut Budget,
    ) -> Result<()> {
        let src = self.src;
        let o = u64::from(src.sizes.offsets);
        let off_size = self.off_size;
        let heap = self.addr;
        let mut seen: HashSet<u64> = HashSet::new();
        // (address, heap offset, size of a direct block or 0, rows of an indirect one)
        let mut stack: Vec<(u64, u64, u64, u64)> = Vec::new();
        if root_rows == 0 {
            stack.push((root, 0, t.start, 0));
        } else {
            stack.push((root, 0, 0, root_rows));
        }
        while let Some((at, off, size, rows)) = stack.pop() {
            let s = if rows == 0 { DBLOCK } else { IBLOCK };
            if !seen.insert(at) {
                return Err(malformed(s, at, "block reached twice"));
            }
            // both kinds start with signature, version, heap address, block offset
            let prefix = 5 + o + u64::from(off_size);
            let check_prefix = |b: &[u8]| -> Result<()> {
                let mut c = Cursor::new(&b[5..], at, s, src.sizes);
                let owner = c.addr()?;
                if owner != heap {
                    return Err(malformed(
                        s,
                        at,
                        format!("belongs to the heap at {owner:#x}, not {heap:#x}"),
                    ));
                }
                let stored = c.uint(off_size)?;
                if stored != off {
                    return Err(malformed(
                        s,
                        at,
                        format!("block offset {stored}, expected {off}"),
                    ));
                }
                Ok(())
            };
            if rows == 0 {
                src.check_extent(s, at, size)?;
                budget.spend(s, at, size)?;
                let b = src.slice(s, at, size)?;
                if &b[..4] != b"FHDB" {
                    return Err(Error::BadSignature {
                        structure: s,
                        offset: at,
                    });
                }
                if b[4] != 0 {
                    return Err(Error::BadVersion {
                        structure: s,
                        offset: at,
                        version: b[4],
                    });
                }
                check_prefix(b)?;
                if checksummed {
                    // over the whole block, the checksum field taken as zeros
                    let p = prefix as usize;
                    let stored = u32::from_le_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]]);
                    let mut copy = b.to_vec();
                    copy[p..p + 4].fill(0);
                    let computed = hashlittle(&copy, 0);
                    if stored != computed {
                        return Err(Error::BadChecksum {
                            structure: s,
                            offset: at,
                            stored,
                            computed,
                        });
                    }
                }
                extents.push((s, at, size));
                self.blocks.push(Block {
                    off,
                    addr: at,
                    data: b,
                });
                continue;
            }
            let entries = rows
                .checked_mul(t.width)
                .filter(|&n| n <= src.eof())
                .ok_or_else(|| malformed(s, at, format!("{rows} rows of {} blocks", t.width)))?;
            let covered = prefix + entries * o;
            budget.spend(s, at, covered + 4)?;
            let b = checked_block(&src, s, at, b"FHIB", covered)?;
            check_prefix(b)?;
            extents.push((s, at, covered + 4));
            let mut c = Cursor::new(&b[prefix as usize..], at, s, src.sizes);
            for u in 0..entries {
                let child = c.addr()?;
                if child == UNDEF {
                    continue;
                }
                let (row, col) = (u / t.width, u % t.width);
                let geometry = t
                    .block_size(row)
                    .zip(t.row_offset(row))
                    .and_then(|(bs, ro)| {
                        let child_off = off.checked_add(ro)?.checked_add(bs.checked_mul(col)?)?;
                        Some((bs, child_off))
                    });
                let (bs, child_off) = geometry.ok_or_else(|| {
                    malformed(
                        s,
                        at,
                        format!("row {row} lies beyond the heap's address space"),
                    )
                })?;
                if row < t.max_direct_rows {
                    stack.push((child, child_off, bs, 0));
                } else {
                    // an indirect block spanning `bs` bytes of heap space
                    let child_rows =
                        (i64::from(log2(bs)) - i64::from(t.first_row_bits) + 1).max(0) as u64;
                    if child_rows == 0 || child_rows >= rows {
                        return Err(malformed(
                            s,
                            at,
                            format!("row {row} would hold indirect blocks of {child_rows} rows"),
                        ));
                    }
                    stack.push((child, child_off, 0, child_rows));
                }
            }
        }
        self.blocks.sort_by_key(|b| b.off);
        Ok(())
    }

    /// The object a heap ID names. Errors are reasons (the caller knows where the ID
    /// is stored).
    pub fn object(&self, id: &[u8]) -> Result<Object<'a>, String> {
        if id.len() != self.id_len {
            return Err(format!(
                "heap ID of {} bytes, the heap's are {}",
                id.len(),
                self.id_len
            ));
        }
        let flags = id[0];
        if flags & 0xc0 != 0 {
            return Err(format!("heap ID version {}", flags >> 6));
        }
        let le = |b: &[u8]| {
            let mut v = [0u8; 8];
            v[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(v)
        };
        match flags & 0x30 {
            0x00 => {
                let os = usize::from(self.off_size);
                let off = le(&id[1..1 + os]);
                let len = le(&id[1 + os..1 + os + usize::from(self.len_size)]);
                if len == 0 || len > self.max_man_size || len > self.max_direct_size {
                    return Err(format!("managed object of {len} bytes"));
                }
                if off > self.man_size {
                    return Err(format!(
                        "managed object at heap offset {off}, past the managed space of {} bytes",
                        self.man_size
                    ));
                }
                let i = self.blocks.partition_point(|b| b.off <= off);
                let block = i
                    .checked_sub(1)
                    .map(|i| &self.blocks[i])
                    .ok_or_else(|| format!("heap offset {off} lies in no direct block"))?;
                let rel = off - block.off;
                let end = rel.checked_add(len);
                match end {
                    Some(end) if rel >= self.dblock_overhead && end <= block.data.len() as u64 => {
                        Ok(Object {
                            bytes: Cow::Borrowed(&block.data[rel as usize..end as usize]),
                            addr: Some(block.addr + rel),
                        })
                    }
                    _ => Err(format!(
                        "managed object at heap offset {off} ({len} bytes) does not lie inside \
                         the direct block at {:#x} (heap offset {}, {} bytes)",
                        block.addr,
                        block.off,
                        block.data.len()
                    )),
                }
            }
            0x20 => {
                let (len, at) = if self.tiny_extended {
                    ((usize::from(flags & 0x0f) << 8 | usize::from(id[1])) + 1, 2)
                } else {
                    (usize::from(flags & 0x0f) + 1, 1)
                };
                id.get(at..at + len)
                    .map(|b| Object {
                        bytes: Cow::Owned(b.to_vec()),
                        addr: None,
                    })
                    .ok_or_else(|| format!("tiny object of {len} bytes in a {}-byte ID", id.len()))
            }
            0x10 => {
                let (addr, len) = if self.huge_direct {
                    let mut c = Cursor::new(&id[1..], self.addr, HDR, self.src.sizes);
                    let a = c.addr().map_err(|e| e.to_string())?;
                    let l = c.length().map_err(|e| e.to_string())?;
                    (a, l)
                } else {
                    let key = le(&id[1..1 + usize::from(self.huge_id_size)]);
                    *self.huge.get(&key).ok_or_else(|| {
                        format!("huge object ID {key} is not in the heap's B-tree")
                    })?
                };
                let bytes = self
                    .src
                    .slice(Structure::HugeObject, addr, len)
                    .map_err(|e| e.to_string())?;
                Ok(Object {
                    bytes: Cow::Borrowed(bytes),
                    addr: Some(addr),
                })
            }
            _ => Err("heap ID of the reserved type 3".to_string()),
        }
    }
}

/// Bytes of a fractal heap header before its checksum, without I/O filter
/// information.
fn fixed_header_len(o: u64, l: u64) -> u64 {
    // signature 4, version 1, ID length 2, filter length 2, flags 1, max managed
    // size 4; next huge ID (L), huge B-tree (O), free space (L), free-space manager
    // (O), 8 statistics (L each); table: width 2, start size (L), max direct size
    // (L), max heap bits 2, start rows 2, root (O), current rows 2
    14 + l + o + l + o + 8 * l + 2 + l + l + 2 + 2 + o + 2
}

/// Verifies the free-space manager of a heap's managed blocks: its header
/// ("FSHD": signature, version, client 0 = fractal heap, checksum) and its section
/// list ("FSSE": inside the end of file, signature, version, back-pointer,
/// checksum). libhdf5 reads them only to insert objects; their extents go to
/// `extents`.
pub(crate) fn check_free_space(
    src: &Source<'_>,
    fs_addr: u64,
    extents: &mut Vec<(Structure, u64, u64)>,
) -> Result<()> {
    let (o, l) = (u64::from(src.sizes.offsets), u64::from(src.sizes.lengths));
    let s = Structure::FreeSpaceHeader;
    let covered = 6 + 4 * l + 8 + l + o + 2 * l;
    let b = checked_block(src, s, fs_addr, b"FSHD", covered)?;
    extents.push((s, fs_addr, covered + 4));
    let mut c = Cursor::new(&b[5..], fs_addr, s, src.sizes);
    let client = c.u8()?;
    if client != 0 {
        return Err(malformed(
            s,
            fs_addr,
            format!("client {client}, expected 0 (fractal heap)"),
        ));
    }
    for _ in 0..4 {
        c.length()?;
    }
    c.skip(8)?;
    c.length()?;
    let sect_addr = c.addr()?;
    let sect_size = c.length()?;
    let alloc = c.length()?;
    if sect_addr == UNDEF {
        return Ok(());
    }
    let s = Structure::FreeSpaceSections;
    if sect_size > alloc || sect_size < 9 + o {
        return Err(malformed(
            Structure::FreeSpaceHeader,
            fs_addr,
            format!("section list of {sect_size} bytes in {alloc} allocated"),
        ));
    }
    src.check_extent(s, sect_addr, alloc)?;
    let b = checked_block(src, s, sect_addr, b"FSSE", sect_size - 4)?;
    let owner = Cursor::new(&b[5..], sect_addr, s, src.sizes).addr()?;
    if owner != fs_addr {
        return Err(malformed(
            s,
            sect_addr,
            format!("belongs to the free-space manager at {owner:#x}, not {fs_addr:#x}"),
        ));
    }
    extents.push((s, sect_addr, alloc));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Sizes;

    /// A heap header without blocks or huge objects (8-byte addresses and lengths):
    /// heap IDs of `id_len` bytes, `man_nobjs` managed objects, table width `width`.
    fn header(id_len: u16, man_nobjs: u64, width: u16) -> Vec<u8> {
        let mut b = b"FRHP\0".to_vec();
        b.extend_from_slice(&id_len.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes()); // no I/O filters
        b.push(0x02); // direct blocks checksummed
        b.extend_from_slice(&4096u32.to_le_bytes()); // max managed object size
        b.extend_from_slice(&0u64.to_le_bytes()); // next huge ID
        b.extend_from_slice(&UNDEF.to_le_bytes()); // huge-object B-tree
        b.extend_from_slice(&0u64.to_le_bytes()); // free space
        b.extend_from_slice(&UNDEF.to_le_bytes()); // free-space manager
        for v in [0, 0, 0, man_nobjs, 0, 0, 0, 0u64] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&width.to_le_bytes());
        b.extend_from_slice(&512u64.to_le_bytes()); // starting block size
        b.extend_from_slice(&65536u64.to_le_bytes()); // max direct block size
        b.extend_from_slice(&32u16.to_le_bytes()); // max heap size in bits
        b.extend_from_slice(&1u16.to_le_bytes()); // starting root rows
        b.extend_from_slice(&UNDEF.to_le_bytes()); // no root block
        b.extend_from_slice(&0u16.to_le_bytes());
        assert_eq!(b.len() as u64, fixed_header_len(8, 8));
        let sum = hashlittle(&b, 0);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    fn open(bytes: &[u8]) -> Result<FractalHeap<'_>> {
        let src = Source {
            data: bytes,
            sizes: Sizes::DEFAULT,
        };
        FractalHeap::open(&src, 0, &mut Vec::new())
    }

    #[test]
    fn tiny_objects_short_and_extended_lengths() {
        // IDs of 7 bytes: length - 1 in the low 4 bits of the flag byte
        let b = header(7, 0, 4);
        let h = open(&b).unwrap();
        let o = h.object(&[0x22, b'a', b'b', b'c', 0, 0, 0]).unwrap();
        assert_eq!(&*o.bytes, b"abc");
        assert_eq!(o.addr, None);
        // 7 bytes cannot fit in a 7-byte ID after its flag byte
        assert!(h.object(&[0x26, 1, 2, 3, 4, 5, 6]).is_err());
        // IDs of 20 bytes: 12-bit length over the flag byte and the next
        let b = header(20, 0, 4);
        let h = open(&b).unwrap();
        let mut id = vec![0x20, 0x02, b'x', b'y', b'z'];
        id.resize(20, 0);
        assert_eq!(&*h.object(&id).unwrap().bytes, b"xyz");
        id[1] = 0x20; // 33 bytes
        assert!(h
            .object(&id)
            .unwrap_err()
            .contains("tiny object of 33 bytes"));
    }

    #[test]
    fn bad_heap_ids_are_reasons_not_panics() {
        let b = header(7, 0, 4);
        let h = open(&b).unwrap();
        let e = h.object(&[0x00, 30, 0, 0, 0, 5, 0]).unwrap_err();
        assert!(e.contains("past the managed space"), "{e}");
        assert!(h
            .object(&[0x00, 0, 0, 0, 0, 0, 0])
            .unwrap_err()
            .contains("0 bytes"));
        assert!(h
            .object(&[0x30, 0, 0, 0, 0, 0, 0])
            .unwrap_err()
            .contains("reserved"));
        assert!(h
            .object(&[0x40, 0, 0, 0, 0, 0, 0])
            .unwrap_err()
            .contains("version"));
        assert!(h
            .object(&[0x22, 1])
            .unwrap_err()
            .contains("heap ID of 2 bytes"));
        // huge IDs of a 7-byte heap are keys into the (absent) huge-object B-tree
        let e = h.object(&[0x10, 1, 0, 0, 0, 0, 0]).unwrap_err();
        assert!(
            e.contains("huge object ID 1 is not in the heap's B-tree"),
            "{e}"
        );
    }

    #[test]
    fn inconsistent_headers_are_named() {
        let b = header(7, 3, 4);
        let e = open(&b).err().unwrap();
        assert_eq!(e.structure(), Structure::FractalHeapHeader);
        assert!(
            e.to_string()
                .contains("3 managed objects but no root block"),
            "{e}"
        );
        let e = open(&header(7, 0, 3)).err().unwrap();
        assert!(e.to_string().contains("not a power of two"), "{e}");
        let e = open(&header(3, 0, 4)).err().unwrap();
        assert!(e.to_string().contains("cannot hold"), "{e}");
        let mut b = header(7, 0, 4);
        b[20] ^= 1;
        assert!(matches!(
            open(&b),
            Err(Error::BadChecksum {
                structure: Structure::FractalHeapHeader,
                offset: 0,
                ..
            })
        ));
    }
}
