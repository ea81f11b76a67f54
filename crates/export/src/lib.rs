//! Arrow batches to Parquet and CSV datasets: partitions, atomic writes, upsert.
//!
//! A [`Dataset`] is a folder (`<out>`) holding one folder per table with Parquet files
//! (`<out>/<table>/<partition>.parquet`) and their CSV mirrors
//! (`<out>/csv/<table>/<partition>.csv`). [`Dataset::upsert`] merges new rows into the
//! partitions they touch: the primary key stays unique, and a null in a newer row keeps
//! the stored value of that column. Every file is written to a temporary name, synced
//! and renamed, so it is whole or absent.
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{Int64Array, StringArray};
//! use arrow::datatypes::{DataType, Field, Schema};
//! use arrow::record_batch::RecordBatch;
//! use fitpipe_export::{Dataset, Format, Layout, Partition};
//!
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("user_id", DataType::Utf8, false),
//!     Field::new("steps", DataType::Int64, true),
//! ]));
//! let layout = Layout { name: "t".into(), schema: schema.clone(), key: vec!["user_id".into()], partition: Partition::None };
//! let batch = RecordBatch::try_new(schema, vec![
//!     Arc::new(StringArray::from(vec!["a"])),
//!     Arc::new(Int64Array::from(vec![Some(5)])),
//! ]).unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let ds = Dataset::new(dir.path(), &[Format::Parquet]);
//! let written = ds.upsert(&layout, &batch).unwrap();
//! assert_eq!(written.rows_total, 1);
//! ```
#![warn(missing_docs)]

mod merge;
mod sink;
mod stream;
mod txn;
mod window;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, Date32Array, TimestampMicrosecondArray, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Datelike, NaiveDate};

pub use merge::merge;
use merge::merge_parts;
pub use sink::{Format, Sink};
pub use stream::PartStream;
pub use txn::Transaction;
pub use window::{Rows, Window};

/// Why a dataset could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Reading or writing a file failed (disk full, permissions, ...).
    #[error("{action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The rows to write do not have the table's schema.
    #[error("table `{table}`: {message}")]
    Schema {
        /// Table name.
        table: String,
        /// What differs.
        message: String,
    },
    /// A file on disk does not match the table's schema.
    #[error("`{path}` does not match table `{table}`: {message}")]
    Existing {
        /// Table name.
        table: String,
        /// The file.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// A transaction is open on the dataset already (in this process).
    #[error(
        "a transaction is already open on `{path}`: commit or drop it before beginning another"
    )]
    TransactionOpen {
        /// The dataset's transaction folder.
        path: PathBuf,
    },
    /// A partition stream was used after its transaction was committed or dropped.
    #[error("table `{table}`: a partition stream was used after its transaction ended")]
    StreamOutlived {
        /// Table name.
        table: String,
    },
    /// Arrow failed on a batch.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The Parquet reader or writer failed.
    #[error("parquet `{path}`: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The error.
        source: parquet::errors::ParquetError,
    },
}

/// How a table is split into files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partition {
    /// One file, `data`.
    None,
    /// One file per year of a DATE or timestamp column, `YYYY`.
    Year(String),
    /// One file per month of a DATE or timestamp column, `YYYY-MM`.
    Month(String),
}

/// A table as the dataset stores it.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Table and folder name.
    pub name: String,
    /// The schema every file of the table has.
    pub schema: SchemaRef,
    /// Primary key columns.
    pub key: Vec<String>,
    /// How the table is split into files.
    pub partition: Partition,
}

impl Layout {
    /// A batch's rows by partition (labelled by file name stem, in label order); rows of
    /// a partition that lie together are a zero-copy slice.
    pub fn split(&self, batch: &RecordBatch) -> Result<BTreeMap<String, RecordBatch>, ExportError> {
        split(self, batch)
    }
}

/// What one upsert wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// Table name.
    pub table: String,
    /// Rows given to the upsert.
    pub rows_in: usize,
    /// Rows in the partitions written, after the merge.
    pub rows_total: usize,
    /// Files written (Parquet and CSV).
    pub files: Vec<PathBuf>,
    /// Stored rows a replaced window removed (see [`Dataset::replace`]).
    pub removed: usize,
    /// The values of the window's `report` column in the removed rows.
    pub removed_values: Vec<String>,
}

/// An output folder holding tables.
#[derive(Debug, Clone)]
pub struct Dataset {
    root: PathBuf,
    /// A study participant's share: tables under `<table>/user_id=<id>/` (hive
    /// partitions), with a lock and transactions of its own.
    participant: Option<String>,
    formats: Vec<Format>,
    /// Tables written as Parquet only, unless a partition already has a CSV mirror.
    no_csv: Vec<String>,
}

impl Dataset {
    /// A dataset under `root` that writes the given formats (plus any format a partition
    /// already has on disk, so mirrors never go stale).
    pub fn new(root: impl Into<PathBuf>, formats: &[Format]) -> Self {
        Self {
            root: root.into(),
            participant: None,
            formats: formats.to_vec(),
            no_csv: Vec::new(),
        }
    }

    /// The same dataset seen as one participant's share of a study: every table file
    /// under `<table>/user_id=<id>/` (hive partitioning, so one glob reads every
    /// participant), its own lock and transaction folder under `.fitpipe/users/<id>/`.
    /// Participants (and shards of a study) never write the same file.
    pub fn for_participant(mut self, id: &str) -> Self {
        self.participant = Some(id.to_string());
        self
    }

    /// The participant this dataset writes for, if it is one participant's share.
    pub fn participant(&self) -> Option<&str> {
        self.participant.as_deref()
    }

    /// The folder of fitpipe's own files for this dataset (or participant).
    pub fn own_dir(&self) -> PathBuf {
        match &self.participant {
            None => self.root.join(".fitpipe"),
            Some(id) => self.root.join(".fitpipe").join("users").join(id),
        }
    }

    /// The folder of a table's files in a format.
    pub fn table_dir(&self, table: &str, format: Format) -> PathBuf {
        let dir = match format {
            Format::Parquet => self.root.join(table),
            Format::Csv => self.root.join("csv").join(table),
        };
        match &self.participant {
            None => dir,
            Some(id) => dir.join(format!("user_id={id}")),
        }
    }

    /// The same dataset, writing no new CSV mirror for these tables (large intraday
    /// tables are rarely opened as CSV); a partition that has one keeps it current.
    pub fn without_csv_for(mut self, tables: &[&str]) -> Self {
        self.no_csv = tables.iter().map(|t| t.to_string()).collect();
        self
    }

    /// The dataset's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a partition file of `table` in `format`.
    pub fn file(&self, table: &str, label: &str, format: Format) -> PathBuf {
        self.table_dir(table, format)
            .join(format!("{label}.{}", format.extension()))
    }

    /// The formats a new partition of `table` is written in.
    pub(crate) fn formats_of(&self, table: &str) -> Vec<Format> {
        let mut formats = self.formats.clone();
        if self.no_csv.iter().any(|t| t == table) {
            formats.retain(|f| *f != Format::Csv);
        }
        formats
    }

    /// Checks a batch against a table layout without writing anything.
    pub fn check(layout: &Layout, batch: &RecordBatch) -> Result<(), ExportError> {
        let got = batch.schema();
        let want = &layout.schema;
        let schema_err = |message| ExportError::Schema {
            table: layout.name.clone(),
            message,
        };
        if got.fields().len() != want.fields().len() {
            return Err(schema_err(format!(
                "{} columns given, the table has {}",
                got.fields().len(),
                want.fields().len()
            )));
        }
        for (g, w) in got.fields().iter().zip(want.fields()) {
            if g.name() != w.name() || g.data_type() != w.data_type() {
                return Err(schema_err(format!(
                    "column `{}` {} given where `{}` {} belongs",
                    g.name(),
                    g.data_type(),
                    w.name(),
                    w.data_type()
                )));
            }
        }
        for k in &layout.key {
            let i = want
                .index_of(k)
                .map_err(|_| schema_err(format!("key column `{k}` missing")))?;
            if batch.column(i).null_count() > 0 {
                return Err(schema_err(format!("key column `{k}` has nulls")));
            }
        }
        Ok(())
    }

    /// Merges `batch` into the table: each touched partition is read, merged by primary
    /// key (newer non-null values win, column by column) and rewritten atomically.
    pub fn upsert(&self, layout: &Layout, batch: &RecordBatch) -> Result<Written, ExportError> {
        self.upsert_with(layout, std::slice::from_ref(batch), None, false)
    }

    /// Replaces a window: every stored row the window matches is removed, then `batch`
    /// is merged in as by [`Dataset::upsert`]. `batch` may be empty (the source has no
    /// rows left in the window).
    pub fn replace(
        &self,
        layout: &Layout,
        batch: &RecordBatch,
        window: &Window,
    ) -> Result<Written, ExportError> {
        self.upsert_with(layout, std::slice::from_ref(batch), Some(window), false)
    }

    /// [`Dataset::upsert`] (or [`Dataset::replace`] with a window); with `staged`, files
    /// are read from and written to a [`Transaction`]'s staging folder.
    pub(crate) fn upsert_with(
        &self,
        layout: &Layout,
        batches: &[RecordBatch],
        window: Option<&Window>,
        staged: bool,
    ) -> Result<Written, ExportError> {
        // The file a reader of this write sees now: staged by the transaction, else live.
        let current = |live: PathBuf| -> Option<PathBuf> {
            let s = self.staged_path(&live);
            if staged && s.exists() {
                Some(s)
            } else {
                live.exists().then_some(live)
            }
        };
        let target = |live: PathBuf| {
            if staged {
                self.staged_path(&live)
            } else {
                live
            }
        };
        for batch in batches {
            Self::check(layout, batch)?;
        }
        let mut written = Written {
            table: layout.name.clone(),
            rows_in: batches.iter().map(RecordBatch::num_rows).sum(),
            rows_total: 0,
            files: Vec::new(),
            removed: 0,
            removed_values: Vec::new(),
        };
        let key: Vec<usize> = layout
            .key
            .iter()
            .map(|k| layout.schema.index_of(k))
            .collect::<Result<_, _>>()?;
        // Every file to be replaced is handed to `before_write` first (a transaction keeps
        // the old one); then the partitions are merged and written on all cores.
        let mut jobs = Vec::new();
        // New rows by partition, as slices of the batches where they lie together.
        let mut parts: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
        for batch in batches {
            for (label, part) in split(layout, batch)? {
                parts.entry(label).or_default().push(part);
            }
        }
        if let Some(w) = window {
            // The window's stored partitions, also where no new row lands.
            let labels = match w.labels(layout) {
                Some(l) => l,
                None => self.stored_labels(layout, staged),
            };
            for label in labels {
                let stored = [Format::Parquet, Format::Csv]
                    .iter()
                    .any(|f| current(self.file(&layout.name, &label, *f)).is_some());
                if stored && !parts.contains_key(&label) {
                    parts.insert(label, Vec::new());
                }
            }
        }
        for (label, part) in parts {
            let mut formats = self.formats_of(&layout.name);
            let mut existing = None;
            for f in [Format::Parquet, Format::Csv] {
                if let Some(path) = current(self.file(&layout.name, &label, f)) {
                    if !formats.contains(&f) {
                        formats.push(f);
                    }
                    existing.get_or_insert((f, path));
                }
            }
            let paths: Vec<(Format, PathBuf)> = formats
                .into_iter()
                .map(|f| (f, target(self.file(&layout.name, &label, f))))
                .collect();
            jobs.push(PartJob {
                part,
                existing,
                paths,
            });
        }
        let one = |PartJob {
                       part,
                       existing,
                       paths,
                   }: &PartJob|
         -> Result<PartDone, ExportError> {
            let (mut removed, mut gone) = (Vec::new(), 0);
            let new_rows: usize = part.iter().map(RecordBatch::num_rows).sum();
            let merged = match existing {
                Some((f, path)) => {
                    let mut all = sink::read_batches(*f, path, layout)?;
                    if let Some(w) = window {
                        let before: usize = all.iter().map(RecordBatch::num_rows).sum();
                        for b in all.iter_mut() {
                            let (kept, values) = w.apply(layout, b)?;
                            *b = kept;
                            removed.extend(values);
                        }
                        gone = before - all.iter().map(RecordBatch::num_rows).sum::<usize>();
                        if gone == 0 && new_rows == 0 {
                            // Nothing of the window here and nothing new: leave the file.
                            return Ok((before, removed, 0));
                        }
                    }
                    all.extend(part.iter().cloned());
                    if all.is_empty() {
                        vec![RecordBatch::new_empty(layout.schema.clone())]
                    } else {
                        merge_parts(&all, &key)?
                    }
                }
                None if part.is_empty() => vec![RecordBatch::new_empty(layout.schema.clone())],
                None => merge_parts(part, &key)?,
            };
            for (f, path) in paths {
                sink::write_atomic(*f, path, &merged)?;
                if staged {
                    checkpoint("staged");
                }
            }
            Ok((
                merged.iter().map(RecordBatch::num_rows).sum(),
                removed,
                gone,
            ))
        };
        // Each partition on the shared thread pool (rayon's, one thread a core).
        let totals: Vec<Result<PartDone, ExportError>> = {
            use rayon::prelude::*;
            jobs.par_iter().with_max_len(1).map(&one).collect()
        };
        for t in totals {
            let (rows, values, gone) = t?;
            written.rows_total += rows;
            written.removed_values.extend(values);
            written.removed += gone;
        }
        written.files = jobs
            .into_iter()
            .flat_map(|j| j.paths.into_iter().map(|(_, p)| p))
            .collect();
        Ok(written)
    }

    /// The labels (file stems) of every partition of a table on disk, in either format,
    /// in order: read them one at a time with [`Dataset::read_partitions`] to keep memory
    /// to one partition.
    pub fn partition_labels(&self, layout: &Layout) -> Vec<String> {
        self.stored_labels(layout, false)
    }

    /// The labels (file stems) of every partition of a table on disk, in either format
    /// (and, with `staged`, in the open transaction).
    fn stored_labels(&self, layout: &Layout, staged: bool) -> Vec<String> {
        let mut out = std::collections::BTreeSet::new();
        for f in [Format::Parquet, Format::Csv] {
            let dir = self
                .file(&layout.name, "x", f)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let mut dirs = vec![dir.clone()];
            if staged {
                dirs.push(self.staged_path(&dir));
            }
            for d in dirs {
                let Ok(rd) = fs::read_dir(&d) else { continue };
                for e in rd.flatten() {
                    let p = e.path();
                    if p.extension().is_some_and(|x| x == f.extension()) && !sink::is_temporary(&p)
                    {
                        if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                            out.insert(stem.to_string());
                        }
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// Reads every partition of a table (Parquet where present, else CSV) as batches.
    pub fn read_table(&self, layout: &Layout) -> Result<Vec<RecordBatch>, ExportError> {
        self.read_partitions(layout, |_| true)
    }

    /// Reads the partitions of a table whose label (the file name stem: `data`, `2024`,
    /// `2024-03`) `keep` accepts, Parquet where present, else CSV, as batches.
    pub fn read_partitions(
        &self,
        layout: &Layout,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<RecordBatch>, ExportError> {
        let mut out = Vec::new();
        for (dir, f) in [
            (
                self.table_dir(&layout.name, Format::Parquet),
                Format::Parquet,
            ),
            (self.table_dir(&layout.name, Format::Csv), Format::Csv),
        ] {
            let mut paths: Vec<PathBuf> = match fs::read_dir(&dir) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.extension().is_some_and(|e| e == f.extension())
                            && !sink::is_temporary(p)
                            && p.file_stem().and_then(|s| s.to_str()).is_some_and(&keep)
                    })
                    .collect(),
                Err(_) => continue,
            };
            paths.sort();
            for p in paths {
                out.push(sink::read(f, &p, layout)?);
            }
            if !out.is_empty() {
                break;
            }
        }
        Ok(out)
    }
}

/// What writing partitions did: rows stored, the reported values of removed rows, and
/// how many rows a replaced window removed.
type PartDone = (usize, Vec<String>, usize);

/// One partition of an upsert: the new rows, the file to merge them with, the files to write.
struct PartJob {
    part: Vec<RecordBatch>,
    existing: Option<(Format, PathBuf)>,
    paths: Vec<(Format, PathBuf)>,
}

/// Splits a batch into its partitions, labelled by file name stem. Rows of a partition
/// that lie together (time-ordered input) are a zero-copy slice; others are gathered.
fn split(
    layout: &Layout,
    batch: &RecordBatch,
) -> Result<BTreeMap<String, RecordBatch>, ExportError> {
    let (col, monthly) = match &layout.partition {
        Partition::None => return Ok(BTreeMap::from([("data".to_string(), batch.clone())])),
        Partition::Year(c) => (c, false),
        Partition::Month(c) => (c, true),
    };
    let arr = batch.column(layout.schema.index_of(col)?);
    let bucket = |d: NaiveDate| (d.year(), if monthly { d.month() } else { 0 });
    // Runs of consecutive rows in one partition, by partition as (year, month or 0),
    // `None` for a null date: time-ordered input has one run per partition.
    type Runs = BTreeMap<Option<(i32, u32)>, Vec<std::ops::Range<usize>>>;
    let mut runs = Runs::new();
    fn add(runs: &mut Runs, k: Option<(i32, u32)>, rows: std::ops::Range<usize>) {
        match runs.get_mut(&k) {
            Some(v) if v.last().is_some_and(|r| r.end == rows.start) => {
                v.last_mut().expect("checked").end = rows.end;
            }
            Some(v) => v.push(rows),
            None => {
                runs.insert(k, vec![rows]);
            }
        }
    }
    match arr.data_type() {
        DataType::Date32 => {
            let a = arr.as_any().downcast_ref::<Date32Array>().expect("date32");
            for i in 0..a.len() {
                let k = a
                    .is_valid(i)
                    .then(|| a.value_as_date(i))
                    .flatten()
                    .map(bucket);
                add(&mut runs, k, i..i + 1);
            }
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let a = arr
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .expect("ts");
            // The span of the partition of the last row: most rows fall in it, and a
            // whole run of them is taken at once.
            let mut span: Option<(i64, i64, (i32, u32))> = None;
            let mut i = 0;
            while i < a.len() {
                if !a.is_valid(i) {
                    add(&mut runs, None, i..i + 1);
                    i += 1;
                    continue;
                }
                let t = a.value(i);
                let k = match span {
                    Some((lo, hi, k)) if lo <= t && t < hi => Some(k),
                    _ => (|| {
                        let d = DateTime::from_timestamp_micros(t)?.date_naive();
                        let k = bucket(d);
                        let first = NaiveDate::from_ymd_opt(k.0, k.1.max(1), 1)?;
                        let next = if monthly {
                            first.checked_add_months(chrono::Months::new(1))?
                        } else {
                            NaiveDate::from_ymd_opt(k.0 + 1, 1, 1)?
                        };
                        let us = |d: NaiveDate| {
                            d.and_hms_opt(0, 0, 0)
                                .map(|x| x.and_utc().timestamp_micros())
                        };
                        if let (Some(lo), Some(hi)) = (us(first), us(next)) {
                            span = Some((lo, hi, k));
                        }
                        Some(k)
                    })(),
                };
                // The rows after it in the same span go with it, without a lookup each.
                let mut j = i + 1;
                if let Some((lo, hi, _)) = span.filter(|s| Some(s.2) == k) {
                    while j < a.len() && a.is_valid(j) && (lo..hi).contains(&a.value(j)) {
                        j += 1;
                    }
                }
                add(&mut runs, k, i..j);
                i = j;
            }
        }
        other => {
            return Err(ExportError::Schema {
                table: layout.name.clone(),
                message: format!("cannot partition by `{col}` of type {other}"),
            })
        }
    };
    let mut out = BTreeMap::new();
    for (key, ranges) in runs {
        let label = match key {
            None => "undated".to_string(),
            Some((y, m)) if monthly => format!("{y:04}-{m:02}"),
            Some((y, _)) => format!("{y:04}"),
        };
        let part = match ranges.as_slice() {
            [r] => batch.slice(r.start, r.len()),
            _ => {
                let idx = UInt32Array::from_iter_values(
                    ranges.iter().flat_map(|r| r.start as u32..r.end as u32),
                );
                let cols: Vec<ArrayRef> = batch
                    .columns()
                    .iter()
                    .map(|c| take(c.as_ref(), &idx, None))
                    .collect::<Result<_, _>>()?;
                RecordBatch::try_new(batch.schema(), cols)?
            }
        };
        out.insert(label, part);
    }
    Ok(out)
}

/// A test hook for crash tests: with `FITPIPE_TEST_PAUSE_AT=point:n` in the environment,
/// the process stops the `n`-th time it reaches `point` (it says so on stderr and sleeps,
/// for the test to kill it with SIGKILL). Points: `staged` (a partition file written to
/// the staging folder), `journal` (the commit point written), `moved` (a file moved into
/// place).
pub(crate) fn checkpoint(point: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEEN: [AtomicUsize; 3] = [
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    ];
    let Ok(want) = std::env::var("FITPIPE_TEST_PAUSE_AT") else {
        return;
    };
    let Some((name, n)) = want.split_once(':') else {
        return;
    };
    let i = match point {
        "staged" => 0,
        "journal" => 1,
        _ => 2,
    };
    let seen = SEEN[i].fetch_add(1, Ordering::SeqCst) + 1;
    if name == point && n.parse() == Ok(seen) {
        eprintln!("fitpipe: paused at {point}:{seen}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
}

pub(crate) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> ExportError {
    let path = path.to_path_buf();
    move |source| ExportError::Io {
        action,
        path,
        source,
    }
}

/// Creates `dir` and its parents.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), ExportError> {
    fs::create_dir_all(dir).map_err(io_err("create folder", dir))
}

/// Syncs a folder so a rename inside it survives a crash.
pub(crate) fn sync_dir(dir: &Path) {
    // Best effort: not every platform can open a folder for syncing.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// An exclusive lock on a dataset folder, held while a run writes to it.
#[derive(Debug)]
pub struct DatasetLock {
    _file: File,
}

impl Dataset {
    /// Takes the dataset's lock (`<out>/.fitpipe.lock`). With `wait` false, returns
    /// `Ok(None)` when another process holds it.
    pub fn lock(&self, wait: bool) -> Result<Option<DatasetLock>, ExportError> {
        let path = match &self.participant {
            None => self.root.join(".fitpipe.lock"),
            Some(_) => self.own_dir().join("lock"),
        };
        ensure_dir(path.parent().unwrap_or(&self.root))?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("open the lock file", &path))?;
        if wait {
            file.lock().map_err(io_err("lock", &path))?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Ok(None),
                Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
            }
        }
        Ok(Some(DatasetLock { _file: file }))
    }
}

impl Dataset {
    /// Rows stored in a table (from Parquet footers, else by reading the CSV files).
    pub fn row_count(&self, layout: &Layout) -> Result<usize, ExportError> {
        let dir = self.table_dir(&layout.name, Format::Parquet);
        if let Ok(rd) = fs::read_dir(&dir) {
            let mut n = 0usize;
            let mut any = false;
            for p in rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "parquet") && !sink::is_temporary(p))
            {
                let f = File::open(&p).map_err(io_err("open", &p))?;
                let r = parquet::file::reader::SerializedFileReader::new(f).map_err(|source| {
                    ExportError::Parquet {
                        path: p.clone(),
                        source,
                    }
                })?;
                n += parquet::file::reader::FileReader::metadata(&r)
                    .file_metadata()
                    .num_rows() as usize;
                any = true;
            }
            if any {
                return Ok(n);
            }
        }
        Ok(self.read_table(layout)?.iter().map(|b| b.num_rows()).sum())
    }
}
