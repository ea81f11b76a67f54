//! Glue between the table declarations (transform) and the dataset writer (export).

use std::fmt::Write;

use anyhow::Context as _;
use fitpipe_export::{Dataset, Layout, Partition, Transaction, Written};
use fitpipe_transform::tables::PartitionRule;
use fitpipe_transform::{RowSet, TableSpec};

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

/// Upserts every table that has rows; checks every batch before writing any.
pub fn write_rows(ds: &Dataset, rows: &RowSet) -> anyhow::Result<Vec<Written>> {
    let batches = rows.batches();
    for (spec, batch) in &batches {
        Dataset::check(&layout(spec), batch)?;
    }
    let mut out = Vec::new();
    for (spec, batch) in &batches {
        let w = ds.upsert(&layout(spec), batch).with_context(|| {
            format!(
                "writing table `{}` under `{}`",
                spec.name,
                ds.root().display()
            )
        })?;
        out.push(w);
    }
    Ok(out)
}

/// Upserts every table that has rows inside a transaction; checks every batch first.
pub fn write_rows_in(txn: &mut Transaction<'_>, rows: &RowSet) -> anyhow::Result<Vec<Written>> {
    let batches = rows.batches();
    for (spec, batch) in &batches {
        Dataset::check(&layout(spec), batch)?;
    }
    let mut out = Vec::new();
    for (spec, batch) in &batches {
        out.push(
            txn.upsert(&layout(spec), batch)
                .with_context(|| format!("writing table `{}`", spec.name))?,
        );
    }
    Ok(out)
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
