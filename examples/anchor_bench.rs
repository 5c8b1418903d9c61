//! The anchor workloads of `../shared/anchors/bench_c.c`, written with h5sink, under
//! the harness contract of `../shared/anchors/harness.py`:
//! `anchor_bench <W1|W1d|W2|W3|W4|W5> <earliest|latest> <path>`, count in env `N`,
//! one JSON line on stdout. `scripts/side-by-side.sh` runs it next to libhdf5 (C) and
//! a plain `write()` in one interleaved run.
#[path = "../tests/common/w4.rs"]
mod w4;

use h5sink::File;
use std::time::Instant;

fn status_kb(key: &str) -> i64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| {
            l.strip_prefix(key).map(|v| {
                v.trim()
                    .trim_end_matches(" kB")
                    .trim()
                    .parse()
                    .unwrap_or(-1)
            })
        })
        .unwrap_or(-1)
}

fn reset_peak() -> i64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_kb("VmRSS:")
}

fn fsync_secs(path: &str) -> f64 {
    let t = Instant::now();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.sync_all();
    }
    t.elapsed().as_secs_f64()
}

fn n_or(default: u64) -> u64 {
    std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report(wl: &str, n: u64, bytes: u64, t: f64, path: &str, base: i64, extra: &str) {
    let tf = fsync_secs(path);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{{\"impl\":\"h5sink\",\"workload\":\"{wl}\",\"libver\":\"compat\",\"n\":{n},\"bytes\":{bytes},\"t_total\":{t:.6},\
         \"t_fsync\":{tf:.6},\"base_rss_kb\":{base},\"peak_rss_kb\":{},\"file_size\":{size}{extra}}}",
        status_kb("VmHWM:")
    );
}

fn main() -> h5sink::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (wl, path) = (args[1].as_str(), args[3].as_str());
    // a multi-threaded variant only makes sense for the compressed workload
    let threaded = std::env::var("H5SINK_THREADS").is_ok_and(|t| t != "1");
    if threaded && wl != "W4" {
        eprintln!("{wl}: the threaded variant only runs W4");
        std::process::exit(3);
    }
    match wl {
        "W1" | "W1d" => {
            // 2048x2048 u16 frames, one per chunk (the same buffer as bench_c.c)
            let n = n_or(256);
            let mut buf: Vec<u16> = (0..2048 * 2048u32).map(|i| i as u16).collect();
            let base = reset_peak();
            let t0 = Instant::now();
            let f = File::create(path)?;
            let d = f.dataset::<u16>("/data").frames([2048, 2048]).create()?;
            for i in 0..n {
                buf[0] = i as u16;
                d.append(&buf)?;
            }
            f.finish()?;
            let bytes = n * 2048 * 2048 * 2;
            report(
                wl,
                n,
                bytes,
                t0.elapsed().as_secs_f64(),
                path,
                base,
                &format!(",\"storage_size\":{bytes}"),
            );
        }
        "W2" => {
            // 64x64 u16 frames, 64 frames per chunk, appended one by one
            let n = n_or(100_000);
            let mut buf: Vec<u16> = (0..64 * 64u32).map(|i| i as u16).collect();
            let base = reset_peak();
            let t0 = Instant::now();
            let f = File::create(path)?;
            let d = f
                .dataset::<u16>("/data")
                .frames([64, 64])
                .chunk_frames(64)
                .create()?;
            for i in 0..n {
                buf[0] = i as u16;
                d.append(&buf)?;
            }
            f.finish()?;
            report(wl, n, n * 8192, t0.elapsed().as_secs_f64(), path, base, "");
        }
        "W3" => {
            // scalar f64 appends, chunk 4096
            let n = n_or(1_000_000);
            let base = reset_peak();
            let t0 = Instant::now();
            let f = File::create(path)?;
            let d = f
                .dataset::<f64>("/data")
                .frames([])
                .chunk_frames(4096)
                .create()?;
            for i in 0..n {
                d.append(&[i as f64 * 0.5])?;
            }
            f.finish()?;
            report(wl, n, n * 8, t0.elapsed().as_secs_f64(), path, base, "");
        }
        "W5" => {
            // groups, each with 2 attributes (f64, 16-byte fixed string) and a 16 x i32 dataset
            let n = n_or(10_000);
            let base = reset_peak();
            let t0 = Instant::now();
            let f = File::create(path)?;
            for g in 0..n {
                let grp = f.create_group(&format!("/g{g:05}"))?;
                grp.attr("temperature")
                    .write_scalar(273.15 + g as f64 * 0.01)?;
                let label = format!("sample-{g:05}");
                grp.attr("label").write_fixed_str(&label)?;
                let vals: Vec<i32> = (0..16).map(|k| (g * 16 + k) as i32).collect();
                grp.dataset::<i32>("d")
                    .shape([16])
                    .create_with_data(&vals)?;
            }
            f.finish()?;
            report(
                wl,
                n,
                n * (16 * 4 + 8 + 16),
                t0.elapsed().as_secs_f64(),
                path,
                base,
                "",
            );
        }
        "W4" => {
            // deflate 1 + shuffle over compressible 2048x2048 u16 frames (bench_c.c gen_frame),
            // a pool of 8 frames cycled; H5SINK_THREADS encoding threads (default 1)
            let n = n_or(64);
            let threads: usize = std::env::var("H5SINK_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let pool: Vec<Vec<u16>> = (0..8).map(w4::w4_pixels).collect();
            let checksum: u64 = pool
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, &v)| u64::from(v) * (i as u64 % 1000 + 1))
                .sum();
            let base = reset_peak();
            let t0 = Instant::now();
            let f = File::create(path)?;
            let d = f
                .dataset::<u16>("/data")
                .frames([2048, 2048])
                .shuffle()
                .deflate(1)
                .threads(threads)
                .create()?;
            for i in 0..n {
                d.append(&pool[(i % 8) as usize])?;
            }
            f.finish()?;
            let storage = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let bytes = n * 2048 * 2048 * 2;
            report(
                wl,
                n,
                bytes,
                t0.elapsed().as_secs_f64(),
                path,
                base,
                &format!(",\"storage_size\":{storage},\"pool_checksum\":{checksum},\"threads\":{threads}"),
            );
        }
        _ => {
            eprintln!("{wl}: not supported");
            std::process::exit(3);
        }
    }
    Ok(())
}
