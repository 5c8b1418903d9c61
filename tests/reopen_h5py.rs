//! Continuing files h5py wrote with libhdf5's default settings (superblock version 0,
//! version-1 object headers, old-style groups with symbol tables, v1 B-tree chunk
//! indexes): appending frames, adding groups and datasets, then reading everything
//! back with h5py and h5dump, letting libhdf5 itself modify the result, and replaying
//! the crash states (kill and power loss) of such a session.

use h5sink::sink::testing::{replay, replay_power, Op, RecordingStorage};
use h5sink::{Durability, File};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::python;

/// Frame `i` of every test dataset: 4 x 6 u16 values.
fn frame(i: u64) -> Vec<u16> {
    (0..24u64)
        .map(|j| ((i * 1009 + j * 7) % 65521) as u16)
        .collect()
}

/// The same frames in Python, for the scripts below.
const PY_FRAMES: &str = "import h5py, numpy as np, sys\n\
def frames(a, b):\n    i = np.arange(a, b).reshape(-1, 1); j = np.arange(24).reshape(1, -1)\n    return ((i * 1009 + j * 7) % 65521).astype('u2').reshape(-1, 4, 6)\n";

fn run_py(code: &str) -> String {
    common::run_python(&format!("{PY_FRAMES}{code}"), &[""; 0])
}

/// A file as h5py writes it by default: two extendable datasets (one raw with 3
/// frames, one shuffled and deflated with 5 frames in chunks of 2, so its last row is
/// partial), groups with attributes, a fixed dataset, and a group of 300 members
/// (several symbol table nodes under a group B-tree), and a soft link.
fn h5py_file(dir: &Path) -> PathBuf {
    let path = dir.join("h5py-default.h5");
    run_py(&format!(
        "with h5py.File({:?}, 'w') as f:\n\
         \x20   d = f.create_dataset('frames', data=frames(0, 3), maxshape=(None, 4, 6), chunks=(1, 4, 6))\n\
         \x20   d.attrs['unit'] = 'counts'\n\
         \x20   f.create_dataset('packed', data=frames(0, 5), maxshape=(None, 4, 6), chunks=(2, 4, 6), compression='gzip', compression_opts=4, shuffle=True)\n\
         \x20   g = f.create_group('grp'); g.attrs['gain'] = 2.5\n\
         \x20   g.create_group('sub')\n\
         \x20   f['soft'] = h5py.SoftLink('/grp/sub')\n\
         \x20   f.create_dataset('fixed', data=np.arange(10))\n\
         \x20   m = f.create_group('many')\n\
         \x20   for k in range(300): m.create_group('m%03d' % k)\n",
        path.to_str().unwrap()
    ));
    let sb = std::fs::read(&path).unwrap();
    assert_eq!(sb[8], 0, "h5py wrote superblock version {}", sb[8]);
    path
}

#[test]
fn appended_and_extended_files_read_in_h5py_h5dump_and_libhdf5_writes_on() {
    let dir = common::tempdir();
    let path = h5py_file(dir.path());
    {
        let f = File::open_append(&path).unwrap();
        let raw = f.open_dataset::<u16>("/frames").unwrap();
        let packed = f.open_dataset::<u16>("/packed").unwrap();
        assert_eq!((raw.len(), packed.len()), (3, 5));
        for i in 3..203 {
            raw.append(&frame(i)).unwrap();
            if i < 105 {
                packed.append(&frame(i + 2)).unwrap();
            }
            if i % 17 == 0 {
                f.flush().unwrap();
            }
        }
        let new = f.create_group("/new").unwrap();
        new.attr("note").write_str("added by h5sink").unwrap();
        f.create_group("/grp/sub/deep").unwrap();
        f.dataset::<i32>("/grp/made")
            .shape([3])
            .create_with_data(&[7, 8, 9])
            .unwrap();
        for k in 300..450 {
            f.create_group(&format!("/many/m{k:03}")).unwrap();
            if k % 40 == 0 {
                f.flush().unwrap();
            }
        }
        f.finish().unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let report = h5sink::read::verify(&bytes);
    assert!(report.is_ok(), "{:?}", report.problems);
    let out = run_py(&format!(
        "with h5py.File({:?}, 'r') as f:\n\
         \x20   assert np.array_equal(f['frames'][...], frames(0, 203))\n\
         \x20   p = f['packed'][...]\n\
         \x20   assert p.shape == (107, 4, 6), p.shape\n\
         \x20   assert np.array_equal(p[:5], frames(0, 5)) and np.array_equal(p[5:], frames(5, 107))\n\
         \x20   assert f['frames'].attrs['unit'] == 'counts' and f['grp'].attrs['gain'] == 2.5\n\
         \x20   assert f['new'].attrs['note'] == 'added by h5sink'\n\
         \x20   assert list(f['grp']) == ['made', 'sub'] and list(f['grp/sub']) == ['deep']\n\
         \x20   assert f['grp/made'].dtype == np.int32 and list(f['grp/made'][...]) == [7, 8, 9]\n\
         \x20   names = list(f['many'])\n\
         \x20   assert names == ['m%03d' % k for k in range(450)], names[:5]\n\
         \x20   assert all(isinstance(f['many'][n], h5py.Group) for n in names)\n\
         \x20   assert list(f['fixed'][...]) == list(range(10))\n\
         \x20   assert f.get('soft', getlink=True).path == '/grp/sub' and list(f['soft']) == ['deep']\n\
         print('read ok')\n\
         with h5py.File({:?}, 'a') as f:\n\
         \x20   f['many'].create_group('zzz'); f['grp'].create_dataset('y', data=[1.5])\n\
         \x20   d = f['frames']; d.resize(210, axis=0); d[203:] = frames(203, 210)\n\
         with h5py.File({:?}, 'r') as f:\n\
         \x20   assert len(f['many']) == 451 and np.array_equal(f['frames'][...], frames(0, 210))\n\
         \x20   assert list(f['grp']) == ['made', 'sub', 'y']\n\
         print('libhdf5 wrote on')\n",
        path.to_str().unwrap(),
        path.to_str().unwrap(),
        path.to_str().unwrap()
    ));
    assert!(
        out.contains("read ok") && out.contains("libhdf5 wrote on"),
        "{out}"
    );
    let dump = Command::new("h5dump").arg(&path).output().unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(text.contains("DATASPACE  SIMPLE { ( 210, 4, 6 ) / ( H5S_UNLIMITED, 4, 6 ) }"));
    assert!(text.contains("GROUP \"m449\""));
    // and h5sink again, after libhdf5 wrote
    let bytes = std::fs::read(&path).unwrap();
    let report = h5sink::read::verify(&bytes);
    assert!(report.is_ok(), "{:?}", report.problems);
    let f = File::open_append(&path).unwrap();
    let raw = f.open_dataset::<u16>("/frames").unwrap();
    assert_eq!(raw.len(), 210);
    raw.append(&frame(210)).unwrap();
    f.finish().unwrap();
    let r = h5sink::read::File::parse(&std::fs::read(&path).unwrap())
        .unwrap()
        .dataset_bytes("/frames")
        .unwrap();
    let want: Vec<u8> = (0..211)
        .flat_map(frame)
        .flat_map(|v| v.to_le_bytes())
        .collect();
    assert_eq!(r, want);
}

#[test]
fn attributes_added_to_objects_libhdf5_wrote() {
    let dir = common::tempdir();
    let path = h5py_file(dir.path());
    let before = std::fs::read(&path).unwrap();
    // opened and finished without changes: byte for byte what h5py wrote
    File::open_append(&path).unwrap().finish().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let f = File::open_append(&path).unwrap();
    // a type that is not the dataset's is refused
    assert!(f.open_dataset::<u32>("/frames").is_err());
    let d = f.open_dataset::<u16>("/frames").unwrap();
    // the root's header holds only its symbol table message, which moves out
    f.root().attr("run").write_str("continued").unwrap();
    d.attr("gain").write_scalar(1.5f64).unwrap();
    f.open_dataset::<u16>("/packed")
        .unwrap()
        .attr("level")
        .write_scalar(4u8)
        .unwrap();
    assert!(matches!(
        d.attr("unit").write_str("again"),
        Err(h5sink::Error::AlreadyExists { .. })
    ));
    f.flush().unwrap();
    // more in later commits: each continuation chunk leaves room for the next
    for k in 0..5u32 {
        f.root().attr(&format!("k{k}")).write_scalar(k).unwrap();
        d.attr(&format!("k{k}")).write_scalar(k).unwrap();
        d.append(&frame(3 + u64::from(k))).unwrap();
        f.create_group(&format!("/grp/c{k}")).unwrap();
        f.flush().unwrap();
    }
    f.group("/grp")
        .unwrap()
        .attr("names")
        .write_strs(&["a", "bc"])
        .unwrap();
    f.finish().unwrap();
    let report = h5sink::read::verify(&std::fs::read(&path).unwrap());
    assert!(report.is_ok(), "{:?}", report.problems);
    let out = run_py(&format!(
        "with h5py.File({:?}, 'r') as f:\n\
         \x20   assert f.attrs['run'] == 'continued', dict(f.attrs)\n\
         \x20   d = f['frames']\n\
         \x20   assert d.attrs['gain'] == 1.5 and d.attrs['unit'] == 'counts'\n\
         \x20   assert f['packed'].attrs['level'] == 4\n\
         \x20   for k in range(5): assert f.attrs['k%d' % k] == k and d.attrs['k%d' % k] == k\n\
         \x20   assert np.array_equal(d[...], frames(0, 8))\n\
         \x20   g = f['grp']\n\
         \x20   assert list(g.attrs['names']) == ['a', 'bc'] and g.attrs['gain'] == 2.5\n\
         \x20   assert list(g) == ['c0', 'c1', 'c2', 'c3', 'c4', 'sub']\n\
         print('attrs ok')\n\
         with h5py.File({:?}, 'a') as f:\n\
         \x20   f.attrs['by_h5py'] = 1; f['frames'].attrs['by_h5py'] = 2\n\
         with h5py.File({:?}, 'r') as f:\n\
         \x20   assert f.attrs['by_h5py'] == 1 and f.attrs['k4'] == 4 and f['frames'].attrs['gain'] == 1.5\n\
         print('libhdf5 wrote on')\n",
        path.to_str().unwrap(),
        path.to_str().unwrap(),
        path.to_str().unwrap()
    ));
    assert!(
        out.contains("attrs ok") && out.contains("libhdf5 wrote on"),
        "{out}"
    );
    let dump = Command::new("h5dump")
        .arg("-A")
        .arg(&path)
        .output()
        .unwrap();
    assert!(dump.status.success());
    assert!(String::from_utf8_lossy(&dump.stdout).contains("ATTRIBUTE \"k4\""));
}

/// Op counts after each commit, and the frames of /frames it made durable.
type Commits = Vec<(usize, u64)>;

/// A recorded session on the h5py file: frames appended, groups and attributes added, commits
/// at irregular points. The log starts with the file itself, made durable.
fn recorded(bytes: &[u8], durability: Durability) -> (Vec<Op>, Commits) {
    let rec = RecordingStorage::from_bytes(bytes.to_vec());
    let f = File::options()
        .durability(durability)
        .open_append_in(rec.clone(), bytes)
        .unwrap();
    let raw = f.open_dataset::<u16>("/frames").unwrap();
    let packed = f.open_dataset::<u16>("/packed").unwrap();
    let mut commits = vec![(rec.op_count(), 3)];
    for i in 3..140u64 {
        raw.append(&frame(i)).unwrap();
        packed.append(&frame(i + 2)).unwrap();
        if i % 9 == 0 {
            f.create_group(&format!("/many/n{i:03}")).unwrap();
        }
        if i % 20 == 5 {
            f.root().attr(&format!("a{i}")).write_scalar(i).unwrap();
            raw.attr(&format!("a{i}")).write_scalar(i).unwrap();
        }
        if i % 7 == 2 || i % 23 == 0 {
            f.flush().unwrap();
            commits.push((rec.op_count(), i + 1));
        }
    }
    drop(f);
    let mut ops = rec.ops();
    ops.insert(1, Op::Sync);
    let commits = commits.into_iter().map(|(n, f)| (n + 1, f)).collect();
    (ops, commits)
}

/// Checks one crash state with our reader: /frames and /packed hold prefixes of their
/// frames, at least `least` of /frames; every group under /many is a group.
fn check_state(state: &[u8], least: u64) -> Result<(), String> {
    let report = h5sink::read::verify(state);
    if !report.is_ok() {
        return Err(format!("{:?}", report.problems.first()));
    }
    let r = h5sink::read::File::parse(state).map_err(|e| e.to_string())?;
    for (name, first, least) in [("/frames", 0, least), ("/packed", 0, 5)] {
        let data = r.dataset_bytes(name).map_err(|e| e.to_string())?;
        let n = (data.len() / 48) as u64;
        if n < least {
            return Err(format!("{name}: {n} frames < {least} committed"));
        }
        // /packed holds frames 0..5, then i + 2 for appended i, i.e. frames 0..n
        let want: Vec<u8> = (first..n)
            .flat_map(frame)
            .flat_map(|v| v.to_le_bytes())
            .collect();
        if data != want {
            return Err(format!("{name}: the data is not a prefix of the frames"));
        }
    }
    Ok(())
}

#[test]
fn crash_states_of_a_session_on_an_h5py_file() {
    let dir = common::tempdir();
    let bytes = std::fs::read(h5py_file(dir.path())).unwrap();
    let mut failures = Vec::new();
    let mut samples: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut tried = 0;
    let least = |commits: &Commits, n: usize| {
        commits
            .iter()
            .filter(|c| c.0 <= n)
            .map(|c| c.1)
            .max()
            .unwrap_or(3)
    };
    let (ops, commits) = recorded(&bytes, Durability::Process);
    for n in 1..=ops.len() {
        let state = replay(&ops, n);
        tried += 1;
        let l = least(&commits, n);
        match check_state(&state, l) {
            Ok(()) if n % 13 == 0 && samples.len() < 30 => samples.push((state, l)),
            Ok(()) => {}
            Err(e) => failures.push(format!("kill after {n} ops: {e}")),
        }
    }
    let (ops, commits) = recorded(&bytes, Durability::PowerLoss);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..3000 {
        let n = 2 + (rnd() as usize) % (ops.len() - 1);
        let p = rnd() % 101;
        let state = replay_power(&ops, n, &mut |_| rnd() % 100 < p);
        tried += 1;
        let l = least(&commits, n);
        match check_state(&state, l) {
            Ok(()) if n % 17 == 0 && samples.len() < 60 => samples.push((state, l)),
            Ok(()) => {}
            Err(e) => failures.push(format!("power cut at {n}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {tried} crash states failed: {:#?}",
        failures.len(),
        &failures[..failures.len().min(8)]
    );
    eprintln!(
        "{tried} crash states checked, {} sampled by h5py",
        samples.len()
    );
    // h5py reads a sample: every dataset a prefix, every member of /many a group
    let mut list = Vec::new();
    for (i, (state, least)) in samples.iter().enumerate() {
        let p = dir.path().join(format!("state-{i}.h5"));
        std::fs::write(&p, state).unwrap();
        list.push(format!("({:?}, {least})", p.to_str().unwrap()));
    }
    let out = run_py(&format!(
        "bad = 0\n\
         for path, least in [{}]:\n\
         \x20   with h5py.File(path, 'r') as f:\n\
         \x20       d = f['frames'][...]; p = f['packed'][...]\n\
         \x20       bad += d.shape[0] < least or not np.array_equal(d, frames(0, d.shape[0]))\n\
         \x20       bad += not np.array_equal(p, frames(0, p.shape[0]))\n\
         \x20       bad += not all(isinstance(f['many'][n], h5py.Group) for n in f['many'])\n\
         \x20       a = f['frames'].attrs\n\
         \x20       bad += not all(f.attrs[k] == int(k[1:]) for k in f.attrs)\n\
         \x20       bad += not all(a[k] == int(k[1:]) for k in a if k != 'unit') or a['unit'] != 'counts'\n\
         print('bad', bad)\n",
        list.join(", ")
    ));
    assert!(out.contains("bad 0"), "{out}");
    // h5dump parses a few of them
    for (i, _) in samples.iter().enumerate().step_by(10) {
        let p = dir.path().join(format!("state-{i}.h5"));
        let o = Command::new("h5dump").arg("-H").arg(&p).output().unwrap();
        assert!(o.status.success(), "h5dump -H state-{i}");
    }
}

/// Every single-byte corruption of the first 4 KiB of an h5py file (and a sample of
/// the rest), and truncations: reopening for append and continuing (frames, a group,
/// attributes, finish) never panics; what reopens and finishes verifies with our
/// reader unless the corruption lay in data the reader does not check.
#[test]
fn corrupted_h5py_files_never_panic_when_continued() {
    let dir = common::tempdir();
    let good = std::fs::read(h5py_file(dir.path())).unwrap();
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for pos in (0..good.len().min(4096)).chain((4096..good.len()).step_by(97)) {
        for v in [0xffu8, good[pos] ^ 0x01] {
            if v != good[pos] {
                let mut b = good.clone();
                b[pos] = v;
                cases.push(b);
            }
        }
    }
    for cut in (0..good.len()).step_by(211) {
        cases.push(good[..cut].to_vec());
    }
    let (mut reopened, mut panics) = (0, Vec::new());
    for (i, b) in cases.iter().enumerate() {
        let r = std::panic::catch_unwind(|| {
            let mem = h5sink::MemStorage::from_bytes(b.clone());
            let Ok(f) = File::options().open_append_in(mem, b) else {
                return false;
            };
            if let Ok(d) = f.open_dataset::<u16>("/frames") {
                for k in 0..70 {
                    let _ = d.append(&frame(k));
                }
                let _ = d.attr("added").write_scalar(1u8);
            }
            let _ = f.create_group("/many/zz");
            let _ = f.root().attr("added").write_scalar(2u8);
            let _ = f.finish();
            true
        });
        match r {
            Ok(true) => reopened += 1,
            Ok(false) => {}
            Err(_) => panics.push(i),
        }
    }
    assert!(
        panics.is_empty(),
        "{} cases panicked: {:?}",
        panics.len(),
        &panics[..panics.len().min(10)]
    );
    assert!(reopened > 0, "no corrupted file reopened at all");
    eprintln!(
        "{} corrupted files, {reopened} reopened and continued",
        cases.len()
    );
}

/// A file whose libhdf5 writer was killed (superblock 3 with its consistency flag set)
/// is refused with a message saying so, and left untouched.
#[test]
fn a_file_a_killed_libhdf5_writer_left_open_is_refused() {
    let dir = common::tempdir();
    let path = dir.path().join("killed.h5");
    let out = Command::new(python())
        .arg("-c")
        .arg(format!(
            "import h5py, os\nf = h5py.File({:?}, 'w', libver='latest')\n\
             f.create_dataset('x', data=[1, 2, 3]); f.flush()\nos.kill(os.getpid(), 9)\n",
            path.to_str().unwrap()
        ))
        .output()
        .unwrap();
    assert!(!out.status.success(), "the writer was killed");
    let before = std::fs::read(&path).unwrap();
    let e = File::open_append(&path).expect_err("must be refused");
    assert!(e.to_string().contains("consistency flags"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
