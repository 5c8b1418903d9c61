//! Datatype message (spec IV.A.2.d): fixed-point, floating-point and fixed-length
//! string classes, version 1 encodings as libhdf5 writes them.

use alloc::vec::Vec;

/// Byte order of a numeric type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first.
    LittleEndian,
    /// Most significant byte first.
    BigEndian,
}

impl ByteOrder {
    /// The byte order of the machine running this code.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") {
        ByteOrder::BigEndian
    } else {
        ByteOrder::LittleEndian
    };
}

/// How a fixed-length string is terminated or padded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StringPad {
    /// Null-terminated (`H5T_STR_NULLTERM`).
    NullTerm = 0,
    /// Null-padded (`H5T_STR_NULLPAD`), what h5py writes.
    NullPad = 1,
    /// Space-padded (`H5T_STR_SPACEPAD`).
    SpacePad = 2,
}

/// Character set of a string or a link name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CharSet {
    /// US-ASCII.
    Ascii = 0,
    /// UTF-8.
    Utf8 = 1,
}

/// An HDF5 datatype this writer can encode.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Datatype {
    /// Fixed-point integer of 1, 2, 4 or 8 bytes.
    Integer {
        /// Size in bytes.
        size: u8,
        /// Two's complement signed when true.
        signed: bool,
        /// Byte order.
        order: ByteOrder,
    },
    /// IEEE floating point of 2, 4 or 8 bytes.
    Float {
        /// Size in bytes.
        size: u8,
        /// Byte order.
        order: ByteOrder,
    },
    /// Fixed-length string of `size` bytes.
    FixedString {
        /// Size in bytes (at least 1).
        size: u32,
        /// Padding convention.
        pad: StringPad,
        /// Character set.
        cset: CharSet,
    },
    /// Variable-length string: each element is a length and a global heap reference
    /// (16 bytes with 8-byte addresses); h5py reads it as `str`.
    VarLenString {
        /// Character set.
        cset: CharSet,
    },
}

impl Datatype {
    /// Size of one element in bytes.
    pub fn size(&self) -> u32 {
        match *self {
            Datatype::Integer { size, .. } | Datatype::Float { size, .. } => u32::from(size),
            Datatype::FixedString { size, .. } => size,
            Datatype::VarLenString { .. } => 16,
        }
    }

    /// Appends the message body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Datatype::Integer {
                size,
                signed,
                order,
            } => {
                let mut bits = 0u8;
                if order == ByteOrder::BigEndian {
                    bits |= 0x01;
                }
                if signed {
                    bits |= 0x08;
                }
                out.extend_from_slice(&[0x10, bits, 0, 0]);
                out.extend_from_slice(&u32::from(size).to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes()); // bit offset
                out.extend_from_slice(&(u16::from(size) * 8).to_le_bytes()); // precision
            }
            Datatype::Float { size, order } => {
                // (exponent location, exponent size, mantissa size, bias) of IEEE 754
                let (exp_loc, exp_size, mant_size, bias): (u8, u8, u8, u32) = match size {
                    2 => (10, 5, 10, 15),
                    4 => (23, 8, 23, 127),
                    _ => (52, 11, 52, 1023),
                };
                let bits0 = 0x20 | u8::from(order == ByteOrder::BigEndian); // implied msb
                let sign_pos = size * 8 - 1;
                out.extend_from_slice(&[0x11, bits0, sign_pos, 0]);
                out.extend_from_slice(&u32::from(size).to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes()); // bit offset
                out.extend_from_slice(&(u16::from(size) * 8).to_le_bytes()); // precision
                out.extend_from_slice(&[exp_loc, exp_size, 0, mant_size]);
                out.extend_from_slice(&bias.to_le_bytes());
            }
            Datatype::FixedString { size, pad, cset } => {
                out.extend_from_slice(&[0x13, pad as u8 | ((cset as u8) << 4), 0, 0]);
                out.extend_from_slice(&size.to_le_bytes());
            }
            Datatype::VarLenString { cset } => {
                // type 1 = string, padding 0 = null-terminated, then the character set
                out.extend_from_slice(&[0x19, 0x01, cset as u8, 0]);
                out.extend_from_slice(&16u32.to_le_bytes());
                // the base type: one unsigned byte per character
                Datatype::Integer {
                    size: 1,
                    signed: false,
                    order: ByteOrder::LittleEndian,
                }
                .encode(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn enc(t: Datatype) -> Vec<u8> {
        let mut v = Vec::new();
        t.encode(&mut v);
        v
    }

    /// Exact bytes libhdf5 writes (format-notes §4.2, verified against h5py files).
    #[test]
    fn golden_bytes() {
        use ByteOrder::*;
        assert_eq!(
            enc(Datatype::Integer {
                size: 1,
                signed: false,
                order: LittleEndian
            }),
            [0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0]
        );
        assert_eq!(
            enc(Datatype::Integer {
                size: 2,
                signed: true,
                order: LittleEndian
            }),
            [0x10, 8, 0, 0, 2, 0, 0, 0, 0, 0, 0x10, 0]
        );
        assert_eq!(
            enc(Datatype::Integer {
                size: 4,
                signed: false,
                order: BigEndian
            }),
            [0x10, 1, 0, 0, 4, 0, 0, 0, 0, 0, 0x20, 0]
        );
        assert_eq!(
            enc(Datatype::Float {
                size: 2,
                order: LittleEndian
            }),
            [0x11, 0x20, 0x0f, 0, 2, 0, 0, 0, 0, 0, 0x10, 0, 0x0a, 5, 0, 0x0a, 0x0f, 0, 0, 0]
        );
        assert_eq!(
            enc(Datatype::Float {
                size: 4,
                order: LittleEndian
            }),
            [0x11, 0x20, 0x1f, 0, 4, 0, 0, 0, 0, 0, 0x20, 0, 0x17, 8, 0, 0x17, 0x7f, 0, 0, 0]
        );
        assert_eq!(
            enc(Datatype::Float {
                size: 8,
                order: LittleEndian
            }),
            [0x11, 0x20, 0x3f, 0, 8, 0, 0, 0, 0, 0, 0x40, 0, 0x34, 0x0b, 0, 0x34, 0xff, 3, 0, 0]
        );
        assert_eq!(
            enc(Datatype::FixedString {
                size: 5,
                pad: StringPad::NullPad,
                cset: CharSet::Ascii
            }),
            [0x13, 1, 0, 0, 5, 0, 0, 0]
        );
        assert_eq!(
            enc(Datatype::FixedString {
                size: 5,
                pad: StringPad::NullTerm,
                cset: CharSet::Utf8
            }),
            [0x13, 0x10, 0, 0, 5, 0, 0, 0]
        );
        assert_eq!(
            enc(Datatype::VarLenString {
                cset: CharSet::Utf8
            }),
            [0x19, 1, 1, 0, 16, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0]
        );
    }
}
