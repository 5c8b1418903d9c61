//! # h5sink — a pure-Rust, crash-safe HDF5 writer
//!
//! h5sink writes HDF5 files that h5py, h5dump and every libhdf5-based tool read,
//! without linking libhdf5. See the README for the user guide and
//! `spec-notes/` for every on-disk structure it writes.
//!
//! Layers (each module's docs say more):
//! - [`encode`]: a little-endian encoder and the lookup3 checksum; pure, `no_std`.
//! - [`format`]: one module per on-disk structure; pure, `no_std`.
//! - `sink` (std): the only code that does I/O, behind the [`Storage`] trait.
//! - `space` (std): the file-space allocator.
//! - `writer` (std): files, groups, datasets, attributes and the commit protocol.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub mod encode;
pub mod format;

#[cfg(feature = "std")]
pub mod filters;
#[cfg(feature = "std")]
pub mod sink;
#[cfg(feature = "std")]
mod space;
#[cfg(feature = "std")]
mod types;
#[cfg(feature = "std")]
mod writer;

pub use format::datatype::{ByteOrder, CharSet, Datatype, StringPad};
#[cfg(feature = "std")]
pub use sink::{FileStorage, MemStorage, Storage};
#[cfg(feature = "std")]
pub use types::H5Type;
#[cfg(feature = "std")]
pub use writer::*;
