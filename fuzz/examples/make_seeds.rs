//! Writes the h5sink seed files of `fuzz/seeds/` (small on purpose: the fuzzer reads
//! each one on every mutation). Run from `fuzz/`: `cargo run --example make_seeds`.
//! The h5py seeds come from `seeds/make_h5py_seeds.py`.

use h5sink::sink::testing::{replay, RecordingStorage};

use h5sink::{File, MemStorage, VarLenUnicode};

type R = Result<(), Box<dyn std::error::Error>>;

fn save(name: &str, bytes: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    std::fs::write(dir.join(name), bytes).unwrap();
    // the same file for the checksum-fixing mode of the parse target
    let mut fixed = vec![0xA5];
    fixed.extend_from_slice(bytes);
    std::fs::write(dir.join(format!("fix-{name}")), fixed).unwrap();
    println!("{name}: {} bytes", bytes.len());
}

/// Groups, attributes of every kind, contiguous, compact and vlen-string datasets.
fn groups_attrs() -> R {
    let s = MemStorage::new();
    let f = File::options().create_in(s.clone())?;
    f.root().attr("title").write_str("seed")?;
    f.root().attr("version").write_scalar(3u32)?;
    let g = f.create_group("/a")?;
    g.attr("gains").write(&[1.5f64, 2.5])?;
    g.attr("label").write_fixed_str("abc")?;
    f.create_group("/a/b")?;
    f.dataset::<i16>("/a/b/compact")
        .shape([2, 3])
        .compact()
        .create_with_data(&[1, -2, 3, -4, 5, -6])?;
    f.dataset::<f32>("/a/contig")
        .shape([4])
        .create_with_data(&[0.5; 4])?;
    f.dataset::<VarLenUnicode>("/a/names")
        .shape([2])
        .create()?
        .write_strs(&["x", "yz"])?;
    f.finish()?;
    save("h5sink-groups-attrs.hdf5", &s.bytes());
    Ok(())
}

/// A chunked dataset with shuffle + deflate + Fletcher-32, partly written.
fn filtered_regions() -> R {
    let s = MemStorage::new();
    let f = File::options().create_in(s.clone())?;
    let d = f
        .dataset::<u16>("/map")
        .shape([6, 8])
        .chunk([2, 3])
        .shuffle()
        .deflate(4)
        .fletcher32()
        .fill_value(7)
        .create()?;
    d.write_region(&[0, 0], &[2, 6], &[1u16; 12])?;
    d.write_region(&[4, 3], &[2, 5], &[9u16; 10])?;
    f.finish()?;
    save("h5sink-filtered-regions.hdf5", &s.bytes());
    Ok(())
}

/// Appended frames, 1 per chunk, enough for a two-level B-tree; LZ4 and bitshuffle.
fn appended() -> R {
    let s = MemStorage::new();
    let f = File::options().create_in(s.clone())?;
    let a = f
        .dataset::<u8>("/frames")
        .frames([2])
        .chunk_frames(1)
        .create()?;
    for i in 0..70u8 {
        a.append(&[i, i ^ 0x55])?;
    }
    let b = f.dataset::<u32>("/lz4").frames([4]).lz4().create()?;
    let c = f
        .dataset::<u16>("/bs")
        .frames([8])
        .chunk_frames(2)
        .bitshuffle_lz4()
        .create()?;
    for i in 0..3u32 {
        b.append(&[i; 4])?;
        c.append(&[i as u16; 16])?;
    }
    f.finish()?;
    save("h5sink-appended.hdf5", &s.bytes());
    Ok(())
}

/// A crash state: the file a kill leaves in the middle of a run (after a commit).
fn crashed() -> R {
    let rec = RecordingStorage::new();
    let f = File::options().create_in(rec.clone())?;
    let d = f
        .dataset::<u16>("/d")
        .frames([3])
        .chunk_frames(2)
        .deflate(1)
        .create()?;
    d.append(&[1, 2, 3, 4, 5, 6])?;
    f.flush()?;
    let committed = rec.op_count();
    d.append(&[7, 8, 9, 10, 11, 12, 13, 14, 15])?;
    f.flush()?;
    let ops = rec.ops();
    drop(f);
    let n = committed + (ops.len() - committed) / 2;
    let mut bytes = replay(&ops, n);
    // cut the preallocated tail (1 MiB): stored end of file = the last byte in use
    let end = h5sink::read::verify(&bytes).high_water;
    bytes.truncate(end as usize);
    bytes[28..36].copy_from_slice(&end.to_le_bytes());
    let sum = h5sink::encode::hashlittle(&bytes[..44], 0);
    bytes[44..48].copy_from_slice(&sum.to_le_bytes());
    assert!(h5sink::read::verify(&bytes).is_ok());
    save("h5sink-crashed.hdf5", &bytes);
    Ok(())
}

fn main() -> R {
    groups_attrs()?;
    filtered_regions()?;
    appended()?;
    crashed()?;
    Ok(())
}
