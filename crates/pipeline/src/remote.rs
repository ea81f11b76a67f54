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

use crate::hint;

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
                let d = r.fetch(&o.location, &rel, &self.local).await?;
                got.insert(rel, d);
            }
        }
        r.pulled(participant, got);
        Ok(())
    }

    /// Stores what a participant's run changed (the sync state last), then removes the
    /// local copy of their share.
    pub async fn push(&self, participant: &str) -> anyhow::Result<()> {
        if self.remote.is_none() {
            return Ok(());
        }
        let mut dirs = share_dirs(&self.local, participant);
        dirs.extend(raw_dirs(&self.local, participant));
        let mut now: BTreeMap<String, PathBuf> = BTreeMap::new();
        for dir in &dirs {
            for p in files_below(dir) {
                now.insert(rel_of(&self.local, &p), p);
            }
        }
        self.push_files(participant, now).await?;
        for dir in dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }

    /// Fetches every object of the dataset (a single person's dataset on object storage)
    /// into the local work folder.
    pub async fn pull_all(&self) -> anyhow::Result<()> {
        let Some(r) = &self.remote else {
            return Ok(());
        };
        let mut got = BTreeMap::new();
        for o in r.list_all("").await? {
            let rel = o
                .prefix_match(&r.prefix)
                .map(|parts| {
                    parts
                        .map(|p| p.as_ref().to_string())
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .unwrap_or_default();
            if rel.is_empty() || rel.split('/').any(|p| p == ".." || p == ".") {
                continue;
            }
            let d = r.fetch(&o, &rel, &self.local).await?;
            got.insert(rel, d);
        }
        r.pulled("", got);
        Ok(())
    }

    /// Stores every file of the local work folder that changed since [`Output::pull_all`]
    /// (the sync state last) and deletes the objects of files that went.
    pub async fn push_all(&self) -> anyhow::Result<()> {
        if self.remote.is_none() {
            return Ok(());
        }
        let now = files_below(&self.local)
            .into_iter()
            .map(|p| (rel_of(&self.local, &p), p))
            .filter(|(rel, _)| !rel.starts_with(".demo-config/"))
            .collect();
        self.push_files("", now).await
    }

    /// Puts the files of `now` whose bytes differ from what `key`'s pull fetched (the
    /// sync state last: a push cut short leaves the old state, so the next run fetches
    /// those days again), then deletes the objects pulled that are gone locally.
    async fn push_files(&self, key: &str, now: BTreeMap<String, PathBuf>) -> anyhow::Result<()> {
        let Some(r) = &self.remote else {
            return Ok(());
        };
        let pulled = r
            .pulled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
            .unwrap_or_default();
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
        Ok(())
    }
}

/// Runs `f` on the dataset `data`, a folder or a URL. A URL's objects are fetched into a
/// local work folder first; when `write`, every file `f` changed is stored back after it,
/// whether `f` succeeded or not (what a run wrote is kept, as in a folder), and the work
/// folder is removed. The sync state goes last, so an upload cut short is fetched again.
pub fn with_dataset<T>(
    data: &str,
    write: bool,
    f: impl FnOnce(&Path) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    if !is_url(data) {
        return f(Path::new(data));
    }
    let out = Output::open(data)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(out.pull_all())?;
    let r = f(out.local());
    if write {
        if let Err(e) = rt.block_on(out.push_all()) {
            let e = e.context(format!("storing the changes in `{data}`"));
            return Err(match r {
                Ok(_) => e,
                Err(first) => first.context(format!("{e:#}")),
            });
        }
    }
    r
}

impl Output {
    /// Whether the output is object storage.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// The output as the person wrote it (a folder or a URL).
    pub fn name(&self) -> String {
        match &self.remote {
            Some(r) => r.url.clone(),
            None => self.local.display().to_string(),
        }
    }

    /// Deletes every object of a participant from object storage: their partition of
    /// each table in each format, their sync state and raw answers. Returns how many
    /// objects went; fails if any is still listed afterwards.
    pub async fn forget_participant(&self, participant: &str) -> anyhow::Result<usize> {
        let Some(r) = &self.remote else {
            return Ok(0);
        };
        let mut prefixes: Vec<String> = share_dirs(&self.local, participant)
            .iter()
            .map(|d| rel_of(&self.local, d))
            .collect();
        // `raw/<provider>/<participant>/` under every provider folder stored.
        let raw = r
            .store
            .list_with_delimiter(Some(&r.object("raw")))
            .await
            .with_context(|| format!("listing `{}/raw`", r.url))?;
        for p in raw.common_prefixes {
            if let Some(name) = p.filename() {
                prefixes.push(format!("raw/{name}/{participant}"));
            }
        }
        let mut removed = 0;
        for rel in &prefixes {
            for o in r.list_all(rel).await? {
                r.store
                    .delete(&o)
                    .await
                    .with_context(|| format!("removing `{}/{o}`", r.url))?;
                removed += 1;
            }
        }
        for rel in &prefixes {
            if let Some(o) = r.list_all(rel).await?.first() {
                anyhow::bail!("`{}/{o}` is still stored after its deletion", r.url);
            }
        }
        Ok(removed)
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
    /// Reads the object at `location` into `<local>/<rel>` and returns its digest.
    async fn fetch(
        &self,
        location: &ObjectPath,
        rel: &str,
        local: &Path,
    ) -> anyhow::Result<[u8; 32]> {
        let bytes = self
            .store
            .get(location)
            .await
            .with_context(|| format!("reading `{}/{rel}`", self.url))?
            .bytes()
            .await
            .with_context(|| format!("reading `{}/{rel}`", self.url))?;
        let path = local.join(rel);
        std::fs::create_dir_all(path.parent().expect("in a folder"))?;
        std::fs::write(&path, &bytes)?;
        Ok(digest(&bytes))
    }

    /// Remembers what a pull under `key` (a participant, or `""` for the whole
    /// dataset) fetched, for the push that follows.
    fn pulled(&self, key: &str, got: BTreeMap<String, [u8; 32]>) {
        self.pulled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), got);
    }

    /// Every object below `rel` (a folder inside the output).
    async fn list_all(&self, rel: &str) -> anyhow::Result<Vec<ObjectPath>> {
        use futures::TryStreamExt as _;
        let metas: Vec<_> = self
            .store
            .list(Some(&self.object(rel)))
            .try_collect()
            .await
            .with_context(|| format!("listing `{}/{rel}`", self.url))?;
        Ok(metas.into_iter().map(|m| m.location).collect())
    }

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
