//! Reopening files h5sink wrote and continuing them: after a clean close, and from
//! crash states (process kill and power loss) of a recorded run. Each continued file
//! must verify with our reader and hold the committed prefix followed by the new
//! frames, in order; a sample is read by h5py.

use h5sink::sink::testing::{replay, replay_power, Op, RecordingStorage};
use h5sink::{Durability, File, MemStorage};
use std::path::Path;
use std::process::Command;

mod common;
use common::python;

fn frame(i: u64) -> Vec<u16> {
    (0..24u64)
        .map(|j| ((i * 1009 + j * 7) % 65521) as u16)
        .collect()
}

/// A run with a raw and a compressed dataset and commits at irregular points.
fn recorded(durability: Durability) -> (Vec<Op>, Vec<(usize, u64)>) {
    let rec = RecordingStorage::new();
    let f = File::options()
        .durability(durability)
        .create_in(rec.clone())
        .unwrap();
    f.create_group("/cam")
        .unwrap()
        .attr("gain")
        .write_scalar(2u8)
        .unwrap();
    let raw = f
        .dataset::<u16>("/cam/raw")
        .frames([4, 6])
        .chunk_frames(5)
        .create()
        .unwrap();
    let packed = f
        .dataset::<u16>("/cam/packed")
        .frames([4, 6])
        .chunk_frames(3)
        .shuffle()
        .deflate(3)
        .create()
        .unwrap();
    f.flush().unwrap();
    let mut commits = vec![(rec.op_count(), 0)];
    for i in 0..90u64 {
        raw.append(&frame(i)).unwrap();
        packed.append(&frame(i)).unwrap();
        if i % 7 == 3 || i % 11 == 0 {
            f.flush().unwrap();
            commits.push((rec.op_count(), i + 1));
        }
    }
    drop(f);
    (rec.ops(), commits)
}

fn committed(commits: &[(usize, u64)], n: usize) -> u64 {
    commits
        .iter()
        .filter(|c| c.0 <= n)
        .map(|c| c.1)
        .max()
        .unwrap_or(0)
}

/// Reopens `state`, appends 13 frames to both datasets, finishes; checks the result.
fn continue_state(state: Vec<u8>, at_least: u64) -> Result<Vec<u8>, String> {
    let mem = MemStorage::from_bytes(state.clone());
    let f = File::options()
        .open_append_in(mem.clone(), &state)
        .map_err(|e| format!("reopen: {e}"))?;
    let mut lens = Vec::new();
    for name in ["/cam/raw", "/cam/packed"] {
        let d = match f.open_dataset::<u16>(name) {
            Ok(d) => d,
            // a crash before the first commit: nothing was promised yet
            Err(h5sink::Error::NotFound { .. }) if at_least == 0 => return Ok(state),
            Err(e) => return Err(format!("{name}: {e}")),
        };
        let n = d.len();
        if n < at_least {
            return Err(format!("{name}: {n} frames < {at_least} committed"));
        }
        for i in n..n + 13 {
            d.append(&frame(i))
                .map_err(|e| format!("{name}: append: {e}"))?;
        }
        lens.push(n + 13);
    }
    f.finish().map_err(|e| format!("finish: {e}"))?;
    let bytes = mem.bytes();
    let report = h5sink::read::verify(&bytes);
    if !report.is_ok() {
        return Err(format!("after continuing: {:?}", report.problems.first()));
    }
    let r = h5sink::read::File::parse(&bytes).map_err(|e| e.to_string())?;
    for (name, n) in ["/cam/raw", "/cam/packed"].iter().zip(lens) {
        let data = r.dataset_bytes(name).map_err(|e| e.to_string())?;
        let want: Vec<u8> = (0..n)
            .flat_map(frame)
            .flat_map(|v| v.to_le_bytes())
            .collect();
        if data != want {
            return Err(format!(
                "{name}: the continued data differs ({} bytes, {} expected)",
                data.len(),
                want.len()
            ));
        }
    }
    Ok(bytes)
}

fn h5py_check(dir: &Path, files: &[(Vec<u8>, u64)]) {
    let mut list = Vec::new();
    for (i, (bytes, n)) in files.iter().enumerate() {
        let p = dir.join(format!("continued-{i}.h5"));
        std::fs::write(&p, bytes).unwrap();
        list.push(format!("({:?}, {n})", p.to_str().unwrap()));
    }
    let code = format!(
        "import h5py, numpy as np\nbad = 0\nfor path, least in [{}]:\n    with h5py.File(path, 'r') as f:\n        for name in ('cam/raw', 'cam/packed'):\n            d = f[name][...]\n            n = d.shape[0]\n            i = np.arange(n).reshape(-1, 1); j = np.arange(24).reshape(1, -1)\n            ok = n >= least + 13 and np.array_equal(d, ((i * 1009 + j * 7) % 65521).astype('u2').reshape(n, 4, 6))\n            bad += not ok\nprint('bad', bad)",
        list.join(", ")
    );
    let out = Command::new(python()).arg("-c").arg(code).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.contains("bad 0"), "{text}");
}

#[test]
fn continue_after_every_kind_of_crash() {
    let mut failures = Vec::new();
    let mut samples = Vec::new();
    let mut tried = 0;
    // kill model: every 3rd prefix of the operations
    let (ops, commits) = recorded(Durability::Process);
    for n in (0..=ops.len()).step_by(3) {
        let state = replay(&ops, n);
        if !state.starts_with(b"\x89HDF") {
            continue;
        }
        tried += 1;
        match continue_state(state, committed(&commits, n)) {
            Ok(b) if samples.len() < 25 && n % 27 == 0 => samples.push((b, committed(&commits, n))),
            Ok(_) => {}
            Err(e) => failures.push(format!("kill after {n} ops: {e}")),
        }
    }
    // power model: random sector subsets
    let (ops, commits) = recorded(Durability::PowerLoss);
    let mut x = 0x1234_5678_9abc_def1u64;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..400 {
        let n = (rnd() as usize) % (ops.len() + 1);
        let p = rnd() % 101;
        let state = replay_power(&ops, n, &mut |_| rnd() % 100 < p);
        if !state.starts_with(b"\x89HDF") {
            continue;
        }
        tried += 1;
        if let Err(e) = continue_state(state, committed(&commits, n)) {
            failures.push(format!("power cut at {n}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {tried} continued states failed: {:#?}",
        failures.len(),
        &failures[..failures.len().min(8)]
    );
    eprintln!("{tried} crash states reopened and continued");
    let dir = tempfile::tempdir().unwrap();
    h5py_check(dir.path(), &samples);
}

/// After reopening, an empty group, a group with one short-named member and a dataset
/// can all gain links and attributes (their headers had room reserved at creation).
#[test]
fn reopened_objects_can_grow() {
    let mem = MemStorage::new();
    let f = File::options().create_in(mem.clone()).unwrap();
    f.create_group("/empty").unwrap();
    f.create_group("/one").unwrap().create_group("x").unwrap();
    f.dataset::<u8>("/d")
        .shape([3])
        .create_with_data(&[1, 2, 3])
        .unwrap();
    f.finish().unwrap();
    let bytes = mem.bytes();
    let mem2 = MemStorage::from_bytes(bytes.clone());
    let f = File::options()
        .open_append_in(mem2.clone(), &bytes)
        .unwrap();
    for g in ["/empty", "/one"] {
        let grp = f.group(g).unwrap();
        grp.create_group("added_later").unwrap();
        grp.attr("note")
            .write_str("a long enough attribute value")
            .unwrap();
    }
    f.root().attr("n").write_scalar(7u32).unwrap();
    f.create_group("/after").unwrap();
    f.finish().unwrap();
    let out = mem2.bytes();
    let r = h5sink::read::File::parse(&out).unwrap();
    assert!(h5sink::read::verify(&out).is_ok());
    for p in [
        "/empty/added_later",
        "/one/x",
        "/one/added_later",
        "/after",
        "/d",
    ] {
        r.get(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    }
    assert_eq!(r.dataset_bytes("/d").unwrap(), [1, 2, 3]);
}

/// A run long enough that leaves retire (sibling links), then, for crash states of
/// it, a resumed session recorded in turn: every state of the resumed session must
/// verify too (no stale sibling link into reused space) and hold its committed frames.
#[test]
fn crashes_of_a_resumed_session() {
    let rec = RecordingStorage::new();
    let f = File::options().create_in(rec.clone()).unwrap();
    let d = f
        .dataset::<u16>("/s")
        .frames([2])
        .chunk_frames(1)
        .create()
        .unwrap();
    f.flush().unwrap();
    let mut commits = vec![(rec.op_count(), 0u64)];
    for i in 0..140u64 {
        d.append(&[i as u16, (i * 3) as u16]).unwrap();
        if i % 9 == 8 {
            f.flush().unwrap();
            commits.push((rec.op_count(), i + 1));
        }
    }
    drop(f);
    let ops = rec.ops();
    let mut checked = 0;
    for n in (1..=ops.len()).step_by(7) {
        let state = replay(&ops, n);
        if !state.starts_with(b"\x89HDF") {
            continue;
        }
        let base = committed(&commits, n);
        let rec2 = RecordingStorage::from_bytes(state.clone());
        let f = File::options()
            .open_append_in(rec2.clone(), &state)
            .unwrap();
        let d = match f.open_dataset::<u16>("/s") {
            Ok(d) => d,
            Err(_) if base == 0 => continue,
            Err(e) => panic!("state {n}: {e}"),
        };
        let start = d.len();
        let mut commits2 = vec![(rec2.op_count(), start)];
        for i in start..start + 40 {
            d.append(&[i as u16, (i * 3) as u16]).unwrap();
            if i % 6 == 5 {
                f.flush().unwrap();
                commits2.push((rec2.op_count(), i + 1));
            }
        }
        drop(f);
        let ops2 = rec2.ops();
        for m in 1..=ops2.len() {
            let s2 = replay(&ops2, m);
            let report = h5sink::read::verify(&s2);
            assert!(
                report.is_ok(),
                "state {n}, resumed op {m}: {:?}",
                report.problems.first()
            );
            let r = h5sink::read::File::parse(&s2).unwrap();
            let data = r.dataset_bytes("/s").unwrap();
            let len = data.len() as u64 / 4;
            assert!(
                len >= committed(&commits2, m).max(base),
                "state {n}, resumed op {m}: {len} frames"
            );
            let want: Vec<u8> = (0..len)
                .flat_map(|i| [(i as u16).to_le_bytes(), ((i * 3) as u16).to_le_bytes()])
                .flatten()
                .collect();
            assert_eq!(data, want, "state {n}, resumed op {m}");
            checked += 1;
        }
    }
    eprintln!("{checked} states of resumed sessions verified");
}

/// Space a killed session preallocated may hold its leftovers: a large contiguous
/// dataset created after reopening must still read as its fill value (zeros).
#[test]
fn reused_space_reads_as_fill() {
    let mem = MemStorage::new();
    let f = File::options().create_in(mem.clone()).unwrap();
    let d = f
        .dataset::<u8>("/junk")
        .frames([1000])
        .chunk_frames(50)
        .create()
        .unwrap();
    f.flush().unwrap();
    for _ in 0..150 {
        d.append(&[0xAB; 1000]).unwrap(); // written, never committed
    }
    let killed = mem.bytes(); // the state a kill leaves: chunks beyond the commit
    std::mem::forget(f); // no best-effort finish: this is a crash
    let mem2 = MemStorage::from_bytes(killed.clone());
    let f = File::options()
        .open_append_in(mem2.clone(), &killed)
        .unwrap();
    f.dataset::<u8>("/zeros").shape([150_000]).create().unwrap();
    f.finish().unwrap();
    let out = mem2.bytes();
    let r = h5sink::read::File::parse(&out).unwrap();
    let z = r.dataset_bytes("/zeros").unwrap();
    assert_eq!(z.len(), 150_000);
    assert!(
        z.iter().all(|&b| b == 0),
        "{} leftover bytes",
        z.iter().filter(|&&b| b != 0).count()
    );
}
