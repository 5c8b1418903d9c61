//! Files, groups, datasets and attributes: the user-facing API and the commit
//! protocol behind it.

mod append;
mod attr;
mod btree;
mod dataset;
mod encode_pool;
mod error;
mod header;
mod inner;
mod legacy;
mod path;
mod reopen;
mod selection;
mod vlen;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

pub use crate::format::dataspace::UNLIMITED;
pub use attr::AttrWriter;
pub use dataset::{
    Dataset, DatasetBuilder, StorageLayout, MAX_CHUNK_BYTES, MAX_COMPACT_BYTES, MAX_RANK,
};
pub use error::{Error, Result};

use inner::{Inner, Kind, ObjId};

use crate::sink::{FileStorage, Storage};
use crate::types::H5Type;

/// How much a commit (`flush()`) guarantees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Write ordering only: the file survives any crash of the writing process
    /// (`kill -9`), not a power cut. No fsync.
    #[default]
    Process,
    /// `fdatasync` barriers between commit phases: a completed commit survives power
    /// loss, given sector-atomic writes.
    PowerLoss,
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Options for creating a file.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileOptions {
    durability: Durability,
}

impl FileOptions {
    /// Sets the durability of commits (default [`Durability::Process`]).
    pub fn durability(mut self, d: Durability) -> Self {
        self.durability = d;
        self
    }

    /// Creates (or replaces) the file at `path`. The file is built under a temporary
    /// name and renamed into place once it is a valid, empty HDF5 file.
    pub fn create(self, path: impl AsRef<Path>) -> Result<File> {
        let path = path.as_ref();
        let tmp = tmp_name(path);
        let io = |op, source| Error::Io {
            op,
            offset: 0,
            source,
        };
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| io("creating the file", e))?;
        let file = self.create_in(FileStorage::new(f));
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        std::fs::rename(&tmp, path).map_err(|e| io("renaming the new file into place", e))?;
        if self.durability == Durability::PowerLoss {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        let mut file = file;
        file.path = Some(path.to_path_buf());
        Ok(file)
    }

    /// Reopens a file h5sink wrote, after a clean close or a crash, to add to it:
    /// new groups, datasets and attributes, and frames appended to its extendable
    /// datasets ([`File::open_dataset`]). The file is verified first; one that is not
    /// sound, or that uses structures h5sink cannot continue, is refused with an error
    /// and left untouched. The file is memory-mapped while it is parsed: only its
    /// metadata and the last chunk row of each appended dataset are read.
    pub fn open_append(self, path: impl AsRef<Path>) -> Result<File> {
        let path = path.as_ref();
        let io = |op, source| Error::Io {
            op,
            offset: 0,
            source,
        };
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| io("opening the file for appending", e))?;
        // SAFETY: the mapping is read-only and dropped before new data is written;
        // while it lives, the reopen only rewrites a few index fields in place (which
        // a shared mapping simply shows). The file must not be truncated by others
        // meanwhile (that could fault the read, as it would for any mapped reader).
        let map =
            unsafe { memmap2::Mmap::map(&f) }.map_err(|e| io("mapping the file to reopen", e))?;
        let reopened = Inner::reopen(Box::new(FileStorage::new(f)), &map, self.durability);
        drop(map);
        let inner = reopened?;
        Ok(File {
            inner: Arc::new(Mutex::new(inner)),
            path: Some(path.to_path_buf()),
        })
    }

    /// [`Self::open_append`] over any [`Storage`], whose contents are `bytes`.
    pub fn open_append_in(self, storage: impl Storage + 'static, bytes: &[u8]) -> Result<File> {
        let inner = Inner::reopen(Box::new(storage), bytes, self.durability)?;
        Ok(File {
            inner: Arc::new(Mutex::new(inner)),
            path: None,
        })
    }

    /// Creates a file in any [`Storage`] (which is truncated first).
    pub fn create_in(self, storage: impl Storage + 'static) -> Result<File> {
        let inner = Inner::create(Box::new(storage), self.durability)?;
        Ok(File {
            inner: Arc::new(Mutex::new(inner)),
            path: None,
        })
    }
}

fn tmp_name(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".h5sink-tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// What [`File::finish`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Final file size in bytes.
    pub file_size: u64,
    /// Number of groups, the root included.
    pub groups: usize,
    /// Number of datasets.
    pub datasets: usize,
}

/// An HDF5 file being written.
///
/// Handles ([`Group`], [`Dataset`]) share the file; all changes become visible to
/// readers at the next [`File::flush`] (a commit) and stay consistent if the process
/// dies at any instant. Dropping a `File` without [`File::finish`] finishes it on a
/// best-effort basis, ignoring errors.
pub struct File {
    inner: Arc<Mutex<Inner>>,
    path: Option<PathBuf>,
}

impl File {
    /// Creates (or replaces) a file with default options.
    pub fn create(path: impl AsRef<Path>) -> Result<File> {
        FileOptions::default().create(path)
    }

    /// Options for creating a file.
    pub fn options() -> FileOptions {
        FileOptions::default()
    }

    /// The path the file was created at, if it is a file on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The root group.
    pub fn root(&self) -> Group {
        Group {
            inner: self.inner.clone(),
            id: 0,
        }
    }

    /// Creates a group at an absolute path; its parent must exist.
    pub fn create_group(&self, path: &str) -> Result<Group> {
        self.root().create_group(path)
    }

    /// Opens an existing group by absolute path.
    pub fn group(&self, path: &str) -> Result<Group> {
        self.root().group(path)
    }

    /// Reopens a file for appending with default options ([`FileOptions::open_append`]).
    pub fn open_append(path: impl AsRef<Path>) -> Result<File> {
        FileOptions::default().open_append(path)
    }

    /// A handle to an existing dataset (of this session or a reopened file), checking
    /// that `T` is its element type.
    pub fn open_dataset<T: H5Type>(&self, path: &str) -> Result<Dataset<T>> {
        Dataset::open(self.inner.clone(), path)
    }

    /// Starts a dataset at an absolute path; its parent group must exist.
    pub fn dataset<T: H5Type>(&self, path: &str) -> DatasetBuilder<T> {
        self.root().dataset(path)
    }

    /// Commits: everything written so far becomes visible to readers and survives a
    /// crash from now on (and power loss, with [`Durability::PowerLoss`]).
    pub fn flush(&self) -> Result<()> {
        lock(&self.inner).commit()
    }

    /// Commits, stores the exact end of file, trims the preallocated tail and closes.
    pub fn finish(self) -> Result<Summary> {
        self.finish_ref()
    }

    fn finish_ref(&self) -> Result<Summary> {
        let mut inner = lock(&self.inner);
        let file_size = inner.finish()?;
        let datasets = inner
            .objects
            .iter()
            .filter(|o| matches!(o.kind, Kind::Dataset(_)))
            .count();
        Ok(Summary {
            file_size,
            groups: inner.objects.len() - datasets,
            datasets,
        })
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let done = {
            let inner = lock(&self.inner);
            inner.finished || inner.poisoned.is_some()
        };
        if !done {
            let _ = self.finish_ref();
        }
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File").field("path", &self.path).finish()
    }
}

/// A handle to a group.
#[derive(Clone)]
pub struct Group {
    inner: Arc<Mutex<Inner>>,
    id: ObjId,
}

impl Group {
    /// The group's absolute path.
    pub fn path(&self) -> String {
        lock(&self.inner).objects[self.id].path.clone()
    }

    /// Creates a group at `path` relative to this one; its parent must exist.
    pub fn create_group(&self, path: &str) -> Result<Group> {
        let id = lock(&self.inner).create_group(self.id, path)?;
        Ok(Group {
            inner: self.inner.clone(),
            id,
        })
    }

    /// Opens an existing group at `path` relative to this one.
    pub fn group(&self, path: &str) -> Result<Group> {
        let inner = lock(&self.inner);
        let names = path::split(path)?;
        let id = inner.resolve(self.id, &names)?;
        match inner.objects[id].kind {
            Kind::Group(_) => Ok(Group {
                inner: self.inner.clone(),
                id,
            }),
            Kind::Dataset(_) => Err(Error::NotFound {
                path: inner.objects[id].path.clone(),
                reason: "not a group",
            }),
        }
    }

    /// Starts a dataset at `path` relative to this group.
    pub fn dataset<T: H5Type>(&self, path: &str) -> DatasetBuilder<T> {
        DatasetBuilder::new(self.inner.clone(), self.id, path)
    }

    /// Starts writing an attribute of this group.
    pub fn attr(&self, name: &str) -> AttrWriter {
        AttrWriter::new(self.inner.clone(), self.id, name)
    }
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").field("path", &self.path()).finish()
    }
}
