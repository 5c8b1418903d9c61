//! Whole-file verification: every structural problem, plus notes on harmless but
//! noteworthy states (missing chunks that read as fill, chunks past the dims).

use std::collections::HashSet;
use std::fmt;

use super::btree::{self, Cache, Expect};
use super::data::{chunk_grid, grid_total, tree_of};
use super::error::{Error, Structure};
use super::heap::Heaps;
use super::layout_v4::ChunkIndex;
use super::{chunks_v4, load, Dataset, Datatype, File, Layout};
use crate::encode::UNDEF;
use crate::format::dataspace::UNLIMITED;

/// A problem found by [`verify`] or [`File::check`], with the path of the object it
/// was found in (empty for the superblock).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// Path of the object concerned ("" for file-level problems).
    pub path: String,
    /// What is wrong, where.
    pub error: Error,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.error)
        } else {
            write!(f, "{}: {}", self.path, self.error)
        }
    }
}

/// Something worth knowing that is not an error: libhdf5 reads the file fine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// Chunks inside the dataset's dims that the index does not hold: they read as
    /// the fill value (after a crash: data that had not been committed).
    MissingChunks {
        /// The dataset.
        path: String,
        /// Its object header.
        offset: u64,
        /// Chunk positions inside the dims without a chunk.
        missing: u64,
        /// Chunk positions inside the dims.
        total: u64,
    },
    /// Chunks in the index that start outside the current dims (but inside the
    /// maximum dims): invisible until the dataset grows (after a crash: data
    /// written before its dims were committed).
    ChunksBeyondDims {
        /// The dataset.
        path: String,
        /// Its object header.
        offset: u64,
        /// How many.
        count: u64,
    },
    /// Key order or key range problems, and entries no lookup reaches, confined to
    /// chunks beyond the current dims along dim 0. No lookup inside the dims can
    /// notice them (for those targets every such key compares greater, so each
    /// node's search behaves as on sorted keys). h5sink leaves this for a moment
    /// when a power cut separates the two in-place writes that grow a node (the
    /// entry count lands, the new key's dim-0 offset still holds the sentinel); the
    /// next commit repairs it. libhdf5 appending to such a file would keep the
    /// entries. Inside the dims the same shapes are problems.
    StrayEntries {
        /// The dataset.
        path: String,
        /// The first node concerned.
        offset: u64,
        /// How many problems (node-level disorder and unreachable entries).
        count: u64,
    },
    /// A contiguous dataset whose storage is not allocated: it reads as fill.
    Unallocated {
        /// The dataset.
        path: String,
        /// Its object header.
        offset: u64,
    },
    /// B-tree nodes whose sibling addresses do not match their neighbours on the same
    /// level. Readers never follow them, but libhdf5 does when it inserts.
    SiblingLinks {
        /// The dataset.
        path: String,
        /// The first such node.
        offset: u64,
        /// How many nodes.
        count: u64,
    },
    /// The file is longer than the stored end of file (harmless: libhdf5 ignores the
    /// tail).
    BytesPastEof {
        /// The stored end of file.
        offset: u64,
        /// The input length.
        file_len: u64,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::MissingChunks {
                path,
                missing,
                total,
                ..
            } => write!(
                f,
                "{path}: {missing} of {total} chunks inside the dims are not in the index (they read as fill)"
            ),
            Note::ChunksBeyondDims { path, count, .. } => {
                write!(f, "{path}: {count} chunks lie beyond the current dims")
            }
            Note::StrayEntries {
                path,
                offset,
                count,
            } => write!(
                f,
                "{path}: {count} key order problems or unreachable entries beyond the dims (first node at {offset:#x}); readers cannot notice them"
            ),
            Note::Unallocated { path, .. } => {
                write!(f, "{path}: storage not allocated (reads as fill)")
            }
            Note::SiblingLinks {
                path,
                offset,
                count,
            } => write!(
                f,
                "{path}: {count} B-tree nodes (first at {offset:#x}) have sibling addresses that do not match their neighbours"
            ),
            Note::BytesPastEof { offset, file_len } => write!(
                f,
                "the file has {file_len} bytes, {} past the stored end of file {offset}",
                file_len - offset
            ),
        }
    }
}

/// Everything [`verify`] or [`File::check`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Structural problems: libhdf5 would fail on them, or they betray a writer bug.
    pub problems: Vec<Problem>,
    /// Harmless observations.
    pub notes: Vec<Note>,
    /// End of the last byte any structure or data block the file references uses:
    /// space above it is free (a crashed writer's unreferenced tail).
    pub high_water: u64,
    /// Start addresses of every referenced structure and data block, sorted: where
    /// the space after a structure stops being free.
    pub starts: Vec<u64>,
}

impl Report {
    /// No problems (notes do not count).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The errors of the problems, in order.
    pub fn errors(&self) -> impl Iterator<Item = &Error> {
        self.problems.iter().map(|p| &p.error)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problems.is_empty() {
            writeln!(f, "no problems")?;
        }
        for p in &self.problems {
            writeln!(f, "error: {p}")?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}

/// Verifies the file in `bytes` as far as it can be read, and reports every problem:
/// those [`File::parse`] stops at (superblock, object headers and their messages,
/// duplicate names), then, for every object that could be read, those of
/// [`File::check`].
pub fn verify(bytes: &[u8]) -> Report {
    let (file, problems) = load(bytes);
    let mut report = Report {
        problems,
        notes: Vec::new(),
        high_water: 0,
        starts: Vec::new(),
    };
    if let Some(file) = file {
        file.check_into(&mut report, false);
    }
    report
}

impl<'a> File<'a> {
    /// Checks what [`File::parse`] does not read: every chunk index, every raw data
    /// extent, and the layout of the file as a whole.
    ///
    /// Problems: B-tree nodes past the end of file (their full size), with a bad
    /// signature, node type or entry count (> 2K), a level other than the parent's
    /// minus one, in a cycle or reached twice, keys not strictly increasing or not
    /// multiples of the chunk dims, child keys outside the parent's range, right
    /// sibling pointers to unreadable nodes or in a cycle; chunk entries not aligned
    /// to the chunk dims, starting outside the maximum dims, of the wrong size, past
    /// the end of file, or not found by a libhdf5 lookup of their own offset; and any
    /// two structures overlapping. The elements of variable-length datasets are
    /// resolved in the global heap (collections past the end of file, missing
    /// objects). Filtered chunks are not decoded (reading them does).
    ///
    /// Layout v4/v5 indexes (single chunk, implicit, fixed array, extensible array,
    /// v2 B-tree): every structure readable (signatures, versions, checksums, client
    /// IDs, element and record sizes, geometry, header back-pointers, record order
    /// and counts, all inside the end of file, none reached twice), every chunk
    /// inside the maximum dims and the end of file with a nonzero stored size.
    ///
    /// Notes: chunks missing inside the dims (they read as fill), chunks beyond the
    /// dims, unallocated contiguous storage, sibling links that differ from the tree's
    /// order (but lead to readable nodes), bytes past the end of file.
    pub fn check(&self) -> Report {
        let mut r = Report::default();
        self.check_into(&mut r, false);
        r
    }

    /// [`File::check`] into `report`; `lookups` forces a lookup per chunk entry even
    /// where the walk proved them unnecessary (for tests).
    pub(crate) fn check_into(&self, report: &mut Report, lookups: bool) {
        let mut extents = self.extents.clone();
        // free-space managers of dense storage heaps (libhdf5 reads them only to
        // add objects, so parsing does not)
        for d in &self.dense {
            if let Some(fs) = d.free_space {
                if let Err(error) =
                    super::fractal_heap::check_free_space(&self.src, fs, &mut extents)
                {
                    report.problems.push(Problem {
                        path: self
                            .object_at(d.object)
                            .map(|o| o.path().to_string())
                            .unwrap_or_default(),
                        error,
                    });
                }
            }
        }
        if self.file_len > self.eof() {
            report.notes.push(Note::BytesPastEof {
                offset: self.eof(),
                file_len: self.file_len,
            });
        }
        // collections met through datasets (those of attributes are in `extents`)
        let mut heaps = Heaps::default();
        for ds in self.datasets() {
            let path = &ds.path;
            let mut errors: Vec<Error> = Vec::new();

            match &ds.layout {
                Layout::Compact { .. } => {}
                Layout::Contiguous { addr, size } => match addr {
                    Some(a) if *size > 0 => extents.push((Structure::ContiguousData, *a, *size)),
                    Some(_) => {}
                    None if *size > 0 => report.notes.push(Note::Unallocated {
                        path: path.clone(),
                        offset: ds.addr,
                    }),
                    None => {}
                },
                Layout::Chunked { index, .. } if !matches!(index, ChunkIndex::BTreeV1) => {
                    self.check_v4_index(ds, &mut extents, &mut errors, &mut report.notes);
                }
                Layout::Chunked { .. } => {
                    let tree = tree_of(ds, self.superblock.chunk_k).expect("chunked");
                    let dims = ds.dims();
                    let rank = dims.len();
                    let grid = chunk_grid(dims, &tree.chunk);
                    let total = grid_total(&grid);
                    let Some(root) = tree.root else {
                        if total > 0 {
                            report.notes.push(Note::MissingChunks {
                                path: path.clone(),
                                offset: ds.addr,
                                missing: total,
                                total,
                            });
                        }
                        continue;
                    };
                    let expect = Expect {
                        max_dims: ds.max_dims(),
                        frontier: grid[0],
                        chunk_bytes: tree.chunk_bytes,
                        filtered: !ds.filters.is_empty(),
                    };
                    let mut cache = Cache::default();
                    let walk = btree::walk(
                        &mut cache,
                        &self.src,
                        &tree.shape,
                        root,
                        Some(&expect),
                        &mut errors,
                    );
                    btree::check_sibling_chains(
                        &mut cache,
                        &self.src,
                        &tree.shape,
                        root,
                        &mut errors,
                    );
                    let node_len = tree.shape.node_len(usize::from(self.src.sizes.offsets));
                    extents.extend(
                        walk.nodes
                            .iter()
                            .map(|&a| (Structure::BTreeNode, a, node_len)),
                    );
                    let mut seen_errors: HashSet<Error> = errors.iter().cloned().collect();
                    let mut present: HashSet<&[u64]> = HashSet::new();
                    let (mut present_ordered, mut prev) = (0u64, None);
                    let mut beyond = 0u64;
                    let mut strays: Vec<u64> = walk.beyond_dims.clone();
                    let mut target = vec![0u64; rank + 1];
                    let identity = walk.lookups_are_identity() && !lookups;
                    for (i, e) in walk.entries.iter().enumerate() {
                        let len = if expect.filtered {
                            u64::from(e.size)
                        } else {
                            tree.chunk_bytes
                        };
                        extents.push((Structure::Chunk, e.addr, len));
                        let t = &walk.scaled(i)[..rank];
                        if identity {
                            // each lookup finds its own entry; keys strictly increase
                            if t.iter().zip(&grid).any(|(a, g)| a >= g) {
                                beyond += 1;
                            } else {
                                present_ordered += 1;
                            }
                            continue;
                        }
                        target[..rank].copy_from_slice(t);
                        match btree::find(&mut cache, &self.src, &tree.shape, root, &target) {
                            Ok(Some(f)) if f.addr == e.addr => {
                                if t.iter().zip(&grid).any(|(a, g)| a >= g) {
                                    beyond += 1;
                                } else if !walk.ordered {
                                    present.insert(t);
                                } else if prev != Some(t) {
                                    // ordered: equal targets are neighbours
                                    present_ordered += 1;
                                    prev = Some(t);
                                }
                            }
                            // beyond the dims: invisible to readers (a torn growth)
                            Ok(_) if t[0] >= grid[0] => strays.push(e.leaf),
                            Ok(found) => errors.push(Error::ChunkUnreachable {
                                structure: Structure::BTreeNode,
                                offset: e.leaf,
                                entry: e.index,
                                chunk: walk.raw(i)[..rank].to_vec(),
                                addr: e.addr,
                                found: found.map(|f| f.addr),
                            }),
                            Err(err) => {
                                if seen_errors.insert(err.clone()) {
                                    errors.push(err);
                                }
                            }
                        }
                    }
                    let present = present.len() as u64 + present_ordered;
                    let missing = total.saturating_sub(present);
                    if missing > 0 {
                        report.notes.push(Note::MissingChunks {
                            path: path.clone(),
                            offset: ds.addr,
                            missing,
                            total,
                        });
                    }
                    if let Some(&offset) = strays.first() {
                        report.notes.push(Note::StrayEntries {
                            path: path.clone(),
                            offset,
                            count: strays.len() as u64,
                        });
                    }
                    if beyond > 0 {
                        report.notes.push(Note::ChunksBeyondDims {
                            path: path.clone(),
                            offset: ds.addr,
                            count: beyond,
                        });
                    }
                    let (mut first, mut count) = (None, 0u64);
                    for nodes in &walk.levels {
                        for (j, &(addr, left, right)) in nodes.iter().enumerate() {
                            let want_left = if j > 0 { nodes[j - 1].0 } else { UNDEF };
                            let want_right = nodes.get(j + 1).map_or(UNDEF, |n| n.0);
                            if left != want_left || right != want_right {
                                first.get_or_insert(addr);
                                count += 1;
                            }
                        }
                    }
                    if let Some(offset) = first {
                        report.notes.push(Note::SiblingLinks {
                            path: path.clone(),
                            offset,
                            count,
                        });
                    }
                }
            }
            if matches!(
                ds.datatype,
                Datatype::VarLenString { .. } | Datatype::VarLenSequence { .. }
            ) {
                // (a broken index was reported above)
                if let Err(e) = self.vlen_with(ds, &mut heaps) {
                    if !errors.contains(&e) {
                        errors.push(e);
                    }
                }
            }
            report
                .problems
                .extend(errors.into_iter().map(|error| super::Problem {
                    path: path.clone(),
                    error,
                }));
        }
        let known: HashSet<u64> = self
            .extents
            .iter()
            .filter(|e| e.0 == Structure::GlobalHeap)
            .map(|e| e.1)
            .collect();
        extents.extend(
            heaps
                .extents()
                .filter(|(a, _)| !known.contains(a))
                .map(|(a, len)| (Structure::GlobalHeap, a, len)),
        );
        report.starts = extents.iter().filter(|e| e.2 > 0).map(|e| e.1).collect();
        report.starts.sort_unstable();
        report.high_water = extents
            .iter()
            .map(|e| e.1.saturating_add(e.2))
            .max()
            .unwrap_or(0)
            .max(self.superblock.len);
        report
            .problems
            .extend(overlaps(extents).into_iter().map(|error| Problem {
                path: String::new(),
                error,
            }));
    }
}

impl File<'_> {
    /// Checks a version 4/5 chunk index: every structure of the index readable
    /// (signatures, versions, checksums, client IDs, element and record sizes,
    /// geometry, header back-pointers, B-tree key order and record counts, all
    /// inside the end of file), every chunk inside the maximum dims, of a nonzero
    /// stored size, inside the end of file. Notes: chunks missing inside the dims,
    /// chunks beyond them. The index's structures and chunks go to `extents`.
    fn check_v4_index(
        &self,
        ds: &Dataset,
        extents: &mut Vec<(Structure, u64, u64)>,
        errors: &mut Vec<Error>,
        notes: &mut Vec<Note>,
    ) {
        let Layout::Chunked { chunk, index, .. } = &ds.layout else {
            return;
        };
        let listing = match chunks_v4::list(&self.src, ds) {
            Ok(l) => l,
            Err(e) => {
                errors.push(e);
                return;
            }
        };
        let implicit = matches!(index, ChunkIndex::Implicit { .. });
        extents.extend(listing.extents.iter().copied());
        let chunk: Vec<u64> = chunk.iter().map(|&c| u64::from(c)).collect();
        let grid = chunk_grid(ds.dims(), &chunk);
        let total = grid_total(&grid);
        let (index_s, index_at) = listing
            .extents
            .first()
            .map_or((Structure::Layout, ds.addr), |e| (e.0, e.1));
        let (mut present, mut beyond) = (0u64, 0u64);
        for (i, f) in listing.chunks.iter().enumerate() {
            let offsets: Vec<u64> = f
                .scaled
                .iter()
                .zip(&chunk)
                .map(|(s, c)| s.saturating_mul(*c))
                .collect();
            if offsets
                .iter()
                .zip(ds.max_dims())
                .any(|(o, &m)| m != UNLIMITED && *o >= m)
            {
                errors.push(Error::ChunkOutsideMaxDims {
                    structure: index_s,
                    offset: index_at,
                    entry: i,
                    chunk: offsets,
                    max_dims: ds.max_dims().to_vec(),
                });
                continue;
            }
            if f.size == 0 {
                errors.push(Error::Malformed {
                    structure: Structure::Chunk,
                    offset: f.addr,
                    reason: format!("chunk {offsets:?} has a stored size of 0"),
                });
                continue;
            }
            if let Err(e) = self.src.check_extent(Structure::Chunk, f.addr, f.size) {
                errors.push(e);
                continue;
            }
            if !implicit {
                extents.push((Structure::Chunk, f.addr, f.size));
            }
            if f.scaled.iter().zip(&grid).all(|(s, g)| s < g) {
                present += 1;
            } else {
                beyond += 1;
            }
        }
        let missing = total.saturating_sub(present);
        if missing > 0 {
            notes.push(Note::MissingChunks {
                path: ds.path.clone(),
                offset: ds.addr,
                missing,
                total,
            });
        }
        if beyond > 0 {
            notes.push(Note::ChunksBeyondDims {
                path: ds.path.clone(),
                offset: ds.addr,
                count: beyond,
            });
        }
    }
}

/// Overlapping extents: each extent that starts before the furthest end of the ones
/// before it, reported against that one. Every structure is listed once (objects,
/// nodes and heap collections are visited once), so identical extents are a problem
/// too (two chunk entries pointing at one chunk).
fn overlaps(mut extents: Vec<(Structure, u64, u64)>) -> Vec<Error> {
    extents.retain(|e| e.2 > 0);
    extents.sort_by_key(|e| (e.1, e.2));
    let mut out = Vec::new();
    let mut reach: Option<(Structure, u64, u64)> = None;
    for e in extents {
        if let Some(r) = reach {
            if e.1 < r.1.saturating_add(r.2) {
                out.push(Error::Overlap {
                    structure: e.0,
                    offset: e.1,
                    len: e.2,
                    other: r.0,
                    other_offset: r.1,
                    other_len: r.2,
                });
            }
        }
        if reach.is_none_or(|r| e.1.saturating_add(e.2) > r.1.saturating_add(r.2)) {
            reach = Some(e);
        }
    }
    out
}
