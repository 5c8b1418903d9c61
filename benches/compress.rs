//! Criterion benches of the compressed path on W4 frames (2048×2048 u16, the generator of
//! `../shared/anchors/bench_c.c`): one chunk through shuffle + deflate 1 with reused
//! buffers (what each encoding thread does), deflate alone at levels 1 and 6, and 16
//! frames appended to a file with 1 and 2 encoding threads. `cargo bench --bench compress`.
//!
//! The side-by-side comparison with libhdf5 is `scripts/side-by-side.sh` (workload W4).
#[path = "../tests/common/w4.rs"]
mod w4;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use h5sink::filters::{EncodeScratch, Filter, Pipeline};
use h5sink::File;

fn bytes(frame: &[u16]) -> Vec<u8> {
    frame.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn one_chunk(c: &mut Criterion) {
    let raw = bytes(&w4::w4_pixels::<Vec<u16>>(3));
    let mut g = c.benchmark_group("w4_chunk");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(raw.len() as u64));
    let pipeline = Pipeline {
        filters: vec![Filter::Shuffle, Filter::Deflate(1)],
    };
    let mut scratch = EncodeScratch::default();
    let mut out = Vec::new();
    g.bench_function("shuffle + deflate 1, reused scratch", |b| {
        b.iter(|| {
            let e = pipeline.encode_with(&raw, 2, &mut scratch, std::mem::take(&mut out));
            out = e.bytes;
            out.len()
        })
    });
    let shuffled = pipeline.encode(&raw, 2);
    assert!(shuffled.bytes.len() < raw.len() / 2);
    for level in [1u8, 6] {
        g.bench_function(format!("deflate {level} (unshuffled bytes)"), |b| {
            b.iter(|| h5sink::filters::deflate::compress_zlib(&raw, level).len())
        });
    }
    g.finish();
}

fn frames_to_file(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pool: Vec<Vec<u16>> = (0..4).map(w4::w4_pixels).collect();
    let mut g = c.benchmark_group("w4_file");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(16 * 2048 * 2048 * 2));
    for threads in [1usize, 2] {
        g.bench_function(
            format!("16 frames, shuffle + deflate 1, {threads} thread(s)"),
            |b| {
                b.iter(|| {
                    let path = dir.path().join("w4.h5");
                    let f = File::create(&path).unwrap();
                    let d = f
                        .dataset::<u16>("/data")
                        .frames([2048, 2048])
                        .shuffle()
                        .deflate(1)
                        .threads(threads)
                        .create()
                        .unwrap();
                    for i in 0..16 {
                        d.append(&pool[i % 4]).unwrap();
                    }
                    f.finish().unwrap()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, one_chunk, frames_to_file);
criterion_main!(benches);
