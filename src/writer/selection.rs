//! Rectangular regions (hyperslabs) of row-major arrays: copying a box between two
//! arrays of different extents, and the runs a box occupies in one array.

/// Strides in elements of a row-major array with extents `ext`.
fn strides(ext: &[u64]) -> Vec<u64> {
    let mut s = vec![1u64; ext.len()];
    for d in (0..ext.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * ext[d + 1];
    }
    s
}

/// Linear element index of `idx` in an array whose origin is `org`.
fn linear(idx: &[u64], org: &[u64], strides: &[u64]) -> u64 {
    idx.iter()
        .zip(org)
        .zip(strides)
        .map(|((i, o), s)| (i - o) * s)
        .sum()
}

/// Calls `f(run_start_in_a, run_start_in_b, run_len)` (in elements) for each row of the
/// box `[lo, hi)`, where array A has origin `a_org` and extents `a_ext`, and B likewise.
/// Rows are visited in row-major order. Does nothing for an empty box.
pub(crate) fn for_each_row(
    lo: &[u64],
    hi: &[u64],
    a_org: &[u64],
    a_ext: &[u64],
    b_org: &[u64],
    b_ext: &[u64],
    mut f: impl FnMut(u64, u64, u64),
) {
    let r = lo.len();
    if r == 0 {
        f(0, 0, 1);
        return;
    }
    if lo.iter().zip(hi).any(|(l, h)| l >= h) {
        return;
    }
    let (sa, sb) = (strides(a_ext), strides(b_ext));
    let row = hi[r - 1] - lo[r - 1];
    let mut idx = lo.to_vec();
    loop {
        f(linear(&idx, a_org, &sa), linear(&idx, b_org, &sb), row);
        // odometer over all dims but the last
        let mut d = r - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < hi[d] {
                break;
            }
            idx[d] = lo[d];
        }
    }
}

/// Copies the box `[lo, hi)` from `src` (origin `s_org`, extents `s_ext`) into `dst`
/// (origin `d_org`, extents `d_ext`); `elem` bytes per element.
#[allow(clippy::too_many_arguments)]
pub(crate) fn copy_box(
    elem: usize,
    lo: &[u64],
    hi: &[u64],
    src: &[u8],
    s_org: &[u64],
    s_ext: &[u64],
    dst: &mut [u8],
    d_org: &[u64],
    d_ext: &[u64],
) {
    for_each_row(lo, hi, s_org, s_ext, d_org, d_ext, |s, d, n| {
        let (s, d, n) = (s as usize * elem, d as usize * elem, n as usize * elem);
        dst[d..d + n].copy_from_slice(&src[s..s + n]);
    });
}

/// The intersection of boxes `[a_lo, a_hi)` and `[b_lo, b_hi)`, or `None` if empty.
pub(crate) fn intersect(
    a_lo: &[u64],
    a_hi: &[u64],
    b_lo: &[u64],
    b_hi: &[u64],
) -> Option<(Vec<u64>, Vec<u64>)> {
    let lo: Vec<u64> = a_lo.iter().zip(b_lo).map(|(a, b)| *a.max(b)).collect();
    let hi: Vec<u64> = a_hi.iter().zip(b_hi).map(|(a, b)| *a.min(b)).collect();
    if lo.iter().zip(&hi).all(|(l, h)| l < h) {
        Some((lo, hi))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_a_box_between_arrays() {
        // src: a 2x3 block holding 1..=6, placed at (1, 1) of a 4x5 destination
        let src: Vec<u8> = (1..=6).collect();
        let mut dst = vec![0u8; 20];
        copy_box(
            1,
            &[1, 1],
            &[3, 4],
            &src,
            &[1, 1],
            &[2, 3],
            &mut dst,
            &[0, 0],
            &[4, 5],
        );
        assert_eq!(
            dst,
            [0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn rank_zero_is_one_element() {
        let mut n = 0;
        for_each_row(&[], &[], &[], &[], &[], &[], |a, b, len| {
            assert_eq!((a, b, len), (0, 0, 1));
            n += 1;
        });
        assert_eq!(n, 1);
    }

    #[test]
    fn intersection() {
        assert_eq!(
            intersect(&[0, 0], &[4, 4], &[2, 3], &[6, 9]),
            Some((vec![2, 3], vec![4, 4]))
        );
        assert_eq!(intersect(&[0], &[4], &[4], &[6]), None);
    }
}
