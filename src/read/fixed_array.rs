//! The fixed array chunk index (layout index type 3; spec-notes/chunk-index-fixed-array.md):
//! a header ("FAHD") and one data block ("FADB") holding an entry per chunk position,
//! split into checksummed pages after a page-init bitmap when it has more entries
//! than one page holds.

use super::bytes::{Cursor, Source};
use super::chunks_v4::{bit, check_client, checked_block, Budget, EntryFormat, Stored};
use super::error::{malformed, Result, Structure};

/// Reads the fixed array whose header is at `addr` and appends to `out` the element
/// index and entry of every element with a defined chunk address, in index order
/// (pages whose init bit is clear hold no chunk and are not read). `nchunks` is the
/// number of chunk positions of the dataset's maximum dims, which the header's
/// element count must equal. The header, data block (with all its pages) and every
/// page read go to `extents`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read(
    src: &Source<'_>,
    addr: u64,
    fmt: &EntryFormat,
    chunk_bytes: u64,
    nchunks: u64,
    out: &mut Vec<(u64, Stored)>,
    extents: &mut Vec<(Structure, u64, u64)>,
    budget: &mut Budget,
) -> Result<()> {
    let s = Structure::FixedArrayHeader;
    let (o, l) = (u64::from(src.sizes.offsets), u64::from(src.sizes.lengths));
    let covered = 8 + l + o;
    budget.spend(s, addr, covered + 4)?;
    let b = checked_block(src, s, addr, b"FAHD", covered)?;
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
    let page_bits = c.u8()?;
    if page_bits >= 64 {
        return Err(malformed(s, addr, format!("page bits {page_bits}")));
    }
    let nelmts = c.length()?;
    if nelmts != nchunks {
        return Err(malformed(
            s,
            addr,
            format!("{nelmts} elements for the dataset's {nchunks} chunk positions"),
        ));
    }
    let dblk = c.addr()?;
    if dblk == crate::encode::UNDEF {
        return Ok(());
    }

    // the data block: prefix, then (unpaged) the elements, then the checksum; when
    // paged, the page-init bitmap takes the elements' place and the pages follow
    let s = Structure::FixedArrayDataBlock;
    let es = u64::from(es);
    let page_nelmts = 1u64 << page_bits;
    let too_big = || malformed(s, dblk, "data block size overflows");
    let prefix = 6 + o;
    let paged = nelmts > page_nelmts;
    let npages = if paged {
        nelmts.div_ceil(page_nelmts)
    } else {
        0
    };
    let covered = if paged {
        prefix + npages.div_ceil(8)
    } else {
        nelmts
            .checked_mul(es)
            .and_then(|e| e.checked_add(prefix))
            .ok_or_else(too_big)?
    };
    let page_size = page_nelmts
        .checked_mul(es)
        .and_then(|p| p.checked_add(4))
        .ok_or_else(too_big)?;
    let last_page = nelmts - npages.saturating_sub(1) * page_nelmts;
    let total = if paged {
        (npages - 1)
            .checked_mul(page_size)
            .and_then(|p| p.checked_add(last_page * es + 4))
            .and_then(|p| p.checked_add(covered + 4))
            .ok_or_else(too_big)?
    } else {
        covered + 4
    };
    // the whole block is allocated at once: all of it lies inside the end of file
    src.check_extent(s, dblk, total)?;
    budget.spend(s, dblk, covered + 4)?;
    let b = checked_block(src, s, dblk, b"FADB", covered)?;
    extents.push((s, dblk, total));
    let mut c = Cursor::new(&b[5..], dblk, s, src.sizes);
    check_client(s, dblk, c.u8()?, fmt)?;
    let hdr = c.addr()?;
    if hdr != addr {
        return Err(malformed(
            s,
            dblk,
            format!("header address {hdr:#x}, but its header is at {addr:#x}"),
        ));
    }
    let mut push = |i: u64, e: Stored| {
        if e.addr != crate::encode::UNDEF {
            out.push((i, e));
        }
    };
    if !paged {
        for i in 0..nelmts {
            push(i, fmt.decode(&mut c, chunk_bytes)?);
        }
        return Ok(());
    }
    let bitmap = c.bytes(npages.div_ceil(8) as usize)?;
    let first_page = dblk + covered + 4;
    for p in 0..npages {
        if !bit(bitmap, p) {
            continue;
        }
        let n = if p + 1 == npages {
            last_page
        } else {
            page_nelmts
        };
        let at = first_page + p * page_size;
        let s = Structure::FixedArrayPage;
        budget.spend(s, at, n * es + 4)?;
        let page = src.slice(s, at, n * es + 4)?;
        super::bytes::verify_checksum(s, at, page, (n * es) as usize)?;
        let mut c = Cursor::new(page, at, s, src.sizes);
        for k in 0..n {
            push(p * page_nelmts + k, fmt.decode(&mut c, chunk_bytes)?);
        }
    }
    Ok(())
}
