//! Version-2 object headers (spec IV.A.1.b): chunk 0 ("OHDR") and continuation chunks
//! ("OCHK"), each a run of messages followed by a lookup3 checksum.

use super::{msg_type, Sizes};
use crate::encode::Encoder;
use alloc::vec::Vec;

/// One header message: type, flags and encoded body (at most 65535 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Message type (see [`super::msg_type`]).
    pub kind: u8,
    /// Message flags (bit 0: constant).
    pub flags: u8,
    /// Encoded message body.
    pub body: Vec<u8>,
}

/// Bytes of a v2 message header (type u8, size u16, flags u8) without creation order.
pub const MSG_HEADER: usize = 4;

/// Largest message body a v2 header can hold.
pub const MAX_BODY: usize = u16::MAX as usize;

impl Message {
    /// Size of the message inside a chunk: header plus body.
    pub fn encoded_len(&self) -> usize {
        MSG_HEADER + self.body.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) {
        e.u8(self.kind)
            .u16(self.body.len() as u16)
            .u8(self.flags)
            .bytes(&self.body);
    }
}

/// A continuation message pointing at an "OCHK" chunk of `len` bytes at `addr`.
pub fn continuation(sizes: Sizes, addr: u64, len: u64) -> Message {
    let mut body = Vec::new();
    Encoder::new(&mut body, sizes).addr(addr).len(len);
    Message {
        kind: msg_type::CONTINUATION,
        flags: 0,
        body,
    }
}

/// Size of a continuation message inside a chunk.
pub fn continuation_len(sizes: Sizes) -> usize {
    MSG_HEADER + usize::from(sizes.offsets) + usize::from(sizes.lengths)
}

fn size_field_width(messages_len: usize) -> (u8, usize) {
    match messages_len {
        0..=0xff => (0, 1),
        0x100..=0xffff => (1, 2),
        _ => (2, 4),
    }
}

/// Total encoded size of a chunk 0 holding messages of `messages_len` bytes.
pub fn chunk0_len(messages_len: usize) -> usize {
    let (_, w) = size_field_width(messages_len);
    4 + 1 + 1 + w + messages_len + 4
}

/// Total encoded size of an OCHK chunk holding messages of `messages_len` bytes.
pub fn ochk_len(messages_len: usize) -> usize {
    4 + messages_len + 4
}

/// Appends chunk 0 of a v2 object header: "OHDR", version 2, flags (no times, no
/// attribute phase change values), the size of the message area, the messages and
/// the checksum.
pub fn encode_chunk0(out: &mut Vec<u8>, sizes: Sizes, messages: &[&Message]) {
    let start = out.len();
    let messages_len: usize = messages.iter().map(|m| m.encoded_len()).sum();
    let (code, width) = size_field_width(messages_len);
    let mut e = Encoder::new(out, sizes);
    e.bytes(b"OHDR")
        .u8(2)
        .u8(code)
        .uint(messages_len as u64, width as u8);
    for m in messages {
        m.encode(&mut e);
    }
    e.checksum_from(start);
}

/// Appends a continuation chunk: "OCHK", the messages, the checksum.
pub fn encode_ochk(out: &mut Vec<u8>, sizes: Sizes, messages: &[&Message]) {
    let start = out.len();
    let mut e = Encoder::new(out, sizes);
    e.bytes(b"OCHK");
    for m in messages {
        m.encode(&mut e);
    }
    e.checksum_from(start);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::hashlittle;
    use alloc::vec;

    #[test]
    fn golden_chunk0_and_ochk() {
        let m = Message {
            kind: msg_type::GROUP_INFO,
            flags: 1,
            body: vec![0, 0],
        };
        let mut out = Vec::new();
        encode_chunk0(&mut out, Sizes::DEFAULT, &[&m]);
        assert_eq!(&out[..11], b"OHDR\x02\x00\x06\x0a\x02\x00\x01");
        assert_eq!(&out[11..13], &[0, 0]);
        assert_eq!(&out[13..], &hashlittle(&out[..13], 0).to_le_bytes());
        assert_eq!(out.len(), chunk0_len(6));

        out.clear();
        encode_ochk(&mut out, Sizes::DEFAULT, &[&m]);
        assert_eq!(&out[..4], b"OCHK");
        assert_eq!(out.len(), ochk_len(6));
        assert_eq!(&out[10..], &hashlittle(&out[..10], 0).to_le_bytes());
    }

    #[test]
    fn wide_size_field_above_255_bytes() {
        let m = Message {
            kind: msg_type::NIL,
            flags: 0,
            body: vec![0; 300],
        };
        let mut out = Vec::new();
        encode_chunk0(&mut out, Sizes::DEFAULT, &[&m]);
        assert_eq!(out[5], 1);
        assert_eq!(&out[6..8], &304u16.to_le_bytes());
        assert_eq!(out.len(), chunk0_len(304));
    }

    #[test]
    fn continuation_body() {
        let c = continuation(Sizes::DEFAULT, 0x1000, 64);
        assert_eq!(c.kind, 0x10);
        assert_eq!(c.encoded_len(), continuation_len(Sizes::DEFAULT));
        assert_eq!(&c.body[..8], &0x1000u64.to_le_bytes());
        assert_eq!(&c.body[8..], &64u64.to_le_bytes());
    }
}
