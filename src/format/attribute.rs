//! Attribute message, version 3 (spec IV.A.2.m): name, datatype, dataspace and value
//! in one message, unpadded.

use super::dataspace::Dataspace;
use super::datatype::Datatype;
use super::Sizes;
use crate::encode::Encoder;
use alloc::vec::Vec;

/// Appends an attribute message body. `data` holds the raw value bytes
/// (elements × datatype size).
pub fn encode_attribute(
    out: &mut Vec<u8>,
    sizes: Sizes,
    name: &str,
    datatype: &Datatype,
    space: &Dataspace,
    data: &[u8],
) {
    let mut dt = Vec::new();
    datatype.encode(&mut dt);
    let mut ds = Vec::new();
    space.encode(&mut ds, sizes);
    let cset = u8::from(!name.is_ascii());
    let mut e = Encoder::new(out, sizes);
    e.u8(3)
        .u8(0)
        .u16(name.len() as u16 + 1)
        .u16(dt.len() as u16)
        .u16(ds.len() as u16)
        .u8(cset)
        .bytes(name.as_bytes())
        .u8(0)
        .bytes(&dt)
        .bytes(&ds)
        .bytes(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::datatype::ByteOrder;

    /// format-notes §4.6: a scalar int32 attribute named "i32".
    #[test]
    fn golden_scalar_i32() {
        let mut out = Vec::new();
        let t = Datatype::Integer {
            size: 4,
            signed: true,
            order: ByteOrder::LittleEndian,
        };
        encode_attribute(
            &mut out,
            Sizes::DEFAULT,
            "i32",
            &t,
            &Dataspace::Scalar,
            &7i32.to_le_bytes(),
        );
        let mut want = alloc::vec![3, 0, 4, 0, 12, 0, 4, 0, 0];
        want.extend_from_slice(b"i32\0");
        want.extend_from_slice(&[0x10, 8, 0, 0, 4, 0, 0, 0, 0, 0, 32, 0]);
        want.extend_from_slice(&[2, 0, 0, 0]);
        want.extend_from_slice(&[7, 0, 0, 0]);
        assert_eq!(out, want);
    }
}
