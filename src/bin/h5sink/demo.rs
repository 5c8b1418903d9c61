//! `h5sink demo OUT.h5`: a showcase file touching every supported feature, with a
//! printed summary of what it holds (each line can be checked with h5py or h5dump).

use h5sink::{File, UNLIMITED};

type BoxError = Box<dyn std::error::Error>;

pub fn run(out: &str) -> Result<(), BoxError> {
    let f = File::create(out)?;
    let mut lines: Vec<String> = Vec::new();
    let mut say = |s: String| lines.push(s);

    // root attributes: strings and numbers
    let root = f.root();
    root.attr("title")
        .write_str("h5sink demo: a simulated camera run")?;
    root.attr("instrument").write_fixed_str("sCMOS-1")?;
    root.attr("version").write_scalar(1u32)?;
    root.attr("exposure_s").write_scalar(0.004f64)?;
    root.attr("roi").write(&[0i32, 0, 64, 48])?;
    root.attr("tags").write_strs(&["demo", "camera", "unité"])?;
    say("/ @title = 'h5sink demo: a simulated camera run' (variable-length UTF-8 string)".into());
    say("/ @instrument = b'sCMOS-1' (fixed-length ASCII string)".into());
    say(
        "/ @version = 1 (uint32), @exposure_s = 0.004 (float64), @roi = [0 0 64 48] (int32)".into(),
    );
    say("/ @tags = ['demo', 'camera', 'unité'] (variable-length strings)".into());

    // groups by path
    f.create_group("/camera")?;
    f.create_group("/camera/calibration")?;
    f.create_group("/analysis")?;
    f.create_group("/analysis/stats")?;
    say("groups: /camera, /camera/calibration, /analysis, /analysis/stats".into());

    // an extendable stack of frames, appended one at a time, committed as it goes
    let frames = f
        .dataset::<u16>("/camera/frames")
        .frames([48, 64])
        .chunk_frames(4)
        .create()?;
    frames.attr("units").write_str("counts")?;
    for i in 0..10u32 {
        let frame: Vec<u16> = (0..48 * 64u32)
            .map(|p| ((p % 64) + (p / 64) * 2 + i * 100) as u16)
            .collect();
        frames.append(&frame)?;
        if i % 3 == 2 {
            f.flush()?;
        }
    }
    say("/camera/frames: uint16 (10, 48, 64), max (None, 48, 64), chunks (4, 48, 64); frame i pixel (y, x) = x + 2y + 100i; @units = 'counts'".into());

    // per-frame timestamps appended alongside
    let ts = f
        .dataset::<f64>("/camera/timestamps")
        .frames([])
        .chunk_frames(1024)
        .create()?;
    let times: Vec<f64> = (0..10).map(|i| i as f64 * 0.01).collect();
    ts.append(&times)?;
    say("/camera/timestamps: float64 (10,), max (None,), chunks (1024,); value i = 0.01 i".into());

    // fixed-shape datasets in the three layouts, of every numeric type
    let dark: Vec<f32> = (0..48 * 64).map(|p| (p % 7) as f32 * 0.5).collect();
    let d = f
        .dataset::<f32>("/camera/calibration/dark")
        .shape([48, 64])
        .create_with_data(&dark)?;
    d.attr("method").write_fixed_str("median of 100 frames")?;
    say("/camera/calibration/dark: float32 (48, 64) contiguous; element p (row-major) = (p % 7) * 0.5".into());
    f.dataset::<i8>("/camera/calibration/bad_pixels")
        .shape([2, 3])
        .compact()
        .create_with_data(&[-1, 0, 1, 2, -128, 127])?;
    say("/camera/calibration/bad_pixels: int8 (2, 3) compact = [[-1 0 1] [2 -128 127]]".into());
    macro_rules! typed {
        ($($t:ty => $name:literal),*) => {$(
            let v: Vec<$t> = (0..12).map(|i| (i as $t)).collect();
            f.dataset::<$t>(concat!("/analysis/", $name)).shape([3, 4]).chunk([2, 3]).create_with_data(&v)?;
        )*};
    }
    typed!(u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64", i8 => "i8", i16 => "i16",
           i32 => "i32", i64 => "i64", f32 => "f32", f64 => "f64");
    say("/analysis/{u8,u16,u32,u64,i8,i16,i32,i64,f32,f64}: (3, 4), chunks (2, 3), values 0..11 row-major".into());

    // a chunked dataset written by hyperslabs, partly: the rest reads as the fill value
    let h = f
        .dataset::<i32>("/analysis/stats/histogram")
        .shape([8, 8])
        .chunk([3, 3])
        .fill_value(-1)
        .create()?;
    h.write_region(&[2, 2], &[3, 4], &(0..12).collect::<Vec<i32>>())?;
    h.write_region(&[0, 6], &[2, 2], &[100, 101, 102, 103])?;
    say("/analysis/stats/histogram: int32 (8, 8), chunks (3, 3), fill -1; rows 2..5 x cols 2..6 = 0..11; rows 0..2 x cols 6..8 = 100..103".into());

    // an extendable dataset grown with resize: the new rows read as the fill value
    let grown = f
        .dataset::<u8>("/analysis/stats/grown")
        .shape([2, 3])
        .max_shape([UNLIMITED, 3])
        .chunk([2, 3])
        .fill_value(9)
        .create()?;
    grown.append(&[1, 2, 3, 4, 5, 6])?;
    grown.resize([6, 3])?;
    say("/analysis/stats/grown: uint8 (6, 3), max (None, 3), fill 9; rows 2..4 = [[1 2 3] [4 5 6]], other rows 9".into());

    f.dataset::<f64>("/analysis/stats/mean")
        .shape([])
        .create_with_data(&[42.5])?;
    say("/analysis/stats/mean: float64 scalar = 42.5".into());

    let s = f.finish()?;
    println!(
        "wrote {out}: {} bytes, {} groups, {} datasets",
        s.file_size, s.groups, s.datasets
    );
    for l in lines {
        println!("  {l}");
    }
    Ok(())
}
