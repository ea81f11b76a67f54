//! `fitpipe run PIPELINE.toml`: a declared ingest, for cron.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::NaiveDate;
use fitpipe_ingest::provider::Provider;
use serde::Deserialize;

use super::ingest::finish;
use crate::cli::RunArgs;
use crate::output::hint;
use crate::progress::Progress;
use fitpipe_pipeline::pipeline::{ingest, parse_resources, parse_tz, Job};
use fitpipe_pipeline::session;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pipeline {
    /// `fitbit-web-api` or `google-health` [default: the provider of the stored grant].
    provider: Option<String>,
    user: Option<String>,
    resources: Option<Vec<String>>,
    #[serde(default)]
    intraday: Vec<String>,
    /// `["parquet", "csv"]` [default: Parquet, and CSV copies of the daily tables].
    formats: Option<Vec<String>>,
    #[serde(default = "out")]
    out: PathBuf,
    #[serde(default = "overlap")]
    overlap: i64,
    /// The valid-day rule of `day_quality` (minutes with heart rate).
    valid_day_minutes: Option<u32>,
    /// First day for the very first run (later runs continue from their progress).
    first_from: Option<NaiveDate>,
    timezone: Option<String>,
    #[serde(default)]
    no_wait: bool,
    api_base: Option<String>,
}

fn out() -> PathBuf {
    PathBuf::from("./data")
}
fn overlap() -> i64 {
    3
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.pipeline).map_err(|e| {
        hint(
            format!("cannot read `{}`: {e}", args.pipeline.display()),
            "see pipelines/daily.toml",
        )
    })?;
    if fitpipe_study::study::is_study(&text) {
        return study(args);
    }
    if args.shard.is_some() {
        return Err(hint(
            "`--shard` splits a study's roster, and this is a single-user pipeline",
            "add `study = \"name\"` and the participants to the file (see pipelines/study.toml), or drop `--shard`",
        ));
    }
    let p: Pipeline = toml::from_str(&text).map_err(|e| {
        hint(
            format!("`{}`: {e}", args.pipeline.display()),
            "see pipelines/daily.toml for the fields",
        )
    })?;
    let named = match p.provider.as_deref() {
        None => None,
        Some(name) => Some(Provider::parse(name).ok_or_else(|| {
            hint(
                format!("unknown provider `{name}`"),
                "use `provider = \"fitbit-web-api\"` or `provider = \"google-health\"`",
            )
        })?),
    };
    let provider = session::provider(named, p.user.as_deref(), Provider::Google)?;
    let formats = fitpipe_pipeline::pipeline::parse_formats(p.formats.as_deref())?;
    let ds = fitpipe_pipeline::tables::dataset(&p.out, formats.as_deref());
    let Some(_lock) = ds.lock(false)? else {
        if !args.quiet {
            eprintln!(
                "another fitpipe run is writing to `{}`; this one exits",
                p.out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let state = fitpipe_ingest::state::SyncState::load(&p.out)?;
    let has_progress = !state.data_progress(provider.name(), None).is_empty();
    let job = Job {
        out: p.out.clone(),
        formats,
        from: if has_progress { None } else { p.first_from },
        to: None,
        resources: parse_resources(
            provider,
            p.resources.as_deref().unwrap_or_default(),
            &p.intraday,
        )?,
        provider,
        overlap: p.overlap.max(0),
        refetch: false,
        dry_run: false,
        timezone: parse_tz(p.timezone.as_deref())?,
        quiet: args.quiet,
        verbose: false,
        participant: None,
        valid_day_minutes: p.valid_day_minutes,
    };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let progress = Arc::new(Progress::new(job.quiet, false));
        let mut client = session::client(
            provider,
            p.user.as_deref(),
            p.api_base.clone(),
            progress.clone(),
            p.no_wait,
        )
        .await?;
        finish(ingest(&job, &mut client, progress).await?.outcome, &job)
    })
}

/// `fitpipe run study.toml`: every participant of the shard; the summary on stdout.
fn study(args: RunArgs) -> anyhow::Result<ExitCode> {
    use fitpipe_study::study::{self, Shard, Study};
    let s = Study::load(&args.pipeline)?;
    let shard = match &args.shard {
        Some(x) => Shard::parse(x)?,
        None => Shard::ALL,
    };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let out = fitpipe_pipeline::remote::Output::open(&s.file.out)?;
    let runs = rt.block_on(study::run(
        &s,
        Arc::new(out),
        shard,
        Arc::new(Progress::new(args.quiet, false)),
    ))?;
    if args.json {
        crate::output::stdout(&format!("{}\n", serde_json::to_string_pretty(&runs)?))?;
    } else {
        crate::output::stdout(&study::summary(&runs))?;
    }
    // Someone not enrolled yet, or withdrawn, is listed, not a failure of the run.
    let bad: Vec<&str> = runs
        .iter()
        .filter(|r| !matches!(r.status, "ok" | "not-enrolled" | "withdrawn"))
        .map(|r| r.participant.as_str())
        .collect();
    if bad.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    Err(hint(
        format!(
            "{} of {} participant(s) did not finish: {}; everyone else's data is saved",
            bad.len(),
            runs.len(),
            bad.join(", ")
        ),
        "`consent`, or a damaged grant: send them a new enrollment link (`fitpipe enroll STUDY link ID`); `failed`, `partial`, `busy`: the next run resumes them",
    ))
}
