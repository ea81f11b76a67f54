//! Streaming imports: files in chunks of a few MB, each chunk read and normalised on both
//! cores, then written inside the caller's transaction.

use std::path::{Path, PathBuf};

use fitpipe_transform::RowSet;

use crate::env;

/// Bytes of input per chunk (8 MB; `FITPIPE_IMPORT_CHUNK_BYTES` overrides, for tests).
fn chunk_bytes() -> u64 {
    env::get(env::IMPORT_CHUNK_BYTES)
        .and_then(|v| v.parse().ok())
        .unwrap_or(8 << 20)
}

/// Splits `files` into chunks of about [`chunk_bytes`] and calls `each` in order.
pub fn for_each_chunk(
    files: &[PathBuf],
    mut each: impl FnMut(&[PathBuf]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let limit = chunk_bytes();
    let mut start = 0;
    let mut size = 0u64;
    for (i, path) in files.iter().enumerate() {
        size += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if size >= limit || i + 1 == files.len() {
            each(&files[start..=i])?;
            start = i + 1;
            size = 0;
        }
    }
    Ok(())
}

/// Runs `work` on every file of a chunk, half the files on each core; returns the rows
/// and one error per file that failed.
pub fn process(
    files: &[PathBuf],
    work: impl Fn(&Path) -> anyhow::Result<RowSet> + Sync,
) -> (RowSet, Vec<anyhow::Error>) {
    let run = |part: &[PathBuf]| {
        let mut rows = RowSet::default();
        let mut bad = Vec::new();
        for p in part {
            match work(p) {
                Ok(r) => rows.extend(r),
                Err(e) => bad.push(e),
            }
        }
        (rows, bad)
    };
    let (a, b) = files.split_at(files.len() / 2);
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
