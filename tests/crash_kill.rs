//! Real crashes: writers are killed with SIGKILL at random instants, and every file
//! they leave must open with plain h5py and h5dump and hold a correct prefix of the
//! appended frames, at least as long as the last commit the writer reported.
//!
//! The default run kills each configuration a few times; `H5SINK_KILLS=N` kills each
//! N times (the long torture run: `H5SINK_KILLS=25 cargo test --release --test crash_kill`).
#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common_crash {
    /// xorshift64*: deterministic randomness without a dependency.
    pub struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        pub fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }
}
use common_crash::Rng;

mod common;
use common::python;

fn kills_per_config(default: usize) -> usize {
    std::env::var("H5SINK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Frame `i` of the u16 "frame" pattern (same formula as verify_crash.py).
fn frame_u16(i: u64, size: usize) -> Vec<u8> {
    (0..size as u64)
        .flat_map(|j| (((i * 1009 + j * 7) % 65521) as u16).to_le_bytes())
        .collect()
}

/// One killed run to verify.
struct Case {
    json: String,
}

fn case_json(
    path: &Path,
    committed: u64,
    written: u64,
    datasets: &[(&str, &str, &[u64], &str)],
    attrs: &str,
) -> Case {
    let ds: Vec<String> = datasets
        .iter()
        .map(|(name, dtype, frame, pattern)| {
            let frame: Vec<String> = frame.iter().map(|d| d.to_string()).collect();
            format!(
                "{{\"name\": \"{name}\", \"dtype\": \"{dtype}\", \"frame\": [{}], \"pattern\": \"{pattern}\"}}",
                frame.join(", ")
            )
        })
        .collect();
    Case {
        json: format!(
            "{{\"path\": {:?}, \"committed\": {committed}, \"written\": {written}, \"datasets\": [{}], \"attrs\": {{{attrs}}}}}",
            path.to_str().unwrap(),
            ds.join(", ")
        ),
    }
}

fn verify(dir: &Path, cases: &[Case]) {
    let list: Vec<&str> = cases.iter().map(|c| c.json.as_str()).collect();
    let manifest = dir.join("cases.json");
    std::fs::write(&manifest, format!("[{}]", list.join(",\n"))).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/verify_crash.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&manifest)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "crash verification failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // h5dump must parse every file's structure
    for c in cases {
        let path = c.json.split('"').nth(3).unwrap();
        if Path::new(path).exists() {
            let out = Command::new("h5dump")
                .arg("-H")
                .arg(path)
                .output()
                .expect("h5dump on PATH");
            assert!(
                out.status.success(),
                "h5dump -H {path} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    eprintln!("{}", text.trim_end());
}

/// Runs a child that prints commit lines, kills it after `delay`, and returns
/// (last committed count, frames fed).
fn run_and_kill(
    mut cmd: Command,
    delay: Duration,
    feed: Option<(usize, usize)>,
    commit_prefix: &str,
) -> (u64, u64) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    cmd.stdin(if feed.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("spawn writer");
    let fed = Arc::new(Mutex::new(0u64));
    // feed = (elements per frame, index of the first frame to feed)
    let feeder = feed.map(|(frame_elems, first)| {
        let mut stdin = child.stdin.take().unwrap();
        let fed = fed.clone();
        std::thread::spawn(move || {
            let mut i = first as u64;
            loop {
                let f = frame_u16(i, frame_elems);
                // count the frame as fed before the write: the writer may have read it
                *fed.lock().unwrap() = i + 1;
                if stdin.write_all(&f).is_err() {
                    break;
                }
                i += 1;
            }
        })
    });
    let stdout = child.stdout.take().unwrap();
    let committed = Arc::new(Mutex::new((0u64, 0u64)));
    let c2 = committed.clone();
    let prefix = commit_prefix.to_string();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix(&prefix) {
                let n: u64 = rest
                    .trim()
                    .trim_end_matches('}')
                    .trim()
                    .parse()
                    .unwrap_or(0);
                let mut c = c2.lock().unwrap();
                c.0 = n;
            }
            if let Some(rest) = line.strip_prefix("W ") {
                c2.lock().unwrap().1 = rest.trim().parse().unwrap_or(0);
            }
        }
    });
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    reader.join().unwrap();
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    let c = *committed.lock().unwrap();
    let written = if feed.is_some() {
        *fed.lock().unwrap()
    } else {
        c.1.max(c.0) + 1
    };
    (c.0, written)
}

#[allow(clippy::too_many_arguments)]
fn record_config(
    rng: &mut Rng,
    dir: &Path,
    tag: &str,
    frame: &[u64],
    chunk_frames: u64,
    flush_every: u64,
    power: bool,
    extra: &[&str],
    kills: usize,
    cases: &mut Vec<Case>,
) {
    let elems: u64 = frame.iter().product();
    let frame_arg: Vec<String> = frame.iter().map(|d| d.to_string()).collect();
    for k in 0..kills {
        let path = dir.join(format!("{tag}-{k}.h5"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_h5sink"));
        cmd.arg("record")
            .arg(&path)
            .args([
                "--dataset",
                "/cam/frames",
                "--dtype",
                "u16",
                "--frame",
                &frame_arg.join("x"),
            ])
            .args([
                "--chunk-frames",
                &chunk_frames.to_string(),
                "--flush-every",
                &flush_every.to_string(),
                "--json",
            ]);
        if power {
            cmd.args(["--durability", "power"]);
        }
        cmd.args(extra);
        let delay = Duration::from_millis(5 + rng.below(400));
        let (committed, written) =
            run_and_kill(cmd, delay, Some((elems as usize, 0)), "{\"committed\": ");
        cases.push(case_json(
            &path,
            committed,
            written,
            &[("/cam/frames", "<u2", frame, "frame")],
            "",
        ));
    }
}

#[test]
fn kill_record_at_random_instants() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_0001 ^ std::process::id() as u64);
    let kills = kills_per_config(2);
    let mut cases = Vec::new();
    type Config<'a> = (&'a str, &'a [u64], u64, u64, bool, &'a [&'a str]);
    let deflate: &[&str] = &["--deflate", "4", "--shuffle"];
    let configs: &[Config] = &[
        ("f64x64-c1-e1", &[64, 64], 1, 1, false, &[]),
        ("f16x16-c8-e10", &[16, 16], 8, 10, false, &[]),
        ("f1000-c64-e100", &[1000], 64, 100, false, &[]),
        ("f4x8x8-c8-e10", &[4, 8, 8], 8, 10, false, &[]),
        ("f100x30-c1-e10", &[100, 30], 1, 10, false, &[]),
        ("f64x64-c8-e1-power", &[64, 64], 8, 1, true, &[]),
        ("f16x16-c64-e100-power", &[16, 16], 64, 100, true, &[]),
        ("f256x256-c1-e10", &[256, 256], 1, 10, false, &[]),
        // compressed, variable-size chunks: flushed partial rows are replaced by
        // copy-on-write of the edge leaf
        ("f64x64-c1-e1-deflate", &[64, 64], 1, 1, false, deflate),
        ("f32x32-c8-e3-deflate", &[32, 32], 8, 3, false, deflate),
        (
            "f32x32-c16-e10-deflate-power",
            &[32, 32],
            16,
            10,
            true,
            deflate,
        ),
        (
            "f64x64-c4-e5-lz4-t2",
            &[64, 64],
            4,
            5,
            false,
            &["--lz4", "--fletcher32", "--threads", "2"],
        ),
        // the encoding pool: chunks written while later ones encode
        (
            "f64x64-c1-e4-deflate-t2",
            &[64, 64],
            1,
            4,
            false,
            &["--deflate", "4", "--shuffle", "--threads", "2"],
        ),
    ];
    for (tag, frame, c, e, power, extra) in configs {
        record_config(
            &mut rng,
            dir.path(),
            tag,
            frame,
            *c,
            *e,
            *power,
            extra,
            kills,
            &mut cases,
        );
    }
    let committed: Vec<u64> = cases
        .iter()
        .map(|c| {
            c.json
                .split("\"committed\": ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    eprintln!(
        "{} kills; commits reported before the kill: {committed:?}",
        cases.len()
    );
    verify(dir.path(), &cases);
}

/// The child side of `kill_mixed_writer`: two datasets appended in alternation, in a
/// file with groups and attributes, committing every `H5SINK_CHILD_FLUSH` frames and
/// printing `C n` after each commit.
#[test]
fn child_mixed_writer() {
    let Ok(path) = std::env::var("H5SINK_CHILD_PATH") else {
        return;
    };
    let every: u64 = std::env::var("H5SINK_CHILD_FLUSH")
        .unwrap()
        .parse()
        .unwrap();
    let f = h5sink::File::create(&path).unwrap();
    f.root().attr("run").write_str("mixed").unwrap();
    let g = f.create_group("/camera").unwrap();
    g.attr("exposure").write_scalar(0.5f64).unwrap();
    f.create_group("/camera/meta").unwrap();
    let frames = f
        .dataset::<u16>("/camera/frames")
        .frames([8, 8])
        .chunk_frames(4)
        .create()
        .unwrap();
    let times = f
        .dataset::<f64>("/camera/times")
        .frames([])
        .chunk_frames(16)
        .create()
        .unwrap();
    f.flush().unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        frames.append_bytes(&frame_u16(i, 64)).unwrap();
        times.append(&[i as f64 * 0.5]).unwrap();
        writeln!(out, "W {}", i + 1).unwrap();
        if (i + 1) % every == 0 {
            f.flush().unwrap();
            writeln!(out, "C {}", i + 1).unwrap();
            out.flush().unwrap();
        }
        if i % 64 == 0 {
            out.flush().unwrap();
        }
    }
}

#[test]
fn kill_mixed_writer() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_0002 ^ std::process::id() as u64);
    let kills = kills_per_config(3);
    let mut cases = Vec::new();
    for every in [1u64, 10, 100] {
        for k in 0..kills {
            let path = dir.path().join(format!("mixed-e{every}-{k}.h5"));
            let mut cmd = Command::new(std::env::current_exe().unwrap());
            cmd.args([
                "--exact",
                "child_mixed_writer",
                "--nocapture",
                "--test-threads",
                "1",
                "-q",
            ])
            .env("H5SINK_CHILD_PATH", &path)
            .env("H5SINK_CHILD_FLUSH", every.to_string());
            let started = Instant::now();
            let delay = Duration::from_millis(20 + rng.below(400));
            let (committed, written) = run_and_kill(cmd, delay, None, "C ");
            let _ = started;
            cases.push(case_json(
                &path,
                committed,
                written,
                &[
                    ("/camera/frames", "<u2", &[8, 8], "frame"),
                    ("/camera/times", "<f8", &[], "time"),
                ],
                "\"run\": \"mixed\"",
            ));
        }
    }
    verify(dir.path(), &cases);
}

/// Frames in the dataset of a file, read with our own reader (0 when the file or the
/// dataset does not exist yet).
fn frames_on_disk(path: &Path, dataset: &str) -> u64 {
    let Ok(bytes) = std::fs::read(path) else {
        return 0;
    };
    let Ok(f) = h5sink::read::File::parse(&bytes) else {
        panic!("{path:?} does not parse after a kill")
    };
    f.dataset(dataset).map(|d| d.dims()[0]).unwrap_or(0)
}

/// Record, kill, resume with `--append`, kill again, several times, then a last run
/// to the end of its input: the file holds every committed frame exactly once, in
/// order (each run feeds frames from the dataset's length on disk), and it opens in
/// h5py and h5dump, and passes `h5sink check`-level verification by our reader.
#[test]
fn kill_and_resume_with_append() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_0003 ^ std::process::id() as u64);
    let rounds = kills_per_config(4) * 2;
    let mut cases = Vec::new();
    for (tag, extra) in [
        ("raw", &[][..]),
        ("deflate", &["--deflate", "4", "--shuffle"][..]),
        // a file h5py started (superblock 0, v1 headers, symbol-table groups),
        // with its own gzip + shuffle dataset that the resumed runs continue
        ("h5py", &[][..]),
    ] {
        let path = dir.path().join(format!("resume-{tag}.h5"));
        if tag == "h5py" {
            let code = format!(
                "import h5py\nwith h5py.File({:?}, 'w') as f:\n    \
                 f.create_dataset('cam/frames', shape=(0, 16, 16), maxshape=(None, 16, 16), \
                 chunks=(8, 16, 16), dtype='<u2', compression='gzip', compression_opts=4, shuffle=True)\n",
                path.to_str().unwrap()
            );
            let out = Command::new(python()).arg("-c").arg(code).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut best_committed = 0u64;
        let mut fed_total = 0u64;
        for round in 0..=rounds {
            let start = frames_on_disk(&path, "/cam/frames");
            assert!(
                start >= best_committed,
                "round {round}: {start} frames on disk < {best_committed} committed"
            );
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_h5sink"));
            cmd.arg("record")
                .arg(&path)
                .args([
                    "--dataset",
                    "/cam/frames",
                    "--dtype",
                    "u16",
                    "--frame",
                    "16x16",
                    "--chunk-frames",
                    "8",
                ])
                .args(["--flush-every", "5", "--json", "--append"])
                .args(extra);
            let delay = Duration::from_millis(20 + rng.below(300));
            let (committed, written) =
                run_and_kill(cmd, delay, Some((256, start as usize)), "{\"committed\": ");
            best_committed = best_committed.max(committed);
            fed_total = fed_total.max(written);
        }
        let n = frames_on_disk(&path, "/cam/frames");
        assert!(n >= best_committed);
        let bytes = std::fs::read(&path).unwrap();
        let report = h5sink::read::verify(&bytes);
        assert!(report.is_ok(), "{path:?}: {:?}", report.problems);
        if tag == "h5py" {
            assert_eq!(bytes[8], 0, "still the superblock version 0 h5py wrote");
            assert!(n > 0, "the resumed runs appended frames");
        }
        cases.push(case_json(
            &path,
            best_committed,
            fed_total,
            &[("/cam/frames", "<u2", &[16, 16], "frame")],
            "",
        ));
    }
    verify(dir.path(), &cases);
}
