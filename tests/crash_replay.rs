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
//! the number of power-model states (default 12,000 in all).

use h5sink::sink::testing::{replay, replay_power, Op, RecordingStorage};
use h5sink::{Durability, File};
use std::path::{Path, PathBuf};
use std::process::Command;

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

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("H5SINK_PYTHON") {
        return p.into();
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(p.exists(), "no Python venv with h5py at {p:?}: run scripts/setup-test-env.sh");
    p
}

const FRAME: [u64; 2] = [6, 10];

fn frame(i: u64) -> Vec<u16> {
    (0..60u64).map(|j| ((i * 1009 + j * 7) % 65521) as u16).collect()
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
    let f = File::options().durability(durability).create_in(rec.clone()).unwrap();
    f.root().attr("run").write_str("replay").unwrap();
    let g = f.create_group("/cam").unwrap();
    g.attr("gain").write_scalar(1.5f32).unwrap();
    let raw = f.dataset::<u16>("/cam/raw").frames(FRAME).chunk_frames(3).create().unwrap();
    let packed = f.dataset::<u16>("/cam/packed").frames(FRAME).chunk_frames(4).shuffle().deflate(4).create().unwrap();
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
    Run { ops: rec.ops(), commits, appended: total }
}

/// The frames committed when the first `n` operations have happened.
fn committed_at(run: &Run, n: usize) -> u64 {
    run.commits.iter().filter(|(at, _)| *at <= n).map(|(_, c)| *c).max().unwrap_or(0)
}

/// States of the kill model: every prefix, and every write cut after a page.
fn kill_states(run: &Run) -> Vec<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for n in 0..=run.ops.len() {
        if n > 0 {
            let state = replay(&run.ops[n - 1..n], 1);
            let _ = state;
        }
        buf = replay(&run.ops, n);
        out.push((buf.clone(), committed_at(run, n)));
        if let Some(Op::Write { offset, data }) = run.ops.get(n) {
            // a torn write: its first page(s) only
            let page_end = ((offset / 4096) + 1) * 4096;
            let keep = (page_end - offset) as usize;
            if keep < data.len() {
                let mut torn = buf.clone();
                let end = *offset as usize + keep;
                if torn.len() < end {
                    torn.resize(end, 0);
                }
                torn[*offset as usize..end].copy_from_slice(&data[..keep]);
                out.push((torn, committed_at(run, n)));
            }
        }
    }
    let _ = buf;
    out
}

/// States of the power model: `per_point` random sector subsets at each operation.
fn power_states(run: &Run, total: usize, rng: &mut Rng) -> Vec<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    let points = run.ops.len();
    while out.len() < total {
        let n = (rng.next() as usize) % (points + 1);
        let p = rng.next() % 100;
        let state = replay_power(&run.ops, n, &mut |_| rng.next() % 100 < p);
        // what a power cut may lose is bounded by the last *durable* commit: a flush
        // that returned had its final sync
        out.push((state, committed_at(run, n)));
    }
    out
}
