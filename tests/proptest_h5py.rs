//! Property test: files of 1-3 random datasets (rank 1-4, ≤ 4000 elements, any of the
//! ten numeric types, contiguous / compact / chunked with any valid chunk shape,
//! default or random fill value) written by a random interleaving of hyperslab writes,
//! whole writes, attributes (numeric of any type, variable- and fixed-length strings)
//! and commits, then read back by h5py and compared exactly with an in-memory model.
//!
//! The cases come from proptest's runner with a fixed seed, so CI always runs the same
//! 256 cases; every file is then verified in ONE Python process (h5py's import costs
//! ~0.3 s). A failure prints each failing case in full (its manifest "note").
//!
//! Knobs for local bug hunting: `H5SINK_PROPTEST_CASES` (default 256) and
//! `H5SINK_PROPTEST_SEED` (any u64; default: proptest's deterministic seed).
//! Needs `.venv` (or `$H5SINK_PYTHON`) with h5py: run scripts/setup-test-env.sh.

mod common;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use common::{
    apply_region, check_h5dump_data, numel, tempdir, Elem, Layout, Manifest, NumType, Rng,
};
use h5sink::{AttrWriter, Dataset, File};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

#[derive(Clone, Debug)]
enum Op {
    /// `write_region(start, count, <random data>)` on dataset `ds`
    Region {
        ds: usize,
        start: Vec<u64>,
        count: Vec<u64>,
    },
    /// `write(<random data for the whole dataset>)` on dataset `ds`
    Whole { ds: usize },
    /// A random attribute (numeric of any type, or a string) on dataset `on`, or on
    /// the root group when `on` is past the last dataset
    Attr { on: usize, kind: u8 },
    /// `File::flush()`: a commit between writes
    Flush,
}

#[derive(Clone, Debug)]
struct DsSpec {
    ty: NumType,
    dims: Vec<u64>,
    layout: Layout,
    /// A random (non-default) fill value.
    fill: bool,
}

#[derive(Clone, Debug)]
struct Case {
    datasets: Vec<DsSpec>,
    ops: Vec<Op>,
    /// Seeds the data, fill values and attributes.
    seed: u64,
}

/// Largest dim per rank, so that no shape exceeds 4000 elements (63² < 4000, 15³, 7⁴).
const MAX_DIM: [u64; 4] = [4000, 63, 15, 7];

fn dims() -> impl Strategy<Value = Vec<u64>> {
    (1usize..=4).prop_flat_map(|rank| {
        let max = MAX_DIM[rank - 1];
        // zero-sized dims now and then
        proptest::collection::vec(prop_oneof![1 => Just(0u64), 15 => 1..=max], rank)
    })
}

fn layout(dims: &[u64]) -> BoxedStrategy<Layout> {
    // every chunk dim in 1..=dim (a chunk larger than a fixed dim is refused; a zero
    // dim takes any chunk size)
    let chunk: Vec<_> = dims
        .iter()
        .map(|&d| if d == 0 { 1..=4u64 } else { 1..=d })
        .collect();
    prop_oneof![
        1 => Just(Layout::Contiguous),
        1 => Just(Layout::Compact),
        2 => chunk.prop_map(Layout::Chunked),
    ]
    .boxed()
}

fn ds_spec() -> impl Strategy<Value = DsSpec> {
    dims().prop_flat_map(|dims| {
        (
            proptest::sample::select(NumType::ALL.to_vec()),
            layout(&dims),
            any::<bool>(),
            Just(dims),
        )
            .prop_map(|(ty, layout, fill, dims)| DsSpec {
                ty,
                dims,
                layout,
                fill,
            })
    })
}

fn region(ds: usize, dims: &[u64]) -> BoxedStrategy<Op> {
    let per_dim: Vec<_> = dims
        .iter()
        .map(|&d| (0..=d).prop_flat_map(move |s| (Just(s), 0..=d - s)))
        .collect();
    per_dim
        .prop_map(move |r| {
            let (start, count) = r.into_iter().unzip();
            Op::Region { ds, start, count }
        })
        .boxed()
}

fn op(datasets: &[DsSpec]) -> BoxedStrategy<Op> {
    let n = datasets.len();
    let regions = proptest::strategy::Union::new(
        datasets.iter().enumerate().map(|(i, d)| region(i, &d.dims)),
    );
    prop_oneof![
        12 => regions,
        1 => (0..n).prop_map(|ds| Op::Whole { ds }),
        2 => (0..=n, 0..5u8).prop_map(|(on, kind)| Op::Attr { on, kind }),
        2 => Just(Op::Flush),
    ]
    .boxed()
}

fn case() -> impl Strategy<Value = Case> {
    proptest::collection::vec(ds_spec(), 1..=3).prop_flat_map(|datasets| {
        (
            proptest::collection::vec(op(&datasets), 0..16),
            any::<u64>(),
            Just(datasets),
        )
            .prop_map(|(ops, seed, datasets)| Case {
                datasets,
                ops,
                seed,
            })
    })
}

/// One dataset being written, whatever its element type, with its expected content.
trait Target {
    fn region(&mut self, start: &[u64], count: &[u64], rng: &mut Rng) -> h5sink::Result<()>;
    fn whole(&mut self, rng: &mut Rng) -> h5sink::Result<()>;
    fn attr(&self, name: &str) -> AttrWriter;
    fn expect(&self, m: &mut Manifest);
}

struct Typed<T: Elem> {
    ds: Dataset<T>,
    path: String,
    spec: DsSpec,
    fill: Option<T>,
    expect: Vec<T>,
}

fn create<T: Elem>(
    f: &File,
    path: &str,
    spec: &DsSpec,
    rng: &mut Rng,
) -> h5sink::Result<Box<dyn Target>> {
    let fill = spec.fill.then(|| T::random(rng));
    let b = f.dataset::<T>(path).shape(&spec.dims);
    let b = match &spec.layout {
        Layout::Contiguous => b.contiguous(),
        Layout::Compact => b.compact(),
        Layout::Chunked(c) => b.chunk(c),
    };
    let b = match fill {
        Some(v) => b.fill_value(v),
        None => b,
    };
    Ok(Box::new(Typed {
        ds: b.create()?,
        path: path.to_string(),
        spec: spec.clone(),
        fill,
        expect: vec![fill.unwrap_or_else(T::zeroed); numel(&spec.dims)],
    }))
}

impl<T: Elem> Target for Typed<T> {
    fn region(&mut self, start: &[u64], count: &[u64], rng: &mut Rng) -> h5sink::Result<()> {
        let data: Vec<T> = (0..numel(count)).map(|_| T::random(rng)).collect();
        self.ds.write_region(start, count, &data)?;
        apply_region(&mut self.expect, &self.spec.dims, start, count, &data);
        Ok(())
    }

    fn whole(&mut self, rng: &mut Rng) -> h5sink::Result<()> {
        let data: Vec<T> = (0..self.expect.len()).map(|_| T::random(rng)).collect();
        self.ds.write(&data)?;
        self.expect = data;
        Ok(())
    }

    fn attr(&self, name: &str) -> AttrWriter {
        self.ds.attr(name)
    }

    fn expect(&self, m: &mut Manifest) {
        m.dataset(
            &self.path,
            &self.spec.dims,
            self.spec.layout.clone(),
            &self.expect,
            self.fill,
        );
    }
}

fn numeric_attr<T: Elem>(
    w: AttrWriter,
    m: &mut Manifest,
    obj: &str,
    name: &str,
    rng: &mut Rng,
) -> h5sink::Result<()> {
    if rng.below(2) == 0 {
        let v = T::random(rng);
        w.write_scalar(v)?;
        m.attr_scalar(obj, name, v);
    } else {
        let shape: Vec<u64> = (0..rng.range(1, 3)).map(|_| rng.below(5)).collect();
        let v: Vec<T> = (0..numel(&shape)).map(|_| T::random(rng)).collect();
        w.write_array(&shape, &v)?;
        m.attr_array(obj, name, &shape, &v);
    }
    Ok(())
}

fn random_string(rng: &mut Rng) -> String {
    const PIECES: [&str; 6] = ["a", "Zz", " ", "é", "日本", "✓"];
    (0..rng.below(12))
        .map(|_| PIECES[rng.below(PIECES.len() as u64) as usize])
        .collect()
}

/// Writes the case's file and returns its manifest; `Err` for any refused call.
fn write_case(case: &Case, h5: &Path, dir: &Path, stem: &str) -> h5sink::Result<Manifest> {
    let mut rng = Rng::new(case.seed);
    let mut m = Manifest::new(dir, stem);
    m.note(format!("{case:?}"));
    let f = File::create(h5)?;
    let mut targets = Vec::new();
    for (i, spec) in case.datasets.iter().enumerate() {
        let path = format!("/d{i}");
        targets.push(with_type!(spec.ty, T => create::<T>(&f, &path, spec, &mut rng))?);
    }
    for (k, op) in case.ops.iter().enumerate() {
        match op {
            Op::Region { ds, start, count } => targets[*ds].region(start, count, &mut rng)?,
            Op::Whole { ds } => targets[*ds].whole(&mut rng)?,
            Op::Flush => f.flush()?,
            Op::Attr { on, kind } => {
                let name = format!("attr{k}");
                let (w, obj) = match targets.get(*on) {
                    Some(t) => (t.attr(&name), format!("/d{on}")),
                    None => (f.root().attr(&name), "/".to_string()),
                };
                let strings: Vec<String> =
                    (0..rng.below(4)).map(|_| random_string(&mut rng)).collect();
                let strings: Vec<&str> = strings.iter().map(|s| s.as_str()).collect();
                match kind {
                    0 | 1 => {
                        let ty = NumType::ALL[rng.below(10) as usize];
                        with_type!(ty, T => numeric_attr::<T>(w, &mut m, &obj, &name, &mut rng))?;
                    }
                    2 => {
                        let s = random_string(&mut rng);
                        w.write_str(&s)?;
                        m.attr_str(&obj, &name, &s);
                    }
                    3 => {
                        w.write_strs(&strings)?;
                        m.attr_strs(&obj, &name, &strings);
                    }
                    _ => {
                        w.write_fixed_strs(&strings)?;
                        m.attr_fixed_strs(&obj, &name, &strings);
                    }
                }
            }
        }
    }
    f.finish()?;
    for t in &targets {
        t.expect(&mut m);
    }
    Ok(m)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("${name} must be an integer, got {v:?}"))
    })
}

#[test]
fn random_datasets_and_hyperslabs_read_back_by_h5py() {
    let started = std::time::Instant::now();
    let cases = env_u64("H5SINK_PROPTEST_CASES").unwrap_or(256) as u32;
    let config = Config {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let rng = match env_u64("H5SINK_PROPTEST_SEED") {
        Some(seed) => {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
        }
        None => TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    };
    let mut runner = TestRunner::new_with_rng(config, rng);
    let dir = tempdir();
    let files: RefCell<Vec<(PathBuf, Manifest)>> = RefCell::new(Vec::new());
    let seen: RefCell<Vec<String>> = RefCell::new(Vec::new());
    let result = runner.run(&case(), |case| {
        let mut tags = Vec::new();
        for d in &case.datasets {
            let kind = match &d.layout {
                Layout::Contiguous => "contiguous",
                Layout::Compact => "compact",
                Layout::Chunked(_) => "chunked",
            };
            tags.push(format!("{:?}", d.ty));
            tags.push(format!("rank{}", d.dims.len()));
            tags.push(kind.to_string());
            if d.dims.contains(&0) {
                tags.push("zero-dim".into());
            }
            if d.fill {
                tags.push(format!("fill-{kind}"));
            }
        }
        if case.datasets.len() > 1 {
            tags.push("several-datasets".into());
        }
        for (tag, n) in [
            (
                "flush",
                case.ops.iter().filter(|o| matches!(o, Op::Flush)).count(),
            ),
            (
                "attrs",
                case.ops
                    .iter()
                    .filter(|o| matches!(o, Op::Attr { .. }))
                    .count(),
            ),
            (
                "overlaps",
                case.ops
                    .iter()
                    .filter(|o| matches!(o, Op::Region { .. }))
                    .count()
                    / 3,
            ),
        ] {
            if n > 0 {
                tags.push(tag.into());
            }
        }
        let i = files.borrow().len();
        let stem = format!("case{i:04}");
        let h5 = dir.path().join(format!("{stem}.h5"));
        let m = write_case(&case, &h5, dir.path(), &stem)
            .map_err(|e| TestCaseError::fail(format!("h5sink refused a valid case: {e}")))?;
        files.borrow_mut().push((h5, m));
        seen.borrow_mut().extend(tags);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let files = files.into_inner();
    assert_eq!(files.len(), cases as usize);
    let written = started.elapsed();

    // the generator covers every type, rank and layout (so that a change to it cannot
    // silently narrow the test)
    if cases >= 256 {
        let seen = seen.into_inner();
        let mut want: Vec<String> = NumType::ALL.iter().map(|t| format!("{t:?}")).collect();
        want.extend((1..=4).map(|r| format!("rank{r}")));
        for k in ["contiguous", "compact", "chunked"] {
            want.push(k.into());
            want.push(format!("fill-{k}"));
        }
        want.extend(
            ["zero-dim", "flush", "attrs", "overlaps", "several-datasets"].map(String::from),
        );
        for w in want {
            let n = seen.iter().filter(|s| **s == w).count();
            assert!(n >= 5, "only {n} of {cases} cases are {w}");
        }
    }
    let report = common::verify_many(&files);
    assert!(
        report.contains(&format!("{cases} of {cases} files verified")),
        "{report}"
    );
    let verified = started.elapsed();
    // h5dump (libhdf5 1.10) reads every file too: structure, dims and every byte of data
    for (h5, m) in &files {
        check_h5dump_data(h5, m);
    }
    eprintln!(
        "{cases} cases: written in {:.2?}, h5py verified by {:.2?}, h5dump by {:.2?}",
        written,
        verified,
        started.elapsed()
    );
}
