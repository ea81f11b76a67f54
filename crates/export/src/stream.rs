//! A partition written batch by batch: for rows that arrive in key order into a
//! partition no file holds yet (an archive read in date order), each batch is encoded as
//! it comes and the file is finished when the partition is complete. Nothing is merged
//! or read back, memory holds no more than the row group being encoded, and the work
//! overlaps with reading the next files.

use std::io::Write;
use std::path::PathBuf;

use arrow::record_batch::RecordBatch;

use crate::merge::{simple_span, SimpleKey};
use crate::sink::{self, Format, Sink};
use crate::txn::Ticket;
use crate::{checkpoint, io_err, sync_dir, Dataset, ExportError, Layout, Transaction, Written};

/// One partition file being written, in every format the table keeps; inside a
/// [`Transaction`], so a run that stops before the commit leaves nothing behind.
pub struct PartStream {
    table: String,
    key: Vec<usize>,
    /// Per format: the writer, its temporary file and the staged path it becomes.
    sinks: Vec<(Sink, tempfile::NamedTempFile, PathBuf)>,
    /// The key of the last row written.
    last: Option<SimpleKey>,
    rows: usize,
    /// The transaction it writes in: once that has ended, the stream writes nothing.
    ticket: Ticket,
}

impl Transaction<'_> {
    /// Starts writing partition `label` of a table batch by batch ([`PartStream::append`]).
    /// `None` when a file, live or staged, already holds the partition (its rows need a
    /// merge: [`Transaction::upsert_batches`]) or when the key is not one string column
    /// after another and then a time, date or number.
    pub fn stream(
        &mut self,
        layout: &Layout,
        label: &str,
    ) -> Result<Option<PartStream>, ExportError> {
        let ticket = self.ticket();
        self.ds().open_stream(layout, label, ticket)
    }
}

impl Dataset {
    fn open_stream(
        &self,
        layout: &Layout,
        label: &str,
        ticket: Ticket,
    ) -> Result<Option<PartStream>, ExportError> {
        let key: Vec<usize> = layout
            .key
            .iter()
            .map(|k| layout.schema.index_of(k))
            .collect::<Result<_, _>>()?;
        let simple = key.split_last().is_some_and(|(_, strings)| {
            strings
                .iter()
                .all(|&c| layout.schema.field(c).data_type() == &arrow::datatypes::DataType::Utf8)
        });
        if !simple {
            return Ok(None);
        }
        let held = [Format::Parquet, Format::Csv].iter().any(|&f| {
            let live = self.file(&layout.name, label, f);
            live.exists() || self.staged_path(&live).exists()
        });
        if held {
            return Ok(None);
        }
        let mut sinks = Vec::new();
        for f in self.formats_of(&layout.name) {
            let path = self.staged_path(&self.file(&layout.name, label, f));
            let dir = path.parent().expect("partition files live in a folder");
            crate::ensure_dir(dir)?;
            let tmp = sink::temporary_in(dir)?;
            let file = tmp
                .as_file()
                .try_clone()
                .map_err(io_err("open", tmp.path()))?;
            sinks.push((
                Sink::create_large(f, file, layout.schema.clone())?,
                tmp,
                path,
            ));
        }
        Ok(Some(PartStream {
            table: layout.name.clone(),
            key,
            sinks,
            last: None,
            rows: 0,
            ticket,
        }))
    }
}

impl PartStream {
    /// Writes `batch` if its rows follow the rows written so far in key order, each key
    /// once; returns false, writing nothing, when they do not (the caller merges them
    /// into the finished file instead).
    pub fn append(&mut self, batch: &RecordBatch) -> Result<bool, ExportError> {
        self.ticket.check(&self.table)?;
        if batch.num_rows() == 0 {
            return Ok(true);
        }
        let Some((first, last)) = simple_span(batch, &self.key) else {
            return Ok(false);
        };
        if self.last.as_ref().is_some_and(|l| *l >= first) {
            return Ok(false);
        }
        for (sink, _, path) in self.sinks.iter_mut() {
            sink.write(batch, path)?;
        }
        self.last = Some(last);
        self.rows += batch.num_rows();
        Ok(true)
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Finishes the file(s): closed, synced and in place in the transaction's staging.
    pub fn finish(self) -> Result<Written, ExportError> {
        self.ticket.check(&self.table)?;
        let mut files = Vec::new();
        for (sink, tmp, path) in self.sinks {
            let mut file = sink.close(&path)?;
            file.flush().map_err(io_err("write", &path))?;
            file.sync_all().map_err(io_err("sync", &path))?;
            tmp.persist(&path).map_err(|e| ExportError::Io {
                action: "rename into place",
                path: path.clone(),
                source: e.error,
            })?;
            if let Some(dir) = path.parent() {
                sync_dir(dir);
            }
            checkpoint("staged");
            files.push(path);
        }
        Ok(Written {
            table: self.table,
            rows_in: self.rows,
            rows_total: self.rows,
            files,
            removed: 0,
            removed_values: Vec::new(),
        })
    }
}
