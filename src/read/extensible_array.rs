//! The extensible array chunk index (layout index type 4;
//! spec-notes/chunk-index-extensible-array.md): a header ("EAHD"), an index block
//! ("EAIB") holding the first elements, the first data block addresses and the
//! secondary block addresses, secondary blocks ("EASB", the spec's super blocks)
//! holding data block addresses and page-init bitmaps, and data blocks ("EADB"),
//! paged when they hold more elements than one page.

use std::collections::HashSet;

use super::bytes::{verify_checksum, Cursor, Source};
use super::chunks_v4::{bit, check_client, checked_block, Budget, EntryFormat, Stored};
use super::error::{malformed, unsupported, Result, Structure};
use crate::encode::UNDEF;

/// The geometry the header's creation parameters give.
struct Geometry {
    /// Elements in the index block.
    idx_blk_elmts: u64,
    /// Elements per data block page.
    page_nelmts: u64,
    /// Bytes of a data block's offset field.
    arr_off: u64,
    /// Elements of the array before the end of each secondary block's range, per
    /// secondary block: (data blocks, elements per data block, first element index
    /// relative to the end of the index block's own elements, first data block).
    sblk: Vec<(u64, u64, u64, u64)>,
    /// Secondary blocks whose data block addresses live in the index block.
    iblock_sblks: usize,
    /// Highest element index set plus one: elements at or beyond it read as
    /// "no chunk" whatever the blocks hold (`H5EA_get`).
    max_idx_set: u64,
}

/// Reads the extensible array whose header is at `addr` and appends to `out` the
/// element index and entry of every element below the header's `max_idx_set`
/// with a defined chunk address, in index order. Every block read goes to
/// `extents` (a paged data block with all its pages).
#[allow(clippy::too_many_arguments)]
pub(crate) fn read(
    src: &Source<'_>,
    addr: u64,
    fmt: &EntryFormat,
    chunk_bytes: u64,
    out: &mut Vec<(u64, Stored)>,
    extents: &mut Vec<(Structure, u64, u64)>,
    budget: &mut Budget,
) -> Result<()> {
    let (o, l) = (u64::from(src.sizes.offsets), u64::from(src.sizes.lengths));
    let s = Structure::ExtensibleArrayHeader;
    let covered = 12 + 6 * l + o;
    budget.spend(s, addr, covered + 4)?;
    let b = checked_block(src, s, addr, b"EAHD", covered)?;
    extents.push((s, addr, covered + 4));
    let mut c = Cursor::new(&b[5..], addr, s, src.sizes);
    check_client(s, addr, c.u8()?, fmt)?;
    let es = c.u8()?;
    if usize::from(es) != fmt.len() {
        return Err(malformed(
            s,
            addr,
            format!("element size {es}, expected {}", fmt.len()),
        ));
    }
    let es = u64::from(es);
    let max_bits = c.u8()?;
    let idx_blk_elmts = c.u8()?;
    let dblk_min = c.u8()?;
    let sblk_min_ptrs = c.u8()?;
    let page_bits = c.u8()?;
    let bad = |r: String| malformed(s, addr, r);
    if !(1..=64).contains(&max_bits) || page_bits >= 64 {
        return Err(bad(format!(
            "maximum element bits {max_bits}, page bits {page_bits}"
        )));
    }
    if idx_blk_elmts == 0 || !dblk_min.is_power_of_two() || sblk_min_ptrs < 2 {
        return Err(bad(format!(
            "index block elements {idx_blk_elmts}, minimum data block elements {dblk_min}, minimum data block pointers {sblk_min_ptrs}"
        )));
    }
    if !sblk_min_ptrs.is_power_of_two() {
        return Err(bad(format!(
            "minimum data block pointers {sblk_min_ptrs} is not a power of 2"
        )));
    }
    let log2_min = dblk_min.trailing_zeros();
    if log2_min > u32::from(max_bits) {
        return Err(bad(format!(
            "minimum data block elements {dblk_min} exceed the maximum of 2^{max_bits} elements"
        )));
    }
    let nsblks = 1 + u32::from(max_bits) - log2_min;
    let iblock_sblks = 2 * sblk_min_ptrs.trailing_zeros();
    if iblock_sblks > nsblks {
        return Err(bad(format!(
            "{iblock_sblks} secondary blocks addressed by the index block, only {nsblks} in all"
        )));
    }
    let mut stats = [0u64; 6];
    for x in &mut stats {
        *x = c.length()?;
    }
    let iblock = c.addr()?;
    // secondary block u: 2^(u/2) data blocks of 2^((u+1)/2) * dblk_min elements
    let mut sblk = Vec::with_capacity(nsblks as usize);
    let (mut start, mut start_dblk) = (0u64, 0u64);
    for u in 0..nsblks {
        let ndblks = 1u64 << (u / 2);
        let nelmts = (1u64 << u.div_ceil(2)).saturating_mul(u64::from(dblk_min));
        sblk.push((ndblks, nelmts, start, start_dblk));
        start = start.saturating_add(ndblks.saturating_mul(nelmts));
        start_dblk = start_dblk.saturating_add(ndblks);
    }
    let g = Geometry {
        idx_blk_elmts: u64::from(idx_blk_elmts),
        page_nelmts: 1u64 << page_bits,
        arr_off: u64::from(max_bits).div_ceil(8),
        sblk,
        iblock_sblks: iblock_sblks as usize,
        max_idx_set: stats[4],
    };
    if iblock == UNDEF {
        return Ok(());
    }
    let mut r = Walk {
        src,
        hdr: addr,
        fmt,
        es,
        chunk_bytes,
        g: &g,
        out,
        extents,
        budget,
        seen: HashSet::new(),
    };
    r.index_block(iblock, u64::from(sblk_min_ptrs))
}

/// State of one walk over an extensible array.
struct Walk<'s, 'a> {
    src: &'s Source<'a>,
    hdr: u64,
    fmt: &'s EntryFormat,
    es: u64,
    chunk_bytes: u64,
    g: &'s Geometry,
    out: &'s mut Vec<(u64, Stored)>,
    extents: &'s mut Vec<(Structure, u64, u64)>,
    budget: &'s mut Budget,
    /// Block addresses read: a block reached twice is an error.
    seen: HashSet<u64>,
}

impl<'a> Walk<'_, 'a> {
    /// Reads a checksummed block of `covered + 4` bytes, checks its client and
    /// header address, and returns a cursor after the header address.
    fn block(
        &mut self,
        s: Structure,
        at: u64,
        sig: &[u8; 4],
        covered: u64,
        extent: u64,
    ) -> Result<Cursor<'a>> {
        if !self.seen.insert(at) {
            return Err(malformed(s, at, "block reached twice from the index"));
        }
        self.src.check_extent(s, at, extent)?;
        self.budget.spend(s, at, covered + 4)?;
        let b = checked_block(self.src, s, at, sig, covered)?;
        self.extents.push((s, at, extent));
        let mut c = Cursor::new(&b[5..], at, s, self.src.sizes);
        check_client(s, at, c.u8()?, self.fmt)?;
        let hdr = c.addr()?;
        if hdr != self.hdr {
            return Err(malformed(
                s,
                at,
                format!(
                    "header address {hdr:#x}, but its header is at {:#x}",
                    self.hdr
                ),
            ));
        }
        Ok(c)
    }

    fn push(&mut self, i: u64, e: Stored) {
        if e.addr != UNDEF && i < self.g.max_idx_set {
            self.out.push((i, e));
        }
    }

    fn index_block(&mut self, at: u64, sblk_min_ptrs: u64) -> Result<()> {
        let (o, g) = (u64::from(self.src.sizes.offsets), self.g);
        let ndblk_addrs = 2 * (sblk_min_ptrs - 1);
        let nsblk_addrs = (g.sblk.len() - g.iblock_sblks) as u64;
        let covered = 6 + o + g.idx_blk_elmts * self.es + (ndblk_addrs + nsblk_addrs) * o;
        let s = Structure::ExtensibleArrayIndexBlock;
        let mut c = self.block(s, at, b"EAIB", covered, covered + 4)?;
        for i in 0..g.idx_blk_elmts {
            let e = self.fmt.decode(&mut c, self.chunk_bytes)?;
            self.push(i, e);
        }
        let mut dblks = Vec::with_capacity(ndblk_addrs as usize);
        for _ in 0..ndblk_addrs {
            dblks.push(c.addr()?);
        }
        let mut sblks = Vec::with_capacity(nsblk_addrs as usize);
        for _ in 0..nsblk_addrs {
            sblks.push(c.addr()?);
        }
        // data blocks of the first secondary blocks, addressed by the index block
        for u in 0..g.iblock_sblks {
            let (ndblks, nelmts, start, start_dblk) = g.sblk[u];
            for d in 0..ndblks {
                let Some(&dblk) = dblks.get((start_dblk + d) as usize) else {
                    break;
                };
                let first = g
                    .idx_blk_elmts
                    .saturating_add(start.saturating_add(d.saturating_mul(nelmts)));
                if dblk == UNDEF || first >= g.max_idx_set {
                    continue;
                }
                if nelmts > g.page_nelmts {
                    return Err(unsupported(
                        Structure::ExtensibleArrayDataBlock,
                        dblk,
                        "a paged data block addressed by the index block",
                    ));
                }
                self.data_block(dblk, first, nelmts, None)?;
            }
        }
        for (k, &sb) in sblks.iter().enumerate() {
            let u = g.iblock_sblks + k;
            let first = g.idx_blk_elmts.saturating_add(g.sblk[u].2);
            if sb != UNDEF && first < g.max_idx_set {
                self.secondary_block(sb, u)?;
            }
        }
        Ok(())
    }

    fn secondary_block(&mut self, at: u64, u: usize) -> Result<()> {
        let (o, g) = (u64::from(self.src.sizes.offsets), self.g);
        let (ndblks, nelmts, start, _) = g.sblk[u];
        let s = Structure::ExtensibleArraySecondaryBlock;
        let npages = if nelmts > g.page_nelmts {
            nelmts / g.page_nelmts
        } else {
            0
        };
        let too_big = || malformed(s, at, "secondary block size overflows");
        let bitmap_len = ndblks.checked_mul(npages.div_ceil(8)).ok_or_else(too_big)?;
        let covered = ndblks
            .checked_mul(o)
            .and_then(|a| a.checked_add(bitmap_len))
            .and_then(|a| a.checked_add(6 + o + g.arr_off))
            .ok_or_else(too_big)?;
        let mut c = self.block(s, at, b"EASB", covered, covered + 4)?;
        c.skip(g.arr_off as usize)?;
        let bitmap = c.bytes(bitmap_len as usize)?;
        let mut dblks = Vec::with_capacity(ndblks as usize);
        for _ in 0..ndblks {
            dblks.push(c.addr()?);
        }
        for (d, &dblk) in dblks.iter().enumerate() {
            let d = d as u64;
            let first = g
                .idx_blk_elmts
                .saturating_add(start.saturating_add(d.saturating_mul(nelmts)));
            if dblk == UNDEF || first >= g.max_idx_set {
                continue;
            }
            let pages = (npages > 0).then_some((bitmap, d * npages, npages));
            self.data_block(dblk, first, nelmts, pages)?;
        }
        Ok(())
    }

    /// A data block of `nelmts` elements whose first is element `first`; `pages`
    /// (bitmap, first bit, page count) when it is paged.
    fn data_block(
        &mut self,
        at: u64,
        first: u64,
        nelmts: u64,
        pages: Option<(&[u8], u64, u64)>,
    ) -> Result<()> {
        let (o, g, es) = (u64::from(self.src.sizes.offsets), self.g, self.es);
        let s = Structure::ExtensibleArrayDataBlock;
        let too_big = || malformed(s, at, "data block size overflows");
        let prefix = 6 + o + g.arr_off;
        let Some((bitmap, bit0, npages)) = pages else {
            let covered = nelmts
                .checked_mul(es)
                .and_then(|e| e.checked_add(prefix))
                .ok_or_else(too_big)?;
            let mut c = self.block(s, at, b"EADB", covered, covered + 4)?;
            c.skip(g.arr_off as usize)?;
            for k in 0..nelmts {
                let e = self.fmt.decode(&mut c, self.chunk_bytes)?;
                self.push(first.saturating_add(k), e);
            }
            return Ok(());
        };
        let page_size = g.page_nelmts * es + 4;
        let extent = npages
            .checked_mul(page_size)
            .and_then(|p| p.checked_add(prefix + 4))
            .ok_or_else(too_big)?;
        self.block(s, at, b"EADB", prefix, extent)?;
        for p in 0..npages {
            let first_in_page = first.saturating_add(p * g.page_nelmts);
            if !bit(bitmap, bit0 + p) || first_in_page >= g.max_idx_set {
                continue;
            }
            let page_at = at + prefix + 4 + p * page_size;
            let s = Structure::ExtensibleArrayPage;
            self.budget.spend(s, page_at, page_size)?;
            let page = self.src.slice(s, page_at, page_size)?;
            verify_checksum(s, page_at, page, (page_size - 4) as usize)?;
            let mut c = Cursor::new(page, page_at, s, self.src.sizes);
            for k in 0..g.page_nelmts {
                let e = self.fmt.decode(&mut c, self.chunk_bytes)?;
                self.push(first_in_page.saturating_add(k), e);
            }
        }
        Ok(())
    }
}
