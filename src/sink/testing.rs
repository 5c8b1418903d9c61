//! Storages for crash and failure testing: one that records every operation so the
//! states a crash could leave can be replayed, and one that fails at a chosen write.

use super::Storage;
use std::io;
use std::sync::{Arc, Mutex};

/// One storage operation, as issued by the writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `write_at(offset, data)`.
    Write {
        /// File offset.
        offset: u64,
        /// Bytes written.
        data: Vec<u8>,
    },
    /// `set_len(len)`.
    SetLen(u64),
    /// `sync()`: a durability barrier.
    Sync,
}

/// In-memory storage that logs every operation (shared between clones).
#[derive(Clone, Debug, Default)]
pub struct RecordingStorage {
    state: Arc<Mutex<(Vec<u8>, Vec<Op>)>>,
}

impl RecordingStorage {
    /// An empty storage with an empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A storage that already holds `bytes` (a file to reopen): the log starts with
    /// one write of them, so replaying any prefix of the log rebuilds the file.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        let op = Op::Write {
            offset: 0,
            data: bytes.clone(),
        };
        RecordingStorage {
            state: Arc::new(Mutex::new((bytes, vec![op]))),
        }
    }

    /// The operations so far.
    pub fn ops(&self) -> Vec<Op> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// Number of operations so far.
    pub fn op_count(&self) -> usize {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1.len()
    }

    /// The current contents.
    pub fn bytes(&self) -> Vec<u8> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }
}

fn apply(buf: &mut Vec<u8>, op: &Op) {
    match op {
        Op::Write { offset, data } => {
            let end = *offset as usize + data.len();
            if buf.len() < end {
                buf.resize(end, 0);
            }
            buf[*offset as usize..end].copy_from_slice(data);
        }
        Op::SetLen(n) => buf.resize(*n as usize, 0),
        Op::Sync => {}
    }
}

/// The file a process kill after the first `n` operations leaves: every completed
/// operation is in the page cache.
pub fn replay(ops: &[Op], n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for op in &ops[..n] {
        apply(&mut buf, op);
    }
    buf
}

/// Sector size of the power-loss model.
pub const SECTOR: usize = 512;

/// The file a power cut after the first `n` operations can leave: everything up to
/// the last sync before `n` is durable; of the 512-byte sectors written after it,
/// those for which `keep(sector_index)` is true hold their newest content, the others
/// their content at the sync. File size changes after the last sync are lost.
pub fn replay_power(ops: &[Op], n: usize, keep: &mut dyn FnMut(u64) -> bool) -> Vec<u8> {
    let last_sync = ops[..n]
        .iter()
        .rposition(|o| *o == Op::Sync)
        .map_or(0, |i| i + 1);
    let durable = replay(ops, last_sync);
    let newest = replay(ops, n);
    let mut out = durable.clone();
    let mut touched = std::collections::BTreeSet::new();
    for op in &ops[last_sync..n] {
        if let Op::Write { offset, data } = op {
            let first = *offset / SECTOR as u64;
            let last = (*offset + data.len() as u64).saturating_sub(1) / SECTOR as u64;
            touched.extend(first..=last);
        }
    }
    for s in touched {
        if !keep(s) {
            continue;
        }
        let lo = s as usize * SECTOR;
        let hi = (lo + SECTOR).min(newest.len());
        if lo >= hi {
            continue;
        }
        if out.len() < hi {
            out.resize(hi, 0);
        }
        out[lo..hi].copy_from_slice(&newest[lo..hi]);
    }
    out
}

impl Storage for RecordingStorage {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let op = Op::Write {
            offset,
            data: data.to_vec(),
        };
        apply(&mut st.0, &op);
        st.1.push(op);
        Ok(())
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let end = offset as usize + buf.len();
        if end > st.0.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past end",
            ));
        }
        buf.copy_from_slice(&st.0[offset as usize..end]);
        Ok(())
    }
    fn len(&mut self) -> io::Result<u64> {
        Ok(self.state.lock().unwrap_or_else(|e| e.into_inner()).0.len() as u64)
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let op = Op::SetLen(len);
        apply(&mut st.0, &op);
        st.1.push(op);
        Ok(())
    }
    fn sync(&mut self) -> io::Result<()> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .push(Op::Sync);
        Ok(())
    }
}

/// Wraps a storage and fails every write (and `set_len`) from the `k`-th on with
/// `ErrorKind::StorageFull`, like a disk that fills up.
#[derive(Debug)]
pub struct FailingStorage<S> {
    inner: S,
    remaining: usize,
}

impl<S: Storage> FailingStorage<S> {
    /// Lets `k` writes through, then fails.
    pub fn new(inner: S, k: usize) -> Self {
        FailingStorage {
            inner,
            remaining: k,
        }
    }

    fn gate(&mut self) -> io::Result<()> {
        if self.remaining == 0 {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "simulated full disk",
            ));
        }
        self.remaining -= 1;
        Ok(())
    }
}

impl<S: Storage> Storage for FailingStorage<S> {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.gate()?;
        self.inner.write_at(offset, data)
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_at(offset, buf)
    }
    fn len(&mut self) -> io::Result<u64> {
        self.inner.len()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.gate()?;
        self.inner.set_len(len)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.inner.sync()
    }
}
