//! The shuffle filter (id 2): byte k of every element is stored together, for each k.
//! Trailing bytes that do not make a whole element are kept at the end.

use super::overwrite_len;
use alloc::vec::Vec;

/// Whether shuffling `len` bytes of `es`-byte elements leaves them as they are.
pub fn is_identity(len: usize, es: usize) -> bool {
    es <= 1 || len < es
}

/// Shuffles `data` of `es`-byte elements.
#[cfg(test)]
pub fn shuffle(data: &[u8], es: usize) -> Vec<u8> {
    let mut out = Vec::new();
    shuffle_into(data, es, &mut out);
    out
}

/// Shuffles `data` of `es`-byte elements into `out`, whose contents are replaced.
pub fn shuffle_into(data: &[u8], es: usize, out: &mut Vec<u8>) {
    if is_identity(data.len(), es) {
        out.clear();
        out.extend_from_slice(data);
        return;
    }
    let n = data.len() / es;
    overwrite_len(out, data.len());
    for b in 0..es {
        let dst = &mut out[b * n..(b + 1) * n];
        for (i, d) in dst.iter_mut().enumerate() {
            *d = data[i * es + b];
        }
    }
    out[n * es..].copy_from_slice(&data[n * es..]);
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
