//! The reader on dense link and attribute storage, as h5py (libhdf5 2.0) writes it
//! with `libver="latest"` for groups of more than 8 links and objects of more than 8
//! attributes, and with `track_order=True` in default files: fractal heaps (root
//! direct block, root indirect block, nested indirect blocks, huge objects through
//! their B-tree) and v2 B-tree name and creation-order indexes (record types 5, 6,
//! 8, 9). Every link (name, kind, target), every attribute value, every dataset
//! value and the listing orders are compared with what h5py reports; `h5sink check`
//! and `ls` accept the files; a flipped checksum byte of each structure, an address
//! past the end of file and a wrong name hash are errors naming the structure; byte
//! mutations never panic; reopening for append is refused. The files come from
//! `tests/py/dense.py`.

use h5sink::read::{self, DenseKind, LinkTarget, Structure};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod common;
use common::{checksum_len, fix_checksum, python_ok};

const FILES: [&str; 8] = [
    "links9.h5",
    "links100.h5",
    "links2000.h5",
    "longnames.h5",
    "attrs9.h5",
    "attrs200.h5",
    "tracked.h5",
    "small.h5",
];

/// An attribute value as h5py reported it: ("raw", [bytes]) or ("str", strings).
type AttrValue = (String, Vec<Vec<u8>>);

/// What h5py reported about one file, per object path.
#[derive(Default)]
struct Want {
    /// path → (kind "G"/"D", header address).
    objects: BTreeMap<String, (String, u64)>,
    /// group path → its links in h5py's order: (name, "hard 123" / "soft <path>" /
    /// "external <file>:<path>").
    links: BTreeMap<String, Vec<(String, String)>>,
    /// object path → attribute names in h5py's order.
    attr_names: BTreeMap<String, Vec<String>>,
    /// (object path, attribute name) → ("raw", bytes) or ("str", strings).
    attrs: BTreeMap<(String, String), AttrValue>,
    /// dataset path → data bytes.
    data: BTreeMap<String, Vec<u8>>,
}

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn text(s: &str) -> String {
    String::from_utf8(unhex(s)).unwrap()
}

fn fixtures() -> &'static (PathBuf, BTreeMap<String, Want>) {
    static F: OnceLock<(PathBuf, BTreeMap<String, Want>)> = OnceLock::new();
    F.get_or_init(|| {
        let path = common::tempdir().keep();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/dense.py");
        let (stdout, _) = python_ok(&[&script, &path]);
        let mut m: BTreeMap<String, Want> = BTreeMap::new();
        for line in stdout.lines() {
            let w: Vec<&str> = line.split(' ').collect();
            let want = m.entry(w[1].to_string()).or_default();
            let path = text(w[2]);
            match w[0] {
                "O" => {
                    want.objects
                        .insert(path, (w[3].to_string(), w[4].parse().unwrap()));
                }
                "L" => {
                    let target = match w[5] {
                        "hard" => format!("hard {}", w[6]),
                        "soft" => format!("soft {}", text(w[6])),
                        _ => {
                            let (f, p) = w[6].split_once(':').unwrap();
                            format!("external {}:{}", text(f), text(p))
                        }
                    };
                    want.links
                        .entry(path)
                        .or_default()
                        .push((text(w[4]), target));
                }
                "N" => {
                    let names = if w[3] == "-" {
                        Vec::new()
                    } else {
                        w[3].split(',').map(text).collect()
                    };
                    want.attr_names.insert(path, names);
                }
                "A" => {
                    let v = match w[4] {
                        "raw" => vec![unhex(w[5])],
                        _ if w[5] == "-" => Vec::new(),
                        _ => w[5].split(',').map(unhex).collect(),
                    };
                    want.attrs.insert((path, text(w[3])), (w[4].to_string(), v));
                }
                "D" => {
                    want.data.insert(path, unhex(w[3]));
                }
                k => panic!("unknown line kind {k}"),
            }
        }
        (path, m)
    })
}

fn file_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().0.join(name)).unwrap()
}

/// Our link as the manifest writes it.
fn target(l: &read::Link) -> String {
    match &l.target {
        LinkTarget::Hard { addr } => format!("hard {addr}"),
        LinkTarget::Soft { path } => format!("soft {path}"),
        LinkTarget::External { file, path } => format!("external {file}:{path}"),
        t => format!("{t:?}"),
    }
}

fn dense_of(f: &read::File<'_>, addr: u64, kind: DenseKind) -> Option<read::DenseStorage> {
    f.dense_storage()
        .iter()
        .find(|d| d.object == addr && d.kind == kind)
        .cloned()
}

/// Every object, link, attribute and dataset value equals h5py's; dense groups and
/// attributes list in h5py's order (name order, or creation order when tracked).
#[test]
fn dense_files_read_like_h5py() {
    let (_, manifest) = fixtures();
    for name in FILES {
        let want = &manifest[name];
        let bytes = file_bytes(name);
        let f = read::File::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            f.objects().len(),
            want.objects.len(),
            "{name}: object count"
        );
        for (path, (kind, addr)) in &want.objects {
            let o = f
                .get(path)
                .unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
            assert_eq!(o.addr(), *addr, "{name}: {path}");
            assert_eq!(
                if o.as_group().is_some() { "G" } else { "D" },
                kind,
                "{name}: {path}"
            );
            // links
            if let Some(g) = o.as_group() {
                let mut ours: Vec<(String, String)> = g
                    .links
                    .iter()
                    .map(|l| (l.name.clone(), target(l)))
                    .collect();
                let mut theirs = want.links.get(path).cloned().unwrap_or_default();
                if dense_of(&f, g.addr, DenseKind::Links).is_none() {
                    ours.sort();
                    theirs.sort();
                }
                assert_eq!(ours, theirs, "{name}: links of {path}");
            }
            // attributes: names in order, then every value
            let mut names: Vec<String> = o.attrs().iter().map(|a| a.name.clone()).collect();
            let mut want_names = want.attr_names[path].clone();
            if dense_of(&f, o.addr(), DenseKind::Attributes).is_none() {
                names.sort();
                want_names.sort();
            }
            assert_eq!(names, want_names, "{name}: attributes of {path}");
            for a in o.attrs() {
                let (how, v) = &want.attrs[&(path.clone(), a.name.clone())];
                if how == "raw" {
                    assert_eq!(&a.raw, &v[0], "{name}: {path} @{}", a.name);
                } else {
                    let got: Vec<Vec<u8>> = a
                        .strings()
                        .unwrap()
                        .into_iter()
                        .map(String::into_bytes)
                        .collect();
                    assert_eq!(&got, v, "{name}: {path} @{}", a.name);
                }
            }
        }
        for (path, data) in &want.data {
            assert_eq!(&f.dataset_bytes(path).unwrap(), data, "{name}: {path}");
        }
        assert!(
            read::verify(&bytes).is_ok(),
            "{name}: {}",
            read::verify(&bytes)
        );
    }
}

/// The fixtures hold what the tests claim: dense storage where h5py must use it,
/// creation-order indexes in tracked.h5, nested indirect blocks, deep name indexes,
/// huge objects (B-trees of record type 1).
#[test]
fn fixtures_cover_every_structure() {
    let (_, m) = fixtures();
    let count = |name: &str, sig: &[u8]| -> usize {
        file_bytes(name).windows(4).filter(|w| *w == sig).count()
    };
    let bthd_types = |name: &str| -> BTreeSet<u8> {
        let b = file_bytes(name);
        (0..b.len() - 6)
            .filter(|&i| &b[i..i + 4] == b"BTHD")
            .map(|i| b[i + 5])
            .collect()
    };
    let dense = |name: &str| -> Vec<(String, DenseKind, bool)> {
        let b = file_bytes(name);
        let f = read::File::parse(&b).unwrap();
        f.dense_storage()
            .iter()
            .map(|d| {
                (
                    f.object_at(d.object).unwrap().path().to_string(),
                    d.kind,
                    d.order_index.is_some(),
                )
            })
            .collect()
    };
    assert_eq!(dense("links9.h5"), [("/g".into(), DenseKind::Links, false)]);
    assert_eq!(m["links9.h5"].links["/g"].len(), 9);
    assert_eq!(m["links100.h5"].links["/g"].len(), 100);
    assert_eq!(m["links2000.h5"].links["/many"].len(), 2000);
    assert_eq!(count("links2000.h5", b"FHIB"), 1);
    assert!(count("links2000.h5", b"BTIN") >= 1);
    // 2,000 links of 300-byte names overflow the root's direct rows
    assert_eq!(count("longnames.h5", b"FHIB"), 2);
    assert_eq!(bthd_types("longnames.h5"), BTreeSet::from([1, 5]));
    for name in ["attrs9.h5", "attrs200.h5"] {
        let d = dense(name);
        for p in ["/", "/grp", "/dset"] {
            assert!(
                d.contains(&(p.to_string(), DenseKind::Attributes, false)),
                "{name}: {d:?}"
            );
        }
    }
    assert_eq!(m["attrs200.h5"].attr_names["/"].len(), 202);
    assert_eq!(bthd_types("attrs200.h5"), BTreeSet::from([1, 8]));
    let t = dense("tracked.h5");
    assert!(
        t.contains(&("/ordered".into(), DenseKind::Links, true)),
        "{t:?}"
    );
    assert!(
        t.contains(&("/ordered".into(), DenseKind::Attributes, true)),
        "{t:?}"
    );
    assert!(t.contains(&("/ordered/zz_with_attrs".into(), DenseKind::Attributes, true)));
    assert_eq!(bthd_types("tracked.h5"), BTreeSet::from([5, 6, 8, 9]));
    // tracked order is not name order
    let order = &m["tracked.h5"].links["/ordered"];
    assert_eq!(order[0].0, "t00");
    assert_eq!(order[1].0, "t11");
}

#[test]
fn check_and_ls_accept_dense_files() {
    let dir = &fixtures().0;
    for name in FILES {
        let path = dir.join(name);
        let (code, out) = common::run_cli(&["check"], &path);
        assert_eq!(code, Some(0), "{name}: {out}");
        assert!(out.contains("ok: no problems found"), "{out}");
        let (code, out) = common::run_cli(&["ls"], &path);
        assert_eq!(code, Some(0), "{name}: {out}");
        let (code, json) = common::run_cli(&["ls", "--json"], &path);
        assert_eq!(code, Some(0), "{name}: {json}");
        match name {
            "links2000.h5" => {
                assert!(out.contains("/many  group (2000 links)"), "{out}");
                assert!(out.contains("/many/x1999"), "{out}");
                assert!(out.contains("/many/d1900"), "{out}");
            }
            "attrs200.h5" => {
                assert!(out.contains("@attr0199"), "{out}");
                assert!(out.contains("@big80k: i32 (20000,)"), "{out}");
            }
            "longnames.h5" => assert!(out.contains(&"H".repeat(5000)), "long name"),
            _ => {}
        }
    }
}

/// Bytes of a fractal heap header before its checksum (8-byte addresses and
/// lengths, no I/O filters).
const FRHP_COVERED: usize = 142;

/// Runs `check` on `bytes` and asserts exit 1 with every word of `words` in the
/// output; `verify` must report the same structure first.
fn assert_rejected(bytes: &[u8], tag: &str, structure: Structure, words: &[&str]) {
    let report = read::verify(bytes);
    let first = report
        .errors()
        .next()
        .unwrap_or_else(|| panic!("{tag}: verify passed"));
    assert_eq!(first.structure(), structure, "{tag}: {report}");
    let path = fixtures().0.join(format!("corrupt-{tag}.h5"));
    std::fs::write(&path, bytes).unwrap();
    let (code, out) = common::run_cli(&["check"], &path);
    assert_eq!(code, Some(1), "{tag}: {out}");
    for w in words.iter().chain(&[structure.name()]) {
        assert!(out.contains(w), "{tag}: check output lacks {w:?}:\n{out}");
    }
}

/// A flipped byte in each dense structure's checksum (FRHP, FHIB, BTHD, BTIN, BTLF)
/// or contents (FHDB, whose checksum covers the whole block), addresses past the end
/// of file, a wrong name hash and an order index that disagrees with the name index
/// are errors naming the structure and its offset.
#[test]
fn corrupt_dense_structures_are_named() {
    let good = file_bytes("links2000.h5");
    let mismatch = "checksum mismatch";
    let frhp = common::find_all(&good, b"FRHP")[0];
    let cases: Vec<(&str, usize, usize, Structure)> = vec![
        ("frhp", frhp, FRHP_COVERED, Structure::FractalHeapHeader),
        (
            "fhib",
            common::find_all(&good, b"FHIB")[0],
            checksum_len(&good, common::find_all(&good, b"FHIB")[0]),
            Structure::FractalHeapIndirectBlock,
        ),
        (
            "bthd",
            common::find_all(&good, b"BTHD")[0],
            34,
            Structure::BTreeV2Header,
        ),
        (
            "btin",
            common::find_all(&good, b"BTIN")[0],
            checksum_len(&good, common::find_all(&good, b"BTIN")[0]),
            Structure::BTreeV2Internal,
        ),
        (
            "btlf",
            common::find_all(&good, b"BTLF")[0],
            checksum_len(&good, common::find_all(&good, b"BTLF")[0]),
            Structure::BTreeV2Leaf,
        ),
    ];
    for (tag, at, covered, structure) in cases {
        let mut b = good.clone();
        b[at + covered] ^= 0x01;
        let offset = format!("{at:#x}");
        assert_rejected(&b, tag, structure, &[mismatch, &offset]);
    }
    // a direct block's checksum covers all of it: a flipped byte of a link message
    let fhdb = common::find_all(&good, b"FHDB")[3];
    let mut b = good.clone();
    b[fhdb + 40] ^= 0x20;
    assert_rejected(
        &b,
        "fhdb",
        Structure::FractalHeapDirectBlock,
        &[mismatch, &format!("{fhdb:#x}")],
    );

    // the root block address past the end of file (header checksum recomputed)
    let eof = good.len() as u64;
    let mut b = good.clone();
    let root_at = frhp + FRHP_COVERED - 10;
    b[root_at..root_at + 8].copy_from_slice(&(eof + 4096).to_le_bytes());
    fix_checksum(&mut b, frhp, FRHP_COVERED);
    assert_rejected(
        &b,
        "root-past-eof",
        Structure::FractalHeapIndirectBlock,
        &["reach past the end of file"],
    );
    // the name index's root node past the end of file
    let bthd = common::find_all(&good, b"BTHD")[0];
    let mut b = good.clone();
    b[bthd + 16..bthd + 24].copy_from_slice(&(eof + 100).to_le_bytes());
    fix_checksum(&mut b, bthd, 34);
    let s = if good[bthd + 12] == 0 {
        Structure::BTreeV2Leaf
    } else {
        Structure::BTreeV2Internal
    };
    assert_rejected(
        &b,
        "btree-root-past-eof",
        s,
        &["reach past the end of file"],
    );
    // a name hash that is not the lookup3 of the name (leaf checksum recomputed)
    let leaf = common::find_all(&good, b"BTLF")[0];
    let covered = checksum_len(&good, leaf);
    let mut b = good.clone();
    b[leaf + 6] ^= 0x01; // first record's hash, low byte (may break the order too)
    fix_checksum(&mut b, leaf, covered);
    let report = read::verify(&b);
    assert!(
        report.to_string().contains("hashes to") || report.to_string().contains("key order"),
        "{report}"
    );
    assert_rejected(&b, "hash", Structure::BTreeV2Leaf, &[]);

    // attributes: a flipped byte in the FHDB of a dense attribute heap
    let good = file_bytes("attrs9.h5");
    let fhdb = common::find_all(&good, b"FHDB")[0];
    let mut b = good.clone();
    b[fhdb + 60] ^= 0x01;
    assert_rejected(
        &b,
        "attr-fhdb",
        Structure::FractalHeapDirectBlock,
        &[mismatch],
    );
    // attribute name index leaf
    let leaf = common::find_all(&good, b"BTLF")[0];
    let mut b = good.clone();
    b[leaf + checksum_len(&good, leaf)] ^= 0x80;
    assert_rejected(&b, "attr-btlf", Structure::BTreeV2Leaf, &[mismatch]);

    // a creation-order index whose total disagrees with the name index: drop its last
    // record from the header count (tracked.h5: the order indexes are types 6, 9)
    let good = file_bytes("tracked.h5");
    let order = common::find_all(&good, b"BTHD")
        .into_iter()
        .find(|&at| good[at + 5] == 6)
        .unwrap();
    let mut b = good.clone();
    let total = u64::from_le_bytes(b[order + 26..order + 34].try_into().unwrap());
    b[order + 26..order + 34].copy_from_slice(&(total + 1).to_le_bytes());
    fix_checksum(&mut b, order, 34);
    assert_rejected(
        &b,
        "order-count",
        Structure::BTreeV2Header,
        &["records in the header"],
    );
}

/// Mutations of a small dense file never panic: every byte of the first 64 of each
/// dense structure and object header, and a sample of the rest, each set to three
/// values; then every byte of each fractal heap header, name index header and leaf
/// with its checksum recomputed, so that the fields themselves are decoded.
#[test]
fn mutated_dense_files_never_panic() {
    let good = file_bytes("small.h5");
    let exercise = |b: &[u8]| -> bool {
        let report = read::verify(b);
        let _ = report.to_string();
        if let Ok(f) = read::File::parse(b) {
            let _ = f.check();
            for d in f.datasets() {
                let _ = f.dataset_bytes_limited(&d.path, 1 << 24);
            }
            for o in f.objects() {
                for a in o.attrs() {
                    let _ = a.strings();
                }
            }
        }
        report.is_ok()
    };
    let sigs: [&[u8]; 7] = [
        b"FRHP", b"FHDB", b"BTHD", b"BTLF", b"OHDR", b"FSHD", b"FSSE",
    ];
    let positions = common::mutation_positions(&good, &sigs, 7);
    let rejected = common::rejected_mutations(&good, &positions, exercise);
    assert!(rejected > 1500, "{rejected} of {}", positions.len());

    let mut blocks: Vec<(usize, usize)> = common::find_all(&good, b"FRHP")
        .into_iter()
        .map(|at| (at, FRHP_COVERED))
        .collect();
    for sig in [&b"BTHD"[..], b"BTLF"] {
        for at in common::find_all(&good, sig) {
            blocks.push((at, checksum_len(&good, at)));
        }
    }
    let (mut runs, mut rejected) = (0, 0);
    for &(at, covered) in &blocks {
        for pos in at + 4..at + covered {
            for v in [good[pos] ^ 0x01, 0xff, 0x00] {
                if v == good[pos] {
                    continue;
                }
                let mut b = good.clone();
                b[pos] = v;
                fix_checksum(&mut b, at, covered);
                runs += 1;
                if !exercise(&b) {
                    rejected += 1;
                }
            }
        }
    }
    assert!(runs > 1000, "{runs}");
    assert!(rejected > runs / 3, "{rejected} of {runs}");
}

/// `File::open_append` refuses files with dense links or attributes, naming the
/// storage, and leaves them untouched.
#[test]
fn dense_files_are_not_reopened() {
    let dir = &fixtures().0;
    for (name, want) in [
        (
            "links9.h5",
            "/g: dense link storage (fractal heap) is not supported for appending",
        ),
        (
            "attrs9.h5",
            "/: dense attribute storage (fractal heap) is not supported for appending",
        ),
        (
            "tracked.h5",
            "/ordered: dense attribute storage (fractal heap) is not supported for appending",
        ),
    ] {
        let msg = common::append_refused(&dir.join(name), &dir.join(format!("reopen-{name}")));
        assert!(
            msg.contains("cannot reopen the file for appending"),
            "{msg}"
        );
        assert!(msg.contains(want), "{name}: {msg}");
    }
}
