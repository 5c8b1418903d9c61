//! Placing an object's messages into header chunks.
//!
//! Chunk 0 ("OHDR") lives at a fixed address for the object's life, inside one
//! 512-byte sector, with a capacity fixed at creation: rewriting it in place is the
//! commit record (DESIGN rule A). Messages that do not fit go to one continuation
//! chunk ("OCHK"), which is copied-on-write whenever its content changes.

use super::error::{invalid, Result};
use crate::format::object_header::{chunk0_len, continuation_len, ochk_len, Message};
use crate::format::Sizes;

/// The most chunk 0 may hold: one sector.
pub(crate) const MAX_CHUNK0: usize = 512;

/// How a header's messages split between chunk 0 and the continuation chunk.
pub(crate) struct Split<'a> {
    /// Messages in chunk 0 (a continuation message is added when `rest` is not empty).
    pub chunk0: Vec<&'a Message>,
    /// Messages for the continuation chunk.
    pub rest: Vec<&'a Message>,
}

fn len_of(msgs: &[&Message]) -> usize {
    msgs.iter().map(|m| m.encoded_len()).sum()
}

/// Splits `messages` for a chunk 0 of `capacity` bytes. The first `pinned` messages
/// must stay in chunk 0 (they are rewritten by commits); the others fill chunk 0 in
/// order while they fit, and the remainder goes to the continuation chunk.
pub(crate) fn split<'a>(
    object: &str,
    sizes: Sizes,
    messages: &[&'a Message],
    pinned: usize,
    capacity: usize,
) -> Result<Split<'a>> {
    let all: Vec<&'a Message> = messages.to_vec();
    if chunk0_len(len_of(&all)) <= capacity {
        return Ok(Split {
            chunk0: all,
            rest: Vec::new(),
        });
    }
    let cont = continuation_len(sizes);
    let mut used = len_of(&all[..pinned]) + cont;
    if chunk0_len(used) > capacity {
        return Err(invalid(
            object,
            format!(
                "the object header's fixed part needs {} bytes, more than the {capacity}-byte commit record \
                 (too many dimensions?)",
                chunk0_len(used)
            ),
        ));
    }
    let mut n = pinned;
    while n < all.len() && chunk0_len(used + all[n].encoded_len()) <= capacity {
        used += all[n].encoded_len();
        n += 1;
    }
    Ok(Split {
        chunk0: all[..n].to_vec(),
        rest: all[n..].to_vec(),
    })
}

/// The chunk 0 capacity to reserve for an object created with `messages`: room for
/// all of them plus a continuation message, at most one sector.
pub(crate) fn initial_capacity(sizes: Sizes, messages: &[&Message], pinned: usize) -> usize {
    let all: usize = messages.iter().map(|m| m.encoded_len()).sum();
    let pinned_len: usize = messages[..pinned].iter().map(|m| m.encoded_len()).sum();
    let cont = continuation_len(sizes);
    let want = chunk0_len(all + cont).max(chunk0_len(pinned_len + cont));
    want.div_ceil(8).saturating_mul(8).min(MAX_CHUNK0)
}

/// Size of the continuation chunk holding `rest`.
pub(crate) fn rest_len(rest: &[&Message]) -> usize {
    ochk_len(len_of(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(n: usize) -> Message {
        Message {
            kind: 0,
            flags: 0,
            body: vec![0; n],
        }
    }

    #[test]
    fn everything_in_chunk0_when_it_fits() {
        let m = [msg(10), msg(20)];
        let r: Vec<&Message> = m.iter().collect();
        let s = split("/x", Sizes::DEFAULT, &r, 1, 100).unwrap();
        assert_eq!(s.chunk0.len(), 2);
        assert!(s.rest.is_empty());
    }

    #[test]
    fn overflow_keeps_pinned_and_order() {
        let m = [msg(40), msg(10), msg(300), msg(5)];
        let r: Vec<&Message> = m.iter().collect();
        let cap = initial_capacity(Sizes::DEFAULT, &r[..2], 1);
        let s = split("/x", Sizes::DEFAULT, &r, 1, cap).unwrap();
        assert_eq!(s.chunk0.len(), 2);
        assert_eq!(s.rest.len(), 2);
        assert!(chunk0_len(len_of(&s.chunk0) + continuation_len(Sizes::DEFAULT)) <= cap);
    }

    #[test]
    fn pinned_too_large_is_an_error() {
        let m = [msg(600)];
        let r: Vec<&Message> = m.iter().collect();
        assert!(split("/x", Sizes::DEFAULT, &r, 1, 512).is_err());
    }
}
