//! Files written with the writer API, read back with `h5sink::read`: every dataset's
//! bytes compared with what was written; then corrupted copies, which must fail with
//! the precise error; then random mutations, which must never panic.

use std::time::Instant;

use h5sink::format::btree_v1::{NodeShape, CHUNK_K};
use h5sink::format::Sizes;
use h5sink::read::{self, Error, Note, Structure};
use h5sink::{MemStorage, UNLIMITED};

/// Runs `f` on a new in-memory file, finishes it and returns its bytes.
fn build(f: impl FnOnce(&h5sink::File) -> h5sink::Result<()>) -> Vec<u8> {
    let storage = MemStorage::new();
    let file = h5sink::File::options().create_in(storage.clone()).unwrap();
    f(&file).unwrap();
    file.finish().unwrap();
    storage.bytes()
}

fn le<T: bytemuck::Pod>(v: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(v).to_vec()
}

/// A row-major model of a dataset: fill everywhere, then regions written.
struct Model {
    dims: Vec<u64>,
    elem: usize,
    data: Vec<u8>,
}

impl Model {
    fn new(dims: &[u64], fill: &[u8]) -> Model {
        let n: u64 = dims.iter().product();
        Model {
            dims: dims.to_vec(),
            elem: fill.len(),
            data: fill.repeat(n as usize),
        }
    }

    fn write(&mut self, start: &[u64], count: &[u64], src: &[u8]) {
        let rank = self.dims.len();
        let n: u64 = count.iter().product();
        for i in 0..n {
            // index i in the region → coordinates
            let mut rem = i;
            let mut off = 0u64;
            for d in (0..rank).rev() {
                let c = rem % count[d];
                rem /= count[d];
                let stride: u64 = self.dims[d + 1..].iter().product();
                off += (start[d] + c) * stride;
            }
            let (o, s) = (off as usize * self.elem, i as usize * self.elem);
            self.data[o..o + self.elem].copy_from_slice(&src[s..s + self.elem]);
        }
    }
}

#[test]
fn groups_and_attributes() {
    let bytes = build(|f| {
        f.root().attr("instrument").write_str("sCMOS-1")?;
        f.root().attr("gain").write_scalar(2.5f64)?;
        f.root().attr("roi").write(&[1u32, 2, 3, 4])?;
        let g = f.create_group("/camera")?;
        g.attr("note").write_fixed_str("héllo")?;
        g.attr("names").write_strs(&["", "a", "héllo wörld"])?;
        g.attr("grid")
            .write_array(&[2, 3], &[1i16, -2, 3, -4, 5, -6])?;
        f.create_group("/camera/sub")?;
        f.create_group("/camera/sub/deeper")?;
        f.create_group("/empty")?;
        Ok(())
    });
    let file = read::File::parse(&bytes).unwrap();
    assert_eq!(file.superblock().version, 2);
    assert_eq!(file.eof(), bytes.len() as u64);
    let paths: Vec<&str> = file.objects().iter().map(|o| o.path()).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/camera",
            "/empty",
            "/camera/sub",
            "/camera/sub/deeper"
        ]
    );
    let root = file.get("/").unwrap();
    let a = root.attr("instrument").unwrap();
    assert!(matches!(a.datatype, read::Datatype::VarLenString { .. }));
    assert_eq!(a.strings().unwrap(), ["sCMOS-1"]);
    let gain = root.attr("gain").unwrap();
    assert_eq!(gain.raw, 2.5f64.to_le_bytes());
    assert_eq!(gain.space.kind, read::SpaceKind::Scalar);
    assert!(matches!(
        gain.datatype,
        read::Datatype::Float { size: 8, .. }
    ));
    let roi = root.attr("roi").unwrap();
    assert_eq!(roi.raw, le(&[1u32, 2, 3, 4]));
    assert_eq!(roi.space.dims, [4]);
    assert!(matches!(
        roi.datatype,
        read::Datatype::Integer {
            size: 4,
            signed: false,
            ..
        }
    ));
    let cam = file.get("/camera").unwrap();
    assert_eq!(cam.attr("note").unwrap().strings().unwrap(), ["héllo"]);
    assert_eq!(
        cam.attr("names").unwrap().strings().unwrap(),
        ["", "a", "héllo wörld"]
    );
    let grid = cam.attr("grid").unwrap();
    assert_eq!(grid.space.dims, [2, 3]);
    assert_eq!(grid.raw, le(&[1i16, -2, 3, -4, 5, -6]));
    let g = file.group("/camera").unwrap();
    assert_eq!(
        g.links.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["sub"]
    );
    assert!(file.group("/camera/sub/deeper").unwrap().links.is_empty());
    assert!(matches!(
        file.get("/camera/nope"),
        Err(Error::NotFound { structure: Structure::Group, offset, .. }) if offset == cam.addr()
    ));
    assert!(matches!(
        file.dataset("/camera"),
        Err(Error::WrongKind { .. })
    ));
    let report = file.check();
    assert!(report.is_ok(), "{report}");
    assert!(read::verify(&bytes).is_ok());
}

/// Writes datasets of every layout with region writes and returns the bytes and the
/// expected content of each dataset.
fn mixed_file() -> (Vec<u8>, Vec<(&'static str, Model)>) {
    let mut models = Vec::new();
    let bytes = build(|f| {
        // contiguous, whole
        let data: Vec<u16> = (0..60).collect();
        f.dataset::<u16>("/contig")
            .shape([5, 12])
            .create_with_data(&data)?;
        let mut m = Model::new(&[5, 12], &[0, 0]);
        m.write(&[0, 0], &[5, 12], &le(&data));
        models.push(("/contig", m));

        // contiguous with a fill value and one region
        let d = f
            .dataset::<i32>("/contig_fill")
            .shape([4, 5, 6])
            .fill_value(-7)
            .create()?;
        let region: Vec<i32> = (0..2 * 3 * 2).collect();
        d.write_region(&[1, 2, 3], &[2, 3, 2], &region)?;
        let mut m = Model::new(&[4, 5, 6], &(-7i32).to_le_bytes());
        m.write(&[1, 2, 3], &[2, 3, 2], &le(&region));
        models.push(("/contig_fill", m));

        // contiguous never written
        f.dataset::<f64>("/contig_empty").shape([3]).create()?;
        models.push(("/contig_empty", Model::new(&[3], &[0; 8])));

        // compact
        let data: Vec<i32> = (0..12).collect();
        f.create_group("/g")?;
        f.dataset::<i32>("/g/compact")
            .shape([3, 4])
            .compact()
            .create_with_data(&data)?;
        let mut m = Model::new(&[3, 4], &[0; 4]);
        m.write(&[0, 0], &[3, 4], &le(&data));
        models.push(("/g/compact", m));

        // compact with fill and a region
        let d = f
            .dataset::<u8>("/g/compact_fill")
            .shape([7])
            .compact()
            .fill_value(9)
            .create()?;
        d.write_region(&[2], &[3], &[1, 2, 3])?;
        let mut m = Model::new(&[7], &[9]);
        m.write(&[2], &[3], &[1, 2, 3]);
        models.push(("/g/compact_fill", m));

        // chunked with edge chunks, fill value and overlapping region writes
        let c = f
            .dataset::<f32>("/g/chunked")
            .shape([10, 7])
            .chunk([3, 4])
            .fill_value(-1.0)
            .create()?;
        let mut m = Model::new(&[10, 7], &(-1.0f32).to_le_bytes());
        let r1: Vec<f32> = (0..20).map(|x| x as f32).collect();
        c.write_region(&[1, 1], &[4, 5], &r1)?;
        m.write(&[1, 1], &[4, 5], &le(&r1));
        let r2: Vec<f32> = (0..6).map(|x| 100.0 + x as f32).collect();
        c.write_region(&[8, 4], &[2, 3], &r2)?;
        m.write(&[8, 4], &[2, 3], &le(&r2));
        let r3: Vec<f32> = (0..4).map(|x| 200.0 + x as f32).collect();
        c.write_region(&[3, 3], &[2, 2], &r3)?;
        m.write(&[3, 3], &[2, 2], &le(&r3));
        models.push(("/g/chunked", m));

        // chunked 1-D (libhdf5's special-cased comparison), extendable, appended
        // with a partial last chunk
        let c = f
            .dataset::<u64>("/one_d")
            .frames([])
            .chunk_frames(8)
            .create()?;
        let r: Vec<u64> = (0..100).map(|x| x * 3).collect();
        c.append(&r[..45])?;
        f.flush()?;
        c.append(&r[45..])?;
        let mut m = Model::new(&[100], &[0; 8]);
        m.write(&[0], &[100], &le(&r));
        models.push(("/one_d", m));

        // chunked 3-D with chunks never written
        let c = f
            .dataset::<i16>("/three_d")
            .shape([6, 5, 4])
            .chunk([2, 2, 3])
            .create()?;
        let mut m = Model::new(&[6, 5, 4], &[0, 0]);
        let r: Vec<i16> = (0..2 * 3 * 2).map(|x| -(x as i16)).collect();
        c.write_region(&[4, 2, 2], &[2, 3, 2], &r)?;
        m.write(&[4, 2, 2], &[2, 3, 2], &le(&r));
        models.push(("/three_d", m));

        // scalar
        f.dataset::<u8>("/scalar")
            .shape([])
            .create_with_data(&[42])?;
        models.push(("/scalar", {
            let mut m = Model::new(&[], &[0]);
            m.data = vec![42];
            m
        }));
        Ok(())
    });
    (bytes, models)
}

#[test]
fn every_layout_reads_back() {
    let (bytes, models) = mixed_file();
    let file = read::File::parse(&bytes).unwrap();
    for (path, m) in &models {
        let d = file.dataset(path).unwrap();
        assert_eq!(d.dims(), &m.dims[..], "{path}");
        assert_eq!(d.element_size() as usize, m.elem, "{path}");
        assert_eq!(
            file.dataset_bytes(path).unwrap(),
            m.data,
            "{path} ({})",
            d.layout.kind()
        );
    }
    let c = file.dataset("/g/chunked").unwrap();
    assert_eq!(c.chunk_dims(), Some(vec![3, 4]));
    assert_eq!(c.fill.as_deref(), Some(&(-1.0f32).to_le_bytes()[..]));
    assert!(matches!(c.datatype, read::Datatype::Float { size: 4, .. }));
    assert_eq!(file.dataset("/one_d").unwrap().max_dims(), [UNLIMITED]);
    assert_eq!(
        file.dataset("/contig_fill").unwrap().layout.kind(),
        "contiguous"
    );
    assert_eq!(file.dataset("/g/compact").unwrap().layout.kind(), "compact");
    // the chunk index lists exactly the chunks written
    let chunks = file.chunks("/three_d").unwrap();
    let offs: Vec<Vec<u64>> = chunks.iter().map(|c| c.offsets.clone()).collect();
    assert_eq!(
        offs,
        [[4, 2, 0], [4, 2, 3], [4, 4, 0], [4, 4, 3]].map(|a| a.to_vec())
    );
    assert!(chunks
        .iter()
        .all(|c| c.size == 2 * 2 * 3 * 2 && c.filter_mask == 0));
    let report = file.check();
    assert!(report.is_ok(), "{report}");
    // partially written chunked datasets: missing chunks are notes, not problems
    assert!(report.notes.iter().any(|n| matches!(n,
        Note::MissingChunks { path, missing: 14, total: 18, .. } if path == "/three_d")));
    assert_eq!(read::verify(&bytes), report);
}

#[test]
fn many_chunks_make_a_multi_level_tree() {
    let t = Instant::now();
    // 50,000 chunks of one row each: 782 leaves, 13 level-1 nodes, one root
    let rows = 50_000u64;
    let data: Vec<u32> = (0..rows as u32 * 4).collect();
    let bytes = build(|f| {
        f.dataset::<u32>("/rows")
            .shape([rows, 4])
            .chunk([1, 4])
            .create_with_data(&data)?;
        // a 2-D grid of chunks, partly written
        let d = f
            .dataset::<u8>("/grid")
            .shape([300, 250])
            .chunk([3, 2])
            .create()?;
        let r: Vec<u8> = (0..150 * 250).map(|x| x as u8).collect();
        d.write_region(&[75, 0], &[150, 250], &r)
    });
    eprintln!("wrote {} bytes in {:?}", bytes.len(), t.elapsed());
    let t = Instant::now();
    let file = read::File::parse(&bytes).unwrap();
    assert_eq!(file.dataset_bytes("/rows").unwrap(), le(&data));
    let mut m = Model::new(&[300, 250], &[0]);
    let r: Vec<u8> = (0..150 * 250).map(|x| x as u8).collect();
    m.write(&[75, 0], &[150, 250], &r);
    assert_eq!(file.dataset_bytes("/grid").unwrap(), m.data);
    let chunks = file.chunks("/rows").unwrap();
    assert_eq!(chunks.len(), rows as usize);
    assert!(chunks
        .iter()
        .enumerate()
        .all(|(i, c)| c.offsets == [i as u64, 0]));
    let report = file.check();
    assert!(report.is_ok(), "{report}");
    assert!(report.notes.iter().any(|n| matches!(n,
        Note::MissingChunks { path, missing, total: 12500, .. } if path == "/grid" && *missing == 12500 - 50 * 125)));
    eprintln!("read and checked in {:?}", t.elapsed());
    // the root of /rows is at level 2
    let root = match &file.dataset("/rows").unwrap().layout {
        read::Layout::Chunked { btree, .. } => btree.unwrap() as usize,
        _ => unreachable!(),
    };
    assert_eq!(&bytes[root..root + 6], b"TREE\x01\x02");
}

#[test]
fn committed_states_parse_before_finish() {
    let storage = MemStorage::new();
    let f = h5sink::File::options().create_in(storage.clone()).unwrap();
    let d = f
        .dataset::<u16>("/d")
        .shape([20, 3])
        .chunk([4, 3])
        .create()
        .unwrap();
    // before the first commit the dataset is not linked yet
    let bytes = storage.bytes();
    let file = read::File::parse(&bytes).unwrap();
    assert!(file.get("/d").is_err());
    let mut m = Model::new(&[20, 3], &[0, 0]);
    for step in 0..5u64 {
        let rows: Vec<u16> = (0..12).map(|x| (step * 100 + x) as u16).collect();
        d.write_region(&[step * 4, 0], &[4, 3], &rows).unwrap();
        m.write(&[step * 4, 0], &[4, 3], &le(&rows));
        f.flush().unwrap();
        let bytes = storage.bytes();
        let file = read::File::parse(&bytes).unwrap();
        assert_eq!(file.dataset_bytes("/d").unwrap(), m.data, "step {step}");
        let report = file.check();
        assert!(report.is_ok(), "step {step}: {report}");
        let missing = 4 - step;
        assert_eq!(
            report
                .notes
                .iter()
                .any(|n| matches!(n, Note::MissingChunks { missing: x, .. } if *x == missing)),
            missing > 0,
            "step {step}: {report}"
        );
    }
    f.finish().unwrap();
    assert!(read::verify(&storage.bytes()).is_ok());
}

// ----- corruption -----

/// Byte offsets of every occurrence of `sig`.
fn find_all(bytes: &[u8], sig: &[u8]) -> Vec<usize> {
    bytes
        .windows(sig.len())
        .enumerate()
        .filter(|(_, w)| *w == sig)
        .map(|(i, _)| i)
        .collect()
}

/// A file with a continuation chunk (many attributes), a vlen string attribute and a
/// chunked dataset of 200 chunks (a two-level tree).
fn corruptible() -> Vec<u8> {
    build(|f| {
        let g = f.create_group("/g")?;
        for i in 0..40 {
            g.attr(&format!("attribute number {i}"))
                .write(&[i as u64; 4])?;
        }
        f.root()
            .attr("s")
            .write_str("a string in the global heap")?;
        let data: Vec<u16> = (0..200 * 5).map(|x| x as u16).collect();
        f.dataset::<u16>("/g/d")
            .shape([200, 5])
            .chunk([1, 5])
            .create_with_data(&data)?;
        Ok(())
    })
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= 0x40;
    b
}

#[test]
fn corrupt_checksums_are_reported_precisely() {
    let bytes = corruptible();
    let file = read::File::parse(&bytes).unwrap();
    assert!(file.check().is_ok());
    let g_addr = file.get("/g").unwrap().addr();

    // superblock: the root address field
    let e = read::File::parse(&flip(&bytes, 40)).err().unwrap();
    assert!(
        matches!(
            e,
            Error::BadChecksum {
                structure: Structure::Superblock,
                offset: 0,
                ..
            }
        ),
        "{e}"
    );
    // superblock signature
    let e = read::File::parse(&flip(&bytes, 1)).err().unwrap();
    assert_eq!(
        e,
        Error::BadSignature {
            structure: Structure::Superblock,
            offset: 0
        }
    );

    // root object header, inside its message area
    let e = read::File::parse(&flip(&bytes, 48 + 12)).err().unwrap();
    assert!(
        matches!(
            e,
            Error::BadChecksum {
                structure: Structure::ObjectHeader,
                offset: 48,
                ..
            }
        ),
        "{e}"
    );
    // the checksum field itself
    let e = read::File::parse(&flip(&bytes, 48 + 7 + bytes[48 + 6] as usize))
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            Error::BadChecksum {
                structure: Structure::ObjectHeader,
                offset: 48,
                ..
            }
        ),
        "{e}"
    );

    // the continuation chunks (the root's: its 64-byte chunk 0 only holds the
    // group messages; and /g's, with the attributes)
    let ochk = find_all(&bytes, b"OCHK");
    assert_eq!(ochk.len(), 2);
    for &o in &ochk {
        let e = read::File::parse(&flip(&bytes, o + 20)).err().unwrap();
        assert!(
            matches!(e, Error::BadChecksum { structure: Structure::ContinuationChunk, offset, .. } if offset == o as u64),
            "{e}"
        );
        // the signature
        let e = read::File::parse(&flip(&bytes, o)).err().unwrap();
        assert_eq!(
            e,
            Error::BadSignature {
                structure: Structure::ContinuationChunk,
                offset: o as u64
            }
        );
    }

    // every reachable OHDR: a flipped byte is a checksum error at that header, and
    // verify() names the object and still checks the rest of the file
    for &o in &find_all(&bytes, b"OHDR") {
        let bad = flip(&bytes, o + 8);
        let e = read::File::parse(&bad).err().unwrap();
        assert!(
            matches!(e, Error::BadChecksum { structure: Structure::ObjectHeader, offset, .. } if offset == o as u64),
            "{e}"
        );
        let r = read::verify(&bad);
        assert_eq!(r.problems.len(), 1, "{r}");
    }
    // the /g header: verify reports it with its path
    let r = read::verify(&flip(&bytes, g_addr as usize + 8));
    assert_eq!(r.problems[0].path, "/g");

    // the global heap collection (not checksummed): a broken signature
    let gcol = find_all(&bytes, b"GCOL");
    assert_eq!(gcol.len(), 1);
    let e = read::File::parse(&flip(&bytes, gcol[0])).err().unwrap();
    assert_eq!(
        e,
        Error::BadSignature {
            structure: Structure::GlobalHeap,
            offset: gcol[0] as u64
        }
    );
}

#[test]
fn truncation_below_eof_is_a_short_file() {
    let bytes = corruptible();
    let eof = bytes.len() as u64;
    for cut in [eof - 1, eof / 2, 49] {
        let e = read::File::parse(&bytes[..cut as usize]).err().unwrap();
        assert_eq!(
            e,
            Error::ShortFile {
                structure: Structure::Superblock,
                offset: 0,
                eof,
                file_len: cut
            }
        );
    }
    assert!(matches!(
        read::File::parse(&bytes[..20]),
        Err(Error::Short {
            structure: Structure::Superblock,
            ..
        })
    ));
    // a longer file is fine (and noted)
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0xAB; 1000]);
    let r = read::verify(&longer);
    assert!(r.is_ok(), "{r}");
    assert!(r.notes.contains(&Note::BytesPastEof {
        offset: eof,
        file_len: eof + 1000
    }));
}

/// The chunk tree of /g/d: (root address, node shape).
fn tree_of(bytes: &[u8]) -> (usize, NodeShape) {
    let file = read::File::parse(bytes).unwrap();
    let d = file.dataset("/g/d").unwrap();
    let read::Layout::Chunked { btree, .. } = d.layout else {
        unreachable!()
    };
    let shape = NodeShape {
        sizes: Sizes::DEFAULT,
        k: CHUNK_K,
        ndims: 3,
    };
    (btree.unwrap() as usize, shape)
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[test]
fn btree_children_past_eof() {
    let bytes = corruptible();
    let eof = bytes.len() as u64;
    let (root, shape) = tree_of(&bytes);
    assert_eq!(&bytes[root..root + 6], b"TREE\x01\x01", "a two-level tree");
    let node_len = shape.node_len() as u64;

    // an internal node's child past the end of file: its full node size counts
    for child_addr in [eof + 100, eof - node_len + 1, u64::MAX] {
        let mut bad = bytes.clone();
        put_u64(&mut bad, root + shape.child_offset(1), child_addr);
        let want = Error::PastEof {
            structure: Structure::BTreeNode,
            offset: child_addr,
            len: node_len,
            eof,
        };
        let file = read::File::parse(&bad).unwrap();
        assert_eq!(file.dataset_bytes("/g/d").err().unwrap(), want);
        assert_eq!(file.chunks("/g/d").err().unwrap(), want);
        let r = file.check();
        assert_eq!(r.problems[0].error, want, "{r}");
        assert_eq!(r.problems[0].path, "/g/d");
    }

    // a leaf's chunk past the end of file
    let leaf = get_u64(&bytes, root + shape.child_offset(0)) as usize;
    let mut bad = bytes.clone();
    put_u64(&mut bad, leaf + shape.child_offset(3), eof - 4);
    let want = Error::PastEof {
        structure: Structure::Chunk,
        offset: eof - 4,
        len: 10,
        eof,
    };
    let file = read::File::parse(&bad).unwrap();
    assert_eq!(file.dataset_bytes("/g/d").err().unwrap(), want);
    let r = file.check();
    assert_eq!(r.problems[0].error, want, "{r}");
}

#[test]
fn btree_swapped_keys() {
    let bytes = corruptible();
    let (root, shape) = tree_of(&bytes);
    let leaf = get_u64(&bytes, root + shape.child_offset(0)) as usize;
    let mut bad = bytes.clone();
    let (k2, k3) = (shape.key_offset(2), shape.key_offset(3));
    let key_len = shape.key_len();
    let a = bad[leaf + k2..leaf + k2 + key_len].to_vec();
    let b = bad[leaf + k3..leaf + k3 + key_len].to_vec();
    bad[leaf + k2..leaf + k2 + key_len].copy_from_slice(&b);
    bad[leaf + k3..leaf + k3 + key_len].copy_from_slice(&a);
    let file = read::File::parse(&bad).unwrap();
    let r = file.check();
    let errors: Vec<&Error> = r.errors().collect();
    // key 1 < key 2 (was 3) but key 2 (3) > key 3 (2): pairs (2,3) is out of order
    assert_eq!(
        errors[0],
        &Error::BTreeKeyOrder {
            structure: Structure::BTreeNode,
            offset: leaf as u64,
            index: 2,
            left: vec![3, 0, 0],
            right: vec![2, 0, 0],
        },
        "{r}"
    );
    // a lookup of row 2 or 3 cannot find the right chunk any more
    assert!(errors
        .iter()
        .any(|e| matches!(e, Error::ChunkUnreachable { offset, .. } if *offset == leaf as u64)));
    // reading follows libhdf5's lookups: still no error
    assert!(file.dataset_bytes("/g/d").is_ok());
}

// ----- robustness -----

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Everything the reader offers, on possibly corrupt bytes: must not panic.
fn exercise(bytes: &[u8]) -> bool {
    let report = read::verify(bytes);
    let _ = report.to_string();
    let Ok(file) = read::File::parse(bytes) else {
        return false;
    };
    for d in file.datasets() {
        let _ = file.read(d, 1 << 24);
        let _ = file.chunk_index(d);
    }
    true
}

#[test]
fn random_mutations_never_panic() {
    let seeds = [corruptible(), mixed_file().0, {
        // a three-level tree grown in place, kept small: 4,200 one-element chunks;
        // and filtered chunks
        build(|f| {
            let t = f.dataset::<u8>("/t").frames([]).create()?;
            for i in 0..42 {
                t.append(&[i as u8; 100])?;
                f.flush()?;
            }
            f.root().attr("x").write_strs(&["a", "bc"])?;
            let z = f
                .dataset::<u16>("/z")
                .shape([20, 20])
                .chunk([5, 5])
                .shuffle()
                .deflate(5)
                .fletcher32()
                .create()?;
            z.write(&(0..400).map(|x| x as u16 / 3).collect::<Vec<_>>())?;
            let l = f
                .dataset::<u32>("/l")
                .frames([8])
                .chunk_frames(4)
                .lz4()
                .create()?;
            l.append(&(0..8 * 30).collect::<Vec<u32>>())?;
            Ok(())
        })
    }];
    // H5SINK_FUZZ_ITERS=n runs n mutations per seed (default 2,000)
    let iters: usize = std::env::var("H5SINK_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let t = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for seed in &seeds {
        let t = Instant::now();
        // metadata is what matters: aim most mutations at structures
        let mut targets: Vec<usize> = vec![0];
        for sig in [&b"OHDR"[..], b"OCHK", b"TREE", b"GCOL"] {
            targets.extend(find_all(seed, sig));
        }
        let mut bytes = seed.clone();
        for _ in 0..iters {
            let at = if rng.below(10) < 7 {
                let base = targets[rng.below(targets.len() as u64) as usize];
                (base + rng.below(700) as usize).min(bytes.len() - 1)
            } else {
                rng.below(bytes.len() as u64) as usize
            };
            let old = bytes[at];
            bytes[at] ^= (rng.below(255) + 1) as u8;
            parsed += usize::from(exercise(&bytes));
            bytes[at] = old;
        }
        for _ in 0..iters / 10 {
            let cut = rng.below(bytes.len() as u64) as usize;
            exercise(&bytes[..cut]);
        }
        eprintln!("seed of {} bytes: {:?}", seed.len(), t.elapsed());
    }
    eprintln!(
        "{} mutations and truncations in {:?}; {parsed} mutations still parsed",
        seeds.len() * (iters + iters / 10),
        t.elapsed()
    );
}

// ----- filters -----

/// Noise that no compressor shrinks (so optional filters are skipped: mask bits).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    (0..n).map(|_| r.next() as u8).collect()
}

#[test]
fn filtered_datasets_read_back() {
    let mut models: Vec<(&str, Model)> = Vec::new();
    let bytes = build(|f| {
        let smooth: Vec<u16> = (0..30 * 40).map(|x| (x / 7) as u16).collect();
        for (path, pipeline) in [
            ("/sdf", 0),
            ("/lz4", 1),
            ("/bslz4", 2),
            ("/fl", 3),
            ("/fld", 4),
        ] {
            let b = f
                .dataset::<u16>(path)
                .shape([30, 40])
                .chunk([8, 16])
                .fill_value(9);
            let b = match pipeline {
                0 => b.shuffle().deflate(6).fletcher32(),
                1 => b.lz4(),
                2 => b.bitshuffle_lz4(),
                3 => b.fletcher32(),
                // the checksum under the compressor: inflate yields the chunk and the sum
                _ => b.fletcher32().deflate(4),
            };
            let d = b.create()?;
            let mut m = Model::new(&[30, 40], &9u16.to_le_bytes());
            d.write_region(&[0, 0], &[30, 40], &smooth)?;
            m.write(&[0, 0], &[30, 40], &le(&smooth));
            // overwrite part of existing chunks: decoded, merged, re-encoded
            let patch: Vec<u16> = (0..5 * 9).map(|x| 1000 + x as u16).collect();
            d.write_region(&[6, 14], &[5, 9], &patch)?;
            m.write(&[6, 14], &[5, 9], &le(&patch));
            models.push((path, m));
        }
        // incompressible chunks: deflate skipped (mask bit 1), fletcher32 kept
        let raw = noise(16 * 16, 7);
        f.dataset::<u8>("/noise")
            .shape([16, 16])
            .chunk([8, 8])
            .shuffle()
            .deflate(9)
            .fletcher32()
            .create_with_data(&raw)?;
        let mut m = Model::new(&[16, 16], &[0]);
        m.write(&[0, 0], &[16, 16], &raw);
        models.push(("/noise", m));
        // appended, filtered, partial rows committed and completed
        let a = f
            .dataset::<i32>("/app")
            .frames([3, 5])
            .chunk_frames(4)
            .shuffle()
            .deflate(1)
            .create()?;
        let mut all = Vec::new();
        for i in 0..23i32 {
            let frame: Vec<i32> = (0..15).map(|x| i * 100 + x).collect();
            a.append(&frame)?;
            all.extend_from_slice(&frame);
            if i % 3 == 1 {
                f.flush()?;
            }
        }
        let mut m = Model::new(&[23, 3, 5], &[0; 4]);
        m.write(&[0, 0, 0], &[23, 3, 5], &le(&all));
        models.push(("/app", m));
        Ok(())
    });
    let file = read::File::parse(&bytes).unwrap();
    for (path, m) in &models {
        assert_eq!(file.dataset(path).unwrap().dims(), &m.dims[..], "{path}");
        assert_eq!(file.dataset_bytes(path).unwrap(), m.data, "{path}");
    }
    let ids: Vec<u16> = file
        .dataset("/sdf")
        .unwrap()
        .filters
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(ids, [2, 1, 3]);
    assert_eq!(file.dataset("/bslz4").unwrap().filters[0].id, 32008);
    // stored sizes vary, and incompressible chunks skip deflate
    let noise_chunks = file.chunks("/noise").unwrap();
    assert!(noise_chunks
        .iter()
        .all(|c| c.filter_mask == 0b010 && c.size == 64 + 4));
    let sdf = file.chunks("/sdf").unwrap();
    assert!(sdf
        .iter()
        .all(|c| c.filter_mask == 0 && c.size < 8 * 16 * 2));
    let report = file.check();
    assert!(report.is_ok(), "{report}");

    // a flipped byte inside a Fletcher-32 chunk fails the read, precisely there
    let c = &file.chunks("/fl").unwrap()[2];
    let bad = flip(&bytes, c.addr as usize + 5);
    let f2 = read::File::parse(&bad).unwrap();
    assert_eq!(
        f2.dataset_bytes("/fl").unwrap_err(),
        Error::ChunkDecode {
            structure: Structure::Chunk,
            offset: c.addr,
            reason: "fletcher32: checksum mismatch".into()
        }
    );
    // a truncated deflate stream
    let c = &file.chunks("/sdf").unwrap()[0];
    let mut bad = bytes.clone();
    for b in &mut bad[c.addr as usize..c.addr as usize + c.size as usize] {
        *b = 0;
    }
    let f2 = read::File::parse(&bad).unwrap();
    assert!(matches!(
        f2.dataset_bytes("/sdf"),
        Err(Error::ChunkDecode { offset, .. }) if offset == c.addr
    ));
}

// ----- sibling pointers and torn keys -----

#[test]
fn sibling_pointers_that_lead_nowhere() {
    let bytes = corruptible();
    let eof = bytes.len() as u64;
    let (root, shape) = tree_of(&bytes);
    let leaf0 = get_u64(&bytes, root + shape.child_offset(0));
    let leaf1 = get_u64(&bytes, root + shape.child_offset(1));
    let leaf2 = get_u64(&bytes, root + shape.child_offset(2));
    let right = shape.right_sibling_offset();
    assert_eq!(get_u64(&bytes, leaf0 as usize + right), leaf1);

    // past the end of file: reads work, check reports the chain
    let mut bad = bytes.clone();
    put_u64(&mut bad, leaf0 as usize + right, eof + 8);
    let file = read::File::parse(&bad).unwrap();
    assert!(file.dataset_bytes("/g/d").is_ok());
    let r = file.check();
    assert_eq!(
        r.problems[0].error,
        Error::SiblingChain {
            structure: Structure::BTreeNode,
            offset: leaf0,
            target: eof + 8,
            cause: Box::new(Error::PastEof {
                structure: Structure::BTreeNode,
                offset: eof + 8,
                len: shape.node_len() as u64,
                eof
            })
        },
        "{r}"
    );
    // back to the first leaf: a cycle libhdf5's H5B_get_info would never leave
    let mut bad = bytes.clone();
    put_u64(&mut bad, leaf1 as usize + right, leaf0);
    let r = read::verify(&bad);
    assert_eq!(
        r.problems[0].error,
        Error::SiblingChain {
            structure: Structure::BTreeNode,
            offset: leaf1,
            target: leaf0,
            cause: Box::new(Error::BTreeCycle {
                structure: Structure::BTreeNode,
                offset: leaf0,
                parent: leaf1
            })
        },
        "{r}"
    );
    // skipping a valid node is only a note
    let mut odd = bytes.clone();
    put_u64(&mut odd, leaf0 as usize + right, leaf2);
    let r = read::verify(&odd);
    assert!(r.is_ok(), "{r}");
    assert!(r
        .notes
        .iter()
        .any(|n| matches!(n, Note::SiblingLinks { offset, .. } if *offset == leaf0)));
}

#[test]
fn a_torn_key_is_misaligned() {
    // a 2-row chunk dataset appended in place: a torn dim-0 offset of a right bound
    let bytes = build(|f| {
        let d = f.dataset::<u8>("/d").frames([4]).chunk_frames(2).create()?;
        for i in 0..10u8 {
            d.append(&[i; 4])?;
            f.flush()?;
        }
        Ok(())
    });
    let file = read::File::parse(&bytes).unwrap();
    assert!(file.check().is_ok());
    let root = match &file.dataset("/d").unwrap().layout {
        read::Layout::Chunked { btree, .. } => btree.unwrap() as usize,
        _ => unreachable!(),
    };
    let shape = NodeShape {
        sizes: Sizes::DEFAULT,
        k: CHUNK_K,
        ndims: 3,
    };
    assert_eq!(&bytes[root..root + 8], b"TREE\x01\x00\x05\x00");
    // the right key (key 5): the far sentinel, a multiple of 2
    let at = root + shape.key_offset(5) + 8;
    let sentinel = get_u64(&bytes, at);
    assert_eq!(sentinel % 2, 0);
    let mut bad = bytes.clone();
    put_u64(&mut bad, at, sentinel - 1);
    let r = read::verify(&bad);
    assert_eq!(
        r.problems[0].error,
        Error::BTreeKeyMisaligned {
            structure: Structure::BTreeNode,
            offset: root as u64,
            index: 5,
            key: vec![sentinel - 1, 0, 0]
        },
        "{r}"
    );
    // an entry's key: misaligned chunk
    let mut bad = bytes.clone();
    let at = root + shape.key_offset(3) + 8;
    put_u64(&mut bad, at, 7);
    let r = read::verify(&bad);
    assert!(
        r.errors().any(|e| matches!(e,
        Error::ChunkMisaligned { entry: 3, chunk, .. } if chunk == &[7, 0, 0])),
        "{r}"
    );
}

// ----- crash states -----

use h5sink::sink::testing::{replay_power, Op, RecordingStorage};

/// Writes a file through a recording storage: groups, attributes, a fixed chunked
/// dataset written in regions, and two appended datasets (one filtered), with a
/// commit after every few frames. Returns the log and the frames appended.
fn recorded(durability: h5sink::Durability) -> (Vec<Op>, Vec<Vec<u16>>) {
    let storage = RecordingStorage::new();
    let f = h5sink::File::options()
        .durability(durability)
        .create_in(storage.clone())
        .unwrap();
    let mut frames = Vec::new();
    f.root().attr("run").write_str("crash states").unwrap();
    let g = f.create_group("/g").unwrap();
    let a = g
        .dataset::<u16>("a")
        .frames([2, 3])
        .chunk_frames(3)
        .create()
        .unwrap();
    let z = g
        .dataset::<u16>("z")
        .frames([6])
        .chunk_frames(2)
        .shuffle()
        .deflate(4)
        .fletcher32()
        .create()
        .unwrap();
    let fixed = f
        .dataset::<u8>("/fixed")
        .shape([12, 12])
        .chunk([4, 4])
        .create()
        .unwrap();
    // one value per chunk: 4,200 chunks, a three-level tree grown in place
    let deep = f.dataset::<u16>("/deep").frames([]).create().unwrap();
    for i in 0..150u16 {
        let frame: Vec<u16> = (0..6).map(|x| i * 10 + x).collect();
        a.append(&frame).unwrap();
        z.append(&frame).unwrap();
        deep.append(&(i * 28..i * 28 + 28).collect::<Vec<u16>>())
            .unwrap();
        frames.push(frame);
        if i % 4 == 3 {
            f.flush().unwrap();
        }
        if i % 50 == 0 {
            let r = (i / 50) as u64;
            fixed
                .write_region(&[r * 4, 0], &[4, 12], &[i as u8; 48])
                .unwrap();
            g.attr(&format!("at{i}")).write_scalar(i).unwrap();
        }
    }
    f.finish().unwrap();
    (storage.ops(), frames)
}

/// Everything a crash state must satisfy once the file exists: no problem at all,
/// and appended datasets hold exactly a prefix of the frames.
fn check_state(bytes: &[u8], frames: &[Vec<u16>], what: &str) -> u64 {
    let report = read::verify(bytes);
    assert!(report.is_ok(), "{what}: {report}");
    let file = read::File::parse(bytes).unwrap();
    let mut n = 0;
    for path in ["/g/a", "/g/z"] {
        let Ok(d) = file.dataset(path) else { continue };
        let k = d.dims()[0] as usize;
        let want: Vec<u8> = frames[..k].iter().flat_map(|f| le(f)).collect();
        assert_eq!(file.dataset_bytes(path).unwrap(), want, "{what}: {path}");
        n += k as u64;
    }
    if let Ok(d) = file.dataset("/deep") {
        let k = d.dims()[0] as u16;
        let want: Vec<u8> = le(&(0..k).collect::<Vec<u16>>());
        assert_eq!(file.dataset_bytes("/deep").unwrap(), want, "{what}: /deep");
        n += u64::from(k);
    }
    if let Ok(d) = file.dataset("/fixed") {
        let data = file.dataset_bytes(&d.path).unwrap();
        // each 4-row band is all zeros (unwritten) or all one value
        for band in data.chunks(48) {
            assert!(band.iter().all(|&b| b == band[0]), "{what}: {band:?}");
        }
    }
    n
}

#[test]
fn every_kill_state_verifies() {
    let t = Instant::now();
    let (ops, frames) = recorded(h5sink::Durability::Process);
    let mut buf: Vec<u8> = Vec::new();
    let (mut states, mut before_superblock, mut max_frames) = (0, 0, 0);
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Write { offset, data } => {
                let end = *offset as usize + data.len();
                if buf.len() < end {
                    buf.resize(end, 0);
                }
                buf[*offset as usize..end].copy_from_slice(data);
            }
            Op::SetLen(n) => buf.resize(*n as usize, 0),
            Op::Sync => continue,
        }
        // before the first superblock the file is not an HDF5 file yet
        if buf.len() < 48 || buf[..8] != *b"\x89HDF\r\n\x1a\n" {
            before_superblock += 1;
            continue;
        }
        max_frames = max_frames.max(check_state(&buf, &frames, &format!("after op {i}")));
        states += 1;
    }
    assert_eq!(max_frames, 300 + 4200, "the final state holds every frame");
    assert!(before_superblock < 10);
    eprintln!(
        "{states} kill states of {} ops verified in {:?}",
        ops.len(),
        t.elapsed()
    );
}

#[test]
fn power_loss_states_verify() {
    let t = Instant::now();
    let (ops, frames) = recorded(h5sink::Durability::PowerLoss);
    let mut rng = Rng(0x5eed);
    let first = ops
        .iter()
        .position(|o| matches!(o, Op::Write { offset: 0, .. }))
        .unwrap();
    let (mut states, mut torn) = (0, 0);
    for _ in 0..300 {
        let n = first + 1 + rng.below((ops.len() - first) as u64) as usize;
        let p = rng.below(4);
        let bytes = replay_power(&ops, n, &mut |_| rng.below(4) <= p);
        if bytes.len() < 48 || bytes[..8] != *b"\x89HDF\r\n\x1a\n" {
            continue;
        }
        check_state(&bytes, &frames, &format!("power cut at op {n}"));
        states += 1;
        let r = read::verify(&bytes);
        torn += usize::from(
            r.notes
                .iter()
                .any(|n| matches!(n, Note::StrayEntries { .. })),
        );
    }
    eprintln!(
        "{states} power-loss states verified in {:?}; {torn} with a torn growth beyond the dims",
        t.elapsed()
    );
    assert!(torn > 0, "the sample meets the torn-growth state");
}

// ----- other element types -----

#[derive(h5sink::H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
enum Color {
    Red = 0,
    Blue = 42,
}

#[derive(h5sink::H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Rec {
    t: f64,
    flags: u8,
    ok: bool,
    color: Color,
    pos: [i16; 3],
    z: h5sink::Complex<f32>,
    label: h5sink::FixedAscii<5>,
    be: h5sink::BigEndian<u32>,
}

fn rec(i: u32) -> Rec {
    Rec {
        t: f64::from(i) * 1.5,
        flags: i as u8,
        ok: i % 2 == 0,
        color: if i % 3 == 0 { Color::Red } else { Color::Blue },
        pos: [i as i16, -(i as i16), 7],
        z: h5sink::Complex::new(i as f32, -1.0),
        label: h5sink::FixedAscii::new(&format!("L{i}")).unwrap(),
        be: h5sink::BigEndian(0x0102_0304 + i),
    }
}

#[test]
fn compound_enum_array_and_vlen_string_datasets() {
    use h5sink::{H5Type, VarLenUnicode};
    let recs: Vec<Rec> = (0..10).map(rec).collect();
    let strs = ["", "a", "héllo", "a longer string of text"];
    let bytes = build(|f| {
        f.dataset::<Rec>("/rec")
            .shape([10])
            .chunk([4])
            .create_with_data(&recs)?;
        f.dataset::<[[u16; 3]; 2]>("/arr")
            .shape([2])
            .create_with_data(&[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]])?;
        f.dataset::<bool>("/flags")
            .shape([3])
            .compact()
            .create_with_data(&[true, false, true])?;
        f.root().attr("color").write_scalar(Color::Blue)?;
        f.root().attr("rec").write_scalar(rec(3))?;
        let s = f.dataset::<VarLenUnicode>("/s").shape([4]).create()?;
        s.write_strs(&strs)?;
        let a = f
            .dataset::<VarLenUnicode>("/log")
            .frames([])
            .chunk_frames(3)
            .create()?;
        for (i, s) in strs.iter().enumerate() {
            a.append_strs(&[*s, &format!("#{i}")])?;
            f.flush()?;
        }
        Ok(())
    });
    let file = read::File::parse(&bytes).unwrap();
    let r = file.check();
    assert!(r.is_ok(), "{r}");

    let d = file.dataset("/rec").unwrap();
    assert_eq!(
        d.datatype,
        read::Datatype::Other {
            class: 6,
            size: std::mem::size_of::<Rec>() as u32
        }
    );
    assert_eq!(
        file.dataset_bytes("/rec").unwrap(),
        &*Rec::store_slice(&recs)
    );
    let arr = file.dataset("/arr").unwrap();
    assert!(matches!(
        arr.datatype,
        read::Datatype::Other {
            class: 10,
            size: 12
        }
    ));
    assert_eq!(
        file.dataset_bytes("/arr").unwrap(),
        le(&[1u16, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    );
    assert!(matches!(
        file.dataset("/flags").unwrap().datatype,
        read::Datatype::Other { class: 8, size: 1 }
    ));
    assert_eq!(file.dataset_bytes("/flags").unwrap(), [1, 0, 1]);
    let root = file.get("/").unwrap();
    assert_eq!(root.attr("color").unwrap().raw, [42]);
    assert_eq!(root.attr("rec").unwrap().raw, &*Rec::store_slice(&[rec(3)]));

    let s = file.dataset("/s").unwrap();
    assert!(matches!(
        s.datatype,
        read::Datatype::VarLenString { size: 16, .. }
    ));
    let got: Vec<Vec<u8>> = file.vlen_elements(s).unwrap();
    assert_eq!(got, strs.map(|s| s.as_bytes().to_vec()));
    let log = file.dataset("/log").unwrap();
    assert_eq!(log.dims(), [8]);
    let got = file.vlen_elements(log).unwrap();
    let want: Vec<Vec<u8>> = strs
        .iter()
        .enumerate()
        .flat_map(|(i, s)| [s.as_bytes().to_vec(), format!("#{i}").into_bytes()])
        .collect();
    assert_eq!(got, want);
    assert!(matches!(
        file.vlen_elements(d),
        Err(Error::WrongKind { .. })
    ));

    // a descriptor pointing at a missing heap object is a problem for check()
    let raw = file.dataset_bytes("/s").unwrap();
    let addr = match file.dataset("/s").unwrap().layout {
        read::Layout::Contiguous { addr, .. } => addr.unwrap() as usize,
        _ => unreachable!(),
    };
    let mut bad = bytes.clone();
    bad[addr + 16 + 12] = 99; // element 1's object index
    assert_eq!(&bad[addr + 16..addr + 20], &raw[16..20]);
    let r = read::verify(&bad);
    assert!(
        matches!(&r.problems[0].error, Error::Malformed { structure: Structure::GlobalHeap, reason, .. } if reason.contains("99")),
        "{r}"
    );
}
