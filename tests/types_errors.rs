//! Bad types and bad values are refused with a typed `h5sink::Error::Type`, never
//! stored in an altered form; the file stays valid and holds what was accepted.

mod types_util;

use h5sink::{
    ByteOrder, CharSet, CompoundField, Datatype, EnumMember, Error, FixedAscii, FixedAsciiNullTerm,
    FixedUtf8, H5Type, StringPad, TypeError, VarLenAscii, VarLenUnicode,
};
use types_util::{h5dump, h5py_check, tempdir};

fn i32le() -> Datatype {
    Datatype::Integer {
        size: 4,
        signed: true,
        order: ByteOrder::LittleEndian,
    }
}

fn u8t() -> Datatype {
    Datatype::Integer {
        size: 1,
        signed: false,
        order: ByteOrder::LittleEndian,
    }
}

/// The `TypeError` inside an `Error::Type`, or a panic naming what came instead.
fn type_err<T: std::fmt::Debug>(r: h5sink::Result<T>) -> TypeError {
    match r {
        Err(Error::Type { source, .. }) => source,
        other => panic!("expected Error::Type, got {other:?}"),
    }
}

/// Declares a datatype whose size does not match the Rust type.
#[derive(Clone, Copy)]
struct Liar(u32);

impl H5Type for Liar {
    fn datatype() -> Datatype {
        u8t()
    }
    fn store(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.0.to_ne_bytes());
    }
}

/// Declares an enumeration but stores any byte.
#[derive(Clone, Copy)]
struct RawLevel(u8);

impl H5Type for RawLevel {
    fn datatype() -> Datatype {
        Datatype::enumeration(
            u8t(),
            vec![EnumMember::new("LOW", 0), EnumMember::new("HIGH", 10)],
        )
        .unwrap()
    }
    fn store(&self, out: &mut [u8]) {
        out[0] = self.0;
    }
}

#[test]
fn bad_types_are_refused() {
    let dir = tempdir();
    let path = dir.path().join("bad_types.h5");
    let file = h5sink::File::create(&path).unwrap();
    let f = |name: &str, off, t| CompoundField::new(name, off, t);
    type Case = (&'static str, Datatype, fn(&TypeError) -> bool);
    let cases: Vec<Case> = vec![
        (
            "duplicate field names",
            Datatype::Compound {
                size: 8,
                fields: vec![f("a", 0, i32le()), f("a", 4, i32le())],
            },
            |e| matches!(e, TypeError::DuplicateName { name, .. } if name == "a"),
        ),
        (
            "empty field name",
            Datatype::Compound {
                size: 4,
                fields: vec![f("", 0, i32le())],
            },
            |e| matches!(e, TypeError::EmptyName { .. }),
        ),
        (
            "overlapping fields",
            Datatype::Compound {
                size: 8,
                fields: vec![f("a", 0, i32le()), f("b", 2, i32le())],
            },
            |e| {
                matches!(e, TypeError::OverlappingFields { first, second, first_end: 4, second_start: 2, .. }
                if first == "a" && second == "b")
            },
        ),
        (
            "field past the end",
            Datatype::Compound {
                size: 6,
                fields: vec![f("a", 4, i32le())],
            },
            |e| {
                matches!(
                    e,
                    TypeError::FieldOutOfBounds {
                        end: 8,
                        size: 6,
                        ..
                    }
                )
            },
        ),
        (
            "nested duplicate",
            Datatype::Compound {
                size: 8,
                fields: vec![f(
                    "inner",
                    0,
                    Datatype::Compound {
                        size: 8,
                        fields: vec![f("x", 0, i32le()), f("x", 4, i32le())],
                    },
                )],
            },
            |e| matches!(e, TypeError::DuplicateName { .. }),
        ),
        (
            "no fields",
            Datatype::Compound {
                size: 4,
                fields: vec![],
            },
            |e| matches!(e, TypeError::Empty { .. }),
        ),
        (
            "enum value out of range",
            Datatype::Enum {
                size: 1,
                signed: false,
                order: ByteOrder::LittleEndian,
                members: vec![EnumMember::new("A", 300)],
            },
            |e| matches!(e, TypeError::EnumValueOutOfRange { value: 300, .. }),
        ),
        (
            "duplicate enum value",
            Datatype::Enum {
                size: 1,
                signed: false,
                order: ByteOrder::LittleEndian,
                members: vec![EnumMember::new("A", 1), EnumMember::new("B", 1)],
            },
            |e| matches!(e, TypeError::DuplicateValue { .. }),
        ),
        (
            "zero array dim",
            Datatype::Array {
                dims: vec![3, 0],
                base: Box::new(i32le()),
            },
            |e| matches!(e, TypeError::InvalidArrayDims { .. }),
        ),
        (
            "variable-length string in a compound",
            Datatype::Compound {
                size: 16,
                fields: vec![f(
                    "s",
                    0,
                    Datatype::VarLenString {
                        cset: CharSet::Utf8,
                    },
                )],
            },
            |e| matches!(e, TypeError::Unsupported(_)),
        ),
        (
            "zero-size fixed string",
            Datatype::FixedString {
                size: 0,
                pad: StringPad::NullPad,
                cset: CharSet::Ascii,
            },
            |e| matches!(e, TypeError::InvalidSize { .. }),
        ),
    ];
    for (what, t, expect) in &cases {
        let e = type_err(
            file.dataset::<u8>(&format!("/{}", what.replace(' ', "_")))
                .datatype(t.clone())
                .shape([1])
                .create(),
        );
        assert!(expect(&e), "{what}: unexpected {e:?}");
        let zeros = vec![0u8; t.size() as usize];
        let e = type_err(file.root().attr(what).write_raw(t, &[], &zeros));
        assert!(expect(&e), "{what} (attribute): unexpected {e:?}");
        assert!(!e.to_string().is_empty());
    }
    // a Rust type whose size differs from its datatype
    let e = type_err(file.dataset::<Liar>("/liar").shape([1]).create());
    assert_eq!(
        e,
        TypeError::SizeMismatch {
            rust: 4,
            declared: 1
        }
    );
    let e = type_err(file.root().attr("liar").write_scalar(Liar(1)));
    assert!(matches!(e, TypeError::SizeMismatch { .. }));
    // nothing of the above exists; the file is valid
    file.dataset::<u8>("/ok")
        .shape([1])
        .create_with_data(&[1])
        .unwrap();
    file.finish().unwrap();
    h5py_check(
        &path,
        "assert list(f.keys()) == ['ok'], list(f.keys())\nassert len(f.attrs) == 0",
    );
    h5dump(&[], &path);
}

#[test]
fn bad_values_are_refused() {
    let dir = tempdir();
    let path = dir.path().join("bad_values.h5");
    let file = h5sink::File::create(&path).unwrap();

    // strings too long for their fixed size, in the constructors
    assert_eq!(
        FixedAscii::<3>::new("abcd").unwrap_err(),
        TypeError::StringTooLong {
            len: 4,
            size: 3,
            terminated: false
        }
    );
    assert!(matches!(
        FixedAsciiNullTerm::<3>::new("abc"),
        Err(TypeError::StringTooLong {
            terminated: true,
            ..
        })
    ));
    assert!(matches!(
        FixedUtf8::<4>::new("ééé"),
        Err(TypeError::StringTooLong { len: 6, .. })
    ));
    // invalid UTF-8 declared UTF-8, non-ASCII declared ASCII, NUL inside
    assert!(matches!(
        FixedUtf8::<4>::from_bytes(&[b'a', 0xc3]),
        Err(TypeError::InvalidUtf8 { .. })
    ));
    assert!(matches!(
        FixedAscii::<4>::new("ß"),
        Err(TypeError::NotAscii { .. })
    ));
    assert!(matches!(
        FixedAscii::<4>::new("a\0b"),
        Err(TypeError::NulInString { .. })
    ));

    // raw bytes: invalid UTF-8 in a UTF-8 string field, an enum value that is no member
    let level = Datatype::enumeration(
        u8t(),
        vec![EnumMember::new("LOW", 0), EnumMember::new("HIGH", 10)],
    )
    .unwrap();
    let t = Datatype::packed([
        ("level", level.clone()),
        (
            "name",
            Datatype::FixedString {
                size: 4,
                pad: StringPad::NullPad,
                cset: CharSet::Utf8,
            },
        ),
    ])
    .unwrap();
    let ds = file
        .dataset::<u8>("/raw")
        .datatype(t.clone())
        .shape([3])
        .chunk([3])
        .create()
        .unwrap();
    let good = [
        10, b'a', b'b', 0, 0, 0, b'o', b'k', 0, 0, 10, 0xc3, 0xa9, 0, 0,
    ];
    let mut bad_utf8 = good;
    bad_utf8[11] = 0xc3;
    bad_utf8[12] = b'x';
    let e = type_err(ds.write(&bad_utf8));
    assert_eq!(
        e,
        TypeError::InvalidUtf8 {
            location: "element 2, field name".into()
        }
    );
    let mut bad_member = good;
    bad_member[5] = 3;
    let e = type_err(ds.write(&bad_member));
    assert_eq!(
        e,
        TypeError::NotAMember {
            location: "element 1, field level".into(),
            value: 3
        }
    );
    assert!(e
        .to_string()
        .contains("element 1, field level: the value 3 is not a member"));
    let mut nul_inside = good;
    nul_inside[3] = 0;
    nul_inside[4] = b'z';
    assert!(matches!(
        type_err(ds.write(&nul_inside)),
        TypeError::NulInString { .. }
    ));
    ds.write(&good).unwrap();
    // a fill value that is no member
    let e = type_err(
        file.dataset::<u8>("/bad_fill")
            .datatype(level.clone())
            .shape([2])
            .fill_value_bytes(&[5])
            .create(),
    );
    assert!(matches!(e, TypeError::NotAMember { value: 5, .. }));
    // attributes
    let e = type_err(file.root().attr("lvl").write_raw(&level, &[2], &[0, 11]));
    assert!(matches!(e, TypeError::NotAMember { value: 11, .. }));
    // a Rust type storing a value outside its enumeration, in every write path
    let lv = file
        .dataset::<RawLevel>("/levels")
        .frames([])
        .create()
        .unwrap();
    assert!(matches!(
        type_err(lv.append(&[RawLevel(10), RawLevel(1)])),
        TypeError::NotAMember { value: 1, .. }
    ));
    assert!(matches!(
        type_err(lv.append_bytes(&[2])),
        TypeError::NotAMember { value: 2, .. }
    ));
    lv.append(&[RawLevel(10), RawLevel(0)]).unwrap();
    assert!(matches!(
        type_err(file.root().attr("level").write_scalar(RawLevel(7))),
        TypeError::NotAMember { .. }
    ));
    // variable-length strings: NUL inside, non-ASCII declared ASCII, raw descriptors
    let s = file
        .dataset::<VarLenUnicode>("/strings")
        .frames([])
        .create()
        .unwrap();
    assert!(
        matches!(type_err(s.append_strs(&["ok", "a\0b"])), TypeError::NulInString { location } if location == "element 1")
    );
    assert!(matches!(
        type_err(s.append_bytes(&[0; 16])),
        TypeError::Unsupported(_)
    ));
    s.append_strs(&["ok"]).unwrap();
    let a = file
        .dataset::<VarLenAscii>("/ascii")
        .shape([1])
        .create()
        .unwrap();
    assert!(matches!(
        type_err(a.write_strs(&["ü"])),
        TypeError::NotAscii { .. }
    ));
    assert!(matches!(
        type_err(file.root().attr("nul").write_str("x\0")),
        TypeError::NulInString { .. }
    ));
    assert!(matches!(
        type_err(file.root().attr("nul2").write_fixed_str("x\0")),
        TypeError::NulInString { .. }
    ));
    file.finish().unwrap();
    h5py_check(
        &path,
        r#"
assert sorted(f.keys()) == ['ascii', 'levels', 'raw', 'strings'], list(f.keys())
assert len(f.attrs) == 0
assert list(f['levels'][()]) == [10, 0]
assert [s for s in f['strings'].asstr()[()]] == ['ok']
assert f['raw'][()].tolist() == [(10, b'ab'), (0, b'ok'), (10, 'é'.encode())]
assert list(f['ascii'][()]) == [b'']
"#,
    );
    h5dump(&[], &path);
}
