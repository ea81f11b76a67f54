//! File formats: Parquet and CSV writers behind one enum, readers, atomic replacement.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Encoding;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::{ensure_dir, io_err, sync_dir, ExportError, Layout};

/// An output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Apache Parquet, zstd, with column statistics.
    Parquet,
    /// CSV with a header row, ISO-8601 dates and times, empty cells for nulls.
    Csv,
}

impl Format {
    /// File name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "parquet" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown format `{other}` (want `parquet` or `csv`)"
            )),
        }
    }
}

/// How fitpipe writes Parquet: zstd, page statistics, dictionaries where they pay off.
fn parquet_properties(schema: &arrow::datatypes::Schema) -> WriterProperties {
    // Dictionaries pay off for the repeated strings (user, source, stage) and for
    // measurements, which take few distinct values (heart rates, confidences, steps per
    // minute): zstd then has a byte per value to compress instead of eight. Not for
    // timestamps, where they cost a hash per value and save nothing.
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("valid level"),
        ))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_dictionary_enabled(false)
        .set_created_by(concat!("fitpipe ", env!("CARGO_PKG_VERSION")).into());
    use arrow::datatypes::DataType as T;
    for f in schema.fields() {
        let col = || parquet::schema::types::ColumnPath::from(f.name().as_str());
        match f.data_type() {
            T::Utf8 | T::Float64 => b = b.set_column_dictionary_enabled(col(), true),
            // Times and counts change by small steps from row to row (rows are sorted by
            // key): deltas bit-packed are a third of the bytes, and zstd has that much less
            // to do.
            T::Timestamp(..) | T::Int64 | T::Date32 => {
                b = b.set_column_encoding(col(), Encoding::DELTA_BINARY_PACKED)
            }
            _ => {}
        }
    }
    b.build()
}

/// Rows from which a Parquet file's columns are encoded on all cores at once: below it,
/// starting threads costs more than it saves.
const PARALLEL_ROWS: usize = 64 * 1024;

/// Batches a column worker may hold before the writer waits for it.
const WORKER_QUEUE: usize = 4;

/// A Parquet writer that encodes the columns on worker threads, one worker per core,
/// each owning every n-th column, while the caller goes on (reading the next files):
/// the low-level arrow-rs API behind [`ArrowWriter`], with the same properties, schema
/// and bytes per column, and row groups of the same size. For flat schemas (one leaf
/// per field), which every table has.
pub struct ParallelParquet {
    writer: parquet::file::writer::SerializedFileWriter<File>,
    factory: parquet::arrow::arrow_writer::ArrowRowGroupWriterFactory,
    schema: arrow::datatypes::SchemaRef,
    workers: usize,
    /// The row group being encoded: a queue per worker and the workers.
    group: Option<Group>,
    groups: usize,
    rows: usize,
}

type Leaves = Vec<(usize, parquet::arrow::arrow_writer::ArrowLeafColumn)>;
type Chunks = Vec<(usize, parquet::arrow::arrow_writer::ArrowColumnChunk)>;

struct Group {
    queues: Vec<std::sync::mpsc::SyncSender<Leaves>>,
    workers: Vec<std::thread::JoinHandle<parquet::errors::Result<Chunks>>>,
}

impl ParallelParquet {
    /// Starts a file of a flat schema (no nested columns).
    pub fn try_new(
        file: File,
        schema: arrow::datatypes::SchemaRef,
    ) -> parquet::errors::Result<Self> {
        if schema.fields().iter().any(|f| f.data_type().is_nested()) {
            return Err(parquet::errors::ParquetError::NYI(
                "nested columns in the parallel writer".into(),
            ));
        }
        let (writer, factory) =
            ArrowWriter::try_new(file, schema.clone(), Some(parquet_properties(&schema)))?
                .into_serialized_writer()?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(ParallelParquet {
            writer,
            factory,
            workers: cores.clamp(1, schema.fields().len().max(1)),
            schema,
            group: None,
            groups: 0,
            rows: 0,
        })
    }

    /// Hands `batch` to the workers (a new row group where the current one is full).
    pub fn write(&mut self, batch: &RecordBatch) -> parquet::errors::Result<()> {
        use parquet::file::properties::DEFAULT_MAX_ROW_GROUP_ROW_COUNT as MAX;
        let mut at = 0;
        while at < batch.num_rows() {
            if self.rows == MAX {
                self.close_group()?;
            }
            let take = (batch.num_rows() - at).min(MAX - self.rows);
            let part = batch.slice(at, take);
            if self.group.is_none() {
                self.group = Some(self.open_group()?);
            }
            let group = self.group.as_mut().expect("just opened");
            for (w, queue) in group.queues.iter().enumerate() {
                let mut leaves = Vec::new();
                for c in (w..self.schema.fields().len()).step_by(self.workers) {
                    for leaf in parquet::arrow::arrow_writer::compute_leaves(
                        self.schema.field(c),
                        part.column(c),
                    )? {
                        leaves.push((c, leaf));
                    }
                }
                if queue.send(leaves).is_err() {
                    // The worker stopped on an error, which closing the group reports.
                    self.close_group()?;
                    return Err(parquet::errors::ParquetError::General(
                        "a column worker stopped".into(),
                    ));
                }
            }
            self.rows += take;
            at += take;
        }
        Ok(())
    }

    fn open_group(&self) -> parquet::errors::Result<Group> {
        let mut mine: Vec<Vec<(usize, parquet::arrow::arrow_writer::ArrowColumnWriter)>> =
            (0..self.workers).map(|_| Vec::new()).collect();
        for (c, w) in self
            .factory
            .create_column_writers(self.groups)?
            .into_iter()
            .enumerate()
        {
            mine[c % self.workers].push((c, w));
        }
        let (mut queues, mut workers) = (Vec::new(), Vec::new());
        for mut writers in mine {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Leaves>(WORKER_QUEUE);
            queues.push(tx);
            workers.push(std::thread::spawn(move || {
                for leaves in rx {
                    for (c, leaf) in leaves {
                        let w = writers
                            .iter_mut()
                            .find(|(i, _)| *i == c)
                            .expect("a worker gets its own columns");
                        w.1.write(&leaf)?;
                    }
                }
                writers
                    .into_iter()
                    .map(|(c, w)| Ok((c, w.close()?)))
                    .collect()
            }));
        }
        Ok(Group { queues, workers })
    }

    /// Waits for the workers and appends their column chunks as a row group.
    fn close_group(&mut self) -> parquet::errors::Result<()> {
        let Some(Group { queues, workers }) = self.group.take() else {
            return Ok(());
        };
        drop(queues);
        let mut chunks = Vec::new();
        let mut failed = None;
        for w in workers {
            match w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)) {
                Ok(c) => chunks.extend(c),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        chunks.sort_by_key(|(c, _)| *c);
        let mut row_group = self.writer.next_row_group()?;
        for (_, chunk) in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.groups += 1;
        self.rows = 0;
        Ok(())
    }

    /// Finishes the file (the last row group and the footer) and returns it, not synced.
    pub fn close(mut self) -> parquet::errors::Result<File> {
        self.close_group()?;
        self.writer.into_inner()
    }
}

/// An open writer of one format. `close` finishes the file and hands it back for syncing.
pub enum Sink {
    /// Parquet writer.
    Parquet(ArrowWriter<File>),
    /// Parquet writer encoding the columns on worker threads.
    ParallelParquet(ParallelParquet),
    /// CSV writer.
    Csv(arrow::csv::Writer<BufWriter<File>>),
}

impl Sink {
    /// Starts a file of `format` for batches of `batch`'s schema.
    pub fn create(
        format: Format,
        file: File,
        schema: arrow::datatypes::SchemaRef,
    ) -> Result<Self, ExportError> {
        Ok(match format {
            Format::Parquet => Sink::Parquet(
                ArrowWriter::try_new(file, schema.clone(), Some(parquet_properties(&schema)))
                    .map_err(|source| ExportError::Parquet {
                        path: "<new file>".into(),
                        source,
                    })?,
            ),
            Format::Csv => Sink::Csv(
                arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.fZ".into())
                    .with_timestamp_format("%Y-%m-%dT%H:%M:%S%.f".into())
                    .build(BufWriter::new(file)),
            ),
        })
    }

    /// Starts a file of `format` for much data: Parquet columns are then encoded on
    /// worker threads ([`ParallelParquet`]) where the machine has more than one core.
    pub fn create_large(
        format: Format,
        file: File,
        schema: arrow::datatypes::SchemaRef,
    ) -> Result<Self, ExportError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let nested = schema.fields().iter().any(|f| f.data_type().is_nested());
        if format != Format::Parquet || cores < 2 || nested {
            return Self::create(format, file, schema);
        }
        ParallelParquet::try_new(file, schema)
            .map(Sink::ParallelParquet)
            .map_err(|source| ExportError::Parquet {
                path: "<new file>".into(),
                source,
            })
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch, path: &Path) -> Result<(), ExportError> {
        match self {
            Sink::Parquet(w) => w.write(batch).map_err(|source| ExportError::Parquet {
                path: path.into(),
                source,
            }),
            Sink::ParallelParquet(w) => w.write(batch).map_err(|source| ExportError::Parquet {
                path: path.into(),
                source,
            }),
            Sink::Csv(w) => Ok(w.write(batch)?),
        }
    }

    /// Finishes the file and returns it (not yet synced).
    pub fn close(self, path: &Path) -> Result<File, ExportError> {
        match self {
            Sink::Parquet(w) => w.into_inner().map_err(|source| ExportError::Parquet {
                path: path.into(),
                source,
            }),
            Sink::ParallelParquet(w) => w.close().map_err(|source| ExportError::Parquet {
                path: path.into(),
                source,
            }),
            Sink::Csv(w) => w.into_inner().into_inner().map_err(|e| ExportError::Io {
                action: "write",
                path: path.into(),
                source: e.into_error(),
            }),
        }
    }
}

/// Writes `batches` (one after the other, at least one) to `path` in `format` so that
/// `path` is either the old file or the whole new one: write a temporary file beside it,
/// sync, rename, sync the folder.
pub(crate) fn write_atomic(
    format: Format,
    path: &Path,
    batches: &[RecordBatch],
) -> Result<(), ExportError> {
    let dir = path.parent().expect("dataset files live in a folder");
    ensure_dir(dir)?;
    let tmp = temporary_in(dir)?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(io_err("open", tmp.path()))?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut sink = if rows >= PARALLEL_ROWS {
        Sink::create_large(format, file, batches[0].schema())?
    } else {
        Sink::create(format, file, batches[0].schema())?
    };
    for batch in batches {
        sink.write(batch, path)?;
    }
    let mut file = sink.close(path)?;
    file.flush().map_err(io_err("write", path))?;
    file.sync_all().map_err(io_err("sync", path))?;
    tmp.persist(path).map_err(|e| ExportError::Io {
        action: "rename into place",
        path: path.into(),
        source: e.error,
    })?;
    sync_dir(dir);
    Ok(())
}

/// Suffix of temporary files: no reader's `*.parquet` or `*.csv` glob matches it.
const TMP_SUFFIX: &str = ".fitpipe-tmp";

/// A temporary file in `dir`, hidden from readers of the tables.
pub(crate) fn temporary_in(dir: &Path) -> Result<tempfile::NamedTempFile, ExportError> {
    tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(TMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(io_err("create a temporary file in", dir))
}

/// Whether a file is a temporary file of an unfinished write (also fitpipe 0.1's
/// `.tmp-*.parquet`).
pub(crate) fn is_temporary(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".tmp-") || n.ends_with(TMP_SUFFIX))
}

/// Reads a whole partition file as one batch (see [`read_batches`]).
pub(crate) fn read(
    format: Format,
    path: &Path,
    layout: &Layout,
) -> Result<RecordBatch, ExportError> {
    let batches = read_batches(format, path, layout)?;
    match batches.as_slice() {
        [] => Ok(RecordBatch::new_empty(layout.schema.clone())),
        [one] => Ok(one.clone()),
        _ => Ok(arrow::compute::concat_batches(&layout.schema, &batches)?),
    }
}

/// Reads a whole partition file as the batches it is read in (not copied into one: a
/// month of second-by-second data is a million rows), each aligned to the layout's
/// schema by column name (columns added to the table since the file was written come
/// back as nulls).
pub(crate) fn read_batches(
    format: Format,
    path: &Path,
    layout: &Layout,
) -> Result<Vec<RecordBatch>, ExportError> {
    let file = File::open(path).map_err(io_err("open", path))?;
    let existing = |message: String| ExportError::Existing {
        table: layout.name.clone(),
        path: path.to_path_buf(),
        message,
    };
    let batches: Vec<RecordBatch> = match format {
        Format::Parquet => {
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.with_batch_size(64 * 1024).build())
                .map_err(|source| ExportError::Parquet {
                    path: path.into(),
                    source,
                })?;
            reader
                .collect::<Result<_, _>>()
                .map_err(|e| existing(e.to_string()))?
        }
        Format::Csv => {
            let reader = arrow::csv::ReaderBuilder::new(layout.schema.clone())
                .with_header(true)
                .with_batch_size(64 * 1024)
                .build(file)
                .map_err(|e| existing(e.to_string()))?;
            reader
                .collect::<Result<_, _>>()
                .map_err(|e| existing(e.to_string()))?
        }
    };
    let Some(file_schema) = batches.first().map(|b| b.schema()) else {
        return Ok(Vec::new());
    };
    for f in file_schema.fields() {
        if layout.schema.field_with_name(f.name()).is_err() {
            return Err(existing(format!(
                "it has a column `{}` the table does not have; was it written by a newer fitpipe?",
                f.name()
            )));
        }
    }
    let schema = Arc::new(layout.schema.as_ref().clone());
    batches
        .iter()
        .map(|b| {
            let cols: Vec<ArrayRef> = layout
                .schema
                .fields()
                .iter()
                .map(|want| match file_schema.index_of(want.name()) {
                    Ok(i) if b.column(i).data_type() == want.data_type() => Ok(b.column(i).clone()),
                    Ok(i) => Err(existing(format!(
                        "column `{}` is {} where the table has {}",
                        want.name(),
                        b.column(i).data_type(),
                        want.data_type()
                    ))),
                    Err(_) if want.is_nullable() => {
                        Ok(new_null_array(want.data_type(), b.num_rows()))
                    }
                    Err(_) => Err(existing(format!("column `{}` is missing", want.name()))),
                })
                .collect::<Result<_, _>>()?;
            Ok(RecordBatch::try_new(schema.clone(), cols)?)
        })
        .collect()
}
