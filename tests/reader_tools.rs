//! What libhdf5's own tools and object-info calls see in our files: attribute counts
//! (through the attribute info message), B-tree sibling links (h5stat and h5py
//! `visititems` walk them), and names at the message-size limit.

use h5sink::{Error, File};
use std::path::Path;
use std::process::Command;

mod common;

fn py(code: &str, path: &Path) -> String {
    common::run_python(code, &[path])
}

#[test]
fn attribute_counts_and_sibling_links() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tools.h5");
    let f = File::create(&path).unwrap();
    f.root().attr("a").write_scalar(1u8).unwrap();
    f.root().attr("b").write_str("two").unwrap();
    let g = f.create_group("/g").unwrap();
    for i in 0..12 {
        g.attr(&format!("attr{i:02}"))
            .write_scalar(i as f32)
            .unwrap();
    }
    // 300 chunks: five leaves and a root, with sibling links between the leaves
    let d = f
        .dataset::<u16>("/g/frames")
        .frames([4, 4])
        .create()
        .unwrap();
    d.attr("units").write_str("counts").unwrap();
    for i in 0..300u16 {
        d.append(&[i; 16]).unwrap();
        if i % 50 == 7 {
            f.flush().unwrap();
        }
    }
    f.finish().unwrap();
    let out = py(
        "import sys, h5py\n\
         from h5py import h5o\n\
         f = h5py.File(sys.argv[1], 'r')\n\
         counts = [h5o.get_info(f[p].id).num_attrs for p in ('/', '/g', '/g/frames')]\n\
         assert counts == [2, 12, 1], counts\n\
         assert len(f['g'].attrs) == 12\n\
         seen = []\n\
         f.visititems(lambda n, o: seen.append(n))\n\
         assert seen == ['g', 'g/frames'], seen\n\
         assert (f['g/frames'][:, 0, 0] == range(300)).all()\n\
         print('ok')",
        &path,
    );
    assert!(out.contains("ok"));
    let stat = Command::new("h5stat")
        .arg(&path)
        .output()
        .expect("h5stat (hdf5-tools)");
    let text = String::from_utf8_lossy(&stat.stdout);
    assert!(
        stat.status.success(),
        "h5stat failed: {}",
        String::from_utf8_lossy(&stat.stderr)
    );
    assert!(text.contains("# of unique datasets: 1"), "{text}");
}

#[test]
fn names_at_the_message_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.h5");
    let f = File::create(&path).unwrap();
    let long = "n".repeat(65_000);
    f.create_group(&format!("/{long}")).unwrap();
    let too_long = "n".repeat(65_001);
    assert!(matches!(
        f.create_group(&format!("/{too_long}")),
        Err(Error::InvalidName { .. })
    ));
    assert!(matches!(
        f.root().attr(&too_long).write_scalar(1u8),
        Err(Error::InvalidName { .. })
    ));
    f.finish().unwrap();
    let out = py(
        "import sys, h5py\nf = h5py.File(sys.argv[1], 'r')\nprint(len(list(f)[0]))",
        &path,
    );
    assert!(out.contains("65000"), "{out}");
}
