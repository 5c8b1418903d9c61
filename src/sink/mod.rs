//! The only code that does I/O: a small [`Storage`] trait and its adapters.
//!
//! The writer issues positioned writes in the order the commit protocol needs and
//! calls [`Storage::sync`] at its barriers; it never relies on anything else.

pub mod testing;

use std::io;
use std::sync::{Arc, Mutex};

/// Random-access storage that an HDF5 file is written to.
pub trait Storage: Send {
    /// Writes all of `data` at `offset`.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Fills `buf` from `offset`; reading past the end is an error.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Current size in bytes.
    fn len(&mut self) -> io::Result<u64>;
    /// True when the storage holds no bytes.
    fn is_empty(&mut self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Grows (with zeros) or shrinks to `len` bytes.
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    /// A durability barrier: everything written before it survives power loss
    /// (`fdatasync` for files).
    fn sync(&mut self) -> io::Result<()>;
}

/// A [`Storage`] over a `std::fs::File`.
#[derive(Debug)]
pub struct FileStorage {
    file: std::fs::File,
}

impl FileStorage {
    /// Wraps an open file (it must be readable and writable).
    pub fn new(file: std::fs::File) -> Self {
        FileStorage { file }
    }
}

impl Storage for FileStorage {
    #[cfg(unix)]
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(&self.file, data, offset)
    }
    #[cfg(not(unix))]
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        use std::io::{Seek, SeekFrom, Write};
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(data)
    }
    #[cfg(unix)]
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
    }
    #[cfg(not(unix))]
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(buf)
    }
    fn len(&mut self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// In-memory storage, shared between clones: handy for tests and for building a
/// file in memory. [`MemStorage::bytes`] returns a copy of the current contents.
#[derive(Clone, Debug, Default)]
pub struct MemStorage {
    data: Arc<Mutex<Vec<u8>>>,
}

impl MemStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Storage holding `bytes` already (a file to reopen, for instance).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        MemStorage {
            data: Arc::new(Mutex::new(bytes)),
        }
    }

    /// A copy of the bytes written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.data.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Storage for MemStorage {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut v = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let end = offset as usize + data.len();
        if v.len() < end {
            v.resize(end, 0);
        }
        v[offset as usize..end].copy_from_slice(data);
        Ok(())
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let v = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let end = offset as usize + buf.len();
        if end > v.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past end",
            ));
        }
        buf.copy_from_slice(&v[offset as usize..end]);
        Ok(())
    }
    fn len(&mut self) -> io::Result<u64> {
        Ok(self.data.lock().unwrap_or_else(|e| e.into_inner()).len() as u64)
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .resize(len as usize, 0);
        Ok(())
    }
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
}
