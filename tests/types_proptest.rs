//! Property test: random compound layouts (nested compounds, arrays of compounds and
//! of atoms, packed / aligned / extra padding, members listed out of offset order,
//! every atom: integers and floats of each size and byte order, f16, bool, enums,
//! fixed-length strings of each padding and character set) with random values, built
//! at run time (`Datatype` + raw bytes) and written to a chunked dataset, an attribute,
//! an appended dataset with a fill value and a compact scalar dataset.
//!
//! The expected numpy dtype and values are built from the generated description, not
//! from our encoder: h5py must read exactly those (dtype with names, offsets and item
//! size; values field by field, floats bit for bit); h5dump must print every file.
//! All files are checked in one Python process. `H5SINK_TYPES_CASES` (default 128) and
//! `H5SINK_TYPES_SEED` change the number of cases and the seed.

mod types_util;

use std::fmt::Write as _;
use std::path::PathBuf;

use h5sink::{ByteOrder, CharSet, CompoundField, Datatype, EnumMember, StringPad};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use types_util::{h5dump, h5py_check_many, tempdir};

/// A generated type, described independently of `Datatype`.
#[derive(Clone, Debug)]
enum Gen {
    Int {
        size: u8,
        signed: bool,
        be: bool,
    },
    Float {
        size: u8,
        be: bool,
    },
    Bool,
    Enum {
        size: u8,
        signed: bool,
        be: bool,
        seed: u64,
        n: usize,
    },
    Str {
        size: u32,
        nullterm: bool,
        utf8: bool,
    },
    Array {
        dims: Vec<u32>,
        base: Box<Gen>,
    },
    Compound(Comp),
}

#[derive(Clone, Debug)]
struct Comp {
    fields: Vec<(String, Gen)>,
    /// Fields aligned like `#[repr(C)]` / numpy `align=True`, else packed.
    aligned: bool,
    /// Extra bytes before each field.
    pads: Vec<u8>,
    /// Extra bytes at the end.
    tail: u8,
    /// Members listed in reverse offset order.
    reversed: bool,
}

/// SplitMix64, for values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn enum_values(size: u8, signed: bool, seed: u64, n: usize) -> Vec<i128> {
    let mut rng = Rng(seed);
    let bits = u32::from(size) * 8;
    let mut out: Vec<i128> = Vec::new();
    while out.len() < n {
        let raw = rng.next() >> (64 - bits);
        let v = if signed && raw >> (bits - 1) == 1 {
            i128::from(raw) - (1i128 << bits)
        } else {
            i128::from(raw)
        };
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn order(be: bool) -> ByteOrder {
    if be {
        ByteOrder::BigEndian
    } else {
        ByteOrder::LittleEndian
    }
}

fn np_order(be: bool) -> char {
    if be {
        '>'
    } else {
        '<'
    }
}

impl Gen {
    fn size(&self) -> u32 {
        match self {
            Gen::Int { size, .. } | Gen::Float { size, .. } | Gen::Enum { size, .. } => {
                u32::from(*size)
            }
            Gen::Bool => 1,
            Gen::Str { size, .. } => *size,
            Gen::Array { dims, base } => dims.iter().product::<u32>() * base.size(),
            Gen::Compound(c) => c.layout().1,
        }
    }

    fn align(&self) -> u32 {
        match self {
            Gen::Int { size, .. } | Gen::Float { size, .. } | Gen::Enum { size, .. } => {
                u32::from(*size)
            }
            Gen::Bool | Gen::Str { .. } => 1,
            Gen::Array { base, .. } => base.align(),
            Gen::Compound(c) => {
                if c.aligned {
                    c.fields.iter().map(|(_, g)| g.align()).max().unwrap_or(1)
                } else {
                    1
                }
            }
        }
    }

    fn datatype(&self) -> Datatype {
        match self {
            Gen::Int { size, signed, be } => Datatype::Integer {
                size: *size,
                signed: *signed,
                order: order(*be),
            },
            Gen::Float { size, be } => Datatype::Float {
                size: *size,
                order: order(*be),
            },
            Gen::Bool => Datatype::bool(),
            Gen::Enum {
                size,
                signed,
                be,
                seed,
                n,
            } => Datatype::enumeration(
                Datatype::Integer {
                    size: *size,
                    signed: *signed,
                    order: order(*be),
                },
                enum_values(*size, *signed, *seed, *n)
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| EnumMember::new(format!("E{i}_{v}"), v))
                    .collect(),
            )
            .unwrap(),
            Gen::Str {
                size,
                nullterm,
                utf8,
            } => Datatype::FixedString {
                size: *size,
                pad: if *nullterm {
                    StringPad::NullTerm
                } else {
                    StringPad::NullPad
                },
                cset: if *utf8 { CharSet::Utf8 } else { CharSet::Ascii },
            },
            Gen::Array { dims, base } => Datatype::array(dims.clone(), base.datatype()).unwrap(),
            Gen::Compound(c) => {
                let (offsets, size) = c.layout();
                let mut fields: Vec<CompoundField> = c
                    .fields
                    .iter()
                    .zip(&offsets)
                    .map(|((name, g), &off)| CompoundField::new(name.clone(), off, g.datatype()))
                    .collect();
                if c.reversed {
                    fields.reverse();
                }
                Datatype::compound(size, fields).unwrap()
            }
        }
    }

    /// A Python expression for the numpy dtype h5py should read.
    fn numpy(&self) -> String {
        match self {
            Gen::Int { size, signed, be } => {
                format!(
                    "'{}{}{size}'",
                    np_order(*be),
                    if *signed { 'i' } else { 'u' }
                )
            }
            Gen::Float { size, be } => format!("'{}f{size}'", np_order(*be)),
            Gen::Bool => "'?'".into(),
            Gen::Enum {
                size,
                signed,
                be,
                seed,
                n,
            } => {
                let members: Vec<String> = enum_values(*size, *signed, *seed, *n)
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| format!("'E{i}_{v}': {v}"))
                    .collect();
                format!(
                    "h5py.enum_dtype({{{}}}, basetype='{}{}{size}')",
                    members.join(", "),
                    np_order(*be),
                    if *signed { 'i' } else { 'u' }
                )
            }
            Gen::Str { size, .. } => format!("'S{size}'"),
            Gen::Array { dims, base } => {
                let d: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
                format!("({}, ({},))", base.numpy(), d.join(", "))
            }
            Gen::Compound(c) => {
                let (offsets, size) = c.layout();
                let mut items: Vec<(String, String, u32)> = c
                    .fields
                    .iter()
                    .zip(&offsets)
                    .map(|((n, g), &o)| (format!("{n:?}"), g.numpy(), o))
                    .collect();
                if c.reversed {
                    items.reverse();
                }
                let names: Vec<&str> = items.iter().map(|i| i.0.as_str()).collect();
                let formats: Vec<&str> = items.iter().map(|i| i.1.as_str()).collect();
                let offs: Vec<String> = items.iter().map(|i| i.2.to_string()).collect();
                format!(
                    "np.dtype({{'names': [{}], 'formats': [{}], 'offsets': [{}], 'itemsize': {size}}})",
                    names.join(", "),
                    formats.join(", "),
                    offs.join(", ")
                )
            }
        }
    }

    /// Writes a random value into `out` (this type's bytes) and returns its Python
    /// literal. Bytes no field covers keep their (random) content.
    fn value(&self, rng: &mut Rng, out: &mut [u8]) -> String {
        match self {
            Gen::Int { size, signed, be } => {
                let n = usize::from(*size);
                let raw = rng.next() >> (64 - 8 * n);
                put(out, raw, n, *be);
                let bits = 8 * n as u32;
                if *signed && raw >> (bits - 1) == 1 {
                    (i128::from(raw) - (1i128 << bits)).to_string()
                } else {
                    raw.to_string()
                }
            }
            Gen::Float { size, be } => {
                let n = usize::from(*size);
                let (raw, v) = loop {
                    let raw = match rng.below(6) {
                        0 => 0,
                        1 => 1u64 << (8 * n - 1), // -0.0
                        2 => 1,                   // the smallest subnormal
                        _ => rng.next() >> (64 - 8 * n),
                    };
                    let v = match n {
                        2 => half::f16::from_bits(raw as u16).to_f64(),
                        4 => f64::from(f32::from_bits(raw as u32)),
                        _ => f64::from_bits(raw),
                    };
                    if !v.is_nan() {
                        break (raw, v);
                    }
                };
                put(out, raw, n, *be);
                if v.is_infinite() {
                    if v > 0.0 {
                        "float('inf')"
                    } else {
                        "float('-inf')"
                    }
                    .into()
                } else {
                    format!("{v:?}")
                }
            }
            Gen::Bool => {
                let b = rng.below(2) == 1;
                out[0] = u8::from(b);
                if b { "True" } else { "False" }.into()
            }
            Gen::Enum {
                size,
                signed,
                be,
                seed,
                n,
            } => {
                let values = enum_values(*size, *signed, *seed, *n);
                let v = values[rng.below(values.len() as u64) as usize];
                put(out, v as u64, usize::from(*size), *be);
                v.to_string()
            }
            Gen::Str {
                size,
                nullterm,
                utf8,
            } => {
                let room = *size as usize - usize::from(*nullterm);
                let want = rng.below(room as u64 + 1) as usize;
                let mut text = String::new();
                let chars = ['a', 'Z', '0', ' ', '~', 'é', '€', '𝄞'];
                while text.len() < want {
                    let c = chars[rng.below(if *utf8 { 8 } else { 5 }) as usize];
                    if text.len() + c.len_utf8() > room {
                        break;
                    }
                    text.push(c);
                }
                out.fill(0);
                out[..text.len()].copy_from_slice(text.as_bytes());
                let mut hex = String::new();
                for b in text.as_bytes() {
                    write!(hex, "{b:02x}").unwrap();
                }
                format!("bytes.fromhex('{hex}')")
            }
            Gen::Array { dims, base } => {
                let step = base.size() as usize;
                let n: usize = dims.iter().map(|&d| d as usize).product();
                let flat: Vec<String> = (0..n)
                    .map(|i| base.value(rng, &mut out[i * step..(i + 1) * step]))
                    .collect();
                nest(&flat, dims)
            }
            Gen::Compound(c) => {
                let (offsets, _) = c.layout();
                let mut lits: Vec<String> = c
                    .fields
                    .iter()
                    .zip(&offsets)
                    .map(|((_, g), &o)| {
                        let o = o as usize;
                        g.value(rng, &mut out[o..o + g.size() as usize])
                    })
                    .collect();
                if c.reversed {
                    lits.reverse();
                }
                format!("({},)", lits.join(", "))
            }
        }
    }
}

impl Comp {
    /// Field offsets (in `fields` order) and the element size.
    fn layout(&self) -> (Vec<u32>, u32) {
        let mut at = 0u32;
        let mut offsets = Vec::new();
        for (i, (_, g)) in self.fields.iter().enumerate() {
            at += u32::from(self.pads[i]);
            if self.aligned {
                at = at.div_ceil(g.align()) * g.align();
            }
            offsets.push(at);
            at += g.size();
        }
        at += u32::from(self.tail);
        if self.aligned {
            let a = Gen::Compound(self.clone()).align();
            at = at.div_ceil(a) * a;
        }
        (offsets, at.max(1))
    }
}

fn put(out: &mut [u8], raw: u64, n: usize, be: bool) {
    let le = raw.to_le_bytes();
    out[..n].copy_from_slice(&le[..n]);
    if be {
        out[..n].reverse();
    }
}

/// Nests a flat row-major list of literals into Python lists of `dims`.
fn nest(flat: &[String], dims: &[u32]) -> String {
    if dims.len() == 1 {
        return format!("[{}]", flat.join(", "));
    }
    let inner: usize = dims[1..].iter().map(|&d| d as usize).product();
    let parts: Vec<String> = flat.chunks(inner).map(|c| nest(c, &dims[1..])).collect();
    format!("[{}]", parts.join(", "))
}

fn leaf() -> impl Strategy<Value = Gen> {
    prop_oneof![
        (
            prop::sample::select(vec![1u8, 2, 4, 8]),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(size, signed, be)| Gen::Int { size, signed, be }),
        (prop::sample::select(vec![2u8, 4, 8]), any::<bool>())
            .prop_map(|(size, be)| Gen::Float { size, be }),
        Just(Gen::Bool),
        (
            prop::sample::select(vec![1u8, 2, 4, 8]),
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
            1usize..6
        )
            .prop_map(|(size, signed, be, seed, n)| Gen::Enum {
                size,
                signed,
                be,
                seed,
                n
            }),
        (1u32..12, any::<bool>(), any::<bool>()).prop_map(|(size, nullterm, utf8)| Gen::Str {
            size,
            nullterm,
            utf8
        }),
    ]
}

const NAMES: [&str; 6] = ["a", "bb", "c d", "é", "x_1", "a_name_longer_than_sixteen"];

fn compound(inner: impl Strategy<Value = Gen> + Clone) -> impl Strategy<Value = Gen> {
    (
        prop::collection::vec((0usize..NAMES.len(), inner), 1..6),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(vec![0u8, 0, 0, 1, 3, 8]), 6),
        prop::sample::select(vec![0u8, 0, 2, 5]),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(fields, aligned, pads, tail, reversed)| {
            Gen::Compound(Comp {
                fields: fields
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, g))| (format!("{}{i}", NAMES[n]), g))
                    .collect(),
                aligned,
                pads,
                tail,
                reversed,
            })
        })
}

fn gen() -> impl Strategy<Value = Gen> {
    let tree = leaf().prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            (
                prop::collection::vec(1u32..4, 1..3),
                inner
                    .clone()
                    .prop_filter("no array of arrays", |g| !matches!(g, Gen::Array { .. }))
            )
                .prop_map(|(dims, base)| Gen::Array {
                    dims,
                    base: Box::new(base)
                }),
            compound(inner),
        ]
    });
    compound(tree)
}

#[test]
fn random_compound_layouts_read_back_exactly() {
    let cases: usize = std::env::var("H5SINK_TYPES_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(128);
    let seed: u64 = std::env::var("H5SINK_TYPES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6835_696e_6b54_7970);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    );
    let strategy = gen();
    let dir = tempdir();
    let mut checks: Vec<(PathBuf, String, String)> = Vec::new();
    let mut sizes = Vec::new();
    for case in 0..cases {
        let g = strategy.new_tree(&mut runner).unwrap().current();
        let t = g.datatype();
        t.validate().unwrap();
        assert_eq!(t.size(), g.size(), "case {case}: {g:?}");
        sizes.push(t.size());
        let mut rng = Rng(seed ^ case as u64);
        let n = 1 + rng.below(12) as usize;
        let size = t.size() as usize;
        let mut bytes: Vec<u8> = (0..n * size).map(|_| rng.next() as u8).collect();
        let lits: Vec<String> = bytes
            .chunks_mut(size)
            .map(|e| g.value(&mut rng, e))
            .collect();
        let path = dir.path().join(format!("case{case}.h5"));
        let file = h5sink::File::create(&path).unwrap();
        let chunk = 1 + rng.below(n as u64);
        file.dataset::<u8>("/chunked")
            .datatype(t.clone())
            .shape([n as u64])
            .chunk([chunk])
            .create_with_data(&bytes)
            .unwrap();
        file.root()
            .attr("values")
            .write_raw(&t, &[n as u64], &bytes)
            .unwrap();
        let app = file
            .dataset::<u8>("/appended")
            .datatype(t.clone())
            .frames([])
            .chunk_frames(1 + rng.below(4))
            .fill_value_bytes(&bytes[..size])
            .create()
            .unwrap();
        let half = n / 2;
        app.append(&bytes[..half * size]).unwrap();
        file.flush().unwrap();
        app.append(&bytes[half * size..]).unwrap();
        app.resize([n as u64 + 2]).unwrap();
        if size <= 4096 {
            file.dataset::<u8>("/scalar")
                .datatype(t.clone())
                .shape([])
                .compact()
                .create_with_data(&bytes[(n - 1) * size..])
                .unwrap();
        }
        file.finish().unwrap();
        h5dump(&[], &path);
        let body = format!(
            "DT = {}\nV = np.array([{}], dtype=DT)\nds('/chunked', V)\nat('/', 'values', V)\n\
             W = np.empty(len(V) + 2, dtype=DT)\nW[:len(V)] = V\nW[len(V):] = V[0]\nds('/appended', W)\nif 'scalar' in f: ds('/scalar', V[-1])\n",
            g.numpy(),
            lits.join(", ")
        );
        checks.push((path, format!("case {case}: {g:?}"), body));
    }
    h5py_check_many(&checks);
    eprintln!(
        "{cases} random compound types, element sizes {} to {} bytes",
        sizes.iter().min().unwrap(),
        sizes.iter().max().unwrap()
    );
}
