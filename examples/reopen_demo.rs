//! Reopens a copy of the demo file, appends 5 frames to /camera/frames and adds a group.
fn main() -> h5sink::Result<()> {
    let path = std::env::args().nth(1).expect("a demo file");
    let f = h5sink::File::open_append(&path)?;
    let frames = f.open_dataset::<u16>("/camera/frames")?;
    let n = frames.len() as u32;
    for i in n..n + 5 {
        let frame: Vec<u16> = (0..48 * 64u32)
            .map(|p| ((p % 64) + (p / 64) * 2 + i * 100) as u16)
            .collect();
        frames.append(&frame)?;
    }
    f.create_group("/after_reopen")?
        .attr("note")
        .write_str("added later")?;
    f.finish()?;
    Ok(())
}
