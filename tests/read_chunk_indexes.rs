//! The reader on chunked datasets with layout message version 4 and 5, as h5py
//! (libhdf5 2.0) writes them with `libver="latest"` and `libver=("v110", "v114")`:
//! every chunk index (single chunk, implicit, fixed array small and paged,
//! extensible array with secondary blocks and paged data blocks, v2 B-tree of depth
//! 1 and 2), unfiltered and with gzip + shuffle (and Fletcher-32), with partial edge
//! chunks and chunks never written. Every value is compared with what h5py reads;
//! `h5sink check` and `ls` accept the files; targeted corruptions of each index
//! structure are errors naming it; byte mutations never panic; reopening such a
//! file for appending is refused. The files come from `tests/py/chunk_indexes.py`.

use h5sink::read::{self, ChunkIndex, Layout, Structure};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod common;
use common::{checksum_len, dims, fix_checksum, hex_or_dash as hex, python_ok};

/// h5py's lines for one dataset: the "D" line (shape, type, data) and the "C"
/// line (its chunks as `H5Dchunk_iter` lists them), each without the first three
/// words.
#[derive(Default)]
struct Want {
    data: String,
    chunks: String,
}

/// The fixture directory (written once per test binary) and h5py's manifest:
/// file name → dataset path → its lines.
type Manifest = BTreeMap<String, BTreeMap<String, Want>>;

fn fixtures() -> &'static (PathBuf, Manifest) {
    static F: OnceLock<(PathBuf, Manifest)> = OnceLock::new();
    F.get_or_init(|| {
        let dir = common::tempdir();
        let path = dir.keep();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/chunk_indexes.py");
        let (stdout, _) = python_ok(&[&script, &path]);
        let mut m = Manifest::new();
        for line in stdout.lines() {
            let mut it = line.splitn(4, ' ');
            let kind = it.next().unwrap();
            let file = it.next().unwrap().to_string();
            let ds = it.next().unwrap().to_string();
            let rest = it.next().unwrap().to_string();
            let w = m.entry(file).or_default().entry(ds).or_default();
            match kind {
                "D" => w.data = rest,
                "C" => w.chunks = rest,
                k => panic!("unknown line kind {k}"),
            }
        }
        (path, m)
    })
}

fn file_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().0.join(name)).unwrap()
}

/// The index libhdf5 picks for each dataset of the fixtures, by name.
fn expected_index(path: &str) -> &'static str {
    // "/raw/fa/small" (latest.h5, v110.h5) or "/fa_paged" (small.h5)
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let kind = if parts.len() == 3 {
        parts[1]
    } else {
        parts[0].split('_').next().unwrap()
    };
    match kind {
        "single" => "single chunk",
        "implicit" => "implicit",
        "fa" => "fixed array",
        "ea" => "extensible array",
        "bt" => "v2 B-tree",
        other => panic!("no expectation for {other}"),
    }
}

/// Our reader's line for a dataset, in the manifest's format.
fn describe(f: &read::File<'_>, d: &read::Dataset) -> String {
    let data = f.dataset_bytes(&d.path).unwrap();
    let filters = d
        .filters
        .iter()
        .map(|x| x.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "{} {} {} {} {} {}",
        dims(d.dims()),
        dims(d.max_dims()),
        d.element_size(),
        dims(&d.chunk_dims().unwrap()),
        if filters.is_empty() { "-" } else { &filters },
        hex(&data)
    )
}

/// Our chunk list in the manifest's format: count, then
/// `offset:mask:address:size` sorted by offset.
fn chunk_list(f: &read::File<'_>, d: &read::Dataset) -> String {
    let mut c = f.chunk_index(d).unwrap();
    c.sort_by(|a, b| a.offsets.cmp(&b.offsets));
    let items: Vec<String> = c
        .iter()
        .map(|e| {
            let off: Vec<String> = e.offsets.iter().map(|o| o.to_string()).collect();
            format!("{}:{}:{}:{}", off.join(","), e.filter_mask, e.addr, e.size)
        })
        .collect();
    format!(
        "{} {}",
        c.len(),
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(";")
        }
    )
}

#[test]
fn every_index_reads_like_h5py() {
    let (_, manifest) = fixtures();
    let mut datasets = 0;
    for (name, want) in manifest {
        let bytes = file_bytes(name);
        let f = read::File::parse(&bytes).unwrap();
        let got: Vec<&read::Dataset> = f.datasets().collect();
        assert_eq!(got.len(), want.len(), "{name}");
        for d in got {
            let w = want
                .get(&d.path)
                .unwrap_or_else(|| panic!("{name}: {} not in h5py's list", d.path));
            assert!(
                describe(&f, d) == w.data,
                "{name} {}: values differ",
                d.path
            );
            if w.chunks == "skip" {
                // libhdf5 cannot list these (see the script); all 2 x 19 are there
                assert_eq!(f.chunk_index(d).unwrap().len(), 38, "{name} {}", d.path);
            } else {
                assert_eq!(chunk_list(&f, d), w.chunks, "{name} {}: chunks", d.path);
            }
            let Layout::Chunked { index, version, .. } = &d.layout else {
                panic!("{name} {}: not chunked", d.path)
            };
            assert_eq!(index.name(), expected_index(&d.path), "{name} {}", d.path);
            // libhdf5 2.0 writes version 5 for filtered datasets with libver latest
            let want_version = if name != "v110.h5" && !d.filters.is_empty() {
                5
            } else {
                4
            };
            assert_eq!(*version, want_version, "{name} {}", d.path);
            datasets += 1;
        }
        let report = read::verify(&bytes);
        assert!(report.is_ok(), "{name}: {report}");
        assert!(f.check().is_ok(), "{name}");
    }
    assert_eq!(datasets, 2 * 26 + 6);
}

/// Counts `sig` in `bytes`.
fn count(bytes: &[u8], sig: &[u8]) -> usize {
    bytes.windows(sig.len()).filter(|w| *w == sig).count()
}

/// The fixtures reach the parts of each structure they are meant to: paged fixed
/// array data blocks with a page never initialised, extensible array secondary
/// blocks and paged data blocks, v2 B-trees of depth 1 and 2, chunks never written.
#[test]
fn fixtures_cover_every_structure() {
    let bytes = file_bytes("latest.h5");
    let f = read::File::parse(&bytes).unwrap();
    assert!(count(&bytes, b"EASB") >= 2 * 4);
    // B-tree depths, from each header (depth at offset 12)
    let depths: Vec<u16> = common::find_all(&bytes, b"BTHD")
        .iter()
        .map(|&i| u16::from_le_bytes([bytes[i + 12], bytes[i + 13]]))
        .collect();
    assert!(depths.contains(&2), "{depths:?}");
    assert!(depths.contains(&1), "{depths:?}");
    // a paged fixed array: 2500 elements in pages of 1024, page 1 never written
    let d = f.dataset("/raw/fa/pages_gap").unwrap();
    let chunks = f.chunk_index(d).unwrap();
    assert_eq!(chunks.len(), 750);
    assert!(chunks
        .iter()
        .all(|c| c.offsets[0] < 10 || c.offsets[0] >= 45));
    // the extensible array: 2101 chunks written, up to element 139999, some of them
    // in paged data blocks (from element 131060)
    for p in ["/raw/ea/big", "/gz/ea/big"] {
        let d = f.dataset(p).unwrap();
        let chunks = f.chunk_index(d).unwrap();
        assert_eq!(chunks.len(), 1000 + 100 + 1000 + 10, "{p}");
        assert!(chunks.iter().any(|c| c.offsets[0] == 133500));
        if p.starts_with("/gz") {
            assert!(chunks.iter().all(|c| c.size > 0 && c.size < 64), "{p}");
        }
    }
    // chunks never written are not listed
    let d = f.dataset("/raw/ea/grown").unwrap();
    let offsets: Vec<Vec<u64>> = f
        .chunk_index(d)
        .unwrap()
        .into_iter()
        .map(|c| c.offsets)
        .collect();
    assert_eq!(offsets, vec![vec![0, 0], vec![2, 0], vec![8, 0]]);
    // the unwritten single chunk has no entry; the implicit index lists the chunks
    // inside the dims (3 x 3 of the 6 x 3 allocated for the maximum dims) where the
    // grid of the maximum dims puts them: chunk (1, 0) is the 4th of the storage
    let d = f.dataset("/raw/single/unwritten").unwrap();
    assert!(f.chunk_index(d).unwrap().is_empty());
    let d = f.dataset("/raw/implicit/max").unwrap();
    let c = f.chunk_index(d).unwrap();
    assert_eq!(c.len(), 3 * 3);
    assert_eq!(c[3].offsets, vec![4, 0]);
    assert_eq!(c[3].addr, c[0].addr + 3 * 40);
    // v2 B-tree records come in key order
    let d = f.dataset("/gz/bt/big").unwrap();
    let offsets: Vec<Vec<u64>> = f
        .chunk_index(d)
        .unwrap()
        .into_iter()
        .map(|c| c.offsets)
        .collect();
    assert_eq!(offsets.len(), 6400);
    assert!(offsets.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn check_and_ls_accept_every_index() {
    let dir = &fixtures().0;
    for name in ["latest.h5", "v110.h5", "small.h5"] {
        let path = dir.join(name);
        let (code, out) = common::run_cli(&["check"], &path);
        assert_eq!(code, Some(0), "{name}: {out}");
        assert!(out.contains("ok: no problems found"), "{out}");
        if name != "small.h5" {
            // every chunk h5py lists is counted, every filtered one decoded
            let count = |prefix: &str| -> u64 {
                fixtures().1[name]
                    .iter()
                    .filter(|(p, _)| p.starts_with(prefix))
                    .map(|(_, w)| match w.chunks.split(' ').next().unwrap() {
                        "skip" => 38,
                        n => n.parse::<u64>().unwrap(),
                    })
                    .sum()
            };
            let (all, filtered) = (count("/"), count("/gz/"));
            let want = format!(
                "checked: {all} chunks in 26 chunked datasets, {filtered} filtered ({filtered} decoded"
            );
            assert!(out.contains(&want), "{want}\n{out}");
        }
        let (code, out) = common::run_cli(&["ls"], &path);
        assert_eq!(code, Some(0), "{out}");
        if name == "small.h5" {
            for want in [
                "chunked (3, 4), single chunk index",
                "chunked (2, 4), fixed array index",
                "chunked (1,), extensible array index",
                "chunked (1, 1), v2 B-tree index",
                "chunked (2, 4), implicit index",
            ] {
                assert!(out.contains(want), "ls lacks {want:?}:\n{out}");
            }
        }
        let (code, out) = common::run_cli(&["ls", "--json"], &path);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("\"chunk_index\": \"v2 B-tree\""), "{out}");
    }
}

/// Every checksummed index block of `b` (signature at its start): (start, bytes
/// the checksum covers).
fn index_blocks(b: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for sig in [
        &b"FAHD"[..],
        b"FADB",
        b"EAHD",
        b"EAIB",
        b"EASB",
        b"EADB",
        b"BTHD",
        b"BTIN",
        b"BTLF",
    ] {
        for at in common::find_all(b, sig) {
            v.push((at, checksum_len(b, at)));
        }
    }
    v
}

/// Runs `check` on `bytes` (written next to the fixtures) and asserts exit 1 with
/// every word of `words` in the output.
fn assert_check_rejects(bytes: &[u8], tag: &str, words: &[&str]) {
    let path = fixtures().0.join(format!("corrupt-{tag}.h5"));
    std::fs::write(&path, bytes).unwrap();
    let (code, out) = common::run_cli(&["check"], &path);
    assert_eq!(code, Some(1), "{tag}: {out}");
    for w in words {
        assert!(out.contains(w), "{tag}: check output lacks {w:?}:\n{out}");
    }
}

/// A flipped byte in the checksum of each index structure, and an address past the
/// end of file (with its block's checksum recomputed), are errors naming the
/// structure and its offset, for `verify`, reading, and `h5sink check`.
#[test]
fn corrupt_index_structures_are_named() {
    let good = file_bytes("small.h5");
    let sizes = 8usize;
    // (signature, structure, bytes the checksum covers)
    let fahd = 8 + 2 * sizes;
    let eahd = 12 + 6 * sizes + sizes;
    let bthd = 16 + sizes + 2 + sizes;
    let node = checksum_len;
    let mut cases: Vec<(&[u8], Structure, usize)> = vec![
        (b"FAHD", Structure::FixedArrayHeader, fahd),
        (b"EAHD", Structure::ExtensibleArrayHeader, eahd),
        (b"BTHD", Structure::BTreeV2Header, bthd),
    ];
    for (sig, s) in [
        (&b"FADB"[..], Structure::FixedArrayDataBlock),
        (b"EAIB", Structure::ExtensibleArrayIndexBlock),
        (b"EASB", Structure::ExtensibleArraySecondaryBlock),
        (b"EADB", Structure::ExtensibleArrayDataBlock),
        (b"BTIN", Structure::BTreeV2Internal),
        (b"BTLF", Structure::BTreeV2Leaf),
    ] {
        let at = common::find_all(&good, sig)[0];
        cases.push((sig, s, node(&good, at)));
    }
    for (sig, structure, covered) in cases {
        let at = common::find_all(&good, sig)[0];
        let mut b = good.clone();
        b[at + covered] ^= 0x40;
        let report = read::verify(&b);
        let e = report
            .errors()
            .find(|e| e.structure() == structure)
            .unwrap_or_else(|| panic!("{structure}: {report}"));
        assert!(
            matches!(e, read::Error::BadChecksum { .. }),
            "{structure}: {e}"
        );
        assert_eq!(e.offset(), at as u64, "{e}");
        // reading the dataset fails the same way
        let f = read::File::parse(&b).unwrap();
        let failed = f
            .datasets()
            .filter_map(|d| f.dataset_bytes(&d.path).err())
            .any(|e| e.structure() == structure && e.offset() == at as u64);
        assert!(failed, "{structure}");
        let tag = String::from_utf8_lossy(sig).to_string();
        assert_check_rejects(&b, &tag, &[structure.name(), "checksum mismatch"]);
    }

    // an address past the end of file: the fixed array's data block
    let at = common::find_all(&good, b"FAHD")[0];
    let mut b = good.clone();
    let dblk = at + 8 + sizes;
    b[dblk..dblk + 8].copy_from_slice(&(good.len() as u64 + 4096).to_le_bytes());
    fix_checksum(&mut b, at, fahd);
    let report = read::verify(&b);
    assert!(
        report.errors().any(|e| matches!(
            e,
            read::Error::PastEof {
                structure: Structure::FixedArrayDataBlock,
                ..
            }
        )),
        "{report}"
    );
    assert_check_rejects(
        &b,
        "fadb-past-eof",
        &["fixed array data block (FADB)", "past the end of file"],
    );

    // a chunk address past the end of file, in the extensible array's index block
    // (its first element, recomputed checksum): the chunk is named
    let at = common::find_all(&good, b"EAIB")[0];
    let mut b = good.clone();
    let e0 = at + 6 + sizes;
    b[e0..e0 + 8].copy_from_slice(&(good.len() as u64 + 100).to_le_bytes());
    fix_checksum(&mut b, at, node(&good, at));
    let report = read::verify(&b);
    assert!(
        report.errors().any(|e| matches!(
            e,
            read::Error::PastEof {
                structure: Structure::Chunk,
                ..
            }
        )),
        "{report}"
    );
    assert_check_rejects(
        &b,
        "chunk-past-eof",
        &["raw data chunk", "past the end of file"],
    );

    // a block whose header address is wrong (recomputed checksum)
    let at = common::find_all(&good, b"EADB")[0];
    let mut b = good.clone();
    b[at + 6] ^= 0x08;
    fix_checksum(&mut b, at, node(&good, at));
    assert_check_rejects(
        &b,
        "eadb-header",
        &["extensible array data block (EADB)", "header address"],
    );
}

/// Mutating bytes of the index structures (every byte of the first 64 of each
/// structure, two values each) and a sample of the whole file never panics.
#[test]
fn mutated_index_files_never_panic() {
    let good = file_bytes("small.h5");
    let sigs: [&[u8]; 10] = [
        b"FAHD", b"FADB", b"EAHD", b"EAIB", b"EASB", b"EADB", b"BTHD", b"BTIN", b"BTLF", b"OHDR",
    ];
    let positions = common::mutation_positions(&good, &sigs, 97);
    let rejected = common::rejected_mutations(&good, &positions, |b| {
        let ok = read::verify(b).is_ok();
        if let Ok(f) = read::File::parse(b) {
            for d in f.datasets() {
                let _ = f.dataset_bytes_limited(&d.path, 1 << 24);
                let _ = f.chunk_index(d);
            }
        }
        ok
    });
    assert!(rejected > 2000, "{rejected} of {}", positions.len());
}

/// Mutations behind the checksums: every byte of every index block (after the
/// signature) set to two other values with the block's checksum recomputed, so the
/// fields themselves are decoded: never a panic, and most of them change what
/// reading gives (an error, or other values).
#[test]
fn mutated_index_fields_never_panic() {
    let good = file_bytes("small.h5");
    let f = read::File::parse(&good).unwrap();
    let want: Vec<Vec<u8>> = f
        .datasets()
        .map(|d| f.dataset_bytes(&d.path).unwrap())
        .collect();
    let blocks = index_blocks(&good);
    assert!(blocks.len() >= 9, "{blocks:?}");
    let (mut runs, mut failed) = (0, 0);
    for &(at, covered) in &blocks {
        for pos in at + 4..at + covered {
            for v in [good[pos] ^ 0x01, 0xff] {
                if v == good[pos] {
                    continue;
                }
                let mut b = good.clone();
                b[pos] = v;
                fix_checksum(&mut b, at, covered);
                runs += 1;
                let report = read::verify(&b);
                let _ = report.to_string();
                let Ok(f) = read::File::parse(&b) else {
                    continue;
                };
                for (d, w) in f.datasets().zip(&want) {
                    let _ = f.chunk_index(d);
                    match f.dataset_bytes_limited(&d.path, 1 << 24) {
                        Ok(got) => {
                            // a changed value is only possible through the index
                            if got != *w {
                                failed += 1;
                            }
                        }
                        Err(_) => failed += 1,
                    }
                }
            }
        }
    }
    assert!(runs > 15000, "{runs}");
    assert!(failed > runs / 2, "{failed} of {runs}");
}

/// `File::open_append` refuses a file with a layout v4 dataset, naming the index,
/// and leaves it untouched.
#[test]
fn v4_index_files_are_not_reopened() {
    let dir = &fixtures().0;
    // small.h5 passes every other test of reopen (superblock v3 without flags,
    // 8-byte addresses, the root right after the superblock): only the index stops it
    let msg = common::append_refused(&dir.join("small.h5"), &dir.join("reopen.h5"));
    assert!(
        msg.contains("cannot reopen the file for appending"),
        "{msg}"
    );
    assert!(msg.contains("index type"), "{msg}");
    assert!(msg.contains("is not supported for appending"), "{msg}");
}

/// Every v4 index kind is reported by its name on the layout (what `ls` shows).
#[test]
fn index_names() {
    let bytes = file_bytes("small.h5");
    let f = read::File::parse(&bytes).unwrap();
    let names: BTreeMap<String, &str> = f
        .datasets()
        .map(|d| (d.path.clone(), d.layout.chunk_index().unwrap().name()))
        .collect();
    assert_eq!(names["/single"], "single chunk");
    assert_eq!(names["/implicit"], "implicit");
    assert_eq!(names["/fa"], "fixed array");
    assert_eq!(names["/fa_paged"], "fixed array");
    assert_eq!(names["/ea"], "extensible array");
    assert_eq!(names["/bt"], "v2 B-tree");
    let d = f.dataset("/single").unwrap();
    assert!(matches!(
        d.layout.chunk_index(),
        Some(ChunkIndex::Single {
            filtered: Some(_),
            ..
        })
    ));
}
