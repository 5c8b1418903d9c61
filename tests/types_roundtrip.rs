//! Every element type beyond plain numbers, in attributes and in every dataset layout
//! (contiguous, compact, chunked, extendable, with fill values), read back by h5py and
//! compared exactly with independently built numpy arrays, and printed by h5dump.

mod types_util;

use h5sink::{
    BigEndian, ByteOrder, CharSet, Complex, CompoundField, Datatype, EnumMember, FixedAscii,
    FixedAsciiNullTerm, FixedUtf8, FixedUtf8NullTerm, H5Type, LittleEndian, StringPad, VarLenAscii,
    VarLenUnicode,
};
use types_util::{assert_contains, h5dump, h5py_check, tempdir};

#[derive(H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
enum Color {
    Red = 0,
    Green = 1,
    Blue = 42,
}

#[derive(H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(i64)]
enum Big {
    Neg = -5,
    Huge = 1 << 40,
}

#[derive(H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Point {
    x: f32,
    y: u8,
}

/// A record with every kind of field; `#[repr(C)]` offsets computed by hand in
/// `RECORD_DTYPE`.
#[derive(H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Record {
    t: f64,
    exposure: f32,
    flags: u8,
    ok: bool,
    color: Color,
    pos: [i16; 3],
    grid: [[u8; 3]; 2],
    pt: Point,
    pts: [Point; 2],
    label: FixedAscii<6>,
    name: FixedUtf8<8>,
    z: Complex<f64>,
    be: BigEndian<u32>,
}

/// numpy's description of `Record`, written independently of the derive.
const RECORD_DTYPE: &str = r#"
point = np.dtype({'names': ['x', 'y'], 'formats': ['<f4', 'u1'], 'offsets': [0, 4], 'itemsize': 8})
color = h5py.enum_dtype({'Red': 0, 'Green': 1, 'Blue': 42}, basetype='u1')
record = np.dtype({
    'names': ['t', 'exposure', 'flags', 'ok', 'color', 'pos', 'grid', 'pt', 'pts', 'label', 'name', 'z', 'be'],
    'formats': ['<f8', '<f4', 'u1', '?', color, ('<i2', (3,)), ('u1', (2, 3)), point, (point, (2,)), 'S6', 'S8', '<c16', '>u4'],
    'offsets': [0, 8, 12, 13, 14, 16, 22, 28, 36, 52, 58, 72, 88],
    'itemsize': 96})
def record_value(i):
    return (i * 1.5, -(i / 4), i * 37 % 256, i % 2 == 0, [0, 1, 42][i % 3], [i, -i, (1000 * i + 2**15) % 2**16 - 2**15],
            [[i, i + 1, i + 2], [i + 3, i + 4, i + 5]], (i * 0.25, i), [(1.0 * i, 1), (2.0 * i, 2)],
            f'L{i}'.encode(), f'é{i}'.encode(), complex(i, -float(i)), 0x01020304 + i)
def records(idx):
    return np.array([record_value(i) for i in idx], dtype=record)
"#;

fn record(i: u32) -> Record {
    let f = i as f32;
    Record {
        t: i as f64 * 1.5,
        exposure: -f / 4.0,
        flags: (i * 37 % 256) as u8,
        ok: i % 2 == 0,
        color: [Color::Red, Color::Green, Color::Blue][i as usize % 3],
        pos: [i as i16, -(i as i16), (1000 * i) as i16],
        grid: [
            [i as u8, i as u8 + 1, i as u8 + 2],
            [i as u8 + 3, i as u8 + 4, i as u8 + 5],
        ],
        pt: Point {
            x: f * 0.25,
            y: i as u8,
        },
        pts: [Point { x: f, y: 1 }, Point { x: 2.0 * f, y: 2 }],
        label: FixedAscii::new(&format!("L{i}")).unwrap(),
        name: FixedUtf8::new(&format!("é{i}")).unwrap(),
        z: Complex::new(i as f64, -(i as f64)),
        be: BigEndian(0x0102_0304 + i),
    }
}

#[test]
fn record_layout_is_the_hand_computed_one() {
    assert_eq!(std::mem::size_of::<Record>(), 96);
    assert_eq!(std::mem::offset_of!(Record, z), 72);
    assert_eq!(std::mem::offset_of!(Record, be), 88);
    let Datatype::Compound { size, fields } = Record::datatype() else {
        panic!("a compound")
    };
    assert_eq!(size, 96);
    let offsets: Vec<u32> = fields.iter().map(|f| f.offset).collect();
    assert_eq!(offsets, [0, 8, 12, 13, 14, 16, 22, 28, 36, 52, 58, 72, 88]);
}

/// A derived compound in attributes and in all four dataset layouts, with a fill value.
#[test]
fn compound_records_everywhere() {
    let dir = tempdir();
    let path = dir.path().join("records.h5");
    let file = h5sink::File::create(&path).unwrap();
    let recs: Vec<Record> = (0..6).map(record).collect();
    let root = file.root();
    root.attr("one").write_scalar(record(3)).unwrap();
    root.attr("many").write(&recs).unwrap();
    root.attr("grid").write_array(&[2, 3], &recs).unwrap();
    file.dataset::<Record>("/contiguous")
        .shape([6])
        .create_with_data(&recs)
        .unwrap();
    file.dataset::<Record>("/compact")
        .shape([2, 3])
        .compact()
        .create_with_data(&recs)
        .unwrap();
    let fill = record(99);
    let chunked = file
        .dataset::<Record>("/chunked")
        .shape([10])
        .chunk([4])
        .fill_value(fill)
        .create()
        .unwrap();
    chunked.write_region(&[2], &[3], &recs[..3]).unwrap();
    let app = file
        .dataset::<Record>("/appended")
        .frames([])
        .chunk_frames(4)
        .create()
        .unwrap();
    for r in &recs {
        app.append(std::slice::from_ref(r)).unwrap();
        if r.flags % 2 == 0 {
            file.flush().unwrap();
        }
    }
    app.append(&recs).unwrap();
    let frames = file
        .dataset::<Record>("/frames2d")
        .frames([2])
        .chunk_frames(3)
        .fill_value(fill)
        .create()
        .unwrap();
    frames.append(&recs).unwrap();
    frames.resize([5, 2]).unwrap();
    file.finish().unwrap();

    h5py_check(
        &path,
        &format!(
            r#"{RECORD_DTYPE}
at('/', 'one', records([3])[0])
at('/', 'many', records(range(6)))
at('/', 'grid', records(range(6)).reshape(2, 3))
ds('/contiguous', records(range(6)))
ds('/compact', records(range(6)).reshape(2, 3))
want = records([99] * 10)
want[2:5] = records(range(3))
ds('/chunked', want)
same(f['/chunked'].fillvalue, records([99])[0], 'fillvalue')
ds('/appended', records(list(range(6)) * 2))
want = records([99] * 10).reshape(5, 2)
want[:3] = records(range(6)).reshape(3, 2)
ds('/frames2d', want)
assert f['/compact'].id.get_create_plist().get_layout() == h5py.h5d.COMPACT
assert f['/appended'].maxshape == (None,) and f['/appended'].chunks == (4,)
assert h5py.check_enum_dtype(f['/contiguous'].dtype['color']) == {{'Red': 0, 'Green': 1, 'Blue': 42}}
"#
        ),
    );
    let dump = h5dump(&[], &path);
    assert_contains(
        &dump,
        &[
            "H5T_COMPOUND {",
            "H5T_IEEE_F64LE \"t\";",
            "H5T_ENUM {",
            "\"Blue\"             42;",
            "H5T_ARRAY { [3] H5T_STD_I16LE } \"pos\";",
            "H5T_ARRAY { [2][3] H5T_STD_U8LE } \"grid\";",
            "H5T_STD_U32BE \"be\";",
            "\"r\";",
            "STRSIZE 6;",
            "CSET H5T_CSET_UTF8;",
            "\"L3\\000\\000\\000\\000\"",
        ],
    );
}

/// Simple element types in datasets and attributes: bool, enums, complex, f16,
/// big- and little-endian numbers, arrays, fixed-length strings of each kind.
#[test]
fn simple_types_everywhere() {
    let dir = tempdir();
    let path = dir.path().join("simple.h5");
    let file = h5sink::File::create(&path).unwrap();
    let root = file.root();

    let bools = [true, false, false, true, true];
    file.dataset::<bool>("/bool")
        .shape([5])
        .create_with_data(&bools)
        .unwrap();
    let b = file
        .dataset::<bool>("/bool_appended")
        .frames([])
        .fill_value(true)
        .create()
        .unwrap();
    b.append(&bools).unwrap();
    root.attr("flag").write_scalar(true).unwrap();
    root.attr("flags").write(&bools).unwrap();

    let colors = [Color::Blue, Color::Red, Color::Green, Color::Blue];
    file.dataset::<Color>("/color")
        .shape([2, 2])
        .chunk([1, 2])
        .create_with_data(&colors)
        .unwrap();
    file.dataset::<Color>("/color_fill")
        .shape([3])
        .chunk([3])
        .fill_value(Color::Blue)
        .create()
        .unwrap();
    file.dataset::<Big>("/big")
        .shape([2])
        .compact()
        .create_with_data(&[Big::Huge, Big::Neg])
        .unwrap();
    root.attr("color").write_scalar(Color::Green).unwrap();

    let c8 = [
        Complex::new(1.5f32, -2.0),
        Complex::new(f32::NAN, f32::INFINITY),
    ];
    let c16 = [Complex::new(1e300f64, -0.0), Complex::new(3.0, 4.0)];
    file.dataset::<Complex<f32>>("/c8")
        .shape([2])
        .create_with_data(&c8)
        .unwrap();
    file.dataset::<Complex<f64>>("/c16")
        .frames([])
        .create()
        .unwrap()
        .append(&c16)
        .unwrap();
    root.attr("c16").write(&c16).unwrap();

    let halfs = [
        half::f16::from_f32(1.0),
        half::f16::from_f32(-0.5),
        half::f16::MAX,
        half::f16::NAN,
    ];
    file.dataset::<half::f16>("/f16")
        .shape([4])
        .chunk([2])
        .fill_value(half::f16::from_f32(7.0))
        .create_with_data(&halfs)
        .unwrap();
    root.attr("f16").write(&halfs).unwrap();

    macro_rules! endian {
        ($($t:ty => $name:literal),*) => {$(
            let v: Vec<$t> = (1..=4).map(|i| (i as $t) * (3 as $t)).collect();
            let be: Vec<BigEndian<$t>> = v.iter().map(|&x| BigEndian(x)).collect();
            let le: Vec<LittleEndian<$t>> = v.iter().map(|&x| LittleEndian(x)).collect();
            file.dataset::<BigEndian<$t>>(concat!("/be/", $name)).shape([4]).chunk([3])
                .fill_value(BigEndian(9 as $t)).create().unwrap().write_region(&[0], &[4], &be).unwrap();
            file.dataset::<LittleEndian<$t>>(concat!("/le/", $name)).shape([4]).create_with_data(&le).unwrap();
            file.group("/be").unwrap().attr($name).write(&be).unwrap();
        )*};
    }
    file.create_group("/be").unwrap();
    file.create_group("/le").unwrap();
    endian!(u8 => "u1", u16 => "u2", u32 => "u4", u64 => "u8", i8 => "i1", i16 => "i2",
            i32 => "i4", i64 => "i8", f32 => "f4", f64 => "f8");
    file.dataset::<BigEndian<half::f16>>("/be/f2")
        .shape([1])
        .create_with_data(&[BigEndian(half::f16::from_f32(2.0))])
        .unwrap();

    let arrays: Vec<[[i16; 3]; 2]> = (0..4)
        .map(|i| [[i, i + 1, i + 2], [-i, -i - 1, -i - 2]])
        .collect();
    file.dataset::<[[i16; 3]; 2]>("/array")
        .shape([4])
        .chunk([2])
        .create_with_data(&arrays)
        .unwrap();
    root.attr("array").write_scalar(arrays[1]).unwrap();
    let points = [[Point { x: 1.0, y: 2 }, Point { x: -1.0, y: 3 }]];
    file.dataset::<[Point; 2]>("/array_of_compound")
        .shape([1])
        .create_with_data(&points)
        .unwrap();

    file.create_group("/str").unwrap();
    let fa = [
        FixedAscii::<5>::new("hello").unwrap(),
        FixedAscii::new("").unwrap(),
    ];
    let fu = [
        FixedUtf8::<6>::new("héllo").unwrap(),
        FixedUtf8::new("ü").unwrap(),
    ];
    let fz = [
        FixedAsciiNullTerm::<4>::new("abc").unwrap(),
        FixedAsciiNullTerm::new("x").unwrap(),
    ];
    let fzu = [
        FixedUtf8NullTerm::<4>::new("é").unwrap(),
        FixedUtf8NullTerm::new("").unwrap(),
    ];
    file.dataset::<FixedAscii<5>>("/str/ascii")
        .shape([2])
        .create_with_data(&fa)
        .unwrap();
    file.dataset::<FixedUtf8<6>>("/str/utf8")
        .shape([2])
        .compact()
        .create_with_data(&fu)
        .unwrap();
    file.dataset::<FixedAsciiNullTerm<4>>("/str/ascii_nullterm")
        .frames([])
        .fill_value(FixedAsciiNullTerm::new("-").unwrap())
        .create()
        .unwrap()
        .append(&fz)
        .unwrap();
    file.dataset::<FixedUtf8NullTerm<4>>("/str/utf8_nullterm")
        .shape([3])
        .chunk([2])
        .fill_value(FixedUtf8NullTerm::new("ø").unwrap())
        .create()
        .unwrap()
        .write_region(&[0], &[2], &fzu)
        .unwrap();
    root.attr("fixed_utf8").write_scalar(fu[0]).unwrap();
    root.attr("fixed_nullterm").write(&fz).unwrap();
    file.finish().unwrap();

    h5py_check(
        &path,
        r#"
ds('/bool', np.array([True, False, False, True, True]))
ds('/bool_appended', np.array([True, False, False, True, True]))
assert f['/bool_appended'].fillvalue == True
at('/', 'flag', np.bool_(True))
at('/', 'flags', np.array([True, False, False, True, True]))
color = h5py.enum_dtype({'Red': 0, 'Green': 1, 'Blue': 42}, basetype='u1')
ds('/color', np.array([[42, 0], [1, 42]], dtype='u1'))
assert h5py.check_enum_dtype(f['/color'].dtype) == {'Red': 0, 'Green': 1, 'Blue': 42}
ds('/color_fill', np.array([42, 42, 42], dtype='u1'))
ds('/big', np.array([2**40, -5], dtype='<i8'))
assert h5py.check_enum_dtype(f['/big'].dtype) == {'Neg': -5, 'Huge': 2**40}
at('/', 'color', np.uint8(1))
ds('/c8', np.array([1.5 - 2j, complex(np.nan, np.inf)], dtype='<c8'))
ds('/c16', np.array([complex(1e300, -0.0), 3 + 4j], dtype='<c16'))
assert np.signbit(f['/c16'][0].imag)
at('/', 'c16', np.array([complex(1e300, -0.0), 3 + 4j], dtype='<c16'))
h = np.array([1.0, -0.5, 65504.0, np.nan], dtype='<f2')
ds('/f16', h)
assert f['/f16'].fillvalue == 7.0
at('/', 'f16', h)
for name in ['u1', 'u2', 'u4', 'u8', 'i1', 'i2', 'i4', 'i8', 'f4', 'f8']:
    v = np.array([3, 6, 9, 12], dtype='<' + name)
    ds('/be/' + name, v.astype('>' + name))
    ds('/le/' + name, v)
    at('/be', name, v.astype('>' + name))
    assert f['/be/' + name].fillvalue == 9
ds('/be/f2', np.array([2.0], dtype='>f2'))
arr = np.array([[[i, i + 1, i + 2], [-i, -i - 1, -i - 2]] for i in range(4)], dtype='<i2')
assert f['/array'].dtype == np.dtype(('<i2', (2, 3))), f['/array'].dtype
ds('/array', arr)
at('/', 'array', arr[1])
point = np.dtype({'names': ['x', 'y'], 'formats': ['<f4', 'u1'], 'offsets': [0, 4], 'itemsize': 8})
assert f['/array_of_compound'].dtype == np.dtype((point, (2,)))
ds('/array_of_compound', np.array([[(1.0, 2), (-1.0, 3)]], dtype=point))
ds('/str/ascii', np.array([b'hello', b''], dtype='S5'))
ds('/str/utf8', np.array(['héllo'.encode(), 'ü'.encode()], dtype='S6'))
assert h5py.check_string_dtype(f['/str/utf8'].dtype).encoding == 'utf-8'
assert h5py.check_string_dtype(f['/str/ascii'].dtype).encoding == 'ascii'
assert [s for s in f['/str/utf8'].asstr()[()]] == ['héllo', 'ü']
ds('/str/ascii_nullterm', np.array([b'abc', b'x'], dtype='S4'))
ds('/str/utf8_nullterm', np.array(['é'.encode(), b'', 'ø'.encode()], dtype='S4'))
at('/', 'fixed_utf8', np.bytes_('héllo'.encode()))
at('/', 'fixed_nullterm', np.array([b'abc', b'x'], dtype='S4'))
pad = lambda p: f[p].id.get_type().get_strpad()
assert pad('/str/ascii') == h5py.h5t.STR_NULLPAD and pad('/str/ascii_nullterm') == h5py.h5t.STR_NULLTERM
assert pad('/str/utf8_nullterm') == h5py.h5t.STR_NULLTERM
"#,
    );
    let dump = h5dump(&[], &path);
    assert_contains(
        &dump,
        &[
            "H5T_ENUM {\n         H5T_STD_I8LE;\n         \"FALSE\"            0;\n         \"TRUE\"             1;",
            "(0): TRUE, FALSE, FALSE, TRUE, TRUE",
            "(0,0): Blue, Red,",
            "H5T_STD_I64LE;",
            "\"Huge\"             1099511627776;",
            "H5T_STD_U64BE",
            "H5T_IEEE_F32BE",
            "H5T_STD_I16LE",
            "H5T_ARRAY { [2][3] H5T_STD_I16LE }",
            "STRPAD H5T_STR_NULLTERM;",
            "(0): \"hello\", \"\\000\\000\\000\\000\\000\"",
        ],
    );
}

/// Types built at run time: the raw-bytes dataset and attribute paths, with types
/// that no Rust type here describes (space-padded strings, big-endian compounds).
#[test]
fn run_time_types() {
    let dir = tempdir();
    let path = dir.path().join("raw.h5");
    let file = h5sink::File::create(&path).unwrap();
    let int = |size, signed| Datatype::Integer {
        size,
        signed,
        order: ByteOrder::BigEndian,
    };
    let mode = Datatype::enumeration(
        int(2, true),
        vec![EnumMember::new("OFF", -1), EnumMember::new("ON", 300)],
    )
    .unwrap();
    let t = Datatype::compound(
        16,
        vec![
            CompoundField::new("mode", 0, mode),
            CompoundField::new("count", 4, int(4, false)),
            CompoundField::new(
                "tag",
                8,
                Datatype::FixedString {
                    size: 5,
                    pad: StringPad::SpacePad,
                    cset: CharSet::Ascii,
                },
            ),
        ],
    )
    .unwrap();
    let mut bytes = Vec::new();
    for (m, c, tag) in [(-1i16, 7u32, b"ab   "), (300, 1 << 30, b"xyz  ")] {
        let mut e = [0u8; 16];
        e[..2].copy_from_slice(&m.to_be_bytes());
        e[4..8].copy_from_slice(&c.to_be_bytes());
        e[8..13].copy_from_slice(tag);
        bytes.extend_from_slice(&e);
    }
    file.dataset::<u8>("/raw")
        .datatype(t.clone())
        .shape([2])
        .create_with_data(&bytes)
        .unwrap();
    file.dataset::<u8>("/raw_fill")
        .datatype(t.clone())
        .shape([3])
        .chunk([2])
        .fill_value_bytes(&bytes[16..])
        .create()
        .unwrap()
        .write_region(&[0], &[1], &bytes[..16])
        .unwrap();
    file.root().attr("raw").write_raw(&t, &[2], &bytes).unwrap();
    file.root()
        .attr("raw_scalar")
        .write_raw(&t, &[], &bytes[..16])
        .unwrap();
    let vlen = file
        .dataset::<VarLenAscii>("/vlen_ascii")
        .shape([2])
        .create()
        .unwrap();
    vlen.write_strs(&["plain", ""]).unwrap();
    let vu = file
        .dataset::<VarLenUnicode>("/vlen_2d")
        .shape([2, 2])
        .chunk([1, 2])
        .create()
        .unwrap();
    vu.write_region_strs(&[1, 0], &[1, 2], &["ça", "va"])
        .unwrap();
    file.finish().unwrap();
    h5py_check(
        &path,
        r#"
mode = h5py.enum_dtype({'OFF': -1, 'ON': 300}, basetype='>i2')
t = np.dtype({'names': ['mode', 'count', 'tag'], 'formats': [mode, '>u4', 'S5'], 'offsets': [0, 4, 8], 'itemsize': 16})
want = np.array([(-1, 7, b'ab'), (300, 1 << 30, b'xyz')], dtype=t)
ds('/raw', want)
ds('/raw_fill', np.array([want[0], want[1], want[1]], dtype=t))
at('/', 'raw', want)
at('/', 'raw_scalar', want[0])
assert f['/raw'].id.get_type().get_member_type(2).get_strpad() == h5py.h5t.STR_SPACEPAD
assert list(f['/vlen_ascii'][()]) == [b'plain', b'']
info = h5py.check_string_dtype(f['/vlen_ascii'].dtype)
assert info.encoding == 'ascii' and info.length is None, info
assert [list(r) for r in f['/vlen_2d'].asstr()[()]] == [['', ''], ['ça', 'va']]
"#,
    );
    let dump = h5dump(&[], &path);
    assert_contains(
        &dump,
        &[
            "H5T_STD_I16BE;",
            "\"ON\"               300;",
            "STRPAD H5T_STR_SPACEPAD;",
            "(0,0): NULL, NULL,",
            "\"va\"",
        ],
    );
}
