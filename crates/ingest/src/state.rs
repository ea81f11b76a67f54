//! Sync state: per provider, user and resource, the days already fetched and written, so
//! an interrupted run resumes and a run without `--from` fetches only what is new.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::IngestError;

/// Progress of one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// First day fetched.
    pub start: NaiveDate,
    /// Every day from `start` through this one is fetched and written.
    pub through: NaiveDate,
    /// When this was recorded.
    pub updated: DateTime<Utc>,
}

/// The last run of a user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    /// When it finished.
    pub finished: Option<DateTime<Utc>>,
    /// Requests it sent.
    pub requests: u64,
    /// Rate-limit figures last seen: remaining of limit.
    pub rate_remaining: Option<u32>,
    /// Rate limit per window.
    pub rate_limit: Option<u32>,
    /// `ok`, `partial` or the error.
    pub outcome: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    resources: BTreeMap<String, Progress>,
    #[serde(default)]
    runs: BTreeMap<String, LastRun>,
}

/// `<out>/.fitpipe/state.json`.
#[derive(Debug)]
pub struct SyncState {
    path: PathBuf,
    file: File,
}

impl SyncState {
    /// Loads the state of an output folder (empty if there is none yet).
    pub fn load(out: &Path) -> Result<Self, IngestError> {
        Self::load_from(out.join(".fitpipe").join("state.json"))
    }

    /// Loads the state kept at `path` (a study participant's lives with their share).
    pub fn load_from(path: PathBuf) -> Result<Self, IngestError> {
        let file = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| IngestError::Store {
                path: path.clone(),
                message: format!(
                    "damaged sync state ({e}); delete it to start over (tables are kept)"
                ),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(e) => return Err(IngestError::io("read", &path, e)),
        };
        Ok(SyncState { path, file })
    }

    fn key(provider: &str, user: &str, resource: &str) -> String {
        format!("{provider}/{user}/{resource}")
    }

    /// Progress of a resource.
    pub fn get(&self, provider: &str, user: &str, resource: &str) -> Option<Progress> {
        self.file
            .resources
            .get(&Self::key(provider, user, resource))
            .copied()
    }

    /// Records that `start..=through` is written, merging with what was there; the caller
    /// saves it with the rows it describes ([`SyncState::bytes`]).
    pub fn record(
        &mut self,
        provider: &str,
        user: &str,
        resource: &str,
        start: NaiveDate,
        through: NaiveDate,
        now: DateTime<Utc>,
    ) {
        let k = Self::key(provider, user, resource);
        let p = match self.file.resources.get(&k) {
            // Contiguous or overlapping with what is known: extend it.
            Some(old)
                if start <= old.through + chrono::Duration::days(1) && through >= old.start =>
            {
                Progress {
                    start: old.start.min(start),
                    through: old.through.max(through),
                    updated: now,
                }
            }
            _ => Progress {
                start,
                through,
                updated: now,
            },
        };
        self.file.resources.insert(k, p);
    }

    /// Notes a finished (or stopped) run without saving: the caller commits
    /// [`SyncState::bytes`] with its last transaction.
    pub fn note_run(&mut self, provider: &str, user: &str, run: LastRun) {
        self.file.runs.insert(format!("{provider}/{user}"), run);
    }

    /// All resources' progress, by `provider/user/resource`.
    pub fn resources(&self) -> &BTreeMap<String, Progress> {
        &self.file.resources
    }

    /// All users' last runs, by `provider/user`.
    pub fn runs(&self) -> &BTreeMap<String, LastRun> {
        &self.file.runs
    }

    /// Drops everything recorded for a user (of any provider); returns how many entries.
    pub fn forget_user(&mut self, user: &str) -> usize {
        let before = self.file.resources.len() + self.file.runs.len();
        let mine = |k: &str| k.split('/').nth(1) == Some(user);
        self.file.resources.retain(|k, _| !mine(k));
        self.file.runs.retain(|k, _| !mine(k));
        before - self.file.resources.len() - self.file.runs.len()
    }

    /// Where the state lives (`<out>/.fitpipe/state.json`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state as it is saved: a dataset transaction commits it with the rows it
    /// describes (after [`SyncState::record`]).
    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.file).expect("state serialises")
    }
}
