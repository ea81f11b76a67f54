//! `fitpipe ingest`: resolves the flags into a [`Job`] and runs the pipeline
//! ([`fitpipe_pipeline::pipeline`]); `--demo` runs it against the built-in simulator.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use fitpipe_ingest::provider::Provider;

use crate::cli::IngestArgs;
use crate::output::hint;
use crate::progress::Progress;
use fitpipe_pipeline::pipeline::{ingest, parse_resources, parse_tz, Job, Outcome};
use fitpipe_pipeline::session;

pub fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let data = args
        .data
        .or(if args.demo { "./data/demo" } else { "./data" });
    fitpipe_pipeline::remote::with_dataset(&data, !args.dry_run, |out| into(out, &args))
}

fn into(out: &Path, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    // The demo's own simulator serves both APIs (Fitbit by default); a real run uses the
    // provider of the stored grant.
    let provider = if args.demo {
        args.api.provider().unwrap_or(Provider::Fitbit)
    } else {
        session::provider(args.api.provider(), args.user.as_deref(), Provider::Google)?
    };
    let resources = parse_resources(provider, &args.resources, &args.intraday)?;
    let job = Job {
        provider,
        out: out.to_path_buf(),
        formats: args.format.clone(),
        from: args.from,
        to: args.to,
        resources,
        overlap: args.overlap.max(0),
        refetch: args.refetch,
        dry_run: args.dry_run,
        timezone: parse_tz(args.timezone.as_deref())?,
        quiet: args.quiet,
        verbose: args.verbose,
        participant: None,
        valid_day_minutes: args.valid_day_minutes,
    };
    if let (Some(f), Some(t)) = (job.from, job.to) {
        if f > t {
            return Err(hint(
                format!("`--from {f}` is after `--to {t}`"),
                "swap the dates",
            ));
        }
    }
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    if args.demo {
        return rt.block_on(crate::commands::demo::run(job));
    }
    rt.block_on(async {
        let progress = Arc::new(Progress::new(job.quiet, job.verbose));
        let mut client = session::client(
            provider,
            args.user.as_deref(),
            args.api.api_base.clone(),
            progress.clone(),
            args.no_wait,
        )
        .await?;
        let ds = fitpipe_pipeline::tables::dataset(&job.out, job.formats.as_deref());
        let Some(_lock) = ds.lock(false)? else {
            return Err(hint(
                format!("another fitpipe run is writing to `{}`", job.out.display()),
                "wait for it to finish (cron: `fitpipe run` exits quietly in this case)",
            ));
        };
        finish(ingest(&job, &mut client, progress).await?.outcome, &job)
    })
}

/// Prints the end of a run and picks the exit code.
pub fn finish(outcome: Outcome, job: &Job) -> anyhow::Result<ExitCode> {
    if let Outcome::BudgetSpent(at) = outcome {
        if !job.quiet {
            eprintln!(
                "note: the rate-limit budget is spent until {}; everything fetched is saved. Run again after that to resume.",
                at.format("%H:%M UTC")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The DuckDB line shown after a run.
pub fn duckdb_hint(out: &Path) -> String {
    format!("duckdb -c \"select date, steps, calories_kcal, resting_heart_rate_bpm from read_parquet('{}/daily_activity/*.parquet') order by date desc limit 7\"", out.display())
}
