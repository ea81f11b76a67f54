//! Where a study's dataset lives: a local folder, or object storage (`s3://`, `gs://`,
//! `az://`, `file://`) reached through the `object_store` crate.
//!
//! With object storage, each participant's share is worked on in a local folder: their
//! partition files and sync state are fetched first, the pipeline runs as it does on a
//! disk (its write protocol included), then every file it changed is put as one object
//! (a put is whole or nothing), the sync state last: an upload cut short leaves the old
//! state, so the next run fetches those days again and rewrites the same objects. The
//! local copy of the share is removed once stored, so disk use stays that of the
//! participants in flight. Credentials come from the usual environment variables
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ALLOW_HTTP`; `GOOGLE_*`, `AZURE_*`), never the study file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use fitpipe_export::{Dataset, Format};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use sha2::Digest as _;

use crate::output::hint;

/// A study's output.
pub struct Output {
    local: PathBuf,
    remote: Option<Remote>,
}

struct Remote {
    url: String,
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    /// Per participant: the files fetched, by path inside the share, with their digest.
    pulled: std::sync::Mutex<BTreeMap<String, BTreeMap<String, [u8; 32]>>>,
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.remote.is_some() {
            let _ = std::fs::remove_dir_all(&self.local);
        }
    }
}

/// Whether `out` names object storage rather than a folder.
pub fn is_url(out: &str) -> bool {
    out.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

impl Output {
    /// Opens `out` (a folder or a URL).
    pub fn open(out: &str) -> anyhow::Result<Output> {
        if !is_url(out) {
            return Ok(Output {
                local: PathBuf::from(out),
                remote: None,
            });
        }
        let url = url::Url::parse(out).map_err(|e| {
            hint(
                format!("`{out}` is not a URL: {e}"),
                "write `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix` or `file:///absolute/folder`",
            )
        })?;
        // Settings from the environment, as each cloud's own tools read them.
        let opts = std::env::vars().filter_map(|(k, v)| {
            let k = k.to_ascii_lowercase();
            (k.starts_with("aws_") || k.starts_with("google_") || k.starts_with("azure_"))
                .then_some((k, v))
        });
        let (store, prefix) = object_store::parse_url_opts(&url, opts).map_err(|e| {
            hint(
                format!("cannot open `{out}`: {e}"),
                "check the URL and the credentials in the environment (AWS_*, GOOGLE_*, AZURE_*)",
            )
        })?;
        let local = std::env::temp_dir().join(format!(
            "fitpipe-work-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        ));
        std::fs::create_dir_all(&local)
            .with_context(|| format!("creating `{}`", local.display()))?;
        Ok(Output {
            local,
            remote: Some(Remote {
                url: out.to_string(),
                store: Arc::from(store),
                prefix,
                pulled: Default::default(),
            }),
        })
    }

    /// The local folder the pipeline writes to.
    pub fn local(&self) -> &Path {
        &self.local
    }

    /// Fetches a participant's share (tables and sync state) before their run.
    pub async fn pull(&self, participant: &str) -> anyhow::Result<()> {
        let Some(r) = &self.remote else {
            return Ok(());
        };
        let mut got = BTreeMap::new();
        for dir in share_dirs(&self.local, participant) {
            let rel = rel_of(&self.local, &dir);
            let listing = r
                .store
                .list_with_delimiter(Some(&r.object(&rel)))
                .await
                .with_context(|| format!("listing `{}/{rel}`", r.url))?;
            for o in listing.objects {
                let name = o.location.filename().unwrap_or_default().to_string();
                let rel = format!("{rel}/{name}");
                let bytes = r
                    .store
                    .get(&o.location)
                    .await
                    .with_context(|| format!("reading `{}/{rel}`", r.url))?
                    .bytes()
                    .await?;
                let path = self.local.join(&rel);
                std::fs::create_dir_all(path.parent().expect("in a folder"))?;
                std::fs::write(&path, &bytes)?;
                got.insert(rel, digest(&bytes));
            }
        }
        r.pulled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(participant.to_string(), got);
        Ok(())
    }

    /// Stores what a participant's run changed (the sync state last), then removes the
    /// local copy of their share.
    pub async fn push(&self, participant: &str) -> anyhow::Result<()> {
        let Some(r) = &self.remote else {
            return Ok(());
        };
        let pulled = r
            .pulled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(participant)
            .unwrap_or_default();
        let mut now: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut dirs = share_dirs(&self.local, participant);
        dirs.extend(raw_dirs(&self.local, participant));
        for dir in &dirs {
            for p in files_below(dir) {
                now.insert(rel_of(&self.local, &p), p);
            }
        }
        let state = "state.json";
        let (mut first, mut last): (Vec<_>, Vec<_>) =
            now.iter().partition(|(rel, _)| !rel.ends_with(state));
        first.append(&mut last);
        for (rel, path) in first {
            let bytes = std::fs::read(path)?;
            if pulled.get(rel) == Some(&digest(&bytes)) {
                continue;
            }
            r.store
                .put(&r.object(rel), PutPayload::from(bytes))
                .await
                .with_context(|| format!("writing `{}/{rel}`", r.url))?;
        }
        // A partition the run emptied and removed.
        for rel in pulled.keys().filter(|k| !now.contains_key(*k)) {
            r.store
                .delete(&r.object(rel))
                .await
                .with_context(|| format!("removing `{}/{rel}`", r.url))?;
        }
        for dir in dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }
}

impl Output {
    /// Drops the local copy of a participant's share without storing it (after reading).
    pub fn release(&self, participant: &str) {
        if self.remote.is_some() {
            self.remote_pulled_forget(participant);
            for dir in share_dirs(&self.local, participant) {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    fn remote_pulled_forget(&self, participant: &str) {
        if let Some(r) = &self.remote {
            r.pulled
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(participant);
        }
    }
}

impl Remote {
    fn object(&self, rel: &str) -> ObjectPath {
        let mut p = self.prefix.clone();
        for part in rel.split('/').filter(|s| !s.is_empty()) {
            p = p.child(part);
        }
        p
    }
}

fn digest(b: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(b).into()
}

/// The folders of a participant's share: each table's partition in each format, and
/// their sync state's folder.
fn share_dirs(local: &Path, participant: &str) -> Vec<PathBuf> {
    let ds = Dataset::new(local, &[]).for_participant(participant);
    let mut dirs = Vec::new();
    for t in fitpipe_transform::ALL_TABLES {
        for f in [Format::Parquet, Format::Csv] {
            dirs.push(ds.table_dir(t.name, f));
        }
    }
    dirs.push(ds.own_dir());
    dirs
}

/// `raw/<provider>/<participant>/` for each provider folder present.
fn raw_dirs(local: &Path, participant: &str) -> Vec<PathBuf> {
    std::fs::read_dir(local.join("raw"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join(participant))
        .filter(|p| p.is_dir())
        .collect()
}

/// The files below `dir` that belong in storage: no lock, no open transaction, no
/// temporary file.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "txn" {
                    dirs.push(p);
                }
            } else if name != "lock" && !name.starts_with(".tmp-") && !name.ends_with("fitpipe-tmp")
            {
                out.push(p);
            }
        }
    }
    out
}

fn rel_of(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
