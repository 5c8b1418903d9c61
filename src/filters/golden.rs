//! Golden hashes of the encoder outputs, taken before the buffer-reusing rewrite of the
//! pipeline and the deflate writer: every filter and every deflate level must keep
//! producing exactly the same bytes (and so the same compression ratio).

use super::deflate::{
    compress_zlib,
    tests::{random, w4_frame},
};
use super::{EncodeScratch, Filter, Pipeline};
use alloc::vec::Vec;

/// FNV-1a, 64 bits, over the bytes and the length.
fn fnv(data: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in data {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ data.len() as u64
}

/// Smooth 16-bit-like data with noise, runs, and a random tail: every block kind.
fn mixed(n: usize) -> Vec<u8> {
    let r = random(n, 99);
    let mut out = Vec::with_capacity(n);
    for (i, &ri) in r.iter().enumerate() {
        let b = match (i / 10_000) % 4 {
            0 => (i / 7) as u8 ^ (ri & 3),
            1 => 0x5a,
            2 => ri,
            _ => b"the chunk of a dataset is written by the writer "[i % 48],
        };
        out.push(b);
    }
    out
}

fn deflate_hashes() -> Vec<u64> {
    let mut hs = Vec::new();
    let w4 = w4_frame(3);
    hs.push(fnv(&compress_zlib(&w4, 1)));
    hs.push(fnv(&compress_zlib(&w4_frame(63), 1)));
    hs.push(fnv(&compress_zlib(&w4[..1_000_001], 2)));
    hs.push(fnv(&compress_zlib(&w4[..300_001], 6)));
    let m = mixed(400_003);
    for level in 0..=9 {
        hs.push(fnv(&compress_zlib(&m, level)));
    }
    for n in [0usize, 1, 3, 4, 5, 17, 258, 1000] {
        hs.push(fnv(&compress_zlib(&m[..n], 1)));
    }
    hs
}

fn pipeline_hashes(scratch: Option<&mut EncodeScratch>) -> Vec<u64> {
    let m = mixed(200_003);
    let combos: &[&[Filter]] = &[
        &[],
        &[Filter::Shuffle],
        &[Filter::Deflate(1)],
        &[Filter::Fletcher32],
        &[Filter::Lz4],
        &[Filter::BitshuffleLz4],
        &[Filter::Shuffle, Filter::Deflate(1)],
        &[Filter::Shuffle, Filter::Deflate(4), Filter::Fletcher32],
        &[Filter::Shuffle, Filter::Lz4, Filter::Fletcher32],
        &[Filter::Fletcher32, Filter::Shuffle, Filter::Deflate(1)],
    ];
    let mut scratch = scratch;
    let mut local = EncodeScratch::default();
    let mut recycled = Vec::new();
    let mut hs = Vec::new();
    for c in combos {
        let p = Pipeline {
            filters: c.to_vec(),
        };
        for es in [1usize, 2, 3, 4, 8, 16] {
            for len in [0usize, 5, 1001, 200_003] {
                let raw = &m[..len];
                let e = match scratch.as_deref_mut() {
                    Some(s) => p.encode_with(raw, es, s, core::mem::take(&mut recycled)),
                    None => p.encode_with(raw, es, &mut local, Vec::new()),
                };
                hs.push(fnv(&e.bytes) ^ u64::from(e.mask) << 60);
                if len > 0 {
                    assert_eq!(
                        p.decode(&e.bytes, e.mask, es, len).unwrap(),
                        raw,
                        "{c:?} es {es} len {len}"
                    );
                }
                let plain = p.encode(raw, es);
                assert_eq!(plain, e, "{c:?} es {es} len {len}");
                recycled = e.bytes;
            }
        }
    }
    let all: Vec<u8> = hs.iter().flat_map(|h| h.to_le_bytes()).collect();
    alloc::vec![fnv(&all)]
}

#[test]
fn deflate_output_is_unchanged() {
    let got = deflate_hashes();
    assert_eq!(got, DEFLATE, "{got:#x?}");
}

#[test]
fn pipeline_output_is_unchanged_and_scratch_reuse_is_transparent() {
    let fresh = pipeline_hashes(None);
    assert_eq!(fresh, PIPELINE, "{fresh:#x?}");
    let mut s = EncodeScratch::default();
    assert_eq!(pipeline_hashes(Some(&mut s)), fresh);
    assert_eq!(pipeline_hashes(Some(&mut s)), fresh);
}

/// At 9aa5159 (W4 frames 3 and 63 at level 1, parts of frame 3 at levels 2 and 6, mixed
/// data at levels 0-9, short prefixes at level 1), except the level-1 outputs that the
/// one-entry hash table changed (entries 0, 1, 5 and 21; the others stayed the same).
const DEFLATE: [u64; 22] = [
    0x0d1e_0ba1_43fb_c72b,
    0xeba5_e69a_d131_8e2a,
    0xce3187b474dd5543,
    0x5e9428ca03642fc7,
    0x47600681dc9eba67,
    0x338b_27f6_1595_7754,
    0xc2f6a7d0b2d2b0ac,
    0xeaace6a4d77ac1c0,
    0x4d061dc38da02c4f,
    0xc12a7f96e456defa,
    0x1e5dab4f9b18414b,
    0x562a424fc2b0566d,
    0xc0d8a61a8d748053,
    0xc0d8a61a8d748053,
    0xcdbaa16f4cacd63e,
    0xe29fe3697f453f5a,
    0xc82787e6168e7f94,
    0x9a3b982f58969de0,
    0x5cea035ccbbc99ca,
    0xc46384ef03aafe11,
    0xef7dc216baa2bace,
    0x9a0f_6a07_7eb1_4f21,
];
/// At 9aa5159, then with the one-entry level-1 table.
const PIPELINE: [u64; 1] = [0x9af5_ebc3_d93b_ebbc];
