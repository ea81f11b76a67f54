//! Glue between the table declarations (transform) and the dataset writer (export).

use std::fmt::Write;

use fitpipe_export::{Dataset, Layout, Partition, Written};
use fitpipe_transform::tables::PartitionRule;
use fitpipe_transform::TableSpec;

/// Rows as one Arrow batch per table (several batches of a table may follow each other).
pub type Batches = Vec<(&'static TableSpec, arrow::record_batch::RecordBatch)>;

/// The dataset layout of a declared table.
pub fn layout(spec: &TableSpec) -> Layout {
    Layout {
        name: spec.name.to_string(),
        schema: spec.schema(),
        key: spec.key.iter().map(|k| k.to_string()).collect(),
        partition: match spec.partition {
            PartitionRule::None => Partition::None,
            PartitionRule::Year(c) => Partition::Year(c.into()),
            PartitionRule::Month(c) => Partition::Month(c.into()),
        },
    }
}

/// A plain-text table of what was written, for stdout.
pub fn summary(written: &[Written]) -> String {
    let mut s = format!(
        "{:<22} {:>10} {:>12} {:>6}\n",
        "table", "rows in", "rows stored", "files"
    );
    for w in written {
        let _ = writeln!(
            s,
            "{:<22} {:>10} {:>12} {:>6}",
            w.table,
            w.rows_in,
            w.rows_total,
            w.files.len()
        );
    }
    s
}

/// One summary line per table over several writes.
pub fn merge_written(ws: Vec<Written>) -> Vec<Written> {
    let mut out: Vec<Written> = Vec::new();
    for w in ws {
        match out.iter_mut().find(|o| o.table == w.table) {
            Some(o) => {
                o.rows_in += w.rows_in;
                for f in w.files {
                    if !o.files.contains(&f) {
                        o.files.push(f);
                    }
                }
            }
            None => out.push(w),
        }
    }
    out
}

/// The summary of a run for stdout: one line per table written, with the rows it now holds.
pub fn report(ds: &Dataset, written: Vec<Written>) -> anyhow::Result<String> {
    let mut merged = merge_written(written);
    for w in merged.iter_mut() {
        if let Some(spec) = fitpipe_transform::ALL_TABLES
            .iter()
            .find(|t| t.name == w.table)
        {
            w.rows_total = ds.row_count(&layout(spec))?;
        }
    }
    Ok(summary(&merged))
}

/// Takes the dataset's lock, saying so when another run holds it and this one waits.
pub fn lock_waiting(
    ds: &Dataset,
    report: &dyn crate::Report,
) -> anyhow::Result<fitpipe_export::DatasetLock> {
    if let Some(l) = ds.lock(false)? {
        return Ok(l);
    }
    report.warn(&format!(
        "waiting for another fitpipe run that is writing to `{}` to finish...",
        ds.root().display()
    ));
    ds.lock(true)?
        .ok_or_else(|| anyhow::anyhow!("the dataset lock could not be taken"))
}

/// Tables that get a CSV copy only when `--format` asks for CSV explicitly.
pub const INTRADAY: &[&str] = &["heart_rate_intraday", "activity_intraday"];

/// The dataset at `out`. With `--format` given, exactly those formats for every table;
/// without it, Parquet for every table and CSV copies of the daily tables (the intraday
/// tables are large and rarely opened as CSV).
pub fn dataset(out: &std::path::Path, formats: Option<&[fitpipe_export::Format]>) -> Dataset {
    use fitpipe_export::Format;
    match formats {
        Some(f) => Dataset::new(out, f),
        None => Dataset::new(out, &[Format::Parquet, Format::Csv]).without_csv_for(INTRADAY),
    }
}
