//! Imports: raw API answers and Takeout archives into the tables, through the same
//! normalisers, write protocol and dataset as `ingest`. The `import` commands only turn
//! their flags into an [`Import`] and print the outcome.

pub mod json;
pub mod takeout;

use std::path::PathBuf;
use std::sync::Arc;

use fitpipe_export::{Format, Written};

/// Where and how an import writes.
#[derive(Clone)]
pub struct Import {
    /// The dataset folder.
    pub out: PathBuf,
    /// Formats to write [default: Parquet, and CSV copies of the daily tables].
    pub formats: Option<Vec<Format>>,
    /// `user_id` of the rows [default: from the inputs' profile, else `-`].
    pub user_id: Option<String>,
    /// IANA time zone of the data [default: from the inputs' profile].
    pub timezone: Option<String>,
    /// Where notes (skipped files) and progress go.
    pub report: Arc<dyn crate::Report>,
}

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// What each table write did.
    pub written: Vec<Written>,
    /// Input files imported.
    pub files: usize,
    /// Input files skipped (damaged, or of no family fitpipe reads).
    pub skipped: usize,
}
