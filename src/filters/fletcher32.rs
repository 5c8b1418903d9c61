//! HDF5's Fletcher-32 (filter id 3): sums of big-endian 16-bit words, folded every
//! 360 words; an odd trailing byte counts as a word's high byte.

/// The checksum libhdf5 appends (little-endian) to a chunk.
pub fn fletcher32(data: &[u8]) -> u32 {
    let (mut s1, mut s2) = (0u32, 0u32);
    let mut words = data.chunks_exact(2);
    loop {
        let mut n = 0;
        for w in words.by_ref() {
            s1 += (u32::from(w[0]) << 8) | u32::from(w[1]);
            s2 += s1;
            n += 1;
            if n == 360 {
                break;
            }
        }
        if n == 0 {
            break;
        }
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    if let [last] = words.remainder() {
        s1 += u32::from(*last) << 8;
        s2 += s1;
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    s1 = (s1 & 0xffff) + (s1 >> 16);
    s2 = (s2 & 0xffff) + (s2 >> 16);
    (s2 << 16) | s1
}

#[cfg(test)]
mod tests {
    use super::fletcher32;

    #[test]
    fn small_inputs() {
        assert_eq!(fletcher32(&[]), 0);
        // one word 0x0102: s1 = 0x0102, s2 = 0x0102
        assert_eq!(fletcher32(&[1, 2]), 0x0102_0102);
        // odd byte 0x03 becomes 0x0300
        assert_eq!(fletcher32(&[1, 2, 3]), ((0x0102 + 0x0402) << 16) | 0x0402);
    }
}
