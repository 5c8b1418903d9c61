//! Bounds-checked access to the file's bytes: every read stays below the stored end
//! of file, and every field read stays inside its structure.

use super::error::{Error, Result, Structure};
use crate::encode::{hashlittle, Sizes, UNDEF};

/// The file's bytes below the stored end of file, with its address and length widths.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    /// `bytes[..eof]`.
    pub data: &'a [u8],
    pub sizes: Sizes,
}

impl<'a> Source<'a> {
    /// The stored end-of-file address (everything readable lies below it).
    pub fn eof(&self) -> u64 {
        self.data.len() as u64
    }

    /// `len` bytes at `addr`, which must end at or below the end of file.
    pub fn slice(&self, structure: Structure, addr: u64, len: u64) -> Result<&'a [u8]> {
        match addr.checked_add(len) {
            Some(end) if addr != UNDEF && end <= self.eof() => {
                Ok(&self.data[addr as usize..end as usize])
            }
            _ => Err(Error::PastEof {
                structure,
                offset: addr,
                len,
                eof: self.eof(),
            }),
        }
    }

    /// Checks that `len` bytes at `addr` lie below the end of file.
    pub fn check_extent(&self, structure: Structure, addr: u64, len: u64) -> Result<()> {
        self.slice(structure, addr, len).map(|_| ())
    }

    /// A cursor over `len` bytes at `addr`.
    pub fn cursor(&self, structure: Structure, addr: u64, len: u64) -> Result<Cursor<'a>> {
        Ok(Cursor::new(
            self.slice(structure, addr, len)?,
            addr,
            structure,
            self.sizes,
        ))
    }
}

/// Verifies the lookup3 checksum stored right after `covered` (the next 4 bytes of
/// `whole`, which starts with `covered`).
pub(crate) fn verify_checksum(
    structure: Structure,
    offset: u64,
    whole: &[u8],
    covered: usize,
) -> Result<()> {
    let stored = match whole.get(covered..covered + 4) {
        Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => {
            return Err(Error::Short {
                structure,
                offset,
                needed: covered as u64 + 4,
                available: whole.len() as u64,
            })
        }
    };
    let computed = hashlittle(&whole[..covered], 0);
    if stored != computed {
        return Err(Error::BadChecksum {
            structure,
            offset,
            stored,
            computed,
        });
    }
    Ok(())
}

/// A little-endian field reader over one structure's bytes. Running off the end is a
/// [`Error::Short`] naming the structure and its offset.
#[derive(Clone)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    structure: Structure,
    sizes: Sizes,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8], base: u64, structure: Structure, sizes: Sizes) -> Self {
        Cursor {
            buf,
            pos: 0,
            base,
            structure,
            sizes,
        }
    }

    pub fn structure(&self) -> Structure {
        self.structure
    }

    /// File offset of the structure (not of the current position).
    pub fn base(&self) -> u64 {
        self.base
    }

    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// An error about this structure.
    pub fn malformed(&self, reason: impl Into<String>) -> Error {
        super::error::malformed(self.structure, self.base, reason)
    }

    pub fn unsupported(&self, feature: &'static str) -> Error {
        super::error::unsupported(self.structure, self.base, feature)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::Short {
                structure: self.structure,
                offset: self.base,
                needed: (self.pos as u64).saturating_add(n as u64),
                available: self.buf.len() as u64,
            });
        }
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    /// The rest of the bytes.
    pub fn rest(&mut self) -> &'a [u8] {
        let b = &self.buf[self.pos..];
        self.pos = self.buf.len();
        b
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64> {
        self.uint(8)
    }

    /// An unsigned little-endian integer of `width` ≤ 8 bytes.
    pub fn uint(&mut self, width: u8) -> Result<u64> {
        let b = self.bytes(usize::from(width))?;
        let mut v = [0u8; 8];
        let n = b.len().min(8);
        v[..n].copy_from_slice(&b[..n]);
        Ok(u64::from_le_bytes(v))
    }

    /// An integer of `width` bytes whose all-ones value means `u64::MAX` (HDF5's
    /// "undefined address" and "unlimited" at any width).
    fn wide(&mut self, width: u8) -> Result<u64> {
        let b = self.bytes(usize::from(width))?;
        if b.iter().all(|&x| x == 0xff) {
            return Ok(u64::MAX);
        }
        let mut v = [0u8; 8];
        let n = b.len().min(8);
        v[..n].copy_from_slice(&b[..n]);
        Ok(u64::from_le_bytes(v))
    }

    /// An address at the file's size of offsets ([`UNDEF`] when all ones).
    pub fn addr(&mut self) -> Result<u64> {
        self.wide(self.sizes.offsets)
    }

    /// A length at the file's size of lengths (`u64::MAX` when all ones).
    pub fn length(&mut self) -> Result<u64> {
        self.wide(self.sizes.lengths)
    }
}
