//! Adler-32 (RFC 1950 §8.2): the checksum the zlib trailer carries, big-endian.

const MOD: u32 = 65521;
/// Bytes summed per step, one lane each.
const LANES: usize = 16;
/// Steps between reductions: the lane sums of sums stay below 255·k²/2 < 2³².
const RUN_STEPS: usize = 4096;

/// The Adler-32 checksum of `data` (starting value 1).
///
/// Over a run of k steps of [`LANES`] bytes, lane i keeps `s[i]`, the sum of its bytes,
/// and `p[i]`, the sum over steps of `s[i]` before the step; then
/// a = a₀ + Σs and b = b₀ + LANES·k·a₀ + LANES·Σp + Σ (LANES − i)·s[i], because b gains,
/// per step, LANES·a before the step plus (LANES − i)·x_i. The lanes vectorise.
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    let steps = data.chunks_exact(LANES);
    let rest = steps.remainder();
    for run in data[..data.len() - rest.len()].chunks(LANES * RUN_STEPS) {
        let mut s = [0u32; LANES];
        let mut p = [0u32; LANES];
        for step in run.chunks_exact(LANES) {
            let step: &[u8; LANES] = step.try_into().expect("one step");
            for ((p, s), &x) in p.iter_mut().zip(s.iter_mut()).zip(step) {
                *p += *s;
                *s += u32::from(x);
            }
        }
        let k = (run.len() / LANES) as u64;
        let sum_s: u64 = s.iter().map(|&x| u64::from(x)).sum();
        let sum_p: u64 = p.iter().map(|&x| u64::from(x)).sum();
        let weighted: u64 = s
            .iter()
            .enumerate()
            .map(|(i, &x)| (LANES - i) as u64 * u64::from(x))
            .sum();
        let m = u64::from(MOD);
        let bb =
            u64::from(b) + LANES as u64 * k % m * u64::from(a) + LANES as u64 * sum_p + weighted;
        a = ((u64::from(a) + sum_s) % m) as u32;
        b = (bb % m) as u32;
    }
    for &x in rest {
        a += u32::from(x);
        b += a;
    }
    ((b % MOD) << 16) | (a % MOD)
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
        // all 255: the largest sums
        let max = alloc::vec![255u8; 300_000];
        assert_eq!(adler32(&max), slow(&max));
        for len in [
            0, 1, 3, 4, 5, 15, 16, 17, 5551, 5552, 5553, 11104, 65535, 65536, 65537, 100_000,
        ] {
            assert_eq!(adler32(&big[..len]), slow(&big[..len]), "{len}");
        }
    }
}
