//! Variable-length strings in datasets: one string of every length from 0 to
//! 100,000 bytes in one dataset (100,001 strings, 5 GB), 100,000 short UTF-8 strings
//! appended in batches across commits, every layout; read back by h5py and h5dump.

mod types_util;

use std::time::Instant;

use h5sink::{VarLenAscii, VarLenUnicode};
use types_util::{assert_contains, h5dump, h5py_check, tempdir};

const LONGEST: usize = 100_000;

/// String `i` of the big dataset: `i` bytes of the alphabet, starting at letter `i % 26`.
fn alphabet() -> String {
    (0..LONGEST + 26)
        .map(|k| (b'a' + (k % 26) as u8) as char)
        .collect()
}

#[test]
fn every_length_from_0_to_100000() {
    let dir = tempdir();
    let path = dir.path().join("lengths.h5");
    let base = alphabet();
    let file = h5sink::File::create(&path).unwrap();
    let ds = file
        .dataset::<VarLenUnicode>("/lengths")
        .shape([LONGEST as u64 + 1])
        .create()
        .unwrap();
    let start = Instant::now();
    // in batches of 1,000, in reverse order of batches
    let batch = 1000;
    let mut lo = (LONGEST / batch) * batch;
    loop {
        let hi = (lo + batch).min(LONGEST + 1);
        let strs: Vec<&str> = (lo..hi).map(|i| &base[i % 26..i % 26 + i]).collect();
        ds.write_region_strs(&[lo as u64], &[(hi - lo) as u64], &strs)
            .unwrap();
        if lo == 0 {
            break;
        }
        lo -= batch;
    }
    let summary = file.finish().unwrap();
    eprintln!(
        "wrote 100,001 strings (5.0 GB) in {:.2?}; file {} bytes",
        start.elapsed(),
        summary.file_size
    );
    let total: u64 = (0..=LONGEST as u64).sum();
    assert!(summary.file_size > total && summary.file_size < total + total / 20);
    let t = Instant::now();
    h5py_check(
        &path,
        r#"
d = f['/lengths']
assert d.shape == (100001,)
assert h5py.check_string_dtype(d.dtype).encoding == 'utf-8'
base = (np.arange(100026) % 26 + 97).astype('u1').tobytes()
for a in range(0, 100001, 2000):
    got = d[a:a + 2000]
    for k, s in enumerate(got):
        i = a + k
        if s != base[i % 26:i % 26 + i]:
            raise AssertionError(f'string {i}: {len(s)} bytes {s[:20]!r}')
assert d.asstr()[3] == 'def'
"#,
    );
    eprintln!("h5py read and compared them in {:.2?}", t.elapsed());
    let dump = h5dump(&["-d", "/lengths", "-c", "4"], &path);
    assert_contains(
        &dump,
        &[
            "STRSIZE H5T_VARIABLE;",
            "CSET H5T_CSET_UTF8;",
            "(0): \"\", \"b\", \"cd\", \"def\"",
        ],
    );
}

/// String `i` of the appended dataset: up to 200 bytes, UTF-8 with multi-byte chars.
fn short(i: usize) -> String {
    let n = (i * 7919) % 120;
    let mut s: String = (0..n)
        .map(|k| ['a', 'é', 'ß', '€', '𝄞', 'z'][(i + k) % 6])
        .collect();
    s.push_str(&i.to_string());
    s
}

const SHORT_PY: &str = r#"
chars = ['a', 'é', 'ß', '€', '𝄞', 'z']
def short(i):
    n = (i * 7919) % 120
    return ''.join(chars[(i + k) % 6] for k in range(n)) + str(i)
"#;

#[test]
fn appended_strings_across_commits_and_every_layout() {
    let dir = tempdir();
    let path = dir.path().join("appended.h5");
    let file = h5sink::File::create(&path).unwrap();
    let log = file
        .dataset::<VarLenUnicode>("/log")
        .frames([])
        .chunk_frames(1000)
        .create()
        .unwrap();
    let pairs = file
        .dataset::<VarLenUnicode>("/pairs")
        .frames([2])
        .chunk_frames(7)
        .create()
        .unwrap();
    let all: Vec<String> = (0..100_000).map(short).collect();
    let start = Instant::now();
    let mut i = 0;
    let mut step = 1;
    while i < all.len() {
        // batches of 1 to 2,000 strings: small ones join the pending heap collection,
        // large ones get collections of their own
        let n = step.min(all.len() - i);
        log.append_strs(&all[i..i + n]).unwrap();
        i += n;
        step = step * 3 % 2001 + 1;
        if i % 7 == 0 {
            file.flush().unwrap();
        }
    }
    for k in 0..50 {
        pairs
            .append_strs(&[all[2 * k].as_str(), all[2 * k + 1].as_str()])
            .unwrap();
    }
    eprintln!("appended 100,050 strings in {:.2?}", start.elapsed());
    file.dataset::<VarLenUnicode>("/compact")
        .shape([3])
        .compact()
        .create()
        .unwrap()
        .write_strs(&["x", "", "ÿ"])
        .unwrap();
    let chunked = file
        .dataset::<VarLenUnicode>("/chunked")
        .shape([4, 3])
        .chunk([3, 2])
        .create()
        .unwrap();
    chunked
        .write_region_strs(&[1, 1], &[3, 2], &["a", "b", "c", "d", "e", "f"])
        .unwrap();
    chunked
        .write_region_strs(&[2, 2], &[1, 1], &["rewritten"])
        .unwrap();
    file.dataset::<VarLenAscii>("/scalar")
        .shape([])
        .create()
        .unwrap()
        .write_strs(&["only"])
        .unwrap();
    file.root()
        .attr("many")
        .write_strs(&all[..1000].iter().map(|s| s.as_str()).collect::<Vec<_>>())
        .unwrap();
    file.finish().unwrap();
    h5py_check(
        &path,
        &format!(
            r#"{SHORT_PY}
d = f['/log']
assert d.shape == (100000,) and d.maxshape == (None,)
got = d.asstr()[()]
for i in range(100000):
    if got[i] != short(i):
        raise AssertionError(f'string {{i}}: {{got[i]!r}} != {{short(i)!r}}')
p = f['/pairs'].asstr()[()]
assert p.shape == (50, 2) and all(p[k, j] == short(2 * k + j) for k in range(50) for j in range(2))
assert list(f['/compact'].asstr()[()]) == ['x', '', 'ÿ']
assert f['/compact'].id.get_create_plist().get_layout() == h5py.h5d.COMPACT
c = f['/chunked'].asstr()[()].tolist()
assert c == [['', '', ''], ['', 'a', 'b'], ['', 'c', 'rewritten'], ['', 'e', 'f']], c
assert f['/scalar'][()] == b'only'
assert list(f.attrs['many']) == [short(i) for i in range(1000)]
"#
        ),
    );
    let dump = h5dump(&[], &path);
    assert_contains(
        &dump,
        &[
            "(0): \"0\",",
            "(1): \"\\37777777703\\37777777651\\37777777703",
            "(1,0): NULL, \"a\", \"b\",",
            "\"rewritten\"",
            "(0): \"only\"",
        ],
    );
}
