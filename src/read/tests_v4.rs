//! Unit tests of the layout v4/v5 decoding and the index geometry helpers. The
//! structures themselves are tested on h5py's files (`tests/read_chunk_indexes.rs`).

use super::bytes::Cursor;
use super::chunks_v4::{bit, v4_size_len};
use super::*;
use crate::encode::{Sizes, UNDEF};

fn decode(body: &[u8]) -> Result<Layout> {
    Layout::decode(&mut Cursor::new(
        body,
        0x100,
        Structure::Layout,
        Sizes::DEFAULT,
    ))
}

/// A chunked v4 layout body for 2-D chunks (3, 4) of 4-byte elements, 1 byte per
/// dim: `flags`, index `kind` and its `params`, then `addr`.
fn body(version: u8, flags: u8, kind: u8, params: &[u8], addr: u64) -> Vec<u8> {
    let mut b = vec![version, 2, flags, 3, 1, 3, 4, 4, kind];
    b.extend_from_slice(params);
    b.extend_from_slice(&addr.to_le_bytes());
    b
}

#[test]
fn every_index_type_decodes() {
    let cases: Vec<(u8, u8, Vec<u8>, ChunkIndex)> = vec![
        (
            0,
            1,
            vec![],
            ChunkIndex::Single {
                addr: Some(0x800),
                filtered: None,
            },
        ),
        (
            2,
            1,
            [77u64.to_le_bytes().as_slice(), &5u32.to_le_bytes()].concat(),
            ChunkIndex::Single {
                addr: Some(0x800),
                filtered: Some((77, 5)),
            },
        ),
        (0, 2, vec![], ChunkIndex::Implicit { addr: Some(0x800) }),
        (
            0,
            3,
            vec![10],
            ChunkIndex::FixedArray {
                addr: Some(0x800),
                page_bits: 10,
            },
        ),
        (
            0,
            4,
            vec![32, 4, 4, 16, 10],
            ChunkIndex::ExtensibleArray {
                addr: Some(0x800),
                params: [32, 4, 4, 16, 10],
            },
        ),
        (
            0,
            5,
            [2048u32.to_le_bytes().as_slice(), &[100, 40]].concat(),
            ChunkIndex::BTreeV2 {
                addr: Some(0x800),
                node_size: 2048,
                split: 100,
                merge: 40,
            },
        ),
    ];
    for version in [4, 5] {
        for (flags, kind, params, want) in &cases {
            let l = decode(&body(version, *flags, *kind, params, 0x800)).unwrap();
            let Layout::Chunked {
                btree,
                chunk,
                element_size,
                index,
                version: v,
                flags: f,
            } = l
            else {
                panic!("not chunked")
            };
            assert_eq!((btree, chunk, element_size), (None, vec![3, 4], 4));
            assert_eq!((&index, v, f), (want, version, *flags));
        }
    }
    // an undefined address: nothing allocated
    let l = decode(&body(4, 0, 3, &[10], UNDEF)).unwrap();
    assert_eq!(l.chunk_index().unwrap().addr(), None);
    // 2-byte dims: (300, 2) of 8-byte elements
    let mut b = vec![4, 2, 0, 3, 2, 0x2c, 0x01, 2, 0, 8, 0, 2];
    b.extend_from_slice(&0x900u64.to_le_bytes());
    let Layout::Chunked {
        chunk,
        element_size,
        ..
    } = decode(&b).unwrap()
    else {
        panic!()
    };
    assert_eq!((chunk, element_size), (vec![300, 2], 8));
}

#[test]
fn bad_v4_layouts_are_errors_naming_the_message() {
    let bad: Vec<(Vec<u8>, &str)> = vec![
        (body(4, 0x04, 3, &[10], 0x800), "flags"),
        (body(4, 0, 0, &[], 0x800), "v1 B-tree"),
        (body(4, 0, 6, &[], 0x800), "index type 6"),
        (body(4, 0, 3, &[0], 0x800), "page bits 0"),
        (body(4, 0, 4, &[32, 4, 0, 16, 10], 0x800), "parameter 2"),
        (
            body(4, 0, 5, &[[0u8; 4].as_slice(), &[100, 40]].concat(), 0x800),
            "node size 0",
        ),
        (vec![4, 2, 0, 3, 0, 3, 4, 4, 2], "bytes per chunk dim"),
        (vec![4, 2, 0, 3, 1, 3, 0, 4, 2], "chunk dim 1 is 0"),
        (vec![4, 2, 0, 1, 1, 3, 2], "1 dims"),
        (
            vec![4, 2, 0, 2, 5, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 2],
            "beyond 32 bits",
        ),
    ];
    for (b, words) in bad {
        let e = decode(&b).unwrap_err();
        assert_eq!(e.structure(), Structure::Layout, "{e}");
        assert_eq!(e.offset(), 0x100, "{e}");
        assert!(e.to_string().contains(words), "{words}: {e}");
    }
    // a truncated message is short, not a panic
    let full = body(5, 2, 1, &[[9u8; 8].as_slice(), &[0; 4]].concat(), 0x800);
    for n in 0..full.len() {
        assert!(decode(&full[..n]).is_err(), "{n}");
    }
    // layout version 6 is unknown
    assert!(matches!(
        decode(&body(6, 0, 1, &[], 0x800)),
        Err(Error::BadVersion { version: 6, .. })
    ));
}

/// The filtered chunk size width of layout v4 (`H5D_*_COMPUTE_CHUNK_SIZE_LEN`), as
/// observed in h5py's files (element sizes 14 and 16, record size 30).
#[test]
fn v4_size_width() {
    assert_eq!(v4_size_len(12), 2); // 3 x i4: EA element 8 + 2 + 4 = 14
    assert_eq!(v4_size_len(36), 2); // 3 x 3 x i4: FA element 14, BT2 record 30
    assert_eq!(v4_size_len(200_000), 4); // 500 x 100 x i4: FA element 16
    assert_eq!(v4_size_len(1), 2);
    assert_eq!(v4_size_len(255), 2);
    assert_eq!(v4_size_len(256), 3);
    assert_eq!(v4_size_len(u64::MAX), 8);
}

#[test]
fn page_init_bits_are_msb_first() {
    let bits = [0xa0, 0x01];
    let set: Vec<u64> = (0..16).filter(|&i| bit(&bits, i)).collect();
    assert_eq!(set, vec![0, 2, 15]);
    assert!(!bit(&bits, 16));
    assert!(!bit(&bits, u64::MAX));
}

#[test]
fn index_names() {
    let names: Vec<&str> = [
        ChunkIndex::BTreeV1,
        ChunkIndex::Single {
            addr: None,
            filtered: None,
        },
        ChunkIndex::Implicit { addr: None },
        ChunkIndex::FixedArray {
            addr: None,
            page_bits: 10,
        },
        ChunkIndex::ExtensibleArray {
            addr: None,
            params: [1; 5],
        },
        ChunkIndex::BTreeV2 {
            addr: None,
            node_size: 1,
            split: 1,
            merge: 1,
        },
    ]
    .iter()
    .map(ChunkIndex::name)
    .collect();
    assert_eq!(
        names,
        [
            "v1 B-tree",
            "single chunk",
            "implicit",
            "fixed array",
            "extensible array",
            "v2 B-tree"
        ]
    );
}
