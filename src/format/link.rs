//! The three messages of a new-style (compact) group: link info (IV.A.2.c),
//! group info (IV.A.2.k) and hard links (IV.A.2.g).

use super::{Sizes, UNDEF};
use crate::encode::{min_width, Encoder};
use alloc::vec::Vec;

/// Link info message for a group whose links are all stored as link messages
/// (no fractal heap, no name index).
pub fn encode_link_info(out: &mut Vec<u8>, sizes: Sizes) {
    Encoder::new(out, sizes).u8(0).u8(0).addr(UNDEF).addr(UNDEF);
}

/// Attribute info message for an object whose attributes are all stored as
/// attribute messages (no fractal heap, no name index). libhdf5 counts an object's
/// attributes through it.
pub fn encode_attribute_info(out: &mut Vec<u8>, sizes: Sizes) {
    Encoder::new(out, sizes).u8(0).u8(0).addr(UNDEF).addr(UNDEF);
}

/// Group info message with default phase-change and size estimates.
pub fn encode_group_info(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0, 0]);
}

/// A hard link named `name` (UTF-8, no NUL) to the object header at `target`.
pub fn encode_hard_link(out: &mut Vec<u8>, sizes: Sizes, name: &str, target: u64) {
    let len = name.len() as u64;
    let width = min_width(len);
    let width_code: u8 = match width {
        1 => 0,
        2 => 1,
        3 | 4 => 2,
        _ => 3,
    };
    let ascii = name.is_ascii();
    let mut flags = width_code;
    if !ascii {
        flags |= 0x10; // character set field present
    }
    let mut e = Encoder::new(out, sizes);
    e.u8(1).u8(flags);
    if !ascii {
        e.u8(1); // UTF-8
    }
    e.uint(len, 1 << width_code)
        .bytes(name.as_bytes())
        .addr(target);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_bytes() {
        let mut out = Vec::new();
        encode_hard_link(&mut out, Sizes::DEFAULT, "frames", 0x1122);
        let mut want = alloc::vec![1, 0, 6];
        want.extend_from_slice(b"frames");
        want.extend_from_slice(&0x1122u64.to_le_bytes());
        assert_eq!(out, want);

        out.clear();
        encode_hard_link(&mut out, Sizes::DEFAULT, "é", 8);
        assert_eq!(&out[..5], &[1, 0x10, 1, 2, 0xc3]);

        out.clear();
        encode_link_info(&mut out, Sizes::DEFAULT);
        assert_eq!(out.len(), 18);
        assert_eq!(&out[..2], &[0, 0]);
        assert!(out[2..].iter().all(|&b| b == 0xff));
    }

    #[test]
    fn long_names_use_wider_length_fields() {
        let name = "x".repeat(300);
        let mut out = Vec::new();
        encode_hard_link(&mut out, Sizes::DEFAULT, &name, 0);
        assert_eq!(&out[..4], &[1, 1, 0x2c, 0x01]);
        assert_eq!(out.len(), 4 + 300 + 8);
    }
}
