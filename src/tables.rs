//! Glue between the table declarations (transform) and the dataset writer (export).

use std::fmt::Write;

use anyhow::Context as _;
use fitpipe_export::{Dataset, Layout, Partition, Transaction, Written};
use fitpipe_transform::tables::PartitionRule;
use fitpipe_transform::{RowSet, TableSpec};

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

/// Rows waiting to be written inside a transaction, table by table. Each flush upserts a
/// table's waiting rows at once, so a partition that many chunks add to is read, merged
/// and compressed once per flush instead of once per chunk. The largest table is flushed
/// whenever the waiting rows pass the budget, so memory stays bounded.
pub struct Buffered<'t, 'a> {
    txn: &'t mut Transaction<'a>,
    waiting: Vec<(
        &'static TableSpec,
        Vec<arrow::record_batch::RecordBatch>,
        usize,
    )>,
    bytes: usize,
    budget: usize,
    written: Vec<Written>,
}

impl<'t, 'a> Buffered<'t, 'a> {
    /// A buffer of at most `budget` bytes of Arrow data.
    pub fn new(txn: &'t mut Transaction<'a>, budget: usize) -> Self {
        Buffered {
            txn,
            waiting: Vec::new(),
            bytes: 0,
            budget,
            written: Vec::new(),
        }
    }

    /// Adds rows (checked against their tables now, so a bad row fails early).
    pub fn push(&mut self, batches: Batches) -> anyhow::Result<()> {
        for (spec, batch) in batches {
            Dataset::check(&layout(spec), &batch)?;
            let size = batch.get_array_memory_size();
            self.bytes += size;
            match self.waiting.iter_mut().find(|w| w.0.name == spec.name) {
                Some(w) => {
                    w.1.push(batch);
                    w.2 += size;
                }
                None => self.waiting.push((spec, vec![batch], size)),
            }
        }
        while self.bytes > self.budget {
            let Some(i) = (0..self.waiting.len()).max_by_key(|i| self.waiting[*i].2) else {
                break;
            };
            self.flush(i)?;
        }
        Ok(())
    }

    fn flush(&mut self, i: usize) -> anyhow::Result<()> {
        let (spec, batches, size) = self.waiting.swap_remove(i);
        self.bytes -= size;
        let batch = arrow::compute::concat_batches(&spec.schema(), &batches)?;
        drop(batches);
        self.written.push(
            self.txn
                .upsert(&layout(spec), &batch)
                .with_context(|| format!("writing table `{}`", spec.name))?,
        );
        Ok(())
    }

    /// Writes everything still waiting; returns what was written.
    pub fn finish(mut self) -> anyhow::Result<Vec<Written>> {
        while !self.waiting.is_empty() {
            self.flush(0)?;
        }
        Ok(self.written)
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
