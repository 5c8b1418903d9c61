//! `#[derive(H5Type)]`: a user struct appended 1,000,000 times alongside frames reads
//! back in h5py as the equal structured array; every form the derive accepts (tuple
//! structs, packed and aligned layouts, renamed fields, raw identifiers, generics,
//! nesting, enums of any integer repr) gives the numpy dtype a user would expect.

mod types_util;

use std::time::Instant;

use h5sink::{BigEndian, Datatype, FixedAscii, H5Type};
use types_util::{assert_contains, h5dump, h5py_check, tempdir};

#[derive(H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
enum State {
    Idle = 0,
    Exposing = 1,
    Readout = 5,
}

/// Per-frame metadata, as an acquisition program would record it.
#[derive(H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct FrameInfo {
    index: u64,
    timestamp: f64,
    exposure: f32,
    gain: u16,
    state: State,
    saturated: bool,
    roi: [u16; 4],
}

fn info(i: u64) -> FrameInfo {
    FrameInfo {
        index: i,
        timestamp: i as f64 * 0.001,
        exposure: (i % 100) as f32 * 0.5,
        gain: (i * 7) as u16,
        state: [State::Idle, State::Exposing, State::Readout][(i % 3) as usize],
        saturated: i % 7 == 0,
        roi: [(i % 640) as u16, (i % 480) as u16, 64, 48],
    }
}

const N: u64 = 1_000_000;

#[test]
fn a_million_appended_records_read_back_equal() {
    assert_eq!(std::mem::size_of::<FrameInfo>(), 32);
    let dir = tempdir();
    let path = dir.path().join("records.h5");
    let file = h5sink::File::create(&path).unwrap();
    file.create_group("/camera").unwrap();
    let records = file
        .dataset::<FrameInfo>("/camera/info")
        .frames([])
        .chunk_frames(8192)
        .create()
        .unwrap();
    let frames = file
        .dataset::<u16>("/camera/frames")
        .frames([4, 4])
        .chunk_frames(4096)
        .create()
        .unwrap();
    let start = Instant::now();
    let mut frame = [0u16; 16];
    for i in 0..N {
        records.append(&[info(i)]).unwrap();
        frame[0] = i as u16;
        frame[15] = (i >> 16) as u16;
        frames.append(&frame).unwrap();
        if i % 100_000 == 99_999 {
            file.flush().unwrap();
        }
    }
    let summary = file.finish().unwrap();
    eprintln!(
        "{N} records + {N} frames appended one at a time in {:.2?} ({} bytes)",
        start.elapsed(),
        summary.file_size
    );
    let t = Instant::now();
    h5py_check(
        &path,
        r#"
state = h5py.enum_dtype({'Idle': 0, 'Exposing': 1, 'Readout': 5}, basetype='u1')
t = np.dtype({'names': ['index', 'timestamp', 'exposure', 'gain', 'state', 'saturated', 'roi'],
              'formats': ['<u8', '<f8', '<f4', '<u2', state, '?', ('<u2', (4,))],
              'offsets': [0, 8, 16, 20, 22, 23, 24], 'itemsize': 32})
n = 1_000_000
i = np.arange(n, dtype=np.uint64)
want = np.zeros(n, dtype=t)
want['index'] = i
want['timestamp'] = i.astype('f8') * 0.001
want['exposure'] = (i % 100).astype('f4') * np.float32(0.5)
want['gain'] = (i * 7).astype('u2')
want['state'] = np.array([0, 1, 5], dtype='u1')[i % 3]
want['saturated'] = i % 7 == 0
want['roi'][:, 0] = i % 640
want['roi'][:, 1] = i % 480
want['roi'][:, 2] = 64
want['roi'][:, 3] = 48
d = f['/camera/info']
assert d.shape == (n,) and d.maxshape == (None,) and d.chunks == (8192,)
assert h5py.check_enum_dtype(d.dtype['state']) == {'Idle': 0, 'Exposing': 1, 'Readout': 5}
ds('/camera/info', want)
fr = f['/camera/frames']
assert fr.shape == (n, 4, 4)
got = fr[()]
assert np.array_equal(got[:, 0, 0], i.astype('u2'))
assert np.array_equal(got[:, 3, 3], (i >> 16).astype('u2'))
assert not got[:, 1:3, :].any()
"#,
    );
    eprintln!(
        "h5py read and compared both datasets in {:.2?}",
        t.elapsed()
    );
    let dump = h5dump(&["-d", "/camera/info", "-s", "999999", "-c", "1"], &path);
    assert_contains(
        &dump,
        &[
            "H5T_STD_U64LE \"index\";",
            "H5T_ENUM {",
            "\"Readout\"          5;",
            "H5T_ARRAY { [4] H5T_STD_U16LE } \"roi\";",
            "(999999): {",
            "999.999,",
            "49.5,",
            "53177,",
            "Idle,",
            "TRUE,",
            "[ 319, 159, 64, 48 ]",
        ],
    );
}

#[derive(H5Type, Clone, Copy)]
#[repr(C)]
struct Pair(i32, f32);

#[derive(H5Type, Clone, Copy)]
#[repr(C, packed)]
struct Packed {
    a: u8,
    b: u32,
    c: u16,
}

#[derive(H5Type, Clone, Copy)]
#[repr(C, align(16))]
struct Aligned {
    a: u8,
}

#[derive(H5Type, Clone, Copy)]
#[repr(C)]
struct Named {
    #[h5(name = "x-position")]
    x: f64,
    r#type: u8,
}

#[derive(H5Type, Clone, Copy)]
#[repr(C)]
struct Tagged<T: Copy> {
    tag: u8,
    value: T,
}

#[derive(H5Type, Clone, Copy, PartialEq, Debug)]
#[repr(i32)]
enum Signed {
    Low = -100_000,
    Zero = 0,
    #[h5(name = "HIGH")]
    High = 100_000,
}

#[derive(H5Type, Clone, Copy)]
#[repr(u64)]
enum Wide {
    Max = u64::MAX,
    One = 1,
}

#[derive(H5Type, Clone, Copy)]
#[repr(C)]
struct Nested {
    pair: Pair,
    tagged: [Tagged<i16>; 2],
    levels: [Signed; 3],
    wide: Wide,
    name: FixedAscii<3>,
    be: BigEndian<i64>,
}

#[test]
fn every_derive_form_reads_as_numpy_expects() {
    let dir = tempdir();
    let path = dir.path().join("forms.h5");
    let file = h5sink::File::create(&path).unwrap();
    file.dataset::<Pair>("/pair")
        .shape([2])
        .create_with_data(&[Pair(-1, 0.5), Pair(7, -2.0)])
        .unwrap();
    file.dataset::<Packed>("/packed")
        .shape([1])
        .create_with_data(&[Packed {
            a: 1,
            b: 0xdead_beef,
            c: 65535,
        }])
        .unwrap();
    file.dataset::<Aligned>("/aligned")
        .shape([2])
        .chunk([1])
        .create_with_data(&[Aligned { a: 3 }, Aligned { a: 4 }])
        .unwrap();
    file.root()
        .attr("named")
        .write_scalar(Named { x: 1.25, r#type: 9 })
        .unwrap();
    file.dataset::<Tagged<f64>>("/tagged")
        .frames([])
        .create()
        .unwrap()
        .append(&[Tagged { tag: 1, value: 2.5 }])
        .unwrap();
    file.dataset::<Signed>("/signed")
        .shape([3])
        .compact()
        .create_with_data(&[Signed::High, Signed::Low, Signed::Zero])
        .unwrap();
    let nested = Nested {
        pair: Pair(5, 6.0),
        tagged: [
            Tagged { tag: 1, value: -1 },
            Tagged {
                tag: 2,
                value: i16::MIN,
            },
        ],
        levels: [Signed::Low, Signed::High, Signed::Zero],
        wide: Wide::Max,
        name: FixedAscii::new("abc").unwrap(),
        be: BigEndian(-2),
    };
    let fill = Nested {
        wide: Wide::One,
        name: FixedAscii::new("zz").unwrap(),
        ..nested
    };
    file.dataset::<Nested>("/nested")
        .shape([3])
        .chunk([2])
        .fill_value(fill)
        .create()
        .unwrap()
        .write_region(&[1], &[1], &[nested])
        .unwrap();
    file.finish().unwrap();
    // the derived datatypes are valid and as large as the Rust types
    for (t, size) in [
        (Pair::datatype(), 8),
        (Packed::datatype(), 7),
        (Aligned::datatype(), 16),
        (Nested::datatype(), std::mem::size_of::<Nested>() as u32),
    ] {
        t.validate().unwrap();
        assert_eq!(t.size(), size);
    }
    assert!(
        matches!(Wide::datatype(), Datatype::Enum { size: 8, signed: false, ref members, .. } if members[0].value == u64::MAX as i128)
    );
    h5py_check(
        &path,
        r#"
pair = np.dtype({'names': ['f0', 'f1'], 'formats': ['<i4', '<f4'], 'offsets': [0, 4], 'itemsize': 8})
ds('/pair', np.array([(-1, 0.5), (7, -2.0)], dtype=pair))
packed = np.dtype([('a', 'u1'), ('b', '<u4'), ('c', '<u2')])
assert packed.itemsize == 7
ds('/packed', np.array([(1, 0xdeadbeef, 65535)], dtype=packed))
aligned = np.dtype({'names': ['a'], 'formats': ['u1'], 'offsets': [0], 'itemsize': 16})
ds('/aligned', np.array([(3,), (4,)], dtype=aligned))
named = np.dtype({'names': ['x-position', 'type'], 'formats': ['<f8', 'u1'], 'offsets': [0, 8], 'itemsize': 16})
at('/', 'named', np.array((1.25, 9), dtype=named))
ds('/tagged', np.array([(1, 2.5)], dtype=np.dtype([('tag', 'u1'), ('value', '<f8')], align=True)))
ds('/signed', np.array([100000, -100000, 0], dtype='<i4'))
assert h5py.check_enum_dtype(f['/signed'].dtype) == {'Low': -100000, 'Zero': 0, 'HIGH': 100000}
tagged16 = np.dtype([('tag', 'u1'), ('value', '<i2')], align=True)
signed = h5py.enum_dtype({'Low': -100000, 'Zero': 0, 'HIGH': 100000}, basetype='<i4')
wide = h5py.enum_dtype({'Max': 2**64 - 1, 'One': 1}, basetype='<u8')
nested = np.dtype([('pair', pair), ('tagged', tagged16, (2,)), ('levels', signed, (3,)),
                   ('wide', wide), ('name', 'S3'), ('be', '>i8')], align=True)
assert f['/nested'].dtype == nested, (f['/nested'].dtype, nested)
v = ((5, 6.0), [(1, -1), (2, -32768)], [-100000, 100000, 0], 2**64 - 1, b'abc', -2)
fill = ((5, 6.0), [(1, -1), (2, -32768)], [-100000, 100000, 0], 1, b'zz', -2)
ds('/nested', np.array([fill, v, fill], dtype=nested))
"#,
    );
    let dump = h5dump(&[], &path);
    assert_contains(
        &dump,
        &[
            "H5T_STD_I32LE \"f0\";",
            "\"x-position\"",
            "\"HIGH\"             100000;",
            "H5T_STD_I64BE \"be\";",
            "(0): HIGH, Low, Zero",
        ],
    );
}
