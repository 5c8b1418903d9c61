//! `h5sink ls FILE [--json]`: the tree of a file in the spirit of `h5ls -r`.
//!
//! Objects are listed depth first from the root, links in name order; an object
//! reached again through another hard link is listed as a link to its first path
//! (so hard-link cycles end). For each dataset: shape, maximum shape (`inf` for
//! unlimited dims; `null` in JSON), element type, layout, chunk shape, chunk index
//! (in text only for layout v4/v5 indexes, e.g. "fixed array index"; in JSON always,
//! `"chunk_index": "v1 B-tree"` for layout v3), filters and fill value; for every object its attributes with their values when they have at
//! most [`MAX_VALUES`] elements.
//!
//! Type names: `u8`…`u64`, `i8`…`i64`, `f16`, `f32`, `f64` (with a `be` suffix when
//! big-endian, e.g. `u16be`), `string[N]` (fixed-length, N bytes), `string`
//! (variable-length), `vlen<T>`, and `compound`, `enum`, `array`, `opaque`,
//! `bitfield`, `reference`, `time` for the classes this reader does not decode.

use h5sink::format::filter_pipeline::{
    FILTER_BITSHUFFLE, FILTER_DEFLATE, FILTER_FLETCHER32, FILTER_LZ4, FILTER_SHUFFLE,
};
use h5sink::read::{
    self, Attribute, ChunkIndex, Dataspace, Datatype, LinkTarget, Object, SpaceKind,
};
use h5sink::{ByteOrder, CharSet, StringPad, UNLIMITED};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;

/// Attribute (and fill) values with more elements than this are not printed.
pub const MAX_VALUES: u64 = 16;

/// Exit codes: 0 listed, 1 the file cannot be parsed, 2 usage error or unreadable path.
pub fn run(path: &str, json: bool) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("h5sink ls: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let file = match read::File::parse(&bytes) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("h5sink ls: {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let entries = walk(&file);
    let out = if json {
        to_json(path, &file, &entries)
    } else {
        to_text(&entries)
    };
    print!("{out}");
    ExitCode::SUCCESS
}

/// One line of the listing.
enum Entry<'f> {
    Object(String, &'f Object),
    /// A hard link to an object listed earlier under `first`.
    SameAs(String, String),
    Soft(String, String),
    External(String, String, String),
    UserDefined(String, u8),
    /// A hard link to an address that holds no readable object.
    Dangling(String, u64),
}

/// Depth first from the root, links in name order; an object's first path is the
/// first one met in that order.
fn walk<'f>(file: &'f read::File<'_>) -> Vec<Entry<'f>> {
    let mut out = Vec::new();
    let mut first: HashMap<u64, String> = HashMap::new();
    let root = &file.objects()[0];
    // links still to list, the next one last
    let mut stack: Vec<(String, &LinkTarget)> = Vec::new();
    let root_target = LinkTarget::Hard { addr: root.addr() };
    stack.push(("/".into(), &root_target));
    while let Some((path, target)) = stack.pop() {
        let addr = match target {
            LinkTarget::Hard { addr } => *addr,
            LinkTarget::Soft { path: t } => {
                out.push(Entry::Soft(path, t.clone()));
                continue;
            }
            LinkTarget::External { file: f, path: t } => {
                out.push(Entry::External(path, f.clone(), t.clone()));
                continue;
            }
            LinkTarget::UserDefined { kind } => {
                out.push(Entry::UserDefined(path, *kind));
                continue;
            }
            _ => continue,
        };
        let Some(obj) = file.object_at(addr) else {
            out.push(Entry::Dangling(path, addr));
            continue;
        };
        if let Some(f) = first.get(&addr) {
            out.push(Entry::SameAs(path, f.clone()));
            continue;
        }
        first.insert(addr, path.clone());
        if let Some(g) = obj.as_group() {
            let mut links: Vec<_> = g.links.iter().collect();
            links.sort_by(|a, b| b.name.cmp(&a.name));
            for l in links {
                let p = if path == "/" {
                    format!("/{}", l.name)
                } else {
                    format!("{path}/{}", l.name)
                };
                stack.push((p, &l.target));
            }
        }
        out.push(Entry::Object(path, obj));
    }
    out
}

/// The type's name (see the module docs).
fn type_name(t: &Datatype) -> String {
    let be = |o: &ByteOrder| if *o == ByteOrder::BigEndian { "be" } else { "" };
    match t {
        Datatype::Integer {
            size,
            signed,
            order,
        } => format!(
            "{}{}{}",
            if *signed { "i" } else { "u" },
            size * 8,
            be(order)
        ),
        Datatype::Float { size, order } => format!("f{}{}", size * 8, be(order)),
        Datatype::FixedString { size, .. } => format!("string[{size}]"),
        Datatype::VarLenString { .. } => "string".into(),
        Datatype::VarLenSequence { base, .. } => format!("vlen<{}>", type_name(base)),
        Datatype::Other { class, .. } => class_name(*class).into(),
        _ => "unknown".into(),
    }
}

fn class_name(class: u8) -> &'static str {
    match class {
        0 => "integer",
        1 => "float",
        2 => "time",
        3 => "string",
        4 => "bitfield",
        5 => "opaque",
        6 => "compound",
        7 => "reference",
        8 => "enum",
        9 => "vlen",
        10 => "array",
        _ => "unknown",
    }
}

/// Character set and padding of string types.
fn string_details(t: &Datatype) -> Option<(&'static str, &'static str)> {
    let (pad, cset) = match t {
        Datatype::FixedString { pad, cset, .. } | Datatype::VarLenString { pad, cset, .. } => {
            (pad, cset)
        }
        _ => return None,
    };
    let cset = match cset {
        CharSet::Utf8 => "utf-8",
        _ => "ascii",
    };
    let pad = match pad {
        StringPad::NullTerm => "nullterm",
        StringPad::NullPad => "nullpad",
        _ => "spacepad",
    };
    Some((cset, pad))
}

/// A decoded element value.
enum Value {
    Int(i128),
    Float(f64, bool),
    Str(String),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Float(v, single) => float_text(*v, *single),
            Value::Str(s) => format!("{s:?}"),
        }
    }

    fn json(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Float(v, single) if v.is_finite() => float_text(*v, *single),
            // JSON has no NaN or infinities
            Value::Float(v, _) => json_str(&v.to_string()),
            Value::Str(s) => json_str(s),
        }
    }
}

/// Shortest text that reads back as the same value (`{:?}` of f32 for single
/// precision, so 0.1f32 prints as 0.1).
fn float_text(v: f64, single: bool) -> String {
    if single {
        format!("{:?}", v as f32)
    } else {
        format!("{v:?}")
    }
}

/// IEEE half precision to f64.
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let man = f64::from(h & 0x3ff);
    match exp {
        0 => sign * man * 2f64.powi(-24),
        31 if man == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + man / 1024.0) * 2f64.powi(e - 15),
    }
}

/// The elements of `raw` (of type `t`), or `None` when the type is not decoded.
fn values(t: &Datatype, raw: &[u8], vlen: Option<&[Vec<u8>]>) -> Option<Vec<Value>> {
    let word = |e: &[u8], order: &ByteOrder| -> u64 {
        let mut b = [0u8; 8];
        let n = e.len().min(8);
        if *order == ByteOrder::BigEndian {
            for (i, &x) in e[e.len() - n..].iter().rev().enumerate() {
                b[i] = x;
            }
        } else {
            b[..n].copy_from_slice(&e[..n]);
        }
        u64::from_le_bytes(b)
    };
    Some(match t {
        Datatype::Integer {
            size,
            signed,
            order,
        } if matches!(size, 1 | 2 | 4 | 8) => raw
            .chunks_exact(*size as usize)
            .map(|e| {
                let u = word(e, order);
                let bits = size * 8;
                Value::Int(if *signed && bits < 64 {
                    i128::from(((u << (64 - bits)) as i64) >> (64 - bits))
                } else if *signed {
                    i128::from(u as i64)
                } else {
                    i128::from(u)
                })
            })
            .collect(),
        Datatype::Float { size, order } if matches!(size, 2 | 4 | 8) => raw
            .chunks_exact(*size as usize)
            .map(|e| {
                let u = word(e, order);
                match size {
                    2 => Value::Float(f16_to_f64(u as u16), true),
                    4 => Value::Float(f64::from(f32::from_bits(u as u32)), true),
                    _ => Value::Float(f64::from_bits(u), false),
                }
            })
            .collect(),
        Datatype::FixedString { size, pad, .. } => raw
            .chunks((*size as usize).max(1))
            .map(|e| {
                let n = if *pad == StringPad::SpacePad {
                    e.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1)
                } else {
                    e.iter().position(|&b| b == 0).unwrap_or(e.len())
                };
                Value::Str(String::from_utf8_lossy(&e[..n]).into_owned())
            })
            .collect(),
        Datatype::VarLenString { .. } => vlen?
            .iter()
            .map(|e| Value::Str(String::from_utf8_lossy(e).into_owned()))
            .collect(),
        _ => return None,
    })
}

/// Nested lists of `vals` in the shape `dims` (a scalar when `dims` is empty).
fn nest(vals: &[Value], dims: &[u64], json: bool) -> String {
    let one = |v: &Value| if json { v.json() } else { v.text() };
    if dims.is_empty() {
        return vals.first().map_or_else(|| "null".into(), one);
    }
    let inner = dims[1..].iter().product::<u64>() as usize;
    let parts: Vec<String> = (0..dims[0] as usize)
        .map(|i| {
            if dims.len() == 1 {
                vals.get(i).map_or_else(|| "null".into(), one)
            } else {
                let lo = (i * inner).min(vals.len());
                let hi = ((i + 1) * inner).min(vals.len());
                nest(&vals[lo..hi], &dims[1..], json)
            }
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The attribute's value as text or JSON, `None` when too large or not decoded.
fn attr_value(a: &Attribute, json: bool) -> Option<String> {
    let n = a.space.num_elements();
    if n > MAX_VALUES || a.space.kind == SpaceKind::Null {
        return None;
    }
    let vals = values(&a.datatype, &a.raw, a.vlen.as_deref())?;
    Some(nest(&vals, &a.space.dims, json))
}

/// "(10, 2048, 2048)"; `inf` for unlimited.
fn dims_text(d: &[u64]) -> String {
    let p: Vec<String> = d
        .iter()
        .map(|&x| {
            if x == UNLIMITED {
                "inf".into()
            } else {
                x.to_string()
            }
        })
        .collect();
    if p.len() == 1 {
        format!("({},)", p[0])
    } else {
        format!("({})", p.join(", "))
    }
}

fn space_text(s: &Dataspace) -> String {
    match s.kind {
        SpaceKind::Null => "null".into(),
        SpaceKind::Scalar => "scalar".into(),
        _ => dims_text(&s.dims),
    }
}

/// A filter's name and its parameters worth showing.
fn filter_text(id: u16, cd: &[u32]) -> (String, Option<u32>) {
    match id {
        FILTER_DEFLATE => ("deflate".into(), cd.first().copied()),
        FILTER_SHUFFLE => ("shuffle".into(), None),
        FILTER_FLETCHER32 => ("fletcher32".into(), None),
        FILTER_LZ4 => ("lz4".into(), None),
        FILTER_BITSHUFFLE => (
            match cd.get(4) {
                Some(2) => "bitshuffle+lz4".into(),
                Some(3) => "bitshuffle+zstd".into(),
                _ => "bitshuffle".into(),
            },
            None,
        ),
        4 => ("szip".into(), None),
        5 => ("nbit".into(), None),
        6 => ("scaleoffset".into(), None),
        32001 => ("blosc".into(), None),
        32015 => ("zstd".into(), cd.first().copied()),
        id => (format!("filter{id}"), None),
    }
}

fn to_text(entries: &[Entry<'_>]) -> String {
    let mut out = String::new();
    for e in entries {
        match e {
            Entry::Object(path, Object::Group(g)) => {
                let _ = writeln!(out, "{path}  group ({} links)", g.links.len());
            }
            Entry::Object(path, Object::Dataset(d)) => {
                let _ = write!(
                    out,
                    "{path}  dataset {} {}",
                    type_name(&d.datatype),
                    space_text(&d.space)
                );
                if d.space.kind == SpaceKind::Simple && d.max_dims() != d.dims() {
                    let _ = write!(out, " max {}", dims_text(d.max_dims()));
                }
                out.push('\n');
                let mut line = format!("    {}", d.layout.kind());
                if let Some(c) = d.chunk_dims() {
                    let _ = write!(line, " {}", dims_text(&c));
                }
                // layout v3's v1 B-tree is the classic index: named only in JSON
                if let Some(i) = d.layout.chunk_index() {
                    if !matches!(i, ChunkIndex::BTreeV1) {
                        let _ = write!(line, ", {} index", i.name());
                    }
                }
                if let Some((cset, pad)) = string_details(&d.datatype) {
                    let _ = write!(line, ", {cset} {pad}");
                }
                if !matches!(
                    d.datatype,
                    Datatype::Integer { .. } | Datatype::Float { .. }
                ) {
                    let _ = write!(line, ", {}-byte elements", d.element_size());
                }
                if !d.filters.is_empty() {
                    let f: Vec<String> = d
                        .filters
                        .iter()
                        .map(|f| match filter_text(f.id, &f.cd) {
                            (name, Some(level)) => format!("{name}({level})"),
                            (name, None) => name,
                        })
                        .collect();
                    let _ = write!(line, ", filters: {}", f.join(", "));
                }
                if let Some(fill) = &d.fill {
                    if let Some(v) = values(&d.datatype, fill, None) {
                        let _ = write!(line, ", fill {}", nest(&v, &[], false));
                    }
                }
                let _ = writeln!(out, "{line}");
            }
            Entry::Object(path, _) => {
                let _ = writeln!(out, "{path}  object");
            }
            Entry::SameAs(path, first) => {
                let _ = writeln!(out, "{path}  hard link, same object as {first}");
            }
            Entry::Soft(path, t) => {
                let _ = writeln!(out, "{path}  soft link -> {t}");
            }
            Entry::External(path, f, t) => {
                let _ = writeln!(out, "{path}  external link -> {f}:{t}");
            }
            Entry::UserDefined(path, k) => {
                let _ = writeln!(out, "{path}  user-defined link (type {k})");
            }
            Entry::Dangling(path, a) => {
                let _ = writeln!(out, "{path}  hard link to {a:#x} (no object there)");
            }
        }
        if let Entry::Object(_, o) = e {
            for a in o.attrs() {
                let _ = write!(
                    out,
                    "    @{}: {} {}",
                    a.name,
                    type_name(&a.datatype),
                    space_text(&a.space)
                );
                match attr_value(a, false) {
                    Some(v) => {
                        let _ = writeln!(out, " = {v}");
                    }
                    None => out.push('\n'),
                }
            }
        }
    }
    out
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// JSON dims: `null` for unlimited ones.
fn dims_json(d: &[u64]) -> String {
    let p: Vec<String> = d
        .iter()
        .map(|&x| {
            if x == UNLIMITED {
                "null".into()
            } else {
                x.to_string()
            }
        })
        .collect();
    format!("[{}]", p.join(", "))
}

/// The type as a JSON object: name, class, element size, and string details.
fn type_json(t: &Datatype) -> String {
    let class = match t {
        Datatype::Integer { .. } => "integer",
        Datatype::Float { .. } => "float",
        Datatype::FixedString { .. } | Datatype::VarLenString { .. } => "string",
        Datatype::VarLenSequence { .. } => "vlen",
        Datatype::Other { class, .. } => class_name(*class),
        _ => "unknown",
    };
    let mut o = format!(
        "\"type\": {}, \"class\": {}, \"element_size\": {}",
        json_str(&type_name(t)),
        json_str(class),
        t.size()
    );
    if let Some((cset, pad)) = string_details(t) {
        let _ = write!(
            o,
            ", \"charset\": {}, \"padding\": {}, \"variable_length\": {}",
            json_str(cset),
            json_str(pad),
            matches!(t, Datatype::VarLenString { .. })
        );
    }
    if let Datatype::Integer { signed, .. } = t {
        let _ = write!(o, ", \"signed\": {signed}");
    }
    if let Datatype::Integer { order, .. } | Datatype::Float { order, .. } = t {
        let o2 = if *order == ByteOrder::BigEndian {
            "big"
        } else {
            "little"
        };
        let _ = write!(o, ", \"byte_order\": {}", json_str(o2));
    }
    o
}

fn space_json(s: &Dataspace) -> String {
    match s.kind {
        SpaceKind::Null => "\"shape\": null, \"maxshape\": null, \"space\": \"null\"".into(),
        SpaceKind::Scalar => "\"shape\": [], \"maxshape\": [], \"space\": \"scalar\"".into(),
        _ => format!(
            "\"shape\": {}, \"maxshape\": {}, \"space\": \"simple\"",
            dims_json(&s.dims),
            dims_json(&s.max_dims)
        ),
    }
}

fn attrs_json(attrs: &[Attribute]) -> String {
    let items: Vec<String> = attrs
        .iter()
        .map(|a| {
            format!(
                "{{\"name\": {}, {}, {}, \"value\": {}}}",
                json_str(&a.name),
                type_json(&a.datatype),
                space_json(&a.space),
                attr_value(a, true).unwrap_or_else(|| "null".into())
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn to_json(path: &str, file: &read::File<'_>, entries: &[Entry<'_>]) -> String {
    let mut items = Vec::new();
    for e in entries {
        let s = match e {
            Entry::Object(p, Object::Group(g)) => format!(
                "{{\"path\": {}, \"kind\": \"group\", \"links\": {}, \"attributes\": {}}}",
                json_str(p),
                g.links.len(),
                attrs_json(&g.attrs)
            ),
            Entry::Object(p, Object::Dataset(d)) => {
                let filters: Vec<String> = d
                    .filters
                    .iter()
                    .map(|f| {
                        let (name, level) = filter_text(f.id, &f.cd);
                        let cd: Vec<String> = f.cd.iter().map(u32::to_string).collect();
                        let mut s = format!(
                            "{{\"id\": {}, \"name\": {}, \"optional\": {}, \"cd_values\": [{}]",
                            f.id,
                            json_str(&name),
                            f.optional,
                            cd.join(", ")
                        );
                        if let Some(l) = level {
                            let _ = write!(s, ", \"level\": {l}");
                        }
                        s.push('}');
                        s
                    })
                    .collect();
                let fill = d
                    .fill
                    .as_ref()
                    .and_then(|f| values(&d.datatype, f, None))
                    .map_or_else(|| "null".into(), |v| nest(&v, &[], true));
                format!(
                    "{{\"path\": {}, \"kind\": \"dataset\", {}, {}, \"layout\": {}, \"chunks\": {}, \"chunk_index\": {}, \"filters\": [{}], \"fill_value\": {}, \"attributes\": {}}}",
                    json_str(p),
                    space_json(&d.space),
                    type_json(&d.datatype),
                    json_str(d.layout.kind()),
                    d.chunk_dims().map_or_else(|| "null".into(), |c| dims_json(&c)),
                    d.layout
                        .chunk_index()
                        .map_or_else(|| "null".into(), |i| json_str(i.name())),
                    filters.join(", "),
                    fill,
                    attrs_json(&d.attrs)
                )
            }
            Entry::Object(p, _) => {
                format!("{{\"path\": {}, \"kind\": \"object\"}}", json_str(p))
            }
            Entry::SameAs(p, f) => format!(
                "{{\"path\": {}, \"kind\": \"hard_link\", \"target\": {}}}",
                json_str(p),
                json_str(f)
            ),
            Entry::Soft(p, t) => format!(
                "{{\"path\": {}, \"kind\": \"soft_link\", \"target\": {}}}",
                json_str(p),
                json_str(t)
            ),
            Entry::External(p, f, t) => format!(
                "{{\"path\": {}, \"kind\": \"external_link\", \"file\": {}, \"target\": {}}}",
                json_str(p),
                json_str(f),
                json_str(t)
            ),
            Entry::UserDefined(p, k) => format!(
                "{{\"path\": {}, \"kind\": \"user_defined_link\", \"link_type\": {k}}}",
                json_str(p)
            ),
            Entry::Dangling(p, a) => format!(
                "{{\"path\": {}, \"kind\": \"dangling_link\", \"address\": {a}}}",
                json_str(p)
            ),
        };
        items.push(s);
    }
    let sb = file.superblock();
    format!(
        "{{\"file\": {}, \"superblock_version\": {}, \"size\": {}, \"objects\": [\n  {}\n]}}\n",
        json_str(path),
        sb.version,
        file.file_len(),
        items.join(",\n  ")
    )
}
