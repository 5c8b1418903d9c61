//! Fill value message, version 3 (spec IV.A.2.f).

use alloc::vec::Vec;

/// When storage for raw data is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocTime {
    /// At creation (required for compact datasets).
    Early = 1,
    /// When data is first written (contiguous default).
    Late = 2,
    /// Chunk by chunk as written (chunked default).
    Incremental = 3,
}

/// A fill value message: allocation time, "fill if set", and an optional value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillValue {
    /// Storage allocation time.
    pub alloc: AllocTime,
    /// The fill value's bytes (one element), or `None` for the library default (zeros).
    pub value: Option<Vec<u8>>,
}

impl FillValue {
    /// Appends the message body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        const FILL_TIME_IFSET: u8 = 2 << 2;
        const DEFINED: u8 = 0x20;
        let mut flags = self.alloc as u8 | FILL_TIME_IFSET;
        match &self.value {
            None => out.extend_from_slice(&[3, flags]),
            Some(v) => {
                flags |= DEFINED;
                out.extend_from_slice(&[3, flags]);
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                out.extend_from_slice(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn golden_bytes() {
        let mut out = Vec::new();
        FillValue {
            alloc: AllocTime::Incremental,
            value: None,
        }
        .encode(&mut out);
        assert_eq!(out, [3, 0x0b]);
        out.clear();
        FillValue {
            alloc: AllocTime::Late,
            value: Some(vec![7, 0, 0, 0]),
        }
        .encode(&mut out);
        assert_eq!(out, [3, 0x2a, 4, 0, 0, 0, 7, 0, 0, 0]);
    }
}
