//! Simulated crashes: a recording storage logs every write and sync of a run; then
//! every state a crash could leave is rebuilt and checked.
//!
//! - kill model: every prefix of the operations (a killed process loses nothing it
//!   wrote), plus, for each write larger than a page, the state where only its first
//!   page(s) landed (Linux writes page by page);
//! - power model (`Durability::PowerLoss`): after the last sync, any subset of the
//!   512-byte sectors written since, in their newest content or their synced one.
//!
//! Each state is checked by our own reader (`h5sink::read`): the file parses, every
//! structure's checksum holds, nothing referenced lies past the stored end of file, and
//! every dataset holds a correct prefix at least as long as the last completed commit.
//! A sample of states is also opened with plain h5py. `H5SINK_REPLAY_STATES=N` raises
//! the number of power-model states (default 10,000, besides every kill-model state).

use h5sink::sink::testing::{replay_power, Op, RecordingStorage};
use h5sink::{Durability, File};
use std::path::Path;
use std::process::Command;

mod common;
use common::python;

/// xorshift64*: deterministic randomness without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

const FRAME: [u64; 2] = [6, 10];

fn frame(i: u64) -> Vec<u16> {
    (0..60u64)
        .map(|j| ((i * 1009 + j * 7) % 65521) as u16)
        .collect()
}

/// The recorded run and, for each operation count, the frames committed by then.
struct Run {
    ops: Vec<Op>,
    /// (operation count when a flush returned, frames of each dataset committed)
    commits: Vec<(usize, u64)>,
    appended: u64,
}

/// Groups and attributes, a raw dataset (3 frames a chunk) and a compressed one
/// (shuffle + deflate, 4 frames a chunk), appended in alternation with commits at
/// irregular points; enough frames for the B-tree to grow a level.
fn scenario(durability: Durability) -> Run {
    let rec = RecordingStorage::new();
    let f = File::options()
        .durability(durability)
        .create_in(rec.clone())
        .unwrap();
    f.root().attr("run").write_str("replay").unwrap();
    let g = f.create_group("/cam").unwrap();
    g.attr("gain").write_scalar(1.5f32).unwrap();
    let raw = f
        .dataset::<u16>("/cam/raw")
        .frames(FRAME)
        .chunk_frames(3)
        .create()
        .unwrap();
    let packed = f
        .dataset::<u16>("/cam/packed")
        .frames(FRAME)
        .chunk_frames(4)
        .shuffle()
        .deflate(4)
        .create()
        .unwrap();
    let mut commits = vec![];
    f.flush().unwrap();
    commits.push((rec.op_count(), 0));
    let total = 230u64;
    let mut i = 0u64;
    let mut step = 0u64;
    while i < total {
        let n = [1u64, 2, 5, 1, 3, 7, 1][step as usize % 7].min(total - i);
        for k in i..i + n {
            raw.append(&frame(k)).unwrap();
            packed.append(&frame(k)).unwrap();
        }
        i += n;
        step += 1;
        if step % 2 == 0 || i == total {
            f.flush().unwrap();
            commits.push((rec.op_count(), i));
        }
    }
    drop(f);
    Run {
        ops: rec.ops(),
        commits,
        appended: total,
    }
}

/// The frames committed when the first `n` operations have happened.
fn committed_at(run: &Run, n: usize) -> u64 {
    run.commits
        .iter()
        .filter(|(at, _)| *at <= n)
        .map(|(_, c)| *c)
        .max()
        .unwrap_or(0)
}

/// Applies one operation to a file image.
fn apply(buf: &mut Vec<u8>, op: &Op) {
    match op {
        Op::Write { offset, data } => {
            let end = *offset as usize + data.len();
            if buf.len() < end {
                buf.resize(end, 0);
            }
            buf[*offset as usize..end].copy_from_slice(data);
        }
        Op::SetLen(n) => buf.resize(*n as usize, 0),
        Op::Sync => {}
    }
}

/// Calls `check(state, committed)` for every state of the kill model: each prefix of
/// the operations, and each write larger than what is left of its first page cut
/// after that page. Returns the number of states.
fn for_each_kill_state(run: &Run, check: &mut dyn FnMut(&[u8], u64)) -> usize {
    let mut buf = Vec::new();
    let mut n = 0;
    for i in 0..=run.ops.len() {
        let committed = committed_at(run, i);
        check(&buf, committed);
        n += 1;
        if let Some(Op::Write { offset, data }) = run.ops.get(i) {
            let keep = (((offset / 4096) + 1) * 4096 - offset) as usize;
            if keep < data.len() {
                let mut torn = buf.clone();
                apply(
                    &mut torn,
                    &Op::Write {
                        offset: *offset,
                        data: data[..keep].to_vec(),
                    },
                );
                check(&torn, committed);
                n += 1;
            }
        }
        if let Some(op) = run.ops.get(i) {
            apply(&mut buf, op);
        }
    }
    n
}

/// Calls `check` for `total` states of the power model, spread over the run: at a
/// random operation, a random subset of the sectors written since the last sync hold
/// their newest content, the others the synced one.
fn for_each_power_state(run: &Run, total: usize, rng: &mut Rng, check: &mut dyn FnMut(&[u8], u64)) {
    // images at every sync, and the sectors each later write touches
    let syncs: Vec<usize> = (0..=run.ops.len())
        .filter(|&i| i == 0 || run.ops[i - 1] == Op::Sync)
        .collect();
    for k in 0..total {
        let seg = syncs[k * syncs.len() / total.max(1) % syncs.len()];
        let end = syncs
            .iter()
            .find(|&&s| s > seg)
            .copied()
            .unwrap_or(run.ops.len());
        let n = seg + (rng.next() as usize) % (end - seg + 1);
        let p = rng.next() % 101;
        let state = replay_power(&run.ops, n, &mut |_| rng.next() % 100 < p);
        check(&state, committed_at(run, n));
    }
}

fn states_wanted() -> usize {
    std::env::var("H5SINK_REPLAY_STATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Writes sampled states to files and checks them with plain h5py in one process.
fn h5py_sample(dir: &Path, samples: &[(Vec<u8>, u64)], appended: u64) {
    let mut list = Vec::new();
    for (i, (bytes, committed)) in samples.iter().enumerate() {
        let p = dir.join(format!("state-{i}.h5"));
        std::fs::write(&p, bytes).unwrap();
        list.push(format!("({:?}, {committed})", p.to_str().unwrap()));
    }
    let code = format!(
        "import h5py, numpy as np\n\
         def frames(n):\n\
         \x20   i = np.arange(n).reshape(-1, 1); j = np.arange(60).reshape(1, -1)\n\
         \x20   return ((i * 1009 + j * 7) % 65521).astype('u2').reshape(n, 6, 10)\n\
         bad = []\n\
         for path, committed in [{}]:\n\
         \x20   try:\n\
         \x20       with h5py.File(path, 'r') as f:\n\
         \x20           for name in ('cam/raw', 'cam/packed'):\n\
         \x20               if name not in f:\n\
         \x20                   if committed: bad.append((path, name, 'missing'))\n\
         \x20                   continue\n\
         \x20               d = f[name][...]\n\
         \x20               n = d.shape[0]\n\
         \x20               if n < committed or n > {appended} or not np.array_equal(d, frames(n)):\n\
         \x20                   bad.append((path, name, n, committed))\n\
         \x20   except Exception as e:\n\
         \x20       bad.append((path, repr(e)))\n\
         print(len(bad), 'bad', bad[:5])",
        list.join(", ")
    );
    let out = Command::new(python()).arg("-c").arg(code).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.starts_with("0 bad"),
        "h5py rejected sampled crash states:\n{text}"
    );
}

fn run_model(durability: Durability, power: bool) {
    let run = scenario(durability);
    let mut rng = Rng(0x0dd_ba11 ^ run.ops.len() as u64);
    let mut checked = 0usize;
    let mut failures = Vec::new();
    let mut samples = Vec::new();
    let mut check = |state: &[u8], committed: u64| {
        checked += 1;
        if let Err(e) = verify_state(state, committed, run.appended) {
            if failures.len() < 10 {
                failures.push(format!("state {checked} (committed {committed}): {e}"));
            }
        }
        // sample for h5py the states that are files at all (before create, none is)
        if checked % 97 == 1 && samples.len() < 60 && state.starts_with(b"\x89HDF") {
            samples.push((state.to_vec(), committed));
        }
    };
    let n = if power {
        let total = states_wanted();
        let mut rng2 = Rng(rng.next());
        for_each_power_state(&run, total, &mut rng2, &mut check);
        total
    } else {
        for_each_kill_state(&run, &mut check)
    };
    assert!(
        failures.is_empty(),
        "{} of {n} crash states failed, first: {failures:#?}",
        failures.len()
    );
    eprintln!(
        "{n} crash states verified ({} operations in the run)",
        run.ops.len()
    );
    let dir = tempfile::tempdir().unwrap();
    h5py_sample(dir.path(), &samples, run.appended);
}

#[test]
fn every_kill_state() {
    run_model(Durability::Process, false);
}

#[test]
fn power_loss_states() {
    run_model(Durability::PowerLoss, true);
}

/// Our own verification of one crash state: no superblock is acceptable only before
/// the first commit; otherwise the structure checks pass (signatures, checksums,
/// addresses inside the stored end of file, ordered chunk indexes) and each dataset
/// holds between `committed` and `appended` frames, all equal to what was appended.
fn verify_state(bytes: &[u8], committed: u64, appended: u64) -> Result<(), String> {
    if bytes.len() < 48 || bytes[..8] != [0x89, b'H', b'D', b'F', 0x0d, 0x0a, 0x1a, 0x0a] {
        return if committed == 0 {
            Ok(())
        } else {
            Err("no superblock after a commit".into())
        };
    }
    let report = h5sink::read::verify(bytes);
    if !report.is_ok() {
        let errors: Vec<String> = report.errors().take(3).map(|e| e.to_string()).collect();
        return Err(format!("structure check failed: {errors:?}"));
    }
    let f = h5sink::read::File::parse(bytes).map_err(|e| format!("parse: {e}"))?;
    for name in ["/cam/raw", "/cam/packed"] {
        let d = match f.dataset(name) {
            Ok(d) => d,
            Err(_) if committed == 0 => continue,
            Err(e) => return Err(format!("{name}: {e} with {committed} frames committed")),
        };
        let n = d.dims()[0];
        if n < committed || n > appended {
            return Err(format!(
                "{name}: {n} frames, committed {committed}, appended {appended}"
            ));
        }
        let data = f
            .dataset_bytes(name)
            .map_err(|e| format!("{name}: reading {n} frames: {e}"))?;
        let want: Vec<u8> = (0..n)
            .flat_map(frame)
            .flat_map(|v| v.to_le_bytes())
            .collect();
        if data != want {
            let bad = (0..n as usize)
                .find(|&i| data[i * 120..(i + 1) * 120] != want[i * 120..(i + 1) * 120]);
            return Err(format!("{name}: frame {bad:?} of {n} differs"));
        }
    }
    Ok(())
}
