use h5sink::File;
fn main() -> h5sink::Result<()> {
    let f = File::create("/tmp/smoke.h5")?;
    f.root().attr("instrument").write_str("sCMOS-1")?;
    f.root().attr("gain").write_scalar(2.5f64)?;
    f.root().attr("roi").write(&[1u32, 2, 3, 4])?;
    let g = f.create_group("/camera")?;
    g.attr("note").write_fixed_str("héllo")?;
    g.attr("names").write_strs(&["", "a", "héllo wörld"])?;
    f.create_group("/camera/sub")?;
    let data: Vec<u16> = (0..60).collect();
    let d = f
        .dataset::<u16>("/camera/contig")
        .shape([5, 12])
        .create_with_data(&data)?;
    d.attr("units").write_str("counts")?;
    f.dataset::<i32>("/camera/compact")
        .shape([3, 4])
        .compact()
        .create_with_data(&(0..12).collect::<Vec<i32>>())?;
    let c = f
        .dataset::<f32>("/camera/chunked")
        .shape([10, 7])
        .chunk([3, 4])
        .fill_value(-1.0)
        .create()?;
    c.write_region(
        &[1, 1],
        &[4, 5],
        &(0..20).map(|x| x as f32).collect::<Vec<_>>(),
    )?;
    f.dataset::<u8>("/scalar")
        .shape([])
        .create_with_data(&[42])?;
    let s = f.finish()?;
    println!("{s:?}");
    Ok(())
}
