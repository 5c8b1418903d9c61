//! The reader on files h5py writes with libhdf5's defaults (`h5py.File(path, "w")`,
//! libver earliest): superblock v0, version-1 object headers, old-style groups
//! (symbol tables over a group B-tree of several levels), attributes (numeric,
//! fixed and variable-length strings, empty, UTF-8 names, enough of them to need
//! continuation chunks), compact, contiguous and chunked datasets (gzip + shuffle +
//! Fletcher-32), an extendable dataset with a fill value, soft links. Every value
//! the reader returns is compared with what h5py reads (dumped as raw bytes);
//! `h5sink check` and `h5sink ls` accept the files.

use h5sink::read::{self, LinkTarget, SpaceKind};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

mod common;
use common::{dims, hex_or_dash as hex};

/// Writes `default.h5` into `dir` with h5py's defaults and prints a manifest of
/// what h5py reads back: one line per object, values as hex.
const WRITE: &str = r#"
import sys, h5py, numpy as np
out = sys.argv[1]
with h5py.File(out + "/default.h5", "w") as f:
    f.attrs["i32"] = np.int32(-7)
    f.attrs["f64s"] = np.arange(5.0)
    f.attrs["fixed"] = np.bytes_("fixed!")
    f.attrs["vstr"] = "hello, world"
    f.attrs["vstrs"] = np.array(["a", "bc", ""], dtype=h5py.string_dtype())
    f.attrs["empty"] = h5py.Empty("f4")
    f.attrs["名前"] = np.uint8(9)
    g = f.create_group("g/h/i")
    f["g"].attrs["x"] = np.float32(1.5)
    for k in range(30):
        f["g/h"].attrs[f"a{k:02}"] = np.arange(k + 1, dtype="<i2")
    f.create_dataset("contig", data=np.arange(100, dtype="<i4").reshape(10, 10))
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple((3, 4))
    d = h5py.h5d.create(f.id, b"compact", h5py.h5t.STD_U16LE, space, dcpl=dcpl)
    d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(12, dtype="<u2").reshape(3, 4))
    f.create_dataset("chunked", data=np.arange(1000, dtype="<f8").reshape(10, 100),
                     chunks=(3, 17), compression="gzip", shuffle=True, fletcher32=True)
    f["chunked"].attrs["unit"] = "m"
    e = f.create_dataset("ext", shape=(5, 2), maxshape=(None, 2), dtype="<i8",
                         chunks=(4, 2), fillvalue=-1)
    e[:5] = np.arange(10).reshape(5, 2)
    e.resize((13, 2))
    e[10] = [99, 98]
    f.create_dataset("g/h/i/scal", data=np.float64(3.25))
    f.create_dataset("g/strs", data=np.array([b"ab", b"cde"], dtype="S3"))
    f.create_dataset("g/empty", shape=(0, 3), dtype="<u1")
    f.create_dataset("g/unwritten", shape=(4,), dtype="<i2", fillvalue=5)
    f["soft"] = h5py.SoftLink("/g/h")
    f["zhard"] = f["contig"]
    for k in range(300):
        f.create_group(f"many/grp{k:03}")

def hexs(b):
    return b.hex() if b else "-"

def dims(s):
    return ",".join(str(-1 if x is None else x) for x in s) if s else "-"

with h5py.File(out + "/default.h5", "r") as f:
    def attrs(path, o):
        for name in sorted(o.attrs):
            a = o.attrs.get_id(name)
            sp = a.get_space()
            if sp.get_simple_extent_type() == h5py.h5s.NULL:
                print("A", path, name.encode().hex(), "null", "-")
                continue
            dt = a.dtype
            v = o.attrs[name]
            if h5py.check_string_dtype(dt) and dt.kind == "O":
                vals = [v] if not isinstance(v, np.ndarray) else list(v.ravel())
                vals = [x.encode() if isinstance(x, str) else x for x in vals]
                print("A", path, name.encode().hex(), "vlen", ",".join(x.hex() or "-" for x in vals))
            else:
                print("A", path, name.encode().hex(), "raw", hexs(np.asarray(v, dtype=dt).tobytes()))
    def visit(name, o):
        path = "/" + name
        if isinstance(o, h5py.Group):
            print("G", path, len(o))
        else:
            p = o.id.get_create_plist()
            lay = {0: "compact", 1: "contiguous", 2: "chunked"}[p.get_layout()]
            filters = ",".join(str(p.get_filter(i)[0]) for i in range(p.get_nfilters())) or "-"
            print("D", path, dims(o.shape) if o.shape else "-", dims(o.maxshape) if o.shape else "-",
                  o.dtype.itemsize, lay, dims(o.chunks) if o.chunks else "-", filters,
                  hexs(o[()].tobytes()))
        attrs(path, o)
    print("G", "/", len(f))
    attrs("/", f)
    f.visititems(visit)
    print("S", "/soft", f.get("soft", getlink=True).path)
"#;

fn generate(dir: &Path) -> String {
    let args = [OsStr::new("-c"), OsStr::new(WRITE), dir.as_os_str()];
    common::python_ok(&args).0
}

/// What our reader says, in the manifest's format (lines sorted like h5py's
/// `visititems`: by path).
fn describe(f: &read::File<'_>) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in f.objects() {
        let path = o.path().to_string();
        let mut lines = Vec::new();
        match o {
            read::Object::Group(g) => lines.push(format!("G {path} {}", g.links.len())),
            read::Object::Dataset(d) => {
                let data = f.dataset_bytes(&path).unwrap();
                let (lay, chunks) = match &d.layout {
                    read::Layout::Compact { .. } => ("compact", "-".to_string()),
                    read::Layout::Contiguous { .. } => ("contiguous", "-".to_string()),
                    read::Layout::Chunked { .. } => ("chunked", dims(&d.chunk_dims().unwrap())),
                    _ => ("other", "-".to_string()),
                };
                let filters = d
                    .filters
                    .iter()
                    .map(|x| x.id.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                let filters = if filters.is_empty() {
                    "-".into()
                } else {
                    filters
                };
                lines.push(format!(
                    "D {path} {} {} {} {lay} {chunks} {filters} {}",
                    dims(d.dims()),
                    dims(d.max_dims()),
                    d.element_size(),
                    hex(&data)
                ));
            }
            _ => unreachable!(),
        }
        let mut attrs: Vec<_> = o.attrs().iter().collect();
        attrs.sort_by(|a, b| a.name.cmp(&b.name));
        for a in attrs {
            let name = hex(a.name.as_bytes());
            let line = if a.space.kind == SpaceKind::Null {
                format!("A {path} {name} null -")
            } else if let Some(v) = &a.vlen {
                let vals: Vec<String> = v.iter().map(|x| hex(x)).collect();
                format!("A {path} {name} vlen {}", vals.join(","))
            } else {
                format!("A {path} {name} raw {}", hex(&a.raw))
            };
            lines.push(line);
        }
        m.insert(path, lines);
    }
    m
}

#[test]
fn default_libver_files_read_like_h5py() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = generate(dir.path());
    let path = dir.path().join("default.h5");
    let bytes = std::fs::read(&path).unwrap();
    let f = read::File::parse(&bytes).unwrap();
    assert_eq!(f.superblock().version, 0);

    // h5py's lines, grouped by object path (attributes sort by name both ways;
    // h5py sorts them by name, and `sorted` in the script agrees with byte order
    // for these names)
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut soft = None;
    for line in manifest.lines() {
        let mut it = line.split(' ');
        let kind = it.next().unwrap();
        let p = it.next().unwrap().to_string();
        if kind == "S" {
            soft = Some(it.next().unwrap().to_string());
            continue;
        }
        want.entry(p).or_default().push(line.to_string());
    }
    let got = describe(&f);
    // /zhard is the same object as /contig: the reader lists it once, h5py's
    // visititems too (under the first name)
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (p, w) in &want {
        let mut w = w.clone();
        let mut g = got[p].clone();
        w[1..].sort();
        g[1..].sort();
        assert_eq!(g, w, "object {p}");
    }
    assert_eq!(got.len(), 1 + 3 + 1 + 300 + 8);

    // links: the soft link, the second hard link, sorted names
    let root = f.root();
    let s = root.link("soft").expect("soft link");
    assert_eq!(
        s.target,
        LinkTarget::Soft {
            path: soft.unwrap()
        }
    );
    let h2 = f.target(root.link("zhard").unwrap()).unwrap();
    assert_eq!(h2.addr(), f.get("/contig").unwrap().addr());
    let many = f.group("/many").unwrap();
    let names: Vec<_> = many.links.iter().map(|l| l.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 300);

    // strings and the fill value through the typed accessors
    assert_eq!(
        f.root()
            .attrs
            .iter()
            .find(|a| a.name == "vstr")
            .unwrap()
            .strings(),
        Some(vec!["hello, world".to_string()])
    );
    assert_eq!(
        f.dataset("/ext").unwrap().fill,
        Some((-1i64).to_le_bytes().to_vec())
    );

    let report = read::verify(&bytes);
    assert!(report.is_ok(), "{report:?}");
    assert!(f.check().is_ok());
}

#[test]
fn default_libver_files_pass_check_and_ls() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let path = dir.path().join("default.h5");
    let run = |args: &[&str]| common::run_cli(args, &path);
    let (code, out) = run(&["check"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("superblock v0"), "{out}");
    assert!(out.contains("ok: no problems found"), "{out}");
    let (code, out) = run(&["ls"]);
    assert_eq!(code, Some(0), "{out}");
    for want in [
        "/chunked  dataset f64 (10, 100)",
        "chunked (3, 17), filters: shuffle, deflate(4), fletcher32",
        "/compact  dataset u16 (3, 4)",
        "/ext  dataset i64 (13, 2) max (inf, 2)",
        "/many/grp299  group (0 links)",
        "/zhard  hard link, same object as /contig",
    ] {
        assert!(out.contains(want), "ls lacks {want:?}:\n{out}");
    }
}

/// Corrupting any byte of the metadata of a default-libver file gives errors or a
/// report, never a panic: every byte of the first 4 KiB (superblock, root header,
/// local heap, group B-tree and symbol table nodes) and a sample of the rest, each
/// set to two values.
#[test]
fn corrupt_default_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let good = std::fs::read(dir.path().join("default.h5")).unwrap();
    let positions = (0..good.len().min(4096)).chain((4096..good.len()).step_by(149));
    let mut rejected = 0;
    for pos in positions {
        for v in [0xffu8, good[pos] ^ 0x01] {
            if v == good[pos] {
                continue;
            }
            let mut b = good.clone();
            b[pos] = v;
            let report = read::verify(&b);
            if !report.is_ok() {
                rejected += 1;
            }
            if let Ok(f) = read::File::parse(&b) {
                for d in f.datasets() {
                    let _ = f.dataset_bytes_limited(&d.path, 1 << 24);
                }
            }
        }
    }
    assert!(rejected > 1000, "{rejected}");
}

/// Such a file reopens for append; opened and finished without changes, it stays
/// byte for byte what libhdf5 wrote; then it is continued (tests/reopen_h5py.rs has
/// more), soft links and a second hard link kept.
#[test]
fn default_libver_files_reopen_unchanged_and_continue() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let path = dir.path().join("default.h5");
    let before = std::fs::read(&path).unwrap();
    let f = h5sink::File::options().open_append(&path).unwrap();
    f.flush().unwrap();
    f.finish().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // then continued: /ext's last chunk row was never written (fill), frames follow it
    let f = h5sink::File::options().open_append(&path).unwrap();
    let ext = f.open_dataset::<i64>("/ext").unwrap();
    for i in 13..18i64 {
        ext.append(&[i, -i]).unwrap();
    }
    f.create_group("/added").unwrap();
    f.finish().unwrap();
    let code = format!(
        "import h5py, numpy as np\nf = h5py.File({:?}, 'r')\ne = f['ext'][...]\n\
         assert e.shape == (18, 2), e.shape\n\
         assert e[10].tolist() == [99, 98] and e[11:13].tolist() == [[-1, -1]] * 2, e\n\
         assert e[13:].tolist() == [[i, -i] for i in range(13, 18)], e\n\
         assert f.get('soft', getlink=True).path == '/g/h' and f['zhard'].id == f['contig'].id\n\
         assert isinstance(f['added'], h5py.Group) and len(f['many']) == 300\n\
         print('continued ok')",
        path.to_str().unwrap()
    );
    let out = common::run_python(&code, &[] as &[&str]);
    assert!(out.contains("continued ok"), "{out}");
}

/// Damaged old-style group structures are errors naming the structure and where
/// it starts.
#[test]
fn damaged_group_structures_are_named() {
    use h5sink::read::Structure;
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
    let good = std::fs::read(dir.path().join("default.h5")).unwrap();
    let find = |sig: &[u8], next: Option<u8>| {
        (0..good.len() - 5)
            .find(|&i| &good[i..i + 4] == sig && next.is_none_or(|n| good[i + 4] == n))
            .unwrap_or_else(|| panic!("no {sig:?} in the file"))
    };
    for (sig, next, structure) in [
        (&b"SNOD"[..], None, Structure::SymbolTableNode),
        (b"HEAP", None, Structure::LocalHeap),
        (b"TREE", Some(0), Structure::GroupBTreeNode),
    ] {
        let at = find(sig, next);
        let mut b = good.clone();
        b[at] ^= 0x20;
        let e = read::File::parse(&b)
            .err()
            .unwrap_or_else(|| panic!("{sig:?}"));
        assert_eq!(e.structure(), structure, "{e}");
        assert_eq!(e.offset(), at as u64, "{e}");
        assert!(!read::verify(&b).is_ok());
    }
    // the root's version-1 header: a message size that is not a multiple of 8
    let f = read::File::parse(&good).unwrap();
    let root = f.root().addr as usize;
    let mut b = good.clone();
    b[root + 16 + 2] -= 1;
    let e = read::File::parse(&b).err().expect("misaligned message");
    assert_eq!(e.structure(), Structure::ObjectHeader, "{e}");
    assert!(e.to_string().contains("multiple of 8"), "{e}");
}
