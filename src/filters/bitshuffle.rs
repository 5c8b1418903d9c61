//! Bitshuffle + LZ4, the HDF5 filter 32008 written by many X-ray detectors.
//!
//! The chunk is cut into blocks of 8192 bytes' worth of elements (a multiple of 8
//! elements); each block is bit-transposed (bit k of every element together) and
//! LZ4-compressed. Framing: total size (u64 BE), block size in bytes (u32 BE), then
//! each block as its compressed size (u32 BE) and LZ4 data; the elements beyond the
//! last multiple of 8 are copied raw at the end.

use super::{overwrite_len, FilterError};
use alloc::vec::Vec;

const TARGET_BLOCK_BYTES: usize = 8192;
const MIN_BLOCK: usize = 128;

/// Elements per block for `es`-byte elements (bitshuffle's default, stable by design).
pub fn block_elems(es: usize) -> usize {
    (TARGET_BLOCK_BYTES / es / 8 * 8).max(MIN_BLOCK)
}

/// Bit-transposes `n` elements (a multiple of 8) of `es` bytes.
fn transpose(inp: &[u8], n: usize, es: usize) -> Vec<u8> {
    let nbyte = n * es;
    // 1. bytes: byte j of every element together
    let mut a = alloc::vec![0u8; nbyte];
    for i in 0..n {
        for j in 0..es {
            a[j * n + i] = inp[i * es + j];
        }
    }
    // 2. bits within each group of 8 bytes: an 8x8 bit-matrix transpose
    let rows = nbyte / 8;
    let mut b = alloc::vec![0u8; nbyte];
    for (ii, word) in a.chunks_exact(8).enumerate() {
        let mut x = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let mut t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
        x = x ^ t ^ (t << 7);
        t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
        x = x ^ t ^ (t << 14);
        t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
        x = x ^ t ^ (t << 28);
        for k in 0..8 {
            b[k * rows + ii] = x as u8;
            x >>= 8;
        }
    }
    // 3. bit rows: an 8 x es matrix of (n/8)-byte rows, transposed
    let r = n / 8;
    let mut out = alloc::vec![0u8; nbyte];
    for ii in 0..8 {
        for jj in 0..es {
            let src = (ii * es + jj) * r;
            let dst = (jj * 8 + ii) * r;
            out[dst..dst + r].copy_from_slice(&b[src..src + r]);
        }
    }
    out
}

/// The inverse of [`transpose`].
fn untranspose(inp: &[u8], n: usize, es: usize) -> Vec<u8> {
    let nbyte = n * es;
    let r = n / 8;
    let mut b = alloc::vec![0u8; nbyte];
    for ii in 0..8 {
        for jj in 0..es {
            let src = (jj * 8 + ii) * r;
            let dst = (ii * es + jj) * r;
            b[dst..dst + r].copy_from_slice(&inp[src..src + r]);
        }
    }
    let rows = nbyte / 8;
    let mut a = alloc::vec![0u8; nbyte];
    for ii in 0..rows {
        let mut x = 0u64;
        for k in (0..8).rev() {
            x = (x << 8) | u64::from(b[k * rows + ii]);
        }
        // the 8x8 bit transpose is its own inverse
        let mut t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
        x = x ^ t ^ (t << 7);
        t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
        x = x ^ t ^ (t << 14);
        t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
        x = x ^ t ^ (t << 28);
        a[ii * 8..ii * 8 + 8].copy_from_slice(&x.to_le_bytes());
    }
    let mut out = alloc::vec![0u8; nbyte];
    for i in 0..n {
        for j in 0..es {
            out[i * es + j] = a[j * n + i];
        }
    }
    out
}

/// Encodes one chunk of `es`-byte elements.
#[cfg(test)]
pub fn compress(data: &[u8], es: usize) -> Vec<u8> {
    let mut out = Vec::new();
    compress_into(data, es, &mut out);
    out
}

/// Encodes one chunk of `es`-byte elements into `out`, whose contents are replaced.
pub fn compress_into(data: &[u8], es: usize, out: &mut Vec<u8>) {
    let es = es.max(1);
    let n = data.len() / es;
    let block = block_elems(es);
    out.clear();
    out.extend_from_slice(&(data.len() as u64).to_be_bytes());
    out.extend_from_slice(&((block * es) as u32).to_be_bytes());
    let mut i = 0;
    while i < n {
        let m = block.min(n - i) / 8 * 8;
        if m == 0 {
            break;
        }
        let t = transpose(&data[i * es..(i + m) * es], m, es);
        let at = out.len();
        overwrite_len(
            out,
            at + 4 + lz4_flex::block::get_maximum_output_size(t.len()),
        );
        let c = lz4_flex::block::compress_into(&t, &mut out[at + 4..])
            .expect("room for the largest output");
        out[at..at + 4].copy_from_slice(&(c as u32).to_be_bytes());
        out.truncate(at + 4 + c);
        i += m;
    }
    out.extend_from_slice(&data[i * es..]);
}

/// Decodes one chunk of `es`-byte elements, at most `max` bytes.
pub fn decompress(data: &[u8], es: usize, max: usize) -> Result<Vec<u8>, FilterError> {
    let es = es.max(1);
    let bad = |m| FilterError::Lz4(m);
    if data.len() < 12 {
        return Err(bad("bitshuffle: truncated header"));
    }
    let total = u64::from_be_bytes(data[..8].try_into().expect("8 bytes")) as usize;
    let block_bytes = u32::from_be_bytes(data[8..12].try_into().expect("4 bytes")) as usize;
    if total > max
        || block_bytes % es != 0
        || block_bytes / es % 8 != 0
        || (block_bytes == 0 && total >= 8 * es)
    {
        return Err(bad("bitshuffle: bad sizes"));
    }
    let (n, block) = (total / es, (block_bytes / es).max(8));
    // LZ4 expands at most 255:1: never reserve more than the input can produce
    let mut out = Vec::with_capacity(total.min(data.len().saturating_mul(255)));
    let mut p = 12;
    let mut i = 0;
    while i < n {
        let m = block.min(n - i) / 8 * 8;
        if m == 0 {
            break;
        }
        let len = data
            .get(p..p + 4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
            .ok_or(bad("bitshuffle: truncated block size"))?;
        p += 4;
        let src = data
            .get(p..p + len)
            .ok_or(bad("bitshuffle: truncated block"))?;
        p += len;
        let t = lz4_flex::block::decompress(src, m * es)
            .map_err(|_| bad("bitshuffle: corrupt block"))?;
        if t.len() != m * es {
            return Err(bad("bitshuffle: block size mismatch"));
        }
        out.extend_from_slice(&untranspose(&t, m, es));
        i += m;
    }
    let rest = data.get(p..).unwrap_or_default();
    if out.len() + rest.len() != total {
        return Err(bad("bitshuffle: wrong leftover size"));
    }
    out.extend_from_slice(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_leftovers() {
        for es in [1usize, 2, 4, 8] {
            for n in [0usize, 7, 8, 9, 1003, 5000] {
                let data: Vec<u8> = (0..n * es).map(|i| (i * 31 % 251) as u8).collect();
                let c = compress(&data, es);
                assert_eq!(
                    decompress(&c, es, data.len()).unwrap(),
                    data,
                    "es {es} n {n}"
                );
            }
        }
    }
}
