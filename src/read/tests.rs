//! Unit tests: hand-built files (with the format encoders) for every structural
//! problem the writer cannot produce, lookup semantics, and the proof that skipping
//! lookups changes nothing.

use super::*;
use crate::encode::{hashlittle, Sizes, UNDEF};
use crate::format::btree_v1::{ChunkKey, NodeShape, CHUNK_K};
use crate::format::dataspace::{Dataspace as WSpace, UNLIMITED};
use crate::format::datatype::{ByteOrder, CharSet, Datatype as WType, StringPad};
use crate::format::fill_value::{AllocTime, FillValue};
use crate::format::layout::Layout as WLayout;
use crate::format::object_header::{continuation, encode_chunk0, encode_ochk, Message};
use crate::format::superblock::SuperblockV2;
use crate::format::{attribute, global_heap, link, msg_type};

const D: Sizes = Sizes::DEFAULT;

/// Builds a file by hand: structures are appended 8-aligned after the superblock.
struct B {
    buf: Vec<u8>,
    sizes: Sizes,
}

fn msg(kind: u8, body: Vec<u8>) -> Message {
    Message {
        kind,
        flags: 0,
        body,
    }
}

impl B {
    fn new() -> B {
        B::with_sizes(D)
    }

    fn with_sizes(sizes: Sizes) -> B {
        let sb = 12 + 4 * usize::from(sizes.offsets) + 4;
        B {
            buf: vec![0; sb],
            sizes,
        }
    }

    fn alloc(&mut self, len: usize) -> u64 {
        self.buf.resize(self.buf.len().div_ceil(8) * 8, 0);
        let a = self.buf.len();
        self.buf.resize(a + len, 0);
        a as u64
    }

    fn put(&mut self, bytes: &[u8]) -> u64 {
        let a = self.alloc(bytes.len());
        self.put_at(a, bytes);
        a
    }

    fn put_at(&mut self, at: u64, bytes: &[u8]) {
        let at = at as usize;
        self.buf[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn header_bytes(&self, msgs: &[Message]) -> Vec<u8> {
        let refs: Vec<&Message> = msgs.iter().collect();
        let mut out = Vec::new();
        encode_chunk0(&mut out, self.sizes, &refs);
        out
    }

    fn header(&mut self, msgs: &[Message]) -> u64 {
        let b = self.header_bytes(msgs);
        self.put(&b)
    }

    fn group_msgs(&self, links: &[(&str, u64)]) -> Vec<Message> {
        let mut li = Vec::new();
        link::encode_link_info(&mut li, self.sizes);
        let mut gi = Vec::new();
        link::encode_group_info(&mut gi);
        let mut m = vec![msg(msg_type::LINK_INFO, li), msg(msg_type::GROUP_INFO, gi)];
        for (name, addr) in links {
            let mut l = Vec::new();
            link::encode_hard_link(&mut l, self.sizes, name, *addr);
            m.push(msg(msg_type::LINK, l));
        }
        m
    }

    fn group(&mut self, links: &[(&str, u64)]) -> u64 {
        let m = self.group_msgs(links);
        self.header(&m)
    }

    fn dataset_msgs(
        &self,
        space: WSpace,
        dtype: WType,
        layout: WLayout,
        fill: Option<Vec<u8>>,
    ) -> Vec<Message> {
        let mut s = Vec::new();
        space.encode(&mut s, self.sizes);
        let mut t = Vec::new();
        dtype.encode(&mut t);
        let mut l = Vec::new();
        layout.encode(&mut l, self.sizes);
        let mut f = Vec::new();
        FillValue {
            alloc: AllocTime::Incremental,
            value: fill,
        }
        .encode(&mut f);
        vec![
            msg(msg_type::DATASPACE, s),
            msg(msg_type::LAYOUT, l),
            msg(msg_type::DATATYPE, t),
            msg(msg_type::FILL_VALUE, f),
        ]
    }

    fn finish(mut self, root: u64) -> Vec<u8> {
        let mut sb = Vec::new();
        SuperblockV2 {
            sizes: self.sizes,
            eof: self.buf.len() as u64,
            root,
        }
        .encode(&mut sb);
        self.buf[..sb.len()].copy_from_slice(&sb);
        self.buf
    }
}

fn u8t() -> WType {
    WType::Integer {
        size: 1,
        signed: false,
        order: ByteOrder::LittleEndian,
    }
}

fn u16t() -> WType {
    WType::Integer {
        size: 2,
        signed: false,
        order: ByteOrder::LittleEndian,
    }
}

/// Recomputes the superblock checksum after a test changed a field.
fn resum(b: &mut [u8]) {
    let o = usize::from(b[9]);
    let n = 12 + 4 * o;
    let s = hashlittle(&b[..n], 0);
    b[n..n + 4].copy_from_slice(&s.to_le_bytes());
}

fn parse_err(b: &[u8]) -> Error {
    match File::parse(b) {
        Ok(_) => panic!("parsed"),
        Err(e) => e,
    }
}

fn simple(dims: &[u64], max: Option<&[u64]>) -> WSpace {
    WSpace::Simple {
        dims: dims.to_vec(),
        max: max.map(|m| m.to_vec()),
    }
}

/// Every read and check gives the same result with and without the lookup shortcut.
fn same_both_ways(file: &File<'_>) {
    for d in file.datasets() {
        let a = file.read_impl(d, 1 << 26, false);
        let b = file.read_impl(d, 1 << 26, true);
        assert_eq!(a, b, "{}", d.path);
    }
    let mut fast = Report::default();
    file.check_into(&mut fast, false);
    let mut slow = Report::default();
    file.check_into(&mut slow, true);
    assert_eq!(fast, slow);
}

// ----- superblock -----

fn minimal() -> Vec<u8> {
    let mut b = B::new();
    let root = b.group(&[]);
    b.finish(root)
}

#[test]
fn superblock_versions_and_flags() {
    let ok = minimal();
    let f = File::parse(&ok).unwrap();
    assert_eq!(f.superblock().version, 2);
    assert_eq!(f.superblock().root, 48);
    assert!(f.root().links.is_empty());

    let mut v3 = ok.clone();
    v3[8] = 3;
    resum(&mut v3);
    assert_eq!(File::parse(&v3).unwrap().superblock().version, 3);

    let mut v3f = v3.clone();
    v3f[11] = 0x01;
    resum(&mut v3f);
    assert!(matches!(
        parse_err(&v3f),
        Error::Malformed {
            structure: Structure::Superblock,
            offset: 0,
            ..
        }
    ));

    let mut v2f = ok.clone();
    v2f[11] = 0x05; // bits libhdf5 ignores for version 2
    resum(&mut v2f);
    assert_eq!(File::parse(&v2f).unwrap().superblock().flags, 5);
    v2f[11] = 0x08;
    resum(&mut v2f);
    assert!(matches!(parse_err(&v2f), Error::Malformed { .. }));

    // a v2 superblock relabelled v0/v1: byte 9 (size of offsets) is read as the
    // free-space version, which must be 0
    for (v, want) in [(0u8, "free-space"), (1, "free-space"), (4, "version")] {
        let mut b = ok.clone();
        b[8] = v;
        resum(&mut b);
        let e = parse_err(&b);
        assert!(e.to_string().contains(want), "{e}");
        assert_eq!(e.structure(), Structure::Superblock);
    }

    let mut ext = ok.clone();
    ext[20..28].copy_from_slice(&1000u64.to_le_bytes());
    resum(&mut ext);
    assert!(matches!(
        parse_err(&ext),
        Error::Unsupported {
            feature: "a superblock extension",
            ..
        }
    ));

    let mut base = ok.clone();
    base[12] = 1;
    resum(&mut base);
    assert!(matches!(parse_err(&base), Error::Unsupported { .. }));

    let mut o3 = ok.clone();
    o3[9] = 3;
    assert!(matches!(parse_err(&o3), Error::Malformed { .. }));
    o3[9] = 16;
    assert!(matches!(parse_err(&o3), Error::Unsupported { .. }));

    let mut tiny_eof = ok.clone();
    tiny_eof[28..36].copy_from_slice(&40u64.to_le_bytes());
    resum(&mut tiny_eof);
    assert!(matches!(parse_err(&tiny_eof), Error::Malformed { .. }));

    // the root header must lie below the stored EOF, even if the file is longer
    let mut short_eof = ok.clone();
    short_eof[28..36].copy_from_slice(&60u64.to_le_bytes());
    resum(&mut short_eof);
    assert_eq!(
        parse_err(&short_eof),
        Error::PastEof {
            structure: Structure::ObjectHeader,
            offset: 48,
            len: 6 + 1 + (4 + 18) + (4 + 2) + 4,
            eof: 60
        }
    );
    assert!(matches!(parse_err(&ok[..5]), Error::BadSignature { .. }));
    assert!(matches!(parse_err(&[]), Error::BadSignature { .. }));
}

#[test]
fn four_byte_addresses_and_lengths() {
    let sizes = Sizes {
        offsets: 4,
        lengths: 4,
    };
    let mut b = B::with_sizes(sizes);
    let data: Vec<u8> = (0..24).collect();
    let at = b.put(&data);
    let m = b.dataset_msgs(
        simple(&[4, 6], None),
        u8t(),
        WLayout::Contiguous { addr: at, size: 24 },
        None,
    );
    let d = b.header(&m);
    let root = b.group(&[("d", d)]);
    let bytes = b.finish(root);
    assert_eq!(bytes[9], 4);
    let f = File::parse(&bytes).unwrap();
    assert_eq!(f.superblock().len, 32);
    assert_eq!(f.dataset_bytes("/d").unwrap(), data);
    assert!(f.check().is_ok());
}

// ----- object headers -----

#[test]
fn header_variants_and_errors() {
    // creation-order indexes and times in the header prefix
    let mut b = B::new();
    let m = b.group_msgs(&[]);
    let mut area = Vec::new();
    for x in &m {
        area.push(x.kind);
        area.extend_from_slice(&(x.body.len() as u16).to_le_bytes());
        area.push(x.flags);
        area.extend_from_slice(&7u16.to_le_bytes()); // creation index
        area.extend_from_slice(&x.body);
    }
    let mut h = b"OHDR\x02".to_vec();
    h.push(0x24 | 0x10); // creation order + times + phase change, 1-byte size
    h.extend_from_slice(&[0; 16]);
    h.extend_from_slice(&8u16.to_le_bytes());
    h.extend_from_slice(&6u16.to_le_bytes());
    h.push(area.len() as u8);
    h.extend_from_slice(&area);
    h.extend_from_slice(&hashlittle(&h, 0).to_le_bytes());
    let root = b.put(&h);
    let ok = b.finish(root);
    assert!(File::parse(&ok).is_ok());

    // phase change values out of order
    let mut bad = ok.clone();
    let r = root as usize;
    bad[r + 6 + 16..r + 6 + 18].copy_from_slice(&5u16.to_le_bytes());
    let n = bad.len() - 4;
    let s = hashlittle(&bad[r..n], 0);
    bad[n..].copy_from_slice(&s.to_le_bytes());
    assert!(matches!(
        parse_err(&bad),
        Error::Malformed {
            structure: Structure::ObjectHeader,
            ..
        }
    ));

    // an empty version-1 header (neither group nor dataset), a wrong version,
    // unknown flag bits
    let mut b = B::new();
    let root = b.put(&[1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let e = parse_err(&b.finish(root));
    assert!(
        matches!(
            e,
            Error::Malformed {
                structure: Structure::ObjectHeader,
                offset: 48,
                ..
            }
        ),
        "{e}"
    );
    let mut v = minimal();
    v[52] = 3;
    assert_eq!(
        parse_err(&v),
        Error::BadVersion {
            structure: Structure::ObjectHeader,
            offset: 48,
            version: 3
        }
    );
    let mut v = minimal();
    v[53] = 0x40;
    assert!(matches!(parse_err(&v), Error::Malformed { .. }));

    // a message longer than its chunk (checksum made valid)
    let mut b = B::new();
    let mut h = b.header_bytes(&b.group_msgs(&[]));
    h[8] = 200; // size of the first message
    let n = h.len() - 4;
    let s = hashlittle(&h[..n], 0);
    h[n..].copy_from_slice(&s.to_le_bytes());
    let root = b.put(&h);
    assert!(matches!(
        parse_err(&b.finish(root)),
        Error::Malformed {
            structure: Structure::ObjectHeader,
            offset: 48,
            ..
        }
    ));

    // unknown message types: ignored, unless marked fail-if-unknown
    let mut b = B::new();
    let mut m = b.group_msgs(&[]);
    m.push(Message {
        kind: 0x40,
        flags: 0,
        body: vec![1, 2, 3],
    });
    let root = b.header(&m);
    assert!(File::parse(&b.finish(root)).is_ok());
    let mut b = B::new();
    let mut m = b.group_msgs(&[]);
    m.push(Message {
        kind: 0x40,
        flags: 0x80,
        body: vec![1, 2, 3],
    });
    let root = b.header(&m);
    assert!(matches!(
        parse_err(&b.finish(root)),
        Error::Unsupported {
            structure: Structure::Message(0x40),
            ..
        }
    ));
    // bad flag combinations
    let mut b = B::new();
    let mut m = b.group_msgs(&[]);
    m[1].flags = 0x02 | 0x04;
    let root = b.header(&m);
    assert!(matches!(
        parse_err(&b.finish(root)),
        Error::Malformed {
            structure: Structure::Message(0x0a),
            ..
        }
    ));
    // two dataspace messages
    let mut b = B::new();
    let mut m = b.dataset_msgs(
        simple(&[1], None),
        u8t(),
        WLayout::Compact { data: vec![1] },
        None,
    );
    m.push(m[0].clone());
    let d = b.header(&m);
    let root = b.group(&[("d", d)]);
    assert!(matches!(
        parse_err(&b.finish(root)),
        Error::Malformed {
            structure: Structure::Message(1),
            ..
        }
    ));
}

#[test]
fn continuation_chunks() {
    let mut b = B::new();
    let ga = b.group(&[]);
    // root: link info + group info in chunk 0, links in an OCHK
    let all = b.group_msgs(&[("a", ga), ("b", ga)]);
    let refs: Vec<&Message> = all[2..].iter().collect();
    let mut ochk = Vec::new();
    encode_ochk(&mut ochk, D, &refs);
    let oa = b.put(&ochk);
    let cont = continuation(D, oa, ochk.len() as u64);
    let root = b.header(&[all[0].clone(), all[1].clone(), cont]);
    let ok = b.finish(root);
    let f = File::parse(&ok).unwrap();
    assert_eq!(f.root().links.len(), 2);
    // both names lead to one object
    assert_eq!(f.objects().len(), 2);
    assert_eq!(f.get("/b").unwrap().path(), "/a");

    let mut bad = ok.clone();
    bad[oa as usize + 6] ^= 1;
    assert!(matches!(
        parse_err(&bad),
        Error::BadChecksum { structure: Structure::ContinuationChunk, offset, .. } if offset == oa
    ));
    // a continuation chunk that continues into itself
    let mut b = B::new();
    let oa = b.alloc(4 + 4 + 16 + 4);
    let mut ochk = Vec::new();
    encode_ochk(&mut ochk, D, &[&continuation(D, oa, 28)]);
    b.put_at(oa, &ochk);
    let mut m = b.group_msgs(&[]);
    m.push(continuation(D, oa, 28));
    let root = b.header(&m);
    assert!(matches!(
        parse_err(&b.finish(root)),
        Error::Malformed {
            structure: Structure::Continuation,
            ..
        }
    ));
    // a continuation past the end of file
    let mut b = B::new();
    let mut m = b.group_msgs(&[]);
    m.push(continuation(D, 4096, 100));
    let root = b.header(&m);
    let bytes = b.finish(root);
    assert_eq!(
        parse_err(&bytes),
        Error::PastEof {
            structure: Structure::ContinuationChunk,
            offset: 4096,
            len: 100,
            eof: bytes.len() as u64
        }
    );
}

// ----- groups -----

#[test]
fn hard_link_cycles_terminate() {
    let mut b = B::new();
    let root = b.alloc(200);
    let a = b.group(&[("up", root), ("self", 0)]);
    // patch /a's "self" link to point at /a
    let ab = b.header_bytes(&b.group_msgs(&[("up", root), ("self", a)]));
    b.put_at(a, &ab);
    let rb = b.header_bytes(&b.group_msgs(&[("a", a)]));
    b.put_at(root, &rb);
    let bytes = b.finish(root);
    let f = File::parse(&bytes).unwrap();
    assert_eq!(f.objects().len(), 2);
    assert_eq!(f.get("/a/up/a/self/self/up").unwrap().addr(), root);
    let r = verify(&bytes);
    assert!(r.is_ok(), "{r}");
}

#[test]
fn duplicate_names() {
    let mut b = B::new();
    let x = b.group(&[]);
    let y = b.group(&[]);
    let root = b.group(&[("n", x), ("m", y), ("n", y)]);
    let bytes = b.finish(root);
    assert_eq!(
        parse_err(&bytes),
        Error::DuplicateLink {
            structure: Structure::Group,
            offset: root,
            name: "n".into()
        }
    );
    let r = verify(&bytes);
    assert_eq!(r.problems.len(), 1, "{r}");
    assert_eq!(r.problems[0].path, "/");

    let mut b = B::new();
    let mut m = b.group_msgs(&[]);
    for v in [1u8, 2] {
        let mut a = Vec::new();
        attribute::encode_attribute(&mut a, D, "x", &u8t(), &WSpace::Scalar, &[v]);
        m.push(msg(msg_type::ATTRIBUTE, a));
    }
    let root = b.header(&m);
    let e = parse_err(&b.finish(root));
    assert_eq!(
        e,
        Error::DuplicateAttribute {
            structure: Structure::ObjectHeader,
            offset: root,
            name: "x".into()
        }
    );
}

#[test]
fn root_must_be_a_group() {
    let mut b = B::new();
    let m = b.dataset_msgs(
        simple(&[2], None),
        u8t(),
        WLayout::Compact { data: vec![1, 2] },
        None,
    );
    let root = b.header(&m);
    assert!(matches!(
        parse_err(&b.finish(root)),
        Error::WrongKind { offset: 48, .. }
    ));
}

// ----- messages -----

#[test]
fn datatypes_round_trip() {
    use ByteOrder::*;
    let types = [
        WType::Integer {
            size: 1,
            signed: true,
            order: LittleEndian,
        },
        WType::Integer {
            size: 8,
            signed: false,
            order: BigEndian,
        },
        WType::Float {
            size: 2,
            order: LittleEndian,
        },
        WType::Float {
            size: 8,
            order: BigEndian,
        },
        WType::FixedString {
            size: 9,
            pad: StringPad::SpacePad,
            cset: CharSet::Utf8,
        },
        WType::VarLenString {
            cset: CharSet::Ascii,
        },
    ];
    for t in types {
        let mut enc = Vec::new();
        t.encode(&mut enc);
        let mut c = Cursor::new(&enc, 0, Structure::Datatype, D);
        let r = Datatype::decode(&mut c, 0).unwrap();
        assert_eq!(c.remaining(), 0, "{t:?}");
        assert_eq!(r.size(), t.size());
        assert_eq!(r.to_writer_type(), Some(t));
    }
    // a compound: only the size is known
    let mut c = Cursor::new(
        &[0x16, 2, 0, 0, 12, 0, 0, 0, 9, 9],
        0,
        Structure::Datatype,
        D,
    );
    assert_eq!(
        Datatype::decode(&mut c, 0).unwrap(),
        Datatype::Other { class: 6, size: 12 }
    );
    // precision beyond the size
    let mut c = Cursor::new(
        &[0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 9, 0],
        0,
        Structure::Datatype,
        D,
    );
    assert!(matches!(
        Datatype::decode(&mut c, 0),
        Err(Error::Malformed { .. })
    ));
    // size 0
    let mut c = Cursor::new(
        &[0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0],
        0,
        Structure::Datatype,
        D,
    );
    assert!(matches!(
        Datatype::decode(&mut c, 0),
        Err(Error::Malformed { .. })
    ));
    // truncated
    let mut c = Cursor::new(&[0x10, 0, 0, 0, 1, 0], 7, Structure::Datatype, D);
    assert_eq!(
        Datatype::decode(&mut c, 0),
        Err(Error::Short {
            structure: Structure::Datatype,
            offset: 7,
            needed: 8,
            available: 6
        })
    );
}

#[test]
fn dataspace_and_fill_versions() {
    // dataspace v1 with max dims
    let mut v1 = vec![1, 2, 1, 0, 0, 0, 0, 0];
    for x in [3u64, 4, UNLIMITED, 4] {
        v1.extend_from_slice(&x.to_le_bytes());
    }
    let s = Dataspace::decode(&mut Cursor::new(&v1, 0, Structure::Dataspace, D)).unwrap();
    assert_eq!(
        (s.dims.clone(), s.max_dims.clone()),
        (vec![3, 4], vec![UNLIMITED, 4])
    );
    // dims above max
    let mut bad = vec![2, 1, 1, 1];
    for x in [5u64, 4] {
        bad.extend_from_slice(&x.to_le_bytes());
    }
    assert!(Dataspace::decode(&mut Cursor::new(&bad, 0, Structure::Dataspace, D)).is_err());
    // null and scalar
    let s = Dataspace::decode(&mut Cursor::new(&[2, 0, 0, 2], 0, Structure::Dataspace, D)).unwrap();
    assert_eq!((s.kind, s.num_elements()), (SpaceKind::Null, 0));
    assert!(
        Dataspace::decode(&mut Cursor::new(&[2, 1, 0, 0], 0, Structure::Dataspace, D)).is_err()
    );
    assert!(
        Dataspace::decode(&mut Cursor::new(&[2, 33, 0, 1], 0, Structure::Dataspace, D)).is_err()
    );

    let fill = |b: &[u8]| message::decode_fill(&mut Cursor::new(b, 0, Structure::FillValue, D));
    assert_eq!(fill(&[3, 0x0b]).unwrap(), None);
    assert_eq!(
        fill(&[3, 0x2a, 4, 0, 0, 0, 7, 0, 0, 0]).unwrap(),
        Some(vec![7, 0, 0, 0])
    );
    assert_eq!(fill(&[2, 3, 2, 1, 0, 0, 0, 0]).unwrap(), None);
    assert_eq!(fill(&[2, 3, 2, 0]).unwrap(), None);
    assert_eq!(fill(&[1, 3, 2, 1, 1, 0, 0, 0, 9]).unwrap(), Some(vec![9]));
    assert!(fill(&[3, 0x30, 1, 0, 0, 0, 1]).is_err());
    assert!(fill(&[3, 0x2a, 4, 0, 0, 0, 7]).is_err());
    assert!(fill(&[4, 0]).is_err());
}

#[test]
fn dataset_message_consistency() {
    let build = |layout: WLayout, dims: &[u64]| {
        let mut b = B::new();
        let m = b.dataset_msgs(simple(dims, None), u16t(), layout, None);
        let d = b.header(&m);
        let root = b.group(&[("d", d)]);
        b.finish(root)
    };
    let e = parse_err(&build(WLayout::Compact { data: vec![0; 5] }, &[3]));
    assert!(
        matches!(
            e,
            Error::Malformed {
                structure: Structure::Layout,
                ..
            }
        ),
        "{e}"
    );
    let e = parse_err(&build(
        WLayout::Contiguous {
            addr: UNDEF,
            size: 8,
        },
        &[3],
    ));
    assert!(
        matches!(
            e,
            Error::Malformed {
                structure: Structure::Layout,
                ..
            }
        ),
        "{e}"
    );
    let e = parse_err(&build(
        WLayout::Contiguous {
            addr: 48,
            size: 1 << 20,
        },
        &[1 << 19],
    ));
    assert!(
        matches!(
            e,
            Error::PastEof {
                structure: Structure::ContiguousData,
                offset: 48,
                ..
            }
        ),
        "{e}"
    );
    let e = parse_err(&build(
        WLayout::Chunked {
            btree: UNDEF,
            chunk: vec![2],
            element_size: 4,
        },
        &[3],
    ));
    assert!(
        matches!(
            e,
            Error::Malformed {
                structure: Structure::Layout,
                ..
            }
        ),
        "{e}"
    );
    let e = parse_err(&build(
        WLayout::Chunked {
            btree: UNDEF,
            chunk: vec![2, 2],
            element_size: 2,
        },
        &[3],
    ));
    assert!(
        matches!(
            e,
            Error::Malformed {
                structure: Structure::Layout,
                ..
            }
        ),
        "{e}"
    );
    let e = parse_err(&build(
        WLayout::Chunked {
            btree: UNDEF,
            chunk: vec![1 << 16, 1 << 16],
            element_size: 2,
        },
        &[1 << 16, 1 << 16],
    ));
    assert!(
        matches!(
            e,
            Error::Malformed {
                structure: Structure::Layout,
                ..
            }
        ),
        "{e}"
    );
    // an empty chunked dataset reads as fill
    let ok = build(
        WLayout::Chunked {
            btree: UNDEF,
            chunk: vec![2],
            element_size: 2,
        },
        &[3],
    );
    let f = File::parse(&ok).unwrap();
    assert_eq!(f.dataset_bytes("/d").unwrap(), vec![0; 6]);
    assert!(f.chunks("/d").unwrap().is_empty());
    assert_eq!(
        f.check().notes,
        [Note::MissingChunks {
            path: "/d".into(),
            offset: f.dataset("/d").unwrap().addr,
            missing: 2,
            total: 2
        }]
    );
    // output limit
    assert!(matches!(
        f.dataset_bytes_limited("/d", 5),
        Err(Error::TooLarge {
            bytes: 6,
            limit: 5,
            ..
        })
    ));
}

#[test]
fn vlen_attributes_through_the_heap() {
    let mut b = B::new();
    let mut heap = Vec::new();
    global_heap::encode_collection(&mut heap, D, 4096, &[b"hello", b""]);
    let h = b.put(&heap);
    let mut raw = Vec::new();
    for (len, idx) in [(5u32, 1u32), (0, 2), (5, 1)] {
        raw.extend_from_slice(&len.to_le_bytes());
        raw.extend_from_slice(&h.to_le_bytes());
        raw.extend_from_slice(&idx.to_le_bytes());
    }
    let t = WType::VarLenString {
        cset: CharSet::Utf8,
    };
    let mut a = Vec::new();
    attribute::encode_attribute(&mut a, D, "s", &t, &simple(&[3], None), &raw);
    let mut m = b.group_msgs(&[]);
    m.push(msg(msg_type::ATTRIBUTE, a));
    let root = b.header(&m);
    let ok = b.finish(root);
    let f = File::parse(&ok).unwrap();
    let attr = &f.root().attrs[0];
    assert_eq!(attr.strings().unwrap(), ["hello", "", "hello"]);
    assert!(f.check().is_ok());

    // an index the collection does not have
    let mut bad = ok.clone();
    let at = ok
        .windows(4)
        .rposition(|w| w == 1u32.to_le_bytes())
        .unwrap();
    bad[at] = 9;
    // the attribute sits in the root header: fix its checksum
    let r = root as usize;
    let end = r + 6 + 1 + bad[r + 6] as usize;
    let s = hashlittle(&bad[r..end], 0);
    bad[end..end + 4].copy_from_slice(&s.to_le_bytes());
    let e = parse_err(&bad);
    assert!(
        matches!(e, Error::Malformed { structure: Structure::GlobalHeap, offset, .. } if offset == h),
        "{e}"
    );

    // a collection below libhdf5's 4096-byte minimum
    let mut small = ok.clone();
    small[h as usize + 8..h as usize + 16].copy_from_slice(&64u64.to_le_bytes());
    assert!(matches!(
        parse_err(&small),
        Error::Malformed {
            structure: Structure::GlobalHeap,
            ..
        }
    ));
}

// ----- chunk B-trees -----

fn key(offsets: &[u64], size: u32) -> ChunkKey {
    ChunkKey {
        size,
        filter_mask: 0,
        offsets: offsets.to_vec(),
    }
}

/// A chunked 1-D u16 dataset of `dims` (max `max`), chunks of 2, whose tree root is
/// built by `tree(b, chunk_addrs)`; chunk i holds [10i, 10i+1].
fn chunked_1d(
    dims: u64,
    max: Option<u64>,
    nchunks: u64,
    tree: impl FnOnce(&mut B, &NodeShape, &[u64]) -> u64,
) -> Vec<u8> {
    let mut b = B::new();
    let chunks: Vec<u64> = (0..nchunks)
        .map(|i| b.put(&[(10 * i) as u8, 0, (10 * i + 1) as u8, 0]))
        .collect();
    let shape = NodeShape {
        sizes: D,
        k: CHUNK_K,
        ndims: 2,
    };
    let root = tree(&mut b, &shape, &chunks);
    let maxv = max.map(|m| vec![m]);
    let m = b.dataset_msgs(
        simple(&[dims], maxv.as_deref()),
        u16t(),
        WLayout::Chunked {
            btree: root,
            chunk: vec![2],
            element_size: 2,
        },
        None,
    );
    let d = b.header(&m);
    let root = b.group(&[("d", d)]);
    b.finish(root)
}

fn node(b: &mut B, s: &NodeShape, level: u8, keys: &[ChunkKey], children: &[u64]) -> u64 {
    let mut out = Vec::new();
    s.encode_node(&mut out, level, UNDEF, UNDEF, keys, children);
    b.put(&out)
}

const SENT: u64 = 1 << 62;

/// A leaf over chunks `idx` (chunk positions) with a sentinel right key.
fn leaf(b: &mut B, s: &NodeShape, chunks: &[u64], idx: &[u64], right: u64) -> u64 {
    let mut keys: Vec<ChunkKey> = idx.iter().map(|&i| key(&[2 * i, 0], 4)).collect();
    keys.push(key(&[right, 0], 0));
    let children: Vec<u64> = idx.iter().map(|&i| chunks[i as usize]).collect();
    node(b, s, 0, &keys, &children)
}

fn expect_u16(vals: &[u16]) -> Vec<u8> {
    vals.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn a_valid_two_level_tree() {
    let bytes = chunked_1d(8, Some(UNLIMITED), 4, |b, s, c| {
        let l0 = leaf(b, s, c, &[0, 1], 4);
        let l1 = leaf(b, s, c, &[2, 3], SENT);
        node(
            b,
            s,
            1,
            &[key(&[0, 0], 4), key(&[4, 0], 4), key(&[SENT, 0], 0)],
            &[l0, l1],
        )
    });
    let f = File::parse(&bytes).unwrap();
    assert_eq!(
        f.dataset_bytes("/d").unwrap(),
        expect_u16(&[0, 1, 10, 11, 20, 21, 30, 31])
    );
    let idx = f.chunks("/d").unwrap();
    assert_eq!(idx.len(), 4);
    assert_eq!(idx[3].offsets, [6]);
    let r = f.check();
    // sibling links are all UNDEF here: noted, not an error
    assert!(r.is_ok(), "{r}");
    assert!(
        matches!(r.notes[..], [Note::SiblingLinks { count: 2, .. }]),
        "{r}"
    );
    same_both_ways(&f);
}

#[test]
fn btree_node_errors() {
    // wrong node type
    let bytes = chunked_1d(4, None, 2, |b, s, c| {
        let a = leaf(b, s, c, &[0, 1], SENT);
        b.buf[a as usize + 4] = 0;
        a
    });
    let f = File::parse(&bytes).unwrap();
    let root = match f.dataset("/d").unwrap().layout {
        Layout::Chunked { btree, .. } => btree.unwrap(),
        _ => unreachable!(),
    };
    let want = Error::BTreeNodeType {
        structure: Structure::BTreeNode,
        offset: root,
        found: 0,
    };
    assert_eq!(f.dataset_bytes("/d").unwrap_err(), want);
    assert_eq!(f.check().problems[0].error, want);

    // more entries than 2K
    let bytes = chunked_1d(4, None, 2, |b, s, c| {
        let a = leaf(b, s, c, &[0, 1], SENT);
        b.buf[a as usize + 6] = 65;
        a
    });
    let f = File::parse(&bytes).unwrap();
    assert!(matches!(
        f.dataset_bytes("/d").unwrap_err(),
        Error::BTreeEntries {
            entries: 65,
            max: 64,
            ..
        }
    ));

    // bad signature
    let bytes = chunked_1d(4, None, 2, |b, s, c| {
        let a = leaf(b, s, c, &[0, 1], SENT);
        b.buf[a as usize] = b'X';
        a
    });
    let f = File::parse(&bytes).unwrap();
    assert!(matches!(
        f.chunks("/d").unwrap_err(),
        Error::BadSignature {
            structure: Structure::BTreeNode,
            ..
        }
    ));
}

#[test]
fn btree_levels_cycles_and_sharing() {
    // root at level 2 over a leaf
    let mut l0 = 0;
    let bytes = chunked_1d(4, None, 2, |b, s, c| {
        l0 = leaf(b, s, c, &[0, 1], SENT);
        node(b, s, 2, &[key(&[0, 0], 4), key(&[SENT, 0], 0)], &[l0])
    });
    let f = File::parse(&bytes).unwrap();
    let root = l0
        + NodeShape {
            sizes: D,
            k: CHUNK_K,
            ndims: 2,
        }
        .node_len() as u64;
    let want = Error::BTreeLevel {
        structure: Structure::BTreeNode,
        offset: l0,
        parent: root,
        expected: 1,
        found: 0,
    };
    assert_eq!(f.check().problems[0].error, want);
    // libhdf5 (h5dump 1.10) reads it, trusting the child's own level: so do reads
    assert_eq!(f.dataset_bytes("/d").unwrap(), expect_u16(&[0, 1, 10, 11]));
    assert_eq!(f.chunks("/d").unwrap().len(), 2);
    same_both_ways(&f);

    // an internal node whose child is itself: terminates
    let bytes = chunked_1d(4, None, 2, |b, s, _| {
        let a = b.alloc(s.node_len());
        let mut out = Vec::new();
        s.encode_node(
            &mut out,
            1,
            UNDEF,
            UNDEF,
            &[key(&[0, 0], 4), key(&[SENT, 0], 0)],
            &[a],
        );
        b.put_at(a, &out);
        a
    });
    let f = File::parse(&bytes).unwrap();
    let root = match f.dataset("/d").unwrap().layout {
        Layout::Chunked { btree, .. } => btree.unwrap(),
        _ => unreachable!(),
    };
    let want = Error::BTreeCycle {
        structure: Structure::BTreeNode,
        offset: root,
        parent: root,
    };
    assert_eq!(f.dataset_bytes("/d").unwrap_err(), want);
    assert_eq!(f.chunks("/d").unwrap_err(), want);
    let r = f.check();
    assert_eq!(r.problems[0].error, want, "{r}");
    same_both_ways(&f);

    // a longer cycle through a "leaf" level: root (1) -> a (1) -> root
    let bytes = chunked_1d(4, None, 2, |b, s, _| {
        let root = b.alloc(s.node_len());
        let a = node(b, s, 1, &[key(&[0, 0], 4), key(&[SENT, 0], 0)], &[root]);
        let mut out = Vec::new();
        s.encode_node(
            &mut out,
            1,
            UNDEF,
            UNDEF,
            &[key(&[0, 0], 4), key(&[SENT, 0], 0)],
            &[a],
        );
        b.put_at(root, &out);
        root
    });
    let f = File::parse(&bytes).unwrap();
    assert!(matches!(
        f.dataset_bytes("/d").unwrap_err(),
        Error::BTreeCycle { .. }
    ));
    assert!(verify(&bytes)
        .errors()
        .any(|e| matches!(e, Error::BTreeCycle { .. })));

    // two entries sharing one child: reported, but reads follow lookups
    let mut shared = 0;
    let bytes = chunked_1d(8, None, 2, |b, s, c| {
        shared = leaf(b, s, c, &[0, 1], 4);
        node(
            b,
            s,
            1,
            &[key(&[0, 0], 4), key(&[4, 0], 4), key(&[SENT, 0], 0)],
            &[shared, shared],
        )
    });
    let f = File::parse(&bytes).unwrap();
    assert_eq!(
        f.dataset_bytes("/d").unwrap(),
        expect_u16(&[0, 1, 10, 11, 0, 0, 0, 0])
    );
    let r = f.check();
    assert!(
        r.errors()
            .any(|e| matches!(e, Error::BTreeNodeReused { offset, .. } if *offset == shared)),
        "{r}"
    );
    same_both_ways(&f);
}

#[test]
fn btree_key_problems() {
    // keys not strictly increasing in a leaf: chunk 1 before chunk 0
    let bytes = chunked_1d(4, None, 2, |b, s, c| {
        let keys = [key(&[2, 0], 4), key(&[0, 0], 4), key(&[SENT, 0], 0)];
        node(b, s, 0, &keys, &[c[1], c[0]])
    });
    let f = File::parse(&bytes).unwrap();
    let r = f.check();
    assert!(
        matches!(
            &r.problems[0].error,
            Error::BTreeKeyOrder { index: 0, left, right, .. } if left == &[1, 0] && right == &[0, 0]
        ),
        "{r}"
    );
    // libhdf5's binary search lands on entry 1 for both chunks: it finds chunk 0
    // there, but not chunk 1 (entry 0)
    assert_eq!(f.dataset_bytes("/d").unwrap(), expect_u16(&[0, 1, 0, 0]));
    assert!(
        r.errors().any(|e| matches!(
            e,
            Error::ChunkUnreachable {
                entry: 0,
                found: None,
                ..
            }
        )),
        "{r}"
    );
    same_both_ways(&f);

    // a child whose keys leave the parent's range: entry 2 of the second leaf lies
    // below the parent's key 1, so lookups of chunk 2 go to the first leaf
    let mut l1 = 0;
    let bytes = chunked_1d(12, None, 6, |b, s, c| {
        let l0 = leaf(b, s, c, &[0, 1], 4);
        l1 = leaf(b, s, c, &[2, 3, 5], SENT);
        node(
            b,
            s,
            1,
            &[key(&[0, 0], 4), key(&[6, 0], 4), key(&[SENT, 0], 0)],
            &[l0, l1],
        )
    });
    let f = File::parse(&bytes).unwrap();
    let r = f.check();
    assert!(
        matches!(
            &r.problems[0].error,
            Error::BTreeKeyRange { offset, index: 1, first, low, .. } if *offset == l1 && first == &[2, 0] && low == &[3, 0]
        ),
        "{r}"
    );
    assert!(r.errors().any(|e| matches!(e, Error::ChunkUnreachable { entry: 0, chunk, found: None, .. } if chunk == &[4])), "{r}");
    // the chunk listed by iteration but not found by lookups reads as fill
    assert_eq!(f.chunks("/d").unwrap().len(), 5);
    assert_eq!(
        f.dataset_bytes("/d").unwrap(),
        expect_u16(&[0, 1, 10, 11, 0, 0, 30, 31, 0, 0, 50, 51])
    );
    same_both_ways(&f);
}

#[test]
fn chunk_entry_problems() {
    // misaligned offset, outside max dims, wrong size, past EOF
    let bytes = chunked_1d(4, Some(6), 2, |b, s, c| {
        let keys = [
            key(&[0, 0], 4),
            key(&[3, 0], 4),
            key(&[8, 0], 4),
            key(&[10, 0], 3),
            key(&[SENT, 0], 0),
        ];
        node(b, s, 0, &keys, &[c[0], c[1], c[1] + 4, 1 << 40])
    });
    let f = File::parse(&bytes).unwrap();
    let leaf = match f.dataset("/d").unwrap().layout {
        Layout::Chunked { btree, .. } => btree.unwrap(),
        _ => unreachable!(),
    };
    let r = f.check();
    let e: Vec<&Error> = r.errors().collect();
    assert_eq!(
        e[0],
        &Error::ChunkMisaligned {
            structure: Structure::BTreeNode,
            offset: leaf,
            entry: 1,
            chunk: vec![3, 0]
        }
    );
    assert_eq!(
        e[1],
        &Error::ChunkOutsideMaxDims {
            structure: Structure::BTreeNode,
            offset: leaf,
            entry: 2,
            chunk: vec![8],
            max_dims: vec![6]
        }
    );
    assert_eq!(
        e[2],
        &Error::ChunkOutsideMaxDims {
            structure: Structure::BTreeNode,
            offset: leaf,
            entry: 3,
            chunk: vec![10],
            max_dims: vec![6]
        }
    );
    assert_eq!(
        e[3],
        &Error::ChunkSize {
            structure: Structure::BTreeNode,
            offset: leaf,
            entry: 3,
            size: 3,
            expected: 4
        }
    );
    assert_eq!(
        e[4],
        &Error::PastEof {
            structure: Structure::Chunk,
            offset: 1 << 40,
            len: 4,
            eof: bytes.len() as u64
        }
    );
    // chunk 1 at offset 3: scaled to 1, found by lookups of chunk 1
    assert_eq!(f.dataset_bytes("/d").unwrap(), expect_u16(&[0, 1, 10, 11]));
    assert!(
        r.notes
            .iter()
            .any(|n| matches!(n, Note::ChunksBeyondDims { count: 2, .. })),
        "{r}"
    );
    same_both_ways(&f);
    // the extra chunk at c[1] + 4 overlaps nothing, the one at c[1] overlaps itself not
    assert!(
        !r.errors().any(|e| matches!(e, Error::Overlap { .. })),
        "{r}"
    );
}

#[test]
fn missing_and_beyond_chunks_are_notes() {
    let bytes = chunked_1d(6, Some(UNLIMITED), 4, |b, s, c| {
        leaf(b, s, c, &[0, 3], SENT)
    });
    let f = File::parse(&bytes).unwrap();
    assert_eq!(
        f.dataset_bytes("/d").unwrap(),
        expect_u16(&[0, 1, 0, 0, 0, 0])
    );
    let r = f.check();
    assert!(r.is_ok(), "{r}");
    let addr = f.dataset("/d").unwrap().addr;
    assert!(r.notes.contains(&Note::MissingChunks {
        path: "/d".into(),
        offset: addr,
        missing: 2,
        total: 3
    }));
    assert!(r.notes.contains(&Note::ChunksBeyondDims {
        path: "/d".into(),
        offset: addr,
        count: 1
    }));
    same_both_ways(&f);
}

#[test]
fn torn_growth_beyond_the_dims_is_a_note() {
    // a leaf grown from 2 to 4 entries whose count landed but whose key 2 still
    // holds the sentinel (a power cut between the two phase-2 writes)
    let torn = |dims: u64| {
        chunked_1d(dims, Some(UNLIMITED), 4, |b, s, c| {
            let keys = [
                key(&[0, 0], 4),
                key(&[2, 0], 4),
                key(&[SENT, 0], 4),
                key(&[6, 0], 4),
                key(&[SENT, 0], 0),
            ];
            node(b, s, 0, &keys, &[c[0], c[1], c[2], c[3]])
        })
    };
    let bytes = torn(4);
    let f = File::parse(&bytes).unwrap();
    let r = f.check();
    assert!(r.is_ok(), "{r}");
    assert!(
        r.notes
            .iter()
            .any(|n| matches!(n, Note::StrayEntries { count: 2, .. })),
        "{r}"
    );
    assert_eq!(f.dataset_bytes("/d").unwrap(), expect_u16(&[0, 1, 10, 11]));
    same_both_ways(&f);
    // once the dims cover those chunks, it is a lost chunk
    let bytes = torn(8);
    let f = File::parse(&bytes).unwrap();
    let r = f.check();
    assert!(
        matches!(r.problems[0].error, Error::BTreeKeyOrder { index: 2, .. }),
        "{r}"
    );
    assert_eq!(r.problems.len(), 1, "{r}");
    // chunk 2's key is the sentinel: for readers it does not exist
    assert!(
        r.notes.iter().any(|n| matches!(
            n,
            Note::MissingChunks {
                missing: 1,
                total: 4,
                ..
            }
        )),
        "{r}"
    );
    assert_eq!(
        f.dataset_bytes("/d").unwrap(),
        expect_u16(&[0, 1, 10, 11, 0, 0, 30, 31])
    );
    same_both_ways(&f);
}

#[test]
fn rank_one_comparison_is_libhdf5s_special_case() {
    // chunk 1's key carries a nonzero element-size coordinate: for rank 1 libhdf5
    // compares dim 0 only and still finds it; for rank 2 the lexicographic
    // comparison does not
    let bytes = chunked_1d(4, None, 2, |b, s, c| {
        let keys = [key(&[0, 0], 4), key(&[2, 2], 4), key(&[SENT, 0], 0)];
        node(b, s, 0, &keys, &[c[0], c[1]])
    });
    let f = File::parse(&bytes).unwrap();
    assert_eq!(f.dataset_bytes("/d").unwrap(), expect_u16(&[0, 1, 10, 11]));
    assert!(matches!(
        f.check().problems[0].error,
        Error::ChunkMisaligned { entry: 1, .. }
    ));
    same_both_ways(&f);

    let mut b = B::new();
    let c0 = b.put(&[1, 2]);
    let c1 = b.put(&[3, 4]);
    let s = NodeShape {
        sizes: D,
        k: CHUNK_K,
        ndims: 3,
    };
    let keys = [
        key(&[0, 0, 0], 2),
        key(&[0, 1, 1], 2),
        key(&[SENT, 0, 0], 0),
    ];
    let root = node(&mut b, &s, 0, &keys, &[c0, c1]);
    let m = b.dataset_msgs(
        simple(&[1, 2], None),
        u8t(),
        WLayout::Chunked {
            btree: root,
            chunk: vec![1, 1],
            element_size: 1,
        },
        None,
    );
    let d = b.header(&m);
    let root = b.group(&[("d", d)]);
    let bytes = b.finish(root);
    let f = File::parse(&bytes).unwrap();
    assert_eq!(f.dataset_bytes("/d").unwrap(), [1, 0]);
    let r = f.check();
    assert!(
        r.errors()
            .any(|e| matches!(e, Error::ChunkUnreachable { entry: 1, .. })),
        "{r}"
    );
    same_both_ways(&f);
}

#[test]
fn overlapping_structures() {
    let mut b = B::new();
    let data = b.put(&[0; 16]);
    let m1 = b.dataset_msgs(
        simple(&[8], None),
        u16t(),
        WLayout::Contiguous {
            addr: data,
            size: 16,
        },
        None,
    );
    let m2 = b.dataset_msgs(
        simple(&[4], None),
        u16t(),
        WLayout::Contiguous {
            addr: data + 8,
            size: 8,
        },
        None,
    );
    let d1 = b.header(&m1);
    let d2 = b.header(&m2);
    let root = b.group(&[("a", d1), ("b", d2)]);
    let bytes = b.finish(root);
    let f = File::parse(&bytes).unwrap();
    let r = f.check();
    assert_eq!(
        r.problems[0].error,
        Error::Overlap {
            structure: Structure::ContiguousData,
            offset: data + 8,
            len: 8,
            other: Structure::ContiguousData,
            other_offset: data,
            other_len: 16
        }
    );
}

// ----- against the writer -----

fn written(f: impl FnOnce(&crate::File)) -> Vec<u8> {
    let storage = crate::MemStorage::new();
    let file = crate::File::options().create_in(storage.clone()).unwrap();
    f(&file);
    file.finish().unwrap();
    storage.bytes()
}

#[test]
fn writer_trees_read_the_same_with_and_without_lookups() {
    let bytes = written(|f| {
        // appended frames, a commit every 7, the tree grown in place
        let d = f
            .dataset::<u16>("/a")
            .frames([9])
            .chunk_frames(2)
            .create()
            .unwrap();
        for i in 0..4200u16 {
            d.append(&[i; 9]).unwrap();
            if i % 7 == 0 {
                f.flush().unwrap();
            }
        }
        // the same, filtered, with partial rows re-encoded
        let d = f
            .dataset::<u32>("/af")
            .frames([5])
            .chunk_frames(3)
            .shuffle()
            .deflate(3)
            .fletcher32()
            .create()
            .unwrap();
        for i in 0..500u32 {
            d.append(&[i, i, i, 0, 1]).unwrap();
            if i % 4 == 0 {
                f.flush().unwrap();
            }
        }
        f.dataset::<u8>("/b")
            .shape([5000])
            .chunk([1])
            .create_with_data(&vec![3; 5000])
            .unwrap();
        let c = f
            .dataset::<i16>("/c")
            .shape([40, 30])
            .chunk([7, 4])
            .lz4()
            .create()
            .unwrap();
        c.write_region(&[3, 5], &[30, 20], &vec![-2; 600]).unwrap();
    });
    let f = File::parse(&bytes).unwrap();
    same_both_ways(&f);
    let r = f.check();
    assert!(r.is_ok(), "{r}");
    // the writer keeps sibling links consistent
    assert!(
        !r.notes
            .iter()
            .any(|n| matches!(n, Note::SiblingLinks { .. })),
        "{r}"
    );
    let a = f.dataset_bytes("/a").unwrap();
    assert_eq!(a.len(), 4200 * 9 * 2);
    assert_eq!(&a[a.len() - 2..], &4199u16.to_le_bytes());
    let af = f.dataset_bytes("/af").unwrap();
    assert_eq!(&af[af.len() - 20..af.len() - 16], &499u32.to_le_bytes());
    assert_eq!(f.dataset("/af").unwrap().filters.len(), 3);
}

/// Random damage to B-tree nodes: the shortcut never changes a result.
#[test]
fn shortcut_matches_lookups_on_damaged_trees() {
    let bytes = written(|f| {
        f.dataset::<u8>("/b")
            .shape([300, 2])
            .chunk([2, 1])
            .create_with_data(&vec![5; 600])
            .unwrap();
        f.dataset::<u8>("/c")
            .shape([700])
            .chunk([3])
            .create_with_data(&vec![6; 700])
            .unwrap();
    });
    let nodes: Vec<usize> = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w == b"TREE")
        .map(|(i, _)| i)
        .collect();
    let mut x = 0x1234_5678_9abc_def1u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut b = bytes.clone();
    for _ in 0..3000 {
        let n = nodes[(next() % nodes.len() as u64) as usize];
        // keys and children live in the first part of the node
        let at = n + 8 + (next() % 600) as usize;
        let old = b[at];
        b[at] = match next() % 4 {
            0 => old.wrapping_add(1),
            1 => old.wrapping_sub(1),
            2 => 0,
            _ => next() as u8,
        };
        let f = File::parse(&b).unwrap();
        same_both_ways(&f);
        b[at] = old;
    }
}

/// A version 0 or 1 superblock (format-notes §1.1) of `len` bytes in a file of
/// `len + 16` bytes; version 1 stores the chunk K `k`.
fn superblock_v01(version: u8, k: u16) -> Vec<u8> {
    let mut b = crate::format::SIGNATURE.to_vec();
    b.extend_from_slice(&[version, 0, 0, 0, 0, 8, 8, 0]);
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    if version == 1 {
        b.extend_from_slice(&k.to_le_bytes());
        b.extend_from_slice(&[0, 0]);
    }
    let len = b.len() as u64 + 32 + 40;
    for a in [0, UNDEF, len + 16, UNDEF] {
        b.extend_from_slice(&a.to_le_bytes());
    }
    // root entry: name offset, header address, cache type 1, reserved, scratch
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&[0; 4 + 16]);
    b.extend_from_slice(&[0; 16]);
    b
}

#[test]
fn superblock_v0_v1_fields_and_errors() {
    let v0 = superblock_v01(0, 0);
    let sb = Superblock::parse(&v0).unwrap();
    assert_eq!((sb.version, sb.len, sb.root, sb.eof), (0, 96, 96, 112));
    assert_eq!(sb.chunk_k, 32);
    let v1 = superblock_v01(1, 64);
    let sb = Superblock::parse(&v1).unwrap();
    assert_eq!((sb.version, sb.len, sb.root, sb.chunk_k), (1, 100, 100, 64));
    assert!(Superblock::parse(&superblock_v01(1, 0))
        .unwrap_err()
        .to_string()
        .contains("chunk B-tree internal K is 0"));

    let mut fs = v0.clone();
    fs[9] = 1; // free-space version
    assert!(matches!(
        Superblock::parse(&fs).unwrap_err(),
        Error::Malformed {
            structure: Structure::Superblock,
            ..
        }
    ));
    let mut k0 = v0.clone();
    k0[16] = 0; // group leaf K
    assert!(Superblock::parse(&k0).is_err());
    let mut fl = v0.clone();
    fl[20] = 0x08;
    assert!(Superblock::parse(&fl).is_err());
    let mut drv = v0.clone();
    drv[48..56].copy_from_slice(&200u64.to_le_bytes()); // driver info block
    assert!(matches!(
        Superblock::parse(&drv).unwrap_err(),
        Error::Unsupported { .. }
    ));
    let mut eof = v0.clone();
    eof[40..48].copy_from_slice(&4096u64.to_le_bytes());
    assert!(matches!(
        Superblock::parse(&eof).unwrap_err(),
        Error::ShortFile { .. }
    ));
    for n in [12, 20, 50, 95] {
        assert!(matches!(
            Superblock::parse(&v0[..n]).unwrap_err(),
            Error::Short { .. }
        ));
    }
}
