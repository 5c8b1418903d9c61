//! Our deflate encoder (`h5sink::filters::deflate`) read by a second, independent
//! inflater: Python's zlib module (C zlib). Every level, on empty, one-byte, run, random,
//! text-like and W4-frame inputs; Python also checks the Adler-32 trailer and that nothing
//! follows the stream.

mod common;
use common::python_ok;
use std::ffi::OsStr;

const CHECK: &str = r#"
import sys, zlib, pathlib
d = pathlib.Path(sys.argv[1])
n = 0
for z in sorted(d.glob("*.z")):
    raw = (d / (z.stem.rsplit(".", 1)[0] + ".raw")).read_bytes()
    o = zlib.decompressobj()
    out = o.decompress(z.read_bytes()) + o.flush()
    assert o.eof and o.unused_data == b"", z.name
    assert out == raw, z.name
    n += 1
print(n)
"#;

fn xorshift(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn python_zlib_inflates_every_level() {
    let dir = common::tempdir();
    let words = [
        "group ", "dataset ", "chunk ", "the ", "\n", "frames, ", "deflate ",
    ];
    let text: Vec<u8> = xorshift(400_000, 5)
        .iter()
        .flat_map(|&r| words[r as usize % words.len()].bytes())
        .take(1_200_000)
        .collect();
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one", vec![42]),
        ("run", vec![7; 100_000]),
        ("random", xorshift(150_000, 9)),
        ("text", text),
        ("w4", common::w4::w4_shuffled(5)),
    ];
    let mut count = 0;
    for (name, data) in &inputs {
        std::fs::write(dir.path().join(format!("{name}.raw")), data).unwrap();
        let levels: &[u8] = if *name == "w4" {
            &[1, 6]
        } else {
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        };
        for &level in levels {
            let z = h5sink::filters::deflate(data, level).expect("always Some");
            std::fs::write(dir.path().join(format!("{name}.{level}.z")), z).unwrap();
            count += 1;
        }
    }
    let (stdout, _) = python_ok(&[OsStr::new("-c"), OsStr::new(CHECK), dir.path().as_os_str()]);
    assert_eq!(stdout.trim(), count.to_string());
}
