//! `h5sink record`: frames from standard input into an extendable dataset.

use clap::ArgMatches;
use h5sink::filters::{Filter, Pipeline};
use h5sink::{Durability, File, H5Type};
use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;

/// Parses `512x512`, `1000` or `4x64x64` (an empty string or `scalar` is a 0-D frame).
pub fn parse_dims(s: &str) -> Result<Vec<u64>, BoxError> {
    if s.is_empty() || s == "scalar" {
        return Ok(Vec::new());
    }
    s.split('x')
        .map(|p| {
            p.trim()
                .parse::<u64>()
                .map_err(|_| format!("bad frame shape {s:?}: {p:?} is not a whole number").into())
        })
        .collect()
}

/// Settings of one recording.
struct Settings {
    out: String,
    dataset: String,
    frame: Vec<u64>,
    chunk_frames: u64,
    flush_every: Option<u64>,
    durability: Durability,
    json: bool,
    append: bool,
    filters: Pipeline,
    threads: usize,
}

pub fn run(a: &ArgMatches) -> Result<(), BoxError> {
    if a.get_one::<String>("profile").map(String::as_str) == Some("latest") {
        return Err("--profile latest is not supported yet; use compat".into());
    }
    let s = Settings {
        out: a.get_one::<String>("out").cloned().expect("required"),
        dataset: a.get_one::<String>("dataset").cloned().expect("required"),
        frame: parse_dims(a.get_one::<String>("frame").expect("required"))?,
        chunk_frames: *a.get_one::<u64>("chunk-frames").expect("default"),
        flush_every: a.get_one::<u64>("flush-every").copied(),
        durability: match a.get_one::<String>("durability").map(String::as_str) {
            Some("power") => Durability::PowerLoss,
            _ => Durability::Process,
        },
        json: a.get_flag("json"),
        append: a.get_flag("append"),
        filters: {
            // the usual order: shuffle, then the compressor, then the checksum
            let mut f = Vec::new();
            if a.get_flag("shuffle") {
                f.push(Filter::Shuffle);
            }
            if let Some(l) = a.get_one::<u8>("deflate") {
                f.push(Filter::Deflate(*l));
            }
            if a.get_flag("bitshuffle") {
                f.push(Filter::BitshuffleLz4);
            }
            if a.get_flag("lz4") {
                f.push(Filter::Lz4);
            }
            if a.get_flag("fletcher32") {
                f.push(Filter::Fletcher32);
            }
            Pipeline { filters: f }
        },
        threads: a.get_one::<u64>("threads").map_or(1, |&t| t as usize),
    };
    match a.get_one::<String>("dtype").expect("required").as_str() {
        "u8" => record::<u8>(&s),
        "u16" => record::<u16>(&s),
        "u32" => record::<u32>(&s),
        "u64" => record::<u64>(&s),
        "i8" => record::<i8>(&s),
        "i16" => record::<i16>(&s),
        "i32" => record::<i32>(&s),
        "i64" => record::<i64>(&s),
        "f32" => record::<f32>(&s),
        "f64" => record::<f64>(&s),
        t => Err(format!("unknown dtype {t}").into()),
    }
}

/// Creates the groups above `path` that do not exist yet.
fn ensure_parents(file: &File, path: &str) -> h5sink::Result<()> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut cur = String::new();
    for p in &parts[..parts.len().saturating_sub(1)] {
        cur.push('/');
        cur.push_str(p);
        if file.group(&cur).is_err() {
            file.create_group(&cur)?;
        }
    }
    Ok(())
}

fn record<T: H5Type>(s: &Settings) -> Result<(), BoxError> {
    let elem = std::mem::size_of::<T>();
    let frame_bytes = s.frame.iter().product::<u64>() as usize * elem;
    if frame_bytes == 0 {
        return Err("a frame must hold at least one element".into());
    }
    let reopen = s.append && std::path::Path::new(&s.out).exists();
    let file = if reopen {
        File::options()
            .durability(s.durability)
            .open_append(&s.out)?
    } else {
        File::options().durability(s.durability).create(&s.out)?
    };
    let existing = if reopen {
        file.open_dataset::<T>(&s.dataset).ok()
    } else {
        None
    };
    let ds = match existing {
        Some(ds) => {
            // continue the dataset: its chunking and filters stay as they are
            if ds.shape()[1..] != s.frame[..] {
                return Err(format!(
                    "{} holds frames of shape {:?}, not {:?}",
                    s.dataset,
                    &ds.shape()[1..],
                    s.frame
                )
                .into());
            }
            ds
        }
        None => {
            ensure_parents(&file, &s.dataset)?;
            file.dataset::<T>(&s.dataset)
                .frames(&s.frame)
                .chunk_frames(s.chunk_frames)
                .filters(s.filters.clone())
                .threads(s.threads)
                .create()?
        }
    };
    file.flush()?;
    // commit lines count from the dataset's first frame, also when appending
    let base = ds.len();
    let mut out = std::io::stdout().lock();
    let progress = std::io::stderr().is_terminal();
    let start = Instant::now();
    // read in blocks of whole frames, about 4 MiB, and never across a commit point
    let per_block = (4 << 20) / frame_bytes.max(1);
    let per_block = per_block.max(1) as u64;
    let mut buf = vec![0u8; per_block as usize * frame_bytes];
    let mut stdin = std::io::stdin().lock();
    let (mut frames, mut last_commit, mut last_progress) = (0u64, Instant::now(), Instant::now());
    let mut committed = 0u64;
    loop {
        let want = match s.flush_every {
            Some(k) => per_block.min(k - frames % k),
            None => per_block,
        } as usize
            * frame_bytes;
        let got = read_full(&mut stdin, &mut buf[..want])?;
        let whole = got / frame_bytes * frame_bytes;
        if whole > 0 {
            ds.append_bytes(&buf[..whole])?;
            frames += (whole / frame_bytes) as u64;
        }
        let due = match s.flush_every {
            Some(k) => frames % k == 0 && frames > committed,
            None => last_commit.elapsed() >= Duration::from_secs(1) && frames > committed,
        };
        if due {
            commit(&file, &mut out, s.json, base + frames)?;
            committed = frames;
            last_commit = Instant::now();
        }
        if progress && last_progress.elapsed() >= Duration::from_millis(500) {
            let secs = start.elapsed().as_secs_f64();
            let mb = (frames as f64) * frame_bytes as f64 / 1e6;
            eprint!(
                "\r{frames} frames, {mb:.1} MB, {:.1} MB/s   ",
                mb / secs.max(1e-9)
            );
            last_progress = Instant::now();
        }
        if got < want {
            if got > whole {
                if frames > committed {
                    commit(&file, &mut out, s.json, base + frames)?;
                }
                file.finish()?;
                return Err(format!(
                    "input ended with a partial frame of {} bytes (a frame is {frame_bytes} bytes); \
                     the {} frames of the dataset are committed",
                    got - whole,
                    base + frames
                )
                .into());
            }
            break;
        }
    }
    if frames > committed {
        commit(&file, &mut out, s.json, base + frames)?;
    }
    debug_assert_eq!(ds.len(), base + frames);
    file.finish()?;
    if progress {
        eprintln!();
    }
    if s.json {
        writeln!(
            out,
            "{{\"frames\": {frames}, \"bytes\": {}, \"seconds\": {:.6}}}",
            frames * frame_bytes as u64,
            start.elapsed().as_secs_f64()
        )?;
        out.flush()?;
    }
    Ok(())
}

fn commit(file: &File, out: &mut impl Write, json: bool, frames: u64) -> Result<(), BoxError> {
    file.flush()?;
    if json {
        writeln!(out, "{{\"committed\": {frames}}}")?;
        out.flush()?;
    }
    Ok(())
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
