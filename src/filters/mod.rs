//! The chunk filter pipeline: shuffle, deflate, fletcher32 and LZ4 (plugin 32004),
//! applied per chunk in pipeline order on write and in reverse on read.
//!
//! An optional filter that does not make the chunk smaller is skipped for that chunk
//! and its bit is set in the chunk's filter mask, as libhdf5 does (format-notes §4.5).

mod bitshuffle;
pub mod deflate;
mod fletcher32;
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

/// SHIM (replaced by the encoder-speed branch).
#[derive(Default)]
pub struct EncodeScratch {}

impl Pipeline {
    /// SHIM.
    pub fn encode_with(
        &self,
        raw: &[u8],
        element_size: usize,
        _scratch: &mut EncodeScratch,
        _out: Vec<u8>,
    ) -> EncodedChunk {
        self.encode(raw, element_size)
    }

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
        let mut cur: Vec<u8> = raw.to_vec();
        let mut mask = 0u32;
        for (i, f) in self.filters.iter().enumerate() {
            match *f {
                Filter::Shuffle => cur = shuffle::shuffle(&cur, element_size),
                Filter::Fletcher32 => {
                    let sum = fletcher32(&cur);
                    cur.extend_from_slice(&sum.to_le_bytes());
                }
                Filter::Deflate(level) => match deflate(&cur, level) {
                    Some(out) if out.len() < cur.len() => cur = out,
                    _ => mask |= 1 << i,
                },
                Filter::BitshuffleLz4 => {
                    let out = bitshuffle::compress(&cur, element_size);
                    if out.len() < cur.len() {
                        cur = out;
                    } else {
                        mask |= 1 << i;
                    }
                }
                Filter::Lz4 => {
                    let out = lz4::compress(&cur);
                    if out.len() < cur.len() {
                        cur = out;
                    } else {
                        mask |= 1 << i;
                    }
                }
            }
        }
        EncodedChunk { bytes: cur, mask }
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
            Filter::Deflate(_) => inflate(&cur, raw_len)?,
            Filter::Lz4 => lz4::decompress(&cur, raw_len.saturating_mul(2).max(1 << 20))?,
            Filter::BitshuffleLz4 => {
                bitshuffle::decompress(&cur, element_size, raw_len.saturating_mul(2).max(1 << 20))?
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

/// Encodes many chunks on up to `threads` threads; results are in input order.
#[cfg(feature = "std")]
pub fn encode_many(
    pipeline: &Pipeline,
    chunks: &[&[u8]],
    element_size: usize,
    threads: usize,
) -> Vec<EncodedChunk> {
    if threads <= 1 || chunks.len() <= 1 {
        return chunks
            .iter()
            .map(|c| pipeline.encode(c, element_size))
            .collect();
    }
    let mut out: Vec<Option<EncodedChunk>> = (0..chunks.len()).map(|_| None).collect();
    let per = chunks.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (ins, outs) in chunks.chunks(per).zip(out.chunks_mut(per)) {
            s.spawn(move || {
                for (c, o) in ins.iter().zip(outs) {
                    *o = Some(pipeline.encode(c, element_size));
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
/// at every level (level 1: 2.150 against 2.139; miniz_oxide 1.977, zlib-rs 1.854) and at
/// level 1 runs about twice as fast as C zlib, though at half miniz_oxide's speed; on
/// source text it also matches or beats C zlib's ratio at every level. zlib-rs is faster
/// at levels 6–9 but compresses both inputs less than C zlib there, so it is not used.
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
