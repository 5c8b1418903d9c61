//! LZ4 in the framing of the HDF5 LZ4 filter plugin (id 32004): the original size as
//! a big-endian u64, the block size as a big-endian u32, then each block as a
//! big-endian u32 compressed size and the LZ4 block (stored raw when it does not
//! shrink: its size then equals the block size).

use super::FilterError;
use alloc::vec::Vec;

/// The plugin's default (and our only) block size: 1 GiB, capped at the chunk size.
const BLOCK: usize = 1 << 30;

/// Compresses one chunk.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let block = BLOCK.min(data.len()).max(1);
    let mut out = Vec::with_capacity(data.len() / 2 + 16);
    out.extend_from_slice(&(data.len() as u64).to_be_bytes());
    out.extend_from_slice(&(block as u32).to_be_bytes());
    for b in data.chunks(block) {
        let c = lz4_flex::block::compress(b);
        if c.len() >= b.len() {
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        } else {
            out.extend_from_slice(&(c.len() as u32).to_be_bytes());
            out.extend_from_slice(&c);
        }
    }
    out
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
