//! Streaming imports: items in chunks of a few MB, each chunk normalised on both cores,
//! then written inside the caller's transaction.

use std::path::PathBuf;

use fitpipe_transform::RowSet;

use crate::env;

/// Bytes of input per chunk (8 MB; `FITPIPE_IMPORT_CHUNK_BYTES` overrides, for tests).
fn chunk_bytes() -> u64 {
    env::get(env::IMPORT_CHUNK_BYTES)
        .and_then(|v| v.parse().ok())
        .unwrap_or(8 << 20)
}

/// The size of a file on disk (0 if unknown).
pub fn file_size(p: &PathBuf) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Splits `items` into chunks of about [`chunk_bytes`] and calls `each` in order.
pub fn for_each_chunk<T>(
    items: &[T],
    size_of: impl Fn(&T) -> u64,
    mut each: impl FnMut(&[T]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let limit = chunk_bytes();
    let mut start = 0;
    let mut size = 0u64;
    for (i, item) in items.iter().enumerate() {
        size += size_of(item);
        if size >= limit || i + 1 == items.len() {
            each(&items[start..=i])?;
            start = i + 1;
            size = 0;
        }
    }
    Ok(())
}

/// Runs `work` on every item of a chunk, half the items on each core; returns the rows
/// and one error per item that failed.
pub fn process<T: Sync>(
    items: &[T],
    work: impl Fn(&T) -> anyhow::Result<RowSet> + Sync,
) -> (RowSet, Vec<anyhow::Error>) {
    let run = |part: &[T]| {
        let mut rows = RowSet::default();
        let mut bad = Vec::new();
        for item in part {
            match work(item) {
                Ok(r) => rows.extend(r),
                Err(e) => bad.push(e),
            }
        }
        (rows, bad)
    };
    let (a, b) = items.split_at(items.len() / 2);
    let ((mut rows, mut bad), (rows_b, bad_b)) = std::thread::scope(|s| {
        let h = s.spawn(|| run(b));
        let first = run(a);
        (
            first,
            h.join().unwrap_or_else(|_| {
                (
                    RowSet::default(),
                    vec![anyhow::anyhow!("a worker thread panicked")],
                )
            }),
        )
    });
    rows.extend(rows_b);
    bad.extend(bad_b);
    (rows, bad)
}
