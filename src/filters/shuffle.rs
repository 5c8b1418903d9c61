//! The shuffle filter (id 2): byte k of every element is stored together, for each k.
//! Trailing bytes that do not make a whole element are kept at the end.

use alloc::vec::Vec;

/// Shuffles `data` of `es`-byte elements.
pub fn shuffle(data: &[u8], es: usize) -> Vec<u8> {
    if es <= 1 || data.len() < es {
        return data.to_vec();
    }
    let n = data.len() / es;
    let mut out = alloc::vec![0u8; data.len()];
    for b in 0..es {
        let dst = &mut out[b * n..(b + 1) * n];
        for (i, d) in dst.iter_mut().enumerate() {
            *d = data[i * es + b];
        }
    }
    out[n * es..].copy_from_slice(&data[n * es..]);
    out
}

/// Undoes [`shuffle`].
pub fn unshuffle(data: &[u8], es: usize) -> Vec<u8> {
    if es <= 1 || data.len() < es {
        return data.to_vec();
    }
    let n = data.len() / es;
    let mut out = alloc::vec![0u8; data.len()];
    for b in 0..es {
        let src = &data[b * n..(b + 1) * n];
        for (i, s) in src.iter().enumerate() {
            out[i * es + b] = *s;
        }
    }
    out[n * es..].copy_from_slice(&data[n * es..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_and_round_trip() {
        let data = [1u8, 2, 3, 4, 5, 6, 7];
        assert_eq!(shuffle(&data, 2), [1, 3, 5, 2, 4, 6, 7]);
        assert_eq!(unshuffle(&shuffle(&data, 2), 2), data);
        assert_eq!(shuffle(&data, 3), [1, 4, 2, 5, 3, 6, 7]);
    }
}
