//! `fitpipe rebuild`: every table again from `<out>/raw`, without a request.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fitpipe_export::Dataset;
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::raw;
use fitpipe_transform::RowSet;

use crate::cli::RebuildArgs;
use crate::commands::ingest::{normalise, parse_tz};
use crate::output::{hint, stdout};
use crate::tables::{report, write_rows_in};

pub fn run(args: RebuildArgs) -> anyhow::Result<ExitCode> {
    let out = &args.output.out;
    let files = raw::list(out)?;
    if files.is_empty() {
        return Err(hint(
            format!("no raw responses under `{}`", out.join("raw").display()),
            "run `fitpipe ingest` first (or point `--out` at its folder)",
        ));
    }
    let flag_tz = parse_tz(args.timezone.as_deref())?;
    // Each user's zone: the flag, else the newest saved profile (or settings) response.
    let mut zones: HashMap<String, Tz> = HashMap::new();
    for f in files.iter().filter(|f| f.resource == "profile") {
        let rows = rows_of(f, None)?;
        if let Some(z) = rows
            .profile
            .iter()
            .find_map(|p| p.timezone.as_deref())
            .and_then(|z| z.parse().ok())
        {
            zones.insert(f.user.clone(), z);
        }
    }
    let ds = Dataset::new(out, &args.output.format);
    let _lock = ds.lock(true)?;
    let mut txn = ds.begin()?;
    let mut written = Vec::new();
    let mut rows = RowSet::default();
    let mut size = 0u64;
    // Oldest fetch first, written in chunks: newer responses win, memory stays flat.
    for (i, f) in files.iter().enumerate() {
        rows.extend(rows_of(f, flag_tz.or_else(|| zones.get(&f.user).copied()))?);
        size += std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0);
        if size >= 8 << 20 || i + 1 == files.len() {
            written.extend(write_rows_in(&mut txn, &std::mem::take(&mut rows))?);
            size = 0;
        }
    }
    txn.commit()?;
    stdout(&report(&ds, written)?)?;
    eprintln!(
        "rebuilt from {} raw response(s); no request was made",
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The rows of one saved response, by its provider's rules.
fn rows_of(f: &raw::RawFile, tz: Option<Tz>) -> anyhow::Result<RowSet> {
    let Some(provider) = Provider::parse(&f.provider) else {
        return Err(hint(
            format!(
                "`{}`: unknown provider folder `{}`",
                f.path.display(),
                f.provider
            ),
            "raw responses live under `raw/fitbit-web-api/` or `raw/google-health/`",
        ));
    };
    let bytes =
        std::fs::read(&f.path).with_context(|| format!("reading `{}`", f.path.display()))?;
    normalise(
        provider,
        &bytes,
        &f.user,
        tz,
        DateTime::<Utc>::from_timestamp_millis(f.fetched_ms),
    )
    .map_err(|e| hint(format!("`{}`: {e}", f.path.display()), "pass `--timezone`"))
}
