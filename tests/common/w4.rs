//! The W4 frames: `gen_frame` of `../shared/anchors/bench_c.c`, a smooth gradient plus 4
//! bits of hashed noise in 2048×2048 u16 pixels. One copy for the unit and integration
//! tests, the examples and the benches (each includes this file with `#[path]`); `core`
//! only, so that the `no_std` crate's unit tests can include it too.
#![allow(dead_code)]

/// Pixels per frame side.
pub const SIDE: u32 = 2048;

/// Pixel (`y`, `x`) of frame `p`.
pub fn w4_value(p: u32, y: u32, x: u32) -> u16 {
    let idx = (p << 22) | (y << 11) | x;
    let mut h = idx.wrapping_mul(2_654_435_761);
    h ^= h >> 16;
    h = h.wrapping_mul(0x45d_9f3b);
    h ^= h >> 16;
    (1000 + ((x + y) >> 2) + 7 * p + (h & 15)) as u16
}

/// Frame `p`, row-major.
pub fn w4_pixels<C: FromIterator<u16>>(p: u32) -> C {
    (0..SIDE * SIDE)
        .map(|i| w4_value(p, i / SIDE, i % SIDE))
        .collect()
}

/// Frame `p` as the shuffle filter leaves it: the low bytes of every pixel, then the
/// high bytes.
pub fn w4_shuffled<C: FromIterator<u8>>(p: u32) -> C {
    let n = SIDE * SIDE;
    (0..2 * n)
        .map(|i| {
            let v = w4_value(p, (i % n) / SIDE, i % SIDE);
            if i < n {
                v as u8
            } else {
                (v >> 8) as u8
            }
        })
        .collect()
}
