//! Dataspace message, version 2 (spec IV.A.2.b).

use super::Sizes;
use crate::encode::Encoder;
use alloc::vec::Vec;

/// `H5S_UNLIMITED`: a maximum dimension with no bound.
pub const UNLIMITED: u64 = u64::MAX;

/// The shape of a dataset or attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dataspace {
    /// A single element (rank 0).
    Scalar,
    /// An N-D array with current dims and optional maximum dims.
    Simple {
        /// Current size of each dimension.
        dims: Vec<u64>,
        /// Maximum size of each dimension ([`UNLIMITED`] for none); `None` means max = dims.
        max: Option<Vec<u64>>,
    },
}

impl Dataspace {
    /// Number of elements.
    pub fn num_elements(&self) -> u64 {
        match self {
            Dataspace::Scalar => 1,
            Dataspace::Simple { dims, .. } => dims.iter().product(),
        }
    }

    /// Offset of the first current dimension inside the encoded message body.
    pub const DIMS_OFFSET: usize = 4;

    /// Appends the message body.
    pub fn encode(&self, out: &mut Vec<u8>, sizes: Sizes) {
        let mut e = Encoder::new(out, sizes);
        match self {
            Dataspace::Scalar => {
                e.u8(2).u8(0).u8(0).u8(0);
            }
            Dataspace::Simple { dims, max } => {
                e.u8(2)
                    .u8(dims.len() as u8)
                    .u8(u8::from(max.is_some()))
                    .u8(1);
                for &d in dims {
                    e.len(d);
                }
                if let Some(max) = max {
                    for &m in max {
                        e.len(m);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn golden_scalar_and_extendable() {
        let mut out = Vec::new();
        Dataspace::Scalar.encode(&mut out, Sizes::DEFAULT);
        assert_eq!(out, [2, 0, 0, 0]);
        out.clear();
        Dataspace::Simple {
            dims: vec![5, 4, 6],
            max: Some(vec![UNLIMITED, 4, 6]),
        }
        .encode(&mut out, Sizes::DEFAULT);
        let mut want = vec![2, 3, 1, 1];
        for v in [5u64, 4, 6, u64::MAX, 4, 6] {
            want.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(out, want);
    }
}
