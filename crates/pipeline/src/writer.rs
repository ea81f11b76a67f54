//! The one writer every source writes through (see [`Writer`]).

use std::collections::HashSet;

use anyhow::Context as _;
use arrow::record_batch::RecordBatch;
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use fitpipe_catalog::WindowRows;
use fitpipe_export::{Dataset, Layout, Rows, Transaction, Window, Written};
use fitpipe_ingest::provider::Replaces;
use fitpipe_transform::{RowSet, TableSpec};

use crate::tables::{layout, Batches};

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

/// Writes every table that has rows, or that a re-fetched window covers: tables a window
/// covers are replaced in it (stored rows the answers no longer hold go, even where the
/// answers had no rows at all), the others upserted. Every batch is checked first.
fn write_with(
    txn: &mut Transaction<'_>,
    rows: &RowSet,
    refetched: &[Refetched],
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
        let w = match &windows {
            Some(w) => txn.replace(&l, &batch, w),
            None => txn.upsert(&l, &batch),
        }
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
        // The tables each kind of replace covers are the catalog's.
        .filter(|r| r.kind.tables().contains(&table))
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
    // Which rows of the table a window covers is the catalog's word too.
    let rows = match first.kind.rows_in(table) {
        WindowRows::StagesOfLogs => {
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
        }
        WindowRows::LocalDays(c) => mine
            .iter()
            .map(|r| Rows::Dates(c.into(), r.first, r.last))
            .collect(),
        WindowRows::Instants(c) => mine
            .iter()
            .map(|r| Rows::Instants(c.into(), utc(r, r.first), utc(r, r.last + day)))
            .collect(),
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

/// The one writer: every source (the API fetch, `rebuild`, `import json`, `import
/// takeout`) hands it what it read, inside one transaction, and it merges, replaces
/// windows and writes.
///
/// - [`Writer::answer`] takes the rows of one answer with the window they are the whole
///   truth for, if any (a re-fetched day of sleep or intraday samples, say). Answers wait
///   together, so the routes of an exercise list meet their sessions, until a budget is
///   passed or an answer arrives that must not be merged with them (a second answer for
///   days already waiting, or another user's): then the waiting answers are written,
///   windows replacing what is stored for their days. Sources give answers oldest first,
///   so the newer answer wins.
/// - [`Writer::rows`] takes rows that are truth for no window (imports), table by table
///   and partition by partition. Each flush upserts a table's waiting rows at once (the
///   batches as they are, not copied into one), so a partition that many chunks add to
///   is read, merged and compressed once per flush instead of once per chunk. The
///   largest table is flushed whenever the waiting rows pass the budget, so memory stays
///   bounded. For input in time order ([`Writer::in_order`]) rows do not wait at all
///   where they can be written as they come: a partition no file holds yet is streamed
///   ([`fitpipe_export::PartStream`]) batch by batch while its rows arrive in key order,
///   and finished when rows of a later partition arrive. Rows that break the order wait
///   and are merged into the finished file.
pub struct Writer<'t, 'a> {
    txn: &'t mut Transaction<'a>,
    waiting: Vec<Waiting>,
    bytes: usize,
    budget: usize,
    in_order: bool,
    written: Vec<Written>,
    /// Answers waiting: their rows, the windows they replace, and their size.
    answers: RowSet,
    windows: Vec<Refetched>,
    answer_bytes: u64,
}

/// One table's waiting rows.
struct Waiting {
    spec: &'static TableSpec,
    layout: Layout,
    /// By partition label: the batches in arrival order, and their share of the bytes.
    parts: std::collections::BTreeMap<String, (Vec<arrow::record_batch::RecordBatch>, usize)>,
    bytes: usize,
    /// In order: the newest partition, being written as its rows come.
    stream: Option<(String, fitpipe_export::PartStream)>,
}

impl<'t, 'a> Writer<'t, 'a> {
    /// A buffer of at most `budget` bytes of Arrow data.
    pub fn new(txn: &'t mut Transaction<'a>, budget: usize) -> Self {
        Writer {
            txn,
            waiting: Vec::new(),
            bytes: 0,
            budget,
            in_order: false,
            written: Vec::new(),
            answers: RowSet::default(),
            windows: Vec::new(),
            answer_bytes: 0,
        }
    }

    /// Rows come in time order (files sorted by date): new partitions are streamed as
    /// their rows arrive, and a partition is complete once rows of a later partition of
    /// its table arrive. Out-of-order rows are still merged correctly, at the cost of
    /// writing a partition again.
    pub fn in_order(mut self) -> Self {
        self.in_order = true;
        self
    }

    /// Adds the rows of one answer. `window`: the days (of one resource, user and source)
    /// the answer is the whole truth for, with its page number (the pages of one answer
    /// share its window and replace it together); stored rows of those days that no page
    /// holds are removed. `size`: the answer's size, counted against the budget.
    pub fn answer(
        &mut self,
        rows: RowSet,
        window: Option<(Refetched, usize)>,
        size: u64,
    ) -> anyhow::Result<()> {
        let clash = window.as_ref().is_some_and(|(w, page)| {
            self.windows.iter().any(|r| {
                (r.user != w.user || r.source != w.source)
                    || (r.kind == w.kind
                        && r.first <= w.last
                        && w.first <= r.last
                        && (*page == 1 || !same_answer(r, w)))
            })
        });
        // A full buffer is written only between answers: the pages of one answer replace
        // their window together, so a write between them would drop the pages written
        // before it.
        let between_answers = window.as_ref().is_none_or(|(_, page)| *page == 1);
        if clash || (self.answer_bytes >= self.budget as u64 && between_answers) {
            self.write_answers()?;
        }
        self.answers.extend(rows);
        if let Some((w, _)) = window {
            if !self.windows.iter().any(|r| same_answer(r, &w)) {
                self.windows.push(w);
            }
        }
        self.answer_bytes += size;
        Ok(())
    }

    /// Writes the waiting answers.
    fn write_answers(&mut self) -> anyhow::Result<()> {
        let mut rows = std::mem::take(&mut self.answers);
        let windows = std::mem::take(&mut self.windows);
        self.answer_bytes = 0;
        // Routes read with their exercise list take the ids of its sessions.
        fitpipe_transform::tcx::link_routes(&mut rows);
        if windows.is_empty() {
            return self.rows(rows.batches());
        }
        // A window replaces what is stored for its days: older rows still waiting are
        // written first, so they cannot land over the answer.
        self.flush_all()?;
        let written = write_with(self.txn, &rows, &windows)?;
        self.written.extend(written);
        Ok(())
    }

    /// Adds rows that are truth for no window (checked against their tables now, so a bad
    /// row fails early).
    pub fn rows(&mut self, batches: Batches) -> anyhow::Result<()> {
        // Per table: the partitions that rows of a later partition have closed.
        let mut closed: Vec<(usize, String)> = Vec::new();
        for (spec, batch) in batches {
            let i = match self.waiting.iter().position(|w| w.spec.name == spec.name) {
                Some(i) => i,
                None => {
                    self.waiting.push(Waiting {
                        spec,
                        layout: layout(spec),
                        parts: Default::default(),
                        bytes: 0,
                        stream: None,
                    });
                    self.waiting.len() - 1
                }
            };
            let w = &mut self.waiting[i];
            Dataset::check(&w.layout, &batch)?;
            let size = batch.get_array_memory_size();
            let rows = batch.num_rows().max(1);
            let parts = w.layout.split(&batch)?;
            if self.in_order {
                if let Some(first) = parts.keys().next() {
                    for label in w.parts.keys().take_while(|l| *l < first) {
                        if !closed.iter().any(|c| c.0 == i && &c.1 == label) {
                            closed.push((i, label.clone()));
                        }
                    }
                }
            }
            for (label, part) in parts {
                if self.in_order && self.stream(i, &label, &part)? {
                    continue;
                }
                let w = &mut self.waiting[i];
                let share = size * part.num_rows() / rows;
                self.bytes += share;
                w.bytes += share;
                let slot = w.parts.entry(label).or_default();
                slot.0.push(part);
                slot.1 += share;
            }
        }
        for i in 0..self.waiting.len() {
            let labels: Vec<String> = closed
                .iter()
                .filter(|c| c.0 == i)
                .map(|c| c.1.clone())
                .collect();
            if !labels.is_empty() {
                self.flush(i, Some(&labels))?;
            }
        }
        while self.bytes > self.budget {
            let Some(i) = (0..self.waiting.len()).max_by_key(|i| self.waiting[*i].bytes) else {
                break;
            };
            self.flush(i, None)?;
        }
        Ok(())
    }

    /// Writes `part` (rows of partition `label` of table `i`) through the table's stream
    /// if it can: true when written.
    fn stream(
        &mut self,
        i: usize,
        label: &str,
        part: &arrow::record_batch::RecordBatch,
    ) -> anyhow::Result<bool> {
        let w = &mut self.waiting[i];
        // Rows of a later partition: the streamed one is complete.
        if w.stream.as_ref().is_some_and(|(s, _)| s.as_str() < label) {
            self.finish_stream(i)?;
        }
        let w = &mut self.waiting[i];
        match &mut w.stream {
            Some((s, st)) if s == label => {
                if st.append(part)? {
                    return Ok(true);
                }
                // Out of order: the file so far is finished, and these rows merged into it.
                self.finish_stream(i)?;
                Ok(false)
            }
            // Rows of an earlier partition than the one streamed.
            Some(_) => Ok(false),
            // Rows of this partition already wait (they broke the order): merge the rest.
            None if w.parts.contains_key(label) => Ok(false),
            None => {
                let Some(mut st) = self.txn.stream(&w.layout, label)? else {
                    return Ok(false);
                };
                if !st.append(part)? {
                    return Ok(false);
                }
                w.stream = Some((label.to_string(), st));
                Ok(true)
            }
        }
    }

    /// Finishes table `i`'s stream, if one is open.
    fn finish_stream(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some((_, st)) = self.waiting[i].stream.take() {
            let name = self.waiting[i].spec.name;
            let written = st
                .finish()
                .with_context(|| format!("writing table `{name}`"))?;
            self.written.push(written);
        }
        Ok(())
    }

    /// Writes table `i`'s waiting rows of the partitions `labels` (all with `None`).
    fn flush(&mut self, i: usize, labels: Option<&[String]>) -> anyhow::Result<()> {
        let w = &mut self.waiting[i];
        let keys: Vec<String> = match labels {
            Some(l) => l
                .iter()
                .filter(|l| w.parts.contains_key(*l))
                .cloned()
                .collect(),
            None => w.parts.keys().cloned().collect(),
        };
        if keys.is_empty() {
            return Ok(());
        }
        // Waiting rows of the streamed partition merge into its finished file.
        if w.stream.as_ref().is_some_and(|(s, _)| keys.contains(s)) {
            self.finish_stream(i)?;
        }
        let w = &mut self.waiting[i];
        let mut batches = Vec::new();
        let mut size = 0;
        for label in keys {
            let (b, bytes) = w.parts.remove(&label).unwrap_or_default();
            batches.extend(b);
            size += bytes;
        }
        w.bytes -= size;
        self.bytes -= size;
        let name = w.spec.name;
        let written = self
            .txn
            .upsert_batches(&w.layout, &batches)
            .with_context(|| format!("writing table `{name}`"))?;
        self.written.push(written);
        Ok(())
    }

    /// Writes every table's waiting rows.
    fn flush_all(&mut self) -> anyhow::Result<()> {
        for i in 0..self.waiting.len() {
            self.finish_stream(i)?;
            self.flush(i, None)?;
        }
        Ok(())
    }

    /// Writes everything still waiting; returns what was written.
    pub fn finish(mut self) -> anyhow::Result<Vec<Written>> {
        self.write_answers()?;
        self.flush_all()?;
        Ok(self.written)
    }
}

/// Whether two windows are the same answer's (its pages).
fn same_answer(a: &Refetched, b: &Refetched) -> bool {
    a.kind == b.kind && a.first == b.first && a.last == b.last && a.user == b.user
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::dataset;
    use fitpipe_transform::tables::HeartRateIntraday;

    /// One heart-rate batch, a sample per hour from `from` for `hours` hours.
    fn samples(from: chrono::DateTime<Utc>, hours: i64, bpm: f64) -> Batches {
        let mut rows = RowSet::default();
        for h in 0..hours {
            rows.heart_rate_intraday.push(HeartRateIntraday {
                user_id: "u".into(),
                source: "takeout".into(),
                time_utc: from + Duration::hours(h),
                time_local: None,
                bpm: Some(bpm),
                confidence: None,
                interval_seconds: Some(1),
            });
        }
        rows.batches()
    }

    fn day(m: u32, d: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, m, d, 0, 0, 0).unwrap()
    }

    fn files(w: &[Written]) -> Vec<String> {
        w.iter()
            .flat_map(|w| &w.files)
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn in_order_input_streams_each_month_once_finished_when_the_next_begins() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), Some(&[fitpipe_export::Format::Parquet]));
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, usize::MAX).in_order();
        out.rows(samples(day(1, 30), 24, 60.0)).unwrap();
        assert!(out.written.is_empty(), "January is still open");
        // A file over the month's end: its February rows complete January.
        out.rows(samples(day(1, 31) + Duration::hours(12), 24, 61.0))
            .unwrap();
        assert_eq!(files(&out.written), ["2020-01.parquet"]);
        out.rows(samples(day(2, 2), 24, 62.0)).unwrap();
        assert_eq!(files(&out.written), ["2020-01.parquet"]);
        out.rows(samples(day(3, 1), 2, 63.0)).unwrap();
        assert_eq!(files(&out.written), ["2020-01.parquet", "2020-02.parquet"]);
        // Nothing waited: every row went straight into its month's file.
        assert_eq!(out.bytes, 0);
        let written = out.finish().unwrap();
        assert_eq!(
            files(&written),
            ["2020-01.parquet", "2020-02.parquet", "2020-03.parquet"],
            "each month written once"
        );
        txn.commit().unwrap();
        let spec = &HeartRateIntraday::SPEC;
        assert_eq!(ds.row_count(&layout(spec)).unwrap(), 24 + 24 + 24 + 2);
        let back = ds.read_table(&layout(spec)).unwrap();
        let all = arrow::compute::concat_batches(&layout(spec).schema, &back).unwrap();
        let t = all
            .column(2)
            .as_any()
            .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
            .unwrap();
        assert!(
            (1..t.len()).all(|i| t.value(i - 1) < t.value(i)),
            "sorted, each time once"
        );
    }

    #[test]
    fn a_month_already_on_disk_is_merged_not_streamed() {
        // A second import of overlapping days: January exists, so its rows wait and are
        // merged (newer values win); February is new and streamed.
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), Some(&[fitpipe_export::Format::Parquet]));
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, usize::MAX).in_order();
        out.rows(samples(day(1, 10), 5, 60.0)).unwrap();
        out.finish().unwrap();
        txn.commit().unwrap();
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, usize::MAX).in_order();
        out.rows(samples(day(1, 10) + Duration::hours(3), 4, 70.0))
            .unwrap();
        assert!(out.bytes > 0, "January's rows wait for the merge");
        out.rows(samples(day(2, 1), 3, 71.0)).unwrap();
        out.finish().unwrap();
        txn.commit().unwrap();
        let layout = layout(&HeartRateIntraday::SPEC);
        let back = ds.read_table(&layout).unwrap();
        let all = arrow::compute::concat_batches(&layout.schema, &back).unwrap();
        let bpm = all
            .column(4)
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .unwrap();
        assert_eq!(
            bpm.values().to_vec(),
            [60.0, 60.0, 60.0, 70.0, 70.0, 70.0, 70.0, 71.0, 71.0, 71.0]
        );
    }

    #[test]
    fn out_of_order_input_is_still_merged_into_the_right_rows() {
        // February, then January (which February's rows had already closed), then more
        // February overlapping the first: January and February are written twice, and the
        // later value of an overlapping sample wins.
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), Some(&[fitpipe_export::Format::Parquet]));
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, usize::MAX).in_order();
        out.rows(samples(day(2, 10), 10, 70.0)).unwrap();
        out.rows(samples(day(3, 1), 1, 71.0)).unwrap();
        out.rows(samples(day(1, 5), 3, 72.0)).unwrap();
        out.rows(samples(day(2, 10) + Duration::hours(5), 10, 73.0))
            .unwrap();
        out.finish().unwrap();
        txn.commit().unwrap();
        let layout = layout(&HeartRateIntraday::SPEC);
        let rows = ds.read_table(&layout).unwrap();
        let all = arrow::compute::concat_batches(&layout.schema, &rows).unwrap();
        let t = all
            .column(2)
            .as_any()
            .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
            .unwrap();
        let bpm = all
            .column(4)
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .unwrap();
        let got: Vec<(i64, f64)> = (0..all.num_rows())
            .map(|i| (t.value(i), bpm.value(i)))
            .collect();
        let mut want: Vec<(i64, f64)> = Vec::new();
        let hour = 3_600_000_000i64;
        let us = |d: chrono::DateTime<Utc>| d.timestamp_micros();
        want.extend((0..3).map(|h| (us(day(1, 5)) + h * hour, 72.0)));
        want.extend((0..5).map(|h| (us(day(2, 10)) + h * hour, 70.0)));
        want.extend((5..15).map(|h| (us(day(2, 10)) + h * hour, 73.0)));
        want.push((us(day(3, 1)), 71.0));
        assert_eq!(got, want);
    }

    #[test]
    fn the_budget_still_bounds_what_waits() {
        // Input in no particular order, a budget smaller than one month's rows: rows are
        // written before their month is complete, and the month is merged again when
        // more of it arrives.
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), Some(&[fitpipe_export::Format::Parquet]));
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, 1);
        out.rows(samples(day(1, 1), 24, 60.0)).unwrap();
        assert_eq!(files(&out.written), ["2020-01.parquet"]);
        assert_eq!(out.bytes, 0);
        out.rows(samples(day(1, 2), 24, 60.0)).unwrap();
        out.finish().unwrap();
        txn.commit().unwrap();
        assert_eq!(ds.row_count(&layout(&HeartRateIntraday::SPEC)).unwrap(), 48);
    }

    // Every replace the catalog declares names, for each of its tables, a column that
    // table has with the type its rule needs: a new data type with a replace rule cannot
    // name a column its table lacks.
    #[test]
    fn every_replace_rule_names_a_column_of_its_tables() {
        use arrow::datatypes::DataType as T;
        let mut kinds: Vec<Replaces> = fitpipe_catalog::CATALOG
            .iter()
            .flat_map(|t| [t.google, t.fitbit])
            .flatten()
            .map(|r| r.replaces)
            .collect();
        kinds.dedup();
        assert!(kinds.contains(&Replaces::Days(&["sedentary_periods"])));
        for kind in kinds {
            for table in kind.tables() {
                let spec = fitpipe_transform::ALL_TABLES
                    .iter()
                    .find(|s| s.name == *table)
                    .unwrap_or_else(|| panic!("{kind:?}: no table `{table}`"));
                let schema = spec.schema();
                let (column, ok): (&str, fn(&T) -> bool) = match kind.rows_in(table) {
                    WindowRows::LocalDays(c) => (c, |t| *t == T::Date32),
                    WindowRows::Instants(c) => (c, |t| matches!(t, T::Timestamp(..))),
                    WindowRows::StagesOfLogs => ("log_id", |t| *t == T::Utf8),
                };
                let field = schema
                    .field_with_name(column)
                    .unwrap_or_else(|_| panic!("{kind:?}: `{table}` has no `{column}`"));
                assert!(ok(field.data_type()), "{kind:?}: `{table}.{column}`");
            }
        }
    }

    fn berlin() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    /// A sedentary period of October 2026 in Berlin: day, hour, minutes.
    fn period(d: u32, h: u32, minutes: i64) -> fitpipe_transform::tables::SedentaryPeriod {
        let local = NaiveDate::from_ymd_opt(2026, 10, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap();
        let start = berlin()
            .from_local_datetime(&local)
            .unwrap()
            .with_timezone(&Utc);
        fitpipe_transform::tables::SedentaryPeriod {
            user_id: "u".into(),
            source: "google-health".into(),
            date: local.date(),
            start_utc: start,
            start_local: Some(local),
            end_utc: Some(start + Duration::minutes(minutes)),
            end_local: Some(local + Duration::minutes(minutes)),
            duration_seconds: Some(minutes * 60),
        }
    }

    fn periods(p: Vec<fitpipe_transform::tables::SedentaryPeriod>) -> RowSet {
        RowSet {
            sedentary_periods: p,
            ..RowSet::default()
        }
    }

    /// The window of sedentary periods that a re-fetch of the 10th is the truth for.
    fn tenth() -> (Refetched, usize) {
        let day = NaiveDate::from_ymd_opt(2026, 10, 10).unwrap();
        let w = Refetched {
            kind: Replaces::Days(&["sedentary_periods"]),
            user: "u".into(),
            source: "google-health",
            first: day,
            last: day,
            tz: berlin(),
        };
        (w, 1)
    }

    /// The stored periods: "day hour:minute" (local) and seconds.
    fn stored(ds: &Dataset) -> Vec<(String, i64)> {
        let l = layout(&fitpipe_transform::tables::SedentaryPeriod::SPEC);
        let all = arrow::compute::concat_batches(&l.schema, &ds.read_table(&l).unwrap()).unwrap();
        let col = |name: &str| all.column(l.schema.index_of(name).unwrap()).clone();
        let local = col("start_local");
        let local = local
            .as_any()
            .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
            .unwrap();
        let secs = col("duration_seconds");
        let secs = secs
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        let mut got: Vec<(String, i64)> = (0..all.num_rows())
            .map(|i| {
                let t = chrono::DateTime::from_timestamp_micros(local.value(i)).unwrap();
                (t.naive_utc().format("%d %H:%M").to_string(), secs.value(i))
            })
            .collect();
        got.sort();
        got
    }

    fn pairs(p: &[(&str, i64)]) -> Vec<(String, i64)> {
        p.iter().map(|(t, s)| (t.to_string(), *s)).collect()
    }

    // A re-fetched window of sedentary periods is the truth for the local days it covers:
    // a stored period of those days that the answer no longer holds goes, the day before
    // and after keep theirs, and a period that grew (the same start, a later end) is
    // replaced, not doubled.
    #[test]
    fn a_refetched_window_of_sedentary_periods_replaces_only_its_days() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), Some(&[fitpipe_export::Format::Parquet]));
        let first = periods(vec![
            period(9, 9, 30),
            period(10, 9, 30),
            period(10, 14, 40),
            period(11, 9, 30),
        ]);
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, usize::MAX);
        out.answer(first, None, 0).unwrap();
        out.finish().unwrap();
        txn.commit().unwrap();
        // The 10th again: the 09:00 period grew to 45 minutes, the 14:00 one is gone.
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, usize::MAX);
        out.answer(periods(vec![period(10, 9, 45)]), Some(tenth()), 0)
            .unwrap();
        out.finish().unwrap();
        txn.commit().unwrap();
        assert_eq!(
            stored(&ds),
            pairs(&[("09 09:00", 1800), ("10 09:00", 2700), ("11 09:00", 1800)])
        );
    }

    // Two answers for the same days in one writer (a rebuild reads every saved fetch of a
    // day, oldest first): the newer is the truth, so the older's period that the newer
    // no longer holds is gone, as if they had been written by two runs. Merged into one
    // write, the window would keep both answers' rows.
    #[test]
    fn a_newer_answer_for_the_same_days_replaces_the_older_in_one_writer() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), Some(&[fitpipe_export::Format::Parquet]));
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, usize::MAX);
        let older = periods(vec![period(10, 9, 30), period(10, 14, 40)]);
        out.answer(older, Some(tenth()), 0).unwrap();
        out.answer(periods(vec![period(10, 9, 45)]), Some(tenth()), 0)
            .unwrap();
        // Another day's window joins the waiting answers.
        let mut eleventh = tenth();
        eleventh.0.first = eleventh.0.first.succ_opt().unwrap();
        eleventh.0.last = eleventh.0.first;
        out.answer(periods(vec![period(11, 8, 10)]), Some(eleventh), 0)
            .unwrap();
        out.finish().unwrap();
        txn.commit().unwrap();
        assert_eq!(stored(&ds), pairs(&[("10 09:00", 2700), ("11 08:00", 600)]));
    }

    // Rows of no window (an import) that wait in the writer, then an answer that is the
    // truth for their day: the answer wins, the waiting rows being written before it
    // rather than over it at the end.
    #[test]
    fn waiting_rows_are_written_before_a_window_replaces_their_days() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(dir.path(), Some(&[fitpipe_export::Format::Parquet]));
        let mut txn = ds.begin().unwrap();
        let mut out = Writer::new(&mut txn, usize::MAX);
        out.rows(periods(vec![period(10, 14, 40), period(12, 7, 5)]).batches())
            .unwrap();
        out.answer(periods(vec![period(10, 9, 45)]), Some(tenth()), 0)
            .unwrap();
        out.finish().unwrap();
        txn.commit().unwrap();
        assert_eq!(stored(&ds), pairs(&[("10 09:00", 2700), ("12 07:00", 300)]));
    }
}
