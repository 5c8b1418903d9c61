//! Rust element types and the HDF5 datatypes they are stored as.

use crate::format::datatype::{ByteOrder, Datatype};

/// A Rust type that can be stored as HDF5 elements, byte for byte.
///
/// Values are written in the host's byte order, and the datatype says which.
pub trait H5Type: bytemuck::Pod + Send + Sync + 'static {
    /// The HDF5 datatype of one element.
    fn datatype() -> Datatype;
}

macro_rules! int_type {
    ($($t:ty => $signed:expr),*) => {$(
        impl H5Type for $t {
            fn datatype() -> Datatype {
                Datatype::Integer {
                    size: core::mem::size_of::<$t>() as u8,
                    signed: $signed,
                    order: ByteOrder::NATIVE,
                }
            }
        }
    )*};
}

int_type!(u8 => false, u16 => false, u32 => false, u64 => false,
          i8 => true, i16 => true, i32 => true, i64 => true);

impl H5Type for f32 {
    fn datatype() -> Datatype {
        Datatype::Float {
            size: 4,
            order: ByteOrder::NATIVE,
        }
    }
}

impl H5Type for f64 {
    fn datatype() -> Datatype {
        Datatype::Float {
            size: 8,
            order: ByteOrder::NATIVE,
        }
    }
}
