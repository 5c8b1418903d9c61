//! `h5sink demo` writes one object of every element type; h5py and h5dump (libhdf5
//! 1.10, the C library) read the same values, each compared exactly.

mod types_util;

use std::process::Command;

use types_util::{h5dump, h5py_check, tempdir};

/// The DATA section h5dump prints for one dataset (or attributes of an object with
/// `-a`), with all whitespace removed.
fn dump_data(file: &std::path::Path, args: &[&str]) -> String {
    let out = h5dump(args, file);
    let data = out
        .split_once("DATA {")
        .map(|(_, d)| d)
        .unwrap_or_else(|| panic!("no DATA in h5dump {args:?}:\n{out}"));
    data.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn demo_objects_of_every_type_read_the_same_in_h5py_and_h5dump() {
    let dir = tempdir();
    let path = dir.path().join("demo.h5");
    let out = Command::new(env!("CARGO_BIN_EXE_h5sink"))
        .arg("demo")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    for line in [
        "/camera/frame_info: compound (10,)",
        "/types/bool:",
        "/types/enum:",
        "/types/complex64:",
        "/types/float16:",
        "/types/uint32_be:",
        "/types/array:",
        "/types/fixed_ascii:",
        "/types/strings:",
        "/types/sparse_records:",
        "/types @state",
    ] {
        assert!(
            summary.contains(line),
            "no {line:?} in the summary:\n{summary}"
        );
    }
    h5py_check(
        &path,
        r#"
state = h5py.enum_dtype({'Idle': 0, 'Exposing': 1, 'Readout': 2}, basetype='u1')
info = np.dtype({'names': ['timestamp', 'exposure', 'gain', 'state', 'saturated', 'roi', 'label'],
                 'formats': ['<f8', '<f4', '<u2', state, '?', ('<u2', (4,)), 'S8'],
                 'offsets': [0, 8, 12, 14, 15, 16, 24], 'itemsize': 32})
rec = lambda i: (0.01 * i, 0.004, 100 + i, i % 3, i == 7, [0, 0, 64, 48], f'frame{i}'.encode())
ds('/camera/frame_info', np.array([rec(i) for i in range(10)], dtype=info))
assert h5py.check_enum_dtype(f['/camera/frame_info'].dtype['state']) == {'Idle': 0, 'Exposing': 1, 'Readout': 2}
ds('/types/bool', np.array([True, False, False, True]))
ds('/types/enum', np.array([[2, 0], [1, 2]], dtype='u1'))
assert h5py.check_enum_dtype(f['/types/enum'].dtype) == {'Idle': 0, 'Exposing': 1, 'Readout': 2}
ds('/types/complex64', np.array([1 - 1j, 0.5 + 2j], dtype='<c8'))
ds('/types/complex128', np.complex128(3 + 4j))
ds('/types/float16', np.array([1, -2, 0.5], dtype='<f2'))
ds('/types/uint32_be', np.array([1, 256, 65536], dtype='>u4'))
ds('/types/float64_be', np.array([0.5, -1e10], dtype='>f8'))
ds('/types/array', np.array([[[i, i + 1, i + 2], [-i, -i - 1, -i - 2]] for i in range(3)], dtype='<i2'))
assert f['/types/array'].dtype == np.dtype(('<i2', (2, 3)))
ds('/types/fixed_ascii', np.array([b'hello', b'hi'], dtype='S5'))
ds('/types/fixed_utf8', np.array(['héllo'.encode(), 'ü'.encode()], dtype='S6'))
ds('/types/fixed_ascii_nullterm', np.array([b'abc'], dtype='S4'))
ds('/types/fixed_utf8_nullterm', np.array(['ø'.encode()], dtype='S4'))
assert list(f['/types/strings'].asstr()[()]) == ['variable', '', 'länge']
assert list(f['/types/log'].asstr()[()]) == ['started', 'frame 1 saved', 'stopped']
unset = (-1.0, 0.0, 0, 0, False, [0, 0, 0, 0], b'unset')
ds('/types/sparse_records', np.array([unset, (2.5, 0.1, 7, 2, True, [1, 2, 3, 4], b'written'), unset, unset], dtype=info))
same(f['/types/sparse_records'].fillvalue, np.array(unset, dtype=info), 'fillvalue')
at('/types', 'state', np.uint8(1))
at('/types', 'valid', np.bool_(True))
at('/types', 'impedance', np.array([50 + 0.5j]))
at('/types', 'first_record', np.array(rec(0), dtype=info))
"#,
    );
    let cases: [(&str, &str); 15] = [
        ("/types/bool", "(0):TRUE,FALSE,FALSE,TRUE}"),
        ("/types/enum", "(0,0):Readout,Idle,(1,0):Exposing,Readout}"),
        ("/types/complex64", "(0):{1,-1},{0.5,2}}"),
        ("/types/complex128", "(0):{3,4}}"),
        ("/types/float16", "(0):1,-2,0.5}"),
        ("/types/uint32_be", "(0):1,256,65536}"),
        ("/types/float64_be", "(0):0.5,-1e+10}"),
        (
            "/types/array",
            "(0):[0,1,2,0,-1,-2],[1,2,3,-1,-2,-3],(2):[2,3,4,-2,-3,-4]}",
        ),
        (
            "/types/fixed_ascii",
            "(0):\"hello\",\"hi\\000\\000\\000\"}",
        ),
        (
            "/types/fixed_ascii_nullterm",
            "(0):\"abc\"}",
        ),
        (
            "/types/strings",
            "(0):\"variable\",\"\",\"l\\37777777703\\37777777644nge\"}",
        ),
        (
            "/types/log",
            "(0):\"started\",\"frame1saved\",\"stopped\"}",
        ),
        (
            "/types/sparse_records",
            "(0):{-1,0,0,Idle,FALSE,[0,0,0,0],\"unset\\000\\000\\000\"},(1):{2.5,0.1,7,Readout,TRUE,[1,2,3,4],\"written\\000\"},",
        ),
        (
            "/camera/frame_info",
            "(7):{0.07,0.004,107,Exposing,TRUE,[0,0,64,48],\"frame7\\000\\000\"},",
        ),
        (
            "/types/fixed_utf8",
            "(0):\"h\\37777777703\\37777777651llo\",(1):\"\\37777777703\\37777777674\\000\\000\\000\\000\"}",
        ),
    ];
    for (ds, want) in cases {
        let got = dump_data(&path, &["-d", ds]);
        assert!(
            got.contains(want),
            "h5dump -d {ds}: expected {want}\n in {got}"
        );
    }
    let attrs: String = h5dump(&["-g", "/types"], &path)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for want in [
        "ATTRIBUTE\"state\"{DATATYPEH5T_ENUM{H5T_STD_U8LE;\"Idle\"0;\"Exposing\"1;\"Readout\"2;}DATASPACESCALARDATA{(0):Exposing}}",
        "ATTRIBUTE\"valid\"",
        "DATA{(0):TRUE}",
        "DATA{(0):{50,0.5}}",
        "DATA{(0):{0,0.004,100,Idle,FALSE,[0,0,64,48],\"frame0\\000\\000\"}}",
    ] {
        assert!(attrs.contains(want), "h5dump -g /types: expected {want}\n in {attrs}");
    }
}
