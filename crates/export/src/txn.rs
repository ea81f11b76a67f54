//! Several upserts that land together or not at all.
//!
//! Before a transaction replaces a file for the first time, it keeps the old one under a
//! hard link (`<file>.fitpipe-bak`); commit deletes those, rollback (or a drop without
//! commit) puts them back and removes files the transaction created. A crash in between
//! leaves the `.fitpipe-bak` files, and [`Dataset::begin`] restores them first.

use std::fs;
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;

use crate::{io_err, Dataset, ExportError, Layout, Window, Written};

const BAK: &str = "fitpipe-bak";

/// An open transaction on a dataset.
pub struct Transaction<'a> {
    ds: &'a Dataset,
    backups: Vec<(PathBuf, PathBuf)>,
    created: Vec<PathBuf>,
    open: bool,
}

fn backup_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{BAK}"));
    path.with_file_name(name)
}

impl Dataset {
    /// Starts a transaction, first restoring what an interrupted one left behind.
    pub fn begin(&self) -> Result<Transaction<'_>, ExportError> {
        self.recover()?;
        Ok(Transaction {
            ds: self,
            backups: Vec::new(),
            created: Vec::new(),
            open: true,
        })
    }

    /// Puts back files kept by a transaction that never committed; returns how many.
    pub fn recover(&self) -> Result<usize, ExportError> {
        let mut n = 0;
        let mut dirs = vec![self.root.clone()];
        while let Some(d) = dirs.pop() {
            let Ok(rd) = fs::read_dir(&d) else { continue };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == BAK) {
                    restore(&p, &p.with_extension(""))?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

/// Puts a kept file back. When the file was never replaced, the backup is a second name of
/// the same file, and `rename` between two names of one file does nothing (POSIX): then
/// the backup name is simply removed.
fn restore(bak: &Path, path: &Path) -> Result<(), ExportError> {
    fs::rename(bak, path).map_err(io_err("restore", path))?;
    if bak.exists() {
        fs::remove_file(bak).map_err(io_err("remove", bak))?;
    }
    Ok(())
}

impl Transaction<'_> {
    fn protect(&mut self, path: &Path) -> Result<(), ExportError> {
        if self.backups.iter().any(|(p, _)| p == path) || self.created.iter().any(|p| p == path) {
            return Ok(());
        }
        if path.exists() {
            let bak = backup_of(path);
            let _ = fs::remove_file(&bak);
            if fs::hard_link(path, &bak).is_err() {
                fs::copy(path, &bak).map_err(io_err("keep a copy of", path))?;
            }
            self.backups.push((path.to_path_buf(), bak));
        } else {
            self.created.push(path.to_path_buf());
        }
        Ok(())
    }

    /// Upserts within the transaction.
    pub fn upsert(&mut self, layout: &Layout, batch: &RecordBatch) -> Result<Written, ExportError> {
        let ds = self.ds;
        ds.upsert_with(layout, batch, None, &mut |p| self.protect(p))
    }

    /// Replaces a window within the transaction (see [`Dataset::replace`]).
    pub fn replace(
        &mut self,
        layout: &Layout,
        batch: &RecordBatch,
        window: &Window,
    ) -> Result<Written, ExportError> {
        let ds = self.ds;
        ds.upsert_with(layout, batch, Some(window), &mut |p| self.protect(p))
    }

    /// Keeps everything written.
    pub fn commit(mut self) -> Result<(), ExportError> {
        self.open = false;
        for (_, bak) in std::mem::take(&mut self.backups) {
            fs::remove_file(&bak).map_err(io_err("remove", &bak))?;
        }
        Ok(())
    }

    /// Undoes everything written.
    pub fn rollback(mut self) -> Result<(), ExportError> {
        self.undo()
    }

    fn undo(&mut self) -> Result<(), ExportError> {
        self.open = false;
        for (path, bak) in std::mem::take(&mut self.backups) {
            restore(&bak, &path)?;
        }
        for p in std::mem::take(&mut self.created) {
            let _ = fs::remove_file(&p);
        }
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.undo();
        }
    }
}
