//! Criterion benches of the append path (DESIGN §8 workloads, scaled down):
//! scalar f64 appends, small frames batched into chunks, large frames one per chunk,
//! and metadata-heavy files. `cargo bench --bench append`.
//!
//! The side-by-side comparison with libhdf5 is `scripts/side-by-side.sh`.
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use h5sink::{File, MemStorage};

fn scalar_appends(c: &mut Criterion) {
    let mut g = c.benchmark_group("scalar_f64_append");
    const N: u64 = 1_000_000;
    g.throughput(Throughput::Elements(N));
    g.bench_function("1M appends, chunk 4096, memory", |b| {
        b.iter_batched(
            || File::options().create_in(MemStorage::new()).unwrap(),
            |f| {
                let d = f
                    .dataset::<f64>("/x")
                    .frames([])
                    .chunk_frames(4096)
                    .create()
                    .unwrap();
                for i in 0..N {
                    d.append(&[i as f64]).unwrap();
                }
                f.finish().unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn frames_to_file(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("frames_to_file");
    g.sample_size(10);
    let small: Vec<u16> = (0..64 * 64).map(|i| i as u16).collect();
    g.throughput(Throughput::Bytes(10_000 * 8192));
    g.bench_function("10k 64x64 u16 frames, 64 per chunk", |b| {
        b.iter(|| {
            let f = File::create(dir.path().join("small.h5")).unwrap();
            let d = f
                .dataset::<u16>("/x")
                .frames([64, 64])
                .chunk_frames(64)
                .create()
                .unwrap();
            for _ in 0..10_000 {
                d.append(&small).unwrap();
            }
            f.finish().unwrap()
        })
    });
    let big: Vec<u16> = (0..2048 * 2048).map(|i| i as u16).collect();
    g.throughput(Throughput::Bytes((16 * 8) << 20));
    g.bench_function("16 2048x2048 u16 frames, 1 per chunk", |b| {
        b.iter(|| {
            let f = File::create(dir.path().join("big.h5")).unwrap();
            let d = f
                .dataset::<u16>("/x")
                .frames([2048, 2048])
                .create()
                .unwrap();
            for _ in 0..16 {
                d.append(&big).unwrap();
            }
            f.finish().unwrap()
        })
    });
    g.finish();
}

fn metadata(c: &mut Criterion) {
    let mut g = c.benchmark_group("metadata");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1000));
    g.bench_function("1000 groups with 2 attributes and a dataset, memory", |b| {
        b.iter(|| {
            let f = File::options().create_in(MemStorage::new()).unwrap();
            for i in 0..1000 {
                let grp = f.create_group(&format!("/g{i:05}")).unwrap();
                grp.attr("temperature")
                    .write_scalar(273.15 + i as f64)
                    .unwrap();
                grp.attr("label").write_fixed_str("sample").unwrap();
                grp.dataset::<i32>("d")
                    .shape([16])
                    .create_with_data(&[i; 16])
                    .unwrap();
            }
            f.finish().unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, scalar_appends, frames_to_file, metadata);
criterion_main!(benches);
