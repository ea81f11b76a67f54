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

/// Writes `batches` (one schema, flat columns) to `file` as Parquet with the columns of
/// each row group encoded in parallel, one column per core at a time (the low-level
/// arrow-rs API behind [`ArrowWriter`]: the same properties, schema and bytes per
/// column). Returns the file, not yet synced.
fn parquet_in_parallel(
    file: File,
    batches: &[RecordBatch],
    path: &Path,
) -> Result<File, ExportError> {
    use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnChunk, ArrowColumnWriter};
    use parquet::file::properties::DEFAULT_MAX_ROW_GROUP_ROW_COUNT;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let err = |source| ExportError::Parquet {
        path: path.into(),
        source,
    };
    let schema = batches[0].schema();
    let (mut writer, factory) =
        ArrowWriter::try_new(file, schema.clone(), Some(parquet_properties(&schema)))
            .and_then(ArrowWriter::into_serialized_writer)
            .map_err(err)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Row groups of the default size, batches sliced where one ends.
    let mut groups: Vec<Vec<RecordBatch>> = vec![Vec::new()];
    let mut rows = 0;
    for b in batches {
        let mut at = 0;
        while at < b.num_rows() {
            if rows == DEFAULT_MAX_ROW_GROUP_ROW_COUNT {
                groups.push(Vec::new());
                rows = 0;
            }
            let take = (b.num_rows() - at).min(DEFAULT_MAX_ROW_GROUP_ROW_COUNT - rows);
            groups
                .last_mut()
                .expect("one group")
                .push(b.slice(at, take));
            at += take;
            rows += take;
        }
    }
    for (index, group) in groups.iter().enumerate() {
        let writers: Vec<Mutex<Option<ArrowColumnWriter>>> = factory
            .create_column_writers(index)
            .map_err(err)?
            .into_iter()
            .map(|w| Mutex::new(Some(w)))
            .collect();
        let next = AtomicUsize::new(0);
        let encode = || -> Result<Vec<(usize, ArrowColumnChunk)>, ExportError> {
            let mut done = Vec::new();
            loop {
                let c = next.fetch_add(1, Ordering::Relaxed);
                let Some(slot) = writers.get(c) else {
                    return Ok(done);
                };
                let mut w = slot
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .expect("each column is taken once");
                let field = schema.field(c);
                for b in group {
                    for leaf in compute_leaves(field, b.column(c)).map_err(err)? {
                        w.write(&leaf).map_err(err)?;
                    }
                }
                done.push((c, w.close().map_err(err)?));
            }
        };
        let mut chunks: Vec<(usize, ArrowColumnChunk)> = std::thread::scope(|s| {
            let handles: Vec<_> = (1..threads.min(writers.len()))
                .map(|_| s.spawn(encode))
                .collect();
            let mut all = encode()?;
            for h in handles {
                all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?);
            }
            Ok::<_, ExportError>(all)
        })?;
        chunks.sort_by_key(|(c, _)| *c);
        let mut row_group = writer.next_row_group().map_err(err)?;
        for (_, chunk) in chunks {
            chunk.append_to_row_group(&mut row_group).map_err(err)?;
        }
        row_group.close().map_err(err)?;
    }
    writer.into_inner().map_err(err)
}

/// An open writer of one format. `close` finishes the file and hands it back for syncing.
pub enum Sink {
    /// Parquet writer.
    Parquet(ArrowWriter<File>),
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

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch, path: &Path) -> Result<(), ExportError> {
        match self {
            Sink::Parquet(w) => w.write(batch).map_err(|source| ExportError::Parquet {
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
    let flat = batches[0]
        .schema()
        .fields()
        .iter()
        .all(|f| !f.data_type().is_nested());
    let parallel = format == Format::Parquet
        && flat
        && rows >= PARALLEL_ROWS
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let mut file = if parallel {
        parquet_in_parallel(file, batches, path)?
    } else {
        let mut sink = Sink::create(format, file, batches[0].schema())?;
        for batch in batches {
            sink.write(batch, path)?;
        }
        sink.close(path)?
    };
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
