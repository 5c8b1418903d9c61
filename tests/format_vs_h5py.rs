//! Our encoders against bytes that libhdf5 itself wrote (through h5py).

use std::process::Command;

mod common;
use common::python;

fn h5py_file(code: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.h5");
    let out = Command::new(python())
        .arg("-c")
        .arg(code)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

/// The checksum h5py (libhdf5 2.0) stores in a version-3 superblock is our lookup3
/// over its first 44 bytes; and a superblock we encode with the same fields is
/// byte-identical apart from the version and the flags libhdf5 keeps there.
#[test]
fn superblock_checksum_matches_libhdf5() {
    let bytes = h5py_file("import sys, h5py\nh5py.File(sys.argv[1], 'w', libver='latest').close()");
    assert_eq!(
        &bytes[..9],
        b"\x89HDF\r\n\x1a\n\x03",
        "a version-3 superblock"
    );
    let stored = u32::from_le_bytes(bytes[44..48].try_into().unwrap());
    assert_eq!(h5sink::encode::hashlittle(&bytes[..44], 0), stored);

    let field = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let sb = h5sink::format::superblock::SuperblockV2 {
        sizes: h5sink::format::Sizes::DEFAULT,
        eof: field(28),
        root: field(36),
    };
    let mut ours = Vec::new();
    sb.encode(&mut ours);
    assert_eq!(&ours[9..11], &bytes[9..11], "sizes of offsets and lengths");
    assert_eq!(&ours[12..20], &bytes[12..20], "base address");
    assert_eq!(&ours[28..44], &bytes[28..44], "EOF and root addresses");
}

/// An object header checksum computed by libhdf5 (the root group's OHDR of a
/// `libver='latest'` file) equals our lookup3 over the same bytes.
#[test]
fn object_header_checksum_matches_libhdf5() {
    let bytes = h5py_file(
        "import sys, h5py\nh5py.File(sys.argv[1], 'w', libver='latest', track_order=False).close()",
    );
    let root = u64::from_le_bytes(bytes[36..44].try_into().unwrap()) as usize;
    assert_eq!(&bytes[root..root + 4], b"OHDR");
    let flags = bytes[root + 5];
    let mut at = root + 6;
    if flags & 0x20 != 0 {
        at += 16;
    }
    if flags & 0x10 != 0 {
        at += 4;
    }
    let width = 1usize << (flags & 3);
    let mut size = 0usize;
    for i in 0..width {
        size |= (bytes[at + i] as usize) << (8 * i);
    }
    let end = at + width + size;
    let stored = u32::from_le_bytes(bytes[end..end + 4].try_into().unwrap());
    assert_eq!(h5sink::encode::hashlittle(&bytes[root..end], 0), stored);
}
