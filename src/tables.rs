//! Glue between the table declarations (transform) and the dataset writer (export).

use std::fmt::Write;

use std::collections::HashSet;

use anyhow::Context as _;
use arrow::record_batch::RecordBatch;
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use fitpipe_export::{Dataset, ExportError, Layout, Partition, Rows, Transaction, Window, Written};
use fitpipe_ingest::provider::Replaces;
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

/// Days of one resource, one user and one source whose answers were complete: what they
/// replace of the stored rows (see [`Replaces`]).
#[derive(Debug, Clone)]
pub struct Refetched {
    pub kind: Replaces,
    pub user: String,
    pub source: &'static str,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// The user's zone, for the instants of local days.
    pub tz: Tz,
}

/// Upserts every table that has rows inside a transaction; checks every batch before
/// writing any. Tables that a re-fetched window covers are replaced in that window (stored
/// rows the answers no longer hold go), even where the answers had no rows at all.
pub fn write_rows_in(
    txn: &mut Transaction<'_>,
    rows: &RowSet,
    refetched: &[Refetched],
) -> anyhow::Result<Vec<Written>> {
    write_with(rows, refetched, &mut |l, b, w| match w {
        Some(w) => txn.replace(l, b, w),
        None => txn.upsert(l, b),
    })
}

type WriteFn<'a> =
    dyn FnMut(&Layout, &RecordBatch, Option<&Window>) -> Result<Written, ExportError> + 'a;

fn write_with(
    rows: &RowSet,
    refetched: &[Refetched],
    write: &mut WriteFn<'_>,
) -> anyhow::Result<Vec<Written>> {
    let batches = rows.batches();
    for (spec, batch) in &batches {
        Dataset::check(&layout(spec), batch)?;
    }
    let mut out = Vec::new();
    // Log ids of sleep sessions that replaced windows removed or hold anew: their stages
    // are replaced with them.
    let mut logs: HashSet<String> = HashSet::new();
    for spec in fitpipe_transform::ALL_TABLES {
        let windows = windows_of(spec.name, rows, refetched, &logs);
        let table: Vec<&RecordBatch> = batches
            .iter()
            .filter(|(s, _)| s.name == spec.name)
            .map(|(_, b)| b)
            .collect();
        if table.is_empty() && windows.is_none() {
            continue;
        }
        let l = layout(spec);
        let batch = arrow::compute::concat_batches(&l.schema, table)?;
        let w = write(&l, &batch, windows.as_ref())
            .with_context(|| format!("writing table `{}`", spec.name))?;
        if spec.name == "sleep_sessions" {
            logs.extend(w.removed_values.iter().cloned());
        }
        out.push(w);
    }
    Ok(out)
}

/// The window of `table` that the re-fetched days replace, if any.
fn windows_of(
    table: &str,
    rows: &RowSet,
    refetched: &[Refetched],
    removed_logs: &HashSet<String>,
) -> Option<Window> {
    let mine: Vec<&Refetched> = refetched
        .iter()
        .filter(|r| match r.kind {
            Replaces::SleepByEndDay => table == "sleep_sessions" || table == "sleep_stages",
            Replaces::HeartZones => table == "heart_rate_zones",
            Replaces::HeartSamples => table == "heart_rate_intraday",
            Replaces::Nothing => false,
        })
        .collect();
    let first = mine.first()?;
    let day = Duration::days(1);
    let days = (
        mine.iter().map(|r| r.first).min()? - day * 2,
        mine.iter().map(|r| r.last).max()? + day * 2,
    );
    let utc = |r: &Refetched, d: NaiveDate| {
        r.tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map_or(d.and_time(NaiveTime::MIN).and_utc(), |t| {
                t.with_timezone(&Utc)
            })
            .timestamp_micros()
    };
    let rows_of = |r: &&Refetched| match table {
        "sleep_sessions" => Rows::Dates("date_of_sleep".into(), r.first, r.last),
        "heart_rate_zones" => Rows::Dates("date".into(), r.first, r.last),
        _ => Rows::Instants("time_utc".into(), utc(r, r.first), utc(r, r.last + day)),
    };
    let rows = if table == "sleep_stages" {
        // The stages of every log the window removed or holds anew.
        let mut ids = removed_logs.clone();
        ids.extend(
            rows.sleep_sessions
                .iter()
                .filter(|s| {
                    mine.iter()
                        .any(|r| (r.first..=r.last).contains(&s.date_of_sleep))
                })
                .map(|s| s.log_id.to_string()),
        );
        vec![Rows::AnyOf("log_id".into(), ids)]
    } else {
        mine.iter().map(rows_of).collect()
    };
    Some(Window {
        equals: vec![
            ("user_id".into(), first.user.clone()),
            ("source".into(), first.source.to_string()),
        ],
        rows,
        days: Some(days),
        report: (table == "sleep_sessions").then(|| "log_id".to_string()),
    })
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

/// Takes the dataset's lock, saying so when another run holds it and this one waits.
pub fn lock_waiting(ds: &Dataset) -> anyhow::Result<fitpipe_export::DatasetLock> {
    if let Some(l) = ds.lock(false)? {
        return Ok(l);
    }
    eprintln!(
        "waiting for another fitpipe run that is writing to `{}` to finish...",
        ds.root().display()
    );
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
