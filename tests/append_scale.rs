//! Scale and failure behaviour of the append path, checked by h5py.

use h5sink::sink::testing::{FailingStorage, RecordingStorage};
use h5sink::{Error, File};
use std::path::Path;
use std::process::Command;

mod common;

fn run_py(code: &str, args: &[&Path]) -> String {
    common::run_python(code, args)
}

/// A million chunks: the v1 B-tree reaches depth 4 (64 entries per node), and h5py
/// reads every value back.
#[test]
fn one_million_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("million.h5");
    let f = File::create(&path).unwrap();
    let d = f
        .dataset::<u8>("/stream")
        .frames([])
        .chunk_frames(1)
        .create()
        .unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    for (i, block) in data.chunks(4096).enumerate() {
        d.append(block).unwrap();
        if i % 50 == 0 {
            f.flush().unwrap();
        }
    }
    f.finish().unwrap();
    let out = run_py(
        "import sys, h5py, numpy as np\n\
         d = h5py.File(sys.argv[1], 'r')['stream']\n\
         assert d.shape == (1000000,) and d.chunks == (1,), (d.shape, d.chunks)\n\
         assert (d[:] == (np.arange(1000000) % 251)).all()\n\
         print('ok')",
        &[&path],
    );
    assert!(out.contains("ok"));
    // the tree depth: the root node's level field
    let bytes = std::fs::read(&path).unwrap();
    let out = Command::new("h5dump")
        .args(["-H", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("( 1000000 ) / ( H5S_UNLIMITED )"));
    let levels: Vec<u8> = bytes
        .windows(6)
        .filter(|w| &w[..5] == b"TREE\x01")
        .map(|w| w[5])
        .collect();
    assert_eq!(
        levels.iter().max(),
        Some(&3),
        "root of a 1M-chunk tree is at level 3"
    );
}

/// The run used for failure injection: groups, attributes, two datasets appended in
/// alternation, commits every 7 frames. Returns the frames committed.
fn short_run(f: &File, committed: &mut u64) -> h5sink::Result<()> {
    f.root().attr("run").write_str("failing")?;
    f.create_group("/cam")?.attr("gain").write_scalar(2u16)?;
    let frames = f
        .dataset::<u16>("/cam/frames")
        .frames([4, 6])
        .chunk_frames(3)
        .create()?;
    let times = f
        .dataset::<f64>("/cam/times")
        .frames([])
        .chunk_frames(8)
        .create()?;
    f.flush()?;
    for i in 0..40u64 {
        let fr: Vec<u16> = (0..24).map(|j| (i * 100 + j) as u16).collect();
        frames.append(&fr)?;
        times.append(&[i as f64])?;
        if (i + 1) % 7 == 0 {
            f.flush()?;
            *committed = i + 1;
        }
    }
    f.flush()?;
    *committed = 40;
    Ok(())
}

/// A storage that fails at write k, for every k of a short run: the error surfaces as
/// `Error::Io` (never a panic), later calls are refused, and the bytes left behind
/// open in h5py with every committed frame.
#[test]
fn failing_storage_at_every_write() {
    let probe = RecordingStorage::new();
    let f = File::options().create_in(probe.clone()).unwrap();
    let mut c = 0;
    short_run(&f, &mut c).unwrap();
    let total = probe
        .ops()
        .iter()
        .filter(|o| !matches!(o, h5sink::sink::testing::Op::Sync))
        .count();
    assert!(total > 20, "a short run of {total} writes");
    drop(f);

    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for k in 0..total {
        let rec = RecordingStorage::new();
        let mut committed = 0;
        let created = File::options().create_in(FailingStorage::new(rec.clone(), k));
        let outcome = match created {
            Err(e) => {
                assert!(matches!(e, Error::Io { .. }), "k={k}: {e}");
                None
            }
            Ok(f) => {
                let r = short_run(&f, &mut committed);
                let e = r.expect_err("the storage fails before the run ends");
                assert!(matches!(e, Error::Io { .. }), "k={k}: {e}");
                // poisoned: further work is refused, the file is left as it is
                assert!(matches!(f.flush(), Err(Error::Poisoned(_))), "k={k}");
                Some(f)
            }
        };
        drop(outcome);
        if let Some(path) = (|| {
            let bytes = rec.bytes();
            if bytes.len() < 48 || &bytes[..4] != b"\x89HDF" {
                return None;
            }
            let p = dir.path().join(format!("fail-{k}.h5"));
            std::fs::write(&p, bytes).unwrap();
            Some(p)
        })() {
            cases.push((path, committed));
        } else {
            assert_eq!(
                committed, 0,
                "k={k}: no file although frames were committed"
            );
        }
    }
    let list: Vec<String> = cases
        .iter()
        .map(|(p, c)| format!("({:?}, {c})", p.to_str().unwrap()))
        .collect();
    let code = format!(
        "import h5py, numpy as np\n\
         fails = []\n\
         for path, committed in [{}]:\n\
         \x20   with h5py.File(path, 'r') as f:\n\
         \x20       if 'cam' not in f:\n\
         \x20           assert committed == 0, (path, committed); continue\n\
         \x20       fr, ts = f['cam/frames'], f['cam/times']\n\
         \x20       n = fr.shape[0]\n\
         \x20       if not (committed <= n <= 40 and ts.shape[0] >= committed): fails.append((path, n, committed)); continue\n\
         \x20       want = (np.arange(n).reshape(-1, 1) * 100 + np.arange(24)).astype('u2').reshape(n, 4, 6)\n\
         \x20       if not np.array_equal(fr[...], want): fails.append((path, 'frames'))\n\
         \x20       m = ts.shape[0]\n\
         \x20       if not np.array_equal(ts[...], np.arange(m, dtype='f8')): fails.append((path, 'times'))\n\
         print(len(fails), 'failures', fails[:5])\n\
         assert not fails",
        list.join(", ")
    );
    let out = run_py(&code, &[]);
    eprintln!("{} failure points checked: {out}", cases.len());
    for (p, _) in &cases {
        let o = Command::new("h5dump").arg("-H").arg(p).output().unwrap();
        assert!(o.status.success(), "h5dump -H {p:?}");
    }
}

/// Several unlimited dimensions: the dataset is resized in dim 1 and dim 0, written by
/// regions, shrunk (elements outside read as fill when it grows again), and read by h5py.
#[test]
fn resize_in_any_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resize.h5");
    let f = File::create(&path).unwrap();
    let d = f
        .dataset::<i16>("/grid")
        .shape([2, 3])
        .max_shape([h5sink::UNLIMITED, h5sink::UNLIMITED])
        .chunk([2, 2])
        .fill_value(-1)
        .create()
        .unwrap();
    d.write(&[1, 2, 3, 4, 5, 6]).unwrap();
    d.resize([4, 5]).unwrap();
    d.write_region(&[3, 3], &[1, 2], &[7, 8]).unwrap();
    f.flush().unwrap();
    d.resize([4, 2]).unwrap();
    d.resize([4, 4]).unwrap();
    d.append(&[9, 9, 9, 9]).unwrap();
    f.finish().unwrap();
    let out = run_py(
        "import sys, h5py, numpy as np\n\
         d = h5py.File(sys.argv[1], 'r')['grid']\n\
         want = np.array([[1,2,-1,-1],[4,5,-1,-1],[-1,-1,-1,-1],[-1,-1,-1,-1],[9,9,9,9]], 'i2')\n\
         assert d.maxshape == (None, None), d.maxshape\n\
         assert np.array_equal(d[...], want), d[...]\n\
         print('ok')",
        &[&path],
    );
    assert!(out.contains("ok"));
}
