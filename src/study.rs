//! Studies: a roster of participants known by pseudonymous study ids only, their grants
//! (kept apart from a person's own, under `<config>/studies/<study>/`), stable shards of
//! the roster, and a run that fetches every participant of a shard with several in
//! flight, each paced by its own limit and all together by the project's.
//!
//! Every participant writes their own share of the dataset: hive partitions
//! `<table>/user_id=<study id>/`, raw answers under `raw/<provider>/<study id>/`, and a
//! lock, transactions and sync state under `.fitpipe/users/<study id>/`. So participants
//! run side by side, and two shards never write the same file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use fitpipe_export::Format;
use fitpipe_ingest::client::{ApiClient, SharedPace};
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::store::TokenStore;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::output::hint;
use crate::pipeline::{ingest, parse_resources, parse_tz, Job, Outcome};
use crate::progress::Progress;

/// A study file as written (see `pipelines/study.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyFile {
    /// The study's name: its grants live under `<config>/studies/<study>/`.
    pub study: String,
    /// `google-health` or `fitbit-web-api`.
    pub provider: String,
    /// The OAuth client (a Web application client for enrollment). The secret comes from
    /// `FITPIPE_CLIENT_SECRET`, never from this file.
    pub client_id: Option<String>,
    /// Output: a folder, or `s3://`, `gs://`, `az://`, `file://` URL.
    #[serde(default = "default_out")]
    pub out: String,
    /// First day of a participant's first run [default: 30 days before it].
    pub first_from: Option<NaiveDate>,
    pub resources: Option<Vec<String>>,
    #[serde(default)]
    pub intraday: Vec<String>,
    pub formats: Option<Vec<String>>,
    #[serde(default = "default_overlap")]
    pub overlap: i64,
    /// Participants fetched at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// The project-wide limit, requests per minute across all participants [default:
    /// 80% of 120,000 for Google, unlimited for Fitbit (its limit is per user)].
    pub project_requests_per_minute: Option<u32>,
    pub timezone: Option<String>,
    pub api_base: Option<String>,
    /// Study ids, inline.
    #[serde(default)]
    pub participants: Vec<String>,
    /// Study ids, one per line (`#` comments), relative to the study file.
    pub participants_file: Option<PathBuf>,
    /// Where the grants are kept [default: `<config>/studies/<study>`].
    pub grants: Option<PathBuf>,
    /// The enrollment page (`fitpipe enroll`).
    pub enroll: Option<EnrollSettings>,
}

/// `[enroll]` of a study file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollSettings {
    /// Address the page listens on (HTTP; put the operator's TLS proxy in front).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The address participants see (the proxy's `https://...`); the OAuth redirect URI
    /// is `<public_url>/callback`, registered for the Web application client.
    pub public_url: String,
    /// Days a personal link stays valid.
    #[serde(default = "default_link_days")]
    pub link_days: i64,
    /// What the consent page says is collected and why (plain text).
    pub description: Option<String>,
}

fn default_out() -> String {
    "./study-data".into()
}
fn default_overlap() -> i64 {
    3
}
fn default_concurrency() -> usize {
    8
}
fn default_listen() -> String {
    "127.0.0.1:8090".into()
}
fn default_link_days() -> i64 {
    14
}

/// A study, read and checked.
#[derive(Debug)]
pub struct Study {
    pub file: StudyFile,
    pub provider: Provider,
    /// The roster, in file order, without duplicates.
    pub roster: Vec<String>,
    /// The folder of grants and enrollment records.
    pub dir: PathBuf,
}

/// Whether a pipeline file is a study (it has a roster).
pub fn is_study(text: &str) -> bool {
    text.parse::<toml::Table>()
        .map(|t| t.contains_key("study"))
        .unwrap_or(false)
}

/// A study id: letters, digits, `-` and `_`, up to 64. Names and e-mail addresses are
/// refused: the dataset holds pseudonyms only.
pub fn check_id(id: &str) -> anyhow::Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(hint(
            format!("`{id}` is not a study id"),
            "use pseudonymous ids of letters, digits, `-` and `_` (such as `P001`): no names or e-mail addresses",
        ))
    }
}

impl Study {
    /// Reads a study file and its roster.
    pub fn load(path: &Path) -> anyhow::Result<Study> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            hint(
                format!("cannot read `{}`: {e}", path.display()),
                "see pipelines/study.toml",
            )
        })?;
        let file: StudyFile = toml::from_str(&text).map_err(|e| {
            hint(
                format!("`{}`: {e}", path.display()),
                "see pipelines/study.toml for the fields",
            )
        })?;
        check_id(&file.study).context("the `study` name")?;
        let provider = Provider::parse(&file.provider).ok_or_else(|| {
            hint(
                format!("unknown provider `{}`", file.provider),
                "use `provider = \"google-health\"` or `provider = \"fitbit-web-api\"`",
            )
        })?;
        let mut roster = file.participants.clone();
        if let Some(f) = &file.participants_file {
            let f = path.parent().unwrap_or(Path::new(".")).join(f);
            let text = std::fs::read_to_string(&f).map_err(|e| {
                hint(
                    format!("cannot read the roster `{}`: {e}", f.display()),
                    "`participants_file` is relative to the study file",
                )
            })?;
            roster.extend(
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                    .filter(|l| !l.is_empty()),
            );
        }
        for id in &roster {
            check_id(id)?;
        }
        let mut seen = std::collections::HashSet::new();
        roster.retain(|id| seen.insert(id.clone()));
        if roster.is_empty() {
            return Err(hint(
                format!("`{}` names no participants", path.display()),
                "add `participants = [\"P001\", ...]` or `participants_file = \"roster.txt\"`",
            ));
        }
        if file.concurrency == 0 {
            return Err(hint(
                "`concurrency` is 0",
                "fetch at least 1 participant at a time",
            ));
        }
        let dir = match &file.grants {
            Some(d) => d.clone(),
            None => crate::config::dir()?.join("studies").join(&file.study),
        };
        Ok(Study {
            file,
            provider,
            roster,
            dir,
        })
    }

    /// The store of the study's grants, keyed by study id.
    pub fn store(&self) -> TokenStore {
        TokenStore::new(&self.dir)
    }

    /// The participants enrolled so far (study id -> record).
    pub fn enrolled(&self) -> anyhow::Result<BTreeMap<String, Enrolled>> {
        let path = self.dir.join("enrolled.json");
        match std::fs::read(&path) {
            Ok(b) => {
                serde_json::from_slice(&b).with_context(|| format!("reading `{}`", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e).with_context(|| format!("reading `{}`", path.display())),
        }
    }

    /// Records an enrollment (0600, written atomically).
    pub fn record_enrolled(&self, id: &str, e: Enrolled) -> anyhow::Result<()> {
        let mut all = self.enrolled()?;
        all.insert(id.to_string(), e);
        fitpipe_ingest::store::write_private(
            &self.dir.join("enrolled.json"),
            &serde_json::to_vec_pretty(&all)?,
        )?;
        Ok(())
    }

    /// Drops an enrollment record (a withdrawal).
    pub fn forget_enrolled(&self, id: &str) -> anyhow::Result<()> {
        let mut all = self.enrolled()?;
        if all.remove(id).is_some() {
            fitpipe_ingest::store::write_private(
                &self.dir.join("enrolled.json"),
                &serde_json::to_vec_pretty(&all)?,
            )?;
        }
        Ok(())
    }

    /// Formats to write.
    pub fn formats(&self) -> anyhow::Result<Option<Vec<Format>>> {
        crate::pipeline::parse_formats(self.file.formats.as_deref())
    }
}

/// What fitpipe keeps of an enrollment: never a name or address.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrolled {
    /// When consent was given.
    pub at: DateTime<Utc>,
    /// The provider's id of the account (kept here, never in the dataset).
    pub account_id: String,
    /// The link used (its signature): a link enrolls once.
    pub link: String,
}

/// A stable share of a roster: participant `id` belongs to shard `index` of `count` when
/// the first 8 bytes of SHA-256(id), as a number, leave `index` divided by `count`. The
/// share depends on the id alone, not on the roster's order or length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Everyone.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` (0 <= I < N).
    pub fn parse(s: &str) -> anyhow::Result<Shard> {
        let bad = || {
            hint(
                format!("`{s}` is not a shard"),
                "write `I/N` with 0 <= I < N, e.g. `--shard 0/4` (in a Kubernetes Indexed Job: `--shard $(JOB_COMPLETION_INDEX)/4`)",
            )
        };
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether a participant is in this shard.
    pub fn holds(&self, id: &str) -> bool {
        let h = sha2::Sha256::digest(id.as_bytes());
        let n = u64::from_be_bytes(h[..8].try_into().expect("8 bytes"));
        n % u64::from(self.count) == u64::from(self.index)
    }
}

/// How one participant's run ended.
#[derive(Debug, Clone, Serialize)]
pub struct ParticipantRun {
    pub participant: String,
    /// `ok`, `partial`, `consent` (must consent again), `not-enrolled`, `busy` or `failed`.
    pub status: &'static str,
    pub requests: u64,
    /// Why, for anything but `ok`.
    pub detail: Option<String>,
}

/// Runs every participant of `shard` into the study's local dataset folder `out`.
pub async fn run(
    study: &Study,
    out: Arc<crate::remote::Output>,
    shard: Shard,
    quiet: bool,
) -> anyhow::Result<Vec<ParticipantRun>> {
    let provider = study.provider;
    let f = &study.file;
    let resources = parse_resources(
        provider,
        f.resources.as_deref().unwrap_or_default(),
        &f.intraday,
    )?;
    let formats = study.formats()?;
    let timezone = parse_tz(f.timezone.as_deref())?;
    let settings = crate::session::app(
        provider,
        f.client_id.clone(),
        None,
        f.api_base.clone(),
        false,
    )?;
    let store = study.store();
    let project = match (f.project_requests_per_minute, provider) {
        (Some(n), _) => Some(SharedPace::new(n)),
        (None, Provider::Google) => Some(SharedPace::new(96_000)),
        (None, Provider::Fitbit) => None,
    };
    let clock = crate::session::clock().await;
    let mine: Vec<String> = study
        .roster
        .iter()
        .filter(|id| shard.holds(id))
        .cloned()
        .collect();
    let progress = Arc::new(Progress::new(mine.len() as u64, quiet, false));
    let gate = Arc::new(tokio::sync::Semaphore::new(f.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, id) in mine.iter().enumerate() {
        let tokens = match store.load(provider.name(), id)? {
            Some(t) => t,
            None => {
                let pid = id.clone();
                tasks.spawn(async move {
                    (
                        i,
                        ParticipantRun {
                            participant: pid,
                            status: "not-enrolled",
                            requests: 0,
                            detail: Some("no grant yet: send them their enrollment link".into()),
                        },
                    )
                });
                continue;
            }
        };
        let mut app = settings.app.clone();
        if app.client_secret.is_none() {
            app.client_secret = store.load_secret(provider.name(), id)?;
        }
        let mut opts = crate::session::options(provider, true);
        opts.project = project.clone();
        let client = ApiClient::new(
            &settings.api_base,
            app,
            store.clone(),
            tokens,
            clock.clone(),
            Arc::new(Progress::new(0, true, false)),
            opts,
        );
        let job = Job {
            provider,
            out: out.local().to_path_buf(),
            formats: formats.clone(),
            from: None,
            to: None,
            resources: resources.clone(),
            overlap: f.overlap.max(0),
            refetch: false,
            dry_run: false,
            timezone,
            quiet: true,
            verbose: false,
            participant: Some(id.clone()),
        };
        let (gate, progress, first_from) = (gate.clone(), progress.clone(), f.first_from);
        let out = out.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("never closed");
            let r = one(job, client, first_from, &out).await;
            progress.tick(1);
            (i, r)
        });
    }
    let mut runs: Vec<(usize, ParticipantRun)> = Vec::new();
    while let Some(r) = tasks.join_next().await {
        // A panic in a participant's task is a bug: exit 2 by the panic hook.
        runs.push(r.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    }
    progress.finish();
    runs.sort_by_key(|(i, _)| *i);
    Ok(runs.into_iter().map(|(_, r)| r).collect())
}

/// One participant: their own lock, their progress, the pipeline.
async fn one(
    mut job: Job,
    mut client: ApiClient,
    first_from: Option<NaiveDate>,
    out: &crate::remote::Output,
) -> ParticipantRun {
    let id = job.participant.clone().unwrap_or_default();
    let mut run = ParticipantRun {
        participant: id.clone(),
        status: "ok",
        requests: 0,
        detail: None,
    };
    let ds = job.dataset();
    let lock = match ds.lock(false) {
        Ok(Some(l)) => l,
        Ok(None) => {
            run.status = "busy";
            run.detail = Some("another run is writing this participant".into());
            return run;
        }
        Err(e) => {
            run.status = "failed";
            run.detail = Some(e.to_string());
            return run;
        }
    };
    if let Err(e) = out.pull(&id).await {
        run.status = "failed";
        run.detail = Some(format!(
            "fetching their share of `{}`: {e:#}",
            job.out.display()
        ));
        return run;
    }
    match job.state() {
        Ok(state) => {
            let prefix = format!("{}/{id}/", job.provider.name());
            if !state.resources().keys().any(|k| k.starts_with(&prefix)) {
                job.from = Some(
                    first_from
                        .unwrap_or_else(|| client.now().date_naive() - chrono::Duration::days(30)),
                );
            }
        }
        Err(e) => {
            run.status = "failed";
            run.detail = Some(format!("{e:#}"));
            return run;
        }
    }
    let r = ingest(&job, &mut client, Arc::new(Progress::new(0, true, false))).await;
    // What was fetched is kept whatever the outcome.
    let pushed = out.push(&id).await;
    drop(lock);
    run.requests = client.requests;
    if let Err(e) = pushed {
        run.status = "failed";
        run.detail = Some(format!("storing their share: {e:#}"));
        return run;
    }
    match r {
        Ok(Outcome::Done) => {}
        Ok(Outcome::BudgetSpent(at)) => {
            run.status = "partial";
            run.detail = Some(format!(
                "rate budget spent; resumes after {}",
                at.format("%H:%M UTC")
            ));
        }
        Err(e) => {
            let consent = client.tokens().refused_at.is_some();
            run.status = if consent { "consent" } else { "failed" };
            // The first line says what happened; the rest is advice for one person.
            run.detail = Some(
                e.chain()
                    .map(|c| c.to_string())
                    .filter(|m| !m.starts_with("the run stopped early"))
                    .collect::<Vec<_>>()
                    .join(": "),
            );
        }
    }
    run
}

/// The summary a study run prints: one line per participant, then the totals.
pub fn summary(runs: &[ParticipantRun]) -> String {
    let mut s = format!(
        "{:<20} {:<13} {:>8}  detail\n",
        "participant", "status", "requests"
    );
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in runs {
        *counts.entry(r.status).or_default() += 1;
        s.push_str(&format!(
            "{:<20} {:<13} {:>8}  {}\n",
            r.participant,
            r.status,
            r.requests,
            r.detail.as_deref().unwrap_or("")
        ));
    }
    s.push_str(&format!(
        "{} participant(s): {}\n",
        runs.len(),
        counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    s
}
