//! Files written by h5sink, read back by h5py (libhdf5 2.0) and h5dump (libhdf5 1.10):
//! groups, attributes of every type, datasets of every numeric type in every layout
//! and rank, hyperslab writes, large chunk indexes, determinism, bad input, edge
//! cases, threads, and extendable datasets created with frames in their shape.
//!
//! Every file is checked by `common::check_file`: h5py compares everything against a
//! manifest exactly (tests/py/verify.py), `h5dump -H` must show the same groups and
//! dataset dims, and full `h5dump -b` must produce the same bytes of data.
//!
//! Needs `.venv` (or `$H5SINK_PYTHON`) with h5py, and `h5dump` on PATH:
//! run scripts/setup-test-env.sh.

mod common;

use std::path::Path;

use common::{
    apply_region, check_file, check_h5dump, h5dump_data, numel, parse_h5dump, tempdir, verify,
    Elem, Layout, Manifest, Rng,
};
use h5sink::{AttrWriter, Error, File, UNLIMITED};

/// `n` values mixing the type's extremes, arbitrary bits and small counters.
fn mixed<T: Elem>(rng: &mut Rng, n: usize) -> Vec<T> {
    let ext = T::extremes();
    (0..n)
        .map(|i| match i {
            i if i < ext.len() => ext[i],
            i if i % 3 == 0 => T::random(rng),
            i => T::from_index(i as u64),
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Groups and attributes

/// Numeric attributes of type `T` on one object: a scalar per extreme value, and
/// 1-D, 2-D, 3-D and 4-D arrays (empty ones are in `edge_cases`).
fn numeric_attrs<T: Elem>(
    attr: &dyn Fn(&str) -> AttrWriter,
    m: &mut Manifest,
    obj: &str,
    rng: &mut Rng,
) {
    let t = T::NAME;
    for (i, v) in T::extremes().into_iter().enumerate() {
        attr(&format!("{t}_s{i}")).write_scalar(v).unwrap();
        m.attr_scalar(obj, &format!("{t}_s{i}"), v);
    }
    let ext = T::extremes();
    attr(&format!("{t}_1d")).write(&ext).unwrap();
    m.attr_array(obj, &format!("{t}_1d"), &[ext.len() as u64], &ext);
    let v2: Vec<T> = (0..6).map(T::from_index).collect();
    attr(&format!("{t}_2d")).write_array(&[2, 3], &v2).unwrap();
    m.attr_array(obj, &format!("{t}_2d"), &[2, 3], &v2);
    let v3: Vec<T> = (0..24).map(|_| T::random(rng)).collect();
    attr(&format!("{t}_3d"))
        .write_array(&[2, 3, 4], &v3)
        .unwrap();
    m.attr_array(obj, &format!("{t}_3d"), &[2, 3, 4], &v3);
    let v4: Vec<T> = mixed(rng, 2 * 2 * 3 * 2);
    attr(&format!("{t}_4d"))
        .write_array(&[2, 2, 3, 2], &v4)
        .unwrap();
    m.attr_array(obj, &format!("{t}_4d"), &[2, 2, 3, 2], &v4);
}

fn all_numeric_attrs(
    attr: &dyn Fn(&str) -> AttrWriter,
    m: &mut Manifest,
    obj: &str,
    rng: &mut Rng,
) {
    numeric_attrs::<u8>(attr, m, obj, rng);
    numeric_attrs::<u16>(attr, m, obj, rng);
    numeric_attrs::<u32>(attr, m, obj, rng);
    numeric_attrs::<u64>(attr, m, obj, rng);
    numeric_attrs::<i8>(attr, m, obj, rng);
    numeric_attrs::<i16>(attr, m, obj, rng);
    numeric_attrs::<i32>(attr, m, obj, rng);
    numeric_attrs::<i64>(attr, m, obj, rng);
    numeric_attrs::<f32>(attr, m, obj, rng);
    numeric_attrs::<f64>(attr, m, obj, rng);
}

/// String attributes: variable-length (`write_str[s]`, h5py `str`) and fixed-length
/// (`write_fixed_str[s]`, h5py `bytes`), ASCII and UTF-8, empty, long and many.
fn string_attrs(attr: &dyn Fn(&str) -> AttrWriter, m: &mut Manifest, obj: &str) {
    let long: String = (0..10_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let many: Vec<String> = (0..600).map(|i| format!("item {i} ✓")).collect();
    let many: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
    let vlen: [(&str, &str); 5] = [
        ("v_ascii", "sCMOS-1"),
        ("v_empty", ""),
        ("v_utf8", "héllo wörld ✓ 日本"),
        ("v_long", &long),
        ("v_quote", "a \"quoted\" \\ back\tslash\nnewline"),
    ];
    for (name, v) in vlen {
        attr(name).write_str(v).unwrap();
        m.attr_str(obj, name, v);
    }
    let vlens: [(&str, &[&str]); 3] = [
        ("vs_mixed", &["", "a", "héllo wörld", "日本語"]),
        ("vs_one", &["only"]),
        ("vs_many", &many), // spills over several global heap collections
    ];
    for (name, v) in vlens {
        attr(name).write_strs(v).unwrap();
        m.attr_strs(obj, name, v);
    }
    let fixed = [
        ("f_ascii", "counts"),
        ("f_empty", ""),
        ("f_utf8", "héllo"),
        ("f_long", &long[..3000]),
    ];
    for (name, v) in fixed {
        attr(name).write_fixed_str(v).unwrap();
        m.attr_fixed_str(obj, name, v);
    }
    let fixeds: [(&str, &[&str]); 3] = [
        ("fs_ascii", &["a", "bcd", ""]),
        ("fs_utf8", &["é", "ab", "日本"]),
        ("fs_one", &["x"]),
    ];
    for (name, v) in fixeds {
        attr(name).write_fixed_strs(v).unwrap();
        m.attr_fixed_strs(obj, name, v);
    }
}

#[test]
fn groups_and_attributes() {
    let dir = tempdir();
    let h5 = dir.path().join("groups.h5");
    let mut m = Manifest::new(dir.path(), "groups");
    let mut rng = Rng::new(1);
    let f = File::create(&h5).unwrap();
    assert_eq!(f.path(), Some(h5.as_path()));

    // nested groups by absolute path
    f.create_group("/a").unwrap();
    f.create_group("/a/b").unwrap();
    let c = f.create_group("/a/b/c").unwrap();
    assert_eq!(c.path(), "/a/b/c");
    // group handles and relative paths
    let x = f.create_group("x").unwrap();
    assert_eq!(x.path(), "/x");
    let y = x.create_group("y").unwrap();
    assert_eq!(y.path(), "/x/y");
    y.create_group("z").unwrap();
    x.create_group("y/w").unwrap();
    let b = f.group("/a/b").unwrap();
    assert_eq!(b.path(), "/a/b");
    b.create_group("d").unwrap();
    f.group("a/b/c").unwrap().create_group("deep").unwrap();
    assert_eq!(x.group("y/z").unwrap().path(), "/x/y/z");
    assert_eq!(f.root().path(), "/");
    f.create_group("/données é").unwrap();
    // 40 siblings: a group header that outgrows its first chunk
    let wide = f.create_group("/wide").unwrap();
    for i in 0..40 {
        wide.create_group(&format!("member_{i:02}")).unwrap();
        m.group(&format!("/wide/member_{i:02}"));
    }
    for g in [
        "/a",
        "/a/b",
        "/a/b/c",
        "/x",
        "/x/y",
        "/x/y/z",
        "/x/y/w",
        "/a/b/d",
        "/a/b/c/deep",
        "/données é",
        "/wide",
    ] {
        m.group(g);
    }

    // attributes on the root, a nested group (handle from File::group) and a dataset
    let root = f.root();
    all_numeric_attrs(&|n| root.attr(n), &mut m, "/", &mut rng);
    string_attrs(&|n| root.attr(n), &mut m, "/");
    f.flush().unwrap();
    let bh = f.group("/a/b").unwrap();
    all_numeric_attrs(&|n| bh.attr(n), &mut m, "/a/b", &mut rng);
    string_attrs(&|n| bh.attr(n), &mut m, "/a/b");
    let data: Vec<f64> = (0..12).map(f64::from_index).collect();
    let ds = f
        .dataset::<f64>("/a/b/c/data")
        .shape([3, 4])
        .create_with_data(&data)
        .unwrap();
    m.dataset("/a/b/c/data", &[3, 4], Layout::Contiguous, &data, None);
    f.flush().unwrap();
    all_numeric_attrs(&|n| ds.attr(n), &mut m, "/a/b/c/data", &mut rng);
    string_attrs(&|n| ds.attr(n), &mut m, "/a/b/c/data");
    // attributes added to objects whose headers were committed already
    y.attr("late").write_scalar(7u8).unwrap();
    m.attr_scalar("/x/y", "late", 7u8);
    root.attr("late_str").write_str("after a flush").unwrap();
    m.attr_str("/", "late_str", "after a flush");
    let summary = f.finish().unwrap();
    assert_eq!(summary.groups, 1 + 11 + 40);
    assert_eq!(summary.datasets, 1);
    assert_eq!(summary.file_size, std::fs::metadata(&h5).unwrap().len());

    check_file(&h5, &m);
    // libhdf5 1.10 also reads every attribute value
    let dump = h5dump_data(&h5);
    for want in [
        "\"sCMOS-1\"",
        "\"counts\"",
        "18446744073709551615",
        "-9223372036854775808",
        "GROUP \"deep\"",
    ] {
        assert!(dump.contains(want), "h5dump output lacks {want}");
    }
}

// ---------------------------------------------------------------------------------
// Datasets: every type × layout × rank

/// Shapes with their chunk shapes: ranks 0-4, edge chunks, chunk = shape, zero dims.
fn shapes() -> Vec<(Vec<u64>, Option<Vec<u64>>)> {
    let s = |shape: &[u64], chunk: &[u64]| (shape.to_vec(), Some(chunk.to_vec()));
    vec![
        (vec![], None),
        s(&[37], &[10]),
        s(&[16], &[16]),
        s(&[5], &[1]),
        s(&[7, 9], &[3, 4]),
        s(&[6, 8], &[6, 8]),
        s(&[3, 5, 4], &[2, 2, 3]),
        s(&[2, 3, 4, 5], &[1, 2, 3, 2]),
        s(&[2, 2, 2, 2], &[2, 2, 2, 2]),
        s(&[0], &[4]),
        s(&[4, 0], &[2, 3]),
        s(&[0, 3, 2], &[1, 3, 2]),
    ]
}

fn name_of(shape: &[u64]) -> String {
    if shape.is_empty() {
        "scalar".to_string()
    } else {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        format!("r{}_{}", shape.len(), dims.join("x"))
    }
}

fn all_layouts<T: Elem>(f: &File, m: &mut Manifest, rng: &mut Rng) {
    let t = T::NAME;
    f.create_group(&format!("/{t}")).unwrap();
    m.group(&format!("/{t}"));
    for layout in ["contiguous", "compact", "chunked", "default"] {
        let g = format!("/{t}/{layout}");
        f.create_group(&g).unwrap();
        m.group(&g);
        for (shape, chunk) in shapes() {
            let path = format!("{g}/{}", name_of(&shape));
            let data: Vec<T> = mixed(rng, numel(&shape));
            let b = f.dataset::<T>(&path).shape(&shape);
            let (b, expect) = match layout {
                "contiguous" => (b.contiguous(), Layout::Contiguous),
                "compact" => (b.compact(), Layout::Compact),
                "default" => (b, Layout::Contiguous),
                _ => match chunk {
                    Some(c) => (b.chunk(&c), Layout::Chunked(c)),
                    None => continue, // a scalar cannot be chunked
                },
            };
            let ds = b.create_with_data(&data).unwrap();
            assert_eq!(ds.shape(), shape);
            assert_eq!(ds.path(), path);
            m.dataset(&path, &shape, expect, &data, None);
        }
    }
}

#[test]
fn datasets_of_every_type_layout_and_rank() {
    let dir = tempdir();
    let h5 = dir.path().join("layouts.h5");
    let mut m = Manifest::new(dir.path(), "layouts");
    let mut rng = Rng::new(2);
    let f = File::create(&h5).unwrap();
    all_layouts::<u8>(&f, &mut m, &mut rng);
    all_layouts::<u16>(&f, &mut m, &mut rng);
    all_layouts::<u32>(&f, &mut m, &mut rng);
    all_layouts::<u64>(&f, &mut m, &mut rng);
    f.flush().unwrap();
    all_layouts::<i8>(&f, &mut m, &mut rng);
    all_layouts::<i16>(&f, &mut m, &mut rng);
    all_layouts::<i32>(&f, &mut m, &mut rng);
    all_layouts::<i64>(&f, &mut m, &mut rng);
    all_layouts::<f32>(&f, &mut m, &mut rng);
    all_layouts::<f64>(&f, &mut m, &mut rng);
    // compact at its size limit
    let big: Vec<u8> = (0..h5sink::MAX_COMPACT_BYTES)
        .map(|i| (i % 251) as u8)
        .collect();
    f.dataset::<u8>("/compact_max")
        .shape([big.len() as u64])
        .compact()
        .create_with_data(&big)
        .unwrap();
    m.dataset(
        "/compact_max",
        &[big.len() as u64],
        Layout::Compact,
        &big,
        None,
    );
    // extendable (chunked) datasets: maxshape with an unlimited and a fixed bound
    let data: Vec<i32> = (0..30).map(i32::from_index).collect();
    f.dataset::<i32>("/extendable")
        .shape([5, 6])
        .max_shape([UNLIMITED, 10])
        .chunk([2, 4])
        .create_with_data(&data)
        .unwrap();
    m.dataset(
        "/extendable",
        &[5, 6],
        Layout::Chunked(vec![2, 4]),
        &data,
        None,
    );
    m.maxshape("/extendable", &[None, Some(10)]);
    f.dataset::<u8>("/extendable_empty")
        .shape([0])
        .max_shape([UNLIMITED])
        .chunk([64])
        .create()
        .unwrap();
    m.dataset(
        "/extendable_empty",
        &[0],
        Layout::Chunked(vec![64]),
        &[] as &[u8],
        None,
    );
    m.maxshape("/extendable_empty", &[None]);
    // datasets created but never written read as zeros, in every layout
    for (name, layout) in [
        ("unwritten_contiguous", Layout::Contiguous),
        ("unwritten_compact", Layout::Compact),
        ("unwritten_chunked", Layout::Chunked(vec![3, 3])),
    ] {
        let b = f.dataset::<f32>(&format!("/{name}")).shape([4, 5]);
        let b = match &layout {
            Layout::Contiguous => b.contiguous(),
            Layout::Compact => b.compact(),
            Layout::Chunked(c) => b.chunk(c),
        };
        b.create().unwrap();
        m.dataset(&format!("/{name}"), &[4, 5], layout, &[0f32; 20], None);
    }
    let s = f.finish().unwrap();
    assert_eq!(s.datasets, m.dataset_shapes().len());
    check_file(&h5, &m);
}

// ---------------------------------------------------------------------------------
// Hyperslab writes

/// Writes random regions (fixed seed), in random order, overlapping (later wins),
/// with commits in between; mirrors them in the expected array. Asserts that some
/// elements stay unwritten, so the fill value is checked too.
#[allow(clippy::too_many_arguments)]
fn random_regions<T: Elem>(
    f: &File,
    m: &mut Manifest,
    rng: &mut Rng,
    path: &str,
    shape: &[u64],
    layout: Layout,
    fill: Option<T>,
    writes: usize,
) {
    let b = f.dataset::<T>(path).shape(shape);
    let b = match &layout {
        Layout::Contiguous => b.contiguous(),
        Layout::Compact => b.compact(),
        Layout::Chunked(c) => b.chunk(c),
    };
    let b = match fill {
        Some(v) => b.fill_value(v),
        None => b,
    };
    let ds = b.create().unwrap();
    let n = numel(shape);
    let mut expect = vec![fill.unwrap_or_else(T::zeroed); n];
    let mut written = vec![false; n];
    let mut last: Option<(Vec<u64>, Vec<u64>)> = None;
    for w in 0..writes {
        let (start, count) = match &last {
            // every fourth write rewrites the previous region with new data
            Some(r) if w % 4 == 3 => r.clone(),
            _ => {
                let mut start = Vec::new();
                let mut count = Vec::new();
                for &d in shape {
                    let s = rng.below(d);
                    start.push(s);
                    count.push(rng.range(1, (d - s).min(d / 2 + 1)));
                }
                (start, count)
            }
        };
        let data: Vec<T> = (0..numel(&count)).map(|_| T::random(rng)).collect();
        ds.write_region(&start, &count, &data).unwrap();
        apply_region(&mut expect, shape, &start, &count, &data);
        apply_region(&mut written, shape, &start, &count, &vec![true; data.len()]);
        if w % 5 == 4 {
            f.flush().unwrap();
        }
        last = Some((start, count));
    }
    assert!(
        written.iter().any(|w| !w) && written.iter().any(|w| *w),
        "{path}: the writes should leave some elements unwritten"
    );
    m.dataset(path, shape, layout, &expect, fill);
}

fn hyperslabs_of<T: Elem>(f: &File, m: &mut Manifest, rng: &mut Rng) {
    let t = T::NAME;
    f.create_group(&format!("/{t}")).unwrap();
    m.group(&format!("/{t}"));
    let nonzero = T::extremes()[1]; // MAX
    for (lname, layout) in [
        ("contiguous", Layout::Contiguous),
        ("compact", Layout::Compact),
        ("chunked", Layout::Chunked(vec![4, 5])),
    ] {
        for (fname, fill) in [("zero", None), ("fill", Some(nonzero))] {
            let path = format!("/{t}/{lname}_{fname}");
            random_regions::<T>(f, m, rng, &path, &[13, 17], layout.clone(), fill, 12);
        }
    }
}

#[test]
fn hyperslab_writes() {
    let dir = tempdir();
    let h5 = dir.path().join("slabs.h5");
    let mut m = Manifest::new(dir.path(), "slabs");
    let mut rng = Rng::new(3);
    let f = File::create(&h5).unwrap();
    hyperslabs_of::<u8>(&f, &mut m, &mut rng);
    hyperslabs_of::<u16>(&f, &mut m, &mut rng);
    hyperslabs_of::<u32>(&f, &mut m, &mut rng);
    hyperslabs_of::<u64>(&f, &mut m, &mut rng);
    hyperslabs_of::<i8>(&f, &mut m, &mut rng);
    hyperslabs_of::<i16>(&f, &mut m, &mut rng);
    hyperslabs_of::<i32>(&f, &mut m, &mut rng);
    hyperslabs_of::<i64>(&f, &mut m, &mut rng);
    hyperslabs_of::<f32>(&f, &mut m, &mut rng);
    hyperslabs_of::<f64>(&f, &mut m, &mut rng);
    // other ranks, and NaN / -0.0 fill values
    f.create_group("/ranks").unwrap();
    m.group("/ranks");
    let cases: Vec<(&str, Vec<u64>, Layout)> = vec![
        ("r1_contiguous", vec![100], Layout::Contiguous),
        ("r1_compact", vec![100], Layout::Compact),
        ("r1_chunked", vec![100], Layout::Chunked(vec![7])),
        ("r3_contiguous", vec![5, 6, 7], Layout::Contiguous),
        ("r3_compact", vec![5, 6, 7], Layout::Compact),
        ("r3_chunked", vec![5, 6, 7], Layout::Chunked(vec![2, 3, 4])),
        ("r4_contiguous", vec![3, 4, 5, 6], Layout::Contiguous),
        ("r4_compact", vec![3, 4, 5, 6], Layout::Compact),
        (
            "r4_chunked",
            vec![3, 4, 5, 6],
            Layout::Chunked(vec![2, 3, 2, 5]),
        ),
    ];
    for (name, shape, layout) in cases {
        let p = format!("/ranks/{name}_f64nan");
        random_regions::<f64>(
            &f,
            &mut m,
            &mut rng,
            &p,
            &shape,
            layout.clone(),
            Some(f64::NAN),
            10,
        );
        let p = format!("/ranks/{name}_f32negzero");
        random_regions::<f32>(
            &f,
            &mut m,
            &mut rng,
            &p,
            &shape,
            layout.clone(),
            Some(-0.0),
            10,
        );
        let p = format!("/ranks/{name}_i8");
        random_regions::<i8>(&f, &mut m, &mut rng, &p, &shape, layout, Some(-7), 10);
    }
    // sparse: whole chunks never touched read as the fill value
    for (name, fill) in [("sparse_zero", None), ("sparse_fill", Some(-2i16))] {
        let ds = f
            .dataset::<i16>(&format!("/{name}"))
            .shape([20, 20])
            .chunk([5, 5]);
        let ds = match fill {
            Some(v) => ds.fill_value(v),
            None => ds,
        }
        .create()
        .unwrap();
        let mut expect = vec![fill.unwrap_or(0); 400];
        let writes: [([u64; 2], [u64; 2]); 3] =
            [([0, 0], [5, 5]), ([12, 12], [2, 6]), ([19, 0], [1, 1])];
        for (i, (start, count)) in writes.into_iter().enumerate() {
            let data: Vec<i16> = (0..numel(&count)).map(|k| (i * 100 + k) as i16).collect();
            ds.write_region(&start, &count, &data).unwrap();
            apply_region(&mut expect, &[20, 20], &start, &count, &data);
        }
        // an empty region is a no-op
        ds.write_region(&[3, 3], &[0, 4], &[]).unwrap();
        m.dataset(
            &format!("/{name}"),
            &[20, 20],
            Layout::Chunked(vec![5, 5]),
            &expect,
            fill,
        );
    }
    f.finish().unwrap();
    check_file(&h5, &m);
}

// ---------------------------------------------------------------------------------
// Large chunk indexes

#[test]
fn two_hundred_thousand_chunks() {
    let dir = tempdir();
    let h5 = dir.path().join("many.h5");
    let mut m = Manifest::new(dir.path(), "many");
    let shape = [400u64, 1000];
    let chunk = [2u64, 1];
    assert_eq!((shape[0] / chunk[0]) * (shape[1] / chunk[1]), 200_000);
    let data: Vec<i16> = (0..400_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 16) as i16)
        .collect();
    let f = File::create(&h5).unwrap();
    f.dataset::<i16>("/many")
        .shape(shape)
        .chunk(chunk)
        .create_with_data(&data)
        .unwrap();
    f.finish().unwrap();
    m.dataset(
        "/many",
        &shape,
        Layout::Chunked(chunk.to_vec()),
        &data,
        None,
    );
    check_file(&h5, &m);
}

#[test]
fn multi_level_index_written_in_random_order() {
    let dir = tempdir();
    let h5 = dir.path().join("random_order.h5");
    let mut m = Manifest::new(dir.path(), "random_order");
    let mut rng = Rng::new(5);
    let f = File::create(&h5).unwrap();

    // 1-D: 15,000 chunks of 2, filled one element at a time in random order: every
    // chunk is created by one write and completed by a read-modify-write later;
    // three levels of B-tree nodes (15,000 / 64 leaves > 64).
    let n = 30_000u64;
    let ds = f
        .dataset::<u16>("/elements")
        .shape([n])
        .chunk([2])
        .fill_value(7)
        .create()
        .unwrap();
    let mut order: Vec<u64> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut expect = vec![7u16; n as usize];
    for (k, &i) in order.iter().enumerate() {
        if i % 1000 == 999 {
            continue; // never written: reads as the fill value
        }
        let v = (i as u16).wrapping_mul(3).wrapping_add(1);
        ds.write_region(&[i], &[1], &[v]).unwrap();
        expect[i as usize] = v;
        if k % 7000 == 6999 {
            f.flush().unwrap();
        }
    }
    m.dataset(
        "/elements",
        &[n],
        Layout::Chunked(vec![2]),
        &expect,
        Some(7),
    );

    // 2-D: 5,040 chunks of 3x4 (edge chunks in dim 1), written as shuffled 7x9 tiles
    // that straddle chunk boundaries; a few tiles are skipped.
    let shape = [240u64, 250];
    let ds = f
        .dataset::<u32>("/tiles")
        .shape(shape)
        .chunk([3, 4])
        .fill_value(0xDEAD_BEEF)
        .create()
        .unwrap();
    let mut tiles = Vec::new();
    for r in (0..shape[0]).step_by(7) {
        for c in (0..shape[1]).step_by(9) {
            tiles.push([r, c]);
        }
    }
    rng.shuffle(&mut tiles);
    let mut expect = vec![0xDEAD_BEEFu32; numel(&shape)];
    for (k, start) in tiles.iter().enumerate() {
        if k % 37 == 5 {
            continue;
        }
        let count = [7.min(shape[0] - start[0]), 9.min(shape[1] - start[1])];
        let data: Vec<u32> = (0..numel(&count)).map(|_| rng.next_u64() as u32).collect();
        ds.write_region(start, &count, &data).unwrap();
        apply_region(&mut expect, &shape, start, &count, &data);
        if k % 250 == 249 {
            f.flush().unwrap();
        }
    }
    m.dataset(
        "/tiles",
        &shape,
        Layout::Chunked(vec![3, 4]),
        &expect,
        Some(0xDEAD_BEEF),
    );
    f.finish().unwrap();
    check_file(&h5, &m);
}

// ---------------------------------------------------------------------------------
// Determinism

/// A file with a bit of everything, including random-order writes and commits.
fn write_sample(h5: &Path, opts: h5sink::FileOptions, m: &mut Manifest) {
    let mut rng = Rng::new(6);
    let f = opts.create(h5).unwrap();
    let root = f.root();
    root.attr("title").write_str("determinism ✓").unwrap();
    m.attr_str("/", "title", "determinism ✓");
    root.attr("fixed").write_fixed_strs(&["a", "bc"]).unwrap();
    m.attr_fixed_strs("/", "fixed", &["a", "bc"]);
    let g = f.create_group("/g").unwrap();
    m.group("/g");
    g.attr("n").write_scalar(5i64).unwrap();
    m.attr_scalar("/g", "n", 5i64);
    let data: Vec<f32> = mixed(&mut rng, 60);
    g.dataset::<f32>("contig")
        .shape([6, 10])
        .create_with_data(&data)
        .unwrap();
    m.dataset("/g/contig", &[6, 10], Layout::Contiguous, &data, None);
    let data: Vec<i16> = mixed(&mut rng, 12);
    g.dataset::<i16>("compact")
        .shape([12])
        .compact()
        .create_with_data(&data)
        .unwrap();
    m.dataset("/g/compact", &[12], Layout::Compact, &data, None);
    f.flush().unwrap();
    random_regions::<u64>(
        &f,
        m,
        &mut rng,
        "/g/chunked",
        &[30, 40],
        Layout::Chunked(vec![4, 6]),
        Some(9),
        20,
    );
    g.attr("after").write_strs(&["x", "yz"]).unwrap();
    m.attr_strs("/g", "after", &["x", "yz"]);
    f.finish().unwrap();
}

#[test]
fn same_program_writes_identical_bytes() {
    let dir = tempdir();
    let (a, b, c) = (
        dir.path().join("det_a.h5"),
        dir.path().join("det_b.h5"),
        dir.path().join("det_c.h5"),
    );
    let mut ma = Manifest::new(dir.path(), "det_a");
    write_sample(&a, File::options(), &mut ma);
    write_sample(&b, File::options(), &mut Manifest::new(dir.path(), "det_b"));
    let durable = File::options().durability(h5sink::Durability::PowerLoss);
    write_sample(&c, durable, &mut Manifest::new(dir.path(), "det_c"));
    let (ba, bb, bc) = (
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        std::fs::read(&c).unwrap(),
    );
    assert!(
        ba == bb,
        "two runs of the same program wrote different files"
    );
    assert!(ba == bc, "Durability::PowerLoss changed the file's bytes");
    check_file(&a, &ma);
}

// ---------------------------------------------------------------------------------
// Bad input

/// Asserts an error of the given variant whose message names `object`.
macro_rules! assert_err {
    ($r:expr, $pat:pat, $object:expr) => {{
        match $r {
            Err(e @ $pat) => {
                let msg = e.to_string();
                assert!(
                    msg.contains($object),
                    "error {msg:?} does not name {:?}",
                    $object
                );
            }
            Err(e) => panic!(
                "{}: expected {}, got {e:?}",
                stringify!($r),
                stringify!($pat)
            ),
            Ok(_) => panic!("{}: expected {}, got Ok", stringify!($r), stringify!($pat)),
        }
    }};
}

#[test]
fn bad_input_is_refused_and_the_file_stays_good() {
    let dir = tempdir();
    let h5 = dir.path().join("bad.h5");
    let mut m = Manifest::new(dir.path(), "bad");
    let f = File::create(&h5).unwrap();
    let g = f.create_group("/g").unwrap();
    m.group("/g");
    let data: Vec<u8> = (0..12).collect();
    let ds = f
        .dataset::<u8>("/g/ds")
        .shape([3, 4])
        .create_with_data(&data)
        .unwrap();
    // refused writes below leave its data as it is
    m.dataset("/g/ds", &[3, 4], Layout::Contiguous, &data, None);
    ds.attr("a").write_scalar(1u8).unwrap();
    m.attr_scalar("/g/ds", "a", 1u8);
    g.attr("s").write_str("first").unwrap();
    m.attr_str("/g", "s", "first");

    // duplicate names
    assert_err!(f.create_group("/g"), Error::AlreadyExists { .. }, "/g");
    assert_err!(
        f.dataset::<u8>("/g").shape([1]).create(),
        Error::AlreadyExists { .. },
        "/g"
    );
    assert_err!(g.create_group("ds"), Error::AlreadyExists { .. }, "/g/ds");
    assert_err!(
        g.dataset::<f64>("ds").shape([3, 4]).create(),
        Error::AlreadyExists { .. },
        "/g/ds"
    );
    assert_err!(
        ds.attr("a").write_scalar(2u8),
        Error::AlreadyExists { .. },
        "/g/ds@a"
    );
    assert_err!(
        ds.attr("a").write_str("text"),
        Error::AlreadyExists { .. },
        "/g/ds@a"
    );
    assert_err!(
        g.attr("s").write_str("second"),
        Error::AlreadyExists { .. },
        "/g@s"
    );
    assert_err!(
        g.attr("s").write_fixed_str("second"),
        Error::AlreadyExists { .. },
        "/g@s"
    );

    // empty names and names with '/'
    assert_err!(f.create_group(""), Error::InvalidName { .. }, "\"\"");
    assert_err!(f.create_group("/"), Error::InvalidName { .. }, "\"/\"");
    assert_err!(
        f.dataset::<u8>("").shape([1]).create(),
        Error::InvalidName { .. },
        "\"\""
    );
    assert_err!(f.create_group("/g//x"), Error::InvalidName { .. }, "/g//x");
    assert_err!(f.create_group("/g/x/"), Error::InvalidName { .. }, "/g/x/");
    assert_err!(
        g.attr("").write_scalar(1u8),
        Error::InvalidName { .. },
        "\"\""
    );
    assert_err!(
        g.attr("a/b").write_scalar(1u8),
        Error::InvalidName { .. },
        "a/b"
    );
    assert_err!(
        g.attr("a/b").write_str("x"),
        Error::InvalidName { .. },
        "a/b"
    );
    assert_err!(
        g.attr("a/b").write_fixed_str("x"),
        Error::InvalidName { .. },
        "a/b"
    );
    assert_err!(f.create_group("/g/.."), Error::InvalidName { .. }, "/g/..");

    // missing parents, and parents that are datasets
    assert_err!(f.create_group("/nope/x"), Error::NotFound { .. }, "/nope");
    assert_err!(
        f.dataset::<u8>("/nope/x").shape([1]).create(),
        Error::NotFound { .. },
        "/nope"
    );
    assert_err!(f.create_group("/g/ds/x"), Error::NotFound { .. }, "/g/ds");
    assert_err!(f.group("/nope"), Error::NotFound { .. }, "/nope");
    assert_err!(f.group("/g/ds"), Error::NotFound { .. }, "/g/ds");

    // bad dataset shapes, chunks and layouts: each names the dataset
    assert_err!(
        f.dataset::<u8>("/bad").create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad").shape([4, 4]).chunk([2]).create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad").shape([4, 4]).chunk([2, 0]).create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad").shape([4, 4]).chunk([2, 5]).create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad").shape([]).chunk([]).create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u64>("/bad")
            .shape([1 << 20, 1 << 10])
            .chunk([1 << 20, 1 << 10])
            .create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad")
            .shape([h5sink::MAX_COMPACT_BYTES as u64 + 1])
            .compact()
            .create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<f64>("/bad")
            .shape([100, 100])
            .compact()
            .create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad")
            .shape([4])
            .max_shape([UNLIMITED])
            .create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad")
            .shape([4])
            .max_shape([8])
            .contiguous()
            .create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad")
            .shape([4])
            .max_shape([8])
            .compact()
            .create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad")
            .shape([4, 4])
            .max_shape([8])
            .chunk([2, 2])
            .create(),
        Error::Invalid { .. },
        "/bad"
    );
    assert_err!(
        f.dataset::<u8>("/bad")
            .shape([4])
            .max_shape([2])
            .chunk([2])
            .create(),
        Error::Invalid { .. },
        "/bad"
    );

    // bad writes
    assert_err!(ds.write(&[1, 2, 3]), Error::Invalid { .. }, "/g/ds");
    assert_err!(ds.write(&[0; 13]), Error::Invalid { .. }, "/g/ds");
    assert_err!(
        ds.write_region(&[0, 0], &[2, 2], &[1, 2, 3]),
        Error::Invalid { .. },
        "/g/ds"
    );
    assert_err!(
        ds.write_region(&[2, 0], &[2, 2], &[1, 2, 3, 4]),
        Error::Invalid { .. },
        "/g/ds"
    );
    assert_err!(
        ds.write_region(&[0, 3], &[1, 2], &[1, 2]),
        Error::Invalid { .. },
        "/g/ds"
    );
    assert_err!(
        ds.write_region(&[u64::MAX, 0], &[2, 1], &[1, 2]),
        Error::Invalid { .. },
        "/g/ds"
    );
    assert_err!(
        ds.write_region(&[0], &[4], &[1, 2, 3, 4]),
        Error::Invalid { .. },
        "/g/ds"
    );
    assert_err!(
        ds.write_region(&[4, 0], &[0, 1], &[]),
        Error::Invalid { .. },
        "/g/ds"
    );
    assert_err!(
        g.attr("arr").write_array(&[2, 2], &[1u8, 2, 3]),
        Error::Invalid { .. },
        "/g"
    );

    // a chunked dataset refuses bad regions too, and its good writes still land
    let c = f
        .dataset::<i32>("/chunked")
        .shape([5, 5])
        .chunk([2, 2])
        .fill_value(-1)
        .create()
        .unwrap();
    assert_err!(
        c.write_region(&[4, 4], &[2, 1], &[1, 2]),
        Error::Invalid { .. },
        "/chunked"
    );
    c.write_region(&[1, 1], &[2, 2], &[1, 2, 3, 4]).unwrap();
    let mut expect = vec![-1i32; 25];
    apply_region(&mut expect, &[5, 5], &[1, 1], &[2, 2], &[1, 2, 3, 4]);
    m.dataset(
        "/chunked",
        &[5, 5],
        Layout::Chunked(vec![2, 2]),
        &expect,
        Some(-1),
    );

    // refused names stay free: the same paths work with good arguments
    let ok: Vec<u8> = (0..16).collect();
    f.dataset::<u8>("/bad")
        .shape([4, 4])
        .chunk([2, 2])
        .create_with_data(&ok)
        .unwrap();
    m.dataset("/bad", &[4, 4], Layout::Chunked(vec![2, 2]), &ok, None);
    f.create_group("/nope").unwrap();
    f.create_group("/nope/x").unwrap();
    m.group("/nope");
    m.group("/nope/x");
    g.attr("arr").write_array(&[2, 2], &[1u8, 2, 3, 4]).unwrap();
    m.attr_array("/g", "arr", &[2, 2], &[1u8, 2, 3, 4]);
    ds.attr("b").write_str("after the errors").unwrap();
    m.attr_str("/g/ds", "b", "after the errors");

    let summary = f.finish().unwrap();
    assert_eq!(summary.datasets, 3);
    // handles outlive the file: they now refuse to write
    assert!(matches!(g.create_group("late"), Err(Error::Finished)));
    assert!(matches!(ds.write(&data), Err(Error::Finished)));
    assert!(matches!(
        ds.attr("late").write_scalar(1u8),
        Err(Error::Finished)
    ));
    check_file(&h5, &m);
}

// ---------------------------------------------------------------------------------
// The h5dump header parser itself

#[test]
fn h5dump_parser_reads_groups_and_dims() {
    let out = r#"HDF5 "x.h5" {
GROUP "/" {
   ATTRIBUTE "a" {
      DATATYPE  H5T_STRING {
         STRSIZE H5T_VARIABLE;
      }
      DATASPACE  SIMPLE { ( 3 ) / ( 3 ) }
   }
   GROUP "g" {
      DATASET "d" {
         DATATYPE  H5T_STD_U8LE
         DATASPACE  SIMPLE { ( 10, 7 ) / ( H5S_UNLIMITED, 7 ) }
      }
      GROUP "h" {
      }
   }
   DATASET "s" {
      DATATYPE  H5T_STD_U8LE
      DATASPACE  SCALAR
   }
}
}
"#;
    let (groups, datasets) = parse_h5dump(out);
    assert_eq!(groups.into_iter().collect::<Vec<_>>(), ["/", "/g", "/g/h"]);
    assert_eq!(datasets.len(), 2);
    assert_eq!(datasets["/g/d"], [10, 7]);
    assert!(datasets["/s"].is_empty());
}

// ---------------------------------------------------------------------------------
// Edge cases

#[test]
fn edge_cases() {
    let dir = tempdir();
    let h5 = dir.path().join("edges.h5");
    let mut m = Manifest::new(dir.path(), "edges");
    let f = File::create(&h5).unwrap();
    let root = f.root();

    // empty attributes
    root.attr("empty_u8").write::<u8>(&[]).unwrap();
    m.attr_array::<u8>("/", "empty_u8", &[0], &[]);
    root.attr("empty_f64_2d")
        .write_array::<f64>(&[3, 0], &[])
        .unwrap();
    m.attr_array::<f64>("/", "empty_f64_2d", &[3, 0], &[]);
    root.attr("empty_vlen").write_strs(&[]).unwrap();
    m.attr_strs("/", "empty_vlen", &[]);
    root.attr("empty_fixed").write_fixed_strs(&[]).unwrap();
    m.attr_fixed_strs("/", "empty_fixed", &[]);
    // the largest numeric attribute that fits one header message, and one too many
    let mut n = 65_535usize;
    let big = loop {
        let v: Vec<u8> = (0..n).map(|i| (i % 253) as u8).collect();
        match root.attr("big").write(&v) {
            Ok(()) => break v,
            Err(Error::Invalid { object, message }) => {
                assert_eq!(object, "/");
                assert!(message.contains("\"big\""), "{message}");
                n -= 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    assert!(big.len() > 65_400, "only {} bytes fit", big.len());
    m.attr_array("/", "big", &[big.len() as u64], &big);
    // too many variable-length strings for one message: refused, file unharmed
    let many: Vec<String> = (0..5000).map(|i| format!("s{i}")).collect();
    let many: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
    assert_err!(
        root.attr("too_many").write_strs(&many),
        Error::Invalid { .. },
        "/"
    );
    // UTF-8 and long names
    let long = "n".repeat(1000);
    root.attr("température °C").write_scalar(21.5f32).unwrap();
    m.attr_scalar("/", "température °C", 21.5f32);
    root.attr(&long).write_scalar(1u16).unwrap();
    m.attr_scalar("/", &long, 1u16);
    f.create_group(&format!("/{long}")).unwrap();
    m.group(&format!("/{long}"));
    let data = [1.5f64, -2.5];
    f.dataset::<f64>("/größe")
        .shape([2])
        .create_with_data(&data)
        .unwrap();
    m.dataset("/größe", &[2], Layout::Contiguous, &data, None);

    // 2,000 members in one group
    let wide = f.create_group("/wide").unwrap();
    m.group("/wide");
    for i in 0..2000 {
        wide.create_group(&format!("g{i:04}")).unwrap();
        m.group(&format!("/wide/g{i:04}"));
    }
    // 500 attributes on one dataset
    let ds = wide
        .dataset::<u8>("g0000/attrs")
        .shape([1])
        .create_with_data(&[9])
        .unwrap();
    m.dataset("/wide/g0000/attrs", &[1], Layout::Contiguous, &[9u8], None);
    for i in 0..500u32 {
        ds.attr(&format!("a{i}")).write_scalar(i).unwrap();
        m.attr_scalar("/wide/g0000/attrs", &format!("a{i}"), i);
    }

    // scalar datasets: written through write_region with rank-0 regions, or left
    // at the fill value
    for (name, layout) in [
        ("contiguous", Layout::Contiguous),
        ("compact", Layout::Compact),
    ] {
        let mk = |p: &str| {
            let b = f.dataset::<i64>(p).shape([]).fill_value(-5);
            match layout {
                Layout::Compact => b.compact(),
                _ => b.contiguous(),
            }
        };
        let p = format!("/scalar_{name}");
        mk(&p)
            .create()
            .unwrap()
            .write_region(&[], &[], &[i64::MIN])
            .unwrap();
        m.dataset(&p, &[], layout.clone(), &[i64::MIN], Some(-5));
        let p = format!("/scalar_{name}_unwritten");
        mk(&p).create().unwrap();
        m.dataset(&p, &[], layout.clone(), &[-5i64], Some(-5));
    }

    // rank 32, the most HDF5 allows (in a file of its own: h5dump 1.10.8 dies of
    // SIGFPE reading rank-32 chunked data, also when h5py wrote it), and rank 33
    let h5_r32 = dir.path().join("rank32.h5");
    let mut m32 = Manifest::new(dir.path(), "rank32");
    let f32_ = File::create(&h5_r32).unwrap();
    let mut shape = vec![1u64; 32];
    shape[0] = 3;
    shape[31] = 5;
    let mut chunk = vec![1u64; 32];
    chunk[31] = 2;
    let data: Vec<u16> = (0..15).collect();
    f32_.dataset::<u16>("/rank32_contiguous")
        .shape(&shape)
        .create_with_data(&data)
        .unwrap();
    m32.dataset(
        "/rank32_contiguous",
        &shape,
        Layout::Contiguous,
        &data,
        None,
    );
    f32_.dataset::<u16>("/rank32_chunked")
        .shape(&shape)
        .chunk(&chunk)
        .create_with_data(&data)
        .unwrap();
    m32.dataset(
        "/rank32_chunked",
        &shape,
        Layout::Chunked(chunk),
        &data,
        None,
    );
    assert_err!(
        f32_.dataset::<u8>("/rank33").shape([1; 33]).create(),
        Error::Invalid { .. },
        "/rank33"
    );
    f32_.finish().unwrap();
    verify(&h5_r32, &m32);
    check_h5dump(&h5_r32, &m32);

    // extendable: a chunk larger than the current (but not the maximum) shape
    let data: Vec<f32> = vec![1.0, 2.0, 3.0];
    let ext = f
        .dataset::<f32>("/ext_big_chunk")
        .shape([0])
        .max_shape([UNLIMITED])
        .chunk([10])
        .fill_value(0.25)
        .create()
        .unwrap();
    ext.append(&data).unwrap();
    assert_eq!(ext.shape(), [3]);
    m.dataset(
        "/ext_big_chunk",
        &[3],
        Layout::Chunked(vec![10]),
        &data,
        Some(0.25),
    );
    m.maxshape("/ext_big_chunk", &[None]);

    // datasets made through a group handle, with a relative multi-component path
    let g = f.create_group("/rel").unwrap();
    g.create_group("sub").unwrap();
    m.group("/rel");
    m.group("/rel/sub");
    g.dataset::<i8>("sub/ds")
        .shape([2, 2])
        .compact()
        .create_with_data(&[i8::MIN, -1, 0, i8::MAX])
        .unwrap();
    m.dataset(
        "/rel/sub/ds",
        &[2, 2],
        Layout::Compact,
        &[i8::MIN, -1, 0, i8::MAX],
        None,
    );
    f.finish().unwrap();
    check_file(&h5, &m);
}

/// What a reader sees before `finish`: a copy of the file taken right after `flush`
/// holds everything written so far; dropping a `File` finishes it.
#[test]
fn readable_after_flush_and_after_drop() {
    let dir = tempdir();
    let h5 = dir.path().join("open.h5");
    let snap = dir.path().join("snapshot.h5");
    let mut m = Manifest::new(dir.path(), "snapshot");
    let f = File::create(&h5).unwrap();
    // an empty file (just the root group) is valid from the start
    std::fs::copy(&h5, &snap).unwrap();
    check_file(&snap, &m);

    f.root().attr("v").write_str("one").unwrap();
    m.attr_str("/", "v", "one");
    let c = f
        .dataset::<u32>("/c")
        .shape([50, 50])
        .chunk([7, 7])
        .fill_value(3)
        .create()
        .unwrap();
    let data: Vec<u32> = (0..30 * 40).collect();
    c.write_region(&[10, 5], &[30, 40], &data).unwrap();
    let mut expect = vec![3u32; 2500];
    apply_region(&mut expect, &[50, 50], &[10, 5], &[30, 40], &data);
    f.flush().unwrap();
    std::fs::copy(&h5, &snap).unwrap();
    m.dataset(
        "/c",
        &[50, 50],
        Layout::Chunked(vec![7, 7]),
        &expect,
        Some(3),
    );
    check_file(&snap, &m);

    // more chunks and objects, then drop without finish
    let data: Vec<u32> = (0..100).map(|i| i * 1000).collect();
    c.write_region(&[40, 40], &[10, 10], &data).unwrap();
    apply_region(&mut expect, &[50, 50], &[40, 40], &[10, 10], &data);
    f.create_group("/later").unwrap();
    drop(c);
    drop(f);
    let mut m = Manifest::new(dir.path(), "dropped");
    m.attr_str("/", "v", "one");
    m.group("/later");
    m.dataset(
        "/c",
        &[50, 50],
        Layout::Chunked(vec![7, 7]),
        &expect,
        Some(3),
    );
    check_file(&h5, &m);
}

// ---------------------------------------------------------------------------------
// Extendable datasets created with frames already in their shape

/// Runs `body` in a child process (this test binary, filtered to `test`), so that an
/// abort (a panic while unwinding, e.g. in `File`'s `Drop`) fails this test only.
fn in_child_process(test: &str, body: impl FnOnce()) {
    if std::env::var_os("H5SINK_TEST_CHILD").is_some() {
        body();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("H5SINK_TEST_CHILD", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{test} failed in its child process ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Frames that exist from the initial shape of an appendable dataset, and were never
/// written, read as the fill value, whether or not dim 0 is a multiple of the chunk.
#[test]
fn extendable_initial_frames_read_as_fill() {
    let dir = tempdir();
    let h5 = dir.path().join("initial_frames.h5");
    let mut m = Manifest::new(dir.path(), "initial_frames");
    let f = File::create(&h5).unwrap();
    let cases: [(&str, u64); 2] = [("whole_row", 10), ("partial_row", 3)];
    for (name, len) in cases {
        let p = format!("/{name}");
        let d = f
            .dataset::<f32>(&p)
            .shape([len])
            .max_shape([UNLIMITED])
            .chunk([10])
            .fill_value(0.25)
            .create()
            .unwrap();
        d.append(&[1.0, 2.0]).unwrap();
        let mut expect = vec![0.25f32; len as usize];
        expect.extend([1.0, 2.0]);
        m.dataset(
            &p,
            &[len + 2],
            Layout::Chunked(vec![10]),
            &expect,
            Some(0.25),
        );
        m.maxshape(&p, &[None]);
    }
    let d = f
        .dataset::<u8>("/frames2d")
        .shape([1, 2])
        .max_shape([UNLIMITED, 2])
        .chunk([2, 2])
        .fill_value(9)
        .create()
        .unwrap();
    d.append(&[1, 2]).unwrap();
    m.dataset(
        "/frames2d",
        &[2, 2],
        Layout::Chunked(vec![2, 2]),
        &[9u8, 9, 1, 2],
        Some(9),
    );
    m.maxshape("/frames2d", &[None, Some(2)]);
    f.finish().unwrap();
    check_file(&h5, &m);
}

/// An appendable dataset whose initial dim 0 is not a multiple of the chunk's, never
/// appended to: finishing the file must work (and the frames read as the fill value).
#[test]
fn extendable_initial_partial_row_never_appended() {
    in_child_process("extendable_initial_partial_row_never_appended", || {
        let dir = tempdir();
        let h5 = dir.path().join("partial_row.h5");
        let mut m = Manifest::new(dir.path(), "partial_row");
        let f = File::create(&h5).unwrap();
        f.dataset::<f32>("/e")
            .shape([3])
            .max_shape([UNLIMITED])
            .chunk([10])
            .fill_value(0.25)
            .create()
            .unwrap();
        m.dataset(
            "/e",
            &[3],
            Layout::Chunked(vec![10]),
            &[0.25f32; 3],
            Some(0.25),
        );
        m.maxshape("/e", &[None]);
        f.finish().unwrap();
        check_file(&h5, &m);
    });
}

// ---------------------------------------------------------------------------------
// Threads, growth, replacing a file

/// Handles are `Send`: four threads write their own datasets row by row in random
/// order while the main thread adds attributes and commits.
#[test]
fn handles_used_from_several_threads() {
    let dir = tempdir();
    let h5 = dir.path().join("threads.h5");
    let mut m = Manifest::new(dir.path(), "threads");
    let f = File::create(&h5).unwrap();
    let shape = [64u64, 48];
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let layout = if t % 2 == 0 {
                Layout::Chunked(vec![5, 7])
            } else {
                Layout::Contiguous
            };
            let b = f.dataset::<i32>(&format!("/t{t}")).shape(shape);
            let ds = match &layout {
                Layout::Chunked(c) => b.chunk(c),
                _ => b.contiguous(),
            }
            .create()
            .unwrap();
            (t, layout, ds)
        })
        .collect();
    let threads: Vec<_> = handles
        .into_iter()
        .map(|(t, layout, ds)| {
            std::thread::spawn(move || {
                let mut rng = Rng::new(100 + t);
                let mut expect = vec![0i32; numel(&shape)];
                let mut rows: Vec<u64> = (0..shape[0]).collect();
                rng.shuffle(&mut rows);
                for r in rows {
                    let data: Vec<i32> = (0..shape[1])
                        .map(|c| (t * 1_000_000 + r * 1000 + c) as i32)
                        .collect();
                    ds.write_region(&[r, 0], &[1, shape[1]], &data).unwrap();
                    apply_region(&mut expect, &shape, &[r, 0], &[1, shape[1]], &data);
                }
                (t, layout, expect)
            })
        })
        .collect();
    for i in 0..50u32 {
        f.root().attr(&format!("a{i}")).write_scalar(i).unwrap();
        m.attr_scalar("/", &format!("a{i}"), i);
        if i % 10 == 0 {
            f.flush().unwrap();
        }
    }
    for th in threads {
        let (t, layout, expect) = th.join().unwrap();
        m.dataset(&format!("/t{t}"), &shape, layout, &expect, None);
    }
    f.finish().unwrap();
    check_file(&h5, &m);
}

/// Files that grow through many preallocation steps (the stored end of file moves
/// each time): a 12 MB contiguous dataset with a fill value, partly written, and a
/// 9 MB chunked one written whole, with commits in between.
#[test]
fn large_datasets_grow_the_file() {
    let dir = tempdir();
    let h5 = dir.path().join("large.h5");
    let mut m = Manifest::new(dir.path(), "large");
    let mut rng = Rng::new(8);
    let f = File::create(&h5).unwrap();
    let shape = [2000u64, 3000];
    let ds = f
        .dataset::<u16>("/contiguous")
        .shape(shape)
        .fill_value(0xABCD)
        .create()
        .unwrap();
    let mut expect = vec![0xABCDu16; numel(&shape)];
    for k in 0..40 {
        let start = [rng.below(1800), rng.below(2700)];
        let count = [rng.range(1, 200), rng.range(1, 300)];
        let data: Vec<u16> = (0..numel(&count)).map(|_| rng.next_u64() as u16).collect();
        ds.write_region(&start, &count, &data).unwrap();
        apply_region(&mut expect, &shape, &start, &count, &data);
        if k % 10 == 9 {
            f.flush().unwrap();
        }
    }
    m.dataset(
        "/contiguous",
        &shape,
        Layout::Contiguous,
        &expect,
        Some(0xABCD),
    );
    let data: Vec<f32> = (0..1500 * 1500).map(|i| i as f32 * 0.5).collect();
    f.dataset::<f32>("/chunked")
        .shape([1500, 1500])
        .chunk([128, 100])
        .create_with_data(&data)
        .unwrap();
    m.dataset(
        "/chunked",
        &[1500, 1500],
        Layout::Chunked(vec![128, 100]),
        &data,
        None,
    );
    let s = f.finish().unwrap();
    assert!(s.file_size > 20_000_000, "{s:?}");
    assert_eq!(s.file_size, std::fs::metadata(&h5).unwrap().len());
    check_file(&h5, &m);
}

/// `File::create` replaces an existing file, whatever it held.
#[test]
fn create_replaces_an_existing_file() {
    let dir = tempdir();
    let h5 = dir.path().join("replaced.h5");
    std::fs::write(&h5, vec![0xEEu8; 100_000]).unwrap();
    let f = File::create(&h5).unwrap();
    f.create_group("/old").unwrap();
    f.dataset::<u8>("/old/big")
        .shape([50_000])
        .create_with_data(&[1; 50_000])
        .unwrap();
    f.finish().unwrap();
    let f = File::create(&h5).unwrap();
    f.create_group("/new").unwrap();
    f.finish().unwrap();
    let mut m = Manifest::new(dir.path(), "replaced");
    m.group("/new");
    check_file(&h5, &m);
    // no temporary file is left behind
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("h5sink-tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}
