//! Appends to a file h5py wrote with default settings (superblock 0, v1 headers,
//! old-style groups): `cargo run --release --example legacy_smoke -- FILE`.
use h5sink::File;
fn main() -> h5sink::Result<()> {
    let path = std::env::args().nth(1).expect("a file h5py wrote");
    let f = File::open_append(&path)?;
    let d = f.open_dataset::<u16>("/frames")?;
    for i in 0..200u16 {
        d.append(&[i; 20])?;
        if i % 50 == 0 {
            f.flush()?;
        }
    }
    let g = f.create_group("/new")?;
    g.attr("x").write_scalar(5i32)?;
    f.dataset::<i32>("/grp/inner")
        .shape([3])
        .create_with_data(&[1, 2, 3])?;
    for n in 0..40 {
        f.create_group(&format!("/g{n:02}"))?;
    }
    f.finish()?;
    Ok(())
}
