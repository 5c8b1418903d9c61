//! Encoding on several threads: the encoding pool writes a dataset's chunks in the order
//! they were appended, at points that depend only on the calls made, so a one-dataset
//! file written with `threads(n)` is byte for byte the file written with one thread, and
//! a file of several datasets is the same at every run; h5py reads them; a storage
//! failure while chunks are in the pool is an error (then a poisoned writer), never a
//! hang or a panic.

mod common;

use common::{tempdir, Layout, Manifest, Rng};
use h5sink::filters::{Filter, Pipeline};
use h5sink::sink::testing::{FailingStorage, RecordingStorage};
use h5sink::{Error, File};
use std::path::Path;

/// One dataset of a run: frame shape, chunk shape (dim 0 first), filters.
struct Config {
    name: &'static str,
    frame: [u64; 2],
    chunk: [u64; 3],
    filters: Vec<Filter>,
}

fn configs() -> Vec<Config> {
    use Filter::*;
    vec![
        // one chunk per row, 3 frames per chunk
        Config {
            name: "whole",
            frame: [48, 40],
            chunk: [3, 48, 40],
            filters: vec![Shuffle, Deflate(1)],
        },
        // 4 x 2 = 8 chunks per row (more than the jobs a 2-thread pool holds), edge
        // chunks cut by the frame's border
        Config {
            name: "grid",
            frame: [64, 50],
            chunk: [4, 16, 32],
            filters: vec![Deflate(4), Fletcher32],
        },
        Config {
            name: "deflate6",
            frame: [20, 30],
            chunk: [5, 20, 30],
            filters: vec![Shuffle, Deflate(6), Fletcher32],
        },
    ]
}

/// A frame whose values are smooth with noise, different for every frame.
fn frame(cfg: &Config, i: u64) -> Vec<u16> {
    let [h, w] = cfg.frame;
    let mut rng = Rng::new(i * 7919 + h);
    (0..h * w)
        .map(|k| (i * 3 + k / w + (k % w) / 4 + rng.below(8)) as u16)
        .collect()
}

/// Appends `frames` frames to every dataset in uneven batches (1 to 9 frames), with
/// commits at random points (so partial rows are written and completed later);
/// `committed` follows the frames of the last completed commit.
fn run(
    f: &File,
    sets: &[Config],
    threads: usize,
    frames: u64,
    committed: &mut u64,
) -> h5sink::Result<()> {
    let sets: Vec<_> = sets
        .iter()
        .map(|c| {
            let d = f
                .dataset::<u16>(&format!("/{}", c.name))
                .frames(c.frame)
                .chunk(c.chunk)
                .filters(Pipeline {
                    filters: c.filters.clone(),
                })
                .threads(threads)
                .create()?;
            Ok((c, d))
        })
        .collect::<h5sink::Result<_>>()?;
    let mut rng = Rng::new(42);
    let mut at = 0;
    while at < frames {
        let n = rng.range(1, 10).min(frames - at);
        for (c, d) in &sets {
            let data: Vec<u16> = (at..at + n).flat_map(|i| frame(c, i)).collect();
            d.append(&data)?;
        }
        at += n;
        if rng.below(4) == 0 {
            f.flush()?;
            *committed = at;
        }
    }
    f.flush()?;
    *committed = frames;
    Ok(())
}

fn write(path: &Path, sets: &[Config], threads: usize, frames: u64) -> Vec<u8> {
    let f = File::create(path).unwrap();
    run(&f, sets, threads, frames, &mut 0).unwrap();
    f.finish().unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn threads_write_the_same_file_as_one_thread_and_h5py_reads_it() {
    let dir = tempdir();
    let frames = 150;
    // one dataset a file: the same bytes with 1, 2 and 3 threads
    for c in configs() {
        let sets = [c];
        let one = write(&dir.path().join("one.h5"), &sets, 1, frames);
        for t in [2, 3] {
            let p = dir.path().join(format!("{}-{t}.h5", sets[0].name));
            assert!(
                write(&p, &sets, t, frames) == one,
                "{}: {t} threads wrote another file than one thread",
                sets[0].name
            );
        }
    }
    // all datasets in one file: the same bytes at every run with 2 threads
    let all = configs();
    let p = dir.path().join("all.h5");
    let first = write(&p, &all, 2, frames);
    assert!(write(&p, &all, 2, frames) == first, "two runs differ");
    let mut m = Manifest::new(dir.path(), "threads");
    for c in &all {
        let data: Vec<u16> = (0..frames).flat_map(|i| frame(c, i)).collect();
        let shape = [frames, c.frame[0], c.frame[1]];
        let path = format!("/{}", c.name);
        m.dataset(
            &path,
            &shape,
            Layout::Chunked(c.chunk.to_vec()),
            &data,
            None,
        );
        m.maxshape(&path, &[None, Some(c.frame[0]), Some(c.frame[1])]);
    }
    common::verify(&p, &m);
    for t in [2, 3] {
        common::verify(&dir.path().join(format!("grid-{t}.h5")), &{
            let mut m = Manifest::new(dir.path(), &format!("grid{t}"));
            let c = &all[1];
            let data: Vec<u16> = (0..frames).flat_map(|i| frame(c, i)).collect();
            m.dataset(
                "/grid",
                &[frames, 64, 50],
                Layout::Chunked(c.chunk.to_vec()),
                &data,
                None,
            );
            m.maxshape("/grid", &[None, Some(64), Some(50)]);
            m
        });
    }
}

/// The storage fails at write k, for every k of a threaded run: each failure surfaces
/// as `Error::Io`, then the writer is poisoned; dropping it stops the threads; every
/// frame committed before the failure is in the bytes left behind.
#[test]
fn storage_failure_while_chunks_are_in_the_pool() {
    let frames = 40;
    let probe = RecordingStorage::new();
    let f = File::options().create_in(probe.clone()).unwrap();
    run(&f, &configs(), 2, frames, &mut 0).unwrap();
    let total = probe
        .ops()
        .iter()
        .filter(|o| !matches!(o, h5sink::sink::testing::Op::Sync))
        .count();
    drop(f);
    assert!(total > 50, "a run of {total} writes");
    let dir = tempdir();
    let mut files = Vec::new();
    for k in (0..total).step_by(3) {
        let rec = RecordingStorage::new();
        let Ok(f) = File::options().create_in(FailingStorage::new(rec.clone(), k)) else {
            continue;
        };
        let mut committed = 0;
        let e = run(&f, &configs(), 2, frames, &mut committed)
            .expect_err("the storage fails before the run ends");
        assert!(matches!(e, Error::Io { .. }), "k={k}: {e}");
        assert!(matches!(f.flush(), Err(Error::Poisoned(_))), "k={k}");
        drop(f);
        let bytes = rec.bytes();
        if bytes.len() >= 48 && bytes[..4] == *b"\x89HDF" {
            let p = dir.path().join(format!("fail-{k}.h5"));
            std::fs::write(&p, bytes).unwrap();
            files.push(format!("{}:{committed}", p.display()));
        } else {
            assert_eq!(
                committed, 0,
                "k={k}: no file although frames were committed"
            );
        }
    }
    assert!(files.len() > 10, "{} files left behind", files.len());
    // the frames every dataset should hold, as raw little-endian u16
    let mut args = Vec::new();
    for c in configs() {
        let data: Vec<u8> = (0..frames)
            .flat_map(|i| frame(&c, i))
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let p = dir.path().join(format!("{}.bin", c.name));
        std::fs::write(&p, data).unwrap();
        args.push(format!("{}={}", c.name, p.display()));
    }
    args.push("--".into());
    args.extend(files);
    // each dataset present holds at least the committed frames, every one as appended
    let code = "import sys, h5py, numpy as np\n\
        i = sys.argv.index('--')\n\
        want = {}\n\
        for a in sys.argv[1:i]:\n\
        \x20   name, path = a.split('=')\n\
        \x20   want[name] = np.fromfile(path, '<u2')\n\
        bad, checked = [], 0\n\
        for a in sys.argv[i + 1:]:\n\
        \x20   path, committed = a.rsplit(':', 1)\n\
        \x20   with h5py.File(path, 'r') as f:\n\
        \x20       if int(committed) and set(f) != set(want): bad.append((path, sorted(f)))\n\
        \x20       for name in f:\n\
        \x20           d = f[name]\n\
        \x20           n = d.shape[0]\n\
        \x20           w = want[name][:n * d.shape[1] * d.shape[2]].reshape(d.shape)\n\
        \x20           if n < int(committed) or not np.array_equal(d[...], w): bad.append((path, name, n))\n\
        \x20           checked += 1\n\
        print('checked', checked, 'bad', len(bad), bad[:5])\n";
    let out = common::run_python(code, &args);
    eprintln!("{out}");
    assert!(out.contains(" bad 0 "), "{out}");
    assert!(!out.contains("checked 0 "), "{out}");
}

/// Chunks encoded by the caller on three threads with `encode_chunk` and appended in
/// order with `append_encoded` give the file `append` gives; wrong input is refused with
/// a typed error and leaves the writer usable.
#[test]
fn caller_encoded_chunks_from_other_threads() {
    let dir = tempdir();
    let c = &configs()[0];
    let c0 = c.chunk[0];
    let chunks = 40u64;
    let create = |f: &File| {
        f.dataset::<u16>("/whole")
            .frames(c.frame)
            .chunk(c.chunk)
            .filters(Pipeline {
                filters: c.filters.clone(),
            })
            .create()
            .unwrap()
    };
    let chunk_frames =
        |k: u64| -> Vec<u16> { (k * c0..(k + 1) * c0).flat_map(|i| frame(c, i)).collect() };

    let plain = dir.path().join("plain.h5");
    let f = File::create(&plain).unwrap();
    let d = create(&f);
    for k in 0..chunks {
        d.append(&chunk_frames(k)).unwrap();
        if k % 10 == 9 {
            f.flush().unwrap();
        }
    }
    f.finish().unwrap();

    let encoded = dir.path().join("encoded.h5");
    let f = File::create(&encoded).unwrap();
    let d = create(&f);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut next = 0;
    std::thread::scope(|s| {
        for t in 0..3u64 {
            let (d, tx) = (&d, tx.clone());
            s.spawn(move || {
                for k in (0..chunks).filter(|k| k % 3 == t) {
                    tx.send((k, d.encode_chunk(&chunk_frames(k)).unwrap()))
                        .unwrap();
                }
            });
        }
        drop(tx);
        let mut early = std::collections::BTreeMap::new();
        for (k, chunk) in rx {
            early.insert(k, chunk);
            while let Some(chunk) = early.remove(&next) {
                d.append_encoded(&chunk).unwrap();
                if next % 10 == 9 {
                    f.flush().unwrap();
                }
                next += 1;
            }
        }
    });
    assert_eq!(next, chunks);

    // refusals, each leaving the writer usable
    let bad = |r: h5sink::Result<()>, what: &str| match r {
        Err(Error::Invalid { message, .. }) => eprintln!("{what}: {message}"),
        other => panic!("{what}: {other:?}"),
    };
    bad(
        d.encode_chunk(&chunk_frames(0)[1..]).map(|_| ()),
        "a frame short",
    );
    d.append(&frame(c, 0)).unwrap();
    let one = d.encode_chunk(&chunk_frames(1)).unwrap();
    bad(d.append_encoded(&one), "a partial chunk buffered");
    let split = f
        .dataset::<u16>("/split")
        .frames([8, 8])
        .chunk([1, 4, 8])
        .deflate(1)
        .create()
        .unwrap();
    bad(
        split.encode_chunk(&[0u16; 64]).map(|_| ()),
        "chunks split frames",
    );
    let raw = f.dataset::<u16>("/raw").frames([4]).create().unwrap();
    bad(
        raw.append_encoded(&h5sink::filters::EncodedChunk {
            bytes: vec![0; 6],
            mask: 0,
        }),
        "an unfiltered chunk of the wrong size",
    );
    f.finish().unwrap();

    // h5py reads every frame of both files
    let mut m = Manifest::new(dir.path(), "encoded");
    let n = chunks * c0 + 1;
    let data: Vec<u16> = (0..chunks * c0)
        .flat_map(|i| frame(c, i))
        .chain(frame(c, 0))
        .collect();
    m.dataset(
        "/whole",
        &[n, 48, 40],
        Layout::Chunked(c.chunk.to_vec()),
        &data,
        None,
    );
    m.maxshape("/whole", &[None, Some(48), Some(40)]);
    m.dataset(
        "/split",
        &[0, 8, 8],
        Layout::Chunked(vec![1, 4, 8]),
        &[] as &[u16],
        None,
    );
    m.maxshape("/split", &[None, Some(8), Some(8)]);
    m.dataset(
        "/raw",
        &[0, 4],
        Layout::Chunked(vec![1, 4]),
        &[] as &[u16],
        None,
    );
    m.maxshape("/raw", &[None, Some(4)]);
    common::verify(&encoded, &m);
    let mut m = Manifest::new(dir.path(), "plain");
    let data: Vec<u16> = (0..chunks * c0).flat_map(|i| frame(c, i)).collect();
    m.dataset(
        "/whole",
        &[n - 1, 48, 40],
        Layout::Chunked(c.chunk.to_vec()),
        &data,
        None,
    );
    m.maxshape("/whole", &[None, Some(48), Some(40)]);
    common::verify(&plain, &m);
}
