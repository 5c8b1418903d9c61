//! Version-2 object headers (format-notes §3.2): chunk 0 ("OHDR"), continuation
//! chunks ("OCHK"), their checksums and the messages they hold; and version-1 object
//! headers (§3.1): a 16-byte prefix, 8-byte message headers and bare continuation
//! chunks.

use std::collections::HashSet;

use super::bytes::{verify_checksum, Cursor, Source};
use super::error::{malformed, unsupported, Error, Result, Structure};
use crate::format::msg_type;

/// One message of an object header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Msg<'a> {
    pub kind: u8,
    pub flags: u8,
    /// File offset of the body.
    pub offset: u64,
    pub body: &'a [u8],
}

/// A decoded object header: its messages in order and the extents of its chunks.
pub(crate) struct Header<'a> {
    pub msgs: Vec<Msg<'a>>,
    /// (structure, address, length) of chunk 0 and every continuation chunk.
    pub chunks: Vec<(Structure, u64, u64)>,
}

/// Message flag bits (format-notes §3.2).
const FLAG_SHARED: u8 = 0x02;
const FLAG_DONT_SHARE: u8 = 0x04;
const FLAG_FAIL_IF_UNKNOWN_WRITE: u8 = 0x08;
const FLAG_MARK_IF_UNKNOWN: u8 = 0x10;
const FLAG_WAS_UNKNOWN: u8 = 0x20;
const FLAG_FAIL_IF_UNKNOWN: u8 = 0x80;

/// Message types this reader knows (decodes or deliberately ignores).
fn known(kind: u8) -> bool {
    matches!(
        kind,
        0x00..=0x03 | 0x04..=0x08 | 0x0A..=0x0E | 0x10..=0x18
    )
}

/// Reads the object header at `addr`, following its continuation chunks.
pub(crate) fn read_header<'a>(src: &Source<'a>, addr: u64) -> Result<Header<'a>> {
    const OH: Structure = Structure::ObjectHeader;
    let head = src.slice(OH, addr, 6)?;
    if &head[..4] != b"OHDR" {
        if head[0] == 1 {
            return read_header_v1(src, addr);
        }
        return Err(Error::BadSignature {
            structure: OH,
            offset: addr,
        });
    }
    if head[4] != 2 {
        return Err(Error::BadVersion {
            structure: OH,
            offset: addr,
            version: head[4],
        });
    }
    let flags = head[5];
    if flags & 0xc0 != 0 {
        return Err(malformed(
            OH,
            addr,
            format!("header flags {flags:#04x} have unknown bits"),
        ));
    }
    let pc_at = if flags & 0x20 != 0 { 6 + 16 } else { 6 }; // after the four times
    let size_at = if flags & 0x10 != 0 { pc_at + 4 } else { pc_at };
    if flags & 0x10 != 0 {
        let pc = src.slice(OH, addr + pc_at, 4)?;
        let max_compact = u16::from_le_bytes([pc[0], pc[1]]);
        let min_dense = u16::from_le_bytes([pc[2], pc[3]]);
        if max_compact < min_dense {
            return Err(malformed(
                OH,
                addr,
                format!("max compact attributes {max_compact} < min dense {min_dense}"),
            ));
        }
    }
    let width = 1u8 << (flags & 0x03);
    let size_field = src.slice(OH, addr + size_at, u64::from(width))?;
    let mut size = [0u8; 8];
    size[..usize::from(width)].copy_from_slice(size_field);
    let size = u64::from_le_bytes(size);
    let prefix = size_at + u64::from(width);
    let total = prefix
        .checked_add(size)
        .and_then(|t| t.checked_add(4))
        .ok_or_else(|| malformed(OH, addr, format!("chunk size {size} overflows")))?;
    let chunk = src.slice(OH, addr, total)?;
    verify_checksum(OH, addr, chunk, (prefix + size) as usize)?;
    let creation_order = flags & 0x04 != 0;
    let mut header = Header {
        msgs: Vec::new(),
        chunks: vec![(OH, addr, total)],
    };
    let mut pending: std::collections::VecDeque<(u64, u64, u64)> = Default::default();
    let mut seen: HashSet<u64> = HashSet::new();
    seen.insert(addr);
    let mut budget = src.eof().saturating_sub(total);
    parse_messages(
        src,
        OH,
        addr,
        &chunk[prefix as usize..(prefix + size) as usize],
        addr + prefix,
        creation_order,
        &mut header.msgs,
        &mut pending,
    )?;
    while let Some((msg_off, caddr, clen)) = pending.pop_front() {
        const OC: Structure = Structure::ContinuationChunk;
        let c = claim_continuation(src, &mut seen, &mut budget, (msg_off, caddr, clen), 8)?;
        if &c[..4] != b"OCHK" {
            return Err(Error::BadSignature {
                structure: OC,
                offset: caddr,
            });
        }
        verify_checksum(OC, caddr, c, c.len() - 4)?;
        header.chunks.push((OC, caddr, clen));
        parse_messages(
            src,
            OC,
            caddr,
            &c[4..c.len() - 4],
            caddr + 4,
            creation_order,
            &mut header.msgs,
            &mut pending,
        )?;
    }
    Ok(header)
}

/// Splits one chunk's message area into messages; queues continuation chunks.
#[allow(clippy::too_many_arguments)]
fn parse_messages<'a>(
    src: &Source<'a>,
    structure: Structure,
    chunk_addr: u64,
    area: &'a [u8],
    area_addr: u64,
    creation_order: bool,
    out: &mut Vec<Msg<'a>>,
    pending: &mut std::collections::VecDeque<(u64, u64, u64)>,
) -> Result<()> {
    let hlen = if creation_order { 6 } else { 4 };
    let mut c = Cursor::new(area, chunk_addr, structure, src.sizes);
    // what is left after the last message is a gap smaller than a message header
    while c.remaining() >= hlen {
        let kind = c.u8()?;
        let size = c.u16()?;
        let flags = c.u8()?;
        if creation_order {
            c.u16()?;
        }
        let offset = area_addr + c.pos() as u64;
        if usize::from(size) > c.remaining() {
            return Err(malformed(
                structure,
                chunk_addr,
                format!(
                    "message 0x{kind:02x} at {:#x} declares {size} bytes but only {} remain in the chunk",
                    offset,
                    c.remaining()
                ),
            ));
        }
        let body = c.bytes(usize::from(size))?;
        let m = Msg {
            kind,
            flags,
            offset,
            body,
        };
        check_flags(&m)?;
        if kind == msg_type::CONTINUATION {
            let mut b = Cursor::new(body, offset, Structure::Continuation, src.sizes);
            let addr = b.addr()?;
            let len = b.length()?;
            pending.push_back((offset, addr, len));
        }
        out.push(m);
    }
    Ok(())
}

fn check_flags(m: &Msg<'_>) -> Result<()> {
    let bad = |why: &str| {
        malformed(
            Structure::Message(m.kind),
            m.offset,
            format!("message flags {:#04x}: {why}", m.flags),
        )
    };
    let f = m.flags;
    if f & FLAG_SHARED != 0 && f & FLAG_DONT_SHARE != 0 {
        return Err(bad("shared and don't-share"));
    }
    if f & FLAG_WAS_UNKNOWN != 0 && f & FLAG_FAIL_IF_UNKNOWN_WRITE != 0 {
        return Err(bad("was-unknown with fail-if-unknown"));
    }
    if f & FLAG_WAS_UNKNOWN != 0 && f & FLAG_MARK_IF_UNKNOWN == 0 {
        return Err(bad("was-unknown without mark-if-unknown"));
    }
    if !known(m.kind) && f & FLAG_FAIL_IF_UNKNOWN != 0 {
        return Err(unsupported(
            Structure::Message(m.kind),
            m.offset,
            "an unknown message type marked fail-if-unknown",
        ));
    }
    Ok(())
}

/// The bytes of the continuation chunk `(address, length)` that the continuation
/// message at `msg_off` refers to: a chunk may be reached only once, must hold at
/// least `min_len` bytes, and all of a header's chunks together (`budget` left) may not
/// exceed the file.
fn claim_continuation<'a>(
    src: &Source<'a>,
    seen: &mut HashSet<u64>,
    budget: &mut u64,
    (msg_off, caddr, clen): (u64, u64, u64),
    min_len: u64,
) -> Result<&'a [u8]> {
    let bad = |why: String| malformed(Structure::Continuation, msg_off, why);
    if !seen.insert(caddr) {
        return Err(bad(format!(
            "continuation chunk at {caddr:#x} is referenced twice"
        )));
    }
    if clen < min_len {
        return Err(bad(format!(
            "continuation chunk length {clen} is below the {min_len}-byte minimum"
        )));
    }
    let c = src.slice(Structure::ContinuationChunk, caddr, clen)?;
    if clen > *budget {
        return Err(bad(
            "continuation chunks add up to more than the file size".to_string()
        ));
    }
    *budget -= clen;
    Ok(c)
}

/// Reads a version-1 object header at `addr`, following its continuation chunks.
fn read_header_v1<'a>(src: &Source<'a>, addr: u64) -> Result<Header<'a>> {
    const OH: Structure = Structure::ObjectHeader;
    const OC: Structure = Structure::ContinuationChunk;
    let prefix = src.slice(OH, addr, 16)?;
    if prefix[1] != 0 {
        return Err(malformed(
            OH,
            addr,
            format!(
                "reserved byte {:#04x} after the version is not 0",
                prefix[1]
            ),
        ));
    }
    let size = u64::from(u32::from_le_bytes([
        prefix[8], prefix[9], prefix[10], prefix[11],
    ]));
    let area = src.slice(OH, addr + 16, size)?;
    let mut header = Header {
        msgs: Vec::new(),
        chunks: vec![(OH, addr, 16 + size)],
    };
    let mut pending: std::collections::VecDeque<(u64, u64, u64)> = Default::default();
    let mut seen: HashSet<u64> = HashSet::new();
    seen.insert(addr);
    let mut budget = src.eof().saturating_sub(16 + size);
    parse_messages_v1(
        src,
        OH,
        addr,
        area,
        addr + 16,
        &mut header.msgs,
        &mut pending,
    )?;
    while let Some((msg_off, caddr, clen)) = pending.pop_front() {
        let c = claim_continuation(src, &mut seen, &mut budget, (msg_off, caddr, clen), 0)?;
        header.chunks.push((OC, caddr, clen));
        parse_messages_v1(src, OC, caddr, c, caddr, &mut header.msgs, &mut pending)?;
    }
    Ok(header)
}

/// Splits one version-1 chunk into messages (8-byte headers, 8-aligned bodies);
/// queues continuation chunks. Message types above 0xff are unknown to this reader
/// and skipped unless marked fail-if-unknown.
fn parse_messages_v1<'a>(
    src: &Source<'a>,
    structure: Structure,
    chunk_addr: u64,
    area: &'a [u8],
    area_addr: u64,
    out: &mut Vec<Msg<'a>>,
    pending: &mut std::collections::VecDeque<(u64, u64, u64)>,
) -> Result<()> {
    let mut c = Cursor::new(area, chunk_addr, structure, src.sizes);
    while c.remaining() >= 8 {
        let kind = c.u16()?;
        let size = c.u16()?;
        let flags = c.u8()?;
        c.skip(3)?;
        let offset = area_addr + c.pos() as u64;
        if usize::from(size) > c.remaining() {
            return Err(malformed(
                structure,
                chunk_addr,
                format!(
                    "message 0x{kind:02x} at {:#x} declares {size} bytes but only {} remain in the chunk",
                    offset,
                    c.remaining()
                ),
            ));
        }
        if size % 8 != 0 {
            return Err(malformed(
                structure,
                chunk_addr,
                format!("message 0x{kind:02x} at {offset:#x}: size {size} is not a multiple of 8"),
            ));
        }
        let body = c.bytes(usize::from(size))?;
        let Ok(kind) = u8::try_from(kind) else {
            if flags & FLAG_FAIL_IF_UNKNOWN != 0 {
                return Err(unsupported(
                    Structure::Message(0xff),
                    offset,
                    "an unknown message type marked fail-if-unknown",
                ));
            }
            continue;
        };
        let m = Msg {
            kind,
            flags,
            offset,
            body,
        };
        check_flags(&m)?;
        if kind == msg_type::CONTINUATION {
            let mut b = Cursor::new(body, offset, Structure::Continuation, src.sizes);
            let addr = b.addr()?;
            let len = b.length()?;
            pending.push_back((offset, addr, len));
        }
        out.push(m);
    }
    if c.remaining() != 0 {
        return Err(malformed(
            structure,
            chunk_addr,
            format!(
                "{} bytes after the last message are too few for a message header",
                c.remaining()
            ),
        ));
    }
    Ok(())
}
