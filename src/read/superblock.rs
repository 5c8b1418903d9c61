//! Superblock versions 2 and 3 (format-notes §1.2, §1.3).

use super::bytes::{verify_checksum, Cursor};
use super::error::{malformed, unsupported, Error, Result, Structure};
use crate::encode::{Sizes, UNDEF};
use crate::format::SIGNATURE;

/// What the superblock says about the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Superblock {
    /// Superblock version: 2 or 3.
    pub version: u8,
    /// Address and length widths of the whole file.
    pub sizes: Sizes,
    /// File consistency flags (always 0 for version 3; bits of 0x07 for version 2).
    pub flags: u8,
    /// The stored end-of-file address: everything the file references lies below it.
    pub eof: u64,
    /// Address of the root group's object header.
    pub root: u64,
    /// Bytes the superblock occupies (48 with 8-byte addresses).
    pub len: u64,
}

const S: Structure = Structure::Superblock;

impl Superblock {
    /// Decodes and validates the superblock at offset 0 of `bytes` (the whole input).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Superblock> {
        if bytes.len() < 12 {
            if bytes.len() < 8 || bytes[..8] != SIGNATURE {
                return Err(Error::BadSignature {
                    structure: S,
                    offset: 0,
                });
            }
            return Err(Error::Short {
                structure: S,
                offset: 0,
                needed: 12,
                available: bytes.len() as u64,
            });
        }
        if bytes[..8] != SIGNATURE {
            return Err(Error::BadSignature {
                structure: S,
                offset: 0,
            });
        }
        let version = bytes[8];
        match version {
            2 | 3 => {}
            0 | 1 => {
                return Err(unsupported(
                    S,
                    0,
                    "superblock version 0/1 (symbol-table root group)",
                ))
            }
            v => {
                return Err(Error::BadVersion {
                    structure: S,
                    offset: 0,
                    version: v,
                })
            }
        }
        let (o, l) = (bytes[9], bytes[10]);
        for (what, w) in [("size of offsets", o), ("size of lengths", l)] {
            match w {
                2 | 4 | 8 => {}
                16 | 32 => return Err(unsupported(S, 0, "16- or 32-byte addresses or lengths")),
                _ => {
                    return Err(malformed(
                        S,
                        0,
                        format!("{what} {w} is not 2, 4, 8, 16 or 32"),
                    ))
                }
            }
        }
        let sizes = Sizes {
            offsets: o,
            lengths: l,
        };
        let covered = 12 + 4 * usize::from(o);
        let len = covered + 4;
        if bytes.len() < len {
            return Err(Error::Short {
                structure: S,
                offset: 0,
                needed: len as u64,
                available: bytes.len() as u64,
            });
        }
        verify_checksum(S, 0, &bytes[..len], covered)?;
        let flags = bytes[11];
        if flags & !0x07 != 0 {
            return Err(malformed(
                S,
                0,
                format!("consistency flags {flags:#04x} have bits outside 0x07"),
            ));
        }
        if version == 3 && flags != 0 {
            return Err(malformed(
                S,
                0,
                format!(
                    "version 3 with consistency flags {flags:#04x}: marked open for (SWMR) write"
                ),
            ));
        }
        let mut c = Cursor::new(&bytes[12..covered], 12, S, sizes);
        let base = c.addr()?;
        let ext = c.addr()?;
        let eof = c.addr()?;
        let root = c.addr()?;
        if base != 0 {
            return Err(unsupported(
                S,
                0,
                "a base address other than 0 (user block)",
            ));
        }
        if ext != UNDEF {
            return Err(unsupported(S, 0, "a superblock extension"));
        }
        if eof == UNDEF || eof < len as u64 {
            return Err(malformed(
                S,
                0,
                format!("end-of-file address {eof:#x} lies inside the superblock"),
            ));
        }
        if (bytes.len() as u64) < eof {
            return Err(Error::ShortFile {
                structure: S,
                offset: 0,
                eof,
                file_len: bytes.len() as u64,
            });
        }
        Ok(Superblock {
            version,
            sizes,
            flags,
            eof,
            root,
            len: len as u64,
        })
    }
}
