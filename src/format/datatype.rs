//! Datatype message (spec IV.A.2.d): fixed-point, floating-point, fixed- and
//! variable-length string, enumeration, compound and array classes, encoded with the
//! versions libhdf5 picks for them (see [`Datatype::encode`]), plus validation of
//! types and of element values ([`Datatype::validate`], [`Datatype::check_values`]).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
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

/// One named value of an enumeration type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnumMember {
    /// The member's name (non-empty, no NUL, unique in its type).
    pub name: String,
    /// Its value; it must fit the base integer type.
    pub value: i128,
}

impl EnumMember {
    /// A member `name` = `value`.
    pub fn new(name: impl Into<String>, value: i128) -> Self {
        EnumMember {
            name: name.into(),
            value,
        }
    }
}

/// One named field of a compound type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CompoundField {
    /// The field's name (non-empty, no NUL, unique in its type).
    pub name: String,
    /// Byte offset of the field inside one element.
    pub offset: u32,
    /// The field's type.
    pub dtype: Datatype,
}

impl CompoundField {
    /// A field `name` of type `dtype` at byte `offset`.
    pub fn new(name: impl Into<String>, offset: u32, dtype: Datatype) -> Self {
        CompoundField {
            name: name.into(),
            offset,
            dtype,
        }
    }
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
    /// Enumeration: named values of an integer base type (1, 2, 4 or 8 bytes). h5py
    /// reads it as the base integer type with the names in the dtype's metadata;
    /// [`Datatype::bool`] is the enumeration h5py reads as numpy `bool`.
    Enum {
        /// Size of the base integer in bytes.
        size: u8,
        /// Base integer signed when true.
        signed: bool,
        /// Byte order of the base integer.
        order: ByteOrder,
        /// The members, in the order they are written.
        members: Vec<EnumMember>,
    },
    /// Compound: named fields at byte offsets inside an element of `size` bytes; bytes
    /// no field covers are padding. h5py reads it as a numpy structured dtype.
    Compound {
        /// Size of one element in bytes.
        size: u32,
        /// The fields, in the order they are written.
        fields: Vec<CompoundField>,
    },
    /// Fixed-size array of `dims` (row-major) elements of `base`; as a compound field
    /// h5py reads it as a numpy sub-array.
    Array {
        /// The array's shape (1 to 32 dims, none zero).
        dims: Vec<u32>,
        /// The element type.
        base: Box<Datatype>,
    },
}

/// Why a datatype or a value cannot be written as given. Nothing is ever stored in an
/// altered form instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeError {
    /// A compound field, or an enumeration member, with an empty name.
    #[error("{what} has an empty name")]
    EmptyName {
        /// "a compound field" or "an enumeration member".
        what: &'static str,
    },
    /// Two compound fields, or two enumeration members, share a name.
    #[error("the name {name:?} appears twice in one {what}")]
    DuplicateName {
        /// The repeated name.
        name: String,
        /// "compound type" or "enumeration".
        what: &'static str,
    },
    /// A name holding a NUL byte (HDF5 stores names NUL-terminated).
    #[error("the name {name:?} contains a NUL byte")]
    NulInName {
        /// The name.
        name: String,
    },
    /// Two compound fields share bytes.
    #[error("compound fields {first:?} (bytes {first_start}..{first_end}) and {second:?} (bytes {second_start}..{second_end}) overlap")]
    OverlappingFields {
        /// The field with the lower offset.
        first: String,
        /// Its first byte.
        first_start: u64,
        /// One past its last byte.
        first_end: u64,
        /// The other field.
        second: String,
        /// Its first byte.
        second_start: u64,
        /// One past its last byte.
        second_end: u64,
    },
    /// A compound field reaching past the end of its element.
    #[error(
        "compound field {name:?} (bytes {start}..{end}) does not fit an element of {size} bytes"
    )]
    FieldOutOfBounds {
        /// The field.
        name: String,
        /// Its first byte.
        start: u64,
        /// One past its last byte.
        end: u64,
        /// The compound's size.
        size: u32,
    },
    /// A compound type without fields, or an enumeration without members.
    #[error("{what} needs at least one {item}")]
    Empty {
        /// "a compound type" or "an enumeration".
        what: &'static str,
        /// "field" or "member".
        item: &'static str,
    },
    /// More fields or members than the message can count (65,535).
    #[error("{count} {item}s are more than the 65535 a datatype message can hold")]
    TooMany {
        /// How many were given.
        count: usize,
        /// "field" or "member".
        item: &'static str,
    },
    /// An element size that HDF5 (or this writer) cannot encode for its class.
    #[error("a {class} of {size} bytes cannot be encoded (sizes: {allowed})")]
    InvalidSize {
        /// The datatype class.
        class: &'static str,
        /// The size asked for.
        size: u64,
        /// The sizes that work.
        allowed: &'static str,
    },
    /// An array type with no dims, a zero dim or more than 32 dims.
    #[error("array dims {dims:?}: an array type needs 1 to 32 dims, none of them zero")]
    InvalidArrayDims {
        /// The dims given.
        dims: Vec<u32>,
    },
    /// Two enumeration members with the same value.
    #[error("enumeration members {first:?} and {second:?} have the same value {value}")]
    DuplicateValue {
        /// The first member.
        first: String,
        /// The second member.
        second: String,
        /// Their value.
        value: i128,
    },
    /// An enumeration member whose value does not fit the base integer type.
    #[error("enumeration member {name:?} = {value} does not fit a {size}-byte {} integer", if *.signed { "signed" } else { "unsigned" })]
    EnumValueOutOfRange {
        /// The member.
        name: String,
        /// Its value.
        value: i128,
        /// Base size in bytes.
        size: u8,
        /// Base signedness.
        signed: bool,
    },
    /// A type this writer does not store in that position.
    #[error("unsupported datatype: {0}")]
    Unsupported(&'static str),
    /// A Rust type whose size differs from the size of the datatype it declares.
    #[error("the Rust type is {rust} bytes but its datatype is {declared} bytes")]
    SizeMismatch {
        /// `size_of` the Rust type.
        rust: usize,
        /// The declared datatype's size.
        declared: u32,
    },
    /// A string longer than the fixed size it must fit.
    #[error("a string of {len} bytes does not fit a fixed-length string of {size} bytes{}", if *.terminated { " (with its NUL terminator)" } else { "" })]
    StringTooLong {
        /// The string's length in bytes.
        len: usize,
        /// The fixed size.
        size: usize,
        /// The size includes a NUL terminator.
        terminated: bool,
    },
    /// Bytes that are not UTF-8 in a string declared UTF-8.
    #[error("{}invalid UTF-8 in a string declared UTF-8", at(.location))]
    InvalidUtf8 {
        /// Where (element and field), empty when not in a dataset or attribute.
        location: String,
    },
    /// A non-ASCII byte in a string declared ASCII.
    #[error("{}a non-ASCII byte in a string declared ASCII", at(.location))]
    NotAscii {
        /// Where (element and field), empty when not in a dataset or attribute.
        location: String,
    },
    /// A NUL byte inside a string (readers would cut the string there).
    #[error("{}a NUL byte inside the string (readers would cut it there)", at(.location))]
    NulInString {
        /// Where (element and field), empty when not in a dataset or attribute.
        location: String,
    },
    /// A null-terminated fixed-length string without its terminator.
    #[error("{}a null-terminated string without a NUL byte", at(.location))]
    MissingTerminator {
        /// Where (element and field).
        location: String,
    },
    /// A value of an enumeration type that is none of its members.
    #[error("{}the value {value} is not a member of the enumeration", at(.location))]
    NotAMember {
        /// Where (element and field).
        location: String,
        /// The value found.
        value: i128,
    },
}

impl TypeError {
    /// The same error located at `location` (for the errors about a value).
    pub fn with_location(self, location: String) -> TypeError {
        match self {
            TypeError::InvalidUtf8 { .. } => TypeError::InvalidUtf8 { location },
            TypeError::NotAscii { .. } => TypeError::NotAscii { location },
            TypeError::NulInString { .. } => TypeError::NulInString { location },
            TypeError::MissingTerminator { .. } => TypeError::MissingTerminator { location },
            TypeError::NotAMember { value, .. } => TypeError::NotAMember { location, value },
            e => e,
        }
    }
}

fn at(location: &str) -> String {
    if location.is_empty() {
        String::new()
    } else {
        format!("{location}: ")
    }
}

/// The highest rank of an HDF5 array type (and dataspace).
pub const MAX_ARRAY_RANK: usize = 32;

impl Datatype {
    /// The type h5py stores numpy `bool` as: an 8-bit signed enumeration with
    /// `FALSE` = 0 and `TRUE` = 1.
    pub fn bool() -> Datatype {
        Datatype::Enum {
            size: 1,
            signed: true,
            order: ByteOrder::NATIVE,
            members: alloc::vec![EnumMember::new("FALSE", 0), EnumMember::new("TRUE", 1)],
        }
    }

    /// A complex number as h5py stores it: a compound of two floats of `size` bytes
    /// (4 or 8) named `r` and `i`; h5py reads it as `complex64` / `complex128`.
    pub fn complex(size: u8, order: ByteOrder) -> Datatype {
        let part = Datatype::Float { size, order };
        Datatype::Compound {
            size: 2 * u32::from(size),
            fields: alloc::vec![
                CompoundField::new("r", 0, part.clone()),
                CompoundField::new("i", u32::from(size), part),
            ],
        }
    }

    /// A compound type of `size` bytes with fields at explicit offsets, validated.
    pub fn compound(size: u32, fields: Vec<CompoundField>) -> Result<Datatype, TypeError> {
        let t = Datatype::Compound { size, fields };
        t.validate()?;
        Ok(t)
    }

    /// A packed compound type: each field right after the previous one, no padding
    /// (numpy's default for structured dtypes), validated.
    pub fn packed<N: Into<String>>(
        fields: impl IntoIterator<Item = (N, Datatype)>,
    ) -> Result<Datatype, TypeError> {
        let mut offset = 0u64;
        let mut out = Vec::new();
        for (name, dtype) in fields {
            let size = u64::from(dtype.size());
            out.push(CompoundField::new(
                name,
                offset.min(u64::from(u32::MAX)) as u32,
                dtype,
            ));
            offset += size;
        }
        let size = u32::try_from(offset).map_err(|_| TypeError::InvalidSize {
            class: "compound type",
            size: offset,
            allowed: "below 4 GiB",
        })?;
        Datatype::compound(size, out)
    }

    /// An array type of `dims` elements of `base`, validated.
    pub fn array(dims: Vec<u32>, base: Datatype) -> Result<Datatype, TypeError> {
        let t = Datatype::Array {
            dims,
            base: Box::new(base),
        };
        t.validate()?;
        Ok(t)
    }

    /// An enumeration over the integer type `base` (a [`Datatype::Integer`]), validated.
    pub fn enumeration(base: Datatype, members: Vec<EnumMember>) -> Result<Datatype, TypeError> {
        let Datatype::Integer {
            size,
            signed,
            order,
        } = base
        else {
            return Err(TypeError::Unsupported(
                "an enumeration's base type must be an integer",
            ));
        };
        let t = Datatype::Enum {
            size,
            signed,
            order,
            members,
        };
        t.validate()?;
        Ok(t)
    }

    /// The same type with `order` as the byte order of its numbers (integers, floats,
    /// enumeration bases, and those inside compounds and arrays).
    pub fn with_order(self, order: ByteOrder) -> Datatype {
        match self {
            Datatype::Integer { size, signed, .. } => Datatype::Integer {
                size,
                signed,
                order,
            },
            Datatype::Float { size, .. } => Datatype::Float { size, order },
            Datatype::Enum {
                size,
                signed,
                members,
                ..
            } => Datatype::Enum {
                size,
                signed,
                order,
                members,
            },
            Datatype::Compound { size, fields } => Datatype::Compound {
                size,
                fields: fields
                    .into_iter()
                    .map(|f| CompoundField {
                        dtype: f.dtype.with_order(order),
                        ..f
                    })
                    .collect(),
            },
            Datatype::Array { dims, base } => Datatype::Array {
                dims,
                base: Box::new(base.with_order(order)),
            },
            t => t,
        }
    }

    /// Size of one element in bytes (saturating at `u32::MAX` for an array too large
    /// to encode, which [`Datatype::validate`] rejects).
    pub fn size(&self) -> u32 {
        match self {
            Datatype::Integer { size, .. }
            | Datatype::Float { size, .. }
            | Datatype::Enum { size, .. } => u32::from(*size),
            Datatype::FixedString { size, .. } | Datatype::Compound { size, .. } => *size,
            Datatype::VarLenString { .. } => 16,
            Datatype::Array { dims, base } => {
                let n = dims.iter().fold(u64::from(base.size()), |a, &d| {
                    a.saturating_mul(u64::from(d))
                });
                n.min(u64::from(u32::MAX)) as u32
            }
        }
    }

    /// True when this type or a part of it is a variable-length string.
    pub fn has_var_len(&self) -> bool {
        match self {
            Datatype::VarLenString { .. } => true,
            Datatype::Compound { fields, .. } => fields.iter().any(|f| f.dtype.has_var_len()),
            Datatype::Array { base, .. } => base.has_var_len(),
            _ => false,
        }
    }

    /// True when not every byte pattern is a valid element: enumerations (bool
    /// included), fixed-length strings and variable-length strings, alone or inside
    /// compounds and arrays. Their values are checked by [`Datatype::check_values`].
    pub fn has_constraints(&self) -> bool {
        match self {
            Datatype::Integer { .. } | Datatype::Float { .. } => false,
            Datatype::Compound { fields, .. } => fields.iter().any(|f| f.dtype.has_constraints()),
            Datatype::Array { base, .. } => base.has_constraints(),
            _ => true,
        }
    }

    /// Checks that the type can be encoded as it is: sizes, names, field placement,
    /// enumeration values. Every writer path calls it before storing a type.
    pub fn validate(&self) -> Result<(), TypeError> {
        self.validate_in(false)
    }

    fn validate_in(&self, nested: bool) -> Result<(), TypeError> {
        match self {
            Datatype::Integer { size, .. } => int_size(*size, "integer"),
            Datatype::Float { size, .. } => {
                if matches!(size, 2 | 4 | 8) {
                    Ok(())
                } else {
                    Err(TypeError::InvalidSize {
                        class: "float",
                        size: u64::from(*size),
                        allowed: "2, 4 or 8",
                    })
                }
            }
            Datatype::FixedString { size, .. } => {
                if *size == 0 {
                    Err(TypeError::InvalidSize {
                        class: "fixed-length string",
                        size: 0,
                        allowed: "at least 1",
                    })
                } else {
                    Ok(())
                }
            }
            Datatype::VarLenString { .. } => {
                if nested {
                    Err(TypeError::Unsupported(
                        "variable-length strings inside compound or array types",
                    ))
                } else {
                    Ok(())
                }
            }
            Datatype::Enum {
                size,
                signed,
                members,
                ..
            } => {
                int_size(*size, "enumeration base integer")?;
                if members.is_empty() {
                    return Err(TypeError::Empty {
                        what: "an enumeration",
                        item: "member",
                    });
                }
                if members.len() > usize::from(u16::MAX) {
                    return Err(TypeError::TooMany {
                        count: members.len(),
                        item: "member",
                    });
                }
                let (lo, hi) = int_range(*size, *signed);
                for m in members {
                    check_name(&m.name, "an enumeration member")?;
                    if m.value < lo || m.value > hi {
                        return Err(TypeError::EnumValueOutOfRange {
                            name: m.name.clone(),
                            value: m.value,
                            size: *size,
                            signed: *signed,
                        });
                    }
                }
                let mut by_name: Vec<&EnumMember> = members.iter().collect();
                by_name.sort_by(|a, b| a.name.cmp(&b.name));
                if let Some(w) = by_name.windows(2).find(|w| w[0].name == w[1].name) {
                    return Err(TypeError::DuplicateName {
                        name: w[0].name.clone(),
                        what: "enumeration",
                    });
                }
                let mut by_value: Vec<&EnumMember> = members.iter().collect();
                by_value.sort_by_key(|m| m.value);
                if let Some(w) = by_value.windows(2).find(|w| w[0].value == w[1].value) {
                    return Err(TypeError::DuplicateValue {
                        first: w[0].name.clone(),
                        second: w[1].name.clone(),
                        value: w[0].value,
                    });
                }
                Ok(())
            }
            Datatype::Compound { size, fields } => {
                if fields.is_empty() {
                    return Err(TypeError::Empty {
                        what: "a compound type",
                        item: "field",
                    });
                }
                if fields.len() > usize::from(u16::MAX) {
                    return Err(TypeError::TooMany {
                        count: fields.len(),
                        item: "field",
                    });
                }
                for f in fields {
                    check_name(&f.name, "a compound field")?;
                    f.dtype.validate_in(true)?;
                    let start = u64::from(f.offset);
                    let end = start + u64::from(f.dtype.size());
                    if end > u64::from(*size) {
                        return Err(TypeError::FieldOutOfBounds {
                            name: f.name.clone(),
                            start,
                            end,
                            size: *size,
                        });
                    }
                }
                let mut by_name: Vec<&CompoundField> = fields.iter().collect();
                by_name.sort_by(|a, b| a.name.cmp(&b.name));
                if let Some(w) = by_name.windows(2).find(|w| w[0].name == w[1].name) {
                    return Err(TypeError::DuplicateName {
                        name: w[0].name.clone(),
                        what: "compound type",
                    });
                }
                let mut by_offset: Vec<&CompoundField> = fields.iter().collect();
                by_offset.sort_by_key(|f| (f.offset, f.dtype.size()));
                for w in by_offset.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    let a_end = u64::from(a.offset) + u64::from(a.dtype.size());
                    if a_end > u64::from(b.offset) {
                        return Err(TypeError::OverlappingFields {
                            first: a.name.clone(),
                            first_start: u64::from(a.offset),
                            first_end: a_end,
                            second: b.name.clone(),
                            second_start: u64::from(b.offset),
                            second_end: u64::from(b.offset) + u64::from(b.dtype.size()),
                        });
                    }
                }
                Ok(())
            }
            Datatype::Array { dims, base } => {
                if dims.is_empty() || dims.len() > MAX_ARRAY_RANK || dims.contains(&0) {
                    return Err(TypeError::InvalidArrayDims { dims: dims.clone() });
                }
                base.validate_in(true)?;
                let total = dims
                    .iter()
                    .try_fold(u64::from(base.size()), |a, &d| a.checked_mul(u64::from(d)))
                    .unwrap_or(u64::MAX);
                if total > u64::from(u32::MAX) {
                    return Err(TypeError::InvalidSize {
                        class: "array type",
                        size: total,
                        allowed: "below 4 GiB",
                    });
                }
                Ok(())
            }
        }
    }

    /// The datatype message version libhdf5 gives this type when it builds it
    /// (`H5T__array_create`, `H5T__insert`): 1, or 2 for arrays and for compounds that
    /// hold one.
    pub fn version(&self) -> u8 {
        match self {
            Datatype::Compound { fields, .. } => {
                fields.iter().map(|f| f.dtype.version()).fold(1, u8::max)
            }
            Datatype::Array { base, .. } => base.version().max(2),
            _ => 1,
        }
    }

    /// Appends the message body.
    ///
    /// Versions follow libhdf5 exactly (compared byte for byte with files it wrote):
    /// every type is version 1 except arrays (version 2) and the compound, array and
    /// enumeration types that libhdf5 upgrades along with them. Creating an array
    /// upgrades its whole base to version 2; inserting a version-2 member into a
    /// compound upgrades the compound and every compound, array and enumeration already
    /// inside it (`H5T__upgrade_version`), while members inserted after keep their own
    /// version. Integers, floats and strings stay version 1 everywhere.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.encode_at(out, 1);
    }

    fn encode_at(&self, out: &mut Vec<u8>, forced: u8) {
        match self {
            Datatype::Integer {
                size,
                signed,
                order,
            } => {
                let mut bits = 0u8;
                if *order == ByteOrder::BigEndian {
                    bits |= 0x01;
                }
                if *signed {
                    bits |= 0x08;
                }
                out.extend_from_slice(&[0x10, bits, 0, 0]);
                out.extend_from_slice(&u32::from(*size).to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes()); // bit offset
                out.extend_from_slice(&(u16::from(*size) * 8).to_le_bytes()); // precision
            }
            Datatype::Float { size, order } => {
                // (exponent location, exponent size, mantissa size, bias) of IEEE 754
                let (exp_loc, exp_size, mant_size, bias): (u8, u8, u8, u32) = match size {
                    2 => (10, 5, 10, 15),
                    4 => (23, 8, 23, 127),
                    _ => (52, 11, 52, 1023),
                };
                let bits0 = 0x20 | u8::from(*order == ByteOrder::BigEndian); // implied msb
                let sign_pos = size * 8 - 1;
                out.extend_from_slice(&[0x11, bits0, sign_pos, 0]);
                out.extend_from_slice(&u32::from(*size).to_le_bytes());
                out.extend_from_slice(&0u16.to_le_bytes()); // bit offset
                out.extend_from_slice(&(u16::from(*size) * 8).to_le_bytes()); // precision
                out.extend_from_slice(&[exp_loc, exp_size, 0, mant_size]);
                out.extend_from_slice(&bias.to_le_bytes());
            }
            Datatype::FixedString { size, pad, cset } => {
                out.extend_from_slice(&[0x13, *pad as u8 | ((*cset as u8) << 4), 0, 0]);
                out.extend_from_slice(&size.to_le_bytes());
            }
            Datatype::VarLenString { cset } => {
                // type 1 = string, padding 0 = null-terminated, then the character set
                out.extend_from_slice(&[0x19, 0x01, *cset as u8, 0]);
                out.extend_from_slice(&16u32.to_le_bytes());
                // the base type: one unsigned byte per character
                Datatype::Integer {
                    size: 1,
                    signed: false,
                    order: ByteOrder::LittleEndian,
                }
                .encode_at(out, 1);
            }
            Datatype::Enum {
                size,
                signed,
                order,
                members,
            } => {
                let v = forced.clamp(1, 2);
                out.push((v << 4) | 8);
                out.extend_from_slice(&(members.len() as u16).to_le_bytes());
                out.push(0);
                out.extend_from_slice(&u32::from(*size).to_le_bytes());
                Datatype::Integer {
                    size: *size,
                    signed: *signed,
                    order: *order,
                }
                .encode_at(out, 1);
                for m in members {
                    push_name_padded(out, &m.name);
                }
                for m in members {
                    push_int(out, m.value, *size, *order);
                }
            }
            Datatype::Compound { size, fields } => {
                let natural = self.version();
                let v = natural.max(forced).min(2);
                out.push((v << 4) | 6);
                out.extend_from_slice(&(fields.len() as u16).to_le_bytes());
                out.push(0);
                out.extend_from_slice(&size.to_le_bytes());
                // member i is upgraded to `natural` when a later member's insertion
                // raised the compound's version past what it was when i went in
                let versions: Vec<u8> = fields.iter().map(|f| f.dtype.version()).collect();
                let mut later = alloc::vec![0u8; fields.len()];
                let mut m = 0u8;
                for i in (0..fields.len()).rev() {
                    later[i] = m;
                    m = m.max(versions[i]);
                }
                let mut prefix = 1u8;
                for (i, f) in fields.iter().enumerate() {
                    prefix = prefix.max(versions[i]);
                    let member_forced = if later[i] > prefix {
                        natural.max(forced)
                    } else {
                        forced
                    };
                    push_name_padded(out, &f.name);
                    out.extend_from_slice(&f.offset.to_le_bytes());
                    if v == 1 {
                        // dimensionality, 3 reserved, permutation, reserved, 4 dim sizes
                        out.extend_from_slice(&[0u8; 28]);
                    }
                    f.dtype.encode_at(out, member_forced);
                }
            }
            Datatype::Array { dims, base } => {
                let v = self.version().max(forced).min(2);
                out.extend_from_slice(&[(v << 4) | 10, 0, 0, 0]);
                out.extend_from_slice(&self.size().to_le_bytes());
                out.extend_from_slice(&[dims.len() as u8, 0, 0, 0]);
                for d in dims {
                    out.extend_from_slice(&d.to_le_bytes());
                }
                for i in 0..dims.len() as u32 {
                    out.extend_from_slice(&i.to_le_bytes()); // permutation (unused)
                }
                base.encode_at(out, v);
            }
        }
    }

    /// Checks every element of `data` (whole elements of this type, packed): enumeration
    /// values must be members, fixed-length strings must be valid in their character
    /// set, hold no NUL inside the text and (null-terminated) have their terminator.
    /// Variable-length strings cannot be checked from their bytes and are refused:
    /// they are written from `&str` by the writer's string methods.
    pub fn check_values(&self, data: &[u8]) -> Result<(), TypeError> {
        if !self.has_constraints() {
            return Ok(());
        }
        ValueChecker::new(self)?.check(data)
    }
}

/// A compiled check of the constrained parts of one element: built once per type,
/// run over any number of elements.
#[derive(Clone, Debug)]
pub struct ValueChecker {
    size: usize,
    leaves: Vec<Leaf>,
}

#[derive(Clone, Debug)]
struct Leaf {
    offset: usize,
    field: String,
    kind: LeafKind,
}

#[derive(Clone, Debug)]
enum LeafKind {
    /// Sorted member values as two's-complement `u64` bit patterns of the base width.
    Enum {
        size: u8,
        signed: bool,
        order: ByteOrder,
        values: Vec<u64>,
    },
    Str {
        size: usize,
        pad: StringPad,
        cset: CharSet,
    },
}

impl ValueChecker {
    /// Compiles the checks of `dtype`'s constrained parts.
    pub fn new(dtype: &Datatype) -> Result<ValueChecker, TypeError> {
        let mut leaves = Vec::new();
        collect_leaves(dtype, 0, &mut String::new(), &mut leaves)?;
        Ok(ValueChecker {
            size: dtype.size() as usize,
            leaves,
        })
    }

    /// True when some part of the type is checked.
    pub fn is_needed(&self) -> bool {
        !self.leaves.is_empty()
    }

    /// Checks whole elements (`data.len()` a multiple of the type's size).
    pub fn check(&self, data: &[u8]) -> Result<(), TypeError> {
        if self.leaves.is_empty() || self.size == 0 {
            return Ok(());
        }
        for (e, elem) in data.chunks_exact(self.size).enumerate() {
            for leaf in &self.leaves {
                leaf.check(elem).map_err(|p| p.at(e as u64, &leaf.field))?;
            }
        }
        Ok(())
    }
}

/// A problem found in one value, before its location is known.
enum Problem {
    Utf8,
    Ascii,
    Nul,
    Terminator,
    Member(i128),
}

impl Problem {
    fn at(self, element: u64, field: &str) -> TypeError {
        let location = if field.is_empty() {
            format!("element {element}")
        } else {
            format!("element {element}, field {field}")
        };
        match self {
            Problem::Utf8 => TypeError::InvalidUtf8 { location },
            Problem::Ascii => TypeError::NotAscii { location },
            Problem::Nul => TypeError::NulInString { location },
            Problem::Terminator => TypeError::MissingTerminator { location },
            Problem::Member(value) => TypeError::NotAMember { location, value },
        }
    }
}

impl Leaf {
    fn check(&self, elem: &[u8]) -> Result<(), Problem> {
        match &self.kind {
            LeafKind::Enum {
                size,
                signed,
                order,
                values,
            } => {
                let bytes = &elem[self.offset..self.offset + usize::from(*size)];
                let mut le = [0u8; 8];
                le[..bytes.len()].copy_from_slice(bytes);
                if *order == ByteOrder::BigEndian {
                    le[..bytes.len()].reverse();
                }
                let raw = u64::from_le_bytes(le);
                if values.binary_search(&raw).is_ok() {
                    Ok(())
                } else {
                    Err(Problem::Member(int_value(raw, *size, *signed)))
                }
            }
            LeafKind::Str { size, pad, cset } => {
                check_fixed_str(&elem[self.offset..self.offset + size], *pad, *cset)
            }
        }
    }
}

fn check_fixed_str(bytes: &[u8], pad: StringPad, cset: CharSet) -> Result<(), Problem> {
    let text_len = match pad {
        StringPad::NullTerm | StringPad::NullPad => {
            let n = bytes.iter().position(|&b| b == 0);
            if pad == StringPad::NullTerm && n.is_none() {
                return Err(Problem::Terminator);
            }
            let n = n.unwrap_or(bytes.len());
            if bytes[n..].iter().any(|&b| b != 0) {
                return Err(Problem::Nul);
            }
            n
        }
        StringPad::SpacePad => {
            if bytes.contains(&0) {
                return Err(Problem::Nul);
            }
            bytes.len()
        }
    };
    let text = &bytes[..text_len];
    match cset {
        CharSet::Ascii if !text.is_ascii() => Err(Problem::Ascii),
        CharSet::Utf8 if core::str::from_utf8(text).is_err() => Err(Problem::Utf8),
        _ => Ok(()),
    }
}

/// Checks a string about to be stored as a fixed-length string of `size` bytes.
pub fn check_fixed_text(
    text: &[u8],
    size: usize,
    pad: StringPad,
    cset: CharSet,
) -> Result<(), TypeError> {
    let room = if pad == StringPad::NullTerm {
        size.saturating_sub(1)
    } else {
        size
    };
    if text.len() > room {
        return Err(TypeError::StringTooLong {
            len: text.len(),
            size,
            terminated: pad == StringPad::NullTerm,
        });
    }
    check_text(text, cset)
}

/// Checks the text of a string (fixed or variable-length): no NUL byte, and valid in
/// its character set.
pub fn check_text(text: &[u8], cset: CharSet) -> Result<(), TypeError> {
    let location = String::new();
    if text.contains(&0) {
        return Err(TypeError::NulInString { location });
    }
    match cset {
        CharSet::Ascii if !text.is_ascii() => Err(TypeError::NotAscii { location }),
        CharSet::Utf8 if core::str::from_utf8(text).is_err() => {
            Err(TypeError::InvalidUtf8 { location })
        }
        _ => Ok(()),
    }
}

fn collect_leaves(
    t: &Datatype,
    offset: usize,
    field: &mut String,
    out: &mut Vec<Leaf>,
) -> Result<(), TypeError> {
    match t {
        Datatype::Integer { .. } | Datatype::Float { .. } => {}
        Datatype::VarLenString { .. } => {
            return Err(TypeError::Unsupported(
                "raw bytes of variable-length strings (write them as strings)",
            ))
        }
        Datatype::FixedString { size, pad, cset } => out.push(Leaf {
            offset,
            field: field.clone(),
            kind: LeafKind::Str {
                size: *size as usize,
                pad: *pad,
                cset: *cset,
            },
        }),
        Datatype::Enum {
            size,
            signed,
            order,
            members,
        } => {
            let mut values: Vec<u64> = members.iter().map(|m| int_bits(m.value, *size)).collect();
            values.sort_unstable();
            out.push(Leaf {
                offset,
                field: field.clone(),
                kind: LeafKind::Enum {
                    size: *size,
                    signed: *signed,
                    order: *order,
                    values,
                },
            });
        }
        Datatype::Compound { fields, .. } => {
            for f in fields {
                if !f.dtype.has_constraints() {
                    continue;
                }
                let mark = field.len();
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(&f.name);
                collect_leaves(&f.dtype, offset + f.offset as usize, field, out)?;
                field.truncate(mark);
            }
        }
        Datatype::Array { dims, base } => {
            if base.has_constraints() {
                let n: usize = dims.iter().map(|&d| d as usize).product();
                let step = base.size() as usize;
                for i in 0..n {
                    let mark = field.len();
                    field.push_str(&format!("[{i}]"));
                    collect_leaves(base, offset + i * step, field, out)?;
                    field.truncate(mark);
                }
            }
        }
    }
    Ok(())
}

fn int_size(size: u8, class: &'static str) -> Result<(), TypeError> {
    if matches!(size, 1 | 2 | 4 | 8) {
        Ok(())
    } else {
        Err(TypeError::InvalidSize {
            class,
            size: u64::from(size),
            allowed: "1, 2, 4 or 8",
        })
    }
}

fn int_range(size: u8, signed: bool) -> (i128, i128) {
    let bits = u32::from(size) * 8;
    if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

/// The two's-complement bit pattern of `value` at `size` bytes.
fn int_bits(value: i128, size: u8) -> u64 {
    let v = value as u64;
    if size >= 8 {
        v
    } else {
        v & ((1u64 << (u32::from(size) * 8)) - 1)
    }
}

/// The value of a `size`-byte bit pattern.
fn int_value(raw: u64, size: u8, signed: bool) -> i128 {
    let bits = u32::from(size) * 8;
    if signed && (raw >> (bits - 1)) & 1 == 1 {
        i128::from(raw) - (1i128 << bits)
    } else {
        i128::from(raw)
    }
}

fn push_int(out: &mut Vec<u8>, value: i128, size: u8, order: ByteOrder) {
    let le = int_bits(value, size).to_le_bytes();
    let bytes = &le[..usize::from(size)];
    match order {
        ByteOrder::LittleEndian => out.extend_from_slice(bytes),
        ByteOrder::BigEndian => out.extend(bytes.iter().rev()),
    }
}

/// A name, its NUL and zeros up to a multiple of 8 bytes (datatype versions 1 and 2).
fn push_name_padded(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(name.as_bytes());
    let n = (name.len() + 1).div_ceil(8) * 8;
    out.resize(out.len() + n - name.len(), 0);
}

fn check_name(name: &str, what: &'static str) -> Result<(), TypeError> {
    if name.is_empty() {
        return Err(TypeError::EmptyName { what });
    }
    if name.contains('\0') {
        return Err(TypeError::NulInName { name: name.into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn enc(t: Datatype) -> Vec<u8> {
        let mut v = Vec::new();
        t.encode(&mut v);
        v
    }

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    fn int(size: u8, signed: bool) -> Datatype {
        Datatype::Integer {
            size,
            signed,
            order: ByteOrder::LittleEndian,
        }
    }

    fn float(size: u8) -> Datatype {
        Datatype::Float {
            size,
            order: ByteOrder::LittleEndian,
        }
    }

    fn members(m: &[(&str, i128)]) -> Vec<EnumMember> {
        m.iter().map(|(n, v)| EnumMember::new(*n, *v)).collect()
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

    /// Every expected byte string below is what h5py 3.16 / libhdf5 2.0 stored for the
    /// numpy dtype named in the comment (`f[name].id.get_type().encode()[2:]`, also found
    /// verbatim in the file), see spec-notes/datatype-compound.md.
    #[test]
    fn golden_bytes_from_libhdf5() {
        let i4 = "10 08 00 00 04 00 00 00 00 00 20 00";
        let f4 = "11 20 1f 00 04 00 00 00 00 00 20 00 17 08 00 17 7f 00 00 00";
        let f8 = "11 20 3f 00 08 00 00 00 00 00 40 00 34 0b 00 34 ff 03 00 00";
        let u1 = "10 00 00 00 01 00 00 00 00 00 08 00";
        let z28 =
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00";
        // np.dtype(bool)
        assert_eq!(
            enc(Datatype::bool()),
            hex("18 02 00 00 01 00 00 00 10 08 00 00 01 00 00 00 00 00 08 00 46 41 4c 53 45 00 00 00 54 52 55 45 00 00 00 00 00 01")
        );
        // h5py.enum_dtype({'BLUE': 42, 'GREEN': 1, 'RED': 0}, basetype='u2') (h5py sorts by name)
        let e = Datatype::enumeration(
            int(2, false),
            members(&[("BLUE", 42), ("GREEN", 1), ("RED", 0)]),
        );
        assert_eq!(
            enc(e.unwrap()),
            hex("18 03 00 00 02 00 00 00 10 00 00 00 02 00 00 00 00 00 10 00 42 4c 55 45 00 00 00 00 47 52 45 45 4e 00 00 00 52 45 44 00 00 00 00 00 2a 00 01 00 00 00")
        );
        // h5py.enum_dtype({'BIG': 2**40, 'NEG': -5}, basetype='<i8')
        let e = Datatype::enumeration(int(8, true), members(&[("BIG", 1 << 40), ("NEG", -5)]));
        assert_eq!(
            enc(e.unwrap()),
            hex("18 02 00 00 08 00 00 00 10 08 00 00 08 00 00 00 00 00 40 00 42 49 47 00 00 00 00 00 4e 45 47 00 00 00 00 00 00 00 00 00 00 01 00 00 fb ff ff ff ff ff ff ff")
        );
        // [('a','<i4'),('b','<f8')], packed (size 12) and align=True (size 16)
        for (size, b_off) in [(12u32, "04"), (16, "08")] {
            let t = Datatype::compound(
                size,
                vec![
                    CompoundField::new("a", 0, int(4, true)),
                    CompoundField::new("b", u32::from_str_radix(b_off, 16).unwrap(), float(8)),
                ],
            );
            let want = format!("16 02 00 00 {:02x} 00 00 00 61 00 00 00 00 00 00 00 00 00 00 00 {z28} {i4} 62 00 00 00 00 00 00 00 {b_off} 00 00 00 {z28} {f8}", size);
            assert_eq!(enc(t.unwrap()), hex(&want));
        }
        // np.dtype('c8')
        let want = format!("16 02 00 00 08 00 00 00 72 00 00 00 00 00 00 00 00 00 00 00 {z28} {f4} 69 00 00 00 00 00 00 00 04 00 00 00 {z28} {f4}");
        assert_eq!(
            enc(Datatype::complex(4, ByteOrder::LittleEndian)),
            hex(&want)
        );
        // [('b','<f4',(2,)),('a','<i4')]: version 2 compound, version 2 array of a v1 float
        let arr = "2a 00 00 00 08 00 00 00 01 00 00 00 02 00 00 00 00 00 00 00";
        let t = Datatype::compound(
            12,
            vec![
                CompoundField::new("b", 0, Datatype::array(vec![2], float(4)).unwrap()),
                CompoundField::new("a", 8, int(4, true)),
            ],
        );
        let want = format!("26 02 00 00 0c 00 00 00 62 00 00 00 00 00 00 00 00 00 00 00 {arr} {f4} 61 00 00 00 00 00 00 00 08 00 00 00 {i4}");
        assert_eq!(enc(t.unwrap()), hex(&want));
        // [('a','<i2',(2,3))]: a 2-D array, permutation 0, 1
        let t = Datatype::compound(
            12,
            vec![CompoundField::new(
                "a",
                0,
                Datatype::array(vec![2, 3], int(2, true)).unwrap(),
            )],
        );
        assert_eq!(
            enc(t.unwrap()),
            hex("26 01 00 00 0c 00 00 00 61 00 00 00 00 00 00 00 00 00 00 00 2a 00 00 00 0c 00 00 00 02 00 00 00 02 00 00 00 03 00 00 00 00 00 00 00 01 00 00 00 10 08 00 00 02 00 00 00 00 00 10 00")
        );
        // [('p', [('x','<f4'),('y','u1')], (3,))]: the array's base compound becomes v2
        let xy = Datatype::compound(
            5,
            vec![
                CompoundField::new("x", 0, float(4)),
                CompoundField::new("y", 4, int(1, false)),
            ],
        )
        .unwrap();
        let t = Datatype::compound(
            15,
            vec![CompoundField::new(
                "p",
                0,
                Datatype::array(vec![3], xy.clone()).unwrap(),
            )],
        );
        let want = format!("26 01 00 00 0f 00 00 00 70 00 00 00 00 00 00 00 00 00 00 00 2a 00 00 00 0f 00 00 00 01 00 00 00 03 00 00 00 00 00 00 00 26 02 00 00 05 00 00 00 78 00 00 00 00 00 00 00 00 00 00 00 {f4} 79 00 00 00 00 00 00 00 04 00 00 00 {u1}");
        assert_eq!(enc(t.unwrap()), hex(&want));
        // enum AB over u1, and a compound {x: u1}
        let ab = Datatype::enumeration(int(1, false), members(&[("A", 0), ("B", 1)])).unwrap();
        let ab_body = "02 00 00 01 00 00 00 10 00 00 00 01 00 00 00 00 00 08 00 41 00 00 00 00 00 00 00 42 00 00 00 00 00 00 00 00 01";
        let cx = Datatype::compound(1, vec![CompoundField::new("x", 0, int(1, false))]).unwrap();
        let cx_body = "01 00 00 01 00 00 00 78 00 00 00 00 00 00 00 00 00 00 00";
        let arr2 = Datatype::array(vec![2], float(4)).unwrap();
        // [('arr','<f4',(2,)),('c',[('x','u1')]),('e', AB)]: members after the array stay v1
        let t = Datatype::compound(
            10,
            vec![
                CompoundField::new("arr", 0, arr2.clone()),
                CompoundField::new("c", 8, cx.clone()),
                CompoundField::new("e", 9, ab.clone()),
            ],
        );
        let want = format!("26 03 00 00 0a 00 00 00 61 72 72 00 00 00 00 00 00 00 00 00 {arr} {f4} 63 00 00 00 00 00 00 00 08 00 00 00 16 {cx_body} {z28} {u1} 65 00 00 00 00 00 00 00 09 00 00 00 18 {ab_body}");
        assert_eq!(enc(t.unwrap()), hex(&want));
        // [('c',[('x','u1')]),('e', AB),('arr','<f4',(2,))]: members before it become v2
        let t = Datatype::compound(
            10,
            vec![
                CompoundField::new("c", 0, cx),
                CompoundField::new("e", 1, ab.clone()),
                CompoundField::new("arr", 2, arr2),
            ],
        );
        let want = format!("26 03 00 00 0a 00 00 00 63 00 00 00 00 00 00 00 00 00 00 00 26 {cx_body} {u1} 65 00 00 00 00 00 00 00 01 00 00 00 28 {ab_body} 61 72 72 00 00 00 00 00 02 00 00 00 {arr} {f4}");
        assert_eq!(enc(t.unwrap()), hex(&want));
        // [('a', AB, (2,))]: an array's enumeration base becomes v2
        let t = Datatype::compound(
            2,
            vec![CompoundField::new(
                "a",
                0,
                Datatype::array(vec![2], ab).unwrap(),
            )],
        );
        let want = format!("26 01 00 00 02 00 00 00 61 00 00 00 00 00 00 00 00 00 00 00 2a 00 00 00 02 00 00 00 01 00 00 00 02 00 00 00 00 00 00 00 28 {ab_body}");
        assert_eq!(enc(t.unwrap()), hex(&want));
        // [('a','>u4'),('b','>f8')]
        let t = Datatype::packed([("a", int(4, false)), ("b", float(8))])
            .unwrap()
            .with_order(ByteOrder::BigEndian);
        let want = format!("16 02 00 00 0c 00 00 00 61 00 00 00 00 00 00 00 00 00 00 00 {z28} 10 01 00 00 04 00 00 00 00 00 20 00 62 00 00 00 00 00 00 00 04 00 00 00 {z28} 11 21 3f 00 08 00 00 00 00 00 40 00 34 0b 00 34 ff 03 00 00");
        assert_eq!(enc(t), hex(&want));
        // h5py.string_dtype('utf-8', 7)
        assert_eq!(
            enc(Datatype::FixedString {
                size: 7,
                pad: StringPad::NullPad,
                cset: CharSet::Utf8
            }),
            hex("13 11 00 00 07 00 00 00")
        );
    }

    #[test]
    fn invalid_types() {
        let dup = Datatype::compound(
            8,
            vec![
                CompoundField::new("a", 0, int(4, true)),
                CompoundField::new("a", 4, int(4, true)),
            ],
        );
        assert!(matches!(dup, Err(TypeError::DuplicateName { .. })));
        let empty = Datatype::compound(4, vec![CompoundField::new("", 0, int(4, true))]);
        assert!(matches!(empty, Err(TypeError::EmptyName { .. })));
        let overlap = Datatype::compound(
            8,
            vec![
                CompoundField::new("a", 0, int(4, true)),
                CompoundField::new("b", 3, int(2, true)),
            ],
        );
        assert!(matches!(overlap, Err(TypeError::OverlappingFields { .. })));
        let outside = Datatype::compound(8, vec![CompoundField::new("a", 6, int(4, true))]);
        assert!(matches!(outside, Err(TypeError::FieldOutOfBounds { .. })));
        assert!(matches!(
            Datatype::compound(8, vec![]),
            Err(TypeError::Empty { .. })
        ));
        let range = Datatype::enumeration(int(1, false), members(&[("A", 256)]));
        assert!(matches!(range, Err(TypeError::EnumValueOutOfRange { .. })));
        let range = Datatype::enumeration(int(1, true), members(&[("A", -129)]));
        assert!(matches!(range, Err(TypeError::EnumValueOutOfRange { .. })));
        let same = Datatype::enumeration(int(1, true), members(&[("A", 1), ("B", 1)]));
        assert!(matches!(same, Err(TypeError::DuplicateValue { .. })));
        assert!(matches!(
            Datatype::array(vec![], int(1, true)),
            Err(TypeError::InvalidArrayDims { .. })
        ));
        assert!(matches!(
            Datatype::array(vec![2, 0], int(1, true)),
            Err(TypeError::InvalidArrayDims { .. })
        ));
        let vl = Datatype::packed([(
            "s",
            Datatype::VarLenString {
                cset: CharSet::Utf8,
            },
        )]);
        assert!(matches!(vl, Err(TypeError::Unsupported(_))));
        assert!(Datatype::Float {
            size: 3,
            order: ByteOrder::LittleEndian
        }
        .validate()
        .is_err());
        assert!(Datatype::array(vec![1 << 16, 1 << 16], int(1, true)).is_err());
    }

    #[test]
    fn value_checks() {
        let e = Datatype::enumeration(int(2, true), members(&[("NEG", -2), ("P", 7)])).unwrap();
        let t = Datatype::packed([
            ("e", e.clone()),
            (
                "s",
                Datatype::FixedString {
                    size: 3,
                    pad: StringPad::NullTerm,
                    cset: CharSet::Utf8,
                },
            ),
        ])
        .unwrap();
        let ok = [0xfe, 0xff, b'a', b'b', 0, 7, 0, 0, 0, 0];
        assert_eq!(t.check_values(&ok), Ok(()));
        let bad = [0xfe, 0xff, b'a', b'b', 0, 8, 0, 0, 0, 0];
        assert_eq!(
            t.check_values(&bad),
            Err(TypeError::NotAMember {
                location: "element 1, field e".into(),
                value: 8
            })
        );
        assert!(matches!(
            t.check_values(&[7, 0, b'a', b'b', b'c']),
            Err(TypeError::MissingTerminator { .. })
        ));
        assert!(matches!(
            t.check_values(&[7, 0, 0xff, 0, 0]),
            Err(TypeError::InvalidUtf8 { .. })
        ));
        assert!(matches!(
            t.check_values(&[7, 0, 0, b'x', 0]),
            Err(TypeError::NulInString { .. })
        ));
        let be = e.with_order(ByteOrder::BigEndian);
        assert_eq!(be.check_values(&[0xff, 0xfe, 0, 7]), Ok(()));
        assert!(be.check_values(&[0xfe, 0xff]).is_err());
        let arr = Datatype::array(vec![2], Datatype::bool()).unwrap();
        assert_eq!(arr.check_values(&[0, 1, 1, 1]), Ok(()));
        assert_eq!(
            arr.check_values(&[0, 1, 1, 2]),
            Err(TypeError::NotAMember {
                location: "element 1, field [1]".into(),
                value: 2
            })
        );
        let ascii = Datatype::FixedString {
            size: 2,
            pad: StringPad::NullPad,
            cset: CharSet::Ascii,
        };
        assert!(matches!(
            ascii.check_values("é".as_bytes()),
            Err(TypeError::NotAscii { .. })
        ));
        assert_eq!(
            check_fixed_text(b"abc", 3, StringPad::NullPad, CharSet::Ascii),
            Ok(())
        );
        assert!(matches!(
            check_fixed_text(b"abc", 3, StringPad::NullTerm, CharSet::Ascii),
            Err(TypeError::StringTooLong {
                len: 3,
                size: 3,
                terminated: true
            })
        ));
    }
}
