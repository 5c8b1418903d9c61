//! Attributes: small named values attached to a group or dataset.

use std::sync::{Arc, Mutex};

use super::error::{invalid, type_error, Error, Result};
use super::inner::{Inner, ObjId};
use super::{lock, path};
use crate::format::attribute::encode_attribute;
use crate::format::dataspace::Dataspace;
use crate::format::datatype::{check_text, CharSet, Datatype, StringPad, TypeError};
use crate::format::msg_type;
use crate::format::object_header::{Message, MAX_BODY};
use crate::types::{checked_datatype, H5Type};

/// Writes one attribute on an object; obtained from `attr(name)` on a group or dataset.
#[must_use = "an attribute is written by one of the write methods"]
pub struct AttrWriter {
    inner: Arc<Mutex<Inner>>,
    id: ObjId,
    name: String,
}

impl AttrWriter {
    pub(crate) fn new(inner: Arc<Mutex<Inner>>, id: ObjId, name: &str) -> Self {
        AttrWriter {
            inner,
            id,
            name: name.to_string(),
        }
    }

    /// A scalar attribute of any element type (numbers, `bool`, enumerations,
    /// compounds, arrays, fixed-length strings, ...).
    pub fn write_scalar<T: H5Type>(self, value: T) -> Result<()> {
        self.put_typed(&Dataspace::Scalar, std::slice::from_ref(&value))
    }

    /// A 1-D attribute.
    pub fn write<T: H5Type>(self, values: &[T]) -> Result<()> {
        self.write_array(&[values.len() as u64], values)
    }

    /// An N-D attribute of the given shape (row-major values).
    pub fn write_array<T: H5Type>(self, shape: &[u64], values: &[T]) -> Result<()> {
        let n: u64 = shape.iter().product();
        if n != values.len() as u64 {
            let obj = self.object_path();
            return Err(invalid(
                &obj,
                format!(
                    "attribute {:?}: shape {shape:?} needs {n} values, got {}",
                    self.name,
                    values.len()
                ),
            ));
        }
        let space = Dataspace::Simple {
            dims: shape.to_vec(),
            max: None,
        };
        self.put_typed(&space, values)
    }

    fn put_typed<T: H5Type>(self, space: &Dataspace, values: &[T]) -> Result<()> {
        let dtype = checked_datatype::<T>().map_err(|e| self.type_error(e))?;
        let bytes = T::store_slice(values);
        dtype.check_values(&bytes).map_err(|e| self.type_error(e))?;
        self.put(&dtype, space, &bytes)
    }

    /// An attribute of a datatype built at run time: `data` holds the raw bytes of the
    /// elements (`dtype.size()` each, laid out as `dtype` says), `shape` their shape
    /// (empty for a scalar). The type and the values are checked first
    /// ([`Datatype::validate`], [`Datatype::check_values`]).
    pub fn write_raw(self, dtype: &Datatype, shape: &[u64], data: &[u8]) -> Result<()> {
        dtype.validate().map_err(|e| self.type_error(e))?;
        let n: u64 = shape.iter().product();
        if n.checked_mul(u64::from(dtype.size())) != Some(data.len() as u64) {
            let obj = self.object_path();
            return Err(invalid(
                &obj,
                format!(
                    "attribute {:?}: shape {shape:?} needs {n} elements of {} bytes, got {} bytes",
                    self.name,
                    dtype.size(),
                    data.len()
                ),
            ));
        }
        dtype.check_values(data).map_err(|e| self.type_error(e))?;
        let space = if shape.is_empty() {
            Dataspace::Scalar
        } else {
            Dataspace::Simple {
                dims: shape.to_vec(),
                max: None,
            }
        };
        self.put(dtype, &space, data)
    }

    fn type_error(&self, e: TypeError) -> Error {
        type_error(&format!("{}@{}", self.object_path(), self.name), e)
    }

    /// A scalar variable-length UTF-8 string, as h5py stores Python `str` attributes
    /// (h5py reads it back as `str`).
    pub fn write_str(self, value: &str) -> Result<()> {
        self.put_vlen(&[value], &Dataspace::Scalar)
    }

    /// A 1-D array of variable-length UTF-8 strings (h5py reads an array of `str`).
    pub fn write_strs(self, values: &[&str]) -> Result<()> {
        self.put_vlen(
            values,
            &Dataspace::Simple {
                dims: vec![values.len() as u64],
                max: None,
            },
        )
    }

    fn put_vlen(self, values: &[&str], space: &Dataspace) -> Result<()> {
        for v in values {
            check_text(v.as_bytes(), CharSet::Utf8).map_err(|e| self.type_error(e))?;
        }
        let mut data = Vec::with_capacity(16 * values.len());
        {
            let mut inner = lock(&self.inner);
            inner.check_usable()?;
            path::check_name(&self.name)?;
            // refuse a duplicate before anything is stored in the heap
            let obj = &inner.objects[self.id];
            if obj.attrs.iter().any(|(n, _)| *n == self.name) {
                return Err(Error::AlreadyExists {
                    path: format!("{}@{}", obj.path, self.name),
                });
            }
            for v in values {
                let len = u32::try_from(v.len()).map_err(|_| {
                    invalid(
                        &inner.objects[self.id].path,
                        format!("attribute {:?}: a string over 4 GiB", self.name),
                    )
                })?;
                let r = inner.heap_insert(v.as_bytes());
                let (addr, index) = inner.poison_on(r)?;
                data.extend_from_slice(&len.to_le_bytes());
                data.extend_from_slice(&addr.to_le_bytes());
                data.extend_from_slice(&index.to_le_bytes());
            }
        }
        self.put(
            &Datatype::VarLenString {
                cset: CharSet::Utf8,
            },
            space,
            &data,
        )
    }

    /// A scalar fixed-length string (UTF-8 when it is not ASCII), null-padded; h5py
    /// reads fixed-length strings as `bytes`.
    pub fn write_fixed_str(self, value: &str) -> Result<()> {
        check_text(value.as_bytes(), CharSet::Utf8).map_err(|e| self.type_error(e))?;
        let size = value.len().max(1);
        let mut data = value.as_bytes().to_vec();
        data.resize(size, 0);
        self.put(
            &string_type(size as u32, value.is_ascii()),
            &Dataspace::Scalar,
            &data,
        )
    }

    /// A 1-D array of fixed-length strings, each null-padded to the longest.
    pub fn write_fixed_strs(self, values: &[&str]) -> Result<()> {
        for v in values {
            check_text(v.as_bytes(), CharSet::Utf8).map_err(|e| self.type_error(e))?;
        }
        let size = values.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let mut data = Vec::with_capacity(size * values.len());
        for s in values {
            data.extend_from_slice(s.as_bytes());
            data.resize(data.len() + size - s.len(), 0);
        }
        let ascii = values.iter().all(|s| s.is_ascii());
        let space = Dataspace::Simple {
            dims: vec![values.len() as u64],
            max: None,
        };
        self.put(&string_type(size as u32, ascii), &space, &data)
    }

    fn object_path(&self) -> String {
        lock(&self.inner).objects[self.id].path.clone()
    }

    fn put(self, dtype: &Datatype, space: &Dataspace, data: &[u8]) -> Result<()> {
        let mut inner = lock(&self.inner);
        inner.check_usable()?;
        path::check_name(&self.name)?;
        let obj = &inner.objects[self.id];
        if obj.attrs.iter().any(|(n, _)| *n == self.name) {
            return Err(Error::AlreadyExists {
                path: format!("{}@{}", obj.path, self.name),
            });
        }
        let mut body = Vec::new();
        encode_attribute(&mut body, inner.sizes, &self.name, dtype, space, data);
        if body.len() > MAX_BODY {
            return Err(invalid(
                &obj.path,
                format!(
                    "attribute {:?} needs {} bytes; at most {MAX_BODY} fit in one header message",
                    self.name,
                    body.len()
                ),
            ));
        }
        let obj = &mut inner.objects[self.id];
        obj.attrs.push((
            self.name,
            Message {
                kind: msg_type::ATTRIBUTE,
                flags: 0,
                body,
            },
        ));
        obj.dirty = true;
        Ok(())
    }
}

fn string_type(size: u32, ascii: bool) -> Datatype {
    Datatype::FixedString {
        size,
        pad: StringPad::NullPad,
        cset: if ascii { CharSet::Ascii } else { CharSet::Utf8 },
    }
}
