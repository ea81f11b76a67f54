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

/// Parsed chunks that may wait for the writer while it compresses and merges: the
/// Takeout parser reads this far ahead (its rows take less room than its JSON).
pub const AHEAD_TAKEOUT: usize = 4;
/// The same for API answers, whose rows take about twice the room of their JSON.
pub const AHEAD_ANSWERS: usize = 2;

/// Splits `items` into chunks of about [`chunk_bytes`] and runs `parse` on each in a
/// second thread, ahead of `write`, which gets the results in order: reading and
/// normalising the next chunks overlaps writing this one. At most `ahead` parsed chunks
/// wait for the writer, so memory stays bounded. An error from either stops both.
pub fn pipelined<T: Sync, P: Send>(
    items: &[T],
    size_of: impl Fn(&T) -> u64,
    ahead: usize,
    mut parse: impl FnMut(&[T]) -> anyhow::Result<P> + Send,
    mut write: impl FnMut(P) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let chunks = chunk_ranges(items, size_of);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<anyhow::Result<P>>(ahead.max(1));
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

/// Runs `work` on every item of a chunk on all cores; returns the rows (as Arrow
/// batches, built on the same cores: no copying rows from set to set) in the items'
/// order and one error per item that failed. A panic in a worker is a bug: it goes on to
/// the panic hook (exit 2), not into the list of bad items.
pub fn process<T: Sync>(
    items: &[T],
    work: impl Fn(&T) -> anyhow::Result<Batches> + Sync,
) -> (Batches, Vec<anyhow::Error>) {
    let (mut batches, mut bad) = (Batches::new(), Vec::new());
    for r in par_map(items, work) {
        match r {
            Ok(b) => batches.extend(b),
            Err(e) => bad.push(e),
        }
    }
    (batches, bad)
}

/// `work` on every item on the shared thread pool (rayon's, one thread a core), the
/// results in the items' order. Items are split as the pool's threads free up, so a large
/// file does not leave the other cores idle behind a fixed share. A panic in `work` goes
/// on to the caller (and the panic hook: exit 2).
pub fn par_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use rayon::prelude::*;
    items.par_iter().with_max_len(1).map(&work).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_the_items_order_whatever_finishes_first() {
        // Every tenth item is slow, so workers take items out of turn.
        let items: Vec<u64> = (0..500).collect();
        let got = par_map(&items, |&i| {
            if i % 10 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            i * 3
        });
        assert_eq!(got, items.iter().map(|i| i * 3).collect::<Vec<_>>());
        assert!(par_map(&[] as &[u64], |&i| i).is_empty());
    }

    #[test]
    fn process_keeps_rows_in_order_and_collects_every_failure() {
        let items: Vec<u32> = (0..40).collect();
        let (rows, bad) = process(&items, |&i| {
            if i % 7 == 3 {
                anyhow::bail!("item {i} is damaged");
            }
            let mut set = fitpipe_transform::RowSet::default();
            set.heart_rate_intraday
                .push(fitpipe_transform::tables::HeartRateIntraday {
                    user_id: "u".into(),
                    source: "takeout".into(),
                    time_utc: chrono::DateTime::from_timestamp(i64::from(i), 0).unwrap(),
                    time_local: None,
                    bpm: Some(f64::from(i)),
                    confidence: None,
                    interval_seconds: Some(1),
                });
            Ok(set.batches())
        });
        let order: Vec<u32> = rows
            .iter()
            .map(|(_, b)| {
                b.column(4)
                    .as_any()
                    .downcast_ref::<arrow::array::Float64Array>()
                    .unwrap()
                    .value(0) as u32
            })
            .collect();
        assert_eq!(
            order,
            items
                .iter()
                .copied()
                .filter(|i| i % 7 != 3)
                .collect::<Vec<_>>()
        );
        let mut names: Vec<String> = bad.iter().map(|e| e.to_string()).collect();
        names.sort();
        assert_eq!(names.len(), 6);
        assert!(names.iter().all(|n| n.ends_with("is damaged")));
    }
}
