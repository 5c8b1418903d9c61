//! Compression ratio and speed of deflate settings on the W4 frames (shuffled):
//! h5sink's levels, then miniz_oxide with explicit probe counts and greedy or lazy parsing.
//! `cargo run --release --example deflate_levels`; compare with C zlib:
//! `python3 -c "import zlib; ..."` on the same bytes (see README, Performance).
use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, deflate_flags::*, CompressorOxide, TDEFLFlush,
    TDEFLStatus,
};
use std::time::Instant;
fn run(data: &[u8], flags: u32) -> Vec<u8> {
    let mut c = CompressorOxide::new(flags);
    let mut out = vec![0u8; data.len() + data.len() / 10 + 1024];
    let (st, _inp, outp) = compress(&mut c, data, &mut out, TDEFLFlush::Finish);
    assert_eq!(st, TDEFLStatus::Done);
    out.truncate(outp);
    out
}
fn main() {
    // frame 3 of the W4 pool (bench_c.c gen_frame), shuffled as the shuffle filter does
    let frame: Vec<u8> = gen(3).iter().flat_map(|v| v.to_le_bytes()).collect();
    let n = frame.len() / 2;
    let mut sh = vec![0u8; frame.len()];
    for i in 0..n {
        sh[i] = frame[2 * i];
        sh[n + i] = frame[2 * i + 1];
    }
    for level in 1..=6u8 {
        let t = Instant::now();
        let c = h5sink::filters::deflate(&sh, level).unwrap();
        println!(
            "h5sink deflate level {level}: ratio {:.3} {:.0} MB/s",
            sh.len() as f64 / c.len() as f64,
            sh.len() as f64 / 1e6 / t.elapsed().as_secs_f64()
        );
    }
    for every in [2048usize, 4096, 8192, 16384, 32768, 1 << 30] {
        for level in [1u8, 2] {
            let flags = create_comp_flags_from_zip_params(level as i32, 15, 0);
            let mut c = CompressorOxide::new(flags);
            let mut out = vec![0u8; sh.len() + sh.len() / 10 + 1024];
            let t = Instant::now();
            let (mut ip, mut op) = (0usize, 0usize);
            while ip < sh.len() {
                let end = (ip + every).min(sh.len());
                let flush = if end == sh.len() {
                    TDEFLFlush::Finish
                } else {
                    TDEFLFlush::Sync
                };
                let (st, i, o) = compress(&mut c, &sh[ip..end], &mut out[op..], flush);
                assert!(st == TDEFLStatus::Okay || st == TDEFLStatus::Done, "{st:?}");
                ip += i;
                op += o;
            }
            out.truncate(op);
            assert_eq!(
                miniz_oxide::inflate::decompress_to_vec_zlib(&out).unwrap(),
                sh
            );
            println!(
                "miniz L{level} sync flush every {every:>10}: ratio {:.3} {:.0} MB/s",
                sh.len() as f64 / out.len() as f64,
                sh.len() as f64 / 1e6 / t.elapsed().as_secs_f64()
            );
        }
    }
    for probes in [1u32, 2, 4, 6, 8, 16, 32] {
        for greedy in [true, false] {
            let mut flags = probes | TDEFL_WRITE_ZLIB_HEADER;
            if greedy {
                flags |= TDEFL_GREEDY_PARSING_FLAG;
            }
            let t = Instant::now();
            let c = run(&sh, flags);
            println!(
                "miniz probes {probes:2} {}: ratio {:.3} {:.0} MB/s",
                if greedy { "greedy" } else { "lazy  " },
                sh.len() as f64 / c.len() as f64,
                sh.len() as f64 / 1e6 / t.elapsed().as_secs_f64()
            );
            // it must be a valid zlib stream
            assert_eq!(
                miniz_oxide::inflate::decompress_to_vec_zlib(&c).unwrap(),
                sh
            );
        }
    }
    let _ = create_comp_flags_from_zip_params(1, 15, 0);
}

fn gen(p: u32) -> Vec<u16> {
    let mut out = Vec::new();
    for y in 0..2048u32 {
        for x in 0..2048u32 {
            let idx = (p << 22) | (y << 11) | x;
            let mut h = idx.wrapping_mul(2_654_435_761);
            h ^= h >> 16;
            h = h.wrapping_mul(0x45d_9f3b);
            h ^= h >> 16;
            out.push((1000 + ((x + y) >> 2) + 7 * p + (h & 15)) as u16);
        }
    }
    out
}
