//! Random sequences of writer operations on a recording in-memory storage, with
//! simulated crashes checked by the reader.
//!
//! Operations: create a group, an extendable frame dataset (any filters, encoded on 1 to
//! 3 threads) or a fixed-shape dataset (any layout, filters, fill value), append frames, write a region, add an attribute,
//! flush (commit), and crash: the file a `kill -9` after any earlier storage operation
//! would leave (a prefix of the recorded writes). Every crash state and the finished
//! file must pass `read::verify`; every object created before the last commit the
//! state includes must be there; extendable datasets must hold a prefix of what was
//! appended, at least as long as that commit covered; elements of fixed-shape
//! datasets not written since that commit must hold their committed value. Writer
//! errors (refused shapes, duplicate names) are fine; panics are not.
#![no_main]

use arbitrary::Arbitrary;
use h5sink::filters::{Filter, Pipeline};
use h5sink::read;
use h5sink::sink::testing::{replay, RecordingStorage};
use h5sink::{Dataset, File, Group};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    CreateGroup {
        parent: u8,
        name: u8,
    },
    CreateFrames {
        group: u8,
        name: u8,
        frame: Vec<u8>,
        chunk_frames: u8,
        filters: u8,
        level: u8,
        threads: u8,
    },
    CreateFixed {
        group: u8,
        name: u8,
        shape: Vec<u8>,
        chunk: Option<Vec<u8>>,
        layout: u8,
        filters: u8,
        level: u8,
        fill: Option<u16>,
    },
    Append {
        ds: u8,
        frames: u8,
        seed: u16,
    },
    WriteRegion {
        ds: u8,
        start: Vec<u8>,
        count: Vec<u8>,
        seed: u16,
    },
    Attr {
        target: u8,
        name: u8,
        value: AttrValue,
    },
    Flush,
    Crash {
        at: u16,
    },
    /// Close (cleanly, or by a crash after the last storage operation) and reopen with
    /// `open_append_in`, then go on with handles opened anew.
    Reopen {
        crash: bool,
    },
}

#[derive(Arbitrary, Debug, Clone, PartialEq)]
enum AttrValue {
    U32(u32),
    F64s(Vec<u16>),
    Str(String),
}

/// A group of the model: created after `gen` commits had completed.
struct GroupM {
    path: String,
    handle: Option<Group>,
    gen: u32,
}

struct DsM {
    path: String,
    /// `None` when a reopened file would not give one back.
    handle: Option<Dataset<u16>>,
    gen: u32,
    kind: Kind,
}

enum Kind {
    /// Frames of `frame` elements; `appended` all values so far.
    Frames { frame: usize, appended: Vec<u16> },
    /// Current values, and for each element the commit generation of its last write.
    Fixed {
        shape: Vec<u64>,
        data: Vec<u16>,
        written: Vec<u32>,
    },
}

struct AttrM {
    object: String,
    name: String,
    value: AttrValue,
    gen: u32,
}

/// The model: what was done, and after how many completed commits.
struct Model {
    groups: Vec<GroupM>,
    datasets: Vec<DsM>,
    attrs: Vec<AttrM>,
    /// Storage operation count at the return of each completed flush.
    commits: Vec<usize>,
}

impl Model {
    fn gen(&self) -> u32 {
        self.commits.len() as u32
    }
}

fn pipeline(bits: u8, level: u8) -> Pipeline {
    let mut f = Vec::new();
    if bits & 1 != 0 {
        f.push(Filter::Shuffle);
    }
    if bits & 2 != 0 {
        f.push(Filter::Deflate(level % 10));
    }
    if bits & 4 != 0 {
        f.push(Filter::Lz4);
    }
    if bits & 8 != 0 {
        f.push(Filter::BitshuffleLz4);
    }
    if bits & 16 != 0 {
        f.push(Filter::Fletcher32);
    }
    Pipeline { filters: f }
}

fn value(seed: u16, i: usize) -> u16 {
    (u32::from(seed).wrapping_mul(31).wrapping_add(i as u32 * 7) % 65_521) as u16
}

fn dims(v: &[u8], max_rank: usize, max_dim: u8) -> Vec<u64> {
    v.iter()
        .take(max_rank)
        .map(|&d| u64::from(d % (max_dim + 1)))
        .collect()
}

fn attr_ok(a: &read::Attribute, v: &AttrValue) -> bool {
    match v {
        AttrValue::U32(x) => a.raw == x.to_le_bytes(),
        AttrValue::F64s(xs) => {
            let want: Vec<u8> = xs
                .iter()
                .flat_map(|&x| (f64::from(x) * 0.5).to_le_bytes())
                .collect();
            a.raw == want
        }
        AttrValue::Str(s) => a.strings() == Some(vec![s.clone()]),
    }
}

/// Checks a crash state: `committed` commits completed before it.
fn check_state(bytes: &[u8], m: &Model, committed: u32, label: &str) {
    if committed == 0 && (bytes.len() < 8 || bytes[..4] != *b"\x89HDF") {
        return;
    }
    let report = read::verify(bytes);
    assert!(report.is_ok(), "{label}: verify failed:\n{report}");
    let f = read::File::parse(bytes).unwrap_or_else(|e| panic!("{label}: parse: {e}"));
    for g in &m.groups {
        if g.gen < committed {
            f.group(&g.path)
                .unwrap_or_else(|e| panic!("{label}: committed group {}: {e}", g.path));
        }
    }
    for a in &m.attrs {
        if a.gen < committed {
            let o = f
                .get(&a.object)
                .unwrap_or_else(|e| panic!("{label}: {}: {e}", a.object));
            let got = o
                .attr(&a.name)
                .unwrap_or_else(|| panic!("{label}: {}@{} missing", a.object, a.name));
            assert!(
                attr_ok(got, &a.value),
                "{label}: {}@{}: {got:?} is not {:?}",
                a.object,
                a.name,
                a.value
            );
        }
    }
    for d in &m.datasets {
        let ds = match f.dataset(&d.path) {
            Ok(ds) => ds,
            Err(e) => {
                assert!(
                    d.gen >= committed,
                    "{label}: committed dataset {}: {e}",
                    d.path
                );
                continue;
            }
        };
        let raw = f
            .dataset_bytes(&d.path)
            .unwrap_or_else(|e| panic!("{label}: reading {}: {e}", d.path));
        let vals: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        match &d.kind {
            Kind::Frames { frame, appended } => {
                let n = ds.dims()[0] as usize;
                assert!(
                    vals.len() == n * frame && vals.len() <= appended.len(),
                    "{label}: {}: {n} frames of {frame}, {} values appended",
                    d.path,
                    appended.len()
                );
                assert!(
                    vals[..] == appended[..vals.len()],
                    "{label}: {}: not a prefix of the appended frames",
                    d.path
                );
            }
            Kind::Fixed {
                shape,
                data,
                written,
            } => {
                assert_eq!(ds.dims(), &shape[..], "{label}: {}: shape", d.path);
                for (i, (&v, &w)) in vals.iter().zip(data).enumerate() {
                    if written[i] < committed {
                        assert_eq!(v, w, "{label}: {}: element {i}", d.path);
                    }
                }
            }
        }
    }
}

/// After a reopen: the model becomes what the reopened state holds (it was checked
/// against the model first): objects created since the last commit may be missing,
/// frame datasets may hold more frames than committed, and fixed datasets values
/// written since. Everything left is committed (generation 0) and gets a new handle.
fn resync(m: &mut Model, file: &File, state: &[u8], label: &str) {
    let f = read::File::parse(state).unwrap_or_else(|e| panic!("{label}: parse: {e}"));
    m.groups.retain(|g| f.group(&g.path).is_ok());
    for g in &mut m.groups {
        g.gen = 0;
        g.handle = if g.path == "/" {
            Some(file.root())
        } else {
            file.group(&g.path).ok()
        };
        assert!(
            g.handle.is_some(),
            "{label}: reopened file lacks group {}",
            g.path
        );
    }
    m.attrs.retain(|a| {
        f.get(&a.object)
            .ok()
            .and_then(|o| o.attr(&a.name))
            .is_some()
    });
    for a in &mut m.attrs {
        a.gen = 0;
    }
    m.datasets.retain(|d| f.dataset(&d.path).is_ok());
    for d in &mut m.datasets {
        d.gen = 0;
        let raw = f.dataset_bytes(&d.path).expect("checked");
        let vals: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        match &mut d.kind {
            Kind::Frames { appended, .. } => {
                appended.truncate(vals.len());
                assert_eq!(*appended, vals, "{label}: {}", d.path);
            }
            Kind::Fixed { data, written, .. } => {
                *data = vals;
                written.iter_mut().for_each(|w| *w = 0);
            }
        }
        d.handle = file.open_dataset::<u16>(&d.path).ok();
        if matches!(d.kind, Kind::Frames { .. }) {
            assert!(
                d.handle.is_some(),
                "{label}: cannot reopen {}: {:?}",
                d.path,
                file.open_dataset::<u16>(&d.path).err()
            );
        }
    }
}

/// The length of a frame dataset when commit `gen` (0-based) completed: crash states
/// that include that commit hold at least these frames.
struct FrameCommit {
    ds: usize,
    gen: u32,
    frames: u64,
}

fuzz_target!(|ops: Vec<Op>| {
    let mut rec = RecordingStorage::new();
    let Ok(mut file) = File::options().create_in(rec.clone()) else {
        return;
    };
    let mut m = Model {
        groups: vec![GroupM {
            path: "/".into(),
            handle: Some(file.root()),
            gen: 0,
        }],
        datasets: Vec::new(),
        attrs: Vec::new(),
        commits: Vec::new(),
    };
    let mut frame_commits: Vec<FrameCommit> = Vec::new();
    let mut total_elems = 0usize;
    let check_frames =
        |bytes: &[u8], fc: &[FrameCommit], m: &Model, committed: u32, label: &str| {
            if fc.iter().all(|c| c.gen >= committed) {
                return;
            }
            let f = read::File::parse(bytes).unwrap_or_else(|e| panic!("{label}: parse: {e}"));
            for c in fc.iter().filter(|c| c.gen < committed) {
                let d = &m.datasets[c.ds];
                let n = f.dataset(&d.path).map(|x| x.dims()[0]).unwrap_or(0);
                assert!(
                    n >= c.frames,
                    "{label}: {}: {n} frames, {} were committed",
                    d.path,
                    c.frames
                );
            }
        };
    for (step, op) in ops.into_iter().take(64).enumerate() {
        match op {
            Op::CreateGroup { parent, name } => {
                let p = &m.groups[usize::from(parent) % m.groups.len()];
                let name = format!("g{}", name % 6);
                let Some(ph) = &p.handle else { continue };
                if let Ok(h) = ph.create_group(&name) {
                    let path = h.path();
                    m.groups.push(GroupM {
                        path,
                        handle: Some(h),
                        gen: m.gen(),
                    });
                }
            }
            Op::CreateFrames {
                group,
                name,
                frame,
                chunk_frames,
                filters,
                level,
                threads,
            } => {
                let g = &m.groups[usize::from(group) % m.groups.len()];
                let frame = dims(&frame, 3, 6);
                let elems: u64 = frame.iter().product();
                let path = if g.path == "/" {
                    format!("/d{}", name % 6)
                } else {
                    format!("{}/d{}", g.path, name % 6)
                };
                let b = file
                    .dataset::<u16>(&path)
                    .frames(&frame)
                    .chunk_frames(u64::from(chunk_frames % 9))
                    .filters(pipeline(filters, level))
                    // 2 and 3: the encoding pool of filtered datasets
                    .threads(usize::from(threads % 3) + 1);
                if let Ok(h) = b.create() {
                    m.datasets.push(DsM {
                        path,
                        handle: Some(h),
                        gen: m.gen(),
                        kind: Kind::Frames {
                            frame: elems as usize,
                            appended: Vec::new(),
                        },
                    });
                }
            }
            Op::CreateFixed {
                group,
                name,
                shape,
                chunk,
                layout,
                filters,
                level,
                fill,
            } => {
                let g = &m.groups[usize::from(group) % m.groups.len()];
                let shape = dims(&shape, 3, 12);
                let n: u64 = shape.iter().product();
                let path = if g.path == "/" {
                    format!("/f{}", name % 6)
                } else {
                    format!("{}/f{}", g.path, name % 6)
                };
                let mut b = file.dataset::<u16>(&path).shape(&shape);
                match layout % 3 {
                    0 => b = b.contiguous(),
                    1 => b = b.compact(),
                    _ => {
                        let c = chunk
                            .as_deref()
                            .map_or_else(|| shape.clone(), |c| dims(c, 3, 12));
                        b = b.chunk(&c).filters(pipeline(filters, level));
                    }
                }
                if let Some(v) = fill {
                    b = b.fill_value(v);
                }
                if let Ok(h) = b.create() {
                    m.datasets.push(DsM {
                        path,
                        handle: Some(h),
                        gen: m.gen(),
                        kind: Kind::Fixed {
                            shape,
                            data: vec![fill.unwrap_or(0); n as usize],
                            written: vec![0; n as usize],
                        },
                    });
                }
            }
            Op::Append { ds, frames, seed } => {
                if m.datasets.is_empty() {
                    continue;
                }
                let i = usize::from(ds) % m.datasets.len();
                let d = &mut m.datasets[i];
                let Some(h) = &d.handle else { continue };
                if let Kind::Frames { frame, appended } = &mut d.kind {
                    let k = usize::from(frames % 5);
                    if total_elems + k * *frame > 1 << 16 {
                        continue;
                    }
                    let base = appended.len();
                    let data: Vec<u16> = (0..k * *frame).map(|j| value(seed, base + j)).collect();
                    if h.append(&data).is_ok() {
                        total_elems += data.len();
                        appended.extend_from_slice(&data);
                    }
                }
            }
            Op::WriteRegion {
                ds,
                start,
                count,
                seed,
            } => {
                if m.datasets.is_empty() {
                    continue;
                }
                let i = usize::from(ds) % m.datasets.len();
                let gen = m.gen();
                let d = &mut m.datasets[i];
                let Some(h) = &d.handle else { continue };
                let Kind::Fixed {
                    shape,
                    data,
                    written,
                } = &mut d.kind
                else {
                    continue;
                };
                if shape.contains(&0) {
                    continue;
                }
                let rank = shape.len();
                let st: Vec<u64> = (0..rank)
                    .map(|k| u64::from(*start.get(k).unwrap_or(&0)) % shape[k])
                    .collect();
                let ct: Vec<u64> = (0..rank)
                    .map(|k| 1 + u64::from(*count.get(k).unwrap_or(&0)) % (shape[k] - st[k]))
                    .collect();
                let n: u64 = ct.iter().product();
                let vals: Vec<u16> = (0..n as usize).map(|j| value(seed, j)).collect();
                if h.write_region(&st, &ct, &vals).is_ok() {
                    // row-major odometer over the region
                    let mut idx = vec![0u64; rank];
                    for &v in &vals {
                        let mut flat = 0u64;
                        for k in 0..rank {
                            flat = flat * shape[k] + st[k] + idx[k];
                        }
                        data[flat as usize] = v;
                        written[flat as usize] = gen;
                        for k in (0..rank).rev() {
                            idx[k] += 1;
                            if idx[k] < ct[k] {
                                break;
                            }
                            idx[k] = 0;
                        }
                    }
                }
            }
            Op::Attr {
                target,
                name,
                value: v,
            } => {
                let name = format!("a{}", name % 4);
                let ng = m.groups.len();
                let t = usize::from(target) % (ng + m.datasets.len());
                let (object, w) = if t < ng {
                    let Some(h) = &m.groups[t].handle else {
                        continue;
                    };
                    (m.groups[t].path.clone(), h.attr(&name))
                } else {
                    let d = &m.datasets[t - ng];
                    let Some(h) = &d.handle else { continue };
                    (d.path.clone(), h.attr(&name))
                };
                let r = match &v {
                    AttrValue::U32(x) => w.write_scalar(*x),
                    AttrValue::F64s(xs) => {
                        let f: Vec<f64> = xs.iter().map(|&x| f64::from(x) * 0.5).collect();
                        w.write(&f)
                    }
                    AttrValue::Str(s) => w.write_str(s),
                };
                if r.is_ok() {
                    m.attrs.push(AttrM {
                        object,
                        name,
                        value: v,
                        gen: m.gen(),
                    });
                }
            }
            Op::Flush => {
                if file.flush().is_ok() {
                    let gen = m.gen();
                    for (i, d) in m.datasets.iter().enumerate() {
                        if let Kind::Frames { frame, appended } = &d.kind {
                            let frames = if *frame == 0 {
                                0
                            } else {
                                (appended.len() / frame) as u64
                            };
                            frame_commits.push(FrameCommit { ds: i, gen, frames });
                        }
                    }
                    m.commits.push(rec.op_count());
                }
            }
            Op::Crash { at } => {
                let ops = rec.ops();
                let n = usize::from(at) % (ops.len() + 1);
                let committed = m.commits.iter().filter(|&&c| c <= n).count() as u32;
                let state = replay(&ops, n);
                let label = format!("step {step}, crash after {n} of {} storage ops", ops.len());
                check_state(&state, &m, committed, &label);
                check_frames(&state, &frame_commits, &m, committed, &label);
            }
            Op::Reopen { crash } => {
                let (state, committed, label) = if crash {
                    // a kill now: the storage holds every write so far
                    let ops = rec.ops();
                    let label = format!("step {step}, reopen after a crash at {}", ops.len());
                    (rec.bytes(), m.gen(), label)
                } else {
                    let closed = std::mem::replace(
                        &mut file,
                        File::options()
                            .create_in(RecordingStorage::new())
                            .expect("in memory"),
                    );
                    if closed.finish().is_err() {
                        return;
                    }
                    (
                        rec.bytes(),
                        m.gen() + 1,
                        format!("step {step}, reopen after finish"),
                    )
                };
                check_state(&state, &m, committed, &label);
                check_frames(&state, &frame_commits, &m, committed, &label);
                if committed == 0 {
                    // nothing committed: there may be no file at all
                    return;
                }
                let mut next = RecordingStorage::new();
                h5sink::Storage::write_at(&mut next, 0, &state).expect("in memory");
                let reopened = File::options()
                    .open_append_in(next.clone(), &state)
                    .unwrap_or_else(|e| panic!("{label}: open_append_in: {e}"));
                // the old writer's last words (its drop commits) go to the old storage,
                // which is no longer looked at: as if the process had died
                drop(std::mem::replace(&mut file, reopened));
                rec = next;
                resync(&mut m, &file, &state, &label);
                m.commits = vec![1];
                frame_commits.clear();
                for (i, d) in m.datasets.iter().enumerate() {
                    if let Kind::Frames { frame, appended } = &d.kind {
                        if *frame > 0 {
                            let frames = (appended.len() / frame) as u64;
                            frame_commits.push(FrameCommit {
                                ds: i,
                                gen: 0,
                                frames,
                            });
                        }
                    }
                }
            }
        }
    }
    // a clean finish: everything is committed
    if file.finish().is_ok() {
        let gen = m.gen() + 1;
        for (i, d) in m.datasets.iter().enumerate() {
            if let Kind::Frames { frame, appended } = &d.kind {
                if *frame > 0 {
                    let frames = (appended.len() / frame) as u64;
                    frame_commits.push(FrameCommit {
                        ds: i,
                        gen: gen - 1,
                        frames,
                    });
                }
            }
        }
        let bytes = rec.bytes();
        check_state(&bytes, &m, gen, "finished file");
        check_frames(&bytes, &frame_commits, &m, gen, "finished file");
    }
});
