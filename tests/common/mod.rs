//! Shared helpers of the integration tests that read h5sink's files back with h5py
//! and h5dump: element types, a seeded generator, a tiny JSON writer, manifests of
//! expected file content, and the runners of `tests/py/verify.py` and `h5dump`; `w4`,
//! the W4 frame generator (also included by the unit tests, examples and benches).
//!
//! Python: `$H5SINK_PYTHON`, else `<crate>/.venv/bin/python` (made by
//! `scripts/setup-test-env.sh`). Tests that need it fail, never skip, without it.
#![allow(dead_code)]

pub mod w4;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use h5sink::H5Type;

const SETUP_HINT: &str = "run scripts/setup-test-env.sh";

/// A fresh temporary directory; kept (and its path printed) when `$H5SINK_KEEP_TMP`
/// is set, to inspect the files of a failing test.
pub fn tempdir() -> tempfile::TempDir {
    let mut dir = tempfile::Builder::new()
        .prefix("h5sink-test-")
        .tempdir()
        .expect("creating a temp dir");
    if std::env::var_os("H5SINK_KEEP_TMP").is_some() {
        dir.disable_cleanup(true);
        eprintln!("keeping {}", dir.path().display());
    }
    dir
}

// ---------------------------------------------------------------------------------
// A seeded generator (SplitMix64): deterministic data and write orders.

/// SplitMix64: small, fast and good enough for test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------------
// Element types.

/// A numeric element type with its numpy dtype and the ways tests make values of it.
pub trait Elem: H5Type + bytemuck::Pod + PartialEq + Debug {
    /// numpy's `dtype.str`, e.g. `"<u2"`, `"|i1"`.
    const DTYPE: &'static str;
    /// The Rust name, for object names.
    const NAME: &'static str;
    /// Appends the little-endian bytes of the value.
    fn put_le(self, out: &mut Vec<u8>);
    /// The value in a manifest (exact; floats' non-finite values as strings).
    fn json(self) -> Json;
    /// MIN, MAX and other edge values (NaN, ±inf, -0.0, subnormals for floats).
    fn extremes() -> Vec<Self>;
    /// Arbitrary bits (floats include NaNs with any payload).
    fn random(rng: &mut Rng) -> Self;
    /// A small value derived from `i`, distinct for neighbouring `i`.
    fn from_index(i: u64) -> Self;
}

macro_rules! int_elem {
    ($($t:ty => $dtype:expr),* $(,)?) => {$(
        impl Elem for $t {
            const DTYPE: &'static str = $dtype;
            const NAME: &'static str = stringify!($t);
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn json(self) -> Json {
                Json::Num(self.to_string())
            }
            fn extremes() -> Vec<Self> {
                vec![<$t>::MIN, <$t>::MAX, 0, 1, <$t>::MIN + 1, <$t>::MAX - 1, <$t>::MAX / 2]
            }
            fn random(rng: &mut Rng) -> Self {
                rng.next_u64() as $t
            }
            fn from_index(i: u64) -> Self {
                // wraps for the narrow types, which is fine: neighbours stay distinct
                (i.wrapping_mul(7).wrapping_add(1)) as $t
            }
        }
    )*};
}

int_elem!(u8 => "|u1", u16 => "<u2", u32 => "<u4", u64 => "<u8",
          i8 => "|i1", i16 => "<i2", i32 => "<i4", i64 => "<i8");

macro_rules! float_elem {
    ($($t:ty => $dtype:expr, $bits:ty),* $(,)?) => {$(
        impl Elem for $t {
            const DTYPE: &'static str = $dtype;
            const NAME: &'static str = stringify!($t);
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn json(self) -> Json {
                let v = self as f64; // exact
                if v.is_nan() {
                    Json::str("nan")
                } else if v == f64::INFINITY {
                    Json::str("inf")
                } else if v == f64::NEG_INFINITY {
                    Json::str("-inf")
                } else {
                    // Rust's shortest round-trip form of the f64, which holds an f32 exactly
                    Json::Num(format!("{v:?}"))
                }
            }
            fn extremes() -> Vec<Self> {
                vec![<$t>::MIN, <$t>::MAX, <$t>::MIN_POSITIVE, <$t>::EPSILON, -0.0, 0.0,
                     <$t>::NAN, <$t>::INFINITY, <$t>::NEG_INFINITY,
                     <$t>::from_bits(1) /* smallest subnormal */, -1.5]
            }
            fn random(rng: &mut Rng) -> Self {
                <$t>::from_bits(rng.next_u64() as $bits)
            }
            fn from_index(i: u64) -> Self {
                (i as $t) * 0.5 - 3.25
            }
        }
    )*};
}

float_elem!(f32 => "<f4", u32, f64 => "<f8", u64);

/// The ten numeric types, for tests that pick one at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumType {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl NumType {
    pub const ALL: [NumType; 10] = [
        NumType::U8,
        NumType::U16,
        NumType::U32,
        NumType::U64,
        NumType::I8,
        NumType::I16,
        NumType::I32,
        NumType::I64,
        NumType::F32,
        NumType::F64,
    ];

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NumType::U8 | NumType::I8 => 1,
            NumType::U16 | NumType::I16 => 2,
            NumType::U32 | NumType::I32 | NumType::F32 => 4,
            NumType::U64 | NumType::I64 | NumType::F64 => 8,
        }
    }
}

/// Calls a generic function (or any expression using `$T`) with the Rust type of a
/// [`NumType`]: `with_type!(t, T => run::<T>(args))`.
#[macro_export]
macro_rules! with_type {
    ($t:expr, $T:ident => $body:expr) => {
        match $t {
            $crate::common::NumType::U8 => {
                type $T = u8;
                $body
            }
            $crate::common::NumType::U16 => {
                type $T = u16;
                $body
            }
            $crate::common::NumType::U32 => {
                type $T = u32;
                $body
            }
            $crate::common::NumType::U64 => {
                type $T = u64;
                $body
            }
            $crate::common::NumType::I8 => {
                type $T = i8;
                $body
            }
            $crate::common::NumType::I16 => {
                type $T = i16;
                $body
            }
            $crate::common::NumType::I32 => {
                type $T = i32;
                $body
            }
            $crate::common::NumType::I64 => {
                type $T = i64;
                $body
            }
            $crate::common::NumType::F32 => {
                type $T = f32;
                $body
            }
            $crate::common::NumType::F64 => {
                type $T = f64;
                $body
            }
        }
    };
}

/// Little-endian bytes of a slice of elements.
pub fn le_bytes<T: Elem>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(std::mem::size_of_val(values));
    for v in values {
        v.put_le(&mut out);
    }
    out
}

// ---------------------------------------------------------------------------------
// Row-major arrays and regions, for computing expected content.

/// Number of elements of a shape (1 for a scalar).
pub fn numel(shape: &[u64]) -> usize {
    shape.iter().product::<u64>() as usize
}

/// Applies a region write (`count[i]` elements from `start[i]`, row-major `data`)
/// to the expected array `arr` of shape `dims`: the reference model of `write_region`.
pub fn apply_region<T: Copy>(
    arr: &mut [T],
    dims: &[u64],
    start: &[u64],
    count: &[u64],
    data: &[T],
) {
    assert_eq!(dims.len(), start.len());
    assert_eq!(dims.len(), count.len());
    assert_eq!(data.len(), numel(count));
    if data.is_empty() {
        return;
    }
    let rank = dims.len();
    let mut idx = vec![0u64; rank]; // index inside the region
    for v in data {
        let mut lin = 0u64;
        for d in 0..rank {
            lin = lin * dims[d] + start[d] + idx[d];
        }
        arr[lin as usize] = *v;
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < count[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

// ---------------------------------------------------------------------------------
// JSON, hand-written (no serde: the crate keeps its dependencies minimal).

/// A JSON value; objects keep their insertion order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number, already formatted as JSON.
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }

    pub fn u64s(v: &[u64]) -> Json {
        Json::Arr(v.iter().map(|x| Json::Num(x.to_string())).collect())
    }

    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => write_json_str(out, s),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------
// Manifests: the expected content of a file.

/// Expected storage layout of a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    Contiguous,
    Compact,
    Chunked(Vec<u64>),
}

impl Layout {
    fn name(&self) -> &'static str {
        match self {
            Layout::Contiguous => "contiguous",
            Layout::Compact => "compact",
            Layout::Chunked(_) => "chunked",
        }
    }
}

#[derive(Clone, Debug)]
enum ObjSpec {
    Group,
    Dataset {
        dtype: &'static str,
        shape: Vec<u64>,
        maxshape: Option<Vec<Option<u64>>>,
        layout: Layout,
        data: PathBuf,
        fill_hex: String,
    },
}

/// The expected content of one HDF5 file: every object, its attributes and data.
/// Group member lists are derived from the object paths, so an object the file holds
/// but the manifest omits fails verification, and so does the reverse.
#[derive(Debug)]
pub struct Manifest {
    dir: PathBuf,
    stem: String,
    note: Option<String>,
    objects: BTreeMap<String, ObjSpec>,
    /// Attributes by object path, in any order relative to the objects themselves.
    attrs: BTreeMap<String, Vec<(String, Json)>>,
    bins: usize,
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => panic!("manifest paths are absolute, got {path:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    /// A manifest for a file holding only the root group; data files go in `dir`,
    /// named after `stem`.
    pub fn new(dir: &Path, stem: &str) -> Manifest {
        let mut objects = BTreeMap::new();
        objects.insert("/".to_string(), ObjSpec::Group);
        Manifest {
            dir: dir.to_path_buf(),
            stem: stem.to_string(),
            note: None,
            objects,
            attrs: BTreeMap::new(),
            bins: 0,
        }
    }

    /// A description printed when verification fails (e.g. a proptest case).
    pub fn note(&mut self, note: impl Into<String>) {
        self.note = Some(note.into());
    }

    fn add(&mut self, path: &str, spec: ObjSpec) {
        assert!(path.starts_with('/') && path.len() > 1, "bad path {path:?}");
        let old = self.objects.insert(path.to_string(), spec);
        assert!(old.is_none(), "manifest lists {path} twice");
    }

    /// Expects a group.
    pub fn group(&mut self, path: &str) {
        self.add(path, ObjSpec::Group);
    }

    /// Expects a dataset of `T` with this shape, layout and content (row-major), and
    /// this fill value (`None`: HDF5's default, zero).
    pub fn dataset<T: Elem>(
        &mut self,
        path: &str,
        shape: &[u64],
        layout: Layout,
        data: &[T],
        fill: Option<T>,
    ) {
        assert_eq!(
            data.len(),
            numel(shape),
            "{path}: data does not fit the shape"
        );
        if let Layout::Chunked(c) = &layout {
            assert_eq!(c.len(), shape.len(), "{path}: chunk rank");
        }
        self.bins += 1;
        let bin = self.dir.join(format!("{}-{}.bin", self.stem, self.bins));
        std::fs::write(&bin, le_bytes(data)).expect("writing expected data");
        let fill_hex = match fill {
            Some(f) => hex(&le_bytes(&[f])),
            None => "00".repeat(std::mem::size_of::<T>()),
        };
        self.add(
            path,
            ObjSpec::Dataset {
                dtype: T::DTYPE,
                shape: shape.to_vec(),
                maxshape: None,
                layout,
                data: bin,
                fill_hex,
            },
        );
    }

    /// Expects a dataset's maximum shape (`None`: unlimited) to differ from its shape.
    pub fn maxshape(&mut self, path: &str, max: &[Option<u64>]) {
        match self.objects.get_mut(path) {
            Some(ObjSpec::Dataset { maxshape, .. }) => *maxshape = Some(max.to_vec()),
            _ => panic!("{path} is not a dataset of the manifest"),
        }
    }

    fn attr(&mut self, obj: &str, name: &str, spec: Json) {
        let attrs = self.attrs.entry(obj.to_string()).or_default();
        assert!(
            attrs.iter().all(|(n, _)| n != name),
            "manifest lists {obj}@{name} twice"
        );
        attrs.push((name.to_string(), spec));
    }

    fn num_attr<T: Elem>(&mut self, obj: &str, name: &str, shape: &[u64], values: &[T]) {
        assert_eq!(values.len(), numel(shape));
        self.attr(
            obj,
            name,
            Json::Obj(vec![
                ("type".into(), Json::str("num")),
                ("dtype".into(), Json::str(T::DTYPE)),
                ("shape".into(), Json::u64s(shape)),
                (
                    "values".into(),
                    Json::Arr(values.iter().map(|v| v.json()).collect()),
                ),
                // the exact bits (JSON loses NaN signs and payloads)
                ("hex".into(), Json::Str(hex(&le_bytes(values)))),
            ]),
        );
    }

    /// Expects a scalar numeric attribute (h5py: a numpy scalar).
    pub fn attr_scalar<T: Elem>(&mut self, obj: &str, name: &str, value: T) {
        self.num_attr(obj, name, &[], &[value]);
    }

    /// Expects an N-D numeric attribute (row-major values).
    pub fn attr_array<T: Elem>(&mut self, obj: &str, name: &str, shape: &[u64], values: &[T]) {
        self.num_attr(obj, name, shape, values);
    }

    fn str_attr(&mut self, obj: &str, name: &str, shape: &[u64], values: &[&str], fixed: bool) {
        let mut spec = vec![
            (
                "type".to_string(),
                Json::str(if fixed { "fixed_str" } else { "vlen_str" }),
            ),
            ("shape".to_string(), Json::u64s(shape)),
            (
                "values".to_string(),
                Json::Arr(values.iter().map(|s| Json::str(s)).collect()),
            ),
        ];
        if fixed {
            let len = values.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
            let ascii = values.iter().all(|s| s.is_ascii());
            spec.push(("length".into(), Json::Num(len.to_string())));
            spec.push((
                "encoding".into(),
                Json::str(if ascii { "ascii" } else { "utf-8" }),
            ));
        }
        self.attr(obj, name, Json::Obj(spec));
    }

    /// Expects a scalar variable-length UTF-8 string attribute (h5py: `str`).
    pub fn attr_str(&mut self, obj: &str, name: &str, value: &str) {
        self.str_attr(obj, name, &[], &[value], false);
    }

    /// Expects a 1-D variable-length UTF-8 string attribute (h5py: object array of `str`).
    pub fn attr_strs(&mut self, obj: &str, name: &str, values: &[&str]) {
        self.str_attr(obj, name, &[values.len() as u64], values, false);
    }

    /// Expects a scalar fixed-length, null-padded string attribute of length
    /// `max(len, 1)`, ASCII unless it is not (h5py: `numpy.bytes_`).
    pub fn attr_fixed_str(&mut self, obj: &str, name: &str, value: &str) {
        self.str_attr(obj, name, &[], &[value], true);
    }

    /// Expects a 1-D fixed-length string attribute, padded to the longest (h5py: `S<n>`).
    pub fn attr_fixed_strs(&mut self, obj: &str, name: &str, values: &[&str]) {
        self.str_attr(obj, name, &[values.len() as u64], values, true);
    }

    /// Every dataset's path and shape.
    pub fn dataset_shapes(&self) -> BTreeMap<String, Vec<u64>> {
        self.objects
            .iter()
            .filter_map(|(p, s)| match s {
                ObjSpec::Dataset { shape, .. } => Some((p.clone(), shape.clone())),
                ObjSpec::Group => None,
            })
            .collect()
    }

    /// Every group's path.
    pub fn groups(&self) -> BTreeSet<String> {
        self.objects
            .iter()
            .filter(|(_, s)| matches!(s, ObjSpec::Group))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Appends the expected raw data of every dataset under group `path`, depth first
    /// with members in name (byte) order, as `h5dump -b` writes it.
    fn concat_data(&self, path: &str, out: &mut Vec<u8>) {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let mut members: Vec<&String> = self
            .objects
            .keys()
            .filter(|p| {
                p.len() > prefix.len() && p.starts_with(&prefix) && !p[prefix.len()..].contains('/')
            })
            .collect();
        members.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for p in members {
            match &self.objects[p] {
                ObjSpec::Group => self.concat_data(p, out),
                ObjSpec::Dataset { data, .. } => {
                    out.extend(std::fs::read(data).expect("reading expected data"))
                }
            }
        }
    }

    /// The manifest as JSON.
    pub fn to_json(&self) -> String {
        let mut members: BTreeMap<&str, Vec<Json>> = BTreeMap::new();
        for path in self.objects.keys().filter(|p| *p != "/") {
            let parent = parent_of(path);
            match self.objects.get(parent) {
                Some(ObjSpec::Group) => {}
                _ => panic!("manifest: the parent of {path} is not a group of the manifest"),
            }
            let name = &path[parent.len() + usize::from(parent != "/")..];
            members.entry(parent).or_default().push(Json::str(name));
        }
        for obj in self.attrs.keys() {
            assert!(
                self.objects.contains_key(obj),
                "manifest: attributes on {obj}, which the manifest lacks"
            );
        }
        let mut objects = Vec::new();
        for (path, spec) in &self.objects {
            let attrs = self.attrs.get(path).cloned().unwrap_or_default();
            let mut o = Vec::new();
            match spec {
                ObjSpec::Group => {
                    o.push(("kind".to_string(), Json::str("group")));
                    o.push((
                        "members".to_string(),
                        Json::Arr(members.remove(path.as_str()).unwrap_or_default()),
                    ));
                }
                ObjSpec::Dataset {
                    dtype,
                    shape,
                    maxshape,
                    layout,
                    data,
                    fill_hex,
                } => {
                    o.push(("kind".into(), Json::str("dataset")));
                    o.push(("dtype".into(), Json::str(dtype)));
                    o.push(("shape".into(), Json::u64s(shape)));
                    if let Some(m) = maxshape {
                        o.push((
                            "maxshape".into(),
                            Json::Arr(
                                m.iter()
                                    .map(|d| d.map_or(Json::Null, |d| Json::Num(d.to_string())))
                                    .collect(),
                            ),
                        ));
                    }
                    o.push((
                        "chunks".into(),
                        match layout {
                            Layout::Chunked(c) => Json::u64s(c),
                            _ => Json::Null,
                        },
                    ));
                    o.push(("layout".into(), Json::str(layout.name())));
                    o.push((
                        "data".into(),
                        Json::Str(data.to_str().expect("UTF-8 temp path").to_string()),
                    ));
                    o.push(("fill_hex".into(), Json::Str(fill_hex.clone())));
                }
            }
            o.push(("attrs".into(), Json::Obj(attrs)));
            objects.push((path.clone(), Json::Obj(o)));
        }
        let mut top = Vec::new();
        if let Some(n) = &self.note {
            top.push(("note".to_string(), Json::Str(n.clone())));
        }
        top.push(("objects".to_string(), Json::Obj(objects)));
        Json::Obj(top).to_json()
    }

    /// Writes the manifest next to its data files; returns its path.
    pub fn write(&self) -> PathBuf {
        let path = self.dir.join(format!("{}.manifest.json", self.stem));
        std::fs::write(&path, self.to_json()).expect("writing the manifest");
        path
    }
}

// ---------------------------------------------------------------------------------
// Running h5py.

/// The Python that has h5py: `$H5SINK_PYTHON`, else `<crate>/.venv/bin/python`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("H5SINK_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.exists(),
        "no Python venv with h5py at {} (and $H5SINK_PYTHON is not set): {SETUP_HINT}",
        p.display()
    );
    p
}

/// Runs the `h5sink` command line with `args` and then `path`: exit code and output
/// (stdout, then stderr).
pub fn run_cli(args: &[&str], path: &Path) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_h5sink"))
        .args(args)
        .arg(path)
        .output()
        .unwrap();
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Bytes as lowercase hex, "-" when empty (as the h5py listing scripts print them).
pub fn hex_or_dash(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Dims joined by commas, unlimited as -1, "-" when empty (as the h5py listing
/// scripts print them).
pub fn dims(d: &[u64]) -> String {
    if d.is_empty() {
        return "-".into();
    }
    d.iter()
        .map(|&x| {
            if x == h5sink::UNLIMITED {
                "-1".to_string()
            } else {
                x.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Every offset at which `sig` starts in `bytes`.
pub fn find_all(bytes: &[u8], sig: &[u8]) -> Vec<usize> {
    (0..(bytes.len() + 1).saturating_sub(sig.len()))
        .filter(|&i| &bytes[i..i + sig.len()] == sig)
        .collect()
}

/// Byte positions worth mutating in `good`: the first 64 bytes of each structure
/// starting with one of `sigs`, and every `step`-th byte of the file; sorted, unique.
pub fn mutation_positions(good: &[u8], sigs: &[&[u8]], step: usize) -> Vec<usize> {
    let mut positions: Vec<usize> = Vec::new();
    for sig in sigs {
        for at in find_all(good, sig) {
            positions.extend(at..(at + 64).min(good.len()));
        }
    }
    positions.extend((0..good.len()).step_by(step));
    positions.sort_unstable();
    positions.dedup();
    positions
}

/// Sets each of `positions` in a copy of `good` to three other values (0xff, the low
/// bit flipped, +0x10) and calls `exercise` on it (which must not panic); returns how
/// many mutated files `exercise` rejected (returned false for).
pub fn rejected_mutations(
    good: &[u8],
    positions: &[usize],
    exercise: impl Fn(&[u8]) -> bool,
) -> usize {
    let mut rejected = 0;
    for &pos in positions {
        for v in [0xffu8, good[pos] ^ 0x01, good[pos].wrapping_add(0x10)] {
            if v == good[pos] {
                continue;
            }
            let mut b = good.to_vec();
            b[pos] = v;
            if !exercise(&b) {
                rejected += 1;
            }
        }
    }
    rejected
}

/// Runs the test Python with `args` (a script and its arguments, or `-c` and code);
/// asserts it succeeded; returns its stdout and stderr.
pub fn python_ok<A: AsRef<std::ffi::OsStr>>(args: &[A]) -> (String, String) {
    let out = Command::new(python()).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "python failed:\n{stdout}{stderr}");
    (stdout, stderr)
}

/// Runs `python -c code args...`; asserts it succeeded; returns stdout then stderr.
pub fn run_python<A: AsRef<std::ffi::OsStr>>(code: &str, args: &[A]) -> String {
    let mut all: Vec<&std::ffi::OsStr> = vec!["-c".as_ref(), code.as_ref()];
    all.extend(args.iter().map(|a| a.as_ref()));
    let (stdout, stderr) = python_ok(&all);
    format!("{stdout}{stderr}")
}

/// Copies `src` to `dst` and checks that reopening the copy for appending is refused
/// and leaves its bytes as they were; returns the refusal's message.
pub fn append_refused(src: &Path, dst: &Path) -> String {
    std::fs::copy(src, dst).unwrap();
    let before = std::fs::read(dst).unwrap();
    let Err(e) = h5sink::File::options().open_append(dst) else {
        panic!("reopening {} for append should be refused", src.display());
    };
    assert_eq!(std::fs::read(dst).unwrap(), before, "{}", src.display());
    e.to_string()
}

/// Recomputes the lookup3 checksum of the block at `at` whose checksum follows
/// `covered` bytes.
pub fn fix_checksum(b: &mut [u8], at: usize, covered: usize) {
    let sum = h5sink::encode::hashlittle(&b[at..at + covered], 0);
    b[at + covered..at + covered + 4].copy_from_slice(&sum.to_le_bytes());
}

/// The bytes a block's checksum covers: the first length (up to 8 KiB) whose lookup3
/// equals the 4 bytes after it (nodes and blocks do not store their length).
pub fn checksum_len(b: &[u8], at: usize) -> usize {
    (6..8192)
        .find(|&n| {
            at + n + 4 <= b.len()
                && h5sink::encode::hashlittle(&b[at..at + n], 0)
                    == u32::from_le_bytes(b[at + n..at + n + 4].try_into().unwrap())
        })
        .expect("a checksum")
}

fn verify_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/verify.py")
}

fn run_verify(args: &[&Path]) -> Output {
    let py = python();
    let out = Command::new(&py)
        .arg(verify_script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}): {SETUP_HINT}", py.display()));
    if out.status.code() == Some(3) {
        panic!(
            "h5py/numpy cannot be imported by {}: {}\n{SETUP_HINT}",
            py.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

fn show(out: &Output) -> String {
    format!(
        "exit status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Reads the file with h5py and checks everything the manifest says, exactly.
pub fn verify(h5: &Path, manifest: &Manifest) {
    let m = manifest.write();
    let out = run_verify(&[h5, &m]);
    assert!(
        out.status.success(),
        "h5py verification of {} failed:\n{}",
        h5.display(),
        show(&out)
    );
}

/// [`verify`] for many files in one Python process. Returns h5py's report.
pub fn verify_many(files: &[(PathBuf, Manifest)]) -> String {
    assert!(!files.is_empty());
    let dir = files[0].1.dir.clone();
    let pairs = Json::Arr(
        files
            .iter()
            .map(|(h5, m)| {
                let mp = m.write();
                Json::Arr(vec![
                    Json::Str(h5.to_str().expect("UTF-8 path").to_string()),
                    Json::Str(mp.to_str().expect("UTF-8 path").to_string()),
                ])
            })
            .collect(),
    );
    let list = dir.join("verify-many.json");
    std::fs::write(&list, pairs.to_json()).expect("writing the file list");
    let out = run_verify(&[Path::new("--many"), &list]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        // only the failures, not hundreds of "ok" lines
        let fails: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("ok ")).collect();
        panic!(
            "h5py verification failed:\n{}\n--- stderr ---\n{}",
            fails.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    stdout
}

// ---------------------------------------------------------------------------------
// Running h5dump (libhdf5 1.10, an independent reader).

fn run_h5dump(args: &[&str], path: &Path) -> String {
    let out = Command::new("h5dump")
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run h5dump ({e}): {SETUP_HINT}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "h5dump {args:?} {} failed:\n{}",
        path.display(),
        show(&out)
    );
    String::from_utf8(out.stdout).expect("h5dump prints UTF-8")
}

/// `h5dump -H` (header only): asserts it exits 0 with nothing on stderr.
pub fn h5dump_ok(path: &Path) -> String {
    run_h5dump(&["-H"], path)
}

/// Full `h5dump` with data (small files only).
pub fn h5dump_data(path: &Path) -> String {
    run_h5dump(&[], path)
}

/// Parses h5dump output: every group's path, and every dataset's path with its
/// dataspace dims (empty for SCALAR).
pub fn parse_h5dump(out: &str) -> (BTreeSet<String>, BTreeMap<String, Vec<u64>>) {
    let mut groups = BTreeSet::new();
    let mut datasets = BTreeMap::new();
    // (keyword, object path or name)
    let mut stack: Vec<(String, String)> = Vec::new();
    let path_of = |stack: &[(String, String)], name: &str| -> String {
        let parent = stack
            .iter()
            .rev()
            .find(|(k, _)| k == "GROUP")
            .map(|(_, p)| p.as_str())
            .unwrap_or("");
        match (parent, name) {
            ("", "/") => "/".to_string(),
            ("/", n) => format!("/{n}"),
            (p, n) => format!("{p}/{n}"),
        }
    };
    for line in out.lines() {
        let t = line.trim();
        if t == "}" {
            stack.pop().expect("unbalanced h5dump output");
        } else if t.ends_with('{') {
            let keyword = t.split_whitespace().next().unwrap_or("").to_string();
            let name = t.split('"').nth(1).map(str::to_string).unwrap_or_default();
            let entry = match keyword.as_str() {
                "GROUP" => {
                    let p = path_of(&stack, &name);
                    groups.insert(p.clone());
                    p
                }
                "DATASET" => path_of(&stack, &name),
                _ => name,
            };
            stack.push((keyword, entry));
        } else if let Some(space) = t.strip_prefix("DATASPACE") {
            if let Some((k, p)) = stack.last() {
                if k == "DATASET" {
                    let space = space.trim();
                    let dims = if space.starts_with("SCALAR") {
                        Vec::new()
                    } else {
                        let inner = space
                            .split('(')
                            .nth(1)
                            .and_then(|s| s.split(')').next())
                            .unwrap_or_else(|| panic!("cannot parse {t:?}"));
                        inner
                            .split(',')
                            .map(|d| d.trim().parse().unwrap_or_else(|_| panic!("dim in {t:?}")))
                            .collect()
                    };
                    datasets.insert(p.clone(), dims);
                }
            }
        }
    }
    assert!(stack.is_empty(), "unbalanced h5dump output");
    (groups, datasets)
}

/// `h5dump -H`: exits 0, and shows exactly the manifest's groups and datasets, each
/// dataset with the expected DATASPACE dims. Returns the header text.
pub fn check_h5dump(h5: &Path, manifest: &Manifest) -> String {
    let out = h5dump_ok(h5);
    let (groups, datasets) = parse_h5dump(&out);
    assert_eq!(
        groups,
        manifest.groups(),
        "h5dump -H {}: groups differ from the manifest",
        h5.display()
    );
    assert_eq!(
        datasets,
        manifest.dataset_shapes(),
        "h5dump -H {}: datasets or their DATASPACE dims differ from the manifest",
        h5.display()
    );
    out
}

/// Full `h5dump -A 0 -b LE` (libhdf5 1.10 reads every dataset's data): exits 0, shows the
/// manifest's groups and dataset dims, and writes exactly the expected raw data of all
/// datasets, concatenated in h5dump's order (depth first, members by name).
pub fn check_h5dump_data(h5: &Path, manifest: &Manifest) {
    let bin = manifest.dir.join(format!("{}.h5dump.bin", manifest.stem));
    let bin_arg = bin.to_str().expect("UTF-8 temp path");
    // -A 0: no attributes (-b would mix some attribute values into the data)
    let out = run_h5dump(&["-A", "0", "-b", "LE", "-o", bin_arg], h5);
    let (groups, datasets) = parse_h5dump(&out);
    assert_eq!(groups, manifest.groups(), "h5dump {}: groups", h5.display());
    assert_eq!(
        datasets,
        manifest.dataset_shapes(),
        "h5dump {}: datasets or their DATASPACE dims",
        h5.display()
    );
    let mut want = Vec::new();
    manifest.concat_data("/", &mut want);
    let got = std::fs::read(&bin).expect("reading h5dump's binary output");
    if got != want {
        let first = got.iter().zip(&want).position(|(a, b)| a != b);
        panic!(
            "h5dump -b {}: {} bytes of data, expected {}; first difference at byte {:?}",
            h5.display(),
            got.len(),
            want.len(),
            first
        );
    }
}

/// Both readers: h5py checks everything; h5dump -H the structure and dims; full
/// h5dump every dataset's data, bit for bit.
pub fn check_file(h5: &Path, manifest: &Manifest) {
    verify(h5, manifest);
    check_h5dump(h5, manifest);
    check_h5dump_data(h5, manifest);
}
