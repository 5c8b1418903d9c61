use h5sink::File;
fn main() -> h5sink::Result<()> {
    let f = File::create("/tmp/filt.h5")?;
    let data: Vec<u16> = (0..100 * 120).map(|i| ((i / 7) % 1000) as u16).collect();
    f.dataset::<u16>("/sdf")
        .shape([100, 120])
        .chunk([30, 50])
        .shuffle()
        .deflate(4)
        .fletcher32()
        .create_with_data(&data)?;
    f.dataset::<u16>("/lz4")
        .shape([100, 120])
        .chunk([30, 50])
        .shuffle()
        .lz4()
        .create_with_data(&data)?;
    f.dataset::<u16>("/bslz4")
        .shape([100, 120])
        .chunk([30, 50])
        .bitshuffle_lz4()
        .create_with_data(&data)?;
    let bs = f
        .dataset::<u32>("/bsapp")
        .frames([13])
        .chunk_frames(5)
        .bitshuffle_lz4()
        .create()?;
    for i in 0..23u32 {
        bs.append(&(0..13).map(|x| i * 13 + x).collect::<Vec<u32>>())?;
        if i % 4 == 1 {
            f.flush()?;
        }
    }
    let noise: Vec<u8> = (0..10000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    f.dataset::<u8>("/raw")
        .shape([10000])
        .chunk([1000])
        .deflate(9)
        .create_with_data(&noise)?;
    let r = f
        .dataset::<i32>("/rmw")
        .shape([20, 20])
        .chunk([7, 7])
        .deflate(1)
        .fill_value(5)
        .create()?;
    r.write_region(&[0, 0], &[3, 3], &[1; 9])?;
    f.flush()?;
    r.write_region(&[2, 2], &[10, 10], &[2; 100])?;
    let a = f
        .dataset::<u16>("/app")
        .frames([6, 9])
        .chunk([4, 4, 4])
        .shuffle()
        .deflate(3)
        .create()?;
    let b = f
        .dataset::<f32>("/app1")
        .frames([50])
        .chunk_frames(16)
        .lz4()
        .fletcher32()
        .create()?;
    let mut n = 0u64;
    for i in 0..200u64 {
        let k = (i % 3) + 1;
        let fa: Vec<u16> = (0..k * 54).map(|x| ((n * 54 + x) % 65536) as u16).collect();
        a.append(&fa)?;
        let fb: Vec<f32> = (0..k * 50).map(|x| (n * 50 + x) as f32).collect();
        b.append(&fb)?;
        n += k;
        if i % 5 == 1 {
            f.flush()?;
        }
    }
    println!("{n}");
    f.finish()?;
    Ok(())
}
