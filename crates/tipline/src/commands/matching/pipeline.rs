//! The streaming engine of `tipline match`: a reader cuts the input into chunks of whole
//! lines, workers (one per core) match them, and the writer prints their output in input
//! order. Memory is bounded by the chunks in flight, whatever the input's size.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context as _;

/// Bytes per chunk handed to a worker.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks queued ahead of the workers (and so at most this many plus the workers' in the
/// reorder buffer).
const QUEUE: usize = 8;

/// What the workers counted.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Counts {
    /// Lines read.
    pub lines: u64,
    /// Lines that are not records of the format.
    pub bad_lines: u64,
    /// Records with at least one indicator hit.
    pub matched_records: u64,
    /// Indicator hits.
    pub hits: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.lines += other.lines;
        self.bad_lines += other.bad_lines;
        self.matched_records += other.matched_records;
        self.hits += other.hits;
    }
}

/// Matches one line (1-based number `line`), appending its JSON output line (if any) to
/// `out` and counting into `counts`.
pub trait LineMatcher: Sync {
    /// Per-worker scratch state.
    type Scratch: Default;
    /// Process one line.
    fn line(
        &self,
        text: &str,
        line: u64,
        scratch: &mut Self::Scratch,
        out: &mut Vec<u8>,
        counts: &mut Counts,
    );
}

struct Chunk {
    seq: u64,
    first_line: u64,
    bytes: Vec<u8>,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunSummary {
    /// Counts over all lines.
    pub counts: Counts,
    /// When the first matching record was written, if one was.
    pub first_output: Option<Instant>,
    /// Bytes read.
    pub bytes: u64,
}

/// Run `matcher` over every line of `input` with `workers` threads, writing to `output`.
pub fn run<M: LineMatcher>(
    input: Box<dyn Read + Send>,
    output: &mut dyn Write,
    matcher: &M,
    workers: usize,
) -> anyhow::Result<RunSummary> {
    let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(QUEUE);
    let (done_tx, done_rx) = sync_channel::<(u64, Vec<u8>, Counts)>(QUEUE + workers);
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(input, chunk_tx));
        for _ in 0..workers.max(1) {
            let chunk_rx = Arc::clone(&chunk_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || work(matcher, &chunk_rx, &done_tx));
        }
        drop(done_tx);
        let mut summary = RunSummary::default();
        let mut pending: BTreeMap<u64, (Vec<u8>, Counts)> = BTreeMap::new();
        let mut next = 0u64;
        let mut write_error = None;
        for (seq, out, counts) in done_rx {
            pending.insert(seq, (out, counts));
            while let Some((out, counts)) = pending.remove(&next) {
                summary.counts.add(&counts);
                if !out.is_empty() && write_error.is_none() {
                    summary.first_output.get_or_insert_with(Instant::now);
                    if let Err(e) = output.write_all(&out) {
                        write_error = Some(e);
                    }
                }
                next += 1;
            }
            if write_error.is_some() {
                // Stop reading: dropping the receiver ends the workers and the reader.
                break;
            }
        }
        if let Some(error) = write_error {
            return Err(anyhow::Error::new(error).context("cannot write the output"));
        }
        output.flush().context("cannot write the output")?;
        summary.bytes =
            reader.join().map_err(|_| anyhow::anyhow!("the input reader panicked"))??;
        Ok(summary)
    })
}

fn read_chunks(
    mut input: Box<dyn Read + Send>,
    tx: std::sync::mpsc::SyncSender<Chunk>,
) -> anyhow::Result<u64> {
    let mut carry: Vec<u8> = Vec::new();
    let mut seq = 0;
    let mut line = 1u64;
    let mut total = 0u64;
    loop {
        let mut buffer = std::mem::take(&mut carry);
        let start = buffer.len();
        buffer.resize(start + CHUNK_BYTES, 0);
        let n = read_full(&mut input, &mut buffer[start..]).context("cannot read the input")?;
        total += n as u64;
        buffer.truncate(start + n);
        let end_of_input = n == 0;
        if buffer.is_empty() {
            return Ok(total);
        }
        // Cut after the last newline; the rest waits for the next read (a line longer
        // than a chunk just makes the next chunk bigger).
        let cut = if end_of_input {
            buffer.len()
        } else {
            match buffer.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => {
                    carry = buffer;
                    continue;
                }
            }
        };
        carry = buffer.split_off(cut);
        let lines_in_chunk = buffer.iter().filter(|&&b| b == b'\n').count() as u64;
        let chunk = Chunk { seq, first_line: line, bytes: buffer };
        line += lines_in_chunk;
        seq += 1;
        if tx.send(chunk).is_err() {
            return Ok(total);
        }
        if end_of_input {
            return Ok(total);
        }
    }
}

fn read_full(input: &mut dyn Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn work<M: LineMatcher>(
    matcher: &M,
    chunks: &Mutex<Receiver<Chunk>>,
    done: &std::sync::mpsc::SyncSender<(u64, Vec<u8>, Counts)>,
) {
    let mut scratch = M::Scratch::default();
    loop {
        let chunk = {
            let receiver = chunks.lock().unwrap_or_else(|e| e.into_inner());
            match receiver.recv() {
                Ok(chunk) => chunk,
                Err(_) => return,
            }
        };
        let mut out = Vec::new();
        let mut counts = Counts::default();
        let body = chunk.bytes.strip_suffix(b"\n").unwrap_or(&chunk.bytes);
        for (line, raw) in (chunk.first_line..).zip(body.split(|&b| b == b'\n')) {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            counts.lines += 1;
            match std::str::from_utf8(raw) {
                Ok(text) => matcher.line(text, line, &mut scratch, &mut out, &mut counts),
                Err(_) => {
                    let text = String::from_utf8_lossy(raw);
                    matcher.line(&text, line, &mut scratch, &mut out, &mut counts);
                }
            }
        }
        if done.send((chunk.seq, out, counts)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;

    impl LineMatcher for Echo {
        type Scratch = ();
        fn line(&self, text: &str, line: u64, _: &mut (), out: &mut Vec<u8>, counts: &mut Counts) {
            if text.contains('x') {
                counts.matched_records += 1;
                out.extend_from_slice(format!("{line}:{text}\n").as_bytes());
            }
        }
    }

    #[test]
    fn output_keeps_input_order_and_line_numbers() {
        let mut input = String::new();
        for i in 1..=200_000 {
            input.push_str(if i % 3 == 0 { "x line\r\n" } else { "plain\n" });
        }
        input.push_str("last x"); // no final newline
        let mut output = Vec::new();
        let summary =
            run(Box::new(std::io::Cursor::new(input.into_bytes())), &mut output, &Echo, 3).unwrap();
        let text = String::from_utf8(output).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 200_000 / 3 + 1);
        assert_eq!(lines[0], "3:x line");
        assert_eq!(lines[1], "6:x line");
        assert_eq!(*lines.last().unwrap(), "200001:last x");
        assert_eq!(summary.counts.lines, 200_001);
        assert!(summary.first_output.is_some());
    }
}
