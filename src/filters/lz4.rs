//! LZ4 in the framing of the HDF5 LZ4 filter plugin (id 32004): the original size as
//! a big-endian u64, the block size as a big-endian u32, then each block as a
//! big-endian u32 compressed size and the LZ4 block (stored raw when it does not
//! shrink: its size then equals the block size).

use super::{overwrite_len, FilterError};
use alloc::vec::Vec;

/// The plugin's default (and our only) block size: 1 GiB, capped at the chunk size.
const BLOCK: usize = 1 << 30;

/// Compresses one chunk into `out`, whose contents are replaced.
pub fn compress_into(data: &[u8], out: &mut Vec<u8>) {
    let block = BLOCK.min(data.len()).max(1);
    out.clear();
    out.extend_from_slice(&(data.len() as u64).to_be_bytes());
    out.extend_from_slice(&(block as u32).to_be_bytes());
    for b in data.chunks(block) {
        let at = out.len();
        overwrite_len(
            out,
            at + 4 + lz4_flex::block::get_maximum_output_size(b.len()),
        );
        let c = lz4_flex::block::compress_into(b, &mut out[at + 4..])
            .expect("room for the largest output");
        if c >= b.len() {
            out.truncate(at);
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        } else {
            out[at..at + 4].copy_from_slice(&(c as u32).to_be_bytes());
            out.truncate(at + 4 + c);
        }
    }
}

/// Decompresses one chunk of at most `max` bytes.
pub fn decompress(data: &[u8], max: usize) -> Result<Vec<u8>, FilterError> {
    if data.len() < 12 {
        return Err(FilterError::Lz4("truncated header"));
    }
    let total = u64::from_be_bytes(data[..8].try_into().expect("8 bytes")) as usize;
    let block = u32::from_be_bytes(data[8..12].try_into().expect("4 bytes")) as usize;
    if total > max || (block == 0 && total > 0) {
        return Err(FilterError::Lz4("bad sizes"));
    }
    // LZ4 expands at most 255:1: never reserve more than the input can produce
    let mut out = Vec::with_capacity(total.min(data.len().saturating_mul(255)));
    let mut p = 12;
    while out.len() < total {
        let want = block.min(total - out.len());
        let len = data
            .get(p..p + 4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
            .ok_or(FilterError::Lz4("truncated block size"))?;
        p += 4;
        let src = data
            .get(p..p + len)
            .ok_or(FilterError::Lz4("truncated block"))?;
        p += len;
        if len == want {
            out.extend_from_slice(src);
        } else {
            let b = lz4_flex::block::decompress(src, want)
                .map_err(|_| FilterError::Lz4("corrupt block"))?;
            if b.len() != want {
                return Err(FilterError::Lz4("block size mismatch"));
            }
            out.extend_from_slice(&b);
        }
    }
    Ok(out)
}
