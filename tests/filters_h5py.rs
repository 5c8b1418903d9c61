//! Filters read back by h5py (with hdf5plugin for LZ4 and bitshuffle) and listed by
//! h5dump: every combination, fixed-shape and appended, fletcher32 catching a
//! corrupted chunk, incompressible chunks stored raw, and a property test over
//! filter combinations and chunk shapes.

use h5sink::filters::{Filter, Pipeline};
use h5sink::File;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::process::Command;

mod common;

fn py(code: &str, args: &[&str]) -> String {
    common::run_python(code, args)
}

/// Checks datasets: each line of the manifest is `path dataset dtype rows cols seed`
/// and the data is `(i * 31 + seed) % 251` (or a smooth ramp for seed < 0) in C order.
const CHECK: &str = r#"
import sys, h5py, hdf5plugin, numpy as np
bad = 0
for line in open(sys.argv[1]):
    path, name, dtype, rows, cols, seed = line.split()
    rows, cols, seed = int(rows), int(cols), int(seed)
    n = rows * cols
    i = np.arange(n, dtype=np.int64)
    want = ((i // 7) if seed < 0 else ((i * 31 + seed) % 251)).astype(dtype).reshape(rows, cols)
    with h5py.File(path, "r") as f:
        got = f[name][...]
    if got.dtype != np.dtype(dtype) or not np.array_equal(got, want):
        bad += 1
        print("MISMATCH", path, name, got.dtype, got.shape)
print("checked, bad =", bad)
sys.exit(1 if bad else 0)
"#;

fn value(i: u64, seed: i64) -> u64 {
    if seed < 0 {
        i / 7
    } else {
        (i * 31 + seed as u64) % 251
    }
}

fn combos() -> Vec<(&'static str, Vec<Filter>)> {
    use Filter::*;
    vec![
        ("shuffle", vec![Shuffle]),
        ("deflate1", vec![Deflate(1)]),
        ("deflate9", vec![Deflate(9)]),
        ("fletcher", vec![Fletcher32]),
        ("lz4", vec![Lz4]),
        ("bitshuffle", vec![BitshuffleLz4]),
        ("shuffle_deflate4", vec![Shuffle, Deflate(4)]),
        (
            "shuffle_deflate4_fletcher",
            vec![Shuffle, Deflate(4), Fletcher32],
        ),
        ("shuffle_lz4_fletcher", vec![Shuffle, Lz4, Fletcher32]),
        ("bitshuffle_fletcher", vec![BitshuffleLz4, Fletcher32]),
        ("deflate0", vec![Deflate(0)]),
        ("fletcher_deflate5", vec![Fletcher32, Deflate(5)]),
    ]
}

#[test]
fn every_combination_fixed_and_appended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("combos.h5");
    let f = File::create(&path).unwrap();
    let mut manifest = String::new();
    let p = path.to_str().unwrap();
    for (k, (name, filters)) in combos().into_iter().enumerate() {
        let seed = if k % 2 == 0 { -1 } else { k as i64 };
        let (rows, cols) = (37u64, 53u64);
        let data: Vec<u16> = (0..rows * cols).map(|i| value(i, seed) as u16).collect();
        f.dataset::<u16>(&format!("/fixed_{name}"))
            .shape([rows, cols])
            .chunk([10, 16])
            .filters(Pipeline {
                filters: filters.clone(),
            })
            .create_with_data(&data)
            .unwrap();
        manifest.push_str(&format!("{p} fixed_{name} <u2 {rows} {cols} {seed}\n"));
        // appended in uneven batches with commits in between (partial rows rewritten)
        let d = f
            .dataset::<i32>(&format!("/appended_{name}"))
            .frames([cols])
            .chunk_frames(8)
            .filters(Pipeline { filters })
            .threads(1 + k % 2)
            .create()
            .unwrap();
        let all: Vec<i32> = (0..rows * cols).map(|i| value(i, seed) as i32).collect();
        let mut at = 0usize;
        for (step, n) in [1usize, 3, 9, 2, 17, 5].iter().cycle().enumerate() {
            let n = (*n).min(rows as usize - at);
            if n == 0 {
                break;
            }
            d.append(&all[at * cols as usize..(at + n) * cols as usize])
                .unwrap();
            at += n;
            if step % 2 == 0 {
                f.flush().unwrap();
            }
        }
        manifest.push_str(&format!("{p} appended_{name} <i4 {rows} {cols} {seed}\n"));
    }
    f.finish().unwrap();
    let mpath = dir.path().join("manifest.txt");
    std::fs::write(&mpath, manifest).unwrap();
    let out = py(CHECK, &[mpath.to_str().unwrap()]);
    assert!(out.contains("bad = 0"), "{out}");
    // h5dump (libhdf5 1.10, no plugins) lists the built-in filters of each dataset
    let dump = Command::new("h5dump")
        .args(["-H", "-p", p])
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.matches("COMPRESSION DEFLATE { LEVEL 4 }").count() >= 4,
        "{text}"
    );
    assert!(text.matches("PREPROCESSING SHUFFLE").count() >= 6);
    assert!(text.matches("CHECKSUM FLETCHER32").count() >= 6);
    assert!(
        text.contains("USER_DEFINED_FILTER"),
        "LZ4 and bitshuffle appear as user-defined filters"
    );
}

#[test]
fn fletcher32_catches_a_flipped_byte_and_incompressible_chunks_stay_raw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checksum.h5");
    let f = File::create(&path).unwrap();
    let data: Vec<u32> = (0..4000u32).map(|i| i / 3).collect();
    f.dataset::<u32>("/sum")
        .shape([4000])
        .chunk([1000])
        .shuffle()
        .deflate(6)
        .fletcher32()
        .create_with_data(&data)
        .unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    f.dataset::<u8>("/noise")
        .shape([8192])
        .chunk([4096])
        .deflate(9)
        .fletcher32()
        .create_with_data(&noise)
        .unwrap();
    f.finish().unwrap();
    let p = path.to_str().unwrap();
    let noise_path = dir.path().join("noise.bin");
    std::fs::write(&noise_path, &noise).unwrap();
    // incompressible chunks: deflate skipped (mask bit 0), stored at raw size + checksum
    let out = py(
        "import sys, h5py\n\
         f = h5py.File(sys.argv[1], 'r')\n\
         d = f['noise']\n\
         for i in range(2):\n\
         \x20   info = d.id.get_chunk_info(i)\n\
         \x20   assert info.filter_mask == 1 and info.size == 4096 + 4, info\n\
         assert d[...].tobytes() == open(sys.argv[2], 'rb').read()\n\
         s = f['sum'].id.get_chunk_info(1)\n\
         print(s.byte_offset, s.size)",
        &[p, noise_path.to_str().unwrap()],
    );
    let mut it = out.split_whitespace().map(|v| v.parse::<u64>().unwrap());
    let (offset, size) = (it.next().unwrap(), it.next().unwrap());
    // flip one byte inside the second chunk of /sum: reading it must fail, the others not
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[(offset + size / 2) as usize] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    let out = py(
        "import sys, h5py, numpy as np\n\
         d = h5py.File(sys.argv[1], 'r')['sum']\n\
         assert (d[:1000] == np.arange(1000) // 3).all()\n\
         try:\n\
         \x20   d[1000:2000]\n\
         \x20   print('READ SUCCEEDED')\n\
         except OSError as e:\n\
         \x20   print('read failed:', e)",
        &[p],
    );
    assert!(
        out.contains("read failed"),
        "a corrupted chunk must not read: {out}"
    );
}

#[test]
fn proptest_filter_combinations_and_chunk_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prop.h5");
    let f = File::create(&path).unwrap();
    let manifest = std::cell::RefCell::new(String::new());
    let p = path.to_str().unwrap().to_string();
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 128,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let case = std::cell::Cell::new(0usize);
    let strategy = (
        1u64..40,
        1u64..40,
        1u64..12,
        1u64..12,
        proptest::collection::vec(0usize..6, 0..4),
        proptest::bool::ANY,
        -1i64..250,
    );
    runner
        .run(&strategy, |(rows, cols, cr, cc, picks, append, seed)| {
            let all = [
                Filter::Shuffle,
                Filter::Deflate(3),
                Filter::Fletcher32,
                Filter::Lz4,
                Filter::BitshuffleLz4,
                Filter::Deflate(1),
            ];
            let filters: Vec<Filter> = picks.iter().map(|&i| all[i]).collect();
            let name = format!("c{}", case.get());
            case.set(case.get() + 1);
            let data: Vec<u16> = (0..rows * cols).map(|i| value(i, seed) as u16).collect();
            let cr = cr.min(rows);
            let cc = cc.min(cols);
            if append {
                let d = f
                    .dataset::<u16>(&format!("/{name}"))
                    .frames([cols])
                    .chunk([cr, cc])
                    .filters(Pipeline { filters })
                    .create()
                    .unwrap();
                for (k, row) in data.chunks(cols as usize).enumerate() {
                    d.append(row).unwrap();
                    if k % 3 == 1 {
                        f.flush().unwrap();
                    }
                }
            } else {
                f.dataset::<u16>(&format!("/{name}"))
                    .shape([rows, cols])
                    .chunk([cr, cc])
                    .filters(Pipeline { filters })
                    .create_with_data(&data)
                    .unwrap();
            }
            manifest
                .borrow_mut()
                .push_str(&format!("{p} {name} <u2 {rows} {cols} {seed}\n"));
            Ok(())
        })
        .unwrap();
    f.finish().unwrap();
    let mpath = dir.path().join("manifest.txt");
    std::fs::write(&mpath, manifest.into_inner()).unwrap();
    let out = py(CHECK, &[mpath.to_str().unwrap()]);
    assert!(out.contains("bad = 0"), "{out}");
}
