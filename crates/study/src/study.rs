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

use fitpipe_pipeline::hint;
use fitpipe_pipeline::pipeline::{ingest, parse_resources, parse_tz, Job, Outcome};
use fitpipe_pipeline::{Report, Silent};

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
    /// The valid-day rule of `day_quality`: at least this many minutes with heart rate
    /// [default: 600].
    pub valid_day_minutes: Option<u32>,
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
            None => fitpipe_pipeline::config::dir()?
                .join("studies")
                .join(&file.study),
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

    /// The participants enrolled now (study id -> record): withdrawn ones left out.
    pub fn enrolled(&self) -> anyhow::Result<BTreeMap<String, Enrolled>> {
        Ok(self.consents()?.enrolled)
    }

    /// The consent record, folded: see [`Study::consent_events`].
    pub fn consents(&self) -> anyhow::Result<Consents> {
        let mut c = Consents::default();
        for ev in self.consent_events()? {
            c.apply(ev);
        }
        Ok(c)
    }

    /// The consent record's events in order: `consent.log` (one JSON event a line,
    /// appended and synced under `consent.lock`), after the `enrolled.json` of earlier
    /// versions. A record that cannot be read is an error, never an empty record: the
    /// enrollment page then refuses every link (it fails closed).
    pub fn consent_events(&self) -> anyhow::Result<Vec<ConsentEvent>> {
        let mut events = Vec::new();
        let legacy = self.dir.join("enrolled.json");
        match std::fs::read(&legacy) {
            Ok(b) => {
                let old: BTreeMap<String, Enrolled> = serde_json::from_slice(&b)
                    .with_context(|| format!("reading `{}`", legacy.display()))?;
                events.extend(old.into_iter().map(|(id, e)| ConsentEvent::Enrolled {
                    id,
                    at: e.at,
                    account_id: e.account_id,
                    link: e.link,
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading `{}`", legacy.display())),
        }
        let path = self.consent_log();
        let text = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(events),
            Err(e) => return Err(e).with_context(|| format!("reading `{}`", path.display())),
        };
        // A last line without its newline is an append cut short (it was never synced,
        // so nothing after it, a grant included, was kept): not an event.
        let whole = match text.iter().rposition(|&b| b == b'\n') {
            Some(i) => &text[..=i],
            None => &text[..0],
        };
        for (n, line) in whole.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let ev: ConsentEvent = serde_json::from_slice(line).map_err(|e| {
                hint(
                    format!("`{}` line {}: {e}", path.display(), n + 1),
                    "the consent record is damaged: restore it from a backup; until then no link enrolls anyone",
                )
            })?;
            events.push(ev);
        }
        Ok(events)
    }

    fn consent_log(&self) -> PathBuf {
        self.dir.join("consent.log")
    }

    /// Holds the consent record for one read-decide-append (blocking; across processes).
    pub fn lock_consents(&self) -> anyhow::Result<ConsentLock> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating `{}`", self.dir.display()))?;
        let path = self.dir.join("consent.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening `{}`", path.display()))?;
        file.lock()
            .with_context(|| format!("locking `{}`", path.display()))?;
        Ok(ConsentLock { _file: file })
    }

    /// Appends one event and syncs it (the caller holds the lock).
    fn append_consent(&self, _lock: &ConsentLock, ev: &ConsentEvent) -> anyhow::Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = self.consent_log();
        let created = !path.exists();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening `{}`", path.display()))?;
        // After an append cut short, the next event starts on a line of its own.
        let len = f.metadata()?.len();
        let mut line = Vec::new();
        if len > 0 {
            use std::io::{Read as _, Seek as _};
            let mut last = [0u8; 1];
            f.seek(std::io::SeekFrom::Start(len - 1))?;
            f.read_exact(&mut last)?;
            if last[0] != b'\n' {
                line.push(b'\n');
            }
        }
        serde_json::to_writer(&mut line, ev)?;
        line.push(b'\n');
        f.write_all(&line)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing `{}`", path.display()))?;
        if created {
            std::fs::File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .with_context(|| format!("syncing `{}`", self.dir.display()))?;
        }
        Ok(())
    }

    /// Records a consent, deciding under the lock that its link was never used and the
    /// participant has not withdrawn. Called before the grant is kept: a grant is never
    /// stored without its record.
    pub fn record_enrolled(
        &self,
        lock: &ConsentLock,
        id: &str,
        e: Enrolled,
    ) -> anyhow::Result<Result<Recorded, NotRecorded>> {
        let now = self.consents()?;
        if now.withdrawn.contains_key(id) {
            return Ok(Err(NotRecorded::Withdrawn));
        }
        if now.used_links.contains(&e.link) {
            return Ok(Err(NotRecorded::LinkUsed));
        }
        let previous = now
            .enrolled
            .get(id)
            .map(|p| p.account_id.clone())
            .filter(|a| *a != e.account_id);
        self.append_consent(
            lock,
            &ConsentEvent::Enrolled {
                id: id.to_string(),
                at: e.at,
                account_id: e.account_id,
                link: e.link,
            },
        )?;
        Ok(Ok(match previous {
            Some(_) => Recorded::AccountChanged,
            None => Recorded::New,
        }))
    }

    /// Records a withdrawal: the study id and the time. The account id is struck from
    /// their earlier events (the log is rewritten atomically, once); their used links
    /// stay used, and no link enrolls them again until `fitpipe enroll STUDY readmit ID`.
    pub fn record_withdrawn(&self, id: &str) -> anyhow::Result<()> {
        let _lock = self.lock_consents()?;
        let mut events = self.consent_events()?;
        for ev in &mut events {
            if let ConsentEvent::Enrolled {
                id: who,
                account_id,
                ..
            } = ev
            {
                if who == id {
                    account_id.clear();
                }
            }
        }
        events.push(ConsentEvent::Withdrawn {
            id: id.to_string(),
            at: Utc::now(),
        });
        let mut text = Vec::new();
        for ev in &events {
            serde_json::to_writer(&mut text, ev)?;
            text.push(b'\n');
        }
        fitpipe_ingest::store::write_private(&self.consent_log(), &text)?;
        // Its events are in the log now.
        let legacy = self.dir.join("enrolled.json");
        if legacy.exists() {
            std::fs::remove_file(&legacy)
                .with_context(|| format!("removing `{}`", legacy.display()))?;
        }
        Ok(())
    }

    /// Lets a withdrawn participant enroll again (with a new link).
    pub fn record_readmitted(&self, id: &str) -> anyhow::Result<bool> {
        let lock = self.lock_consents()?;
        if !self.consents()?.withdrawn.contains_key(id) {
            return Ok(false);
        }
        self.append_consent(
            &lock,
            &ConsentEvent::Readmitted {
                id: id.to_string(),
                at: Utc::now(),
            },
        )?;
        Ok(true)
    }

    /// Formats to write.
    pub fn formats(&self) -> anyhow::Result<Option<Vec<Format>>> {
        fitpipe_pipeline::pipeline::parse_formats(self.file.formats.as_deref())
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

/// One event of the consent record (`consent.log`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum ConsentEvent {
    /// Consent given through a link.
    Enrolled {
        id: String,
        at: DateTime<Utc>,
        /// The provider's id of the account; struck (empty) once they withdraw.
        account_id: String,
        /// The link's signature: a link enrolls once.
        link: String,
    },
    /// The participant withdrew (`fitpipe forget --study`).
    Withdrawn { id: String, at: DateTime<Utc> },
    /// The study team let a withdrawn participant enroll again.
    Readmitted { id: String, at: DateTime<Utc> },
}

/// The consent record folded into what it says now.
#[derive(Debug, Default)]
pub struct Consents {
    /// Enrolled and not withdrawn since.
    pub enrolled: BTreeMap<String, Enrolled>,
    /// Withdrawn and not readmitted since, with when.
    pub withdrawn: BTreeMap<String, DateTime<Utc>>,
    /// Every link that enrolled someone, ever.
    pub used_links: std::collections::HashSet<String>,
}

impl Consents {
    fn apply(&mut self, ev: ConsentEvent) {
        match ev {
            ConsentEvent::Enrolled {
                id,
                at,
                account_id,
                link,
            } => {
                self.used_links.insert(link.clone());
                self.withdrawn.remove(&id);
                self.enrolled.insert(
                    id,
                    Enrolled {
                        at,
                        account_id,
                        link,
                    },
                );
            }
            ConsentEvent::Withdrawn { id, at } => {
                self.enrolled.remove(&id);
                self.withdrawn.insert(id, at);
            }
            ConsentEvent::Readmitted { id, .. } => {
                self.withdrawn.remove(&id);
            }
        }
    }
}

/// Holds `consent.lock` while a consent is decided and recorded.
pub struct ConsentLock {
    _file: std::fs::File,
}

/// A consent recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The participant's first (or same-account) consent.
    New,
    /// They consented before with another account: reported to the study team.
    AccountChanged,
}

/// Why a consent was not recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum NotRecorded {
    /// The link enrolled someone already (two tabs, a replay).
    LinkUsed,
    /// The participant withdrew; only the study team can readmit them.
    Withdrawn,
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
    /// `ok`, `partial`, `consent` (must consent again), `not-enrolled`, `withdrawn`,
    /// `busy` or `failed`.
    pub status: &'static str,
    pub requests: u64,
    /// Requests that timed out (and were retried).
    pub timeouts: u64,
    /// Answers read from raw/ instead of asked for: a killed run had saved them.
    pub reused: usize,
    /// Why, for anything but `ok`.
    pub detail: Option<String>,
}

/// Runs every participant of `shard` into the study's local dataset folder `out`.
pub async fn run(
    study: &Study,
    out: Arc<fitpipe_pipeline::remote::Output>,
    shard: Shard,
    progress: Arc<dyn Report>,
) -> anyhow::Result<Vec<ParticipantRun>> {
    let provider = study.provider;
    let f = &study.file;
    // What every participant's job shares.
    let template = job_template(study)?;
    let settings = fitpipe_pipeline::session::app(
        provider,
        f.client_id.clone(),
        None,
        f.api_base.clone(),
        false,
    )?;
    let store = study.store();
    let clock = fitpipe_pipeline::session::clock().await;
    // The project's pace survives a restart too (its log beside the grants').
    let project_log = store.pace_log(provider.name(), "@project");
    let project = match (f.project_requests_per_minute, provider) {
        (Some(n), _) => Some(SharedPace::logged(n, project_log, clock.now())),
        (None, Provider::Google) => Some(SharedPace::logged(96_000, project_log, clock.now())),
        (None, Provider::Fitbit) => None,
    };
    let mine: Vec<String> = study
        .roster
        .iter()
        .filter(|id| shard.holds(id))
        .cloned()
        .collect();
    progress.planned(mine.len() as u64);
    let gate = Arc::new(tokio::sync::Semaphore::new(f.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    // Who withdrew (the record unreadable: nobody is shown as withdrawn).
    let withdrawn = study.consents().map(|c| c.withdrawn).unwrap_or_default();
    for (i, id) in mine.iter().enumerate() {
        let tokens = match store.load(provider.name(), id) {
            Ok(Some(t)) => t,
            other => {
                let r = without_grant(id, other.is_err(), withdrawn.get(id));
                tasks.spawn(async move { (i, r) });
                continue;
            }
        };
        let mut app = settings.app.clone();
        if app.client_secret.is_none() {
            // A damaged secret file is that participant's fault alone.
            app.client_secret = store.load_secret(provider.name(), id).ok().flatten();
        }
        let mut opts = fitpipe_pipeline::session::options(provider, true);
        opts.project = project.clone();
        let client = ApiClient::new(
            &settings.api_base,
            app,
            store.clone(),
            tokens,
            clock.clone(),
            Arc::new(Silent),
            opts,
        );
        let job = Job {
            out: out.local().to_path_buf(),
            participant: Some(id.clone()),
            ..template.clone()
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

/// The job every participant of a study shares (each gets its folder and id).
fn job_template(study: &Study) -> anyhow::Result<Job> {
    let (provider, f) = (study.provider, &study.file);
    let resources = parse_resources(
        provider,
        f.resources.as_deref().unwrap_or_default(),
        &f.intraday,
    )?;
    Ok(Job {
        provider,
        out: Default::default(),
        formats: study.formats()?,
        from: None,
        to: None,
        resources,
        overlap: f.overlap.max(0),
        refetch: false,
        dry_run: false,
        timezone: parse_tz(f.timezone.as_deref())?,
        quiet: true,
        verbose: false,
        participant: None,
        valid_day_minutes: f.valid_day_minutes,
    })
}

/// The run of a participant without a usable grant: a damaged one, a withdrawal (when),
/// or none yet.
fn without_grant(
    id: &str,
    damaged: bool,
    withdrawn: Option<&chrono::DateTime<chrono::Utc>>,
) -> ParticipantRun {
    let (status, detail) = match (damaged, withdrawn) {
        (true, _) => (
            "failed",
            "their stored grant is damaged and cannot be read: send them a new enrollment link (`fitpipe enroll STUDY link ID`)".to_string(),
        ),
        (_, Some(at)) => ("withdrawn", format!("withdrew on {}", at.format("%Y-%m-%d"))),
        _ => (
            "not-enrolled",
            "no grant yet: send them their enrollment link".into(),
        ),
    };
    ParticipantRun {
        participant: id.to_string(),
        status,
        requests: 0,
        timeouts: 0,
        reused: 0,
        detail: Some(detail),
    }
}

/// One participant: their own lock, their progress, the pipeline.
async fn one(
    mut job: Job,
    mut client: ApiClient,
    first_from: Option<NaiveDate>,
    out: &fitpipe_pipeline::remote::Output,
) -> ParticipantRun {
    let id = job.participant.clone().unwrap_or_default();
    let mut run = ParticipantRun {
        participant: id.clone(),
        status: "ok",
        requests: 0,
        timeouts: 0,
        reused: 0,
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
            // No day fetched yet (a killed first run may have read the profile and the
            // devices only): the participant's backfill starts at `first_from`.
            if state
                .data_progress(job.provider.name(), Some(&id))
                .is_empty()
            {
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
    let r = ingest(&job, &mut client, Arc::new(Silent)).await;
    // What was fetched is kept whatever the outcome.
    let pushed = out.push(&id).await;
    drop(lock);
    run.requests = client.requests;
    run.timeouts = client.timeouts;
    if let Err(e) = pushed {
        run.status = "failed";
        run.detail = Some(format!("storing their share: {e:#}"));
        return run;
    }
    let r = r.map(|ran| {
        run.reused = ran.reused;
        ran.outcome
    });
    outcome(&mut run, r, client.tokens().refused_at.is_some());
    run
}

/// A participant's status and why, from how their ingest ended (`consent`: the account
/// refused the grant).
fn outcome(run: &mut ParticipantRun, r: anyhow::Result<Outcome>, consent: bool) {
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
}

/// The summary a study run prints: one line per participant, then the totals.
pub fn summary(runs: &[ParticipantRun]) -> String {
    let mut s = format!(
        "{:<20} {:<13} {:>8} {:>7}  detail\n",
        "participant", "status", "requests", "reused"
    );
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in runs {
        *counts.entry(r.status).or_default() += 1;
        s.push_str(&format!(
            "{:<20} {:<13} {:>8} {:>7}  {}\n",
            r.participant,
            r.status,
            r.requests,
            r.reused,
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
