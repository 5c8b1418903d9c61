//! Compression ratio and speed of each deflate level: h5sink's own encoder
//! (`filters::deflate::compress_zlib`), miniz_oxide and zlib-rs (through flate2), on the
//! W4 frames (bench_c.c gen_frame, shuffled as the shuffle filter does) and on any files
//! named on the command line. Every stream is checked by inflating it with miniz_oxide.
//!
//! C zlib is measured too, through Python's `zlib` module on the same bytes, interleaved
//! with the others (encoder `czlib`; `PYTHON=...`, default `python3`).
//!
//! `cargo run --release --example deflate_levels [FILE...]`; `REPS=n` (default 3) sets the
//! repetitions (the best time is kept), `LEVELS=1,6` the levels, `ENCODERS=ours,czlib`
//! the encoders (default `ours,miniz,zlib-rs,czlib`). Two more encoders measure ours in
//! steady state, as a writer recycling its buffers runs it: `reuse`
//! (`compress_zlib_into` with a kept scratch and output buffer) and `pipe` (shuffle and
//! deflate through `Pipeline::encode_with` from the unshuffled 16-bit elements, recycling
//! the returned bytes; the input must be a shuffled 16-bit chunk, as the W4 frame is).
//! `CLOCK=cpu` times the thread's CPU time instead of the wall clock (not for `czlib`).
#[path = "../tests/common/w4.rs"]
mod w4;

use std::io::Write;
use std::time::Instant;

fn main() {
    let reps: usize = env_or("REPS", "3").parse().expect("REPS");
    let levels: Vec<u8> = env_or("LEVELS", "0,1,2,3,4,5,6,7,8,9")
        .split(',')
        .map(|l| l.parse().expect("LEVELS"))
        .collect();
    let encoders = env_or("ENCODERS", "ours,miniz,zlib-rs,czlib");
    // CLOCK=cpu times this thread's CPU time: on a busy machine, time spent waiting for
    // a core does not count
    let cpu_clock = env_or("CLOCK", "wall") == "cpu";
    let mut inputs: Vec<(String, Vec<u8>)> = vec![("W4 frame 3".into(), w4::w4_shuffled(3))];
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("reading input");
        inputs.push((path, data));
    }
    println!("| input | level | encoder | ratio | MB/s |");
    println!("|---|---|---|---|---|");
    for (name, data) in &inputs {
        // the unshuffled 16-bit elements, for the `pipe` encoder
        let half = data.len() / 2;
        let mut raw: Vec<u8> = (0..half).flat_map(|i| [data[i], data[half + i]]).collect();
        raw.extend_from_slice(&data[2 * half..]);
        for &level in &levels {
            // repetitions interleave the encoders, so that load from other processes
            // hits them alike; the best time of each is kept
            let encs: Vec<&str> = encoders.split(',').collect();
            let mut best = vec![f64::MAX; encs.len()];
            let mut outs = vec![Vec::new(); encs.len()];
            for _ in 0..reps {
                for (k, enc) in encs.iter().enumerate() {
                    if *enc == "czlib" {
                        let (secs, out) = c_zlib(data, level);
                        outs[k] = out;
                        best[k] = best[k].min(secs);
                        continue;
                    }
                    let recycled = std::mem::take(&mut outs[k]);
                    let (t, c) = (Instant::now(), cpu_secs());
                    outs[k] = compress(enc, data, &raw, level, recycled);
                    let secs = match cpu_secs().zip(c) {
                        Some((c1, c0)) if cpu_clock => c1 - c0,
                        _ => t.elapsed().as_secs_f64(),
                    };
                    best[k] = best[k].min(secs);
                }
            }
            for (k, enc) in encs.iter().enumerate() {
                let back =
                    miniz_oxide::inflate::decompress_to_vec_zlib(&outs[k]).expect("inflates");
                assert!(back == *data, "{enc} level {level} on {name}: round trip");
                println!(
                    "| {name} | {level} | {enc} | {:.4} | {:.0} |",
                    data.len() as f64 / outs[k].len() as f64,
                    data.len() as f64 / 1e6 / best[k]
                );
                std::io::stdout().flush().ok();
            }
        }
    }
}

/// C zlib through Python: the time of one `zlib.compress(data, level)` and its output.
fn c_zlib(data: &[u8], level: u8) -> (f64, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("deflate_levels_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (inp, outp) = (dir.join("in"), dir.join("out"));
    std::fs::write(&inp, data).expect("writing input");
    const SCRIPT: &str = "import sys, time, zlib\n\
        d = open(sys.argv[1], 'rb').read()\n\
        t = time.perf_counter(); c = zlib.compress(d, int(sys.argv[3])); t = time.perf_counter() - t\n\
        open(sys.argv[2], 'wb').write(c)\n\
        print(t)\n";
    let out = std::process::Command::new(env_or("PYTHON", "python3"))
        .args(["-c", SCRIPT])
        .arg(&inp)
        .arg(&outp)
        .arg(level.to_string())
        .output()
        .expect("running python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secs: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("seconds");
    let z = std::fs::read(&outp).expect("reading output");
    std::fs::remove_dir_all(&dir).ok();
    (secs, z)
}

/// This thread's CPU time so far (Linux: the first field of `/proc/thread-self/schedstat`).
fn cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

thread_local! {
    static SCRATCH: std::cell::RefCell<(h5sink::filters::EncodeScratch, h5sink::filters::deflate::Scratch)> =
        Default::default();
}

fn compress(enc: &str, data: &[u8], raw: &[u8], level: u8, mut recycled: Vec<u8>) -> Vec<u8> {
    match enc {
        "ours" => h5sink::filters::deflate::compress_zlib(data, level),
        "reuse" => SCRATCH.with_borrow_mut(|(_, s)| {
            h5sink::filters::deflate::compress_zlib_into(data, level, s, &mut recycled);
            recycled
        }),
        "pipe" => SCRATCH.with_borrow_mut(|(s, _)| {
            use h5sink::filters::{Filter, Pipeline};
            let p = Pipeline {
                filters: vec![Filter::Shuffle, Filter::Deflate(level)],
            };
            let e = p.encode_with(raw, 2, s, recycled);
            assert_eq!(e.mask, 0, "deflate shrinks the chunk");
            e.bytes
        }),
        "miniz" => miniz_oxide::deflate::compress_to_vec_zlib(data, level),
        "zlib-rs" => {
            let mut e = flate2::write::ZlibEncoder::new(
                Vec::with_capacity(data.len() / 2),
                flate2::Compression::new(u32::from(level)),
            );
            e.write_all(data).expect("compressing");
            e.finish().expect("compressing")
        }
        "h5sink" => h5sink::filters::deflate(data, level).expect("compressing"),
        other => panic!("unknown encoder {other}"),
    }
}
