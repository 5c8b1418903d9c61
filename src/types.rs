//! Rust element types and the HDF5 datatypes they are stored as.
//!
//! | Rust | HDF5 | h5py reads |
//! |---|---|---|
//! | `u8`…`u64`, `i8`…`i64`, `f32`, `f64` | integer, float (native order) | `uint8`…`float64` |
//! | `half::f16` (feature `half`) | 2-byte float | `float16` |
//! | [`BigEndian<T>`], [`LittleEndian<T>`] of those | the same in that byte order | `>u4`, `>f8`, … |
//! | `bool` | enum FALSE = 0 / TRUE = 1 over `i8` (h5py's convention) | `bool` |
//! | [`Complex<f32>`], [`Complex<f64>`] | compound `{r, i}` (h5py's convention) | `complex64`, `complex128` |
//! | `[T; N]` (nested: `[[T; M]; N]`) | array type of dims `[N]` (`[N, M]`) | a sub-array |
//! | [`FixedAscii<N>`], [`FixedUtf8<N>`] | fixed-length string, null-padded | `bytes` (`S{N}`) |
//! | [`FixedAsciiNullTerm<N>`], [`FixedUtf8NullTerm<N>`] | fixed-length string, null-terminated | `bytes` |
//! | [`VarLenUnicode`], [`VarLenAscii`] | variable-length string (written from `&str`) | `str` / `bytes` |
//! | `#[derive(H5Type)]` `#[repr(C)]` struct | compound (fields at their Rust offsets) | structured array |
//! | `#[derive(H5Type)]` `#[repr(u8/i32/…)]` field-less enum | enum over that integer | the integer, with the names |

use alloc::borrow::Cow;
use alloc::vec;
use core::fmt;

use crate::format::datatype::{
    check_fixed_text, ByteOrder, CharSet, Datatype, StringPad, TypeError,
};

/// A Rust type that can be stored as HDF5 elements.
///
/// [`H5Type::datatype`] describes one element, whose stored size must equal
/// `size_of::<Self>()`; [`H5Type::store`] writes a value's stored bytes. Plain numbers
/// are stored as they are in memory (no copy); other types (structs with padding,
/// enums, big-endian wrappers) are converted element by element, padding bytes zeroed.
/// `#[derive(H5Type)]` implements it for `#[repr(C)]` structs and field-less enums
/// with an integer `repr`:
///
/// ```
/// use h5sink::{FixedAscii, H5Type};
///
/// #[derive(H5Type, Clone, Copy)]
/// #[repr(i8)]
/// enum Mode {
///     Off = -1,
///     On = 1,
/// }
///
/// /// An HDF5 compound of 24 bytes (numpy `align=True` layout, padding zeroed).
/// #[derive(H5Type, Clone, Copy)]
/// #[repr(C)]
/// struct FrameInfo {
///     timestamp: f64,
///     exposure: f32,
///     mode: Mode,
///     #[h5(name = "flags-raw")]
///     flags: [u8; 2],
///     label: FixedAscii<6>,
/// }
///
/// # fn main() -> h5sink::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// let file = h5sink::File::create(dir.path().join("info.h5"))?;
/// let info = file.dataset::<FrameInfo>("/info").frames([]).chunk_frames(1024).create()?;
/// let label = FixedAscii::new("dark").expect("fits 6 bytes");
/// info.append(&[FrameInfo { timestamp: 0.5, exposure: 0.01, mode: Mode::On, flags: [1, 0], label }])?;
/// file.finish()?;
/// # Ok(()) }
/// ```
///
/// What cannot be stored faithfully does not compile: a struct without `#[repr(C)]`
/// (Rust may reorder its fields), an enum without an integer `repr` or with fields, two
/// fields stored under one name.
///
/// ```compile_fail
/// #[derive(h5sink::H5Type, Clone, Copy)]
/// struct NoRepr { a: u8, b: u32 }
/// ```
/// ```compile_fail
/// #[derive(h5sink::H5Type, Clone, Copy)]
/// enum NoIntRepr { A, B }
/// ```
/// ```compile_fail
/// #[derive(h5sink::H5Type, Clone, Copy)]
/// #[repr(u8)]
/// enum WithFields { A(u8), B }
/// ```
/// ```compile_fail
/// #[derive(h5sink::H5Type, Clone, Copy)]
/// #[repr(C)]
/// struct SameName { #[h5(name = "b")] a: u8, b: u8 }
/// ```
/// ```compile_fail
/// #[derive(h5sink::H5Type, Clone, Copy)]
/// #[repr(C)]
/// struct NotAnH5Type { a: u8, b: std::time::Instant }
/// ```
pub trait H5Type: Copy + Send + Sync + 'static {
    /// The HDF5 datatype of one element.
    fn datatype() -> Datatype;

    /// Writes the stored form of `self` into `out`, which is `size_of::<Self>()` bytes
    /// long and zeroed.
    fn store(&self, out: &mut [u8]);

    /// The stored bytes of `values`, borrowed when memory already holds exactly them.
    fn store_slice(values: &[Self]) -> Cow<'_, [u8]> {
        let n = core::mem::size_of::<Self>();
        let mut out = vec![0u8; core::mem::size_of_val(values)];
        if n > 0 {
            for (v, o) in values.iter().zip(out.chunks_exact_mut(n)) {
                v.store(o);
            }
        }
        Cow::Owned(out)
    }
}

/// Checks that `T`'s declared datatype is valid and as large as `T` itself.
pub fn checked_datatype<T: H5Type>() -> Result<Datatype, TypeError> {
    let t = T::datatype();
    t.validate()?;
    if t.size() as usize != core::mem::size_of::<T>() {
        return Err(TypeError::SizeMismatch {
            rust: core::mem::size_of::<T>(),
            declared: t.size(),
        });
    }
    Ok(t)
}

/// Numbers: integers and floats, stored in a chosen byte order by [`BigEndian`] and
/// [`LittleEndian`].
pub trait Number: H5Type + sealed::Sealed {
    /// Writes the value's big-endian bytes.
    fn put_be(&self, out: &mut [u8]);
    /// Writes the value's little-endian bytes.
    fn put_le(&self, out: &mut [u8]);
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! number {
    ($($t:ty => $dt:expr),* $(,)?) => {$(
        impl H5Type for $t {
            fn datatype() -> Datatype {
                $dt
            }
            fn store(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_ne_bytes());
            }
            fn store_slice(values: &[Self]) -> Cow<'_, [u8]> {
                Cow::Borrowed(bytemuck::cast_slice(values))
            }
        }
        impl sealed::Sealed for $t {}
        impl Number for $t {
            fn put_be(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_be_bytes());
            }
            fn put_le(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}

const fn int(size: u8, signed: bool) -> Datatype {
    Datatype::Integer {
        size,
        signed,
        order: ByteOrder::NATIVE,
    }
}

const fn float(size: u8) -> Datatype {
    Datatype::Float {
        size,
        order: ByteOrder::NATIVE,
    }
}

number!(u8 => int(1, false), u16 => int(2, false), u32 => int(4, false), u64 => int(8, false),
        i8 => int(1, true), i16 => int(2, true), i32 => int(4, true), i64 => int(8, true),
        f32 => float(4), f64 => float(8));

#[cfg(feature = "half")]
number!(half::f16 => float(2));

/// `bool` as h5py stores it: an 8-bit enumeration `FALSE` = 0, `TRUE` = 1.
impl H5Type for bool {
    fn datatype() -> Datatype {
        Datatype::bool()
    }
    fn store(&self, out: &mut [u8]) {
        out[0] = u8::from(*self);
    }
    fn store_slice(values: &[Self]) -> Cow<'_, [u8]> {
        Cow::Borrowed(bytemuck::cast_slice(values))
    }
}

/// A fixed-size array: an HDF5 array type. Nested arrays make one multi-dimensional
/// array type (`[[f32; 3]; 2]` has dims `[2, 3]`), as numpy sub-arrays do.
impl<T: H5Type, const N: usize> H5Type for [T; N] {
    fn datatype() -> Datatype {
        let n = u32::try_from(N).unwrap_or(0);
        match T::datatype() {
            Datatype::Array { mut dims, base } => {
                dims.insert(0, n);
                Datatype::Array { dims, base }
            }
            t => Datatype::Array {
                dims: vec![n],
                base: alloc::boxed::Box::new(t),
            },
        }
    }
    fn store(&self, out: &mut [u8]) {
        let s = core::mem::size_of::<T>();
        for (v, o) in self.iter().zip(out.chunks_exact_mut(s.max(1))) {
            v.store(o);
        }
    }
    fn store_slice(values: &[Self]) -> Cow<'_, [u8]> {
        T::store_slice(values.as_flattened())
    }
}

/// A complex number stored as h5py stores numpy complex values: a compound of `r` and
/// `i` (h5py reads `Complex<f32>` as `complex64`, `Complex<f64>` as `complex128`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Complex<T> {
    /// Real part.
    pub re: T,
    /// Imaginary part.
    pub im: T,
}

impl<T> Complex<T> {
    /// `re + im·i`.
    pub const fn new(re: T, im: T) -> Self {
        Complex { re, im }
    }
}

macro_rules! complex {
    ($($t:ty),*) => {$(
        impl H5Type for Complex<$t> {
            fn datatype() -> Datatype {
                Datatype::complex(core::mem::size_of::<$t>() as u8, ByteOrder::NATIVE)
            }
            fn store(&self, out: &mut [u8]) {
                let (r, i) = out.split_at_mut(core::mem::size_of::<$t>());
                self.re.store(r);
                self.im.store(i);
            }
        }
    )*};
}

complex!(f32, f64);

/// A number stored big-endian whatever the host's byte order (`>u4`, `>f8` in numpy).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct BigEndian<T>(pub T);

/// A number stored little-endian whatever the host's byte order.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct LittleEndian<T>(pub T);

impl<T: Number> H5Type for BigEndian<T> {
    fn datatype() -> Datatype {
        T::datatype().with_order(ByteOrder::BigEndian)
    }
    fn store(&self, out: &mut [u8]) {
        self.0.put_be(out);
    }
}

impl<T: Number> H5Type for LittleEndian<T> {
    fn datatype() -> Datatype {
        T::datatype().with_order(ByteOrder::LittleEndian)
    }
    fn store(&self, out: &mut [u8]) {
        self.0.put_le(out);
    }
}

macro_rules! fixed_string {
    ($($(#[$doc:meta])* $name:ident => $pad:expr, $cset:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name<const N: usize>([u8; N]);

        impl<const N: usize> $name<N> {
            /// The padding convention of this type.
            pub const PAD: StringPad = $pad;
            /// The character set of this type.
            pub const CSET: CharSet = $cset;

            /// The string `s`; an error if it is too long for `N` bytes, holds a NUL
            /// byte, or (ASCII types) is not ASCII.
            pub fn new(s: &str) -> Result<Self, TypeError> {
                Self::from_bytes(s.as_bytes())
            }

            /// The string of bytes `b`, checked like [`Self::new`] (and UTF-8 types
            /// check that `b` is UTF-8).
            pub fn from_bytes(b: &[u8]) -> Result<Self, TypeError> {
                check_fixed_text(b, N, Self::PAD, Self::CSET)?;
                let mut bytes = [0u8; N];
                bytes[..b.len()].copy_from_slice(b);
                Ok($name(bytes))
            }

            /// The text's bytes (without padding).
            pub fn as_bytes(&self) -> &[u8] {
                let n = self.0.iter().position(|&c| c == 0).unwrap_or(N);
                &self.0[..n]
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                core::str::from_utf8(self.as_bytes()).expect("checked when made")
            }
        }

        impl<const N: usize> Default for $name<N> {
            /// The empty string.
            fn default() -> Self {
                $name([0; N])
            }
        }

        impl<const N: usize> fmt::Debug for $name<N> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl<const N: usize> fmt::Display for $name<N> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<const N: usize> TryFrom<&str> for $name<N> {
            type Error = TypeError;
            fn try_from(s: &str) -> Result<Self, TypeError> {
                Self::new(s)
            }
        }

        impl<const N: usize> H5Type for $name<N> {
            fn datatype() -> Datatype {
                Datatype::FixedString {
                    size: u32::try_from(N).unwrap_or(u32::MAX),
                    pad: $pad,
                    cset: $cset,
                }
            }
            fn store(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.0);
            }
        }
    )*};
}

fixed_string! {
    /// A fixed-length ASCII string of `N` bytes, null-padded (numpy `S{N}`, what h5py
    /// writes for `bytes`). Holds up to `N` bytes.
    FixedAscii => StringPad::NullPad, CharSet::Ascii;
    /// A fixed-length UTF-8 string of `N` bytes, null-padded
    /// (`h5py.string_dtype('utf-8', N)`). Holds up to `N` bytes.
    FixedUtf8 => StringPad::NullPad, CharSet::Utf8;
    /// A fixed-length ASCII string of `N` bytes, null-terminated (C strings). Holds up
    /// to `N - 1` bytes.
    FixedAsciiNullTerm => StringPad::NullTerm, CharSet::Ascii;
    /// A fixed-length UTF-8 string of `N` bytes, null-terminated. Holds up to `N - 1`
    /// bytes.
    FixedUtf8NullTerm => StringPad::NullTerm, CharSet::Utf8;
}

/// Variable-length string element types: datasets of them are written from `&str`
/// with `write_strs`, `write_region_strs` and `append_strs`.
pub trait VarLenStr: H5Type + sealed::Sealed {
    /// The character set strings are declared in.
    const CSET: CharSet;
}

macro_rules! var_len {
    ($($(#[$doc:meta])* $name:ident => $cset:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name {
            /// The stored descriptor (length, heap collection, index); never made by users.
            _descriptor: [u8; 16],
        }

        impl H5Type for $name {
            fn datatype() -> Datatype {
                Datatype::VarLenString { cset: $cset }
            }
            fn store(&self, out: &mut [u8]) {
                out.copy_from_slice(&self._descriptor);
            }
        }

        impl sealed::Sealed for $name {}

        impl VarLenStr for $name {
            const CSET: CharSet = $cset;
        }
    )*};
}

var_len! {
    /// The element type of a dataset of variable-length UTF-8 strings:
    /// `file.dataset::<VarLenUnicode>(path)`, written with `write_strs`,
    /// `write_region_strs` or `append_strs` from `&str` values. h5py reads the elements
    /// as `str` (`.asstr()`, or `bytes` without it). No value of this type can be made:
    /// it only names the element type.
    VarLenUnicode => CharSet::Utf8;
    /// Like [`VarLenUnicode`] for ASCII strings (non-ASCII text is refused).
    VarLenAscii => CharSet::Ascii;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_flatten_and_store_without_copy() {
        let t = <[[u16; 3]; 2]>::datatype();
        assert_eq!(
            t,
            Datatype::Array {
                dims: vec![2, 3],
                base: alloc::boxed::Box::new(int(2, false))
            }
        );
        let v = [[[1u16, 2, 3], [4, 5, 6]]];
        assert!(matches!(<[[u16; 3]; 2]>::store_slice(&v), Cow::Borrowed(_)));
        assert_eq!(checked_datatype::<[[u16; 3]; 2]>().unwrap().size(), 12);
    }

    #[test]
    fn big_endian_and_complex() {
        let v = [BigEndian(0x0102_0304u32)];
        assert_eq!(&*BigEndian::store_slice(&v), &[1, 2, 3, 4]);
        let c = [Complex::new(1.0f32, -2.0)];
        let b = Complex::<f32>::store_slice(&c);
        assert_eq!(&b[..4], &1.0f32.to_ne_bytes());
        assert_eq!(&b[4..], &(-2.0f32).to_ne_bytes());
        assert_eq!(&*bool::store_slice(&[true, false]), &[1, 0]);
    }

    #[test]
    fn fixed_strings() {
        assert_eq!(FixedAscii::<4>::new("abcd").unwrap().as_str(), "abcd");
        assert!(matches!(
            FixedAscii::<4>::new("abcde"),
            Err(TypeError::StringTooLong {
                len: 5,
                size: 4,
                ..
            })
        ));
        assert!(FixedAsciiNullTerm::<4>::new("abcd").is_err());
        assert!(matches!(
            FixedAscii::<4>::new("é"),
            Err(TypeError::NotAscii { .. })
        ));
        assert!(matches!(
            FixedUtf8::<4>::from_bytes(&[0xff]),
            Err(TypeError::InvalidUtf8 { .. })
        ));
        assert!(matches!(
            FixedUtf8::<4>::new("a\0b"),
            Err(TypeError::NulInString { .. })
        ));
        assert_eq!(FixedUtf8::<4>::new("é").unwrap().as_bytes(), "é".as_bytes());
    }
}
