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
    /// Every day from `start` through this one was fetched after a device sync that
    /// followed the day's end: final (issue #23). Later days are fetched again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_through: Option<NaiveDate>,
    /// The device sync the last write was fetched after: while the devices report no
    /// newer one, the API holds nothing new for this resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_utc: Option<DateTime<Utc>>,
}

/// The device sync that a write was fetched after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    /// When the device last synced.
    pub at: DateTime<Utc>,
    /// The last local day that had ended by then.
    pub complete_through: NaiveDate,
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
    /// The valid-day rule the dataset's `day_quality` was last computed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_day_minutes: Option<u32>,
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

    /// Records that `start..=through` is written, fetched after the device sync `synced`
    /// where one is known, merging with what was there; the caller saves it with the rows
    /// it describes ([`SyncState::bytes`]).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        provider: &str,
        user: &str,
        resource: &str,
        start: NaiveDate,
        through: NaiveDate,
        now: DateTime<Utc>,
        synced: Option<Synced>,
    ) {
        let k = Self::key(provider, user, resource);
        let fresh = synced.map(|s| s.complete_through.min(through));
        let p = match self.file.resources.get(&k) {
            // Contiguous or overlapping with what is known: extend it.
            Some(old)
                if start <= old.through + chrono::Duration::days(1) && through >= old.start =>
            {
                let complete_through = match (old.complete_through, fresh) {
                    // Without a known sync the new days' state is unknown: keep the old.
                    (old_ct, None) => old_ct,
                    // A gap of days fetched before a sync stays incomplete.
                    (Some(c), Some(_)) if start > c + chrono::Duration::days(1) => Some(c),
                    (Some(c), Some(f)) => Some(c.max(f)),
                    // Recorded before syncs were known: earlier days count as final.
                    (None, f) => f,
                };
                Progress {
                    start: old.start.min(start),
                    through: old.through.max(through),
                    updated: now,
                    complete_through,
                    synced_utc: synced.map(|s| s.at).or(old.synced_utc),
                }
            }
            _ => Progress {
                start,
                through,
                updated: now,
                complete_through: fresh,
                synced_utc: synced.map(|s| s.at),
            },
        };
        self.file.resources.insert(k, p);
    }

    /// Notes a finished (or stopped) run without saving: the caller commits
    /// [`SyncState::bytes`] with its last transaction.
    pub fn note_run(&mut self, provider: &str, user: &str, run: LastRun) {
        self.file.runs.insert(format!("{provider}/{user}"), run);
    }

    /// The valid-day rule last used (minutes with heart rate).
    pub fn valid_day_minutes(&self) -> Option<u32> {
        self.file.valid_day_minutes
    }

    /// Records the valid-day rule used (saved with [`SyncState::bytes`]).
    pub fn set_valid_day_minutes(&mut self, minutes: u32) {
        self.file.valid_day_minutes = Some(minutes);
    }

    /// Progress of the data resources of `provider` (of `user` where given): not the
    /// profile or the device list, which are read whole on every run and say nothing of
    /// where a backfill stands (a run killed after reading them has fetched no days).
    pub fn data_progress(&self, provider: &str, user: Option<&str>) -> Vec<Progress> {
        self.file
            .resources
            .iter()
            .filter(|(k, _)| {
                let mut parts = k.splitn(3, '/');
                parts.next() == Some(provider)
                    && parts
                        .next()
                        .is_some_and(|u| user.is_none_or(|want| u == want))
                    && parts
                        .next()
                        .is_some_and(|r| !fitpipe_catalog::NOT_DATA_TYPES.contains(&r))
            })
            .map(|(_, p)| *p)
            .collect()
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
