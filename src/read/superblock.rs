//! Superblock versions 0 and 1 (format-notes §1.1) and 2 and 3 (§1.2, §1.3).

use super::bytes::{verify_checksum, Cursor};
use super::error::{malformed, unsupported, Error, Result, Structure};
use crate::encode::{Sizes, UNDEF};
use crate::format::SIGNATURE;

/// What the superblock says about the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Superblock {
    /// Superblock version: 0, 1, 2 or 3.
    pub version: u8,
    /// Address and length widths of the whole file.
    pub sizes: Sizes,
    /// File consistency flags (always 0 for version 3; bits of 0x07 for version 2).
    pub flags: u8,
    /// The stored end-of-file address: everything the file references lies below it.
    pub eof: u64,
    /// Address of the root group's object header.
    pub root: u64,
    /// The chunk B-tree's K (half the maximum children of a node): 32, unless a
    /// version 1 superblock says otherwise.
    pub chunk_k: u16,
    /// Old-style groups' K values (versions 0 and 1; libhdf5's defaults otherwise):
    /// symbol table nodes hold up to `2 * group_leaf_k` entries and group B-tree
    /// nodes up to `2 * group_k` children.
    pub group_leaf_k: u16,
    /// See [`Self::group_leaf_k`].
    pub group_k: u16,
    /// Bytes the superblock occupies (48 with 8-byte addresses for versions 2 and 3;
    /// 96 or 100 for versions 0 and 1).
    pub len: u64,
}

/// libhdf5's default chunk B-tree K, implied by superblock versions 0, 2 and 3
/// (without a superblock extension).
const CHUNK_K_DEFAULT: u16 = 32;

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
            0 | 1 => return parse_v0(bytes, version),
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
        check_base_and_extension(base, ext)?;
        check_eof(bytes, eof, len as u64)?;
        Ok(Superblock {
            version,
            sizes,
            flags,
            eof,
            root,
            chunk_k: CHUNK_K_DEFAULT,
            group_leaf_k: 4,
            group_k: 16,
            len: len as u64,
        })
    }
}

/// Checks an address or length width.
fn check_width(what: &str, w: u8) -> Result<()> {
    match w {
        2 | 4 | 8 => Ok(()),
        16 | 32 => Err(unsupported(S, 0, "16- or 32-byte addresses or lengths")),
        _ => Err(malformed(
            S,
            0,
            format!("{what} {w} is not 2, 4, 8, 16 or 32"),
        )),
    }
}

/// A base address of 0 (no user block) and no superblock extension: what h5sink reads.
fn check_base_and_extension(base: u64, ext: u64) -> Result<()> {
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
    Ok(())
}

/// The end-of-file address lies past the `len`-byte superblock and within `bytes`.
fn check_eof(bytes: &[u8], eof: u64, len: u64) -> Result<()> {
    if eof == UNDEF || eof < len {
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
    Ok(())
}

/// Superblock versions 0 and 1 (no checksum; the root group is a symbol table entry).
fn parse_v0(bytes: &[u8], version: u8) -> Result<Superblock> {
    let short = |needed: usize| Error::Short {
        structure: S,
        offset: 0,
        needed: needed as u64,
        available: bytes.len() as u64,
    };
    if bytes.len() < 24 {
        return Err(short(24));
    }
    for (what, at) in [
        ("free-space storage version", 9),
        ("root group symbol table entry version", 10),
        ("shared header message format version", 12),
    ] {
        if bytes[at] != 0 {
            return Err(malformed(S, 0, format!("{what} {} is not 0", bytes[at])));
        }
    }
    let (o, l) = (bytes[13], bytes[14]);
    check_width("size of offsets", o)?;
    check_width("size of lengths", l)?;
    let sizes = Sizes {
        offsets: o,
        lengths: l,
    };
    let leaf_k = u16::from_le_bytes([bytes[16], bytes[17]]);
    let internal_k = u16::from_le_bytes([bytes[18], bytes[19]]);
    if leaf_k == 0 || internal_k == 0 {
        return Err(malformed(
            S,
            0,
            format!("group leaf K {leaf_k} or internal K {internal_k} is 0"),
        ));
    }
    let flags = u32::from_le_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    if flags & !0x07 != 0 {
        return Err(malformed(
            S,
            0,
            format!("consistency flags {flags:#x} have bits outside 0x07"),
        ));
    }
    let mut at = 24;
    let mut chunk_k = CHUNK_K_DEFAULT;
    if version == 1 {
        if bytes.len() < 28 {
            return Err(short(28));
        }
        chunk_k = u16::from_le_bytes([bytes[24], bytes[25]]);
        if chunk_k == 0 {
            return Err(malformed(S, 0, "chunk B-tree internal K is 0"));
        }
        at = 28;
    }
    let (ou, lu) = (usize::from(o), usize::from(l));
    // four addresses, then the root symbol table entry
    let len = at + 4 * ou + lu + ou + 8 + 16;
    if bytes.len() < len {
        return Err(short(len));
    }
    let mut c = Cursor::new(&bytes[at..len], at as u64, S, sizes);
    let base = c.addr()?;
    let ext = c.addr()?;
    let eof = c.addr()?;
    let driver = c.addr()?;
    c.length()?; // root entry: name offset
    let root = c.addr()?;
    check_base_and_extension(base, ext)?;
    if driver != UNDEF {
        return Err(unsupported(S, 0, "a driver information block"));
    }
    check_eof(bytes, eof, len as u64)?;
    Ok(Superblock {
        version,
        sizes,
        flags: flags as u8,
        eof,
        root,
        chunk_k,
        group_leaf_k: leaf_k,
        group_k: internal_k,
        len: len as u64,
    })
}
