//! The reader on any input: `read::verify`, `File::parse`, and on every dataset of a
//! parsed file the chunk index, the data (filtered chunks decoded) and the elements
//! of variable-length datasets; then the file is reopened for append and continued (a
//! frame on every dataset that takes u16 frames, a group, an attribute, finish). None of
//! it may panic, hang or allocate without bound.
//!
//! An input starting with the byte 0xA5 is a file (the rest) whose superblock,
//! object header, chunk index header and fractal heap header checksums are
//! recomputed before reading: random mutations of a seed then reach the messages
//! inside the headers instead of stopping at a checksum.
#![no_main]

use h5sink::encode::hashlittle;
use h5sink::read;
use libfuzzer_sys::fuzz_target;

/// Recomputes the lookup3 checksums of a superblock v2/v3, of every "OHDR" chunk
/// whose size field fits the input, and of every fixed array, extensible array,
/// v2 B-tree and fractal heap header ("FAHD", "EAHD", "BTHD", "FRHP").
fn fix_checksums(b: &mut [u8]) {
    if b.len() >= 12 && matches!(b[8], 2 | 3) && matches!(b[9], 2 | 4 | 8) {
        let covered = 12 + 4 * usize::from(b[9]);
        if b.len() >= covered + 4 {
            let sum = hashlittle(&b[..covered], 0);
            b[covered..covered + 4].copy_from_slice(&sum.to_le_bytes());
        }
    }
    let mut p = 0;
    while p + 6 <= b.len() {
        if &b[p..p + 4] != b"OHDR" {
            p += 1;
            continue;
        }
        let flags = b[p + 5];
        let mut at = p + 6;
        if flags & 0x20 != 0 {
            at += 16;
        }
        if flags & 0x10 != 0 {
            at += 4;
        }
        let w = 1usize << (flags & 3);
        if at + w <= b.len() {
            let mut size = [0u8; 8];
            size[..w].copy_from_slice(&b[at..at + w]);
            let end = (at + w).saturating_add(u64::from_le_bytes(size).min(1 << 40) as usize);
            if end.saturating_add(4) <= b.len() {
                let sum = hashlittle(&b[p..end], 0);
                b[end..end + 4].copy_from_slice(&sum.to_le_bytes());
            }
        }
        p += 4;
    }
    // the fixed-size headers of the layout v4 chunk indexes and of dense storage
    // (8-byte addresses and lengths): fixed array, extensible array, v2 B-tree,
    // fractal heap (without I/O filters)
    for (sig, covered) in [
        (b"FAHD", 24usize),
        (b"EAHD", 68),
        (b"BTHD", 34),
        (b"FRHP", 142),
    ] {
        let mut p = 0;
        while p + covered + 4 <= b.len() {
            if &b[p..p + 4] == sig {
                let sum = hashlittle(&b[p..p + covered], 0);
                b[p + covered..p + covered + 4].copy_from_slice(&sum.to_le_bytes());
            }
            p += 1;
        }
    }
}

fn exercise(bytes: &[u8]) {
    let report = read::verify(bytes);
    // formatting every problem must not panic either
    let _ = report.to_string();
    let Ok(file) = read::File::parse(bytes) else {
        return;
    };
    let _ = file.check();
    for ds in file.datasets() {
        let _ = file.chunk_index(ds);
        // bounded: the default limit (64 × the input, 256 MiB at least) is too slow
        let _ = file.read(ds, 1 << 20);
        if ds.num_elements().saturating_mul(ds.element_size()) <= 1 << 20 {
            let _ = file.vlen_elements(ds);
        }
    }
    for o in file.objects() {
        for a in o.attrs() {
            let _ = a.strings();
        }
    }
}

/// Reopens `bytes` for append in memory and continues the file.
fn continue_file(bytes: &[u8]) {
    let mem = h5sink::MemStorage::from_bytes(bytes.to_vec());
    let Ok(f) = h5sink::File::options().open_append_in(mem, bytes) else {
        return;
    };
    if let Ok(file) = read::File::parse(bytes) {
        for ds in file.datasets() {
            let Some(frame) = ds.dims().get(1..).map(|d| d.iter().product::<u64>()) else {
                continue;
            };
            if let (Ok(d), true) = (f.open_dataset::<u16>(&ds.path), frame <= 4096) {
                let _ = d.append(&vec![7u16; frame as usize]);
            }
        }
    }
    let _ = f.create_group("/fuzz_added");
    let _ = f.root().attr("fuzz_added").write_scalar(1u8);
    let _ = f.finish();
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&0xA5) {
        let mut b = data[1..].to_vec();
        fix_checksums(&mut b);
        exercise(&b);
        continue_file(&b);
    } else {
        exercise(data);
        continue_file(data);
    }
});
