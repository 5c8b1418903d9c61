//! Parallel chunk encoding for one dataset: worker threads that live as long as the
//! dataset's appender, fed through a bounded number of jobs in flight, whose results
//! come back in submission order.
//!
//! The appending thread copies frames into chunk images, submits them and goes on; it
//! writes each encoded chunk as soon as it and every earlier one are done, so copying,
//! encoding and writing overlap. Buffers travel with the jobs and come back with the
//! results: in steady state no chunk-sized buffer is allocated (or page-faulted) again.

use super::error::{Error, Result};
use crate::filters::{EncodeScratch, EncodedChunk, Pipeline};
use std::collections::BTreeMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One chunk image to encode, with a spare buffer for the output.
struct Job {
    seq: u64,
    raw: Vec<u8>,
    out: Vec<u8>,
}

/// An encoded chunk and the image it came from (returned for reuse).
struct Done {
    seq: u64,
    chunk: EncodedChunk,
    raw: Vec<u8>,
}

/// Worker threads encoding chunk images with one pipeline.
pub(crate) struct EncodePool {
    jobs: Option<Sender<Job>>,
    results: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    /// Sequence number of the next submitted job and of the next result handed out.
    submitted: u64,
    delivered: u64,
    /// Results that finished before an earlier one.
    early: BTreeMap<u64, Done>,
    /// Buffers ready for reuse: chunk images, and encoded outputs.
    spare_raw: Vec<Vec<u8>>,
    spare_out: Vec<Vec<u8>>,
    /// Jobs allowed in flight.
    limit: usize,
}

impl EncodePool {
    /// Starts `threads` workers that encode `element_size`-byte elements through
    /// `pipeline`; at most `2 × threads` jobs are in flight.
    pub fn new(pipeline: &Pipeline, element_size: usize, threads: usize) -> Result<Self> {
        let (job_tx, job_rx) = channel::<Job>();
        let (done_tx, done_rx) = channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let pipeline = Arc::new(pipeline.clone());
        let mut workers = Vec::with_capacity(threads);
        for k in 0..threads {
            let (job_rx, done_tx, pipeline) = (job_rx.clone(), done_tx.clone(), pipeline.clone());
            let worker = std::thread::Builder::new()
                .name(format!("h5sink-encode-{k}"))
                .spawn(move || work(&pipeline, element_size, &job_rx, &done_tx))
                .map_err(|source| Error::Io {
                    op: "starting an encoding thread",
                    offset: 0,
                    source,
                })?;
            workers.push(worker);
        }
        Ok(EncodePool {
            jobs: Some(job_tx),
            results: done_rx,
            workers,
            submitted: 0,
            delivered: 0,
            early: BTreeMap::new(),
            spare_raw: Vec::new(),
            spare_out: Vec::new(),
            limit: 2 * threads,
        })
    }

    /// An empty buffer for the next chunk image (a recycled one when there is one).
    pub fn image_buffer(&mut self) -> Vec<u8> {
        let mut b = self.spare_raw.pop().unwrap_or_default();
        b.clear();
        b
    }

    /// Jobs submitted whose results were not handed out yet.
    pub fn in_flight(&self) -> usize {
        (self.submitted - self.delivered) as usize
    }

    /// Whether the in-flight bound is reached (the caller must take a result first).
    pub fn full(&self) -> bool {
        self.in_flight() >= self.limit
    }

    /// Queues `image` for encoding.
    pub fn submit(&mut self, image: Vec<u8>) -> Result<()> {
        let job = Job {
            seq: self.submitted,
            raw: image,
            out: self.spare_out.pop().unwrap_or_default(),
        };
        let sent = self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            return Err(stopped());
        }
        self.submitted += 1;
        Ok(())
    }

    /// The next result in submission order, waiting for it; `None` when nothing is in
    /// flight.
    pub fn next(&mut self) -> Result<Option<EncodedChunk>> {
        if self.in_flight() == 0 {
            return Ok(None);
        }
        loop {
            if let Some(done) = self.early.remove(&self.delivered) {
                self.delivered += 1;
                self.spare_raw.push(done.raw);
                return Ok(Some(done.chunk));
            }
            let done = self.results.recv().map_err(|_| stopped())?;
            self.early.insert(done.seq, done);
        }
    }

    /// Encodes `images` (nothing else may be in flight) and returns them in order.
    pub fn encode_all(&mut self, images: Vec<Vec<u8>>) -> Result<Vec<EncodedChunk>> {
        debug_assert_eq!(self.in_flight(), 0);
        let mut out = Vec::with_capacity(images.len());
        for img in images {
            if self.full() {
                out.push(self.next()?.expect("a job in flight"));
            }
            self.submit(img)?;
        }
        while let Some(c) = self.next()? {
            out.push(c);
        }
        Ok(out)
    }

    /// Takes back the bytes of a written chunk, for a later job's output.
    pub fn recycle(&mut self, bytes: Vec<u8>) {
        if self.spare_out.len() < self.limit {
            self.spare_out.push(bytes);
        }
    }
}

impl Drop for EncodePool {
    fn drop(&mut self) {
        // closing the job channel ends every worker once its current job is done
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A worker: encodes jobs until the job channel closes.
fn work(
    pipeline: &Pipeline,
    element_size: usize,
    jobs: &Mutex<Receiver<Job>>,
    done: &Sender<Done>,
) {
    let mut scratch = EncodeScratch::default();
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let chunk = pipeline.encode_with(&job.raw, element_size, &mut scratch, job.out);
        let result = Done {
            seq: job.seq,
            chunk,
            raw: job.raw,
        };
        if done.send(result).is_err() {
            return;
        }
    }
}

fn stopped() -> Error {
    Error::Poisoned("an encoding thread stopped unexpectedly".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::Filter;

    /// Results come back in submission order, equal to encoding on the calling thread,
    /// with the bound on jobs in flight respected.
    #[test]
    fn results_in_order_and_equal_to_serial_encoding() {
        let pipeline = Pipeline {
            filters: vec![Filter::Shuffle, Filter::Deflate(1)],
        };
        let mut pool = EncodePool::new(&pipeline, 2, 2).expect("pool");
        let images: Vec<Vec<u8>> = (0..23u32)
            .map(|k| {
                (0..(1000 + 997 * k))
                    .map(|i| ((i * (k + 1)) % 251 / (1 + k % 5)) as u8)
                    .collect()
            })
            .collect();
        let mut got = Vec::new();
        for img in &images {
            if pool.full() {
                got.push(pool.next().expect("result").expect("in flight"));
            }
            assert!(pool.in_flight() < 4);
            let mut buf = pool.image_buffer();
            buf.extend_from_slice(img);
            pool.submit(buf).expect("submit");
        }
        while let Some(c) = pool.next().expect("result") {
            got.push(c);
        }
        assert_eq!(got.len(), images.len());
        for (img, c) in images.iter().zip(&got) {
            assert_eq!(*c, pipeline.encode(img, 2));
        }
        assert_eq!(pool.in_flight(), 0);
        // the same through encode_all, with the recycled buffers
        assert_eq!(pool.encode_all(images.clone()).expect("encoded"), got);
        assert_eq!(pool.in_flight(), 0);
    }
}
