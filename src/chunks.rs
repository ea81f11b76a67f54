//! Streaming imports: items in chunks of a few MB, each chunk normalised on all cores
//! while the chunk before is written inside the caller's transaction.

use std::path::PathBuf;

use crate::env;
use crate::tables::Batches;

/// Bytes of input per chunk (4 MB; `FITPIPE_IMPORT_CHUNK_BYTES` overrides, for tests).
fn chunk_bytes() -> u64 {
    env::get(env::IMPORT_CHUNK_BYTES)
        .and_then(|v| v.parse().ok())
        .unwrap_or(4 << 20)
}

/// Bytes of parsed rows an import keeps waiting before it writes (8 chunks' worth).
pub fn buffer_bytes() -> usize {
    chunk_bytes() as usize * 8
}

/// The size of a file on disk (0 if unknown).
pub fn file_size(p: &PathBuf) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Splits `items` into consecutive chunks of about [`chunk_bytes`].
fn chunk_ranges<T>(items: &[T], size_of: impl Fn(&T) -> u64) -> Vec<std::ops::Range<usize>> {
    let limit = chunk_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut size = 0u64;
    for (i, item) in items.iter().enumerate() {
        size += size_of(item);
        if size >= limit || i + 1 == items.len() {
            out.push(start..i + 1);
            start = i + 1;
            size = 0;
        }
    }
    out
}

/// Splits `items` into chunks of about [`chunk_bytes`] and runs `parse` on each in a
/// second thread, one chunk ahead of `write`, which gets the results in order: reading and
/// normalising the next chunk overlaps writing this one. At most one parsed chunk waits
/// for the writer, so memory stays bounded. An error from either stops both.
pub fn pipelined<T: Sync, P: Send>(
    items: &[T],
    size_of: impl Fn(&T) -> u64,
    mut parse: impl FnMut(&[T]) -> anyhow::Result<P> + Send,
    mut write: impl FnMut(P) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let chunks = chunk_ranges(items, size_of);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<anyhow::Result<P>>(1);
        s.spawn(move || {
            for r in chunks {
                let p = parse(&items[r]);
                let stop = p.is_err();
                if tx.send(p).is_err() || stop {
                    break;
                }
            }
        });
        // Returning early drops the receiver: the parser stops at its next chunk.
        for p in rx {
            write(p?)?;
        }
        Ok(())
    })
}

/// Runs `work` on every item of a chunk, the items split over the machine's cores
/// (`available_parallelism`); returns the rows (as Arrow batches, built on the same cores:
/// no copying rows from set to set) and one error per item that failed. A panic in a
/// worker is a bug: it goes on to the panic hook (exit 2), not into the list of bad items.
pub fn process<T: Sync>(
    items: &[T],
    work: impl Fn(&T) -> anyhow::Result<Batches> + Sync,
) -> (Batches, Vec<anyhow::Error>) {
    let run = |part: &[T]| {
        let mut batches = Batches::new();
        let mut bad = Vec::new();
        for item in part {
            match work(item) {
                Ok(b) => batches.extend(b),
                Err(e) => bad.push(e),
            }
        }
        (batches, bad)
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = items.len().div_ceil(cores.max(1)).max(1);
    let mut parts = items.chunks(per);
    let first = parts.next().unwrap_or(&[]);
    let results = std::thread::scope(|s| {
        let handles: Vec<_> = parts.map(|p| s.spawn(move || run(p))).collect();
        let mut out = vec![run(first)];
        for h in handles {
            out.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    });
    let (mut batches, mut bad) = (Batches::new(), Vec::new());
    for (b, e) in results {
        batches.extend(b);
        bad.extend(e);
    }
    (batches, bad)
}

/// `work` on every item, the items split over the machine's cores; the results in the
/// items' order. A panic in a worker goes on to the panic hook (exit 2).
pub fn par_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = items.len().div_ceil(cores.max(1)).max(1);
    let work = &work;
    let mut parts = items.chunks(per);
    let first = parts.next().unwrap_or(&[]);
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .map(|p| s.spawn(move || p.iter().map(work).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.iter().map(work).collect();
        for h in handles {
            out.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    })
}
