//! `h5sink check FILE`: verifies a file's structure and decodes every filtered chunk.
//!
//! The structure checks are the reader's ([`h5sink::read::verify`]): superblock,
//! every object header (signatures, versions, checksums), every message, every chunk
//! index (v1 B-tree nodes inside the stored end of file, keys ordered and consistent
//! with the dims, entries found by a libhdf5 lookup; the layout v4/v5 indexes'
//! fixed and extensible array blocks and pages, v2 B-tree nodes, with their
//! signatures, checksums, back-pointers and record order, and every chunk inside the
//! maximum dims and the end of file), global heap collections, and no two
//! structures overlapping. On top of that, every chunk of every filtered dataset is
//! run back through its filters, so a corrupt deflate or LZ4 stream, a Fletcher-32
//! mismatch or a chunk that decodes to the wrong size is found. Unfiltered raw data
//! has nothing to decode: only its extent is checked. Each chunk is read once.
//!
//! The whole file is read into memory (the reader works on one `&[u8]`): checking a
//! file needs about its size in RAM, plus one decoded chunk at a time. It is read, not
//! memory-mapped, on purpose: `check` is run on files that a recording may still be
//! writing, and a mapping of a file another process truncates (h5sink's `finish`
//! trims the preallocated tail) faults with SIGBUS instead of giving an error.

use h5sink::filters::{Filter, Pipeline};
use h5sink::format::filter_pipeline::{
    FILTER_BITSHUFFLE, FILTER_DEFLATE, FILTER_FLETCHER32, FILTER_LZ4, FILTER_SHUFFLE,
};
use h5sink::read::{self, Dataset, Error, Layout, Problem, Structure};
use std::fmt::Write as _;
use std::process::ExitCode;

/// Exit codes: 0 sound, 1 problems found, 2 usage error or unreadable path.
pub fn run(path: &str) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("h5sink check: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let (text, ok) = check_bytes(path, &bytes);
    print!("{text}");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What a check counted.
#[derive(Default)]
struct Counts {
    groups: u64,
    datasets: u64,
    attributes: u64,
    links: u64,
    chunked: u64,
    chunks: u64,
    filtered_chunks: u64,
    decoded_chunks: u64,
    /// Stored bytes of raw data (chunks as stored, contiguous blocks, compact data).
    stored: u64,
    /// Bytes the filtered chunks decoded to.
    decoded: u64,
    /// Logical size of all datasets (elements × element size).
    logical: u64,
}

/// The report for `bytes` and whether the file is sound.
fn check_bytes(path: &str, bytes: &[u8]) -> (String, bool) {
    let mut out = String::new();
    let report = read::verify(bytes);
    let mut decode_errors: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut counts = Counts::default();
    let file = read::File::parse(bytes).ok();
    if let Some(f) = &file {
        let sb = f.superblock();
        let _ = writeln!(
            out,
            "{path}: HDF5 superblock v{}, {}-byte addresses, end of file {} ({} bytes on disk)",
            sb.version,
            sb.sizes.offsets,
            f.eof(),
            bytes.len()
        );
        for o in f.objects() {
            counts.attributes += o.attrs().len() as u64;
            match o {
                read::Object::Group(g) => {
                    counts.groups += 1;
                    counts.links += g.links.len() as u64;
                }
                read::Object::Dataset(d) => {
                    counts.datasets += 1;
                    counts.logical = counts
                        .logical
                        .saturating_add(d.num_elements().saturating_mul(d.element_size()));
                    decode_dataset(f, bytes, d, &mut counts, &mut decode_errors, &mut warnings);
                }
                _ => {}
            }
        }
    } else {
        let _ = writeln!(out, "{path}: {} bytes", bytes.len());
    }
    if file.is_some() {
        let _ = writeln!(
            out,
            "checked: {} objects ({} groups, {} datasets), {} links, {} attributes",
            counts.groups + counts.datasets,
            counts.groups,
            counts.datasets,
            counts.links,
            counts.attributes
        );
        let _ = writeln!(
            out,
            "checked: {} chunks in {} chunked datasets, {} filtered ({} decoded to {} bytes)",
            counts.chunks,
            counts.chunked,
            counts.filtered_chunks,
            counts.decoded_chunks,
            counts.decoded
        );
        let _ = writeln!(
            out,
            "checked: {} bytes of raw data stored, {} bytes of dataset data",
            counts.stored, counts.logical
        );
    }
    for n in &report.notes {
        let _ = writeln!(out, "note: {n}");
    }
    for w in &warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    for p in &report.problems {
        let _ = writeln!(out, "error: {}", describe(p));
    }
    for e in &decode_errors {
        let _ = writeln!(out, "error: {e}");
    }
    let ok = report.is_ok() && decode_errors.is_empty();
    if ok {
        let _ = writeln!(out, "ok: no problems found");
    } else {
        let n = report.problems.len() + decode_errors.len();
        let _ = writeln!(
            out,
            "FAILED: {n} problem{} found",
            if n == 1 { "" } else { "s" }
        );
    }
    (out, ok)
}

/// One problem as "[object path: ]structure at offset: reason", with a hint for
/// structures this reader does not support.
fn describe(p: &Problem) -> String {
    let mut s = p.to_string();
    if matches!(p.error, Error::Unsupported { .. }) {
        s.push_str(" (h5sink check cannot verify this file)");
    }
    s
}

/// The crate's pipeline for a dataset's filters; `Err(id)` names a filter it cannot
/// decode.
fn pipeline(d: &Dataset) -> Result<Pipeline, u16> {
    let mut filters = Vec::with_capacity(d.filters.len());
    for f in &d.filters {
        filters.push(match f.id {
            FILTER_DEFLATE => Filter::Deflate(f.cd.first().map_or(0, |&l| l.min(9) as u8)),
            FILTER_SHUFFLE => Filter::Shuffle,
            FILTER_FLETCHER32 => Filter::Fletcher32,
            FILTER_LZ4 => Filter::Lz4,
            FILTER_BITSHUFFLE if f.cd.get(4) == Some(&2) => Filter::BitshuffleLz4,
            id => return Err(id),
        });
    }
    Ok(Pipeline { filters })
}

/// Counts a dataset's stored data and decodes each of its filtered chunks once.
fn decode_dataset(
    f: &read::File<'_>,
    bytes: &[u8],
    d: &Dataset,
    counts: &mut Counts,
    decode_errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let chunk_bytes = match &d.layout {
        Layout::Compact { data } => {
            counts.stored += data.len() as u64;
            return;
        }
        Layout::Contiguous { addr, size } => {
            if addr.is_some() {
                counts.stored = counts.stored.saturating_add(*size);
            }
            return;
        }
        Layout::Chunked {
            chunk,
            element_size,
            ..
        } => chunk.iter().fold(u64::from(*element_size), |a, &c| {
            a.saturating_mul(u64::from(c))
        }),
        _ => return,
    };
    counts.chunked += 1;
    // a broken index was reported by verify
    let Ok(entries) = f.chunk_index(d) else {
        return;
    };
    counts.chunks += entries.len() as u64;
    if d.filters.is_empty() {
        counts.stored = counts
            .stored
            .saturating_add(chunk_bytes.saturating_mul(entries.len() as u64));
        return;
    }
    counts.filtered_chunks += entries.len() as u64;
    for e in &entries {
        counts.stored = counts.stored.saturating_add(u64::from(e.size));
    }
    let p = match pipeline(d) {
        Ok(p) => p,
        Err(id) => {
            if !entries.is_empty() {
                warnings.push(format!(
                    "{}: {} chunks not decoded: filter {id} is not supported by this tool",
                    d.path,
                    entries.len()
                ));
            }
            return;
        }
    };
    let eof = f.eof();
    let elem = d.element_size() as usize;
    // layout flag bit 0: partial edge chunks are stored unfiltered
    let raw_edges = matches!(&d.layout, Layout::Chunked { flags, .. } if flags & 1 != 0);
    let chunk = d.chunk_dims().unwrap_or_default();
    for e in &entries {
        let partial = e
            .offsets
            .iter()
            .zip(&chunk)
            .zip(d.dims())
            .any(|((o, c), n)| o.saturating_add(*c) > *n);
        if raw_edges && partial {
            continue;
        }
        let end = e.addr.checked_add(u64::from(e.size));
        let Some(stored) = end
            .filter(|&end| end <= eof)
            .map(|end| &bytes[e.addr as usize..end as usize])
        else {
            // past the end of file: verify reported it
            continue;
        };
        match p.decode(stored, e.filter_mask, elem, chunk_bytes as usize) {
            Ok(raw) => {
                counts.decoded_chunks += 1;
                counts.decoded += raw.len() as u64;
            }
            Err(err) => {
                let error = Error::ChunkDecode {
                    structure: Structure::Chunk,
                    offset: e.addr,
                    reason: format!(
                        "chunk {:?} ({} bytes stored, filter mask {:#x}): {err}",
                        e.offsets, e.size, e.filter_mask
                    ),
                };
                decode_errors.push(format!("{}: {error}", d.path));
            }
        }
    }
}
