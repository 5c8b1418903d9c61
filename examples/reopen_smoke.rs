use h5sink::File;
fn frame(i: u64, n: u64) -> Vec<u16> {
    (0..n)
        .map(|j| ((i * 1009 + j * 7) % 65521) as u16)
        .collect()
}
fn main() -> h5sink::Result<()> {
    let path = "/tmp/reopen.h5";
    let f = File::create(path)?;
    f.root().attr("run").write_str("first")?;
    let a = f
        .dataset::<u16>("/a")
        .frames([4, 5])
        .chunk_frames(3)
        .create()?;
    let b = f
        .dataset::<u16>("/b")
        .frames([4, 5])
        .chunk([4, 2, 3])
        .shuffle()
        .deflate(4)
        .create()?;
    let c = f
        .dataset::<u16>("/c")
        .frames([20])
        .chunk_frames(1)
        .create()?;
    f.dataset::<i32>("/fixed")
        .shape([5, 5])
        .chunk([2, 2])
        .create_with_data(&(0..25).collect::<Vec<i32>>())?;
    for i in 0..100 {
        a.append(&frame(i, 20))?;
        b.append(&frame(i, 20))?;
        c.append(&frame(i, 20))?;
    }
    f.finish()?;
    for round in 1..4u64 {
        let f = File::open_append(path)?;
        let a = f.open_dataset::<u16>("/a")?;
        let b = f.open_dataset::<u16>("/b")?;
        let c = f.open_dataset::<u16>("/c")?;
        let start = a.len();
        for i in start..start + 37 * round {
            a.append(&frame(i, 20))?;
            b.append(&frame(i, 20))?;
            c.append(&frame(i, 20))?;
            if i % 11 == 0 {
                f.flush()?;
            }
        }
        f.create_group(&format!("/round{round}"))?
            .attr("n")
            .write_scalar(round)?;
        f.finish()?;
    }
    println!("total {}", 100 + 37 * 6);
    Ok(())
}
