//! The chunk filter pipeline: shuffle, deflate, fletcher32 and LZ4 (plugin 32004),
//! applied per chunk in pipeline order on write and in reverse on read.
//!
//! An optional filter that does not make the chunk smaller is skipped for that chunk
//! and its bit is set in the chunk's filter mask, as libhdf5 does (format-notes §4.5).

mod bitshuffle;
pub mod deflate;
mod fletcher32;
#[cfg(test)]
mod golden;
mod lz4;
mod shuffle;

pub use fletcher32::fletcher32;

use crate::format::filter_pipeline::{
    FilterDesc, FILTER_BITSHUFFLE, FILTER_DEFLATE, FILTER_FLETCHER32, FILTER_LZ4, FILTER_SHUFFLE,
};
use alloc::vec::Vec;

/// A filter this writer can apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Byte shuffle (id 2): groups the k-th bytes of all elements together.
    Shuffle,
    /// zlib deflate (id 1) at level 0–9.
    Deflate(u8),
    /// HDF5's Fletcher-32 checksum (id 3), appended to the chunk.
    Fletcher32,
    /// LZ4 in the framing of the HDF5 LZ4 plugin (id 32004).
    Lz4,
    /// Bitshuffle then LZ4 (id 32008), as X-ray detectors write it.
    BitshuffleLz4,
}

/// Why a stored chunk could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The deflate stream is corrupt.
    #[error("deflate: corrupt stream")]
    Inflate,
    /// The Fletcher-32 checksum does not match.
    #[error("fletcher32: checksum mismatch")]
    Checksum,
    /// The LZ4 framing or a block is corrupt.
    #[error("lz4: {0}")]
    Lz4(&'static str),
    /// A filter this reader does not know.
    #[error("unsupported filter {0}")]
    Unsupported(u16),
    /// The decoded chunk has the wrong size.
    #[error("decoded {got} bytes, expected {want}")]
    Size {
        /// Bytes produced.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
}

/// The filters of a dataset, in the order they are applied when writing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// Filters in write order.
    pub filters: Vec<Filter>,
}

/// A chunk after the pipeline: its stored bytes and filter mask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedChunk {
    /// The bytes to store.
    pub bytes: Vec<u8>,
    /// Bit i set: filter i was skipped for this chunk.
    pub mask: u32,
}

/// Buffers and tables that [`Pipeline::encode_with`] reuses from one chunk to the next:
/// the intermediate buffer between filters and the deflate encoder's match-finder tables.
/// Each call resets what it uses, so one scratch serves any pipeline and chunk size.
#[derive(Default)]
pub struct EncodeScratch {
    /// The buffer a filter writes into when the chunk is in the caller's `out`.
    buf: Vec<u8>,
    deflate: deflate::Scratch,
}

impl Pipeline {
    /// True when there is no filter.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// The filter descriptions for the filter pipeline message.
    pub fn descriptions(&self, element_size: u32) -> Vec<FilterDesc> {
        self.filters
            .iter()
            .map(|f| match *f {
                Filter::Shuffle => FilterDesc {
                    id: FILTER_SHUFFLE,
                    optional: true,
                    cd: alloc::vec![element_size],
                },
                Filter::Deflate(l) => FilterDesc {
                    id: FILTER_DEFLATE,
                    optional: true,
                    cd: alloc::vec![u32::from(l)],
                },
                Filter::Fletcher32 => FilterDesc {
                    id: FILTER_FLETCHER32,
                    optional: false,
                    cd: Vec::new(),
                },
                Filter::Lz4 => FilterDesc {
                    id: FILTER_LZ4,
                    optional: true,
                    cd: alloc::vec![0],
                },
                // bitshuffle 0.4, element size, default block size, LZ4
                Filter::BitshuffleLz4 => FilterDesc {
                    id: FILTER_BITSHUFFLE,
                    optional: true,
                    cd: alloc::vec![0, 4, element_size, 0, 2],
                },
            })
            .collect()
    }

    /// Runs the pipeline over one raw chunk.
    pub fn encode(&self, raw: &[u8], element_size: usize) -> EncodedChunk {
        self.encode_with(raw, element_size, &mut EncodeScratch::default(), Vec::new())
    }

    /// Runs the pipeline over one raw chunk, with the buffers and tables of `scratch`;
    /// `out` (any length, contents ignored) is a recycled buffer that becomes, or is
    /// swapped with a scratch buffer to become, the returned bytes. A caller that passes
    /// each returned `bytes` back in as the next `out` allocates nothing in steady state.
    /// The output is the same as [`encode`](Self::encode)'s.
    pub fn encode_with(
        &self,
        raw: &[u8],
        element_size: usize,
        scratch: &mut EncodeScratch,
        mut out: Vec<u8>,
    ) -> EncodedChunk {
        // The chunk is in `raw` until a filter changes it, then in `out`; a filter that
        // transforms writes into `next`, which is then swapped with `out`.
        let mut next = core::mem::take(&mut scratch.buf);
        let mut in_raw = true;
        let mut mask = 0u32;
        for (i, f) in self.filters.iter().enumerate() {
            let cur: &[u8] = if in_raw { raw } else { &out };
            let len = cur.len();
            match *f {
                Filter::Shuffle => {
                    if shuffle::is_identity(len, element_size) {
                        continue;
                    }
                    shuffle::shuffle_into(cur, element_size, &mut next);
                }
                Filter::Fletcher32 => {
                    let sum = fletcher32(cur);
                    if in_raw {
                        out.clear();
                        out.extend_from_slice(raw);
                        in_raw = false;
                    }
                    out.extend_from_slice(&sum.to_le_bytes());
                    continue;
                }
                Filter::Deflate(level) => {
                    deflate::compress_zlib_into(cur, level, &mut scratch.deflate, &mut next)
                }
                Filter::BitshuffleLz4 => bitshuffle::compress_into(cur, element_size, &mut next),
                Filter::Lz4 => lz4::compress_into(cur, &mut next),
            }
            // an optional filter that does not shrink the chunk is skipped (shuffle never does)
            if *f != Filter::Shuffle && next.len() >= len {
                mask |= 1 << i;
                continue;
            }
            core::mem::swap(&mut out, &mut next);
            in_raw = false;
        }
        if in_raw {
            out.clear();
            out.extend_from_slice(raw);
        }
        scratch.buf = next;
        EncodedChunk { bytes: out, mask }
    }

    /// Undoes the pipeline for a stored chunk; `raw_len` is the chunk's raw size.
    pub fn decode(
        &self,
        stored: &[u8],
        mask: u32,
        element_size: usize,
        raw_len: usize,
    ) -> Result<Vec<u8>, FilterError> {
        decode_ids(
            &self
                .filters
                .iter()
                .map(|f| (filter_id(f), *f))
                .collect::<Vec<_>>(),
            stored,
            mask,
            element_size,
            raw_len,
        )
    }
}

fn filter_id(f: &Filter) -> u16 {
    match f {
        Filter::Shuffle => FILTER_SHUFFLE,
        Filter::Deflate(_) => FILTER_DEFLATE,
        Filter::Fletcher32 => FILTER_FLETCHER32,
        Filter::Lz4 => FILTER_LZ4,
        Filter::BitshuffleLz4 => FILTER_BITSHUFFLE,
    }
}

fn decode_ids(
    filters: &[(u16, Filter)],
    stored: &[u8],
    mask: u32,
    element_size: usize,
    raw_len: usize,
) -> Result<Vec<u8>, FilterError> {
    let mut cur = stored.to_vec();
    for (i, (_, f)) in filters.iter().enumerate().rev() {
        if mask & (1 << i) != 0 {
            continue;
        }
        // what filter i produced when writing: the raw chunk, plus the 4-byte sum of
        // each fletcher32 applied before it
        let sums = filters[..i]
            .iter()
            .enumerate()
            .filter(|&(j, (_, g))| mask & (1 << j) == 0 && *g == Filter::Fletcher32)
            .count();
        let produced = raw_len.saturating_add(4 * sums);
        cur = match *f {
            Filter::Shuffle => shuffle::unshuffle(&cur, element_size),
            Filter::Fletcher32 => {
                if cur.len() < 4 {
                    return Err(FilterError::Checksum);
                }
                let (data, sum) = cur.split_at(cur.len() - 4);
                let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
                let want = fletcher32(data);
                // libhdf5 also accepts the byte-swapped sum of pre-1.6.3 files
                let swapped = ((want & 0xff00_ff00) >> 8) | ((want & 0x00ff_00ff) << 8);
                if stored != want && stored != swapped {
                    return Err(FilterError::Checksum);
                }
                data.to_vec()
            }
            Filter::Deflate(_) => inflate(&cur, produced)?,
            Filter::Lz4 => lz4::decompress(&cur, produced.saturating_mul(2).max(1 << 20))?,
            Filter::BitshuffleLz4 => {
                bitshuffle::decompress(&cur, element_size, produced.saturating_mul(2).max(1 << 20))?
            }
        };
    }
    if cur.len() != raw_len {
        return Err(FilterError::Size {
            got: cur.len(),
            want: raw_len,
        });
    }
    Ok(cur)
}

/// Sets `v` to `n` bytes that are about to be overwritten: it keeps the bytes it holds and
/// zero-fills only beyond them, so that a reused buffer is not refilled.
fn overwrite_len(v: &mut Vec<u8>, n: usize) {
    v.truncate(n);
    v.resize(n, 0);
}

/// Encodes many chunks on up to `threads` threads; results are in input order.
#[cfg(feature = "std")]
pub fn encode_many(
    pipeline: &Pipeline,
    chunks: &[&[u8]],
    element_size: usize,
    threads: usize,
) -> Vec<EncodedChunk> {
    if threads <= 1 || chunks.len() <= 1 {
        let mut scratch = EncodeScratch::default();
        return chunks
            .iter()
            .map(|c| pipeline.encode_with(c, element_size, &mut scratch, Vec::new()))
            .collect();
    }
    let mut out: Vec<Option<EncodedChunk>> = (0..chunks.len()).map(|_| None).collect();
    let per = chunks.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (ins, outs) in chunks.chunks(per).zip(out.chunks_mut(per)) {
            s.spawn(move || {
                let mut scratch = EncodeScratch::default();
                for (c, o) in ins.iter().zip(outs) {
                    *o = Some(pipeline.encode_with(c, element_size, &mut scratch, Vec::new()));
                }
            });
        }
    });
    out.into_iter()
        .map(|o| o.expect("every chunk encoded"))
        .collect()
}

/// zlib-compresses `data` at `level` (0–9; higher is treated as 9) with our own encoder
/// ([`deflate::compress_zlib`]) at every level. Always `Some`.
///
/// The choice was measured (`cargo run --release --example deflate_levels`, README
/// "Performance", against miniz_oxide, zlib-rs and C zlib 1.2.13 in the same run): on
/// shuffled 16-bit camera-like frames (the W4 workload) ours compresses better than C zlib
/// at every level (level 1: 2.152 against 2.139; miniz_oxide 1.977, zlib-rs 1.854) and at
/// level 1 runs about 2.4 times as fast as C zlib, though at 0.55 of miniz_oxide's speed;
/// on source text it matches or beats C zlib's ratio at levels 2–9 and is 2.5% below it at
/// level 1. zlib-rs is faster at levels 6–9 but compresses both inputs less than ours
/// there, so it is not used.
pub fn deflate(data: &[u8], level: u8) -> Option<Vec<u8>> {
    Some(deflate::compress_zlib(data, level))
}

/// Decompresses a zlib stream that should yield at most `max` bytes.
pub fn inflate(data: &[u8], max: usize) -> Result<Vec<u8>, FilterError> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, max)
        .map_err(|_| FilterError::Inflate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_combination() {
        let raw: Vec<u8> = (0..4000u32)
            .flat_map(|i| ((i / 3) as u16).to_le_bytes())
            .collect();
        let combos: &[&[Filter]] = &[
            // a checksum under the compressor: inflate yields the chunk plus 4 bytes
            &[Filter::Fletcher32, Filter::Deflate(6)],
            &[Filter::Fletcher32, Filter::Shuffle, Filter::Lz4],
            &[Filter::Shuffle],
            &[Filter::Deflate(4)],
            &[Filter::Fletcher32],
            &[Filter::Lz4],
            &[Filter::Shuffle, Filter::Deflate(1), Filter::Fletcher32],
            &[Filter::Shuffle, Filter::Lz4, Filter::Fletcher32],
        ];
        for c in combos {
            let p = Pipeline {
                filters: c.to_vec(),
            };
            let e = p.encode(&raw, 2);
            assert_eq!(e.mask, 0, "{c:?}");
            assert_eq!(
                p.decode(&e.bytes, e.mask, 2, raw.len()).unwrap(),
                raw,
                "{c:?}"
            );
        }
    }

    #[test]
    fn incompressible_chunks_stay_raw() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let raw: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let p = Pipeline {
            filters: alloc::vec![Filter::Shuffle, Filter::Deflate(6), Filter::Fletcher32],
        };
        let e = p.encode(&raw, 1);
        assert_eq!(e.mask, 0b010, "deflate skipped");
        assert_eq!(e.bytes.len(), raw.len() + 4);
        assert_eq!(p.decode(&e.bytes, e.mask, 1, raw.len()).unwrap(), raw);
    }

    #[test]
    fn a_flipped_byte_fails_the_checksum() {
        let raw = alloc::vec![7u8; 100];
        let p = Pipeline {
            filters: alloc::vec![Filter::Fletcher32],
        };
        let mut e = p.encode(&raw, 1);
        e.bytes[10] ^= 1;
        assert_eq!(
            p.decode(&e.bytes, e.mask, 1, raw.len()),
            Err(FilterError::Checksum)
        );
    }
}
