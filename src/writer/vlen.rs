//! Variable-length strings in datasets.
//!
//! Each string is a global heap object; the dataset stores its 16-byte descriptor
//! (length u32, collection address, object index u32). Where the objects go depends
//! on when the descriptors can become visible:
//!
//! - `write_strs` / `write_region_strs` write descriptors in place, possibly into
//!   storage readers can already reach (a contiguous block, a chunk written before).
//!   Their strings therefore go to collections of their own, written before the
//!   descriptors and (under `Durability::PowerLoss`) synced first: a reader never sees
//!   a descriptor whose collection is not on disk.
//! - `append_strs` writes descriptors beyond the committed length, which readers see
//!   only after the next commit; a batch of small strings joins the file's pending heap
//!   collection (written at the commit, shared with string attributes), a large batch
//!   gets collections of its own at once, so memory stays bounded.

use super::dataset::Dataset;
use super::error::{invalid, type_error, Result};
use super::inner::Inner;
use super::lock;
use crate::format::datatype::check_text;
use crate::format::global_heap;
use crate::space::Placement;
use crate::types::VarLenStr;

/// Appended batches with at least this many heap bytes get collections of their own.
const OWN_COLLECTIONS_FROM: usize = 64 << 10;
/// Collections are filled up to about this size (one larger string gets its own).
const COLLECTION_TARGET: usize = 1 << 20;

impl Inner {
    /// Stores `strings` as heap objects and returns their descriptors, in order.
    /// `own`: in collections written now (see the module docs), else possibly in the
    /// pending collection written at the next commit.
    fn store_strings(&mut self, strings: &[&[u8]], own: bool) -> Result<Vec<u8>> {
        let sizes = self.sizes;
        let total: usize = strings
            .iter()
            .map(|s| global_heap::object_len(sizes, s.len()))
            .sum();
        let mut out = Vec::with_capacity(16 * strings.len());
        let mut push = |len: usize, addr: u64, index: u32| {
            out.extend_from_slice(&(len as u32).to_le_bytes());
            out.extend_from_slice(&addr.to_le_bytes());
            out.extend_from_slice(&index.to_le_bytes());
        };
        if !own && total < OWN_COLLECTIONS_FROM {
            for s in strings {
                let (addr, index) = self.heap_insert(s)?;
                push(s.len(), addr, index);
            }
            return Ok(out);
        }
        let mut buf = Vec::new();
        let mut i = 0;
        while i < strings.len() {
            let mut used = global_heap::header_len(sizes);
            let mut j = i;
            while j < strings.len() && j - i < usize::from(u16::MAX) {
                let need = global_heap::object_len(sizes, strings[j].len());
                if j > i && used + need > COLLECTION_TARGET {
                    break;
                }
                used += need;
                j += 1;
            }
            let size = used.max(global_heap::MIN_COLLECTION).div_ceil(8) * 8;
            let addr = self.alloc(size as u64, Placement::Align(8))?;
            buf.clear();
            global_heap::encode_collection(&mut buf, sizes, size, &strings[i..j]);
            self.write_at("writing a global heap collection", addr, &buf)?;
            for (k, s) in strings[i..j].iter().enumerate() {
                push(s.len(), addr, k as u32 + 1);
            }
            i = j;
        }
        if own {
            self.barrier()?;
        }
        Ok(out)
    }
}

/// Checks strings for a variable-length string dataset: in the character set, no NUL
/// (readers would cut the string there), under 4 GiB.
fn check_strings<T: VarLenStr, S: AsRef<str>>(path: &str, values: &[S]) -> Result<()> {
    for (i, v) in values.iter().enumerate() {
        let v = v.as_ref().as_bytes();
        check_text(v, T::CSET)
            .map_err(|e| type_error(path, e.with_location(format!("element {i}"))))?;
        if u32::try_from(v.len()).is_err() {
            return Err(invalid(
                path,
                format!("string {i} holds {} bytes; at most 4 GiB - 1 fit", v.len()),
            ));
        }
    }
    Ok(())
}

impl<T: VarLenStr> Dataset<T> {
    /// Writes the whole dataset from strings (row-major order). h5py reads them back
    /// as `str` (`ds.asstr()[...]`) or `bytes`.
    pub fn write_strs<S: AsRef<str>>(&self, values: &[S]) -> Result<()> {
        let dims = self.shape();
        let zeros = vec![0; dims.len()];
        self.write_region_strs(&zeros, &dims, values)
    }

    /// Writes strings into a rectangular region: `count[i]` elements from `start[i]`.
    pub fn write_region_strs<S: AsRef<str>>(
        &self,
        start: &[u64],
        count: &[u64],
        values: &[S],
    ) -> Result<()> {
        let path = self.path();
        check_strings::<T, S>(&path, values)?;
        let n: u64 = count.iter().product();
        if n != values.len() as u64 {
            return Err(invalid(
                &path,
                format!(
                    "{} strings given for a region {count:?} of {n} elements",
                    values.len()
                ),
            ));
        }
        let mut inner = lock(&self.inner);
        inner.check_usable()?;
        let dims = inner.dataset(self.id).dims.clone();
        let inside = start.len() == dims.len()
            && count.len() == dims.len()
            && (0..dims.len()).all(|i| {
                start[i]
                    .checked_add(count[i])
                    .is_some_and(|end| end <= dims[i])
            });
        if !inside {
            return Err(invalid(
                &path,
                format!(
                    "region start {start:?} count {count:?} does not fit the dataset's shape {dims:?}"
                ),
            ));
        }
        if n == 0 {
            return Ok(());
        }
        let strings: Vec<&[u8]> = values.iter().map(|v| v.as_ref().as_bytes()).collect();
        let r = inner.store_strings(&strings, true);
        let descriptors = inner.poison_on(r)?;
        inner.write_region(self.id, start, count, &descriptors)
    }

    /// Appends strings along dim 0 (whole frames of strings, row-major).
    pub fn append_strs<S: AsRef<str>>(&self, values: &[S]) -> Result<()> {
        let path = self.path();
        check_strings::<T, S>(&path, values)?;
        let mut inner = lock(&self.inner);
        inner.check_usable()?;
        let dims = inner.dataset(self.id).dims.clone();
        let frame: u64 = dims.iter().skip(1).product();
        if dims.is_empty() || frame == 0 || values.len() as u64 % frame != 0 {
            return Err(invalid(
                &path,
                format!(
                    "{} strings are not a whole number of frames of shape {:?}",
                    values.len(),
                    dims.get(1..).unwrap_or(&[])
                ),
            ));
        }
        if values.is_empty() {
            return Ok(());
        }
        let strings: Vec<&[u8]> = values.iter().map(|v| v.as_ref().as_bytes()).collect();
        let r = inner.store_strings(&strings, false);
        let descriptors = inner.poison_on(r)?;
        inner.append(self.id, &descriptors)
    }
}
