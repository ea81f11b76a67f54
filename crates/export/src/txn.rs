//! Writes that land together or not at all, and recovery from a run killed mid-way.
//!
//! The protocol, for every command that writes a dataset (under its lock):
//!
//! 1. [`Dataset::begin`] first recovers what a dead transaction left (see below).
//! 2. A transaction writes every new or replaced file, its temporary files included, under
//!    `<out>/.fitpipe/txn/staged/`, mirroring the file's place in the dataset; a later
//!    write of the same partition in the transaction reads the staged file. Readers of the
//!    tables (DuckDB's `*.parquet` globs, pandas, fitpipe's own) never look there, so an
//!    open or killed transaction is invisible: no half import, no temporary file in a
//!    table folder.
//! 3. [`Transaction::commit`] writes the journal `<out>/.fitpipe/txn/journal` naming every
//!    staged file (synced: this is the commit point), renames each into place, then
//!    removes the journal and the staging folder.
//! 4. Recovery: a journal means the transaction committed; its remaining renames are
//!    done (rolled forward). Staged files without a journal are an uncommitted
//!    transaction: they are deleted (rolled back). Older versions' `.fitpipe-bak` backups
//!    are put back.
//!
//! Files other than tables (the sync state) commit with the rows they describe through
//! [`Transaction::put`].
//!
//! Crash model (docs/architecture.md): after `kill -9` anywhere, readers see the tables
//! of before or after a commit, never a mix. After power loss too: every folder of the
//! staging tree is synced before the journal is written, the journal is synced (the
//! commit point), and every folder a rename touched is synced before the journal goes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;

use crate::{ensure_dir, io_err, sync_dir, Dataset, ExportError, Layout, Window, Written};

/// Backups of the transactions of fitpipe 0.1 (hard links beside the files).
const BAK: &str = "fitpipe-bak";

/// An open transaction on a dataset.
pub struct Transaction<'a> {
    ds: &'a Dataset,
    open: bool,
    /// Holds the dataset's one transaction slot in this process until dropped.
    guard: TxnGuard,
}

/// The transactions open in this process, by their folder, with the generation each was
/// given. A second [`Dataset::begin`] on a dataset with one open is refused (its
/// recovery would delete the open one's staged files), and a [`crate::PartStream`] of a
/// finished transaction cannot write into the next one's staging.
static OPEN: std::sync::Mutex<std::collections::BTreeMap<PathBuf, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn open_map() -> std::sync::MutexGuard<'static, std::collections::BTreeMap<PathBuf, u64>> {
    OPEN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A dataset's transaction slot, held from `begin` until the transaction is dropped.
struct TxnGuard {
    ticket: Ticket,
}

/// What a stream keeps of its transaction: which one it belongs to.
#[derive(Clone)]
pub(crate) struct Ticket {
    dir: PathBuf,
    generation: u64,
}

impl TxnGuard {
    fn acquire(dir: PathBuf) -> Result<Self, ExportError> {
        let mut open = open_map();
        if open.contains_key(&dir) {
            return Err(ExportError::TransactionOpen { path: dir });
        }
        let generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        open.insert(dir.clone(), generation);
        Ok(TxnGuard {
            ticket: Ticket { dir, generation },
        })
    }
}

impl Drop for TxnGuard {
    fn drop(&mut self) {
        let mut open = open_map();
        if open.get(&self.ticket.dir) == Some(&self.ticket.generation) {
            open.remove(&self.ticket.dir);
        }
    }
}

impl Ticket {
    /// Fails unless the transaction it was given by is still open.
    pub(crate) fn check(&self, table: &str) -> Result<(), ExportError> {
        if open_map().get(&self.dir) == Some(&self.generation) {
            Ok(())
        } else {
            Err(ExportError::StreamOutlived {
                table: table.to_string(),
            })
        }
    }
}

impl Dataset {
    /// The folder of the open transaction.
    fn txn_dir(&self) -> PathBuf {
        self.own_dir().join("txn")
    }

    /// Where a transaction stages `live` (a path inside the dataset).
    pub(crate) fn staged_path(&self, live: &Path) -> PathBuf {
        let rel = live.strip_prefix(&self.root).unwrap_or(live);
        self.txn_dir().join("staged").join(rel)
    }

    /// Starts a transaction, first recovering what a killed one left behind. One at a
    /// time per dataset: while one is open in this process, another `begin` on the same
    /// dataset is refused with [`ExportError::TransactionOpen`] (other processes are kept
    /// out by the dataset's lock).
    pub fn begin(&self) -> Result<Transaction<'_>, ExportError> {
        let guard = TxnGuard::acquire(self.txn_dir())?;
        self.recover()?;
        Ok(Transaction {
            ds: self,
            open: true,
            guard,
        })
    }

    /// Finishes or undoes what a killed transaction left: a committed one (its journal is
    /// there) is rolled forward, an uncommitted one rolled back. Returns how many files
    /// it moved, restored or removed.
    pub fn recover(&self) -> Result<usize, ExportError> {
        let dir = self.txn_dir();
        let journal = dir.join("journal");
        let mut n = 0;
        match fs::read_to_string(&journal) {
            Ok(text) => {
                let rels: Vec<PathBuf> = text
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(PathBuf::from)
                    .collect();
                for rel in &rels {
                    let (staged, live) = (dir.join("staged").join(rel), self.root.join(rel));
                    if staged.exists() {
                        move_into_place(&staged, &live)?;
                        n += 1;
                    }
                }
                // Durable before the journal goes (power loss would otherwise undo
                // renames that no journal redoes any more).
                sync_live_parents(&self.root, &rels);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("read", &journal)(e)),
        }
        if dir.exists() {
            n += staged_files(&dir.join("staged"))?.len();
            fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        }
        Ok(n + self.restore_old_backups()?)
    }

    /// Puts back the `.fitpipe-bak` backups of fitpipe 0.1 transactions and removes
    /// temporary files that killed writes left among the tables.
    fn restore_old_backups(&self) -> Result<usize, ExportError> {
        let mut n = 0;
        let mut dirs = vec![self.root.clone()];
        while let Some(d) = dirs.pop() {
            let Ok(rd) = fs::read_dir(&d) else { continue };
            for e in rd.flatten() {
                let p = e.path();
                let Ok(kind) = e.file_type() else { continue };
                // Tables only: the raw zone (thousands of answers) and fitpipe's own folder
                // never hold table files, and every transaction begins with this walk.
                if kind.is_dir()
                    && d == self.root
                    && (e.file_name() == "raw" || e.file_name() == ".fitpipe")
                {
                    continue;
                }
                // Another participant's partition is theirs to recover.
                if kind.is_dir() && self.participant.is_some() {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    if let Some(id) = name.strip_prefix("user_id=") {
                        if Some(id) != self.participant.as_deref() {
                            continue;
                        }
                    }
                }
                if kind.is_dir() {
                    dirs.push(p);
                } else if crate::sink::is_temporary(&p) {
                    // A write killed before its rename (fitpipe 0.1 wrote them beside the
                    // tables, where a 0-byte `.tmp-*.parquet` broke every reader).
                    fs::remove_file(&p).map_err(io_err("remove", &p))?;
                    n += 1;
                } else if p.extension().is_some_and(|x| x == BAK) {
                    let path = p.with_extension("");
                    fs::rename(&p, &path).map_err(io_err("restore", &path))?;
                    // A backup that was a second name of the unreplaced file stays behind
                    // after the rename (POSIX); remove it.
                    if p.exists() {
                        fs::remove_file(&p).map_err(io_err("remove", &p))?;
                    }
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

/// Every file under `dir` (relative paths), temporary files of unfinished writes left out.
fn staged_files(dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let rd = match fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err("read", &d)(e)),
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(p);
            } else if !crate::sink::is_temporary(&p) {
                out.push(p.strip_prefix(dir).unwrap_or(&p).to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Syncs every folder below `dir`, deepest first, and `dir` itself: new files' names and
/// new folders' entries in their parents become durable.
fn sync_tree(dir: &Path) {
    let mut all = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < all.len() {
        if let Ok(rd) = fs::read_dir(&all[i]) {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    all.push(e.path());
                }
            }
        }
        i += 1;
    }
    for d in all.iter().rev() {
        sync_dir(d);
    }
}

/// Syncs the folder of every live file `rels` names, and each folder up to `root` (a
/// partition folder the transaction created is an entry in its parent).
fn sync_live_parents(root: &Path, rels: &[PathBuf]) {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for rel in rels {
        let mut p = root.join(rel);
        while let Some(parent) = p.parent() {
            if !parent.starts_with(root) {
                break;
            }
            if !dirs.iter().any(|d| d == parent) {
                dirs.push(parent.to_path_buf());
            }
            if parent == root {
                break;
            }
            p = parent.to_path_buf();
        }
    }
    // Deepest first.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in &dirs {
        sync_dir(d);
    }
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let dir = path.parent().unwrap_or(path);
    ensure_dir(dir)?;
    let mut tmp = crate::sink::temporary_in(dir)?;
    tmp.write_all(bytes).map_err(io_err("write", path))?;
    tmp.as_file().sync_all().map_err(io_err("sync", path))?;
    tmp.persist(path).map_err(|e| ExportError::Io {
        action: "rename into place",
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

fn move_into_place(staged: &Path, live: &Path) -> Result<(), ExportError> {
    if let Some(parent) = live.parent() {
        ensure_dir(parent)?;
    }
    fs::rename(staged, live).map_err(io_err("move into place", live))
}

impl Transaction<'_> {
    /// Upserts within the transaction.
    pub fn upsert(&mut self, layout: &Layout, batch: &RecordBatch) -> Result<Written, ExportError> {
        self.ds
            .upsert_with(layout, std::slice::from_ref(batch), None, true)
    }

    /// [`Transaction::upsert`] of several batches of one table at once: each partition's
    /// rows are written together, and batches already in key order are written one after
    /// the other without being copied into one.
    pub fn upsert_batches(
        &mut self,
        layout: &Layout,
        batches: &[RecordBatch],
    ) -> Result<Written, ExportError> {
        self.ds.upsert_with(layout, batches, None, true)
    }

    /// Replaces a window within the transaction (see [`Dataset::replace`]).
    pub fn replace(
        &mut self,
        layout: &Layout,
        batch: &RecordBatch,
        window: &Window,
    ) -> Result<Written, ExportError> {
        self.ds
            .upsert_with(layout, std::slice::from_ref(batch), Some(window), true)
    }

    /// Reads the partitions of a table whose label `keep` accepts as the transaction
    /// will leave them: its staged file where it wrote one, else the stored file (Parquet
    /// where present, else CSV). Derived tables are computed from this view, so they
    /// commit with their inputs.
    pub fn read_partitions(
        &self,
        layout: &Layout,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<RecordBatch>, ExportError> {
        let mut out = Vec::new();
        for label in self.partition_labels(layout) {
            if !keep(&label) {
                continue;
            }
            for f in [crate::Format::Parquet, crate::Format::Csv] {
                let live = self.ds.file(&layout.name, &label, f);
                let staged = self.ds.staged_path(&live);
                let path = if staged.exists() { staged } else { live };
                if path.exists() {
                    out.push(crate::sink::read(f, &path, layout)?);
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The labels of a table's partitions, stored or staged by this transaction.
    pub fn partition_labels(&self, layout: &Layout) -> Vec<String> {
        self.ds.stored_labels(layout, true)
    }

    /// The dataset the transaction writes.
    pub(crate) fn ds(&self) -> &Dataset {
        self.ds
    }

    /// Which transaction this is (for the streams it opens).
    pub(crate) fn ticket(&self) -> Ticket {
        self.guard.ticket.clone()
    }

    /// Writes a file other than a table (the sync state) that commits with the rows:
    /// `path` is inside the dataset folder.
    pub fn put(&mut self, path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
        write_synced(&self.ds.staged_path(path), bytes)
    }

    /// Makes everything written visible at once: the journal (the commit point), then
    /// the renames.
    pub fn commit(mut self) -> Result<(), ExportError> {
        let dir = self.ds.txn_dir();
        let files = staged_files(&dir.join("staged"))?;
        if files.is_empty() {
            self.open = false;
            let _ = fs::remove_dir_all(&dir);
            return Ok(());
        }
        let mut text = String::new();
        for f in &files {
            text.push_str(&f.to_string_lossy());
            text.push('\n');
        }
        // Every staged file's name must be durable before the journal says it exists: sync
        // each folder of the staging tree (new ones into their parents), then the journal.
        sync_tree(&dir.join("staged"));
        sync_dir(&dir);
        if let Some(own) = dir.parent() {
            sync_dir(own);
        }
        write_synced(&dir.join("journal"), text.as_bytes())?;
        sync_dir(&dir);
        crate::checkpoint("journal");
        // Committed: from here on, recovery finishes the renames.
        self.open = false;
        for rel in &files {
            let live = self.ds.root.join(rel);
            move_into_place(&dir.join("staged").join(rel), &live)?;
            crate::checkpoint("moved");
        }
        // The renames are durable before the journal that would redo them goes.
        sync_live_parents(&self.ds.root, &files);
        fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        Ok(())
    }

    /// Undoes everything written: the staged files go.
    pub fn rollback(mut self) -> Result<(), ExportError> {
        self.undo()
    }

    fn undo(&mut self) -> Result<(), ExportError> {
        self.open = false;
        let dir = self.ds.txn_dir();
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("remove", &dir)(e)),
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.undo();
        }
    }
}
