//! Filter pipeline message, version 2 (spec IV.A.2.l).

use alloc::vec::Vec;

/// Filter id of deflate.
pub const FILTER_DEFLATE: u16 = 1;
/// Filter id of shuffle.
pub const FILTER_SHUFFLE: u16 = 2;
/// Filter id of Fletcher-32.
pub const FILTER_FLETCHER32: u16 = 3;
/// Filter id of the LZ4 plugin.
pub const FILTER_LZ4: u16 = 32004;
/// Filter id of the bitshuffle plugin.
pub const FILTER_BITSHUFFLE: u16 = 32008;

/// One filter as the message describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterDesc {
    /// Filter id.
    pub id: u16,
    /// The filter may be skipped for a chunk (flag bit 0).
    pub optional: bool,
    /// Client data values.
    pub cd: Vec<u32>,
}

/// Appends the message body: version 2, the filter count, then each filter's id,
/// (a zero name length for ids ≥ 256), flags, value count and values.
pub fn encode_pipeline(out: &mut Vec<u8>, filters: &[FilterDesc]) {
    out.extend_from_slice(&[2, filters.len() as u8]);
    for f in filters {
        out.extend_from_slice(&f.id.to_le_bytes());
        if f.id >= 256 {
            out.extend_from_slice(&0u16.to_le_bytes()); // no name
        }
        out.extend_from_slice(&u16::from(f.optional).to_le_bytes());
        out.extend_from_slice(&(f.cd.len() as u16).to_le_bytes());
        for v in &f.cd {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// format-notes §4.5: h5py's shuffle + gzip 4 + fletcher32 on 2-byte elements.
    #[test]
    fn golden_bytes_match_libhdf5() {
        let mut out = Vec::new();
        encode_pipeline(
            &mut out,
            &[
                FilterDesc {
                    id: FILTER_SHUFFLE,
                    optional: true,
                    cd: vec![2],
                },
                FilterDesc {
                    id: FILTER_DEFLATE,
                    optional: true,
                    cd: vec![4],
                },
                FilterDesc {
                    id: FILTER_FLETCHER32,
                    optional: false,
                    cd: vec![],
                },
            ],
        );
        assert_eq!(
            out,
            [2, 3, 2, 0, 1, 0, 1, 0, 2, 0, 0, 0, 1, 0, 1, 0, 1, 0, 4, 0, 0, 0, 3, 0, 0, 0, 0, 0]
        );
    }
}
