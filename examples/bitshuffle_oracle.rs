//! Compares our bitshuffle+LZ4 chunk bytes with the ones hdf5plugin wrote
//! (`/tmp/bs_{d,e}.bin` from the raw data `/tmp/bs_{d,e}.raw`).
fn main() {
    for (n, es) in [("d", 2usize), ("e", 4)] {
        let raw = std::fs::read(format!("/tmp/bs_{n}.raw")).unwrap();
        let theirs = std::fs::read(format!("/tmp/bs_{n}.bin")).unwrap();
        let p = h5sink::filters::Pipeline {
            filters: vec![h5sink::filters::Filter::BitshuffleLz4],
        };
        let ours = p.encode(&raw, es);
        println!(
            "{n}: ours {} theirs {} identical {}",
            ours.bytes.len(),
            theirs.len(),
            ours.bytes == theirs
        );
        let back = p.decode(&theirs, 0, es, raw.len()).unwrap();
        println!("{n}: decoding theirs gives the raw data: {}", back == raw);
    }
}
