//! Adler-32 (RFC 1950 §8.2): the checksum the zlib trailer carries, big-endian.

/// Largest number of bytes whose sums cannot overflow a `u32` before reduction modulo
/// 65521, starting from values below 65521: 255·n(n+1)/2 + (n+1)·65520 < 2³².
const MAX_RUN: usize = 5552;
const MOD: u32 = 65521;

/// The Adler-32 checksum of `data` (starting value 1).
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for run in data.chunks(MAX_RUN) {
        // four interleaved byte sums shorten the dependency chain of `b`
        let mut quads = run.chunks_exact(4);
        for q in &mut quads {
            let (x0, x1, x2, x3) = (
                u32::from(q[0]),
                u32::from(q[1]),
                u32::from(q[2]),
                u32::from(q[3]),
            );
            // b gains a+x0, a+x0+x1, a+x0+x1+x2, a+x0+x1+x2+x3
            b += 4 * a + 4 * x0 + 3 * x1 + 2 * x2 + x3;
            a += x0 + x1 + x2 + x3;
        }
        for &x in quads.remainder() {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::adler32;

    fn slow(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u64, 0u64);
        for &x in data {
            a = (a + u64::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        ((b << 16) | a) as u32
    }

    #[test]
    fn known_values_and_the_definition() {
        assert_eq!(adler32(b""), 1);
        // the widely quoted example; checked against the definition below too
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let big: alloc::vec::Vec<u8> = (0..100_000u32).map(|i| 255 - (i % 7) as u8).collect();
        for len in [0, 1, 3, 4, 5, 5551, 5552, 5553, 11104, 100_000] {
            assert_eq!(adler32(&big[..len]), slow(&big[..len]), "{len}");
        }
    }
}
