//! `h5sink demo OUT.h5`: a showcase file touching every supported feature, with a
//! printed summary of what it holds (each line can be checked with h5py or h5dump).

use h5sink::{
    BigEndian, Complex, Datatype, File, FixedAscii, FixedAsciiNullTerm, FixedUtf8,
    FixedUtf8NullTerm, H5Type, VarLenUnicode, UNLIMITED,
};

/// A camera state, stored as an HDF5 enumeration over u8.
#[derive(H5Type, Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
enum State {
    Idle = 0,
    Exposing = 1,
    Readout = 2,
}

/// Per-frame metadata, stored as an HDF5 compound (a numpy structured array).
#[derive(H5Type, Clone, Copy, Debug)]
#[repr(C)]
struct FrameInfo {
    timestamp: f64,
    exposure: f32,
    gain: u16,
    state: State,
    saturated: bool,
    roi: [u16; 4],
    label: FixedAscii<8>,
}

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

    // every element type beyond numbers
    let info = f
        .dataset::<FrameInfo>("/camera/frame_info")
        .frames([])
        .chunk_frames(16)
        .create()?;
    for i in 0..10u16 {
        info.append(&[FrameInfo {
            timestamp: f64::from(i) * 0.01,
            exposure: 0.004,
            gain: 100 + i,
            state: [State::Idle, State::Exposing, State::Readout][usize::from(i % 3)],
            saturated: i == 7,
            roi: [0, 0, 64, 48],
            label: FixedAscii::new(&format!("frame{i}"))?,
        }])?;
    }
    say("/camera/frame_info: compound (10,) {timestamp <f8, exposure <f4, gain <u2, state enum(u1) Idle=0 Exposing=1 Readout=2, saturated bool, roi <u2 (4,), label S8}, record i = (0.01 i, 0.004, 100 + i, state i % 3, i == 7, [0 0 64 48], b'frame{i}')".into());
    f.create_group("/types")?;
    let types = f.group("/types")?;
    f.dataset::<bool>("/types/bool")
        .shape([4])
        .create_with_data(&[true, false, false, true])?;
    say("/types/bool: bool (4,) = [True False False True] (enum FALSE/TRUE over int8)".into());
    f.dataset::<State>("/types/enum")
        .shape([2, 2])
        .chunk([1, 2])
        .create_with_data(&[State::Readout, State::Idle, State::Exposing, State::Readout])?;
    say(
        "/types/enum: enum over uint8 {Idle: 0, Exposing: 1, Readout: 2} (2, 2) = [[2 0] [1 2]]"
            .into(),
    );
    f.dataset::<Complex<f32>>("/types/complex64")
        .shape([2])
        .create_with_data(&[Complex::new(1.0, -1.0), Complex::new(0.5, 2.0)])?;
    f.dataset::<Complex<f64>>("/types/complex128")
        .shape([])
        .compact()
        .create_with_data(&[Complex::new(3.0, 4.0)])?;
    say("/types/complex64: complex64 (2,) = [1-1j 0.5+2j]; /types/complex128: complex128 scalar = 3+4j (compound of r, i)".into());
    // f16 from raw bits (the `half` feature adds `half::f16` as an element type)
    let halfs: Vec<u8> = [0x3c00u16, 0xc000, 0x3800]
        .iter()
        .flat_map(|b| b.to_le_bytes())
        .collect();
    f.dataset::<u8>("/types/float16")
        .datatype(Datatype::Float {
            size: 2,
            order: h5sink::ByteOrder::LittleEndian,
        })
        .shape([3])
        .create_with_data(&halfs)?;
    say("/types/float16: float16 (3,) = [1 -2 0.5]".into());
    f.dataset::<BigEndian<u32>>("/types/uint32_be")
        .shape([3])
        .create_with_data(&[BigEndian(1), BigEndian(256), BigEndian(65536)])?;
    f.dataset::<BigEndian<f64>>("/types/float64_be")
        .shape([2])
        .create_with_data(&[BigEndian(0.5), BigEndian(-1e10)])?;
    say(
        "/types/uint32_be: >u4 (3,) = [1 256 65536]; /types/float64_be: >f8 (2,) = [0.5 -1e10]"
            .into(),
    );
    let arrays: Vec<[[i16; 3]; 2]> = (0..3)
        .map(|i| [[i, i + 1, i + 2], [-i, -i - 1, -i - 2]])
        .collect();
    f.dataset::<[[i16; 3]; 2]>("/types/array")
        .shape([3])
        .create_with_data(&arrays)?;
    say("/types/array: array type int16 (2, 3), (3,) elements; element i = [[i i+1 i+2] [-i -i-1 -i-2]]".into());
    f.dataset::<FixedAscii<5>>("/types/fixed_ascii")
        .shape([2])
        .create_with_data(&[FixedAscii::new("hello")?, FixedAscii::new("hi")?])?;
    f.dataset::<FixedUtf8<6>>("/types/fixed_utf8")
        .shape([2])
        .create_with_data(&[FixedUtf8::new("héllo")?, FixedUtf8::new("ü")?])?;
    f.dataset::<FixedAsciiNullTerm<4>>("/types/fixed_ascii_nullterm")
        .shape([1])
        .create_with_data(&[FixedAsciiNullTerm::new("abc")?])?;
    f.dataset::<FixedUtf8NullTerm<4>>("/types/fixed_utf8_nullterm")
        .shape([1])
        .create_with_data(&[FixedUtf8NullTerm::new("ø")?])?;
    say("/types/fixed_ascii: S5 (2,) = [b'hello' b'hi']; fixed_utf8: S6 UTF-8 = ['héllo' 'ü']; fixed_ascii_nullterm: S4 null-terminated = [b'abc']; fixed_utf8_nullterm: S4 UTF-8 null-terminated = ['ø']".into());
    f.dataset::<VarLenUnicode>("/types/strings")
        .shape([3])
        .create()?
        .write_strs(&["variable", "", "länge"])?;
    let log = f
        .dataset::<VarLenUnicode>("/types/log")
        .frames([])
        .create()?;
    log.append_strs(&["started"])?;
    log.append_strs(&["frame 1 saved", "stopped"])?;
    say("/types/strings: variable-length UTF-8 str (3,) = ['variable' '' 'länge']; /types/log: appended (3,) = ['started' 'frame 1 saved' 'stopped']".into());
    let sparse = f
        .dataset::<FrameInfo>("/types/sparse_records")
        .shape([4])
        .chunk([2])
        .fill_value(FrameInfo {
            timestamp: -1.0,
            exposure: 0.0,
            gain: 0,
            state: State::Idle,
            saturated: false,
            roi: [0; 4],
            label: FixedAscii::new("unset")?,
        })
        .create()?;
    sparse.write_region(
        &[1],
        &[1],
        &[FrameInfo {
            timestamp: 2.5,
            exposure: 0.1,
            gain: 7,
            state: State::Readout,
            saturated: true,
            roi: [1, 2, 3, 4],
            label: FixedAscii::new("written")?,
        }],
    )?;
    say("/types/sparse_records: compound (4,), chunks (2,), fill value (-1, 0, 0, Idle, False, [0 0 0 0], b'unset'); element 1 = (2.5, 0.1, 7, Readout, True, [1 2 3 4], b'written')".into());
    types.attr("state").write_scalar(State::Exposing)?;
    types.attr("valid").write_scalar(true)?;
    types
        .attr("impedance")
        .write(&[Complex::new(50.0f64, 0.5)])?;
    types.attr("first_record").write_scalar(FrameInfo {
        timestamp: 0.0,
        exposure: 0.004,
        gain: 100,
        state: State::Idle,
        saturated: false,
        roi: [0, 0, 64, 48],
        label: FixedAscii::new("frame0")?,
    })?;
    say("/types @state = 1 (enum Exposing), @valid = True, @impedance = [50+0.5j], @first_record = compound (0, 0.004, 100, Idle, False, [0 0 64 48], b'frame0')".into());

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
