//! The pipeline every API command runs: plan the requests against recorded progress,
//! fetch them (paging, pacing and retries live in the client), land each answer raw,
//! normalise it, write the rows and the progress they make in one transaction, and say
//! how the run ended. `ingest`, `run` and `--demo` call [`ingest`]; `rebuild` and the
//! imports reuse [`normalise`] and the dataset glue of [`crate::tables`].

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use fitpipe_catalog::SyncedBy;
use fitpipe_export::{Dataset, Format, Written};
use fitpipe_ingest::client::ApiClient;
use fitpipe_ingest::provider::{Provider, Replaces, Resource, Window};
use fitpipe_ingest::state::{LastRun, Progress, SyncState, Synced};
use fitpipe_ingest::{raw, IngestError};
use fitpipe_transform::fitbit::{self as tf, Context, Units};
use fitpipe_transform::{google as tg, RowSet};

use crate::session;
use crate::tables::report;
use crate::writer::{Refetched, Writer};
use crate::{hint, Report};

/// Write accumulated rows after this many windows (and at the end of each resource)...
const FLUSH_EVERY: usize = 25;
/// ...or once they hold this many rows (a day of 1-second heart rate is 86,400): what a
/// participant holds in memory between writes stays bounded whatever the range.
const FLUSH_ROWS: usize = 100_000;

/// A killed run resumed within this many hours completes what it wrote without fetching
/// its overlap again (later, the overlap's late syncs are worth the requests).
const RESUME_HOURS: i64 = 6;

/// A resolved ingest: what to fetch and where to write it.
#[derive(Clone)]
pub struct Job {
    pub provider: Provider,
    pub out: PathBuf,
    /// `--format`, or `None` for the default (see [`crate::tables::dataset`]).
    pub formats: Option<Vec<Format>>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub resources: Vec<Resource>,
    pub overlap: i64,
    pub refetch: bool,
    pub dry_run: bool,
    pub timezone: Option<Tz>,
    pub quiet: bool,
    pub verbose: bool,
    /// A study participant's id: the rows' `user_id` and raw folder, and their own share
    /// of the dataset (hive partitions `user_id=<id>`, state and lock of their own). The
    /// provider's id of the account stays in the token store.
    pub participant: Option<String>,
    /// The valid-day rule: at least this many minutes with heart rate (`None`: the rule
    /// the dataset last used, else 600).
    pub valid_day_minutes: Option<u32>,
}

impl Job {
    /// The dataset the job writes (a participant's share of it for a study).
    pub fn dataset(&self) -> fitpipe_export::Dataset {
        let ds = crate::tables::dataset(&self.out, self.formats.as_deref());
        match &self.participant {
            Some(id) => ds.for_participant(id),
            None => ds,
        }
    }

    /// The job's sync state.
    pub fn state(&self) -> anyhow::Result<SyncState> {
        Ok(match &self.participant {
            Some(_) => SyncState::load_from(self.dataset().own_dir().join("state.json"))?,
            None => SyncState::load(&self.out)?,
        })
    }
}

/// What a run did: how it ended, and how many answers it read from raw/ instead of
/// asking for them (a killed run had saved them).
pub struct Ran {
    pub outcome: Outcome,
    pub reused: usize,
}

/// How a run ended.
pub enum Outcome {
    Done,
    /// Stopped at the rate budget with `--no-wait`.
    BudgetSpent(DateTime<Utc>),
}

/// The resources to fetch: `names` (the provider's defaults when empty) and `intraday`.
pub fn parse_resources(
    provider: Provider,
    names: &[String],
    intraday: &[String],
) -> anyhow::Result<Vec<Resource>> {
    let defaults: Vec<String> = provider
        .default_resources()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let names = if names.is_empty() { &defaults } else { names };
    // `all`: every type the catalog lets this API read.
    let expand = |given: &[String], every: Vec<&'static str>| -> Vec<String> {
        given
            .iter()
            .flat_map(|n| match n.trim() {
                "all" => every.iter().map(|s| s.to_string()).collect(),
                n => vec![n.to_string()],
            })
            .collect()
    };
    let names = expand(names, provider.resource_names());
    let intraday = expand(intraday, provider.intraday_names());
    let mut out = Vec::new();
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let r = provider.resource(n).ok_or_else(|| {
            hint(
                format!("unknown resource `{n}` for `{}`", provider.name()),
                format!("choose from: {}", provider.resource_names().join(", ")),
            )
        })?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    for n in intraday.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let r = provider.intraday(n).ok_or_else(|| {
            let detail = match provider {
                Provider::Fitbit => " (detail `:1min` or `:15min`; heart also `:1sec`)",
                Provider::Google => "",
            };
            hint(
                format!("unknown intraday series `{n}` for `{}`", provider.name()),
                format!(
                    "choose from: {}{detail}",
                    provider.intraday_names().join(", ")
                ),
            )
        })?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    // The profile first: it gives the time zone the rest needs.
    out.sort_by_key(|r| !r.is_profile());
    Ok(out)
}

/// One response body as table rows, by the provider's rules.
pub fn normalise(
    provider: Provider,
    body: &[u8],
    user: &str,
    tz: Option<Tz>,
    fetched: Option<DateTime<Utc>>,
) -> Result<RowSet, fitpipe_transform::TransformError> {
    // A route (TCX) is XML at either API.
    if fitpipe_transform::tcx::is_tcx(body) {
        return fitpipe_transform::tcx::normalise(body, user, source_of(provider.name()), tz);
    }
    match provider {
        Provider::Fitbit => {
            let doc = tf::parse(body)?;
            let ctx = Context {
                user_id: user.into(),
                tz,
                fetched_utc: fetched,
                units: Units::Metric,
            };
            tf::normalise(&doc, &ctx)
        }
        Provider::Google => {
            let doc = tg::parse(body)?;
            let ctx = tg::Context {
                user_id: user.into(),
                tz,
                fetched_utc: fetched,
            };
            tg::normalise(&doc, &ctx)
        }
    }
}

/// A response that could not be turned into rows, with what to do about it.
fn normalise_error(path: &str, e: fitpipe_transform::TransformError) -> anyhow::Error {
    use fitpipe_transform::TransformError as E;
    let what = match &e {
        E::NeedTimezone { .. } => "pass `--timezone`, or include `profile` in `--resources`",
        _ => "the answer is saved under `<out>/raw`; report it with that file (nothing of this resource was written, the next run fetches it again)",
    };
    hint(format!("`{path}`: {e}"), what)
}

/// `formats = [...]` of a pipeline or study file.
pub fn parse_formats(names: Option<&[String]>) -> anyhow::Result<Option<Vec<Format>>> {
    names
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    f.parse::<Format>()
                        .map_err(|e| hint(e, "use `parquet` and/or `csv`"))
                })
                .collect()
        })
        .transpose()
}

pub fn parse_tz(name: Option<&str>) -> anyhow::Result<Option<Tz>> {
    name.map(|n| {
        n.parse::<Tz>().map_err(|_| {
            hint(
                format!("unknown time zone `{n}`"),
                "use an IANA name such as `Europe/London`",
            )
        })
    })
    .transpose()
}

struct Plan {
    resource: Resource,
    from: NaiveDate,
    windows: Vec<Window>,
    /// Nothing has synced since it was last written: not asked.
    unchanged: bool,
}

/// The days to fetch per resource, from flags and recorded progress.
fn plan(
    job: &Job,
    state: &SyncState,
    user: &str,
    now: DateTime<Utc>,
    tz: Tz,
    syncs: &Syncs,
) -> anyhow::Result<Vec<Plan>> {
    let to = job.to.unwrap_or(now.with_timezone(&tz).date_naive());
    let (began, last_finished) = history(job, state, user);
    let start = Start {
        job,
        state,
        user,
        to,
        tz,
        syncs,
        began,
        last_finished,
    };
    let mut plans = Vec::new();
    for r in &job.resources {
        let (from, unchanged) = start.of(r)?;
        let windows = if from > to {
            Vec::new()
        } else {
            r.plan(from, to, tz, now)
        };
        plans.push(Plan {
            resource: r.clone(),
            from,
            windows,
            unchanged,
        });
    }
    // The profile first (it gives the time zone), then resources still catching up, then
    // the overlap re-fetches of resources that are current: a run cut short by the rate
    // budget always advances the backfill instead of spending it on overlaps.
    let current =
        |p: &Plan| p.windows.len() <= 1 && p.from >= to - Duration::days(job.overlap.max(1));
    plans.sort_by_key(|p| (!p.resource.is_profile(), current(p)));
    Ok(plans)
}

/// Where the user's earlier runs in this dataset began, and when the last one noted its
/// end.
fn history(job: &Job, state: &SyncState, user: &str) -> (Option<NaiveDate>, Option<DateTime<Utc>>) {
    let provider = job.provider.name();
    let prefix = format!("{provider}/{user}/");
    let began = state
        .resources()
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(_, p)| p.start)
        .min();
    let last_finished = state
        .runs()
        .get(&format!("{provider}/{user}"))
        .and_then(|r| r.finished);
    (began, last_finished)
}

/// Where each resource's fetch starts, from the flags and the recorded progress of one
/// user.
struct Start<'a> {
    job: &'a Job,
    state: &'a SyncState,
    user: &'a str,
    to: NaiveDate,
    tz: Tz,
    syncs: &'a Syncs,
    /// Where this dataset's earlier runs for the user began: a resource that a killed or
    /// failed run never reached starts there too. (The profile's progress starts at the
    /// `--from` of the run that read it.)
    began: Option<NaiveDate>,
    /// When the user's last run noted its end.
    last_finished: Option<DateTime<Utc>>,
}

impl Start<'_> {
    /// Whether progress was recorded by a run that was killed (it never noted its end)
    /// within the last hours: resuming it, the days it wrote are as fresh as new ones.
    fn interrupted(&self, p: &Progress) -> bool {
        self.last_finished.is_none_or(|f| f < p.updated)
            && Utc::now() - p.updated < Duration::hours(RESUME_HOURS)
    }

    /// The day after the last one written, less the overlap (days fetched again because
    /// devices sync late): `--overlap 0` fetches only new days. A resource a killed run
    /// wrote in the last hours (the run never finished) is completed, not fetched again.
    /// And never later than the first day not yet final: a device that synced days late
    /// has its days fetched again however late it was.
    fn next(&self, p: &Progress) -> NaiveDate {
        let overlap = if self.interrupted(p) {
            0
        } else {
            self.job.overlap
        };
        let by_overlap = p.through + Duration::days(1) - Duration::days(overlap);
        match p.complete_through {
            Some(c) => by_overlap.min(c + Duration::days(1)),
            None => by_overlap,
        }
    }

    /// Nothing synced since this resource was last written, and it reaches the day of
    /// that sync: the API holds nothing new for it (`--refetch` asks anyway).
    fn unchanged(&self, r: &Resource, p: &Progress) -> bool {
        let sync = self.syncs.of_resource(r);
        sync.is_some()
            && p.synced_utc == sync
            && sync
                .is_some_and(|s| p.through >= self.to.min(s.with_timezone(&self.tz).date_naive()))
            && self.job.from.is_none_or(|f| f >= p.start)
    }

    /// The first day to fetch of `r`, and whether nothing has changed for it.
    fn of(&self, r: &Resource) -> anyhow::Result<(NaiveDate, bool)> {
        let key = r.key();
        let done = if self.job.refetch {
            None
        } else {
            self.state.get(self.job.provider.name(), self.user, &key)
        };
        let same = !r.every_run() && done.as_ref().is_some_and(|p| self.unchanged(r, p));
        let to = self.to;
        let from = if r.every_run() {
            to
        } else if same {
            to + Duration::days(1)
        } else {
            match (self.job.from, done) {
                // Resume: days already written (less the overlap) are not fetched again.
                (Some(f), Some(p)) if p.start <= f && p.through >= f => f.max(self.next(&p)),
                (Some(f), _) => f,
                (None, Some(p)) => self.next(&p),
                (None, None) if r.is_profile() => to,
                (None, None) => match self.began {
                    Some(b) => b,
                    None => return Err(hint(
                        format!("no earlier run for `{key}` in `{}`", self.job.out.display()),
                        "pass `--from YYYY-MM-DD` for the first run; later runs fetch only what is new",
                    )),
                },
            }
        };
        Ok((from, same))
    }
}

/// Runs a job with a ready client. The profile comes first (it gives the time zone), then
/// the device list (its last syncs say which days are final and whether anything is new),
/// then every other resource, planned from those syncs. Rows are written every few
/// responses and at the end of each resource; progress is recorded only after its rows
/// are on disk.
pub async fn ingest(
    job: &Job,
    client: &mut ApiClient,
    progress: Arc<dyn Report>,
) -> anyhow::Result<Ran> {
    let (user, tz) = user_and_zone(job, client)?;
    if !job.dry_run {
        // The caller holds the dataset's lock: finish or undo what a killed run left
        // before reading what was fetched.
        job.dataset().recover()?;
    }
    let state = job.state()?;
    let now = client.now();
    let plans = plan(
        job,
        &state,
        &user,
        now,
        tz.unwrap_or(Tz::UTC),
        &Syncs::default(),
    )?;
    if job.dry_run {
        progress.plan(&plan_table(job.provider, &plans));
        return Ok(Ran {
            outcome: Outcome::Done,
            reused: 0,
        });
    }
    progress.planned(plans.iter().map(|p| p.windows.len() as u64).sum());
    let mut run = Run {
        job,
        client,
        progress,
        user,
        tz,
        state,
        ds: job.dataset(),
        written: Vec::new(),
        outcome: Outcome::Done,
        failure: None,
        member_since: None,
        skipped: Vec::new(),
        reused: 0,
        syncs: Syncs::default(),
        devices: Vec::new(),
        fetched_from: None,
    };
    let (first, _): (Vec<Plan>, Vec<Plan>) = plans
        .into_iter()
        .partition(|p| p.resource.is_profile() || p.resource.every_run());
    let mut stopped = false;
    for p in &first {
        if run.fetch(p).await? == Flow::Stop {
            stopped = true;
            break;
        }
    }
    if !stopped {
        let done: u64 = first.iter().map(|p| p.windows.len() as u64).sum();
        run.fetch_the_rest(now, done).await?;
    }
    run.progress.finish();
    // The last transaction reads the tables back (day_quality): a write like the others.
    off_the_runtime(|| run.finish())
}

/// The user a job fetches for, and their zone: the flag, else the one the tokens
/// recorded, else that of the profile stored by an earlier run (a run that does not read
/// the profile again, a resumed one, still plans the account's days, not UTC's).
fn user_and_zone(job: &Job, client: &ApiClient) -> anyhow::Result<(String, Option<Tz>)> {
    let user = job
        .participant
        .clone()
        .unwrap_or_else(|| client.tokens().user_id.clone());
    let tz = job.timezone.or_else(|| {
        client
            .tokens()
            .timezone
            .as_deref()
            .and_then(|z| z.parse().ok())
    });
    let tz = match tz {
        Some(z) => Some(z),
        None => crate::quality::stored_timezone(&job.dataset(), &user)?,
    };
    Ok((user, tz))
}

/// The plan of a dry run, as a table.
fn plan_table(provider: Provider, plans: &[Plan]) -> String {
    let total: usize = plans.iter().map(|p| p.windows.len()).sum();
    let mut s = format!(
        "{:<24} {:>10} {:>10} {:>9}\n",
        "resource", "from", "to", "requests"
    );
    for p in plans {
        let to = p
            .windows
            .last()
            .map_or(String::from("-"), |w| w.end.to_string());
        s.push_str(&format!(
            "{:<24} {:>10} {:>10} {:>9}\n",
            p.resource.key(),
            p.from.to_string(),
            to,
            p.windows.len()
        ));
    }
    s.push_str(&format!(
        "{:<24} {:>10} {:>10} {:>9}\n",
        "total", "", "", total
    ));
    if provider == Provider::Google {
        s.push_str("(one request per window; a page beyond the first, when an answer has more than a page holds, is one more)\n");
    }
    s
}

/// The last syncs the account's devices reported this run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Syncs {
    /// The latest sync of a tracker (anything but a scale).
    pub tracker: Option<DateTime<Utc>>,
    /// The latest sync of any device.
    pub any: Option<DateTime<Utc>>,
}

impl Syncs {
    /// From the device rows read.
    pub fn of(devices: &[fitpipe_transform::tables::Device]) -> Self {
        let latest = |scale_too: bool| {
            devices
                .iter()
                .filter(|d| scale_too || d.device_type.as_deref() != Some("scale"))
                .filter_map(|d| d.last_sync_utc)
                .max()
        };
        Syncs {
            tracker: latest(false),
            any: latest(true),
        }
    }

    /// The sync that makes days of `r` final, if known.
    fn of_resource(&self, r: &Resource) -> Option<DateTime<Utc>> {
        match r.synced_by() {
            SyncedBy::Tracker => self.tracker,
            SyncedBy::AnyDevice => self.any,
            SyncedBy::Nothing => None,
        }
    }

    /// The sync of `r` with the last day it completes in `tz`.
    fn synced(&self, r: &Resource, tz: Tz) -> Option<Synced> {
        self.of_resource(r).map(|at| Synced {
            at,
            complete_through: at.with_timezone(&tz).date_naive() - Duration::days(1),
        })
    }
}

/// Whether a run goes on after a resource.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Next,
    Stop,
}

/// One run of a job: what it has learnt and written so far.
struct Run<'a> {
    job: &'a Job,
    client: &'a mut ApiClient,
    progress: Arc<dyn Report>,
    user: String,
    tz: Option<Tz>,
    state: SyncState,
    ds: Dataset,
    written: Vec<Written>,
    outcome: Outcome,
    failure: Option<anyhow::Error>,
    /// The day the account was opened (from the profile): series days before it are
    /// the API's zeros, not data.
    member_since: Option<NaiveDate>,
    /// Resources refused for a scope the person did not grant.
    skipped: Vec<String>,
    /// Answers read from raw/ instead of asked for (a killed run had saved them).
    reused: usize,
    /// The devices' last syncs (known once the device list is read).
    syncs: Syncs,
    /// The device rows read this run.
    devices: Vec<fitpipe_transform::tables::Device>,
    /// The first day of data fetched this run (its wear is counted again).
    fetched_from: Option<NaiveDate>,
}

impl Run<'_> {
    /// Plans and fetches every resource but the profile and the device list, now that
    /// the time zone and the devices' last syncs are known; `done`: the requests made.
    async fn fetch_the_rest(&mut self, now: DateTime<Utc>, done: u64) -> anyhow::Result<()> {
        self.syncs = Syncs::of(&self.devices);
        let rest: Vec<Plan> = plan(
            self.job,
            &self.state,
            &self.user,
            now,
            self.tz.unwrap_or(Tz::UTC),
            &self.syncs,
        )?
        .into_iter()
        .filter(|p| !p.resource.is_profile() && !p.resource.every_run())
        .collect();
        let same: Vec<String> = rest
            .iter()
            .filter(|p| p.unchanged)
            .map(|p| p.resource.key())
            .collect();
        if !same.is_empty() && !self.job.quiet {
            self.progress.note(&format!(
                "nothing has synced since the last run (tracker last synced {}): {} not asked again (`--refetch` asks anyway)",
                self.syncs
                    .tracker
                    .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                same.join(", ")
            ));
        }
        self.progress
            .planned(done + rest.iter().map(|p| p.windows.len() as u64).sum::<u64>());
        for p in &rest {
            if self.fetch(p).await? == Flow::Stop {
                break;
            }
        }
        Ok(())
    }

    /// Fetches one resource's windows, page by page, and writes them.
    async fn fetch(&mut self, p: &Plan) -> anyhow::Result<Flow> {
        let key = p.resource.key();
        self.progress.resource(&key, p.windows.len() as u64);
        if let Some(w) = p.windows.first().filter(|_| !p.resource.every_run()) {
            self.fetched_from = Some(self.fetched_from.map_or(w.start, |f| f.min(w.start)));
        }
        let tz = self.tz.unwrap_or(Tz::UTC);
        let user = self.user.clone();
        let mut pending = Pending {
            provider: self.job.provider.name(),
            user: &user,
            key: key.clone(),
            replaces: p.resource.replaces(),
            from: p.from,
            rows: RowSet::default(),
            through: None,
            complete_from: None,
            synced: self.syncs.synced(&p.resource, tz),
        };
        // Answers a killed run saved for days it never wrote: read, not asked again.
        let mut unwritten = if self.job.refetch {
            Unwritten::default()
        } else {
            let written_through = self
                .state
                .get(pending.provider, &user, &key)
                .map(|d| d.through);
            Unwritten::load(
                &self.job.out,
                pending.provider,
                &user,
                &key,
                written_through,
            )?
        };
        // Set once the API refused a filter and its fallback fetches every window at once.
        let mut unfiltered = false;
        for (i, w) in p.windows.iter().enumerate() {
            self.progress
                .window(&key, &format!("{} .. {}", w.start, w.end));
            let answer = self
                .fetch_window(p, w, &mut unfiltered, &mut unwritten, &mut pending)
                .await?;
            if let Err(e) = answer {
                // Keep what this resource fetched so far.
                self.write(&mut pending).await?;
                return Ok(self.refused(p, e));
            }
            // The unfiltered fallback's pages covered every window of this resource.
            let last = if unfiltered { p.windows.len() - 1 } else { i };
            pending.through = Some(p.windows[last].end);
            // Every page of these windows arrived: their answer is complete.
            let first = if unfiltered { p.from } else { w.start };
            pending.complete_from.get_or_insert(first);
            self.progress.advanced(&key, (last - i + 1) as u64);
            if unfiltered {
                break;
            }
            if (i + 1) % FLUSH_EVERY == 0 || pending.rows.len() >= FLUSH_ROWS {
                self.write(&mut pending).await?;
            }
        }
        self.write(&mut pending).await?;
        self.progress.resource_done(&key);
        Ok(Flow::Next)
    }

    /// Writes what `pending` holds with the state that says so (one transaction), off
    /// the async runtime and at most [`writers`] at a time in this process: a study's
    /// participants keep fetching while one encodes, and no more of them hold a
    /// merge's copies in memory at once than there are cores to encode them.
    async fn write(&mut self, pending: &mut Pending<'_>) -> anyhow::Result<()> {
        // Keeps the device rows about to be written (their last syncs plan the rest).
        self.devices.extend(pending.rows.devices.iter().cloned());
        let _turn = writers().acquire().await.expect("never closed");
        off_the_runtime(|| pending.flush(&self.ds, &mut self.state, &mut self.written, self.tz))
    }

    /// Fetches every page of one window (or, after a refused filter, of the whole
    /// resource) into `pending`; `Ok(Err(e))` is the API's refusal.
    async fn fetch_window(
        &mut self,
        p: &Plan,
        w: &Window,
        unfiltered: &mut bool,
        unwritten: &mut Unwritten,
        pending: &mut Pending<'_>,
    ) -> anyhow::Result<Result<(), IngestError>> {
        let key = p.resource.key();
        // The window's request, then its pages and the requests they lead to (the routes
        // of a list page before the next page), one after another.
        let mut queue = std::collections::VecDeque::from([w.request.clone()]);
        let mut page = 0;
        // When the previous page of this answer was fetched (a later page is reused
        // only with the page it followed).
        let mut after_ms = i64::MIN;
        while let Some(req) = queue.pop_front() {
            page += 1;
            // The days the answer covers: the window, or every window of the resource for
            // the unfiltered fallback (rebuild replaces what the ingest replaced).
            let covered = if *unfiltered {
                (p.from, p.windows.last().map_or(w.end, |l| l.end))
            } else {
                (w.start, w.end)
            };
            let now = self.client.now();
            let tz = self.tz.unwrap_or(Tz::UTC);
            let saved = unwritten.take((covered.0, covered.1, page), after_ms, now, tz);
            let reused = saved.is_some();
            let sent = match saved {
                Some(f) => Ok(f),
                None => self.client.send(&req).await,
            };
            let fetched = match sent {
                Ok(f) => f,
                Err(e) => {
                    if let Some(fb) = (!*unfiltered).then(|| p.resource.fallback(&e)).flatten() {
                        if !self.job.quiet {
                            self.progress.note(&format!(
                                "the API refused the filter of `{key}` ({e}); fetching the list page by page without it, back to {}",
                                p.from
                            ));
                        }
                        *unfiltered = true;
                        // The fallback's pages are one answer, from its first page.
                        page = 0;
                        queue = [fb].into();
                        continue;
                    }
                    return Ok(Err(e));
                }
            };
            after_ms = fetched.at.timestamp_millis();
            if reused {
                self.reused += 1;
            } else if !self.pseudonymous(p) {
                raw::save(
                    &self.job.out,
                    pending.provider,
                    &self.user,
                    &key,
                    (covered.0, covered.1, page),
                    fetched.at,
                    &fetched.body,
                )?;
            }
            let rows = self.rows_of(&req.path, &fetched)?;
            pending.rows.extend(rows);
            let next = if *unfiltered {
                p.resource.next_fallback_page(&req, &fetched.body, p.from)
            } else {
                p.resource.next_page(&req, &fetched.body, covered.1)
            };
            queue.extend(p.resource.follow_ups(&fetched.body, covered.1));
            queue.extend(next);
        }
        Ok(Ok(()))
    }

    /// A study keeps no raw identity or profile answer: they hold the provider's id of
    /// the account and names (the profile row is scrubbed). Nor a raw device list (the
    /// Fitbit answer holds each device's MAC address).
    fn pseudonymous(&self, p: &Plan) -> bool {
        self.job.participant.is_some() && (p.resource.is_profile() || p.resource.every_run())
    }

    /// An answer's rows, scrubbed for a study; learns the time zone and the day the
    /// account opened from a profile.
    fn rows_of(
        &mut self,
        path: &str,
        fetched: &fitpipe_ingest::client::Fetched,
    ) -> anyhow::Result<RowSet> {
        let mut r = normalise(
            self.job.provider,
            &fetched.body,
            &self.user,
            self.tz,
            Some(fetched.at),
        )
        .map_err(|e| normalise_error(path, e))?;
        if let Some(id) = &self.job.participant {
            // The study id only: no account id, no name.
            for p in &mut r.profile {
                p.user_id = id.as_str().into();
                p.legacy_user_id = None;
                p.display_name = None;
            }
        }
        if self.job.timezone.is_none() {
            if let Some(z) = r.profile.iter().find_map(|p| p.timezone.as_deref()) {
                self.tz = z.parse().ok().or(self.tz);
            }
        }
        self.member_since = r
            .profile
            .iter()
            .find_map(|p| p.member_since)
            .or(self.member_since);
        before_the_account(&mut r, self.member_since);
        Ok(r)
    }

    /// What an API error ends: a refused scope only its resource (a refused device list
    /// only the sync-based plan), anything else the run.
    fn refused(&mut self, p: &Plan, e: IngestError) -> Flow {
        let key = p.resource.key();
        if e.is_scope_refusal() {
            if p.resource.every_run() {
                self.progress.warn(&format!(
                    "the device list was refused ({e}): without the devices' last syncs, days are fetched again by the fixed overlap"
                ));
            } else if p.resource.optional_scope() {
                // An optional scope left unticked: nothing is wrong with the run.
                self.progress.warn(&format!(
                    "`{key}` left out: the grant does not include its optional scope ({e}); to have it, run `fitpipe auth` again and tick that box"
                ));
            } else {
                // An unticked scope: the other resources can still be had.
                self.skipped.push(format!("`{key}` ({e})"));
            }
            self.progress.resource_done(&key);
            return Flow::Next;
        }
        match e {
            IngestError::BudgetSpent { reset_at } => self.outcome = Outcome::BudgetSpent(reset_at),
            e => {
                if matches!(
                    e,
                    IngestError::InvalidGrant
                        | IngestError::Unauthorized(_)
                        | IngestError::TestingExpired(_)
                ) {
                    self.client.mark_refused();
                }
                self.failure = Some(session::explain(e))
            }
        }
        Flow::Stop
    }

    /// Notes the run in the state, refreshes which days can be trusted, commits both,
    /// and says how the run ended.
    fn finish(mut self) -> anyhow::Result<Ran> {
        let provider = self.job.provider.name();
        let budget = self.client.budget();
        self.state.note_run(
            provider,
            &self.user,
            LastRun {
                finished: Some(Utc::now()),
                requests: self.client.requests,
                rate_remaining: budget.map(|b| b.remaining),
                rate_limit: budget.map(|b| b.limit),
                outcome: match (&self.failure, &self.outcome) {
                    (Some(e), _) => format!("failed: {e}"),
                    (None, _) if !self.skipped.is_empty() => {
                        format!("partial: not granted: {}", self.skipped.join(", "))
                    }
                    (None, Outcome::BudgetSpent(_)) => "partial: rate budget spent".into(),
                    (None, Outcome::Done) => "ok".into(),
                },
            },
        );
        // The run's record commits like the rows: in a transaction of its own, the last,
        // with the days' quality recomputed from what is now stored.
        if let Some(r) = self.job.valid_day_minutes {
            self.state.set_valid_day_minutes(r);
        }
        let rule = crate::quality::rule(&self.state, None);
        let mut txn = self.ds.begin()?;
        self.written.extend(crate::quality::refresh_in(
            &mut txn,
            &self.state,
            &self.user,
            self.tz,
            // Nothing fetched: wear is as it was (completeness may still have changed).
            Some(self.fetched_from.unwrap_or(NaiveDate::MAX)),
            rule,
        )?);
        txn.put(self.state.path(), &self.state.bytes())?;
        txn.commit()?;
        let job = self.job;
        if !job.quiet {
            self.progress
                .summary(&report(&self.ds, std::mem::take(&mut self.written))?);
            let reused = match self.reused {
                0 => String::new(),
                n => format!(" ({n} answer(s) an interrupted run had saved were read from raw/, not asked again)"),
            };
            self.progress.note(&format!(
                "{} request(s) for user {} into `{}`{reused}",
                self.client.requests,
                self.user,
                job.out.display()
            ));
        }
        match self.failure {
            Some(e) => Err(e.context(
                "the run stopped early; what was fetched is saved, and the next run resumes from there",
            )),
            None if !self.skipped.is_empty() => Err(hint(
                format!(
                    "the authorisation does not cover {}: a box was unticked at the consent screen; everything else was fetched and saved",
                    self.skipped.join(", ")
                ),
                match job.provider {
                    Provider::Fitbit => "run `fitpipe auth` again and leave every box ticked, or leave those out of `--resources`",
                    Provider::Google => "run `fitpipe auth --provider google-health` again and leave every box ticked, or leave those out of `--resources`",
                },
            )),
            None => Ok(Ran {
                outcome: self.outcome,
                reused: self.reused,
            }),
        }
    }
}

/// The writes one process runs at once: one per core.
fn writers() -> &'static tokio::sync::Semaphore {
    static WRITERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    WRITERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Runs a write (merge, encode, fsync) without stalling the async runtime: on a
/// multi-threaded runtime its worker hands its other tasks (the other participants'
/// requests and pacing) to the rest of the pool first. Elsewhere it just runs.
fn off_the_runtime<T>(write: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(write),
        _ => write(),
    }
}

/// Rows of days before the account existed: the daily series answer them with zeros
/// (fitbit-web-api.md: a series has a value for every day asked), which are not data.
pub fn before_the_account(rows: &mut RowSet, member_since: Option<NaiveDate>) {
    if let Some(m) = member_since {
        rows.daily_activity.retain(|r| r.date >= m);
        rows.heart_rate_zones.retain(|r| r.date >= m);
    }
}

/// Answers a killed run saved under raw/ for days it never wrote (beyond the resource's
/// recorded progress): the next run reads them instead of asking the API again, so a
/// restart spends no rate limit on what is on disk. An answer is reused only while it is
/// as good as a new one: fetched after its last day had ended in the account's time zone,
/// or within the last [`RESUME_HOURS`]; the newest of each window and page wins.
#[derive(Default)]
struct Unwritten {
    by_window: std::collections::HashMap<(NaiveDate, NaiveDate, usize), raw::RawFile>,
}

impl Unwritten {
    fn load(
        out: &std::path::Path,
        provider: &str,
        user: &str,
        key: &str,
        written_through: Option<NaiveDate>,
    ) -> anyhow::Result<Self> {
        let mut by_window = std::collections::HashMap::new();
        for f in raw::list_resource(out, provider, user, key)? {
            let Some(w) = f.window else { continue };
            if written_through.is_none_or(|t| w.0 > t) {
                // Oldest first: a newer answer of the same window replaces an older one.
                by_window.insert(w, f);
            }
        }
        Ok(Unwritten { by_window })
    }

    /// The saved answer of `window` if it is still good at `now`, fetched no earlier than
    /// the page before it (`after_ms`).
    fn take(
        &mut self,
        window: (NaiveDate, NaiveDate, usize),
        after_ms: i64,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Option<fitpipe_ingest::client::Fetched> {
        let f = self.by_window.remove(&window)?;
        let at = DateTime::from_timestamp_millis(f.fetched_ms)?;
        let day_over = (window.1 + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .is_some_and(|end| at >= end);
        // Within the hours a resumed run counts as the same run: a list too long for one
        // hour's budget (years of exercise logs at a small rate limit) goes on from its
        // saved pages instead of starting over each hour; its last days are fetched again
        // anyway until a sync completes them.
        let fresh = now - at < Duration::hours(RESUME_HOURS) && at <= now;
        if f.fetched_ms < after_ms || !(day_over || fresh) {
            return None;
        }
        // An unreadable file is asked for again (rebuild quarantines it).
        let body = raw::read(&f.path).ok()?;
        serde_json::from_slice::<serde::de::IgnoredAny>(&body).ok()?;
        Some(fitpipe_ingest::client::Fetched { body, at })
    }
}

/// Rows fetched for one resource and not yet written, with the days they cover.
struct Pending<'a> {
    provider: &'a str,
    user: &'a str,
    key: String,
    replaces: Replaces,
    from: NaiveDate,
    rows: RowSet,
    through: Option<NaiveDate>,
    /// The first day of the windows fetched whole since the last flush (their answers
    /// replace what is stored for them).
    complete_from: Option<NaiveDate>,
    /// The device sync these answers were fetched after, where known.
    synced: Option<Synced>,
}

impl Pending<'_> {
    /// Writes the rows and records the days they cover, in one transaction.
    fn flush(
        &mut self,
        ds: &Dataset,
        state: &mut SyncState,
        written: &mut Vec<Written>,
        tz: Option<Tz>,
    ) -> anyhow::Result<()> {
        let Some(through) = self.through else {
            return Ok(());
        };
        let window = match (self.complete_from.take(), self.replaces) {
            (_, Replaces::Nothing) | (None, _) => None,
            (Some(first), kind) => Some(Refetched {
                kind,
                user: self.user.to_string(),
                source: source_of(self.provider),
                first,
                last: through,
                tz: tz.unwrap_or(Tz::UTC),
            }),
        };
        // One transaction: the rows and the state that says they are fetched land
        // together or not at all (a killed run leaves neither, and fetches them again).
        let mut txn = ds.begin()?;
        let mut writer = Writer::new(&mut txn, crate::chunks::buffer_bytes());
        writer.answer(std::mem::take(&mut self.rows), window.map(|w| (w, 1)), 0)?;
        written.extend(writer.finish()?);
        state.record(
            self.provider,
            self.user,
            &self.key,
            self.from,
            through,
            Utc::now(),
            self.synced,
        );
        txn.put(state.path(), &state.bytes())?;
        txn.commit()?;
        Ok(())
    }
}

/// The `source` column of a provider's rows.
pub fn source_of(provider: &str) -> &'static str {
    match Provider::parse(provider) {
        Some(Provider::Google) => tg::SOURCE,
        _ => tf::SOURCE,
    }
}
