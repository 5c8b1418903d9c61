use h5sink::File;
fn main() -> h5sink::Result<()> {
    let f = File::create("/tmp/append.h5")?;
    // whole-frame chunks, 8 frames per chunk, flush at odd points
    let a = f
        .dataset::<u16>("/a")
        .frames([3, 5])
        .chunk_frames(8)
        .create()?;
    // split chunks with edges
    let b = f
        .dataset::<i32>("/b")
        .frames([7, 5])
        .chunk([3, 4, 2])
        .fill_value(-7)
        .create()?;
    // many chunks: 1-D scalar stream, chunk 1 -> deep tree
    let c = f.dataset::<f64>("/c").frames([]).chunk_frames(1).create()?;
    let mut n = 0u64;
    for i in 0..300u64 {
        let k = (i % 5) + 1;
        let fa: Vec<u16> = (0..k * 15).map(|x| (n * 15 + x) as u16).collect();
        a.append(&fa)?;
        let fb: Vec<i32> = (0..k * 35).map(|x| (n * 35 + x) as i32).collect();
        b.append(&fb)?;
        n += k;
        if i % 7 == 3 {
            f.flush()?;
        }
    }
    for i in 0..300_000u64 {
        c.append(&[i as f64])?;
        if i % 50_000 == 0 {
            f.flush()?;
        }
    }
    b.resize([n + 5, 7, 5])?;
    println!("{n}");
    f.finish()?;
    Ok(())
}
