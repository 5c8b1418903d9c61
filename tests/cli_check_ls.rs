//! `h5sink check` and `h5sink ls`, run as the built binary.
//!
//! - `check` exits 0 on the files h5sink writes (groups, attributes, every layout,
//!   every filter, appended datasets across commits, reopened with `--append`,
//!   crash states, the demo file) and on what h5py writes with `libver=v108`,
//!   `latest` (a chunked dataset with data layout message version 5 included; the
//!   layout v4/v5 indexes are tested in `read_chunk_indexes.rs`) and with its
//!   defaults (superblock v0, version-1 object headers, old-style groups);
//! - targeted corruptions each make it exit 1 naming the structure: a flipped checksum
//!   byte in the superblock and in an object header, a truncated file, an end of file
//!   moved below the structures, two B-tree keys swapped, a flipped byte in a
//!   Fletcher-32 chunk and in a deflate stream;
//! - `ls --json` is valid JSON (parsed by Python's `json`) with the expected shapes,
//!   maximum shapes, types, layouts, chunks, filters and attribute values;
//! - usage errors and unreadable paths exit 2.

mod common;

use h5sink::sink::testing::{replay, RecordingStorage};
use h5sink::{File, VarLenUnicode, UNLIMITED};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_h5sink"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("running h5sink")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `h5sink check path`: (exit code, stdout + stderr).
fn check(path: &Path) -> (i32, String) {
    let o = run(&["check", path.to_str().unwrap()]);
    (o.status.code().unwrap_or(-1), text(&o))
}

fn assert_sound(path: &Path) -> String {
    let (code, out) = check(path);
    assert_eq!(code, 0, "check should accept {}:\n{out}", path.display());
    assert!(out.contains("ok: no problems found"), "{out}");
    out
}

/// Check must fail with every one of `words` in its output (case-insensitive).
fn assert_rejected(path: &Path, words: &[&str]) -> String {
    let (code, out) = check(path);
    assert_eq!(code, 1, "check should reject {}:\n{out}", path.display());
    let lower = out.to_lowercase();
    for w in words {
        assert!(
            lower.contains(&w.to_lowercase()),
            "check output lacks {w:?}:\n{out}"
        );
    }
    out
}

// ---------------------------------------------------------------------------------
// Files h5sink writes.

type AddFilters = fn(h5sink::DatasetBuilder<u16>) -> h5sink::DatasetBuilder<u16>;

/// Groups, attributes of every kind, contiguous, compact and chunked datasets, a
/// filtered fixed dataset written by regions, appended datasets with every filter
/// across several commits (partial filtered rows rewritten), vlen strings.
fn write_showcase(path: &Path) {
    let f = File::create(path).unwrap();
    f.root().attr("title").write_str("check me").unwrap();
    f.root().attr("version").write_scalar(2u32).unwrap();
    let g = f.create_group("/a").unwrap();
    g.attr("gains").write(&[1.5f64, 2.5, -0.25]).unwrap();
    g.attr("label").write_fixed_str("abc").unwrap();
    g.attr("grid")
        .write_array(&[2, 2], &[1i16, 2, 3, 4])
        .unwrap();
    f.create_group("/a/b").unwrap();
    f.dataset::<i8>("/a/b/compact")
        .shape([2, 3])
        .compact()
        .create_with_data(&[1, 2, 3, 4, 5, 6])
        .unwrap();
    f.dataset::<f64>("/a/contig")
        .shape([4])
        .create_with_data(&[0.5; 4])
        .unwrap();
    f.dataset::<u32>("/a/unwritten")
        .shape([5])
        .create()
        .unwrap();
    let map = f
        .dataset::<f32>("/a/map")
        .shape([40, 30])
        .chunk([8, 7])
        .shuffle()
        .deflate(6)
        .fletcher32()
        .fill_value(-1.0)
        .create()
        .unwrap();
    map.write_region(&[3, 4], &[20, 20], &vec![2.5f32; 400])
        .unwrap();
    f.dataset::<VarLenUnicode>("/a/names")
        .shape([3])
        .create()
        .unwrap()
        .write_strs(&["x", "", "yz"])
        .unwrap();
    let combos: [(&str, AddFilters); 5] = [
        ("raw", |b| b),
        ("deflate", |b| b.shuffle().deflate(4).fletcher32()),
        ("lz4", |b| b.lz4()),
        ("bitshuffle", |b| b.bitshuffle_lz4().fletcher32()),
        ("threads", |b| b.deflate(1).threads(2)),
    ];
    let mut sets = Vec::new();
    for (name, add) in combos {
        let b = f
            .dataset::<u16>(&format!("/frames/{name}"))
            .frames([6, 10])
            .chunk_frames(4);
        if sets.is_empty() {
            f.create_group("/frames").unwrap();
        }
        sets.push(add(b).create().unwrap());
    }
    for i in 0..70u16 {
        let frame: Vec<u16> = (0..60).map(|j| i.wrapping_mul(31) ^ (j % 9)).collect();
        for d in &sets {
            d.append(&frame).unwrap();
        }
        if i % 9 == 4 {
            f.flush().unwrap();
        }
    }
    f.finish().unwrap();
}

#[test]
fn check_accepts_h5sink_files() {
    let dir = common::tempdir();
    let p = dir.path().join("showcase.h5");
    write_showcase(&p);
    let out = assert_sound(&p);
    // it says what it checked, and it decoded the filtered chunks
    assert!(out.contains("checked: 14 objects"), "{out}");
    let decoded: u64 = out
        .split(" filtered (")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no decoded count in:\n{out}"));
    assert!(decoded >= 4 * 18, "{out}");

    // the demo file
    let demo = dir.path().join("demo.h5");
    let o = run(&["demo", demo.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_sound(&demo);

    // h5sink record, then record --append twice
    let rec = dir.path().join("rec.h5");
    for (round, extra) in [(0, None), (1, Some("--append")), (2, Some("--append"))] {
        let mut args = vec![
            "record",
            rec.to_str().unwrap(),
            "--dataset",
            "/cam/frames",
            "--dtype",
            "u16",
            "--frame",
            "8x8",
            "--chunk-frames",
            "3",
            "--flush-every",
            "2",
            "--deflate",
            "1",
            "--fletcher32",
        ];
        args.extend(extra);
        let mut child = bin()
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let data: Vec<u8> = (0..7 * 64u32)
            .flat_map(|i| ((i * 7 + round) as u16).to_le_bytes())
            .collect();
        child.stdin.take().unwrap().write_all(&data).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "record round {round}: {}", text(&o));
        assert_sound(&rec);
    }
    let o = run(&["ls", "--json", rec.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"shape\": [21, 8, 8]"));
}

/// Every state a kill can leave during a run with commits (a sample of the prefixes
/// of the recorded writes) passes check: crash states are sound files.
#[test]
fn check_accepts_crash_states() {
    let rec = RecordingStorage::new();
    let f = File::options().create_in(rec.clone()).unwrap();
    f.root().attr("run").write_str("crash").unwrap();
    let d = f
        .dataset::<u16>("/d")
        .frames([5])
        .chunk_frames(2)
        .shuffle()
        .deflate(3)
        .fletcher32()
        .create()
        .unwrap();
    let raw = f.dataset::<u8>("/r").frames([3]).create().unwrap();
    f.flush().unwrap();
    let first_commit = rec.op_count();
    for i in 0..40u16 {
        d.append(&[i, i + 1, i + 2, i + 3, i + 4]).unwrap();
        raw.append(&[i as u8; 3]).unwrap();
        if i % 7 == 3 {
            f.flush().unwrap();
        }
    }
    f.finish().unwrap();
    let ops = rec.ops();
    let dir = common::tempdir();
    let step = ((ops.len() - first_commit) / 12).max(1);
    let mut n = first_commit;
    let mut checked = 0;
    while n <= ops.len() {
        let p = dir.path().join(format!("state-{n}.h5"));
        std::fs::write(&p, replay(&ops, n)).unwrap();
        assert_sound(&p);
        checked += 1;
        n += step;
    }
    assert!(checked >= 10);
}

// ---------------------------------------------------------------------------------
// Files h5py writes.

fn python(code: &str, dir: &Path) {
    let o = Command::new(common::python())
        .arg("-c")
        .arg(code)
        .current_dir(dir)
        .output()
        .expect("running python");
    assert!(o.status.success(), "python failed: {}", text(&o));
}

#[test]
fn check_on_h5py_files() {
    let dir = common::tempdir();
    python(
        r#"
import h5py, numpy as np
with h5py.File("v108.h5", "w", libver=("v108", "v108")) as f:
    f.attrs["title"] = "from h5py"
    f.attrs["n"] = np.int64(5)
    g = f.create_group("grp/sub")
    g.attrs["arr"] = np.arange(3, dtype="<f4")
    g.create_dataset("contig", data=np.arange(6, dtype="<u2").reshape(2, 3))
    f.create_dataset("s", data=b"fixed")
    f.create_dataset("e", shape=(3,), dtype="<f8")
with h5py.File("latest.h5", "w", libver="latest") as f:
    f.create_group("a").attrs["x"] = 1.5
    f.create_dataset("a/d", data=np.arange(10, dtype="<i4"))
with h5py.File("v108-chunked.h5", "w", libver=("v108", "v108")) as f:
    f.create_dataset("c", data=np.arange(40, dtype="<u2"), chunks=(8,),
                     maxshape=(None,), compression="gzip", shuffle=True, fletcher32=True)
with h5py.File("latest-chunked.h5", "w", libver="latest") as f:
    f.create_dataset("c", data=np.arange(40, dtype="<u2"), chunks=(8,),
                     maxshape=(None,), compression="gzip")
with h5py.File("default.h5", "w") as f:
    f.attrs["a"] = 1
    f.create_dataset("d", data=np.arange(4, dtype="<u1"))
"#,
        dir.path(),
    );
    let out = assert_sound(&dir.path().join("v108.h5"));
    assert!(
        out.contains("checked: 6 objects (3 groups, 3 datasets)"),
        "{out}"
    );
    let out = assert_sound(&dir.path().join("latest.h5"));
    assert!(out.contains("superblock v3"), "{out}");
    // libhdf5's chunks (v1 B-tree, shuffle + gzip + Fletcher-32) are decoded
    let out = assert_sound(&dir.path().join("v108-chunked.h5"));
    assert!(out.contains("5 filtered (5 decoded to 80 bytes)"), "{out}");
    // libhdf5 2.0's `latest` writes data layout message version 5 (an extensible
    // array index, filtered chunk sizes in 8 bytes): its chunks are decoded too
    let out = assert_sound(&dir.path().join("latest-chunked.h5"));
    assert!(out.contains("5 filtered (5 decoded to 80 bytes)"), "{out}");
    // h5py's defaults: superblock v0, version-1 object headers, symbol tables
    let out = assert_sound(&dir.path().join("default.h5"));
    assert!(out.contains("superblock v0"), "{out}");
    let ls = run(&["ls", dir.path().join("default.h5").to_str().unwrap()]);
    assert!(ls.status.success(), "{}", text(&ls));
    assert!(text(&ls).contains("/d  dataset u8 (4,)"), "{}", text(&ls));
}

// ---------------------------------------------------------------------------------
// Targeted corruptions.

/// A small file for corrupting: a fixed dataset of 12 Fletcher-32 chunks (one leaf),
/// another deflate-only, and attributes.
fn corruptible(dir: &Path) -> (PathBuf, Vec<u8>) {
    let p = dir.join("good.h5");
    let f = File::create(&p).unwrap();
    f.root().attr("note").write_str("corrupt me").unwrap();
    let d = f
        .dataset::<u32>("/sum")
        .shape([12, 16])
        .chunk([1, 16])
        .fletcher32()
        .create()
        .unwrap();
    d.write(&(0..192u32).collect::<Vec<_>>()).unwrap();
    f.dataset::<u32>("/zip")
        .shape([4, 64])
        .chunk([2, 64])
        .deflate(5)
        .create_with_data(&(0..256u32).map(|i| i / 3).collect::<Vec<_>>())
        .unwrap();
    f.finish().unwrap();
    let bytes = std::fs::read(&p).unwrap();
    assert_sound(&p);
    (p, bytes)
}

fn write_variant(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Offset of the lookup3 checksum of the version-2 object header at `addr`.
fn ohdr_checksum_at(b: &[u8], addr: usize) -> usize {
    assert_eq!(&b[addr..addr + 4], b"OHDR");
    let flags = b[addr + 5];
    let mut at = addr + 6;
    if flags & 0x20 != 0 {
        at += 16;
    }
    if flags & 0x10 != 0 {
        at += 4;
    }
    let w = 1usize << (flags & 3);
    let mut size = [0u8; 8];
    size[..w].copy_from_slice(&b[at..at + w]);
    at + w + u64::from_le_bytes(size) as usize
}

fn set_eof(b: &mut [u8], eof: u64) {
    b[28..36].copy_from_slice(&eof.to_le_bytes());
    let sum = h5sink::encode::hashlittle(&b[..44], 0);
    b[44..48].copy_from_slice(&sum.to_le_bytes());
}

#[test]
fn check_rejects_targeted_corruptions() {
    let dir = common::tempdir();
    let (_, good) = corruptible(dir.path());
    let file = h5sink::read::File::parse(&good).unwrap();
    let sum_ds = file.dataset("/sum").unwrap().addr as usize;
    let chunks = file.chunks("/sum").unwrap();
    assert_eq!(chunks.len(), 12);
    let zip_chunk = file.chunks("/zip").unwrap()[1].clone();
    drop(file);

    // 1. a flipped byte of the superblock's checksum
    let mut b = good.clone();
    b[45] ^= 0x10;
    let out = assert_rejected(
        &write_variant(dir.path(), "sb.h5", &b),
        &["superblock at 0x0", "checksum mismatch"],
    );
    assert!(out.contains("FAILED: 1 problem found"), "{out}");

    // 2. a flipped byte of an object header's checksum (the dataset /sum)
    let mut b = good.clone();
    let at = ohdr_checksum_at(&b, sum_ds);
    b[at + 2] ^= 0x01;
    assert_rejected(
        &write_variant(dir.path(), "ohdr.h5", &b),
        &[
            &format!("/sum: object header at {sum_ds:#x}"),
            "checksum mismatch",
        ],
    );

    // 3a. a truncated file: everything past the cut is past the end of the input
    let cut = &good[..good.len() - 100];
    assert_rejected(
        &write_variant(dir.path(), "truncated.h5", cut),
        &["superblock", "fewer than the stored end of file"],
    );
    // 3b. the stored end of file moved below the structures (and the file cut there):
    // addresses past the end of file
    let mut b = good.clone();
    let new_eof = chunks[5].addr + 1;
    set_eof(&mut b, new_eof);
    b.truncate(new_eof as usize);
    assert_rejected(
        &write_variant(dir.path(), "eof.h5", &b),
        &["reach past the end of file"],
    );

    // 4. two keys of the leaf swapped (the B-tree node of /sum: the first "TREE")
    let mut b = good.clone();
    let node = b.windows(4).position(|w| w == b"TREE").unwrap();
    assert_eq!(b[node + 4], 1, "a chunk B-tree");
    assert_eq!(b[node + 5], 0, "a leaf");
    // header 8 + 2 × 8 siblings; key: size 4 + mask 4 + 3 offsets × 8; child 8
    let (key, stride) = (node + 24, 4 + 4 + 3 * 8 + 8);
    let (k1, k2) = (key + stride, key + 2 * stride);
    let a: Vec<u8> = b[k1..k1 + 32].to_vec();
    let c: Vec<u8> = b[k2..k2 + 32].to_vec();
    b[k1..k1 + 32].copy_from_slice(&c);
    b[k2..k2 + 32].copy_from_slice(&a);
    assert_rejected(
        &write_variant(dir.path(), "keys.h5", &b),
        &[
            &format!("/sum: v1 B-tree node at {node:#x}"),
            "key 1 [2, 0, 0] is not below key 2 [1, 0, 0]",
        ],
    );

    // 5. a flipped byte inside a Fletcher-32 chunk: structure fine, data not
    let mut b = good.clone();
    let c = &chunks[7];
    b[c.addr as usize + 5] ^= 0x40;
    let out = assert_rejected(
        &write_variant(dir.path(), "fletcher.h5", &b),
        &[
            &format!("/sum: raw data chunk at {:#x}", c.addr),
            "fletcher32: checksum mismatch",
            "chunk [7, 0]",
        ],
    );
    assert!(out.contains("FAILED: 1 problem found"), "{out}");

    // 6. a corrupt deflate stream
    let mut b = good.clone();
    for i in 2..10 {
        b[zip_chunk.addr as usize + i] ^= 0xff;
    }
    assert_rejected(
        &write_variant(dir.path(), "deflate.h5", &b),
        &[&format!("/zip: raw data chunk at {:#x}", zip_chunk.addr)],
    );

    // 7. not HDF5 at all
    assert_rejected(
        &write_variant(dir.path(), "text.h5", b"hello, world\n"),
        &["superblock", "signature"],
    );
}

// ---------------------------------------------------------------------------------
// ls.

#[test]
fn ls_json_parses_and_lists_the_tree() {
    let dir = common::tempdir();
    let p = dir.path().join("showcase.h5");
    write_showcase(&p);
    let o = run(&["ls", "--json", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let json = dir.path().join("ls.json");
    std::fs::write(&json, &o.stdout).unwrap();
    // Python's json module parses it and finds what was written
    python(
        &format!(
            r#"
import json
doc = json.load(open({json:?}))
o = {{x["path"]: x for x in doc["objects"]}}
assert doc["superblock_version"] == 2, doc
assert [x["path"] for x in doc["objects"]][:4] == ["/", "/a", "/a/b", "/a/b/compact"], list(o)
root = o["/"]
assert root["kind"] == "group"
a = {{x["name"]: x for x in root["attributes"]}}
assert a["title"]["type"] == "string" and a["title"]["value"] == "check me", a
assert a["title"]["variable_length"] is True and a["title"]["shape"] == []
assert a["version"]["type"] == "u32" and a["version"]["value"] == 2, a
g = {{x["name"]: x for x in o["/a"]["attributes"]}}
assert g["gains"]["type"] == "f64" and g["gains"]["value"] == [1.5, 2.5, -0.25], g
assert g["label"]["type"] == "string[3]" and g["label"]["value"] == "abc", g
assert g["grid"]["shape"] == [2, 2] and g["grid"]["value"] == [[1, 2], [3, 4]], g
c = o["/a/b/compact"]
assert (c["shape"], c["maxshape"], c["type"], c["layout"], c["chunks"]) == ([2, 3], [2, 3], "i8", "compact", None), c
assert o["/a/contig"]["layout"] == "contiguous" and o["/a/contig"]["type"] == "f64"
m = o["/a/map"]
assert (m["shape"], m["type"], m["layout"], m["chunks"], m["fill_value"]) == ([40, 30], "f32", "chunked", [8, 7], -1.0), m
assert [(f["name"], f.get("level")) for f in m["filters"]] == [("shuffle", None), ("deflate", 6), ("fletcher32", None)], m
n = o["/a/names"]
assert n["type"] == "string" and n["class"] == "string" and n["variable_length"] is True, n
fr = o["/frames/deflate"]
assert (fr["shape"], fr["maxshape"], fr["chunks"], fr["type"]) == ([70, 6, 10], [None, 6, 10], [4, 6, 10], "u16"), fr
assert [f["name"] for f in o["/frames/bitshuffle"]["filters"]] == ["bitshuffle+lz4", "fletcher32"]
assert [f["name"] for f in o["/frames/lz4"]["filters"]] == ["lz4"]
assert o["/frames/raw"]["filters"] == []
print("ok", len(o))
"#
        ),
        dir.path(),
    );

    // the text listing
    let o = run(&["ls", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = String::from_utf8_lossy(&o.stdout);
    for want in [
        "/a/map  dataset f32 (40, 30)\n    chunked (8, 7), filters: shuffle, deflate(6), fletcher32, fill -1.0",
        "/frames/deflate  dataset u16 (70, 6, 10) max (inf, 6, 10)",
        "    @gains: f64 (3,) = [1.5, 2.5, -0.25]",
        "    @title: string scalar = \"check me\"",
    ] {
        assert!(t.contains(want), "ls lacks {want:?}:\n{t}");
    }

    // the demo file's listing parses too (compounds, enums, strings, big-endian)
    let demo = dir.path().join("demo.h5");
    assert!(run(&["demo", demo.to_str().unwrap()]).status.success());
    let o = run(&["ls", "--json", demo.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(&json, &o.stdout).unwrap();
    python(
        &format!(
            r#"
import json
doc = json.load(open({json:?}))
o = {{x["path"]: x for x in doc["objects"]}}
assert o["/camera/frames"]["maxshape"][0] is None
assert o["/types/float64_be"]["type"] == "f64be"
assert o["/camera/frame_info"]["class"] == "compound"
"#
        ),
        dir.path(),
    );
    let _ = UNLIMITED;
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["check"][..],
        &["check", "/nonexistent/file.h5"][..],
        &["ls"][..],
        &["ls", "/nonexistent/file.h5"][..],
        &["ls", "--bogus", "x.h5"][..],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    // ls on a file it cannot parse: exit 1 with the reason
    let dir = common::tempdir();
    let p = write_variant(dir.path(), "junk.h5", &[0u8; 100]);
    let o = run(&["ls", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("superblock"));
}
